//! Conform before paying: a file that breaks the asset library's limits is
//! made into one (or, split, several) that pass, before anything is
//! uploaded or created. Images go through the image crate, video and audio
//! through ffmpeg; what is done is decided first, on numbers, by
//! [`recipe::plan`], and every output is checked by preflight again before
//! it may be paid for.
//!
//! Outputs are kept in the data directory ([`cache`]), keyed by the
//! original's SHA-256 and the recipe, so a re-run conforms nothing again;
//! work runs on a bounded pool (one per core by default) off the UI task,
//! and a stopped conform leaves nothing behind.

mod cache;
mod error;
mod ffmpeg;
mod image;
mod measure;
pub mod recipe;
mod settings;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use futures::StreamExt;
use serde::{Deserialize, Serialize};
use tokio::io::AsyncWriteExt;
use tokio::sync::Semaphore;

pub use cache::Cache;
pub use error::ConformError;
pub use ffmpeg::Tools;
pub use measure::{Measured, from_ffprobe};
pub use recipe::{Recipe, plan};
pub use settings::{AspectFix, ConformConfig, TooLong};

use crate::api::AssetType;
use crate::preflight::MediaLimits;

/// MiB of pixels held by images being conformed at once: an image waits
/// for its share (a picture larger than all of it runs alone), which bounds
/// a run's memory whatever the number of workers.
const IMAGE_MEMORY_MIB: u32 = 96;

/// Most bytes downloaded of a URL to conform (the largest originals are
/// long 4K takes).
const MAX_DOWNLOAD: u64 = 4 * 1024 * 1024 * 1024;

/// What the store keeps of a conformed job: where it came from, what was
/// done and which part it is.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ConformRecord {
    /// The original file or URL.
    pub original: String,
    /// The original's SHA-256.
    pub original_sha256: String,
    /// The original, measured: `mov 3840×2160, 45.0 s, 30 fps (hevc+aac), 80.0 MB`.
    pub original_media: String,
    /// What was done, step by step.
    pub recipe: String,
    /// The cache key (original and recipe).
    pub key: String,
    /// This output's part number and the number of parts (1 of 1 when not split).
    pub part: (u32, u32),
}

/// A conformed file.
#[derive(Debug, Clone)]
pub struct Conformed {
    /// The original's SHA-256.
    pub original_sha256: String,
    /// The original, measured.
    pub measured: Measured,
    /// What was done.
    pub recipe: Recipe,
    /// The cache key.
    pub key: String,
    /// The outputs, in part order.
    pub outputs: Vec<PathBuf>,
    /// Found in the cache: nothing was made this time.
    pub cached: bool,
}

impl Conformed {
    /// The record of output `i` of an original at `original`.
    pub fn record(&self, original: &str, i: usize) -> ConformRecord {
        ConformRecord {
            original: crate::text::sanitize(original),
            original_sha256: self.original_sha256.clone(),
            original_media: self.measured.summary(),
            recipe: self.recipe.describe(),
            key: self.key.clone(),
            part: (i as u32 + 1, self.outputs.len() as u32),
        }
    }
}

/// How far along an item is (0.0–1.0).
pub type Progress = Arc<dyn Fn(f64) + Send + Sync>;

/// The conform step, shared by every item of a run.
pub struct Conformer {
    cfg: ConformConfig,
    limits: MediaLimits,
    tools: Result<Tools, (&'static str, String)>,
    cache: Cache,
    pool: Arc<Semaphore>,
    memory: Arc<Semaphore>,
    http: reqwest::Client,
}

impl std::fmt::Debug for Conformer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conformer").field("cfg", &self.cfg).field("tools", &self.tools).finish_non_exhaustive()
    }
}

impl Conformer {
    /// A conformer with these settings and limits, caching under
    /// `cache_dir`, downloading URLs with `http`.
    pub fn new(cfg: &ConformConfig, limits: MediaLimits, cache_dir: PathBuf, http: reqwest::Client) -> Conformer {
        image::unmap_large_buffers();
        Conformer {
            tools: Tools::find(cfg),
            cache: Cache::new(cache_dir, cfg.cache_mb.saturating_mul(1024 * 1024)),
            pool: Arc::new(Semaphore::new(cfg.workers())),
            memory: Arc::new(Semaphore::new(IMAGE_MEMORY_MIB as usize)),
            limits,
            cfg: cfg.clone(),
            http,
        }
    }

    /// ffmpeg and ffprobe, or why not (for `check`).
    pub fn tools(&self) -> Result<&Tools, ConformError> {
        self.tools_for("conformed video and audio")
    }

    fn tools_for(&self, would: &str) -> Result<&Tools, ConformError> {
        self.tools.as_ref().map_err(|(tool, looked)| ConformError::NoTool {
            tool,
            looked: looked.clone(),
            would: would.into(),
        })
    }

    /// Measures `path` as a file of `kind`.
    pub async fn measure(&self, path: &Path, kind: AssetType) -> Result<Measured, ConformError> {
        match kind {
            AssetType::Image => {
                let p = path.to_path_buf();
                tokio::task::spawn_blocking(move || measure::image(&p))
                    .await
                    .map_err(|e| ConformError::Io(e.to_string()))?
            }
            _ => self.tools_for(&format!("measured this {}", kind.to_string().to_lowercase()))?.probe(path, kind).await,
        }
    }

    /// What `path`, a file of `kind`, needs; `Ok(None)` when it passes as
    /// it is.
    pub async fn recipe(&self, path: &Path, kind: AssetType) -> Result<Option<(Measured, Recipe)>, ConformError> {
        let m = self.measure(path, kind).await?;
        match plan(&m, &self.limits, self.cfg.aspect, self.cfg.too_long) {
            Ok(Some(r)) => Ok(Some((m, r))),
            Ok(None) => Ok(None),
            Err(why) => Err(ConformError::Impossible(why)),
        }
    }

    /// Conforms `path` (the file measured as `measured`, its outputs named
    /// after `stem`) to `r`, or finds it already made. The caller checks
    /// each output with preflight before it is paid for.
    pub async fn make(
        &self,
        path: &Path,
        stem: &str,
        measured: Measured,
        r: Recipe,
        progress: Progress,
    ) -> Result<Conformed, ConformError> {
        let p = path.to_path_buf();
        let sha = tokio::task::spawn_blocking(move || {
            let mut f = std::fs::File::open(&p).map_err(|e| ConformError::io(&p, &e))?;
            crate::storage::hash_file(&mut f).map(|(_, h)| h).map_err(|e| ConformError::io(&p, &e))
        })
        .await
        .map_err(|e| ConformError::Io(e.to_string()))??;
        let key = crate::storage::sha256_hex(format!("{sha}\u{1f}{}", r.key_text()).as_bytes());
        let key = key[..32].to_string();
        if let Some(outputs) = self.cache.get(&key) {
            progress(1.0);
            return Ok(Conformed { original_sha256: sha, measured, recipe: r, key, outputs, cached: true });
        }
        let pending = self.cache.begin(&key)?;
        let stem = safe_stem(stem);
        let n = r.parts.len();
        let mut made = Vec::new();
        if r.kind == AssetType::Image {
            let _permit = self.pool.acquire().await.map_err(|_| ConformError::Stopped)?;
            let mib = (image::working_bytes(&r, measured.container == "jpeg") >> 20)
                .saturating_add(1)
                .min(u64::from(IMAGE_MEMORY_MIB)) as u32;
            let _memory = self.memory.acquire_many(mib).await.map_err(|_| ConformError::Stopped)?;
            let (src, recipe, out) = (path.to_path_buf(), r.clone(), pending.dir.join(&stem));
            let written = tokio::task::spawn_blocking(move || image::conform(&src, &recipe, &out))
                .await
                .map_err(|e| ConformError::Io(e.to_string()))??;
            made.push(written);
            progress(1.0);
        } else {
            let tools = self.tools_for(&r.describe())?.clone();
            let done = Arc::new(std::sync::Mutex::new(vec![0.0f64; n]));
            let jobs: Vec<_> = r
                .parts
                .iter()
                .enumerate()
                .map(|(i, part)| {
                    let name = if n > 1 { format!("{stem}-part{}", i + 1) } else { stem.clone() };
                    let out = pending.dir.join(format!("{name}.{}", ffmpeg::extension(&r)));
                    let (done, progress, pool) = (Arc::clone(&done), Arc::clone(&progress), Arc::clone(&self.pool));
                    let (tools, r, path, part) = (tools.clone(), r.clone(), path.to_path_buf(), *part);
                    async move {
                        let _permit = pool.acquire_owned().await.map_err(|_| ConformError::Stopped)?;
                        let each = move |f: f64| {
                            if let Ok(mut d) = done.lock() {
                                d[i] = f;
                                progress(d.iter().sum::<f64>() / n as f64);
                            }
                        };
                        tools.make(&path, &r, part, &out, &each).await.map(|()| out)
                    }
                })
                .collect();
            let results: Vec<_> = futures::stream::iter(jobs).buffered(n.max(1)).collect().await;
            for out in results {
                made.push(out?);
            }
        }
        let outputs = self.cache.commit(pending, &made)?;
        Ok(Conformed { original_sha256: sha, measured, recipe: r, key, outputs, cached: false })
    }

    /// Downloads `url` into the cache directory (removed when the returned
    /// guard is dropped).
    pub async fn download(&self, url: &url::Url) -> Result<Download, ConformError> {
        let dir = self.cache.dir().to_path_buf();
        tokio::fs::create_dir_all(&dir).await.map_err(|e| ConformError::io(&dir, &e))?;
        let name = format!(".download-{}", &crate::storage::sha256_hex(url.as_str().as_bytes())[..16]);
        let path = dir.join(format!("{name}-{}", std::process::id()));
        let guard = Download { path: path.clone() };
        let failed = |why: String| ConformError::Io(format!("downloading it failed: {why}"));
        let resp = self.http.get(url.clone()).send().await.map_err(|e| failed(e.without_url().to_string()))?;
        if !resp.status().is_success() {
            return Err(failed(format!("HTTP {}", resp.status().as_u16())));
        }
        let mut file = tokio::fs::File::create(&path).await.map_err(|e| ConformError::io(&path, &e))?;
        let mut body = resp.bytes_stream();
        let mut total = 0u64;
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| failed(e.without_url().to_string()))?;
            total += chunk.len() as u64;
            if total > MAX_DOWNLOAD {
                return Err(failed(format!("it is larger than {} GB", MAX_DOWNLOAD >> 30)));
            }
            file.write_all(&chunk).await.map_err(|e| ConformError::io(&path, &e))?;
        }
        file.flush().await.map_err(|e| ConformError::io(&path, &e))?;
        Ok(guard)
    }
}

/// A downloaded original, removed when dropped.
#[derive(Debug)]
pub struct Download {
    /// Where it is.
    pub path: PathBuf,
}

impl Drop for Download {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// A file stem safe in any file system: letters, digits, `-`, `_`, `.`;
/// at most 80 characters.
fn safe_stem(stem: &str) -> String {
    let s: String =
        stem.chars().map(|c| if c.is_alphanumeric() || matches!(c, '-' | '_') { c } else { '_' }).take(80).collect();
    if s.is_empty() { "conformed".into() } else { s }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// Conforms a generated PNG of `w`×`h` (with transparency when `alpha`)
    /// and returns what preflight's own reader measures of each output.
    fn conformed(w: u32, h: u32, alpha: bool, fix: AspectFix) -> Vec<String> {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("gen.png");
        let img = if alpha {
            ::image::DynamicImage::ImageRgba8(::image::RgbaImage::from_fn(w, h, |x, y| {
                ::image::Rgba([x as u8, y as u8, 7, (x % 2) as u8 * 255])
            }))
        } else {
            ::image::DynamicImage::ImageRgb8(::image::RgbImage::from_fn(w, h, |x, y| {
                ::image::Rgb([x as u8, y as u8, 7])
            }))
        };
        img.save(&src).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let http = crate::api::http_client_builder(&Default::default()).unwrap().build().unwrap();
            let cfg = ConformConfig { aspect: fix, ..ConformConfig::default() };
            let limits = MediaLimits::default();
            let c = Conformer::new(&cfg, limits.clone(), dir.path().join("cache"), http);
            let (m, r) = match c.recipe(&src, AssetType::Image).await {
                Ok(Some(mr)) => mr,
                Ok(None) => return vec![],
                // A crop of a hair-thin strip may leave nothing to scale: refused, not made.
                Err(ConformError::Impossible(why)) if fix == AspectFix::Crop && why.contains("cannot be scaled") => {
                    return vec![];
                }
                Err(e) => panic!("{w}×{h}: {e}"),
            };
            let done = c.make(&src, "gen", m, r, Arc::new(|_| {})).await.unwrap();
            let mut wrong = Vec::new();
            for out in &done.outputs {
                let mut file = crate::preflight::LocalFile::open(out).unwrap();
                let info = crate::media::probe(&mut file, &crate::media::Budget::default()).await.unwrap().info;
                wrong.extend(limits.check(AssetType::Image, &info));
            }
            wrong
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]
        /// Every image conformed passes the same preflight, whatever its
        /// size, aspect or transparency, padded or cropped.
        #[test]
        fn every_conformed_image_passes_preflight(
            w in 1u32..3000, h in 1u32..3000, alpha in proptest::bool::ANY, crop in proptest::bool::ANY,
        ) {
            // Small enough to be quick unoptimised: one long side at most.
            let (w, h) = if w > 600 && h > 600 { (w, h % 600 + 1) } else { (w, h) };
            let fix = if crop { AspectFix::Crop } else { AspectFix::Pad };
            let wrong = conformed(w, h, alpha, fix);
            prop_assert!(wrong.is_empty(), "{}×{}: {:?}", w, h, wrong);
        }
    }
}
