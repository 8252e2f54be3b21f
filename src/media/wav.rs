//! RIFF WAVE: the `fmt ` chunk's byte rate and the `data` chunk's size give
//! the duration without reading any sample.

use super::MediaError;

/// What a WAVE header says.
#[derive(Debug, Clone, PartialEq)]
pub struct WavProps {
    /// Seconds of audio.
    pub duration_secs: f64,
    /// Samples per second.
    pub sample_rate: u32,
    /// Channels.
    pub channels: u16,
}

fn le32(b: &[u8], at: usize) -> Option<u32> {
    b.get(at..at + 4).map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

/// Reads the chunks of a WAVE file from its first bytes `head`; `total` is
/// the file's size. [`MediaError::Truncated`] means the `data` chunk's
/// header lies past `head`: read more and try again.
pub fn parse_wav_chunks(head: &[u8], total: u64) -> Result<WavProps, MediaError> {
    if head.get(..4) != Some(b"RIFF") || head.get(8..12) != Some(b"WAVE") {
        return Err(MediaError::NotMedia("no RIFF WAVE header".into()));
    }
    let mut at = 12usize;
    let mut fmt: Option<(u16, u32, u32)> = None;
    loop {
        let (Some(id), Some(size)) = (head.get(at..at + 4), le32(head, at + 4)) else {
            return Err(MediaError::Truncated("wav chunks"));
        };
        let body = at + 8;
        if id == b"fmt " {
            let f = head.get(body..body + 16).ok_or(MediaError::Truncated("wav fmt chunk"))?;
            let channels = u16::from_le_bytes([f[2], f[3]]);
            let rate = le32(f, 4).unwrap_or(0);
            let byte_rate = le32(f, 8).unwrap_or(0);
            if channels == 0 || rate == 0 || byte_rate == 0 {
                return Err(MediaError::invalid(
                    "wav fmt chunk",
                    format!("{channels} channels, {rate} Hz, {byte_rate} bytes/s"),
                ));
            }
            fmt = Some((channels, rate, byte_rate));
        } else if id == b"data" {
            let (channels, sample_rate, byte_rate) =
                fmt.ok_or(MediaError::invalid("wav file", "the data chunk comes before the fmt chunk"))?;
            let available = total.saturating_sub(body as u64);
            // Streaming writers leave 0 or 0xFFFFFFFF; a lying size is capped by the file.
            let data = if size == 0 || size == u32::MAX { available } else { (size as u64).min(available) };
            let duration_secs = data as f64 / byte_rate as f64;
            return Ok(WavProps { duration_secs, sample_rate, channels });
        }
        let next = body as u64 + size as u64 + (size as u64 & 1);
        if next >= total {
            return Err(MediaError::invalid("wav file", "no data chunk"));
        }
        at = usize::try_from(next).map_err(|_| MediaError::Truncated("wav chunks"))?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wav(secs: u32, rate: u32) -> Vec<u8> {
        let byte_rate = rate * 2;
        let data = secs * byte_rate;
        let mut b = b"RIFF".to_vec();
        b.extend_from_slice(&(36 + data).to_le_bytes());
        b.extend_from_slice(b"WAVEfmt \x10\0\0\0\x01\0\x01\0");
        b.extend_from_slice(&rate.to_le_bytes());
        b.extend_from_slice(&byte_rate.to_le_bytes());
        b.extend_from_slice(b"\x02\0\x10\0data");
        b.extend_from_slice(&data.to_le_bytes());
        b
    }

    #[test]
    fn duration_from_header_only() {
        let h = wav(3, 8000);
        let total = h.len() as u64 + 3 * 16000;
        let p = parse_wav_chunks(&h, total).unwrap();
        assert_eq!((p.duration_secs, p.sample_rate, p.channels), (3.0, 8000, 1));
        // A data size larger than the file is capped by the file.
        assert_eq!(parse_wav_chunks(&h, h.len() as u64 + 8000).unwrap().duration_secs, 0.5);
        assert_eq!(parse_wav_chunks(&h[..30], total), Err(MediaError::Truncated("wav fmt chunk")));
    }
}
