//! The engine's timers: when each job is next polled or re-queued. One
//! `DelayQueue` for all jobs, so thousands of waiting jobs cost no tasks.

use std::collections::HashMap;
use std::time::Duration;

use futures::StreamExt;
use tokio_util::time::DelayQueue;
use tokio_util::time::delay_queue::Key;

use crate::job::JobId;

/// What a timer is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    /// Send GetAsset for this job.
    Poll(JobId),
    /// Put this job back in the creation queue.
    Requeue(JobId),
}

impl Due {
    fn job(self) -> JobId {
        match self {
            Due::Poll(id) | Due::Requeue(id) => id,
        }
    }
}

/// At most one pending timer per job.
#[derive(Default)]
pub struct Timers {
    queue: DelayQueue<Due>,
    keys: HashMap<JobId, Key>,
}

impl Timers {
    /// Sets (or replaces) the job's timer.
    pub fn set(&mut self, due: Due, after: Duration) {
        self.cancel(due.job());
        let key = self.queue.insert(due, after);
        self.keys.insert(due.job(), key);
    }

    /// Drops the job's timer, if any.
    pub fn cancel(&mut self, job: JobId) {
        if let Some(key) = self.keys.remove(&job) {
            self.queue.try_remove(&key);
        }
    }

    /// Waits for the next timer; pending forever when there is none (for use in `select!`).
    pub async fn next(&mut self) -> Due {
        if self.queue.is_empty() {
            return std::future::pending().await;
        }
        match self.queue.next().await {
            Some(expired) => {
                let due = expired.into_inner();
                self.keys.remove(&due.job());
                due
            }
            None => std::future::pending().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Polling;
    use crate::engine::schedule::Schedule;
    use rand::SeedableRng;
    use tokio::time::Instant;

    /// Polls a job that becomes ready `ready_after` from now, following the
    /// schedule, and returns the offsets (from start) of each look.
    async fn looks_until_ready(s: &Schedule, ready_after: Duration, retry_after: Option<Duration>) -> Vec<Duration> {
        let mut timers = Timers::default();
        let mut rng = rand::rngs::StdRng::seed_from_u64(9);
        let start = Instant::now();
        let mut looks = Vec::new();
        timers.set(Due::Poll(1), s.interval(0, retry_after, &mut rng));
        loop {
            assert_eq!(timers.next().await, Due::Poll(1));
            let at = start.elapsed();
            looks.push(at);
            if at >= ready_after {
                return looks;
            }
            timers.set(Due::Poll(1), s.interval(looks.len() as u32, None, &mut rng));
        }
    }

    #[tokio::test(start_paused = true)]
    async fn polls_back_off_with_jitter_on_the_paused_clock() {
        let s = Schedule { jitter: 0.0, ..Schedule::from(&Polling::default()) };
        let looks = looks_until_ready(&s, Duration::from_secs(10), None).await;
        let secs: Vec<f64> = looks.iter().map(|d| (d.as_secs_f64() * 1000.0).round() / 1000.0).collect();
        // 1.5, +2.4, +3.84, +6.144
        assert_eq!(secs, [1.5, 3.9, 7.74, 13.884]);
        let jittered = Schedule::from(&Polling::default());
        let looks = looks_until_ready(&jittered, Duration::from_secs(10), None).await;
        assert!(looks.len() <= 5, "{looks:?}");
        let first = looks[0].as_secs_f64();
        assert!((1.2..=1.8).contains(&first), "first look at {first}");
    }

    #[tokio::test(start_paused = true)]
    async fn retry_after_delays_the_first_look_and_cancel_clears() {
        let s = Schedule::from(&Polling::default());
        let looks = looks_until_ready(&s, Duration::ZERO, Some(Duration::from_secs(7))).await;
        assert_eq!(looks, [Duration::from_secs(7)]);

        let mut timers = Timers::default();
        timers.set(Due::Poll(1), Duration::from_secs(1));
        timers.set(Due::Requeue(2), Duration::from_secs(2));
        timers.set(Due::Poll(1), Duration::from_secs(3));
        assert_eq!(timers.keys.len(), 2);
        timers.cancel(2);
        let start = Instant::now();
        assert_eq!(timers.next().await, Due::Poll(1));
        assert_eq!(start.elapsed(), Duration::from_secs(3));
        assert!(timers.keys.is_empty());
    }
}
