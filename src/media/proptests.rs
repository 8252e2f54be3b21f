//! Every header reader over random and mutated bytes: no panic, and an
//! error (never a bogus success) for absurd or truncated headers.

use proptest::prelude::*;

use super::*;

fn probe_mem(bytes: Vec<u8>) -> Result<Probed, ProbeError<std::convert::Infallible>> {
    futures::executor::block_on(probe(&mut InMemory(&bytes), &Budget::default()))
}

/// Starts that lead each reader into its format, so random tails exercise it.
fn prefixes() -> Vec<Vec<u8>> {
    vec![
        b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec(),
        vec![0xFF, 0xD8, 0xFF, 0xE0],
        b"GIF89a".to_vec(),
        b"RIFF\0\0\0\0WEBPVP8X".to_vec(),
        b"RIFF\xff\xff\xff\xffWAVEfmt ".to_vec(),
        b"II*\0".to_vec(),
        b"MM\0*".to_vec(),
        b"BM".to_vec(),
        b"\0\0\0\x18ftypisom\0\0\0\0isomiso2".to_vec(),
        b"\0\0\0\x18ftypheic\0\0\0\0mif1heic".to_vec(),
        b"\0\0\0\x14ftypqt  \0\0\0\0qt  \0\0\0\x08moov".to_vec(),
        b"ID3\x04\0\0".to_vec(),
        vec![0xFF, 0xFB, 0x90, 0x00],
        vec![],
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn readers_never_panic(prefix in prop::sample::select(prefixes()), tail in prop::collection::vec(any::<u8>(), 0..600)) {
        let mut bytes = prefix;
        bytes.extend_from_slice(&tail);
        let _ = sniff(&bytes);
        let _ = image_dimensions(&bytes);
        let _ = read_box_header(&bytes);
        let _ = parse_moov(&bytes);
        let _ = parse_moov(bytes.get(8..).unwrap_or_default());
        let _ = parse_wav_chunks(&bytes, bytes.len() as u64);
        let _ = parse_wav_chunks(&bytes, u64::MAX);
        let _ = id3_len(&bytes);
        let _ = parse_mp3(&bytes, bytes.len() as u64);
        let _ = parse_mp3(&bytes, 0);
        if let Ok(p) = probe_mem(bytes) {
            // Whatever is measured is a real measurement.
            prop_assert!(p.info.width != Some(0) && p.info.height != Some(0));
            prop_assert!(p.info.duration_secs.is_none_or(|d| d.is_finite() && d >= 0.0));
            prop_assert!(p.info.fps.is_none_or(|f| f.is_finite() && f > 0.0));
        }
    }

    #[test]
    fn truncated_pngs_are_errors(w in 1u32.., h in 1u32.., cut in 0usize..24) {
        let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        b.extend_from_slice(&w.to_be_bytes());
        b.extend_from_slice(&h.to_be_bytes());
        prop_assert_eq!(image_dimensions(&b), Ok((w as u64, h as u64)));
        prop_assert!(probe_mem(b[..cut].to_vec()).is_err());
    }

    #[test]
    fn box_sizes_past_the_parent_are_truncation(size in 17u64..u64::MAX) {
        let mut moov = Vec::new();
        moov.extend_from_slice(&1u32.to_be_bytes());
        moov.extend_from_slice(b"mvhd");
        moov.extend_from_slice(&size.to_be_bytes());
        prop_assert_eq!(parse_moov(&moov), Err(MediaError::Truncated("moov box")));
    }
}

#[test]
fn absurd_sizes_give_clear_errors() {
    let png = |w: u32, h: u32| {
        let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        b.extend_from_slice(&w.to_be_bytes());
        b.extend_from_slice(&h.to_be_bytes());
        b.extend_from_slice(&[8, 0, 0, 0, 0]);
        // IHDR's CRC, then IEND: the file is whole, only its size is absurd.
        b.extend_from_slice(&[0; 4]);
        b.extend_from_slice(b"\0\0\0\0IEND\xaeB`\x82");
        b
    };
    let e = probe_mem(png(0, 500)).unwrap_err().to_string();
    assert!(e.contains("0×500 has a side of 0 px"), "{e}");
    let p = probe_mem(png(u32::MAX, 1)).unwrap();
    assert_eq!(p.info.width, Some(4_294_967_295));
    // An mp4 whose moov claims 2^32 bytes in a small file.
    let mut mp4 = b"\0\0\0\x10ftypisom\0\0\0\0".to_vec();
    mp4.extend_from_slice(&1u32.to_be_bytes());
    mp4.extend_from_slice(b"moov");
    mp4.extend_from_slice(&(1u64 << 32).to_be_bytes());
    let e = probe_mem(mp4).unwrap_err().to_string();
    assert!(e.contains("moov box runs past the end"), "{e}");
    // An ID3 tag claiming more than the file holds.
    let e = probe_mem(b"ID3\x04\0\0\x7f\x7f\x7f\x7f\0\0".to_vec()).unwrap_err().to_string();
    assert!(e.contains("ID3 tag runs past the end"), "{e}");
    // A WAVE whose byte rate is 0.
    let mut wav = b"RIFF\0\0\0\0WAVEfmt \x10\0\0\0\x01\0\x01\0\x40\x1f\0\0\0\0\0\0\x01\0\x08\0data".to_vec();
    wav.extend_from_slice(&[0xFF; 4]);
    let e = probe_mem(wav).unwrap_err().to_string();
    assert!(e.contains("0 bytes/s"), "{e}");
}

#[test]
fn a_moov_larger_than_the_budget_is_unmeasurable_not_refused() {
    // ftyp, then a moov of 2 MB (past the 1 MB video budget) that is all there.
    let mut mp4 = b"\0\0\0\x10ftypisom\0\0\0\0".to_vec();
    mp4.extend_from_slice(&(2u32 << 20).to_be_bytes());
    mp4.extend_from_slice(b"moov");
    mp4.resize(16 + (2 << 20), 0);
    let e = probe_mem(mp4).unwrap_err();
    assert!(matches!(&e, ProbeError::Media(MediaError::Unmeasurable(m)) if m.contains("moov box (2048 KB)")), "{e}");
}

#[test]
fn a_png_or_a_clip_cut_short_is_truncated_not_measured() {
    use crate::sim::media::{Clip, clip, png};
    let whole = png(400, 300);
    assert!(probe_mem(whole.clone()).is_ok());
    for cut in [whole.len() - 1, whole.len() - 12, whole.len() / 2, 40] {
        let e = probe_mem(whole[..cut].to_vec()).unwrap_err().to_string();
        assert!(e.contains("truncated"), "cut at {cut} of {}: {e}", whole.len());
    }
    let whole = clip(&Clip::new(640, 360, 2.0, 24));
    assert!(probe_mem(whole.clone()).is_ok());
    for cut in [whole.len() - 1, whole.len() * 3 / 4] {
        let e = probe_mem(whole[..cut].to_vec()).unwrap_err().to_string();
        assert!(e.contains("truncated") || e.contains("no moov"), "cut at {cut} of {}: {e}", whole.len());
    }
}
