//! When to poll next and how long to back off: capped exponential intervals
//! with jitter, never shorter than the server's `Retry-After`, adapted to the
//! processing times the server has actually reported.

use std::collections::VecDeque;
use std::time::Duration;

use rand::Rng;

use crate::config::Polling;

/// The polling and retry schedule.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    /// Delay from creation to the first look.
    pub first: Duration,
    /// Growth factor of successive intervals.
    pub backoff: f64,
    /// Longest interval.
    pub max: Duration,
    /// Relative random spread (0.2 = ±20%).
    pub jitter: f64,
}

impl From<&Polling> for Schedule {
    fn from(p: &Polling) -> Self {
        Schedule {
            first: Duration::from_secs_f64(p.first_secs),
            backoff: p.backoff,
            max: Duration::from_secs_f64(p.max_interval_secs),
            jitter: p.jitter,
        }
    }
}

impl Schedule {
    /// The un-jittered interval before look number `n` (0 = the first look).
    pub fn base_interval(&self, n: u32) -> Duration {
        // In f64 first: a large backoff to a high power would overflow a Duration.
        let factor = self.backoff.powi(n.min(64) as i32);
        let secs = (self.first.as_secs_f64() * factor).min(self.max.as_secs_f64());
        Duration::from_secs_f64(secs)
    }

    /// The interval before look `n`, jittered, and at least `retry_after`.
    pub fn interval(&self, n: u32, retry_after: Option<Duration>, rng: &mut impl Rng) -> Duration {
        let base = self.base_interval(n);
        let spread = if self.jitter > 0.0 { rng.random_range(-self.jitter..=self.jitter) } else { 0.0 };
        let d = base.mul_f64(1.0 + spread);
        retry_after.map_or(d, |r| d.max(r))
    }

    /// Backoff after `failures` consecutive transient errors: 1 s doubling,
    /// capped at `max`, jittered, at least `retry_after`.
    pub fn retry_delay(&self, failures: u32, retry_after: Option<Duration>, rng: &mut impl Rng) -> Duration {
        let base = Duration::from_secs(1).mul_f64(2f64.powi(failures.saturating_sub(1).min(16) as i32)).min(self.max);
        let spread = if self.jitter > 0.0 { rng.random_range(-self.jitter..=self.jitter) } else { 0.0 };
        let d = base.mul_f64(1.0 + spread);
        retry_after.map_or(d, |r| d.max(r))
    }
}

/// Processing times the server reported (`UpdateTime - CreateTime` of
/// Active assets), most recent last.
#[derive(Debug, Clone, Default)]
pub struct Learned {
    secs: VecDeque<f64>,
}

/// Observations kept.
const LEARNED_CAP: usize = 512;
/// Observations needed before the schedule adapts.
const LEARNED_MIN: usize = 128;

impl Learned {
    /// Records one processing time; true when this observation is the one
    /// that makes the schedule adapt (time to re-plan waiting jobs).
    pub fn observe(&mut self, d: Duration) -> bool {
        if self.secs.len() == LEARNED_CAP {
            self.secs.pop_front();
        }
        self.secs.push_back(d.as_secs_f64());
        self.secs.len() == LEARNED_MIN
    }

    /// The 10th and 90th percentiles, once there are enough observations.
    pub fn window(&self) -> Option<(f64, f64)> {
        if self.secs.len() < LEARNED_MIN {
            return None;
        }
        let mut v: Vec<f64> = self.secs.iter().copied().collect();
        v.sort_by(f64::total_cmp);
        let q = |p: f64| v[((v.len() - 1) as f64 * p).round() as usize];
        Some((q(0.1), q(0.9)))
    }
}

impl Schedule {
    /// The wait before look `n` of a job created `elapsed` ago.
    ///
    /// Until enough processing times are known this is [`Schedule::interval`].
    /// Then the first look waits until the fastest tenth of assets are
    /// usually done, looks come every half of the 10–90% spread until the
    /// slowest tenth are usually done, and after that the wait grows with the
    /// time beyond that (by `backoff - 1`), up to the cap. Jitter and
    /// `retry_after` apply throughout.
    pub fn next_look(
        &self,
        n: u32,
        elapsed: Duration,
        learned: &Learned,
        retry_after: Option<Duration>,
        rng: &mut impl Rng,
    ) -> Duration {
        let Some((lo, hi)) = learned.window() else {
            return self.interval(n, retry_after, rng);
        };
        let t = elapsed.as_secs_f64();
        let max = self.max.as_secs_f64();
        let step = ((hi - lo) / 2.0).clamp(0.5_f64.min(max), max);
        let early = t + 0.05 < lo;
        let base = if early {
            lo - t
        } else if t < hi + step {
            step
        } else {
            // Past the slow tail: back off in proportion to the time beyond it.
            ((t - hi) * (self.backoff - 1.0)).clamp(step, max)
        };
        // Before the fast ones are due, jitter only delays: an earlier look
        // would be wasted.
        let low = if early { 0.0 } else { -self.jitter };
        let spread = if self.jitter > 0.0 { rng.random_range(low..=self.jitter) } else { 0.0 };
        let d = Duration::from_secs_f64((base * (1.0 + spread)).max(0.2));
        retry_after.map_or(d, |r| d.max(r))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn adapts_to_reported_processing_times() {
        let s = Schedule { jitter: 0.0, ..Schedule::from(&Polling::default()) };
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let mut learned = Learned::default();
        let secs = |d: Duration| (d.as_secs_f64() * 100.0).round() / 100.0;
        // Too few observations: the plain schedule.
        let level = |i: usize| Duration::from_secs(10 + (i % 16) as u64);
        for i in 0..LEARNED_MIN - 1 {
            assert!(!learned.observe(level(i)));
        }
        assert_eq!(s.next_look(0, Duration::ZERO, &learned, None, &mut rng), s.base_interval(0));
        assert!(learned.observe(level(LEARNED_MIN - 1)), "the last observation needed starts adapting");
        // 10..=25 s processing: first look at 11 s, then every 6.5 s, then backoff.
        assert_eq!(learned.window(), Some((11.0, 24.0)));
        assert_eq!(secs(s.next_look(0, Duration::ZERO, &learned, None, &mut rng)), 11.0);
        assert_eq!(secs(s.next_look(1, Duration::from_secs(11), &learned, None, &mut rng)), 6.5);
        assert_eq!(secs(s.next_look(5, Duration::from_secs(30), &learned, None, &mut rng)), 6.5);
        assert_eq!(secs(s.next_look(7, Duration::from_secs(40), &learned, None, &mut rng)), 9.6);
        assert_eq!(secs(s.next_look(9, Duration::from_secs(90), &learned, None, &mut rng)), 15.0);
        let r = s.next_look(1, Duration::from_secs(12), &learned, Some(Duration::from_secs(20)), &mut rng);
        assert_eq!(r, Duration::from_secs(20));
        // The window follows recent observations only.
        for _ in 0..LEARNED_CAP {
            learned.observe(Duration::from_secs(2));
        }
        assert_eq!(learned.window(), Some((2.0, 2.0)));
        assert_eq!(secs(s.next_look(1, Duration::from_secs(2), &learned, None, &mut rng)), 0.5);
        // A cap below the usual minimum step is respected, never a panic.
        let tight = Schedule { max: Duration::from_millis(300), ..s.clone() };
        let d = tight.next_look(1, Duration::from_secs(2), &learned, None, &mut rng);
        assert_eq!(secs(d), 0.3);
    }

    #[test]
    fn before_the_window_opens_jitter_only_delays() {
        let s = Schedule::from(&Polling::default());
        let mut rng = rand::rngs::StdRng::seed_from_u64(5);
        let mut learned = Learned::default();
        for i in 0..LEARNED_MIN {
            learned.observe(Duration::from_secs(10 + (i % 16) as u64));
        }
        for _ in 0..200 {
            let d = s.next_look(0, Duration::from_secs(4), &learned, None, &mut rng).as_secs_f64();
            assert!((7.0..=8.4 + 1e-9).contains(&d), "{d}");
        }
    }

    fn schedule() -> Schedule {
        Schedule::from(&Polling::default())
    }

    #[test]
    fn intervals_grow_to_the_cap() {
        let s = schedule();
        let got: Vec<f64> = (0..8).map(|n| s.base_interval(n).as_secs_f64()).collect();
        assert!((got[0] - 1.5).abs() < 1e-9);
        assert!((got[1] - 2.4).abs() < 1e-9);
        assert!(got.windows(2).all(|w| w[1] >= w[0]));
        assert_eq!(s.base_interval(40), s.max);
        let steep = Schedule { backoff: 10.0, ..s.clone() };
        assert_eq!(steep.base_interval(u32::MAX), steep.max);
    }

    #[test]
    fn jitter_stays_in_bounds_and_retry_after_wins() {
        let s = schedule();
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        for n in 0..10 {
            let base = s.base_interval(n).as_secs_f64();
            let d = s.interval(n, None, &mut rng).as_secs_f64();
            assert!(d >= base * 0.8 - 1e-9 && d <= base * 1.2 + 1e-9, "{n}: {d} vs {base}");
        }
        let d = s.interval(0, Some(Duration::from_secs(30)), &mut rng);
        assert_eq!(d, Duration::from_secs(30));
        let r = s.retry_delay(3, None, &mut rng).as_secs_f64();
        assert!((3.2..=4.8).contains(&r), "{r}");
        assert!(s.retry_delay(30, None, &mut rng) <= s.max.mul_f64(1.2));
    }
}
