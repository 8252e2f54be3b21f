//! The dashboard's watched folders at work: the stored list read (again
//! whenever its file changes, so `watch add|remove` in a shell is followed)
//! and changed here, one watch task per folder while this dashboard runs
//! the imports, their complete files sent through the front door (as lines
//! of their paths, into the folder's group), and each file recorded in the
//! watch ledger once its job exists, so a restart imports only what is new
//! or changed.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};
use tokio::task::JoinHandle;

use super::app::{App, Mode};
use super::effect::FolderAsk;
use super::pane::folders::FolderRow;
use crate::engine::Level;
use crate::intake::{Fate, Item};
use crate::text::sanitize;
use crate::watch::{
    Added, Folder, FolderList, LEDGER_FILE, LIST_FILE, Ledger, Ready, Stamp, WatchOptions, rules_text, typed_folder,
};

/// How long a file must stay unchanged to be taken.
const SETTLE: Duration = Duration::from_secs(3);
/// Between looks at each folder (gone, back) and scans where notifications
/// are unavailable.
const SCAN_EVERY: Duration = Duration::from_secs(10);

/// What the watch tasks send the event loop.
#[derive(Debug)]
pub(super) enum Watched {
    /// A file is complete.
    Ready {
        /// The task that found it (a stopped task's files are dropped).
        task: u64,
        /// The file.
        ready: Ready,
    },
    /// Something to tell (notifications unavailable, a folder gone or back).
    Note(String),
}

/// A file handed to the front door, not decided yet, or refused.
#[derive(Debug, Clone)]
struct Handed {
    folder: Folder,
    stamp: Stamp,
}

/// One folder's watch.
struct Task {
    folder: Folder,
    handles: [JoinHandle<()>; 2],
}

impl Drop for Task {
    fn drop(&mut self) {
        for h in &self.handles {
            h.abort();
        }
    }
}

/// The stored list, the tasks watching it, and the files on their way.
pub(super) struct Watcher {
    data_dir: PathBuf,
    profile: String,
    list: Result<FolderList, String>,
    /// The list file's size and time when it was read.
    list_stamp: Option<(u64, SystemTime)>,
    ledgers: HashMap<String, Arc<Mutex<Ledger>>>,
    tasks: HashMap<u64, Task>,
    next_task: u64,
    tx: UnboundedSender<Watched>,
    /// Handed over, not decided: by path.
    pending: HashMap<String, Handed>,
    /// Refused in this run, with the content refused: by path.
    refused: HashMap<String, Handed>,
}

/// Locks, carrying on after a panic elsewhere (the ledger stays usable).
fn locked<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Watcher {
    /// Reads the stored list of `profile` in `data_dir`; the tasks start
    /// with [`Watcher::start`].
    pub fn new(data_dir: &Path, profile: &str) -> (Watcher, UnboundedReceiver<Watched>) {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let mut w = Watcher {
            data_dir: data_dir.to_path_buf(),
            profile: profile.to_string(),
            list: Err(String::new()),
            list_stamp: None,
            ledgers: HashMap::new(),
            tasks: HashMap::new(),
            next_task: 0,
            tx,
            pending: HashMap::new(),
            refused: HashMap::new(),
        };
        w.load();
        (w, rx)
    }

    fn list_path(&self) -> PathBuf {
        self.data_dir.join(LIST_FILE)
    }

    fn file_stamp(&self) -> Option<(u64, SystemTime)> {
        std::fs::metadata(self.list_path()).ok().map(|m| (m.len(), m.modified().unwrap_or(SystemTime::UNIX_EPOCH)))
    }

    fn load(&mut self) {
        self.list_stamp = self.file_stamp();
        self.list = FolderList::load(&self.list_path()).map_err(|e| e.to_string());
    }

    fn folders(&self) -> Vec<Folder> {
        self.list.as_ref().map(|l| l.of_profile(&self.profile).cloned().collect()).unwrap_or_default()
    }

    fn ledger(&mut self, group: &str) -> Result<Arc<Mutex<Ledger>>, String> {
        if let Some(l) = self.ledgers.get(group) {
            return Ok(l.clone());
        }
        let l = Ledger::open(&self.data_dir.join(LEDGER_FILE), group).map_err(|e| e.to_string())?;
        let l = Arc::new(Mutex::new(l));
        self.ledgers.insert(group.to_string(), l.clone());
        Ok(l)
    }

    /// The rows the view shows, counts included.
    pub fn show(&mut self, app: &mut App) {
        let mut rows = Vec::new();
        for f in self.folders() {
            let jobs = match (self.ledger(&f.group), f.watched()) {
                (Ok(l), Ok(w)) => locked(&l).count_under(&f.dir, &w.rules),
                _ => 0,
            };
            let mine = |h: &Handed| h.folder == f;
            rows.push(FolderRow {
                dir: f.dir.clone(),
                group: sanitize(&f.group),
                recursive: f.recursive,
                rules: rules_text(&f),
                jobs,
                waiting: self.pending.values().filter(|h| mine(h)).count(),
                refused: self.refused.values().filter(|h| mine(h)).count(),
            });
        }
        app.folders = rows;
        app.dirty = true;
    }

    /// Watches the stored folders (each task kept while its folder is
    /// unchanged); `why_not` says why they must not run now (another
    /// process owns the job store, no bucket).
    pub fn start(&mut self, app: &mut App, why_not: Option<String>) {
        let folders = self.folders();
        app.folders_idle = match (&self.list, why_not) {
            (Err(e), _) => Some(e.clone()),
            (Ok(_), Some(why)) if !folders.is_empty() => Some(why),
            _ => None,
        };
        let wanted: Vec<Folder> = if app.folders_idle.is_some() { Vec::new() } else { folders };
        self.tasks.retain(|_, t| wanted.contains(&t.folder));
        for f in wanted {
            if self.tasks.values().any(|t| t.folder == f) {
                continue;
            }
            if let Err(e) = self.spawn(&f) {
                app.note(Level::Error, format!("watch: {}: {e}", sanitize(&f.dir.display().to_string())));
            }
        }
        self.show(app);
    }

    /// Reads the list again if its file changed (a `watch add` or `remove`
    /// in a shell), and watches what it now holds.
    pub fn refresh(&mut self, app: &mut App, why_not: Option<String>) {
        if self.file_stamp() != self.list_stamp {
            self.load();
            app.note(Level::Info, "watch: the list of watched folders changed on disk: watching it as it is now");
            self.start(app, why_not);
        }
    }

    fn spawn(&mut self, f: &Folder) -> Result<(), String> {
        let ledger = self.ledger(&f.group)?;
        let opts = WatchOptions {
            folders: vec![f.watched().map_err(|e| e.to_string())?],
            settle: SETTLE,
            scan_every: SCAN_EVERY,
            poll: false,
        };
        let (ready_tx, mut ready_rx) = tokio::sync::mpsc::unbounded_channel::<Ready>();
        self.next_task += 1;
        let (tx, task) = (self.tx.clone(), self.next_task);
        let say = {
            let tx = tx.clone();
            move |s: String| {
                let _ = tx.send(Watched::Note(format!("watch: {}", sanitize(&s))));
            }
        };
        let run = tokio::spawn(crate::watch::run(opts, ledger, ready_tx, say));
        let forward = tokio::spawn(async move {
            while let Some(ready) = ready_rx.recv().await {
                if tx.send(Watched::Ready { task, ready }).is_err() {
                    break;
                }
            }
        });
        self.tasks.insert(task, Task { folder: f.clone(), handles: [run, forward] });
        Ok(())
    }

    /// Changes the stored list as the view asked (read again first, so a
    /// change made in a shell is kept), then watches the new list.
    pub fn ask(&mut self, app: &mut App, ask: FolderAsk, why_not: Option<String>) {
        self.load();
        let profile = self.profile.clone();
        let idle = why_not.is_some();
        let when = if idle { "stored: watched once this dashboard runs the imports" } else { "watched" };
        let said = match (&mut self.list, ask) {
            (Err(e), _) => Err(format!("the watched folders cannot be changed: {e}")),
            (Ok(list), FolderAsk::Add { dir, group, recursive }) => {
                Folder::new(&typed_folder(&dir), &group, &profile, recursive, &[], &[])
                    .map_err(|e| e.to_string())
                    .and_then(|f| {
                        let shown = sanitize(&f.dir.display().to_string());
                        let into = sanitize(&group);
                        match list.add(f) {
                            Ok(Added::New) => Ok(format!("{shown} into {into}: {when}")),
                            Ok(Added::Same) => Ok(format!("{shown} into {into}: {when} already")),
                            Ok(Added::Replaced(old)) => {
                                let was = rules_text(&old);
                                let was = if was.is_empty() { "every media file".to_string() } else { was };
                                Ok(format!("{shown} into {into}: {when}, every media file now (before: {was})"))
                            }
                            Err(e) => Err(e.to_string()),
                        }
                    })
            }
            (Ok(list), FolderAsk::Remove(dir)) => match list.remove(&dir, &profile) {
                Ok(gone) if gone.is_empty() => Err("that folder is not watched (any more)".to_string()),
                Ok(_) => Ok(format!("{}: no longer watched", sanitize(&dir.display().to_string()))),
                Err(e) => Err(e.to_string()),
            },
        };
        self.list_stamp = self.file_stamp();
        if let Mode::Folders(p) = &mut app.mode {
            match &said {
                Ok(_) => {
                    p.adding = None;
                    p.error = None;
                }
                Err(e) => p.error = Some(format!("not changed: {e}")),
            }
        }
        match said {
            Ok(s) => {
                let s = match &why_not {
                    Some(why) => format!("{s} (now {why})"),
                    None => s,
                };
                app.note(Level::Info, format!("watch: {s}"));
                app.set_status(s);
            }
            Err(e) => app.set_status(format!("not changed: {e}")),
        }
        // The list as read just now (a shell may have changed it) is what
        // is watched, whether this change was made or not.
        self.start(app, why_not);
    }

    /// Takes a ready file (and any others waiting): the paths of each group,
    /// to send through the front door. Drops files of stopped tasks, files
    /// on their way, and files refused in this run that have not changed.
    pub fn take(
        &mut self,
        first: Watched,
        more: &mut UnboundedReceiver<Watched>,
        app: &mut App,
    ) -> Vec<(String, Vec<String>)> {
        let mut by_group: Vec<(String, Vec<String>)> = Vec::new();
        let mut next = Some(first);
        let mut changed = false;
        while let Some(w) = next.take().or_else(|| more.try_recv().ok()) {
            let (task, ready) = match w {
                Watched::Note(s) => {
                    app.note(Level::Info, s);
                    continue;
                }
                Watched::Ready { task, ready } => (task, ready),
            };
            let Some(folder) = self.tasks.get(&task).map(|t| t.folder.clone()) else { continue };
            let text = ready.path.to_string_lossy().into_owned();
            let same = |h: Option<&Handed>| h.is_some_and(|h| h.stamp == ready.stamp && h.folder == folder);
            let unreadable = ready.path.to_str().is_none();
            if same(self.pending.get(&text)) || same(self.refused.get(&text)) {
                continue;
            }
            changed = true;
            let handed = Handed { folder: folder.clone(), stamp: ready.stamp };
            if unreadable || text.contains(['\n', '\r', '\t']) || text.trim() != text {
                let shown = sanitize(&text);
                let why = if unreadable {
                    "its name is not valid UTF-8 (rename it to import it)"
                } else {
                    "its name holds a tab, a line break or edge spaces"
                };
                app.note(Level::Warn, format!("watch: {shown}: skipped: {why}"));
                self.refused.insert(text, handed);
                continue;
            }
            self.refused.remove(&text);
            self.pending.insert(text.clone(), handed);
            match by_group.iter_mut().find(|(g, _)| *g == folder.group) {
                Some((_, paths)) => paths.push(text),
                None => by_group.push((folder.group.clone(), vec![text])),
            }
        }
        if changed {
            self.show(app);
        }
        by_group
    }

    /// Takes what the front door did with watched files: each one whose job
    /// exists is recorded in the ledger, and every one gets a log line.
    pub fn done(&mut self, app: &mut App, items: Vec<Item>) {
        // A line's items come together (a split clip's parts): the file is
        // recorded once, and each part told.
        let mut lines: Vec<String> = Vec::new();
        for it in items {
            let Some(h) = self.pending.get(&it.line).cloned() else { continue };
            let first = !lines.contains(&it.line);
            if first {
                lines.push(it.line.clone());
            }
            let shown = sanitize(&it.line);
            let note = it.note.as_deref().map(|n| format!(" ({})", sanitize(n))).unwrap_or_default();
            let (level, what, keep) = match &it.fate {
                Fate::Created(id) => (Level::Info, format!("queued as job #{id}{note}"), true),
                Fate::Existing { job, .. } => {
                    (Level::Info, format!("exists already as job #{} ({})", job.id, job.state), true)
                }
                Fate::Refused(why) => (Level::Warn, format!("refused: {}", sanitize(why)), false),
                Fate::Held { reason, .. } => {
                    (Level::Warn, format!("not checked, not sent: {}", sanitize(reason)), false)
                }
                Fate::Create { .. } => continue,
            };
            let recorded = if keep {
                self.ledger(&h.folder.group)
                    .and_then(|l| locked(&l).record(Path::new(&it.line), h.stamp).map_err(|e| e.to_string()))
            } else {
                self.refused.insert(it.line.clone(), h);
                Ok(())
            };
            let line = match recorded {
                Ok(()) => format!("watch: {shown}: {what}"),
                Err(e) => format!("watch: {shown}: {what}; not recorded ({e}): a restart checks it again"),
            };
            app.note(level, line);
        }
        for l in lines {
            self.pending.remove(&l);
        }
        self.show(app);
    }
}
