//! The `[conform]` table of the config: whether files that break the limits
//! are made to pass before upload, the tools that do it, and its choices.

use serde::{Deserialize, Serialize};

/// What an aspect ratio outside the limits becomes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Deserialize, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum AspectFix {
    /// Bars are added (black), nothing of the picture is lost.
    #[default]
    Pad,
    /// The middle is kept and the long side cut.
    Crop,
}

/// What a clip longer than the limit becomes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Deserialize, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum TooLong {
    /// Parts of at most the limit, each at least the minimum, named
    /// `{name}-part1`, `{name}-part2` and so on
    #[default]
    Split,
    /// Only the start, up to the limit, is kept.
    Trim,
}

/// The `[conform]` table.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct ConformConfig {
    /// Conform every import (as `import --conform` does for one run).
    pub enabled: bool,
    /// The ffmpeg program (a name looked up on `PATH`, or a path).
    pub ffmpeg: String,
    /// The ffprobe program; empty: the one beside ffmpeg, else on `PATH`.
    pub ffprobe: String,
    /// `pad` or `crop` an aspect ratio outside the limits.
    pub aspect: AspectFix,
    /// `split` or `trim` a clip longer than the limit.
    pub too_long: TooLong,
    /// Conformed files kept in the data directory's cache, at most, in MB.
    pub cache_mb: u64,
    /// Files conformed at once; 0: one per core.
    pub workers: usize,
}

impl Default for ConformConfig {
    fn default() -> Self {
        ConformConfig {
            enabled: false,
            ffmpeg: "ffmpeg".into(),
            ffprobe: String::new(),
            aspect: AspectFix::Pad,
            too_long: TooLong::Split,
            cache_mb: 4096,
            workers: 0,
        }
    }
}

impl ConformConfig {
    /// Files conformed at once.
    pub fn workers(&self) -> usize {
        match self.workers {
            0 => std::thread::available_parallelism().map_or(2, usize::from),
            n => n.min(64),
        }
    }
}
