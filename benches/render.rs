//! Dashboard benchmarks (see BENCHMARKS.md):
//!
//! 1. Drawing a frame with 10,000 jobs at 120×40 (TestBackend): median and p95.
//! 2. Bytes written to a real crossterm backend when one job changes state.
//! 3. Bytes the real binary writes to its terminal (tmux) while idle for 10 s.
//! 4. Start to first frame of the real binary with 10,000 jobs in the journal.
//! 5. Filter cost: with 100,000 finished jobs, 1,000 in flight and the list
//!    filtered, the time to write one job change and draw the next frame
//!    (the list reads only its window from the store).
//!
//! Run: `cargo bench --bench render` (3 and 4 need tmux);
//! `cargo bench --bench render -- filter` runs only 5.

mod support;
use support::log_text;

use std::io::Write;
use std::process::Command;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use ratatui::Terminal;
use ratatui::backend::{CrosstermBackend, TestBackend};
use seedance_assets::api::AssetType;
use seedance_assets::engine::{Job, JobState, NewJob, Update};
use seedance_assets::store::{History, Store};
use seedance_assets::tui::app::App;
use seedance_assets::tui::view;

fn job(id: u64, state: JobState) -> Job {
    let spec = NewJob {
        url: format!("https://media.example/bench/{id}.png"),
        name: format!("reference-{id:05}"),
        asset_type: AssetType::Image,
        group_id: "group-20260412163933-zwxdc".into(),
        profile: "default".into(),
        local: None,
        media: None,
        conform: None,
    };
    let mut j = Job::new(id, spec, Timestamp::from_second(1_795_000_000).unwrap());
    j.state = state;
    if state == JobState::Active {
        j.asset_id = Some(format!("asset-20261124120000-{id:06}"));
    }
    j
}

/// A dashboard over a job store in a temporary directory.
struct Board {
    app: App,
    store: Store,
    _dir: tempfile::TempDir,
}

impl Board {
    /// Writes a job to the store and tells the dashboard, as the engine does.
    fn put(&mut self, job: Job) {
        self.store.write(std::slice::from_ref(&job), &[]).unwrap();
        self.app.apply(Update::Job(Box::new(job)));
    }
}

fn app_with(n: u64, state: impl Fn(u64) -> JobState) -> Board {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jobs.db");
    let mut store = Store::open(&path, None).unwrap().store;
    let jobs: Vec<Job> = (1..=n).map(|id| job(id, state(id))).collect();
    for chunk in jobs.chunks(10_000) {
        store.write(chunk, &[]).unwrap();
    }
    let mut app = App::new("simulator", Vec::new(), false, "2026-11-24");
    app.clock = Some(Timestamp::from_second(1_795_000_100).unwrap());
    app.list.attach(History::open(&path, None).unwrap());
    app.apply(Update::Loaded);
    Board { app, store, _dir: dir }
}

fn frame_time() {
    let Board { mut app, .. } =
        app_with(10_000, |id| if id % 3 == 0 { JobState::Processing } else { JobState::Active });
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
    let mut samples = Vec::new();
    for _ in 0..1000 {
        app.advance_tick();
        let t = Instant::now();
        view::prepare(&mut app, terminal.get_frame().area());
        terminal.draw(|f| view::draw(f, &app)).unwrap();
        samples.push(t.elapsed());
    }
    samples.sort();
    println!(
        "  frame, 10,000 jobs at 120x40: median {:.3} ms, p95 {:.3} ms ({} frames)",
        samples[samples.len() / 2].as_secs_f64() * 1000.0,
        samples[samples.len() * 95 / 100].as_secs_f64() * 1000.0,
        samples.len()
    );
}

/// Counts bytes on their way to the terminal.
#[derive(Default, Clone)]
struct Counter(std::sync::Arc<std::sync::atomic::AtomicUsize>);

impl Counter {
    fn get(&self) -> usize {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl Write for Counter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.fetch_add(buf.len(), std::sync::atomic::Ordering::Relaxed);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn draw_counted(terminal: &mut Terminal<CrosstermBackend<Counter>>, counter: &Counter, app: &mut App) -> usize {
    let before = counter.get();
    view::prepare(app, terminal.get_frame().area());
    let _ = crossterm::queue!(terminal.backend_mut(), crossterm::terminal::BeginSynchronizedUpdate);
    terminal.draw(|f| view::draw(f, app)).unwrap();
    let _ = crossterm::execute!(terminal.backend_mut(), crossterm::terminal::EndSynchronizedUpdate);
    counter.get() - before
}

fn bytes_per_change() {
    let mut board = app_with(10_000, |id| if id == 5 { JobState::Processing } else { JobState::Active });
    let counter = Counter::default();
    let backend = CrosstermBackend::new(counter.clone());
    let mut terminal = Terminal::with_options(
        backend,
        ratatui::TerminalOptions { viewport: ratatui::Viewport::Fixed(ratatui::layout::Rect::new(0, 0, 120, 40)) },
    )
    .unwrap();
    let full = draw_counted(&mut terminal, &counter, &mut board.app);
    let mut done = job(5, JobState::Active);
    done.updated_at = Timestamp::from_second(1_795_000_030).unwrap();
    board.put(done);
    let one = draw_counted(&mut terminal, &counter, &mut board.app);
    println!("  bytes to the terminal: first frame {full}, one job Processing -> Active {one}");
}

fn tmux(socket: &str, args: &[&str]) -> std::process::Output {
    Command::new("tmux").args(["-L", socket, "-f", "/dev/null"]).args(args).output().expect("tmux")
}

/// Starts the real binary in tmux on a data dir with 10,000 finished jobs.
fn real_binary(socket: &str, dir: &std::path::Path) {
    let cmd = format!(
        "{} --config {} --data-dir {}",
        env!("CARGO_BIN_EXE_seedance-assets"),
        dir.join("config.toml").display(),
        dir.join("data").display()
    );
    let ok = Command::new("tmux")
        .args(["-L", socket, "-f", "/dev/null", "new-session", "-d", "-s", "b", "-x", "120", "-y", "40", &cmd])
        .env("SEEDANCE_API_KEY", "bench-key")
        .status()
        .expect("tmux");
    assert!(ok.success());
}

fn prepare(dir: &std::path::Path) {
    std::fs::write(dir.join("config.toml"), "[api]\nbase_url = \"http://127.0.0.1:9\"\n").unwrap();
    let mut r = seedance_assets::store::Store::open(&dir.join("data").join("jobs.db"), None).unwrap();
    let jobs: Vec<Job> = (1..=10_000).map(|id| job(id, JobState::Active)).collect();
    r.store.write(&jobs, &[]).unwrap();
}

fn first_frame_ms(dir: &std::path::Path) -> Option<f64> {
    let logs = dir.join("data").join("logs");
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(20) {
        let text = log_text(&logs);
        if let Some(line) = text.lines().rev().find(|l| l.contains("first frame with")) {
            let ms = line.split(" drawn ").nth(1)?.split(" ms").next()?.parse().ok()?;
            return Some(ms);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

fn real_terminal() {
    if Command::new("tmux").arg("-V").output().is_err() {
        println!("  (tmux not installed: skipped the real-terminal measurements)");
        return;
    }
    let mut starts = Vec::new();
    for run in 0..7 {
        let dir = tempfile::tempdir().unwrap();
        prepare(dir.path());
        let socket = format!("seedance-bench-{}-{run}", std::process::id());
        real_binary(&socket, dir.path());
        let ms = first_frame_ms(dir.path()).expect("the dashboard logs its first frame");
        starts.push(ms);
        if run == 0 {
            std::thread::sleep(Duration::from_millis(500));
            let out = dir.path().join("pane-output");
            tmux(&socket, &["pipe-pane", "-t", "b", "-o", &format!("cat >> {}", out.display())]);
            std::thread::sleep(Duration::from_secs(10));
            let idle = std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
            println!("  bytes the real binary wrote while idle for 10 s: {idle}");
        }
        tmux(&socket, &["kill-server"]);
    }
    starts.sort_by(f64::total_cmp);
    println!(
        "  start to first frame, 10,000 jobs in the journal: median {:.1} ms (min {:.1}, max {:.1}, {} runs)",
        starts[starts.len() / 2],
        starts[0],
        starts[starts.len() - 1],
        starts.len()
    );
}

fn filter_cost() {
    let mut board = app_with(101_000, |id| if id > 100_000 { JobState::Processing } else { JobState::Active });
    board.app.list.set_needle("img");
    let changes: Vec<Job> = (0..2_000u64)
        .map(|k| {
            let id = 100_001 + k % 1000;
            let mut j = job(id, if k % 2 == 0 { JobState::Processing } else { JobState::Active });
            if k % 4 == 0 {
                j.spec.name = format!("img-{id}");
            }
            j
        })
        .collect();
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
    view::prepare(&mut board.app, terminal.get_frame().area());
    terminal.draw(|f| view::draw(f, &board.app)).unwrap();
    let before = board.app.list.reads;
    let t = Instant::now();
    for j in &changes {
        board.put(j.clone());
        view::prepare(&mut board.app, terminal.get_frame().area());
        terminal.draw(|f| view::draw(f, &board.app)).unwrap();
    }
    let per_change = t.elapsed().as_secs_f64() * 1e3 / changes.len() as f64;
    let reads = (board.app.list.reads - before) as f64 / changes.len() as f64;
    println!(
        "  filter /img, 100,000 finished + 1,000 in flight: one change written, then a frame drawn: {per_change:.2} ms ({reads:.0} store reads)"
    );
}

fn main() {
    println!("dashboard benchmarks");
    if std::env::args().any(|a| a == "filter") {
        filter_cost();
        return;
    }
    frame_time();
    bytes_per_change();
    filter_cost();
    real_terminal();
}
