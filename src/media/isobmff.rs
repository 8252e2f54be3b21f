//! A small ISO base media (mp4/mov) box walker: just enough of `moov` for
//! duration (`mvhd`), dimensions (`tkhd`, `stsd`) and frame rate (`mdhd`
//! and `stts` of the video track). Hand-written rather than `mp4parse`:
//! only these five boxes are read, at a fixed depth, from a slice, with
//! every length checked against its parent.

use super::MediaError;

/// The header of one box.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BoxHeader {
    /// Its four-character type.
    pub kind: [u8; 4],
    /// Bytes of header (8, or 16 with a 64-bit size).
    pub header_len: u64,
    /// Its whole size, header included; `None` when it runs to the end of
    /// its parent (size field 0).
    pub size: Option<u64>,
}

impl BoxHeader {
    /// Its type as text, for messages.
    pub fn name(&self) -> String {
        crate::text::sanitize(&String::from_utf8_lossy(&self.kind))
    }
}

/// Reads the box header at the start of `buf`.
pub fn read_box_header(buf: &[u8]) -> Result<BoxHeader, MediaError> {
    let head = buf.get(..8).ok_or(MediaError::Truncated("box header"))?;
    let size32 = u32::from_be_bytes([head[0], head[1], head[2], head[3]]);
    let kind = [head[4], head[5], head[6], head[7]];
    let (header_len, size) = match size32 {
        0 => (8, None),
        1 => {
            let large = buf.get(8..16).ok_or(MediaError::Truncated("box header"))?;
            (16, Some(u64::from_be_bytes(large.try_into().unwrap_or_default())))
        }
        n => (8, Some(n as u64)),
    };
    let header = BoxHeader { kind, header_len, size };
    if let Some(s) = size
        && s < header_len
    {
        return Err(MediaError::invalid("box header", format!("box `{}` has size {s}", header.name())));
    }
    Ok(header)
}

/// The children of a box body, as (type, body) pairs; fails on a child
/// that claims more bytes than its parent holds.
/// A child box: its type and body.
type Child<'a> = ([u8; 4], &'a [u8]);

fn children(mut body: &[u8]) -> Result<Vec<Child<'_>>, MediaError> {
    let mut out = Vec::new();
    while body.len() >= 8 {
        let h = read_box_header(body)?;
        let size = h.size.unwrap_or(body.len() as u64);
        if size > body.len() as u64 {
            return Err(MediaError::Truncated("moov box"));
        }
        let size = size as usize;
        out.push((h.kind, &body[h.header_len as usize..size]));
        body = &body[size..];
    }
    Ok(out)
}

fn child<'a>(body: &'a [u8], kind: &[u8; 4]) -> Result<Option<&'a [u8]>, MediaError> {
    Ok(children(body)?.into_iter().find(|(k, _)| k == kind).map(|(_, b)| b))
}

fn be32(b: &[u8], at: usize, what: &'static str) -> Result<u32, MediaError> {
    b.get(at..at + 4).map(|s| u32::from_be_bytes([s[0], s[1], s[2], s[3]])).ok_or(MediaError::Truncated(what))
}

fn be64(b: &[u8], at: usize, what: &'static str) -> Result<u64, MediaError> {
    Ok(((be32(b, at, what)? as u64) << 32) | be32(b, at + 4, what)? as u64)
}

/// (timescale, duration) of an `mvhd` or `mdhd` body.
fn time_header(b: &[u8], what: &'static str) -> Result<(u32, u64), MediaError> {
    let version = *b.first().ok_or(MediaError::Truncated(what))?;
    let (scale, duration) = if version == 1 {
        (be32(b, 20, what)?, be64(b, 24, what)?)
    } else {
        (be32(b, 12, what)?, be32(b, 16, what)? as u64)
    };
    if scale == 0 {
        return Err(MediaError::invalid(what, "timescale 0"));
    }
    Ok((scale, duration))
}

/// What `moov` says of a movie.
#[derive(Debug, Clone, PartialEq)]
pub struct VideoProps {
    /// Presentation width in pixels (after a 90° rotation, if any).
    pub width: u64,
    /// Presentation height in pixels.
    pub height: u64,
    /// Seconds.
    pub duration_secs: f64,
    /// Frames per second of the video track (mean over the track).
    pub fps: f64,
}

struct Track {
    handler: [u8; 4],
    width: u64,
    height: u64,
    scale: u32,
    duration: u64,
    samples: u64,
}

fn parse_trak(trak: &[u8]) -> Result<Track, MediaError> {
    let mut t = Track { handler: [0; 4], width: 0, height: 0, scale: 1, duration: 0, samples: 0 };
    if let Some(tkhd) = child(trak, b"tkhd")? {
        let v1 = tkhd.first() == Some(&1);
        let (matrix_at, size_at) = if v1 { (52, 88) } else { (40, 76) };
        let w = be32(tkhd, size_at, "tkhd box")? as u64;
        let h = be32(tkhd, size_at + 4, "tkhd box")? as u64;
        let (w, h) = ((w + 0x8000) >> 16, (h + 0x8000) >> 16);
        // A matrix whose `a` is 0 and `b` is not rotates by 90° or 270°.
        let rotated = be32(tkhd, matrix_at, "tkhd box")? == 0 && be32(tkhd, matrix_at + 4, "tkhd box")? != 0;
        (t.width, t.height) = if rotated { (h, w) } else { (w, h) };
    }
    let mdia = child(trak, b"mdia")?.ok_or(MediaError::invalid("trak box", "no mdia box"))?;
    if let Some(hdlr) = child(mdia, b"hdlr")? {
        let h = hdlr.get(8..12).ok_or(MediaError::Truncated("hdlr box"))?;
        t.handler = [h[0], h[1], h[2], h[3]];
    }
    if let Some(mdhd) = child(mdia, b"mdhd")? {
        (t.scale, t.duration) = time_header(mdhd, "mdhd box")?;
    }
    let stbl = match child(mdia, b"minf")? {
        Some(minf) => child(minf, b"stbl")?,
        None => None,
    };
    if let Some(stbl) = stbl {
        if let Some(stts) = child(stbl, b"stts")? {
            let count = be32(stts, 4, "stts box")? as usize;
            let entries = stts.get(8..).unwrap_or_default();
            if entries.len() / 8 < count {
                return Err(MediaError::Truncated("stts box"));
            }
            t.samples = entries.chunks_exact(8).take(count).map(|e| be32(e, 0, "stts box").unwrap_or(0) as u64).sum();
        }
        if (t.width == 0 || t.height == 0)
            && let Some(stsd) = child(stbl, b"stsd")?
        {
            // The first visual sample entry: 8 bytes of box header at 8,
            // then 24 bytes before width and height (16 bits each).
            t.width = stsd.get(40..42).map_or(0, |b| u16::from_be_bytes([b[0], b[1]]) as u64);
            t.height = stsd.get(42..44).map_or(0, |b| u16::from_be_bytes([b[0], b[1]]) as u64);
        }
    }
    Ok(t)
}

/// Reads the body of a `moov` box (without its header).
pub fn parse_moov(moov: &[u8]) -> Result<VideoProps, MediaError> {
    let boxes = children(moov)?;
    let mvhd = boxes.iter().find(|(k, _)| k == b"mvhd").ok_or(MediaError::invalid("moov box", "no mvhd box"))?;
    let (scale, duration) = time_header(mvhd.1, "mvhd box")?;
    let fragmented = boxes.iter().any(|(k, _)| k == b"mvex");
    let mut video = None;
    for (_, trak) in boxes.iter().filter(|(k, _)| k == b"trak") {
        let t = parse_trak(trak)?;
        if &t.handler == b"vide" {
            video = Some(t);
            break;
        }
    }
    let v = video.ok_or(MediaError::invalid("moov box", "no video track"))?;
    if fragmented && v.samples == 0 {
        return Err(MediaError::Unmeasurable(
            "a fragmented mp4: its duration and frame rate are not in the moov box".into(),
        ));
    }
    if v.width == 0 || v.height == 0 {
        return Err(MediaError::invalid("video track", format!("{}×{} has a side of 0 px", v.width, v.height)));
    }
    let movie_secs = duration as f64 / scale as f64;
    let track_secs = v.duration as f64 / v.scale as f64;
    let duration_secs = if duration > 0 { movie_secs } else { track_secs };
    if track_secs <= 0.0 || v.samples == 0 {
        return Err(MediaError::invalid("video track", "no frames"));
    }
    Ok(VideoProps { width: v.width, height: v.height, duration_secs, fps: v.samples as f64 / track_secs })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn box_headers() {
        assert_eq!(
            read_box_header(b"\0\0\0\x10moovXXXXXXXX"),
            Ok(BoxHeader { kind: *b"moov", header_len: 8, size: Some(16) })
        );
        let large = b"\0\0\0\x01mdat\0\0\0\x01\0\0\0\0";
        assert_eq!(read_box_header(large).unwrap().size, Some(1 << 32));
        assert_eq!(read_box_header(b"\0\0\0\0mdat").unwrap().size, None);
        assert!(matches!(read_box_header(b"\0\0\0\x04moov"), Err(MediaError::Invalid { .. })));
        assert_eq!(read_box_header(b"\0\0\0"), Err(MediaError::Truncated("box header")));
    }

    #[test]
    fn child_larger_than_parent_is_truncated() {
        assert_eq!(parse_moov(b"\0\0\0\x40mvhd\0\0\0\0"), Err(MediaError::Truncated("moov box")));
        assert!(matches!(parse_moov(b""), Err(MediaError::Invalid { .. })));
    }
}
