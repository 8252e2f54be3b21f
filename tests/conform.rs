//! Conform before paying, end to end: real files made here with ffmpeg
//! (8K-wide panoramas, tiny stills, TGA, 4K-ish, 15 fps, HEVC, WebM, long
//! clips and voice-overs, FLAC, a 1 s clip, a file that does not decode) are
//! imported by the real binary with `--conform` through the simulator, whose
//! bucket check downloads every created URL and fails what breaks a limit.
//! Needs ffmpeg and ffprobe on PATH (`scripts/test.sh` installs them).

mod clienv;
mod common;
mod https;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use clienv::{Env, text};
use seedance_assets::engine::{Job, JobState};
use seedance_assets::sim::Sim;
use seedance_assets::store::read_jobs;

/// Runs ffmpeg with `args` (quiet, overwriting), failing the test with its
/// words if it fails or is missing.
fn ffmpeg(args: &[&str]) {
    let out =
        Command::new("ffmpeg").args(["-nostdin", "-loglevel", "error", "-y"]).args(args).output().expect(
            "ffmpeg is needed for the conform tests: install it (apt-get install ffmpeg; scripts/test.sh does)",
        );
    assert!(out.status.success(), "ffmpeg {args:?}: {}", text(&out.stderr));
}

/// A clip of `size` at `rate` fps for `secs` in `codec` (with a tone when `audio`).
fn clip(path: &Path, size: &str, rate: u32, secs: f64, codec: &[&str], audio: bool) {
    let src = format!("testsrc2=size={size}:rate={rate}");
    let t = secs.to_string();
    let p = path.to_str().unwrap();
    let mut args = vec!["-f", "lavfi", "-i", &src];
    if audio {
        args.extend(["-f", "lavfi", "-i", "sine=frequency=440"]);
    }
    args.extend(["-t", &t]);
    args.extend(codec);
    if audio {
        args.extend(["-c:a", "aac", "-shortest"]);
    }
    args.push(p);
    ffmpeg(&args);
}

fn still(path: &Path, size: &str) {
    ffmpeg(&["-f", "lavfi", "-i", &format!("testsrc2=size={size}:rate=1"), "-frames:v", "1", path.to_str().unwrap()]);
}

fn tone(path: &Path, secs: f64) {
    ffmpeg(&["-f", "lavfi", "-i", "sine=frequency=300", "-t", &secs.to_string(), path.to_str().unwrap()]);
}

const X264: &[&str] = &["-c:v", "libx264", "-preset", "ultrafast"];

/// The mixed folder: what each file is, and how many assets it should
/// become (0: refused before paying).
fn violations(dir: &Path) -> Vec<(&'static str, usize)> {
    std::fs::create_dir_all(dir).unwrap();
    still(&dir.join("pano.jpg"), "3000x1000");
    still(&dir.join("tiny.png"), "200x150");
    still(&dir.join("shot.tga"), "400x400");
    still(&dir.join("good.png"), "640x480");
    clip(&dir.join("big.mp4"), "2560x1440", 24, 2.2, X264, false);
    clip(&dir.join("long.mp4"), "854x480", 24, 31.0, X264, true);
    clip(&dir.join("slow.mov"), "854x480", 15, 3.0, X264, false);
    clip(
        &dir.join("hevc.mp4"),
        "854x480",
        25,
        2.5,
        &["-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error"],
        false,
    );
    clip(
        &dir.join("screen.webm"),
        "640x360",
        30,
        2.5,
        &["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8"],
        false,
    );
    clip(&dir.join("short.mp4"), "854x480", 30, 1.0, X264, false);
    tone(&dir.join("voice.wav"), 35.0);
    tone(&dir.join("song.flac"), 4.0);
    std::fs::write(dir.join("broken.mp4"), b"\0\0\0\x18ftypmp42 this is not a video at all").unwrap();
    vec![
        ("pano", 1),
        ("tiny", 1),
        ("shot", 1),
        ("good", 1),
        ("big", 1),
        ("long", 3),
        ("slow", 1),
        ("hevc", 1),
        ("screen", 1),
        ("short", 0),
        ("voice", 3),
        ("song", 1),
        ("broken", 0),
    ]
}

/// An environment whose bucket is the simulator's own, preflight on.
fn env(sim: &Sim, extra: &str) -> Env {
    Env::with_sim_bucket(sim, extra)
}

async fn output(mut c: Command) -> Output {
    tokio::task::spawn_blocking(move || c.output().unwrap()).await.unwrap()
}

fn jobs(env: &Env) -> Vec<Job> {
    read_jobs(&env.data.join("jobs.db")).unwrap()
}

/// The line of `stderr` about `file` being conformed, if any.
fn named_after<'a>(stderr: &'a str, file: &str) -> Option<&'a str> {
    stderr.lines().find(|l| l.contains(&format!("{file}: conformed")))
}

fn by_name(jobs: &[Job]) -> HashMap<String, &Job> {
    jobs.iter().map(|j| (j.spec.name.clone(), j)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_folder_of_violations_becomes_assets_the_server_accepts_and_a_rerun_creates_nothing() {
    let sim = Sim::start_local(common::quick_sim_config()).await.unwrap();
    let group = sim.state().add_group("conform");
    let env = env(&sim, "");
    let media = env.dir.path().join("refs");
    let expected = violations(&media);
    let dir = media.to_str().unwrap();

    // Without --conform, preflight refuses them, nothing is paid for them,
    // and the user is told which conforming could fix.
    let out = output(env.command(["import", dir, "--group", &group])).await;
    let stderr = text(&out.stderr);
    assert!(stderr.contains("tiny.png: refused: 200×150: width 200 px is below 300 px"), "{stderr}");
    assert!(
        stderr.contains("shot.tga: `.tga` is not an accepted format; conforming converts it (tga to jpeg)"),
        "{stderr}"
    );
    assert!(stderr.contains("9 refused lines can be conformed: run again with --conform"), "{stderr}");
    assert_eq!(sim.stats().create_asset_requests, 2, "good.png and hevc.mp4 pass as they are: {stderr}");

    let out = output(env.command(["import", dir, "--group", &group, "--conform", "--wait", "--json"])).await;
    let stderr = text(&out.stderr);
    let all = jobs(&env);
    let named = by_name(&all);
    for (stem, parts) in &expected {
        let mine: Vec<&Job> = all.iter().filter(|j| j.spec.name.split("-part").next() == Some(*stem)).collect();
        assert_eq!(mine.len(), *parts, "{stem}: {stderr}");
    }
    assert!(
        all.iter().all(|j| j.state == JobState::Active),
        "every conformed asset passes the server's checks: {:#?}",
        all.iter().map(|j| (&j.spec.name, j.state, &j.error)).collect::<Vec<_>>()
    );
    let stats = sim.stats();
    assert_eq!(stats.duplicate_creations, 0);
    assert_eq!(stats.create_asset_requests as usize, all.len(), "good.png was created once, the first time");
    // Refused before paying, each with its reason.
    assert!(stderr.contains("short.mp4: refused: duration 1 s is below 2 s\n"), "nothing lengthens a clip: {stderr}");
    assert!(stderr.contains("broken.mp4: refused: invalid mp4 file: no moov box\n"), "{stderr}");
    // What was done is said and recorded.
    assert!(
        stderr.contains("pano.jpg: conformed (1 file): padded 3000×1000 to 3000×1207 (aspect 3 is outside 0.4–2.5)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("tiny.png: conformed (1 file): upscaled 200×150 to 400×300; written as jpeg")
            && stderr.contains("tiny.png: upscaling adds no detail"),
        "{stderr}"
    );
    assert!(stderr.contains("long.mp4: conformed (part 1 of 3): split 31.0 s into 3 parts of 10.3 s"), "{stderr}");
    assert!(
        named_after(&stderr, "hevc.mp4").is_none(),
        "a file that passes goes as it is, whatever its codec: {stderr}"
    );
    assert!(stderr.contains("slow.mov: conformed (1 file): frame rate 15 → 24 fps"), "{stderr}");
    assert!(named["good"].spec.conform.is_none(), "a file that passes is sent as it is");
    assert!(named["hevc"].spec.conform.is_none(), "so is one in a codec other than H.264");
    let long1 = named["long-part1"].spec.conform.as_ref().expect("recorded");
    assert!(long1.original.ends_with("long.mp4") && long1.part == (1, 3), "{long1:?}");
    assert!(long1.original_media.starts_with("mp4/mov 854×480, 31.0 s, 24 fps (h264+aac)"), "{long1:?}");
    for name in ["long-part1", "long-part2", "long-part3", "voice-part1", "voice-part2", "voice-part3"] {
        let d = named[name].spec.media.as_ref().and_then(|m| m.duration_secs).unwrap();
        assert!((2.0..=15.0).contains(&d), "{name}: {d} s");
    }
    let big = named["big"].spec.media.as_ref().unwrap();
    assert!(big.width.unwrap() * big.height.unwrap() <= 2_086_876, "{big:?}");
    assert_eq!(named["slow"].spec.media.as_ref().unwrap().fps, Some(24.0));
    assert_eq!(named["song"].spec.media.as_ref().unwrap().format.to_string(), "mp3");
    // status --json shows the original and what was done.
    let status = output(env.command(["status", "--json"])).await;
    let json: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    let row = json.as_array().unwrap().iter().find(|r| r["name"] == "long-part2").unwrap().clone();
    assert_eq!(row["part"], "2/3", "{row}");
    assert!(row["conform_recipe"].as_str().unwrap().contains("split 31.0 s"), "{row}");
    assert!(row["conformed_from"].as_str().unwrap().ends_with("long.mp4"), "{row}");
    assert!(row["original_media"].as_str().unwrap().starts_with("mp4/mov 854×480"), "{row}");

    // A second run finds every output in the cache: nothing is uploaded or created.
    let puts = sim.bucket().stats().puts;
    let creations = sim.stats().create_asset_requests;
    let out = output(env.command(["import", dir, "--group", &group, "--conform"])).await;
    let stderr = text(&out.stderr);
    assert!(stderr.contains(&format!("queued 0 · existing {}", all.len())), "{stderr}");
    assert!(stderr.contains("(found in the conform cache)"), "{stderr}");
    assert_eq!(sim.stats().create_asset_requests, creations);
    assert_eq!(sim.bucket().stats().puts, puts);
    // Nothing half-made is left in the cache.
    let leftovers: Vec<PathBuf> = std::fs::read_dir(env.data.join("conform"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crop_and_trim_are_options_and_a_preset_can_conform() {
    let sim = Sim::start_local(common::quick_sim_config()).await.unwrap();
    let group = sim.state().add_group("conform");
    let preset = format!("[[presets]]\nname = \"plates\"\ngroup_id = \"{group}\"\nconform = true\n");
    let env = env(&sim, &format!("[conform]\naspect = \"crop\"\n{preset}"));
    let media = env.dir.path().join("refs");
    std::fs::create_dir_all(&media).unwrap();
    still(&media.join("pano.jpg"), "3000x1000");
    clip(&media.join("long.mp4"), "854x480", 24, 20.0, X264, false);
    let dir = media.to_str().unwrap();
    let out = output(env.command(["import", dir, "--preset", "plates", "--too-long", "trim", "--wait"])).await;
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("pano.jpg: conformed (1 file): cropped 3000×1000 to 2487×1000"), "{stderr}");
    assert!(stderr.contains("long.mp4: conformed (1 file): trimmed 20 s to its first 14.75 s"), "{stderr}");
    let all = jobs(&env);
    let named = by_name(&all);
    assert_eq!(all.len(), 2);
    let d = named["long"].spec.media.as_ref().unwrap().duration_secs.unwrap();
    assert!((14.0..=15.0).contains(&d), "{d}");
    assert_eq!(named["pano"].spec.media.as_ref().unwrap().width, Some(2487));
    // Another recipe for the same originals is not another purchase.
    let out = output(env.command(["import", dir, "--preset", "plates", "--too-long", "trim", "--aspect", "pad"])).await;
    assert!(text(&out.stderr).contains("queued 0 · existing 2"), "{}", text(&out.stderr));
    // --no-conform wins over the preset.
    let out = output(env.command(["import", dir, "--preset", "plates", "--no-conform"])).await;
    assert!(text(&out.stderr).contains("queued 0"), "{}", text(&out.stderr));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_ffmpeg_video_is_refused_saying_what_it_would_do_and_images_still_conform() {
    let sim = Sim::start_local(common::quick_sim_config()).await.unwrap();
    let group = sim.state().add_group("conform");
    let env = env(&sim, "[conform]\nffmpeg = \"/nonexistent/ffmpeg\"\n");
    let media = env.dir.path().join("refs");
    std::fs::create_dir_all(&media).unwrap();
    still(&media.join("tiny.png"), "200x150");
    clip(&media.join("slow.mov"), "854x480", 15, 3.0, X264, false);
    let out = output(env.command(["import", media.to_str().unwrap(), "--group", &group, "--conform"])).await;
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("warning: ffmpeg was not found (`/nonexistent/ffmpeg`):"),
        "said once at the start: {stderr}"
    );
    assert!(
        stderr.contains("slow.mov: refused: frame rate 15 fps is below 24 fps; ffmpeg was not found")
            && stderr.contains("it would have measured this video"),
        "{stderr}"
    );
    assert!(stderr.contains("tiny.png: conformed"), "{stderr}");
    assert_eq!(sim.stats().create_asset_requests, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_url_is_downloaded_conformed_and_uploaded_to_the_bucket_which_it_needs() {
    let server = https::Server::start().await;
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("small.png");
    still(&png, "250x250");
    let url = server.add("/media/small.png", std::fs::read(&png).unwrap(), https::Behaviour::Honest);
    let sim = Sim::start_local(common::quick_sim_config()).await.unwrap();
    let group = sim.state().add_group("conform");
    let ca = format!("tls_ca_file = \"{}\"\n", server.ca_file.display());
    // The CA goes at the top of the config (before any table).
    let env = env(&sim, "");
    let config = std::fs::read_to_string(&env.config).unwrap();
    std::fs::write(&env.config, format!("{ca}{config}")).unwrap();
    let out = output(env.command(["import", &url, "--group", &group, "--conform", "--wait"])).await;
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("conformed (1 file): upscaled 250×250 to 300×300"), "{stderr}");
    let all = jobs(&env);
    assert_eq!(all.len(), 1);
    let job = &all[0];
    assert_eq!(job.state, JobState::Active);
    assert_eq!(job.spec.url, url, "the job still shows the URL it came from");
    assert!(job.spec.local.is_some(), "the conformed file went through the bucket");
    assert_eq!(sim.bucket().stats().puts, 1);

    // Without a bucket, a URL cannot be conformed, and the reason says why.
    let bare = Env::from_config(&format!("{ca}[api]\nbase_url = \"{}\"\n", sim.base_url()), sim.state().api_key());
    let out = output(bare.command(["import", &url, "--group", &group, "--conform"])).await;
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("conforming a URL means downloading it and uploading the result to your bucket"),
        "{stderr}"
    );
    assert_eq!(sim.stats().create_asset_requests, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_conform_leaves_nothing_in_the_cache_or_the_bucket() {
    let sim = Sim::start_local(common::quick_sim_config()).await.unwrap();
    let group = sim.state().add_group("conform");
    let env = env(&sim, "");
    let media = env.dir.path().join("refs");
    std::fs::create_dir_all(&media).unwrap();
    // Long enough that its conform is still running when interrupted.
    clip(&media.join("take.mkv"), "1920x1080", 30, 60.0, X264, false);
    let mut child = env.command(["import", media.to_str().unwrap(), "--group", &group, "--conform"]).spawn().unwrap();
    let cache = env.data.join("conform");
    let started = std::time::Instant::now();
    let temporary = |cache: &Path| {
        std::fs::read_dir(cache)
            .map(|d| d.flatten().any(|e| e.file_name().to_string_lossy().starts_with(".tmp-")))
            .unwrap_or(false)
    };
    while !temporary(&cache) {
        assert!(started.elapsed().as_secs() < 60, "the conform never started");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    std::thread::sleep(std::time::Duration::from_millis(500));
    // SAFETY: sending a signal to our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let status = child.wait().unwrap();
    assert_ne!(status.code(), Some(0));
    let left: Vec<_> = std::fs::read_dir(&cache).unwrap().flatten().map(|e| e.file_name()).collect();
    assert!(left.is_empty(), "no partial output: {left:?}");
    assert_eq!(sim.bucket().stats().puts, 0);
    assert_eq!(sim.stats().create_asset_requests, 0);
}
