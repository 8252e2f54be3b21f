//! What a pane's key handling asks for, instead of calling back into the app.

use super::forms::Attach;
use crate::engine::{Command, Level};

/// What a pane wants done outside its own state.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Send to the engine.
    Engine(Command),
    /// Do this I/O (the event loop does it).
    Effect(super::app::Effect),
    /// Show this in the status row (and the log file).
    Status(String),
    /// Add this to the log pane (and the log file).
    Note(Level, String),
    /// Close the form or overlay.
    Close,
    /// Fill the input pane from this preset.
    UsePreset(usize),
    /// A group is being created; where it goes once it exists.
    Attach(String, Attach),
}
