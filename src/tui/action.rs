//! What a pane's key handling asks for, instead of calling back into the app.

use super::effect::Effect;
use super::forms::Attach;
use crate::engine::Level;

/// What a pane wants done outside its own state.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Do this (send to the engine, or I/O: the event loop does it).
    Effect(Effect),
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
