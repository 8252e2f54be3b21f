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
    assert!(
        shown.contains("EXIT STATUS") && shown.contains("130"),
        "the exit codes are the page's EXIT STATUS: {shown}"
    );
    assert!(!shown.contains("EXTRA"), "{shown}");
}

/// `man --dir` writes a page for every command and subcommand the help
/// lists, each one valid roff with its EXIT STATUS, found by `man -M`.
#[test]
fn man_dir_writes_a_page_per_subcommand() {
    let dir = tempfile::tempdir().unwrap();
    let man1 = dir.path().join("man1");
    let listed = run(&["man", "--dir", man1.to_str().unwrap()]);
    let mut pages: Vec<String> =
        std::fs::read_dir(&man1).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    pages.sort();
    assert_eq!(listed.lines().count(), pages.len(), "{listed}");
    // Every subcommand of the top-level help, and the nested ones.
    let help = run(&["--help"]);
    let commands = help.split("Commands:").nth(1).unwrap().split("Options:").next().unwrap();
    let mut wanted: Vec<String> = commands
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .map(|c| format!("seedance-assets-{c}.1"))
        .collect();
    wanted.extend(
        ["seedance-assets.1", "seedance-assets-config-show.1", "seedance-assets-groups-create.1"].map(String::from),
    );
    wanted.extend(["seedance-assets-presets-list.1".to_string()]);
    for w in &wanted {
        assert!(pages.contains(w), "{w} is missing from {pages:?}");
    }
    assert!(!pages.iter().any(|p| p.contains("help")), "no pages for clap's help: {pages:?}");
    for p in &pages {
        let out = tool("groff", "apt-get install groff-base")
            .args(["-man", "-Tutf8", "-ww", "-z"])
            .arg(man1.join(p))
            .output()
            .unwrap();
        assert!(out.status.success() && out.stderr.is_empty(), "{p}: {}", text(&out.stderr));
        assert!(std::fs::read_to_string(man1.join(p)).unwrap().contains(".SH \"EXIT STATUS\""), "{p}");
    }
    let out = tool("man", "apt-get install man-db")
        .arg("-M")
        .arg(dir.path())
        .arg("seedance-assets-import")
        .env("MANPAGER", "cat")
        .env("PAGER", "cat")
        .output()
        .unwrap();
    let shown = text(&out.stdout);
    assert!(out.status.success() && shown.contains("--allow-duplicates"), "man -M: {}{shown}", text(&out.stderr));
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
