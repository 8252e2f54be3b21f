//! Images conformed in pure Rust, a band of rows at a time. The original is
//! decoded once: a JPEG whose output needs at most half its pixels each way
//! by jpeg-decoder at a reduced DCT scale (a half, a quarter or an eighth),
//! anything else whole by the image crate. Then, for each band of output
//! rows, the area of the original it shows is resized with a Lanczos3
//! filter by fast_image_resize (cropping is part of the resize; the filter
//! reads across a band's edges, so bands join without seams), turned by the
//! EXIF orientation, and handed to the JPEG encoder, which reads 8-row
//! blocks from top to bottom; padding is black, written as it is read.
//! What is held is the decoded original and a few MB of bands, never a
//! resized copy, the resizer's intermediate or a padded canvas beside it.
//! A picture with an alpha channel is made whole (it may be a PNG), with
//! transparent padding, then encoded as before: PNG when transparent and
//! small enough, else JPEG, at the highest quality that fits the limit.

use std::cell::RefCell;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use fast_image_resize::{FilterType, MulDiv, ResizeAlg, ResizeOptions, Resizer};
use image::metadata::Orientation;
use image::{DynamicImage, GenericImageView, ImageDecoder, PixelWithColorType, Rgb, RgbImage, RgbaImage};

use super::ConformError;
use super::recipe::{Frame, Recipe};
use super::settings::AspectFix;

/// JPEG qualities tried, best first, until the output fits.
const QUALITIES: [u8; 5] = [92, 85, 75, 65, 50];

/// About the bytes of the resizer's intermediate for a band of output rows
/// (a multiple of 8, the JPEG encoder's block height); the band itself is
/// at most as large, and a turned band is copied once.
const BAND_BYTES: u64 = 4 << 20;

fn undecodable(e: impl std::fmt::Display) -> ConformError {
    ConformError::Undecodable { what: "image".into(), why: e.to_string() }
}

fn resize_failed(e: impl std::fmt::Display) -> ConformError {
    ConformError::Impossible(format!("resizing failed: {e}"))
}

/// Bytes an image needs while it is conformed by `r` (`jpeg`: the original
/// is a JPEG), for the pool's memory budget: the decoded original (RGB for
/// a JPEG, which at a reduced scale also holds its planes until they are
/// converted, up to 3 bytes a pixel; anything else counted as RGBA, and a
/// picture with alpha is made whole before it is encoded), and the bands.
pub fn working_bytes(r: &Recipe, jpeg: bool) -> u64 {
    let Some(f) = &r.frame else { return 0 };
    let (w, h) = f.source;
    let side = |n: u64| u32::try_from(n).unwrap_or(u32::MAX);
    let bands = 3 * BAND_BYTES;
    if jpeg {
        let s = u64::from(Layout::new(f, (side(w), side(h))).eighths());
        let px = (w * s).div_ceil(8) * (h * s).div_ceil(8);
        px * if s < 8 { 6 } else { 3 } + bands
    } else {
        w * h * 4 + f.width * f.height * 4 + bands
    }
}

/// Writes `src` made to `r` beside `out_stem` (its extension chosen here);
/// returns the path written. Blocking: run it on a blocking thread.
pub fn conform(src: &Path, r: &Recipe, out_stem: &Path) -> Result<PathBuf, ConformError> {
    let frame = r.frame.as_ref().ok_or_else(|| ConformError::Impossible("no frame in an image recipe".into()))?;
    let decoded = decode(src, frame)?;
    let layout = Layout::new(frame, shown(decoded.full, decoded.orientation));
    let alpha = decoded.img.color().has_alpha();
    let picture = Picture::new(decoded, layout)?;
    if alpha {
        let DynamicImage::ImageRgba8(canvas) = picture.render()? else {
            return Err(ConformError::Impossible("an image with alpha was made without it".into()));
        };
        if canvas.pixels().any(|p| p.0[3] < 255) {
            let mut buf = Vec::new();
            canvas.write_to(&mut std::io::Cursor::new(&mut buf), image::ImageFormat::Png).map_err(undecodable)?;
            if buf.len() as u64 <= r.max_bytes {
                return write(&out_stem.with_extension("png"), &buf);
            }
        }
        // The JPEG encoder reads RGBA as RGB, dropping the alpha.
        return write_jpeg(&canvas, r.max_bytes, out_stem, || None);
    }
    let streamed = Streamed::new(picture);
    write_jpeg(&streamed, r.max_bytes, out_stem, || streamed.failure())
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

/// Where the picture goes: the area of the original it shows, its size in
/// the output and its place there (all in the original's pixels as
/// displayed, orientation applied).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Layout {
    /// The output's size.
    out: (u32, u32),
    /// The area of the original shown: left, top, width, height.
    window: (u32, u32, u32, u32),
    /// The picture's size in the output.
    pic: (u32, u32),
    /// The picture's top-left corner in the output (padding is around it).
    at: (u32, u32),
}

impl Layout {
    /// The layout of an original displayed at `w`×`h` made to `f`: cropped
    /// (the middle kept), or padded (the picture centred), then scaled.
    fn new(f: &Frame, (w, h): (u32, u32)) -> Layout {
        let out = (f.width as u32, f.height as u32);
        let (window, pic) = match f.canvas {
            Some((cw, ch, AspectFix::Crop)) => {
                let (cw, ch) = ((cw as u32).min(w), (ch as u32).min(h));
                (((w - cw) / 2, (h - ch) / 2, cw, ch), out)
            }
            Some((cw, _, AspectFix::Pad)) => {
                let s = f64::from(out.0) / cw as f64;
                let pw = ((f64::from(w) * s).round() as u32).clamp(1, out.0);
                let ph = ((f64::from(h) * s).round() as u32).clamp(1, out.1);
                ((0, 0, w, h), (pw, ph))
            }
            None => ((0, 0, w, h), out),
        };
        Layout { out, window, pic, at: ((out.0 - pic.0) / 2, (out.1 - pic.1) / 2) }
    }

    /// The smallest JPEG DCT scale, in eighths (1, 2, 4 or 8), that still
    /// leaves at least one decoded pixel per output pixel each way: nothing
    /// is ever scaled up from a reduced decode.
    fn eighths(&self) -> u32 {
        let (.., ww, wh) = self.window;
        let enough = |s: u32| {
            u64::from(ww) * u64::from(s) >= u64::from(self.pic.0) * 8
                && u64::from(wh) * u64::from(s) >= u64::from(self.pic.1) * 8
        };
        [1, 2, 4].into_iter().find(|&s| enough(s)).unwrap_or(8)
    }
}

/// An orientation that swaps the sides.
fn transposes(o: Orientation) -> bool {
    use Orientation::*;
    matches!(o, Rotate90 | Rotate270 | Rotate90FlipH | Rotate270FlipH)
}

/// A stored size as displayed with orientation `o`.
fn shown((w, h): (u32, u32), o: Orientation) -> (u32, u32) {
    if transposes(o) { (h, w) } else { (w, h) }
}

/// The area `(x, y, w, h)` of a picture as displayed with orientation `o`,
/// in the picture as stored, `sw`×`sh` (the image crate's orientations:
/// `Rotate90` turns the stored picture a quarter clockwise).
fn stored_rect((x, y, w, h): (f64, f64, f64, f64), o: Orientation, (sw, sh): (u32, u32)) -> (f64, f64, f64, f64) {
    use Orientation::*;
    let (sw, sh) = (f64::from(sw), f64::from(sh));
    match o {
        NoTransforms => (x, y, w, h),
        FlipHorizontal => (sw - x - w, y, w, h),
        FlipVertical => (x, sh - y - h, w, h),
        Rotate180 => (sw - x - w, sh - y - h, w, h),
        Rotate90 => (y, sh - x - w, h, w),
        Rotate270 => (sw - y - h, x, h, w),
        Rotate90FlipH => (y, x, h, w),
        Rotate270FlipH => (sw - y - h, sh - x - w, h, w),
    }
}

/// A decoded original, as stored (orientation not applied), 8 bits a
/// channel, RGB or RGBA.
struct Decoded {
    img: DynamicImage,
    orientation: Orientation,
    /// The original's stored size (the decoded size, unless reduced).
    full: (u32, u32),
    /// Decoded pixels per original pixel each way: 1, or 1/2, 1/4, 1/8 for
    /// a JPEG decoded at a reduced scale.
    scale: f64,
}

/// Decodes `src` for `frame`: at a reduced scale when it is a JPEG that
/// allows it, else whole by the image crate (EXIF orientation read).
fn decode(src: &Path, frame: &Frame) -> Result<Decoded, ConformError> {
    if let Some(d) = decode_jpeg_reduced(src, frame) {
        return Ok(d);
    }
    let reader = image::ImageReader::open(src)
        .map_err(|e| ConformError::io(src, &e))?
        .with_guessed_format()
        .map_err(|e| ConformError::io(src, &e))?;
    let mut decoder = reader.into_decoder().map_err(undecodable)?;
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let img = DynamicImage::from_decoder(decoder).map_err(undecodable)?;
    // 8 bits a channel, RGB or RGBA: what the resizer and the encoders take.
    let img = if img.color().has_alpha() {
        DynamicImage::ImageRgba8(img.into_rgba8())
    } else {
        DynamicImage::ImageRgb8(img.into_rgb8())
    };
    Ok(Decoded { full: img.dimensions(), img, orientation, scale: 1.0 })
}

/// A JPEG whose output needs at most half its pixels each way, decoded by
/// jpeg-decoder's scaled IDCT at the smallest scale that still gives a
/// pixel per output pixel ([`Layout::eighths`]); `None` when that is the
/// full size, or the file is not a JPEG jpeg-decoder decodes to RGB or grey
/// (CMYK, 12-bit, arithmetic coding …): the image crate then decodes it.
fn decode_jpeg_reduced(src: &Path, frame: &Frame) -> Option<Decoded> {
    use jpeg_decoder::{Decoder, PixelFormat};
    let mut d = Decoder::new(std::io::BufReader::new(File::open(src).ok()?));
    d.read_info().ok()?;
    let info = d.info()?;
    if !matches!(info.pixel_format, PixelFormat::RGB24 | PixelFormat::L8) {
        return None;
    }
    // EXIF comes before the frame header, so it is read by now.
    let orientation =
        |d: &Decoder<_>| d.exif_data().and_then(Orientation::from_exif_chunk).unwrap_or(Orientation::NoTransforms);
    let o = orientation(&d);
    let full = (u32::from(info.width), u32::from(info.height));
    let s = Layout::new(frame, shown(full, o)).eighths();
    if s == 8 {
        return None;
    }
    let want = ((full.0 * s).div_ceil(8), (full.1 * s).div_ceil(8));
    let got = d.scale(u16::try_from(want.0).ok()?, u16::try_from(want.1).ok()?).ok()?;
    if (u32::from(got.0), u32::from(got.1)) != want {
        return None;
    }
    let pixels = d.decode().ok()?;
    // An EXIF segment after the frame header (against the standard) would
    // change the geometry the scale was chosen for: decode it whole then.
    if orientation(&d) != o {
        return None;
    }
    let rgb = match info.pixel_format {
        PixelFormat::L8 => pixels.iter().flat_map(|&l| [l, l, l]).collect(),
        _ => pixels,
    };
    let img = RgbImage::from_raw(want.0, want.1, rgb)?;
    Some(Decoded { img: DynamicImage::ImageRgb8(img), orientation: o, full, scale: f64::from(s) / 8.0 })
}

/// The picture (the output without its padding), made a band of rows at a
/// time from the decoded original.
struct Picture {
    src: DynamicImage,
    orientation: Orientation,
    full: (u32, u32),
    scale: f64,
    layout: Layout,
    /// The source's colours were multiplied by its alpha (to be resized;
    /// each band's are divided back).
    premultiplied: bool,
    resizer: Resizer,
    /// Rows of the picture per band: about [`BAND_BYTES`], a multiple of 8.
    step: u32,
}

impl Picture {
    fn new(d: Decoded, layout: Layout) -> Result<Picture, ConformError> {
        let mut src = d.img;
        let (.., ww, wh) = layout.window;
        let premultiplied = src.color().has_alpha() && ((ww, wh) != layout.pic || d.scale != 1.0);
        if premultiplied {
            MulDiv::default().multiply_alpha_inplace(&mut src).map_err(resize_failed)?;
        }
        // The resizer's intermediate for a band is as many source pixels
        // across as it takes (more than the band's when scaling down).
        let shrink = (f64::from(ww) / f64::from(layout.pic.0)).max(f64::from(wh) / f64::from(layout.pic.1)) * d.scale;
        let row = f64::from(layout.pic.0) * f64::from(src.color().bytes_per_pixel()) * shrink.max(1.0);
        let step = ((BAND_BYTES as f64 / row / 8.0) as u32).max(1) * 8;
        Ok(Picture {
            src,
            orientation: d.orientation,
            full: d.full,
            scale: d.scale,
            layout,
            premultiplied,
            resizer: Resizer::new(),
            step,
        })
    }

    /// Rows `y0..y1` of the picture, as displayed.
    fn rows(&mut self, y0: u32, y1: u32) -> Result<DynamicImage, ConformError> {
        let (l, t, w, h) = self.layout.window;
        let (pw, ph) = self.layout.pic;
        let sy = f64::from(h) / f64::from(ph);
        let band = (f64::from(l), f64::from(t) + f64::from(y0) * sy, f64::from(w), f64::from(y1 - y0) * sy);
        let (x, y, bw, bh) = stored_rect(band, self.orientation, self.full);
        // In the decoded pixels, kept inside them (rounding must not take a
        // crop past an edge).
        let (sw, sh) = self.src.dimensions();
        let (sw, sh) = (f64::from(sw), f64::from(sh));
        let (x, y) = ((x * self.scale).clamp(0.0, sw), (y * self.scale).clamp(0.0, sh));
        let (bw, bh) = ((bw * self.scale).min(sw - x), (bh * self.scale).min(sh - y));
        let (dw, dh) = shown((pw, y1 - y0), self.orientation);
        let options = ResizeOptions::new()
            .resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3))
            .crop(x, y, bw, bh)
            .use_alpha(false);
        let mut band = if self.src.color().has_alpha() {
            let mut dst = RgbaImage::new(dw, dh);
            self.resizer.resize(&self.src, &mut dst, &options).map_err(resize_failed)?;
            if self.premultiplied {
                MulDiv::default().divide_alpha_inplace(&mut dst).map_err(resize_failed)?;
            }
            DynamicImage::ImageRgba8(dst)
        } else {
            let mut dst = RgbImage::new(dw, dh);
            self.resizer.resize(&self.src, &mut dst, &options).map_err(resize_failed)?;
            DynamicImage::ImageRgb8(dst)
        };
        band.apply_orientation(self.orientation);
        Ok(band)
    }

    /// The whole output: the picture on its padding (black, or transparent
    /// when the original has alpha).
    fn render(mut self) -> Result<DynamicImage, ConformError> {
        let Layout { out, pic, at, .. } = self.layout;
        let mut canvas = DynamicImage::new(out.0, out.1, self.src.color());
        let step = self.step;
        for y0 in (0..pic.1).step_by(step as usize) {
            let y1 = (y0 + step).min(pic.1);
            let rows = self.rows(y0, y1)?;
            image::imageops::replace(&mut canvas, &rows, i64::from(at.0), i64::from(at.1 + y0));
        }
        Ok(canvas)
    }
}

/// The output of an opaque picture as the JPEG encoder reads it: in 8-row
/// blocks from top to bottom, each pixel once (the image crate documents
/// this of `JpegEncoder::encode_image`). Bands are aligned on output rows,
/// so a block never spans two; padding is black.
struct Streamed {
    layout: Layout,
    /// Output rows per band (a multiple of 8).
    step: u32,
    state: RefCell<Bands>,
}

struct Bands {
    picture: Picture,
    /// The picture's first row in `band`.
    first: u32,
    band: RgbImage,
    failed: Option<ConformError>,
}

impl Streamed {
    fn new(picture: Picture) -> Streamed {
        Streamed {
            layout: picture.layout,
            step: picture.step,
            state: RefCell::new(Bands { picture, first: 0, band: RgbImage::new(0, 0), failed: None }),
        }
    }

    /// Why a band could not be made, if one could not (its pixels read as
    /// black).
    fn failure(&self) -> Option<ConformError> {
        self.state.borrow_mut().failed.take()
    }
}

impl Bands {
    /// Makes the band of output rows holding output row `y`.
    fn fill(&mut self, y: u32, layout: &Layout, step: u32) {
        let top = y / step * step;
        let first = top.max(layout.at.1) - layout.at.1;
        let end = (top + step).min(layout.at.1 + layout.pic.1) - layout.at.1;
        self.band = RgbImage::new(0, 0);
        match self.picture.rows(first, end) {
            Ok(DynamicImage::ImageRgb8(band)) => {
                self.first = first;
                self.band = band;
            }
            Ok(_) => self.failed = Some(ConformError::Impossible("an opaque image was made with alpha".into())),
            Err(e) => self.failed = Some(e),
        }
    }
}

impl GenericImageView for Streamed {
    type Pixel = Rgb<u8>;

    fn dimensions(&self) -> (u32, u32) {
        self.layout.out
    }

    fn get_pixel(&self, x: u32, y: u32) -> Rgb<u8> {
        let Layout { at, pic, .. } = self.layout;
        let (px, py) = (x.wrapping_sub(at.0), y.wrapping_sub(at.1));
        if px >= pic.0 || py >= pic.1 {
            return Rgb([0, 0, 0]);
        }
        let mut s = self.state.borrow_mut();
        if s.failed.is_some() {
            return Rgb([0, 0, 0]);
        }
        if py < s.first || py - s.first >= s.band.height() {
            s.fill(y, &self.layout, self.step);
            if s.failed.is_some() {
                return Rgb([0, 0, 0]);
            }
        }
        *s.band.get_pixel(px, py - s.first)
    }
}

/// Writes `img` as a JPEG at the highest quality that fits `max_bytes`: a
/// quality whose output grows past the limit is stopped there and the next
/// one tried. `failed` says whether making the pixels failed.
fn write_jpeg<I>(
    img: &I,
    max_bytes: u64,
    out_stem: &Path,
    failed: impl Fn() -> Option<ConformError>,
) -> Result<PathBuf, ConformError>
where
    I: GenericImageView,
    I::Pixel: PixelWithColorType,
{
    let path = out_stem.with_extension("jpg");
    for q in QUALITIES {
        let file = File::create(&path).map_err(|e| ConformError::io(&path, &e))?;
        let mut out = Capped { inner: BufWriter::new(file), left: max_bytes, over: false };
        let done = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, q).encode_image(img);
        if let Some(e) = failed() {
            let _ = std::fs::remove_file(&path);
            return Err(e);
        }
        match done {
            Ok(()) => {
                let file = out.inner.into_inner().map_err(|e| ConformError::io(&path, e.error()))?;
                file.sync_all().map_err(|e| ConformError::io(&path, &e))?;
                return Ok(path);
            }
            Err(_) if out.over => continue,
            Err(image::ImageError::IoError(e)) => {
                let _ = std::fs::remove_file(&path);
                return Err(ConformError::io(&path, &e));
            }
            Err(e) => {
                let _ = std::fs::remove_file(&path);
                return Err(undecodable(e));
            }
        }
    }
    let _ = std::fs::remove_file(&path);
    Err(ConformError::Impossible(format!(
        "even at JPEG quality {} it is over {:.0} MB",
        QUALITIES[QUALITIES.len() - 1],
        max_bytes as f64 / 1048576.0
    )))
}

/// A writer that refuses to go past `left` bytes.
struct Capped<W> {
    inner: W,
    left: u64,
    /// A write was refused.
    over: bool,
}

impl<W: Write> Write for Capped<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if buf.len() as u64 > self.left {
            self.over = true;
            return Err(std::io::Error::other("over the size limit"));
        }
        let n = self.inner.write(buf)?;
        self.left -= n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

fn write(path: &Path, buf: &[u8]) -> Result<PathBuf, ConformError> {
    let mut f = File::create(path).map_err(|e| ConformError::io(path, &e))?;
    f.write_all(buf).and_then(|()| f.sync_all()).map_err(|e| ConformError::io(path, &e))?;
    Ok(path.to_path_buf())
}

#[cfg(test)]
mod tests {
    use image::{ImageEncoder, Rgba};

    use super::*;
    use crate::api::AssetType;
    use crate::conform::recipe::Output;

    fn frame(source: (u64, u64), canvas: Option<(u64, u64, AspectFix)>, out: (u64, u64)) -> Frame {
        Frame { source, canvas, width: out.0, height: out.1 }
    }

    fn recipe(f: Frame, max_bytes: u64) -> Recipe {
        Recipe {
            kind: AssetType::Image,
            frame: Some(f),
            fps: None,
            parts: vec![],
            output: Output::Image,
            max_bytes,
            video_kbps: None,
            audio: false,
            pcm: None,
            steps: vec![],
            warnings: vec![],
        }
    }

    /// Detail everywhere (stripes, a ramp, hashed noise): a seam, a band
    /// out of place or a turned one shows.
    fn busy(w: u32, h: u32) -> RgbImage {
        RgbImage::from_fn(w, h, |x, y| {
            let n = (x.wrapping_mul(2_654_435_761) ^ y.wrapping_mul(40_503)) >> 7;
            Rgb([(x * 7 + y) as u8, if (x / 5 + y / 3) % 2 == 0 { 230 } else { 20 }, n as u8])
        })
    }

    /// Smooth (ramps and large blocks), as photographs mostly are.
    fn smooth(w: u32, h: u32) -> RgbImage {
        RgbImage::from_fn(w, h, |x, y| {
            Rgb([(x * 255 / w) as u8, (y * 255 / h) as u8, if (x / 64 + y / 64) % 2 == 0 { 200 } else { 60 }])
        })
    }

    fn decoded(img: DynamicImage, orientation: Orientation) -> Decoded {
        Decoded { full: img.dimensions(), img, orientation, scale: 1.0 }
    }

    /// `d` made to `f`, in bands of `step` rows.
    fn render(d: Decoded, f: &Frame, step: u32) -> DynamicImage {
        let layout = Layout::new(f, shown(d.full, d.orientation));
        let mut p = Picture::new(d, layout).unwrap();
        p.step = step;
        p.render().unwrap()
    }

    /// fast_image_resize in one call (its own alpha handling), for comparison.
    fn one_shot(src: &DynamicImage, (x, y, w, h): (u32, u32, u32, u32), (dw, dh): (u32, u32)) -> DynamicImage {
        let mut dst = DynamicImage::new(dw, dh, src.color());
        let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3)).crop(
            f64::from(x),
            f64::from(y),
            f64::from(w),
            f64::from(h),
        );
        Resizer::new().resize(src, &mut dst, &options).unwrap();
        dst
    }

    fn max_diff(a: &[u8], b: &[u8]) -> u8 {
        assert_eq!(a.len(), b.len());
        a.iter().zip(b).map(|(x, y)| x.abs_diff(*y)).max().unwrap_or(0)
    }

    fn mean_diff(a: &[u8], b: &[u8]) -> f64 {
        assert_eq!(a.len(), b.len());
        a.iter().zip(b).map(|(x, y)| f64::from(x.abs_diff(*y))).sum::<f64>() / a.len() as f64
    }

    #[test]
    fn banded_resize_matches_one_shot_cropped() {
        let src = DynamicImage::ImageRgb8(busy(301, 203));
        let f = frame((301, 203), Some((250, 180, AspectFix::Crop)), (97, 61));
        let want = one_shot(&src, (25, 11, 250, 180), (97, 61));
        for step in [8, 16, 64] {
            let got = render(decoded(src.clone(), Orientation::NoTransforms), &f, step);
            assert_eq!(got.dimensions(), (97, 61));
            assert!(max_diff(got.as_bytes(), want.as_bytes()) <= 1, "bands of {step} rows");
        }
    }

    #[test]
    fn banded_resize_with_alpha_matches_one_shot_and_pads_transparent() {
        let rgb = busy(400, 100);
        let rgba = RgbaImage::from_fn(400, 100, |x, y| {
            let Rgb([r, g, b]) = *rgb.get_pixel(x, y);
            Rgba([r, g, b, ((x * 3 + y * 5) % 256) as u8])
        });
        let src = DynamicImage::ImageRgba8(rgba);
        // Aspect 4: padded to 400×161, scaled to 150×60 (the picture 150×38 at y 11).
        let f = frame((400, 100), Some((400, 161, AspectFix::Pad)), (150, 60));
        let layout = Layout::new(&f, (400, 100));
        assert_eq!((layout.pic, layout.at), ((150, 38), (0, 11)));
        let got = render(decoded(src.clone(), Orientation::NoTransforms), &f, 8);
        let want = one_shot(&src, (0, 0, 400, 100), (150, 38));
        let pic = got.crop_imm(0, 11, 150, 38);
        assert!(max_diff(pic.as_bytes(), want.as_bytes()) <= 1);
        let got = got.to_rgba8();
        assert!((0..150).all(|x| got.get_pixel(x, 0).0 == [0; 4] && got.get_pixel(x, 59).0 == [0; 4]));
    }

    #[test]
    fn every_orientation_is_applied_band_by_band() {
        use Orientation::*;
        let stored = DynamicImage::ImageRgb8(busy(240, 90));
        // Scaled to a third in one call, then turned.
        let resized = one_shot(&stored, (0, 0, 240, 90), (80, 30));
        for o in
            [NoTransforms, Rotate90, Rotate180, Rotate270, FlipHorizontal, FlipVertical, Rotate90FlipH, Rotate270FlipH]
        {
            let mut want = resized.clone();
            want.apply_orientation(o);
            let (w, h) = want.dimensions();
            let (sw, sh) = shown((240, 90), o);
            let f = frame((u64::from(sw), u64::from(sh)), None, (u64::from(w), u64::from(h)));
            let got = render(decoded(stored.clone(), o), &f, 8);
            assert_eq!(got.dimensions(), (w, h), "{o:?}");
            assert!(max_diff(got.as_bytes(), want.as_bytes()) <= 1, "{o:?}");
            // Turned first, then scaled: the same but for the rounding
            // between the resizer's two passes, taken in the other order.
            let mut turned = stored.clone();
            turned.apply_orientation(o);
            let other = render(decoded(turned, NoTransforms), &f, 1024);
            assert!(mean_diff(got.as_bytes(), other.as_bytes()) < 0.5, "{o:?}");
        }
    }

    #[test]
    fn the_streamed_output_is_the_rendered_one_with_black_padding() {
        let src = DynamicImage::ImageRgb8(busy(300, 70));
        // Padded on top and bottom by rows that are not a multiple of 8.
        let f = frame((300, 70), Some((300, 121, AspectFix::Pad)), (200, 81));
        let want = render(decoded(src.clone(), Orientation::NoTransforms), &f, 1024).to_rgb8();
        let layout = Layout::new(&f, (300, 70));
        assert_eq!((layout.pic, layout.at), ((200, 47), (0, 17)));
        let mut p = Picture::new(decoded(src, Orientation::NoTransforms), layout).unwrap();
        p.step = 16;
        let s = Streamed::new(p);
        let mut got = RgbImage::new(200, 81);
        // As the JPEG encoder reads: 8-row blocks, left to right.
        for by in (0..81).step_by(8) {
            for bx in (0..200).step_by(8) {
                for y in by..(by + 8).min(81) {
                    for x in bx..(bx + 8).min(200) {
                        got.put_pixel(x, y, s.get_pixel(x, y));
                    }
                }
            }
        }
        assert!(s.failure().is_none());
        assert!(max_diff(got.as_raw(), want.as_raw()) <= 1);
        assert!((0..200).all(|x| got.get_pixel(x, 16).0 == [0; 3] && got.get_pixel(x, 64).0 == [0; 3]));
        assert_ne!(got.get_pixel(100, 40).0, [0; 3]);
    }

    #[test]
    fn the_dct_scale_never_scales_up() {
        let eighths = |source, canvas, out| {
            Layout::new(&frame(source, canvas, out), (source.0 as u32, source.1 as u32)).eighths()
        };
        // The bench's panorama: padded, then exactly half.
        assert_eq!(eighths((12000, 3000), Some((12000, 4825, AspectFix::Pad)), (6000, 2412)), 4);
        // An 8K still to 6000 px: more than half is needed, decoded whole.
        assert_eq!(eighths((7680, 4320), None, (6000, 3375)), 8);
        assert_eq!(eighths((8000, 4000), None, (1000, 500)), 1);
        assert_eq!(eighths((8000, 4000), None, (1001, 500)), 2);
        // Cropped: the window counts, not the whole original.
        assert_eq!(eighths((8000, 1000), Some((2400, 1000, AspectFix::Crop)), (1200, 500)), 4);
        assert_eq!(eighths((8000, 1000), Some((2400, 1000, AspectFix::Crop)), (1201, 500)), 8);
    }

    /// A TIFF-ordered EXIF chunk holding only an orientation.
    fn exif(orientation: u8) -> Vec<u8> {
        let mut e = b"MM\x00\x2a\x00\x00\x00\x08\x00\x01".to_vec();
        e.extend([0x01, 0x12, 0x00, 0x03, 0, 0, 0, 1, 0, orientation, 0, 0, 0, 0, 0, 0]);
        e
    }

    fn write_jpeg_file(path: &Path, img: &RgbImage, orientation: Option<u8>) {
        let mut buf = Vec::new();
        let mut enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut buf, 95);
        if let Some(o) = orientation {
            enc.set_exif_metadata(exif(o)).unwrap();
        }
        enc.write_image(img.as_raw(), img.width(), img.height(), image::ExtendedColorType::Rgb8).unwrap();
        std::fs::write(path, buf).unwrap();
    }

    fn read(path: &Path) -> RgbImage {
        image::open(path).unwrap().to_rgb8()
    }

    #[test]
    fn a_jpeg_halved_or_more_is_decoded_reduced_and_looks_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("pano.jpg");
        write_jpeg_file(&src, &smooth(1600, 400), None);
        let f = frame((1600, 400), Some((1600, 644, AspectFix::Pad)), (800, 322));
        let d = decode_jpeg_reduced(&src, &f).expect("reduced");
        assert_eq!((d.img.dimensions(), d.full, d.scale), ((800, 200), (1600, 400), 0.5));
        let out = conform(&src, &recipe(f.clone(), 30 << 20), &dir.path().join("out")).unwrap();
        assert_eq!(out.extension().unwrap(), "jpg");
        let got = read(&out);
        assert_eq!(got.dimensions(), (800, 322));
        // The same made from the whole decode.
        let whole = render(decoded(image::open(&src).unwrap(), Orientation::NoTransforms), &f, 1024).to_rgb8();
        let m = mean_diff(got.as_raw(), whole.as_raw());
        assert!(m < 3.0, "mean difference {m}");
        // Less than half is decoded whole.
        assert!(
            decode_jpeg_reduced(&src, &frame((1600, 400), Some((1600, 644, AspectFix::Pad)), (801, 322))).is_none()
        );
    }

    #[test]
    fn a_grey_jpeg_is_decoded_reduced_as_grey_rgb() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("grey.jpg");
        image::DynamicImage::ImageRgb8(smooth(800, 400)).to_luma8().save(&src).unwrap();
        let f = frame((800, 400), None, (200, 100));
        let d = decode_jpeg_reduced(&src, &f).expect("reduced");
        assert_eq!((d.img.dimensions(), d.scale), ((200, 100), 0.25));
        assert!(d.img.to_rgb8().pixels().all(|p| p.0[0] == p.0[1] && p.0[1] == p.0[2]));
    }

    #[test]
    fn a_cmyk_jpeg_is_decoded_whole_by_the_image_crate() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("cmyk.jpg");
        let (w, h) = (640u16, 320u16);
        // Cyan on the left half, nothing (white) on the right.
        let data: Vec<u8> = (0..u32::from(w) * u32::from(h))
            .flat_map(|i| if i % u32::from(w) < 320 { [255, 0, 0, 0] } else { [0; 4] })
            .collect();
        let mut buf = Vec::new();
        jpeg_encoder::Encoder::new(&mut buf, 95).encode(&data, w, h, jpeg_encoder::ColorType::Cmyk).unwrap();
        std::fs::write(&src, buf).unwrap();
        let f = frame((640, 320), None, (320, 160));
        assert!(decode_jpeg_reduced(&src, &f).is_none());
        let got = read(&conform(&src, &recipe(f, 30 << 20), &dir.path().join("out")).unwrap());
        assert_eq!(got.dimensions(), (320, 160));
        let (l, r) = (got.get_pixel(40, 80).0, got.get_pixel(280, 80).0);
        assert!(l[0] < 60 && l[1] > 180 && l[2] > 180, "cyan: {l:?}");
        assert!(r.iter().all(|&c| c > 220), "white: {r:?}");
    }

    #[test]
    fn exif_orientation_is_applied_whether_decoded_reduced_or_whole() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("turned.jpg");
        // Stored 1600×400: red in the top-left quarter, blue elsewhere;
        // EXIF 6 = displayed a quarter turn clockwise, 400×1600, the red at
        // the top right.
        let stored =
            RgbImage::from_fn(1600, 400, |x, y| if x < 800 && y < 200 { Rgb([220, 0, 0]) } else { Rgb([0, 0, 220]) });
        write_jpeg_file(&src, &stored, Some(6));
        for (out, reduced) in [((322u32, 800u32), true), ((644, 1600), false)] {
            let f = frame((400, 1600), Some((644, 1600, AspectFix::Pad)), (u64::from(out.0), u64::from(out.1)));
            assert_eq!(decode_jpeg_reduced(&src, &f).is_some(), reduced);
            let got = read(&conform(&src, &recipe(f, 30 << 20), &dir.path().join("out")).unwrap());
            assert_eq!(got.dimensions(), out);
            let (w, h) = out;
            let (at, pw) = ((w - w * 400 / 644) / 2, w * 400 / 644);
            let top_right = got.get_pixel(at + pw * 3 / 4, h / 4).0;
            let bottom_left = got.get_pixel(at + pw / 4, h * 3 / 4).0;
            assert!(top_right[0] > 180 && top_right[2] < 60, "{out:?}: {top_right:?}");
            assert!(bottom_left[2] > 180 && bottom_left[0] < 60, "{out:?}: {bottom_left:?}");
            // Padding left and right is black.
            assert!(got.get_pixel(1, h / 2).0.iter().all(|&c| c < 20));
        }
    }

    #[test]
    fn the_output_fits_the_size_limit_or_nothing_is_left() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("noise.png");
        busy(400, 300).save(&src).unwrap();
        let size = |q| {
            let mut buf = Vec::new();
            image::codecs::jpeg::JpegEncoder::new_with_quality(&mut buf, q).encode_image(&busy(400, 300)).unwrap();
            buf.len() as u64
        };
        let (best, worst) = (size(92), size(50));
        let f = frame((400, 300), None, (400, 300));
        let out = dir.path().join("out");
        let got = conform(&src, &recipe(f.clone(), best), &out).unwrap();
        assert_eq!(std::fs::metadata(&got).unwrap().len(), best);
        let got = conform(&src, &recipe(f.clone(), (best + worst) / 2), &out).unwrap();
        let len = std::fs::metadata(&got).unwrap().len();
        assert!(len <= (best + worst) / 2 && len >= worst, "{len}");
        let e = conform(&src, &recipe(f, worst - 1), &out).unwrap_err();
        assert!(matches!(e, ConformError::Impossible(ref why) if why.contains("quality 50")), "{e}");
        assert!(!out.with_extension("jpg").exists());
    }

    #[test]
    fn two_large_pictures_are_never_decoded_at_once() {
        let budget = u64::from(super::super::IMAGE_MEMORY_MIB) << 20;
        let still = recipe(frame((7680, 4320), None, (6000, 3375)), 30 << 20);
        let pano = recipe(frame((12000, 3000), Some((12000, 4825, AspectFix::Pad)), (6000, 2412)), 30 << 20);
        // An 8K JPEG, decoded whole, takes the budget; a panorama decoded
        // at half its size leaves room for small pictures, not another.
        assert!(working_bytes(&still, true) >= budget);
        assert!(working_bytes(&pano, true) < budget / 4 * 3 && working_bytes(&pano, true) * 2 > budget);
        assert!(working_bytes(&pano, false) >= budget);
    }
}
