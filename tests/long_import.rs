//! A list longer than the engine's queue window, streamed from a file: the
//! queue past the window waits in the job store (and comes back from it),
//! the output still follows the input, and a `kill -9` with thousands of
//! jobs queued in the store loses none and creates none twice.

mod clienv;
mod common;

use std::io::Write;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use clienv::{Env, blocking, text};
use seedance_assets::engine::JobState;
use seedance_assets::export::JobRecord;
use seedance_assets::sim::{Sim, SimConfig};
use seedance_assets::store::{QUEUED_LOADED, read_jobs};

/// Lines in the list: more than twice the window, so the queue spills.
const LINES: usize = 5_000;

async fn sim() -> Sim {
    let config = SimConfig { create_rate: 2_000, get_rate: 5_000, ..common::quick_sim_config() };
    Sim::start_local(config).await.unwrap()
}

fn env(sim: &Sim, create_per_sec: u32) -> Env {
    let limits = format!("[limits]\ncreate_per_sec = {create_per_sec}\nmax_creating = 50\nget_per_sec = 2000\n");
    Env::with(&sim.base_url(), sim.state().api_key(), &limits)
}

/// A list of `LINES` URLs with a comment, a blank line and a line that is
/// not UTF-8 among them (line 3).
fn write_list(env: &Env, tag: &str) -> std::path::PathBuf {
    let path = env.dir.path().join("urls.txt");
    let mut f = std::fs::File::create(&path).unwrap();
    f.write_all(b"# references\n\n").unwrap();
    f.write_all(b"https://media.example/\xff\xfe.png\n").unwrap();
    for i in 0..LINES {
        writeln!(f, "https://media.example/{tag}/{i:05}.png,{tag}-{i:05}").unwrap();
    }
    path
}

/// Runs the binary off the runtime (the simulator runs on it), handing the
/// environment back with the output.
async fn run(env: Env, args: Vec<String>) -> (Env, Output) {
    blocking(move || {
        let out = env.command(args).output().unwrap();
        (env, out)
    })
    .await
}

fn import_args(list: &std::path::Path, group: &str) -> Vec<String> {
    ["import", "--file", list.to_str().unwrap(), "--group", group].map(String::from).to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_list_past_the_queue_window_is_created_once_each_in_input_order() {
    let sim = sim().await;
    let group = sim.state().add_group("long");
    let env = env(&sim, 1_000);
    let list = write_list(&env, "a");
    let (env, out) = run(env, import_args(&list, &group)).await;
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(":3: refused: the line is not valid UTF-8"),
        "the bad line is named by its number: {stderr}"
    );
    // Every other line was created exactly once, though most of the queue
    // waited in the store rather than in memory.
    let stats = sim.stats();
    assert_eq!(stats.assets_created, LINES as u64, "{stderr}");
    assert_eq!(stats.duplicate_creations, 0);
    assert_eq!(stats.create_asset_requests, LINES as u64, "no request was sent twice");
    // The table follows the input, read back from the store.
    let stdout = text(&out.stdout);
    let names: Vec<&str> = stdout.lines().skip(1).filter_map(|l| l.split_whitespace().nth(3)).collect();
    let expected: Vec<String> = (0..LINES).map(|i| format!("a-{i:05}")).collect();
    assert_eq!(names, expected, "one row per line, in input order");
    let jobs = read_jobs(&env.data.join("jobs.db")).unwrap();
    assert_eq!(jobs.len(), LINES);
    assert!(jobs.iter().all(|j| !matches!(j.state, JobState::Queued | JobState::Creating)), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_nine_with_the_queue_in_the_store_loses_nothing_and_pays_once() {
    let sim = sim().await;
    let group = sim.state().add_group("long-kill");
    // Slow creation: when the kill comes most of the list is queued, past
    // what a start loads into memory.
    let env = env(&sim, 100);
    let list = write_list(&env, "k");
    let args = import_args(&list, &group);
    let mut child = env.command(&args).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let started = Instant::now();
    while sim.stats().create_asset_requests < 100 {
        assert!(started.elapsed() < Duration::from_secs(60), "the import never got going");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let at_kill = read_jobs(&env.data.join("jobs.db")).unwrap();
    let queued = at_kill.iter().filter(|j| j.state == JobState::Queued).count();
    assert!(queued > QUEUED_LOADED, "the kill left more queued ({queued}) than a start loads");

    // `wait` goes on from the store, a window at a time, and lists them all.
    let (env, out) = run(env, vec!["wait".into(), "--json".into()]).await;
    let stderr = text(&out.stderr);
    let listed: Vec<JobRecord> = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {stderr}"));
    let unfinished = at_kill.iter().filter(|j| j.state.is_in_flight()).count();
    assert_eq!(listed.len(), unfinished, "wait lists every job unfinished at the kill: {stderr}");

    // Importing the same list again creates nothing new: every line is known.
    let (env, again) = run(env, import_args(&list, &group)).await;
    let again = text(&again.stderr);
    assert!(again.contains(&format!("queued 0 · existing {LINES}")), "{again}");

    let jobs = read_jobs(&env.data.join("jobs.db")).unwrap();
    assert_eq!(jobs.len(), LINES, "every line is one job, none lost and none added");
    assert!(jobs.iter().all(|j| matches!(j.state, JobState::Active | JobState::Uncertain)), "{stderr}");
    let stats = sim.stats();
    assert_eq!(stats.duplicate_creations, 0, "no line was paid for twice");
    let active = jobs.iter().filter(|j| j.state == JobState::Active).count() as u64;
    assert!(stats.assets_created >= active && stats.assets_created <= LINES as u64);
}
