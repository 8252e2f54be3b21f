//! Measuring a file through any source of byte ranges, reading only headers
//! and at most a byte budget: the first bytes, more of them when a header
//! runs on, and for mp4/mov the `moov` box wherever it sits.

use std::future::Future;

use serde::{Deserialize, Serialize};

use super::{Format, MediaError, isobmff, mp3, sniff, wav};
use crate::api::AssetType;

/// Bytes read first: enough for every format's magic bytes and for most
/// image headers.
const FIRST_READ: u64 = 4096;
/// Bytes read at a box that lies past the first bytes (a `moov` after
/// `mdat` is usually smaller than this, so one read gets it).
const JUMP_READ: u64 = 64 * 1024;
/// Top-level boxes walked before giving up on finding `moov`.
const MAX_BOXES: usize = 64;

/// The measured properties of a media file, as the job store and exports carry them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MediaInfo {
    /// The format sniffed from the bytes.
    pub format: Format,
    /// Width in pixels (images, video).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u64>,
    /// Height in pixels (images, video).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u64>,
    /// Seconds (video, audio).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_secs: Option<f64>,
    /// Frames per second (video).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fps: Option<f64>,
    /// Bytes, when the size is known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_bytes: Option<u64>,
}

// Measured values are always finite, so equality is total.
impl Eq for MediaInfo {}

impl std::hash::Hash for MediaInfo {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.format.hash(state);
        (self.width, self.height, self.size_bytes).hash(state);
        self.duration_secs.map(f64::to_bits).hash(state);
        self.fps.map(f64::to_bits).hash(state);
    }
}

impl MediaInfo {
    /// A one-line summary: `png 1920×1080, 2.1 MB` or `mp4 1280×720, 12.0 s, 30 fps, 8.4 MB`.
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        if let (Some(w), Some(h)) = (self.width, self.height) {
            parts.push(format!("{w}×{h}"));
        }
        if let Some(d) = self.duration_secs {
            parts.push(format!("{d:.1} s"));
        }
        if let Some(f) = self.fps {
            parts.push(format!("{f:.3} fps").replace(".000 fps", " fps"));
        }
        if let Some(s) = self.size_bytes {
            parts.push(format!("{:.1} MB", s as f64 / (1024.0 * 1024.0)));
        }
        format!("{} {}", self.format, parts.join(", "))
    }
}

/// The most bytes a probe may read, by asset type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// For images.
    pub image: u64,
    /// For mp4/mov (the `moov` box of a 15 s clip is tens of KB).
    pub video: u64,
    /// For mp3/wav (an mp3's ID3 tag may hold cover art: it is skipped, not read).
    pub audio: u64,
}

impl Default for Budget {
    fn default() -> Self {
        Budget { image: 64 * 1024, video: 1024 * 1024, audio: 64 * 1024 }
    }
}

impl Budget {
    fn for_type(&self, t: AssetType) -> u64 {
        match t {
            AssetType::Image => self.image,
            AssetType::Video => self.video,
            AssetType::Audio => self.audio,
        }
        .max(FIRST_READ)
    }
}

/// Byte ranges of one file: a local file, or a URL through ranged GETs.
pub trait Source {
    /// Why a read failed.
    type Error: std::error::Error;
    /// The file's size, once known (a URL learns it from its first answer).
    fn size(&self) -> Option<u64>;
    /// Up to `len` bytes from `offset`; fewer only at the end of the file.
    fn read_at(&mut self, offset: u64, len: u64) -> impl Future<Output = Result<Vec<u8>, Self::Error>> + Send;
}

/// A file already in memory, as a probe source.
#[derive(Debug, Clone, Copy)]
pub struct InMemory<'a>(pub &'a [u8]);

impl Source for InMemory<'_> {
    type Error = std::convert::Infallible;
    fn size(&self) -> Option<u64> {
        Some(self.0.len() as u64)
    }
    fn read_at(&mut self, offset: u64, len: u64) -> impl Future<Output = Result<Vec<u8>, Self::Error>> + Send {
        let start = usize::try_from(offset).unwrap_or(usize::MAX).min(self.0.len());
        let end = start.saturating_add(usize::try_from(len).unwrap_or(usize::MAX)).min(self.0.len());
        std::future::ready(Ok(self.0[start..end].to_vec()))
    }
}

/// Why a probe did not measure a file.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError<E: std::error::Error> {
    /// The source could not be read.
    #[error(transparent)]
    Source(E),
    /// The bytes are not measurable media.
    #[error(transparent)]
    Media(#[from] MediaError),
}

struct Reader<'a, S> {
    src: &'a mut S,
    read: u64,
    budget: u64,
}

impl<S: Source> Reader<'_, S> {
    /// Bytes the budget still allows.
    fn left(&self) -> u64 {
        self.budget.saturating_sub(self.read)
    }

    /// The error for headers that need more than the budget allows.
    fn over_budget(&self, what: &str) -> ProbeError<S::Error> {
        MediaError::Unmeasurable(format!("{what} do not fit in the {} KB probe budget", self.budget / 1024)).into()
    }

    /// Up to `len` bytes at `offset`, fewer if the budget runs out.
    async fn read_at(&mut self, offset: u64, len: u64) -> Result<Vec<u8>, ProbeError<S::Error>> {
        let len = len.min(self.left());
        if len == 0 {
            return Err(self.over_budget("its headers"));
        }
        let bytes = self.src.read_at(offset, len).await.map_err(ProbeError::Source)?;
        self.read += bytes.len() as u64;
        Ok(bytes)
    }

    /// True when `head` is the whole file.
    fn complete(&self, head: &[u8]) -> bool {
        self.src.size().is_some_and(|s| head.len() as u64 >= s)
    }

    /// Extends `head` (the file's first bytes) fourfold, within the budget.
    /// Returns the error for a header that stops early.
    async fn grow(&mut self, head: &mut Vec<u8>, err: MediaError) -> Result<(), ProbeError<S::Error>> {
        if self.complete(head) {
            return Err(err.into());
        }
        let want = (head.len() as u64 * 3).max(FIRST_READ);
        let more = self.read_at(head.len() as u64, want).await?;
        if more.is_empty() {
            return Err(err.into());
        }
        head.extend_from_slice(&more);
        Ok(())
    }
}

/// A successful probe.
#[derive(Debug, Clone, PartialEq)]
pub struct Probed {
    /// What was measured.
    pub info: MediaInfo,
    /// Bytes read to measure it.
    pub bytes_read: u64,
}

/// Measures the file behind `src`, reading at most `budget` bytes for its type.
pub async fn probe<S: Source>(src: &mut S, budget: &Budget) -> Result<Probed, ProbeError<S::Error>> {
    let mut r = Reader { src, read: 0, budget: FIRST_READ };
    let mut head = r.read_at(0, FIRST_READ).await?;
    let format = sniff(&head)?;
    r.budget = budget.for_type(format.asset_type());
    let mut info =
        MediaInfo { format, width: None, height: None, duration_secs: None, fps: None, size_bytes: r.src.size() };
    match format {
        Format::Mp4 | Format::Mov => {
            let v = video(&mut r, &head).await?;
            (info.width, info.height, info.duration_secs, info.fps) =
                (Some(v.width), Some(v.height), Some(v.duration_secs), Some(v.fps));
        }
        Format::Wav => {
            let wav = loop {
                let total = r.src.size().unwrap_or(head.len() as u64);
                match wav::parse_wav_chunks(&head, total) {
                    Err(e @ MediaError::Truncated(_)) => r.grow(&mut head, e).await?,
                    done => break done?,
                }
            };
            info.duration_secs = Some(wav.duration_secs);
        }
        Format::Mp3 => {
            let tag = mp3::id3_len(&head)?;
            let total = r.src.size().ok_or_else(|| MediaError::Unmeasurable("its size is unknown".into()))?;
            if tag >= total {
                return Err(MediaError::Truncated("mp3 file: its ID3 tag runs past the end").into());
            }
            let audio = match usize::try_from(tag).ok().and_then(|t| head.get(t..)).filter(|a| a.len() >= 2048) {
                Some(a) => a.to_vec(),
                None => r.read_at(tag, FIRST_READ).await?,
            };
            info.duration_secs = Some(mp3::parse_mp3(&audio, total - tag)?.duration_secs);
        }
        _ => {
            let (w, h) = loop {
                match super::image_dimensions(&head) {
                    Err(e @ MediaError::Truncated(_)) => r.grow(&mut head, e).await?,
                    done => break done?,
                }
            };
            (info.width, info.height) = (Some(w), Some(h));
            if format == Format::Png {
                png_ends(&mut r, &head).await?;
            }
        }
    }
    info.size_bytes = r.src.size();
    Ok(Probed { info, bytes_read: r.read })
}

/// A PNG ends with its IEND chunk: one without was cut short (or is still
/// being written), and a server would fail it after paying for it.
async fn png_ends<S: Source>(r: &mut Reader<'_, S>, head: &[u8]) -> Result<(), ProbeError<S::Error>> {
    let Some(total) = r.src.size() else { return Ok(()) };
    let n = total.min(64);
    let tail = if r.complete(head) {
        head[head.len() - n as usize..].to_vec()
    } else if r.left() >= n {
        r.read_at(total - n, n).await?
    } else {
        return Ok(());
    };
    // The chunk's type, then its CRC (4 bytes): both there.
    if tail.windows(4).position(|w| w == b"IEND").is_some_and(|p| tail.len() >= p + 8) {
        Ok(())
    } else {
        Err(MediaError::Truncated("png file: it ends before its IEND chunk (cut short, or still being written)").into())
    }
}

/// Walks the top-level boxes to `moov`, reading only box headers and `moov`.
async fn video<S: Source>(r: &mut Reader<'_, S>, head: &[u8]) -> Result<isobmff::VideoProps, ProbeError<S::Error>> {
    let total = r.src.size().ok_or_else(|| MediaError::Unmeasurable("its size is unknown".into()))?;
    // A window of the file: (offset, bytes).
    let mut window: (u64, Vec<u8>) = (0, head.to_vec());
    let mut pos = 0u64;
    for _ in 0..MAX_BOXES {
        if pos >= total {
            return Err(MediaError::invalid("mp4 file", "no moov box").into());
        }
        let in_window =
            |w: &(u64, Vec<u8>), at: u64, len: u64| at >= w.0 && at.saturating_add(len) <= w.0 + w.1.len() as u64;
        if !in_window(&window, pos, 16.min(total - pos)) {
            if r.left() < 16.min(total - pos) {
                return Err(r.over_budget("its boxes"));
            }
            window = (pos, r.read_at(pos, JUMP_READ.min(total - pos)).await?);
        }
        let at = (pos - window.0) as usize;
        let h = isobmff::read_box_header(&window.1[at..])?;
        let size = h.size.unwrap_or(total - pos);
        if &h.kind == b"moov" {
            if size > total - pos {
                return Err(MediaError::Truncated("mp4 file: its moov box runs past the end").into());
            }
            if !in_window(&window, pos, size) {
                if size > r.left() {
                    return Err(r.over_budget(&format!("its moov box ({} KB) and the boxes before it", size / 1024)));
                }
                window = (pos, r.read_at(pos, size).await?);
                if (window.1.len() as u64) < size {
                    return Err(MediaError::Truncated("moov box").into());
                }
            }
            let at = (pos - window.0) as usize;
            let body = &window.1[at + h.header_len as usize..at + size as usize];
            let props = isobmff::parse_moov(body)?;
            // The boxes after moov (its media, when moov comes first) must
            // end with the file: one that runs past it was cut short.
            let mut next = pos.saturating_add(size);
            for _ in 0..MAX_BOXES {
                let want = 16.min(total.saturating_sub(next));
                if next >= total || r.left() < want {
                    break;
                }
                let bytes = r.read_at(next, want).await?;
                // Only a media box is followed: what is not a box (bytes
                // appended later, padding) ends the walk.
                let Ok(h) = isobmff::read_box_header(&bytes) else { break };
                if !h.kind.iter().all(u8::is_ascii_alphanumeric) {
                    break;
                }
                let size = h.size.unwrap_or(total - next);
                if size > total - next && &h.kind == b"mdat" {
                    let why = "mp4 file: its media runs past the end (cut short, or still being written)";
                    return Err(MediaError::Truncated(why).into());
                }
                if size > total - next {
                    break;
                }
                next += size.max(8);
            }
            return Ok(props);
        }
        pos = pos.saturating_add(size);
    }
    Err(MediaError::invalid("mp4 file", format!("no moov box in its first {MAX_BOXES} boxes")).into())
}
