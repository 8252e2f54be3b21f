//! `status` and `export`: jobs from the job store as a table, JSON, CSV or
//! video-request content.

use std::io::Write;
use std::path::Path;

use super::args::{ExportArgs, ExportFormat, Selection};
use crate::engine::{Job, JobId, JobState};
use crate::exit::{Failure, USAGE};
use crate::export::{ExportError, Exporter, Format, JobRecord, UNKNOWN, write_json};
use crate::options::GlobalArgs;
use crate::setup::Context;
use crate::store::{Filter, History, Unreadable};

/// Opens the job store of the data dir for reading.
pub(super) fn history(ctx: &Context) -> Result<History, Failure> {
    Ok(History::open(&ctx.paths.store(), Some(&ctx.paths.legacy_journal()))?)
}

/// The store query for `select`, `search` and the profile filter
/// (`--profile` or `SEEDANCE_PROFILE`, when given; every profile in the demo).
pub(super) fn filter(ctx: &Context, global: &GlobalArgs, select: &Selection, search: Option<&str>) -> Filter {
    Filter {
        ids: select.ids.clone(),
        states: select.state.clone(),
        needle: search.unwrap_or_default().to_string(),
        profile: if ctx.demo { None } else { global.wanted_profile().map(|(p, _)| p) },
    }
}

/// The store's jobs that `select` and the profile filter pick (only these
/// are read into memory).
pub(super) fn selected_jobs(global: &GlobalArgs, select: &Selection) -> Result<Vec<Job>, Failure> {
    let ctx = Context::load(global)?;
    Ok(history(&ctx)?.jobs(&filter(&ctx, global, select, None))?)
}

/// Prints jobs as JSON (an array) to stdout.
pub(crate) fn print_json(jobs: &[Job]) -> Result<(), Failure> {
    let mut buf = Vec::new();
    write_json(jobs, &mut buf)?;
    super::out::print(&String::from_utf8_lossy(&buf))
}

/// Prints jobs as an aligned text table to stdout (with a PROFILE column
/// when they belong to more than one profile).
pub(crate) fn print_table(jobs: &[Job]) -> Result<(), Failure> {
    let wide = jobs.first().is_some_and(|first| jobs.iter().any(|j| j.spec.profile != first.spec.profile));
    let mut out = header(wide);
    for j in jobs {
        out.push_str(&row(j, &profile_cell(&j.spec.profile, wide)));
    }
    super::out::print(&out)
}

/// Prints the jobs `ids` picks, in that order, read from the store one at a
/// time: as a JSON array, or as a table (with a PROFILE column when `wide`).
/// A job the store does not hold (its write failed) is left out; a row that
/// cannot be read is said on stderr and left out.
pub(crate) fn print_jobs(
    history: &History,
    ids: impl Iterator<Item = JobId>,
    json: bool,
    wide: bool,
) -> Result<(), Failure> {
    let jobs = ids.filter_map(|id| match history.get(id) {
        Ok(job) => job,
        Err(e) => {
            eprintln!("seedance-assets: job #{id} is left out: {e}");
            None
        }
    });
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    if json {
        let mut ex = Exporter::new(Format::Json, &mut out);
        for job in jobs {
            ex.push(&job).map_err(export_failure)?;
        }
        ex.finish().map_err(export_failure)?;
        return Ok(());
    }
    out.write_all(header(wide).as_bytes()).map_err(Failure::stdout)?;
    for job in jobs {
        out.write_all(row(&job, &profile_cell(&job.spec.profile, wide)).as_bytes()).map_err(Failure::stdout)?;
    }
    out.flush().map_err(Failure::stdout)
}

/// A failure to write an export to stdout.
fn export_failure(e: ExportError) -> Failure {
    match e {
        ExportError::Io(e) => Failure::stdout(e),
        other => Failure::from(other),
    }
}

/// The PROFILE cell of a table row, padded; empty when the table has no
/// PROFILE column (`wide` false).
pub(super) fn profile_cell(profile: &str, wide: bool) -> String {
    if wide { format!("{:<12}  ", crate::text::excerpt(profile, 12)) } else { String::new() }
}

/// The status table's header line.
pub(super) fn header(wide: bool) -> String {
    format!("{:>6}  {:<10}  {:<5}  {}{:<28}  RESULT\n", "ID", "STATE", "TYPE", profile_cell("PROFILE", wide), "NAME")
}

/// One job as a line of the status table (`profile` is the PROFILE cell,
/// padded, or empty).
pub(super) fn row(j: &Job, profile: &str) -> String {
    let result = j.asset_ref().or_else(|| j.error.clone()).or_else(|| j.asset_id.clone()).unwrap_or_default();
    line(j.id, j.state.as_str(), &j.spec.asset_type.to_string(), &j.spec.name, profile, &result)
}

/// A row of the store that cannot be read as a job, as a line of the status
/// table: state `unknown`, what could be read, and why not the rest.
fn unreadable_row(u: &Unreadable, profile: &str) -> String {
    let r = JobRecord::from(u);
    line(u.id, UNKNOWN, &r.asset_type, &r.name, profile, r.error.as_deref().unwrap_or_default())
}

fn line(id: JobId, state: &str, asset_type: &str, name: &str, profile: &str, result: &str) -> String {
    format!(
        "{id:>6}  {state:<10}  {:<5}  {profile}{:<28}  {}\n",
        crate::text::excerpt(asset_type, 5),
        crate::text::excerpt(name, 28),
        crate::text::sanitize(result)
    )
}

/// Prints the jobs `select` and `search` pick, streamed from the store (a
/// million rows cost one row of memory): a table (with a PROFILE column when
/// the store holds jobs of more than one profile) and counts on stderr, or a
/// JSON array.
pub(super) fn status(global: &GlobalArgs, select: &Selection, search: Option<&str>, json: bool) -> Result<u8, Failure> {
    let ctx = Context::load(global)?;
    let history = history(&ctx)?;
    let f = filter(&ctx, global, select, search);
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    if json {
        stream_export(&history, &f, Format::Json, &mut out, &Failure::stdout)?;
        return Ok(0);
    }
    let wide = history.profiles()?.len() > 1;
    let mut counts = [0u64; JobState::ALL.len()];
    let (mut n, mut unknown) = (0u64, 0u64);
    out.write_all(header(wide).as_bytes()).map_err(Failure::stdout)?;
    history.for_each(&f, |r| {
        n += 1;
        let line = match r {
            Ok(j) => {
                if let Some(i) = JobState::ALL.iter().position(|s| *s == j.state) {
                    counts[i] += 1;
                }
                row(&j, &profile_cell(&j.spec.profile, wide))
            }
            Err(u) => {
                unknown += 1;
                unreadable_row(&u, &profile_cell(u.profile.as_deref().unwrap_or("?"), wide))
            }
        };
        out.write_all(line.as_bytes()).map_err(Failure::stdout)
    })?;
    out.flush().map_err(Failure::stdout)?;
    let mut parts: Vec<String> =
        JobState::ALL.iter().zip(counts).filter(|(_, c)| *c > 0).map(|(s, c)| format!("{c} {}", s.as_str())).collect();
    if unknown > 0 {
        parts.push(format!("{unknown} {UNKNOWN} (cannot be read from the job store)"));
    }
    let noun = if n == 1 { "job" } else { "jobs" };
    eprintln!("{n} {noun}{}{}", if parts.is_empty() { "" } else { ": " }, parts.join(", "));
    if let Some(caps) = caps_line(&ctx) {
        eprintln!("{caps}");
    }
    Ok(0)
}

/// The processing caps in force, when there are any: `limits.max_processing`
/// and those learned from the server's refusals (kept in `polling.json`).
fn caps_line(ctx: &Context) -> Option<String> {
    let fixed = ctx.profile.limits.max_processing;
    let learned = crate::engine::saved_caps(&ctx.paths.polling());
    let mut parts: Vec<String> = learned
        .iter()
        .map(|(profile, cap)| {
            let cap = if fixed > 0 { (*cap).min(fixed) } else { *cap };
            format!("{cap} for profile `{}` (learned from the server's refusals)", crate::text::sanitize(profile))
        })
        .collect();
    if fixed > 0 {
        parts.push(format!("{fixed} (limits.max_processing)"));
    }
    (!parts.is_empty()).then(|| format!("processing at once, at most: {}", parts.join("; ")))
}

/// Streams the jobs `f` picks from the store into `w` in `format`, one at a
/// time; `io_fail` words a write error (stdout, or the output file). The
/// output is always closed: when the store fails mid-way, the JSON array
/// written so far is ended (valid JSON), then the failure is returned.
fn stream_export(
    history: &History,
    f: &Filter,
    format: Format,
    w: &mut dyn Write,
    io_fail: &dyn Fn(std::io::Error) -> Failure,
) -> Result<usize, Failure> {
    let fail = |e: ExportError| match e {
        ExportError::Io(e) => io_fail(e),
        other => Failure::from(other),
    };
    let mut ex = Exporter::new(format, w);
    let read = history.for_each(f, |r| ex.push_row(&r).map_err(fail));
    let written = ex.finish().map_err(fail);
    read?;
    written
}

pub(super) fn export(global: &GlobalArgs, a: &ExportArgs) -> Result<u8, Failure> {
    let ctx = Context::load(global)?;
    let history = history(&ctx)?;
    let f = filter(&ctx, global, &a.select, None);
    let format = match a.format {
        ExportFormat::Json => Format::Json,
        ExportFormat::Csv => Format::Csv,
        ExportFormat::Content => Format::Content,
    };
    match &a.output {
        None => {
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            stream_export(&history, &f, format, &mut out, &Failure::stdout)?;
        }
        Some(path) => {
            let io_fail = |e: std::io::Error| Failure::new(USAGE, format!("cannot write {}: {e}", path.display()));
            let n = write_output(path, a.force, |w| stream_export(&history, &f, format, w, &io_fail))?;
            eprintln!("exported {n} {} to {}", if n == 1 { "job" } else { "jobs" }, path.display());
        }
    }
    Ok(0)
}

/// Writes an export: atomically (temp file, fsync, rename) onto a regular
/// file or a new path; a device, FIFO, socket or symlink is refused unless
/// `force`, and then written through as it is.
fn write_output(
    path: &Path,
    force: bool,
    fill: impl FnOnce(&mut dyn Write) -> Result<usize, Failure>,
) -> Result<usize, Failure> {
    let special = match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => Some("a symbolic link"),
        Ok(m) if m.is_dir() => return Err(Failure::new(USAGE, format!("{} is a directory", path.display()))),
        Ok(m) if !m.is_file() => Some(crate::text::file_kind(&m)),
        _ => None,
    };
    let fail = |e: std::io::Error| Failure::new(USAGE, format!("cannot write {}: {e}", path.display()));
    match special {
        None => {
            let mut n = 0;
            crate::config::atomic_write_stream(path, |w| fill(w).map(|k| n = k).map_err(Written::Failed)).map_err(
                |e| match e {
                    Written::Io(e) => fail(e),
                    Written::Failed(f) => f,
                },
            )?;
            Ok(n)
        }
        Some(kind) if !force => Err(Failure::new(
            USAGE,
            format!("{} is {kind}; not writing to it (pass --force to write through it)", path.display()),
        )),
        Some(_) => {
            let f = std::fs::OpenOptions::new().write(true).truncate(true).open(path).map_err(fail)?;
            let mut w = std::io::BufWriter::new(f);
            let n = fill(&mut w)?;
            w.flush().map_err(fail)?;
            Ok(n)
        }
    }
}

/// Why streaming an export into its file failed.
enum Written {
    /// Creating, syncing or renaming the file.
    Io(std::io::Error),
    /// Reading the store or writing the export.
    Failed(Failure),
}

impl From<std::io::Error> for Written {
    fn from(e: std::io::Error) -> Self {
        Written::Io(e)
    }
}
