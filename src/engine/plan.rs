//! Look times chosen from a processing-time distribution: the sequence that
//! minimises the expected number of GetAsset calls plus the expected cost of
//! the detection delay `d` (`λ·d + κ·d²`: the square keeps rare long waits,
//! the p99, short), by dynamic programming on a time grid.
//!
//! State `s`: the last look, `s` seconds after creation, found the asset
//! still processing. From `s` the next look goes at the `t` (at most `cap`
//! later) that minimises `P(T > s) + E[λ·(t − T) + κ·(t − T)²; s < T ≤ t] +
//! W(t)`, where `W(t)` is the same minimum from `t` (all unconditional, so
//! the conditioning on `T > s` cancels out in the choice).

use super::lognormal::LogNormal;

/// Probability of still processing beyond which the plan ends; later looks
/// come every `cap`.
const TAIL: f64 = 5e-4;
/// Past the 99th percentile of its kind, an asset has outlived what was
/// learned: how soon it finishes is anyone's guess, and the wait becomes
/// this share of its age (at least the plan's): a wait proportional to age
/// keeps the chance of finishing within each wait about even (the hazard of
/// a scale-free tail). A 600 s asset among 15 s ones costs 19 looks
/// instead of 56.
const TAIL_GROWTH: f64 = 0.4;
/// The quantile past which waits grow with age.
const TAIL_FROM: f64 = 0.99;
/// Finest grid step, in seconds.
const MIN_STEP: f64 = 0.05;
/// Grid points at most, and grid points times candidates at most.
const MAX_POINTS: f64 = 20_000.0;
const MAX_WORK: f64 = 2e6;

/// What a second of detection delay costs, in GetAsset calls.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DelayCost {
    /// Calls per second of delay (λ).
    pub linear: f64,
    /// Calls per second² of delay (κ).
    pub square: f64,
}

/// The planned looks for one distribution.
#[derive(Debug, Clone)]
pub struct LookPlan {
    /// Grid step, in seconds.
    step: f64,
    /// For each grid state, the grid index of the next look.
    next: Vec<u32>,
    /// Longest wait between two looks within the horizon, in seconds.
    cap: f64,
    /// Seconds after creation beyond which waits grow with age.
    tail_from: f64,
}

impl LookPlan {
    /// Plans looks for `dist`: each wait at most `cap` seconds, the first at
    /// least `first_min` after creation, detection delay costing `cost`.
    pub fn new(dist: &LogNormal, cost: DelayCost, cap: f64, first_min: f64) -> LookPlan {
        let cap = cap.max(MIN_STEP);
        let horizon = dist.quantile(1.0 - TAIL).clamp(cap, 10_000.0 * cap);
        let step = MIN_STEP.max(horizon / MAX_POINTS).max((horizon * cap / MAX_WORK).sqrt()).min(cap);
        let n = (horizon / step).ceil() as usize;
        let t = |i: usize| i as f64 * step;
        let f: Vec<f64> = (0..=n).map(|i| dist.cdf(t(i))).collect();
        let g: Vec<f64> = (0..=n).map(|i| dist.partial_mean(t(i))).collect();
        let h: Vec<f64> = (0..=n).map(|i| dist.partial_square(t(i))).collect();
        let reach = ((cap / step) + 1e-9).floor().max(1.0) as usize;
        // The first look waits for the floor and for the fastest thousandth
        // (nothing is likely done before it), unless the cap forbids it.
        let earliest = first_min.max(dist.quantile(0.001)).min(cap);
        let first = ((earliest / step) - 1e-9).ceil().max(1.0) as usize;
        let mut w = vec![0.0; n + 1];
        let mut next = vec![0u32; n];
        // Beyond the horizon: looks every `cap`, about half a cap late.
        w[n] = (1.0 - f[n]) * (1.0 + cost.linear * cap / 2.0 + cost.square * cap * cap / 3.0);
        for i in (0..n).rev() {
            let lo = if i == 0 { first.min(n) } else { i + 1 };
            let hi = (i + reach).min(n).max(lo);
            let mut best = (f64::INFINITY, hi);
            for j in lo..=hi {
                let (tj, df, dg, dh) = (t(j), f[j] - f[i], g[j] - g[i], h[j] - h[i]);
                let delay = (tj * df - dg).max(0.0);
                let square = (tj * tj * df - 2.0 * tj * dg + dh).max(0.0);
                let total = (1.0 - f[i]) + cost.linear * delay + cost.square * square + w[j];
                if total < best.0 {
                    best = (total, j);
                }
            }
            w[i] = best.0;
            next[i] = best.1 as u32;
        }
        LookPlan { step, next, cap, tail_from: dist.quantile(TAIL_FROM) }
    }

    /// When to look next, in seconds after creation, given that the last
    /// look (`last`, seconds after creation; 0 for none) found the asset
    /// still processing. Always later than `last`, at most
    /// [`LookPlan::longest_wait`] later.
    pub fn next_after(&self, last: f64) -> f64 {
        let i = ((last.max(0.0) / self.step) - 1e-9).ceil().max(0.0) as usize;
        let planned = match self.next.get(i) {
            Some(&j) => (j as f64 * self.step).min(last + self.cap).max(last + self.step.min(self.cap)),
            None => last + self.cap,
        };
        if last >= self.tail_from { planned.max(last + TAIL_GROWTH * last) } else { planned }
    }

    /// The longest wait after a look at `last` seconds: the cap, or past the
    /// tail's start a share of the asset's age.
    pub fn longest_wait(&self, last: f64) -> f64 {
        if last >= self.tail_from { self.cap.max(TAIL_GROWTH * last) } else { self.cap }
    }

    /// The planned looks of an asset that takes `secs` to process, up to
    /// and including the first that finds it ready.
    #[cfg(test)]
    pub fn looks_for(&self, secs: f64) -> Vec<f64> {
        let mut looks = Vec::new();
        let mut last = 0.0;
        while looks.last().is_none_or(|&l| l < secs) {
            last = self.next_after(last);
            looks.push(last);
        }
        looks
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COST: DelayCost = DelayCost { linear: 0.8, square: 0.05 };

    /// Expected calls and detection delay of `plan` under `dist`, by
    /// numeric integration over processing times.
    fn expected(plan: &LookPlan, dist: &LogNormal) -> (f64, f64) {
        let (mut calls, mut delay, mut mass) = (0.0, 0.0, 0.0);
        let n = 4000;
        for k in 0..n {
            let p = (k as f64 + 0.5) / n as f64;
            let secs = dist.quantile(p);
            let looks = plan.looks_for(secs);
            calls += looks.len() as f64;
            delay += looks.last().copied().unwrap_or(0.0) - secs;
            mass += 1.0;
        }
        (calls / mass, delay / mass)
    }

    #[test]
    fn an_asset_that_outlives_its_kind_is_looked_at_less_and_less_often() {
        let dist = LogNormal { mu: 15f64.ln(), sigma: 0.5 };
        let plan = LookPlan::new(&dist, COST, 15.0, 1.5);
        let looks = plan.looks_for(600.0);
        assert!(looks.len() <= 20, "{} looks: {looks:?}", looks.len());
        assert!(looks.last().unwrap() - 600.0 <= TAIL_GROWTH * 600.0 + 1e-6, "{looks:?}");
        // Within the learned spread, waits still keep the cap.
        let usual = plan.looks_for(40.0);
        assert!(usual.windows(2).all(|w| w[1] - w[0] <= 15.0 + 1e-9), "{usual:?}");
    }

    #[test]
    fn trades_calls_for_latency() {
        let dist = LogNormal { mu: 15f64.ln(), sigma: 0.5 };
        let mut last = (0.0, f64::INFINITY);
        for linear in [0.3, 0.6, 1.2, 2.4] {
            let cost = DelayCost { linear, square: 0.05 };
            let plan = LookPlan::new(&dist, cost, 15.0, 0.0);
            let (calls, delay) = expected(&plan, &dist);
            assert!(calls > last.0 && delay < last.1, "{cost:?}: {calls} calls, {delay} s");
            last = (calls, delay);
        }
    }

    #[test]
    fn first_look_after_a_low_quantile_and_waits_never_beyond_the_cap() {
        let dist = LogNormal { mu: 15f64.ln(), sigma: 0.5 };
        let plan = LookPlan::new(&dist, COST, 15.0, 0.0);
        let first = plan.next_after(0.0);
        assert!(first >= dist.quantile(0.01) && first <= dist.median(), "first look at {first}");
        for cap in [0.5, 3.0, 15.0] {
            let plan = LookPlan::new(&dist, COST, cap, 0.0);
            let looks = plan.looks_for(400.0);
            assert!(looks[0] <= cap + 1e-9);
            // Before the tail every wait keeps the cap; past it, 0.4 of the age.
            let within = |w: &[f64]| w[0] < plan.tail_from && w[1] - w[0] <= cap + 1e-9;
            let beyond = |w: &[f64]| w[0] >= plan.tail_from && w[1] - w[0] <= cap.max(TAIL_GROWTH * w[0]) + 1e-9;
            assert!(looks.windows(2).all(|w| w[1] > w[0] && (within(w) || beyond(w))), "{cap}: {looks:?}");
        }
        // A first-look floor is kept.
        assert!(LookPlan::new(&dist, DelayCost { linear: 50.0, square: 0.0 }, 15.0, 4.0).next_after(0.0) >= 4.0 - 1e-9);
        // A very wide distribution plans on a coarser grid, still capped.
        let wide = LogNormal { mu: 600f64.ln(), sigma: 2.5 };
        let looks = LookPlan::new(&wide, COST, 15.0, 0.0).looks_for(100_000.0);
        assert!(looks.windows(2).all(|w| w[1] > w[0] && w[1] - w[0] <= 15.0 + 1e-9));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]
        /// Whatever the distribution, cap and floor: looks only move
        /// forward, never wait past the cap, keep the first-look floor, and
        /// do not look before the fastest thousandth can be done (unless the
        /// cap forces it).
        #[test]
        fn plans_keep_their_promises(
            median in 0.2f64..600.0,
            sigma in 0.05f64..2.5,
            cap in 0.5f64..120.0,
            first_min in 0.1f64..20.0,
            linear in 0.05f64..5.0,
            secs in 0.01f64..5000.0,
        ) {
            let dist = LogNormal { mu: median.ln(), sigma };
            let plan = LookPlan::new(&dist, DelayCost { linear, square: 0.05 }, cap, first_min);
            let looks = plan.looks_for(secs);
            proptest::prop_assert!(looks[0] <= cap + 1e-9);
            proptest::prop_assert!(looks[0] >= first_min.min(cap) - 1e-9, "{looks:?}");
            proptest::prop_assert!(looks[0] >= dist.quantile(0.001).min(cap) - plan.step - 1e-9, "{looks:?}");
            proptest::prop_assert!(looks.windows(2).all(|w| w[1] > w[0] && w[1] - w[0] <= plan.longest_wait(w[0]) + 1e-9));
            proptest::prop_assert!(looks.windows(2).all(|w| w[1] - w[0] <= cap.max(TAIL_GROWTH * w[0]) + 1e-9));
            proptest::prop_assert!(*looks.last().unwrap() >= secs);
        }
    }
}
