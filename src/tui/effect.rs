//! What the event loop does outside the dashboard's state (I/O), as asked
//! by keys, forms and engine updates.

use super::pane::input::Submission;
use crate::config::PresetChange;
use crate::engine::Command;
use crate::store::Filter;

/// Something the event loop must do outside the state (I/O).
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Send to the engine.
    Engine(Command),
    /// Put this text on the clipboard (OSC 52).
    Copy(String),
    /// Write the jobs the list's filter shows to a CSV file.
    Export(Filter),
    /// Save a preset change to the config file.
    SavePreset(PresetChange),
    /// Read the config file again (after it changed on disk).
    ReloadConfig,
    /// Reload the config and its keys, then lift an engine pause.
    Resume,
    /// Run these lines through the front door (check, decide, send).
    Intake(Submission),
    /// Ask the server's library (listings, deletes) off the event loop.
    Library(LibraryAsk),
    /// Change the stored list of watched folders.
    Folders(FolderAsk),
    /// Leave the dashboard.
    Quit,
}

/// A change to the stored list of watched folders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FolderAsk {
    /// Watch this folder (as typed: `~/` is the home folder) into `group`.
    Add {
        /// The folder as typed.
        dir: String,
        /// The group its files go into.
        group: String,
        /// Subfolders too.
        recursive: bool,
    },
    /// Stop watching this folder.
    Remove(std::path::PathBuf),
}

/// What the library view asks of the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LibraryAsk {
    /// List this group's assets, a page at a time.
    List(String),
    /// Delete this asset (its jobs here are then forgotten).
    Delete(String),
}
