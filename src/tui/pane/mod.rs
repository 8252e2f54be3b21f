//! The panes of the dashboard, each owning its state: the input pane, the
//! job list and the log.

pub mod input;
pub mod jobs;
pub mod log;
