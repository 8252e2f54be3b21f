//! Images conformed in pure Rust: decoded by the image crate (EXIF
//! orientation applied), cropped, resized with a Lanczos3 filter by
//! fast_image_resize (SIMD, no float copy of the whole image), padded, then
//! encoded as JPEG (PNG when transparent) at the highest quality that fits
//! the size limit. The picture is scaled before it is padded, so no buffer
//! is larger than the decoded original or the output.

use std::io::Write;
use std::path::{Path, PathBuf};

use fast_image_resize::{FilterType, ResizeAlg, ResizeOptions, Resizer};
use image::{DynamicImage, GenericImageView, ImageDecoder};

use super::ConformError;
use super::recipe::Recipe;
use super::settings::AspectFix;

/// JPEG qualities tried, best first, until the output fits.
const QUALITIES: [u8; 5] = [92, 85, 75, 65, 50];

fn undecodable(e: impl std::fmt::Display) -> ConformError {
    ConformError::Undecodable { what: "image".into(), why: e.to_string() }
}

/// Bytes an image needs while it is conformed by `r` (decoded, at most
/// RGBA; resized; padded), for the pool's memory budget.
pub fn working_bytes(r: &Recipe) -> u64 {
    let Some(f) = &r.frame else { return 0 };
    let (w, h) = f.source;
    w * h * 4 + f.width * f.height * 4 * 2
}

/// Writes `src` made to `r` beside `out_stem` (its extension chosen here);
/// returns the path written. Blocking: run it on a blocking thread.
pub fn conform(src: &Path, r: &Recipe, out_stem: &Path) -> Result<PathBuf, ConformError> {
    let frame = r.frame.as_ref().ok_or_else(|| ConformError::Impossible("no frame in an image recipe".into()))?;
    let reader = image::ImageReader::open(src)
        .map_err(|e| ConformError::io(src, &e))?
        .with_guessed_format()
        .map_err(|e| ConformError::io(src, &e))?;
    let mut decoder = reader.into_decoder().map_err(undecodable)?;
    let orientation = decoder.orientation().unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut img = DynamicImage::from_decoder(decoder).map_err(undecodable)?;
    img.apply_orientation(orientation);
    // 8 bits a channel, RGB or RGBA: what the resizer and the encoders take.
    let alpha = img.color().has_alpha();
    img = if alpha { DynamicImage::ImageRgba8(img.into_rgba8()) } else { DynamicImage::ImageRgb8(img.into_rgb8()) };
    let (out_w, out_h) = (frame.width as u32, frame.height as u32);
    // The picture's own size in the output: all of it, or (padded) its
    // share of the padded canvas.
    let (pic_w, pic_h) = match frame.canvas {
        Some((cw, ch, AspectFix::Crop)) => {
            let (w, h) = img.dimensions();
            let (cw, ch) = ((cw as u32).min(w), (ch as u32).min(h));
            img = img.crop_imm((w - cw) / 2, (h - ch) / 2, cw, ch);
            (out_w, out_h)
        }
        Some((cw, _, AspectFix::Pad)) => {
            let (w, h) = img.dimensions();
            let s = f64::from(out_w) / cw as f64;
            let pw = ((f64::from(w) * s).round() as u32).clamp(1, out_w);
            let ph = ((f64::from(h) * s).round() as u32).clamp(1, out_h);
            (pw, ph)
        }
        None => (out_w, out_h),
    };
    if img.dimensions() != (pic_w, pic_h) {
        img = resize(&img, pic_w, pic_h)?;
    }
    if (pic_w, pic_h) != (out_w, out_h) {
        let mut canvas = DynamicImage::new(out_w, out_h, img.color());
        let (x, y) = (i64::from((out_w - pic_w) / 2), i64::from((out_h - pic_h) / 2));
        image::imageops::overlay(&mut canvas, &img, x, y);
        img = canvas;
    }
    encode(&img, r.max_bytes, out_stem)
}

/// Makes freed picture buffers go back to the system at once. glibc raises
/// its mmap threshold after a large buffer is freed, so later pictures come
/// from per-thread arenas that keep the memory: a pool of threads would
/// each hold a 100 MB picture's worth (measured: twice the peak). A fixed
/// threshold keeps every buffer over 4 MiB mapped and unmapped.
pub fn unmap_large_buffers() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        static ONCE: std::sync::Once = std::sync::Once::new();
        // SAFETY: mallopt only changes the allocator's tuning; called once.
        ONCE.call_once(|| unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, 4 << 20);
        });
    }
}

fn resize(img: &DynamicImage, w: u32, h: u32) -> Result<DynamicImage, ConformError> {
    let failed = |e: &dyn std::fmt::Display| ConformError::Impossible(format!("resizing failed: {e}"));
    let pixel = fast_image_resize::IntoImageView::pixel_type(img).ok_or_else(|| failed(&"unsupported pixel type"))?;
    let mut dst = fast_image_resize::images::Image::new(w, h, pixel);
    let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3));
    Resizer::new().resize(img, &mut dst, &options).map_err(|e| failed(&e))?;
    let buf = dst.into_vec();
    let out = match img {
        DynamicImage::ImageRgba8(_) => image::RgbaImage::from_raw(w, h, buf).map(DynamicImage::ImageRgba8),
        _ => image::RgbImage::from_raw(w, h, buf).map(DynamicImage::ImageRgb8),
    };
    out.ok_or_else(|| failed(&"the resized buffer has the wrong size"))
}

fn encode(img: &DynamicImage, max_bytes: u64, out_stem: &Path) -> Result<PathBuf, ConformError> {
    let transparent = match img {
        DynamicImage::ImageRgba8(b) => b.pixels().any(|p| p.0[3] < 255),
        _ => false,
    };
    if transparent {
        let mut buf = Vec::new();
        img.write_to(&mut std::io::Cursor::new(&mut buf), image::ImageFormat::Png).map_err(undecodable)?;
        if buf.len() as u64 <= max_bytes {
            return write(&out_stem.with_extension("png"), &buf);
        }
    }
    let rgb;
    let opaque = match img {
        DynamicImage::ImageRgb8(_) => img,
        _ => {
            rgb = DynamicImage::ImageRgb8(img.to_rgb8());
            &rgb
        }
    };
    for q in QUALITIES {
        let mut buf = Vec::new();
        let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut buf, q);
        opaque.write_with_encoder(enc).map_err(undecodable)?;
        if buf.len() as u64 <= max_bytes {
            return write(&out_stem.with_extension("jpg"), &buf);
        }
    }
    Err(ConformError::Impossible(format!(
        "even at JPEG quality {} it is over {:.0} MB",
        QUALITIES[QUALITIES.len() - 1],
        max_bytes as f64 / 1048576.0
    )))
}

fn write(path: &Path, buf: &[u8]) -> Result<PathBuf, ConformError> {
    let mut f = std::fs::File::create(path).map_err(|e| ConformError::io(path, &e))?;
    f.write_all(buf).and_then(|()| f.sync_all()).map_err(|e| ConformError::io(path, &e))?;
    Ok(path.to_path_buf())
}
