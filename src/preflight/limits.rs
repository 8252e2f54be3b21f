//! The asset library's documented limits, as a table in code (overridable
//! in the `[preflight]` config tables, as the server may change them), and
//! the check of measured properties against them.

use serde::{Deserialize, Serialize};

use crate::api::AssetType;
use crate::media::MediaInfo;

const MIB: u64 = 1024 * 1024;

/// Limits for images (jpeg, png, webp, bmp, tiff, gif, heic/heif).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct ImageLimits {
    /// Shortest side allowed, in pixels.
    pub min_side: u64,
    /// Longest side allowed, in pixels.
    pub max_side: u64,
    /// Lowest width/height.
    pub min_aspect: f64,
    /// Highest width/height.
    pub max_aspect: f64,
    /// Largest size in bytes (inclusive): "under 30 MB" is 30 MiB − 1.
    pub max_bytes: u64,
}

impl Default for ImageLimits {
    fn default() -> Self {
        ImageLimits { min_side: 300, max_side: 6000, min_aspect: 0.4, max_aspect: 2.5, max_bytes: 30 * MIB - 1 }
    }
}

/// Limits for video (mp4, mov).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct VideoLimits {
    /// Shortest duration, in seconds.
    pub min_secs: f64,
    /// Longest duration, in seconds.
    pub max_secs: f64,
    /// Lowest frame rate.
    pub min_fps: f64,
    /// Highest frame rate.
    pub max_fps: f64,
    /// Shortest side, in pixels.
    pub min_side: u64,
    /// Longest side, in pixels.
    pub max_side: u64,
    /// Lowest width/height.
    pub min_aspect: f64,
    /// Highest width/height.
    pub max_aspect: f64,
    /// Fewest pixels (width × height).
    pub min_pixels: u64,
    /// Most pixels (width × height).
    pub max_pixels: u64,
    /// Largest size in bytes (inclusive).
    pub max_bytes: u64,
}

impl Default for VideoLimits {
    fn default() -> Self {
        VideoLimits {
            min_secs: 2.0,
            max_secs: 15.0,
            min_fps: 24.0,
            max_fps: 60.0,
            min_side: 300,
            max_side: 6000,
            min_aspect: 0.4,
            max_aspect: 2.5,
            min_pixels: 409_600,
            max_pixels: 2_086_876,
            max_bytes: 50 * MIB,
        }
    }
}

/// Limits for audio (mp3, wav).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(default)]
pub struct AudioLimits {
    /// Shortest duration, in seconds.
    pub min_secs: f64,
    /// Longest duration, in seconds.
    pub max_secs: f64,
    /// Largest size in bytes (inclusive).
    pub max_bytes: u64,
}

impl Default for AudioLimits {
    fn default() -> Self {
        AudioLimits { min_secs: 2.0, max_secs: 15.0, max_bytes: 15 * MIB }
    }
}

/// The whole table.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MediaLimits {
    /// Images.
    pub image: ImageLimits,
    /// Video.
    pub video: VideoLimits,
    /// Audio.
    pub audio: AudioLimits,
}

/// Measurements are compared with this much slack, so that a clip of
/// 48 frames over 2.0 s is not refused as 23.9999 fps.
const SLACK: f64 = 1e-3;

/// A number without needless decimals: 9.6, 2.5, 24, 23.976.
pub(crate) fn num(x: f64) -> String {
    let s = format!("{x:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// `bytes` in MB (MiB, as [`MediaInfo::summary`] counts them) with `decimals` decimals.
fn mb(bytes: u64, decimals: usize) -> String {
    format!("{:.*} MB", decimals, bytes as f64 / MIB as f64)
}

fn range_f(out: &mut Vec<String>, what: &str, unit: &str, v: f64, min: f64, max: f64) {
    if v < min - SLACK {
        out.push(format!("{what} {}{unit} is below {}{unit}", num(v), num(min)));
    } else if v > max + SLACK {
        out.push(format!("{what} {}{unit} is above {}{unit}", num(v), num(max)));
    }
}

#[allow(clippy::too_many_arguments)]
fn frame(out: &mut Vec<String>, w: u64, h: u64, min_side: u64, max_side: u64, min_aspect: f64, max_aspect: f64) {
    let mut wrong = Vec::new();
    for (name, side) in [("width", w), ("height", h)] {
        if side < min_side {
            wrong.push(format!("{name} {side} px is below {min_side} px"));
        } else if side > max_side {
            wrong.push(format!("{name} {side} px is above {max_side} px"));
        }
    }
    let aspect = w as f64 / h as f64;
    if aspect < min_aspect - SLACK / 10.0 {
        wrong.push(format!("aspect {} is below {}", num(aspect), num(min_aspect)));
    } else if aspect > max_aspect + SLACK / 10.0 {
        wrong.push(format!("aspect {} is above {}", num(aspect), num(max_aspect)));
    }
    // The dimensions once, before the first reason they explain.
    if let Some(first) = wrong.first_mut() {
        *first = format!("{w}×{h}: {first}");
    }
    out.extend(wrong);
}

/// A size over `max`, in MB only: (the size, "is above the limit of Y MB").
/// The limit is inclusive; one that reads "under N MB" (`max` is a whole
/// tenth of a MB less one byte) is named as N, and a size at N is "at or
/// above" it. Sizes have one decimal, more only when one would print the
/// size and the limit alike (50 MB and one byte is "50.000001 MB", above
/// "50.000000 MB").
fn size_excess(bytes: Option<u64>, max: u64) -> Option<(String, String)> {
    let b = bytes.filter(|b| *b > max)?;
    let under = max.saturating_add(1);
    if under.saturating_mul(10).is_multiple_of(MIB) {
        return Some((mb(b, 1), format!("is at or above the limit of {}", mb(under, 1))));
    }
    let decimals = (1..=7).find(|d| mb(b, *d) != mb(max, *d)).unwrap_or(7);
    Some((mb(b, decimals), format!("is above the limit of {}", mb(max, decimals))))
}

fn size(out: &mut Vec<String>, bytes: Option<u64>, max: u64) {
    if let Some((b, limit)) = size_excess(bytes, max) {
        out.push(format!("size {b} {limit}"));
    }
}

impl MediaLimits {
    /// The largest size allowed for `declared`, in bytes (inclusive).
    pub fn max_bytes(&self, declared: AssetType) -> u64 {
        match declared {
            AssetType::Image => self.image.max_bytes,
            AssetType::Video => self.video.max_bytes,
            AssetType::Audio => self.audio.max_bytes,
        }
    }

    /// The refusal for a size the URL's host declares (its HEAD's
    /// `Content-Length`) over the limit for `declared`, before anything is
    /// measured.
    pub fn declared_size(&self, declared: AssetType, length: Option<u64>) -> Option<String> {
        Some(format!("{} (the size the URL's host declares in Content-Length)", self.too_large(declared, length?)?))
    }

    /// The refusal for `bytes` over the limit for `declared`
    /// (`size 31.0 MB is at or above the limit of 30.0 MB for Image`), in
    /// the one unit every size message uses.
    pub fn too_large(&self, declared: AssetType, bytes: u64) -> Option<String> {
        let (b, limit) = size_excess(Some(bytes), self.max_bytes(declared))?;
        Some(format!("size {b} {limit} for {declared}"))
    }

    /// Every limit `info` breaks for an asset declared as `declared`; empty
    /// when it passes. A content of another type than declared is refused
    /// for that alone.
    pub fn check(&self, declared: AssetType, info: &MediaInfo) -> Vec<String> {
        let mut out = Vec::new();
        let actual = info.format.asset_type();
        if actual != declared {
            out.push(format!(
                "declared {declared}, but the content is {} ({actual}); fix the type column or --type",
                info.format
            ));
            return out;
        }
        match actual {
            AssetType::Image => {
                let l = &self.image;
                if let (Some(w), Some(h)) = (info.width, info.height) {
                    frame(&mut out, w, h, l.min_side, l.max_side, l.min_aspect, l.max_aspect);
                }
                size(&mut out, info.size_bytes, l.max_bytes);
            }
            AssetType::Video => {
                let l = &self.video;
                if let Some(d) = info.duration_secs {
                    range_f(&mut out, "duration", " s", d, l.min_secs, l.max_secs);
                }
                if let Some(f) = info.fps {
                    range_f(&mut out, "frame rate", " fps", f, l.min_fps, l.max_fps);
                }
                if let (Some(w), Some(h)) = (info.width, info.height) {
                    frame(&mut out, w, h, l.min_side, l.max_side, l.min_aspect, l.max_aspect);
                    let px = w.saturating_mul(h);
                    if px < l.min_pixels {
                        out.push(format!("{w}×{h}: {} pixels is below {}", thousands(px), thousands(l.min_pixels)));
                    } else if px > l.max_pixels {
                        out.push(format!("{w}×{h}: {} pixels is above {}", thousands(px), thousands(l.max_pixels)));
                    }
                }
                size(&mut out, info.size_bytes, l.max_bytes);
            }
            AssetType::Audio => {
                let l = &self.audio;
                if let Some(d) = info.duration_secs {
                    range_f(&mut out, "duration", " s", d, l.min_secs, l.max_secs);
                }
                size(&mut out, info.size_bytes, l.max_bytes);
            }
        }
        out
    }

    /// Checks the table itself: positive, finite, each minimum at most its maximum.
    pub fn validate(&self) -> Result<(), LimitsError> {
        let i = &self.image;
        let v = &self.video;
        let a = &self.audio;
        let ranges = [
            ("image side", i.min_side as f64, i.max_side as f64),
            ("image aspect", i.min_aspect, i.max_aspect),
            ("video duration", v.min_secs, v.max_secs),
            ("video fps", v.min_fps, v.max_fps),
            ("video side", v.min_side as f64, v.max_side as f64),
            ("video aspect", v.min_aspect, v.max_aspect),
            ("video pixels", v.min_pixels as f64, v.max_pixels as f64),
            ("audio duration", a.min_secs, a.max_secs),
        ];
        for (what, min, max) in ranges {
            if !(min.is_finite() && max.is_finite() && min >= 0.0 && min <= max) {
                return Err(LimitsError::Range { what, min, max });
            }
        }
        if i.min_aspect <= 0.0 || v.min_aspect <= 0.0 {
            return Err(LimitsError::ZeroAspect);
        }
        Ok(())
    }
}

/// Why a limits table is inconsistent.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LimitsError {
    /// A minimum is negative, not finite, or above its maximum.
    #[error("preflight {what}: the minimum ({min}) must be at least 0 and at most the maximum ({max})")]
    Range {
        /// Which limit (`video fps`, `image side` …).
        what: &'static str,
        /// The minimum given.
        min: f64,
        /// The maximum given.
        max: f64,
    },
    /// An aspect minimum is 0.
    #[error("preflight aspect minimums must be above 0")]
    ZeroAspect,
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::Format;

    fn info(format: Format, w: u64, h: u64) -> MediaInfo {
        MediaInfo { format, width: Some(w), height: Some(h), duration_secs: None, fps: None, size_bytes: Some(1000) }
    }

    #[test]
    fn image_limits_name_the_limit_and_the_value() {
        let l = MediaLimits::default();
        assert_eq!(
            l.check(AssetType::Image, &info(Format::Png, 1920, 200)),
            ["1920×200: height 200 px is below 300 px", "aspect 9.6 is above 2.5"]
        );
        assert!(l.check(AssetType::Image, &info(Format::Png, 1000, 400)).is_empty());
        assert!(l.check(AssetType::Image, &info(Format::Png, 300, 6000)).len() == 1);
        assert_eq!(
            l.check(AssetType::Video, &info(Format::Png, 1000, 1000)),
            ["declared Video, but the content is png (Image); fix the type column or --type"]
        );
        let big = MediaInfo { size_bytes: Some(30 * MIB), ..info(Format::Jpeg, 1000, 1000) };
        assert_eq!(l.check(AssetType::Image, &big), ["size 30.0 MB is at or above the limit of 30.0 MB"]);
        let big = MediaInfo { size_bytes: Some(50 * MIB + 1), ..info(Format::Mp4, 1000, 1000) };
        assert_eq!(
            l.check(AssetType::Video, &big),
            ["size 50.000001 MB is above the limit of 50.000000 MB"],
            "enough decimals to tell them apart, one unit"
        );
        let big = MediaInfo { size_bytes: Some(40 * MIB), ..info(Format::Wav, 1000, 1000) };
        assert_eq!(l.check(AssetType::Audio, &big), ["size 40.0 MB is above the limit of 15.0 MB"]);
        assert_eq!(l.declared_size(AssetType::Audio, Some(15 * MIB)), None);
        assert_eq!(
            l.declared_size(AssetType::Image, Some(1 << 40)).unwrap(),
            "size 1048576.0 MB is at or above the limit of 30.0 MB for Image (the size the URL's host declares in Content-Length)"
        );
        // A local file's size from `stat` is told the same way.
        assert_eq!(l.too_large(AssetType::Image, 30 * MIB - 1), None);
        assert_eq!(
            l.too_large(AssetType::Image, 30 * MIB).unwrap(),
            "size 30.0 MB is at or above the limit of 30.0 MB for Image"
        );
    }

    #[test]
    fn video_limits() {
        let l = MediaLimits::default();
        let v = MediaInfo { duration_secs: Some(1.5), fps: Some(23.976), ..info(Format::Mp4, 640, 480) };
        assert_eq!(
            l.check(AssetType::Video, &v),
            [
                "duration 1.5 s is below 2 s",
                "frame rate 23.976 fps is below 24 fps",
                "640×480: 307,200 pixels is below 409,600"
            ]
        );
        let ok = MediaInfo { duration_secs: Some(2.0), fps: Some(23.9999), ..info(Format::Mov, 1280, 720) };
        assert!(l.check(AssetType::Video, &ok).is_empty());
        assert!(MediaLimits::default().validate().is_ok());
        let mut bad = MediaLimits::default();
        bad.video.min_fps = 70.0;
        assert_eq!(
            bad.validate().unwrap_err().to_string(),
            "preflight video fps: the minimum (70) must be at least 0 and at most the maximum (60)"
        );
    }
}
