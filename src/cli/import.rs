//! `import` and `wait`: submit to the engine and follow the jobs.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{IsTerminal, Read};
use std::sync::Arc;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::args::{GlobalArgs, ImportArgs};
use super::preflight::{Outcome, check_and_submit};
use super::report::{print_json, print_table};
use crate::config::PreflightMode;
use crate::config::{Template, TypeChoice};
use crate::engine::input::{ImportDefaults, today};
use crate::engine::{Command, Job, JobId, JobState, Level, Update};
use crate::exit::{INTERRUPTED as EXIT_INTERRUPTED, NOT_ALL_ACTIVE as EXIT_FAILED, USAGE as EXIT_USAGE};
use crate::preflight::{Preflight, parse_numbered};
use crate::setup::Setup;
use tokio::sync::mpsc::UnboundedReceiver;

/// The defaults for lines: preset first, then the flags.
fn defaults(setup: &Setup, a: &ImportArgs) -> Result<ImportDefaults, String> {
    let cfg = &setup.loaded.config;
    let preset = match &a.preset {
        Some(name) => Some(cfg.preset(name).ok_or_else(|| {
            let names: Vec<&str> = cfg.presets.iter().map(|p| p.name.as_str()).collect();
            format!(
                "no preset named `{name}`; presets: {}",
                if names.is_empty() { "none".into() } else { names.join(", ") }
            )
        })?),
        None => cfg.default_preset(),
    };
    let group_id =
        a.group.clone().or_else(|| preset.map(|p| p.group_id.clone())).filter(|g| !g.trim().is_empty()).ok_or(
            "no group: pass --group ID or --preset NAME (see `presets list`), or create one with `groups create NAME`",
        )?;
    let template_src = a.name_template.clone().or_else(|| preset.map(|p| p.name_template.clone()));
    let template = match template_src {
        Some(t) => t.parse::<Template>().map_err(|e| format!("name template `{t}`: {e}"))?,
        None => Template::stem(),
    };
    let asset_type = a.asset_type.or_else(|| preset.map(|p| p.asset_type)).unwrap_or(TypeChoice::Infer);
    Ok(ImportDefaults { group_id: group_id.trim().to_string(), asset_type, template, date: today() })
}

/// The input sources, each with the label its line numbers are reported
/// under: the arguments, then the file (or stdin).
fn read_input(a: &ImportArgs) -> Result<Vec<(String, String)>, String> {
    let mut sources = Vec::new();
    if !a.urls.is_empty() {
        sources.push(("argument".to_string(), a.urls.join("\n")));
    }
    let from_stdin = match &a.file {
        Some(p) if p.as_os_str() == "-" => true,
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|e| format!("cannot read {}: {e}", p.display()))?;
            sources.push((p.display().to_string(), text));
            false
        }
        None => a.urls.is_empty() && !std::io::stdin().is_terminal(),
    };
    if from_stdin {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s).map_err(|e| format!("cannot read stdin: {e}"))?;
        sources.push(("stdin".to_string(), s));
    }
    Ok(sources)
}

pub(super) async fn import(global: &GlobalArgs, a: ImportArgs) -> Result<u8, String> {
    let sources = read_input(&a)?;
    let setup = Setup::new(global).await?;
    for w in &setup.loaded.warnings {
        eprintln!("warning: {w}");
    }
    let d = defaults(&setup, &a)?;
    let mut lines = Vec::new();
    let mut bad_lines = 0;
    for (label, text) in &sources {
        let (mut good, errors) = parse_numbered(label, text, &d, lines.len() as u64 + 1);
        for e in &errors {
            eprintln!("{label}:{}: {}", e.line, e.message);
        }
        bad_lines += errors.len();
        lines.append(&mut good);
    }
    if lines.is_empty() {
        let hint = if bad_lines == 0 { " (give URLs as arguments, --file, or on stdin)" } else { "" };
        eprintln!("nothing to import{hint}");
        return Ok(EXIT_USAGE);
    }
    let cfg = &setup.loaded.config;
    let mut pf = cfg.preflight.clone();
    if a.no_preflight {
        pf.mode = PreflightMode::Off;
    }
    let checker = match pf.mode {
        PreflightMode::Off => None,
        _ => Some(Arc::new(
            Preflight::new(&pf, &cfg.tls_options(&setup.loaded.path)).map_err(|e| format!("preflight: {e}"))?,
        )),
    };
    let (engine, updates, task) = setup.start_engine()?;
    let (ids_tx, ids_rx) = tokio::sync::mpsc::unbounded_channel();
    let (notes_tx, notes_rx) = tokio::sync::mpsc::unbounded_channel();
    let stage = tokio::spawn({
        let engine = engine.clone();
        let allow = a.allow_duplicates;
        async move {
            let say = move |s: String| {
                let _ = notes_tx.send(s);
            };
            check_and_submit(lines, &pf, checker, &engine, allow, ids_tx, say).await
        }
    });
    let code = follow(engine, updates, HashSet::new(), Some((ids_rx, notes_rx)), a.wait, a.json).await;
    let _ = task.await;
    let outcome = if code == EXIT_INTERRUPTED && !stage.is_finished() {
        // Probes still running are not waited for.
        stage.abort();
        let _ = stage.await;
        Outcome { interrupted: true, ..Outcome::default() }
    } else {
        stage.await.map_err(|e| format!("the preflight stage failed: {e}"))?
    };
    if outcome.interrupted {
        eprintln!("interrupted before every line was checked: the unchecked lines were not imported");
    }
    if outcome.accepted == 0 && outcome.duplicates == 0 && !outcome.engine_gone && code != EXIT_INTERRUPTED {
        eprintln!("nothing to import: every line was refused");
        return Ok(EXIT_USAGE);
    }
    let skipped = outcome.duplicates > 0 || outcome.refused > 0 || bad_lines > 0;
    Ok(if skipped { code.max(EXIT_FAILED) } else { code })
}

pub(super) async fn wait(global: &GlobalArgs, json: bool) -> Result<u8, String> {
    let setup = Setup::new(global).await?;
    let (engine, mut updates, task) = setup.start_engine()?;
    let mut ids = HashSet::new();
    let mut early = Vec::new();
    while let Some(u) = updates.recv().await {
        match u {
            Update::Loaded => break,
            Update::Job(j) => {
                if j.state.is_in_flight() || j.state == JobState::Uncertain {
                    ids.insert(j.id);
                }
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
    let code = follow(engine, rx, ids, None, true, json).await;
    let _ = task.await;
    Ok(code)
}

/// More job ids as preflight lets their lines through, and per-line notes
/// to print; both close when the last line is submitted.
type Feed = (UnboundedReceiver<Vec<(JobId, usize)>>, UnboundedReceiver<String>);

/// Follows `ids` (and those that arrive through `feed`) until each is final
/// (`wait`) or created; then stops the engine and prints the jobs. Returns
/// the exit code.
async fn follow(
    engine: crate::engine::EngineHandle,
    mut updates: UnboundedReceiver<Update>,
    mut ids: HashSet<JobId>,
    feed: Option<Feed>,
    wait: bool,
    json: bool,
) -> u8 {
    let done = |j: &Job| {
        if wait { j.state.is_final() } else { !matches!(j.state, JobState::Queued | JobState::Creating) }
    };
    let bar = if std::io::stderr().is_terminal() {
        ProgressBar::with_draw_target(Some(ids.len() as u64), ProgressDrawTarget::stderr())
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let (mut more_ids, mut notes) = match feed {
        Some((i, n)) => (Some(i), Some(n)),
        None => (None, None),
    };
    let mut jobs: BTreeMap<JobId, Job> = BTreeMap::new();
    // Updates of jobs whose ids have not arrived yet (the engine may report
    // a job before its submitter hears back).
    let mut early: HashMap<JobId, Job> = HashMap::new();
    let mut finished = 0usize;
    let mut stopping = false;
    let mut counts: HashMap<JobState, usize> = HashMap::new();
    let mut interrupted = false;
    let mut pending: Vec<Job> = Vec::new();
    // Input position of each job from the feed: output follows the input.
    let mut position: HashMap<JobId, usize> = HashMap::new();
    loop {
        if !stopping && more_ids.is_none() && finished == ids.len() {
            stopping = true;
            engine.send(Command::Shutdown);
        }
        let u = tokio::select! {
            u = updates.recv() => match u {
                Some(u) => u,
                None => break,
            },
            batch = async { more_ids.as_mut()?.recv().await }, if more_ids.is_some() => {
                match batch {
                    Some(batch) => {
                        for (id, pos) in batch {
                            ids.insert(id);
                            position.insert(id, pos);
                            if let Some(j) = early.remove(&id) {
                                pending.push(j);
                            }
                        }
                        bar.set_length(ids.len() as u64);
                    }
                    None => more_ids = None,
                }
                for j in std::mem::take(&mut pending) {
                    track(&mut jobs, &mut counts, &mut finished, &bar, &done, j);
                }
                continue;
            },
            note = async { notes.as_mut()?.recv().await }, if notes.is_some() => {
                match note {
                    Some(n) => bar.suspend(|| eprintln!("{n}")),
                    None => notes = None,
                }
                continue;
            },
            _ = tokio::signal::ctrl_c(), if !interrupted => {
                interrupted = true;
                stopping = true;
                // Preflight submits nothing more once this end is gone.
                more_ids = None;
                bar.suspend(|| eprintln!("interrupted: finishing the creations in flight; `seedance-assets wait` resumes the rest"));
                engine.send(Command::Shutdown);
                continue;
            }
        };
        match u {
            Update::Job(j) if ids.contains(&j.id) => track(&mut jobs, &mut counts, &mut finished, &bar, &done, *j),
            Update::Job(j) if more_ids.is_some() => {
                early.insert(j.id, *j);
            }
            Update::Log(line) if line.level != Level::Info => {
                let level = if line.level == Level::Warn { "warning" } else { "error" };
                bar.suspend(|| eprintln!("{level}: {}", line.text))
            }
            Update::Stopped { .. } => break,
            _ => {}
        }
    }
    // Notes sent just before the stage ended.
    if let Some(n) = notes.as_mut() {
        while let Ok(note) = n.try_recv() {
            bar.suspend(|| eprintln!("{note}"));
        }
    }
    bar.finish_and_clear();
    let mut list: Vec<Job> = jobs.into_values().collect();
    list.sort_by_key(|j| (position.get(&j.id).copied().unwrap_or(usize::MAX), j.id));
    if json {
        if let Err(e) = print_json(&list) {
            eprintln!("cannot write JSON: {e}");
        }
    } else {
        print_table(&list);
    }
    let bad = list.iter().any(|j| j.state.needs_attention()) || list.len() < ids.len();
    if interrupted {
        EXIT_INTERRUPTED
    } else if bad {
        EXIT_FAILED
    } else {
        0
    }
}

/// Records a tracked job's new state: the counts, the bar, and whether it is done.
fn track(
    jobs: &mut BTreeMap<JobId, Job>,
    counts: &mut HashMap<JobState, usize>,
    finished: &mut usize,
    bar: &ProgressBar,
    done: &impl Fn(&Job) -> bool,
    j: Job,
) {
    let old = jobs.get(&j.id);
    let was_done = old.is_some_and(done);
    let now_done = done(&j);
    if let Some(old) = old {
        *counts.entry(old.state).or_default() -= 1;
    }
    *counts.entry(j.state).or_default() += 1;
    if now_done && !was_done {
        *finished += 1;
        bar.inc(1);
    } else if was_done && !now_done {
        *finished -= 1;
        bar.set_position(*finished as u64);
    }
    jobs.insert(j.id, j);
    let count = |s: JobState| counts.get(&s).copied().unwrap_or(0);
    bar.set_message(format!(
        "{} active, {} processing, {} failed",
        count(JobState::Active),
        count(JobState::Processing),
        count(JobState::Failed) + count(JobState::Rejected) + count(JobState::Uncertain)
    ));
}
