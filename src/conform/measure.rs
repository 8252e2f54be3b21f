//! What a file is, as the conform step needs to know it: images measured by
//! the image crate (header and orientation only), video and audio by
//! ffprobe's JSON.

use std::path::Path;

use serde::Deserialize;

use super::ConformError;
use crate::api::AssetType;

/// A file's properties, as decoded (not merely as its header says).
#[derive(Debug, Clone, PartialEq)]
pub struct Measured {
    /// Image, video or audio.
    pub kind: AssetType,
    /// The container or image format: `jpeg`, `png`, `mov,mp4,…`, `matroska,webm`, `flac` …
    pub container: String,
    /// The video (or image) codec, when there is one: `h264`, `hevc`, `vp9` …
    pub video_codec: Option<String>,
    /// The audio codec, when there is one: `aac`, `mp3`, `pcm_s16le`, `opus` …
    pub audio_codec: Option<String>,
    /// Displayed width in pixels (rotation applied).
    pub width: Option<u64>,
    /// Displayed height in pixels (rotation applied).
    pub height: Option<u64>,
    /// Seconds.
    pub duration: Option<f64>,
    /// Average frames per second.
    pub fps: Option<f64>,
    /// Audio samples per second.
    pub sample_rate: Option<u64>,
    /// Audio channels.
    pub channels: Option<u64>,
    /// Bytes.
    pub size: u64,
}

impl Measured {
    /// A one-line summary: `webm 3840×2160, 45.0 s, 15 fps (vp9), 80.2 MB`.
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        if let (Some(w), Some(h)) = (self.width, self.height) {
            parts.push(format!("{w}×{h}"));
        }
        if let Some(d) = self.duration {
            parts.push(format!("{d:.1} s"));
        }
        if let Some(f) = self.fps {
            parts.push(format!("{} fps", crate::preflight::num(f)));
        }
        let codecs: Vec<&str> =
            [&self.video_codec, &self.audio_codec].into_iter().flatten().map(String::as_str).collect();
        if let Some(last) = parts.last_mut().filter(|_| !codecs.is_empty() && self.kind != AssetType::Image) {
            last.push_str(&format!(" ({})", codecs.join("+")));
        }
        parts.push(format!("{:.1} MB", self.size as f64 / (1024.0 * 1024.0)));
        let container = self.container.split(',').next().unwrap_or(&self.container).replace("mov", "mp4/mov");
        format!("{container} {}", parts.join(", "))
    }
}

/// Measures an image with the image crate: its format, and its size as
/// displayed (an EXIF rotation of a quarter turn swaps the sides).
pub fn image(path: &Path) -> Result<Measured, ConformError> {
    use image::ImageDecoder;
    let size = std::fs::metadata(path).map_err(|e| ConformError::io(path, &e))?.len();
    let undecodable = |why: String| ConformError::Undecodable { what: "image".into(), why };
    let reader = image::ImageReader::open(path)
        .map_err(|e| ConformError::io(path, &e))?
        .with_guessed_format()
        .map_err(|e| ConformError::io(path, &e))?;
    let Some(format) = reader.format() else {
        return Err(undecodable(
            "its format is not one this program decodes (jpeg, png, webp, bmp, tiff, gif, pnm, tga, qoi)".into(),
        ));
    };
    let mut decoder = reader.into_decoder().map_err(|e| undecodable(e.to_string()))?;
    let (w, h) = decoder.dimensions();
    let turned = decoder.orientation().is_ok_and(|o| {
        use image::metadata::Orientation::*;
        matches!(o, Rotate90 | Rotate270 | Rotate90FlipH | Rotate270FlipH)
    });
    let (w, h) = if turned { (h, w) } else { (w, h) };
    Ok(Measured {
        kind: AssetType::Image,
        container: format!("{format:?}").to_lowercase(),
        video_codec: None,
        audio_codec: None,
        width: Some(u64::from(w)),
        height: Some(u64::from(h)),
        duration: None,
        fps: None,
        sample_rate: None,
        channels: None,
        size,
    })
}

#[derive(Deserialize)]
struct Probe {
    #[serde(default)]
    streams: Vec<Stream>,
    format: Option<ProbeFormat>,
}

#[derive(Deserialize)]
struct ProbeFormat {
    #[serde(default)]
    format_name: String,
    duration: Option<String>,
    size: Option<String>,
}

#[derive(Deserialize)]
struct Stream {
    #[serde(default)]
    codec_type: String,
    #[serde(default)]
    codec_name: String,
    width: Option<u64>,
    height: Option<u64>,
    avg_frame_rate: Option<String>,
    r_frame_rate: Option<String>,
    duration: Option<String>,
    sample_rate: Option<String>,
    channels: Option<u64>,
    #[serde(default)]
    disposition: Disposition,
    #[serde(default)]
    side_data_list: Vec<SideData>,
    #[serde(default)]
    tags: Tags,
}

#[derive(Deserialize, Default)]
struct Disposition {
    #[serde(default)]
    attached_pic: u8,
}

#[derive(Deserialize, Default)]
struct SideData {
    rotation: Option<f64>,
}

#[derive(Deserialize, Default)]
struct Tags {
    rotate: Option<String>,
}

fn rate(s: &Option<String>) -> Option<f64> {
    let s = s.as_deref()?;
    let (n, d) = s.split_once('/').unwrap_or((s, "1"));
    let (n, d): (f64, f64) = (n.parse().ok()?, d.parse().ok()?);
    (d > 0.0 && n > 0.0).then(|| n / d).filter(|f| f.is_finite())
}

fn secs(s: &Option<String>) -> Option<f64> {
    s.as_deref()?.parse::<f64>().ok().filter(|d| d.is_finite() && *d > 0.0)
}

/// Reads ffprobe's `-show_format -show_streams` JSON as a file of `kind`:
/// its first real video stream (a cover picture is not one) and its first
/// audio stream.
pub fn from_ffprobe(json: &[u8], kind: AssetType, size: u64) -> Result<Measured, ConformError> {
    let undecodable = |why: &str| ConformError::Undecodable { what: kind.to_string().to_lowercase(), why: why.into() };
    let p: Probe = serde_json::from_slice(json).map_err(|_| undecodable("ffprobe's answer could not be read"))?;
    let format = p.format.ok_or_else(|| undecodable("ffprobe found no container"))?;
    let video = p.streams.iter().find(|s| s.codec_type == "video" && s.disposition.attached_pic == 0);
    let audio = p.streams.iter().find(|s| s.codec_type == "audio");
    match kind {
        AssetType::Video if video.is_none() => return Err(undecodable("it has no video stream")),
        AssetType::Audio if audio.is_none() => return Err(undecodable("it has no audio stream")),
        _ => {}
    }
    let video = video.filter(|_| kind == AssetType::Video);
    let turned = video.is_some_and(|v| {
        let r = v
            .side_data_list
            .iter()
            .find_map(|s| s.rotation)
            .or_else(|| v.tags.rotate.as_deref().and_then(|r| r.parse().ok()))
            .unwrap_or(0.0);
        (r.abs() - 90.0).abs() < 1.0 || (r.abs() - 270.0).abs() < 1.0
    });
    let (width, height) = match video.map(|v| (v.width, v.height)) {
        Some((Some(w), Some(h))) if w > 0 && h > 0 => {
            if turned {
                (Some(h), Some(w))
            } else {
                (Some(w), Some(h))
            }
        }
        Some(_) => return Err(undecodable("its video stream has no picture size")),
        None => (None, None),
    };
    let duration = secs(&format.duration)
        .or_else(|| video.and_then(|v| secs(&v.duration)))
        .or_else(|| audio.and_then(|a| secs(&a.duration)));
    if duration.is_none() {
        return Err(undecodable("its duration is unknown"));
    }
    Ok(Measured {
        kind,
        container: format.format_name,
        video_codec: video.map(|v| v.codec_name.clone()),
        audio_codec: audio.map(|a| a.codec_name.clone()),
        width,
        height,
        duration,
        fps: video.and_then(|v| rate(&v.avg_frame_rate).or_else(|| rate(&v.r_frame_rate))),
        sample_rate: audio.and_then(|a| a.sample_rate.as_deref()?.parse().ok()),
        channels: audio.and_then(|a| a.channels),
        size: format.size.as_deref().and_then(|s| s.parse().ok()).unwrap_or(size),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ffprobe_json_is_read_with_rotation_and_without_cover_art() {
        let json = br#"{"streams":[
            {"codec_type":"video","codec_name":"mjpeg","width":500,"height":500,"disposition":{"attached_pic":1}},
            {"codec_type":"video","codec_name":"hevc","width":3840,"height":2160,"avg_frame_rate":"30000/1001",
             "side_data_list":[{"rotation":-90}]},
            {"codec_type":"audio","codec_name":"aac","sample_rate":"48000","channels":2}],
            "format":{"format_name":"mov,mp4,m4a,3gp,3g2,mj2","duration":"45.04","size":"83886080"}}"#;
        let m = from_ffprobe(json, AssetType::Video, 0).unwrap();
        assert_eq!((m.width, m.height), (Some(2160), Some(3840)));
        assert_eq!(m.video_codec.as_deref(), Some("hevc"));
        assert!((m.fps.unwrap() - 29.97).abs() < 0.01);
        assert_eq!(m.size, 83_886_080);
        assert_eq!(m.summary(), "mp4/mov 2160×3840, 45.0 s, 29.97 fps (hevc+aac), 80.0 MB");
        let e = from_ffprobe(br#"{"streams":[],"format":{"format_name":"wav","duration":"3"}}"#, AssetType::Audio, 1);
        assert_eq!(e.unwrap_err().to_string(), "the audio cannot be decoded: it has no audio stream");
        assert!(from_ffprobe(b"not json", AssetType::Video, 1).is_err());
        assert!(
            from_ffprobe(
                br#"{"streams":[{"codec_type":"audio"}],"format":{"format_name":"mp3"}}"#,
                AssetType::Audio,
                1
            )
            .is_err()
        );
    }
}
