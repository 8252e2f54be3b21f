//! Conformed outputs, kept in the data directory under a size bound and
//! keyed by the original's content and the recipe: a re-run finds them and
//! makes nothing again. An entry appears whole or not at all (written in a
//! temporary directory, then renamed); the least recently used go first.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use super::ConformError;

/// The file in each entry that lists its outputs.
const MANIFEST: &str = "manifest.json";
/// Temporary directories older than this are a crashed run's leftovers.
const STALE: Duration = Duration::from_secs(3600);

/// An entry's outputs, in part order.
#[derive(Debug, Serialize, Deserialize)]
struct Manifest {
    files: Vec<String>,
}

/// The cache directory and its bound.
#[derive(Debug)]
pub struct Cache {
    dir: PathBuf,
    bound: u64,
    serial: AtomicU64,
    swept: std::sync::Once,
}

/// An entry being made: a temporary directory, removed unless committed.
#[derive(Debug)]
pub struct Pending {
    /// Where the outputs are written.
    pub dir: PathBuf,
    key: String,
    committed: bool,
}

impl Drop for Pending {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

fn key_ok(key: &str) -> bool {
    !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric())
}

impl Cache {
    /// The cache at `dir`, holding at most `bound` bytes. Nothing is read
    /// until the first entry is made (the dashboard builds one at start).
    pub fn new(dir: PathBuf, bound: u64) -> Cache {
        Cache { dir, bound, serial: AtomicU64::new(0), swept: std::sync::Once::new() }
    }

    /// Removes a crashed run's temporary directories (once per run).
    fn sweep(&self) {
        self.swept.call_once(|| {
            for e in std::fs::read_dir(&self.dir).into_iter().flatten().flatten() {
                let old =
                    e.metadata().and_then(|m| m.modified()).is_ok_and(|t| t.elapsed().unwrap_or_default() > STALE);
                if e.file_name().to_string_lossy().starts_with(".tmp-") && old {
                    let _ = std::fs::remove_dir_all(e.path());
                }
            }
        });
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The outputs kept for `key`, if all are there (marked as used).
    pub fn get(&self, key: &str) -> Option<Vec<PathBuf>> {
        if !key_ok(key) {
            return None;
        }
        let entry = self.dir.join(key);
        let manifest: Manifest = serde_json::from_slice(&std::fs::read(entry.join(MANIFEST)).ok()?).ok()?;
        let files: Vec<PathBuf> = manifest.files.iter().map(|f| entry.join(f)).collect();
        if files.is_empty() || !files.iter().all(|f| f.is_file()) {
            return None;
        }
        let _ = std::fs::File::options()
            .append(true)
            .open(entry.join(MANIFEST))
            .and_then(|f| f.set_modified(SystemTime::now()));
        Some(files)
    }

    /// A temporary directory to make `key`'s outputs in.
    pub fn begin(&self, key: &str) -> Result<Pending, ConformError> {
        self.sweep();
        std::fs::create_dir_all(&self.dir).map_err(|e| ConformError::io(&self.dir, &e))?;
        let n = self.serial.fetch_add(1, Ordering::Relaxed);
        let dir = self.dir.join(format!(".tmp-{key}-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| ConformError::io(&dir, &e))?;
        Ok(Pending { dir, key: key.to_string(), committed: false })
    }

    /// Keeps `pending`'s `files` (in part order) as its key's entry and
    /// returns where they now are; then trims the cache to its bound.
    pub fn commit(&self, mut pending: Pending, files: &[PathBuf]) -> Result<Vec<PathBuf>, ConformError> {
        let names: Vec<String> =
            files.iter().filter_map(|f| f.file_name().map(|n| n.to_string_lossy().into_owned())).collect();
        let manifest = serde_json::to_vec(&Manifest { files: names.clone() }).unwrap_or_default();
        let at = pending.dir.join(MANIFEST);
        std::fs::write(&at, manifest).map_err(|e| ConformError::io(&at, &e))?;
        let entry = self.dir.join(&pending.key);
        if let Some(kept) = self.get(&pending.key) {
            // Another run made the same entry first: keep that one.
            return Ok(kept);
        }
        let _ = std::fs::remove_dir_all(&entry);
        std::fs::rename(&pending.dir, &entry).map_err(|e| ConformError::io(&entry, &e))?;
        pending.committed = true;
        self.trim(&pending.key);
        Ok(names.iter().map(|n| entry.join(n)).collect())
    }

    /// Removes the least recently used entries (never `keep`) until the
    /// cache is within its bound.
    fn trim(&self, keep: &str) {
        let Ok(entries) = std::fs::read_dir(&self.dir) else { return };
        let mut all: Vec<(SystemTime, u64, PathBuf)> = Vec::new();
        let mut total = 0u64;
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if !key_ok(&name) {
                continue;
            }
            let size: u64 = std::fs::read_dir(e.path())
                .map(|d| d.flatten().filter_map(|f| f.metadata().ok()).map(|m| m.len()).sum())
                .unwrap_or(0);
            total += size;
            if name != keep {
                let used = std::fs::metadata(e.path().join(MANIFEST))
                    .and_then(|m| m.modified())
                    .unwrap_or(SystemTime::UNIX_EPOCH);
                all.push((used, size, e.path()));
            }
        }
        all.sort();
        for (_, size, path) in all {
            if total <= self.bound {
                break;
            }
            if std::fs::remove_dir_all(&path).is_ok() {
                total = total.saturating_sub(size);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_appear_whole_are_found_and_the_oldest_go_first() {
        let tmp = tempfile::tempdir().unwrap();
        let cache = Cache::new(tmp.path().join("c"), 2500);
        assert!(cache.get("abc").is_none());
        let p = cache.begin("abc").unwrap();
        let f = p.dir.join("a-part1.mp4");
        std::fs::write(&f, vec![1u8; 1000]).unwrap();
        let kept = cache.commit(p, &[f]).unwrap();
        assert_eq!(cache.get("abc").unwrap(), kept);
        std::thread::sleep(Duration::from_millis(20));
        // An abandoned entry leaves nothing.
        let p = cache.begin("dropped").unwrap();
        let tmpdir = p.dir.clone();
        std::fs::write(p.dir.join("x.jpg"), b"x").unwrap();
        drop(p);
        assert!(!tmpdir.exists());
        assert!(cache.get("dropped").is_none());
        // Over the bound: the least recently used entry goes.
        let p = cache.begin("def").unwrap();
        let g = p.dir.join("b.jpg");
        std::fs::write(&g, vec![2u8; 2000]).unwrap();
        cache.commit(p, &[g]).unwrap();
        assert!(cache.get("abc").is_none(), "abc was the oldest and over the bound");
        assert!(cache.get("def").is_some());
        assert!(cache.get("../x").is_none());
    }
}
