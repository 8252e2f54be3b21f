//! Preflight end to end: the real binary imports lines pointing at an HTTPS
//! server on loopback (its test CA trusted through `tls_ca_file`) into the
//! simulator; only the items that pass are created, as the simulator's
//! request count shows, and the refused lines are named by number.

mod clienv;
mod common;
mod https;
mod mediagen;

use std::process::Command;

use clienv::{BIN, Env, text};

use https::{Behaviour, Server};
use mediagen::{Clip, clip, png, wav};
use seedance_assets::export::JobRecord;
use seedance_assets::sim::Sim;

/// An environment with preflight on, trusting the test CA (a relative
/// `tls_ca_file` is read from the config file's directory).
fn env(sim: &Sim, ca_file: &std::path::Path, extra: &str) -> Env {
    let text = format!(
        "tls_ca_file = \"test-ca.pem\"\n[api]\nbase_url = \"{}\"\n[polling]\nfirst_secs = 0.2\nmax_interval_secs = 0.5\n{extra}",
        sim.base_url()
    );
    let env = Env::from_config(&text, sim.state().api_key());
    std::fs::copy(ca_file, env.dir.path().join("test-ca.pem")).unwrap();
    env
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_items_that_pass_are_created() {
    let sim = Sim::start_local(common::quick_sim_config()).await.unwrap();
    let group = sim.state().add_group("preflight");
    let server = Server::start().await;
    let end = Clip { moov_at_end: true, mdat_bytes: 100_000, ..Clip::new(1280, 720, 8.0, 25) };
    let lines = [
        server.add("/cat.png", png(1024, 768), Behaviour::Honest),
        server.add("/banner.png", png(1920, 200), Behaviour::Honest),
        server.add("/intro.mp4", clip(&end), Behaviour::Honest),
        server.add("/notes.png", b"meeting notes\n".to_vec(), Behaviour::Honest),
        format!("{}/gone.png", server.base),
        server.add("/theme.wav", wav(4.0), Behaviour::Honest),
        format!("{},as video,Video", server.add("/still.png", png(800, 800), Behaviour::Honest)),
        server.add("/blink.mp4", clip(&Clip::new(1280, 720, 1.0, 30)), Behaviour::Honest),
    ];
    let input = format!("# refs\n{}\n", lines.join("\n"));
    let env = env(&sim, &server.ca_file, "");
    let (env, out) = tokio::task::spawn_blocking(move || {
        let out = env.run(&["import", "--group", &group, "--wait", "--json"], &input);
        (env, out)
    })
    .await
    .unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "refused lines make exit 1: {stderr}");
    for want in [
        "stdin:3: refused: 1920×200: height 200 px is below 300 px; aspect 9.6 is above 2.5",
        "stdin:5: refused: not a supported media file (it looks like text); the URL's host calls it image/png",
        "stdin:6: refused: the URL's host answers HTTP 404",
        "stdin:8: refused: a .png file is not a valid Video",
        "stdin:9: refused: duration 1 s is below 2 s",
    ] {
        assert!(stderr.contains(want), "missing {want:?} in:\n{stderr}");
    }
    assert_eq!(sim.stats().create_asset_requests, 3, "only the three good items were created: {stderr}");
    let jobs: Vec<JobRecord> = serde_json::from_slice(&out.stdout).unwrap();
    let got: Vec<_> = jobs
        .iter()
        .map(|j| (j.name.as_str(), j.status.as_str(), j.format.as_deref(), j.width, j.height, j.duration_secs, j.fps))
        .collect();
    assert_eq!(
        got,
        [
            ("cat", "active", Some("png"), Some(1024), Some(768), None, None),
            ("intro", "active", Some("mp4"), Some(1280), Some(720), Some(8.0), Some(25.0)),
            ("theme", "active", Some("wav"), None, None, Some(4.0), None),
        ]
    );
    assert!(jobs.iter().all(|j| j.size_bytes.is_some()));

    // status --json reads the measured properties back from the journal.
    let status = env.run(&["status", "--json"], "");
    let listed: Vec<JobRecord> = serde_json::from_slice(&status.stdout).unwrap();
    // Jobs are numbered as their lines are decided (checks run at once), so
    // the list's order is not the input's: the widths read back are compared.
    let mut widths: Vec<u64> = listed.iter().filter_map(|j| j.width).collect();
    widths.sort_unstable();
    assert_eq!(widths, [1024, 1280]);

    // --no-preflight: the refused banner is created this once.
    let banner = lines[1].clone();
    let group = sim.state().add_group("unchecked");
    let out = tokio::task::spawn_blocking(move || env.run(&["import", "--no-preflight", "--group", &group], &banner))
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(sim.stats().create_asset_requests, 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warn_mode_imports_and_unprobeable_refuse_stops() {
    let sim = Sim::start_local(common::quick_sim_config()).await.unwrap();
    let group = sim.state().add_group("modes");
    let server = Server::start().await;
    let banner = server.add("/banner.png", png(1920, 200), Behaviour::Honest);
    let warn = env(&sim, &server.ca_file, "[preflight]\nmode = \"warn\"\n");
    let g = group.clone();
    let out = tokio::task::spawn_blocking(move || warn.run(&["import", "--group", &g], &banner)).await.unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("warning: stdin:1: 1920×200: height 200 px is below 300 px")
            && stderr.contains("(sent anyway: preflight.mode = \"warn\")"),
        "{stderr}"
    );
    assert_eq!(sim.stats().create_asset_requests, 1);

    // A host that refuses connections cannot be probed: with
    // `unprobeable = "refuse"` nothing is created.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let urls: String = (0..20).map(|i| format!("https://127.0.0.1:{port}/{i}.png\n")).collect();
    let strict = env(&sim, &server.ca_file, "[preflight]\nunprobeable = \"refuse\"\n");
    let out = tokio::task::spawn_blocking(move || strict.run(&["import", "--group", &group], &urls)).await.unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    // Verdicts arrive in any order: which five lines are named first varies.
    let named = |l: &&str| l.starts_with("stdin:") && l.contains(": refused: not checked: cannot reach the URL's host");
    assert_eq!(stderr.lines().filter(named).count(), 5, "{stderr}");
    assert!(stderr.contains("… and 15 more: not checked"), "per-line notes are summarised: {stderr}");
    assert!(stderr.contains("queued 0 · refused 20"), "{stderr}");
    assert!(stderr.contains("nothing to import: every line was refused"), "{stderr}");
    assert_eq!(sim.stats().create_asset_requests, 1);
}

#[test]
fn a_bad_tls_ca_file_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "tls_ca_file = \"missing.pem\"\n[api]\nbase_url = \"http://127.0.0.1:9\"\n").unwrap();
    let out = Command::new(BIN)
        .arg("--config")
        .arg(&config)
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .args(["import", "--group", "g", "https://cdn.example/a.png"])
        .env("SEEDANCE_API_KEY", "k")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("cannot read tls_ca_file") && stderr.contains("missing.pem"), "{stderr}");
}
