//! The headless CLI, as a script sees it: the real binary against the
//! simulator, input from stdin with name and type columns, per-line errors,
//! exit codes, JSON, status, export, groups.

mod clienv;
mod common;

use std::process::{Command, Stdio};

use clienv::{BIN, Env, text};

use seedance_assets::export::JobRecord;
use seedance_assets::sim::{Sim, SimConfig};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_from_stdin_reports_bad_lines_and_exports() {
    let sim = Sim::start_local(common::quick_sim_config()).await.unwrap();
    let group = sim.state().add_group("cli");
    let env = Env::new(&sim);
    let input = "# references\nhttps://cdn.example/a/cat.png\nhttps://cdn.example/b/clip.mov,Intro clip\nftp://cdn.example/x.png\nhttps://cdn.example/c/track\tTheme\tAudio\nhttps://cdn.example/d/broken-fail.png\nhttps://cdn.example/e/doc.pdf\n";
    let out = tokio::task::spawn_blocking({
        let group = group.clone();
        move || {
            let out = env.run(&["import", "--group", &group, "--wait", "--json"], input);
            (env, out)
        }
    })
    .await
    .unwrap();
    let (env, out) = out;
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "a failure and bad lines make exit 1; stderr: {stderr}");
    assert!(stderr.contains("stdin:4: refused: `ftp://cdn.example/x.png` must be an https:// URL"), "{stderr}");
    assert!(stderr.contains("stdin:7: refused: cannot infer the asset type from `.pdf`"), "{stderr}");
    assert!(!stderr.contains('\r') && !stderr.contains("\x1b["), "no progress bar when stderr is not a terminal");
    let jobs: Vec<JobRecord> = serde_json::from_slice(&out.stdout).unwrap();
    let got: Vec<(&str, &str, &str)> =
        jobs.iter().map(|j| (j.name.as_str(), j.asset_type.as_str(), j.status.as_str())).collect();
    assert_eq!(
        got,
        [
            ("cat", "Image", "active"),
            ("Intro clip", "Video", "active"),
            ("Theme", "Audio", "active"),
            ("broken-fail", "Image", "failed")
        ]
    );
    assert!(jobs[0].asset_ref.as_deref().unwrap().starts_with("asset://asset-"));
    assert!(jobs[3].error.as_deref().unwrap().contains("DownloadFailed"));

    // The same again exists already: reported with its reference, nothing
    // created, exit 0 (a pipeline that re-runs gets its references).
    let before = sim.stats().assets_created;
    let out = tokio::task::spawn_blocking(move || {
        let out = env.run(&["import", "--group", &group, "--json"], "https://cdn.example/a/cat.png\n");
        (env, out)
    })
    .await
    .unwrap();
    let (env, out) = out;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("queued 0 · existing 1"), "{}", text(&out.stderr));
    let again: Vec<JobRecord> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!((again[0].name.as_str(), again[0].status.as_str()), ("cat", "active"));
    assert_eq!(again[0].asset_ref, jobs[0].asset_ref, "the existing asset's reference");
    assert_eq!(sim.stats().assets_created, before);

    let status = env.run(&["status", "--state", "failed", "--json"], "");
    let failed: Vec<JobRecord> = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].name, "broken-fail");

    let csv = text(&env.run(&["export", "--format", "csv"], "").stdout);
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        "id,name,type,url,group_id,status,asset_id,asset_ref,error,submitted_at,updated_at,profile,format,width,height,duration_secs,fps,size_bytes,sha256,object_key,conformed_from,original_media,conform_recipe,part"
    );
    assert_eq!(lines.count(), 4);
    assert!(csv.contains(",\"Intro clip\",") || csv.contains(",Intro clip,"));
    assert!(csv.contains("asset://asset-"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usage_errors_are_specific_and_exit_2() {
    let sim = Sim::start_local(SimConfig::default()).await.unwrap();
    let env = Env::new(&sim);
    let out = tokio::task::spawn_blocking(move || {
        let no_group = env.run(&["import", "https://cdn.example/a.png"], "");
        let bad_preset = env.run(&["import", "--preset", "nope", "https://cdn.example/a.png"], "");
        let bad_template =
            env.run(&["import", "--group", "g", "--name-template", "{x}", "https://cdn.example/a.png"], "");
        let nothing = env.run(&["import", "--group", "g", "--file", "/dev/null"], "");
        (no_group, bad_preset, bad_template, nothing)
    })
    .await
    .unwrap();
    for (out, want) in [
        (&out.0, "no group: pass --group ID or --preset NAME"),
        (&out.1, "no preset named `nope`"),
        (&out.2, "unknown placeholder `{x}`"),
        (&out.3, "nothing to import"),
    ] {
        assert_eq!(out.status.code(), Some(2), "{want}");
        assert!(text(&out.stderr).contains(want), "{}", text(&out.stderr));
    }
    let out = Command::new(BIN).args(["import", "--type", "picture"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("unknown asset type `picture`"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn groups_are_created_and_listed() {
    let sim = Sim::start_local(SimConfig::default()).await.unwrap();
    let env = Env::new(&sim);
    let (created, listed, too_long) = tokio::task::spawn_blocking(move || {
        let created = env.run(&["groups", "create", "storyboards", "--description", "ep 3"], "");
        let listed = env.run(&["groups", "list"], "");
        let too_long = env.run(&["groups", "create", &"x".repeat(65)], "");
        let empty = env.run(&["groups", "create", "  "], "");
        assert_eq!(empty.status.code(), Some(2), "{}", text(&empty.stderr));
        assert!(text(&empty.stderr).contains("a group needs a name"), "{}", text(&empty.stderr));
        (created, listed, too_long)
    })
    .await
    .unwrap();
    assert!(created.status.success(), "{}", text(&created.stderr));
    let id = text(&created.stdout).trim().to_string();
    assert!(id.starts_with("group-"));
    assert_eq!(text(&listed.stdout), format!("{id}\tstoryboards\n"));
    assert_eq!(too_long.status.code(), Some(2), "bad input is a usage error");
    assert!(text(&too_long.stderr).contains("longer than 64"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_stops_cleanly_and_wait_resumes() {
    let sim =
        Sim::start_local(SimConfig { min_delay_ms: 4000, max_delay_ms: 4000, ..SimConfig::default() }).await.unwrap();
    let group = sim.state().add_group("int");
    let env = Env::new(&sim);
    let urls: String = (0..5).map(|i| format!("https://cdn.example/int/{i}.png\n")).collect();
    let args = ["import", "--wait", "--group", &group].into_iter().chain(urls.lines());
    let child = env.command(args).stdin(Stdio::null()).spawn().unwrap();
    let start = std::time::Instant::now();
    while sim.stats().assets_created < 5 {
        assert!(start.elapsed() < std::time::Duration::from_secs(10));
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let pid = child.id().to_string();
    assert!(Command::new("kill").args(["-INT", &pid]).status().unwrap().success());
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap()).await.unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("interrupted"), "{}", text(&out.stderr));
    let journal = seedance_assets::store::read_jobs(&env.data.join("jobs.db")).unwrap();
    assert_eq!(journal.len(), 5);
    assert!(
        journal.iter().all(|j| j.state == seedance_assets::engine::JobState::Processing),
        "created, not waited for, none Uncertain: {:?}",
        journal.iter().map(|j| j.state).collect::<Vec<_>>()
    );

    let out = tokio::task::spawn_blocking(move || env.run(&["wait", "--json"], "")).await.unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let jobs: Vec<JobRecord> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(jobs.len(), 5);
    assert!(jobs.iter().all(|j| j.status == "active"));
    assert_eq!(sim.stats().assets_created, 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_file_that_cannot_be_written_is_told_once_and_the_import_goes_on() {
    let sim = Sim::start_local(common::quick_sim_config()).await.unwrap();
    let group = sim.state().add_group("logs");
    let env = Env::new(&sim);
    // Today's log file is /dev/full: every write fails with ENOSPC.
    let logs = env.data.join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    std::os::unix::fs::symlink("/dev/full", seedance_assets::logging::log_file(&logs)).unwrap();
    let input = "https://cdn.example/a/cat.png\nhttps://cdn.example/b/dog.png\n";
    let out = tokio::task::spawn_blocking(move || env.run(&["import", "--group", &group, "--wait", "--json"], input))
        .await
        .unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let jobs: Vec<JobRecord> = serde_json::from_slice(&out.stdout).unwrap();
    assert!(jobs.iter().all(|j| j.status == "active") && jobs.len() == 2, "{jobs:?}");
    let warnings: Vec<&str> = stderr.lines().filter(|l| l.contains("cannot write the log")).collect();
    assert_eq!(warnings.len(), 1, "{stderr}");
    assert!(warnings[0].starts_with("warning: cannot write the log in "), "{stderr}");
    assert!(warnings[0].contains("No space left on device"), "{stderr}");
}
