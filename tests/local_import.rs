//! Local files end to end, as a script sees it: the real binary imports a
//! directory through the simulator's verifying bucket; a second import of
//! the same files (or a copy under another name) creates nothing; `kill -9`
//! during uploads loses nothing and duplicates nothing; bad paths are named.

mod clienv;
mod common;
mod storage_support;

use std::collections::HashSet;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use clienv::{Env, text};
use std::time::{Duration, Instant};

use seedance_assets::engine::JobState;
use seedance_assets::sim::{Sim, SimConfig};
use seedance_assets::storage::sha256_hex;
use seedance_assets::store::read_jobs;
use storage_support::write_images;

/// An environment whose bucket is the simulator's own.
fn env(sim: &Sim) -> Env {
    Env::with_sim_bucket(sim, "")
}

async fn output(mut c: Command) -> Output {
    tokio::task::spawn_blocking(move || c.output().unwrap()).await.unwrap()
}

fn sha(p: &Path) -> String {
    sha256_hex(&std::fs::read(p).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_directory_of_fifty_images_is_imported_once_whatever_the_names() {
    let sim = Sim::start_local(common::quick_sim_config()).await.unwrap();
    let group = sim.state().add_group("local");
    let env = env(&sim);
    let media = env.dir.path().join("refs");
    let files = write_images(&media, 50);
    let dir = media.to_str().unwrap();
    let out = output(env.command(["import", dir, "--group", &group, "--wait", "--json"])).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let jobs = read_jobs(&env.data.join("jobs.db")).unwrap();
    assert_eq!(jobs.len(), 50);
    assert!(jobs.iter().all(|j| j.state == JobState::Active), "{:?}", jobs.iter().map(|j| j.state).collect::<Vec<_>>());
    let names: HashSet<&str> = jobs.iter().map(|j| j.spec.name.as_str()).collect();
    assert!(names.contains("ref-000") && names.contains("ref-049"), "names are the file stems");
    // The hash and the object key are in the journal.
    for j in &jobs {
        let l = j.spec.local.as_ref().expect("local source journaled");
        assert_eq!(l.key, format!("refs/sha256-{}.{}", l.sha256, l.path.extension().unwrap().to_str().unwrap()));
    }
    // So are the exports.
    let out = output(env.command(["export", "--format", "json"])).await;
    let records: Vec<seedance_assets::export::JobRecord> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(records.len(), 50);
    for r in &records {
        let key = r.object_key.as_deref().expect("object key exported");
        assert!(key.contains(r.sha256.as_deref().expect("hash exported")), "{key}");
    }
    // Every URL the simulator fetched served the file's own bytes.
    let want: HashSet<String> = files.iter().map(|p| sha(p)).collect();
    let fetched: HashSet<String> = sim.bucket().stats().fetches.iter().filter_map(|f| f.sha256.clone()).collect();
    assert_eq!(fetched, want);
    assert_eq!(sim.bucket().stats().puts, 50);
    assert_eq!(sim.stats().assets_created, 50);

    // The same directory again, and a copy under another name: nothing new.
    std::fs::copy(&files[0], media.join("renamed-copy.png")).unwrap();
    let out = output(env.command(["import", dir, "--group", &group, "--wait"])).await;
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "what exists already is reported, not an error: {stderr}");
    assert!(stderr.contains("queued 0 · existing 51"), "{stderr}");
    assert_eq!(sim.bucket().stats().puts, 50, "no upload");
    assert_eq!(sim.stats().assets_created, 50, "no creation");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_nine_during_uploads_then_every_file_is_active_exactly_once() {
    let sim = Sim::start_local(SimConfig { create_rate: 10, ..common::quick_sim_config() }).await.unwrap();
    let group = sim.state().add_group("kill");
    let env = env(&sim);
    let media = env.dir.path().join("refs");
    write_images(&media, 40);
    let dir = media.to_str().unwrap();
    let mut child = env
        .command(["import", dir, "--group", &group, "--wait"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while sim.bucket().stats().puts < 5 {
        assert!(started.elapsed() < Duration::from_secs(60), "uploads never started");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    common::settle(&sim).await;
    let at_kill = read_jobs(&env.data.join("jobs.db")).unwrap();
    assert!(at_kill.iter().any(|j| j.state == JobState::Uploading), "the kill came during uploads");
    let sending = at_kill.iter().filter(|j| j.state == JobState::Creating).count() as u64;
    let answered = at_kill
        .iter()
        .filter(|j| !matches!(j.state, JobState::Uploading | JobState::Queued | JobState::Creating))
        .count() as u64;
    let in_flight = sim.stats().create_asset_requests - answered;
    assert!(sending <= in_flight + 1, "{sending} Creating, {in_flight} creations in flight at the kill");
    let out = output(env.command(["wait"])).await;
    let stderr = text(&out.stderr);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{stderr}");
    // Files are sent as they pass, so some may not have been sent at the
    // kill: the same import again sends those, and only those.
    let out = output(env.command(["import", dir, "--group", &group, "--wait"])).await;
    let stderr = text(&out.stderr);
    assert!(matches!(out.status.code(), Some(0 | 1)), "{stderr}");
    let jobs = read_jobs(&env.data.join("jobs.db")).unwrap();
    assert_eq!(jobs.len(), 40);
    assert_eq!(sim.stats().duplicate_creations, 0);
    for j in &jobs {
        assert!(
            matches!(j.state, JobState::Active | JobState::Uncertain),
            "job {} is {:?}: {:?}",
            j.id,
            j.state,
            j.error
        );
    }
    let uncertain = jobs.iter().filter(|j| j.state == JobState::Uncertain).count() as u64;
    // Only creations in flight at the kill can be Uncertain, and reconcile
    // may already have found them in the simulator's listing.
    assert!(uncertain <= sending, "{uncertain} Uncertain, {sending} in flight at the kill");
    // Uploads are never Uncertain: every file not caught mid-creation was
    // uploaded (again, after the kill) and created once.
    assert_eq!(jobs.len() as u64 - uncertain, jobs.iter().filter(|j| j.state == JobState::Active).count() as u64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_local_lines_are_named_and_the_good_ones_imported() {
    let sim = Sim::start_local(common::quick_sim_config()).await.unwrap();
    let group = sim.state().add_group("bad");
    let env = env(&sim);
    let root = env.dir.path();
    let good = write_images(&root.join("good"), 1).remove(0);
    std::fs::create_dir_all(root.join("empty")).unwrap();
    std::fs::write(root.join("notes.png"), b"just text, not an image").unwrap();
    let list = format!(
        "{}\n{}\n{}\n{}\n{}\t{}\tVideo\n",
        good.display(),
        root.join("missing.png").display(),
        root.join("empty").display(),
        root.join("notes.png").display(),
        good.display(),
        "as-video"
    );
    let file = root.join("list.txt");
    std::fs::write(&file, list).unwrap();
    let out = output(env.command(["import", "--file", file.to_str().unwrap(), "--group", &group, "--wait"])).await;
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(":2:") && stderr.contains("no such file"), "{stderr}");
    assert!(stderr.contains(":3:") && stderr.contains("no media files"), "{stderr}");
    assert!(stderr.contains(":4:"), "{stderr}");
    assert!(stderr.contains(":5:") && stderr.contains("not Video"), "{stderr}");
    assert!(!stderr.contains(":1:"), "{stderr}");
    assert_eq!(sim.stats().assets_created, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_bucket_credentials_stop_with_the_buckets_message_and_nothing_is_lost() {
    let sim = Sim::start_local(common::quick_sim_config()).await.unwrap();
    let group = sim.state().add_group("creds");
    let env = env(&sim);
    let media = env.dir.path().join("refs");
    write_images(&media, 5);
    let dir = media.to_str().unwrap();
    let mut c = env.command(["import", dir, "--group", &group, "--wait"]);
    c.env("AWS_SECRET_ACCESS_KEY", "not-the-secret");
    let out = output(c).await;
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("uploads paused") && stderr.contains("SignatureDoesNotMatch"), "{stderr}");
    assert!(!stderr.contains("not-the-secret"), "the secret is never shown: {stderr}");
    assert_eq!(sim.stats().create_asset_requests, 0, "nothing is created without its upload");
    let jobs = read_jobs(&env.data.join("jobs.db")).unwrap();
    assert_eq!(jobs.len(), 5);
    assert!(jobs.iter().all(|j| j.state == JobState::Uploading), "kept for later");
    // With the right secret, `wait` uploads and creates them.
    let out = output(env.command(["wait"])).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(sim.stats().assets_created, 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fifo_or_a_socket_named_x_png_is_refused_at_once() {
    let sim = Sim::start_local(common::quick_sim_config()).await.unwrap();
    let group = sim.state().add_group("special");
    let env = env(&sim);
    let fifo = env.dir.path().join("x.png");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let socket = env.dir.path().join("s.png");
    let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    // Nobody ever writes to the FIFO: an open or a read of it would wait forever.
    let mut child =
        env.command(["import", fifo.to_str().unwrap(), socket.to_str().unwrap(), "--group", &group]).spawn().unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(30) {
            child.kill().unwrap();
            panic!("import blocked on the FIFO or the socket");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let out = child.wait_with_output().unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(status.code(), Some(2), "nothing to import: {stderr}");
    assert!(stderr.contains(&format!("{}: not a media file: it is a FIFO", fifo.display())), "{stderr}");
    assert!(stderr.contains(&format!("{}: not a media file: it is a socket", socket.display())), "{stderr}");
    assert_eq!(sim.stats().create_asset_requests, 0);
}
