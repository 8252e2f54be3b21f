//! The front door: typed, pasted, piped and pointed-at lines become a plan —
//! what will be created, what already exists, what waits for the user's
//! consent and what is refused, each with its reason — and only what the
//! plan says to create reaches the engine. The CLI and the dashboard both go
//! through here; neither applies a rule of its own.
//!
//! A line is `URL`, `URL<TAB>name<TAB>type` or `URL,name,type` (name and type
//! optional), or a local path, directory or glob (`PATH<TAB>name<TAB>type`).
//! Blank lines and `#` comments are skipped.

mod conform;
mod error;
mod local;
pub mod parse;
mod plan;
mod policy;
mod run;

pub use conform::{Conforming, can_conform};
pub use error::{InputError, LineError};
pub use local::LocalJobError;
pub use parse::{
    ImportDefaults, MAX_NAME_CHARS, MAX_URL_CHARS, content_lines, is_skipped, parse_line, parse_lines, today,
};
pub use plan::{Fate, Item, Origin, Tally};
pub use policy::{Decision, Policy};
pub use run::{Checker, Intake, Source, send};
