//! When a file is complete (pure): its size and modification time have not
//! moved for the settle time. A file that changes starts over; one that
//! goes is forgotten. (A close after writing proves nothing: `cat >>` and
//! `dd` close after every chunk.)

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A file's size and modification time, as read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Stamp {
    /// Bytes.
    pub size: u64,
    /// Nanoseconds since the Unix epoch.
    pub modified: i128,
}

impl Stamp {
    /// The stamp of `meta`.
    pub fn of(meta: &std::fs::Metadata) -> Stamp {
        let modified = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos() as i128);
        Stamp { size: meta.len(), modified }
    }

    /// The stamp of the file at `path`, if it is a file.
    pub fn read(path: &Path) -> Option<Stamp> {
        std::fs::metadata(path).ok().filter(|m| m.is_file()).map(|m| Stamp::of(&m))
    }
}

#[derive(Debug, Clone, Copy)]
struct Pending {
    stamp: Stamp,
    since: Instant,
}

/// The files being written, each with its stamp and when it last moved.
#[derive(Debug)]
pub struct Settler {
    settle: Duration,
    pending: HashMap<PathBuf, Pending>,
}

impl Settler {
    /// Files are complete after `settle` without a change.
    pub fn new(settle: Duration) -> Settler {
        Settler { settle, pending: HashMap::new() }
    }

    /// The file at `path` was seen with `stamp` (`None`: it is gone).
    pub fn saw(&mut self, path: &Path, stamp: Option<Stamp>, now: Instant) {
        match stamp {
            None => {
                self.pending.remove(path);
            }
            Some(stamp) => match self.pending.get_mut(path) {
                Some(p) if p.stamp == stamp => {}
                Some(p) => *p = Pending { stamp, since: now },
                None => {
                    self.pending.insert(path.to_path_buf(), Pending { stamp, since: now });
                }
            },
        }
    }

    /// The files complete at `now`, with the stamp they settled at; they
    /// are no longer pending (a file that moves again comes back by `saw`).
    pub fn due(&mut self, now: Instant) -> Vec<(PathBuf, Stamp)> {
        let ready: Vec<PathBuf> = self
            .pending
            .iter()
            .filter(|(_, p)| now.saturating_duration_since(p.since) >= self.settle)
            .map(|(path, _)| path.clone())
            .collect();
        ready.into_iter().filter_map(|path| self.pending.remove(&path).map(|p| (path, p.stamp))).collect()
    }

    /// When the next file may be complete.
    pub fn next_due(&self) -> Option<Instant> {
        self.pending.values().map(|p| p.since + self.settle).min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamp(size: u64) -> Stamp {
        Stamp { size, modified: size as i128 }
    }

    #[test]
    fn a_file_is_taken_once_it_stops_moving_and_forgotten_when_it_goes() {
        let t0 = Instant::now();
        let s = Duration::from_secs(2);
        let mut st = Settler::new(s);
        let (a, b) = (Path::new("/w/a.png"), Path::new("/w/b.png"));
        st.saw(a, Some(stamp(10)), t0);
        st.saw(b, Some(stamp(5)), t0);
        // Chunked writes keep a moving.
        st.saw(a, Some(stamp(20)), t0 + Duration::from_secs(1));
        assert_eq!(st.due(t0 + Duration::from_secs(2)), vec![(b.to_path_buf(), stamp(5))]);
        assert!(st.due(t0 + Duration::from_millis(2900)).is_empty());
        assert_eq!(st.next_due(), Some(t0 + Duration::from_secs(3)));
        // The same stamp seen again does not restart the wait.
        st.saw(a, Some(stamp(20)), t0 + Duration::from_millis(2950));
        assert_eq!(st.due(t0 + Duration::from_secs(3)), vec![(a.to_path_buf(), stamp(20))]);
        // Deleted before it settled: forgotten.
        st.saw(a, Some(stamp(1)), t0 + Duration::from_secs(4));
        st.saw(a, None, t0 + Duration::from_secs(5));
        assert!(st.next_due().is_none() && st.due(t0 + Duration::from_secs(60)).is_empty());
    }
}
