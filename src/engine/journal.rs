//! The journal: an append-only, fsynced JSON-lines log of job snapshots.
//!
//! Each line is a whole job (the last line for an id wins) or a `forget`
//! record. Lines are written in batches, one `fsync` per batch, before the
//! engine reports the changes. On open, a torn last line (a crash mid-write)
//! is cut off, and a log much longer than its live jobs is compacted.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::job::{Job, JobId};

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Record {
    Job(Box<Job>),
    Forget(JobId),
}

impl Record {
    /// Replays this record onto the live jobs.
    fn apply(self, jobs: &mut BTreeMap<JobId, Job>) {
        match self {
            Record::Job(job) => {
                jobs.insert(job.id, *job);
            }
            Record::Forget(id) => {
                jobs.remove(&id);
            }
        }
    }
}

/// An open journal.
pub struct Journal {
    path: PathBuf,
    file: File,
    records: usize,
    /// Length of the file up to its last whole, synced record.
    len: u64,
    /// The file may hold a partial batch past `len` (a failed write).
    torn: bool,
    syncs: u64,
}

/// What [`Journal::open`] found.
pub struct Recovered {
    /// The journal, ready to append.
    pub journal: Journal,
    /// Every live job, by id.
    pub jobs: BTreeMap<JobId, Job>,
    /// Problems met while reading (a torn last line, corrupt lines).
    pub warnings: Vec<String>,
}

impl Journal {
    /// Opens (creating if needed) the journal at `path` and replays it.
    pub fn open(path: &Path) -> io::Result<Recovered> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut file = OpenOptions::new().read(true).append(true).create(true).open(path)?;
        if let Err(std::fs::TryLockError::WouldBlock) = file.try_lock() {
            return Err(io::Error::new(
                io::ErrorKind::WouldBlock,
                "another seedance-assets (a dashboard or an import) is using this journal; wait for it to finish, or use another --data-dir",
            ));
        }
        let mut warnings = Vec::new();
        remove_stale_temp_files(path, &mut warnings);
        let mut jobs = BTreeMap::new();
        let mut records = 0usize;
        let mut good_end = 0u64;
        let mut offset = 0u64;
        let mut torn_at = None;
        let mut reader = BufReader::new(&mut file);
        let mut line = Vec::new();
        let mut line_no = 0;
        loop {
            line.clear();
            let n = reader.read_until(b'\n', &mut line)?;
            if n == 0 {
                break;
            }
            line_no += 1;
            offset += n as u64;
            let complete = line.last() == Some(&b'\n');
            match serde_json::from_slice::<Record>(&line) {
                Ok(rec) if complete => {
                    records += 1;
                    good_end = offset;
                    rec.apply(&mut jobs);
                }
                _ if !complete => torn_at = Some(line_no),
                Err(e) => {
                    good_end = offset;
                    warnings.push(format!("{}: line {line_no} is corrupt and was skipped: {e}", path.display()));
                }
                Ok(_) => unreachable!("complete is checked above"),
            }
        }
        drop(reader);
        if let Some(line_no) = torn_at {
            warnings.push(format!(
                "{}: the last record (line {line_no}) was cut short by a crash and was dropped",
                path.display()
            ));
            file.set_len(good_end)?;
            file.sync_all()?;
        }
        let len = file.seek(SeekFrom::End(0))?;
        let mut journal = Journal { path: path.to_path_buf(), file, records, len, torn: false, syncs: 0 };
        if journal.records > 2 * jobs.len() + 1000 {
            journal.compact(&jobs)?;
        }
        Ok(Recovered { journal, jobs, warnings })
    }

    /// Rewrites the journal with one record per live job (atomically).
    fn compact(&mut self, jobs: &BTreeMap<JobId, Job>) -> io::Result<()> {
        let mut buf = Vec::new();
        for job in jobs.values() {
            encode(&mut buf, &Record::Job(Box::new(job.clone())));
        }
        crate::config::atomic_write(&self.path, &buf)?;
        let file = OpenOptions::new().append(true).open(&self.path)?;
        file.try_lock().map_err(io::Error::other)?;
        self.len = file.metadata()?.len();
        self.file = file;
        self.records = jobs.len();
        self.torn = false;
        Ok(())
    }

    /// Appends job snapshots and forget records, then fsyncs once.
    ///
    /// All or nothing: when the write or the sync fails (a full disk, an I/O
    /// error), the partial batch is cut off again, so the file never holds a
    /// torn record that a later batch would be glued to; the caller keeps the
    /// batch and tries again later.
    pub fn append(&mut self, jobs: &[Job], forgotten: &[JobId]) -> io::Result<()> {
        if jobs.is_empty() && forgotten.is_empty() {
            return Ok(());
        }
        if self.torn {
            self.file.set_len(self.len)?;
            self.torn = false;
        }
        let mut buf = Vec::with_capacity(jobs.len() * 256);
        for job in jobs {
            encode(&mut buf, &Record::Job(Box::new(job.clone())));
        }
        for id in forgotten {
            encode(&mut buf, &Record::Forget(*id));
        }
        let written = self.file.write_all(&buf).and_then(|()| self.file.sync_data());
        if let Err(e) = written {
            self.torn = true;
            if self.file.set_len(self.len).is_ok() {
                self.torn = false;
            }
            return Err(e);
        }
        self.syncs += 1;
        self.len += buf.len() as u64;
        self.records += jobs.len() + forgotten.len();
        Ok(())
    }

    /// Batches synced to disk since the journal was opened.
    pub fn syncs(&self) -> u64 {
        self.syncs
    }

    /// Where the journal lives.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Removes temp files a compaction killed mid-way left beside the journal
/// (`.NAME.tmp-PID`): the lock is held, so no other process is writing one.
fn remove_stale_temp_files(path: &Path, warnings: &mut Vec<String>) {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return;
    };
    let prefix = format!(".{}.tmp-", name.to_string_lossy());
    let Ok(entries) = std::fs::read_dir(if dir.as_os_str().is_empty() { Path::new(".") } else { dir }) else {
        return;
    };
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().starts_with(&prefix) {
            match std::fs::remove_file(entry.path()) {
                Ok(()) => {
                    warnings.push(format!("removed {}, left by an interrupted compaction", entry.path().display()))
                }
                Err(e) => warnings.push(format!("cannot remove {}: {e}", entry.path().display())),
            }
        }
    }
}

fn encode(buf: &mut Vec<u8>, rec: &Record) {
    serde_json::to_writer(&mut *buf, rec).expect("a job always serializes");
    buf.push(b'\n');
}

/// Reads the live jobs of a journal without opening it for writing (for
/// `status` and `export`, which must not disturb a running import).
pub fn read_jobs(path: &Path) -> io::Result<(Vec<Job>, Vec<String>)> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok((Vec::new(), Vec::new())),
        Err(e) => return Err(e),
    };
    let mut jobs = BTreeMap::new();
    let mut warnings = Vec::new();
    for (i, line) in BufReader::new(file).split(b'\n').enumerate() {
        let line = line?;
        match serde_json::from_slice::<Record>(&line) {
            Ok(rec) => rec.apply(&mut jobs),
            Err(e) => warnings.push(format!("{}: line {} skipped: {e}", path.display(), i + 1)),
        }
    }
    Ok((jobs.into_values().collect(), warnings))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::AssetType;
    use crate::engine::job::{JobState, NewJob};

    fn job(id: JobId, state: JobState) -> Job {
        let spec = NewJob {
            url: format!("https://e.com/{id}.png"),
            name: format!("n{id}"),
            asset_type: AssetType::Image,
            group_id: "g".into(),
            profile: "default".into(),
            local: None,
            media: None,
        };
        Job { state, ..Job::new(id, spec, jiff::Timestamp::UNIX_EPOCH) }
    }

    #[test]
    fn replays_last_snapshot_and_forgets() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let mut r = Journal::open(&path).unwrap();
        r.journal.append(&[job(1, JobState::Queued), job(2, JobState::Queued)], &[]).unwrap();
        r.journal.append(&[job(1, JobState::Processing)], &[2]).unwrap();
        drop(r);
        let r = Journal::open(&path).unwrap();
        assert!(r.warnings.is_empty());
        assert_eq!(r.jobs.len(), 1);
        assert_eq!(r.jobs[&1].state, JobState::Processing);
        let (jobs, _) = read_jobs(&path).unwrap();
        assert_eq!(jobs, vec![job(1, JobState::Processing)]);
    }

    #[test]
    fn torn_last_record_is_cut_and_appends_continue() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let mut r = Journal::open(&path).unwrap();
        r.journal.append(&[job(1, JobState::Active)], &[]).unwrap();
        drop(r);
        let good_len = std::fs::metadata(&path).unwrap().len();
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(br#"{"job":{"id":2,"url":"https://e.com/2.p"#).unwrap();
        drop(f);
        let mut r = Journal::open(&path).unwrap();
        assert_eq!(r.jobs.len(), 1);
        assert!(r.warnings[0].contains("cut short"), "{:?}", r.warnings);
        assert_eq!(std::fs::metadata(&path).unwrap().len(), good_len);
        r.journal.append(&[job(3, JobState::Queued)], &[]).unwrap();
        drop(r);
        let r = Journal::open(&path).unwrap();
        assert!(r.warnings.is_empty());
        assert_eq!(r.jobs.keys().copied().collect::<Vec<_>>(), [1, 3]);
    }

    #[test]
    fn a_compaction_killed_mid_way_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let stale = dir.path().join(".j.jsonl.tmp-12345");
        std::fs::write(&stale, vec![b'x'; 4096]).unwrap();
        let r = Journal::open(&path).unwrap();
        assert!(!stale.exists());
        assert!(r.warnings.iter().any(|w| w.contains("interrupted compaction")), "{:?}", r.warnings);
    }

    #[test]
    fn a_second_opener_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let first = Journal::open(&path).unwrap();
        let err = Journal::open(&path).err().expect("locked");
        assert!(err.to_string().contains("another seedance-assets"), "{err}");
        drop(first);
        assert!(Journal::open(&path).is_ok());
    }

    #[test]
    fn compacts_long_logs() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let mut r = Journal::open(&path).unwrap();
        for _ in 0..1100 {
            r.journal.append(&[job(1, JobState::Processing)], &[]).unwrap();
        }
        drop(r);
        let before = std::fs::metadata(&path).unwrap().len();
        let r = Journal::open(&path).unwrap();
        assert_eq!(r.jobs.len(), 1);
        assert!(std::fs::metadata(&path).unwrap().len() < before / 100);
        assert_eq!(r.journal.records, 1);
    }
}
