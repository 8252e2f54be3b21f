//! Watch folders, measured with the release binary (`import --watch`)
//! against the simulator binary and its bucket:
//! - `idle`: 100,000 files already present and already imported (in the
//!   ledger): the watch's resident memory and the CPU it spends idle over
//!   30 s (targets: RSS ≤ 40 MB, CPU ≈ 0).
//! - `stream`: 1,000 files (`WATCH_FILES`) arriving over 100 s
//!   (`WATCH_SECS`) in the ways render
//!   nodes and sync clients write them (slow chunked writes, rename into
//!   place, bulk copies, truncate-and-rewrite): files missed, partial
//!   contents paid for, duplicate creations (targets 0, 0, 0), and the time
//!   from each file's completion to its job (target ≤ settle + 2 s).
//!
//! `cargo bench --bench watch [-- idle|stream]`

mod support;

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use seedance_assets::storage::sha256_hex;
use seedance_assets::store::read_jobs;

const SETTLE: &str = "2";

fn config(dir: &Path, base: &str) -> std::path::PathBuf {
    let path = dir.join("config.toml");
    std::fs::write(
        &path,
        format!(
            "[api]\nbase_url = \"{base}\"\n[storage]\nendpoint = \"{base}\"\nbucket = \"sim-bucket\"\nprefix = \"refs\"\npath_style = true\n"
        ),
    )
    .unwrap();
    path
}

fn watch(dir: &Path, media: &Path, base: &str, group: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_seedance-assets"))
        .arg("--config")
        .arg(config(dir, base))
        .arg("--data-dir")
        .arg(dir.join("data"))
        .args(["import", "--watch", media.to_str().unwrap(), "--recursive", "--group", group, "--settle", SETTLE])
        .env("SEEDANCE_API_KEY", "bench-key")
        .env("AWS_ACCESS_KEY_ID", "sim-access-key")
        .env("AWS_SECRET_ACCESS_KEY", "sim-secret-key")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary")
}

/// `(resident KiB, CPU ticks)` of a process.
fn usage(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let rss = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0);
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat.rsplit_once(')').map(|(_, r)| r.split_whitespace().collect()).unwrap_or_default();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    (rss, ticks(11) + ticks(12))
}

fn stop(mut child: Child) {
    // SAFETY: a signal to our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let _ = child.wait();
}

fn idle() {
    let sim = support::start_sim(&[]);
    let dir = tempfile::tempdir().unwrap();
    let media = dir.path().join("media");
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let mut ledger = std::io::BufWriter::new(std::fs::File::create(data.join("watched.jsonl")).unwrap());
    for i in 0..100_000u32 {
        let sub = media.join(format!("{:03}", i / 1000));
        if i % 1000 == 0 {
            std::fs::create_dir_all(&sub).unwrap();
        }
        let path = sub.join(format!("{i:06}.png"));
        std::fs::write(&path, b"x").unwrap();
        let path = std::fs::canonicalize(&path).unwrap();
        let meta = std::fs::metadata(&path).unwrap();
        let modified = meta.modified().unwrap().duration_since(SystemTime::UNIX_EPOCH).unwrap().as_nanos();
        // The ledger's line: group, path, size, time.
        let line = serde_json::json!({"g": sim.group, "p": path, "size": meta.len(), "modified": modified});
        writeln!(ledger, "{line}").unwrap();
    }
    drop(ledger);
    let child = watch(dir.path(), &media, &sim.base, &sim.group);
    let pid = child.id();
    // Start-up: the scan of 100,000 files.
    std::thread::sleep(Duration::from_secs(10));
    let (rss_start, cpu_start) = usage(pid);
    std::thread::sleep(Duration::from_secs(30));
    let (rss, cpu) = usage(pid);
    let hz = 100.0;
    println!("idle: 100,000 files present and in the ledger, inotify on 101 folders");
    println!(
        "  RSS {:.1} MB after start-up, {:.1} MB after 30 s idle; CPU idle {:.2} s over 30 s; start-up (incl. the scan) {:.2} s of CPU",
        rss_start as f64 / 1024.0,
        rss as f64 / 1024.0,
        (cpu - cpu_start) as f64 / hz,
        cpu_start as f64 / hz
    );
    let jobs = read_jobs(&data.join("jobs.db")).map(|j| j.len()).unwrap_or(0);
    println!("  jobs created: {jobs} (none expected: every file was in the ledger)");
    stop(child);
}

fn image(seed: u32) -> Vec<u8> {
    let mut img = image::RgbImage::new(320, 320);
    for (x, y, p) in img.enumerate_pixels_mut() {
        *p = image::Rgb([(x ^ seed) as u8, y.wrapping_mul(seed) as u8, seed as u8]);
    }
    // Each seed its own content (the pattern above repeats every 256).
    img.put_pixel(0, 0, image::Rgb([seed as u8, (seed >> 8) as u8, (seed >> 16) as u8]));
    let mut out = Vec::new();
    image::DynamicImage::ImageRgb8(img).write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png).unwrap();
    out
}

fn stream() {
    let sim = support::start_sim(&["--min-delay-ms", "200", "--max-delay-ms", "800"]);
    let dir = tempfile::tempdir().unwrap();
    let media = dir.path().join("media");
    std::fs::create_dir_all(&media).unwrap();
    let child = watch(dir.path(), &media, &sim.base, &sim.group);
    std::thread::sleep(Duration::from_secs(2));
    // Content → when its file was complete.
    let mut done: HashMap<String, SystemTime> = HashMap::new();
    let started = Instant::now();
    let n: u32 = std::env::var("WATCH_FILES").ok().and_then(|v| v.parse().ok()).unwrap_or(1000);
    // Spread over WATCH_SECS seconds (default: 10 a second).
    let secs: f64 = std::env::var("WATCH_SECS").ok().and_then(|v| v.parse().ok()).unwrap_or(f64::from(n) / 10.0);
    let every = Duration::from_secs_f64(secs / f64::from(n));
    for i in 0..n {
        let bytes = image(i + 1);
        let path = media.join(format!("{:02}/f{i:04}.png", i % 10));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        match i % 4 {
            // Slow chunked writes, 4 chunks 150 ms apart.
            0 => {
                let mut f = std::fs::File::create(&path).unwrap();
                for part in bytes.chunks(bytes.len().div_ceil(4)) {
                    f.write_all(part).unwrap();
                    f.flush().unwrap();
                    std::thread::sleep(Duration::from_millis(150));
                }
            }
            // Written under a temporary name, renamed into place.
            1 => {
                let tmp = path.with_extension("png.part");
                std::fs::write(&tmp, &bytes).unwrap();
                std::fs::rename(&tmp, &path).unwrap();
            }
            // Truncated and rewritten: a first take, then the final one.
            2 => {
                std::fs::write(&path, image(100_000 + i)).unwrap();
                std::thread::sleep(Duration::from_millis(100));
                std::fs::write(&path, &bytes).unwrap();
            }
            // A bulk copy: straight in.
            _ => std::fs::write(&path, &bytes).unwrap(),
        }
        done.insert(sha256_hex(&bytes), SystemTime::now());
        // Evenly over the run.
        let due = every * (i + 1);
        if let Some(wait) = due.checked_sub(started.elapsed()) {
            std::thread::sleep(wait);
        }
    }
    // Let the last ones settle and be created.
    let data = dir.path().join("data");
    let deadline = Instant::now() + Duration::from_secs(120);
    let jobs = loop {
        let jobs = read_jobs(&data.join("jobs.db")).unwrap_or_default();
        let created =
            jobs.iter().filter(|j| j.spec.local.as_ref().is_some_and(|l| done.contains_key(&l.sha256))).count();
        if created >= n as usize || Instant::now() > deadline {
            break jobs;
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    stop(child);
    let mut latencies: Vec<f64> = Vec::new();
    let mut partial = 0;
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for j in &jobs {
        let Some(l) = &j.spec.local else { continue };
        *seen.entry(l.sha256.as_str()).or_default() += 1;
        match done.get(&l.sha256) {
            Some(at) => {
                let submitted = SystemTime::UNIX_EPOCH + Duration::from_nanos(j.submitted_at.as_nanosecond() as u64);
                latencies.push(submitted.duration_since(*at).unwrap_or_default().as_secs_f64());
            }
            None => partial += 1,
        }
    }
    latencies.sort_by(f64::total_cmp);
    let q = |p: f64| {
        latencies
            .get(((p * latencies.len() as f64) as usize).min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0.0)
    };
    let missed = done.keys().filter(|k| !seen.contains_key(k.as_str())).count();
    let stats = sim_stats(&sim.base);
    println!(
        "stream: {n} files over {:.0} s (chunked, renamed into place, truncated and rewritten, bulk), settle {SETTLE} s",
        started.elapsed().as_secs_f64()
    );
    println!(
        "  missed {missed}; partial or first-take contents created {partial}; contents created twice {}; simulator duplicate creations {}",
        seen.values().filter(|n| **n > 1).count(),
        stats["duplicate_creations"]
    );
    let bound = SETTLE.parse::<f64>().unwrap_or(0.0) + 2.0;
    println!(
        "  completion → job: p50 {:.2} s, p99 {:.2} s, max {:.2} s; over settle + 2 s: {} of {}",
        q(0.5),
        q(0.99),
        latencies.last().copied().unwrap_or(0.0),
        latencies.iter().filter(|l| **l > bound).count(),
        latencies.len()
    );
}

/// The simulator's counters (`GET /_stats`), over a plain socket.
fn sim_stats(base: &str) -> serde_json::Value {
    use std::io::Read;
    let addr = base.trim_start_matches("http://").trim_end_matches('/');
    let Ok(mut s) = std::net::TcpStream::connect(addr) else { return serde_json::Value::Null };
    let _ = write!(s, "GET /_stats HTTP/1.0\r\nHost: {addr}\r\n\r\n");
    let mut text = String::new();
    let _ = s.read_to_string(&mut text);
    text.split_once("\r\n\r\n").and_then(|(_, body)| serde_json::from_str(body).ok()).unwrap_or_default()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let wants = |s: &str| args.is_empty() || args.iter().any(|a| a == s);
    if wants("idle") {
        idle();
    }
    if wants("stream") {
        stream();
    }
}
