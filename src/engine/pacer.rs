//! CreateAsset pacing on a fixed grid of slots `1/rate` apart.
//!
//! A burst-of-one token bucket starts the next interval when a request
//! actually leaves, so every bit of timer lateness (a millisecond or so per
//! wake-up) is lost: measured, 29.0 creations/s against a 30/s limit. Here
//! the next slot follows the previous *slot*, so lateness is made up by the
//! next request, and over a run the rate is the configured one. Lateness of
//! more than half an interval (or of the timer's own slack, 2 ms, at high
//! rates, where half an interval is below what a timer can keep) is not
//! made up: no burst follows a pause.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// How late a timer may wake up: lateness up to this is always made up.
const TIMER_SLACK: Duration = Duration::from_millis(2);

/// Paces requests at a fixed rate without losing timer lateness.
#[derive(Debug)]
pub struct Pacer {
    period: Duration,
    next: Mutex<Option<Instant>>,
}

impl Pacer {
    /// A pacer of `per_sec` requests per second (at least 1).
    pub fn new(per_sec: u32) -> Pacer {
        Pacer { period: Duration::from_secs(1) / per_sec.max(1), next: Mutex::new(None) }
    }

    /// Takes the current slot, or says how long until the next one.
    pub fn check(&self) -> Result<(), Duration> {
        let now = Instant::now();
        let mut next = self.next.lock().unwrap_or_else(|p| p.into_inner());
        match *next {
            Some(slot) if now < slot => Err(slot - now),
            Some(slot) if now - slot <= (self.period / 2).max(TIMER_SLACK) => {
                *next = Some(slot + self.period);
                Ok(())
            }
            _ => {
                *next = Some(now + self.period);
                Ok(())
            }
        }
    }

    /// Waits for a slot and takes it.
    pub async fn until_ready(&self) {
        while let Err(wait) = self.check() {
            tokio::time::sleep(wait).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn late_wake_ups_are_made_up_and_pauses_are_not() {
        let p = Pacer::new(10);
        let start = Instant::now();
        p.check().unwrap();
        // Each wake-up 30 ms late: the slots stay on the 100 ms grid.
        for k in 1..=20u32 {
            let wait = p.check().unwrap_err();
            tokio::time::sleep(wait + Duration::from_millis(30)).await;
            p.check().unwrap();
            let at = Instant::now() - start;
            assert!(at <= Duration::from_millis(100) * k + Duration::from_millis(30), "request {k} at {at:?}");
        }
        let elapsed = Instant::now() - start;
        assert!(elapsed <= Duration::from_millis(2030), "{elapsed:?}");
        // After a pause, one request goes at once and the next waits a whole interval.
        tokio::time::sleep(Duration::from_secs(5)).await;
        p.check().unwrap();
        assert_eq!(p.check().unwrap_err(), Duration::from_millis(100));
    }

    #[tokio::test(start_paused = true)]
    async fn at_a_high_rate_a_millisecond_timer_keeps_the_rate() {
        let p = Pacer::new(1000);
        let start = Instant::now();
        let mut sent = 0;
        // Each wake-up a millisecond late, as a real timer is.
        while sent < 1000 {
            match p.check() {
                Ok(()) => sent += 1,
                Err(wait) => tokio::time::sleep(wait + Duration::from_millis(1)).await,
            }
        }
        let took = Instant::now() - start;
        assert!(took <= Duration::from_millis(1010), "{took:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn never_faster_than_the_rate_over_any_stretch() {
        let p = Pacer::new(30);
        let start = Instant::now();
        for _ in 0..300 {
            p.until_ready().await;
        }
        // 300 requests take at least 299 intervals.
        assert!(Instant::now() - start >= Duration::from_secs(1) / 30 * 299);
    }
}
