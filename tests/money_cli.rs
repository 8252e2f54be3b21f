//! Never pay twice, as a script sees it: the real binary against the
//! simulator with a journal that cannot be written (a file-size limit, and a
//! full tmpfs where mounting is allowed), `kill -9` at three moments, a wrong
//! key, a server that is down, and lines whose type contradicts the URL.

mod clienv;
mod common;

use std::collections::{HashMap, HashSet};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use clienv::Env;
use seedance_assets::engine::{Job, JobState};
use seedance_assets::sim::{Sim, SimConfig};
use seedance_assets::store::read_jobs;

/// An environment with a list of URLs to import.
struct Batch {
    env: Env,
    list: PathBuf,
}

impl Batch {
    fn new(base_url: &str, key: &str, urls: &[String]) -> Batch {
        Batch::with_data(base_url, key, urls, None)
    }

    fn with_data(base_url: &str, key: &str, urls: &[String], data: Option<PathBuf>) -> Batch {
        let mut env = Env::with(base_url, key, "[limits]\ncreate_per_sec = 30\nmax_creating = 10\n");
        let list = env.dir.path().join("urls.txt");
        std::fs::write(&list, urls.join("\n")).unwrap();
        if let Some(data) = data {
            env.data = data;
        }
        Batch { env, list }
    }

    fn command(&self, args: &[&str]) -> Command {
        self.env.command(args)
    }

    fn import(&self, group: &str) -> Command {
        self.command(&["import", "--file", self.list.to_str().unwrap(), "--group", group, "--wait"])
    }

    fn journal(&self) -> Vec<Job> {
        read_jobs(&self.env.data.join("jobs.db")).unwrap()
    }
}

fn urls(n: usize, prefix: &str) -> Vec<String> {
    (0..n).map(|i| format!("https://media.example/{prefix}/{i}.png")).collect()
}

async fn output(mut c: Command) -> Output {
    tokio::task::spawn_blocking(move || c.output().unwrap()).await.unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn key_of(j: &Job) -> String {
    format!("{}|{}|{}", j.spec.group_id, j.spec.url, j.spec.name)
}

/// Every creation the simulator made is held by the journal as sent
/// (not Queued): nothing was paid for that the program does not know of.
fn journal_holds_every_creation(sim: &Sim, jobs: &[Job]) {
    let by_key: HashMap<String, &Job> = jobs.iter().map(|j| (key_of(j), j)).collect();
    for (key, created) in sim.stats().create_log {
        if created {
            let job = by_key.get(&key).unwrap_or_else(|| panic!("{key} was created but is not in the journal"));
            assert_ne!(job.state, JobState::Queued, "{key} was created but the journal says Queued");
        }
    }
}

/// After the journal came back: `wait` finishes what was journaled, a
/// second `import` of the same list creates only what was never saved, and
/// nothing is created twice.
async fn recover_and_check(env: &Batch, sim: &Sim, group: &str, n: usize) {
    let out = output(env.command(&["wait"])).await;
    assert!(matches!(out.status.code(), Some(0 | 1)), "wait: {}", text(&out.stderr));
    let out = output(env.import(group)).await;
    assert!(matches!(out.status.code(), Some(0 | 1)), "import again: {}", text(&out.stderr));
    let stats = sim.stats();
    assert_eq!(stats.duplicate_creations, 0, "an item was created twice");
    let jobs = env.journal();
    assert_eq!(jobs.len(), n, "every item is accounted for");
    let made: HashSet<String> = stats.create_log.iter().filter(|(_, c)| *c).map(|(k, _)| k.clone()).collect();
    assert!(stats.assets_created as usize <= n);
    for j in &jobs {
        match j.state {
            JobState::Active => assert!(made.contains(&key_of(j)), "job {} is Active but was never created", j.id),
            // A job whose answer could not be journaled: the program cannot
            // know, and says so; never resent on its own.
            JobState::Uncertain => {
                assert!(stats.create_log.iter().any(|(k, _)| *k == key_of(j)), "job {} was never sent", j.id);
            }
            other => panic!("job {} is {other:?}", j.id),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_journal_that_cannot_grow_stops_creation_and_nothing_is_paid_twice() {
    let sim = Sim::start_local(common::quick_sim_config()).await.unwrap();
    let group = sim.state().add_group("full");
    let env = Batch::new(&sim.base_url(), sim.state().api_key(), &urls(300, "full"));
    let mut c = env.import(&group);
    // A real failure from the kernel: writes past 600 KB fail with EFBIG
    // (SIGXFSZ is ignored, so the write returns an error instead).
    unsafe {
        c.pre_exec(|| {
            let lim = libc::rlimit { rlim_cur: 600_000, rlim_max: 600_000 };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            Ok(())
        });
    }
    let out = output(c).await;
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "the journal exit code: {stderr}");
    let store = env.env.data.join("jobs.db");
    assert!(stderr.contains(&format!("stopped: the job store {} cannot be written", store.display())), "{stderr}");
    let jobs = env.journal();
    assert!(!jobs.is_empty() && jobs.len() <= 300);
    assert!(sim.stats().assets_created < 300, "creation stopped when the journal did");
    journal_holds_every_creation(&sim, &jobs);
    recover_and_check(&env, &sim, &group, 300).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_tmpfs_stops_creation_and_nothing_is_paid_twice() {
    let mnt = tempfile::tempdir().unwrap();
    let mounted = Command::new("mount").args(["-t", "tmpfs", "-o", "size=200k", "tmpfs"]).arg(mnt.path()).output();
    if !mounted.as_ref().is_ok_and(|o| o.status.success()) {
        // Mounting needs root; the file-size-limit test above covers the
        // same path everywhere.
        eprintln!("skipped: cannot mount a tmpfs here ({mounted:?})");
        return;
    }
    struct Unmount(PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg(&self.0).status();
        }
    }
    let _guard = Unmount(mnt.path().to_path_buf());
    let sim = Sim::start_local(common::quick_sim_config()).await.unwrap();
    let group = sim.state().add_group("tmpfs");
    let data = mnt.path().join("data");
    let env = Batch::with_data(&sim.base_url(), sim.state().api_key(), &urls(300, "tmpfs"), Some(data));
    let out = output(env.import(&group)).await;
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "{stderr}");
    // ENOSPC, as SQLite words it.
    assert!(stderr.contains("disk is full"), "{stderr}");
    journal_holds_every_creation(&sim, &env.journal());
    // Free space.
    let grown = Command::new("mount").args(["-o", "remount,size=50m"]).arg(mnt.path()).status().unwrap();
    assert!(grown.success());
    recover_and_check(&env, &sim, &group, 300).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_nine_at_three_moments_leaves_uncertain_only_what_was_in_flight() {
    for (round, after_creates) in [5u64, 60, 150].into_iter().enumerate() {
        let sim = Sim::start_local(SimConfig { min_delay_ms: 300, max_delay_ms: 900, ..common::quick_sim_config() })
            .await
            .unwrap();
        let group = sim.state().add_group("kill");
        let env = Batch::new(&sim.base_url(), sim.state().api_key(), &urls(300, &format!("k{round}")));
        let mut child = env.import(&group).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
        let started = Instant::now();
        while sim.stats().create_asset_requests < after_creates {
            assert!(started.elapsed() < Duration::from_secs(60), "the import never got going");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        common::settle(&sim).await;
        let jobs = env.journal();
        let sending = jobs.iter().filter(|j| j.state == JobState::Creating).count() as u64;
        let answered = jobs.iter().filter(|j| !matches!(j.state, JobState::Queued | JobState::Creating)).count() as u64;
        let requests = sim.stats().create_asset_requests;
        // Requests the simulator received whose answer was not journaled:
        // the ones truly in flight at the kill.
        let in_flight = requests - answered;
        // At most one more: a Creating record is synced an instant before
        // its request leaves, and the kill may fall in between.
        assert!(sending <= in_flight + 1, "round {round}: {sending} Creating, {in_flight} in flight");
        journal_holds_every_creation(&sim, &jobs);

        let out = output(env.command(&["wait", "--json"])).await;
        let stderr = text(&out.stderr);
        assert!(matches!(out.status.code(), Some(0 | 1)), "{stderr}");
        let after: Vec<Job> = env.journal();
        let uncertain = after.iter().filter(|j| j.state == JobState::Uncertain).count() as u64;
        if uncertain > 0 {
            assert!(stderr.contains("Uncertain"), "the interrupted jobs are listed: {stderr}");
        }
        // Only what was in flight can be Uncertain; reconcile may already
        // have found some of it in the simulator's listing.
        assert!(uncertain <= sending, "round {round}: {uncertain} Uncertain, {sending} in flight");
        assert_eq!(sim.stats().duplicate_creations, 0, "round {round}");
        assert!(after.iter().all(|j| j.state.is_final()));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_key_stops_after_a_handful_with_the_auth_code_and_nothing_is_lost() {
    let sim = Sim::start_local(common::quick_sim_config()).await.unwrap();
    let group = sim.state().add_group("key");
    let mut env = Batch::new(&sim.base_url(), "wrong-key", &urls(300, "key"));
    let out = output(env.import(&group)).await;
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("refused the API key"), "{stderr}");
    assert!(stderr.lines().count() < 20, "one clear message, not one per line: {stderr}");
    assert!(!stderr.contains("wrong-key"), "the key is never echoed: {stderr}");
    assert!(sim.stats().create_asset_requests <= 3, "{:?}", sim.stats().create_asset_requests);
    let jobs = env.journal();
    assert_eq!(jobs.len(), 300);
    assert!(jobs.iter().all(|j| j.state == JobState::Queued), "no job is Rejected for a bad key");

    env.env.key = sim.state().api_key().to_string();
    let out = output(env.command(&["wait"])).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(sim.stats().assets_created, 300);
    assert!(env.journal().iter().all(|j| j.state == JobState::Active));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_is_down_is_reported_and_the_import_resumes_when_it_is_up() {
    let addr = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let cfg = common::quick_sim_config();
    let env = Batch::new(&format!("http://{addr}/"), &cfg.api_key, &urls(40, "down"));
    let out = output(env.import("group-x")).await;
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(stderr.contains("cannot be reached"), "{stderr}");
    let jobs = env.journal();
    assert_eq!(jobs.len(), 40);
    assert!(jobs.iter().all(|j| j.state == JobState::Queued), "nothing Rejected while the server is down");

    let sim = Sim::start(cfg, addr).await.unwrap();
    let group = sim.state().add_group("down");
    // The queued jobs name a group that the new server does not have; fix
    // by importing into a real one is not the point here: `wait` sends each
    // exactly once and the server refuses each.
    let out = output(env.command(&["wait"])).await;
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert_eq!(sim.stats().create_asset_requests, 40);
    let env2 = Batch::new(&sim.base_url(), sim.state().api_key(), &urls(10, "up"));
    let out = output(env2.import(&group)).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_type_that_contradicts_the_url_is_refused_before_sending() {
    let sim = Sim::start_local(common::quick_sim_config()).await.unwrap();
    let group = sim.state().add_group("types");
    let lines = vec![
        "https://media.example/t/a.png".to_string(),
        "https://media.example/t/b.mp4".to_string(),
        "https://media.example/t/c.png,,Video!".to_string(),
        "https://media.example/t/d.mov".to_string(),
    ];
    let env = Batch::new(&sim.base_url(), sim.state().api_key(), &lines);
    let list = env.list.to_str().unwrap().to_string();
    let out = output(env.command(&[
        "import",
        "--file",
        &list,
        "--group",
        &group,
        "--type",
        "Video",
        "--wait",
        "--no-preflight",
    ]))
    .await;
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(":1: refused: a .png file is not a valid Video"), "{stderr}");
    assert!(!stderr.contains(":2:") && !stderr.contains(":3:"), "{stderr}");
    let created: HashSet<String> = sim.stats().create_log.into_iter().map(|(k, _)| k).collect();
    assert_eq!(created.len(), 3, "only the three accepted lines were sent: {created:?}");
    assert!(!created.iter().any(|k| k.contains("/a.png")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_and_sighup_stop_an_import_like_ctrl_c() {
    for signal in ["-TERM", "-HUP"] {
        let sim = Sim::start_local(SimConfig { create_rate: 20, ..common::quick_sim_config() }).await.unwrap();
        let group = sim.state().add_group("sig");
        let env = Batch::new(&sim.base_url(), sim.state().api_key(), &urls(200, "sig"));
        let list = env.list.to_str().unwrap().to_string();
        let child =
            env.command(&["import", "--file", &list, "--group", &group, "--wait", "--no-preflight"]).spawn().unwrap();
        let started = Instant::now();
        while sim.stats().create_asset_requests < 10 {
            assert!(started.elapsed() < Duration::from_secs(60), "the import never got going");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let pid = child.id().to_string();
        assert!(Command::new("kill").args([signal, &pid]).status().unwrap().success());
        let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap()).await.unwrap();
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(130), "{signal}: {stderr}");
        assert!(stderr.contains("interrupted"), "{stderr}");
        // The creations in flight were finished and journaled: none is left
        // half-known.
        let jobs = env.journal();
        assert_eq!(jobs.len(), 200);
        assert!(jobs.iter().all(|j| j.state != JobState::Creating), "{signal}: a job was left Creating");
        let out = output(env.command(&["wait"])).await;
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        assert_eq!(sim.stats().duplicate_creations, 0);
        assert_eq!(sim.stats().assets_created, 200);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_log_file_that_cannot_be_created_is_a_warning() {
    let sim = Sim::start_local(common::quick_sim_config()).await.unwrap();
    let group = sim.state().add_group("log");
    let env = Batch::new(&sim.base_url(), sim.state().api_key(), &urls(2, "log"));
    std::fs::create_dir_all(&env.env.data).unwrap();
    // A file where the log directory should be.
    std::fs::write(env.env.data.join("logs"), b"not a directory").unwrap();
    let list = env.list.to_str().unwrap().to_string();
    let out = output(env.command(&["import", "--file", &list, "--group", &group, "--wait", "--no-preflight"])).await;
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("warning: cannot write the log in"), "{stderr}");
}
