//! The storage client against the simulator's bucket, which verifies every
//! signature: uploads, deduplication, refusals, and what the simulator's
//! CreateAsset does with the presigned URLs.

mod common;
mod storage_support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use rusty_s3::S3Action;
use seedance_assets::api::{AssetStatus, AssetType, CreateAssetRequest};
use seedance_assets::sim::{Sim, SimConfig};
use seedance_assets::storage::{ErrorClass, Progress, Storage, StorageError, sha256_hex};
use storage_support::*;

async fn sim() -> Sim {
    Sim::start_local(common::quick_sim_config()).await.expect("simulator starts")
}

/// A simulator that processes in 10–50 ms.
async fn fast_sim() -> Sim {
    Sim::start_local(SimConfig { min_delay_ms: 10, max_delay_ms: 50, ..common::quick_sim_config() })
        .await
        .expect("simulator starts")
}

#[tokio::test]
async fn upload_then_dedup_then_download_matches() {
    let sim = sim().await;
    let storage = sim_storage(&sim);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cat.png");
    let bytes = png(320, 320, 1);
    std::fs::write(&path, &bytes).unwrap();

    let file = storage.prepare(&path).await.unwrap();
    assert_eq!(file.sha256, sha256_hex(&bytes));
    assert_eq!(file.key, format!("refs/sha256-{}.png", file.sha256));
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    let up = storage.upload(&file, move |p: Progress| log.lock().unwrap().push(p)).await.unwrap();
    assert!(!up.already_present);
    let last = *seen.lock().unwrap().last().expect("progress reported");
    assert_eq!(last, Progress { done: bytes.len() as u64, total: bytes.len() as u64 });
    assert_eq!(sim.bucket().object(&file.key).as_deref(), Some(&bytes[..]));

    let again = storage.upload(&file, |_| {}).await.unwrap();
    assert!(again.already_present);
    let stats = sim.bucket().stats();
    assert_eq!((stats.puts, stats.heads, stats.refused), (1, 2, 0));

    // The presigned GET URL serves the bytes; an expiry of 12 h is in it.
    assert_eq!(up.url.scheme(), "http");
    assert!(up.url.query().unwrap().contains("X-Amz-Expires=43200"), "{}", up.url);
    let got = reqwest::get(up.url.clone()).await.unwrap();
    assert_eq!(got.status(), 200);
    assert_eq!(got.headers()["content-type"], "image/png");
    assert_eq!(got.bytes().await.unwrap(), bytes);
}

#[tokio::test]
async fn tampered_and_expired_urls_are_refused() {
    let sim = sim().await;
    let storage = sim_storage(&sim);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.jpg");
    std::fs::write(&path, jpeg(64, 64, 2)).unwrap();
    let file = storage.prepare(&path).await.unwrap();
    let url = storage.upload(&file, |_| {}).await.unwrap().url;

    let status_and_code = |u: String| async move {
        let resp = reqwest::get(u).await.unwrap();
        let status = resp.status().as_u16();
        (status, resp.text().await.unwrap())
    };
    // Another object with the same signature.
    let other = url.as_str().replace("/refs/sha256-", "/refs/sha256-0");
    let (status, body) = status_and_code(other).await;
    assert_eq!(status, 403);
    assert!(body.contains("<Code>SignatureDoesNotMatch</Code>"), "{body}");
    // A longer life than was signed.
    let longer = url.as_str().replace("X-Amz-Expires=43200", "X-Amz-Expires=604800");
    let (status, body) = status_and_code(longer).await;
    assert_eq!(status, 403);
    assert!(body.contains("SignatureDoesNotMatch"), "{body}");
    // A flipped signature digit.
    let s = url.as_str();
    let flipped = format!("{}{}", &s[..s.len() - 1], if s.ends_with('0') { '1' } else { '0' });
    assert_eq!(status_and_code(flipped).await.0, 403);
    // No signature at all.
    assert_eq!(status_and_code(url.as_str().split('?').next().unwrap().to_string()).await.0, 403);

    // Signed correctly, but an hour ago for 60 s.
    let bucket = rusty_s3::Bucket::new(
        sim.base_url().parse().unwrap(),
        rusty_s3::UrlStyle::Path,
        SIM_BUCKET,
        seedance_assets::sim::BUCKET_REGION,
    )
    .unwrap();
    let creds = rusty_s3::Credentials::new("sim-access-key", "sim-secret-key");
    let an_hour_ago = jiff02::Timestamp::now() - jiff02::SignedDuration::from_secs(3600);
    let expired = rusty_s3::actions::GetObject::new(&bucket, Some(&creds), &file.key)
        .sign_with_time(Duration::from_secs(60), &an_hour_ago);
    let (status, body) = status_and_code(expired.to_string()).await;
    assert_eq!(status, 403);
    assert!(body.contains("Request has expired"), "{body}");
    // The same, fresh: accepted (so the refusals above are about the URL).
    let fresh = rusty_s3::actions::GetObject::new(&bucket, Some(&creds), &file.key).sign(Duration::from_secs(60));
    assert_eq!(status_and_code(fresh.to_string()).await.0, 200);
    assert!(sim.bucket().stats().refused >= 5);
}

#[tokio::test]
async fn wrong_credentials_and_unreachable_endpoint_are_clear() {
    let sim = sim().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.png");
    std::fs::write(&path, png(32, 32, 3)).unwrap();

    let wrong_secret = sim_storage_with(&sim, "sim-access-key", "not-the-secret");
    let file = wrong_secret.prepare(&path).await.unwrap();
    let e = wrong_secret.upload(&file, |_| {}).await.unwrap_err();
    assert!(
        matches!(&e, StorageError::Bucket { status: 403, code: Some(c), .. } if c == "SignatureDoesNotMatch"),
        "{e:?}"
    );
    assert_eq!(e.class(), ErrorClass::Batch);
    let msg = e.to_string();
    assert!(msg.contains("SignatureDoesNotMatch") && msg.contains("secret key"), "{msg}");
    assert!(!msg.contains("not-the-secret") && !format!("{e:?}").contains("not-the-secret"), "{msg}");
    let dbg = format!("{wrong_secret:?}");
    assert!(!dbg.contains("not-the-secret") && !dbg.contains("sim-access-key"), "{dbg}");

    // A large body refused before it is read: the bucket's answer still
    // comes through (not a broken pipe).
    let big_path = dir.path().join("big.png");
    let mut big = png(16, 16, 8);
    big.resize(16 << 20, 1);
    std::fs::write(&big_path, big).unwrap();
    let big_file = wrong_secret.prepare(&big_path).await.unwrap();
    let e = wrong_secret.upload(&big_file, |_| {}).await.unwrap_err();
    assert!(e.to_string().contains("SignatureDoesNotMatch"), "{e:?}");

    let wrong_key = sim_storage_with(&sim, "AKIAWRONG", "sim-secret-key");
    let e = wrong_key.upload(&file, |_| {}).await.unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("InvalidAccessKeyId") && msg.contains("does not exist in our records"), "{msg}");
    assert_eq!(sim.bucket().stats().puts, 0);

    let wrong_bucket = {
        let cfg = storage_config(&sim.base_url(), "no-such-bucket");
        Storage::from_config(&cfg, &credentials("sim-access-key", "sim-secret-key"), http()).unwrap()
    };
    let e = wrong_bucket.upload(&file, |_| {}).await.unwrap_err();
    assert!(e.to_string().contains("NoSuchBucket"), "{e}");
    assert_eq!(e.class(), ErrorClass::Batch);

    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let cfg = storage_config(&format!("http://127.0.0.1:{port}"), "b");
    let down = Storage::from_config(&cfg, &credentials("k", "s"), http()).unwrap();
    let e = down.upload(&file, |_| {}).await.unwrap_err();
    assert!(matches!(e, StorageError::Unreachable { .. }), "{e:?}");
    assert_eq!(e.class(), ErrorClass::Batch);
    assert!(e.is_retryable());
    let msg = e.to_string();
    assert!(msg.starts_with(&format!("cannot reach the storage endpoint http://127.0.0.1:{port}")), "{msg}");
    assert!(!msg.contains("X-Amz"), "{msg}");
}

/// Changes `path` (once) when the first progress report arrives, i.e.
/// after 1 MiB of an 8 MiB file went out.
fn change_on_first_progress(
    path: std::path::PathBuf,
    change: impl Fn(&std::path::Path) + Send + Sync + 'static,
) -> impl Fn(Progress) + Send + Sync + 'static {
    let done = AtomicBool::new(false);
    move |_| {
        if !done.swap(true, Ordering::SeqCst) {
            change(&path);
        }
    }
}

/// A file hashed without keeping its bytes (no room held: too large, or
/// the budget full) is read again at upload and checked on the way.
#[tokio::test]
async fn a_file_changed_during_upload_is_detected_and_not_kept() {
    let sim = sim().await;
    let storage = sim_storage(&sim).holding(0);
    let dir = tempfile::tempdir().unwrap();
    let big = |name: &str| {
        let path = dir.path().join(name);
        let mut bytes = png(16, 16, 9);
        bytes.resize(8 << 20, 0x55);
        std::fs::write(&path, bytes).unwrap();
        path
    };
    type Change = fn(&std::path::Path);
    let cases: [(&str, Change, &str); 3] = [
        (
            "rewritten.png",
            |p| {
                use std::io::{Seek, SeekFrom, Write};
                let mut f = std::fs::OpenOptions::new().write(true).open(p).unwrap();
                f.seek(SeekFrom::End(-10)).unwrap();
                f.write_all(b"0123456789").unwrap();
            },
            "no longer matches the hash",
        ),
        (
            "grown.png",
            |p| {
                use std::io::Write;
                std::fs::OpenOptions::new().append(true).open(p).unwrap().write_all(b"more").unwrap();
            },
            "grew past",
        ),
        (
            "shrunk.png",
            |p| std::fs::OpenOptions::new().write(true).open(p).unwrap().set_len(2 << 20).unwrap(),
            "is now",
        ),
    ];
    for (name, change, words) in cases {
        let path = big(name);
        let file = storage.prepare(&path).await.unwrap();
        let e = storage.upload(&file, change_on_first_progress(path.clone(), change)).await.unwrap_err();
        assert!(matches!(e, StorageError::Changed { .. }), "{name}: {e:?}");
        assert_eq!(e.class(), ErrorClass::Job);
        let msg = e.to_string();
        assert!(msg.contains("changed while it was being uploaded") && msg.contains(words), "{name}: {msg}");
        assert!(sim.bucket().object(&file.key).is_none(), "{name}: the bucket kept a changed file");
    }
    assert_eq!(sim.bucket().stats().puts, 0);

    // Changed between hashing and uploading: caught before any byte goes.
    let path = big("touched.png");
    let file = storage.prepare(&path).await.unwrap();
    std::fs::write(&path, png(16, 16, 10)).unwrap();
    let e = storage.upload(&file, |_| {}).await.unwrap_err();
    assert!(e.to_string().contains("it is now"), "{e}");
    // Gone before uploading.
    std::fs::remove_file(&path).unwrap();
    let e = storage.upload(&file, |_| {}).await.unwrap_err();
    assert!(e.to_string().contains("no such file"), "{e}");
    let e = storage.prepare(&path).await.unwrap_err();
    assert!(matches!(e, StorageError::File { .. }) && e.to_string().contains("no such file"), "{e}");
}

/// A file with room held is read once: its upload sends the bytes read
/// when it was hashed, so it neither reads the file again nor depends on
/// it afterwards; its room is freed once the upload is done.
#[tokio::test]
async fn a_held_file_is_read_once_and_sent_as_hashed() {
    let sim = sim().await;
    let storage = sim_storage(&sim).holding(8 << 20);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("once.png");
    let mut bytes = png(16, 16, 11);
    bytes.resize(5 << 20, 0x33);
    std::fs::write(&path, &bytes).unwrap();
    let file = storage.prepare(&path).await.unwrap();
    // Rewritten and then removed after hashing: the upload needs neither.
    std::fs::write(&path, b"something else").unwrap();
    std::fs::remove_file(&path).unwrap();
    let reports = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = reports.clone();
    let up = storage.upload(&file, move |p| seen.lock().unwrap().push(p)).await.unwrap();
    assert!(!up.already_present);
    assert_eq!(sim.bucket().object(&file.key).expect("uploaded"), bytes, "the bytes as hashed");
    let reports = reports.lock().unwrap().clone();
    assert_eq!(reports.last(), Some(&Progress { done: 5 << 20, total: 5 << 20 }), "{reports:?}");
    assert!(reports.len() >= 5, "progress per MiB: {reports:?}");
    // The room is free again: a second 5 MiB file is held too (read once).
    let second = dir.path().join("twice.png");
    bytes[100] ^= 1;
    std::fs::write(&second, &bytes).unwrap();
    let file = storage.prepare(&second).await.unwrap();
    std::fs::remove_file(&second).unwrap();
    storage.upload(&file, |_| {}).await.expect("sent from memory");
    assert_eq!(sim.bucket().object(&file.key).unwrap(), bytes);
}

/// 50 real images from a directory: uploaded once each, deduplicated on
/// the second pass and for a copy under another name; created through the
/// API, and every URL the simulator downloads serves the file's bytes.
#[tokio::test]
async fn fifty_images_through_the_bucket_and_the_simulator() {
    let sim = fast_sim().await;
    let client = common::client_with(&sim, sim.state().api_key(), Duration::from_secs(10));
    let group = sim.state().add_group("refs");
    let storage = sim_storage(&sim);
    let dir = tempfile::tempdir().unwrap();
    write_images(dir.path(), 50);
    std::fs::write(dir.path().join("notes.txt"), "not media").unwrap();

    let expansion = seedance_assets::local::expand(&dir.path().to_string_lossy(), false);
    assert_eq!((expansion.files.len(), expansion.errors.len()), (50, 0), "{:?}", expansion.errors);
    let mut by_url = std::collections::HashMap::new();
    let mut task_ids = Vec::new();
    for media in &expansion.files {
        let file = storage.prepare(&media.path).await.unwrap();
        let up = storage.upload(&file, |_| {}).await.unwrap();
        assert!(!up.already_present);
        seedance_assets::storage::check_uploaded_url(&up.url).unwrap();
        by_url.insert(up.url.to_string(), file.sha256.clone());
        let req = CreateAssetRequest {
            group_id: group.clone(),
            url: up.url.to_string(),
            asset_type: media.asset_type,
            name: media.stem.clone(),
        };
        task_ids.push(client.create_asset(&req).await.unwrap().task_id);
    }
    assert_eq!(sim.bucket().stats().puts, 50);

    // Again: all found by HEAD, nothing sent.
    for media in &expansion.files {
        let file = storage.prepare(&media.path).await.unwrap();
        assert!(storage.upload(&file, |_| {}).await.unwrap().already_present);
    }
    // A copy under another name is the same object.
    let copy = dir.path().join("copy-of-first.png");
    std::fs::copy(&expansion.files[0].path, &copy).unwrap();
    let copied = storage.prepare(&copy).await.unwrap();
    assert!(storage.upload(&copied, |_| {}).await.unwrap().already_present);
    assert_eq!(sim.bucket().stats().puts, 50);

    for task in &task_ids {
        let info = wait_final(&client, task).await;
        assert_eq!(info.status, AssetStatus::Active, "{info:?}");
    }
    let fetches = sim.bucket().stats().fetches;
    assert_eq!(fetches.len(), 50);
    for f in &fetches {
        assert_eq!(f.status, Some(200));
        assert_eq!(f.sha256.as_ref(), by_url.get(&f.url), "{}", f.url);
    }
}

async fn wait_final(client: &seedance_assets::api::Client, task: &str) -> seedance_assets::api::AssetInfo {
    for _ in 0..200 {
        let info = client.get_asset(task).await.unwrap();
        if info.status != AssetStatus::Processing {
            return info;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("task {task} still processing after 10 s");
}

/// What the simulator's CreateAsset does with loopback URLs it cannot use.
#[tokio::test]
async fn the_simulator_fails_missing_or_mismatched_downloads() {
    let sim = fast_sim().await;
    let client = common::client_with(&sim, sim.state().api_key(), Duration::from_secs(10));
    let group = sim.state().add_group("refs");
    let storage = sim_storage(&sim);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("still.png");
    std::fs::write(&path, png(320, 320, 4)).unwrap();
    let file = storage.prepare(&path).await.unwrap();
    let url = storage.upload(&file, |_| {}).await.unwrap().url;
    let missing = storage.presigned_get("refs/sha256-missing.png");
    // An image under the documented sides is downloaded and failed, as the real server does.
    let small = dir.path().join("small.png");
    std::fs::write(&small, png(32, 32, 4)).unwrap();
    let small = storage.upload(&storage.prepare(&small).await.unwrap(), |_| {}).await.unwrap().url;

    let cases = [
        (url.to_string(), AssetType::Video, "InvalidParameter.FormatUnsupported"),
        (missing.to_string(), AssetType::Image, "InvalidParameter.DownloadFailed"),
        (url.to_string(), AssetType::Image, ""),
        (small.to_string(), AssetType::Image, "InvalidParameter.ImageSizeInvalid"),
    ];
    for (u, asset_type, code) in cases {
        let req = CreateAssetRequest { group_id: group.clone(), url: u, asset_type, name: "x".into() };
        let task = client.create_asset(&req).await.unwrap().task_id;
        let info = wait_final(&client, &task).await;
        if code.is_empty() {
            assert_eq!(info.status, AssetStatus::Active, "{info:?}");
        } else {
            assert_eq!(info.status, AssetStatus::Failed, "{info:?}");
            assert!(format!("{:?}", info.error).contains(code), "{info:?}");
        }
    }
    let fetches = sim.bucket().stats().fetches;
    assert_eq!(fetches.iter().map(|f| f.status).collect::<Vec<_>>(), [Some(200), Some(404), Some(200), Some(200)]);
    // Plain http to a host that is not loopback is still refused.
    let req = CreateAssetRequest {
        group_id: group,
        url: "http://media.example/a.png".into(),
        asset_type: AssetType::Image,
        name: "x".into(),
    };
    assert!(client.create_asset(&req).await.is_err());
}

/// A bucket that refuses every upload pauses uploads; once its credentials
/// are fixed (`R` in the dashboard sends the reloaded bucket client, then
/// Resume), the same jobs upload and are created without a restart, each
/// file once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fixed_bucket_credentials_resume_uploads_without_a_restart() {
    use seedance_assets::engine::{Command, EngineOptions, LocalSource, NewJob, Update};
    let sim = fast_sim().await;
    let group = sim.state().add_group("fix");
    let files = tempfile::tempdir().unwrap();
    let good = sim_storage(&sim);
    let mut specs = Vec::new();
    for path in write_images(files.path(), 3) {
        let f = good.prepare(&path).await.unwrap();
        specs.push(NewJob {
            url: path.display().to_string(),
            name: path.file_stem().unwrap().to_string_lossy().into_owned(),
            asset_type: AssetType::Image,
            group_id: group.clone(),
            profile: "default".into(),
            local: Some(LocalSource { path, size: f.size, sha256: f.sha256, key: f.key, modified: f.modified }),
            media: None,
            conform: None,
        });
    }
    let wrong = sim_storage_with(&sim, "sim-access-key", "not-the-secret");
    let data = tempfile::tempdir().unwrap();
    let opts = EngineOptions {
        limits: seedance_assets::config::Limits::default(),
        polling: common::quick_polling(),
        seed: Some(5),
        retry_503: false,
        storage: Some((wrong, 2)),
        polling_file: None,
        reconcile: Default::default(),
    };
    let (engine, mut rx, task) = common::engine_with(&sim, data.path(), opts, Duration::from_secs(5));
    let accepted = engine.submit(specs, false).await.unwrap().accepted;
    assert_eq!(accepted.len(), 3);
    let mut jobs = std::collections::BTreeMap::new();
    let paused = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            match rx.recv().await.expect("engine running") {
                Update::Health(h) if h.storage.is_some() => return h,
                Update::Job(j) => {
                    jobs.insert(j.id, *j);
                }
                _ => {}
            }
        }
    })
    .await
    .expect("uploads pause on a bucket that refuses the keys");
    assert!(paused.describe().unwrap().contains("uploads paused"), "{paused:?}");
    assert_eq!(sim.bucket().stats().puts, 0);
    assert!(jobs.values().all(|j| j.state == seedance_assets::engine::JobState::Uploading), "{jobs:?}");

    engine.send(Command::SetStorage(good));
    engine.send(Command::Resume(None));
    common::follow_until(&mut rx, &mut jobs, Duration::from_secs(30), common::all_final(&accepted)).await;
    for id in &accepted {
        assert_eq!(jobs[id].state, seedance_assets::engine::JobState::Active, "{:?}", jobs[id]);
    }
    assert_eq!(sim.bucket().stats().puts, 3, "each file uploaded once");
    assert_eq!(sim.stats().assets_created, 3);
    engine.send(Command::Shutdown);
    task.await.unwrap();
}
