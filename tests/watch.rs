//! `import --watch` with real files written in each of the ways a render
//! farm or a sync client writes them: slow chunked writes, a rename into
//! place, a bulk copy, truncate-and-rewrite, a file deleted before it
//! settles, temporary and hidden names; a kill -9 and restart mid-stream;
//! SIGINT ends it with exit 0. The real binary, the simulator and its
//! verifying bucket.

mod clienv;
mod common;
mod storage_support;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clienv::Env;
use seedance_assets::engine::{Job, JobState};
use seedance_assets::sim::Sim;
use seedance_assets::storage::sha256_hex;
use seedance_assets::store::read_jobs;
use storage_support::png;

/// An environment whose bucket is the simulator's own.
fn env(sim: &Sim) -> Env {
    Env::with_sim_bucket(sim, "")
}

/// A running `import --watch`, its stderr collected line by line.
struct Watching {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Watching {
    fn start(env: &Env, dir: &Path, group: &str) -> Watching {
        let mut child = env
            .command(["import", "--watch", dir.to_str().unwrap(), "--group", group, "--settle", "1", "--recursive"])
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let stderr = child.stderr.take().unwrap();
        let sink = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        let w = Watching { child, lines };
        w.until("watching", Duration::from_secs(20));
        w
    }

    fn text(&self) -> String {
        self.lines.lock().unwrap().join("\n")
    }

    /// Waits until stderr holds `what`.
    fn until(&self, what: &str, limit: Duration) {
        let start = Instant::now();
        while !self.text().contains(what) {
            assert!(start.elapsed() < limit, "no `{what}` in:\n{}", self.text());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn signal(&self, sig: i32) {
        // SAFETY: sending a signal to our own child process.
        unsafe { libc::kill(self.child.id() as i32, sig) };
    }
}

fn image(seed: u32) -> Vec<u8> {
    png(400, 300, seed)
}

/// Jobs of the store, by the content they sent.
fn by_content(data: &Path) -> HashMap<String, Vec<Job>> {
    let mut out: HashMap<String, Vec<Job>> = HashMap::new();
    for j in read_jobs(&data.join("jobs.db")).unwrap_or_default() {
        if let Some(l) = &j.spec.local {
            out.entry(l.sha256.clone()).or_default().push(j);
        }
    }
    out
}

/// Waits until every content in `want` has a job that is Active.
fn until_active(data: &Path, want: &[Vec<u8>], limit: Duration) {
    let start = Instant::now();
    loop {
        let jobs = by_content(data);
        let done = want
            .iter()
            .all(|b| jobs.get(&sha256_hex(b)).is_some_and(|js| js.iter().any(|j| j.state == JobState::Active)));
        if done {
            return;
        }
        assert!(
            start.elapsed() < limit,
            "not all Active: {:?}",
            jobs.values().flatten().map(|j| (&j.spec.name, j.state)).collect::<Vec<_>>()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn write_slowly(path: &Path, bytes: &[u8], chunks: usize, gap: Duration) {
    let mut f = std::fs::File::create(path).unwrap();
    for part in bytes.chunks(bytes.len().div_ceil(chunks)) {
        f.write_all(part).unwrap();
        f.flush().unwrap();
        std::thread::sleep(gap);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_written_every_way_are_each_imported_once_with_their_final_content() {
    let sim = Sim::start_local(common::quick_sim_config()).await.unwrap();
    let group = sim.state().add_group("farm");
    let env = env(&sim);
    let dir = env.dir.path().join("renders");
    std::fs::create_dir_all(dir.join("shots")).unwrap();
    // Present before the watch starts: imported at start.
    std::fs::write(dir.join("before.png"), image(1)).unwrap();
    let (data, d) = (env.data.clone(), dir.clone());
    let report = tokio::task::spawn_blocking(move || {
        let w = Watching::start(&env, &d, &group);
        let mut want = vec![image(1)];
        // Slow chunked writes (gaps shorter than the settle time).
        let slow = image(2);
        write_slowly(&d.join("slow.png"), &slow, 5, Duration::from_millis(400));
        want.push(slow);
        // Written under a temporary name, then renamed into place.
        std::fs::write(d.join("shots/renamed.png.part"), image(3)).unwrap();
        std::thread::sleep(Duration::from_millis(300));
        std::fs::rename(d.join("shots/renamed.png.part"), d.join("shots/renamed.png")).unwrap();
        want.push(image(3));
        // A bulk copy into a new folder.
        std::fs::create_dir_all(d.join("bulk")).unwrap();
        for i in 0..12 {
            std::fs::write(d.join(format!("bulk/b{i:02}.png")), image(100 + i)).unwrap();
            want.push(image(100 + i));
        }
        // Appended in bursts, closed after each (as `cat >>` and `dd` do).
        let bursts = image(7);
        for part in bursts.chunks(bursts.len().div_ceil(4)) {
            let mut f = std::fs::OpenOptions::new().create(true).append(true).open(d.join("bursts.png")).unwrap();
            f.write_all(part).unwrap();
            drop(f);
            std::thread::sleep(Duration::from_millis(400));
        }
        want.push(bursts);
        // Too small to import: refused, and the line names the file.
        std::fs::write(d.join("small.png"), png(100, 100, 8)).unwrap();
        // Deleted before it settles; temporary and hidden names.
        std::fs::write(d.join("gone.png"), image(4)).unwrap();
        std::thread::sleep(Duration::from_millis(200));
        std::fs::remove_file(d.join("gone.png")).unwrap();
        std::fs::write(d.join("notes.tmp"), b"x").unwrap();
        std::fs::write(d.join(".hidden.png"), image(5)).unwrap();
        until_active(&data, &want, Duration::from_secs(60));
        // Truncated and rewritten (another take): imported again, once, with
        // the new content only.
        let mut f = std::fs::OpenOptions::new().write(true).truncate(true).open(d.join("before.png")).unwrap();
        let take2 = image(6);
        f.write_all(&take2[..200]).unwrap();
        f.flush().unwrap();
        std::thread::sleep(Duration::from_millis(500));
        f.write_all(&take2[200..]).unwrap();
        drop(f);
        want.push(take2);
        until_active(&data, &want, Duration::from_secs(60));
        std::thread::sleep(Duration::from_millis(1500));
        w.signal(libc::SIGINT);
        let mut w = w;
        let status = w.child.wait().unwrap();
        // Read before the environment (and its folder) goes.
        (status.code(), w.text(), want, by_content(&data))
    })
    .await
    .unwrap();
    let (code, stderr, want, jobs) = report;
    assert_eq!(code, Some(0), "{stderr}");
    for b in &want {
        let sha = sha256_hex(b);
        assert_eq!(jobs.get(&sha).map(Vec::len), Some(1), "one job for each content");
    }
    assert_eq!(jobs.len(), want.len(), "nothing else: not the partial writes, the deleted, temporary or hidden files");
    assert_eq!(sim.stats().duplicate_creations, 0);
    assert!(sim.stats().assets_created as usize == want.len());
    assert!(stderr.contains("slow.png: queued as job #"), "one line per file: {stderr}");
    // A file taken before it was complete would have been refused or paid
    // for: neither happened. The one refusal is the small image's, by name.
    assert_eq!(stderr.matches("refused").count(), 1, "{stderr}");
    assert!(stderr.contains("renders/small.png: refused: 100×100"), "{stderr}");
    assert!(!stderr.contains("gone.png") && !stderr.contains("hidden") && !stderr.contains("notes.tmp"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_nine_mid_stream_then_a_restart_imports_the_rest_and_nothing_twice() {
    let sim = Sim::start_local(common::quick_sim_config()).await.unwrap();
    let group = sim.state().add_group("farm");
    let env = env(&sim);
    let dir = env.dir.path().join("renders");
    std::fs::create_dir_all(&dir).unwrap();
    let (data, d) = (env.data.clone(), dir.clone());
    let want = tokio::task::spawn_blocking(move || {
        let mut w = Watching::start(&env, &d, &group);
        let mut want = Vec::new();
        for i in 0..30 {
            std::fs::write(d.join(format!("f{i:02}.png")), image(200 + i)).unwrap();
            want.push(image(200 + i));
            std::thread::sleep(Duration::from_millis(60));
            if i == 14 {
                w.until("queued as job #", Duration::from_secs(30));
                w.child.kill().unwrap(); // SIGKILL, mid-stream
                w.child.wait().unwrap();
            }
        }
        // Files whose jobs existed before the kill (their lines were shown).
        let recorded: Vec<String> = w
            .text()
            .lines()
            .filter(|l| l.contains("queued as job #"))
            .filter_map(|l| l.strip_prefix("watch: ")?.split(": ").next().map(str::to_string))
            .collect();
        assert!(!recorded.is_empty());
        let w = Watching::start(&env, &d, &group);
        until_active(&data, &want, Duration::from_secs(90));
        // A restart hands over only what is new: not those.
        let again = w.text();
        for path in &recorded {
            assert!(!again.contains(path.as_str()), "{path} handed over again after the restart:\n{again}");
        }
        w.signal(libc::SIGTERM);
        let mut w = w;
        assert_eq!(w.child.wait().unwrap().code(), Some(0), "{}", w.text());
        (want, by_content(&data))
    })
    .await
    .unwrap();
    let (want, jobs) = want;
    for b in &want {
        assert_eq!(jobs.get(&sha256_hex(b)).map(Vec::len), Some(1));
    }
    assert_eq!(sim.stats().duplicate_creations, 0);
    assert_eq!(sim.stats().assets_created as usize, want.len(), "each file paid once across the kill");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_watch_arguments_are_named_before_anything_starts() {
    let sim = Sim::start_local(common::quick_sim_config()).await.unwrap();
    let group = sim.state().add_group("farm");
    let bucketed = env(&sim);
    let bare = Env::new(&sim);
    let file = bucketed.dir.path().join("a.png");
    std::fs::write(&file, image(1)).unwrap();
    let dir = bucketed.dir.path().to_str().unwrap().to_string();
    let outs = tokio::task::spawn_blocking(move || {
        let run = |env: &Env, args: &[&str]| {
            let mut all = vec!["import", "--watch", "--group", &group];
            all.extend_from_slice(args);
            let out = env.command(all).output().unwrap();
            (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
        };
        vec![
            run(&bucketed, &[]),
            run(&bucketed, &["/no/such/folder"]),
            run(&bucketed, &[file.to_str().unwrap()]),
            run(&bucketed, &[&dir, "--settle", "0"]),
            run(&bucketed, &[&dir, "--include", "[oops"]),
            run(&bare, &[&dir]),
        ]
    })
    .await
    .unwrap();
    let expect = [
        "takes the folders to watch",
        "/no/such/folder",
        "it is not a folder",
        "--settle takes",
        "not valid",
        "go through your bucket",
    ];
    for ((code, err), want) in outs.iter().zip(expect) {
        assert_eq!(*code, Some(2), "{err}");
        assert!(err.contains(want), "{want}: {err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cause_that_pauses_everything_ends_the_watch_for_a_service_manager_to_restart() {
    let sim = Sim::start_local(common::quick_sim_config()).await.unwrap();
    let group = sim.state().add_group("farm");
    // The bucket refuses these credentials: every upload would be refused.
    let env = env(&sim).var("AWS_SECRET_ACCESS_KEY", "wrong-secret");
    let dir = env.dir.path().join("renders");
    std::fs::create_dir_all(&dir).unwrap();
    let (code, stderr) = tokio::task::spawn_blocking(move || {
        let mut w = Watching::start(&env, &dir, &group);
        std::fs::write(dir.join("a.png"), image(9)).unwrap();
        let start = Instant::now();
        let code = loop {
            if let Some(status) = w.child.try_wait().unwrap() {
                break status.code();
            }
            assert!(start.elapsed() < Duration::from_secs(60), "still running:\n{}", w.text());
            std::thread::sleep(Duration::from_millis(100));
        };
        (code, w.text())
    })
    .await
    .unwrap();
    assert_eq!(code, Some(2), "the bucket's refusal is a configuration error: {stderr}");
    assert!(stderr.contains("uploads paused"), "{stderr}");
    assert_eq!(sim.stats().assets_created, 0);
}
