//! Storage benchmarks (see BENCHMARKS.md):
//!
//! 1. SHA-256 throughput on one core: in memory, and of a file in the page
//!    cache through `storage::hash_file`.
//! 2. 1,000 local files of 1 MiB uploaded to the simulator's bucket on
//!    loopback (the simulator in its own process), `max_uploading` = 4:
//!    wall time, throughput, and this process's peak RSS with uploads in
//!    flight.
//! 3. The same files uploaded again into a fresh bucket while each uploaded
//!    file is created at once (CreateAsset paced at 30/s, as the engine
//!    does; the simulator downloads every URL): wall time against the bound
//!    max(upload time alone, files / 30 per second).
//!
//! Run: `cargo bench --bench storage` (`STORAGE_BENCH_FILES=N` for another count).

mod support;

use support::{SimProcess, status_kib};

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures::StreamExt;
use seedance_assets::api::{AssetType, Client, ClientOptions, CreateAssetRequest};
use seedance_assets::config::{StorageConfig, StorageCredentials};
use seedance_assets::storage::{Storage, hash_file, sha256_hex};

const MIB: usize = 1 << 20;

/// Resets the kernel's peak-RSS mark (VmHWM); false where unsupported.
fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

fn hashing() {
    let buf: Vec<u8> = (0..64 * MIB).map(|i| (i * 31 % 251) as u8).collect();
    let passes = 8;
    let start = Instant::now();
    for _ in 0..passes {
        std::hint::black_box(sha256_hex(&buf));
    }
    let mem = (passes * buf.len()) as f64 / start.elapsed().as_secs_f64() / 1e6;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("big.bin");
    let mut data = Vec::with_capacity(256 * MIB);
    for _ in 0..4 {
        data.extend_from_slice(&buf);
    }
    std::fs::write(&path, &data).expect("write");
    drop(data);
    let _ = hash_file(&mut std::fs::File::open(&path).expect("open")); // warm the page cache
    let start = Instant::now();
    let (n, _) = hash_file(&mut std::fs::File::open(&path).expect("open")).expect("hash");
    let file = n as f64 / start.elapsed().as_secs_f64() / 1e6;
    println!(
        "  SHA-256, one core: {mem:.0} MB/s in memory (512 MiB); {file:.0} MB/s from a 256 MiB file in the page cache"
    );
}

fn start_sim() -> SimProcess {
    support::start_sim(&["--create-rate", "30", "--min-delay-ms", "1000", "--max-delay-ms", "2000"])
}

fn storage(base: &str) -> Storage {
    let cfg = StorageConfig {
        endpoint: base.into(),
        bucket: "sim-bucket".into(),
        prefix: "bench".into(),
        path_style: true,
        ..StorageConfig::default()
    };
    let creds = StorageCredentials {
        access_key_id: "sim-access-key".to_string().into(),
        secret_access_key: "sim-secret-key".to_string().into(),
        session_token: None,
    };
    let http = seedance_assets::api::http_client_builder(&Default::default()).expect("tls").build().expect("http");
    Storage::from_config(&cfg, &creds, http).expect("storage")
}

/// `n` distinct files of 1 MiB that start like a PNG.
fn write_files(dir: &Path, n: usize) -> Vec<PathBuf> {
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    (0..n)
        .map(|i| {
            let mut data = Vec::with_capacity(MIB);
            data.extend_from_slice(b"\x89PNG\r\n\x1a\n");
            while data.len() < MIB {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                data.extend_from_slice(&state.to_le_bytes());
            }
            data.truncate(MIB);
            let path = dir.join(format!("f{i:04}.png"));
            std::fs::write(&path, &data).expect("write");
            path
        })
        .collect()
}

/// Samples VmRSS every 10 ms until stopped; returns the peak in KiB.
/// Bytes this process has read through `read` calls so far (files and
/// sockets: `rchar` of `/proc/self/io`).
fn read_bytes() -> u64 {
    let io = std::fs::read_to_string("/proc/self/io").unwrap_or_default();
    io.lines().find_map(|l| l.strip_prefix("rchar:")).and_then(|v| v.trim().parse().ok()).unwrap_or(0)
}

fn sample_rss(stop: Arc<AtomicBool>, peak: Arc<AtomicU64>) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            peak.fetch_max(status_kib("VmRSS:"), Ordering::Relaxed);
            std::thread::sleep(Duration::from_millis(10));
        }
    })
}

async fn upload_all(storage: &Storage, files: &[PathBuf], concurrency: usize) -> Vec<(String, String)> {
    futures::stream::iter(files)
        .map(|p| async move {
            let file = storage.prepare(p).await.expect("prepare");
            let up = storage.upload(&file, |_| {}).await.expect("upload");
            (up.url.to_string(), p.file_stem().unwrap().to_string_lossy().into_owned())
        })
        .buffer_unordered(concurrency)
        .collect()
        .await
}

async fn uploads(n: usize) {
    let dir = tempfile::tempdir().expect("tempdir");
    let files = write_files(dir.path(), n);
    let total_mb = (n * MIB) as f64 / 1e6;

    // Upload only.
    let sim = start_sim();
    let st = storage(&sim.base);
    let before = status_kib("VmRSS:");
    let hwm_reset = reset_peak();
    let (stop, peak) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicU64::new(0)));
    let sampler = sample_rss(stop.clone(), peak.clone());
    let read_before = read_bytes();
    let start = Instant::now();
    let done = upload_all(&st, &files, 4).await;
    let upload_wall = start.elapsed();
    let reads = (read_bytes() - read_before) as f64 / (n * MIB) as f64;
    stop.store(true, Ordering::Relaxed);
    sampler.join().expect("sampler");
    let hwm = status_kib("VmHWM:");
    assert_eq!(done.len(), n);
    let peak_kib = if hwm_reset { hwm.max(peak.load(Ordering::Relaxed)) } else { peak.load(Ordering::Relaxed) };
    println!(
        "  {n} files of 1 MiB, 4 uploads in flight: {:.2} s, {:.0} MB/s; peak RSS {:.1} MB (before: {:.1} MB); bytes read per file byte {reads:.2}",
        upload_wall.as_secs_f64(),
        total_mb / upload_wall.as_secs_f64(),
        peak_kib as f64 / 1024.0,
        before as f64 / 1024.0,
    );
    drop(sim);

    // The same without holding hashed files: each is read again at upload.
    let sim = start_sim();
    let st = storage(&sim.base).holding(0);
    let read_before = read_bytes();
    let start = Instant::now();
    upload_all(&st, &files, 4).await;
    let wall = start.elapsed();
    let reads = (read_bytes() - read_before) as f64 / (n * MIB) as f64;
    println!(
        "  the same, nothing held (read again at upload): {:.2} s, {:.0} MB/s; bytes read per file byte {reads:.2}",
        wall.as_secs_f64(),
        total_mb / wall.as_secs_f64(),
    );
    drop(sim);

    // Upload and create, into a fresh bucket.
    let sim = start_sim();
    let st = storage(&sim.base);
    let client = Client::new(ClientOptions {
        base_url: sim.base.clone(),
        api_key: "bench-key".to_string().into(),
        connect_timeout: Duration::from_secs(5),
        request_timeout: Duration::from_secs(60),
        tls: Default::default(),
    })
    .expect("client");
    let start = Instant::now();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(String, String)>();
    let creator = {
        let group = sim.group.clone();
        tokio::spawn(async move {
            let mut pace = tokio::time::interval(Duration::from_secs_f64(1.0 / 30.0));
            let mut created = Vec::new();
            while let Some((url, name)) = rx.recv().await {
                pace.tick().await;
                let (client, group) = (client.clone(), group.clone());
                created.push(tokio::spawn(async move {
                    let req = CreateAssetRequest { group_id: group, url, asset_type: AssetType::Image, name };
                    client.create_asset(&req).await.is_ok()
                }));
            }
            let mut ok = 0;
            for c in created {
                ok += usize::from(c.await.unwrap_or(false));
            }
            ok
        })
    };
    futures::stream::iter(&files)
        .map(|p| {
            let (st, tx) = (&st, tx.clone());
            async move {
                let file = st.prepare(p).await.expect("prepare");
                let up = st.upload(&file, |_| {}).await.expect("upload");
                let _ = tx.send((up.url.to_string(), p.file_stem().unwrap().to_string_lossy().into_owned()));
            }
        })
        .buffer_unordered(4)
        .collect::<Vec<()>>()
        .await;
    drop(tx);
    let created = creator.await.expect("creator");
    let wall = start.elapsed().as_secs_f64();
    let bound = upload_wall.as_secs_f64().max(n as f64 / 30.0);
    println!(
        "  upload + create {n} ({created} created, 30/s): {wall:.2} s; bound {bound:.2} s (max of upload alone and {n}/30 s): {:.2}× the bound",
        wall / bound
    );
}

fn main() {
    let n: usize = std::env::var("STORAGE_BENCH_FILES").ok().and_then(|v| v.parse().ok()).unwrap_or(1000);
    println!("storage benchmarks");
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    rt.block_on(uploads(n));
    hashing();
}
