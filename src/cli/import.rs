//! `import` and `wait`: submit to the engine and follow the jobs.

use std::collections::{HashMap, HashSet};
use std::io::IsTerminal;

use futures::StreamExt;
use std::sync::Arc;

use tokio::sync::mpsc::UnboundedReceiver;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::args::ImportArgs;
use super::error::ImportError;
use super::out::say;
use super::report::print_jobs;
use super::stage::{self, Fed, Outcome};
use crate::config::PreflightMode;
use crate::config::{Template, TypeChoice};
use crate::engine::{Command, JobId, JobState, Level, Update};
use crate::exit::Failure;
use crate::exit::{INTERRUPTED as EXIT_INTERRUPTED, NOT_ALL_ACTIVE as EXIT_FAILED, USAGE as EXIT_USAGE};
use crate::intake::{Checker, ImportDefaults, Intake, Policy, Source, today};
use crate::options::GlobalArgs;
use crate::setup::Setup;

/// The defaults for lines: preset first, then the flags.
fn defaults(setup: &Setup, a: &ImportArgs) -> Result<ImportDefaults, ImportError> {
    let cfg = &setup.loaded.config;
    let preset = match &a.preset {
        Some(name) => Some(cfg.preset(name).ok_or_else(|| ImportError::NoPreset {
            name: name.clone(),
            known: cfg.presets.iter().map(|p| p.name.clone()).collect(),
        })?),
        None => cfg.default_preset(),
    };
    let group_id = a
        .group
        .clone()
        .or_else(|| preset.map(|p| p.group_id.clone()))
        .filter(|g| !g.trim().is_empty())
        .ok_or(ImportError::NoGroup)?;
    let template_src = a.name_template.clone().or_else(|| preset.map(|p| p.name_template.clone()));
    let template = match template_src {
        Some(t) => t.parse::<Template>().map_err(|source| ImportError::Template { template: t, source })?,
        None => Template::stem(),
    };
    let asset_type = a.asset_type.or_else(|| preset.map(|p| p.asset_type)).unwrap_or(TypeChoice::Infer);
    Ok(ImportDefaults {
        group_id: group_id.trim().to_string(),
        asset_type,
        template,
        date: today(),
        force_type: a.force_type,
        loopback_http: setup.is_demo(),
    })
}

/// The front door for this run: the defaults, the policy (config, then
/// `--no-preflight` and `--allow-unchecked`), preflight and the bucket.
pub(super) fn intake(setup: &Setup, a: &ImportArgs) -> Result<Intake, Failure> {
    let defaults = defaults(setup, a)?;
    let cfg = &setup.loaded.config;
    let mut pf = cfg.preflight.clone();
    if a.no_preflight {
        pf.mode = PreflightMode::Off;
    }
    let checker = match pf.mode {
        PreflightMode::Off => None,
        _ => Some(Arc::new(Checker::new(setup.preflight(&pf).map_err(|e| format!("preflight: {e}"))?))),
    };
    let conform = match conforming(setup, a) {
        Some(_) if pf.mode == PreflightMode::Off => {
            let why = "conform needs preflight, and `[preflight] mode = \"off\"` turns it off";
            return Err(Failure::new(EXIT_USAGE, why));
        }
        Some(cc) => {
            let conformer = setup.conformer_with(&cc, pf.limits()).map_err(|e| format!("conform: {e}"))?;
            if let Err(e) = conformer.tools() {
                say!("warning: {e}");
            }
            Some(Arc::new(conformer))
        }
        None => None,
    };
    Ok(Intake {
        defaults,
        policy: Policy { mode: pf.mode, unprobeable: pf.unprobeable, consent: a.allow_unchecked },
        checker,
        storage: setup.storage().cloned().map_err(|e| e as Arc<dyn std::error::Error + Send + Sync>),
        limits: pf.limits(),
        recursive: a.recursive,
        profile: setup.profile.name.clone(),
        concurrency: pf.concurrency,
        conform,
        progress: None,
    })
}

/// The conform settings for this run, when it conforms: `--conform`, else
/// the preset's `conform`, else `[conform] enabled`; `--no-conform` wins.
fn conforming(setup: &Setup, a: &ImportArgs) -> Option<crate::conform::ConformConfig> {
    let cfg = &setup.loaded.config;
    let preset = match &a.preset {
        Some(name) => cfg.preset(name),
        None => cfg.default_preset(),
    };
    let on = !a.no_conform && (a.conform || cfg.conforms(preset));
    if !on {
        return None;
    }
    let mut cc = cfg.conform.clone();
    cc.enabled = true;
    if let Some(x) = a.aspect {
        cc.aspect = x;
    }
    if let Some(x) = a.too_long {
        cc.too_long = x;
    }
    Some(cc)
}

/// The input sources, each with the label its line numbers are reported
/// under: the arguments, then the file (or stdin). A file is opened here
/// (so a wrong path is said at once) and read as the intake goes.
fn read_input(a: &ImportArgs) -> Result<Vec<Source>, ImportError> {
    let mut sources = Vec::new();
    if !a.urls.is_empty() {
        sources.push(Source::inline("argument", a.urls.join("\n")));
    }
    let from_stdin = match &a.file {
        Some(p) if p.as_os_str() == "-" => true,
        Some(p) => {
            let file = open_input(p).map_err(|source| ImportError::Read { path: p.clone(), source })?;
            sources.push(Source::stream(p.display().to_string(), std::io::BufReader::new(file)));
            false
        }
        None => a.urls.is_empty() && !std::io::stdin().is_terminal(),
    };
    if from_stdin {
        sources.push(Source::stream("stdin", std::io::BufReader::new(std::io::stdin())));
    }
    Ok(sources)
}

/// Opens a list of lines; a directory is refused here (reading it would
/// fail only at the first line).
fn open_input(p: &std::path::Path) -> std::io::Result<std::fs::File> {
    let file = std::fs::File::open(p)?;
    if file.metadata()?.is_dir() {
        return Err(std::io::Error::new(std::io::ErrorKind::IsADirectory, "it is a directory"));
    }
    Ok(file)
}

pub(super) async fn import(global: &GlobalArgs, a: ImportArgs) -> Result<u8, Failure> {
    if a.watch {
        return super::watch::watch(global, a).await;
    }
    let sources = read_input(&a)?;
    let setup = Setup::new(global).await?;
    for w in &setup.loaded.warnings {
        say!("warning: {w}");
    }
    let (conform_tx, conform_rx) = tokio::sync::mpsc::unbounded_channel();
    let mut intake = intake(&setup, &a)?;
    if intake.conform.is_some() {
        intake.progress = Some(conform_tx);
    }
    let intake = Arc::new(intake);
    let mut items = Box::pin(intake.items(sources));
    let Some(first) = items.next().await else {
        say!("nothing to import (give URLs or paths as arguments, --file, or on stdin)");
        return Ok(EXIT_USAGE);
    };
    let items = futures::stream::once(async { first }).chain(items);
    let holdings = super::library::holdings(&setup).await;
    let (engine, updates, task) = setup.start_engine()?;
    let (feed_tx, feed_rx) = tokio::sync::mpsc::unbounded_channel();
    let (notes_tx, notes_rx) = tokio::sync::mpsc::unbounded_channel();
    let stage = tokio::spawn({
        let engine = engine.clone();
        let allow = a.allow_duplicates;
        async move {
            let say = move |s: String| {
                let _ = notes_tx.send(s);
            };
            stage::run(intake, items, &engine, allow, feed_tx, holdings, say).await
        }
    });
    let feed = Some((feed_rx, notes_rx, conform_rx));
    let code = follow(engine, updates, Followed::Ids(HashSet::new()), feed, a.wait, a.json, &setup).await;
    let _ = task.await;
    let outcome = if code == EXIT_INTERRUPTED && !stage.is_finished() {
        // Probes still running are not waited for.
        stage.abort();
        let _ = stage.await;
        Outcome { interrupted: true, ..Outcome::default() }
    } else {
        stage.await.map_err(|e| format!("the intake stage failed: {e}"))?
    };
    let t = outcome.tally;
    say!("{}", t.summary());
    if t.held > 0 {
        say!(
            "{} held back (not checked) {} not created: run again with --allow-unchecked to create them anyway",
            t.held,
            if t.held == 1 { "line was" } else { "lines were" }
        );
    }
    if outcome.interrupted {
        say!("interrupted before every line was checked: the unchecked lines were not imported");
    }
    if outcome.conformable > 0 {
        say!(
            "{} can be conformed: run again with --conform to scale, convert, split or trim {} to pass (see --help)",
            match outcome.conformable {
                1 => "1 refused line".to_string(),
                n => format!("{n} refused lines"),
            },
            if outcome.conformable == 1 { "it" } else { "them" }
        );
    }
    if t.queued == 0 && t.existing == 0 && !outcome.engine_gone && code != EXIT_INTERRUPTED {
        say!("nothing to import: every line was refused or held back");
        return Ok(if matches!(code, 0 | EXIT_FAILED) { EXIT_USAGE } else { code });
    }
    let kept = t.held > 0 || t.refused > 0;
    Ok(if kept { code.max(EXIT_FAILED) } else { code })
}

pub(super) async fn wait(global: &GlobalArgs, json: bool) -> Result<u8, Failure> {
    let setup = Setup::new(global).await?;
    let (engine, mut updates, task) = match setup.start_engine() {
        Ok(started) => started,
        Err(e) => {
            say!("seedance-assets: {e}");
            return Ok(crate::exit::JOURNAL);
        }
    };
    // The jobs in flight at start are reported before `Loaded`; those it
    // found Creating and turned Uncertain only once that is written, after
    // it: `Followed::All` takes them in as they come.
    let mut ids = HashSet::new();
    let mut early = Vec::new();
    while let Some(u) = updates.recv().await {
        match u {
            Update::Loaded => break,
            Update::Job(j) => {
                ids.insert(j.id);
                early.push(Update::Job(j));
            }
            other => early.push(other),
        }
    }
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    for u in early {
        let _ = tx.send(u);
    }
    tokio::spawn(async move {
        while let Some(u) = updates.recv().await {
            if tx.send(u).is_err() {
                break;
            }
        }
    });
    let code = follow(engine, rx, Followed::All(ids), None, true, json, &setup).await;
    let _ = task.await;
    Ok(code)
}

/// How long the server may stay unreachable before `import`/`wait` give up
/// (the engine keeps probing meanwhile; a blip does not end the run).
const UNREACHABLE_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

/// Resolves on Ctrl-C, SIGTERM or SIGHUP (a closed terminal or SSH session).
async fn interrupted() {
    use tokio::signal::unix::{SignalKind, signal};
    let term = signal(SignalKind::terminate());
    let hup = signal(SignalKind::hangup());
    match (term, hup) {
        (Ok(mut term), Ok(mut hup)) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
                _ = hup.recv() => {}
            }
        }
        _ => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// Why a run stopped before its jobs were done.
enum Halt {
    Interrupted,
    Health(u8, String),
}

/// The ids a submitting stage sends as it goes (with their input positions,
/// so output follows the input), the notes it prints and the progress of
/// items being conformed (shown in the bar).
pub(super) type Feed =
    (UnboundedReceiver<Vec<Fed>>, UnboundedReceiver<String>, UnboundedReceiver<crate::intake::Conforming>);

/// `conforming take.mov 45% (+2)`: the first file being conformed, how far
/// along it is, and how many more are; empty when none is.
fn conforming_prefix(busy: &std::collections::BTreeMap<String, f64>) -> String {
    let Some((name, f)) = busy.iter().next() else { return String::new() };
    let more = if busy.len() > 1 { format!(" (+{})", busy.len() - 1) } else { String::new() };
    format!("conforming {} {:.0}%{more}", crate::text::excerpt(name, 30), f * 100.0)
}

/// The jobs [`follow`] follows.
pub(super) enum Followed {
    /// These, and those the submitting stage adds.
    Ids(HashSet<JobId>),
    /// These, and every other job the engine reports (`wait`, whose engine
    /// works only on the jobs in flight at its start).
    All(HashSet<JobId>),
    /// Those the submitting stage adds, for as long as it adds them (a
    /// watch): a signal or a cause that pauses everything ends it.
    Endless,
}

/// Follows `followed` (and those that arrive through `feed`) until each is final
/// (`wait`) or created; then stops the engine and prints the jobs (read
/// back from the job store one at a time: only each job's state is kept
/// while following). Stops early, with its own exit code, when the
/// engine cannot go on (job store unwritable, key refused, server unreachable)
/// or on Ctrl-C, SIGTERM or SIGHUP. Under the demo an interruption does not
/// promise a resume (demo data is reset at the next demo start). Returns the
/// exit code.
pub(super) async fn follow(
    engine: crate::engine::EngineHandle,
    mut updates: UnboundedReceiver<Update>,
    followed: Followed,
    feed: Option<Feed>,
    wait: bool,
    json: bool,
    setup: &Setup,
) -> u8 {
    let demo = setup.is_demo();
    let (ids, adopt, endless) = match followed {
        Followed::Ids(ids) => (ids, false, false),
        Followed::All(ids) => (ids, true, false),
        Followed::Endless => (HashSet::new(), false, true),
    };
    let mut t = Tracked::default();
    for id in ids {
        t.follow(id, None);
    }
    let done = |s: JobState| {
        if wait { s.is_final() } else { !matches!(s, JobState::Uploading | JobState::Queued | JobState::Creating) }
    };
    let bar = if std::io::stderr().is_terminal() {
        ProgressBar::with_draw_target(Some(t.len() as u64), ProgressDrawTarget::stderr())
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} {prefix} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let (mut more_ids, mut notes, mut conforming) = match feed {
        Some((i, n, c)) => (Some(i), Some(n), Some(c)),
        None => (None, None, None),
    };
    // Items being conformed, and how far each is.
    let mut busy: std::collections::BTreeMap<String, f64> = std::collections::BTreeMap::new();
    // Updates of jobs whose ids have not arrived yet (the engine may report
    // a job before its submitter hears back).
    let mut early: HashMap<JobId, JobState> = HashMap::new();
    let mut stopping = false;
    // Bytes sent and size of each local file being uploaded.
    let mut uploads: HashMap<JobId, (u64, u64)> = HashMap::new();
    let mut halt: Option<Halt> = None;
    let mut unreachable_since: Option<tokio::time::Instant> = None;
    let never = tokio::time::Instant::now() + std::time::Duration::from_secs(86_400 * 365);
    let interrupt = interrupted();
    tokio::pin!(interrupt);
    loop {
        // Done, or halted by the engine's health: stop once every line the
        // submitting stage had was handed over (so each is in the job store and
        // `wait` picks it up later).
        // A full asset quota stops only new creations: the created ones
        // are still followed to their end.
        let halted = match &halt {
            Some(Halt::Health(crate::exit::QUOTA, _)) => {
                t.count(JobState::Processing) + t.count(JobState::Creating) == 0
            }
            other => other.is_some(),
        };
        if !stopping && more_ids.is_none() && (t.finished == t.len() || halted) {
            stopping = true;
            engine.send(Command::Shutdown);
        }
        let give_up_at = unreachable_since.map_or(never, |t| t + UNREACHABLE_GRACE);
        let u = tokio::select! {
            u = updates.recv() => match u {
                Some(u) => u,
                None => break,
            },
            batch = async { more_ids.as_mut()?.recv().await }, if more_ids.is_some() => {
                match batch {
                    Some(batch) => {
                        let mut arrived = Vec::new();
                        for fed in batch {
                            let (id, pos) = match fed {
                                Fed::Created(id, pos) => (id, pos),
                                // Already there: shown as it is (and followed
                                // if this engine still works on it).
                                Fed::Existing(job, pos) => {
                                    let id = job.id;
                                    t.saw_profile(&job.spec.profile);
                                    arrived.push((id, job.state));
                                    (id, pos)
                                }
                            };
                            t.follow(id, Some(pos));
                            arrived.extend(early.remove(&id).map(|s| (id, s)));
                        }
                        bar.set_length(t.len() as u64);
                        for (id, state) in arrived {
                            t.track(&bar, &done, id, state);
                        }
                    }
                    None => more_ids = None,
                }
                continue;
            },
            c = async { conforming.as_mut()?.recv().await }, if conforming.is_some() => {
                match c {
                    Some(c) if c.fraction >= 1.0 => {
                        busy.remove(&c.name());
                    }
                    Some(c) => {
                        busy.insert(c.name(), c.fraction);
                    }
                    None => conforming = None,
                }
                bar.set_prefix(conforming_prefix(&busy));
                continue;
            },
            note = async { notes.as_mut()?.recv().await }, if notes.is_some() => {
                match note {
                    Some(n) => bar.suspend(|| say!("{n}")),
                    None => notes = None,
                }
                continue;
            },
            _ = &mut interrupt, if !matches!(halt, Some(Halt::Interrupted)) => {
                halt = Some(Halt::Interrupted);
                stopping = true;
                // The submitting stage submits nothing more once this end is gone.
                more_ids = None;
                let rest = if demo { "demo data is reset at the next --demo start" } else { "`seedance-assets wait` resumes the rest" };
                bar.suspend(|| say!("interrupted: finishing the creations in flight; {rest}"));
                engine.send(Command::Shutdown);
                continue;
            }
            _ = tokio::time::sleep_until(give_up_at), if unreachable_since.is_some() && halt.is_none() => {
                unreachable_since = None;
                let msg = "the server cannot be reached; check the network and api.base_url, then run `seedance-assets wait` (queued imports are kept)";
                bar.suspend(|| say!("error: {msg}"));
                halt = Some(Halt::Health(crate::exit::UNREACHABLE, msg.into()));
                continue;
            }
        };
        match u {
            Update::Job(j) if t.follows(j.id) => {
                t.saw_profile(&j.spec.profile);
                t.track(&bar, &done, j.id, j.state);
            }
            Update::Job(j) if adopt => {
                t.follow(j.id, None);
                bar.set_length(t.len() as u64);
                t.saw_profile(&j.spec.profile);
                t.track(&bar, &done, j.id, j.state);
            }
            Update::Job(j) if more_ids.is_some() => {
                t.saw_profile(&j.spec.profile);
                early.insert(j.id, j.state);
            }
            Update::Health(h) => {
                use crate::engine::PauseCause;
                let code = if h.journal.is_some() {
                    Some(crate::exit::JOURNAL)
                } else if matches!(h.paused, Some(PauseCause::Auth(_))) {
                    Some(crate::exit::AUTH)
                } else if !h.quota.is_empty() {
                    Some(crate::exit::QUOTA)
                } else if h.storage.is_some() {
                    // The bucket refuses every upload: bad [storage] config.
                    Some(crate::exit::USAGE)
                } else {
                    None
                };
                unreachable_since = match h.paused {
                    Some(PauseCause::Unreachable(_)) => unreachable_since.or_else(|| Some(tokio::time::Instant::now())),
                    _ => None,
                };
                if let (Some(code), None) = (code, &halt) {
                    let msg = h.describe().unwrap_or_default();
                    halt = Some(Halt::Health(code, msg));
                    if endless {
                        // A watch cannot wait for a fix: it stops taking
                        // files and exits with the cause, for a service
                        // manager to restart it.
                        more_ids = None;
                    }
                }
            }
            Update::Upload { id, done, total } => {
                uploads.insert(id, (done, total));
                let (sent, size) = uploads.values().fold((0u64, 0u64), |(a, b), (d, t)| (a + d, b + t));
                bar.set_prefix(format!("uploaded {:.1}/{:.1} MB", sent as f64 / 1e6, size as f64 / 1e6));
            }
            Update::Log(line) if line.level != Level::Info => {
                let level = if line.level == Level::Warn { "warning" } else { "error" };
                bar.suspend(|| say!("{level}: {}", line.text))
            }
            Update::Stopped { .. } => break,
            _ => {}
        }
    }
    // Notes sent just before the stage ended.
    if let Some(n) = notes.as_mut() {
        while let Ok(note) = n.try_recv() {
            bar.suspend(|| say!("{note}"));
        }
    }
    bar.finish_and_clear();
    let mut order: Vec<(u32, JobId)> =
        t.jobs.iter().filter(|(_, slot)| slot.state.is_some()).map(|(id, slot)| (slot.pos, *id)).collect();
    order.sort_unstable();
    let wide = t.profiles.len() > 1;
    // No table of nothing (a watch stopped before any file came, say).
    let printed = if order.is_empty() && !json {
        Ok(())
    } else {
        setup.history().map_err(Failure::from).and_then(|h| print_jobs(&h, order.iter().map(|o| o.1), json, wide))
    };
    if let Err(e) = printed
        && !e.message.is_empty()
    {
        say!("seedance-assets: {e}");
    }
    t.summarize();
    let known = t.known();
    let missing = known < t.len();
    let attention = t.counts.iter().any(|(s, n)| *n > 0 && s.needs_attention());
    match halt {
        Some(Halt::Interrupted) => EXIT_INTERRUPTED,
        Some(Halt::Health(code, msg)) => {
            say!("stopped: {msg}");
            code
        }
        None if wait && (t.count(JobState::Active) < known || missing) => EXIT_FAILED,
        None if attention || missing => EXIT_FAILED,
        None => 0,
    }
}

/// What the follower keeps of each job it follows: 16 bytes (the jobs
/// themselves are read back from the store to be printed).
struct Slot {
    /// Its place in the input (`u32::MAX`: none, it was adopted).
    pos: u32,
    /// Its last state, once reported.
    state: Option<JobState>,
}

/// The jobs the follower follows, and the counts.
#[derive(Default)]
struct Tracked {
    jobs: HashMap<JobId, Slot>,
    counts: HashMap<JobState, usize>,
    /// Jobs `done` says are done.
    finished: usize,
    /// The profiles seen (a PROFILE column when there are several).
    profiles: HashSet<String>,
}

impl Tracked {
    /// Follows `id` (at `pos` in the input, if it has one).
    fn follow(&mut self, id: JobId, pos: Option<usize>) {
        let pos = pos.map_or(u32::MAX, |p| u32::try_from(p).unwrap_or(u32::MAX - 1));
        self.jobs.entry(id).or_insert(Slot { pos, state: None }).pos = pos;
    }

    fn follows(&self, id: JobId) -> bool {
        self.jobs.contains_key(&id)
    }

    /// Jobs followed.
    fn len(&self) -> usize {
        self.jobs.len()
    }

    /// Jobs followed whose state is known.
    fn known(&self) -> usize {
        self.counts.values().sum()
    }

    fn count(&self, s: JobState) -> usize {
        self.counts.get(&s).copied().unwrap_or(0)
    }

    /// Notes a profile among the jobs (a PROFILE column when there are several).
    fn saw_profile(&mut self, profile: &str) {
        if !self.profiles.contains(profile) {
            self.profiles.insert(profile.to_string());
        }
    }

    /// Records a tracked job's new state: the counts, the bar, and whether it is done.
    fn track(&mut self, bar: &ProgressBar, done: &impl Fn(JobState) -> bool, id: JobId, state: JobState) {
        let slot = self.jobs.entry(id).or_insert(Slot { pos: u32::MAX, state: None });
        let old = slot.state.replace(state);
        let was_done = old.is_some_and(done);
        let now_done = done(state);
        if let Some(old) = old {
            *self.counts.entry(old).or_default() -= 1;
        }
        *self.counts.entry(state).or_default() += 1;
        if now_done && !was_done {
            self.finished += 1;
            bar.inc(1);
        } else if was_done && !now_done {
            self.finished -= 1;
            bar.set_position(self.finished as u64);
        }
        bar.set_message(format!(
            "{} active, {} uploading, {} processing, {} failed",
            self.count(JobState::Active),
            self.count(JobState::Uploading),
            self.count(JobState::Processing),
            self.count(JobState::Failed) + self.count(JobState::Rejected) + self.count(JobState::Uncertain)
        ));
    }

    /// Prints, on stderr, every outcome that is not Active with its count and
    /// what to do about it.
    fn summarize(&self) {
        let expected = self.len();
        let count = |s: JobState| self.count(s);
        let advice = [
            (
                JobState::Uncertain,
                "may or may not have been created: `seedance-assets reconcile` settles them from the server's listing (free), where the server has one; else check the asset library, then `seedance-assets retry --state uncertain` (may duplicate) or `forget`",
            ),
            (JobState::Stuck, "still processing or not answering: `seedance-assets retry --state stuck` polls again"),
            (
                JobState::Rejected,
                "refused by the server: see `seedance-assets status --state rejected`, fix the input and import again",
            ),
            (JobState::Failed, "the server could not process them: see `seedance-assets status --state failed`"),
            (JobState::Queued, "not sent yet: `seedance-assets wait` continues"),
            (JobState::Creating, "being sent when the run stopped: the next start shows their outcome"),
            (JobState::Processing, "created and processing: `seedance-assets wait` follows them"),
        ];
        let lines: Vec<String> = advice
            .iter()
            .filter_map(|(s, what)| {
                let n = count(*s);
                (n > 0).then(|| format!("  {n} {s}: {what}"))
            })
            .collect();
        let missing = expected.saturating_sub(self.known());
        if lines.is_empty() && missing == 0 {
            return;
        }
        say!("{} of {expected} Active; the others:", count(JobState::Active));
        for l in lines {
            say!("{l}");
        }
        if missing > 0 {
            say!("  {missing} not saved in the job store (nothing was sent for them): import them again");
        }
    }
}
