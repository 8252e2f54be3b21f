//! The store's one writer: the engine. Every batch of changes is one
//! transaction, synced to disk (`synchronous = FULL` in WAL mode: one fsync
//! of the write-ahead log per batch) before the engine reports it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rusqlite::Connection;

use super::error::{AtPath, StoreError};
use super::owner::OwnerLock;
use super::schema::{self, COLUMNS};
use crate::job::{Job, JobId, JobState};

/// The open store, owned by one process.
pub struct Store {
    conn: Connection,
    path: PathBuf,
    seq: i64,
    syncs: u64,
    _owner: OwnerLock,
}

/// What [`Store::open`] found.
pub struct Opened {
    /// The store, ready to write.
    pub store: Store,
    /// The jobs not yet final (the engine keeps these in memory; finished
    /// ones stay on disk).
    pub live: BTreeMap<JobId, Job>,
    /// The id for the next job; `None` once every id is used.
    pub next_id: Option<JobId>,
    /// Set when more Queued jobs wait in the store than were loaded
    /// ([`QUEUED_LOADED`]): the last one loaded (the rest come after it).
    pub queued_after: Option<JobId>,
    /// What needs telling (a migration, files cleaned up).
    pub warnings: Vec<String>,
}

/// Queued jobs loaded at open; the rest stay in the store until the
/// engine's queue has room for them (a million-line import is not held in
/// memory).
pub const QUEUED_LOADED: usize = 2048;

/// The page size of a new store.
pub(crate) const PAGE_SIZE: &str = "PRAGMA page_size = 16384";

/// Applies the connection settings every connection of the store uses.
pub(crate) fn configure(conn: &Connection, path: &Path) -> Result<(), StoreError> {
    conn.busy_timeout(std::time::Duration::from_secs(5)).at(path)?;
    // Sorts and statement journals in memory: no temporary file per batch
    // (they went to /var/tmp, one `openat(O_TMPFILE)` each).
    conn.execute_batch("PRAGMA temp_store = MEMORY;").at(path)?;
    Ok(())
}

impl Store {
    /// Opens (creating, or migrating `legacy`, the JSON-lines journal of
    /// earlier releases, if needed) the store at `path` and takes ownership
    /// of it; fails with [`StoreError::Busy`] while another process owns it.
    pub fn open(path: &Path, legacy: Option<&Path>) -> Result<Opened, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).at(dir)?;
        }
        super::error::check_file(path)?;
        let owner = OwnerLock::acquire(path)?;
        let mut warnings = Vec::new();
        super::migrate::remove_stale_temp_files(path, legacy, &mut warnings);
        if let Some(legacy) = legacy.filter(|l| !path.exists() && l.exists()) {
            super::migrate::migrate(legacy, path, &mut warnings)?;
        }
        let conn = Connection::open(path).at(path)?;
        configure(&conn, path)?;
        // Takes effect only on a new file: 16 KiB pages, a quarter of the
        // reads of the default for a scan of a large history.
        conn.execute_batch(PAGE_SIZE).at(path)?;
        let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0)).at(path)?;
        if !mode.eq_ignore_ascii_case("wal") {
            warnings.push(format!("{}: the file system does not support WAL; using {mode}", path.display()));
        }
        conn.execute_batch("PRAGMA synchronous = FULL; PRAGMA journal_size_limit = 16777216;").at(path)?;
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).at(path)?;
        if version > schema::VERSION {
            return Err(StoreError::TooNew { path: path.to_path_buf(), found: version, supported: schema::VERSION });
        }
        if version == 1 {
            // Version 1 to 2 in one transaction: a crash leaves the old
            // version or the new. (A new store is made as before.)
            let upgrade = format!(
                "BEGIN IMMEDIATE; {} {} {} PRAGMA user_version = {}; COMMIT;",
                schema::FROM_VERSION_1,
                schema::CREATE,
                schema::FILL_TALLY,
                schema::VERSION
            );
            conn.execute_batch(&upgrade).at(path)?;
        } else {
            conn.execute_batch(schema::CREATE).at(path)?;
            conn.execute_batch(&format!("PRAGMA user_version = {}", schema::VERSION)).at(path)?;
        }
        if let Some(legacy) = legacy {
            super::migrate::back_up_if_migrated(&conn, legacy, &mut warnings).at(path)?;
        }
        let (seq, max_id): (i64, i64) = conn
            .query_row(
                "SELECT MAX(COALESCE((SELECT MAX(seq) FROM jobs), 0), COALESCE((SELECT MAX(seq) FROM forgotten), 0)), \
                 MAX(COALESCE((SELECT MAX(id) FROM jobs), 0), COALESCE((SELECT MAX(id) FROM forgotten), 0))",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .at(path)?;
        let mut live = BTreeMap::new();
        let queued = schema::state_code(JobState::Queued);
        let others: Vec<JobState> =
            JobState::ALL.into_iter().filter(|s| s.is_in_flight() && *s != JobState::Queued).collect();
        let selects = [
            format!("SELECT {COLUMNS} FROM jobs WHERE state IN ({})", schema::codes(others)),
            format!("SELECT {COLUMNS} FROM jobs WHERE state = {queued} ORDER BY id"),
        ];
        // Rows are read lazily: the loop stops at the first Queued job past
        // the window, whose predecessor is where the engine reads on.
        let (mut queued_after, mut last_queued, mut loaded) = (None, None, 0);
        for sql in selects {
            let mut stmt = conn.prepare(&sql).at(path)?;
            let rows = stmt.query_map([], |r| Ok(schema::read_row(r))).at(path)?;
            for row in rows {
                match row.at(path)? {
                    Ok(job) if job.state == JobState::Queued && loaded == QUEUED_LOADED => {
                        queued_after = last_queued;
                        break;
                    }
                    Ok(job) => {
                        if job.state == JobState::Queued {
                            loaded += 1;
                            last_queued = Some(job.id);
                        }
                        live.insert(job.id, job);
                    }
                    Err(u) => warnings.push(format!(
                        "{}: job #{} cannot be read and was skipped: {}",
                        path.display(),
                        u.id,
                        u.reason
                    )),
                }
            }
        }
        let next_id = u64::try_from(max_id).ok().and_then(|m| m.checked_add(1)).filter(|n| *n <= i64::MAX as u64);
        let store = Store { conn, path: path.to_path_buf(), seq, syncs: 0, _owner: owner };
        Ok(Opened { store, live, next_id, queued_after, warnings })
    }

    /// Writes job snapshots and forgets jobs, in one transaction synced to
    /// disk. All or nothing: on failure (a full disk, an I/O error) nothing
    /// of the batch is kept, and the caller tries the same batch again later.
    pub fn write(&mut self, jobs: &[Job], forgotten: &[JobId]) -> Result<(), StoreError> {
        if jobs.is_empty() && forgotten.is_empty() {
            return Ok(());
        }
        let path = self.path.clone();
        let mut seq = self.seq;
        let tx = self.conn.transaction().at(&path)?;
        for job in jobs {
            seq += 1;
            schema::upsert(&tx, job, seq).at(&path)?;
        }
        for id in forgotten {
            seq += 1;
            let id = i64::try_from(*id).unwrap_or(i64::MAX);
            tx.prepare_cached("DELETE FROM jobs WHERE id = ?1").and_then(|mut s| s.execute([id])).at(&path)?;
            tx.prepare_cached("INSERT INTO forgotten (seq, id) VALUES (?1, ?2)")
                .and_then(|mut s| s.execute([seq, id]))
                .at(&path)?;
        }
        tx.commit().at(&path)?;
        self.seq = seq;
        self.syncs += 1;
        Ok(())
    }

    /// Batches synced to disk since the store was opened.
    pub fn syncs(&self) -> u64 {
        self.syncs
    }

    /// Where the store lives.
    pub fn path(&self) -> &Path {
        &self.path
    }
}
