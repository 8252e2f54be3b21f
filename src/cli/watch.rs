//! `import --watch DIR…`: the folders' complete files go through the same
//! front door as any line (preflight, conform when on, content-addressed
//! upload, creation), one line per file, until Ctrl-C or SIGTERM (exit 0).
//! A file is recorded in the watch ledger once its job exists (or one with
//! its content did already), so a restart imports only what is new or
//! changed, and a crash in between costs a re-check, never a payment.

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::args::ImportArgs;
use super::out::say;
use super::stage::{self, Fed};
use crate::exit::{Failure, INTERRUPTED, USAGE};
use crate::intake::Source;
use crate::options::GlobalArgs;
use crate::setup::Setup;
use crate::watch::{FolderList, LEDGER_FILE, LIST_FILE, Ledger, Ready, Rules, WatchOptions, Watched};

fn seconds(flag: &str, v: f64, lo: f64, hi: f64) -> Result<Duration, Failure> {
    if (lo..=hi).contains(&v) {
        Ok(Duration::from_secs_f64(v))
    } else {
        Err(Failure::new(USAGE, format!("--{flag} takes {lo} to {hi} seconds, not {v}")))
    }
}

/// Locks, carrying on after a panic elsewhere (the data stays usable).
fn locked<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A message about the intake's line N (`watch:N: …`) as one about its
/// file (`watch: PATH: …`).
fn named(message: &str, placed: &Mutex<HashMap<usize, Ready>>) -> String {
    let (warning, rest) = match message.strip_prefix("warning: ") {
        Some(rest) => ("warning: ", rest),
        None => ("", message),
    };
    let Some(rest) = rest.strip_prefix("watch:") else { return message.to_string() };
    let digits = rest.chars().take_while(char::is_ascii_digit).count();
    let (Ok(line), Some(tail)) = (rest[..digits].parse::<usize>(), rest[digits..].strip_prefix(": ")) else {
        return message.to_string();
    };
    let Some(path) =
        locked(placed).get(&line.saturating_sub(1)).map(|r| crate::text::sanitize(&r.path.display().to_string()))
    else {
        return message.to_string();
    };
    let tail = tail.strip_prefix(&format!("{path}: ")).unwrap_or(tail);
    format!("{warning}watch: {path}: {tail}")
}

/// The folders given, with the rules of the flags.
fn given(a: &ImportArgs) -> Result<Vec<Watched>, Failure> {
    let rules = Rules::new(a.recursive, &a.include, &a.exclude)
        .map_err(|e| Failure::new(USAGE, format!("--include/--exclude: {e}")))?;
    a.urls
        .iter()
        .map(|d| {
            if d.contains("://") {
                let why = format!(
                    "--watch takes folders, and `{}` is a URL: import URLs without --watch",
                    crate::text::sanitize(d)
                );
                return Err(Failure::new(USAGE, why));
            }
            let dir = crate::watch::folder(std::path::Path::new(d)).map_err(|e| Failure::new(USAGE, e.to_string()))?;
            Ok(Watched { dir, rules: rules.clone() })
        })
        .collect()
}

/// The stored folders of this profile watched into `group`, each with its
/// own rules.
fn stored(setup: &Setup, group: &str) -> Result<Vec<Watched>, Failure> {
    let list = FolderList::load(&setup.paths.data_dir.join(LIST_FILE)).map_err(|e| Failure::from(e.to_string()))?;
    let profile = &setup.profile.name;
    let folders: Vec<Watched> = list
        .of_profile(profile)
        .filter(|f| f.group == group)
        .map(|f| f.watched().map_err(|e| Failure::new(USAGE, format!("{}: {e}", f.dir.display()))))
        .collect::<Result<_, _>>()?;
    if folders.is_empty() {
        let mut others: Vec<String> = list.of_profile(profile).map(|f| crate::text::sanitize(&f.group)).collect();
        others.sort();
        others.dedup();
        let hint = if others.is_empty() {
            String::new()
        } else {
            format!(" (stored folders go into {}: give --group)", others.join(", "))
        };
        return Err(Failure::new(
            USAGE,
            format!(
                "--watch without folders watches the stored ones, and none go into group {} for profile {profile}{hint}: \
                 give folders, or store them with `seedance-assets watch add DIR`",
                crate::text::sanitize(group)
            ),
        ));
    }
    Ok(folders)
}

pub(super) async fn watch(global: &GlobalArgs, a: ImportArgs) -> Result<u8, Failure> {
    let given = given(&a)?;
    let settle = seconds("settle", a.settle, 0.2, 3600.0)?;
    let scan_every = seconds("scan-every", a.scan_every, 1.0, 3600.0)?;
    let setup = Setup::new(global).await?;
    for w in &setup.loaded.warnings {
        say!("warning: {w}");
    }
    // Every watched file goes through the bucket: say so now, not per file.
    if let Err(e) = setup.storage() {
        return Err(Failure::new(USAGE, format!("--watch imports local files, which go through your bucket: {e}")));
    }
    let (conform_tx, conform_rx) = tokio::sync::mpsc::unbounded_channel();
    let mut intake = super::import::intake(&setup, &a)?;
    if intake.conform.is_some() {
        intake.progress = Some(conform_tx);
    }
    let group = intake.defaults.group_id.clone();
    let folders = if given.is_empty() { stored(&setup, &group)? } else { given };
    let opts = WatchOptions { folders, settle, scan_every, poll: a.poll };
    let ledger =
        Ledger::open(&setup.paths.data_dir.join(LEDGER_FILE), &group).map_err(|e| Failure::from(e.to_string()))?;
    let ledger = Arc::new(Mutex::new(ledger));
    let (engine, updates, task) = setup.start_engine()?;

    // Files ready → lines of the intake's input, through a pipe written by a
    // thread (a write waits while the intake is busy); each line's place is
    // kept to record it once its job exists.
    let (reader, writer) = std::io::pipe().map_err(|e| Failure::from(format!("cannot make a pipe: {e}")))?;
    let placed: Arc<Mutex<HashMap<usize, Ready>>> = Arc::default();
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::unbounded_channel::<Ready>();
    let (notes_tx, notes_rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let lines = std::thread::spawn({
        let (placed, notes) = (placed.clone(), notes_tx.clone());
        move || {
            let mut writer = writer;
            let mut n = 0;
            while let Some(r) = ready_rx.blocking_recv() {
                let text = r.path.to_string_lossy().into_owned();
                let why = if r.path.to_str().is_none() {
                    Some("its name is not valid UTF-8 (rename it to import it)")
                } else if text.contains(['\n', '\r', '\t']) || text.trim() != text {
                    Some("its name holds a tab, a line break or edge spaces")
                } else {
                    None
                };
                if let Some(why) = why {
                    let _ = notes.send(format!("watch: {}: skipped: {why}", crate::text::sanitize(&text)));
                    continue;
                }
                locked(&placed).insert(n, r);
                n += 1;
                if writer.write_all(format!("{text}\n").as_bytes()).and_then(|()| writer.flush()).is_err() {
                    break;
                }
            }
        }
    });
    let watcher = tokio::spawn({
        let (ledger, notes) = (ledger.clone(), notes_tx.clone());
        crate::watch::run(opts, ledger, ready_tx, move |s| {
            let _ = notes.send(format!("watch: {s}"));
        })
    });
    let intake = Arc::new(intake);
    let items = intake.items(vec![Source::stream("watch", std::io::BufReader::new(reader))]);
    // The stage's results are recorded in the ledger before the follower sees them.
    let (stage_tx, mut stage_rx) = tokio::sync::mpsc::unbounded_channel::<Vec<Fed>>();
    let (feed_tx, feed_rx) = tokio::sync::mpsc::unbounded_channel::<Vec<Fed>>();
    let recorder = tokio::spawn({
        let (ledger, placed, notes) = (ledger.clone(), placed.clone(), notes_tx.clone());
        async move {
            while let Some(batch) = stage_rx.recv().await {
                for fed in &batch {
                    let (pos, what) = match fed {
                        Fed::Created(id, pos) => (*pos, format!("queued as job #{id}")),
                        Fed::Existing(job, pos) => (*pos, format!("exists already as job #{} ({})", job.id, job.state)),
                    };
                    let Some(r) = locked(&placed).remove(&pos) else { continue };
                    let shown = crate::text::sanitize(&r.path.display().to_string());
                    let line = match locked(&ledger).record(&r.path, r.stamp) {
                        Ok(()) => format!("watch: {shown}: {what}"),
                        Err(e) => format!("watch: {shown}: {what}; not recorded ({e}): a restart checks it again"),
                    };
                    let _ = notes.send(line);
                }
                if feed_tx.send(batch).is_err() {
                    break;
                }
            }
        }
    });
    let stage = tokio::spawn({
        let engine = engine.clone();
        let (allow, notes, placed) = (a.allow_duplicates, notes_tx.clone(), placed.clone());
        async move {
            let say = move |s: String| {
                let _ = notes.send(named(&s, &placed));
            };
            stage::run(intake, items, &engine, allow, stage_tx, None, say).await
        }
    });
    drop(notes_tx);
    let feed = Some((feed_rx, notes_rx, conform_rx));
    let followed = super::import::Followed::Endless;
    let code = super::import::follow(engine, updates, followed, feed, a.wait, a.json, &setup).await;
    watcher.abort();
    stage.abort();
    recorder.abort();
    let _ = task.await;
    // The line writer ends once the watcher's sender is gone.
    let _ = tokio::task::spawn_blocking(move || lines.join()).await;
    // Stopping is how a watch ends.
    Ok(if code == INTERRUPTED { 0 } else { code })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::watch::Stamp;

    #[test]
    fn messages_about_a_line_name_its_file() {
        let placed = Mutex::new(HashMap::from([(
            4,
            Ready { folder: 0, path: "/w/small.png".into(), stamp: Stamp { size: 1, modified: 1 } },
        )]));
        assert_eq!(
            named("watch:5: refused: 100×100: too small", &placed),
            "watch: /w/small.png: refused: 100×100: too small"
        );
        assert_eq!(named("watch:5: /w/small.png: refused: x", &placed), "watch: /w/small.png: refused: x");
        assert_eq!(named("warning: watch:5: odd", &placed), "warning: watch: /w/small.png: odd");
        assert_eq!(named("watch:9: refused: x", &placed), "watch:9: refused: x", "unknown lines stay as they are");
        assert_eq!(named("queued 3", &placed), "queued 3");
    }
}
