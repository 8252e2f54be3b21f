//! Conform benchmarks (need ffmpeg on PATH; media is made here with it):
//!
//! - `jpeg24`: a 24-megapixel JPEG (8000×3000, aspect 2.67) padded and
//!   scaled, on one worker: seconds (target ≤ 1 s).
//! - `clip45`: a 45 s 1080p clip split into parts and re-encoded on two
//!   workers: seconds and the ratio to its length (target ≤ 0.5).
//! - `images100`: 100 images that break the limits (8K stills, panoramas,
//!   tiny stills, TGA), conformed by the default pool: peak RSS (target
//!   ≤ 150 MB).
//! - `mixed`: a folder of 24 real-world files imported by the release
//!   binary with `--conform` through the simulator, whose bucket check fails
//!   what breaks a limit (HEVC and ProRes within the limits go as they are):
//!   the share of the files that can pass that end Active
//!   (target ≥ 95%), paid creations that then failed (target 0), and what a
//!   second run creates (target 0).
//!
//! `cargo bench --bench conform [-- SECTION…]`

mod support;

use support::status_kib;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures::StreamExt;
use seedance_assets::api::AssetType;
use seedance_assets::conform::{ConformConfig, Conformer};
use seedance_assets::engine::JobState;
use seedance_assets::preflight::MediaLimits;

fn ffmpeg(args: &[&str]) {
    let out = Command::new("ffmpeg")
        .args(["-nostdin", "-loglevel", "error", "-y"])
        .args(args)
        .output()
        .expect("ffmpeg on PATH");
    assert!(out.status.success(), "ffmpeg {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

fn still(path: &Path, size: &str) {
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        &format!("testsrc2=size={size}:rate=1"),
        "-frames:v",
        "1",
        "-q:v",
        "3",
        path.to_str().unwrap(),
    ]);
}

fn clip(path: &Path, size: &str, rate: u32, secs: u32, extra: &[&str]) {
    let src = format!("testsrc2=size={size}:rate={rate}");
    let mut args = vec!["-f", "lavfi", "-i", &src, "-f", "lavfi", "-i", "sine=frequency=440"];
    let t = secs.to_string();
    args.extend(["-t", &t, "-shortest"]);
    args.extend(extra);
    args.push(path.to_str().unwrap());
    ffmpeg(&args);
}

const X264: &[&str] = &["-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac"];

fn conformer(dir: &Path, workers: usize) -> Conformer {
    let cfg = ConformConfig { workers, ..ConformConfig::default() };
    let http = seedance_assets::api::http_client_builder(&Default::default()).expect("tls").build().expect("http");
    Conformer::new(&cfg, MediaLimits::default(), dir.to_path_buf(), http)
}

async fn conform_once(c: &Conformer, path: &Path, kind: AssetType) -> (Duration, usize) {
    let start = Instant::now();
    let (m, r) = c.recipe(path, kind).await.expect("measured").expect("needs conforming");
    let done = c.make(path, "bench", m, r, Arc::new(|_| {})).await.expect("conformed");
    (start.elapsed(), done.outputs.len())
}

async fn jpeg24() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("wide.jpg");
    still(&src, "8000x3000");
    let mut times = Vec::new();
    for i in 0..3 {
        let c = conformer(&dir.path().join(format!("cache{i}")), 1);
        times.push(conform_once(&c, &src, AssetType::Image).await.0.as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    println!(
        "  jpeg24: 8000×3000 JPEG padded and scaled to 6000×2412, one worker: median {:.2} s (runs {times:.2?})",
        times[1]
    );
}

async fn clip45() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("take.mp4");
    clip(&src, "1920x1080", 30, 45, X264);
    let c = conformer(&dir.path().join("cache"), 2);
    let (t, parts) = conform_once(&c, &src, AssetType::Video).await;
    let t = t.as_secs_f64();
    println!(
        "  clip45: 45 s 1080p30 h264/aac split into {parts} parts and re-encoded, two workers: {t:.1} s = {:.2}× its length",
        t / 45.0
    );
}

async fn images100() {
    let dir = tempfile::tempdir().unwrap();
    let kinds =
        [("still8k.jpg", "7680x4320"), ("pano.jpg", "12000x3000"), ("tiny.png", "200x150"), ("shot.tga", "1500x1500")];
    let mut files: Vec<PathBuf> = Vec::new();
    for (name, size) in kinds {
        let first = dir.path().join(name);
        still(&first, size);
        let bytes = std::fs::read(&first).unwrap();
        for i in 0..25 {
            // Each copy differs in a trailing byte: a file of its own to the cache.
            let p = dir.path().join(format!("{i:02}-{name}"));
            let mut b = bytes.clone();
            b.extend_from_slice(format!("copy{i}").as_bytes());
            std::fs::write(&p, b).unwrap();
            files.push(p);
        }
        std::fs::remove_file(first).unwrap();
    }
    let c = Arc::new(conformer(&dir.path().join("cache"), 0));
    let before = status_kib("VmRSS:");
    let peak = Arc::new(AtomicU64::new(before));
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (peak, stop) = (Arc::clone(&peak), Arc::clone(&stop));
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                peak.fetch_max(status_kib("VmRSS:"), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(5));
            }
        })
    };
    let start = Instant::now();
    let n = futures::stream::iter(files)
        .map(|f| {
            let c = Arc::clone(&c);
            async move { conform_once(&c, &f, AssetType::Image).await.1 }
        })
        .buffer_unordered(16)
        .fold(0, |a, b| async move { a + b })
        .await;
    let wall = start.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    sampler.join().unwrap();
    println!(
        "  images100: {n} images (25 each: 7680×4320, 12000×3000 panorama, 200×150, 1500×1500 TGA) in {wall:.1} s; peak RSS {} MB (before: {} MB)",
        peak.load(Ordering::Relaxed) / 1024,
        before / 1024
    );
}

fn mixed_folder(dir: &Path) -> (usize, usize) {
    std::fs::create_dir_all(dir).unwrap();
    let p = |n: &str| dir.join(n);
    still(&p("still-8k.jpg"), "7680x4320");
    still(&p("pano-phone.jpg"), "12000x3000");
    still(&p("pano-tall.jpg"), "1000x4000");
    still(&p("icon.png"), "256x256");
    still(&p("render.tga"), "2048x1024");
    still(&p("scan.ppm"), "1200x1600");
    clip(&p("uhd.mp4"), "3840x2160", 30, 3, X264);
    clip(&p("take-45s.mp4"), "1280x720", 30, 45, X264);
    clip(&p("screen-15fps.mp4"), "1280x720", 15, 5, X264);
    clip(&p("slowmo-120fps.mp4"), "1280x720", 120, 3, X264);
    clip(&p("vertical-4k.mov"), "2160x3840", 30, 3, X264);
    clip(
        &p("hevc.mp4"),
        "1280x720",
        30,
        4,
        &["-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error", "-c:a", "aac"],
    );
    clip(
        &p("clip.webm"),
        "1280x720",
        30,
        4,
        &["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-c:a", "libopus"],
    );
    clip(&p("prores.mov"), "1920x1080", 25, 3, &["-c:v", "prores_ks", "-profile:v", "0", "-c:a", "pcm_s16le"]);
    clip(&p("tiny-video.mp4"), "320x240", 30, 4, X264);
    let noise = "nullsrc=s=1280x720:r=30,geq=random(1)*255:128:128";
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        noise,
        "-t",
        "6",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-qp",
        "32",
        p("heavy-80mb.mp4").to_str().unwrap(),
    ]);
    ffmpeg(&["-f", "lavfi", "-i", "sine=frequency=200", "-t", "60", p("voiceover-60s.wav").to_str().unwrap()]);
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=300",
        "-t",
        "40",
        "-b:a",
        "320k",
        p("music-40s.mp3").to_str().unwrap(),
    ]);
    ffmpeg(&["-f", "lavfi", "-i", "sine=frequency=400", "-t", "8", p("take.flac").to_str().unwrap()]);
    ffmpeg(&["-f", "lavfi", "-i", "sine=frequency=500", "-t", "8", "-c:a", "aac", p("memo.m4a").to_str().unwrap()]);
    ffmpeg(&["-f", "lavfi", "-i", "sine=frequency=600", "-t", "6", p("note.ogg").to_str().unwrap()]);
    // Not conformable: too short, and not media at all.
    clip(&p("blink-1s.mp4"), "1280x720", 30, 1, X264);
    ffmpeg(&["-f", "lavfi", "-i", "sine=frequency=700", "-t", "1", p("blip-1s.wav").to_str().unwrap()]);
    std::fs::write(p("corrupt.mp4"), b"\0\0\0\x18ftypmp42 not a video").unwrap();
    (21, 3)
}

fn stats(base: &str) -> serde_json::Value {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let http = seedance_assets::api::http_client_builder(&Default::default()).expect("tls").build().expect("http");
    rt.block_on(async { http.get(format!("{base}/_stats")).send().await.unwrap().json().await.unwrap() })
}

fn mixed() {
    let dir = tempfile::tempdir().unwrap();
    let media = dir.path().join("refs");
    let (conformable, refused) = mixed_folder(&media);
    let sim = support::start_sim(&["--min-delay-ms", "200", "--max-delay-ms", "800", "--fail-rate", "0"]);
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[api]\nbase_url = \"{b}\"\n[polling]\nfirst_secs = 0.3\n[storage]\nendpoint = \"{b}\"\nbucket = \"sim-bucket\"\nprefix = \"refs\"\npath_style = true\n",
            b = sim.base
        ),
    )
    .unwrap();
    let data = dir.path().join("data");
    let run = || {
        let start = Instant::now();
        let out = Command::new(env!("CARGO_BIN_EXE_seedance-assets"))
            .args(["--config", config.to_str().unwrap(), "--data-dir", data.to_str().unwrap()])
            .args(["import", media.to_str().unwrap(), "--group", &sim.group, "--conform", "--wait"])
            .env("SEEDANCE_API_KEY", "bench-key")
            .env("AWS_ACCESS_KEY_ID", "sim-access-key")
            .env("AWS_SECRET_ACCESS_KEY", "sim-secret-key")
            .output()
            .unwrap();
        (start.elapsed().as_secs_f64(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let (first, log) = run();
    let jobs = seedance_assets::store::read_jobs(&data.join("jobs.db")).unwrap();
    let originals = |pred: &dyn Fn(&seedance_assets::engine::Job) -> bool| {
        let mut seen: Vec<String> = jobs.iter().filter(|j| pred(j)).map(|j| j.spec.url.clone()).collect();
        seen.sort();
        seen.dedup();
        seen.len()
    };
    let active = originals(&|j| j.state == JobState::Active);
    let failed = jobs.iter().filter(|j| j.state == JobState::Failed).count();
    let created = stats(&sim.base)["create_asset_requests"].as_u64().unwrap();
    let refused_lines = log.lines().filter(|l| l.contains(": refused:")).count();
    let (second, log2) = run();
    let again = stats(&sim.base)["create_asset_requests"].as_u64().unwrap() - created;
    println!(
        "  mixed: {} files ({conformable} that can pass, conformed or as they are; {refused} that cannot): {active}/{conformable} Active ({:.0}%) as {} assets, {failed} paid creations failed, {refused_lines} refused before paying; {first:.1} s",
        conformable + refused,
        100.0 * active as f64 / conformable as f64,
        jobs.len()
    );
    println!(
        "  mixed, second run: {again} creations; {second:.1} s; {}",
        log2.lines().rev().find(|l| l.starts_with("queued")).unwrap_or("?")
    );
    if active < conformable || failed > 0 {
        eprintln!("{log}");
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let want = |s: &str| args.is_empty() || args.iter().any(|a| a == s);
    println!("conform benchmarks");
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    if want("jpeg24") {
        rt.block_on(jpeg24());
    }
    if want("clip45") {
        rt.block_on(clip45());
    }
    if want("images100") {
        rt.block_on(images100());
    }
    if want("mixed") {
        mixed();
    }
}
