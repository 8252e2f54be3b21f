//! The tables, and how a [`Job`] maps to a row.
//!
//! One row per job, in columns (not a JSON blob) so finished jobs cost about
//! 300 bytes with their indexes. `seq` orders every write, so observers read
//! only what changed; `tally` (jobs per profile and state) is kept by
//! triggers, so counts per state, for one profile or all, cost one tiny read
//! at any size; `dedup`
//! is a 64-bit hash of the job's identity.

use jiff::Timestamp;
use rusqlite::{Connection, Row};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::api::AssetType;
use crate::job::{Job, JobId, JobState, LocalSource, NewJob};
use crate::media::MediaInfo;

/// The schema version this release writes (`PRAGMA user_version`).
/// Version 2 keeps jobs per profile and state in `tally` (version 1 kept
/// `counts` per state and `profiles` per profile).
pub const VERSION: i64 = 2;

/// Brings a version 1 store to version 2: the per-state and per-profile
/// tables and their triggers give way to `tally`, filled once from the jobs
/// ([`CREATE`] then makes the table and its triggers).
pub const FROM_VERSION_1: &str = "
DROP TRIGGER IF EXISTS count_insert;
DROP TRIGGER IF EXISTS count_delete;
DROP TRIGGER IF EXISTS count_update;
DROP TRIGGER IF EXISTS profile_insert;
DROP TRIGGER IF EXISTS profile_delete;
DROP TRIGGER IF EXISTS profile_update;
DROP TABLE IF EXISTS counts;
DROP TABLE IF EXISTS profiles;
";

/// Fills `tally` from the jobs (after [`FROM_VERSION_1`] and [`CREATE`]).
pub const FILL_TALLY: &str = "DELETE FROM tally; INSERT INTO tally(profile, state, n) SELECT profile, state, COUNT(*) FROM jobs GROUP BY profile, state;";

/// Creates the tables (idempotent).
pub const CREATE: &str = "
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY,
    seq INTEGER NOT NULL,
    state INTEGER NOT NULL,
    dedup INTEGER NOT NULL,
    group_id TEXT NOT NULL,
    url TEXT NOT NULL,
    name TEXT NOT NULL,
    asset_type TEXT NOT NULL,
    profile TEXT NOT NULL,
    asset_id TEXT,
    task_id TEXT,
    error TEXT,
    submitted_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    processing_since INTEGER,
    create_attempts INTEGER NOT NULL,
    may_exist INTEGER NOT NULL,
    extra TEXT
);
CREATE INDEX IF NOT EXISTS jobs_state ON jobs(state);
CREATE INDEX IF NOT EXISTS jobs_dedup ON jobs(dedup);
CREATE INDEX IF NOT EXISTS jobs_seq ON jobs(seq);
CREATE INDEX IF NOT EXISTS jobs_asset ON jobs(asset_id) WHERE asset_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS jobs_name ON jobs(group_id, name);
CREATE TABLE IF NOT EXISTS forgotten (seq INTEGER PRIMARY KEY, id INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tally (
    profile TEXT NOT NULL,
    state INTEGER NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (profile, state)
) WITHOUT ROWID;
CREATE TRIGGER IF NOT EXISTS tally_insert AFTER INSERT ON jobs BEGIN
    INSERT INTO tally(profile, state, n) VALUES (NEW.profile, NEW.state, 1)
        ON CONFLICT(profile, state) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER IF NOT EXISTS tally_delete AFTER DELETE ON jobs BEGIN
    UPDATE tally SET n = n - 1 WHERE profile = OLD.profile AND state = OLD.state;
END;
CREATE TRIGGER IF NOT EXISTS tally_update AFTER UPDATE OF state, profile ON jobs
    WHEN OLD.state <> NEW.state OR OLD.profile <> NEW.profile BEGIN
    UPDATE tally SET n = n - 1 WHERE profile = OLD.profile AND state = OLD.state;
    INSERT INTO tally(profile, state, n) VALUES (NEW.profile, NEW.state, 1)
        ON CONFLICT(profile, state) DO UPDATE SET n = n + 1;
END;
";

/// The columns read back into a [`Job`], in [`from_row`]'s order.
pub const COLUMNS: &str = "id, state, group_id, url, name, asset_type, profile, asset_id, task_id, error, \
     submitted_at, updated_at, processing_since, create_attempts, may_exist, extra";

/// Writes one job (insert or replace) with the given write sequence number.
/// (An upsert, not `INSERT OR REPLACE`: a replace deletes without firing
/// the delete trigger, and the counts would drift.)
pub const UPSERT: &str = "INSERT INTO jobs (id, seq, state, dedup, group_id, url, name, asset_type, profile, \
     asset_id, task_id, error, submitted_at, updated_at, processing_since, create_attempts, may_exist, extra) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18) \
     ON CONFLICT(id) DO UPDATE SET seq = excluded.seq, state = excluded.state, dedup = excluded.dedup, \
     group_id = excluded.group_id, url = excluded.url, name = excluded.name, asset_type = excluded.asset_type, \
     profile = excluded.profile, asset_id = excluded.asset_id, task_id = excluded.task_id, error = excluded.error, \
     submitted_at = excluded.submitted_at, updated_at = excluded.updated_at, \
     processing_since = excluded.processing_since, create_attempts = excluded.create_attempts, \
     may_exist = excluded.may_exist, extra = excluded.extra";

/// A state's code in the `state` column (stable across releases).
pub fn state_code(s: JobState) -> i64 {
    match s {
        JobState::Uploading => 0,
        JobState::Queued => 1,
        JobState::Creating => 2,
        JobState::Processing => 3,
        JobState::Active => 4,
        JobState::Failed => 5,
        JobState::Rejected => 6,
        JobState::Uncertain => 7,
        JobState::Stuck => 8,
    }
}

fn state_of(code: i64) -> Option<JobState> {
    JobState::ALL.into_iter().find(|s| state_code(*s) == code)
}

/// Codes of `states`, comma-separated.
pub fn codes(states: impl IntoIterator<Item = JobState>) -> String {
    states.into_iter().map(|s| state_code(s).to_string()).collect::<Vec<_>>().join(",")
}

/// The job's identity for duplicate detection ([`Job::dedup_key`]) as a
/// stable 64-bit hash; candidates are compared on the whole key.
pub fn dedup_hash(key: &str) -> i64 {
    let digest = Sha256::digest(key.as_bytes());
    i64::from_le_bytes(digest[..8].try_into().expect("a SHA-256 digest has 32 bytes"))
}

/// What rarely present fields a row carries, as one JSON column.
#[derive(Serialize, Deserialize, Default, PartialEq)]
struct Extra {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    local: Option<LocalSource>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    media: Option<MediaInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    conform: Option<crate::conform::ConformRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sent_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    synced: bool,
}

fn nanos(t: Timestamp) -> i64 {
    i64::try_from(t.as_nanosecond()).unwrap_or(if t.as_nanosecond() < 0 { i64::MIN } else { i64::MAX })
}

fn timestamp(n: i64) -> Timestamp {
    Timestamp::from_nanosecond(i128::from(n)).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// Writes `job` with write sequence `seq`.
pub fn upsert(conn: &Connection, job: &Job, seq: i64) -> rusqlite::Result<()> {
    let e = Extra {
        local: job.spec.local.clone(),
        media: job.spec.media.clone(),
        conform: job.spec.conform.clone(),
        sent_at: job.sent_at,
        synced: job.synced,
    };
    let extra = (e != Extra::default()).then(|| serde_json::to_string(&e).expect("extras always serialize"));
    let mut stmt = conn.prepare_cached(UPSERT)?;
    stmt.execute(rusqlite::params![
        i64::try_from(job.id).unwrap_or(i64::MAX),
        seq,
        state_code(job.state),
        dedup_hash(&Job::dedup_key(&job.spec)),
        job.spec.group_id,
        job.spec.url,
        job.spec.name,
        job.spec.asset_type.to_string(),
        job.spec.profile,
        job.asset_id,
        job.task_id,
        job.error,
        nanos(job.submitted_at),
        nanos(job.updated_at),
        job.processing_since.map(nanos),
        job.create_attempts,
        job.may_exist,
        extra,
    ])?;
    Ok(())
}

/// A row that cannot be read back as a job (a state code written by a newer
/// release, a damaged column): its id, the columns that could be read, and
/// why. `status` and `export` show it as state `unknown`; the engine skips it.
#[derive(Debug, Clone, PartialEq)]
pub struct Unreadable {
    /// The job's id.
    pub id: JobId,
    /// The asset name, if readable.
    pub name: Option<String>,
    /// The source URL, if readable.
    pub url: Option<String>,
    /// The group id, if readable.
    pub group_id: Option<String>,
    /// The asset type as stored, if readable.
    pub asset_type: Option<String>,
    /// The profile, if readable.
    pub profile: Option<String>,
    /// The asset id, if any and readable.
    pub asset_id: Option<String>,
    /// The job's last error, if any and readable.
    pub error: Option<String>,
    /// When it was submitted, if readable.
    pub submitted_at: Option<Timestamp>,
    /// When it last changed, if readable.
    pub updated_at: Option<Timestamp>,
    /// Why the row cannot be read (`state: unknown state code 42`).
    pub reason: String,
}

impl Unreadable {
    /// What of `row` (selected with [`COLUMNS`]) can be read, and `why` the
    /// rest cannot.
    fn of(row: &Row<'_>, why: &rusqlite::Error) -> Unreadable {
        let text = |i: usize| row.get::<_, Option<String>>(i).ok().flatten();
        let time = |i: usize| row.get::<_, i64>(i).ok().map(timestamp);
        Unreadable {
            id: row.get::<_, i64>(0).map_or(0, |id| id.max(0) as u64),
            name: text(4),
            url: text(3),
            group_id: text(2),
            asset_type: text(5),
            profile: text(6),
            asset_id: text(7),
            error: text(9),
            submitted_at: time(10),
            updated_at: time(11),
            reason: reason(why),
        }
    }
}

/// Why a column could not be read, naming the column (not its index).
fn reason(e: &rusqlite::Error) -> String {
    let column = |i: usize| COLUMNS.split(", ").nth(i).unwrap_or("?");
    match e {
        rusqlite::Error::FromSqlConversionFailure(i, _, why) => format!("{}: {why}", column(*i)),
        rusqlite::Error::InvalidColumnType(_, name, ty) => format!("{name}: holds {ty}"),
        rusqlite::Error::IntegralValueOutOfRange(i, n) => format!("{}: {n} is out of range", column(*i)),
        other => other.to_string(),
    }
}

/// Reads a row selected with [`COLUMNS`]: the job, or what could be read
/// of it ([`Unreadable`]).
pub fn read_row(row: &Row<'_>) -> Result<Job, Box<Unreadable>> {
    from_row(row).map_err(|e| Box::new(Unreadable::of(row, &e)))
}

/// Reads a row selected with [`COLUMNS`].
pub fn from_row(row: &Row<'_>) -> rusqlite::Result<Job> {
    let bad =
        |i: usize, what: String| rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, what.into());
    let code: i64 = row.get(1)?;
    let state = state_of(code).ok_or_else(|| bad(1, format!("unknown state code {code}")))?;
    let asset_type = match row.get_ref(5)?.as_str()? {
        "Image" => AssetType::Image,
        "Video" => AssetType::Video,
        "Audio" => AssetType::Audio,
        other => other.parse().map_err(|e: String| bad(5, e))?,
    };
    let extra: Option<String> = row.get(15)?;
    let extra: Extra = match extra {
        Some(s) => serde_json::from_str(&s).map_err(|e| bad(15, e.to_string()))?,
        None => Extra::default(),
    };
    let id: i64 = row.get(0)?;
    Ok(Job {
        id: id.max(0) as u64,
        spec: NewJob {
            group_id: row.get(2)?,
            url: row.get(3)?,
            name: row.get(4)?,
            asset_type,
            profile: row.get(6)?,
            local: extra.local,
            media: extra.media,
            conform: extra.conform,
        },
        state,
        asset_id: row.get(7)?,
        task_id: row.get(8)?,
        error: row.get(9)?,
        submitted_at: timestamp(row.get(10)?),
        updated_at: timestamp(row.get(11)?),
        processing_since: row.get::<_, Option<i64>>(12)?.map(timestamp),
        create_attempts: row.get(13)?,
        may_exist: row.get(14)?,
        sent_at: extra.sent_at,
        synced: extra.synced,
    })
}
