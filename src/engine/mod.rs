//! The import engine: owns every job, schedules CreateAsset and GetAsset
//! within the configured limits, retries what is safe to retry, and journals
//! every change before reporting it. Front ends send [`Command`]s and receive
//! [`Update`]s; they never call the API themselves.

mod actor;
mod calendar;
mod clients;
mod groups;
pub mod input;
mod job;
pub mod journal;
mod learned;
mod lognormal;
mod looks;
mod message;
pub mod outcome;
mod plan;
mod schedule;
mod timers;

pub use actor::{EngineHandle, EngineOptions, SubmitResult, start};
pub use clients::Clients;
pub use groups::{GroupStore, check_group};
pub use job::{Job, JobId, JobState, LocalSource, NewJob};
pub use message::{Command, Group, Health, JournalFault, Level, LogLine, Stats, Update};
pub use outcome::PauseCause;
pub use schedule::Schedule;
