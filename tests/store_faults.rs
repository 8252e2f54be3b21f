//! A damaged or unusual job store, as a script sees it: the real binary on a
//! store with a row it cannot read, on a read-only data dir, and with a
//! directory where `jobs.db` should be.

mod clienv;

use std::path::Path;

use clienv::{Env, text};
use seedance_assets::api::AssetType;
use seedance_assets::engine::{Job, JobState, NewJob};
use seedance_assets::export::JobRecord;
use seedance_assets::store::Store;

/// An environment whose server is never contacted (nothing here is sent).
fn offline() -> Env {
    Env::with("http://127.0.0.1:9", "unused", "")
}

fn job(id: u64, state: JobState) -> Job {
    let spec = NewJob {
        url: format!("https://media.example/faults/{id}.png"),
        name: format!("job-{id}"),
        asset_type: AssetType::Image,
        group_id: "group-1".into(),
        profile: "default".into(),
        local: None,
        media: None,
        conform: None,
    };
    let mut j = Job::new(id, spec, jiff::Timestamp::from_second(1_795_000_000).unwrap());
    j.state = state;
    if state == JobState::Active {
        j.asset_id = Some(format!("asset-{id}"));
    }
    j
}

/// Writes `jobs` to the store at `path`, as the engine would.
fn plant(path: &Path, jobs: &[Job]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    Store::open(path, None).unwrap().store.write(jobs, &[]).unwrap();
}

/// Runs SQL on the store directly (a damaged row, a release from the future).
fn sql(path: &Path, sql: &str) {
    rusqlite::Connection::open(path).unwrap().execute_batch(sql).unwrap();
}

#[test]
fn a_row_that_cannot_be_read_is_shown_as_unknown_and_every_other_row_still_reads() {
    let env = offline();
    let store = env.data.join("jobs.db");
    plant(&store, &[job(1, JobState::Active), job(2, JobState::Active), job(3, JobState::Failed)]);
    // A state code no release writes (or a newer one will), in the middle.
    sql(&store, "UPDATE jobs SET state = 42 WHERE id = 2");

    let out = env.run(&["status"], "");
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stderr}");
    let lines: Vec<&str> = stdout.lines().skip(1).collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    assert!(lines[0].contains("job-1") && lines[0].contains("active"), "{stdout}");
    assert!(lines[1].contains("job-2") && lines[1].contains("unknown"), "{stdout}");
    assert!(lines[1].contains("unknown state code 42"), "{stdout}");
    assert!(lines[2].contains("job-3") && lines[2].contains("failed"), "{stdout}");
    assert!(stderr.contains("3 jobs: 1 active, 1 failed, 1 unknown"), "{stderr}");

    let out = env.run(&["status", "--json"], "");
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let records: Vec<JobRecord> = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {stderr}"));
    let got: Vec<(u64, &str, &str)> = records.iter().map(|r| (r.id, r.name.as_str(), r.status.as_str())).collect();
    assert_eq!(got, [(1, "job-1", "active"), (2, "job-2", "unknown"), (3, "job-3", "failed")]);
    assert_eq!(records[1].url, "https://media.example/faults/2.png", "the fields that decode are kept");
    assert_eq!(records[1].asset_id.as_deref(), Some("asset-2"));
    assert!(records[1].error.as_deref().unwrap().contains("unknown state code 42"), "{:?}", records[1]);

    let out = env.run(&["export", "--format", "csv"], "");
    let csv = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(csv.lines().count(), 4, "a header and three rows: {csv}");
    assert!(csv.lines().nth(2).unwrap().starts_with("2,job-2,Image,"), "{csv}");
    assert!(csv.lines().nth(2).unwrap().contains(",unknown,"), "{csv}");

    let out = env.run(&["export", "--format", "content"], "");
    let content: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(content.len(), 1, "only the readable Active job is content");
}

#[test]
fn the_engine_starts_past_a_live_row_it_cannot_read_and_names_it() {
    let env = offline();
    let store = env.data.join("jobs.db");
    plant(&store, &[job(1, JobState::Active), job(2, JobState::Queued)]);
    // A live row whose media column is damaged.
    sql(&store, "UPDATE jobs SET extra = '{bad' WHERE id = 2");
    let out = env.run(&["wait", "--json"], "");
    let stderr = text(&out.stderr);
    assert!(stderr.contains("job #2 cannot be read and was skipped"), "{stderr}");
    let records: Vec<JobRecord> = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {stderr}"));
    assert!(records.is_empty(), "{records:?}");
    let out = env.run(&["status", "--json"], "");
    let records: Vec<JobRecord> = serde_json::from_slice(&out.stdout).unwrap();
    let got: Vec<(u64, &str)> = records.iter().map(|r| (r.id, r.status.as_str())).collect();
    assert_eq!(got, [(1, "active"), (2, "unknown")]);
}

/// Makes `path` read-only (or writable again) with `mode`.
fn chmod(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn status_and_export_read_a_store_in_a_read_only_data_dir() {
    use std::os::unix::process::CommandExt;
    let env = offline();
    let store = env.data.join("jobs.db");
    plant(&store, &[job(1, JobState::Active), job(2, JobState::Failed)]);
    // The engine closed the store cleanly: no -wal or -shm is left beside it,
    // and a reader in WAL mode must create its index (jobs.db-shm).
    assert!(!env.data.join("jobs.db-shm").exists());
    chmod(&store, 0o444);
    chmod(&env.data, 0o555);
    // The permissions bind everyone but root: as root, run the binary as
    // `nobody` (who may read the config and the store, and write nothing).
    let root = unsafe { libc::geteuid() } == 0;
    if root {
        chmod(env.dir.path(), 0o755);
        chmod(&env.config, 0o644);
    }
    let run = |args: &[&str]| {
        let mut c = env.command(args);
        if root {
            c.uid(65534).gid(65534);
        }
        c.stdin(std::process::Stdio::null()).output().unwrap()
    };
    let out = run(&["status"]);
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(text(&out.stdout).contains("job-2"), "{}", text(&out.stdout));
    assert!(stderr.contains("2 jobs: 1 active, 1 failed"), "{stderr}");
    let out = run(&["export", "--format", "json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let records: Vec<JobRecord> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(records.iter().map(|r| r.id).collect::<Vec<_>>(), [1, 2]);
    assert!(!env.data.join("jobs.db-shm").exists(), "nothing was written beside the store");
    chmod(&env.data, 0o755);
}

#[test]
fn a_directory_where_the_store_should_be_is_named_not_a_disk_io_error() {
    let env = offline();
    std::fs::create_dir_all(env.data.join("jobs.db")).unwrap();
    let store = env.data.join("jobs.db").display().to_string();
    let want = format!("{store} is a directory, not a job store file: move it away or use --data-dir");
    for args in [&["status"][..], &["import", "https://media.example/a.png", "--group", "group-1"]] {
        let out = env.run(args, "");
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(5), "{args:?}: {stderr}");
        assert!(stderr.contains(&want), "{args:?}: {stderr}");
        assert!(!stderr.contains("disk I/O error"), "{args:?}: {stderr}");
    }
    assert!(env.data.join("jobs.db").is_dir(), "left as it was");
    // A FIFO is refused from its stat too (opening it would block).
    std::fs::remove_dir(env.data.join("jobs.db")).unwrap();
    assert!(std::process::Command::new("mkfifo").arg(&store).status().unwrap().success());
    let out = env.run(&["status"], "");
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "{stderr}");
    assert!(stderr.contains(&format!("{store} is a FIFO, not a job store file")), "{stderr}");
}
