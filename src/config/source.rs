//! Where an effective setting came from, for `config show`.

use std::fmt;

/// The origin of a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Built in.
    Default,
    /// The config file.
    File,
    /// An environment variable (named).
    Env(String),
    /// A command-line flag.
    Flag,
    /// Learned from the server (`capabilities.json` in the data dir).
    Learned,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Default => f.write_str("default"),
            Source::File => f.write_str("file"),
            Source::Env(name) => write!(f, "env {name}"),
            Source::Flag => f.write_str("flag"),
            Source::Learned => f.write_str("learned from the server"),
        }
    }
}
