//! `status --follow`: the jobs as they change, written by whichever process
//! owns the job store (an `import --wait` in a script, a dashboard), read
//! from the store without disturbing it.

use std::collections::HashMap;
use std::time::Duration;

use tokio::signal::unix::{SignalKind, signal};

use super::args::Selection;
use super::report::{filter, header, history, profile_cell, row};
use crate::engine::{Job, JobId, JobState};
use crate::exit::{Failure, INTERRUPTED, NOT_ALL_ACTIVE, SUCCESS};
use crate::export::JobRecord;
use crate::options::GlobalArgs;
use crate::setup::Context;
use crate::store::{Filter, History, StoreError};

/// How often the store is read for changes.
const EVERY: Duration = Duration::from_millis(500);

/// Jobs the filter picks that are still in flight.
fn live(history: &History, f: &Filter) -> Result<u64, StoreError> {
    let mut live = f.clone();
    let states: Vec<JobState> = JobState::ALL.into_iter().filter(|s| s.is_in_flight()).collect();
    live.states =
        if f.states.is_empty() { states } else { states.into_iter().filter(|s| f.states.contains(s)).collect() };
    if live.states.is_empty() {
        return Ok(0);
    }
    history.count(&live, u64::MAX)
}

fn print_change(job: &Job, json: bool) -> Result<(), Failure> {
    if json {
        let line = serde_json::to_string(&JobRecord::from(job)).map_err(|e| e.to_string())?;
        super::out::print(&format!("{line}\n"))
    } else {
        super::out::print(&row(job, ""))
    }
}

/// Prints the selection (streamed from the store), then every change to it
/// until nothing is in flight and no process runs the imports, or until
/// interrupted. The jobs followed are those in flight at the start and
/// those that change meanwhile: exits 0 when every one of them ended Active
/// (or there were none), 1 otherwise; jobs that had ended before are shown,
/// not judged.
pub(super) async fn follow(
    global: &GlobalArgs,
    select: &Selection,
    search: Option<&str>,
    json: bool,
) -> Result<u8, Failure> {
    let ctx = Context::load(global)?;
    let history = history(&ctx)?;
    let f = filter(&ctx, global, select, search);
    let mut seq = history.last_seq()?;
    let mut followed: HashMap<JobId, JobState> = HashMap::new();
    let wide = !json && history.profiles()?.len() > 1;
    if !json {
        super::out::print(&header(wide))?;
    }
    history.for_each(&f, |r| {
        let Ok(j) = r else { return Ok(()) };
        if j.state.is_in_flight() {
            followed.insert(j.id, j.state);
        }
        if json { print_change(&j, true) } else { super::out::print(&row(&j, &profile_cell(&j.spec.profile, wide))) }
    })?;
    let store = ctx.paths.store();
    let mut owner = crate::store::owner(&store);
    match &owner {
        Some(o) => eprintln!("following the jobs of {o} (Ctrl-C stops following; the imports go on)"),
        None => eprintln!("no process runs imports on this data dir now"),
    }
    let mut sigint = signal(SignalKind::interrupt()).map_err(|e| e.to_string())?;
    let mut sigterm = signal(SignalKind::terminate()).map_err(|e| e.to_string())?;
    let mut idle_polls = 0u32;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(EVERY) => {}
            _ = sigint.recv() => return Ok(INTERRUPTED),
            _ = sigterm.recv() => return Ok(INTERRUPTED),
        }
        let changes = history.changes(seq)?;
        seq = changes.seq;
        for job in &changes.jobs {
            if f.admits(job) {
                followed.insert(job.id, job.state);
                print_change(job, json)?;
            } else if let Some(state) = followed.get_mut(&job.id) {
                // Followed, and now out of a --state selection.
                *state = job.state;
            }
        }
        for id in changes.forgotten.iter().filter(|id| f.ids.is_empty() || f.ids.contains(id)) {
            followed.remove(id);
            if json {
                super::out::print(&format!("{}\n", serde_json::json!({ "id": id, "status": "forgotten" })))?;
            } else {
                super::out::print(&format!("{id:>6}  forgotten\n"))?;
            }
        }
        let now = crate::store::owner(&store);
        if now != owner {
            match &now {
                Some(o) => eprintln!("now owned by {o}"),
                None => eprintln!("the owner has exited"),
            }
            owner = now;
        }
        let in_flight = live(&history, &f)?;
        if owner.is_none() {
            idle_polls += 1;
            if in_flight > 0 && idle_polls >= 4 {
                eprintln!(
                    "{in_flight} followed jobs are in flight but no process runs them; `seedance-assets wait` resumes them"
                );
                return Ok(NOT_ALL_ACTIVE);
            }
            if in_flight == 0 {
                break;
            }
        } else {
            idle_polls = 0;
        }
    }
    let all_active = followed.values().all(|s| *s == JobState::Active);
    Ok(if all_active { SUCCESS } else { NOT_ALL_ACTIVE })
}
