//! A job: one asset import and where it stands.

use std::fmt;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::api::AssetType;

/// A job's id, unique within one job store.
pub type JobId = u64;

/// Where a job stands; see the lifecycle in DESIGN.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum JobState {
    /// A local file is being uploaded to the user's bucket (free to repeat;
    /// nothing is paid until it is created).
    Uploading,
    /// Waiting for a creation slot (or for a retry after a transient error).
    Queued,
    /// CreateAsset is about to leave or in flight: written durably after the
    /// rate limiter and the in-flight permit let it go and before the request
    /// is sent, so a crash leaves Uncertain only what was truly in flight.
    Creating,
    /// Created; the server is processing it; being polled.
    Processing,
    /// Ready: `asset://ID` may be used.
    Active,
    /// The server said processing failed (see the error).
    Failed,
    /// The server refused the request, or it could not be sent (see the error).
    Rejected,
    /// CreateAsset may or may not have happened; resubmitted only on request.
    Uncertain,
    /// Still Processing past the configured limit, or polling kept failing.
    Stuck,
}

impl JobState {
    /// Every state, in display order.
    pub const ALL: [JobState; 9] = [
        JobState::Uploading,
        JobState::Queued,
        JobState::Creating,
        JobState::Processing,
        JobState::Active,
        JobState::Failed,
        JobState::Rejected,
        JobState::Uncertain,
        JobState::Stuck,
    ];

    /// True when the engine will do nothing more on its own.
    pub fn is_final(self) -> bool {
        !self.is_in_flight()
    }

    /// True while the engine is working on it.
    pub fn is_in_flight(self) -> bool {
        matches!(self, JobState::Uploading | JobState::Queued | JobState::Creating | JobState::Processing)
    }

    /// True when the job ended badly and a person should look.
    pub fn needs_attention(self) -> bool {
        matches!(self, JobState::Failed | JobState::Rejected | JobState::Uncertain | JobState::Stuck)
    }

    /// Its name in lower case, for filters and machine output.
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Uploading => "uploading",
            JobState::Queued => "queued",
            JobState::Creating => "creating",
            JobState::Processing => "processing",
            JobState::Active => "active",
            JobState::Failed => "failed",
            JobState::Rejected => "rejected",
            JobState::Uncertain => "uncertain",
            JobState::Stuck => "stuck",
        }
    }
}

impl fmt::Display for JobState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.as_str();
        let mut c = s.chars();
        if let Some(first) = c.next() {
            write!(f, "{}{}", first.to_ascii_uppercase(), c.as_str())?;
        }
        Ok(())
    }
}

impl std::str::FromStr for JobState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        JobState::ALL.into_iter().find(|st| st.as_str().eq_ignore_ascii_case(s.trim())).ok_or_else(|| {
            let names: Vec<_> = JobState::ALL.iter().map(|s| s.as_str()).collect();
            format!("unknown state `{}`; expected one of {}", crate::text::excerpt(s, 20), names.join(", "))
        })
    }
}

/// What a front end asks to import.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct NewJob {
    /// Public https URL of the media.
    pub url: String,
    /// The asset name.
    pub name: String,
    /// Image, Video or Audio.
    pub asset_type: AssetType,
    /// Group to create it in.
    pub group_id: String,
    /// The config profile (account and endpoint) it belongs to; it is only
    /// ever created and polled with that profile's key and base URL.
    #[serde(default = "default_profile")]
    pub profile: String,
    /// A local file, uploaded to the user's bucket before it is created
    /// (`url` then shows the path; the request carries a presigned URL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local: Option<LocalSource>,
    /// What preflight measured (format, dimensions, duration, fps, size).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media: Option<crate::media::MediaInfo>,
    /// When the file was conformed: the original, the recipe and the part.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conform: Option<crate::conform::ConformRecord>,
}

/// A local file as hashed when it was submitted: the upload must send these
/// very bytes (a file changed since is refused), under a key derived from
/// them, so a restart uploads it again (or finds it there) safely.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LocalSource {
    /// Where the file is.
    pub path: std::path::PathBuf,
    /// Its size in bytes.
    pub size: u64,
    /// SHA-256 of its content, lowercase hex.
    pub sha256: String,
    /// The content-addressed object key in the bucket.
    pub key: String,
    /// Its modification time when hashed: a file touched since is refused
    /// (the bytes sent are also checked against `sha256`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified: Option<std::time::SystemTime>,
}

/// The profile of jobs journaled before profiles existed.
fn default_profile() -> String {
    crate::config::DEFAULT_PROFILE.to_string()
}

/// One import and everything known of it. This is what the job store keeps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    /// Unique id.
    pub id: JobId,
    /// What was asked.
    #[serde(flatten)]
    pub spec: NewJob,
    /// Where it stands.
    pub state: JobState,
    /// The asset id once created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asset_id: Option<String>,
    /// The import task id once created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_id: Option<String>,
    /// Why it failed, was rejected, is uncertain or stuck; or an unknown status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// When it was submitted.
    pub submitted_at: Timestamp,
    /// When its state last changed.
    pub updated_at: Timestamp,
    /// When it entered Processing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub processing_since: Option<Timestamp>,
    /// CreateAsset calls made for it (each may be billed).
    #[serde(default)]
    pub create_attempts: u32,
    /// A CreateAsset for it may have been processed although no answer said
    /// so (Uncertain, or a self-contradicting rejection): creating it again
    /// may make a duplicate.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub may_exist: bool,
    /// When its last CreateAsset was sent: where reconcile looks for it in
    /// the server's listing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<Timestamp>,
    /// Brought in from the server's listing (`library sync`), not imported
    /// from here: its source is unknown, so an import of the same name in
    /// its group is taken for it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub synced: bool,
}

impl Job {
    /// A fresh, queued job.
    pub fn new(id: JobId, spec: NewJob, now: Timestamp) -> Job {
        Job {
            id,
            spec,
            state: JobState::Queued,
            asset_id: None,
            task_id: None,
            error: None,
            submitted_at: now,
            updated_at: now,
            processing_since: None,
            create_attempts: 0,
            may_exist: false,
            sent_at: None,
            synced: false,
        }
    }

    /// True when retrying it would send a CreateAsset that may duplicate an
    /// asset already made (front ends ask first).
    pub fn retry_may_duplicate(&self) -> bool {
        match self.state {
            JobState::Uncertain => true,
            JobState::Failed | JobState::Rejected | JobState::Stuck => self.may_exist && self.task_id.is_none(),
            _ => false,
        }
    }

    /// True when reconcile settles it from the server's listing: Uncertain,
    /// or Processing as an asset found there (an asset id, no task id to ask
    /// GetAsset with). The store's `unsettled` query picks the same.
    pub fn is_unsettled(&self) -> bool {
        self.state == JobState::Uncertain
            || (self.state == JobState::Processing && self.task_id.is_none() && self.asset_id.is_some())
    }

    /// When processing began: when it was created on the server (or, for a
    /// record without that, its last change).
    pub fn processing_started(&self) -> Timestamp {
        self.processing_since.unwrap_or(self.updated_at)
    }

    /// `asset://ID`, once the asset is Active.
    pub fn asset_ref(&self) -> Option<String> {
        match (&self.asset_id, self.state) {
            (Some(id), JobState::Active) => Some(format!("asset://{id}")),
            _ => None,
        }
    }

    /// The identity used to detect duplicate submissions: group, URL and
    /// name; for a local file, group and content (whatever its path or name).
    pub fn dedup_key(spec: &NewJob) -> String {
        // A conformed part is the same purchase whatever bytes a re-run
        // makes, and whatever options made it (pad or crop): it is keyed by
        // the original's content and its place among the parts.
        if let Some(c) = &spec.conform {
            return format!("{}\u{1f}conform:{}:{}/{}", spec.group_id, c.original_sha256, c.part.0, c.part.1);
        }
        match &spec.local {
            Some(l) => format!("{}\u{1f}sha256:{}", spec.group_id, l.sha256),
            None => format!("{}\u{1f}{}\u{1f}{}", spec.group_id, spec.url, spec.name),
        }
    }
}
