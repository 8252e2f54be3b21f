//! Why a simulator configuration is refused, naming the option.

/// A bad simulator option.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SimConfigError {
    /// The delay range is reversed.
    #[error("--min-delay-ms ({min}) is larger than --max-delay-ms ({max})")]
    Delays {
        /// `--min-delay-ms`.
        min: u64,
        /// `--max-delay-ms`.
        max: u64,
    },
    /// A rate limit of 0.
    #[error("--{action}-rate must be at least 1")]
    ZeroRate {
        /// `group`, `create` or `get`.
        action: &'static str,
    },
    /// `--bucket` is not a bucket name.
    #[error("--bucket `{0}` is not a bucket name")]
    Bucket(String),
    /// `--fail-rate` is not a probability.
    #[error("--fail-rate {0} is not between 0 and 1")]
    FailRate(f64),
    /// `--tail-share` is not a probability.
    #[error("--tail-share {0} is not between 0 and 1")]
    TailShare(f64),
    /// `--delay-sigma` is out of range.
    #[error("--delay-sigma {0} is not between 0 and 5")]
    Sigma(f64),
    /// A fault rate is wrong.
    #[error(transparent)]
    Faults(#[from] FaultError),
}

/// Bad fault rates.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FaultError {
    /// One rate is not a probability.
    #[error("{flag} {rate} is not between 0 and 1")]
    Rate {
        /// The option (`--fault-drop` …).
        flag: &'static str,
        /// The value given.
        rate: f64,
    },
    /// The rates add up to more than 1.
    #[error("fault rates add up to {sum:.3}, more than 1")]
    Sum {
        /// Their sum.
        sum: f64,
    },
}
