//! Who owns a store: one process at a time holds an exclusive lock on
//! `FILE.owner` and writes its pid and command line in it, so a second
//! process can say who is running and attach read-only, and take over once
//! the lock is free (the kernel drops it when the owner exits, even by
//! `kill -9`).

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::error::{AtPath, StoreError};

/// The held lock; released on drop.
#[derive(Debug)]
pub struct OwnerLock {
    _file: File,
}

/// Attempts at a lock held by someone, 20 ms apart, before giving up.
const PROBE_TRIES: u32 = 10;

/// Who owns the store at `store` right now (`pid 123: seedance-assets …`),
/// if anyone does. Takes the lock for an instant when it is free, which an
/// owner starting at that moment waits out.
pub fn owner(store: &Path) -> Option<String> {
    let mut file = OpenOptions::new().read(true).write(true).open(lock_path(store)).ok()?;
    match file.try_lock() {
        Ok(()) => None,
        Err(_) => Some(read_owner(&mut file)),
    }
}

/// The owner lock file of the store at `store`.
pub fn lock_path(store: &Path) -> PathBuf {
    let mut name = store.file_name().unwrap_or_default().to_os_string();
    name.push(".owner");
    store.with_file_name(name)
}

/// This process, as the lock file describes it: the pid, the program's
/// name and its subcommand, short enough for a banner at 80 columns.
fn describe_self() -> String {
    let mut args = std::env::args();
    let program = args
        .next()
        .map(|a| Path::new(&a).file_name().map_or(a.clone(), |n| n.to_string_lossy().into_owned()))
        .unwrap_or_default();
    // Options and their values (paths, groups, keys) are noise here: the
    // subcommand says what the process is doing.
    let mut words = vec![program];
    let mut skip = false;
    for a in args {
        if std::mem::take(&mut skip) {
            continue;
        }
        if a.starts_with('-') {
            skip = matches!(
                a.as_str(),
                "--config" | "--data-dir" | "--profile" | "--group" | "--file" | "-f" | "--preset"
            );
            continue;
        }
        words.push(a);
        break;
    }
    format!("pid {}: {}", std::process::id(), crate::text::excerpt(&words.join(" "), 40))
}
impl OwnerLock {
    /// Takes the lock of the store at `store`, or says who holds it.
    pub fn acquire(store: &Path) -> Result<OwnerLock, StoreError> {
        let path = lock_path(store);
        let mut file = OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&path).at(&path)?;
        // A watcher asking who owns the store holds the lock for an instant
        // ([`owner`]): wait that out before calling the store busy.
        let mut tries = 0;
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(TryLockError::WouldBlock) if tries < PROBE_TRIES => {
                    tries += 1;
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                Err(TryLockError::WouldBlock) => {
                    return Err(StoreError::Busy { path: store.to_path_buf(), owner: read_owner(&mut file) });
                }
                Err(TryLockError::Error(e)) => return Err(e).at(&path),
            }
        }
        file.set_len(0).at(&path)?;
        file.write_all(describe_self().as_bytes()).at(&path)?;
        Ok(OwnerLock { _file: file })
    }
}

fn read_owner(file: &mut File) -> String {
    let mut s = String::new();
    let _ = file.seek(SeekFrom::Start(0)).and_then(|_| file.take(4096).read_to_string(&mut s));
    let s = crate::text::sanitize(s.trim());
    if s.is_empty() { "another seedance-assets (a dashboard or an import)".to_string() } else { s }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_owner_is_told_who_holds_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("jobs.db");
        let lock = OwnerLock::acquire(&store).unwrap();
        let err = OwnerLock::acquire(&store).unwrap_err();
        assert!(matches!(&err, StoreError::Busy { .. }), "{err}");
        assert!(err.to_string().contains(&format!("pid {}:", std::process::id())), "{err}");
        assert!(owner(&store).is_some_and(|o| o.starts_with(&format!("pid {}:", std::process::id()))));
        drop(lock);
        assert_eq!(owner(&store), None);
        OwnerLock::acquire(&store).unwrap();
    }
}
