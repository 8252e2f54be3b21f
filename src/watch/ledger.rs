//! What was handed over, so a restart imports only what is new or changed:
//! `DATA_DIR/watched.jsonl`, one line per file handed to the front door
//! (group, path, size, modification time), appended and synced before the
//! line is shown. A torn last line (a crash mid-write) is skipped.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::WatchError;
use super::settle::Stamp;

/// The ledger's file name in the data dir.
pub const FILE: &str = "watched.jsonl";

/// One line of the ledger. (Fields of their own: serde's `flatten` reads
/// numbers through a buffer that loses 128-bit integers.)
#[derive(Serialize, Deserialize)]
struct Line {
    g: String,
    p: PathBuf,
    size: u64,
    modified: i128,
}

/// The files of one group handed over so far, by path.
#[derive(Debug)]
pub struct Ledger {
    path: PathBuf,
    /// `None` when opened to read only.
    file: Option<File>,
    group: String,
    seen: HashMap<PathBuf, Stamp>,
}

impl Ledger {
    /// Opens (or creates) the ledger at `path`, keeping `group`'s lines.
    pub fn open(path: &Path, group: &str) -> Result<Ledger, WatchError> {
        let io = |e: std::io::Error| WatchError::Ledger { path: path.to_path_buf(), why: e.to_string() };
        let seen = Ledger::read_lines(path, group)?;
        let mut file = std::fs::OpenOptions::new().create(true).append(true).read(true).open(path).map_err(io)?;
        // A torn last line is ended, so the next one starts clean.
        let len = file.metadata().map_err(io)?.len();
        let mut last = [b'\n'];
        if len > 0 {
            std::os::unix::fs::FileExt::read_exact_at(&file, &mut last, len - 1).map_err(io)?;
        }
        if last[0] != b'\n' {
            file.write_all(b"\n").map_err(io)?;
        }
        Ok(Ledger { path: path.to_path_buf(), file: Some(file), group: group.to_string(), seen })
    }

    /// Reads the ledger at `path` (none: empty) for `group`, to count; it
    /// cannot record (a read-only data dir can still be listed).
    pub fn read(path: &Path, group: &str) -> Result<Ledger, WatchError> {
        let seen = Ledger::read_lines(path, group)?;
        Ok(Ledger { path: path.to_path_buf(), file: None, group: group.to_string(), seen })
    }

    fn read_lines(path: &Path, group: &str) -> Result<HashMap<PathBuf, Stamp>, WatchError> {
        let io = |e: std::io::Error| WatchError::Ledger { path: path.to_path_buf(), why: e.to_string() };
        let mut seen = HashMap::new();
        if let Ok(f) = File::open(path) {
            for line in BufReader::new(f).lines() {
                let line = line.map_err(io)?;
                if let Ok(l) = serde_json::from_str::<Line>(&line)
                    && l.g == group
                {
                    seen.insert(l.p, Stamp { size: l.size, modified: l.modified });
                }
            }
        }
        Ok(seen)
    }

    /// True when `path` with `stamp` was not handed over yet.
    pub fn is_new(&self, path: &Path, stamp: Stamp) -> bool {
        self.seen.get(path) != Some(&stamp)
    }

    /// How many files of the folder `dir`, as `rules` take them, were
    /// handed over (and are recorded).
    pub fn count_under(&self, dir: &Path, rules: &super::Rules) -> usize {
        self.seen.keys().filter(|p| p.starts_with(dir) && rules.wants(dir, p)).count()
    }

    /// Records that `path` with `stamp` was handed over (synced to disk).
    pub fn record(&mut self, path: &Path, stamp: Stamp) -> Result<(), WatchError> {
        if !self.is_new(path, stamp) {
            return Ok(());
        }
        let line = Line { g: self.group.clone(), p: path.to_path_buf(), size: stamp.size, modified: stamp.modified };
        let mut text = serde_json::to_string(&line)
            .map_err(|e| WatchError::Ledger { path: self.path.clone(), why: e.to_string() })?;
        text.push('\n');
        let file = self
            .file
            .as_mut()
            .ok_or_else(|| WatchError::Ledger { path: self.path.clone(), why: "opened to read only".into() })?;
        file.write_all(text.as_bytes())
            .and_then(|()| file.sync_data())
            .map_err(|e| WatchError::Ledger { path: self.path.clone(), why: e.to_string() })?;
        self.seen.insert(path.to_path_buf(), stamp);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_across_opens_per_group_and_a_torn_line_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("watched.jsonl");
        let a = Path::new("/w/a.png");
        // A real modification time, in nanoseconds.
        let s1 = Stamp { size: 1, modified: 1_796_565_072_568_835_652 };
        let mut l = Ledger::open(&path, "g1").unwrap();
        assert!(l.is_new(a, s1));
        l.record(a, s1).unwrap();
        assert!(!l.is_new(a, s1));
        assert!(l.is_new(a, Stamp { size: 2, modified: 11 }), "changed since");
        drop(l);
        std::fs::OpenOptions::new().append(true).open(&path).unwrap().write_all(b"{\"g\":\"g1\",\"p\":").unwrap();
        let mut l = Ledger::open(&path, "g1").unwrap();
        assert!(!l.is_new(a, s1));
        assert!(l.is_new(Path::new("/w/other.png"), s1), "only what was recorded");
        let b = Path::new("/w/b.png");
        l.record(b, s1).unwrap();
        drop(l);
        assert!(!Ledger::open(&path, "g1").unwrap().is_new(b, s1), "written after the torn line, on a line of its own");
        assert!(Ledger::open(&path, "g2").unwrap().is_new(a, s1), "another group's import is another purchase");
        let l = Ledger::read(&path, "g1").unwrap();
        let all = super::super::Rules::new(true, &[], &[]).unwrap();
        assert_eq!(l.count_under(Path::new("/w"), &all), 2);
        assert_eq!(l.count_under(Path::new("/w/a"), &all), 0, "a folder, not a name's prefix");
        assert_eq!(Ledger::read(&path, "g2").unwrap().count_under(Path::new("/w"), &all), 0);
        let only_b = super::super::Rules::new(false, &["b.*".into()], &[]).unwrap();
        assert_eq!(l.count_under(Path::new("/w"), &only_b), 1, "what the folder's rules take");
        assert_eq!(l.count_under(Path::new("/"), &only_b), 0, "not in a subfolder of a flat watch");
        let mut l = l;
        assert!(l.record(Path::new("/w/c.png"), s1).is_err(), "read only");
        assert!(Ledger::read(&dir.path().join("none.jsonl"), "g1").unwrap().count_under(Path::new("/"), &all) == 0);
    }
}
