//! The pipeline both front ends run: read lines into items (parse, expand,
//! cheap checks), decide each one (preflight, then the policy), and send the
//! ones to create to the engine.

use std::collections::HashMap;
use std::io::BufRead;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::{Stream, StreamExt};

use super::local;
use super::parse::{ImportDefaults, content_lines, is_skipped, parse_line};
use super::plan::{Fate, Item, Origin};
use super::policy::{Decision, Policy};
use crate::api::AssetType;
use crate::engine::{EngineHandle, NewJob};
use crate::preflight::{MediaLimits, Preflight, Target, Verdict};
use crate::storage::Storage;

/// One input: its label (`argument`, `stdin`, a file name, `editor`) and
/// its lines.
pub struct Source {
    /// What its line numbers are reported under.
    pub label: String,
    /// Its lines.
    pub text: Text,
}

/// Where an input's lines come from.
pub enum Text {
    /// Held whole (arguments, the editor's text).
    Inline(String),
    /// Read a line at a time as the intake goes (a file, stdin), so an
    /// input of any length costs a few lines of memory.
    Stream(Box<dyn BufRead + Send>),
}

impl Source {
    /// An input held whole.
    pub fn inline(label: impl Into<String>, text: impl Into<String>) -> Source {
        Source { label: label.into(), text: Text::Inline(text.into()) }
    }

    /// An input read as the intake goes.
    pub fn stream(label: impl Into<String>, reader: impl BufRead + Send + 'static) -> Source {
        Source { label: label.into(), text: Text::Stream(Box::new(reader)) }
    }
}

/// Items read ahead of the checks: reading stays this far ahead of them,
/// whatever the input's length.
const READ_AHEAD: usize = 1024;

/// How long a URL's verdict is reused (the dashboard checks lines as they
/// are typed; Enter then acts on what was shown, without asking again).
const VERDICT_TTL: Duration = Duration::from_secs(600);

/// Preflight with a memory of URL verdicts, shared by the dashboard's
/// preview and its submissions.
#[derive(Debug)]
pub struct Checker {
    preflight: Arc<Preflight>,
    seen: Mutex<HashMap<(String, AssetType), (Instant, Verdict)>>,
}

impl Checker {
    /// A checker over `preflight`.
    pub fn new(preflight: Preflight) -> Checker {
        Checker { preflight: Arc::new(preflight), seen: Mutex::new(HashMap::new()) }
    }

    /// Remembers a URL's verdict (one the dashboard already showed, say), so
    /// it is acted on without asking again.
    pub fn remember(&self, url: &str, asset_type: AssetType, verdict: Verdict) {
        if let Ok(mut seen) = self.seen.lock() {
            seen.insert((url.to_string(), asset_type), (Instant::now(), verdict));
        }
    }

    /// The verdict already known for a URL line, if any.
    pub fn known(&self, url: &str, asset_type: AssetType) -> Option<Verdict> {
        let seen = self.seen.lock().ok()?;
        seen.get(&(url.to_string(), asset_type)).filter(|(at, _)| at.elapsed() < VERDICT_TTL).map(|(_, v)| v.clone())
    }

    /// The verdict for a job's file or URL (a URL's is remembered).
    pub async fn verdict(&self, job: &NewJob, path: Option<&PathBuf>) -> Verdict {
        if let Some(path) = path {
            return self.preflight.check(&Target::Local(path.clone()), job.asset_type).await.verdict;
        }
        if let Some(v) = self.known(&job.url, job.asset_type) {
            return v;
        }
        let v = self.preflight.check(&Target::parse(&job.url), job.asset_type).await.verdict;
        self.remember(&job.url, job.asset_type, v.clone());
        v
    }
}

/// Everything a run of the front door needs.
#[derive(Debug, Clone)]
pub struct Intake {
    /// What applies to lines that do not say otherwise.
    pub defaults: ImportDefaults,
    /// How verdicts are acted on.
    pub policy: Policy,
    /// Preflight (`None` when it is off).
    pub checker: Option<Arc<Checker>>,
    /// The bucket local files go through, or why there is none (shown on
    /// each local line).
    pub storage: Result<Storage, Arc<dyn std::error::Error + Send + Sync>>,
    /// The size limits checked from `stat` before a file is read.
    pub limits: MediaLimits,
    /// Directories are searched below their top level.
    pub recursive: bool,
    /// The profile every job is created with.
    pub profile: String,
    /// Items checked at once.
    pub concurrency: usize,
    /// The conform step, when files that break the limits are to be made
    /// to pass (`--conform`).
    pub conform: Option<Arc<crate::conform::Conformer>>,
    /// Where the progress of items being conformed is told.
    pub progress: Option<tokio::sync::mpsc::UnboundedSender<super::conform::Conforming>>,
}

impl Intake {
    /// Reads every line into items, in input order: parsed URLs and typed,
    /// sized local files wait to be decided (`Fate::Create`); what cannot be
    /// imported is `Fate::Refused` with its reason. Lines are read on a
    /// blocking thread that stays [`READ_AHEAD`] items ahead of the
    /// stream's reader.
    pub fn items(self: &Arc<Self>, sources: Vec<Source>) -> impl Stream<Item = Item> + Send + 'static {
        let (tx, rx) = tokio::sync::mpsc::channel(READ_AHEAD);
        let me = Arc::clone(self);
        tokio::task::spawn_blocking(move || me.read_blocking(sources, &mut |item| tx.blocking_send(item).is_ok()));
        futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|item| (item, rx)) })
    }

    /// Every item of [`Intake::items`], in memory (for short inputs: the
    /// dashboard's editor).
    pub async fn read(self: &Arc<Self>, sources: Vec<Source>) -> Vec<Item> {
        self.items(sources).collect().await
    }

    /// Reads the sources' lines into items, handing each to `emit`; stops
    /// when `emit` says no one is listening.
    fn read_blocking(&self, sources: Vec<Source>, emit: &mut dyn FnMut(Item) -> bool) {
        let mut n = 0u64;
        for src in sources {
            let at = |line: usize| Origin { label: src.label.clone(), line };
            let mut reader = match src.text {
                Text::Inline(text) => {
                    for (line_no, line) in content_lines(&text) {
                        if !self.line_items(at(line_no), line, &mut n, emit) {
                            return;
                        }
                    }
                    continue;
                }
                Text::Stream(reader) => reader,
            };
            let mut buf = Vec::new();
            for line_no in 1.. {
                buf.clear();
                let refused = |why: String, line: String| Item {
                    origin: at(line_no),
                    line,
                    file: None,
                    fate: Fate::Refused(why),
                    hash_from: None,
                    conformable: false,
                    note: None,
                };
                let go_on = match reader.read_until(b'\n', &mut buf) {
                    Ok(0) => break,
                    Ok(_) => match std::str::from_utf8(&buf) {
                        Ok(l) => {
                            let l = if line_no == 1 { l.strip_prefix('\u{FEFF}').unwrap_or(l) } else { l };
                            let l = l.trim();
                            is_skipped(l) || self.line_items(at(line_no), l, &mut n, emit)
                        }
                        Err(_) => {
                            let line = String::from_utf8_lossy(&buf).trim().to_string();
                            emit(refused("the line is not valid UTF-8 (save the file as UTF-8)".into(), line))
                        }
                    },
                    Err(e) => {
                        emit(refused(
                            format!("cannot read on: {e}; this line and the rest were not imported"),
                            String::new(),
                        ));
                        break;
                    }
                };
                if !go_on {
                    return;
                }
            }
        }
    }

    /// The items of one line (a directory or glob gives several); false
    /// when no one listens any more.
    fn line_items(&self, origin: Origin, line: &str, n: &mut u64, emit: &mut dyn FnMut(Item) -> bool) -> bool {
        let item = |file: Option<String>, fate: Fate, hash_from: Option<PathBuf>| Item {
            origin: origin.clone(),
            line: line.to_string(),
            file,
            fate,
            hash_from,
            conformable: false,
            note: None,
        };
        if crate::local::is_local_line(line) {
            if let Err(why) = &self.storage {
                return emit(item(None, Fate::Refused(why.to_string()), None));
            }
            let convert = self.conform.is_some();
            for part in local::read_line(line, &self.defaults, *n + 1, self.recursive, &self.limits, convert) {
                let it = match part.job {
                    Ok((job, path)) => {
                        *n += 1;
                        item(part.file, self.to_decide(job), Some(path))
                    }
                    Err(why) => Item { conformable: part.conformable, ..item(part.file, Fate::Refused(why), None) },
                };
                if !emit(it) {
                    return false;
                }
            }
            return true;
        }
        match parse_line(line, *n + 1, &self.defaults) {
            Ok(job) => {
                *n += 1;
                emit(item(None, self.to_decide(job), None))
            }
            Err(e) => emit(item(None, Fate::Refused(e.to_string()), None)),
        }
    }

    fn to_decide(&self, mut job: NewJob) -> Fate {
        job.profile.clone_from(&self.profile);
        Fate::Create { job: Box::new(job), warning: None }
    }

    /// Decides each item still to decide (preflight, the conform step when
    /// on, then the policy; a local file that goes on is hashed), yielding
    /// `(index, items)` as each is known (not in input order): one item, or
    /// one per part of a conformed clip that was split. Items already
    /// decided pass through.
    pub fn decide(
        self: &Arc<Self>,
        items: impl Stream<Item = Item> + Send + 'static,
    ) -> impl Stream<Item = (usize, Vec<Item>)> + Send + 'static {
        let me = Arc::clone(self);
        items
            .enumerate()
            .map(move |(i, item)| {
                let me = Arc::clone(&me);
                async move { (i, me.decide_one(item).await) }
            })
            .buffer_unordered(self.concurrency.max(1))
    }

    async fn decide_one(&self, mut item: Item) -> Vec<Item> {
        let Fate::Create { job, .. } = &item.fate else { return vec![item] };
        let mut job = NewJob::clone(job);
        let verdict = match &self.checker {
            Some(c) if self.policy.mode != crate::config::PreflightMode::Off => {
                Some(c.verdict(&job, item.hash_from.as_ref()).await)
            }
            _ => None,
        };
        job.media = verdict.as_ref().and_then(|v| v.media().cloned());
        if let Some(conformer) = &self.conform
            && super::conform::can_conform(verdict.as_ref(), &job, item.hash_from.is_some())
        {
            return self.conform_item(conformer, &item, &job, verdict.as_ref()).await;
        }
        let decision = self.policy.decide(verdict.as_ref());
        item.fate = match decision {
            Decision::Refuse(why) => {
                item.conformable = super::conform::can_conform(verdict.as_ref(), &job, item.hash_from.is_some());
                Fate::Refused(why)
            }
            Decision::Hold(reason) => Fate::Held { job: Box::new(job), reason },
            Decision::Create(warning) => match (&item.hash_from, &self.storage) {
                (Some(path), Ok(storage)) => match local::hash(job, path, storage).await {
                    Ok(job) => Fate::Create { job: Box::new(job), warning },
                    Err(why) => Fate::Refused(why),
                },
                (Some(_), Err(why)) => Fate::Refused(why.to_string()),
                (None, _) => Fate::Create { job: Box::new(job), warning },
            },
        };
        vec![item]
    }
}

/// Sends the items to create (the others are left as they are) to the
/// engine in one batch; each becomes `Created` or `Existing`. False when the
/// engine has stopped (the items then say so).
pub async fn send(engine: &EngineHandle, items: &mut [Item], allow_duplicates: bool) -> bool {
    let at: Vec<usize> = (0..items.len()).filter(|i| matches!(items[*i].fate, Fate::Create { .. })).collect();
    if at.is_empty() {
        return true;
    }
    let jobs: Vec<NewJob> = at
        .iter()
        .filter_map(|i| match &items[*i].fate {
            Fate::Create { job, .. } => Some(NewJob::clone(job)),
            _ => None,
        })
        .collect();
    let Some(r) = engine.submit(jobs.clone(), allow_duplicates).await else {
        for i in at {
            items[i].fate = Fate::Refused("the engine stopped before taking it; import it again".into());
        }
        return false;
    };
    // Accepted ids come in submission order, duplicates left out; a batch
    // cut short (job ids used up, the store unreadable) leaves the rest.
    let mut dups = r.duplicates;
    let mut accepted = r.accepted.into_iter();
    for (i, job) in at.into_iter().zip(&jobs) {
        items[i].fate = if let Some(k) = dups.iter().position(|(d, _)| d == job) {
            let (asked, existing) = dups.swap_remove(k);
            Fate::Existing { asked: Box::new(asked), job: Box::new(existing) }
        } else if let Some(id) = accepted.next() {
            Fate::Created(id)
        } else {
            Fate::Refused(r.refused.clone().unwrap_or_else(|| "the engine did not take it".into()))
        };
    }
    true
}
