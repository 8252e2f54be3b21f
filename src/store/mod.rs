//! The job store: every job, live and finished, in one SQLite database in
//! the data dir (`jobs.db`). The engine is its one writer (an owner lock
//! says which process); everyone else reads it without loading it:
//! `status` and `export` stream it, the dashboard pages the rows it shows,
//! and a second dashboard or `status --follow` watches the owner's changes.
//!
//! Why SQLite: an indexed, crash-safe file with concurrent readers and one
//! writer, bundled (no system library), the conventional choice for local
//! history (atuin does the same). See docs/decisions.md.

mod error;
mod migrate;
mod owner;
mod reader;
mod schema;
mod writer;

pub use error::StoreError;
pub use migrate::read_legacy;
pub use owner::{lock_path, owner};
pub use reader::{Changes, Filter, History, read_jobs};
pub use schema::Unreadable;
pub use writer::{Opened, QUEUED_LOADED, Store};

#[cfg(test)]
mod tests;
