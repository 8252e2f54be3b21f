//! `--demo` means one thing for every command: the demo data dir and
//! config, for reading commands too; a running demo's data is never
//! deleted by another; exports survive; no promise of a resume.

mod clienv;
mod common;

use std::process::{Command, Stdio};

use clienv::{Env, blocking, text};
use seedance_assets::export::JobRecord;
use seedance_assets::sim::Sim;

fn records(out: &std::process::Output) -> Vec<JobRecord> {
    assert!(out.status.success(), "{}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out.stdout)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_command_reads_the_demo_data_and_a_running_demo_is_left_alone() {
    let sim = Sim::start_local(common::quick_sim_config()).await.unwrap();
    let group = sim.state().add_group("real");
    let env = Env::new(&sim);
    blocking(move || {
        let out = env.run(&["import", "--group", &group, "https://cdn.example/real.png"], "");
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(records(&env.run(&["--demo", "status", "--json"], "")).is_empty(), "not the real journal");
        let presets: serde_json::Value =
            serde_json::from_slice(&env.run(&["--demo", "presets", "list", "--json"], "").stdout).unwrap();
        assert_eq!(presets, serde_json::json!([]), "not the real config");

        // Another demo process holds the demo data: nothing of it is deleted.
        let demo = env.data.join("demo");
        std::fs::create_dir_all(demo.join("exports")).unwrap();
        std::fs::write(demo.join("jobs.db"), "").unwrap();
        std::fs::write(demo.join("exports/kept.csv"), "id\n").unwrap();
        let lock = std::fs::File::create(demo.join("demo.lock")).unwrap();
        lock.try_lock().unwrap();
        let out = env.run(&["--demo", "import", "https://media.example/demo/a.png"], "");
        assert_eq!(out.status.code(), Some(5), "{}", text(&out.stderr));
        assert!(text(&out.stderr).contains("another --demo process is running"), "{}", text(&out.stderr));
        assert!(demo.join("jobs.db").exists());
        drop(lock);

        // The demo looks no name up: a URL elsewhere is held back, saying why ...
        let out = env.run(&["--demo", "import", "https://media.example/demo/cat.png"], "");
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("held back: not checked") && stderr.contains("no network look-ups"), "{stderr}");
        // ... and created in the simulator only when the user says so.
        let out = env.run(&["--demo", "import", "--allow-unchecked", "https://media.example/demo/cat.png"], "");
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(demo.join("exports/kept.csv").exists(), "earlier demo exports are kept");
        let demo_jobs = records(&env.run(&["--demo", "status", "--json"], ""));
        assert_eq!(demo_jobs.iter().map(|j| j.name.as_str()).collect::<Vec<_>>(), ["cat"]);
        let real_jobs = records(&env.run(&["status", "--json"], ""));
        assert_eq!(real_jobs.iter().map(|j| j.name.as_str()).collect::<Vec<_>>(), ["real"]);
        let presets: serde_json::Value =
            serde_json::from_slice(&env.run(&["--demo", "presets", "list", "--json"], "").stdout).unwrap();
        assert_eq!(presets[0]["name"], "demo");
        let csv = text(&env.run(&["--demo", "export"], "").stdout);
        assert!(csv.contains(",cat,") && !csv.contains("real"), "{csv}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_demo_does_not_promise_a_resume() {
    let env = Env::with("https://octopusx.ai", "unused", "");
    let child = env
        .command(["--demo", "import", "--wait", "--allow-unchecked", "https://media.example/demo/slow.png"])
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    let store = env.data.join("demo/jobs.db");
    let start = std::time::Instant::now();
    // Wait until the job is created (the demo simulator then takes 2–8 s).
    let processing = || {
        seedance_assets::store::read_jobs(&store)
            .is_ok_and(|jobs| jobs.iter().any(|j| j.state == seedance_assets::engine::JobState::Processing))
    };
    while !processing() {
        assert!(start.elapsed() < std::time::Duration::from_secs(20), "the demo job was not created");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let pid = child.id().to_string();
    assert!(Command::new("kill").args(["-INT", &pid]).status().unwrap().success());
    let out = blocking(move || child.wait_with_output().unwrap()).await;
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("demo data is reset at the next --demo start"), "{stderr}");
    assert!(!stderr.contains("resumes"), "{stderr}");
}
