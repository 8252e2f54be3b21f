//! Watch folders: files that land in them become imports once complete.
//!
//! The platform's file notifications (inotify through the `notify` crate)
//! say when something moved; where they are unavailable (a network
//! filesystem, a full watch table) or `--poll` is given, the folders are
//! scanned every `scan_every` instead. A file is handed over once it is
//! complete (unchanged for the settle time), still the same when looked at again, wanted by
//! the [`rules`], and new or changed since it was last handed over (the
//! [`ledger`], kept across restarts). The caller sends it through the front
//! door like any other line and records it in the ledger once the job for
//! it exists.

mod ledger;
pub mod list;
mod rules;
mod settle;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use notify::event::EventKind;
use notify::{RecursiveMode, Watcher};
use tokio::sync::mpsc::UnboundedSender;
use tokio::time::Instant;

pub use ledger::{FILE as LEDGER_FILE, Ledger};
pub use list::{FILE as LIST_FILE, Folder, FolderList};
pub use rules::Rules;
pub use settle::{Settler, Stamp};

/// Why watching cannot start or go on.
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    /// A folder to watch is not one.
    #[error("cannot watch {path}: {why}")]
    Folder {
        /// The folder as given.
        path: PathBuf,
        /// Why.
        why: String,
    },
    /// An include or exclude glob does not parse.
    #[error("the glob `{glob}` is not valid: {why}")]
    Glob {
        /// The glob.
        glob: String,
        /// Why.
        why: String,
    },
    /// The stored list of watched folders cannot be read or written.
    #[error("the list of watched folders {path} cannot be used: {why}")]
    List {
        /// The list's file.
        path: PathBuf,
        /// Why.
        why: String,
    },
    /// The ledger of handed-over files cannot be read or written.
    #[error("the watch ledger {path} cannot be used: {why}")]
    Ledger {
        /// The ledger file.
        path: PathBuf,
        /// Why.
        why: String,
    },
}

/// A folder and which of its files are wanted.
#[derive(Debug, Clone)]
pub struct Watched {
    /// The folder (absolute).
    pub dir: PathBuf,
    /// Which files.
    pub rules: Rules,
}

/// Checks that `dir` is a folder and makes it absolute.
pub fn folder(dir: &Path) -> Result<PathBuf, WatchError> {
    let bad = |why: String| WatchError::Folder { path: dir.to_path_buf(), why };
    let abs = std::fs::canonicalize(dir).map_err(|e| bad(e.to_string()))?;
    if abs.is_dir() { Ok(abs) } else { Err(bad("it is not a folder".into())) }
}

/// What a watch looks at, and how.
#[derive(Debug, Clone)]
pub struct WatchOptions {
    /// The folders, each with its rules.
    pub folders: Vec<Watched>,
    /// How long a file must stay unchanged to be complete.
    pub settle: Duration,
    /// Between scans, when scanning instead of notifications.
    pub scan_every: Duration,
    /// Scan even where notifications work.
    pub poll: bool,
}

/// A file complete, and new or changed since it was last handed over.
#[derive(Debug, Clone, PartialEq)]
pub struct Ready {
    /// Which of the watch's folders it is under (its place in `folders`).
    pub folder: usize,
    /// Where it is.
    pub path: PathBuf,
    /// Its size and modification time when it settled.
    pub stamp: Stamp,
}

/// The watch's state between events.
struct State {
    opts: WatchOptions,
    ledger: Arc<Mutex<Ledger>>,
    settler: Settler,
    /// Handed over in this run (the ledger records them once their jobs exist).
    handed: HashMap<PathBuf, Stamp>,
}

impl State {
    /// The folder `path` is under, and wanted by: its place.
    fn folder_of(&self, path: &Path) -> Option<usize> {
        self.opts.folders.iter().position(|f| path.starts_with(&f.dir) && f.rules.wants(&f.dir, path))
    }

    fn is_new(&self, path: &Path, stamp: Stamp) -> bool {
        let ledger = self.ledger.lock().unwrap_or_else(|p| p.into_inner());
        ledger.is_new(path, stamp) && self.handed.get(path) != Some(&stamp)
    }

    /// Looks at one path an event or a scan named.
    fn look(&mut self, path: &Path, now: std::time::Instant) {
        if self.folder_of(path).is_none() {
            return;
        }
        match Stamp::read(path) {
            Some(s) if !self.is_new(path, s) => self.settler.saw(path, None, now),
            s => self.settler.saw(path, s, now),
        }
    }

    /// Looks at every file under the folders (or under `dir` only).
    fn scan(&mut self, dir: Option<&Path>) {
        let now = std::time::Instant::now();
        let roots: Vec<(PathBuf, bool)> = match dir {
            Some(d) => vec![(d.to_path_buf(), true)],
            None => self.opts.folders.iter().map(|f| (f.dir.clone(), f.rules.recursive)).collect(),
        };
        for (root, recursive) in roots {
            let depth = if recursive { usize::MAX } else { 1 };
            let walk = walkdir::WalkDir::new(&root).max_depth(depth).into_iter();
            // Hidden folders (a sync client's state) are not entered.
            let walk = walk.filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'));
            for entry in walk.filter_map(Result::ok).filter(|e| e.file_type().is_file()) {
                self.look(entry.path(), now);
            }
        }
    }

    /// The files complete now that are still as they settled.
    fn due(&mut self) -> Vec<Ready> {
        let now = std::time::Instant::now();
        let mut ready = Vec::new();
        for (path, stamp) in self.settler.due(now) {
            match Stamp::read(&path) {
                Some(s) if s == stamp && self.is_new(&path, s) => {
                    let Some(folder) = self.folder_of(&path) else { continue };
                    self.handed.insert(path.clone(), s);
                    ready.push(Ready { folder, path, stamp: s });
                }
                Some(s) if s != stamp => self.settler.saw(&path, Some(s), now),
                _ => {}
            }
        }
        ready
    }
}

/// Watches until `out` is closed, sending each file as it is ready; `say`
/// gets what the user should know (notifications unavailable, errors).
pub async fn run(opts: WatchOptions, ledger: Arc<Mutex<Ledger>>, out: UnboundedSender<Ready>, say: impl Fn(String)) {
    let (ev_tx, mut events) = tokio::sync::mpsc::unbounded_channel::<notify::Result<notify::Event>>();
    let watcher = if opts.poll {
        None
    } else {
        let started = notify::recommended_watcher(move |r| {
            let _ = ev_tx.send(r);
        })
        .and_then(|mut w| {
            for f in &opts.folders {
                let mode = if f.rules.recursive { RecursiveMode::Recursive } else { RecursiveMode::NonRecursive };
                w.watch(&f.dir, mode)?;
            }
            Ok(w)
        });
        match started {
            Ok(w) => Some(w),
            Err(e) => {
                say(format!(
                    "file notifications are unavailable ({e}): scanning every {:.0} s instead",
                    opts.scan_every.as_secs_f64()
                ));
                None
            }
        }
    };
    let scanning = watcher.is_none();
    let settle = opts.settle.as_secs_f64();
    let mut st = State { settler: Settler::new(opts.settle), opts, ledger, handed: HashMap::new() };
    st.scan(None);
    let mut scan = tokio::time::interval_at(Instant::now() + st.opts.scan_every, st.opts.scan_every);
    scan.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let far = Instant::now() + Duration::from_secs(86_400 * 365);
    let how = if scanning {
        format!("scanning every {:.0} s", st.opts.scan_every.as_secs_f64())
    } else {
        "notified by the system".to_string()
    };
    say(format!(
        "watching {} ({how}; a file is taken once unchanged for {settle} s)",
        st.opts.folders.iter().map(|f| f.dir.display().to_string()).collect::<Vec<_>>().join(", ")
    ));
    loop {
        let next = st.settler.next_due().map(Instant::from_std);
        tokio::select! {
            ev = events.recv(), if !scanning => match ev {
                Some(Ok(event)) => {
                    if event.need_rescan() {
                        st.scan(None);
                    }
                    let now = std::time::Instant::now();
                    for path in &event.paths {
                        if path.is_dir() && matches!(event.kind, EventKind::Create(_)) {
                            // Files written before the new folder was watched.
                            st.scan(Some(path));
                        } else {
                            st.look(path, now);
                        }
                    }
                }
                Some(Err(e)) => {
                    say(format!("file notifications: {e}; scanning again"));
                    st.scan(None);
                }
                None => return,
            },
            _ = scan.tick(), if scanning => st.scan(None),
            _ = tokio::time::sleep_until(next.unwrap_or(far)), if next.is_some() => {
                for r in st.due() {
                    if out.send(r).is_err() {
                        return;
                    }
                }
            }
            _ = out.closed() => return,
        }
    }
}
