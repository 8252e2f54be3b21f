//! The front door: what is created is exactly what the user saw and
//! accepted, through one intake for both front ends. Restored drafts are
//! marked and confirmed, glued URLs refused, unchecked URLs held for
//! consent, refused files kept as lines of their own with their reason,
//! what exists reported with its reference, oversized files refused from
//! `stat` before a byte is hashed, one tally everywhere — and a property
//! test that the CLI and the dashboard reach the same plan.

mod clienv;
mod common;
mod storage_support;
mod support;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use futures::StreamExt;
use proptest::prelude::*;
use seedance_assets::api::AssetType;
use seedance_assets::config::{PreflightConfig, PreflightMode, Unprobeable};
use seedance_assets::engine::NewJob;
use seedance_assets::export::JobRecord;
use seedance_assets::intake::{Checker, Fate, Intake, Item, Policy, Source};
use seedance_assets::media::MediaInfo;
use seedance_assets::preflight::{Preflight, Verdict as Pf};
use seedance_assets::sim::Sim;
use seedance_assets::sim::media::png;
use seedance_assets::storage::Storage;
use seedance_assets::tui::app::{App, Confirm, Mode};
use seedance_assets::tui::effect::Effect;
use seedance_assets::tui::pane::input::Verdict;

fn key(app: &mut App, code: KeyCode) {
    app.handle_key(KeyEvent::new(code, KeyModifiers::NONE));
}

fn chars(app: &mut App, s: &str) {
    for c in s.chars() {
        key(app, KeyCode::Char(c));
    }
}

fn screen(app: &mut App, w: u16, h: u16) -> String {
    let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(w, h)).unwrap();
    seedance_assets::tui::view::prepare(app, t.get_frame().area());
    t.draw(|f| seedance_assets::tui::view::draw(f, app)).unwrap();
    let buf = t.backend().buffer();
    (0..h).map(|y| (0..w).map(|x| buf[(x, y)].symbol()).collect::<String>() + "\n").collect()
}

// ---- 1. Restored drafts ------------------------------------------------------

#[test]
fn restored_lines_are_marked_and_sent_only_once_the_user_says_so() {
    let mut app = support::app(false);
    app.restore_draft("https://e.com/old.png");
    assert!(app.status().unwrap().contains("restored 1 line"), "{:?}", app.status());
    app.handle_paste("https://e.com/new.png");
    let shot = screen(&mut app, 80, 24);
    assert!(shot.contains("↺ 1 restored"), "the pane title counts them:\n{shot}");
    key(&mut app, KeyCode::Enter);
    assert_eq!(*app.mode(), Mode::Confirm(Confirm::Restored(1)));
    assert!(app.take_effects().is_empty(), "nothing is sent before the answer");
    assert!(screen(&mut app, 80, 24).contains("restored from last time"));

    // `e` goes back to editing; the next Enter asks again.
    key(&mut app, KeyCode::Char('e'));
    assert_eq!(*app.mode(), Mode::Editing);
    key(&mut app, KeyCode::Esc);
    key(&mut app, KeyCode::Enter);
    assert_eq!(*app.mode(), Mode::Confirm(Confirm::Restored(1)));

    // `d` discards the restored line and sends only the new one.
    key(&mut app, KeyCode::Char('d'));
    let jobs = support::through_intake(&mut app);
    assert_eq!(jobs.iter().map(|j| j.name.as_str()).collect::<Vec<_>>(), ["new"]);
    assert_eq!(app.urls_text(), "");

    // `y` sends them together.
    let mut app = support::app(false);
    app.restore_draft("https://e.com/old.png");
    app.handle_paste("https://e.com/new.png");
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Char('y'));
    let jobs = support::through_intake(&mut app);
    assert_eq!(jobs.iter().map(|j| j.name.as_str()).collect::<Vec<_>>(), ["old", "new"]);
}

#[test]
fn the_quit_question_can_discard_the_lines() {
    let mut app = support::app(false);
    app.handle_paste("https://e.com/a.png");
    key(&mut app, KeyCode::Char('q'));
    assert!(matches!(app.mode(), Mode::Confirm(Confirm::Quit(1))));
    let shot = screen(&mut app, 80, 24);
    assert!(shot.contains("y / d / n") && shot.contains("discards"), "{shot}");
    key(&mut app, KeyCode::Char('d'));
    assert_eq!(app.take_effects(), [Effect::Quit]);
    assert_eq!(app.urls_text(), "", "nothing is kept as a draft");
}

// ---- 2. Glued URLs -----------------------------------------------------------

#[test]
fn typing_at_a_restored_draft_never_glues_onto_it_and_glued_lines_are_refused() {
    let mut app = support::app(false);
    app.restore_draft("https://cdn.example/x.png");
    key(&mut app, KeyCode::Char('i'));
    chars(&mut app, "https://cdn.example/y.png");
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.urls_text(), "https://cdn.example/x.png\nhttps://cdn.example/y.png");
    // A glued line that arrives anyway is refused with its reason.
    app.set_urls("https://cdn.example/x.pnghttps://cdn.example/y.png");
    assert!(
        matches!(&app.input.verdicts()[0], Verdict::Error(e) if e.contains("two URLs glued together")),
        "{:?}",
        app.input.verdicts()
    );
    key(&mut app, KeyCode::Enter);
    assert!(app.take_effects().is_empty(), "nothing to send");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_refuses_glued_urls_before_anything_is_sent() {
    let sim = Sim::start_local(common::quick_sim_config()).await.unwrap();
    let group = sim.state().add_group("glued");
    let env = clienv::Env::new(&sim);
    let out = clienv::blocking(move || {
        env.run(&["import", "--group", &group, "https://cdn.example/x.pnghttps://cdn.example/y.png"], "")
    })
    .await;
    let stderr = clienv::text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("argument:1: refused: two URLs glued together"), "{stderr}");
    assert_eq!(sim.stats().create_asset_requests, 0);
}

// ---- 3. Unchecked URLs are held for consent ---------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn urls_that_could_not_be_checked_are_held_until_the_user_consents() {
    let sim = Sim::start_local(common::quick_sim_config()).await.unwrap();
    let group = sim.state().add_group("held");
    // Preflight on (the default policy): the hosts refuse connections.
    let env = clienv::Env::with(&sim.base_url(), sim.state().api_key(), "");
    std::fs::write(&env.config, std::fs::read_to_string(&env.config).unwrap().replace("mode = \"off\"", "")).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let urls: Vec<String> = (0..3).map(|i| format!("https://127.0.0.1:{port}/{i}.png")).collect();
    let (held, consented) = clienv::blocking(move || {
        let mut args = vec!["import", "--group", &group, "--json"];
        args.extend(urls.iter().map(String::as_str));
        let held = env.run(&args, "");
        args.push("--allow-unchecked");
        (held, env.run(&args, ""))
    })
    .await;
    let stderr = clienv::text(&held.stderr);
    assert_eq!(held.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("held back: not checked: cannot reach the URL's host"), "{stderr}");
    assert!(stderr.contains("queued 0 · held back 3"), "{stderr}");
    assert!(stderr.contains("--allow-unchecked"), "says how to consent: {stderr}");
    assert_eq!(clienv::text(&held.stdout).trim(), "[]");
    // With consent they are created (and the server cannot download them either).
    let stderr = clienv::text(&consented.stderr);
    assert!(stderr.contains("queued 3"), "{stderr}");
    assert_eq!(sim.stats().create_asset_requests, 3);
}

// ---- 5, 7, 8. Local lines ----------------------------------------------------

/// A storage client: hashing and naming need no network, and nothing here
/// is uploaded.
fn offline_storage() -> Storage {
    use storage_support::{credentials, http, storage_config};
    Storage::from_config(&storage_config("http://127.0.0.1:9", "b"), &credentials("k", "s"), http()).unwrap()
}

fn intake(app: &App, policy: Policy, checker: Option<Arc<Checker>>) -> Arc<Intake> {
    Arc::new(Intake {
        defaults: app.input.defaults().unwrap(),
        policy,
        checker,
        storage: Ok(offline_storage()),
        limits: PreflightConfig::default().limits(),
        recursive: false,
        profile: "default".into(),
        concurrency: 8,
        conform: None,
        progress: None,
    })
}

async fn plan(intake: &Arc<Intake>, text: &str) -> Vec<Item> {
    let items = intake.read(vec![Source::inline("editor", text)]).await;
    let mut decided: Vec<(usize, Vec<Item>)> = intake.decide(futures::stream::iter(items)).collect().await;
    decided.sort_by_key(|(i, _)| *i);
    decided.into_iter().flat_map(|(_, its)| its).collect()
}

/// The dashboard's Enter (or `!`), run through `intake` and answered as the
/// event loop answers; returns the jobs it created.
async fn dashboard_sends(app: &mut App, intake: &Arc<Intake>) -> Vec<NewJob> {
    let effects = app.take_effects();
    let subs: Vec<_> = effects
        .into_iter()
        .filter_map(|e| match e {
            Effect::Intake(s) => Some(s),
            _ => None,
        })
        .collect();
    let mut created = Vec::new();
    for sub in subs {
        // Conformed only when the submission asks (the conform key), as the event loop does.
        let conform = intake.conform.clone().filter(|_| sub.conform);
        let one = Arc::new(Intake {
            policy: Policy { consent: sub.consent, ..intake.policy },
            conform,
            ..(**intake).clone()
        });
        let mut items = plan(&one, &sub.lines.join("\n")).await;
        for (i, it) in items.iter_mut().enumerate() {
            if let Fate::Create { job, .. } = &it.fate {
                created.push(NewJob::clone(job));
                it.fate = Fate::Created(i as u64 + 1);
            }
        }
        app.intake_done(items);
    }
    created
}

fn write_media(dir: &Path) {
    std::fs::create_dir_all(dir.join("shots")).unwrap();
    std::fs::create_dir_all(dir.join("empty")).unwrap();
    std::fs::write(dir.join("shots/good.png"), png(640, 480)).unwrap();
    std::fs::write(dir.join("shots/notes.png"), "these are notes, not an image").unwrap();
    std::fs::write(dir.join("shots/tiny.png"), png(100, 100)).unwrap();
    std::fs::write(dir.join("alone.png"), "text again").unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_local_files_stay_in_the_editor_as_lines_of_their_own_with_their_reason() {
    let dir = tempfile::tempdir().unwrap();
    write_media(dir.path());
    let d = dir.path().display();
    let mut app = support::app(false);
    let strict = Policy { mode: PreflightMode::Strict, unprobeable: Unprobeable::Hold, consent: false };
    app.input.set_policy(strict);
    let checker = Arc::new(Checker::new(Preflight::new(&PreflightConfig::default(), &Default::default()).unwrap()));
    let intake = intake(&app, strict, Some(checker));
    app.handle_paste(&format!("{d}/shots\n{d}/empty\n{d}/alone.png"));
    key(&mut app, KeyCode::Enter);
    let created = dashboard_sends(&mut app, &intake).await;
    assert_eq!(created.iter().map(|j| j.name.as_str()).collect::<Vec<_>>(), ["good"]);
    let kept: Vec<String> = app.urls_text().lines().map(String::from).collect();
    assert_eq!(
        kept,
        [format!("{d}/shots/notes.png"), format!("{d}/shots/tiny.png"), format!("{d}/empty"), format!("{d}/alone.png")],
        "each refused file is a line of its own; the directory's good file is gone"
    );
    let v = app.input.verdicts();
    assert!(matches!(&v[0], Verdict::Error(e) if e.contains("notes.png") && e.contains("not an image")), "{v:?}");
    assert!(matches!(&v[1], Verdict::Error(e) if e.contains("100×100")), "{v:?}");
    assert!(
        v[1].conformable() && !v[0].conformable() && !v[3].conformable(),
        "only the small image can be conformed: {v:?}"
    );
    assert!(matches!(&v[2], Verdict::Error(e) if e.contains("no media files")), "{v:?}");
    assert!(matches!(&v[3], Verdict::Error(e) if e.contains("alone.png")), "{v:?}");
    assert_eq!(app.status(), Some("queued 1 · refused 4 — C conforms the 1 line marked conformable"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_conform_key_conforms_the_lines_marked_conformable_and_only_those() {
    use seedance_assets::conform::{ConformConfig, Conformer};
    let dir = tempfile::tempdir().unwrap();
    write_media(dir.path());
    let d = dir.path().display();
    let mut app = support::app(false);
    let strict = Policy { mode: PreflightMode::Strict, unprobeable: Unprobeable::Hold, consent: false };
    app.input.set_policy(strict);
    let checker = Arc::new(Checker::new(Preflight::new(&PreflightConfig::default(), &Default::default()).unwrap()));
    let http = seedance_assets::api::http_client_builder(&Default::default()).unwrap().build().unwrap();
    let limits = PreflightConfig::default().limits();
    let conformer = Arc::new(Conformer::new(&ConformConfig::default(), limits, dir.path().join("cache"), http));
    let intake = Arc::new(Intake { conform: Some(conformer), ..(*intake(&app, strict, Some(checker))).clone() });
    app.handle_paste(&format!("{d}/shots"));
    key(&mut app, KeyCode::Enter);
    let created = dashboard_sends(&mut app, &intake).await;
    assert_eq!(created.iter().map(|j| j.name.as_str()).collect::<Vec<_>>(), ["good"], "Enter does not conform");
    let v = app.input.verdicts();
    assert!(!v[0].conformable() && v[1].conformable(), "{v:?}");
    assert_eq!(app.status(), Some("queued 1 · refused 2 — C conforms the 1 line marked conformable"));
    key(&mut app, KeyCode::Char('C'));
    let created = dashboard_sends(&mut app, &intake).await;
    assert_eq!(created.len(), 1, "only the conformable line is sent");
    let tiny = &created[0];
    assert_eq!(tiny.name, "tiny");
    let record = tiny.conform.as_ref().expect("conformed");
    assert_eq!(record.recipe, "upscaled 100×100 to 300×300; written as jpeg (png if transparent), was png");
    assert_eq!((tiny.media.as_ref().unwrap().width, tiny.media.as_ref().unwrap().height), (Some(300), Some(300)));
    assert!(tiny.local.as_ref().unwrap().path.starts_with(dir.path().join("cache")), "the output is what is uploaded");
    let kept: Vec<String> = app.urls_text().lines().map(String::from).collect();
    assert_eq!(kept, [format!("{d}/shots/notes.png")], "the refused, unconformable line stays");
    key(&mut app, KeyCode::Char('C'));
    assert!(app.take_effects().is_empty());
    assert_eq!(app.status(), Some("no line can be conformed: this key sends refused lines marked `conformable`"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_refusals_of_files_found_through_a_directory_name_the_file() {
    let sim = Sim::start_local(common::quick_sim_config()).await.unwrap();
    let group = sim.state().add_group("dir");
    let env = clienv::Env::with(
        &sim.base_url(),
        sim.state().api_key(),
        &format!(
            "[storage]\nendpoint = \"{}\"\nbucket = \"sim-bucket\"\nprefix = \"refs\"\npath_style = true\n",
            sim.base_url()
        ),
    );
    std::fs::write(&env.config, std::fs::read_to_string(&env.config).unwrap().replace("mode = \"off\"", "")).unwrap();
    write_media(env.dir.path());
    let shots = env.dir.path().join("shots").display().to_string();
    let (first, second) = clienv::blocking(move || {
        let mut c = env.command(["import", &shots, "--group", &group, "--wait", "--json"]);
        c.env("AWS_ACCESS_KEY_ID", "sim-access-key").env("AWS_SECRET_ACCESS_KEY", "sim-secret-key");
        let first = c.output().unwrap();
        let mut c = env.command(["import", &shots, "--group", &group, "--wait", "--json"]);
        c.env("AWS_ACCESS_KEY_ID", "sim-access-key").env("AWS_SECRET_ACCESS_KEY", "sim-secret-key");
        (first, c.output().unwrap())
    })
    .await;
    let stderr = clienv::text(&first.stderr);
    assert!(stderr.contains("argument:1: ") && stderr.contains("shots/notes.png: refused:"), "{stderr}");
    assert!(stderr.contains("shots/tiny.png: refused: 100×100"), "{stderr}");
    assert!(stderr.contains("queued 1 · refused 2"), "{stderr}");
    let jobs: Vec<JobRecord> = serde_json::from_slice(&first.stdout).unwrap();
    assert_eq!(jobs.len(), 1);
    // 6. The same again: nothing created, the existing asset's reference, exit 0.
    let stderr = clienv::text(&second.stderr);
    let again: Vec<JobRecord> = serde_json::from_slice(&second.stdout).unwrap();
    assert!(stderr.contains("queued 0 · existing 1 · refused 2"), "{stderr}");
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].asset_ref, jobs[0].asset_ref);
    assert!(again[0].asset_ref.as_deref().is_some_and(|r| r.starts_with("asset://")));
    assert_eq!(sim.stats().create_asset_requests, 1);
}

/// Bytes this process has read (all threads), from the kernel.
fn bytes_read() -> u64 {
    let io = std::fs::read_to_string("/proc/self/io").unwrap();
    io.lines().find_map(|l| l.strip_prefix("rchar: ")).unwrap().trim().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_over_the_size_limit_is_refused_from_stat_before_a_byte_is_hashed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.png");
    let f = std::fs::File::create(&path).unwrap();
    std::io::Write::write_all(&mut &f, &png(640, 480)).unwrap();
    f.set_len(10 << 30).unwrap(); // sparse: 10 GiB
    let app = support::app(false);
    let strict = Policy { mode: PreflightMode::Strict, unprobeable: Unprobeable::Hold, consent: false };
    let checker = Arc::new(Checker::new(Preflight::new(&PreflightConfig::default(), &Default::default()).unwrap()));
    let intake = intake(&app, strict, Some(checker));
    let before = bytes_read();
    let items = plan(&intake, &path.display().to_string()).await;
    let read = bytes_read() - before;
    let [item] = items.as_slice() else { panic!("{items:?}") };
    let Fate::Refused(why) = &item.fate else { panic!("{:?}", item.fate) };
    assert!(
        why.ends_with("huge.png: size 10240.0 MB is at or above the limit of 30.0 MB for Image"),
        "one unit: {why}"
    );
    assert!(read < 64 << 20, "{read} bytes read: the file was hashed");
}

// ---- 11. One tally -----------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_status_line_the_log_and_the_cli_give_the_same_tally() {
    let mut app = support::app(false);
    let off = Policy { mode: PreflightMode::Off, unprobeable: Unprobeable::Hold, consent: false };
    app.input.set_policy(off);
    let intake = intake(&app, off, None);
    let text = "https://e.com/a.png\nhttps://e.com/b.png\nhttp://e.com/c.png\n/no/such/file.png";
    app.handle_paste(text);
    key(&mut app, KeyCode::Enter);
    dashboard_sends(&mut app, &intake).await;
    let want = "queued 2 · refused 2 — reasons beside the lines";
    assert_eq!(app.status(), Some(want), "a line kept back at Enter counts too");
    assert!(app.log.lines().iter().any(|l| l.text == want));
    // The CLI's plan of the same lines adds up the same.
    let mut tally = seedance_assets::intake::Tally::default();
    for it in plan(&intake, text).await {
        match it.fate {
            Fate::Create { .. } => tally.add(&Fate::Created(0)),
            fate => tally.add(&fate),
        }
    }
    assert_eq!(tally.summary(), "queued 2 · refused 2");
}

// ---- The property: both front ends reach the same plan -----------------------

/// A URL's preflight verdict in a generated case.
#[derive(Debug, Clone, Copy)]
enum V {
    Pass,
    Refuse,
    Unchecked,
}

fn verdict(v: V) -> Pf {
    match v {
        V::Pass => Pf::Passed(
            serde_json::from_value::<MediaInfo>(
                serde_json::json!({"format": "png", "width": 640, "height": 480, "size_bytes": 1000}),
            )
            .unwrap(),
        ),
        V::Refuse => Pf::refused("1920×200: aspect 9.6 is above 2.5"),
        V::Unchecked => Pf::NotChecked { reason: "cannot reach the URL's host: connection refused".into() },
    }
}

fn line(kind: u8, i: usize, dir: &str) -> String {
    match kind % 16 {
        0 => format!("https://h{i}.example/a{i}.png"),
        1 => format!("https://h{i}.example/clip{i}.mp4,Clip {i}"),
        2 => format!("https://h{i}.example/raw{i}.bin\tTrack {i}\taudio"),
        3 => format!("http://h{i}.example/x{i}.png"),
        4 => format!("https://h{i}.example/x{i}.pnghttps://h{i}.example/y{i}.png"),
        5 => format!("https://h{i}.example/doc{i}.pdf"),
        6 => "not a url".into(),
        7 => "# a comment".into(),
        8 => String::new(),
        9 => format!("{dir}/shots"),
        10 => format!("{dir}/shots/*.png"),
        11 => format!("{dir}/empty"),
        12 => format!("{dir}/missing{i}.png"),
        13 => format!("{dir}/alone.png"),
        14 => format!("https://h{i}.example/v{i}.png,,Video"),
        _ => format!("  https://h{i}.example/s{i}.png  "),
    }
}

/// What a plan kept back: the text of each refused or held item, with which.
fn kept_by_cli(items: &[Item]) -> BTreeMap<(String, bool), usize> {
    let mut kept = BTreeMap::new();
    for it in items {
        let held = match &it.fate {
            Fate::Refused(_) => false,
            Fate::Held { .. } => true,
            _ => continue,
        };
        *kept.entry((it.text().to_string(), held)).or_default() += 1;
    }
    kept
}

fn kept_by_dashboard(app: &App) -> BTreeMap<(String, bool), usize> {
    let mut kept = BTreeMap::new();
    for (text, v) in app.input.editor().lines().iter().zip(app.input.verdicts()) {
        let held = match v {
            Verdict::Error(_) => false,
            Verdict::Held(_) => true,
            Verdict::Skip => continue,
            other => panic!("`{text}` is left {other:?}"),
        };
        *kept.entry((text.trim().to_string(), held)).or_default() += 1;
    }
    kept
}

fn sorted(mut jobs: Vec<NewJob>) -> Vec<NewJob> {
    jobs.sort_by(|a, b| (&a.url, &a.name).cmp(&(&b.url, &b.name)));
    jobs
}

#[test]
fn the_cli_and_the_dashboard_reach_the_same_plan() {
    let dir = tempfile::tempdir().unwrap();
    write_media(dir.path());
    let d = dir.path().display().to_string();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let modes = [PreflightMode::Strict, PreflightMode::Warn, PreflightMode::Off];
    let unprobeable = [Unprobeable::Hold, Unprobeable::Allow, Unprobeable::Refuse];
    let case = (proptest::collection::vec((any::<u8>(), 0..3usize), 1..14), 0..3usize, 0..3usize, any::<bool>());
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig { cases: 64, ..ProptestConfig::default() });
    runner
        .run(&case, |(lines, mode, unprobeable_at, consent)| {
            let policy = Policy { mode: modes[mode], unprobeable: unprobeable[unprobeable_at], consent: false };
            let vs = [V::Pass, V::Refuse, V::Unchecked];
            let text: String = lines.iter().enumerate().map(|(i, (k, _))| line(*k, i, &d) + "\n").collect();
            let verdict_of = |url: &str| {
                let i: usize =
                    url.split("//h").nth(1).and_then(|r| r.split('.').next()).and_then(|n| n.parse().ok()).unwrap();
                verdict(vs[lines[i].1])
            };
            // Both front ends ask one checker, which knows every URL's verdict.
            let checker =
                Arc::new(Checker::new(Preflight::new(&PreflightConfig::default(), &Default::default()).unwrap()));
            for ty in [AssetType::Image, AssetType::Video, AssetType::Audio] {
                for l in text.lines() {
                    if let Some(url) = l.trim().split([',', '\t']).next().filter(|u| u.starts_with("https://h")) {
                        checker.remember(url, ty, verdict_of(url));
                    }
                }
            }
            let checker = (policy.mode != PreflightMode::Off).then_some(checker);

            // The dashboard: paste, the shown verdicts, Enter, and `!` when consenting.
            let mut app = support::app(false);
            app.input.set_policy(policy);
            let intake = intake(&app, policy, checker);
            app.handle_paste(&text);
            for (key_, job) in app.input.wanted_checks(false) {
                app.input.set_check(key_, verdict_of(&job.url));
            }
            key(&mut app, KeyCode::Enter);
            let mut created = rt.block_on(dashboard_sends(&mut app, &intake));
            if consent {
                key(&mut app, KeyCode::Char('!'));
                created.extend(rt.block_on(dashboard_sends(&mut app, &intake)));
            }

            // The CLI: the same text in one run (consent: --allow-unchecked).
            let cli = Arc::new(Intake { policy: Policy { consent, ..policy }, ..(*intake).clone() });
            let items = rt.block_on(plan(&cli, &text));
            let cli_created: Vec<NewJob> = items
                .iter()
                .filter_map(|it| match &it.fate {
                    Fate::Create { job, .. } => Some(NewJob::clone(job)),
                    _ => None,
                })
                .collect();
            prop_assert_eq!(sorted(created), sorted(cli_created), "created:\n{}", text);
            prop_assert_eq!(kept_by_dashboard(&app), kept_by_cli(&items), "kept:\n{}", text);
            Ok(())
        })
        .unwrap();
}

// ---- 9. Why a line is held -----------------------------------------------------

#[test]
fn d_on_the_url_editor_says_the_whole_reason_a_line_is_held() {
    let mut app = support::app(false);
    app.input.set_policy(Policy { mode: PreflightMode::Strict, unprobeable: Unprobeable::Hold, consent: false });
    app.handle_paste("https://cdn.example/hero.png");
    let wanted = app.input.wanted_checks(false);
    let reason = "cannot reach the URL's host: dns error: failed to lookup address information";
    app.input.set_check(wanted[0].0.clone(), Pf::NotChecked { reason: reason.into() });
    let shot = screen(&mut app, 80, 24);
    assert!(shot.contains("? not checked"), "{shot}");
    key(&mut app, KeyCode::Char('d'));
    let status = app.status().unwrap();
    assert_eq!(status, format!("line 1: ? held back, not checked: {reason}: ! sends it anyway"));
    assert!(app.log.lines().iter().any(|l| l.text == status), "whole in the log");
    assert!(!status.contains("the server"), "the URL's host, never the server");
}

// ---- A FIFO or a socket named like media does not block the front door ---------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fifo_or_a_socket_named_like_an_image_is_refused_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("x.png");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(made.success());
    let socket = dir.path().join("z.png");
    let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    std::fs::write(dir.path().join("y.png"), png(640, 480)).unwrap();
    let app = support::app(false);
    let strict = Policy { mode: PreflightMode::Strict, unprobeable: Unprobeable::Hold, consent: false };
    let intake = intake(&app, strict, None);
    let text = format!("{}\n{}\n{}", fifo.display(), socket.display(), dir.path().display());
    // Nobody ever writes to the FIFO: a read of it would wait forever.
    let items = tokio::time::timeout(std::time::Duration::from_secs(60), plan(&intake, &text))
        .await
        .expect("the FIFO was opened and read");
    let fates: Vec<(String, bool)> =
        items.iter().map(|it| (it.text().to_string(), matches!(it.fate, Fate::Create { .. }))).collect();
    let (fifo, socket) = (fifo.display().to_string(), socket.display().to_string());
    let y = dir.path().join("y.png").display().to_string();
    assert_eq!(
        fates,
        [(fifo.clone(), false), (socket.clone(), false), (fifo, false), (socket, false), (y, true)],
        "{items:?}"
    );
    let why = |i: usize| match &items[i].fate {
        Fate::Refused(why) => why.clone(),
        other => panic!("{other:?}"),
    };
    assert!(why(0).contains("it is a FIFO, not a regular file"), "{}", why(0));
    assert!(why(1).contains("it is a socket, not a regular file"), "{}", why(1));
}

#[test]
fn restored_lines_are_marked_one_by_one_and_neither_bang_nor_e_bypasses_the_question() {
    let mut app = support::app(false);
    app.input.set_policy(Policy { mode: PreflightMode::Strict, unprobeable: Unprobeable::Hold, consent: false });
    app.restore_draft("https://127.0.0.1:1/held.png");
    let wanted = app.input.wanted_checks(false);
    app.input.set_check(wanted[0].0.clone(), Pf::NotChecked { reason: "cannot reach the URL's host".into() });
    app.handle_paste("https://e.com/new.png");
    let shot = screen(&mut app, 80, 24);
    let marked: Vec<&str> = shot.lines().filter(|l| l.contains("↺?") || l.contains("↺✓")).collect();
    assert_eq!(marked.len(), 1, "only the restored line is marked:\n{shot}");
    assert!(marked[0].contains("held.png"), "{shot}");
    // `!` sends held lines, but not a restored one before Enter's question.
    key(&mut app, KeyCode::Char('!'));
    assert!(app.take_effects().is_empty(), "nothing restored is sent unconfirmed");
    assert!(app.status().unwrap().contains("Enter asks about them first"), "{:?}", app.status());
    // `e` in the question edits on a new line: typing never glues onto it.
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Char('e'));
    chars(&mut app, "https://e.com/typed.png");
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.urls_text(), "https://127.0.0.1:1/held.png\nhttps://e.com/new.png\nhttps://e.com/typed.png");
    assert_eq!(app.input.restored_lines(), 1, "still restored, still asked about");
}

#[test]
fn a_local_path_is_not_called_ready_before_it_is_read() {
    let mut app = support::app(false);
    app.handle_paste("/no/such/file.png");
    assert!(matches!(&app.input.verdicts()[0], Verdict::OnEnter(_)), "{:?}", app.input.verdicts());
    assert_eq!(app.input.ready(), 0);
    let shot = screen(&mut app, 80, 24);
    assert!(shot.contains("· 1 local, read on Enter") && !shot.contains("ready"), "{shot}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_files_carry_the_profile_like_urls() {
    let dir = tempfile::tempdir().unwrap();
    write_media(dir.path());
    let app = support::app(false);
    let off = Policy { mode: PreflightMode::Off, unprobeable: Unprobeable::Hold, consent: false };
    let work = Arc::new(Intake { profile: "work".into(), ..(*intake(&app, off, None)).clone() });
    let text = format!("{}/shots/good.png\nhttps://e.com/a.png", dir.path().display());
    let items = plan(&work, &text).await;
    let profiles: Vec<&str> = items
        .iter()
        .map(|it| match &it.fate {
            Fate::Create { job, .. } => job.profile.as_str(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(profiles, ["work", "work"]);
    let Fate::Create { job, .. } = &items[0].fate else { unreachable!() };
    assert!(job.local.as_ref().is_some_and(|l| !l.sha256.is_empty()), "hashed once it passed: {job:?}");
}
