//! The import engine: owns every job, schedules CreateAsset and GetAsset
//! within the configured limits, retries what is safe to retry, and writes
//! every change to the job store ([`crate::store`]) before reporting it.
//! Front ends send [`Command`]s and receive [`Update`]s; they never call the
//! API themselves.

mod actor;
mod calendar;
mod capacity;
mod clients;
pub mod core;
mod error;
mod groups;
mod learned;
mod listing;
mod lognormal;
mod looks;
mod message;
pub mod outcome;
mod pacer;
mod plan;
pub mod reconcile;
mod schedule;
mod timers;

pub use crate::job::{Job, JobId, JobState, LocalSource, NewJob};
pub use actor::{EngineFiles, EngineHandle, EngineOptions, StartError, start};
pub use clients::Clients;
pub use core::{Reconciled, SubmitResult};
pub use error::{GroupError, GroupStoreError, ProfileError};
pub use groups::{GroupStore, validate_group};
pub use learned::saved_caps;
pub use message::{
    Command, Group, Health, JournalFault, Level, LogLine, ReconcileReport, Stats, Update, quota_message,
};
pub use outcome::PauseCause;
pub use schedule::Schedule;

#[cfg(test)]
mod core_props;

#[cfg(test)]
mod core_clock;
