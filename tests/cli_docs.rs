//! Shell completions and the man page, generated from the clap definitions.

mod clienv;

use std::process::Command;

use clienv::{BIN, text};

fn run(args: &[&str]) -> String {
    let out = Command::new(BIN).args(args).output().unwrap();
    assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
    text(&out.stdout)
}

/// A tool the test needs; missing, the test fails naming how to install it.
fn tool(name: &str, install: &str) -> Command {
    let found = Command::new("sh").args(["-c", &format!("command -v {name}")]).output().unwrap().status.success();
    assert!(found, "`{name}` is needed by this test: {install} (or run scripts/test.sh, which installs it)");
    Command::new(name)
}

#[test]
fn bash_completion_parses_and_offers_states() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("seedance-assets.bash");
    std::fs::write(&script, run(&["completions", "bash"])).unwrap();
    let out = tool("bash", "apt-get install bash").arg("-n").arg(&script).output().unwrap();
    assert!(out.status.success(), "bash -n: {}", text(&out.stderr));
    let body = std::fs::read_to_string(&script).unwrap();
    assert!(body.contains("uncertain") && body.contains("processing"), "--state values are offered");
    assert!(body.contains("infer") && body.contains("Video"), "--type values are offered");
    for shell in ["zsh", "fish", "elvish", "powershell"] {
        assert!(run(&["completions", shell]).contains("seedance-assets"), "{shell}");
    }
}

#[test]
fn the_man_page_renders() {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("seedance-assets.1");
    let roff = run(&["man"]);
    assert!(roff.starts_with(".ie") || roff.contains(".TH"), "roff: {}", &roff[..200.min(roff.len())]);
    std::fs::write(&page, &roff).unwrap();
    let out =
        tool("groff", "apt-get install groff-base").args(["-man", "-Tutf8", "-ww", "-z"]).arg(&page).output().unwrap();
    assert!(out.status.success() && out.stderr.is_empty(), "groff: {}", text(&out.stderr));
    let out = tool("man", "apt-get install man-db")
        .arg("-l")
        .arg(&page)
        .env("MANPAGER", "cat")
        .env("PAGER", "cat")
        .output()
        .unwrap();
    assert!(out.status.success(), "man -l: {}", text(&out.stderr));
    let shown = text(&out.stdout);
    assert!(shown.contains("seedance-assets"), "{shown}");
    assert!(shown.contains("Exit codes"), "the exit-code table is in the page: {shown}");
}

#[test]
fn help_ends_with_the_exit_code_table() {
    let help = run(&["--help"]);
    assert!(help.trim_end().ends_with(seedance_assets::exit::TABLE.trim_end()), "{help}");
}

#[test]
fn help_and_the_man_page_call_the_sqlite_store_the_job_store() {
    let subcommands = ["import", "wait", "status", "export", "retry", "forget", "check", "config", "groups", "sim"];
    let mut shown = run(&["--help"]);
    for sub in subcommands {
        shown.push_str(&run(&[sub, "--help"]));
    }
    shown.push_str(&run(&["man"]));
    assert!(shown.contains("Show jobs from the job store"), "{shown}");
    assert!(shown.contains("Directory of the job store, groups and logs"), "{shown}");
    assert!(!shown.to_lowercase().contains("journal"), "{shown}");
}
