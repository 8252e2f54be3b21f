//! The messages between front ends and the engine: [`Command`] in, [`Update`] out.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::job::{Job, JobId, NewJob};

/// What a front end asks of the engine.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Import these. Items that duplicate a job in flight, Active or
    /// Uncertain are skipped with a warning unless `allow_duplicates`.
    Submit {
        /// The imports.
        jobs: Vec<NewJob>,
        /// Create even when the same group+URL+name exists.
        allow_duplicates: bool,
    },
    /// Failed/Rejected/Uncertain: create again; Stuck: poll again (or create
    /// again if it was never created). Other states are left alone.
    Retry(Vec<JobId>),
    /// Removes jobs from the list and the job store (not while Creating).
    Forget(Vec<JobId>),
    /// Puts forgotten jobs back as they were (undo of a forget); ids still
    /// in use are left alone. Nothing is sent again that was not pending.
    Restore(Vec<Job>),
    /// Creates an asset group.
    CreateGroup {
        /// At most 64 characters.
        name: String,
        /// At most 300 characters.
        description: Option<String>,
    },
    /// Lifts a pause and retries a failed job store write at once: after the
    /// key, the config or the disk was fixed. With clients, later requests
    /// use them (a reloaded key, base URL or profile).
    Resume(Option<super::clients::Clients>),
    /// Uploads use this bucket client from now on (after its credentials or
    /// endpoint were fixed in the config); sent before [`Command::Resume`].
    SetStorage(crate::storage::Storage),
    /// Settles Uncertain jobs from the server's listing now (a pass also
    /// runs by itself every `reconcile.every_secs` with `reconcile.auto`);
    /// answered by [`Update::Reconciled`].
    Reconcile,
    /// An Uncertain job is this asset (picked among the candidates a pass
    /// showed); it is followed in the listing from then on.
    Pick {
        /// The job.
        job: JobId,
        /// The asset id.
        asset: String,
    },
    /// Keeps these assets of the server (listed for a profile) as jobs, so
    /// a new machine rebuilds its history; answered by [`Update::Synced`].
    Sync {
        /// The profile they were listed with.
        profile: String,
        /// The assets, as listed.
        assets: Vec<crate::api::AssetInfo>,
    },
    /// These assets were deleted from the server: the jobs holding them are
    /// forgotten (their references no longer work, and they would take a
    /// new import of the same item for a duplicate).
    AssetsDeleted(Vec<String>),
    /// Finishes creations in flight (bounded wait), saves, and stops.
    Shutdown,
}

/// What a reconcile pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReconcileReport {
    /// The pass was asked for ([`Command::Reconcile`]), not run by itself.
    pub asked: bool,
    /// Jobs looked at.
    pub unsettled: usize,
    /// What became of them.
    pub done: super::core::Reconciled,
    /// Profiles whose server has no listing (their jobs were left as they are).
    pub no_listing: Vec<String>,
    /// Listings that failed, in words.
    pub failed: Vec<String>,
}

impl ReconcileReport {
    /// One line for a status line or stderr.
    pub fn describe(&self) -> String {
        let d = &self.done;
        if self.unsettled == 0 {
            return "reconcile: no Uncertain job to settle".into();
        }
        let mut text = format!(
            "reconcile: {} unsettled; {} found on the server, {} proven never created (sent again), {} with several candidates (pick one), {} not settled yet",
            self.unsettled, d.adopted, d.resent, d.ambiguous, d.waiting
        );
        let settled = d.adopted + d.resent + d.ambiguous + d.waiting;
        if !self.no_listing.is_empty() {
            text.push_str(&format!(
                "; {} left as {} (no listing on the server of profile {}: check the asset library, then retry or forget)",
                self.unsettled.saturating_sub(settled),
                if self.unsettled.saturating_sub(settled) == 1 { "it is" } else { "they are" },
                self.no_listing.join(", ")
            ));
        }
        if let Some(f) = self.failed.first() {
            text.push_str(&format!("; {f}"));
        }
        text
    }
}

/// Why the engine is not creating: nothing, or one batch-wide cause.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Health {
    /// The job store cannot be written: no creation is sent until it can.
    pub journal: Option<JournalFault>,
    /// Creation (and polling) paused by a cause every request would meet.
    pub paused: Option<super::outcome::PauseCause>,
    /// Uploads paused: the bucket refuses every one (credentials, bucket,
    /// endpoint); creations of items already uploaded go on.
    pub storage: Option<String>,
    /// Profiles whose creation is paused because the account's asset quota
    /// is full, with the server's words.
    pub quota: std::collections::BTreeMap<String, String>,
    /// Caps on creations processing at once, per profile, learned from the
    /// server's refusals (each at most the fixed cap).
    pub caps: std::collections::BTreeMap<String, usize>,
    /// The fixed cap of every profile (`limits.max_processing`), if set.
    pub fixed_cap: Option<usize>,
}

impl Health {
    /// True when nothing is paused.
    pub fn is_ok(&self) -> bool {
        self.creation_ok() && self.storage.is_none() && self.quota.is_empty()
    }

    /// True when new creations may be sent.
    pub fn creation_ok(&self) -> bool {
        self.journal.is_none() && self.paused.is_none()
    }

    /// One line for a banner or stderr: the cause and the fix; `None` when healthy.
    pub fn describe(&self) -> Option<String> {
        use super::outcome::PauseCause;
        if let Some(j) = &self.journal {
            return Some(format!(
                "the job store {} cannot be written ({}): nothing new is being sent; free space or fix permissions: it is tried again every second, and nothing sent is lost",
                j.path, j.cause
            ));
        }
        match &self.paused {
            Some(PauseCause::Auth(m)) => Some(format!(
                "paused: the server refused the API key ({m}); fix the key (SEEDANCE_API_KEY or the config), then resume — queued imports are kept"
            )),
            Some(PauseCause::Unreachable(m)) => Some(format!(
                "paused: the server cannot be reached ({m}); retrying by itself — queued imports are kept"
            )),
            None => self.quota.iter().next().map(|(profile, m)| quota_message(profile, m)).or_else(|| {
                self.storage
                    .as_ref()
                    .map(|m| format!("uploads paused: {m}; fix [storage] in the config, then resume — files are kept"))
            }),
        }
    }
}

impl Health {
    /// The processing cap in force, for a header: the lowest learned one,
    /// else the fixed one.
    pub fn cap_in_force(&self) -> Option<usize> {
        self.caps.values().copied().min().or(self.fixed_cap)
    }
}

/// What is said when a profile's account has no room for another asset.
pub fn quota_message(profile: &str, server: &str) -> String {
    format!(
        "creation paused for profile `{profile}`: the account holds as many assets as it may ({server}); \
         delete assets you no longer use (`seedance-assets library delete --status failed --dry-run` shows what that would remove; or in the console), then resume (R in the dashboard, or `seedance-assets wait`) — queued imports are kept"
    )
}

/// A job store write that failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalFault {
    /// The job store file.
    pub path: String,
    /// The operating system's reason.
    pub cause: String,
}

/// How serious a log line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Level {
    /// Something happened.
    Info,
    /// Something needs a look.
    Warn,
    /// Something failed.
    Error,
}

/// A line for the log pane or stderr.
#[derive(Debug, Clone, PartialEq)]
pub struct LogLine {
    /// When.
    pub time: Timestamp,
    /// How serious.
    pub level: Level,
    /// Sanitized text.
    pub text: String,
}

/// Request counters.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Stats {
    /// Requests per second over the last second.
    pub requests_per_sec: u32,
    /// Requests sent since start.
    pub requests: u64,
    /// 429 answers received since start.
    pub rate_limited: u64,
    /// CreateAsset requests in flight.
    pub creating: usize,
    /// CreateAsset requests sent since start.
    pub create_requests: u64,
    /// Job store batches synced to disk (fsync) since start.
    pub journal_syncs: u64,
}

/// An asset group known to this program.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    /// The group id.
    pub id: String,
    /// The name it was created with.
    pub name: String,
}

/// What the engine tells front ends. Every job change is journaled before
/// its `Update` is sent.
#[derive(Debug, Clone)]
pub enum Update {
    /// A job is new or changed.
    Job(Box<Job>),
    /// A job was forgotten.
    Removed(JobId),
    /// All jobs from the job store have been sent.
    Loaded,
    /// A log line.
    Log(LogLine),
    /// Request counters changed.
    Stats(Stats),
    /// The groups this program knows (sent at start and when one is added).
    Groups(Vec<Group>),
    /// A group was created.
    GroupCreated(Group),
    /// Creating a group failed.
    GroupFailed {
        /// The requested name.
        name: String,
        /// Why.
        error: String,
    },
    /// Upload progress of a local file (not journaled: a restart uploads again).
    Upload {
        /// The job.
        id: JobId,
        /// Bytes sent.
        done: u64,
        /// The file's size.
        total: u64,
    },
    /// The engine's health changed (a job store fault, a pause, or back to normal).
    Health(Health),
    /// A reconcile pass ended.
    Reconciled(ReconcileReport),
    /// A [`Command::Sync`] was written to the store.
    Synced {
        /// Assets kept as new jobs.
        added: usize,
        /// Assets some job held already.
        known: usize,
    },
    /// The engine has stopped; jobs still in flight resume at the next start.
    Stopped {
        /// Jobs left Queued, Creating or Processing.
        in_flight: usize,
    },
}
