//! Local input lines as jobs: expand the path, directory or glob, check each
//! file's type against the one asked for, hash it (the content decides the
//! object key and deduplication), and name it from its stem.

use std::path::PathBuf;
use std::sync::Arc;

use super::{LocalMedia, expand};
use crate::api::AssetType;
use crate::config::{NameContext, TypeChoice};
use crate::engine::input::{ImportDefaults, MAX_NAME_CHARS};
use crate::engine::{LocalSource, NewJob};
use crate::setup::StorageSetupError;
use crate::storage::{Storage, StorageError};
use crate::text::sanitize;

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

fn shown(path: &std::path::Path) -> String {
    sanitize(&path.display().to_string())
}

/// What one local line gave: jobs, and a message per file (or for the whole
/// line) that could not be used.
#[derive(Debug, Default)]
pub struct LocalLine {
    /// One job per usable file.
    pub jobs: Vec<NewJob>,
    /// Why the others cannot be imported.
    pub errors: Vec<String>,
}

/// Turns one local line (`PATH`, a directory, a glob; optionally
/// `PATH<TAB>name<TAB>type` for a single file) into jobs. `first_n` is the
/// `{n}` counter of the first job. Hashing reads every file once.
pub async fn jobs_for_line(
    line: &str,
    d: &ImportDefaults,
    first_n: u64,
    recursive: bool,
    storage: Result<&Storage, Arc<StorageSetupError>>,
) -> LocalLine {
    let mut out = LocalLine::default();
    let cols: Vec<&str> = line.split('\t').map(str::trim).collect();
    let name = cols.get(1).copied().filter(|s| !s.is_empty());
    let type_col = cols.get(2).copied().filter(|s| !s.is_empty());
    let storage = match storage {
        Ok(s) => s,
        Err(why) => {
            out.errors.push(why.to_string());
            return out;
        }
    };
    let (declared, forced) = match type_col {
        Some(t) => match t.strip_suffix('!').unwrap_or(t).trim().parse() {
            Ok(ty) => (TypeChoice::Fixed(ty), t.ends_with('!') || d.force_type),
            Err(e) => {
                out.errors.push(e);
                return out;
            }
        },
        None => (d.asset_type, d.force_type),
    };
    let target = cols[0].to_string();
    let expansion = match tokio::task::spawn_blocking(move || expand(&target, recursive)).await {
        Ok(e) => e,
        Err(e) => {
            out.errors.push(format!("reading `{}` stopped: {e}", crate::text::sanitize(cols[0])));
            return out;
        }
    };
    out.errors.extend(expansion.errors.iter().map(ToString::to_string));
    if name.is_some() && expansion.files.len() > 1 {
        out.errors.push(format!("a name column names one file, but `{}` gives {}", cols[0], expansion.files.len()));
        return out;
    }
    for media in expansion.files {
        match job_for(&media, name, declared, forced, d, first_n + out.jobs.len() as u64, storage).await {
            Ok(job) => out.jobs.push(job),
            Err(e) => out.errors.push(e.to_string()),
        }
    }
    out
}

async fn job_for(
    media: &LocalMedia,
    name: Option<&str>,
    declared: TypeChoice,
    forced: bool,
    d: &ImportDefaults,
    n: u64,
    storage: &Storage,
) -> Result<NewJob, LocalJobError> {
    let path = || media.path.clone();
    let asset_type = match declared {
        TypeChoice::Fixed(t) if t != media.asset_type && !forced => {
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
    let name = match name {
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
    let file = storage.prepare(&media.path).await?;
    let path = std::fs::canonicalize(&file.path).unwrap_or(file.path.clone());
    Ok(NewJob {
        url: sanitize(&path.display().to_string()),
        name,
        asset_type,
        group_id: d.group_id.clone(),
        profile: crate::config::DEFAULT_PROFILE.to_string(),
        local: Some(LocalSource { path, size: file.size, sha256: file.sha256, key: file.key, modified: file.modified }),
        media: None,
    })
}
