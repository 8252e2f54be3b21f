//! The `[preflight]` table of the config: how strictly media is checked before creation,
//! how URLs are probed, and the limits table's overrides.

use serde::{Deserialize, Serialize};

use super::{AudioLimits, ImageLimits, MediaLimits, VideoLimits};

/// What a refusal does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PreflightMode {
    /// A refused line is an error and is not imported.
    #[default]
    Strict,
    /// A refused line is reported and imported anyway.
    Warn,
    /// Nothing is checked.
    Off,
}

/// What a URL that cannot be probed does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Unprobeable {
    /// Held back with its reason until the user consents (per run:
    /// `--allow-unchecked`, or the dashboard's send-anyway key).
    #[default]
    Hold,
    /// Reported as "not checked" and imported without asking (the old
    /// behaviour, for those who want it).
    Allow,
    /// Reported as "not checked" and never imported.
    Refuse,
}

/// The `[preflight]` table.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct PreflightConfig {
    /// strict, warn or off.
    pub mode: PreflightMode,
    /// hold, allow or refuse a URL that cannot be probed.
    pub unprobeable: Unprobeable,
    /// Items probed at once (1–256).
    pub concurrency: usize,
    /// Probe requests per second, over all URLs (1–10000).
    pub requests_per_sec: u32,
    /// Seconds allowed for probing one item, all its requests together (0.1–600).
    pub timeout_secs: f64,
    /// Most bytes read to measure an image (4096–67108864).
    pub image_budget_bytes: u64,
    /// Most bytes read to measure an mp4/mov (its `moov` box).
    pub video_budget_bytes: u64,
    /// Most bytes read to measure an mp3/wav.
    pub audio_budget_bytes: u64,
    /// `[preflight.image]`: overrides of the image limits.
    pub image: ImageLimits,
    /// `[preflight.video]`: overrides of the video limits.
    pub video: VideoLimits,
    /// `[preflight.audio]`: overrides of the audio limits.
    pub audio: AudioLimits,
}

impl Default for PreflightConfig {
    fn default() -> Self {
        let b = crate::media::Budget::default();
        PreflightConfig {
            mode: PreflightMode::Strict,
            unprobeable: Unprobeable::Hold,
            concurrency: 16,
            requests_per_sec: 100,
            timeout_secs: 10.0,
            image_budget_bytes: b.image,
            video_budget_bytes: b.video,
            audio_budget_bytes: b.audio,
            image: ImageLimits::default(),
            video: VideoLimits::default(),
            audio: AudioLimits::default(),
        }
    }
}

impl PreflightConfig {
    /// Checks every value's documented range.
    pub fn validate(&self) -> Result<(), PreflightConfigError> {
        if !(1..=256).contains(&self.concurrency) {
            return Err(PreflightConfigError::Concurrency(self.concurrency));
        }
        if !(1..=10_000).contains(&self.requests_per_sec) {
            return Err(PreflightConfigError::RequestsPerSec(self.requests_per_sec));
        }
        if !(0.1..=600.0).contains(&self.timeout_secs) {
            return Err(PreflightConfigError::Timeout(self.timeout_secs));
        }
        for (key, value) in [
            ("image_budget_bytes", self.image_budget_bytes),
            ("video_budget_bytes", self.video_budget_bytes),
            ("audio_budget_bytes", self.audio_budget_bytes),
        ] {
            if !(4096..=64 * 1024 * 1024).contains(&value) {
                return Err(PreflightConfigError::Budget { key, value });
            }
        }
        Ok(self.limits().validate()?)
    }

    /// The limits table with these overrides.
    pub fn limits(&self) -> MediaLimits {
        MediaLimits { image: self.image.clone(), video: self.video.clone(), audio: self.audio.clone() }
    }

    /// The byte budgets.
    pub fn budget(&self) -> crate::media::Budget {
        crate::media::Budget {
            image: self.image_budget_bytes,
            video: self.video_budget_bytes,
            audio: self.audio_budget_bytes,
        }
    }
}

/// What is wrong with the `[preflight]` table, naming the key.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PreflightConfigError {
    /// `preflight.concurrency` is out of range.
    #[error("preflight.concurrency must be 1–256, not {0}")]
    Concurrency(usize),
    /// `preflight.requests_per_sec` is out of range.
    #[error("preflight.requests_per_sec must be 1–10000, not {0}")]
    RequestsPerSec(u32),
    /// `preflight.timeout_secs` is out of range.
    #[error("preflight.timeout_secs must be 0.1–600, not {0}")]
    Timeout(f64),
    /// A byte budget is out of range.
    #[error("preflight.{key} must be 4096–67108864, not {value}")]
    Budget {
        /// `image_budget_bytes`, `video_budget_bytes` or `audio_budget_bytes`.
        key: &'static str,
        /// The value given.
        value: u64,
    },
    /// The limits table (`[preflight.image]` …) is inconsistent.
    #[error(transparent)]
    Limits(#[from] super::LimitsError),
}
