//! The dashboard's file work, off the event loop: one task takes chores in
//! the order they were asked for, does each on a blocking thread, and
//! answers with a message. The event loop never waits on a disk (a config
//! on a hung network mount, an fsync of the draft, a large export).

use std::path::PathBuf;

use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

use crate::config::{Config, ConfigError, LoadedConfig, PresetChange, SaveError, save_presets};
use crate::export::{ExportError, Exporter, Format};
use crate::store::{Filter, History, StoreError};

/// File work the dashboard asks for.
#[derive(Debug)]
pub enum Chore {
    /// Apply a preset change to the config file.
    SavePreset(PresetChange),
    /// Read the config file again; `resume` when it is for lifting a pause.
    ReloadConfig {
        /// The reload is the first step of a resume.
        resume: bool,
    },
    /// Write the jobs this filter shows to a new CSV file in the exports dir.
    Export(Filter),
    /// Keep the URL editor's unsent lines as the draft.
    SaveDraft(String),
}

/// What came of a chore.
#[derive(Debug)]
pub enum Done {
    /// The preset change, and the config as saved.
    PresetSaved(PresetChange, Result<LoadedConfig, SaveError>),
    /// The config as read again.
    ConfigReloaded {
        /// The reload was the first step of a resume.
        resume: bool,
        /// The config, or why it could not be read.
        result: Result<LoadedConfig, ConfigError>,
    },
    /// The export's file and how many jobs it holds, or why it failed.
    Exported(Result<(PathBuf, usize), ExportFailed>),
    /// Whether the draft was saved.
    DraftSaved(std::io::Result<()>),
}

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportFailed {
    /// The job store could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The file could not be written.
    #[error(transparent)]
    Write(#[from] ExportError),
}

impl From<std::io::Error> for ExportFailed {
    fn from(e: std::io::Error) -> Self {
        ExportFailed::Write(ExportError::Io(e))
    }
}

/// Where the chores read and write.
#[derive(Debug, Clone)]
pub struct Places {
    /// The job store (exports read it).
    pub store: PathBuf,
    /// The legacy journal beside it.
    pub legacy: PathBuf,
    /// Where exports go.
    pub exports: PathBuf,
    /// The draft file.
    pub draft: PathBuf,
}

/// What the chore task keeps between chores.
struct State {
    /// The config as last loaded or saved (a preset change applies to it).
    loaded: LoadedConfig,
    places: Places,
    /// Opened at the first export.
    history: Option<History>,
}

impl State {
    fn run(&mut self, chore: Chore) -> Done {
        match chore {
            Chore::SavePreset(change) => {
                let result = save_presets(&self.loaded, &change);
                if let Ok(saved) = &result {
                    tracing::info!("saved presets to {}", saved.path.display());
                    self.loaded = saved.clone();
                }
                Done::PresetSaved(change, result)
            }
            Chore::ReloadConfig { resume } => {
                let result = Config::load(&self.loaded.path);
                if let Ok(loaded) = &result {
                    self.loaded = loaded.clone();
                }
                Done::ConfigReloaded { resume, result }
            }
            Chore::Export(filter) => Done::Exported(self.export(&filter)),
            Chore::SaveDraft(text) => Done::DraftSaved(super::draft::save(&self.places.draft, &text)),
        }
    }

    /// Streams the rows into a temporary file renamed into place when
    /// whole: one row in memory at a time, and no half-written export.
    fn export(&mut self, filter: &Filter) -> Result<(PathBuf, usize), ExportFailed> {
        if self.history.is_none() {
            self.history = Some(History::open(&self.places.store, Some(&self.places.legacy))?);
        }
        let history = self.history.as_ref().expect("opened above");
        let stamp = jiff::Timestamp::now().strftime("%Y%m%d-%H%M%S");
        let path = self.places.exports.join(format!("seedance-assets-{stamp}.csv"));
        let mut n = 0;
        crate::config::atomic_write_stream(&path, |w| {
            let mut out = Exporter::new(Format::Csv, w);
            history.for_each(filter, |row| out.push_row(&row).map_err(ExportFailed::from))?;
            n = out.finish()?;
            Ok::<(), ExportFailed>(())
        })?;
        Ok((path, n))
    }
}

/// The chore task: ask with [`Chores::ask`], answers come on the receiver
/// [`Chores::start`] returns.
pub struct Chores {
    tx: UnboundedSender<Chore>,
    task: tokio::task::JoinHandle<()>,
}

impl Chores {
    /// Starts the task with the config as loaded.
    pub fn start(loaded: LoadedConfig, places: Places) -> (Chores, UnboundedReceiver<Done>) {
        let (tx, mut rx) = unbounded_channel::<Chore>();
        let (done_tx, done_rx) = unbounded_channel();
        let task = tokio::spawn(async move {
            let mut state = Some(State { loaded, places, history: None });
            while let Some(chore) = rx.recv().await {
                let Some(mut s) = state.take() else { break };
                let Ok((s, done)) = tokio::task::spawn_blocking(move || {
                    let done = s.run(chore);
                    (s, done)
                })
                .await
                else {
                    break;
                };
                state = Some(s);
                if done_tx.send(done).is_err() {
                    break;
                }
            }
        });
        (Chores { tx, task }, done_rx)
    }

    /// Queues a chore (after every chore asked before it).
    pub fn ask(&self, chore: Chore) {
        let _ = self.tx.send(chore);
    }

    /// Waits for every chore asked so far to be done (at quit).
    pub async fn finish(self) {
        drop(self.tx);
        let _ = self.task.await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn places(dir: &std::path::Path) -> Places {
        Places {
            store: dir.join("jobs.db"),
            legacy: dir.join("journal.jsonl"),
            exports: dir.join("exports"),
            draft: dir.join("draft.txt"),
        }
    }

    #[tokio::test]
    async fn chores_are_done_in_order_and_answered() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("config.toml");
        std::fs::write(&cfg, "[[presets]]\nname = \"a\"\ngroup_id = \"g\"\n").unwrap();
        let loaded = Config::load(&cfg).unwrap();
        let (chores, mut done) = Chores::start(loaded, places(dir.path()));
        chores.ask(Chore::SaveDraft("https://e.com/a.png\n".into()));
        chores.ask(Chore::SavePreset(PresetChange::Delete("a".into())));
        chores.ask(Chore::ReloadConfig { resume: true });
        chores.finish().await;
        let Some(Done::DraftSaved(Ok(()))) = done.recv().await else { panic!("the draft first") };
        assert_eq!(std::fs::read_to_string(dir.path().join("draft.txt")).unwrap(), "https://e.com/a.png\n");
        let Some(Done::PresetSaved(_, Ok(saved))) = done.recv().await else { panic!("then the preset") };
        assert!(saved.config.presets.is_empty());
        let Some(Done::ConfigReloaded { resume: true, result: Ok(again) }) = done.recv().await else {
            panic!("then the reload")
        };
        assert!(again.config.presets.is_empty(), "the reload reads what the save wrote");
    }
}
