//! The dashboard's side of the front door: the lines Enter (or the
//! send-anyway key) submits run through [`crate::intake`] in a task of their
//! own — the screen stays live while files are read and URLs probed — and
//! each line's items come back once every one of them is decided and sent.

use std::collections::HashMap;
use std::sync::Arc;

use futures::StreamExt;
use tokio::sync::mpsc::UnboundedSender;

use super::app::App;
use super::pane::input::Submission;
use crate::engine::{EngineHandle, Level};
use crate::intake::{Checker, Intake, Item, Origin, Source, send};
use crate::setup::Setup;

/// The dashboard's conform step, and where its progress is told.
pub(super) struct Conform {
    /// The conformer (`None` when it could not be built: preflight off, or TLS).
    pub conformer: Option<Arc<crate::conform::Conformer>>,
    /// Progress of items being conformed.
    pub progress: UnboundedSender<crate::intake::Conforming>,
}

/// Starts the front door on `submission`; what it did to each line comes
/// back through `done`.
pub(super) fn start(
    app: &mut App,
    setup: &Setup,
    engine: &EngineHandle,
    checker: Option<Arc<Checker>>,
    conform: &Conform,
    submission: Submission,
    done: &UnboundedSender<Vec<Item>>,
) {
    let defaults = match app.input.defaults() {
        Ok(d) => d,
        Err(e) => {
            app.note(Level::Error, format!("not sent: {e}"));
            return;
        }
    };
    // Conformed: lines sent with the conform key, or every line of a preset that says so.
    let preset = app.preset_name().and_then(|n| app.presets.iter().find(|p| p.name == n));
    let conformer = match &conform.conformer {
        Some(c) if submission.conform || setup.loaded.config.conforms(preset) => Some(Arc::clone(c)),
        _ => None,
    };
    let policy = crate::intake::Policy { consent: submission.consent, ..app.input.policy() };
    let intake = intake(setup, defaults, policy, checker, conformer, conform);
    spawn(intake, Source::inline("editor", submission.lines.join("\n")), engine, done);
}

/// The dashboard's front door: these defaults and policy, this profile's
/// bucket and limits, progress told to the rows.
fn intake(
    setup: &Setup,
    defaults: crate::intake::ImportDefaults,
    policy: crate::intake::Policy,
    checker: Option<Arc<Checker>>,
    conformer: Option<Arc<crate::conform::Conformer>>,
    conform: &Conform,
) -> Arc<Intake> {
    let cfg = &setup.loaded.config.preflight;
    Arc::new(Intake {
        defaults,
        policy,
        checker,
        storage: setup.storage().cloned().map_err(|e| e as Arc<dyn std::error::Error + Send + Sync>),
        limits: cfg.limits(),
        recursive: false,
        profile: setup.profile.name.clone(),
        concurrency: cfg.concurrency,
        conform: conformer,
        progress: Some(conform.progress.clone()),
    })
}

/// The front door for a watched folder's files: lines of their paths into
/// `group`, named `{stem}`, types inferred, nothing unchecked created (the
/// folder was accepted when it was added), conformed when the config says so.
pub(super) fn start_watched(
    setup: &Setup,
    engine: &EngineHandle,
    checker: Option<Arc<Checker>>,
    conform: &Conform,
    group: &str,
    paths: Vec<String>,
    done: &UnboundedSender<Vec<Item>>,
) {
    let cfg = &setup.loaded.config.preflight;
    let conformer = conform.conformer.as_ref().filter(|_| setup.loaded.config.conforms(None)).map(Arc::clone);
    let defaults = crate::intake::ImportDefaults {
        group_id: group.to_string(),
        asset_type: crate::config::TypeChoice::Infer,
        template: crate::config::Template::stem(),
        date: crate::intake::today(),
        force_type: false,
        loopback_http: setup.is_demo(),
    };
    let policy = crate::intake::Policy { mode: cfg.mode, unprobeable: cfg.unprobeable, consent: false };
    let intake = intake(setup, defaults, policy, checker, conformer, conform);
    spawn(intake, Source::inline("watch", paths.join("\n")), engine, done);
}

/// Runs `source` through `intake` in a task of its own; each line's items
/// come back through `done` once all of them are decided and sent.
fn spawn(intake: Arc<Intake>, source: Source, engine: &EngineHandle, done: &UnboundedSender<Vec<Item>>) {
    let (engine, done) = (engine.clone(), done.clone());
    tokio::spawn(async move {
        let items = intake.read(vec![source]).await;
        // Items per line: a line is reported once all of its items are.
        let mut expected: HashMap<Origin, usize> = HashMap::new();
        for it in &items {
            *expected.entry(it.origin.clone()).or_default() += 1;
        }
        // A line's items decided so far (a split clip's parts count as one).
        let mut waiting: HashMap<Origin, (usize, Vec<Item>)> = HashMap::new();
        let mut decided = intake.decide(futures::stream::iter(items)).ready_chunks(256);
        while let Some(batch) = decided.next().await {
            let mut sent: Vec<Item> = Vec::new();
            let mut sizes = Vec::new();
            for (_, its) in batch {
                sizes.push(its.len());
                sent.extend(its);
            }
            send(&engine, &mut sent, false).await;
            let mut report = Vec::new();
            let mut sent = sent.into_iter();
            for size in sizes {
                let its: Vec<Item> = sent.by_ref().take(size).collect();
                let Some(origin) = its.first().map(|it| it.origin.clone()) else { continue };
                let got = waiting.entry(origin.clone()).or_default();
                got.0 += 1;
                got.1.extend(its);
                if got.0 == expected.get(&origin).copied().unwrap_or(0) {
                    report.extend(waiting.remove(&origin).map(|(_, its)| its).unwrap_or_default());
                }
            }
            if !report.is_empty() && done.send(report).is_err() {
                return;
            }
        }
    });
}
