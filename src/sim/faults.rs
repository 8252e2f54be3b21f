//! Fault injection: which fault, if any, a request gets.

use rand::Rng;
use serde::{Deserialize, Serialize};

/// Rates (0..=1) at which each fault is injected, per request.
#[derive(Debug, Clone, Default, PartialEq, clap::Args, Serialize, Deserialize)]
pub struct FaultRates {
    /// HTTP 500 after the request was processed, or 503 before it (half each).
    #[arg(long = "fault-5xx", default_value_t = 0.0)]
    pub server_error: f64,
    /// The connection is dropped after the request was processed.
    #[arg(long = "fault-drop", default_value_t = 0.0)]
    pub drop: f64,
    /// The response is held past the client's timeout (after processing).
    #[arg(long = "fault-slow", default_value_t = 0.0)]
    pub slow: f64,
    /// A malformed (truncated) JSON body after processing.
    #[arg(long = "fault-malformed", default_value_t = 0.0)]
    pub malformed: f64,
    /// A business error inside a success envelope (`data.Code`), not processed.
    #[arg(long = "fault-business", default_value_t = 0.0)]
    pub business: f64,
    /// A framework error (`state: 0`, `error` of a random shape), not processed.
    #[arg(long = "fault-framework", default_value_t = 0.0)]
    pub framework: f64,
    /// A gateway error (HTTP 400 with `{"error": {...}}`), not processed.
    #[arg(long = "fault-gateway", default_value_t = 0.0)]
    pub gateway: f64,
}

/// One injected fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Fault {
    /// HTTP 500, request processed.
    Server500,
    /// HTTP 503, request not processed.
    Server503,
    /// Connection dropped mid-response, request processed.
    Dropped,
    /// Response held past the client's timeout, request processed.
    Slow,
    /// Truncated JSON, request processed.
    Malformed,
    /// `data.Code` business error, not processed.
    Business,
    /// `state: 0` framework error, not processed.
    Framework,
    /// Gateway-shaped HTTP 400, not processed.
    Gateway,
}

impl Fault {
    /// True when the request is acted on before the fault hides the outcome.
    pub fn after_processing(self) -> bool {
        matches!(self, Fault::Server500 | Fault::Dropped | Fault::Slow | Fault::Malformed)
    }
}

impl FaultRates {
    /// Checks each rate is in 0..=1 and that they sum to at most 1.
    pub fn validate(&self) -> Result<(), String> {
        let rates = self.table();
        for (name, r) in rates {
            if !(0.0..=1.0).contains(&r) {
                return Err(format!("fault rate {name} = {r} is not between 0 and 1"));
            }
        }
        let sum: f64 = rates.iter().map(|(_, r)| r).sum();
        if sum > 1.0 + 1e-9 {
            return Err(format!("fault rates add up to {sum:.3}, more than 1"));
        }
        Ok(())
    }

    fn table(&self) -> [(&'static str, f64); 7] {
        [
            ("5xx", self.server_error),
            ("drop", self.drop),
            ("slow", self.slow),
            ("malformed", self.malformed),
            ("business", self.business),
            ("framework", self.framework),
            ("gateway", self.gateway),
        ]
    }

    /// Draws the fault for one request.
    pub fn roll(&self, rng: &mut impl Rng) -> Option<Fault> {
        let x: f64 = rng.random();
        let mut acc = 0.0;
        for (name, r) in self.table() {
            acc += r;
            if x < acc {
                return Some(match name {
                    "5xx" => {
                        if rng.random_bool(0.5) {
                            Fault::Server500
                        } else {
                            Fault::Server503
                        }
                    }
                    "drop" => Fault::Dropped,
                    "slow" => Fault::Slow,
                    "malformed" => Fault::Malformed,
                    "business" => Fault::Business,
                    "framework" => Fault::Framework,
                    _ => Fault::Gateway,
                });
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn rolls_match_rates() {
        let rates = FaultRates { server_error: 0.2, malformed: 0.1, ..Default::default() };
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let n = 20_000;
        let faults: Vec<_> = (0..n).filter_map(|_| rates.roll(&mut rng)).collect();
        let share = |f: &[Fault]| faults.iter().filter(|x| f.contains(x)).count() as f64 / n as f64;
        assert!((share(&[Fault::Server500, Fault::Server503]) - 0.2).abs() < 0.02);
        assert!((share(&[Fault::Malformed]) - 0.1).abs() < 0.02);
        assert_eq!(share(&[Fault::Dropped, Fault::Slow, Fault::Business]), 0.0);
    }

    #[test]
    fn validation() {
        assert!(FaultRates { drop: 1.5, ..Default::default() }.validate().is_err());
        assert!(
            FaultRates { drop: 0.6, slow: 0.6, ..Default::default() }.validate().unwrap_err().contains("more than 1")
        );
        assert!(FaultRates { drop: 1.0, ..Default::default() }.validate().is_ok());
    }
}
