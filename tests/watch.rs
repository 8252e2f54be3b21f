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
    /// `import --watch DIR --recursive`, once it says it is watching.
    fn start(env: &Env, dir: &Path, group: &str) -> Watching {
        let args = ["import", "--watch", dir.to_str().unwrap(), "--group", group, "--settle", "1", "--recursive"];
        let w = Watching::spawn(env, &args);
        w.until("watching", Duration::from_secs(20));
        w
    }

    /// The binary with these arguments, its stderr collected.
    fn spawn(env: &Env, args: &[&str]) -> Watching {
        let mut child = env.command(args).stderr(Stdio::piped()).spawn().unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let stderr = child.stderr.take().unwrap();
        let sink = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        Watching { child, lines }
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
            run(&bucketed, &["https://media.example/a.png"]),
            {
                let out = bucketed.command(["import", "--settle", "2", &dir]).output().unwrap();
                (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
            },
        ]
    })
    .await
    .unwrap();
    let expect = [
        "give folders, or store them with `seedance-assets watch add DIR`",
        "/no/such/folder",
        "it is not a folder",
        "--settle takes",
        "not valid",
        "go through your bucket",
        "is a URL: import URLs without --watch",
        "--watch",
    ];
    assert_eq!(outs.len(), expect.len());
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stored_folders_are_listed_watched_without_arguments_and_removed() {
    let sim = Sim::start_local(common::quick_sim_config()).await.unwrap();
    let (g1, g2) = (sim.state().add_group("farm"), sim.state().add_group("voice"));
    let env = env(&sim);
    let (a, b) = (env.dir.path().join("renders"), env.dir.path().join("takes"));
    std::fs::create_dir_all(a.join("sub")).unwrap();
    std::fs::create_dir_all(&b).unwrap();
    let report = tokio::task::spawn_blocking(move || {
        let run = |args: &[&str]| {
            let out = env.command(args).output().unwrap();
            (out.status.code(), clienv::text(&out.stdout), clienv::text(&out.stderr))
        };
        let (sa, sb) = (a.to_str().unwrap(), b.to_str().unwrap());
        let (code, _, err) = run(&["watch", "add", sa]);
        assert_eq!(code, Some(2), "no group: {err}");
        assert!(err.contains("which group"), "{err}");
        let missing = env.dir.path().join("nope");
        let (code, _, err) = run(&["watch", "add", sa, missing.to_str().unwrap(), "--group", &g1]);
        assert_eq!(code, Some(2), "{err}");
        assert!(err.contains("nope"), "the missing folder is named: {err}");
        let (code, out, _) = run(&["watch", "list", "--json"]);
        assert_eq!((code, out.trim()), (Some(0), "[]"), "nothing stored when one folder is wrong");
        let (code, _, err) = run(&["watch", "add", sa, "--group", &g1, "--recursive", "--include", "*.png"]);
        assert_eq!(code, Some(0), "{err}");
        assert!(err.contains("watched: "), "{err}");
        let (_, _, err) = run(&["watch", "add", sa, "--group", &g1, "--recursive", "--include", "*.png"]);
        assert!(err.contains("already watched"), "{err}");
        assert_eq!(run(&["watch", "add", sb, "--group", &g2]).0, Some(0));

        // Without folders, the stored ones of the import's group, each with its rules.
        std::fs::write(a.join("sub/x.png"), image(1)).unwrap();
        std::fs::write(a.join("skip.jpg"), b"not included").unwrap();
        std::fs::write(b.join("other-group.png"), image(2)).unwrap();
        let mut w = Watching::spawn(&env, &["import", "--watch", "--group", &g1, "--settle", "1"]);
        w.until("x.png: queued as job #", Duration::from_secs(30));
        std::thread::sleep(Duration::from_secs(2));
        w.signal(libc::SIGINT);
        assert_eq!(w.child.wait().unwrap().code(), Some(0));
        let watched = w.text();
        assert!(!watched.contains("skip.jpg") && !watched.contains("other-group"), "{watched}");

        let (code, _, err) = run(&["import", "--watch", "--group", "group-none"]);
        assert_eq!(code, Some(2), "{err}");
        assert!(err.contains("none go into group group-none") && err.contains(&g1), "{err}");
        let (_, out, _) = run(&["watch", "list"]);
        let rows: Vec<&str> = out.lines().collect();
        assert_eq!(rows.len(), 2, "{out}");
        assert!(rows[0].contains("renders") && rows[0].contains("1 job") && rows[0].contains("include *.png"));
        assert!(rows[1].contains("takes") && rows[1].contains("0 jobs"), "{out}");
        assert_eq!(run(&["watch", "remove", sa]).0, Some(0));
        let (code, _, err) = run(&["watch", "remove", sa]);
        assert_eq!(code, Some(2), "{err}");
        assert!(err.contains("not watched"), "{err}");
        let (_, out, _) = run(&["watch", "list"]);
        assert_eq!(out.lines().count(), 1, "{out}");
        // A watch stopped before any file came prints no empty table.
        let quiet = env.dir.path().join("quiet");
        std::fs::create_dir_all(&quiet).unwrap();
        let child = env.command(["import", "--watch", quiet.to_str().unwrap(), "--group", &g2]).spawn().unwrap();
        std::thread::sleep(Duration::from_secs(2));
        // SAFETY: a signal to our own child.
        unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
        let out = child.wait_with_output().unwrap();
        assert_eq!((out.status.code(), clienv::text(&out.stdout)), (Some(0), String::new()));
    });
    report.await.unwrap();
    assert_eq!(sim.stats().assets_created, 1, "only the included file of the stored folder of that group");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_folder_removed_and_made_again_or_missing_at_start_is_watched_once_it_exists() {
    let sim = Sim::start_local(common::quick_sim_config()).await.unwrap();
    let group = sim.state().add_group("farm");
    let env = env(&sim);
    let (a, b) = (env.dir.path().join("a"), env.dir.path().join("b"));
    std::fs::create_dir_all(&a).unwrap();
    std::fs::create_dir_all(&b).unwrap();
    let data = env.data.clone();
    let (code, stderr, want, jobs) = tokio::task::spawn_blocking(move || {
        // b is stored, then moved away: it is missing when the watch starts.
        for d in [&a, &b] {
            assert_eq!(
                env.command(["watch", "add", d.to_str().unwrap(), "--group", &group]).status().unwrap().code(),
                Some(0)
            );
        }
        let b_away = env.dir.path().join("b-away");
        std::fs::rename(&b, &b_away).unwrap();
        let mut w =
            Watching::spawn(&env, &["import", "--watch", "--group", &group, "--settle", "1", "--scan-every", "1"]);
        let until = |w: &Watching, what: &str| w.until(what, Duration::from_secs(30));
        until(&w, "b is missing");
        let text = w.text();
        assert!(text.contains("notified by the system"), "one missing folder does not make all scanned: {text}");
        std::fs::write(a.join("one.png"), image(1)).unwrap();
        until(&w, "one.png: queued");
        // a removed and made again: its old watch went with it.
        std::fs::remove_dir_all(&a).unwrap();
        until(&w, "a is gone");
        std::fs::create_dir_all(&a).unwrap();
        until(&w, "a is there now");
        std::fs::write(a.join("two.png"), image(2)).unwrap();
        until(&w, "two.png: queued");
        // b comes back (moved into place, with a file in it).
        std::fs::write(b_away.join("three.png"), image(3)).unwrap();
        std::fs::rename(&b_away, &b).unwrap();
        until(&w, "three.png: queued");
        std::fs::write(b.join("four.png"), image(4)).unwrap();
        until(&w, "four.png: queued");
        w.signal(libc::SIGINT);
        let code = w.child.wait().unwrap().code();
        // Read before the environment (and its folder) goes.
        (code, w.text(), (1..=4).map(image).collect::<Vec<_>>(), by_content(&data))
    })
    .await
    .unwrap();
    assert_eq!(code, Some(0), "{stderr}");
    for b in &want {
        assert_eq!(jobs.get(&sha256_hex(b)).map(Vec::len), Some(1), "{stderr}");
    }
    assert_eq!(sim.stats().duplicate_creations, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_png_whose_writer_pauses_past_the_settle_time_is_refused_until_whole() {
    let sim = Sim::start_local(common::quick_sim_config()).await.unwrap();
    let group = sim.state().add_group("farm");
    let env = env(&sim);
    let dir = env.dir.path().join("renders");
    std::fs::create_dir_all(&dir).unwrap();
    let data = env.data.clone();
    let bytes = image(9);
    let (stderr, jobs) = tokio::task::spawn_blocking(move || {
        let w = Watching::start(&env, &dir, &group);
        // 60% written, then a pause longer than the settle time (1 s).
        let cut = bytes.len() * 6 / 10;
        let mut f = std::fs::File::create(dir.join("slow.png")).unwrap();
        f.write_all(&bytes[..cut]).unwrap();
        f.flush().unwrap();
        w.until("ends before its IEND chunk", Duration::from_secs(20));
        f.write_all(&bytes[cut..]).unwrap();
        drop(f);
        w.until("slow.png: queued as job #", Duration::from_secs(20));
        w.signal(libc::SIGINT);
        let mut w = w;
        w.child.wait().unwrap();
        (w.text(), by_content(&data))
    })
    .await
    .unwrap();
    assert_eq!(jobs.len(), 1, "only the whole file became a job: {stderr}");
    assert!(jobs.contains_key(&sha256_hex(&image(9))), "{stderr}");
    assert_eq!(sim.stats().assets_created, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watch_whose_stderr_reader_is_gone_still_stops_with_exit_0() {
    let sim = Sim::start_local(common::quick_sim_config()).await.unwrap();
    let group = sim.state().add_group("farm");
    let env = env(&sim);
    let dir = env.dir.path().join("renders");
    std::fs::create_dir_all(&dir).unwrap();
    let code = tokio::task::spawn_blocking(move || {
        // `2>&1 | tee log` and Ctrl-C: the reader quits first.
        let mut child = env
            .command(["import", "--watch", dir.to_str().unwrap(), "--group", &group, "--settle", "1"])
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stderr.take());
        std::fs::write(dir.join("one.png"), image(1)).unwrap();
        std::thread::sleep(Duration::from_secs(3));
        // SAFETY: a signal to our own child.
        unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
        child.wait().unwrap().code()
    })
    .await
    .unwrap();
    assert_eq!(code, Some(0), "a closed stderr is no panic");
    assert_eq!(sim.stats().assets_created, 1, "the file was still imported");
}
