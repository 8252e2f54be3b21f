//! `import` and `wait`: submit to the engine and follow the jobs.

use std::collections::{BTreeMap, HashSet};
use std::io::{IsTerminal, Read};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::args::ImportArgs;
use super::report::{print_json, print_table};
use crate::config::{Template, TypeChoice};
use crate::engine::input::{ImportDefaults, parse_line, today};
use crate::engine::{Command, Job, JobId, JobState, Level, Update};
use crate::exit::Failure;
use crate::exit::{INTERRUPTED as EXIT_INTERRUPTED, NOT_ALL_ACTIVE as EXIT_FAILED, USAGE as EXIT_USAGE};
use crate::options::GlobalArgs;
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
    Ok(ImportDefaults {
        group_id: group_id.trim().to_string(),
        asset_type,
        template,
        date: today(),
        force_type: a.force_type,
    })
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

pub(super) async fn import(global: &GlobalArgs, a: ImportArgs) -> Result<u8, Failure> {
    let sources = read_input(&a)?;
    let setup = Setup::new(global).await?;
    for w in &setup.loaded.warnings {
        eprintln!("warning: {w}");
    }
    let d = defaults(&setup, &a)?;
    let mut jobs = Vec::new();
    let mut bad_lines = 0;
    for (label, text) in &sources {
        // A byte-order mark at the start of a file is not part of its first line.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let n = jobs.len() as u64 + 1;
            let first = line.split(['\t', ',']).next().unwrap_or(line);
            if crate::local::is_local(first) {
                let got = crate::local::jobs_for_line(line, &d, n, a.recursive, setup.storage()).await;
                for e in &got.errors {
                    eprintln!("{label}:{}: {e}", i + 1);
                }
                bad_lines += usize::from(!got.errors.is_empty());
                jobs.extend(got.jobs);
                continue;
            }
            match parse_line(line, n, &d) {
                Ok(job) => jobs.push(job),
                Err(e) => {
                    eprintln!("{label}:{}: {e}", i + 1);
                    bad_lines += 1;
                }
            }
        }
    }
    if jobs.is_empty() {
        let hint = if bad_lines == 0 { " (give URLs as arguments, --file, or on stdin)" } else { "" };
        eprintln!("nothing to import{hint}");
        return Ok(EXIT_USAGE);
    }
    setup.stamp_profile(&mut jobs);
    let (engine, updates, task) = setup.start_engine()?;
    let result = engine.submit(jobs, a.allow_duplicates).await.ok_or("the engine stopped unexpectedly")?;
    if let Some(why) = &result.refused {
        eprintln!("error: some lines were not imported: {why}");
    }
    let ids: HashSet<JobId> = result.accepted.iter().copied().collect();
    let code = follow(engine, updates, ids, a.wait, a.json, setup.is_demo()).await;
    let _ = task.await;
    let skipped = !result.duplicates.is_empty() || bad_lines > 0 || result.refused.is_some();
    Ok(if skipped { code.max(EXIT_FAILED) } else { code })
}

pub(super) async fn wait(global: &GlobalArgs, json: bool) -> Result<u8, Failure> {
    let setup = Setup::new(global).await?;
    let (engine, mut updates, task) = match setup.start_engine() {
        Ok(started) => started,
        Err(e) => {
            eprintln!("seedance-assets: {e}");
            return Ok(crate::exit::JOURNAL);
        }
    };
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
    let code = follow(engine, rx, ids, true, json, setup.is_demo()).await;
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

/// Follows `ids` until each is final (`wait`) or created; then stops the
/// engine and prints the jobs. Stops early, with its own exit code, when the
/// engine cannot go on (journal unwritable, key refused, server unreachable)
/// or on Ctrl-C, SIGTERM or SIGHUP. Under `demo` an interruption does not
/// promise a resume (demo data is reset at the next demo start). Returns the
/// exit code.
pub(super) async fn follow(
    engine: crate::engine::EngineHandle,
    mut updates: tokio::sync::mpsc::UnboundedReceiver<Update>,
    ids: HashSet<JobId>,
    wait: bool,
    json: bool,
    demo: bool,
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
    let mut halt: Option<Halt> = None;
    let mut unreachable_since: Option<tokio::time::Instant> = None;
    let never = tokio::time::Instant::now() + std::time::Duration::from_secs(86_400 * 365);
    let interrupt = interrupted();
    tokio::pin!(interrupt);
    loop {
        let give_up_at = unreachable_since.map_or(never, |t| t + UNREACHABLE_GRACE);
        let u = tokio::select! {
            u = updates.recv() => match u {
                Some(u) => u,
                None => break,
            },
            _ = &mut interrupt, if halt.is_none() => {
                halt = Some(Halt::Interrupted);
                stopping = true;
                let rest = if demo { "demo data is reset at the next --demo start" } else { "`seedance-assets wait` resumes the rest" };
                bar.suspend(|| eprintln!("interrupted: finishing the creations in flight; {rest}"));
                engine.send(Command::Shutdown);
                continue;
            }
            _ = tokio::time::sleep_until(give_up_at), if unreachable_since.is_some() && halt.is_none() => {
                unreachable_since = None;
                let msg = "the server cannot be reached; check the network and api.base_url, then run `seedance-assets wait` (queued imports are kept)";
                bar.suspend(|| eprintln!("error: {msg}"));
                halt = Some(Halt::Health(crate::exit::UNREACHABLE, msg.into()));
                stopping = true;
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
            Update::Health(h) => {
                use crate::engine::PauseCause;
                let code = if h.journal.is_some() {
                    Some(crate::exit::JOURNAL)
                } else if matches!(h.paused, Some(PauseCause::Auth(_))) {
                    Some(crate::exit::AUTH)
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
    let printed = if json { print_json(&list) } else { print_table(&list) };
    if let Err(e) = printed
        && !e.message.is_empty()
    {
        eprintln!("seedance-assets: {e}");
    }
    summarize(&list, ids.len());
    let bad = list.iter().any(|j| j.state != JobState::Active) || list.len() < ids.len();
    match halt {
        Some(Halt::Interrupted) => EXIT_INTERRUPTED,
        Some(Halt::Health(code, msg)) => {
            eprintln!("stopped: {msg}");
            code
        }
        None if bad && wait => EXIT_FAILED,
        None if list.iter().any(|j| j.state.needs_attention()) || list.len() < ids.len() => EXIT_FAILED,
        None => 0,
    }
}

/// Prints, on stderr, every outcome that is not Active with its count and
/// what to do about it.
fn summarize(list: &[Job], expected: usize) {
    let count = |s: JobState| list.iter().filter(|j| j.state == s).count();
    let advice = [
        (
            JobState::Uncertain,
            "may or may not have been created: check the asset library, then `seedance-assets retry --state uncertain` (may duplicate) or `forget`",
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
    let missing = expected.saturating_sub(list.len());
    if lines.is_empty() && missing == 0 {
        return;
    }
    eprintln!("{} of {expected} Active; the others:", count(JobState::Active));
    for l in lines {
        eprintln!("{l}");
    }
    if missing > 0 {
        eprintln!("  {missing} not saved in the journal (nothing was sent for them): import them again");
    }
}
