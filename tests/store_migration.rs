//! The JSON-lines journal of release 0.1.0 (a fixture the old binary wrote:
//! five imports, a forget, an id reused, a job left Processing) is migrated
//! into the job store at the first start, kept as a backup, and a crash
//! during the migration leaves it usable.

mod clienv;

use std::time::{Duration, Instant};

use clienv::Env;
use seedance_assets::engine::JobState;
use seedance_assets::store::read_jobs;

const FIXTURE: &str = include_str!("fixtures/journal/release-0.1.0.jsonl");

fn env_with_journal(text: &str) -> Env {
    // Nothing is contacted: the Processing job is only listed.
    let env = Env::with("http://127.0.0.1:9", "unused", "");
    std::fs::create_dir_all(&env.data).unwrap();
    std::fs::write(env.data.join("journal.jsonl"), text).unwrap();
    env
}

#[test]
fn the_old_journal_is_migrated_once_and_kept_as_a_backup() {
    // A crash had torn the last line.
    let torn = format!("{FIXTURE}{{\"job\":{{\"id\":6,\"url\":\"https://media.example/fx/torn");
    let env = env_with_journal(&torn);
    let out = env.run(&["status", "--json"], "");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let records: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let got: Vec<(u64, &str, &str)> = records
        .iter()
        .map(|r| (r["id"].as_u64().unwrap(), r["name"].as_str().unwrap(), r["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        got,
        [
            (1, "cat", "active"),
            (2, "Intro clip", "active"),
            (3, "theme", "active"),
            (4, "fail-broken", "failed"),
            (5, "late", "processing")
        ]
    );
    assert!(records[0]["asset_ref"].as_str().unwrap().starts_with("asset://asset-"));
    // The old journal is kept, byte for byte, beside the store.
    assert!(!env.data.join("journal.jsonl").exists());
    assert_eq!(std::fs::read_to_string(env.data.join("journal.jsonl.bak")).unwrap(), torn);
    let jobs = read_jobs(&env.data.join("jobs.db")).unwrap();
    assert_eq!(jobs.len(), 5);
    assert_eq!(jobs[4].state, JobState::Processing);
    assert_eq!(jobs[4].task_id.as_deref(), Some("task_00000006"));
    // A second start migrates nothing again.
    let again = env.run(&["status", "--json"], "");
    assert_eq!(serde_json::from_slice::<Vec<serde_json::Value>>(&again.stdout).unwrap().len(), 5);
    assert!(!env.data.join("journal.jsonl.bak.1").exists());
}

#[test]
fn a_crash_during_the_migration_leaves_the_old_journal_usable() {
    // A journal long enough that the migration can be caught in the act.
    let line = FIXTURE.lines().next().unwrap();
    let template: serde_json::Value = serde_json::from_str(line).unwrap();
    let mut big = String::new();
    for id in 1..=200_000u64 {
        let mut rec = template.clone();
        rec["job"]["id"] = id.into();
        rec["job"]["state"] = "Active".into();
        rec["job"]["name"] = format!("n{id}").into();
        big.push_str(&rec.to_string());
        big.push('\n');
    }
    let env = env_with_journal(&big);
    let mut killed_mid_way = false;
    for _ in 0..5 {
        let mut child = env.command(["status", "--state", "failed"]).spawn().unwrap();
        let start = Instant::now();
        let mut seen = false;
        while start.elapsed() < Duration::from_secs(20) {
            let migrating = std::fs::read_dir(&env.data)
                .unwrap()
                .flatten()
                .any(|e| e.file_name().to_string_lossy().starts_with(".jobs.db.migrating-"));
            if migrating || child.try_wait().unwrap().is_some() {
                seen = migrating;
                break;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        let _ = child.kill();
        let _ = child.wait();
        if seen && env.data.join("journal.jsonl").exists() && !env.data.join("jobs.db").exists() {
            killed_mid_way = true;
            break;
        }
    }
    assert!(killed_mid_way, "the migration was never caught mid-way");
    // The old journal is untouched, and the next start migrates it whole.
    assert_eq!(std::fs::read_to_string(env.data.join("journal.jsonl")).unwrap(), big);
    let out = env.run(&["status", "--state", "active", "--json"], "");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let n = serde_json::from_slice::<Vec<serde_json::Value>>(&out.stdout).unwrap().len();
    assert_eq!(n, 200_000);
    let leftovers: Vec<String> = std::fs::read_dir(&env.data)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("migrating"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
