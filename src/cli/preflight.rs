//! The preflight stage of `import`: every parsed line is checked before it
//! is submitted, and the lines that pass are submitted in batches as their
//! verdicts arrive, so creation of checked items never waits for the rest.

use std::collections::HashMap;
use std::sync::Arc;

use futures::StreamExt;
use tokio::sync::mpsc::UnboundedSender;

use crate::config::{PreflightConfig, PreflightMode, Unprobeable};
use crate::engine::{EngineHandle, JobId, NewJob};
use crate::preflight::{Line, Preflight, Verdict};

/// What the stage did, for the summary and the exit code.
#[derive(Debug, Default)]
pub(super) struct Outcome {
    /// Jobs the engine accepted.
    pub accepted: usize,
    /// Items the engine skipped as duplicates.
    pub duplicates: usize,
    /// Lines refused (strict mode), unprobeable lines refused by config,
    /// and lines the engine would not take.
    pub refused: usize,
    /// The engine stopped before taking everything.
    pub engine_gone: bool,
    /// The run was interrupted before every line was checked.
    pub interrupted: bool,
}

/// "Not checked" warnings printed per reason before they are summarised.
const NOT_CHECKED_SHOWN: usize = 5;

/// Checks `lines` (unless `mode` is off), submits those that may go on in
/// batches as their verdicts arrive, and sends each batch's accepted ids
/// to `ids`. Per-line results go to stderr through `say`.
pub(super) async fn check_and_submit(
    lines: Vec<Line>,
    cfg: &PreflightConfig,
    checker: Option<Arc<Preflight>>,
    engine: &EngineHandle,
    allow_duplicates: bool,
    ids: UnboundedSender<Vec<(JobId, usize)>>,
    say: impl Fn(String),
) -> Outcome {
    let mut out = Outcome::default();
    let Some(checker) = checker.filter(|_| cfg.mode != PreflightMode::Off) else {
        let jobs = lines.into_iter().enumerate().map(|(i, l)| (i, l.job)).collect();
        submit(engine, jobs, allow_duplicates, &ids, &mut out).await;
        return out;
    };
    let mut verdicts = checker.check_lines(lines).ready_chunks(256);
    let mut not_checked: HashMap<String, usize> = HashMap::new();
    while let Some(batch) = verdicts.next().await {
        let mut jobs = Vec::new();
        for (i, line, checked) in batch {
            let at = format!("{}:{}", line.label, line.number);
            let goes_on = match &checked.verdict {
                Verdict::Passed(_) => true,
                Verdict::Refused { .. } if cfg.mode == PreflightMode::Warn => {
                    say(format!(
                        "warning: {at}: {} (imported anyway: preflight mode is warn)",
                        checked.verdict.describe()
                    ));
                    true
                }
                Verdict::Refused { reasons, .. } => {
                    say(format!("{at}: refused: {}", reasons.join("; ")));
                    false
                }
                Verdict::NotChecked { reason } => {
                    let seen = not_checked.entry(reason.clone()).or_default();
                    *seen += 1;
                    let allow = cfg.unprobeable == Unprobeable::Allow;
                    if *seen <= NOT_CHECKED_SHOWN {
                        let then =
                            if allow { "imported unchecked" } else { "not imported: preflight.unprobeable = refuse" };
                        let level = if allow { "warning: " } else { "" };
                        say(format!("{level}{at}: {} ({then})", checked.verdict.describe()));
                    }
                    allow
                }
            };
            if goes_on {
                jobs.push((i, line.job));
            } else {
                out.refused += 1;
            }
        }
        // The follower hangs up when interrupted: submit nothing more.
        if ids.is_closed() {
            out.interrupted = true;
            break;
        }
        if !jobs.is_empty() && !submit(engine, jobs, allow_duplicates, &ids, &mut out).await {
            break;
        }
    }
    for (reason, n) in not_checked {
        if n > NOT_CHECKED_SHOWN {
            say(format!("warning: {} more lines not checked: {reason}", n - NOT_CHECKED_SHOWN));
        }
    }
    out
}

/// Submits one batch of (input position, job); sends the accepted ids with
/// their input positions, so output can follow the input's order. False
/// when the engine has stopped.
async fn submit(
    engine: &EngineHandle,
    batch: Vec<(usize, NewJob)>,
    allow_duplicates: bool,
    ids: &UnboundedSender<Vec<(JobId, usize)>>,
    out: &mut Outcome,
) -> bool {
    let n = batch.len();
    let (positions, jobs): (Vec<usize>, Vec<NewJob>) = batch.into_iter().unzip();
    match engine.submit(jobs.clone(), allow_duplicates).await {
        Some(r) => {
            out.accepted += r.accepted.len();
            out.duplicates += r.duplicates.len();
            // Accepted ids come in submission order, duplicates left out.
            let mut dups: Vec<&NewJob> = r.duplicates.iter().map(|(j, _)| j).collect();
            let mut accepted = r.accepted.iter();
            let mut placed = Vec::with_capacity(r.accepted.len());
            for (pos, job) in positions.into_iter().zip(&jobs) {
                if let Some(k) = dups.iter().position(|d| *d == job) {
                    dups.swap_remove(k);
                } else if let Some(id) = accepted.next() {
                    placed.push((*id, pos));
                }
            }
            let _ = ids.send(placed);
            true
        }
        None => {
            out.engine_gone = true;
            out.refused += n;
            false
        }
    }
}
