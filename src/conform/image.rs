//! Images conformed with the image crate: decoded (orientation applied),
//! padded or cropped, resized with a Lanczos filter, encoded as JPEG (PNG
//! when transparent) at the highest quality that fits the size limit.

use std::io::Write;
use std::path::Path;

use image::{DynamicImage, GenericImageView, ImageDecoder, imageops::FilterType};

use super::ConformError;
use super::recipe::Recipe;
use super::settings::AspectFix;

/// JPEG qualities tried, best first, until the output fits.
const QUALITIES: [u8; 5] = [92, 85, 75, 65, 50];

fn undecodable(e: impl std::fmt::Display) -> ConformError {
    ConformError::Undecodable { what: "image".into(), why: e.to_string() }
}

/// Writes `src` made to `r` at `out` (its extension chosen here: the path
/// written is returned). Blocking: run it on a blocking thread.
pub fn conform(src: &Path, r: &Recipe, out_stem: &Path) -> Result<std::path::PathBuf, ConformError> {
    let frame = r.frame.as_ref().ok_or_else(|| ConformError::Impossible("no frame in an image recipe".into()))?;
    let reader = image::ImageReader::open(src)
        .map_err(|e| ConformError::io(src, &e))?
        .with_guessed_format()
        .map_err(|e| ConformError::io(src, &e))?;
    let mut decoder = reader.into_decoder().map_err(undecodable)?;
    let orientation = decoder.orientation().unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut img = DynamicImage::from_decoder(decoder).map_err(undecodable)?;
    img.apply_orientation(orientation);
    if let Some((cw, ch, fix)) = frame.canvas {
        let (w, h) = img.dimensions();
        let (cw, ch) = (cw as u32, ch as u32);
        img = match fix {
            AspectFix::Crop => img.crop_imm(w.saturating_sub(cw) / 2, h.saturating_sub(ch) / 2, cw.min(w), ch.min(h)),
            AspectFix::Pad => {
                let mut canvas = DynamicImage::new(cw, ch, img.color());
                image::imageops::overlay(
                    &mut canvas,
                    &img,
                    i64::from(cw.saturating_sub(w) / 2),
                    i64::from(ch.saturating_sub(h) / 2),
                );
                canvas
            }
        };
    }
    let (w, h) = (frame.width as u32, frame.height as u32);
    if img.dimensions() != (w, h) {
        img = img.resize_exact(w, h, FilterType::Lanczos3);
    }
    let transparent = img.color().has_alpha() && img.to_rgba8().pixels().any(|p| p.0[3] < 255);
    if transparent {
        let path = out_stem.with_extension("png");
        let mut buf = Vec::new();
        img.write_to(&mut std::io::Cursor::new(&mut buf), image::ImageFormat::Png).map_err(undecodable)?;
        if buf.len() as u64 <= r.max_bytes {
            return write(&path, &buf);
        }
    }
    let rgb = DynamicImage::ImageRgb8(img.to_rgb8());
    drop(img);
    let path = out_stem.with_extension("jpg");
    for q in QUALITIES {
        let mut buf = Vec::new();
        let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut buf, q);
        rgb.write_with_encoder(enc).map_err(undecodable)?;
        if buf.len() as u64 <= r.max_bytes {
            return write(&path, &buf);
        }
    }
    Err(ConformError::Impossible(format!(
        "even at JPEG quality {} it is over {:.0} MB",
        QUALITIES[QUALITIES.len() - 1],
        r.max_bytes as f64 / 1048576.0
    )))
}

fn write(path: &Path, buf: &[u8]) -> Result<std::path::PathBuf, ConformError> {
    let mut f = std::fs::File::create(path).map_err(|e| ConformError::io(path, &e))?;
    f.write_all(buf).and_then(|()| f.sync_all()).map_err(|e| ConformError::io(path, &e))?;
    Ok(path.to_path_buf())
}
