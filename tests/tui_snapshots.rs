//! Snapshots of every pane and popup at 60×16, 80×24 and 120×40, in colour and
//! with NO_COLOR. Each snapshot is the buffer's text and its styles.

mod support;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use seedance_assets::tui::app::App;
use seedance_assets::tui::view;

fn key(app: &mut App, code: KeyCode) {
    app.handle_key(KeyEvent::new(code, KeyModifiers::NONE));
}

fn chars(app: &mut App, s: &str) {
    for c in s.chars() {
        key(app, KeyCode::Char(c));
    }
}

fn render(app: &mut App, w: u16, h: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    view::prepare(app, terminal.get_frame().area());
    terminal.draw(|f| view::draw(f, app)).unwrap();
    format!("{:?}", terminal.backend().buffer())
}

/// Puts a dashboard into one screen.
type Build = fn(&mut App);

/// Builds each screen from the same starting state.
fn screens() -> Vec<(&'static str, Build)> {
    vec![
        ("main", |_| {}),
        ("editing", |a| {
            key(a, KeyCode::Char('i'));
            chars(a, "https://media.example/new/shot.png");
        }),
        ("list_filtered", |a| {
            key(a, KeyCode::Char('/'));
            chars(a, "o");
            key(a, KeyCode::Enter);
            key(a, KeyCode::Down);
        }),
        ("help", |a| key(a, KeyCode::Char('?'))),
        ("detail", |a| {
            key(a, KeyCode::Tab);
            key(a, KeyCode::Tab);
            key(a, KeyCode::Tab);
            key(a, KeyCode::Tab);
            key(a, KeyCode::Tab);
            for _ in 0..4 {
                key(a, KeyCode::Down);
            }
            key(a, KeyCode::Char('d'));
        }),
        ("confirm_retry", |a| {
            for _ in 0..5 {
                key(a, KeyCode::Tab);
            }
            for _ in 0..6 {
                key(a, KeyCode::Down);
            }
            key(a, KeyCode::Char('r'));
        }),
        ("presets", |a| key(a, KeyCode::Char('p'))),
        ("preset_form", |a| {
            key(a, KeyCode::Char('p'));
            key(a, KeyCode::Char('e'));
            key(a, KeyCode::Tab);
        }),
        ("group_form", |a| {
            key(a, KeyCode::Char('c'));
            chars(a, "storyboard refs");
        }),
        ("editor_lines", |a| {
            a.handle_paste(
                "https://media.example/a/cat.png\nhttps://media.example/raw/take1.bin\tOpening shot\tvideo\n# a comment\nhttp://media.example/insecure.png\nhttps://media.example/song.mp3",
            );
            key(a, KeyCode::Char('i'));
            key(a, KeyCode::Up);
        }),
        ("library", |a| {
            use seedance_assets::api::{AssetInfo, AssetStatus, Page};
            use seedance_assets::tui::pane::library::LibraryNews;
            a.input.group.set("group-20261124000000-abcde");
            key(a, KeyCode::Char('b'));
            let asset = |n: u32, status: AssetStatus, name: &str| AssetInfo {
                id: Some(format!("asset-20261124000000-{n:06}")),
                name: Some(name.into()),
                url: None,
                asset_type: Some(if n.is_multiple_of(2) { "Image" } else { "Video" }.into()),
                group_id: Some("group-20261124000000-abcde".into()),
                status,
                create_time: Some(format!("2026-11-24T10:{n:02}:00Z")),
                update_time: None,
                error: None,
            };
            let items = vec![
                asset(1, AssetStatus::Active, "opening shot"),
                asset(2, AssetStatus::Failed, "bad\u{1b}[2J frame"),
                asset(3, AssetStatus::Processing, "voice take 3"),
                asset(4, AssetStatus::Other("Archived".into()), "old plate"),
            ];
            let page = Page { items, unreadable: 1, total: Some(5) };
            a.library_news(LibraryNews::Page { group: "group-20261124000000-abcde".into(), page, last: false });
            key(a, KeyCode::Down);
            key(a, KeyCode::Char('x'));
        }),
        ("folders", |a| {
            use seedance_assets::tui::pane::folders::FolderRow;
            a.input.group.set("group-20261124000000-abcde");
            a.folders = vec![
                FolderRow {
                    dir: "/srv/farm/renders/sequence-010/shot-0420/comp/output".into(),
                    group: "group-20261124000000-abcde".into(),
                    recursive: true,
                    rules: "include *.exr, exclude **/tmp/**".into(),
                    jobs: 1234,
                    waiting: 3,
                    refused: 2,
                },
                FolderRow {
                    dir: "/home/me/voice-takes".into(),
                    group: "group-20261124000000-fghij".into(),
                    recursive: false,
                    rules: String::new(),
                    jobs: 1,
                    waiting: 0,
                    refused: 0,
                },
            ];
            key(a, KeyCode::Char('w'));
            key(a, KeyCode::Char('a'));
            chars(a, "~/plates");
        }),
        ("folders_many", |a| {
            use seedance_assets::tui::pane::folders::FolderRow;
            a.input.group.set("group-20261124000000-abcde");
            a.folders = (0..12)
                .map(|i| FolderRow {
                    dir: format!("/srv/farm/shot-{i:02}").into(),
                    group: "group-20261124000000-abcde".into(),
                    rules: if i % 4 == 0 { "include *.png".into() } else { String::new() },
                    jobs: i,
                    ..FolderRow::default()
                })
                .collect();
            a.folders_idle = Some("another process runs the imports (this dashboard only shows them)".into());
            key(a, KeyCode::Char('w'));
            key(a, KeyCode::End);
        }),
        ("log_wrapped", |a| {
            a.apply(seedance_assets::engine::Update::Log(seedance_assets::engine::LogLine {
                time: support::at(70),
                level: seedance_assets::engine::Level::Warn,
                text: "not imported, line 4: `http://media.example/insecure.png` must be an https:// URL (the asset library downloads it itself)".into(),
            }));
            for _ in 0..6 {
                key(a, KeyCode::Tab);
            }
        }),
    ]
}

#[test]
fn snapshots_of_every_screen() {
    for (name, build) in screens() {
        for (w, h) in [(60, 16), (80, 24), (120, 40)] {
            for no_color in [false, true] {
                let mut app = support::app(no_color);
                build(&mut app);
                let shot = render(&mut app, w, h);
                let mode = if no_color { "nocolor" } else { "color" };
                insta::assert_snapshot!(format!("{name}_{w}x{h}_{mode}"), shot);
            }
        }
    }
}

#[test]
fn too_small_terminal_says_so() {
    let mut app = support::app(false);
    let shot = render(&mut app, 50, 12);
    assert!(shot.contains("seedance-assets needs at") && shot.contains("least 60×16"), "{shot}");
    insta::assert_snapshot!("too_small_50x12", shot);
}

#[test]
fn no_color_uses_no_colours() {
    let mut app = support::app(true);
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
    view::prepare(&mut app, terminal.get_frame().area());
    terminal.draw(|f| view::draw(f, &app)).unwrap();
    for cell in terminal.backend().buffer().content() {
        assert_eq!(cell.fg, ratatui::style::Color::Reset, "a colour in NO_COLOR mode at {:?}", cell.symbol());
        assert_eq!(cell.bg, ratatui::style::Color::Reset);
    }
    let mut app = support::app(false);
    view::prepare(&mut app, terminal.get_frame().area());
    terminal.draw(|f| view::draw(f, &app)).unwrap();
    assert!(terminal.backend().buffer().content().iter().any(|c| c.fg == ratatui::style::Color::Green));
}

#[test]
fn ten_thousand_rows_render_only_the_visible_ones() {
    let mut app = support::app(false);
    app.put_all(
        (100..10_100)
            .map(|id| support::job(id, &format!("bulk-{id}"), "png", seedance_assets::engine::JobState::Processing))
            .collect(),
    );
    for _ in 0..5 {
        key(&mut app, KeyCode::Tab);
    }
    key(&mut app, KeyCode::End);
    let shot = render(&mut app, 120, 40);
    assert!(shot.contains("bulk-10099"), "the last row is on screen");
    assert!(!shot.contains("bulk-100 "), "the first rows are not");
    assert!(shot.contains("Assets 10008/10008"));
}

#[test]
fn a_banner_sits_above_the_panes_without_breaking_the_layout() {
    use seedance_assets::engine::Level;
    use seedance_assets::tui::app::Banner;
    let mut app = support::app(false);
    app.set_banner(Some(Banner { level: Level::Error, text: "journal unwritable: disk full\x1b[2J".into() }));
    for (w, h) in [(60, 16), (80, 24)] {
        let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
        view::prepare(&mut app, terminal.get_frame().area());
        terminal.draw(|f| view::draw(f, &app)).unwrap();
        let buf = terminal.backend().buffer();
        let row = |y: u16| (0..w).map(|x| buf[(x, y)].symbol()).collect::<String>();
        assert!(row(1).contains("journal unwritable: disk full\u{FFFD}[2J"), "{}", row(1));
        assert!(row(2).starts_with("┌ Import"), "{}", row(2));
        assert!((0..h).any(|y| row(y).contains("Log")), "the log pane is still there");
    }
    app.set_banner(None);
    assert!(app.banner().is_none());
}

#[test]
fn the_header_shows_the_accounts_assets_against_its_cap() {
    use seedance_assets::tui::pane::library::LibraryNews;
    let mut app = support::app(true);
    assert!(!render(&mut app, 120, 40).contains("/10000"));
    app.library_news(LibraryNews::Holdings(Some((9_500, 10_000))));
    let shot = render(&mut app, 120, 40);
    assert!(shot.contains("· 9500/10000 assets"), "{shot}");
    // A delete from the view counts down.
    app.library_news(LibraryNews::Deleted { id: "asset-1".into(), result: Ok(()) });
    assert!(render(&mut app, 120, 40).contains("· 9499/10000 assets"));
}
