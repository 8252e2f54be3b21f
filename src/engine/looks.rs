//! When each job is next looked at (GetAsset): planned from the learned
//! processing-time distribution of its kind (asset type and profile) and
//! booked in the look calendar, or, with `polling.adaptive = false`, the
//! classic capped-exponential schedule. Owns what is learned and where it is
//! kept.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::time::Duration;

use rand::Rng;

use super::calendar::Calendar;
use super::learned::Learned;
use super::lognormal::LogNormal;
use super::plan::{DelayCost, LookPlan};
use super::schedule::Schedule;
use crate::config::Polling;
use crate::job::JobId;

/// What detection delay costs, in calls: chosen so that lognormal
/// processing (median 15 s, σ = 0.5) is seen with about 3.07 calls and 2.23 s
/// mean delay when the distribution is known.
const COST: DelayCost = DelayCost { linear: 0.85, square: 0.05 };
/// Shortest wait before a look, in seconds.
const MIN_WAIT: f64 = 0.05;
/// Seconds of random spread per unit of `polling.jitter` (±).
const JITTER_SECS: f64 = 0.5;
/// Change of mu or sigma after which waiting jobs are planned again.
const REPLAN: f64 = 0.05;

/// The planner of looks.
#[derive(Debug)]
pub struct Looks {
    schedule: Schedule,
    adaptive: bool,
    cap: f64,
    first_min: f64,
    jitter: f64,
    learned: Learned,
    /// The distribution planned with (the predictive one) and its plan, per kind.
    plans: HashMap<String, (LogNormal, LookPlan)>,
    /// The estimate waiting jobs were last planned with, per kind.
    replanned: HashMap<String, LogNormal>,
    /// Kinds observed since the last fit.
    observed: BTreeSet<String>,
    calendar: Calendar,
    path: Option<PathBuf>,
    save_failed: bool,
}

/// One job to plan a look for.
#[derive(Debug, Clone, Copy)]
pub struct LookAt<'a> {
    /// The job.
    pub job: JobId,
    /// Its kind ([`super::learned::kind_key`]).
    pub kind: &'a str,
    /// Seconds after creation of the last look that found it processing (0: none).
    pub last: f64,
    /// Seconds since creation now.
    pub elapsed: f64,
    /// Looks answered so far (for the classic schedule).
    pub polls: u32,
}

impl Looks {
    /// A planner for `polling` within `get_per_sec`, starting from what
    /// `path` (when given) holds; the warning says why the file was not used.
    pub fn new(polling: &Polling, get_per_sec: u32, path: Option<PathBuf>) -> (Looks, Option<String>) {
        let (learned, warning) = match &path {
            Some(p) => Learned::load(p),
            None => (Learned::default(), None),
        };
        let looks = Looks {
            schedule: Schedule::from(polling),
            adaptive: polling.adaptive,
            cap: polling.max_interval_secs,
            first_min: polling.first_secs,
            jitter: polling.jitter,
            learned,
            plans: HashMap::new(),
            replanned: HashMap::new(),
            observed: BTreeSet::new(),
            calendar: Calendar::new(get_per_sec),
            path,
            save_failed: false,
        };
        (looks, warning)
    }

    fn plan(&mut self, kind: &str) -> &LookPlan {
        if !self.plans.contains_key(kind) {
            let dist = self.learned.predictive(kind);
            self.replanned.insert(kind.to_string(), dist);
            let plan = LookPlan::new(&dist, COST, self.cap, self.first_min);
            self.plans.insert(kind.to_string(), (dist, plan));
        }
        &self.plans[kind].1
    }

    /// The wait before the next look at `at`, at least `retry_after`.
    pub fn next(&mut self, at: LookAt<'_>, retry_after: Option<Duration>, rng: &mut impl Rng) -> Duration {
        if !self.adaptive {
            return self.schedule.interval(at.polls, retry_after, rng);
        }
        let jitter = self.jitter;
        let plan = self.plan(at.kind);
        let (target, longest) = (plan.next_after(at.last), plan.longest_wait(at.last));
        let latest = (at.last + longest - at.elapsed).max(MIN_WAIT);
        let spread = if jitter > 0.0 { rng.random_range(-jitter..=jitter) * JITTER_SECS } else { 0.0 };
        let wait = (target - at.elapsed + spread).clamp(MIN_WAIT, latest);
        let booked = self.calendar.book(at.job, Duration::from_secs_f64(wait), Duration::from_secs_f64(latest));
        retry_after.map_or(booked, |r| booked.max(r))
    }

    /// The processing caps learned in earlier runs, per profile.
    pub fn caps(&self) -> &BTreeMap<String, f64> {
        self.learned.caps()
    }

    /// Remembers the processing caps learned, to save with the rest.
    pub fn remember_caps(&mut self, caps: BTreeMap<String, f64>) {
        self.learned.set_caps(caps);
    }

    /// Records the processing time of an Active asset of `kind` created at
    /// `created` (Unix seconds).
    pub fn observe(&mut self, kind: &str, took: Duration, created: f64) {
        self.learned.observe(kind, took.as_secs_f64(), false, created);
        self.observed.insert(kind.to_string());
    }

    /// Records an asset of `kind` created at `created` (Unix seconds) given
    /// up while still processing after `secs`.
    pub fn gave_up(&mut self, kind: &str, secs: f64, created: f64) {
        self.learned.observe(kind, secs, true, created);
        self.observed.insert(kind.to_string());
    }

    /// Estimates again the kinds observed since the last fit and those of
    /// `live` (kind, seconds after which a job still being polled was last
    /// seen processing), and plans them anew. Returns the kinds whose
    /// estimate moved enough that their waiting jobs should be planned again.
    pub fn refit(&mut self, live: &[(String, f64)]) -> Vec<String> {
        if !self.adaptive {
            return Vec::new();
        }
        let mut by_kind: BTreeMap<String, Vec<f64>> =
            std::mem::take(&mut self.observed).into_iter().map(|k| (k, Vec::new())).collect();
        for (kind, secs) in live {
            by_kind.entry(kind.clone()).or_default().push(*secs);
        }
        let mut moved = Vec::new();
        for (kind, secs) in by_kind {
            let dist = self.learned.refit(&kind, &secs);
            let same = self.plans.get(&kind).is_some_and(|(d, _)| close(d, &dist, 1e-3));
            if !same {
                let plan = LookPlan::new(&dist, COST, self.cap, self.first_min);
                self.plans.insert(kind.clone(), (dist, plan));
            }
            if self.replanned.get(&kind).is_none_or(|d| !close(d, &dist, REPLAN)) {
                self.replanned.insert(kind.clone(), dist);
                moved.push(kind);
            }
        }
        moved
    }

    /// Where to save what is learned and the bytes to write, when something
    /// new was learned since the last call.
    pub fn take_unsaved(&mut self) -> Option<(PathBuf, Vec<u8>)> {
        let path = self.path.clone()?;
        if !self.learned.changed() {
            return None;
        }
        self.learned.set_saved(true);
        Some((path, self.learned.snapshot_json()))
    }

    /// What was learned before this run, for the log (`None`: nothing).
    pub fn summary(&self) -> Option<String> {
        let kinds = self.learned.summary();
        let path = self.path.as_ref()?;
        (self.adaptive && !kinds.is_empty())
            .then(|| format!("polling from processing times learned in {}: {}", path.display(), kinds.join("; ")))
    }

    /// Marks the last [`Looks::take_unsaved`] as not written; true when an
    /// earlier save had failed too.
    pub fn save_failed(&mut self) -> bool {
        self.learned.set_saved(false);
        std::mem::replace(&mut self.save_failed, true)
    }

    /// The distribution `kind` is planned with.
    #[cfg(test)]
    pub fn dist(&self, kind: &str) -> LogNormal {
        self.plans.get(kind).map_or_else(|| self.learned.predictive(kind), |(d, _)| *d)
    }
}

fn close(a: &LogNormal, b: &LogNormal, by: f64) -> bool {
    (a.mu - b.mu).abs() < by && (a.sigma - b.sigma).abs() < by
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::timers::{Due, Timers};
    use rand::SeedableRng;
    use tokio::time::Instant;

    const KIND: &str = "Image/default";

    fn looks(polling: Polling) -> Looks {
        Looks::new(&polling, 100, None).0
    }

    /// Looks at one job that is ready `ready` seconds after creation, on the
    /// paused clock; returns when each look happened.
    async fn looks_until_ready(l: &mut Looks, ready: f64, retry_after: Option<Duration>) -> Vec<f64> {
        let mut timers = Timers::default();
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let start = Instant::now();
        let mut at = LookAt { job: 1, kind: KIND, last: 0.0, elapsed: 0.0, polls: 0 };
        let mut seen = Vec::new();
        timers.set(Due::Poll(1), l.next(at, retry_after, &mut rng));
        loop {
            assert_eq!(timers.next().await, Due::Poll(1));
            let now = start.elapsed().as_secs_f64();
            seen.push(now);
            if now >= ready {
                return seen;
            }
            at = LookAt { last: now, elapsed: now, polls: seen.len() as u32, ..at };
            timers.set(Due::Poll(1), l.next(at, None, &mut rng));
        }
    }

    #[tokio::test(start_paused = true)]
    async fn looks_follow_the_prior_on_the_paused_clock() {
        let mut l = looks(Polling::default());
        let prior = LogNormal::prior();
        let seen = looks_until_ready(&mut l, 40.0, None).await;
        // The first look waits for the fast ones, never past the cap.
        assert!(seen[0] >= prior.quantile(0.01) && seen[0] <= 15.0 + 1e-6, "{seen:?}");
        assert!(seen.windows(2).all(|w| w[1] - w[0] <= 15.0 + 1e-6 && w[1] > w[0]), "{seen:?}");
        assert!(seen.len() <= 12, "{seen:?}");
        // Retry-After is honoured even where the plan would look sooner.
        let mut l = looks(Polling::default());
        let seen = looks_until_ready(&mut l, 0.0, Some(Duration::from_secs(20))).await;
        assert_eq!(seen, [20.0]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_tight_cap_is_kept_and_the_classic_schedule_stays_available() {
        let tight = Polling { max_interval_secs: 0.5, first_secs: 0.1, ..Polling::default() };
        let seen = looks_until_ready(&mut looks(tight), 3.0, None).await;
        assert!(seen[0] <= 0.5 + 1e-6 && seen.windows(2).all(|w| w[1] - w[0] <= 0.5 + 1e-6), "{seen:?}");
        let fixed = Polling { adaptive: false, first_secs: 2.0, backoff: 1.0, jitter: 0.0, ..Polling::default() };
        let seen = looks_until_ready(&mut looks(fixed), 7.0, None).await;
        assert_eq!(seen, [2.0, 4.0, 6.0, 8.0]);
    }

    #[test]
    fn learning_moves_the_first_look_and_asks_for_replanning() {
        // A cap above the prior's first look, so the plan alone decides it.
        let mut l = looks(Polling { max_interval_secs: 15.0, ..Polling::default() });
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let first = |l: &mut Looks, rng: &mut rand::rngs::StdRng, job| {
            l.next(LookAt { job, kind: KIND, last: 0.0, elapsed: 0.0, polls: 0 }, None, rng).as_secs_f64()
        };
        let cold = first(&mut l, &mut rng, 1);
        for _ in 0..30 {
            l.observe(KIND, Duration::from_secs(4), 1.8e9);
        }
        assert_eq!(l.refit(&[]), [KIND]);
        assert!(l.dist(KIND).median() < 5.0, "{:?}", l.dist(KIND));
        let warm = first(&mut l, &mut rng, 2);
        assert!(warm < cold / 2.0, "{warm} vs {cold}");
        // Nothing new: nothing to re-plan.
        assert!(l.refit(&[]).is_empty());
        // Many jobs still processing long after that: the estimate moves up.
        let live: Vec<(String, f64)> = (0..200).map(|_| (KIND.to_string(), 12.0)).collect();
        assert_eq!(l.refit(&live), [KIND]);
        assert!(l.dist(KIND).median() > 6.0, "{:?}", l.dist(KIND));
    }
}
