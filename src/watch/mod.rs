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
pub use list::{Added, FILE as LIST_FILE, Folder, FolderList, rules_text, typed_folder};
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

    /// Looks at every file under every folder.
    fn scan(&mut self) {
        for (i, f) in self.opts.folders.clone().iter().enumerate() {
            self.scan_folder(i, &f.dir);
        }
    }

    /// Looks at every file under folder `i` as deep as its rules go.
    fn scan_folder(&mut self, i: usize, dir: &Path) {
        let depth = if self.opts.folders[i].rules.recursive { usize::MAX } else { 1 };
        self.walk(dir, depth);
    }

    /// Looks at every file under `dir`, a folder just made inside a watched one.
    fn scan_dir(&mut self, dir: &Path) {
        self.walk(dir, usize::MAX);
    }

    fn walk(&mut self, root: &Path, depth: usize) {
        let now = std::time::Instant::now();
        let walk = walkdir::WalkDir::new(root).max_depth(depth).into_iter();
        // Hidden folders (a sync client's state) are not entered.
        let walk = walk.filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'));
        for entry in walk.filter_map(Result::ok).filter(|e| e.file_type().is_file()) {
            self.look(entry.path(), now);
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

/// A folder's identity on disk: a folder removed and made again is another.
fn identity(dir: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(dir).ok().filter(|m| m.is_dir()).map(|m| (m.dev(), m.ino()))
}

/// The system's notifications, per folder: which folders they cover (the
/// identity each had when its watch was added); the others are scanned.
struct Notifier {
    watcher: Option<notify::RecommendedWatcher>,
    covers: Vec<Option<(u64, u64)>>,
    /// The identity each folder had when its watch could not be added: not
    /// tried (nor said) again until the folder changes.
    refused: Vec<Option<(u64, u64)>>,
}

impl Notifier {
    /// Adds the watch of folder `i`; says why not when it cannot.
    fn cover(&mut self, i: usize, f: &Watched, say: &impl Fn(String)) -> bool {
        let Some(w) = &mut self.watcher else { return false };
        let mode = if f.rules.recursive { RecursiveMode::Recursive } else { RecursiveMode::NonRecursive };
        let before = identity(&f.dir);
        if before.is_some() && self.refused[i] == before {
            return false;
        }
        match before.map(|_| w.watch(&f.dir, mode)) {
            Some(Ok(())) => {
                self.covers[i] = before;
                true
            }
            None => false,
            Some(Err(e)) => {
                self.refused[i] = before;
                say(format!("{}: file notifications are unavailable ({e}): scanning it instead", f.dir.display()));
                false
            }
        }
    }
}

/// Watches until `out` is closed, sending each file as it is ready; `say`
/// gets what the user should know (notifications unavailable, a folder
/// gone or back, errors).
///
/// Each folder has a watch of its own. Every `scan_every` each folder is
/// looked at: one gone is said once and watched again when it is back (a
/// folder removed and made again needs a new watch: the old one went with
/// it), and folders the notifications do not cover are scanned.
pub async fn run(opts: WatchOptions, ledger: Arc<Mutex<Ledger>>, out: UnboundedSender<Ready>, say: impl Fn(String)) {
    let (ev_tx, mut events) = tokio::sync::mpsc::unbounded_channel::<notify::Result<notify::Event>>();
    let every = opts.scan_every.as_secs_f64();
    let watcher = if opts.poll {
        None
    } else {
        match notify::recommended_watcher(move |r| {
            let _ = ev_tx.send(r);
        }) {
            Ok(w) => Some(w),
            Err(e) => {
                say(format!("file notifications are unavailable ({e}): scanning every {every:.0} s instead"));
                None
            }
        }
    };
    let notifying = watcher.is_some();
    let n = opts.folders.len();
    let mut notifier = Notifier { watcher, covers: vec![None; n], refused: vec![None; n] };
    let settle = opts.settle.as_secs_f64();
    let mut st = State { settler: Settler::new(opts.settle), opts, ledger, handed: HashMap::new() };
    // Folders said to be gone (told once, until they are back).
    let mut gone = vec![false; st.opts.folders.len()];
    for (i, f) in st.opts.folders.clone().iter().enumerate() {
        if identity(&f.dir).is_none() {
            say(format!(
                "{} is missing: it is watched once it exists (looked for every {every:.0} s)",
                f.dir.display()
            ));
            gone[i] = true;
        } else {
            notifier.cover(i, f, &say);
        }
    }
    st.scan();
    let mut tick = tokio::time::interval_at(Instant::now() + st.opts.scan_every, st.opts.scan_every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let far = Instant::now() + Duration::from_secs(86_400 * 365);
    let how = if notifying { "notified by the system".to_string() } else { format!("scanning every {every:.0} s") };
    let present: Vec<String> =
        st.opts.folders.iter().zip(&gone).filter(|(_, g)| !**g).map(|(f, _)| f.dir.display().to_string()).collect();
    if !present.is_empty() {
        say(format!("watching {} ({how}; a file is taken once unchanged for {settle} s)", present.join(", ")));
    }
    loop {
        let next = st.settler.next_due().map(Instant::from_std);
        tokio::select! {
            ev = events.recv(), if notifying => match ev {
                Some(Ok(event)) => {
                    if event.need_rescan() {
                        st.scan();
                    }
                    let now = std::time::Instant::now();
                    for path in &event.paths {
                        if st.opts.folders.iter().any(|f| f.dir == *path) {
                            // The folder itself moved or went: looked at now.
                            check(&mut st, &mut notifier, &mut gone, &say);
                        } else if path.is_dir() && matches!(event.kind, EventKind::Create(_)) {
                            // Files written before the new folder was watched.
                            st.scan_dir(path);
                        } else {
                            st.look(path, now);
                        }
                    }
                }
                Some(Err(e)) => {
                    say(format!("file notifications: {e}; scanning again"));
                    st.scan();
                }
                None => return,
            },
            _ = tick.tick() => {
                check(&mut st, &mut notifier, &mut gone, &say);
                let uncovered: Vec<usize> = (0..st.opts.folders.len()).filter(|i| notifier.covers[*i].is_none()).collect();
                for i in uncovered {
                    let dir = st.opts.folders[i].dir.clone();
                    st.scan_folder(i, &dir);
                }
            }
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

/// Looks at each folder: one gone is said once (its watch dropped), one
/// back or made again is watched anew and scanned.
fn check(st: &mut State, notifier: &mut Notifier, gone: &mut [bool], say: &impl Fn(String)) {
    for (i, f) in st.opts.folders.clone().iter().enumerate() {
        let now = identity(&f.dir);
        if now.is_none() {
            if let (Some(w), Some(_)) = (&mut notifier.watcher, notifier.covers[i]) {
                let _ = w.unwatch(&f.dir);
            }
            notifier.covers[i] = None;
            if !gone[i] {
                say(format!("{} is gone: it is watched again once it exists", f.dir.display()));
                gone[i] = true;
            }
            continue;
        }
        if notifier.covers[i].is_some() && notifier.covers[i] == now {
            continue;
        }
        if notifier.covers[i].is_some()
            && let Some(w) = &mut notifier.watcher
        {
            // Made again: the old watch went with the old folder.
            let _ = w.unwatch(&f.dir);
            notifier.covers[i] = None;
        }
        let covered = notifier.cover(i, f, say);
        if gone[i] {
            gone[i] = false;
            say(format!("{} is there now: watched", f.dir.display()));
        }
        // Newly watched: what landed before the watch (a folder the
        // notifications do not cover is scanned on every tick anyway).
        if covered {
            st.scan_folder(i, &f.dir);
        }
    }
}
