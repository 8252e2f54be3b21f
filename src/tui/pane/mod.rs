//! The panes of the dashboard, each owning its state: the input pane, the
//! job list, the log, and the view of the server's library.

pub mod folders;
pub mod input;
pub mod jobs;
pub mod library;
pub mod log;
