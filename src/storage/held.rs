//! Bytes of local files read when they were hashed, kept for their upload
//! so that each file is read from disk once. Bounded: at most a budget of
//! bytes is held at a time. A hash waits a moment for room (so hashing runs
//! at most a budget ahead of the uploads: a pipeline); a file that finds
//! none, or is larger than [`MAX_HELD`], is read again when it is uploaded
//! (and checked against its hash as it goes).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// Bytes held at most, by default.
pub const DEFAULT_BUDGET: usize = 64 << 20;
/// Larger files are never held (they are streamed from disk at upload).
pub const MAX_HELD: u64 = 16 << 20;
/// How long a hash waits for room before reading without holding.
const WAIT: Duration = Duration::from_secs(1);
/// Held bytes no upload took within this long are let go: their job was a
/// duplicate, was refused, or waits behind a pause.
const STALE: Duration = Duration::from_secs(120);
/// The budget is counted in these units (a semaphore's permits).
const UNIT: u64 = 1024;

/// One file's bytes and the room they take.
pub(crate) struct Held {
    /// The content, as hashed.
    pub bytes: Bytes,
    at: Instant,
    _room: OwnedSemaphorePermit,
}

/// The held files of one bucket client and its clones, by object key.
#[derive(Clone)]
pub(crate) struct HeldFiles(Arc<Inner>);

struct Inner {
    room: Arc<Semaphore>,
    units: u64,
    by_key: Mutex<HashMap<String, Held>>,
}

/// Room for one file's bytes, taken before it is read.
pub(crate) struct Room(OwnedSemaphorePermit);

impl HeldFiles {
    /// Holds at most `budget` bytes (0: never holds).
    pub fn new(budget: usize) -> HeldFiles {
        let units = budget as u64 / UNIT;
        HeldFiles(Arc::new(Inner {
            room: Arc::new(Semaphore::new(units as usize)),
            units,
            by_key: Mutex::new(HashMap::new()),
        }))
    }

    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, Held>> {
        self.0.by_key.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Room for a file of `size` bytes, waiting a moment for uploads to
    /// free some; `None` when it is not to be held.
    pub async fn room(&self, size: u64) -> Option<Room> {
        if size > MAX_HELD || self.0.units == 0 {
            return None;
        }
        let want = size.div_ceil(UNIT).clamp(1, self.0.units) as u32;
        if let Ok(p) = Arc::clone(&self.0.room).try_acquire_many_owned(want) {
            return Some(Room(p));
        }
        self.map().retain(|_, h| h.at.elapsed() < STALE);
        let wait = Arc::clone(&self.0.room).acquire_many_owned(want);
        tokio::time::timeout(WAIT, wait).await.ok()?.ok().map(Room)
    }

    /// Keeps `bytes` for the upload of `key` (another file with the same
    /// content already held is enough).
    pub fn keep(&self, key: &str, bytes: Bytes, room: Room) {
        self.map().entry(key.to_string()).or_insert(Held { bytes, at: Instant::now(), _room: room.0 });
    }

    /// The bytes held for `key`, taken out: their room is freed when the
    /// returned value is dropped (after the upload).
    pub fn take(&self, key: &str) -> Option<Held> {
        self.map().remove(key)
    }

    /// How many files are held (for tests).
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.map().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn room_is_bounded_and_freed_by_the_upload() {
        let held = HeldFiles::new(4 << 20);
        let a = held.room(3 << 20).await.expect("room for 3 MiB");
        held.keep("a", Bytes::from_static(b"a"), a);
        // 2 MiB more do not fit: after a moment's wait, not held.
        assert!(held.room(2 << 20).await.is_none());
        assert!(held.room(MAX_HELD + 1).await.is_none(), "large files are never held");
        let taken = held.take("a").expect("held");
        assert_eq!(&taken.bytes[..], b"a");
        assert!(held.room(2 << 20).await.is_none(), "the room is the upload's until it is done");
        drop(taken);
        assert!(held.room(2 << 20).await.is_some());
        assert!(HeldFiles::new(0).room(10).await.is_none(), "a budget of 0 holds nothing");
    }

    #[tokio::test(start_paused = true)]
    async fn bytes_no_upload_took_are_let_go() {
        let held = HeldFiles::new(1 << 20);
        let r = held.room(1 << 20).await.unwrap();
        held.keep("dup", Bytes::from_static(b"x"), r);
        tokio::time::advance(STALE + Duration::from_secs(1)).await;
        assert!(held.room(1 << 20).await.is_some(), "the stale file made room");
        assert_eq!(held.len(), 0);
    }
}
