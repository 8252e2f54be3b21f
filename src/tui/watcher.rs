//! The dashboard's watched folders at work: the stored list read and
//! changed here, one watch task per folder while this dashboard runs the
//! imports, their complete files sent through the front door (as lines of
//! their paths, into the folder's group), and each file recorded in the
//! watch ledger once its job exists, so a restart imports only what is new
//! or changed.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};
use tokio::task::JoinHandle;

use super::app::App;
use super::effect::FolderAsk;
use super::pane::folders::FolderRow;
use crate::engine::Level;
use crate::intake::{Fate, Item};
use crate::text::sanitize;
use crate::watch::{Folder, FolderList, LEDGER_FILE, LIST_FILE, Ledger, Ready, Stamp, WatchOptions};

/// How long a file must stay unchanged to be taken.
const SETTLE: Duration = Duration::from_secs(3);
/// Between scans where notifications are unavailable.
const SCAN_EVERY: Duration = Duration::from_secs(10);

/// What the watch tasks send the event loop.
#[derive(Debug)]
pub(super) enum Watched {
    /// A file is complete: from the tasks of `generation`, under the folder at `dir`.
    Ready {
        /// The tasks' generation (older ones' files are dropped).
        generation: u64,
        /// The folder's place in the list of that generation.
        folder: usize,
        /// The file.
        ready: Ready,
    },
    /// Something to tell (notifications unavailable, the watch started).
    Note(String),
}

/// A file handed to the front door, not decided yet.
struct Pending {
    dir: PathBuf,
    group: String,
    stamp: Stamp,
}

/// The stored list, the tasks watching it, and the files on their way.
pub(super) struct Watcher {
    data_dir: PathBuf,
    profile: String,
    list: Result<FolderList, String>,
    ledgers: HashMap<String, Arc<Mutex<Ledger>>>,
    tasks: Vec<JoinHandle<()>>,
    generation: u64,
    tx: UnboundedSender<Watched>,
    pending: HashMap<String, Pending>,
    refused: HashMap<(PathBuf, String), usize>,
}

/// Locks, carrying on after a panic elsewhere (the ledger stays usable).
fn locked<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// `~/x` is the home folder's `x`; quotes around the whole path (as a
/// terminal pastes a dropped folder) are not part of it.
fn expand(typed: &str) -> PathBuf {
    let typed = typed.trim();
    let typed =
        ['\'', '"'].iter().find_map(|q| typed.strip_prefix(*q).and_then(|t| t.strip_suffix(*q))).unwrap_or(typed);
    match (typed.strip_prefix("~/"), directories::BaseDirs::new()) {
        (Some(rest), Some(b)) => b.home_dir().join(rest),
        _ if typed == "~" => directories::BaseDirs::new().map_or_else(|| typed.into(), |b| b.home_dir().to_path_buf()),
        _ => PathBuf::from(typed),
    }
}

impl Watcher {
    /// Reads the stored list of `profile` in `data_dir`; the tasks start
    /// with [`Watcher::start`].
    pub fn new(data_dir: &Path, profile: &str) -> (Watcher, UnboundedReceiver<Watched>) {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let list = FolderList::load(&data_dir.join(LIST_FILE)).map_err(|e| e.to_string());
        let w = Watcher {
            data_dir: data_dir.to_path_buf(),
            profile: profile.to_string(),
            list,
            ledgers: HashMap::new(),
            tasks: Vec::new(),
            generation: 0,
            tx,
            pending: HashMap::new(),
            refused: HashMap::new(),
        };
        (w, rx)
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
            let imported = self.ledger(&f.group).map(|l| locked(&l).count_under(&f.dir)).unwrap_or(0);
            let waiting = self.pending.values().filter(|p| p.dir == f.dir && p.group == f.group).count();
            let refused = self.refused.get(&(f.dir.clone(), f.group.clone())).copied().unwrap_or(0);
            rows.push(FolderRow {
                dir: f.dir.clone(),
                group: sanitize(&f.group),
                recursive: f.recursive,
                imported,
                waiting,
                refused,
            });
        }
        app.folders = rows;
        app.dirty = true;
    }

    /// (Re)starts a task per stored folder; `why_not` says why they must
    /// not run now (another process owns the job store, no bucket).
    pub fn start(&mut self, app: &mut App, why_not: Option<String>) {
        for t in self.tasks.drain(..) {
            t.abort();
        }
        self.generation += 1;
        let folders = self.folders();
        app.folders_idle = match (&self.list, why_not) {
            (Err(e), _) => Some(e.clone()),
            (Ok(_), Some(why)) if !folders.is_empty() => Some(why),
            _ => None,
        };
        if app.folders_idle.is_none() {
            for (i, f) in folders.iter().enumerate() {
                if let Err(e) = self.spawn(i, f) {
                    app.note(Level::Error, format!("watch: {}: {e}", sanitize(&f.dir.display().to_string())));
                }
            }
        }
        self.show(app);
    }

    fn spawn(&mut self, i: usize, f: &Folder) -> Result<(), String> {
        let ledger = self.ledger(&f.group)?;
        let opts = WatchOptions {
            folders: vec![f.watched().map_err(|e| e.to_string())?],
            settle: SETTLE,
            scan_every: SCAN_EVERY,
            poll: false,
        };
        let (ready_tx, mut ready_rx) = tokio::sync::mpsc::unbounded_channel::<Ready>();
        let (tx, generation) = (self.tx.clone(), self.generation);
        let say = {
            let tx = tx.clone();
            move |s: String| {
                let _ = tx.send(Watched::Note(format!("watch: {s}")));
            }
        };
        let run = tokio::spawn(crate::watch::run(opts, ledger, ready_tx, say));
        let forward = tokio::spawn(async move {
            while let Some(ready) = ready_rx.recv().await {
                if tx.send(Watched::Ready { generation, folder: i, ready }).is_err() {
                    break;
                }
            }
        });
        self.tasks.extend([run, forward]);
        Ok(())
    }

    /// Changes the stored list as the view asked, then watches the new list.
    pub fn ask(&mut self, app: &mut App, ask: FolderAsk, why_not: Option<String>) {
        let list = match &mut self.list {
            Ok(l) => l,
            Err(e) => {
                app.set_status(format!("the watched folders cannot be changed: {e}"));
                return;
            }
        };
        let said = match ask {
            FolderAsk::Add { dir, group, recursive } => {
                match Folder::new(&expand(&dir), &group, &self.profile, recursive, &[], &[]) {
                    Err(e) => Err(e.to_string()),
                    Ok(f) => {
                        let shown = sanitize(&f.dir.display().to_string());
                        match list.add(f) {
                            Ok(true) => Ok(format!("watching {shown} into {}", sanitize(&group))),
                            Ok(false) => Ok(format!("{shown} is watched into {} already", sanitize(&group))),
                            Err(e) => Err(e.to_string()),
                        }
                    }
                }
            }
            FolderAsk::Remove(dir) => match list.remove(&dir, &self.profile) {
                Ok(gone) if gone.is_empty() => Err("that folder is not watched".to_string()),
                Ok(_) => Ok(format!("no longer watching {}", sanitize(&dir.display().to_string()))),
                Err(e) => Err(e.to_string()),
            },
        };
        match said {
            Ok(s) => {
                if let super::app::Mode::Folders(p) = &mut app.mode {
                    p.adding = None;
                }
                app.note(Level::Info, s.clone());
                app.set_status(s);
                self.start(app, why_not);
            }
            Err(e) => {
                app.set_status(format!("not changed: {e}"));
                app.dirty = true;
            }
        }
    }

    /// Takes a ready file (and any others waiting): the paths of each group,
    /// to send through the front door; drops files of older tasks and files
    /// already on their way.
    pub fn take(
        &mut self,
        first: Watched,
        more: &mut UnboundedReceiver<Watched>,
        app: &mut App,
    ) -> Vec<(String, Vec<String>)> {
        let folders = self.folders();
        let mut by_group: Vec<(String, Vec<String>)> = Vec::new();
        let mut next = Some(first);
        while let Some(w) = next.take().or_else(|| more.try_recv().ok()) {
            let (generation, folder, ready) = match w {
                Watched::Note(s) => {
                    app.note(Level::Info, s);
                    continue;
                }
                Watched::Ready { generation, folder, ready } => (generation, folder, ready),
            };
            let Some(f) = folders.get(folder).filter(|_| generation == self.generation) else { continue };
            let text = ready.path.to_string_lossy().into_owned();
            if text.contains(['\n', '\r', '\t']) || text.trim() != text {
                let shown = sanitize(&text);
                app.note(
                    Level::Warn,
                    format!("watch: {shown}: skipped: its name holds a tab, a line break or edge spaces"),
                );
                continue;
            }
            if self.pending.get(&text).is_some_and(|p| p.stamp == ready.stamp && p.group == f.group) {
                continue;
            }
            self.pending
                .insert(text.clone(), Pending { dir: f.dir.clone(), group: f.group.clone(), stamp: ready.stamp });
            match by_group.iter_mut().find(|(g, _)| *g == f.group) {
                Some((_, paths)) => paths.push(text),
                None => by_group.push((f.group.clone(), vec![text])),
            }
        }
        if !by_group.is_empty() {
            self.show(app);
        }
        by_group
    }

    /// Takes what the front door did with watched files: each one whose job
    /// exists is recorded in the ledger, and every one gets a log line.
    pub fn done(&mut self, app: &mut App, items: Vec<Item>) {
        // A line's items come together (a split clip's parts): the file is
        // recorded once, and each part told.
        let mut lines = Vec::new();
        for it in items {
            let Some(p) = self.pending.get(&it.line) else { continue };
            let p = Pending { dir: p.dir.clone(), group: p.group.clone(), stamp: p.stamp };
            lines.push(it.line.clone());
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
            let line = if keep {
                match self
                    .ledger(&p.group)
                    .and_then(|l| locked(&l).record(Path::new(&it.line), p.stamp).map_err(|e| e.to_string()))
                {
                    Ok(()) => format!("watch: {shown}: {what}"),
                    Err(e) => format!("watch: {shown}: {what}; not recorded ({e}): a restart checks it again"),
                }
            } else {
                if !lines[..lines.len() - 1].contains(&it.line) {
                    *self.refused.entry((p.dir, p.group)).or_default() += 1;
                }
                format!("watch: {shown}: {what}")
            };
            app.note(level, line);
        }
        for l in lines {
            self.pending.remove(&l);
        }
        self.show(app);
    }
}

#[cfg(test)]
mod tests {
    use super::expand;

    #[test]
    fn a_tilde_is_the_home_folder() {
        let home = directories::BaseDirs::new().unwrap().home_dir().to_path_buf();
        assert_eq!(expand("~/renders"), home.join("renders"));
        assert_eq!(expand("~"), home);
        assert_eq!(expand("/srv/x"), std::path::PathBuf::from("/srv/x"));
        assert_eq!(expand("~user/x"), std::path::PathBuf::from("~user/x"));
        assert_eq!(expand("'/srv/my renders'"), std::path::PathBuf::from("/srv/my renders"));
        assert_eq!(expand(" \"~/x\" "), home.join("x"));
    }
}
