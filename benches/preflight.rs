//! Preflight benchmarks (see BENCHMARKS.md):
//!
//! 1. 1,000 local images (PNG and JPEG, 300–6000 px, some with a 20 KB EXIF
//!    segment before the frame header) on a single-threaded runtime: wall
//!    time and bytes read per item.
//! 2. The same 1,000 images as URLs on an HTTPS server on loopback (test CA
//!    through `tls_ca_file`): wall time, bytes read per item, time to the
//!    first verdict, and verdicts per second against the 30/s creation
//!    rate, at the default probe rate limit and with it lifted.
//! 3. Creation not delayed: 300 URLs imported into the simulator at the
//!    default 30 creations/s, once submitted all at once without preflight
//!    and once through preflight with verdicts submitted as they arrive
//!    (as `import` does): time to the first and to the last CreateAsset.
//!
//! Run: `cargo bench --bench preflight`

#[path = "../tests/https/mod.rs"]
mod https;
#[path = "../tests/mediagen/mod.rs"]
mod mediagen;

mod support;
use support::client;

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use seedance_assets::api::{AssetType, TlsOptions};
use seedance_assets::config::{Limits, Polling, PreflightConfig, PreflightMode, TypeChoice, Unprobeable};
use seedance_assets::engine::{Command as EngineCommand, EngineOptions};
use seedance_assets::intake::{Checker, ImportDefaults, Intake, Policy, Source, send};
use seedance_assets::preflight::{Preflight, Target, Verdict};
use seedance_assets::sim::{Sim, SimConfig};

const N: usize = 1000;

fn images() -> Vec<(String, Vec<u8>)> {
    (0..N)
        .map(|i| {
            let w = 300 + (i as u32 * 37) % 5700;
            let h = (w as f64 / (0.5 + (i % 4) as f64 * 0.5)).clamp(300.0, 6000.0) as u32;
            if i % 2 == 0 {
                (format!("img{i}.png"), mediagen::png(w, h))
            } else {
                let exif = if i % 10 == 1 { 20_000 } else { 0 };
                (format!("img{i}.jpg"), mediagen::jpeg(w as u16, h as u16, exif))
            }
        })
        .collect()
}

struct Run {
    wall: Duration,
    first: Duration,
    bytes: u64,
    passed: usize,
    refused: usize,
    unchecked: usize,
}

async fn run(pf: &Arc<Preflight>, targets: Vec<Target>) -> Run {
    let items: Vec<_> = targets.into_iter().enumerate().map(|(i, t)| (i, t, AssetType::Image)).collect();
    let start = Instant::now();
    let mut first = None;
    let mut r = Run { wall: Duration::ZERO, first: Duration::ZERO, bytes: 0, passed: 0, refused: 0, unchecked: 0 };
    let mut stream = Box::pin(pf.check_stream(items));
    while let Some((_, c)) = stream.next().await {
        first.get_or_insert_with(|| start.elapsed());
        r.bytes += c.bytes_read;
        match c.verdict {
            Verdict::Passed(_) => r.passed += 1,
            Verdict::Refused { .. } => r.refused += 1,
            Verdict::NotChecked { .. } => r.unchecked += 1,
        }
    }
    r.wall = start.elapsed();
    r.first = first.unwrap_or_default();
    r
}

fn report(label: &str, r: &Run) {
    println!(
        "  {label:<34} wall {:>7.3} s  first verdict {:>6.1} ms  {:>7.0} items/s  bytes/item {:>6.0}  passed {} refused {} not checked {}",
        r.wall.as_secs_f64(),
        r.first.as_secs_f64() * 1000.0,
        N as f64 / r.wall.as_secs_f64(),
        r.bytes as f64 / N as f64,
        r.passed,
        r.refused,
        r.unchecked
    );
}

fn main() {
    let imgs = images();
    println!("preflight benchmarks ({N} images: PNG and JPEG, 300-6000 px)");

    // 1. Local files on one core.
    let dir = tempfile::tempdir().expect("temp dir");
    let paths: Vec<Target> = imgs
        .iter()
        .map(|(name, bytes)| {
            let p = dir.path().join(name);
            std::fs::write(&p, bytes).expect("write");
            Target::Local(p)
        })
        .collect();
    let one_core = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let pf = Arc::new(Preflight::new(&PreflightConfig::default(), &TlsOptions::default()).expect("preflight"));
    for k in 1..=3 {
        let r = one_core.block_on(run(&pf, paths.clone()));
        report(&format!("local files, one core #{k}"), &r);
    }

    // 2. URLs on a loopback HTTPS server.
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    rt.block_on(async {
        let server = https::Server::start().await;
        let urls: Vec<Target> = imgs
            .iter()
            .map(|(name, bytes)| {
                Target::parse(&server.add(&format!("/{name}"), bytes.clone(), https::Behaviour::Honest))
            })
            .collect();
        let tls = TlsOptions { ca_file: Some(server.ca_file.clone()) };
        let default = PreflightConfig::default();
        let lifted = PreflightConfig { requests_per_sec: 10_000, ..PreflightConfig::default() };
        for (label, cfg) in [
            (format!("URLs, default ({} req/s, {} at once)", default.requests_per_sec, default.concurrency), default),
            ("URLs, rate limit lifted".to_string(), lifted),
        ] {
            let pf = Arc::new(Preflight::new(&cfg, &tls).expect("preflight"));
            let before = server.requests.load(std::sync::atomic::Ordering::SeqCst);
            let r = run(&pf, urls.clone()).await;
            report(&label, &r);
            let reqs = server.requests.load(std::sync::atomic::Ordering::SeqCst) - before;
            println!("  {:<34} {:.2} requests per URL", "", reqs as f64 / N as f64);
        }
        // 3. A host that accepts connections and never answers: given up on
        // after the first timeouts, not one timeout per URL.
        let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = silent.local_addr().expect("addr").port();
        let accepted = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let held = tokio::spawn({
            let accepted = accepted.clone();
            async move {
                let mut open = Vec::new();
                while let Ok((sock, _)) = silent.accept().await {
                    accepted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    open.push(sock);
                }
            }
        });
        let dead: Vec<Target> = (0..N).map(|i| Target::parse(&format!("https://127.0.0.1:{port}/{i}.png"))).collect();
        let pf = Arc::new(Preflight::new(&PreflightConfig::default(), &tls).expect("preflight"));
        let r = run(&pf, dead).await;
        report("URLs on a silent host (10 s timeout)", &r);
        println!("  {:<34} {} connections accepted", "", accepted.load(std::sync::atomic::Ordering::SeqCst));
        held.abort();
        let urls: Vec<String> = imgs.iter().take(CREATED).map(|(name, _)| format!("{}/{name}", server.base)).collect();
        for checked in [false, true] {
            creation(&urls, checked.then_some(&tls)).await;
        }
    });
}

/// Items imported in the creation benchmark.
const CREATED: usize = 300;

/// Imports `urls` into a fresh simulator and engine at the default limits,
/// through preflight when `tls` is given; prints when the first and the
/// last CreateAsset arrived.
async fn creation(urls: &[String], tls: Option<&TlsOptions>) {
    let sim =
        Sim::start_local(SimConfig { min_delay_ms: 50, max_delay_ms: 100, ..SimConfig::default() }).await.expect("sim");
    let group = sim.state().add_group("bench");
    let client = client(&sim.base_url(), sim.state().api_key());
    let dir = tempfile::tempdir().expect("tempdir");
    let opts = EngineOptions {
        limits: Limits::default(),
        polling: Polling::default(),
        seed: Some(4),
        retry_503: false,
        storage: None,
        polling_file: None,
        reconcile: Default::default(),
    };
    let (engine, _updates, task) = seedance_assets::engine::start(
        seedance_assets::engine::Clients::single(client),
        opts,
        &seedance_assets::engine::EngineFiles::in_data_dir(dir.path()),
    )
    .expect("engine");
    let d = ImportDefaults {
        force_type: false,
        loopback_http: false,
        group_id: group,
        asset_type: TypeChoice::Infer,
        template: "{stem}".parse().expect("template"),
        date: "2026-11-24".into(),
    };
    let checker =
        tls.map(|tls| Arc::new(Checker::new(Preflight::new(&PreflightConfig::default(), tls).expect("preflight"))));
    let mode = if tls.is_some() { PreflightMode::Strict } else { PreflightMode::Off };
    let intake = Arc::new(Intake {
        defaults: d,
        policy: Policy { mode, unprobeable: Unprobeable::Hold, consent: false },
        checker,
        storage: Err(Arc::new(seedance_assets::setup::StorageSetupError::NotConfigured { config: "none".into() })),
        limits: PreflightConfig::default().limits(),
        recursive: false,
        profile: "default".into(),
        concurrency: PreflightConfig::default().concurrency,
        conform: None,
        progress: None,
    });
    let items = intake.read(vec![Source::inline("bench", urls.join("\n"))]).await;
    let start = Instant::now();
    let watcher = tokio::spawn({
        let state = sim.state().clone();
        async move {
            let mut first = None;
            loop {
                let n = state.stats().create_asset_requests as usize;
                if n > 0 {
                    first.get_or_insert_with(|| start.elapsed());
                }
                if n >= CREATED {
                    return (first.unwrap_or_default(), start.elapsed());
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    });
    // The path `import` takes: decided in batches as verdicts arrive, each
    // batch sent at once.
    let mut decided = intake.decide(futures::stream::iter(items)).ready_chunks(256);
    while let Some(batch) = decided.next().await {
        let mut items: Vec<_> = batch.into_iter().flat_map(|(_, items)| items).collect();
        assert!(send(&engine, &mut items, false).await, "the engine stopped");
    }
    let (first, last) = watcher.await.expect("watcher");
    engine.send(EngineCommand::Shutdown);
    let _ = task.await;
    let label = if tls.is_some() { "through preflight" } else { "without preflight" };
    println!(
        "  {CREATED} creations {label:<19} first CreateAsset {:>6.1} ms  last {:>6.2} s  (bound at 30/s: {:.2} s)",
        first.as_secs_f64() * 1000.0,
        last.as_secs_f64(),
        CREATED as f64 / 30.0
    );
}
