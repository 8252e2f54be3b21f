//! What can go wrong in the dashboard: the terminal, the input pane's
//! defaults, the preset form.

use crate::config::{PresetError, TemplateError};

/// Why the dashboard stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum DashboardError {
    /// The terminal could not be put in raw mode / the alternate screen.
    #[error("cannot set up the terminal: {0}")]
    Terminal(#[source] std::io::Error),
    /// A signal handler could not be installed.
    #[error("{0}")]
    Signal(#[source] std::io::Error),
    /// Drawing a frame failed.
    #[error("cannot draw: {0}")]
    Draw(#[source] std::io::Error),
}

/// Why the input pane's lines cannot be parsed at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DefaultsError {
    /// No group id.
    #[error("no group: pick a preset (←/→ on Preset), type a group id, or press c to create one")]
    NoGroup,
    /// The name template does not parse.
    #[error("name template: {0}")]
    Template(#[source] TemplateError),
}

/// Why the preset form cannot be saved, naming the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PresetFormError {
    /// A field is invalid.
    #[error(transparent)]
    Invalid(#[from] PresetError),
    /// Another preset has the name.
    #[error("name: a preset named `{name}` already exists")]
    NameTaken {
        /// The name.
        name: String,
    },
}
