//! Formats, recognised from their first bytes rather than a file name.

use serde::{Deserialize, Serialize};

use crate::api::AssetType;

/// A media format the asset library accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// JPEG.
    Jpeg,
    /// PNG.
    Png,
    /// WebP.
    Webp,
    /// BMP.
    Bmp,
    /// TIFF.
    Tiff,
    /// GIF.
    Gif,
    /// HEIC / HEIF.
    Heif,
    /// MPEG-4 (ISO base media).
    Mp4,
    /// QuickTime.
    Mov,
    /// MPEG audio layer III.
    Mp3,
    /// RIFF WAVE.
    Wav,
}

impl Format {
    /// The asset type this format belongs to.
    pub fn asset_type(self) -> AssetType {
        match self {
            Format::Jpeg | Format::Png | Format::Webp | Format::Bmp | Format::Tiff | Format::Gif | Format::Heif => {
                AssetType::Image
            }
            Format::Mp4 | Format::Mov => AssetType::Video,
            Format::Mp3 | Format::Wav => AssetType::Audio,
        }
    }

    /// Its lower-case name, as in messages and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Jpeg => "jpeg",
            Format::Png => "png",
            Format::Webp => "webp",
            Format::Bmp => "bmp",
            Format::Tiff => "tiff",
            Format::Gif => "gif",
            Format::Heif => "heif",
            Format::Mp4 => "mp4",
            Format::Mov => "mov",
            Format::Mp3 => "mp3",
            Format::Wav => "wav",
        }
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

const HEIF_BRANDS: [&[u8; 4]; 8] = [b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"];
/// ISO-BMFF brands that are neither video nor HEIF (AVIF, audio-only MPEG-4, 3GPP audio).
const OTHER_BRANDS: [&[u8; 4]; 5] = [b"avif", b"avis", b"M4A ", b"M4B ", b"M4P "];
/// Top-level atoms a QuickTime file without `ftyp` may start with.
const QT_ATOMS: [&[u8; 4]; 6] = [b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"];

/// The format of `head` (the first bytes of a file; 16 suffice for all but
/// ISO-BMFF, which wants its whole `ftyp` box), or a description of what it
/// looks like instead.
pub fn sniff(head: &[u8]) -> Result<Format, crate::media::MediaError> {
    let at = |i: usize, magic: &[u8]| head.get(i..i + magic.len()) == Some(magic);
    if at(0, &[0xFF, 0xD8, 0xFF]) {
        return Ok(Format::Jpeg);
    }
    if at(0, b"\x89PNG\r\n\x1a\n") {
        return Ok(Format::Png);
    }
    if at(0, b"GIF87a") || at(0, b"GIF89a") {
        return Ok(Format::Gif);
    }
    if at(0, b"RIFF") && at(8, b"WEBP") {
        return Ok(Format::Webp);
    }
    if at(0, b"RIFF") && at(8, b"WAVE") {
        return Ok(Format::Wav);
    }
    if at(0, b"II*\0") || at(0, b"MM\0*") {
        return Ok(Format::Tiff);
    }
    if at(0, b"BM") && head.len() >= 26 {
        return Ok(Format::Bmp);
    }
    if at(4, b"ftyp") {
        return sniff_ftyp(head);
    }
    if QT_ATOMS.iter().any(|a| at(4, *a)) {
        return Ok(Format::Mov);
    }
    if at(0, b"ID3") || is_mp3_frame(head) {
        return Ok(Format::Mp3);
    }
    Err(crate::media::MediaError::NotMedia(describe(head)))
}

fn sniff_ftyp(head: &[u8]) -> Result<Format, crate::media::MediaError> {
    let major = head.get(8..12).ok_or(crate::media::MediaError::Truncated("ftyp box"))?;
    let size = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
    // The major brand, then the compatible brands that fit in what we have.
    let end = size.clamp(16, 256).min(head.len());
    let compatible = head.get(16..end).unwrap_or_default();
    let brands: Vec<&[u8]> = std::iter::once(major).chain(compatible.chunks_exact(4)).collect();
    let has = |set: &[&[u8; 4]]| brands.iter().any(|b| set.iter().any(|s| *b == s.as_slice()));
    if major == b"qt  " {
        return Ok(Format::Mov);
    }
    if HEIF_BRANDS.iter().any(|b| major == b.as_slice()) || (has(&HEIF_BRANDS) && !has(&[b"isom", b"mp41", b"mp42"])) {
        return Ok(Format::Heif);
    }
    if OTHER_BRANDS.iter().any(|b| major == b.as_slice()) {
        let brand = crate::text::sanitize(&String::from_utf8_lossy(major));
        return Err(crate::media::MediaError::NotMedia(format!("an ISO media file of brand `{}`", brand.trim())));
    }
    Ok(Format::Mp4)
}

/// True when `head` starts with an MPEG-1/2/2.5 layer III frame header.
fn is_mp3_frame(head: &[u8]) -> bool {
    crate::media::mp3::FrameHeader::parse(head).is_some()
}

/// A short description of bytes that are not media, for messages.
fn describe(head: &[u8]) -> String {
    if head.is_empty() {
        return "the file is empty".into();
    }
    let sample = &head[..head.len().min(512)];
    let lower = String::from_utf8_lossy(&sample[..sample.len().min(64)]).to_ascii_lowercase();
    if lower.trim_start().starts_with("<!doctype html") || lower.trim_start().starts_with("<html") {
        return "it is an HTML page".into();
    }
    if at_least_text(sample) {
        return "it looks like text".into();
    }
    let hex: Vec<String> = head.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("it starts with bytes {}", hex.join(" "))
}

fn at_least_text(sample: &[u8]) -> bool {
    match std::str::from_utf8(sample) {
        Ok(s) => s.chars().all(|c| !c.is_control() || c.is_whitespace()),
        // A sample cut inside a multi-byte character is still text.
        Err(e) => e.error_len().is_none() && e.valid_up_to() + 4 > sample.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_bytes() {
        assert_eq!(sniff(b"\xFF\xD8\xFF\xE0rest"), Ok(Format::Jpeg));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n...."), Ok(Format::Png));
        assert_eq!(sniff(b"GIF89a.."), Ok(Format::Gif));
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 "), Ok(Format::Webp));
        assert_eq!(sniff(b"RIFF\0\0\0\0WAVEfmt "), Ok(Format::Wav));
        assert_eq!(sniff(b"II*\0...."), Ok(Format::Tiff));
        assert_eq!(sniff(b"\0\0\0\x18ftypqt  \0\0\0\0qt  "), Ok(Format::Mov));
        assert_eq!(sniff(b"\0\0\0\x18ftypisom\0\0\0\0isomiso2"), Ok(Format::Mp4));
        assert_eq!(sniff(b"\0\0\0\x18ftypheic\0\0\0\0mif1heic"), Ok(Format::Heif));
        assert_eq!(sniff(b"\0\0\0\x18ftypmif1\0\0\0\0mif1heic"), Ok(Format::Heif));
        assert_eq!(sniff(b"ID3\x04\0\0\0\0\0\0"), Ok(Format::Mp3));
        assert_eq!(sniff(&[0xFF, 0xFB, 0x90, 0x64]), Ok(Format::Mp3));
    }

    #[test]
    fn not_media_is_described() {
        let e = |b: &[u8]| sniff(b).unwrap_err().to_string();
        assert!(e(b"hello, this is a text file\n").contains("looks like text"));
        assert!(e(b"<!DOCTYPE html><html>").contains("HTML page"));
        assert!(e(b"").contains("empty"));
        assert!(e(b"\0\x01\x02\x03").contains("00 01 02 03"));
        assert!(e(b"\0\0\0\x18ftypavif\0\0\0\0").contains("`avif`"));
    }
}
