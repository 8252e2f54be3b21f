//! A calendar of planned GetAsset looks: time is cut into short slots, each
//! holding at most what the configured GET rate allows (with headroom), so
//! a batch never plans more looks for a moment than can be sent then; a
//! look that finds its slot full moves to the next slot with room.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use tokio::time::Instant;

use crate::job::JobId;

/// Share of the GET rate the calendar books (the rest is for retries and
/// drift).
const HEADROOM: f64 = 0.8;
/// Shortest slot.
const SLOT: Duration = Duration::from_millis(250);

/// Booked looks per slot.
#[derive(Debug)]
pub struct Calendar {
    origin: Instant,
    slot: Duration,
    capacity: u32,
    counts: BTreeMap<u64, u32>,
    booked: HashMap<JobId, u64>,
    /// The slot the past was last dropped at.
    pruned: u64,
}

impl Calendar {
    /// A calendar for `per_sec` GetAsset calls a second.
    pub fn new(per_sec: u32) -> Calendar {
        let rate = f64::from(per_sec.max(1)) * HEADROOM;
        // At least one look per slot: slow rates get longer slots.
        let slot = SLOT.max(Duration::from_secs_f64(1.0 / rate));
        let capacity = ((rate * slot.as_secs_f64()) + 1e-9).floor().max(1.0) as u32;
        Calendar { origin: Instant::now(), slot, capacity, counts: BTreeMap::new(), booked: HashMap::new(), pruned: 0 }
    }

    fn index(&self, at: Instant) -> u64 {
        (at.saturating_duration_since(self.origin).as_nanos() / self.slot.as_nanos()) as u64
    }

    /// Books the look of `job` (replacing its earlier booking): at
    /// `earliest` from now if that slot has room, else at the start of the
    /// first later slot with room up to `latest`; if none has, at `earliest`
    /// anyway (the rate limiter then spaces the calls). Returns the wait.
    pub fn book(&mut self, job: JobId, earliest: Duration, latest: Duration) -> Duration {
        let now = Instant::now();
        self.release(job);
        let current = self.index(now);
        if current > self.pruned {
            // Slots in the past are done with, and so are their bookings
            // (the memory stays the size of the looks ahead).
            self.counts = self.counts.split_off(&current);
            self.booked.retain(|_, k| *k >= current);
            self.pruned = current;
        }
        let first = self.index(now + earliest);
        let last = self.index(now + latest.max(earliest));
        let free = (first..=last).find(|k| self.counts.get(k).is_none_or(|&c| c < self.capacity));
        let (slot, wait) = match free {
            Some(k) if k > first => {
                let start = self.origin + self.slot * u32::try_from(k).unwrap_or(u32::MAX);
                (k, start.saturating_duration_since(now).max(earliest))
            }
            _ => (first, earliest),
        };
        *self.counts.entry(slot).or_default() += 1;
        self.booked.insert(job, slot);
        wait
    }

    /// Drops the booking of `job`, if any.
    pub fn release(&mut self, job: JobId) {
        if let Some(k) = self.booked.remove(&job)
            && let Some(c) = self.counts.get_mut(&k)
        {
            *c = c.saturating_sub(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_full_slot_moves_looks_later_within_the_limit() {
        // 100/s: 20 looks per 250 ms slot.
        let mut cal = Calendar::new(100);
        let at = Duration::from_secs(8);
        let waits: Vec<Duration> = (0..50).map(|id| cal.book(id, at, at + Duration::from_secs(15))).collect();
        assert!(waits[..20].iter().all(|w| *w == at));
        assert!(waits[20..40].iter().all(|w| *w == Duration::from_millis(8250)), "{:?}", &waits[20..40]);
        assert!(waits[40..].iter().all(|w| *w == Duration::from_millis(8500)));
        // Booking again frees the old slot.
        assert_eq!(cal.book(0, Duration::from_secs(20), Duration::from_secs(20)), Duration::from_secs(20));
        assert_eq!(cal.book(50, at, at), at);
        // Nothing free before `latest`: booked as asked, the limiter spaces them.
        assert_eq!(cal.book(51, at, at), at);
        // Time passes; old slots are forgotten.
        tokio::time::advance(Duration::from_secs(30)).await;
        assert_eq!(cal.book(1, at, at), at);
        assert_eq!(cal.counts.len(), 1);
        assert_eq!(cal.booked.len(), 1, "past bookings are dropped");
    }

    #[tokio::test(start_paused = true)]
    async fn slow_rates_get_longer_slots() {
        let mut cal = Calendar::new(1);
        assert_eq!(cal.capacity, 1);
        let a = cal.book(1, Duration::ZERO, Duration::from_secs(10));
        let b = cal.book(2, Duration::ZERO, Duration::from_secs(10));
        assert_eq!(a, Duration::ZERO);
        assert_eq!(b, Duration::from_millis(1250));
    }
}
