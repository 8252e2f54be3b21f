//! Local lines as items: expand the path, directory or glob; type each file
//! from its extension and first bytes and size it from `stat` (cheap checks
//! first); hashing waits until preflight has passed it.

use std::path::{Path, PathBuf};

use crate::api::AssetType;
use crate::config::{NameContext, TypeChoice};
use crate::engine::{LocalSource, NewJob};
use crate::local::{LocalMedia, expand_with};
use crate::preflight::MediaLimits;
use crate::storage::{Storage, StorageError};
use crate::text::sanitize;

use super::parse::{ImportDefaults, MAX_NAME_CHARS};

/// Why one local file cannot be imported.
#[derive(Debug, thiserror::Error)]
pub enum LocalJobError {
    /// The content's type is not the one asked for (and it is not forced).
    #[error(
        "{}: the file is {actual} ({format}), not {declared}; fix the type, or force it with `{declared}!` or --force-type",
        shown(path)
    )]
    WrongType {
        /// The file.
        path: PathBuf,
        /// The type its content has.
        actual: AssetType,
        /// Its format (`png`, `mp4` …).
        format: &'static str,
        /// The type asked for.
        declared: AssetType,
    },
    /// Larger than the limit for its type (known from `stat`, before any
    /// byte is hashed or sent).
    #[error("{}: {why}", shown(path))]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// The size and the limit, as [`MediaLimits::too_large`] says them.
        why: String,
    },
    /// The name column is too long.
    #[error("{}: the name is longer than {MAX_NAME_CHARS} characters", shown(path))]
    NameTooLong {
        /// The file.
        path: PathBuf,
    },
    /// No name column and the template gives nothing.
    #[error("{}: the name is empty; add a name column or a name template", shown(path))]
    EmptyName {
        /// The file.
        path: PathBuf,
    },
    /// The file cannot be read or hashed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

fn shown(path: &Path) -> String {
    sanitize(&path.display().to_string())
}

/// One file a local line gave, or the reason it gave nothing usable.
#[derive(Debug)]
pub struct LocalPart {
    /// The file, when the line is a directory or a glob (so it can be named
    /// and kept as a line of its own).
    pub file: Option<String>,
    /// The import (not hashed yet: `local` is `None`, `url` the path shown)
    /// with the file to hash, or why not.
    pub job: Result<(NewJob, PathBuf), String>,
    /// Refused for a format conforming converts.
    pub conformable: bool,
}

/// What the columns of a local line ask for.
struct Columns<'a> {
    target: &'a str,
    name: Option<&'a str>,
    declared: TypeChoice,
    forced: bool,
}

fn columns<'a>(line: &'a str, d: &ImportDefaults) -> Result<Columns<'a>, String> {
    let cols: Vec<&str> = line.split('\t').map(str::trim).collect();
    let name = cols.get(1).copied().filter(|s| !s.is_empty());
    let (declared, forced) = match cols.get(2).copied().filter(|s| !s.is_empty()) {
        Some(t) => {
            let ty = t.strip_suffix('!').unwrap_or(t).trim().parse()?;
            (TypeChoice::Fixed(ty), t.ends_with('!') || d.force_type)
        }
        None => (d.asset_type, d.force_type),
    };
    Ok(Columns { target: cols[0], name, declared, forced })
}

/// Expands one local line (`PATH`, a directory, a glob; optionally
/// `PATH<TAB>name<TAB>type` for a single file) into parts, each typed from
/// its first bytes and sized from `stat`. Blocking: run it off the UI and
/// async threads. `first_n` is the `{n}` counter of the first file.
pub fn read_line(
    line: &str,
    d: &ImportDefaults,
    first_n: u64,
    recursive: bool,
    limits: &MediaLimits,
    convert: bool,
) -> Vec<LocalPart> {
    let whole = |job: Result<(NewJob, PathBuf), String>| vec![LocalPart { file: None, job, conformable: false }];
    let c = match columns(line, d) {
        Ok(c) => c,
        Err(e) => return whole(Err(e)),
    };
    let path = crate::local::resolve(c.target);
    // A directory or a glob gives files of its own; a plain path is the line.
    let expanded = match std::fs::metadata(&path) {
        Ok(m) => m.is_dir(),
        Err(_) => c.target.contains(['*', '?', '[']),
    };
    let expansion = expand_with(c.target, recursive, convert);
    let named = |p: &Path| expanded.then(|| p.display().to_string());
    let mut out = Vec::new();
    if c.name.is_some() && expansion.files.len() > 1 {
        return whole(Err(format!(
            "a name column names one file, but `{}` gives {}",
            sanitize(c.target),
            expansion.files.len()
        )));
    }
    for e in &expansion.errors {
        // An error about one file found by a directory or glob stays as that
        // file's line; one about the line itself stays as the line.
        let file = e.path().filter(|p| expanded && !p.is_dir()).map(|p| p.display().to_string());
        let conformable = matches!(e, crate::local::LocalError::Convertible { .. });
        out.push(LocalPart { file, job: Err(e.to_string()), conformable });
    }
    for media in &expansion.files {
        let n = first_n + out.iter().filter(|p| p.job.is_ok()).count() as u64;
        let job = job_for(media, &c, d, n, (!convert).then_some(limits)).map_err(|e| e.to_string());
        out.push(LocalPart { file: named(&media.path), job, conformable: false });
    }
    if !expanded {
        // A single file: its part is the line itself.
        for p in &mut out {
            p.file = None;
        }
    }
    out
}

fn job_for(
    media: &LocalMedia,
    c: &Columns<'_>,
    d: &ImportDefaults,
    n: u64,
    limits: Option<&MediaLimits>,
) -> Result<(NewJob, PathBuf), LocalJobError> {
    let path = || media.path.clone();
    let asset_type = match c.declared {
        TypeChoice::Fixed(t) if t != media.asset_type && !c.forced => {
            return Err(LocalJobError::WrongType {
                path: path(),
                actual: media.asset_type,
                format: media.format,
                declared: t,
            });
        }
        TypeChoice::Fixed(t) => t,
        TypeChoice::Infer => media.asset_type,
    };
    let size = std::fs::metadata(&media.path).map(|m| m.len()).unwrap_or(0);
    // Conforming (no `limits`), a file too large is made smaller later.
    if let Some(why) = limits.and_then(|l| l.too_large(asset_type, size)) {
        return Err(LocalJobError::TooLarge { path: path(), why });
    }
    let name = match c.name {
        Some(n) if n.chars().count() > MAX_NAME_CHARS => {
            return Err(LocalJobError::NameTooLong { path: path() });
        }
        Some(n) => sanitize(n),
        None => {
            let type_name = asset_type.to_string();
            let ctx = NameContext { stem: &media.stem, ext: &media.ext, n, date: &d.date, asset_type: &type_name };
            d.template.expand(&ctx)
        }
    };
    if name.is_empty() {
        return Err(LocalJobError::EmptyName { path: path() });
    }
    let path = std::fs::canonicalize(&media.path).unwrap_or(media.path.clone());
    let job = NewJob {
        url: sanitize(&path.display().to_string()),
        name,
        asset_type,
        group_id: d.group_id.clone(),
        profile: crate::config::DEFAULT_PROFILE.to_string(),
        local: None,
        media: None,
        conform: None,
    };
    Ok((job, path))
}

/// Hashes a checked local file and names its object: the job gets its
/// [`LocalSource`]. The file is read once, here, after every cheaper check.
pub async fn hash(mut job: NewJob, path: &Path, storage: &Storage) -> Result<NewJob, String> {
    let file = storage.prepare(path).await.map_err(|e| LocalJobError::from(e).to_string())?;
    job.local = Some(LocalSource {
        path: file.path.clone(),
        size: file.size,
        sha256: file.sha256,
        key: file.key,
        modified: file.modified,
    });
    Ok(job)
}
