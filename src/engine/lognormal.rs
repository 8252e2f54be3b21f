//! The lognormal distribution of processing times and its estimation from
//! exact and right-censored observations (EM on log times, with the
//! documented 9–30 s as a prior worth a few observations).

use std::f64::consts::{FRAC_1_SQRT_2, PI, SQRT_2};

/// The 10% and 90% quantiles of the documented processing time, in seconds.
const PRIOR_RANGE: (f64, f64) = (9.0, 30.0);
/// The standard normal's 90% quantile.
const Z90: f64 = 1.281_551_565_545;
/// How many observations the prior is worth.
pub const PRIOR_WEIGHT: f64 = 3.0;
/// Bounds on the estimated sigma (of log seconds).
const SIGMA_RANGE: (f64, f64) = (0.05, 3.0);
/// EM iterations at most, and the change in mu or sigma that ends them.
const EM_ITERATIONS: usize = 200;
const EM_TOLERANCE: f64 = 1e-7;

/// A lognormal distribution: `ln T ~ Normal(mu, sigma²)`, T in seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LogNormal {
    /// Mean of the log time.
    pub mu: f64,
    /// Standard deviation of the log time.
    pub sigma: f64,
}

/// One observed processing time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Observation {
    /// Seconds (positive).
    pub secs: f64,
    /// True when the asset was still processing after `secs` (the time is
    /// longer, by an unknown amount).
    pub censored: bool,
    /// How much it counts (recent observations count more).
    pub weight: f64,
}

impl LogNormal {
    /// The documented 9–30 s as the 10%–90% quantiles.
    pub fn prior() -> LogNormal {
        let (lo, hi) = PRIOR_RANGE;
        LogNormal { mu: (lo * hi).sqrt().ln(), sigma: (hi.ln() - lo.ln()) / (2.0 * Z90) }
    }

    /// The distribution of the next processing time when this one was
    /// estimated from `weight` observations (prior included): the
    /// uncertainty of the estimated mu widens it, by `sqrt(1 + 1/weight)`,
    /// so a plan from little knowledge looks a little earlier and more often.
    pub fn predictive(&self, weight: f64) -> LogNormal {
        LogNormal { mu: self.mu, sigma: self.sigma * (1.0 + 1.0 / weight.max(1.0)).sqrt() }
    }

    /// The median, in seconds.
    pub fn median(&self) -> f64 {
        self.mu.exp()
    }

    /// P(T ≤ t).
    pub fn cdf(&self, t: f64) -> f64 {
        if t <= 0.0 { 0.0 } else { normal_cdf((t.ln() - self.mu) / self.sigma) }
    }

    /// The `p` quantile (0 < p < 1), in seconds.
    pub fn quantile(&self, p: f64) -> f64 {
        (self.mu + self.sigma * normal_quantile(p)).exp()
    }

    /// `E[T; T ≤ t]`, the partial expectation: ∫₀ᵗ u f(u) du.
    pub fn partial_mean(&self, t: f64) -> f64 {
        if t <= 0.0 {
            return 0.0;
        }
        let s2 = self.sigma * self.sigma;
        (self.mu + s2 / 2.0).exp() * normal_cdf((t.ln() - self.mu - s2) / self.sigma)
    }

    /// `E[T²; T ≤ t]`, the partial second moment: ∫₀ᵗ u² f(u) du.
    pub fn partial_square(&self, t: f64) -> f64 {
        if t <= 0.0 {
            return 0.0;
        }
        let s2 = self.sigma * self.sigma;
        (2.0 * self.mu + 2.0 * s2).exp() * normal_cdf((t.ln() - self.mu - 2.0 * s2) / self.sigma)
    }

    /// The estimate from `obs` by expectation–maximisation on log times:
    /// a censored observation counts with its expected log time (and square)
    /// given that it is longer than observed. The prior counts as
    /// [`PRIOR_WEIGHT`] observations, so a few observations already move the
    /// estimate and many outweigh the prior. `start` is where EM begins (the
    /// previous estimate converges fastest).
    pub fn fit(obs: &[Observation], prior: LogNormal, start: LogNormal) -> LogNormal {
        let logs: Vec<(f64, bool, f64)> = obs
            .iter()
            .filter(|o| o.secs > 0.0 && o.secs.is_finite() && o.weight > 0.0)
            .map(|o| (o.secs.ln(), o.censored, o.weight))
            .collect();
        let w0 = PRIOR_WEIGHT;
        let (m0, s0) = (prior.mu, prior.sigma);
        let mut cur = LogNormal { mu: start.mu, sigma: start.sigma.clamp(SIGMA_RANGE.0, SIGMA_RANGE.1) };
        let censored = logs.iter().any(|o| o.1);
        for _ in 0..EM_ITERATIONS {
            let (mut w, mut a, mut b) = (w0, w0 * m0, w0 * (s0 * s0 + m0 * m0));
            for &(y, cens, wt) in &logs {
                let (e1, e2) = if cens {
                    let z = (y - cur.mu) / cur.sigma;
                    let l = inverse_mills(z);
                    (cur.mu + cur.sigma * l, cur.mu * cur.mu + cur.sigma * cur.sigma + cur.sigma * (y + cur.mu) * l)
                } else {
                    (y, y * y)
                };
                w += wt;
                a += wt * e1;
                b += wt * e2;
            }
            let mu = a / w;
            let sigma = (b / w - mu * mu).max(0.0).sqrt().clamp(SIGMA_RANGE.0, SIGMA_RANGE.1);
            let done = (mu - cur.mu).abs() < EM_TOLERANCE && (sigma - cur.sigma).abs() < EM_TOLERANCE;
            cur = LogNormal { mu, sigma };
            // Without censored observations one step is the exact answer.
            if done || !censored {
                break;
            }
        }
        cur
    }
}

/// The standard normal density.
fn normal_pdf(z: f64) -> f64 {
    (-0.5 * z * z).exp() / (2.0 * PI).sqrt()
}

/// The standard normal distribution function.
pub fn normal_cdf(z: f64) -> f64 {
    0.5 * erfc(-z * FRAC_1_SQRT_2)
}

/// φ(z) / (1 − Φ(z)): how far above `z` a normal value known to exceed `z`
/// lies on average (the inverse Mills ratio).
fn inverse_mills(z: f64) -> f64 {
    let tail = 0.5 * erfc(z * FRAC_1_SQRT_2);
    if tail < 1e-300 { z + 1.0 / z.max(1.0) } else { normal_pdf(z) / tail }
}

/// The complementary error function, with a relative error below 1.2e-7
/// everywhere (Numerical Recipes' `erfcc`), so tails stay accurate.
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98 + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 { r } else { 2.0 - r }
}

/// The standard normal quantile (Acklam's rational approximation, refined by
/// one Newton step).
pub fn normal_quantile(p: f64) -> f64 {
    let p = p.clamp(1e-15, 1.0 - 1e-15);
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] =
        [7.784_695_709_041_462e-3, 3.224_671_290_700_398e-1, 2.445_134_137_142_996, 3.754_408_661_907_416];
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    let x = if p < 0.02425 {
        tail((-2.0 * p.ln()).sqrt())
    } else if p > 1.0 - 0.02425 {
        -tail((-2.0 * (1.0 - p).ln()).sqrt())
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    };
    // One Newton step on Φ(x) = p.
    let e = normal_cdf(x) - p;
    x - e * SQRT_2 * PI.sqrt() * (x * x / 2.0).exp()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    fn normal(rng: &mut impl Rng) -> f64 {
        let (u1, u2): (f64, f64) = (rng.random_range(f64::EPSILON..1.0), rng.random());
        (-2.0 * u1.ln()).sqrt() * (2.0 * PI * u2).cos()
    }

    #[test]
    fn prior_puts_nine_and_thirty_seconds_at_the_tenth_and_ninetieth_percentiles() {
        let p = LogNormal::prior();
        assert!((p.quantile(0.1) - 9.0).abs() < 1e-3, "{}", p.quantile(0.1));
        assert!((p.quantile(0.9) - 30.0).abs() < 1e-3, "{}", p.quantile(0.9));
        assert!((p.cdf(30.0) - 0.9).abs() < 1e-6);
        // Planned from the prior alone, the spread is wider; from many
        // observations, hardly.
        assert!((p.predictive(PRIOR_WEIGHT).sigma / p.sigma - (4.0f64 / 3.0).sqrt()).abs() < 1e-12);
        assert!(p.predictive(1000.0).sigma < p.sigma * 1.001);
        let fit = LogNormal::fit(&[], p, p);
        assert!((fit.mu - p.mu).abs() < 1e-12 && (fit.sigma - p.sigma).abs() < 1e-12, "nothing observed: the prior");
    }

    #[test]
    fn normal_functions_agree_with_tables() {
        assert!((normal_cdf(1.96) - 0.975_002_1).abs() < 1e-6);
        assert!((normal_cdf(-3.0) - 0.001_349_9).abs() < 1e-6);
        for p in [1e-6, 0.01, 0.1, 0.5, 0.9, 0.999] {
            assert!((normal_cdf(normal_quantile(p)) - p).abs() < 1e-6 * p.max(0.01), "{p}");
        }
        // The tail mean stays sane far out.
        assert!((inverse_mills(50.0) - 50.02).abs() < 0.1);
        let d = LogNormal { mu: 2.7, sigma: 0.5 };
        let mean = (d.mu + d.sigma * d.sigma / 2.0).exp();
        assert!((d.partial_mean(1e9) - mean).abs() < 1e-6);
        let square = (2.0 * d.mu + 2.0 * d.sigma * d.sigma).exp();
        assert!((d.partial_square(1e9) - square).abs() < 1e-6 * square);
        assert!(d.partial_square(d.median()) < square / 2.0);
    }

    /// Synthetic lognormal times, censored the way polling censors them: each
    /// job was last seen processing at a uniformly random moment of its
    /// life so far, and jobs still running when the sample is taken are
    /// known only to exceed their age.
    #[test]
    fn recovers_mu_and_sigma_from_censored_samples() {
        let truth = LogNormal { mu: 15f64.ln(), sigma: 0.5 };
        let mut rng = rand::rngs::StdRng::seed_from_u64(11);
        let mut obs = Vec::new();
        let mut censored = 0;
        for _ in 0..2000 {
            let t = (truth.mu + truth.sigma * normal(&mut rng)).exp();
            // Jobs started at random over the last 40 s.
            let age = rng.random_range(0.5..40.0);
            if t > age {
                censored += 1;
                obs.push(Observation { secs: age, censored: true, weight: 1.0 });
            } else {
                obs.push(Observation { secs: t, censored: false, weight: 1.0 });
            }
        }
        assert!(censored > 600, "the test must censor heavily: {censored}");
        let prior = LogNormal::prior();
        let fit = LogNormal::fit(&obs, prior, prior);
        assert!((fit.mu - truth.mu).abs() < 0.05, "{fit:?}");
        assert!((fit.sigma - truth.sigma).abs() < 0.05, "{fit:?}");
        // Dropping the censored ones instead biases towards fast jobs.
        let exact: Vec<Observation> = obs.iter().copied().filter(|o| !o.censored).collect();
        let naive = LogNormal::fit(&exact, prior, prior);
        assert!(naive.mu < truth.mu - 0.1, "{naive:?}");
    }

    #[test]
    fn a_few_observations_move_the_prior_and_weights_count() {
        let prior = LogNormal::prior();
        let five: Vec<Observation> =
            [4.0, 5.0, 4.5, 5.5, 5.0].iter().map(|&secs| Observation { secs, censored: false, weight: 1.0 }).collect();
        let fit = LogNormal::fit(&five, prior, prior);
        assert!(fit.median() < 8.0 && fit.median() > 4.5, "{fit:?}");
        let light: Vec<Observation> = five.iter().map(|o| Observation { weight: 0.1, ..*o }).collect();
        let lightly = LogNormal::fit(&light, prior, prior);
        assert!(lightly.median() > fit.median(), "low weights leave more of the prior");
    }
}
