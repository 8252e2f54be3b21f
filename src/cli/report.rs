//! `status` and `export`: jobs from the journal as a table, JSON or CSV.

use std::io::Write;
use std::path::Path;

use super::args::{ExportFormat, GlobalArgs};
use crate::engine::journal::read_jobs;
use crate::engine::{Job, JobState};
use crate::export::{write_csv, write_json};

fn journal_jobs(global: &GlobalArgs, states: &[JobState]) -> Result<Vec<Job>, String> {
    let paths = global.paths()?;
    let (jobs, warnings) =
        read_jobs(&paths.journal()).map_err(|e| format!("cannot read {}: {e}", paths.journal().display()))?;
    for w in warnings {
        eprintln!("warning: {w}");
    }
    Ok(jobs.into_iter().filter(|j| states.is_empty() || states.contains(&j.state)).collect())
}

/// Prints jobs as JSON (an array) to stdout.
pub(crate) fn print_json(jobs: &[Job]) -> Result<(), String> {
    write_json(jobs, std::io::stdout().lock())
}

/// Prints jobs as an aligned text table to stdout.
pub(crate) fn print_table(jobs: &[Job]) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{:>6}  {:<10}  {:<5}  {:<28}  RESULT", "ID", "STATE", "TYPE", "NAME");
    for j in jobs {
        let result = j.asset_ref().or_else(|| j.error.clone()).or_else(|| j.asset_id.clone()).unwrap_or_default();
        let _ = writeln!(
            out,
            "{:>6}  {:<10}  {:<5}  {:<28}  {}",
            j.id,
            j.state.as_str(),
            j.spec.asset_type.to_string(),
            crate::text::excerpt(&j.spec.name, 28),
            crate::text::sanitize(&result)
        );
    }
}

pub(super) fn status(global: &GlobalArgs, states: &[JobState], search: Option<&str>, json: bool) -> Result<u8, String> {
    let needle = search.map(str::to_lowercase);
    let jobs: Vec<Job> = journal_jobs(global, states)?
        .into_iter()
        .filter(|j| {
            needle.as_ref().is_none_or(|n| {
                [Some(&j.spec.name), Some(&j.spec.url), j.asset_id.as_ref()]
                    .into_iter()
                    .flatten()
                    .any(|f| f.to_lowercase().contains(n))
            })
        })
        .collect();
    if json {
        print_json(&jobs)?;
    } else {
        print_table(&jobs);
        let mut counts: Vec<String> = Vec::new();
        for s in JobState::ALL {
            let n = jobs.iter().filter(|j| j.state == s).count();
            if n > 0 {
                counts.push(format!("{n} {}", s.as_str()));
            }
        }
        eprintln!("{} jobs{}{}", jobs.len(), if counts.is_empty() { "" } else { ": " }, counts.join(", "));
    }
    Ok(0)
}

pub(super) fn export(
    global: &GlobalArgs,
    format: ExportFormat,
    output: Option<&Path>,
    states: &[JobState],
) -> Result<u8, String> {
    let jobs = journal_jobs(global, states)?;
    let mut bytes = Vec::new();
    match format {
        ExportFormat::Json => write_json(&jobs, &mut bytes)?,
        ExportFormat::Csv => write_csv(&jobs, &mut bytes)?,
    }
    match output {
        None => std::io::stdout().lock().write_all(&bytes).map_err(|e| format!("cannot write to stdout: {e}"))?,
        Some(path) => {
            crate::config::atomic_write(path, &bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            eprintln!("exported {} jobs to {}", jobs.len(), path.display());
        }
    }
    Ok(0)
}
