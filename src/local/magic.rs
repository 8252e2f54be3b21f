//! The media format of a file from its first bytes: the few signatures the
//! asset library accepts. (Kept small and self-contained so a fuller sniffer
//! can replace [`sniff`] without touching its callers.)

use crate::api::AssetType;

/// Bytes needed by [`sniff`].
pub const SNIFF_LEN: usize = 64;

/// The asset type and format name (`png`, `mp4`, …) of content starting
/// with `head`, or `None` when it is none of the accepted formats.
pub fn sniff(head: &[u8]) -> Option<(AssetType, &'static str)> {
    use AssetType::{Audio, Image, Video};
    let at = |offset: usize, sig: &[u8]| head.get(offset..offset + sig.len()) == Some(sig);
    if at(0, b"\x89PNG\r\n\x1a\n") {
        return Some((Image, "png"));
    }
    if at(0, &[0xFF, 0xD8, 0xFF]) {
        return Some((Image, "jpeg"));
    }
    if at(0, b"GIF87a") || at(0, b"GIF89a") {
        return Some((Image, "gif"));
    }
    if at(0, b"RIFF") && at(8, b"WEBP") {
        return Some((Image, "webp"));
    }
    if at(0, b"RIFF") && at(8, b"WAVE") {
        return Some((Audio, "wav"));
    }
    if at(0, b"BM") && head.len() >= 14 {
        return Some((Image, "bmp"));
    }
    if at(0, b"II*\0") || at(0, b"MM\0*") {
        return Some((Image, "tiff"));
    }
    if at(4, b"ftyp") {
        let brand = head.get(8..12)?;
        return Some(match brand {
            b"heic" | b"heix" | b"hevc" | b"hevx" | b"heim" | b"heis" | b"mif1" | b"msf1" => (Image, "heic"),
            b"qt  " => (Video, "mov"),
            _ => (Video, "mp4"),
        });
    }
    if at(4, b"moov") || at(4, b"mdat") || at(4, b"wide") || at(4, b"free") || at(4, b"pnot") {
        return Some((Video, "mov"));
    }
    if at(0, b"ID3") || (head.len() >= 2 && head[0] == 0xFF && head[1] & 0xE0 == 0xE0 && head[1] & 0x06 != 0) {
        return Some((Audio, "mp3"));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// Any bytes: an answer, never a panic.
        #[test]
        fn any_bytes_are_sniffed(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..80)) {
            let _ = sniff(&bytes);
        }
    }

    #[test]
    fn signatures() {
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n...."), Some((AssetType::Image, "png")));
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Some((AssetType::Image, "jpeg")));
        assert_eq!(sniff(b"RIFF\0\0\0\0WAVEfmt "), Some((AssetType::Audio, "wav")));
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 "), Some((AssetType::Image, "webp")));
        assert_eq!(sniff(b"\0\0\0\x18ftypisom\0\0\0\0"), Some((AssetType::Video, "mp4")));
        assert_eq!(sniff(b"\0\0\0\x18ftypqt  \0\0\0\0"), Some((AssetType::Video, "mov")));
        assert_eq!(sniff(b"\0\0\0\x18ftypheic\0\0\0\0"), Some((AssetType::Image, "heic")));
        assert_eq!(sniff(b"ID3\x04\0\0"), Some((AssetType::Audio, "mp3")));
        assert_eq!(sniff(&[0xFF, 0xFB, 0x90, 0x00]), Some((AssetType::Audio, "mp3")));
        assert_eq!(sniff(b"hello, world"), None);
        assert_eq!(sniff(b""), None);
        assert_eq!(sniff(b"\0\0\0\x18ftyp"), None);
    }
}
