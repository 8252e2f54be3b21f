//! `retry` and `forget`: the dashboard's `r` and `x`, through the engine
//! (which records them in the job store), on the jobs a [`Selection`] picks.

use std::collections::HashSet;
use std::io::{BufRead, IsTerminal, Write};

use tokio::sync::mpsc::UnboundedReceiver;

use super::args::Selection;
use super::report::{print_json, print_table, selected_jobs};
use crate::engine::{Command, EngineHandle, Job, JobId, JobState, Update};
use crate::exit::{Failure, NOT_ALL_ACTIVE, SUCCESS, USAGE};
use crate::options::GlobalArgs;
use crate::setup::Setup;
use crate::text::plural;

/// True when creating `j` again could make a second (billed) asset: the
/// first creation may have reached the server.
pub(crate) fn could_duplicate(j: &Job) -> bool {
    if j.retry_may_duplicate() {
        return true;
    }
    // Journals written before jobs carried `may_exist`: judge by the reason.
    match j.state {
        JobState::Rejected => j.error.as_deref().is_some_and(|e| {
            let e = e.to_lowercase();
            ["outcome unknown", "may have", "possible duplicate", "timed out", "timeout"].iter().any(|w| e.contains(w))
        }),
        _ => false,
    }
}

/// The job store's jobs as the engine loaded them, and the updates that follow
/// (early non-job updates replayed first).
/// Waits for the engine's start (the store then holds every job as the
/// engine sees it), passing later updates on.
pub(super) async fn loaded(mut updates: UnboundedReceiver<Update>) -> UnboundedReceiver<Update> {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    while let Some(u) = updates.recv().await {
        match u {
            Update::Loaded => break,
            Update::Job(_) => {}
            other => {
                let _ = tx.send(other);
            }
        }
    }
    tokio::spawn(async move {
        while let Some(u) = updates.recv().await {
            if tx.send(u).is_err() {
                break;
            }
        }
    });
    rx
}

/// Passes `r` on; on an error, stops the engine first.
async fn stop_on_error<T>(engine: &EngineHandle, r: Result<T, Failure>) -> Result<T, Failure> {
    if r.is_err() {
        engine.send(Command::Shutdown);
    }
    r
}

/// Asks `question` on the terminal; `Ok(false)` on anything but yes.
/// Without a terminal (a script) it refuses: pass `--yes`.
pub(super) fn confirm(question: &str) -> Result<bool, Failure> {
    if !std::io::stdin().is_terminal() || !std::io::stderr().is_terminal() {
        return Err(Failure::new(USAGE, format!("{question} — not asking without a terminal; pass --yes to go ahead")));
    }
    eprint!("{question} [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer).map_err(|e| format!("cannot read the answer: {e}"))?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes"))
}

pub(super) async fn retry(global: &GlobalArgs, select: &Selection, yes: bool, json: bool) -> Result<u8, Failure> {
    let setup = Setup::new(global).await?;
    let (engine, updates, task) = setup.start_engine()?;
    let updates = loaded(updates).await;
    let jobs = stop_on_error(&engine, selected_jobs(global, select)).await?;
    let chosen: Vec<&Job> = jobs
        .iter()
        .filter(|j| matches!(j.state, JobState::Failed | JobState::Rejected | JobState::Uncertain | JobState::Stuck))
        .collect();
    let risky = chosen.iter().filter(|j| could_duplicate(j)).count();
    let go = if chosen.is_empty() {
        eprintln!("nothing to retry (only Failed, Rejected, Uncertain and Stuck jobs can be)");
        false
    } else if risky > 0 && !yes {
        let question = format!(
            "retry {}? {risky} may already exist on the server, and creating again may make a second, billed asset",
            plural(chosen.len(), "job")
        );
        match confirm(&question) {
            Ok(answer) => answer,
            Err(e) => {
                engine.send(Command::Shutdown);
                let _ = task.await;
                return Err(e);
            }
        }
    } else {
        true
    };
    if !go {
        engine.send(Command::Shutdown);
        let _ = task.await;
        return Ok(if chosen.is_empty() { SUCCESS } else { NOT_ALL_ACTIVE });
    }
    let ids: Vec<JobId> = chosen.iter().map(|j| j.id).collect();
    eprintln!("retrying {}", plural(ids.len(), "job"));
    engine.send(Command::Retry(ids.clone()));
    let code = super::import::follow(
        engine,
        updates,
        super::import::Followed::Ids(ids.into_iter().collect()),
        None,
        false,
        json,
        &setup,
    )
    .await;
    let _ = task.await;
    Ok(code)
}

pub(super) async fn forget(global: &GlobalArgs, select: &Selection, yes: bool, json: bool) -> Result<u8, Failure> {
    let setup = Setup::new(global).await?;
    let (engine, updates, task) = setup.start_engine()?;
    let mut updates = loaded(updates).await;
    let chosen = stop_on_error(&engine, selected_jobs(global, select)).await?;
    let go = if chosen.is_empty() {
        eprintln!("nothing to forget");
        Ok(false)
    } else if yes {
        Ok(true)
    } else {
        confirm(&format!(
            "forget {}? they leave the job store (assets on the server stay)",
            plural(chosen.len(), "job")
        ))
    };
    let go = match go {
        Ok(go) => go,
        Err(e) => {
            engine.send(Command::Shutdown);
            let _ = task.await;
            return Err(e);
        }
    };
    if go {
        engine.send(Command::Forget(chosen.iter().map(|j| j.id).collect()));
    }
    engine.send(Command::Shutdown);
    let mut removed = HashSet::new();
    while let Some(u) = updates.recv().await {
        match u {
            Update::Removed(id) => {
                removed.insert(id);
            }
            Update::Log(line) if line.level != crate::engine::Level::Info => eprintln!("warning: {}", line.text),
            Update::Stopped { .. } => break,
            _ => {}
        }
    }
    let _ = task.await;
    if !go {
        return Ok(if chosen.is_empty() { SUCCESS } else { NOT_ALL_ACTIVE });
    }
    let gone: Vec<Job> = chosen.iter().filter(|j| removed.contains(&j.id)).cloned().collect();
    if json {
        print_json(&gone)?;
    } else {
        eprintln!("forgot {}", plural(gone.len(), "job"));
        print_table(&gone)?;
    }
    Ok(if gone.len() == chosen.len() { SUCCESS } else { NOT_ALL_ACTIVE })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::AssetType;
    use crate::engine::NewJob;

    fn job(state: JobState, error: &str) -> Job {
        let spec = NewJob {
            url: "https://x.example/a.png".into(),
            name: "a".into(),
            asset_type: AssetType::Image,
            group_id: "g".into(),
            profile: "default".into(),
            local: None,
            media: None,
            conform: None,
        };
        let mut j = Job::new(1, spec, jiff::Timestamp::now());
        j.state = state;
        j.error = Some(error.into());
        j
    }

    #[test]
    fn only_a_possibly_processed_creation_could_duplicate() {
        assert!(could_duplicate(&job(JobState::Uncertain, "outcome unknown (network error)")));
        assert!(could_duplicate(&job(JobState::Rejected, "request timed out after sending")));
        assert!(!could_duplicate(&job(JobState::Rejected, "rejected: NotFound.group_id: no such group")));
        assert!(!could_duplicate(&job(JobState::Failed, "InvalidParameter.DownloadFailed")));
        assert!(!could_duplicate(&job(JobState::Stuck, "still processing")));
        let mut contradictory = job(JobState::Rejected, "rejected: E9: odd");
        contradictory.may_exist = true;
        assert!(could_duplicate(&contradictory), "the engine's mark decides");
    }
}
