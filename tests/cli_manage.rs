//! `retry` and `forget` through the engine, with their questions; `--json`
//! on `groups` and `presets`; the simulator's start-up line.

mod clienv;
mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use clienv::{BIN, Env, blocking, text};
use seedance_assets::api::AssetType;
use seedance_assets::engine::{Job, NewJob};
use seedance_assets::export::JobRecord;
use seedance_assets::sim::{Sim, SimConfig};
use serde_json::Value;

/// Appends a job to an old release's journal (the next run migrates it).
fn journal_job(env: &Env, job: &Job) {
    std::fs::create_dir_all(&env.data).unwrap();
    let line = serde_json::json!({ "job": job }).to_string() + "\n";
    use std::io::Write;
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(env.data.join("journal.jsonl"))
        .unwrap()
        .write_all(line.as_bytes())
        .unwrap();
}

fn job(id: u64, group: &str, state: seedance_assets::engine::JobState, error: &str) -> Job {
    let spec = NewJob {
        url: format!("https://cdn.example/r/{id}.png"),
        name: format!("r{id}"),
        asset_type: AssetType::Image,
        group_id: group.into(),
        profile: "default".into(),
        local: None,
        media: None,
        conform: None,
    };
    let mut j = Job::new(id, spec, jiff::Timestamp::now());
    j.state = state;
    j.error = Some(error.into());
    j
}

fn records(out: &std::process::Output) -> Vec<JobRecord> {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {} / {}", text(&out.stdout), text(&out.stderr)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_asks_before_a_possible_duplicate_and_forget_asks_always() {
    use seedance_assets::engine::JobState::*;
    let sim = Sim::start_local(common::quick_sim_config()).await.unwrap();
    let group = sim.state().add_group("retry");
    let env = Env::new(&sim);
    journal_job(
        &env,
        &job(1, &group, Uncertain, "outcome unknown (network error); retry only if you accept a possible duplicate"),
    );
    journal_job(&env, &job(2, &group, Failed, "InvalidParameter.DownloadFailed"));
    journal_job(&env, &job(3, &group, Rejected, "rejected: NotFound.group_id"));

    let env = blocking(move || {
        // A script (no terminal) without --yes: refused before anything is sent.
        let out = env.run(&["retry", "--state", "uncertain"], "");
        assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
        assert!(text(&out.stderr).contains("pass --yes"), "{}", text(&out.stderr));
        env
    })
    .await;
    assert_eq!(sim.stats().create_asset_requests, 0);

    let env = blocking(move || {
        // Failed alone cannot duplicate: no question; the job is created again.
        let out = env.run(&["retry", "2", "--json"], "");
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let got = records(&out);
        assert_eq!(got.len(), 1);
        assert_eq!((got[0].id, got[0].status.as_str()), (2, "processing"));
        env
    })
    .await;
    assert_eq!(sim.stats().create_asset_requests, 1);

    let env = blocking(move || {
        let out = env.run(&["retry", "--state", "uncertain", "--yes", "--json"], "");
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        assert_eq!(records(&out)[0].id, 1);
        env
    })
    .await;
    assert_eq!(sim.stats().create_asset_requests, 2);

    blocking(move || {
        let out = env.run(&["forget", "3"], "");
        assert_eq!(out.status.code(), Some(2), "asks, and a script cannot answer");
        let out = env.run(&["forget", "--state", "rejected", "--yes", "--json"], "");
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        assert_eq!(records(&out).iter().map(|r| r.id).collect::<Vec<_>>(), [3]);
        let left = records(&env.run(&["status", "--json"], ""));
        assert_eq!(left.iter().map(|r| r.id).collect::<Vec<_>>(), [1, 2], "forgotten through the engine's journal");
        let out = env.run(&["forget", "--yes", "99"], "");
        assert_eq!(out.status.code(), Some(0));
        assert!(text(&out.stderr).contains("nothing to forget"));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn groups_and_presets_as_json() {
    let sim = Sim::start_local(SimConfig::default()).await.unwrap();
    let mut env = Env::new(&sim);
    let with_presets = format!(
        "{}\n[[presets]]\nname = \"refs\"\ngroup_id = \"group-1\"\nasset_type = \"Image\"\ndefault = true\n\n[[presets]]\nname = \"clips\"\ngroup_id = \"group-2\"\n",
        std::fs::read_to_string(&env.config).unwrap()
    );
    std::fs::write(&env.config, with_presets).unwrap();
    env.key = sim.state().api_key().to_string();
    blocking(move || {
        let out = env.run(&["groups", "create", "boards", "--json"], "");
        assert!(out.status.success(), "{}", text(&out.stderr));
        let created: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(created["id"].as_str().unwrap().starts_with("group-"));
        assert_eq!(created["name"], "boards");
        let listed: Value = serde_json::from_slice(&env.run(&["groups", "list", "--json"], "").stdout).unwrap();
        assert_eq!(listed, serde_json::json!([created]));

        let presets: Value = serde_json::from_slice(&env.run(&["presets", "list", "--json"], "").stdout).unwrap();
        assert_eq!(presets[0]["name"], "refs");
        assert_eq!(presets[0]["selected"], true);
        assert_eq!(presets[1]["selected"], false);
        let one: Value = serde_json::from_slice(&env.run(&["presets", "show", "clips", "--json"], "").stdout).unwrap();
        assert_eq!(one["group_id"], "group-2");
        assert_eq!(one["asset_type"], "infer");
    })
    .await;
}

/// One rule for presets: only the one marked `default = true` applies
/// unasked. Being first in the file makes none the default — `presets list`,
/// `presets show` and a plain `import` all say the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_a_preset_marked_default_applies_unasked() {
    let sim = Sim::start_local(SimConfig::default()).await.unwrap();
    let group = sim.state().add_group("marked");
    let env = Env::with(
        &sim.base_url(),
        sim.state().api_key(),
        &format!(
            "[[presets]]\nname = \"first\"\ngroup_id = \"{group}\"\n\n[[presets]]\nname = \"second\"\ngroup_id = \"{group}\"\n"
        ),
    );
    blocking(move || {
        let list = text(&env.run(&["presets", "list"], "").stdout);
        assert!(!list.contains('*'), "no preset is marked, so none is shown as the default: {list}");
        let listed: Value = serde_json::from_slice(&env.run(&["presets", "list", "--json"], "").stdout).unwrap();
        assert!(listed.as_array().unwrap().iter().all(|p| p["selected"] == false && p["default"] != true), "{listed}");
        // A plain import does not take the first preset's group.
        let out = env.run(&["import", "https://media.example/a.png"], "");
        assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
        assert!(text(&out.stderr).contains("group"), "{}", text(&out.stderr));
        // Marked, it is used (and shown as such).
        let marked = std::fs::read_to_string(&env.config)
            .unwrap()
            .replace("name = \"second\"\n", "name = \"second\"\ndefault = true\n");
        std::fs::write(&env.config, marked).unwrap();
        let list = text(&env.run(&["presets", "list"], "").stdout);
        assert!(list.lines().any(|l| l.contains('*') && l.contains("second")), "{list}");
        let out = env.run(&["import", "--json", "https://media.example/a.png"], "");
        assert!(out.status.success(), "{}", text(&out.stderr));
        let jobs: Vec<JobRecord> = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(jobs[0].group_id, group);
    })
    .await;
}

/// The README's line: `eval "$(seedance-assets sim --port 0 --background)"`
/// returns, and what it sets up is read by every command: the base URL
/// (over the config's), the key and the default group.
#[test]
fn a_background_simulator_sets_up_the_shell_that_evals_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    // A config for the real service: SEEDANCE_BASE_URL must win over it.
    std::fs::write(&config, "[api]\nbase_url = \"https://api.example/\"\n[polling]\nfirst_secs = 0.2\n").unwrap();
    let script = r#"
        set -e
        eval "$("$BIN" sim --port 0 --background 2>/dev/null)"
        trap 'kill "$SEEDANCE_SIM_PID"' EXIT
        "$BIN" --config "$CFG" --data-dir "$DATA" import --no-preflight --wait --json https://cdn.example/a.png
        "$BIN" --config "$CFG" --data-dir "$DATA" config show --json
        echo "pid=$SEEDANCE_SIM_PID"
    "#;
    let started = std::time::Instant::now();
    let out = Command::new("bash")
        .args(["-c", script])
        .env("BIN", BIN)
        .env("CFG", &config)
        .env("DATA", dir.path().join("data"))
        .env_remove("SEEDANCE_API_KEY")
        .env_remove("SEEDANCE_BASE_URL")
        .env_remove("SEEDANCE_GROUP")
        .env_remove("SEEDANCE_PROFILE")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(started.elapsed() < std::time::Duration::from_secs(60), "the eval line returned");
    let job: Vec<JobRecord> = serde_json::Deserializer::from_str(&stdout).into_iter().next().unwrap().unwrap();
    assert_eq!(job[0].status, "active", "created on the simulator: {stderr}");
    assert!(job[0].group_id.starts_with("group-"), "the group came from SEEDANCE_GROUP: {:?}", job[0]);
    let shown: Value = serde_json::Deserializer::from_str(&stdout).into_iter().nth(1).unwrap().unwrap();
    let base = shown.as_array().unwrap().iter().find(|r| r["key"] == "api.base_url").unwrap().clone();
    assert!(base["value"].as_str().unwrap().starts_with("http://127.0.0.1:"), "{base}");
    assert_eq!((base["source"].as_str(), base["env"].as_str()), (Some("env"), Some("SEEDANCE_BASE_URL")), "{base}");
    // The trap stopped it: the process is gone.
    let pid = stdout.lines().find_map(|l| l.strip_prefix("pid=")).unwrap().trim().to_string();
    std::thread::sleep(std::time::Duration::from_millis(300));
    // Gone, or a zombie waiting for a reaper (it was handed to init).
    let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let running = state.rsplit(')').next().and_then(|rest| rest.split_whitespace().next()).is_some_and(|s| s != "Z");
    assert!(!running, "kill $SEEDANCE_SIM_PID stopped the simulator: {state}");
}

#[test]
fn the_simulator_prints_its_start_up_line_on_stdout() {
    for json in [true, false] {
        let mut args = vec!["sim", "--port", "0", "--key", "k 1"];
        if json {
            args.push("--json");
        }
        let mut child = Command::new(BIN).args(&args).stdout(Stdio::piped()).stderr(Stdio::null()).spawn().unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        child.kill().unwrap();
        child.wait().unwrap();
        if json {
            let v: Value = serde_json::from_str(&line).unwrap();
            assert!(v["base_url"].as_str().unwrap().starts_with("http://127.0.0.1:"), "{line}");
            assert_eq!(v["api_key"], "k 1");
            assert!(v["group_id"].as_str().unwrap().starts_with("group-"));
        } else {
            // A line a shell can `eval`.
            const SHOW: &str =
                "eval \"$1\"; printf '%s|%s|%s' \"$SEEDANCE_BASE_URL\" \"$SEEDANCE_API_KEY\" \"$SEEDANCE_GROUP\"";
            let out = Command::new("bash").args(["-c", SHOW, "-", line.trim()]).output().unwrap();
            let vars = text(&out.stdout);
            let parts: Vec<&str> = vars.split('|').collect();
            assert!(parts[0].starts_with("http://127.0.0.1:"), "{vars}");
            assert_eq!(parts[1], "k 1");
            assert!(parts[2].starts_with("group-"), "{vars}");
        }
    }
}
