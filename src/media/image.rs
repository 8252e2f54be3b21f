//! Image dimensions, with `imagesize`: it reads only the header of every
//! image format the library accepts (JPEG walks its segments to the frame
//! header, HEIF its `meta` box).

use super::MediaError;

/// Width and height of the image whose first bytes are `head`.
///
/// A header that stops early is [`MediaError::Truncated`] (read more and
/// try again); zero sides are invalid.
pub fn dimensions(head: &[u8]) -> Result<(u64, u64), MediaError> {
    let size = imagesize::blob_size(head).map_err(|e| match e {
        imagesize::ImageError::NotSupported => MediaError::NotMedia("an image format the reader does not know".into()),
        imagesize::ImageError::CorruptedImage => MediaError::invalid("image header", "corrupted"),
        imagesize::ImageError::IoError(_) => MediaError::Truncated("image header"),
    })?;
    let (w, h) = (size.width as u64, size.height as u64);
    if w == 0 || h == 0 {
        return Err(MediaError::invalid("image header", format!("{w}×{h} has a side of 0 px")));
    }
    Ok((w, h))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png_header(w: u32, h: u32) -> Vec<u8> {
        let mut b = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        b.extend_from_slice(&w.to_be_bytes());
        b.extend_from_slice(&h.to_be_bytes());
        b.extend_from_slice(&[8, 6, 0, 0, 0, 0, 0, 0, 0]);
        b
    }

    #[test]
    fn png_sizes_zero_and_huge() {
        assert_eq!(dimensions(&png_header(1920, 1080)), Ok((1920, 1080)));
        assert!(matches!(dimensions(&png_header(0, 10)), Err(MediaError::Invalid { .. })));
        assert_eq!(dimensions(&png_header(u32::MAX, 1)), Ok((u32::MAX as u64, 1)));
        assert_eq!(dimensions(&png_header(100, 100)[..20]), Err(MediaError::Truncated("image header")));
    }
}
