//! Reading the store without owning it: `status`, `export`, the dashboard's
//! list and observers. A reader never blocks the writer (WAL), sees only
//! committed (synced) changes, and holds in memory only what it asks for.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::functions::FunctionFlags;
use rusqlite::{Connection, OpenFlags, OptionalExtension, ToSql};

use super::error::{AtPath, StoreError};
use super::schema::{self, COLUMNS, Unreadable, state_code};
use super::writer::Store;
use crate::job::{Job, JobId, JobState};

/// Which jobs a query picks; every part empty or `None` picks all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Only these ids.
    pub ids: Vec<JobId>,
    /// Only these states.
    pub states: Vec<JobState>,
    /// Only jobs whose name, URL, asset id or error contains this
    /// (case-insensitive).
    pub needle: String,
    /// Only this profile's jobs.
    pub profile: Option<String>,
}

impl Filter {
    /// True when the filter picks `job` (as the query would).
    pub fn admits(&self, job: &Job) -> bool {
        let n = self.needle.to_lowercase();
        let has = |f: Option<&str>| f.is_some_and(|f| f.to_lowercase().contains(&n));
        (self.ids.is_empty() || self.ids.contains(&job.id))
            && (self.states.is_empty() || self.states.contains(&job.state))
            && self.profile.as_ref().is_none_or(|p| *p == job.spec.profile)
            && (n.is_empty()
                || has(Some(&job.spec.name))
                || has(Some(&job.spec.url))
                || has(job.asset_id.as_deref())
                || has(job.error.as_deref()))
    }

    /// The `WHERE` clause (always starting with `1`) and its parameters.
    fn clause(&self) -> (String, Vec<Box<dyn ToSql>>) {
        let mut sql = String::from("1");
        let mut params: Vec<Box<dyn ToSql>> = Vec::new();
        if !self.ids.is_empty() {
            let ids: Vec<String> = self.ids.iter().map(|id| i64::try_from(*id).unwrap_or(-1).to_string()).collect();
            sql.push_str(&format!(" AND id IN ({})", ids.join(",")));
        }
        if !self.states.is_empty() {
            sql.push_str(&format!(" AND state IN ({})", schema::codes(self.states.iter().copied())));
        }
        if !self.needle.is_empty() {
            params.push(Box::new(self.needle.to_lowercase()));
            let n = params.len();
            sql.push_str(&format!(
                " AND (contains_ci(name, ?{n}) OR contains_ci(url, ?{n}) OR contains_ci(asset_id, ?{n}) OR contains_ci(error, ?{n}))"
            ));
        }
        if let Some(p) = &self.profile {
            params.push(Box::new(p.clone()));
            sql.push_str(&format!(" AND profile = ?{}", params.len()));
        }
        (sql, params)
    }
}

/// A read-only view of the store.
pub struct History {
    conn: Connection,
    path: PathBuf,
    /// The store keeps `tally` (version 2 on): counts are one small read.
    /// A version 1 store (read before its owner upgraded it, or in a
    /// read-only data dir) is counted from the jobs.
    tally: bool,
}

/// What changed since a write sequence number ([`History::changes`]).
#[derive(Debug, Default)]
pub struct Changes {
    /// Jobs written since, in write order.
    pub jobs: Vec<Job>,
    /// Jobs forgotten since.
    pub forgotten: Vec<JobId>,
    /// The sequence number to ask from next time.
    pub seq: i64,
}

impl History {
    /// Opens the store at `path` for reading. A store that does not exist
    /// yet is created first (migrating `legacy` if there is one) unless
    /// another process owns it, in which case its owner is creating it.
    pub fn open(path: &Path, legacy: Option<&Path>) -> Result<History, StoreError> {
        super::error::check_file(path)?;
        for _ in 0..50 {
            if path.exists() {
                break;
            }
            match Store::open(path, legacy) {
                Ok(opened) => {
                    for w in opened.warnings {
                        tracing::warn!("{w}");
                    }
                }
                Err(StoreError::Busy { .. }) => std::thread::sleep(Duration::from_millis(100)),
                Err(e) => return Err(e),
            }
        }
        let conn = open_read_only(path)?;
        conn.create_scalar_function(
            "contains_ci",
            2,
            FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
            |ctx| {
                let hay: Option<String> = ctx.get(0)?;
                let needle: String = ctx.get(1)?;
                Ok(hay.is_some_and(|h| h.to_lowercase().contains(&needle)))
            },
        )
        .at(path)?;
        let tally = conn
            .query_row("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'tally'", [], |_| Ok(()))
            .optional()
            .at(path)?
            .is_some();
        Ok(History { conn, path: path.to_path_buf(), tally })
    }

    /// Where the store lives.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// How many jobs are in each state, in [`JobState::ALL`] order: of one
    /// profile, or of all (kept by the store itself: one small read at any
    /// size).
    pub fn counts(&self, profile: Option<&str>) -> Result<[u64; JobState::ALL.len()], StoreError> {
        let mut out = [0u64; JobState::ALL.len()];
        let (table, n) = if self.tally { ("tally", "SUM(n)") } else { ("jobs", "COUNT(*)") };
        let sql = format!("SELECT state, {n} FROM {table} WHERE ?1 IS NULL OR profile = ?1 GROUP BY state");
        let mut stmt = self.conn.prepare_cached(&sql).at(&self.path)?;
        let rows = stmt.query_map([profile], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))).at(&self.path)?;
        for row in rows {
            let (code, n) = row.at(&self.path)?;
            if let Some(i) = JobState::ALL.iter().position(|s| state_code(*s) == code) {
                out[i] = n.max(0) as u64;
            }
        }
        Ok(out)
    }

    /// A job by id.
    pub fn get(&self, id: JobId) -> Result<Option<Job>, StoreError> {
        let Ok(id) = i64::try_from(id) else { return Ok(None) };
        self.conn
            .prepare_cached(&format!("SELECT {COLUMNS} FROM jobs WHERE id = ?1"))
            .and_then(|mut s| s.query_row([id], schema::from_row).optional())
            .at(&self.path)
    }

    /// Jobs with the same identity as `key` ([`Job::dedup_key`]), found by
    /// the identity's hash and compared whole.
    pub fn same_identity(&self, key: &str) -> Result<Vec<Job>, StoreError> {
        let jobs =
            self.query(&format!("SELECT {COLUMNS} FROM jobs WHERE dedup = ?1"), &[Box::new(schema::dedup_hash(key))])?;
        Ok(jobs.into_iter().filter(|j| Job::dedup_key(&j.spec) == key).collect())
    }

    /// The ids of the jobs that hold asset `asset_id` (found by an index).
    pub fn holding(&self, asset_id: &str) -> Result<Vec<JobId>, StoreError> {
        let mut stmt = self.conn.prepare_cached("SELECT id FROM jobs WHERE asset_id = ?1").at(&self.path)?;
        let ids = stmt.query_map([asset_id], |r| r.get::<_, i64>(0)).at(&self.path)?;
        ids.map(|id| id.map(|id| id.max(0) as JobId)).collect::<Result<_, _>>().at(&self.path)
    }

    /// The jobs of group `group` named `name` (found by an index).
    pub fn named(&self, group: &str, name: &str) -> Result<Vec<Job>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM jobs WHERE group_id = ?1 AND name = ?2");
        self.query(&sql, &[Box::new(group.to_string()), Box::new(name.to_string())])
    }

    /// Up to `n` jobs reconcile settles from the server's listing, in id
    /// order after `after`: Uncertain ones, and Processing ones found in a
    /// listing (an asset id and no task id to ask GetAsset with).
    pub fn unsettled(&self, after: JobId, n: usize) -> Result<Vec<Job>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM jobs WHERE (state = {} OR (state = {} AND task_id IS NULL AND asset_id IS NOT NULL)) \
             AND id > ?1 ORDER BY id LIMIT {n}",
            state_code(JobState::Uncertain),
            state_code(JobState::Processing)
        );
        self.query(&sql, &[Box::new(i64::try_from(after).unwrap_or(i64::MAX))])
    }

    /// Up to `n` jobs the filter picks, in id order: those after `from`
    /// (`forward`), or those before it (then the nearest come last).
    /// `from = None` starts at the first (`forward`) or the last job.
    pub fn page(&self, filter: &Filter, from: Option<JobId>, forward: bool, n: usize) -> Result<Vec<Job>, StoreError> {
        let (mut sql, mut params) = filter.clause();
        if let Some(from) = from {
            params.push(Box::new(i64::try_from(from).unwrap_or(i64::MAX)));
            sql.push_str(&format!(" AND id {} ?{}", if forward { ">" } else { "<" }, params.len()));
        }
        let order = if forward { "ASC" } else { "DESC" };
        let sql = format!("SELECT {COLUMNS} FROM jobs WHERE {sql} ORDER BY id {order} LIMIT {n}");
        let mut jobs = self.query(&sql, &params)?;
        if !forward {
            jobs.reverse();
        }
        Ok(jobs)
    }

    /// How many jobs the filter picks, counting no further than `cap`.
    pub fn count(&self, filter: &Filter, cap: u64) -> Result<u64, StoreError> {
        if filter.ids.is_empty() && filter.needle.is_empty() {
            let counts = self.counts(filter.profile.as_deref())?;
            let all = filter.states.is_empty();
            let n = JobState::ALL.iter().zip(counts).filter(|(s, _)| all || filter.states.contains(s)).map(|(_, n)| n);
            return Ok(n.sum::<u64>().min(cap));
        }
        let (sql, params) = filter.clause();
        let cap = cap.min(i64::MAX as u64);
        let sql = format!("SELECT COUNT(*) FROM (SELECT 1 FROM jobs WHERE {sql} LIMIT {cap})");
        let refs: Vec<&dyn ToSql> = params.iter().map(|p| p.as_ref()).collect();
        let n: i64 = self.conn.query_row(&sql, refs.as_slice(), |r| r.get(0)).at(&self.path)?;
        Ok(n.max(0) as u64)
    }

    /// Calls `f` with every row the filter picks, in id order, holding one
    /// at a time in memory: the job, or what could be read of a row that
    /// cannot be read as one ([`Unreadable`]; every other row is still
    /// read). Stops at the first error `f` returns.
    pub fn for_each<E: From<StoreError>>(
        &self,
        filter: &Filter,
        mut f: impl FnMut(Result<Job, Box<Unreadable>>) -> Result<(), E>,
    ) -> Result<(), E> {
        let (sql, params) = filter.clause();
        let sql = format!("SELECT {COLUMNS} FROM jobs WHERE {sql} ORDER BY id");
        let refs: Vec<&dyn ToSql> = params.iter().map(|p| p.as_ref()).collect();
        let mut stmt = self.conn.prepare(&sql).at(&self.path)?;
        let rows = stmt.query_map(refs.as_slice(), |r| Ok(schema::read_row(r))).at(&self.path)?;
        for row in rows {
            f(row.at(&self.path)?)?;
        }
        Ok(())
    }

    /// Every job the filter picks, in id order, in memory (for selections a
    /// command acts on; `for_each` streams instead). Rows that cannot be
    /// read are left out, with a warning in the log.
    pub fn jobs(&self, filter: &Filter) -> Result<Vec<Job>, StoreError> {
        let mut jobs = Vec::new();
        self.for_each(filter, |row| {
            jobs.extend(self.readable(row));
            Ok::<_, StoreError>(())
        })?;
        Ok(jobs)
    }

    /// The job of a row, or none (and a warning in the log naming it) when
    /// the row cannot be read.
    fn readable(&self, row: Result<Job, Box<Unreadable>>) -> Option<Job> {
        row.inspect_err(|u| {
            tracing::warn!("{}: job #{} cannot be read and was skipped: {}", self.path.display(), u.id, u.reason)
        })
        .ok()
    }

    /// The profiles jobs in the store belong to (from a table the store
    /// keeps, so this costs one small read at any size).
    pub fn profiles(&self) -> Result<Vec<String>, StoreError> {
        let sql = if self.tally {
            "SELECT profile FROM tally GROUP BY profile HAVING SUM(n) > 0 ORDER BY profile"
        } else {
            "SELECT DISTINCT profile FROM jobs ORDER BY profile"
        };
        let mut stmt = self.conn.prepare_cached(sql).at(&self.path)?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0)).at(&self.path)?;
        rows.collect::<rusqlite::Result<_>>().at(&self.path)
    }

    /// The ids the filter picks, in order (for marking every shown row).
    pub fn ids(&self, filter: &Filter) -> Result<Vec<JobId>, StoreError> {
        let (sql, params) = filter.clause();
        let sql = format!("SELECT id FROM jobs WHERE {sql} ORDER BY id");
        let refs: Vec<&dyn ToSql> = params.iter().map(|p| p.as_ref()).collect();
        let mut stmt = self.conn.prepare(&sql).at(&self.path)?;
        let rows = stmt.query_map(refs.as_slice(), |r| r.get::<_, i64>(0)).at(&self.path)?;
        rows.map(|r| r.map(|id| id.max(0) as u64)).collect::<rusqlite::Result<_>>().at(&self.path)
    }

    /// A number that changes whenever another connection commits a change:
    /// cheap to ask often, to notice that a view is stale.
    pub fn version(&self) -> Result<i64, StoreError> {
        self.conn.query_row("PRAGMA data_version", [], |r| r.get(0)).at(&self.path)
    }

    /// The write sequence number of the latest change.
    pub fn last_seq(&self) -> Result<i64, StoreError> {
        self.conn
            .query_row(
                "SELECT MAX(COALESCE((SELECT MAX(seq) FROM jobs), 0), COALESCE((SELECT MAX(seq) FROM forgotten), 0))",
                [],
                |r| r.get(0),
            )
            .at(&self.path)
    }

    /// Everything written after sequence number `seq`.
    pub fn changes(&self, seq: i64) -> Result<Changes, StoreError> {
        let jobs = self.query(&format!("SELECT {COLUMNS} FROM jobs WHERE seq > ?1 ORDER BY seq"), &[Box::new(seq)])?;
        let mut stmt =
            self.conn.prepare_cached("SELECT seq, id FROM forgotten WHERE seq > ?1 ORDER BY seq").at(&self.path)?;
        let forgotten: Vec<(i64, i64)> = stmt
            .query_map([seq], |r| Ok((r.get(0)?, r.get(1)?)))
            .at(&self.path)?
            .collect::<rusqlite::Result<_>>()
            .at(&self.path)?;
        let job_seq: Option<i64> = if jobs.is_empty() {
            None
        } else {
            self.conn.query_row("SELECT MAX(seq) FROM jobs WHERE seq > ?1", [seq], |r| r.get(0)).at(&self.path)?
        };
        let next = forgotten.iter().map(|(s, _)| *s).chain(job_seq).fold(seq, i64::max);
        Ok(Changes { jobs, forgotten: forgotten.into_iter().map(|(_, id)| id.max(0) as u64).collect(), seq: next })
    }

    fn query(&self, sql: &str, params: &[Box<dyn ToSql>]) -> Result<Vec<Job>, StoreError> {
        let refs: Vec<&dyn ToSql> = params.iter().map(|p| p.as_ref()).collect();
        let mut stmt = self.conn.prepare_cached(sql).at(&self.path)?;
        let rows = stmt.query_map(refs.as_slice(), |r| Ok(schema::read_row(r))).at(&self.path)?;
        let mut jobs = Vec::new();
        for row in rows {
            jobs.extend(self.readable(row.at(&self.path)?));
        }
        Ok(jobs)
    }
}

/// Opens the store at `path` read-only. In WAL mode a reader needs the
/// shared-memory index beside the file (`jobs.db-shm`); when it cannot be
/// created (a read-only data dir) and no write-ahead log holds changes not
/// yet in the file, the file is opened as immutable instead: no one can be
/// writing a store in a directory where no one can create a file.
fn open_read_only(path: &Path) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).at(path)?;
    super::writer::configure(&conn, path)?;
    // The first read opens the index (and fails if it cannot).
    match conn.query_row("SELECT COUNT(*) FROM sqlite_schema", [], |r| r.get::<_, i64>(0)) {
        Ok(_) => return Ok(conn),
        Err(e) if !cannot_open_index(&e) || wal_has_changes(path) => return Err(e).at(path),
        Err(_) => {}
    }
    drop(conn);
    open_immutable(path)
}

/// Opens the store at `path` as an immutable file: read-only, with no WAL
/// index and no locks (it must not change while open).
pub(super) fn open_immutable(path: &Path) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
    let conn = Connection::open_with_flags(format!("{}?immutable=1", file_uri(path)), flags).at(path)?;
    super::writer::configure(&conn, path)?;
    Ok(conn)
}

/// True for the errors of a reader that cannot create or write the WAL
/// index (`attempt to write a readonly database`, `unable to open database file`).
fn cannot_open_index(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::ReadOnly | rusqlite::ErrorCode::CannotOpen | rusqlite::ErrorCode::PermissionDenied)
    )
}

/// True when the store's write-ahead log holds changes (which an immutable
/// open would not see).
fn wal_has_changes(path: &Path) -> bool {
    let mut wal = path.as_os_str().to_os_string();
    wal.push("-wal");
    std::fs::metadata(wal).is_ok_and(|m| m.len() > 0)
}

/// `path` as an SQLite `file:` URI, every byte but unreserved ones and `/`
/// percent-encoded (a `?`, `#` or `%` in a name must not be read as URI syntax).
fn file_uri(path: &Path) -> String {
    use std::os::unix::ffi::OsStrExt;
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut uri = String::from("file:");
    for &b in absolute.as_os_str().as_bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            uri.push(char::from(b));
        } else {
            uri.push_str(&format!("%{b:02X}"));
        }
    }
    uri
}

/// Every job in the store at `path`, in id order, read without owning it;
/// none when there is no store yet (for tests and tools).
pub fn read_jobs(path: &Path) -> Result<Vec<Job>, StoreError> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    History::open(path, None)?.jobs(&Filter::default())
}
