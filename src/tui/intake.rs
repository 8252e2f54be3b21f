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

/// Starts the front door on `submission`; what it did to each line comes
/// back through `done`.
pub(super) fn start(
    app: &mut App,
    setup: &Setup,
    engine: &EngineHandle,
    checker: Option<Arc<Checker>>,
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
    let cfg = &setup.loaded.config.preflight;
    let intake = Arc::new(Intake {
        defaults,
        policy: crate::intake::Policy { consent: submission.consent, ..app.input.policy() },
        checker,
        storage: setup.storage().cloned().map_err(|e| e as Arc<dyn std::error::Error + Send + Sync>),
        limits: cfg.limits(),
        recursive: false,
        profile: setup.profile.name.clone(),
        concurrency: cfg.concurrency,
    });
    let source = Source::inline("editor", submission.lines.join("\n"));
    let (engine, done) = (engine.clone(), done.clone());
    tokio::spawn(async move {
        let items = intake.read(vec![source]).await;
        // Items per line: a line is reported once all of its items are.
        let mut expected: HashMap<Origin, usize> = HashMap::new();
        for it in &items {
            *expected.entry(it.origin.clone()).or_default() += 1;
        }
        let mut waiting: HashMap<Origin, Vec<Item>> = HashMap::new();
        let mut decided = intake.decide(futures::stream::iter(items)).ready_chunks(256);
        while let Some(batch) = decided.next().await {
            let mut batch: Vec<Item> = batch.into_iter().map(|(_, it)| it).collect();
            send(&engine, &mut batch, false).await;
            let mut report = Vec::new();
            for it in batch {
                let origin = it.origin.clone();
                let got = waiting.entry(origin.clone()).or_default();
                got.push(it);
                if got.len() == expected.get(&origin).copied().unwrap_or(0) {
                    report.extend(waiting.remove(&origin).unwrap_or_default());
                }
            }
            if !report.is_empty() && done.send(report).is_err() {
                return;
            }
        }
    });
}
