//! From the JSON-lines journal of earlier releases to the store, once.
//!
//! The new store is built under a temporary name and renamed into place
//! only when complete, so a crash during the migration leaves the old
//! journal as it was (and the next start migrates again). Once the store is
//! in place the old journal is renamed to a backup beside it, never deleted.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension};
use serde::Deserialize;

use super::error::{AtPath, StoreError};
use super::schema;
use crate::job::{Job, JobId};

/// One line of the old journal: a whole job (the last line for an id wins)
/// or a forget.
#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum Record {
    Job(Box<Job>),
    Forget(JobId),
}

/// The old journal's jobs, replayed; a torn last line (a crash mid-write)
/// and corrupt lines are skipped with a warning.
pub fn read_legacy(path: &Path, warnings: &mut Vec<String>) -> Result<Vec<Job>, StoreError> {
    let file = File::open(path).at(path)?;
    let mut jobs = BTreeMap::new();
    let mut reader = BufReader::new(file);
    let mut line = Vec::new();
    let mut line_no = 0usize;
    loop {
        line.clear();
        let n = reader.read_until(b'\n', &mut line).at(path)?;
        if n == 0 {
            break;
        }
        line_no += 1;
        if line.last() != Some(&b'\n') {
            warnings.push(format!(
                "{}: the last line ({line_no}) was cut short by a crash and was skipped",
                path.display()
            ));
            break;
        }
        match serde_json::from_slice::<Record>(&line) {
            Ok(Record::Job(job)) => {
                jobs.insert(job.id, *job);
            }
            Ok(Record::Forget(id)) => {
                jobs.remove(&id);
            }
            Err(e) => warnings.push(format!("{}: line {line_no} is corrupt and was skipped: {e}", path.display())),
        }
    }
    Ok(jobs.into_values().collect())
}

fn temp_prefix(store: &Path) -> String {
    format!(".{}.migrating-", store.file_name().unwrap_or_default().to_string_lossy())
}

/// Builds the store at `store` from the old journal `legacy`.
pub fn migrate(legacy: &Path, store: &Path, warnings: &mut Vec<String>) -> Result<(), StoreError> {
    let jobs = read_legacy(legacy, warnings)?;
    let tmp = store.with_file_name(format!("{}{}", temp_prefix(store), std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    {
        let mut conn = Connection::open(&tmp).at(&tmp)?;
        conn.execute_batch(super::writer::PAGE_SIZE).at(&tmp)?;
        conn.execute_batch(schema::CREATE).at(&tmp)?;
        conn.execute_batch(&format!("PRAGMA user_version = {}", schema::VERSION)).at(&tmp)?;
        let tx = conn.transaction().at(&tmp)?;
        for (seq, job) in (1i64..).zip(&jobs) {
            schema::upsert(&tx, job, seq).at(&tmp)?;
        }
        tx.execute("INSERT INTO meta (key, value) VALUES ('migrated_from', ?1)", [legacy.display().to_string()])
            .at(&tmp)?;
        tx.commit().at(&tmp)?;
    }
    File::open(&tmp).and_then(|f| f.sync_all()).at(&tmp)?;
    std::fs::rename(&tmp, store).at(store)?;
    if let Some(dir) = store.parent().filter(|d| !d.as_os_str().is_empty()) {
        File::open(dir).and_then(|d| d.sync_all()).at(dir)?;
    }
    warnings.push(format!("migrated {} jobs from {} to {}", jobs.len(), legacy.display(), store.display()));
    Ok(())
}

/// The backup name of the old journal: `journal.jsonl.bak`, or with a
/// number when that is taken.
fn backup_name(legacy: &Path) -> PathBuf {
    let base = legacy.with_file_name(format!("{}.bak", legacy.file_name().unwrap_or_default().to_string_lossy()));
    if !base.exists() {
        return base;
    }
    (1..).map(|n| base.with_extension(format!("bak.{n}"))).find(|p| !p.exists()).expect("some name is free")
}

/// Renames the old journal to its backup once the store holds its jobs
/// (also when a crash came between the two renames).
pub fn back_up_if_migrated(conn: &Connection, legacy: &Path, warnings: &mut Vec<String>) -> rusqlite::Result<()> {
    if !legacy.exists() {
        return Ok(());
    }
    let migrated: Option<String> =
        conn.query_row("SELECT value FROM meta WHERE key = 'migrated_from'", [], |r| r.get(0)).optional()?;
    if migrated.is_none() {
        warnings.push(format!(
            "{} is an old journal that was not migrated (the job store already existed); it was left alone",
            legacy.display()
        ));
        return Ok(());
    }
    let backup = backup_name(legacy);
    match std::fs::rename(legacy, &backup) {
        Ok(()) => warnings.push(format!("the old journal was kept as {}", backup.display())),
        Err(e) => {
            warnings.push(format!("cannot rename the old journal {} to {}: {e}", legacy.display(), backup.display()))
        }
    }
    Ok(())
}

/// Removes what a migration (or an old release's compaction) killed
/// mid-way left behind. The owner lock is held, so no one is writing them.
pub fn remove_stale_temp_files(store: &Path, legacy: Option<&Path>, warnings: &mut Vec<String>) {
    let mut prefixes = vec![temp_prefix(store)];
    if let Some(name) = legacy.and_then(Path::file_name) {
        prefixes.push(format!(".{}.tmp-", name.to_string_lossy()));
    }
    let dir = store.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if prefixes.iter().any(|p| name.starts_with(p)) {
            match std::fs::remove_file(entry.path()) {
                Ok(()) => warnings.push(format!("removed {}, left by an interrupted run", entry.path().display())),
                Err(e) => warnings.push(format!("cannot remove {}: {e}", entry.path().display())),
            }
        }
    }
}
