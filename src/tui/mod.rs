//! The dashboard: a ratatui event loop over the engine. It draws state it
//! receives and turns keys into engine commands; it never calls the API.

pub mod action;
pub mod app;
mod chores;
pub mod draft;
pub mod effect;
pub mod error;
pub mod field;
pub mod forms;
mod intake;
pub mod keymap;
mod keys;
pub mod pane;
mod term;
pub mod theme;
pub mod view;
mod watcher;

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;

use crossterm::event::{Event, EventStream};
use crossterm::terminal::{BeginSynchronizedUpdate, EndSynchronizedUpdate};
use futures::StreamExt;
use tokio::signal::unix::{SignalKind, signal};
use tokio::time::Instant;

use crate::engine::{Command, EngineHandle, Level, Update};
use crate::intake::Checker;
use crate::options::GlobalArgs;
use crate::setup::Setup;
use app::App;
use chores::Chore;
use effect::Effect;
use error::DashboardError;
use std::sync::Arc;

/// Shortest time between two frames (at most 10 frames a second).
const FRAME: Duration = Duration::from_millis(100);
/// Spinner and elapsed-time refresh while jobs are in flight.
const TICK: Duration = Duration::from_millis(250);
/// How often the stored list of watched folders is looked at for changes
/// made elsewhere.
const FOLDERS_EVERY: Duration = Duration::from_secs(2);
/// How often a watching dashboard looks for the owner's writes to the job
/// store and whether it can take over.
const WATCH: Duration = Duration::from_millis(500);
/// How often the header's count of the account's assets is asked for.
const HOLDINGS_EVERY: Duration = Duration::from_secs(60);
/// Updates applied before the next draw, at most.
const UPDATE_BATCH: usize = 2000;

/// When the process started, for the first-frame timing in the log.
static STARTED: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();

/// Records the process start (call first thing in `main`).
pub fn mark_start() {
    let _ = STARTED.set(std::time::Instant::now());
}

/// Runs the dashboard until the user quits; returns the exit code.
pub async fn run(global: &GlobalArgs) -> ExitCode {
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        eprintln!("seedance-assets: the dashboard needs a terminal; for scripts use a subcommand (see --help)");
        return ExitCode::from(crate::exit::USAGE);
    }
    let setup = match Setup::new(global).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("seedance-assets: {e}");
            return ExitCode::from(e.code);
        }
    };
    let (engine, watching) = match setup.try_start_engine() {
        Ok(e) => (Some(e), None),
        Err(crate::engine::StartError::Store(crate::store::StoreError::Busy { owner, .. })) => (None, Some(owner)),
        Err(e) => {
            eprintln!("seedance-assets: {e}");
            return ExitCode::from(crate::exit::JOURNAL);
        }
    };
    // The terminal is the dashboard's: a log file that cannot be written
    // is told in the log pane.
    if let Some(fault) = setup.log_fault() {
        fault.hold();
    }
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let mut app = App::new(&setup.endpoint, setup.loaded.config.presets.clone(), no_color, &crate::intake::today());
    for w in &setup.loaded.warnings {
        app.note(Level::Warn, w.clone());
    }
    match setup.history() {
        Ok(history) => app.list.attach(history),
        Err(e) => app.note(Level::Error, format!("cannot read the job store: {e}")),
    }
    app.scope_to(&setup.profile.name);
    // The group the CLI's `--group` would take from the environment.
    let env_group = std::env::var("SEEDANCE_GROUP").ok().filter(|g| !g.trim().is_empty() && !setup.is_demo());
    if let Some(group) = env_group {
        app.input.group.set(group.trim());
        app.input.revalidate();
    }
    app.set_watching(watching);
    let checker = preflight_checker(&mut app, &setup);
    match keymap::KeyMap::with_overrides(&setup.loaded.config.keys) {
        Ok(keys) => app.keys = keys,
        Err(e) => app.note(Level::Warn, format!("config [keys]: {e}; the default keys are used")),
    }
    if let Some(sim) = &setup.sim {
        app.input.accept_loopback_http();
        app.note(
            Level::Info,
            "demo: a built-in simulator stands in for the API and serves the sample files; nothing leaves this machine. fail-broken.png fails on purpose after creation, and one in ten fails at random, as a server may",
        );
        let lines: Vec<String> = crate::sim::library::FILES.iter().map(|(name, _)| sim.media_url(name)).collect();
        app.set_urls(&lines.join("\n"));
    }
    let demo = setup.is_demo();
    let draft_path = draft::path(&setup.paths.data_dir);
    match draft::load(&draft_path) {
        Ok(Some(text)) => app.restore_draft(&text),
        Ok(None) => {}
        Err(e) => app.note(Level::Warn, format!("cannot read the draft {}: {e}", draft_path.display())),
    }
    let result = event_loop(&mut app, setup, engine, global.mouse, &draft_path, checker).await;
    match result {
        Ok(in_flight) => {
            if in_flight > 0 && demo {
                eprintln!("demo: {} still in flight stop with the simulator", crate::text::plural(in_flight, "job"));
            } else if in_flight > 0 {
                eprintln!(
                    "{} still in flight; they resume at the next start (from the job store)",
                    crate::text::plural(in_flight, "job")
                );
            }
            let pending = app.input.pending_lines();
            if pending > 0 {
                eprintln!(
                    "{} in the URL field kept as a draft ({}); they come back at the next start",
                    crate::text::plural(pending, "line"),
                    draft_path.display()
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("seedance-assets: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The engine this dashboard runs: its handle, its updates and its task.
type Running = (EngineHandle, tokio::sync::mpsc::UnboundedReceiver<Update>, tokio::task::JoinHandle<()>);

/// The next engine update; pending forever while only watching.
async fn next_update(engine: &mut Option<Running>) -> Option<Update> {
    match engine {
        Some((_, updates, _)) => updates.recv().await,
        None => std::future::pending().await,
    }
}

/// While watching: takes over the engine once the owner has exited.
fn try_take_over(app: &mut App, setup: &Setup, engine: &mut Option<Running>) {
    if engine.is_some() {
        return;
    }
    // One try of the lock first: starting the engine waits a moment for a
    // lock held only for an instant, which must not stall this event loop
    // every tick while the owner runs.
    let started = match crate::store::owner(&setup.paths.store()) {
        Some(owner) => {
            Err(crate::engine::StartError::Store(crate::store::StoreError::Busy { path: setup.paths.store(), owner }))
        }
        None => setup.try_start_engine(),
    };
    match started {
        Ok(running) => {
            let owner = app.watching().unwrap_or("the owner").to_string();
            *engine = Some(running);
            app.set_watching(None);
            app.note(Level::Info, format!("this dashboard now runs the imports ({owner} has exited)"));
            app.set_status("took over: this dashboard now runs the imports");
        }
        Err(crate::engine::StartError::Store(crate::store::StoreError::Busy { owner, .. })) => {
            if app.watching() != Some(crate::text::sanitize(&owner).as_str()) {
                app.set_watching(Some(owner));
            }
        }
        Err(e) => app.set_status(format!("cannot take over the job store: {e}")),
    }
}

async fn event_loop(
    app: &mut App,
    mut setup: Setup,
    mut engine: Option<Running>,
    mouse: bool,
    draft_path: &std::path::Path,
    checker: Option<Arc<Checker>>,
) -> Result<usize, DashboardError> {
    // What the front door did with submitted lines, as each line is done.
    let (intake_tx, mut intake_rx) = tokio::sync::mpsc::unbounded_channel::<Vec<crate::intake::Item>>();
    // Items being conformed, as they go.
    let (conform_tx, mut conform_rx) = tokio::sync::mpsc::unbounded_channel::<crate::intake::Conforming>();
    let conform = intake::Conform {
        conformer: checker
            .as_ref()
            .and_then(|_| setup.conformer(setup.loaded.config.preflight.limits()).ok())
            .map(Arc::new),
        progress: conform_tx,
    };
    // Preflight results of the input pane's lines, as they arrive.
    let (pf_tx, mut pf_rx) = tokio::sync::mpsc::unbounded_channel::<(String, crate::preflight::Verdict)>();
    // The library view's listings and deletes answer here.
    let (lib_tx, mut lib_rx) = tokio::sync::mpsc::unbounded_channel::<pane::library::LibraryNews>();
    // File work (presets, config, exports, the draft) answers here.
    let places = chores::Places {
        store: setup.paths.store(),
        legacy: setup.paths.legacy_journal(),
        exports: setup.paths.data_dir.join("exports"),
        draft: draft_path.to_path_buf(),
    };
    let (chores, mut done_rx) = chores::Chores::start(setup.loaded.clone(), places);
    // The watched folders, and what the front door did with their files.
    let (mut watcher, mut watch_rx) = watcher::Watcher::new(&setup.paths.data_dir, &setup.profile.name);
    let (watch_done_tx, mut watch_done_rx) = tokio::sync::mpsc::unbounded_channel::<Vec<crate::intake::Item>>();
    watcher.start(app, folders_idle(&setup, engine.is_some()));
    // A change to the stored list made in a shell (`watch add|remove`) is followed.
    let mut folders_changed = tokio::time::interval(FOLDERS_EVERY);
    folders_changed.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    // The account's asset count for the header: one free listing a minute,
    // if the server has one.
    // A server without a listing is not asked again.
    let no_listing = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let count_assets = |setup: &Setup| {
        let (client, max, tx) = (setup.client.clone(), setup.profile.limits.max_assets, lib_tx.clone());
        let no_listing = no_listing.clone();
        tokio::spawn(async move {
            let total = match crate::library::held(&client).await {
                Ok(total) => total,
                Err(crate::api::LibraryError::Absent { .. }) => {
                    no_listing.store(true, std::sync::atomic::Ordering::Relaxed);
                    None
                }
                Err(_) => None,
            };
            let _ = tx.send(pane::library::LibraryNews::Holdings(total.map(|n| (n, max))));
        });
    };
    let mut recount = tokio::time::interval(HOLDINGS_EVERY);
    recount.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    // The draft text last handed to the chores (saved, or being saved).
    let mut asked_draft = app.urls_text();
    let save_draft = |app: &App, asked: &mut String| {
        let text = app.urls_text();
        if text != *asked {
            chores.ask(Chore::SaveDraft(text.clone()));
            *asked = text;
        }
    };
    let (_guard, mut terminal) = term::TerminalGuard::enter(mouse).map_err(DashboardError::Terminal)?;
    let mut events = EventStream::new();
    let mut sigterm = signal(SignalKind::terminate()).map_err(DashboardError::Signal)?;
    let mut sighup = signal(SignalKind::hangup()).map_err(DashboardError::Signal)?;
    let mut sigint = signal(SignalKind::interrupt()).map_err(DashboardError::Signal)?;
    let mut watch = tokio::time::interval(WATCH);
    watch.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut store_version = 0;
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut next_frame = Instant::now();
    let mut hung_up = false;
    let mut first_full_frame = true;
    'main: loop {
        if app.dirty && Instant::now() >= next_frame {
            frame(&mut terminal, app)?;
            let _ = crossterm::execute!(terminal.backend_mut(), EndSynchronizedUpdate);
            app.dirty = false;
            next_frame = Instant::now() + FRAME;
            if first_full_frame && app.loaded {
                first_full_frame = false;
                let ms = STARTED.get().map_or(0.0, |t| t.elapsed().as_secs_f64() * 1000.0);
                tracing::info!("first frame with {} jobs drawn {ms:.1} ms after start", app.list.total());
            }
        }
        if first_full_frame && app.loaded {
            // The job store's jobs are in: show them now rather than after the frame pause.
            next_frame = Instant::now();
        }
        let animating = app.in_flight() > 0;
        tokio::select! {
            ev = events.next() => match ev {
                Some(Ok(Event::Key(k))) => app.handle_key(k),
                Some(Ok(Event::Paste(text))) => app.handle_paste(&text),
                Some(Ok(Event::Resize(..))) => app.dirty = true,
                Some(Ok(Event::Mouse(m))) => app.handle_mouse(m),
                Some(Ok(_)) => {}
                // The terminal went away (an SSH drop): stop rather than spin.
                Some(Err(_)) | None => { hung_up = true; break 'main; }
            },
            up = next_update(&mut engine) => match up {
                Some(u) => {
                    app.apply(u);
                    if let Some((_, updates, _)) = &mut engine {
                        for _ in 0..UPDATE_BATCH {
                            match updates.try_recv() {
                                Ok(u) => app.apply(u),
                                Err(_) => break,
                            }
                        }
                    }
                }
                None => break 'main,
            },
            _ = watch.tick(), if engine.is_none() => {
                // While watching, the owner's writes show up here (this
                // dashboard's own engine reports its changes as updates, and
                // only those touching the list's window make it read again).
                if app.list.poll_changes(&mut store_version) {
                    app.dirty = true;
                }
                try_take_over(app, &setup, &mut engine);
                if engine.is_some() {
                    watcher.start(app, folders_idle(&setup, true));
                }
            }
            Some(w) = watch_rx.recv() => {
                let groups = watcher.take(w, &mut watch_rx, app);
                if let Some((engine, ..)) = &engine {
                    for (group, paths) in groups {
                        intake::start_watched(&setup, engine, checker.clone(), &conform, &group, paths, &watch_done_tx);
                    }
                }
            }
            Some(items) = watch_done_rx.recv() => watcher.done(app, items),
            _ = folders_changed.tick() => watcher.refresh(app, folders_idle(&setup, engine.is_some())),
            Some(items) = intake_rx.recv() => app.intake_done(items),
            Some(c) = conform_rx.recv() => app.conforming(&c),
            Some(news) = lib_rx.recv() => app.library_news(news),
            Some(done) = done_rx.recv() => chore_done(app, &mut setup, engine.as_ref(), done),
            Some((key, verdict)) = pf_rx.recv() => {
                app.input.set_check(key, verdict);
                app.dirty = true;
            }
            _ = tokio::time::sleep_until(next_frame), if app.dirty => {}
            _ = tick.tick(), if animating => app.advance_tick(),
            _ = recount.tick(), if engine.is_some() && !no_listing.load(std::sync::atomic::Ordering::Relaxed) => {
                count_assets(&setup);
            }
            _ = sigterm.recv() => break 'main,
            _ = sigint.recv() => break 'main,
            _ = sighup.recv() => { hung_up = true; break 'main; }
        }
        if let Some(warning) = setup.log_fault().and_then(crate::logging::LogFault::take) {
            app.note(Level::Warn, warning);
        }
        let editing = *app.mode() == app::Mode::Editing;
        if !editing {
            save_draft(app, &mut asked_draft);
        }
        // Check lines once editing stops (not on every keystroke: each check
        // is a request), and submitted ones at once.
        if let Some(checker) = &checker {
            check_lines(app, checker, &pf_tx, editing);
        }
        for effect in app.take_effects() {
            match effect {
                Effect::Quit => break 'main,
                Effect::Engine(mut cmd) => {
                    if let Command::Submit { jobs, .. } = &mut cmd {
                        setup.stamp_profile(jobs);
                    }
                    if let Some((engine, ..)) = &engine {
                        engine.send(cmd);
                    }
                }
                Effect::Copy(text) => {
                    let mut out = std::io::stdout();
                    let _ = crossterm::execute!(out, crossterm::clipboard::CopyToClipboard::to_clipboard_from(text));
                    let _ = out.flush();
                }
                Effect::Export(filter) => chores.ask(Chore::Export(filter)),
                Effect::Intake(submission) => {
                    // Submitting is refused while watching, so an engine runs here.
                    if let Some((engine, ..)) = &engine {
                        intake::start(app, &setup, engine, checker.clone(), &conform, submission, &intake_tx);
                    }
                }
                Effect::Resume => chores.ask(Chore::ReloadConfig { resume: true }),
                Effect::ReloadConfig => chores.ask(Chore::ReloadConfig { resume: false }),
                Effect::SavePreset(change) => chores.ask(Chore::SavePreset(change)),
                Effect::Library(ask) => library_ask(&setup, ask, &lib_tx),
                Effect::Folders(ask) => watcher.ask(app, ask, folders_idle(&setup, engine.is_some())),
            }
        }
    }
    // Quit: keep the unsubmitted lines (waiting for every file chore asked
    // for), let creations in flight finish (bounded), then leave.
    save_draft(app, &mut asked_draft);
    chores.finish().await;
    while let Ok(done) = done_rx.try_recv() {
        if let chores::Done::DraftSaved(Err(e)) = done {
            app.set_status(format!("cannot save the draft {}: {e}", draft_path.display()));
            eprintln!("seedance-assets: cannot save the draft {}: {e}", draft_path.display());
        }
    }
    let Some((engine, mut updates, task)) = engine else {
        return Ok(0);
    };
    engine.send(Command::Shutdown);
    if !hung_up {
        app.set_status("stopping: waiting for creations in flight…");
        let _ = frame(&mut terminal, app);
    }
    app.refresh();
    let mut in_flight = app.in_flight();
    let deadline = Instant::now() + Duration::from_secs(12);
    while let Ok(Some(u)) = tokio::time::timeout_at(deadline, updates.recv()).await {
        if let Update::Stopped { in_flight: n } = u {
            in_flight = n;
            break;
        }
        app.apply(u);
    }
    let _ = task.await;
    Ok(in_flight)
}

/// Why the watched folders cannot be watched now, if so.
fn folders_idle(setup: &Setup, runs_engine: bool) -> Option<String> {
    if !runs_engine {
        return Some("another process runs the imports (this dashboard only shows them)".into());
    }
    setup.storage().err().map(|e| format!("watched files go through your bucket: {e}"))
}

/// Reads what the frame shows, then draws it in one synchronized update.
fn frame(terminal: &mut term::Term, app: &mut App) -> Result<(), DashboardError> {
    let size = terminal.size().map_err(DashboardError::Draw)?;
    view::prepare(app, ratatui::layout::Rect::new(0, 0, size.width, size.height));
    let _ = crossterm::queue!(terminal.backend_mut(), BeginSynchronizedUpdate);
    terminal.draw(|f| view::draw(f, app)).map_err(DashboardError::Draw)?;
    Ok(())
}

/// Asks the profile's server for the library view, off the event loop;
/// each answer comes back through `tx`.
fn library_ask(
    setup: &Setup,
    ask: effect::LibraryAsk,
    tx: &tokio::sync::mpsc::UnboundedSender<pane::library::LibraryNews>,
) {
    use pane::library::LibraryNews;
    let (client, tx) = (setup.client.clone(), tx.clone());
    match ask {
        effect::LibraryAsk::List(group) => {
            tokio::spawn(async move {
                let q = crate::api::AssetQuery { group_ids: vec![group.clone()], ..Default::default() };
                let mut pages = std::pin::pin!(crate::library::assets(&client, &q));
                while let Some(page) = pages.next().await {
                    let news = match page {
                        Ok(page) => LibraryNews::Page { group: group.clone(), page, last: false },
                        Err(e) => LibraryNews::Failed { group: group.clone(), error: e.to_string() },
                    };
                    if tx.send(news).is_err() {
                        return;
                    }
                }
                let done = crate::api::Page { items: Vec::new(), unreadable: 0, total: None };
                let _ = tx.send(LibraryNews::Page { group, page: done, last: true });
            });
        }
        effect::LibraryAsk::Delete(id) => {
            tokio::spawn(async move {
                let result = crate::library::delete_asset(&client, &id).await.map_err(|e| e.to_string());
                let _ = tx.send(LibraryNews::Deleted { id, result });
            });
        }
    }
}

/// Shows what a file chore did (and resumes the engine once the config
/// it asked for is read).
fn chore_done(app: &mut App, setup: &mut Setup, engine: Option<&Running>, done: chores::Done) {
    use chores::Done;
    app.dirty = true;
    match done {
        Done::PresetSaved(change, result) => {
            let presets = result.map(|loaded| {
                let p = loaded.config.presets.clone();
                setup.loaded = loaded;
                p
            });
            app.preset_saved(&change, presets);
        }
        Done::ConfigReloaded { resume: false, result } => {
            let presets = result.map(|loaded| {
                let p = loaded.config.presets.clone();
                setup.loaded = loaded;
                p
            });
            app.config_reloaded(presets);
        }
        Done::ConfigReloaded { resume: true, result } => {
            match result.map_err(crate::exit::Failure::from).and_then(|loaded| setup.adopt(loaded)) {
                Ok(clients) => {
                    if let Some((engine, ..)) = engine {
                        // Fixed bucket credentials take effect too.
                        if let Ok(storage) = setup.storage() {
                            engine.send(Command::SetStorage(storage.clone()));
                        }
                        engine.send(Command::Resume(Some(clients)));
                    }
                }
                Err(e) => app.note(Level::Error, format!("cannot resume: {e}")),
            }
        }
        Done::Exported(Ok((path, n))) => {
            app.set_status(format!("exported {} to {}", crate::text::plural(n, "job"), path.display()))
        }
        Done::Exported(Err(e)) => app.set_status(format!("export failed: {e}")),
        Done::DraftSaved(Ok(())) => {}
        Done::DraftSaved(Err(e)) => app.set_status(format!("cannot save the draft: {e}")),
    }
}

/// The preflight checker for the input pane, when preflight is on; the
/// pane judges its lines by the config's policy either way.
fn preflight_checker(app: &mut App, setup: &Setup) -> Option<Arc<Checker>> {
    let cfg = &setup.loaded.config;
    let mut policy =
        crate::intake::Policy { mode: cfg.preflight.mode, unprobeable: cfg.preflight.unprobeable, consent: false };
    let checker = match cfg.preflight.mode {
        crate::config::PreflightMode::Off => None,
        _ => match setup.preflight(&cfg.preflight) {
            Ok(p) => Some(Arc::new(Checker::new(p))),
            Err(e) => {
                app.note(Level::Warn, format!("preflight is off: {e}"));
                policy.mode = crate::config::PreflightMode::Off;
                None
            }
        },
    };
    app.input.set_policy(policy);
    checker
}

/// Starts preflight of the input pane's lines that have no result yet; each
/// result comes back through `results` as it arrives.
fn check_lines(
    app: &mut App,
    checker: &Arc<Checker>,
    results: &tokio::sync::mpsc::UnboundedSender<(String, crate::preflight::Verdict)>,
    editing: bool,
) {
    let wanted = app.input.wanted_checks(editing);
    if wanted.is_empty() {
        return;
    }
    app.dirty = true;
    let (checker, tx) = (checker.clone(), results.clone());
    tokio::spawn(async move {
        let checks = futures::stream::iter(wanted).map(|(key, job)| {
            let checker = checker.clone();
            async move { (key, checker.verdict(&job, None).await) }
        });
        let mut checks = std::pin::pin!(checks.buffer_unordered(PREVIEW_CHECKS));
        while let Some(result) = checks.next().await {
            if tx.send(result).is_err() {
                break;
            }
        }
    });
}

/// URL lines of the input pane checked at once while they are shown.
const PREVIEW_CHECKS: usize = 16;
