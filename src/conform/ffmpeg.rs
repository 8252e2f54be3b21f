//! ffmpeg and ffprobe: found on `PATH` or where the config says, run as
//! child processes that are killed when dropped (Ctrl-C, q), with
//! ffmpeg's `-progress` output read as the fraction done.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};

use super::ConformError;
use super::measure::{Measured, from_ffprobe};
use super::recipe::{AUDIO_KBPS, MP3_KBPS, Output, Part, Recipe};
use super::settings::{AspectFix, ConformConfig};
use crate::api::AssetType;

/// Longest an ffprobe may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(60);

/// The two programs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tools {
    /// ffmpeg.
    pub ffmpeg: PathBuf,
    /// ffprobe.
    pub ffprobe: PathBuf,
}

fn find(name: &str) -> Option<PathBuf> {
    let p = Path::new(name);
    if p.components().count() > 1 {
        return p.is_file().then(|| p.to_path_buf());
    }
    which::which(name).ok()
}

impl Tools {
    /// Finds ffmpeg and ffprobe as `cfg` says (ffprobe beside ffmpeg when
    /// not named); the error says where they were looked for.
    pub fn find(cfg: &ConformConfig) -> Result<Tools, (&'static str, String)> {
        let looked = |name: &str| {
            let shown = crate::text::sanitize(name);
            if Path::new(name).components().count() > 1 { format!("`{shown}`") } else { format!("`{shown}` on PATH") }
        };
        let ffmpeg = find(&cfg.ffmpeg).ok_or_else(|| ("ffmpeg", looked(&cfg.ffmpeg)))?;
        let ffprobe = if cfg.ffprobe.is_empty() {
            let beside = ffmpeg.with_file_name(format!("ffprobe{}", std::env::consts::EXE_SUFFIX));
            if beside.is_file() { Some(beside) } else { find("ffprobe") }
        } else {
            find(&cfg.ffprobe)
        };
        let place = if cfg.ffprobe.is_empty() { "beside ffmpeg or on PATH".to_string() } else { looked(&cfg.ffprobe) };
        let ffprobe = ffprobe.ok_or(("ffprobe", place))?;
        Ok(Tools { ffmpeg, ffprobe })
    }

    /// ffprobe's measurement of `path` as a file of `kind`.
    pub async fn probe(&self, path: &Path, kind: AssetType) -> Result<Measured, ConformError> {
        let size = tokio::fs::metadata(path).await.map_err(|e| ConformError::io(path, &e))?.len();
        let mut cmd = tokio::process::Command::new(&self.ffprobe);
        cmd.args(["-v", "error", "-print_format", "json", "-show_format", "-show_streams"])
            .arg(path)
            .stdin(Stdio::null())
            .kill_on_drop(true);
        let out = tokio::time::timeout(PROBE_TIMEOUT, cmd.output())
            .await
            .map_err(|_| ConformError::Tool { tool: "ffprobe", why: "it did not answer within a minute".into() })?
            .map_err(|e| ConformError::Tool { tool: "ffprobe", why: e.to_string() })?;
        if !out.status.success() {
            let why = last_words(&out.stderr);
            let shown = format!("{}: ", path.display());
            let why = why.strip_prefix(&crate::text::sanitize(&shown)).map(str::to_string).unwrap_or(why);
            return Err(ConformError::Undecodable { what: kind.to_string().to_lowercase(), why });
        }
        from_ffprobe(&out.stdout, kind, size)
    }

    /// Writes part `part` of `src` made to `r` at `out`, reporting the
    /// fraction done through `progress`. The child is killed if this is
    /// dropped.
    pub async fn make(
        &self,
        src: &Path,
        r: &Recipe,
        part: Part,
        out: &Path,
        progress: &(dyn Fn(f64) + Send + Sync),
    ) -> Result<(), ConformError> {
        let mut cmd = tokio::process::Command::new(&self.ffmpeg);
        cmd.args(args(src, r, part, out))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = cmd.spawn().map_err(|e| ConformError::Tool { tool: "ffmpeg", why: e.to_string() })?;
        let (Some(stdout), Some(mut stderr)) = (child.stdout.take(), child.stderr.take()) else {
            return Err(ConformError::Tool { tool: "ffmpeg", why: "no output pipes".into() });
        };
        let errors = tokio::spawn(async move {
            let mut buf = Vec::new();
            let _ = stderr.read_to_end(&mut buf).await;
            buf
        });
        let mut lines = BufReader::new(stdout).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            let us = line.strip_prefix("out_time_us=").or_else(|| line.strip_prefix("out_time_ms="));
            if let Some(us) = us.and_then(|v| v.trim().parse::<f64>().ok()) {
                progress((us / 1e6 / part.secs.max(0.001)).clamp(0.0, 1.0));
            }
        }
        let status = child.wait().await.map_err(|e| ConformError::Tool { tool: "ffmpeg", why: e.to_string() })?;
        let stderr = errors.await.unwrap_or_default();
        if !status.success() {
            return Err(ConformError::Tool { tool: "ffmpeg", why: last_words(&stderr) });
        }
        progress(1.0);
        Ok(())
    }
}

/// The end of what a tool said on failure, sanitized, on one line.
fn last_words(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let text = text.lines().rfind(|l| !l.trim().is_empty()).unwrap_or("it gave no reason");
    crate::text::excerpt(&crate::text::sanitize(text), 200)
}

/// The file extension of an output of `r`.
pub fn extension(r: &Recipe) -> &'static str {
    match r.output {
        Output::Mp4 => "mp4",
        Output::Mp3 => "mp3",
        Output::Wav => "wav",
        Output::Image => "jpg",
    }
}

/// ffmpeg's arguments for one part.
fn args(src: &Path, r: &Recipe, part: Part, out: &Path) -> Vec<OsString> {
    let mut a: Vec<OsString> = Vec::new();
    let mut push = |items: &[&str]| a.extend(items.iter().map(OsString::from));
    push(&["-nostdin", "-hide_banner", "-loglevel", "error", "-y"]);
    push(&["-ss", &format!("{:.3}", part.start)]);
    a.push("-i".into());
    a.push(src.into());
    let mut push = |items: &[&str]| a.extend(items.iter().map(OsString::from));
    push(&["-t", &format!("{:.3}", part.secs)]);
    match r.output {
        Output::Mp4 => {
            let mut filters = Vec::new();
            if let Some(f) = &r.frame {
                match f.canvas {
                    Some((w, h, AspectFix::Pad)) => filters.push(format!("pad={w}:{h}:(ow-iw)/2:(oh-ih)/2:black")),
                    Some((w, h, AspectFix::Crop)) => filters.push(format!("crop={w}:{h}")),
                    None => {}
                }
                filters.push(format!("scale={}:{}:flags=lanczos", f.width, f.height));
                filters.push("setsar=1".into());
            }
            if let Some(fps) = r.fps {
                filters.push(format!("fps={fps}"));
            }
            filters.push("format=yuv420p".into());
            let kbps = r.video_kbps.unwrap_or(8000);
            push(&["-map", "0:v:0", "-vf", &filters.join(",")]);
            push(&["-c:v", "libx264", "-preset", "veryfast", "-crf", "20"]);
            push(&["-maxrate", &format!("{kbps}k"), "-bufsize", &format!("{}k", kbps * 2)]);
            if r.audio {
                push(&["-map", "0:a:0", "-c:a", "aac", "-b:a", &format!("{AUDIO_KBPS}k"), "-ac", "2"]);
            }
            push(&["-movflags", "+faststart", "-map_metadata", "-1", "-fflags", "+bitexact", "-f", "mp4"]);
        }
        Output::Mp3 => {
            push(&["-map", "0:a:0", "-vn", "-c:a", "libmp3lame", "-b:a", &format!("{MP3_KBPS}k")]);
            push(&["-ac", "2", "-map_metadata", "-1", "-id3v2_version", "0", "-f", "mp3"]);
        }
        Output::Wav => {
            let (rate, channels) = r.pcm.unwrap_or((48_000, 2));
            push(&[
                "-map",
                "0:a:0",
                "-vn",
                "-c:a",
                "pcm_s16le",
                "-ar",
                &rate.to_string(),
                "-ac",
                &channels.to_string(),
            ]);
            push(&["-map_metadata", "-1", "-f", "wav"]);
            push(&["-fflags", "+bitexact"]);
        }
        Output::Image => {}
    }
    push(&["-progress", "pipe:1", "-nostats"]);
    a.push(out.into());
    a
}
