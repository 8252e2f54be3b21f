//! The dashboard's watched folders in a real pseudo-terminal (tmux, 80×24):
//! a folder added with `w` `a` is watched at once (a file already there and
//! one written after are imported, a too-small one refused and counted),
//! the list survives a restart, which imports nothing again, and `x` `y`
//! removes it. The real binary, the simulator and its bucket.

mod clienv;
mod common;
mod storage_support;
mod tmux;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use clienv::{BIN, Env};
use seedance_assets::sim::Sim;
use storage_support::png;
use tmux::Tmux;

/// Starts the dashboard in `session` at 80×24; its exit status goes to `exit`.
fn dashboard(tmux: &Tmux, session: &str, env: &Env, exit: &Path) {
    let cmd = format!(
        "sh -c '{BIN} --config {} --data-dir {}; echo $? > {}; sleep 30'",
        env.config.display(),
        env.data.display(),
        exit.display()
    );
    let mut c = Command::new("tmux");
    c.args(["-L", &tmux.socket, "-f", "/dev/null", "new-session", "-d", "-s", session, "-x", "80", "-y", "24", &cmd]);
    c.env("SEEDANCE_API_KEY", &env.key).env_remove("SEEDANCE_PROFILE").env_remove("NO_COLOR");
    c.envs(env.vars.iter().map(|(k, v)| (k, v)));
    assert!(c.status().expect("tmux is needed by this test").success());
}

fn keys(tmux: &Tmux, session: &str, keys: &[&str]) {
    for k in keys {
        tmux.run(&["send-keys", "-t", session, k]);
    }
}

fn wait_file(path: &Path, limit: Duration) -> String {
    let start = Instant::now();
    loop {
        if let Ok(s) = std::fs::read_to_string(path)
            && !s.is_empty()
        {
            return s;
        }
        assert!(start.elapsed() < limit, "{} was not written", path.display());
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn folders_added_in_the_dashboard_are_watched_kept_across_a_restart_and_removed() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sim = rt.block_on(Sim::start_local(common::quick_sim_config())).unwrap();
    let group = sim.state().add_group("farm");
    let env =
        Env::with_sim_bucket(&sim, &format!("[[presets]]\nname = \"farm\"\ngroup_id = \"{group}\"\ndefault = true\n"));
    let media = env.dir.path().join("renders");
    std::fs::create_dir_all(&media).unwrap();
    std::fs::write(media.join("before.png"), png(640, 480, 1)).unwrap();
    let tmux = Tmux::new("watchdash", "one");

    let exit = env.dir.path().join("exit-1");
    dashboard(&tmux, "one", &env, &exit);
    tmux.wait_for("the dashboard", Duration::from_secs(20), |s| s.contains("Import"));
    keys(&tmux, "one", &["w"]);
    tmux.wait_for("the empty view", Duration::from_secs(10), |s| s.contains("no watched folders: a adds one"));
    keys(&tmux, "one", &["a"]);
    tmux.run(&["send-keys", "-t", "one", "-l", media.to_str().unwrap()]);
    keys(&tmux, "one", &["Enter"]);
    tmux.wait_for("the file already there, imported", Duration::from_secs(30), |s| s.contains("· 1 job"));
    std::fs::write(media.join("after.png"), png(800, 600, 2)).unwrap();
    std::fs::write(media.join("tiny.png"), png(40, 40, 3)).unwrap();
    let screen = tmux.wait_for("the new file imported and the tiny one refused", Duration::from_secs(30), |s| {
        s.contains("· 2 jobs") && s.contains("1 refused")
    });
    assert!(screen.contains(&group[..20]), "the folder's group is shown: {screen}");
    keys(&tmux, "one", &["Escape"]);
    // The refusal is told in the log (its end is on screen, wrapped).
    tmux.wait_for("the refusal in the log", Duration::from_secs(10), |s| s.contains("is below 300 px"));
    // The jobs exist; their creations follow.
    let start = Instant::now();
    while sim.stats().assets_created < 2 && start.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(100));
    }
    let created = sim.stats().assets_created;
    assert_eq!(created, 2, "the two good files, once each");
    keys(&tmux, "one", &["q"]);
    assert_eq!(wait_file(&exit, Duration::from_secs(30)).trim(), "0");

    // The CLI sees the stored folder and its count.
    let out = env.command(["watch", "list"]).output().unwrap();
    let listed = clienv::text(&out.stdout);
    assert!(listed.contains("renders") && listed.contains("2 jobs"), "{listed}");

    // A restart watches it again and imports nothing that was imported.
    let exit = env.dir.path().join("exit-2");
    drop(tmux);
    let tmux = Tmux::new("watchdash2", "two");
    dashboard(&tmux, "two", &env, &exit);
    tmux.wait_for("the dashboard again", Duration::from_secs(20), |s| s.contains("Import"));
    keys(&tmux, "two", &["w"]);
    tmux.wait_for("the stored folder", Duration::from_secs(10), |s| s.contains("renders") && s.contains("2 jobs"));
    // Three settle times: anything handed over again would be sent by now.
    std::thread::sleep(Duration::from_secs(9));
    assert_eq!(sim.stats().assets_created, created, "nothing imported twice after a restart");
    // A folder stored from a shell while the dashboard runs is watched (and
    // kept when the dashboard changes the list); one removed there stops.
    let plates = env.dir.path().join("plates");
    std::fs::create_dir_all(&plates).unwrap();
    let out = env.command(["watch", "add", plates.to_str().unwrap(), "--group", &group]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", clienv::text(&out.stderr));
    tmux.wait_for("the folder added in a shell", Duration::from_secs(10), |s| s.contains("plates"));
    std::fs::write(plates.join("plate.png"), png(900, 600, 5)).unwrap();
    tmux.wait_for("its file imported", Duration::from_secs(30), |s| s.matches("· 1 job").count() == 1);
    // The job exists; its creation follows.
    let start = Instant::now();
    while sim.stats().assets_created < created + 1 {
        assert!(start.elapsed() < Duration::from_secs(20), "the plate was never created");
        std::thread::sleep(Duration::from_millis(100));
    }
    let out = env.command(["watch", "remove", plates.to_str().unwrap()]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", clienv::text(&out.stderr));
    tmux.wait_for("the folder removed in a shell", Duration::from_secs(10), |s| !s.contains("plates"));
    std::fs::write(plates.join("after-remove.png"), png(900, 600, 6)).unwrap();
    std::thread::sleep(Duration::from_secs(5));
    assert_eq!(sim.stats().assets_created, created + 1, "a folder removed in a shell is not watched");
    let created = created + 1;
    // A change made in a shell just before a failed add in the view is kept
    // and watched (the view reads the list again either way).
    let takes = env.dir.path().join("takes");
    std::fs::create_dir_all(&takes).unwrap();
    let out = env.command(["watch", "add", takes.to_str().unwrap(), "--group", &group]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    keys(&tmux, "two", &["a"]);
    tmux.run(&["send-keys", "-t", "two", "-l", "/no/such/folder"]);
    keys(&tmux, "two", &["Enter"]);
    tmux.wait_for("the refusal, whole, and the shell's folder", Duration::from_secs(10), |s| {
        s.contains("No such file or directory") && s.contains("takes")
    });
    keys(&tmux, "two", &["Escape"]);
    let out = env.command(["watch", "remove", takes.to_str().unwrap()]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    tmux.wait_for("the shell's folder removed", Duration::from_secs(10), |s| !s.contains("takes"));
    keys(&tmux, "two", &["x"]);
    tmux.wait_for("the question", Duration::from_secs(10), |s| s.contains("stop watching"));
    keys(&tmux, "two", &["y"]);
    tmux.wait_for("the folder gone", Duration::from_secs(10), |s| s.contains("no watched folders"));
    std::fs::write(media.join("later.png"), png(700, 500, 4)).unwrap();
    std::thread::sleep(Duration::from_secs(5));
    assert_eq!(sim.stats().assets_created, created, "a removed folder is not watched");
    keys(&tmux, "two", &["Escape", "q"]);
    assert_eq!(wait_file(&exit, Duration::from_secs(30)).trim(), "0");
    let out = env.command(["watch", "list"]).output().unwrap();
    assert!(clienv::text(&out.stdout).trim().is_empty(), "{}", clienv::text(&out.stdout));
}
