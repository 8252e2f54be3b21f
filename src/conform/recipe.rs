//! The recipe: what a measured file needs to pass the limits, decided
//! without touching the file. Pure, so that every rule is tested on numbers
//! and a recipe's text can key the cache.

use serde::Serialize;

use super::measure::Measured;
use super::settings::{AspectFix, TooLong};
use crate::api::AssetType;
use crate::preflight::{MediaLimits, num};

/// Bumped whenever what a recipe produces changes, so cached outputs of an
/// older recipe are not reused.
pub const RECIPE_VERSION: u32 = 1;

/// Image formats the server takes (and this program decodes).
const IMAGE_TAKEN: [&str; 6] = ["jpeg", "png", "webp", "bmp", "tiff", "gif"];
/// Video codecs kept as they are. Others (HEVC, ProRes, VP9, AV1 …) are
/// re-encoded: the upstream names containers, not codecs, and H.264 is the
/// one every downloader decodes.
const VIDEO_CODECS_KEPT: [&str; 1] = ["h264"];
/// Audio codecs kept inside a video.
const VIDEO_AUDIO_KEPT: [&str; 2] = ["aac", "mp3"];
/// Each part of a split clip is at most this much under the limit, so that
/// frame and packet rounding never take it over.
const PART_MARGIN_SECS: f64 = 0.25;
/// The audio bitrate of re-encoded video, in kbit/s.
pub const AUDIO_KBPS: u64 = 128;
/// The bitrate of MP3 outputs, in kbit/s.
pub const MP3_KBPS: u64 = 192;

/// The picture's geometry: the canvas (padded or cropped, centred) and the
/// size it is then scaled to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Frame {
    /// The measured size.
    pub source: (u64, u64),
    /// The canvas before scaling, when the aspect is padded or cropped.
    pub canvas: Option<(u64, u64, AspectFix)>,
    /// The output size.
    pub width: u64,
    /// The output size.
    pub height: u64,
}

/// One output of a clip: from `start`, `secs` long.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Part {
    /// Seconds from the start of the original.
    pub start: f64,
    /// Its length in seconds.
    pub secs: f64,
}

/// The format written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Output {
    /// JPEG, or PNG when the picture has transparency.
    Image,
    /// MP4 with H.264 video and AAC audio.
    Mp4,
    /// MP3.
    Mp3,
    /// WAV (16-bit PCM).
    Wav,
}

/// What to do to one file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recipe {
    /// Its type.
    pub kind: AssetType,
    /// The picture's geometry (images, video).
    pub frame: Option<Frame>,
    /// The output frame rate (video).
    pub fps: Option<f64>,
    /// The parts of a clip (one when it is not split); none for images.
    pub parts: Vec<Part>,
    /// The format written.
    pub output: Output,
    /// The size each output must stay within, in bytes.
    pub max_bytes: u64,
    /// The video bitrate cap that keeps a part within `max_bytes`, kbit/s.
    pub video_kbps: Option<u64>,
    /// A video keeps its sound.
    pub audio: bool,
    /// A WAV output's sample rate and channels.
    pub pcm: Option<(u64, u64)>,
    /// What is done, in words, one step each (not part of the key).
    #[serde(skip)]
    pub steps: Vec<String>,
    /// What the user should know (an upscale adds no detail …).
    #[serde(skip)]
    pub warnings: Vec<String>,
}

impl Recipe {
    /// The text that keys the cache: the recipe's every setting and its version.
    pub fn key_text(&self) -> String {
        format!("v{RECIPE_VERSION}:{}", serde_json::to_string(self).unwrap_or_default())
    }

    /// `scaled 3840×2160 to 1920×1080; split 45.0 s into 4 parts of 11.3 s`.
    pub fn describe(&self) -> String {
        self.steps.join("; ")
    }
}

/// The limits of a picture.
struct Window {
    min_side: u64,
    max_side: u64,
    min_aspect: f64,
    max_aspect: f64,
    min_px: u64,
    max_px: u64,
}

impl Window {
    fn fits(&self, w: u64, h: u64) -> bool {
        let a = w as f64 / h as f64;
        w.min(h) >= self.min_side
            && w.max(h) <= self.max_side
            && a >= self.min_aspect
            && a <= self.max_aspect
            && w * h >= self.min_px
            && w * h <= self.max_px
    }
}

fn px(w: u64, h: u64) -> String {
    format!("{w}×{h}")
}

/// The geometry that brings `w`×`h` inside `win`: the aspect padded or
/// cropped to just inside its limit, then scaled (down, or up to the
/// minimum) keeping the aspect; `even` sides for video.
fn fit(w: u64, h: u64, win: &Window, fix: AspectFix, even: bool, r: &mut Recipe) -> Result<Frame, String> {
    let a = w as f64 / h as f64;
    let (cw, ch) = if a > win.max_aspect {
        let target = win.max_aspect * 0.995;
        match fix {
            AspectFix::Pad => (w, (w as f64 / target).ceil() as u64),
            AspectFix::Crop => (((h as f64) * target).floor() as u64, h),
        }
    } else if a < win.min_aspect {
        let target = win.min_aspect * 1.005;
        match fix {
            AspectFix::Pad => (((h as f64) * target).ceil() as u64, h),
            AspectFix::Crop => (w, (w as f64 / target).floor() as u64),
        }
    } else {
        (w, h)
    };
    let canvas = ((cw, ch) != (w, h)).then_some((cw, ch, fix));
    if let Some((cw, ch, fix)) = canvas {
        let how = if fix == AspectFix::Pad { "padded" } else { "cropped" };
        r.steps.push(format!(
            "{how} {} to {} (aspect {} is outside {}–{})",
            px(w, h),
            px(cw, ch),
            num(a),
            num(win.min_aspect),
            num(win.max_aspect)
        ));
    }
    let (fw, fh) = (cw as f64, ch as f64);
    let hi = (win.max_side as f64 / fw.max(fh)).min((win.max_px as f64 / (fw * fh)).sqrt());
    let lo = (win.min_side as f64 / fw.min(fh)).max((win.min_px as f64 / (fw * fh)).sqrt());
    if lo > hi {
        return Err(format!("{} cannot be scaled into the limits", px(cw, ch)));
    }
    let s = if hi < 1.0 {
        hi
    } else if lo > 1.0 {
        lo
    } else {
        1.0
    };
    let step = if even { 2 } else { 1 };
    let round = |x: f64| -> u64 {
        let v = if s < 1.0 { x.floor() as u64 } else { x.ceil() as u64 };
        let v = if even && v % 2 == 1 { if s < 1.0 { v - 1 } else { v + 1 } } else { v };
        v.max(step)
    };
    let (mut ow, mut oh) =
        if s == 1.0 && !(even && (cw % 2 == 1 || ch % 2 == 1)) { (cw, ch) } else { (round(fw * s), round(fh * s)) };
    // Rounding may leave a side or the aspect a hair outside: nudge.
    for _ in 0..64 {
        if win.fits(ow, oh) {
            break;
        }
        let a = ow as f64 / oh as f64;
        if ow.max(oh) > win.max_side || ow * oh > win.max_px {
            if ow >= oh { ow -= step } else { oh -= step }
        } else if ow.min(oh) < win.min_side || ow * oh < win.min_px {
            if ow <= oh { ow += step } else { oh += step }
        } else if a > win.max_aspect {
            oh += step;
        } else {
            ow += step;
        }
    }
    if !win.fits(ow, oh) {
        return Err(format!("{} cannot be scaled into the limits", px(cw, ch)));
    }
    if (ow, oh) != (cw, ch) {
        let up = ow > cw || oh > ch;
        r.steps.push(format!("{} {} to {}", if up { "upscaled" } else { "scaled" }, px(cw, ch), px(ow, oh)));
        if up {
            r.warnings.push("upscaling adds no detail".into());
        }
    }
    Ok(Frame { source: (w, h), canvas, width: ow, height: oh })
}

/// The parts of a clip of `d` seconds within `min`–`max`.
fn parts(d: f64, min: f64, max: f64, too_long: TooLong, r: &mut Recipe) -> Result<Vec<Part>, String> {
    const SLACK: f64 = 1e-3;
    if d < min - SLACK {
        return Err(format!("duration {} s is below {} s, and a clip cannot be lengthened", num(d), num(min)));
    }
    if d <= max + SLACK {
        return Ok(vec![Part { start: 0.0, secs: d }]);
    }
    let most = (max - PART_MARGIN_SECS).max(max * 0.9);
    match too_long {
        TooLong::Trim => {
            r.steps.push(format!("trimmed {} s to its first {} s", num(d), num(most)));
            Ok(vec![Part { start: 0.0, secs: most }])
        }
        TooLong::Split => {
            let n = (d / most).ceil().max(2.0);
            let len = d / n;
            if len < min {
                return Err(format!("{} s cannot be split into parts of {}–{} s", num(d), num(min), num(max)));
            }
            r.steps.push(format!("split {:.1} s into {} parts of {:.1} s", d, n as u64, len));
            Ok((0..n as u64).map(|i| Part { start: i as f64 * len, secs: len }).collect())
        }
    }
}

/// What `m` needs to pass `limits`: `Ok(None)` when it passes as it is,
/// the recipe, or why it cannot be made to pass.
pub fn plan(
    m: &Measured,
    limits: &MediaLimits,
    aspect: AspectFix,
    too_long: TooLong,
) -> Result<Option<Recipe>, String> {
    let mut r = Recipe {
        kind: m.kind,
        frame: None,
        fps: None,
        parts: Vec::new(),
        output: Output::Image,
        max_bytes: limits.max_bytes(m.kind),
        video_kbps: None,
        audio: false,
        pcm: None,
        steps: Vec::new(),
        warnings: Vec::new(),
    };
    let container = m.container.split(',').next().unwrap_or_default().replace("mov", "mp4/mov");
    match m.kind {
        AssetType::Image => {
            let l = &limits.image;
            let (w, h) = (m.width.unwrap_or(0), m.height.unwrap_or(0));
            if w == 0 || h == 0 {
                return Err("the image has no size".into());
            }
            let win = Window {
                min_side: l.min_side,
                max_side: l.max_side,
                min_aspect: l.min_aspect,
                max_aspect: l.max_aspect,
                min_px: 0,
                max_px: u64::MAX,
            };
            let frame = fit(w, h, &win, aspect, false, &mut r)?;
            let taken = IMAGE_TAKEN.contains(&container.as_str());
            let resized = (frame.width, frame.height) != (w, h) || frame.canvas.is_some();
            if !taken {
                r.steps.push(format!("converted {container} to jpeg (png if transparent)"));
            } else if m.size > r.max_bytes && !resized {
                r.steps.push(format!("re-encoded {:.1} MB to fit the size limit", m.size as f64 / 1048576.0));
            }
            if taken && !resized && m.size <= r.max_bytes {
                return Ok(None);
            }
            if taken && container != "jpeg" {
                r.steps.push(format!("written as jpeg (png if transparent), was {container}"));
            }
            r.frame = Some(frame);
        }
        AssetType::Video => {
            let l = &limits.video;
            let (w, h) = (m.width.unwrap_or(0), m.height.unwrap_or(0));
            if w == 0 || h == 0 {
                return Err("the video has no picture size".into());
            }
            let d = m.duration.unwrap_or(0.0);
            r.parts = parts(d, l.min_secs, l.max_secs, too_long, &mut r)?;
            let win = Window {
                min_side: l.min_side,
                max_side: l.max_side,
                min_aspect: l.min_aspect,
                max_aspect: l.max_aspect,
                min_px: l.min_pixels,
                max_px: l.max_pixels,
            };
            let frame = fit(w, h, &win, aspect, true, &mut r)?;
            let fps = m.fps.unwrap_or(30.0);
            let target = fps.clamp(l.min_fps, l.max_fps);
            if (target - fps).abs() > 1e-3 {
                r.steps.push(format!("frame rate {} → {} fps", num(fps), num(target)));
            }
            let codec = m.video_codec.clone().unwrap_or_default();
            let audio_ok = m.audio_codec.as_deref().is_none_or(|a| VIDEO_AUDIO_KEPT.contains(&a));
            let taken = container == "mp4/mov" && VIDEO_CODECS_KEPT.contains(&codec.as_str()) && audio_ok;
            if !taken {
                let what = [Some(codec.as_str()), m.audio_codec.as_deref()].into_iter().flatten().collect::<Vec<_>>();
                r.steps.push(format!("re-encoded {container} ({}) as mp4 (h264/aac)", what.join("+")));
            }
            let longest = r.parts.iter().map(|p| p.secs).fold(0.0, f64::max).max(1.0);
            let whole_kbps = ((r.max_bytes as f64 * 8.0 * 0.85) / longest / 1000.0) as u64;
            let audio = m.audio_codec.is_some();
            let kbps = whole_kbps.saturating_sub(if audio { AUDIO_KBPS } else { 0 });
            if m.size > r.max_bytes {
                r.steps.push(format!(
                    "re-encoded {:.1} MB at most {} kbit/s to fit {:.0} MB",
                    m.size as f64 / 1048576.0,
                    kbps,
                    r.max_bytes as f64 / 1048576.0
                ));
            }
            let changed = r.parts.len() > 1 || r.parts[0].secs < d - 1e-3 || (frame.width, frame.height) != (w, h);
            if taken && !changed && (target - fps).abs() <= 1e-3 && m.size <= r.max_bytes {
                return Ok(None);
            }
            r.frame = Some(frame);
            r.fps = Some(target);
            r.output = Output::Mp4;
            r.video_kbps = Some(kbps.max(100));
            r.audio = audio;
        }
        AssetType::Audio => {
            let l = &limits.audio;
            let d = m.duration.unwrap_or(0.0);
            r.parts = parts(d, l.min_secs, l.max_secs, too_long, &mut r)?;
            let taken = matches!(container.as_str(), "mp3" | "wav");
            let longest = r.parts.iter().map(|p| p.secs).fold(0.0, f64::max);
            let rate = m.sample_rate.unwrap_or(48_000).min(48_000);
            let channels = m.channels.unwrap_or(2).clamp(1, 2);
            let pcm = (longest * (rate * channels * 2) as f64) as u64 + 1024;
            r.output = if container == "wav" && pcm <= r.max_bytes { Output::Wav } else { Output::Mp3 };
            r.pcm = (r.output == Output::Wav).then_some((rate, channels));
            if !taken {
                r.steps.push(format!("converted {container} to mp3"));
            } else if container == "wav" && r.output == Output::Mp3 {
                r.steps.push("re-encoded wav as mp3 to fit the size limit".into());
            } else if m.size > r.max_bytes && container == "mp3" {
                r.steps.push(format!("re-encoded at {MP3_KBPS} kbit/s to fit the size limit"));
            }
            let changed = r.parts.len() > 1 || r.parts[0].secs < d - 1e-3;
            if taken && !changed && m.size <= r.max_bytes {
                return Ok(None);
            }
        }
    }
    Ok(Some(r))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::media::{Format, MediaInfo};

    /// What preflight would measure of an output made by `r` (part `part`),
    /// for checking a recipe on numbers: the geometry, rate and length it
    /// promises, at the size limit.
    fn promised(r: &Recipe, part: usize) -> MediaInfo {
        let (width, height) = r.frame.as_ref().map_or((None, None), |f| (Some(f.width), Some(f.height)));
        let format = match r.output {
            Output::Image => Format::Jpeg,
            Output::Mp4 => Format::Mp4,
            Output::Mp3 => Format::Mp3,
            Output::Wav => Format::Wav,
        };
        MediaInfo {
            format,
            width,
            height,
            duration_secs: r.parts.get(part).map(|p| p.secs),
            fps: r.fps,
            size_bytes: Some(r.max_bytes),
        }
    }

    fn measured(kind: AssetType, container: &str, w: u64, h: u64, d: Option<f64>, fps: Option<f64>) -> Measured {
        Measured {
            kind,
            container: container.into(),
            video_codec: (kind == AssetType::Video).then(|| "h264".into()),
            audio_codec: None,
            width: (w > 0).then_some(w),
            height: (h > 0).then_some(h),
            duration: d,
            fps,
            sample_rate: Some(44_100),
            channels: Some(2),
            size: 1_000_000,
        }
    }

    fn passes(r: &Recipe) -> bool {
        let l = MediaLimits::default();
        (0..r.parts.len().max(1)).all(|i| l.check(r.kind, &promised(r, i)).is_empty())
    }

    #[test]
    fn a_panorama_is_padded_then_scaled_and_says_so() {
        let l = MediaLimits::default();
        let m = measured(AssetType::Image, "jpeg", 12000, 2000, None, None);
        let r = plan(&m, &l, AspectFix::Pad, TooLong::Split).unwrap().unwrap();
        let f = r.frame.clone().unwrap();
        assert_eq!(f.canvas, Some((12000, 4825, AspectFix::Pad)));
        assert!(f.width <= 6000 && (f.width as f64 / f.height as f64) <= 2.5, "{f:?}");
        assert_eq!(r.steps[0], "padded 12000×2000 to 12000×4825 (aspect 6 is outside 0.4–2.5)");
        assert!(r.steps[1].starts_with("scaled 12000×4825 to 6000×"), "{:?}", r.steps);
        let c = plan(&m, &l, AspectFix::Crop, TooLong::Split).unwrap().unwrap();
        assert_eq!(c.frame.unwrap().canvas, Some((4975, 2000, AspectFix::Crop)));
        assert!(passes(&r));
    }

    #[test]
    fn small_images_are_upscaled_with_a_warning_and_good_ones_left_alone() {
        let l = MediaLimits::default();
        let r = plan(&measured(AssetType::Image, "png", 200, 150, None, None), &l, AspectFix::Pad, TooLong::Split);
        let r = r.unwrap().unwrap();
        assert_eq!((r.frame.as_ref().unwrap().width, r.frame.as_ref().unwrap().height), (400, 300));
        assert_eq!(r.steps, ["upscaled 200×150 to 400×300", "written as jpeg (png if transparent), was png"]);
        assert_eq!(r.warnings, ["upscaling adds no detail"]);
        assert_eq!(
            plan(&measured(AssetType::Image, "png", 1000, 800, None, None), &l, AspectFix::Pad, TooLong::Split),
            Ok(None)
        );
        let tga = plan(&measured(AssetType::Image, "tga", 1000, 800, None, None), &l, AspectFix::Pad, TooLong::Split);
        assert_eq!(tga.unwrap().unwrap().steps, ["converted tga to jpeg (png if transparent)"]);
    }

    #[test]
    fn long_4k_slow_clips_are_split_scaled_and_brought_to_24_fps() {
        let l = MediaLimits::default();
        let mut m = measured(AssetType::Video, "matroska,webm", 3840, 2160, Some(45.0), Some(15.0));
        m.video_codec = Some("vp9".into());
        let r = plan(&m, &l, AspectFix::Pad, TooLong::Split).unwrap().unwrap();
        assert_eq!(r.parts.len(), 4);
        assert!(r.parts.iter().all(|p| p.secs >= 2.0 && p.secs <= 15.0));
        assert_eq!(r.fps, Some(24.0));
        let f = r.frame.clone().unwrap();
        assert!(f.width * f.height <= 2_086_876 && f.width.is_multiple_of(2) && f.height.is_multiple_of(2), "{f:?}");
        assert!(passes(&r), "{r:?}");
        let t = plan(&m, &l, AspectFix::Pad, TooLong::Trim).unwrap().unwrap();
        assert_eq!(t.parts, [Part { start: 0.0, secs: 14.75 }]);
        let short = measured(AssetType::Video, "mov,mp4,m4a,3gp,3g2,mj2", 1280, 720, Some(1.0), Some(30.0));
        assert_eq!(
            plan(&short, &l, AspectFix::Pad, TooLong::Split),
            Err("duration 1 s is below 2 s, and a clip cannot be lengthened".into())
        );
        let good = measured(AssetType::Video, "mov,mp4,m4a,3gp,3g2,mj2", 1280, 720, Some(10.0), Some(30.0));
        assert_eq!(plan(&good, &l, AspectFix::Pad, TooLong::Split), Ok(None));
        let hevc = Measured { video_codec: Some("hevc".into()), ..good };
        assert!(plan(&hevc, &l, AspectFix::Pad, TooLong::Split).unwrap().is_some(), "HEVC is re-encoded");
    }

    #[test]
    fn long_audio_is_split_and_other_formats_become_mp3() {
        let l = MediaLimits::default();
        let r = plan(&measured(AssetType::Audio, "wav", 0, 0, Some(60.0), None), &l, AspectFix::Pad, TooLong::Split);
        let r = r.unwrap().unwrap();
        assert_eq!((r.parts.len(), r.output), (5, Output::Wav));
        let flac = plan(&measured(AssetType::Audio, "flac", 0, 0, Some(5.0), None), &l, AspectFix::Pad, TooLong::Split);
        assert_eq!(flac.unwrap().unwrap().output, Output::Mp3);
    }

    proptest! {
        #[test]
        fn every_recipe_promises_what_preflight_accepts(
            w in 1u64..20_000, h in 1u64..20_000, d in 2.0f64..400.0, fps in 1.0f64..240.0,
            video in proptest::bool::ANY, crop in proptest::bool::ANY, trim in proptest::bool::ANY,
        ) {
            let l = MediaLimits::default();
            let kind = if video { AssetType::Video } else { AssetType::Image };
            let m = measured(kind, if video { "matroska" } else { "tga" }, w, h, video.then_some(d), video.then_some(fps));
            let fix = if crop { AspectFix::Crop } else { AspectFix::Pad };
            let long = if trim { TooLong::Trim } else { TooLong::Split };
            match plan(&m, &l, fix, long) {
                Ok(Some(r)) => prop_assert!(passes(&r), "{:?}", r),
                Ok(None) => prop_assert!(false, "a tga or matroska always needs converting"),
                // Only a crop of an extreme strip can leave too little to scale.
                Err(e) => prop_assert!(crop && e.contains("cannot be scaled"), "{}", e),
            }
        }
    }
}
