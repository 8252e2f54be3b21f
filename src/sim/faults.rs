//! Fault injection: which fault, if any, a request gets.
//!
//! Every fault that hides a creation (the server acted, the client cannot
//! know) is its own flag, so a test can aim at each one; the simulator counts
//! the creations they hid in `/_stats`.

use rand::Rng;
use serde::{Deserialize, Serialize};

use super::error::FaultError;

/// Rates (0..=1) at which each fault is injected, per request.
#[derive(Debug, Clone, Default, PartialEq, clap::Args, Serialize, Deserialize)]
#[serde(default)]
pub struct FaultRates {
    /// HTTP 500 after the request was processed.
    #[arg(long = "fault-500", default_value_t = 0.0)]
    pub http500: f64,
    /// HTTP 502 (bad gateway) after the request was processed.
    #[arg(long = "fault-502", default_value_t = 0.0)]
    pub http502: f64,
    /// HTTP 503 after the request was processed (a gateway that lies).
    #[arg(long = "fault-503-after", default_value_t = 0.0)]
    pub http503_after: f64,
    /// HTTP 504 (gateway timeout) after the request was processed.
    #[arg(long = "fault-504", default_value_t = 0.0)]
    pub http504: f64,
    /// HTTP 503 before the request was processed.
    #[arg(long = "fault-503", default_value_t = 0.0)]
    pub http503: f64,
    /// The connection is dropped after the request was processed.
    #[arg(long = "fault-drop", default_value_t = 0.0)]
    pub drop: f64,
    /// The response is held past the client's timeout (after processing).
    #[arg(long = "fault-slow", default_value_t = 0.0)]
    pub slow: f64,
    /// The body is cut short (Content-Length promises more) after processing.
    #[arg(long = "fault-truncated", default_value_t = 0.0)]
    pub truncated: f64,
    /// A malformed JSON body (complete HTTP framing) after processing.
    #[arg(long = "fault-malformed", default_value_t = 0.0)]
    pub malformed: f64,
    /// A success envelope with an empty `task_id` after processing.
    #[arg(long = "fault-no-task", default_value_t = 0.0)]
    pub no_task: f64,
    /// A business error inside a success envelope (`data.Code`), not processed.
    #[arg(long = "fault-business", default_value_t = 0.0)]
    pub business: f64,
    /// A framework error (`state: 0`, `error` of a random shape), not processed.
    #[arg(long = "fault-framework", default_value_t = 0.0)]
    pub framework: f64,
    /// A gateway error (HTTP 400 with `{"error": {...}}`), not processed.
    #[arg(long = "fault-gateway", default_value_t = 0.0)]
    pub gateway: f64,
    /// HTTP 429 with `Retry-After: 1` beyond the rate limit (a storm), not processed.
    #[arg(long = "fault-429", default_value_t = 0.0)]
    pub http429: f64,
}

/// One injected fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Fault {
    /// HTTP 500, request processed.
    Server500,
    /// HTTP 502, request processed.
    Server502,
    /// HTTP 503, request processed.
    Server503After,
    /// HTTP 504, request processed.
    Server504,
    /// HTTP 503, request not processed.
    Server503,
    /// Connection dropped mid-response, request processed.
    Dropped,
    /// Response held past the client's timeout, request processed.
    Slow,
    /// Body cut short of its Content-Length, request processed.
    Truncated,
    /// Malformed JSON, request processed.
    Malformed,
    /// Success envelope with an empty `task_id`, request processed.
    NoTaskId,
    /// `data.Code` business error, not processed.
    Business,
    /// `state: 0` framework error, not processed.
    Framework,
    /// Gateway-shaped HTTP 400, not processed.
    Gateway,
    /// HTTP 429 beyond the rate limit, not processed.
    Server429,
}

impl Fault {
    /// Every fault, in the order rates are drawn.
    pub const ALL: [Fault; 14] = [
        Fault::Server500,
        Fault::Server502,
        Fault::Server503After,
        Fault::Server504,
        Fault::Server503,
        Fault::Dropped,
        Fault::Slow,
        Fault::Truncated,
        Fault::Malformed,
        Fault::NoTaskId,
        Fault::Business,
        Fault::Framework,
        Fault::Gateway,
        Fault::Server429,
    ];

    /// True when the request is acted on before the fault hides the outcome.
    pub fn after_processing(self) -> bool {
        !matches!(self, Fault::Server503 | Fault::Business | Fault::Framework | Fault::Gateway | Fault::Server429)
    }

    /// The command-line flag that sets this fault's rate.
    pub fn flag(self) -> &'static str {
        match self {
            Fault::Server500 => "--fault-500",
            Fault::Server502 => "--fault-502",
            Fault::Server503After => "--fault-503-after",
            Fault::Server504 => "--fault-504",
            Fault::Server503 => "--fault-503",
            Fault::Dropped => "--fault-drop",
            Fault::Slow => "--fault-slow",
            Fault::Truncated => "--fault-truncated",
            Fault::Malformed => "--fault-malformed",
            Fault::NoTaskId => "--fault-no-task",
            Fault::Business => "--fault-business",
            Fault::Framework => "--fault-framework",
            Fault::Gateway => "--fault-gateway",
            Fault::Server429 => "--fault-429",
        }
    }
}

impl FaultRates {
    /// The rate of one fault.
    pub fn rate(&self, f: Fault) -> f64 {
        match f {
            Fault::Server500 => self.http500,
            Fault::Server502 => self.http502,
            Fault::Server503After => self.http503_after,
            Fault::Server504 => self.http504,
            Fault::Server503 => self.http503,
            Fault::Dropped => self.drop,
            Fault::Slow => self.slow,
            Fault::Truncated => self.truncated,
            Fault::Malformed => self.malformed,
            Fault::NoTaskId => self.no_task,
            Fault::Business => self.business,
            Fault::Framework => self.framework,
            Fault::Gateway => self.gateway,
            Fault::Server429 => self.http429,
        }
    }

    /// Checks each rate is in 0..=1 and that they sum to at most 1.
    pub fn validate(&self) -> Result<(), FaultError> {
        for f in Fault::ALL {
            let rate = self.rate(f);
            if !(0.0..=1.0).contains(&rate) {
                return Err(FaultError::Rate { flag: f.flag(), rate });
            }
        }
        let sum: f64 = Fault::ALL.iter().map(|f| self.rate(*f)).sum();
        if sum > 1.0 + 1e-9 {
            return Err(FaultError::Sum { sum });
        }
        Ok(())
    }

    /// Draws the fault for one request.
    pub fn roll(&self, rng: &mut impl Rng) -> Option<Fault> {
        let x: f64 = rng.random();
        let mut acc = 0.0;
        for f in Fault::ALL {
            acc += self.rate(f);
            if x < acc {
                return Some(f);
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
        let rates = FaultRates { http500: 0.1, http503: 0.1, malformed: 0.1, ..Default::default() };
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
        let e = FaultRates { drop: 1.5, ..Default::default() }.validate().unwrap_err().to_string();
        assert_eq!(e, "--fault-drop 1.5 is not between 0 and 1");
        let e = FaultRates { drop: 0.6, slow: 0.6, ..Default::default() }.validate().unwrap_err().to_string();
        assert_eq!(e, "fault rates add up to 1.200, more than 1");
        assert!(FaultRates { drop: 1.0, ..Default::default() }.validate().is_ok());
    }

    #[test]
    fn hidden_creations_are_the_after_processing_faults() {
        let hidden: Vec<Fault> = Fault::ALL.into_iter().filter(|f| f.after_processing()).collect();
        assert_eq!(hidden.len(), 9);
        assert!(!Fault::Server503.after_processing());
        assert!(Fault::Server503After.after_processing());
    }
}
