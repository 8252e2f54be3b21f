//! The CLI's side of the front door: the intake decides every item, this
//! prints each one that is not created (with its place and reason) and sends
//! the others to the engine in batches as they are decided, so creation of
//! checked items never waits for the rest.

use std::collections::HashMap;
use std::sync::Arc;

use futures::StreamExt;
use tokio::sync::mpsc::UnboundedSender;

use crate::engine::{EngineHandle, Job, JobId};
use crate::intake::{Fate, Intake, Item, Tally, send};

/// What the stage did, for the summary and the exit code.
#[derive(Debug, Default)]
pub(super) struct Outcome {
    /// Created, existing, held back, refused.
    pub tally: Tally,
    /// The engine stopped before taking everything.
    pub engine_gone: bool,
    /// The run was interrupted before every line was checked.
    pub interrupted: bool,
    /// Refused items the conform step could make pass.
    pub conformable: usize,
}

/// A job the follower is to show: created now, or existing already, with its
/// position in the input.
#[derive(Debug)]
pub(super) enum Fed {
    /// Created in this run.
    Created(JobId, usize),
    /// Already in the job store: nothing new was created.
    Existing(Box<Job>, usize),
}

/// Messages with the same reason printed before they are summarised.
const SAME_REASON_SHOWN: usize = 5;

/// Decides `items`, prints those not created, sends the rest and reports
/// the jobs to `feed`. Per-item messages go through `say`.
pub(super) async fn run(
    intake: Arc<Intake>,
    items: impl futures::Stream<Item = Item> + Send + 'static,
    engine: &EngineHandle,
    allow_duplicates: bool,
    feed: UnboundedSender<Vec<Fed>>,
    holdings: Option<(u64, u64)>,
    say: impl Fn(String),
) -> Outcome {
    let mut out = Outcome::default();
    // Room left under the account's asset cap, when the server said.
    let mut room = holdings.map(|(held, max)| max.saturating_sub(held));
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut decided = Box::pin(intake.decide(items).ready_chunks(256));
    while let Some(batch) = decided.next().await {
        let (positions, mut items): (Vec<usize>, Vec<Item>) =
            batch.into_iter().flat_map(|(i, its)| its.into_iter().map(move |it| (i, it))).unzip();
        for it in &items {
            out.conformable += usize::from(it.conformable);
            if let Some(note) = &it.note {
                say(format!("{}: {note}", it.place()));
            }
            let (reason, text) = match &it.fate {
                Fate::Refused(why) => (why, format!("{}: refused: {why}", it.place())),
                Fate::Held { reason, .. } => {
                    (reason, format!("{}: held back: {reason} (--allow-unchecked creates it anyway)", it.place()))
                }
                Fate::Create { warning: Some(w), .. } => (w, format!("warning: {}: {w}", it.place())),
                _ => continue,
            };
            let n = seen.entry(reason.clone()).or_default();
            *n += 1;
            if *n <= SAME_REASON_SHOWN {
                say(text);
            }
        }
        // The follower hangs up when interrupted: send nothing more.
        if feed.is_closed() {
            out.interrupted = true;
            break;
        }
        let creating = items.iter().filter(|it| matches!(it.fate, Fate::Create { .. })).count() as u64;
        if let (Some(left), Some((held, max))) = (room, holdings)
            && creating > left
        {
            let fix = "`seedance-assets library delete --status failed` (or --older-than DAYS) makes room";
            say(if left == 0 {
                format!(
                    "warning: the account holds {held} assets and may hold {max} (limits.max_assets): the server may refuse every creation, and creation then pauses; {fix}"
                )
            } else {
                format!(
                    "warning: the account holds {held} of the {max} assets it may hold (limits.max_assets): the server will refuse creations past {left} more, and creation then pauses; {fix}"
                )
            });
            room = None;
        }
        room = room.map(|r| r.saturating_sub(creating));
        let alive = send(engine, &mut items, allow_duplicates).await;
        let mut fed = Vec::new();
        for (pos, it) in positions.into_iter().zip(items) {
            out.tally.add(&it.fate);
            let place = it.place();
            match it.fate {
                Fate::Created(id) => fed.push(Fed::Created(id, pos)),
                Fate::Existing { job, .. } => fed.push(Fed::Existing(job, pos)),
                Fate::Refused(why) if !alive => say(format!("{place}: {why}")),
                _ => {}
            }
        }
        let _ = feed.send(fed);
        if !alive {
            out.engine_gone = true;
            break;
        }
    }
    for (reason, n) in seen {
        if n > SAME_REASON_SHOWN {
            say(format!("… and {} more: {reason}", n - SAME_REASON_SHOWN));
        }
    }
    out
}
