//! MPEG audio layer III: the length of an ID3v2 tag, the first frame
//! header, and the duration from a Xing/Info or VBRI header (exact), or
//! from the bit rate of a constant-rate stream (estimate). No frame scan.

use super::MediaError;

/// A layer III frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FrameHeader {
    mpeg1: bool,
    mono: bool,
    kbps: u32,
    sample_rate: u32,
    padding: bool,
}

const KBPS_V1: [u32; 15] = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320];
const KBPS_V2: [u32; 15] = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160];

impl FrameHeader {
    /// Parses the 4 bytes at the start of `b`; `None` if they are not a
    /// layer III header with a known bit rate and sample rate.
    pub(crate) fn parse(b: &[u8]) -> Option<FrameHeader> {
        let h = b.get(..4)?;
        if h[0] != 0xFF || h[1] & 0xE0 != 0xE0 || (h[1] >> 1) & 3 != 1 {
            return None;
        }
        let version = (h[1] >> 3) & 3; // 0 = 2.5, 2 = 2, 3 = 1
        let rate_index = ((h[2] >> 2) & 3) as usize;
        let kbps_index = (h[2] >> 4) as usize;
        if version == 1 || rate_index == 3 || kbps_index == 0 || kbps_index == 15 {
            return None;
        }
        let base = [44100, 48000, 32000][rate_index];
        let sample_rate = match version {
            3 => base,
            2 => base / 2,
            _ => base / 4,
        };
        let mpeg1 = version == 3;
        let kbps = if mpeg1 { KBPS_V1[kbps_index] } else { KBPS_V2[kbps_index] };
        Some(FrameHeader { mpeg1, mono: h[3] >> 6 == 3, kbps, sample_rate, padding: (h[2] >> 1) & 1 == 1 })
    }

    fn samples(self) -> u32 {
        if self.mpeg1 { 1152 } else { 576 }
    }

    fn len(self) -> usize {
        let coef = if self.mpeg1 { 144 } else { 72 };
        (coef * self.kbps * 1000 / self.sample_rate) as usize + self.padding as usize
    }

    fn side_info(self) -> usize {
        match (self.mpeg1, self.mono) {
            (true, false) => 32,
            (true, true) | (false, false) => 17,
            (false, true) => 9,
        }
    }
}

/// The bytes an ID3v2 tag at the start of `head` takes (0 if none).
pub fn id3_len(head: &[u8]) -> Result<u64, MediaError> {
    if head.get(..3) != Some(b"ID3") {
        return Ok(0);
    }
    let h = head.get(..10).ok_or(MediaError::Truncated("ID3 tag header"))?;
    if h[6..10].iter().any(|b| b & 0x80 != 0) {
        return Err(MediaError::invalid("ID3 tag header", "its size is not a synchsafe integer"));
    }
    let size = h[6..10].iter().fold(0u64, |acc, b| (acc << 7) | *b as u64);
    let footer = if h[5] & 0x10 != 0 { 10 } else { 0 };
    Ok(10 + size + footer)
}

/// What the first frame says of an mp3 stream.
#[derive(Debug, Clone, PartialEq)]
pub struct Mp3Props {
    /// Seconds (exact with a Xing/Info/VBRI header, else from the bit rate).
    pub duration_secs: f64,
    /// Samples per second.
    pub sample_rate: u32,
}

/// Reads an mp3 stream from `audio`, the bytes where the audio starts (after
/// any ID3v2 tag); `audio_len` is the number of bytes from there to the end
/// of the file. Up to 4 KB of junk before the first frame is skipped.
pub fn parse_mp3(audio: &[u8], audio_len: u64) -> Result<Mp3Props, MediaError> {
    let scan = audio.len().min(4096);
    let start = (0..scan)
        .find(|&i| {
            FrameHeader::parse(&audio[i..]).is_some_and(|f| {
                // A second header right after the first confirms the sync,
                // when it is within the bytes we have.
                match audio.get(i + f.len()..) {
                    Some(next) if next.len() >= 4 => FrameHeader::parse(next).is_some(),
                    _ => true,
                }
            })
        })
        .ok_or_else(|| {
            if audio.len() < 4 {
                MediaError::Truncated("mp3 frame header")
            } else {
                MediaError::invalid("mp3 stream", "no frame header in its first 4 KB")
            }
        })?;
    let f = FrameHeader::parse(&audio[start..]).ok_or(MediaError::Truncated("mp3 frame header"))?;
    let frame = &audio[start..];
    let tag_at = 4 + f.side_info();
    let frames = match frame.get(tag_at..tag_at + 4) {
        Some(b"Xing") | Some(b"Info") => {
            let flags = be32(frame, tag_at + 4)?;
            if flags & 1 != 0 { Some(be32(frame, tag_at + 8)?) } else { None }
        }
        _ if frame.get(36..40) == Some(b"VBRI") => Some(be32(frame, 36 + 14)?),
        _ => None,
    };
    let duration_secs = match frames {
        Some(n) => n as f64 * f.samples() as f64 / f.sample_rate as f64,
        None => audio_len.saturating_sub(start as u64) as f64 * 8.0 / (f.kbps as f64 * 1000.0),
    };
    Ok(Mp3Props { duration_secs, sample_rate: f.sample_rate })
}

fn be32(b: &[u8], at: usize) -> Result<u32, MediaError> {
    b.get(at..at + 4)
        .map(|s| u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
        .ok_or(MediaError::Truncated("mp3 VBR header"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cbr_duration_from_bit_rate() {
        // MPEG-1 layer III, 128 kb/s, 44.1 kHz, no padding: 417-byte frames.
        let frame = [0xFF, 0xFB, 0x90, 0x00];
        let f = FrameHeader::parse(&frame).unwrap();
        assert_eq!(f.len(), 417);
        let mut audio = Vec::new();
        for _ in 0..3 {
            audio.extend_from_slice(&frame);
            audio.resize(audio.len() + 413, 0);
        }
        let p = parse_mp3(&audio, 16_000 * 5).unwrap();
        assert_eq!((p.duration_secs, p.sample_rate), (5.0, 44100));
    }

    #[test]
    fn id3_sizes() {
        assert_eq!(id3_len(b"ID3\x04\0\0\0\0\x02\x01"), Ok(10 + 257));
        assert_eq!(id3_len(b"ID3\x04\0\x10\0\0\0\x01"), Ok(21));
        assert!(id3_len(b"ID3\x04\0\0\x80\0\0\0").is_err());
        assert_eq!(id3_len(b"\xFF\xFB"), Ok(0));
    }
}
