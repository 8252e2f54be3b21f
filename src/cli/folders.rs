//! `watch list|add|remove`: the stored list of watched folders, which
//! `import --watch` without folders and the dashboard watch.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::args::WatchCommand;
use super::out;
use crate::exit::{Failure, USAGE};
use crate::options::GlobalArgs;
use crate::setup::Context;
use crate::watch::{Added, Folder, FolderList, LEDGER_FILE, LIST_FILE, Ledger, rules_text, typed_folder};

/// A stored folder as `watch list --json` prints it.
#[derive(Serialize)]
struct Listed<'a> {
    #[serde(flatten)]
    folder: &'a Folder,
    /// Files of it that became jobs so far (in the watch ledger).
    jobs: usize,
}

/// How many files of each folder (as its rules take them) the ledger holds,
/// for its group; the ledger is only read.
fn jobs(data_dir: &Path, folders: &[&Folder]) -> Result<Vec<usize>, Failure> {
    let mut ledgers: Vec<(String, Ledger)> = Vec::new();
    folders
        .iter()
        .map(|f| {
            if !ledgers.iter().any(|(g, _)| *g == f.group) {
                let l =
                    Ledger::read(&data_dir.join(LEDGER_FILE), &f.group).map_err(|e| Failure::from(e.to_string()))?;
                ledgers.push((f.group.clone(), l));
            }
            let rules = f.watched().map_err(|e| Failure::from(e.to_string()))?.rules;
            Ok(ledgers.iter().find(|(g, _)| *g == f.group).map_or(0, |(_, l)| l.count_under(&f.dir, &rules)))
        })
        .collect()
}

pub(super) fn folders(global: &GlobalArgs, cmd: WatchCommand) -> Result<u8, Failure> {
    let ctx = Context::load(global)?;
    for w in &ctx.loaded.warnings {
        eprintln!("warning: {w}");
    }
    let data = &ctx.paths.data_dir;
    let mut list = FolderList::load(&data.join(LIST_FILE)).map_err(|e| Failure::from(e.to_string()))?;
    let profile = ctx.profile.name.clone();
    match cmd {
        WatchCommand::List { json } => {
            let mine: Vec<&Folder> = list.of_profile(&profile).collect();
            let counts = jobs(data, &mine)?;
            if json {
                let rows: Vec<Listed> = mine.iter().zip(counts).map(|(folder, jobs)| Listed { folder, jobs }).collect();
                return out::json(&rows).map(|()| 0);
            }
            if mine.is_empty() {
                eprintln!("no watched folders for profile {profile}: `seedance-assets watch add DIR --group GROUP`");
            }
            for (f, n) in mine.iter().zip(counts) {
                let mut how = Vec::new();
                if f.recursive {
                    how.push("recursive".to_string());
                }
                how.extend(f.include.iter().map(|g| format!("include {g}")));
                how.extend(f.exclude.iter().map(|g| format!("exclude {g}")));
                let how = if how.is_empty() { String::new() } else { format!("\t{}", how.join(", ")) };
                let dir = crate::text::sanitize(&f.dir.display().to_string());
                let plural = if n == 1 { "" } else { "s" };
                out::line(&format!("{dir}\t{}\t{n} job{plural}{how}", crate::text::sanitize(&f.group)))?;
            }
            Ok(0)
        }
        WatchCommand::Add { dirs, group, recursive, include, exclude } => {
            let group = group
                .or_else(|| ctx.loaded.config.default_preset().map(|p| p.group_id.clone()))
                .map(|g| g.trim().to_string())
                .filter(|g| !g.is_empty())
                .ok_or_else(|| Failure::new(USAGE, "which group? give --group GROUP (or set SEEDANCE_GROUP)"))?;
            // Every folder is checked before any is stored.
            let new: Vec<Folder> = dirs
                .iter()
                .map(|d| {
                    Folder::new(&typed_folder(&d.to_string_lossy()), &group, &profile, recursive, &include, &exclude)
                })
                .collect::<Result<_, _>>()
                .map_err(|e| Failure::new(USAGE, e.to_string()))?;
            for f in new {
                let shown = crate::text::sanitize(&f.dir.display().to_string());
                let added = list.add(f).map_err(|e| Failure::from(e.to_string()))?;
                let into = crate::text::sanitize(&group);
                match added {
                    Added::New => eprintln!("watched: {shown} into group {into}"),
                    Added::Same => eprintln!("already watched: {shown} into group {into}"),
                    Added::Replaced(old) => {
                        let was = rules_text(&old);
                        let was = if was.is_empty() { "every media file".to_string() } else { was };
                        eprintln!("watched: {shown} into group {into}, with the rules given now (before: {was})");
                    }
                }
            }
            Ok(0)
        }
        WatchCommand::Remove { dirs } => {
            // A folder deleted since can still be removed by its stored path.
            let dirs: Vec<PathBuf> = dirs
                .iter()
                .map(|d| {
                    let d = typed_folder(&d.to_string_lossy());
                    std::fs::canonicalize(&d).unwrap_or_else(|_| std::path::absolute(&d).unwrap_or(d.clone()))
                })
                .collect();
            // Every folder is checked before any is removed.
            let missing: Vec<String> = dirs
                .iter()
                .filter(|d| !list.holds(d, &profile))
                .map(|d| crate::text::sanitize(&d.display().to_string()))
                .collect();
            if !missing.is_empty() {
                return Err(Failure::new(USAGE, format!("not watched (see `watch list`): {}", missing.join(", "))));
            }
            for dir in dirs {
                let gone = list.remove(&dir, &profile).map_err(|e| Failure::from(e.to_string()))?;
                let groups: Vec<String> = gone.iter().map(|f| crate::text::sanitize(&f.group)).collect();
                let shown = crate::text::sanitize(&dir.display().to_string());
                eprintln!("no longer watched: {shown} (into {})", groups.join(", "));
            }
            Ok(0)
        }
    }
}
