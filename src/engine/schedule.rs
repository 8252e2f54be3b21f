//! The classic schedule: capped exponential intervals with jitter, never
//! shorter than the server's `Retry-After`. It paces retries after errors,
//! and looks when `polling.adaptive` is off (see `looks` for the learned
//! schedule).

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

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

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
