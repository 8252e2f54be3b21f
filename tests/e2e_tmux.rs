//! End to end in a real pseudo-terminal: the real binary runs in tmux
//! against the simulator, its URLs served by an HTTPS server with a test
//! certificate (so preflight really checks them); we type a URL, submit,
//! watch the row become Active, paste two more URLs (bracketed paste) and
//! submit them, paste a TAB-separated `URL<TAB>name<TAB>type` line and see
//! its name and type, submit a URL whose host cannot be reached and see it
//! held back until `!`, mark every row, filter, and see `x` count only the
//! shown marked rows, press `q` with an unsubmitted line and get asked,
//! then send SIGHUP and check that the process exits cleanly, the job store
//! holds the jobs and the unsubmitted line is kept as a draft; started
//! again, the draft is marked restored and Enter asks before sending it.
//! `scripts/test.sh` installs tmux.

use std::path::Path;
use std::process::Command;
use std::thread::sleep;
use std::time::{Duration, Instant};

use seedance_assets::engine::JobState;
use seedance_assets::sim::media::{Clip, clip, mp3, png};
use seedance_assets::sim::{Sim, SimConfig};
use seedance_assets::store::read_jobs;

const BIN: &str = env!("CARGO_BIN_EXE_seedance-assets");

mod https;
mod tmux;
use https::{Behaviour, Server};
use tmux::Tmux;

/// The pid of the process named `name` below `root`, from /proc.
fn descendant(root: u32, name: &str) -> Option<u32> {
    let procs: Vec<(u32, u32, String)> = std::fs::read_dir("/proc")
        .ok()?
        .flatten()
        .filter_map(|e| {
            let pid: u32 = e.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(e.path().join("stat")).ok()?;
            // pid (comm) state ppid ...
            let comm = stat[stat.find('(')? + 1..stat.rfind(')')?].to_string();
            let ppid: u32 = stat[stat.rfind(')')? + 2..].split_whitespace().nth(1)?.parse().ok()?;
            Some((pid, ppid, comm))
        })
        .collect();
    let mut frontier = vec![root];
    while let Some(p) = frontier.pop() {
        for (pid, ppid, comm) in &procs {
            if *ppid == p {
                if comm == name {
                    return Some(*pid);
                }
                frontier.push(*pid);
            }
        }
    }
    None
}

fn write_config(path: &Path, ca_file: &Path, base_url: &str, group: &str) {
    let text = format!(
        "tls_ca_file = \"{}\"\n[api]\nbase_url = \"{base_url}\"\n\n[polling]\nfirst_secs = 0.3\nmax_interval_secs = 1.0\n\n[[presets]]\nname = \"e2e\"\ngroup_id = \"{group}\"\ndefault = true\n",
        ca_file.display()
    );
    std::fs::write(path, text).unwrap();
}

#[test]
fn type_submit_see_active_then_sighup_exits_and_keeps_the_journal() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let sim = rt
        .block_on(Sim::start_local(SimConfig { min_delay_ms: 300, max_delay_ms: 800, ..SimConfig::default() }))
        .unwrap();
    let group = sim.state().add_group("e2e");
    let server = rt.block_on(Server::start());
    let hello = server.add("/e2e/hello.png", png(640, 480), Behaviour::Honest);
    let second = server.add("/e2e/second.png", png(800, 600), Behaviour::Honest);
    let third = server.add("/e2e/third.mp4", clip(&Clip::new(1280, 720, 4.0, 24)), Behaviour::Honest);
    let raw = server.add("/e2e/raw.bin", mp3(4.0, 0, true), Behaviour::Honest);
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    write_config(&config, &server.ca_file, &sim.base_url(), &group);
    let data = dir.path().join("data");

    let tmux = Tmux::new("e2e", "e2e");
    // A shell records the exit status (tmux 3.3 does not report it reliably).
    let exit_file = dir.path().join("exit-status");
    let cmd = format!(
        "sh -c '{BIN} --config {} --data-dir {}; echo $? > {}; sleep 30'",
        config.display(),
        data.display(),
        exit_file.display()
    );
    let started = Command::new("tmux")
        .args(["-L", &tmux.socket, "-f", "/dev/null", "new-session", "-d", "-s", "e2e", "-x", "100", "-y", "30", &cmd])
        .env("SEEDANCE_API_KEY", sim.state().api_key())
        .env_remove("NO_COLOR")
        .status()
        .expect("tmux is needed by this test: apt-get install tmux (scripts/test.sh installs it)");
    assert!(started.success());

    tmux.wait_for("the dashboard", Duration::from_secs(20), |s| s.contains("Import") && s.contains("Assets 0/0"));
    tmux.run(&["send-keys", "-t", "e2e", "i"]);
    tmux.run(&["send-keys", "-t", "e2e", "-l", &hello]);
    tmux.wait_for("the typed URL", Duration::from_secs(15), |s| s.contains("✓ 1 ready"));
    tmux.run(&["send-keys", "-t", "e2e", "Enter"]);
    let screen = tmux.wait_for("the row to become Active", Duration::from_secs(30), |s| {
        s.lines().any(|l| l.contains("✓ hello") && l.contains("asset://"))
    });
    assert!(screen.contains("✓1"), "the header counts it: {screen}");
    assert_eq!(sim.stats().assets_created, 1);

    // A multi-line bracketed paste lands in the URL field, not in the keys;
    // the lines are checked once shown (their size beside them).
    tmux.run(&["set-buffer", &format!("{second}\n{third}")]);
    tmux.run(&["paste-buffer", "-p", "-t", "e2e"]);
    tmux.wait_for("the checked URLs", Duration::from_secs(15), |s| {
        s.contains("✓ 2 ready") && s.contains("800×600") && s.contains("1280×720")
    });
    tmux.run(&["send-keys", "-t", "e2e", "Enter"]);
    tmux.wait_for("all three Active", Duration::from_secs(30), |s| s.contains("✓3 │"));
    assert_eq!(sim.stats().assets_created, 3);

    // A TAB-separated line keeps its name and type.
    tmux.run(&["set-buffer", &format!("{raw}\tTabbed name\taudio")]);
    tmux.run(&["paste-buffer", "-p", "-t", "e2e"]);
    tmux.wait_for("the tabbed line's verdict", Duration::from_secs(15), |s| s.contains("✓ Tabbed name · Audio"));
    tmux.run(&["send-keys", "-t", "e2e", "Enter"]);
    let screen = tmux.wait_for("four Active", Duration::from_secs(30), |s| s.contains("✓4 │"));
    assert!(
        screen.lines().any(|l| l.contains("Tabbed name") && l.contains("Audio")),
        "the row has the given name and type: {screen}"
    );

    // A URL whose host cannot be reached is held back, not paid for, until `!`.
    tmux.run(&["set-buffer", &format!("https://127.0.0.1:{closed}/e2e/held.png")]);
    tmux.run(&["paste-buffer", "-p", "-t", "e2e"]);
    tmux.wait_for("the held verdict", Duration::from_secs(15), |s| s.contains("? 1 held"));
    tmux.run(&["send-keys", "-t", "e2e", "Enter"]);
    tmux.wait_for("nothing sent", Duration::from_secs(15), |s| s.contains("nothing to send") && s.contains("1 held"));
    assert_eq!(sim.stats().create_asset_requests, 4, "the held line is not sent");
    // Sent with consent, it is created, and the server cannot download it
    // either: what holding it back would have saved.
    tmux.run(&["send-keys", "-t", "e2e", "!"]);
    tmux.wait_for("the held one failed", Duration::from_secs(30), |s| s.contains("✓4 ✗1 │"));
    assert_eq!(sim.stats().create_asset_requests, 5);

    // Marks on rows the filter hides are not acted on.
    for _ in 0..5 {
        tmux.run(&["send-keys", "-t", "e2e", "Tab"]);
    }
    tmux.run(&["send-keys", "-t", "e2e", "A"]);
    tmux.wait_for("five marked", Duration::from_secs(15), |s| s.contains("5 marked"));
    tmux.run(&["send-keys", "-t", "e2e", "/"]);
    tmux.run(&["send-keys", "-t", "e2e", "-l", "hello"]);
    tmux.run(&["send-keys", "-t", "e2e", "Enter"]);
    tmux.wait_for("the filter", Duration::from_secs(15), |s| s.contains("1 marked (4 hidden)"));
    tmux.run(&["send-keys", "-t", "e2e", "x"]);
    tmux.wait_for("the forget question", Duration::from_secs(15), |s| s.contains("Forget 1 job (1 Active)?"));
    tmux.run(&["send-keys", "-t", "e2e", "n"]);
    tmux.wait_for("the question closed", Duration::from_secs(15), |s| s.contains("cancelled"));

    // `e` exports what the filter shows (written off the event loop, then
    // reported): one CSV row, the filtered job's.
    tmux.run(&["send-keys", "-t", "e2e", "e"]);
    tmux.wait_for("the export", Duration::from_secs(15), |s| s.contains("exported 1 job to"));
    let exports: Vec<_> = std::fs::read_dir(data.join("exports")).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(exports.len(), 1, "{exports:?}");
    let csv = std::fs::read_to_string(&exports[0]).unwrap();
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows.len(), 2, "a header and the one shown job: {csv}");
    assert!(rows[1].contains("hello") && rows[1].contains("asset://asset-"), "{csv}");

    // `q` with an unsubmitted line asks.
    let draft_url = server.add("/e2e/draft.png", png(640, 480), Behaviour::Honest);
    tmux.run(&["set-buffer", &draft_url]);
    tmux.run(&["paste-buffer", "-p", "-t", "e2e"]);
    tmux.wait_for("the pasted draft", Duration::from_secs(15), |s| s.contains("✓ draft · Image"));
    tmux.run(&["send-keys", "-t", "e2e", "q"]);
    tmux.wait_for("the quit question", Duration::from_secs(15), |s| s.contains("discards them and quits"));
    tmux.run(&["send-keys", "-t", "e2e", "n"]);
    tmux.wait_for("the question closed", Duration::from_secs(15), |s| !s.contains("discards them and quits"));

    let shell: u32 = tmux.pane("#{pane_pid}").parse().unwrap();
    let pid = descendant(shell, "seedance-assets").expect("the dashboard runs under the shell");
    let hup = Command::new("kill").args(["-HUP", &pid.to_string()]).status().unwrap();
    assert!(hup.success());
    let start = Instant::now();
    while !exit_file.exists() {
        assert!(start.elapsed() < Duration::from_secs(15), "the dashboard did not exit on SIGHUP");
        sleep(Duration::from_millis(100));
    }
    sleep(Duration::from_millis(100));
    let status = std::fs::read_to_string(&exit_file).unwrap();
    assert_eq!(status.trim(), "0", "exit status after SIGHUP");

    let jobs = read_jobs(&data.join("jobs.db")).unwrap();
    let names: Vec<&str> = jobs.iter().map(|j| j.spec.name.as_str()).collect();
    assert_eq!(names, ["hello", "second", "third", "Tabbed name", "held"]);
    let states: Vec<JobState> = jobs.iter().map(|j| j.state).collect();
    assert_eq!(states, [JobState::Active, JobState::Active, JobState::Active, JobState::Active, JobState::Failed]);
    assert!(jobs[0].asset_ref().unwrap().starts_with("asset://asset-"));
    let draft = std::fs::read_to_string(data.join("draft.txt")).expect("the unsubmitted line is kept as a draft");
    assert_eq!(draft, draft_url);

    // Started again, the draft comes back marked, and Enter asks before
    // sending it: `d` discards it, and nothing is created.
    let again = Tmux::new("e2e-again", "again");
    let cmd = format!("{BIN} --config {} --data-dir {}", config.display(), data.display());
    let started = Command::new("tmux")
        .args([
            "-L",
            &again.socket,
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-s",
            "again",
            "-x",
            "80",
            "-y",
            "24",
            &cmd,
        ])
        .env("SEEDANCE_API_KEY", sim.state().api_key())
        .status()
        .unwrap();
    assert!(started.success());
    again.wait_for("the restored draft", Duration::from_secs(20), |s| {
        s.contains("↺ 1 restored") && s.contains("draft.png")
    });
    again.run(&["set-buffer", &hello]);
    again.run(&["paste-buffer", "-p", "-t", "again"]);
    again.run(&["send-keys", "-t", "again", "Enter"]);
    again.wait_for("the restored question", Duration::from_secs(15), |s| s.contains("restored from last time"));
    assert_eq!(sim.stats().create_asset_requests, 5, "nothing is sent before the answer");
    again.run(&["send-keys", "-t", "again", "d"]);
    again.wait_for("the draft discarded", Duration::from_secs(15), |s| {
        s.contains("existing 1") && !s.contains("draft.png")
    });
    assert_eq!(sim.stats().create_asset_requests, 5, "the pasted line exists already; the draft was discarded");
}

/// `--demo` as a new user first sees it, at 80×24: the sample lines are
/// really checked (their measurements beside them, the banner refused as
/// conformable), Enter creates the four that pass, `C` conforms the banner
/// (padded, through the demo's bucket) and creates it, and a URL elsewhere
/// is held back: the demo looks no name up.
#[test]
fn the_demo_checks_its_own_sample_files_and_looks_nothing_up() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(&config, "").unwrap();
    let tmux = Tmux::new("demo", "demo");
    let cmd = format!("{BIN} --config {} --data-dir {} --demo", config.display(), dir.path().join("data").display());
    let started = Command::new("tmux")
        .args(["-L", &tmux.socket, "-f", "/dev/null", "new-session", "-d", "-s", "demo", "-x", "80", "-y", "24", &cmd])
        .status()
        .expect("tmux is needed by this test");
    assert!(started.success());
    let screen = tmux.wait_for("the checked sample lines", Duration::from_secs(20), |s| {
        s.contains("✓ cat · Image · png 1024") && s.contains("4 ready · ✗ 1 bad")
    });
    assert!(screen.contains("/media/intro.mp4"), "{screen}");
    tmux.run(&["send-keys", "-t", "demo", "Enter"]);
    tmux.wait_for("the four created", Duration::from_secs(20), |s| s.contains("queued 4 · refused 1"));
    let screen = tmux.screen();
    assert!(
        screen.contains("banner.png") && screen.contains("✗ conformable: 1920×200"),
        "the refused line stays: {screen}"
    );
    // C conforms it (padded to an aspect the server takes), through the
    // demo's bucket, and the line leaves the editor once it is queued.
    tmux.run(&["send-keys", "-t", "demo", "C"]);
    tmux.wait_for("the banner conformed and queued", Duration::from_secs(30), |s| {
        s.contains("queued 1") && s.lines().nth(2).is_some_and(|l| !l.contains("banner.png"))
    });
    // Shown once written: the job store has it, with what was done.
    let jobs = seedance_assets::store::read_jobs(&dir.path().join("data/demo/jobs.db")).unwrap();
    let banner = jobs.iter().find(|j| j.spec.name == "banner").expect("the banner was created, conformed");
    let record = banner.spec.conform.as_ref().expect("its recipe is recorded");
    assert!(record.recipe.starts_with("padded 1920×200 to 1920×772"), "{record:?}");
    tmux.run(&["set-buffer", "https://media.example/elsewhere.png"]);
    tmux.run(&["paste-buffer", "-p", "-t", "demo"]);
    tmux.wait_for("the held line", Duration::from_secs(20), |s| s.contains("? 1 held"));
    tmux.run(&["send-keys", "-t", "demo", "Enter"]);
    tmux.wait_for("nothing sent", Duration::from_secs(20), |s| s.contains("nothing to send"));
    tmux.run(&["send-keys", "-t", "demo", "q"]);
    tmux.wait_for("the quit question", Duration::from_secs(10), |s| s.contains("discards them and quits"));
    tmux.run(&["send-keys", "-t", "demo", "d"]);
}
