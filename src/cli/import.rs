//! `import` and `wait`: submit to the engine and follow the jobs.

use std::collections::{BTreeMap, HashSet};
use std::io::{IsTerminal, Read};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::args::{GlobalArgs, ImportArgs};
use super::report::{print_json, print_table};
use crate::config::{Template, TypeChoice};
use crate::engine::input::{ImportDefaults, parse_lines_from, today};
use crate::engine::{Command, Job, JobId, JobState, Level, Update};
use crate::exit::{INTERRUPTED as EXIT_INTERRUPTED, NOT_ALL_ACTIVE as EXIT_FAILED, USAGE as EXIT_USAGE};
use crate::setup::Setup;

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
    let mut jobs = Vec::new();
    let mut bad_lines = 0;
    for (label, text) in &sources {
        let (mut good, errors) = parse_lines_from(text, &d, jobs.len() as u64 + 1);
        for e in &errors {
            eprintln!("{label}:{}: {}", e.line, e.message);
        }
        bad_lines += errors.len();
        jobs.append(&mut good);
    }
    if jobs.is_empty() {
        let hint = if bad_lines == 0 { " (give URLs as arguments, --file, or on stdin)" } else { "" };
        eprintln!("nothing to import{hint}");
        return Ok(EXIT_USAGE);
    }
    let (engine, updates, task) = setup.start_engine()?;
    let result = engine.submit(jobs, a.allow_duplicates).await.ok_or("the engine stopped unexpectedly")?;
    let ids: HashSet<JobId> = result.accepted.iter().copied().collect();
    let code = follow(engine, updates, ids, a.wait, a.json).await;
    let _ = task.await;
    let skipped = !result.duplicates.is_empty() || bad_lines > 0;
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
    let code = follow(engine, rx, ids, true, json).await;
    let _ = task.await;
    Ok(code)
}

/// Follows `ids` until each is final (`wait`) or created; then stops the
/// engine and prints the jobs. Returns the exit code.
async fn follow(
    engine: crate::engine::EngineHandle,
    mut updates: tokio::sync::mpsc::UnboundedReceiver<Update>,
    ids: HashSet<JobId>,
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
    let mut jobs: BTreeMap<JobId, Job> = BTreeMap::new();
    let mut finished = 0usize;
    let mut stopping = ids.is_empty();
    if stopping {
        engine.send(Command::Shutdown);
    }
    let mut counts: std::collections::HashMap<JobState, usize> = std::collections::HashMap::new();
    let mut interrupted = false;
    loop {
        let u = tokio::select! {
            u = updates.recv() => match u {
                Some(u) => u,
                None => break,
            },
            _ = tokio::signal::ctrl_c(), if !interrupted => {
                interrupted = true;
                stopping = true;
                bar.suspend(|| eprintln!("interrupted: finishing the creations in flight; `seedance-assets wait` resumes the rest"));
                engine.send(Command::Shutdown);
                continue;
            }
        };
        match u {
            Update::Job(j) if ids.contains(&j.id) => {
                let old = jobs.get(&j.id);
                let was_done = old.is_some_and(&done);
                let now_done = done(&j);
                if let Some(old) = old {
                    *counts.entry(old.state).or_default() -= 1;
                }
                *counts.entry(j.state).or_default() += 1;
                if now_done && !was_done {
                    finished += 1;
                    bar.inc(1);
                } else if was_done && !now_done {
                    finished -= 1;
                    bar.set_position(finished as u64);
                }
                jobs.insert(j.id, *j);
                let count = |s: JobState| counts.get(&s).copied().unwrap_or(0);
                bar.set_message(format!(
                    "{} active, {} processing, {} failed",
                    count(JobState::Active),
                    count(JobState::Processing),
                    count(JobState::Failed) + count(JobState::Rejected) + count(JobState::Uncertain)
                ));
                if finished == ids.len() && !stopping {
                    stopping = true;
                    engine.send(Command::Shutdown);
                }
            }
            Update::Log(line) if line.level != Level::Info => {
                let level = if line.level == Level::Warn { "warning" } else { "error" };
                bar.suspend(|| eprintln!("{level}: {}", line.text))
            }
            Update::Stopped { .. } => break,
            _ => {}
        }
    }
    bar.finish_and_clear();
    let list: Vec<Job> = jobs.into_values().collect();
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
