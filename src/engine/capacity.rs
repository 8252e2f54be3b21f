//! How many creations each profile may have processing at once: a fixed
//! cap (`limits.max_processing`) and the cap learned from the server's
//! refusals, AIMD-style. A refusal caps the profile at the number of its
//! assets processing when it came (what the server just refused, one more,
//! is never asked again at that level); each accepted creation then raises
//! the cap by `4/cap`, so it probes one higher after about a quarter of
//! `cap` acceptances (a refusal costs one request, a slot left empty costs
//! the batch time). Counting by what the engine sees processing (which lags the
//! server by the detection delay) makes the learned cap include the assets
//! the server finished but the engine has not looked at yet.

use std::collections::{BTreeMap, HashMap};

/// How fast a learned cap creeps up: by `PROBE / cap` per acceptance.
const PROBE: f64 = 4.0;
/// How much higher a learned cap starts the next run.
const RESTART_PROBE: f64 = 1.25;

/// The processing caps of every profile.
#[derive(Debug, Clone, Default)]
pub struct Capacity {
    fixed: Option<usize>,
    learned: HashMap<String, f64>,
}

impl Capacity {
    /// Caps with `fixed` (0: none) for every profile, and those learned in
    /// earlier runs, each a quarter higher (plus one): a new run probes
    /// again, so a cap learned at a bad moment does not last.
    pub fn new(fixed: usize, learned: &BTreeMap<String, f64>) -> Capacity {
        let learned = learned
            .iter()
            .filter(|(_, c)| c.is_finite() && **c >= 1.0)
            .map(|(p, c)| (p.clone(), c * RESTART_PROBE + 1.0))
            .collect();
        Capacity { fixed: (fixed > 0).then_some(fixed), learned }
    }

    /// The learned caps as they are (fractions included), to remember.
    pub fn to_remember(&self) -> BTreeMap<String, f64> {
        self.learned.iter().map(|(p, c)| (p.clone(), *c)).collect()
    }

    /// The cap in force for `profile`, if any.
    pub fn cap(&self, profile: &str) -> Option<usize> {
        let learned = self.learned.get(profile).map(|c| c.floor() as usize);
        match (self.fixed, learned) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// True when `profile` has `busy` creations under way and may have no more.
    pub fn full(&self, profile: &str, busy: usize) -> bool {
        self.cap(profile).is_some_and(|cap| busy >= cap)
    }

    /// True when some profile has a cap.
    pub fn any(&self) -> bool {
        self.fixed.is_some() || !self.learned.is_empty()
    }

    /// The server refused a creation of `profile` while `level` of its
    /// assets were processing: the cap comes down to that level (at least
    /// one). Returns the cap now in force.
    pub fn refused(&mut self, profile: &str, level: usize) -> usize {
        let level = level.max(1) as f64;
        let cap = self.learned.entry(profile.to_string()).or_insert(level);
        *cap = cap.min(level);
        self.cap(profile).unwrap_or(1)
    }

    /// The server accepted a creation of `profile`: a learned cap creeps up.
    pub fn accepted(&mut self, profile: &str) {
        if let Some(cap) = self.learned.get_mut(profile) {
            *cap += PROBE / cap.max(1.0);
        }
    }

    /// The learned caps, per profile, each at most the fixed cap (for the
    /// header and `status`).
    pub fn learned(&self) -> BTreeMap<String, usize> {
        self.learned.keys().filter_map(|p| Some((p.clone(), self.cap(p)?))).collect()
    }

    /// The fixed cap, if one is set.
    pub fn fixed(&self) -> Option<usize> {
        self.fixed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_caps_at_its_level_and_acceptances_probe_upward() {
        let mut c = Capacity::new(0, &BTreeMap::new());
        assert_eq!(c.cap("p"), None);
        assert!(!c.any());
        assert_eq!(c.refused("p", 33), 33);
        assert_eq!(c.cap("other"), None, "per profile");
        // A later refusal at a higher level (in flight before the cut) does not raise it.
        assert_eq!(c.refused("p", 40), 33);
        for _ in 0..9 {
            c.accepted("p");
        }
        assert_eq!(c.cap("p"), Some(34), "one higher after about a quarter of cap acceptances");
        assert_eq!(c.refused("p", 31), 31);
        // Refused with nothing processing: one at a time, never zero.
        assert_eq!(c.refused("p", 0), 1);
        assert_eq!(c.learned(), BTreeMap::from([("p".to_string(), 1)]));
    }

    #[test]
    fn a_fixed_cap_bounds_the_learned_one() {
        let mut c = Capacity::new(20, &BTreeMap::new());
        assert_eq!(c.cap("p"), Some(20));
        assert_eq!(c.refused("p", 50), 20);
        assert_eq!(c.refused("p", 12), 12);
        // What was learned comes back in the next run, a quarter higher.
        let again = Capacity::new(0, &c.to_remember());
        assert_eq!(again.cap("p"), Some(16));
        // Even a cap of one learned at a bad moment opens up run after run.
        let mut low = Capacity::new(0, &BTreeMap::from([("p".to_string(), 1.0)]));
        for _ in 0..5 {
            low = Capacity::new(0, &low.to_remember());
        }
        assert!(low.cap("p").unwrap() >= 10, "{:?}", low.cap("p"));
    }
}
