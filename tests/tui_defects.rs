//! One state test per defect found trying the dashboard as a new user
//! (issue 11); each fails on the dashboard before the fix.

mod support;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use seedance_assets::api::AssetType;
use seedance_assets::engine::{Command, Group, JobState, Level, LogLine, Update};
use seedance_assets::tui::app::{App, Confirm, Focus, Mode};
use seedance_assets::tui::effect::Effect;
use seedance_assets::tui::view;

fn key(app: &mut App, code: KeyCode) {
    app.handle_key(KeyEvent::new(code, KeyModifiers::NONE));
}

fn chars(app: &mut App, s: &str) {
    s.chars().for_each(|c| key(app, KeyCode::Char(c)));
}

fn focus(app: &mut App, f: Focus) {
    for _ in 0..7 {
        if app.focus() == f {
            return;
        }
        key(app, KeyCode::Tab);
    }
    panic!("cannot focus {f:?}");
}

fn screen(app: &mut App, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    view::prepare(app, t.get_frame().area());
    t.draw(|f| view::draw(f, app)).unwrap();
    let buf = t.backend().buffer();
    (0..h).map(|y| (0..w).map(|x| buf[(x, y)].symbol()).collect::<String>() + "\n").collect()
}

fn submitted(app: &mut App) -> Vec<seedance_assets::engine::NewJob> {
    support::through_intake(app)
}

/// 1. TAB-separated lines keep their name and type.
#[test]
fn a_tab_separated_paste_imports_with_its_name_and_type() {
    let mut app = support::app(false);
    app.handle_paste("https://e.com/raw/clip.bin\tOpening shot\tvideo\nhttps://e.com/b.png\tStill");
    assert!(app.urls_text().contains('\t'), "tabs are kept: {:?}", app.urls_text());
    key(&mut app, KeyCode::Enter);
    let jobs = submitted(&mut app);
    let got: Vec<_> = jobs.iter().map(|j| (j.url.as_str(), j.name.as_str(), j.asset_type)).collect();
    assert_eq!(
        got,
        [
            ("https://e.com/raw/clip.bin", "Opening shot", AssetType::Video),
            ("https://e.com/b.png", "Still", AssetType::Image)
        ]
    );
}

/// 2. Actions apply to the marked rows that are shown, and say how many of which state.
#[test]
fn marks_hidden_by_the_filter_are_not_acted_on() {
    let mut app = support::app(false);
    focus(&mut app, Focus::List);
    key(&mut app, KeyCode::Char('A'));
    // Show only Stuck: one of the eight marked rows.
    let only_stuck = |app: &mut seedance_assets::tui::app::App| {
        let ids = app.visible_ids();
        !ids.is_empty() && ids.iter().all(|id| app.job(*id).unwrap().state == JobState::Stuck)
    };
    while !only_stuck(&mut app) {
        key(&mut app, KeyCode::Char('s'));
    }
    key(&mut app, KeyCode::Char('x'));
    assert!(matches!(app.mode(), Mode::Confirm(Confirm::Forget(c)) if c.ids == [8]), "{:?}", app.mode());
    let shot = screen(&mut app, 80, 24);
    assert!(shot.contains("Forget 1 job (1 Stuck)?"), "{shot}");
    key(&mut app, KeyCode::Char('n'));
    key(&mut app, KeyCode::Char('r'));
    assert_eq!(app.take_effects(), [Effect::Engine(Command::Retry(vec![8]))]);
    assert!(screen(&mut app, 80, 24).contains("1 marked (7 hidden)"));
}

/// 3. Long messages wrap in the log, the log can be searched and a line opened whole.
#[test]
fn the_log_wraps_searches_and_opens_a_line_whole() {
    let mut app = support::app(false);
    let long = format!("not imported, line 3: {} END", "a very long reason ".repeat(6));
    app.note(Level::Warn, long.clone());
    app.note(Level::Info, "later line");
    let shot = screen(&mut app, 80, 24);
    assert!(shot.contains("END"), "the long line wraps in the log pane:\n{shot}");
    focus(&mut app, Focus::Log);
    key(&mut app, KeyCode::Char('/'));
    chars(&mut app, "LINE 3");
    key(&mut app, KeyCode::Enter);
    key(&mut app, KeyCode::Enter);
    assert_eq!(*app.mode(), Mode::LogEntry);
    assert!(screen(&mut app, 80, 24).contains("Log line"));
    assert_eq!(app.log.current().unwrap().text, long);
    // Bad lines' reasons reach the log.
    key(&mut app, KeyCode::Esc);
    app.handle_paste("http://e.com/x.png");
    key(&mut app, KeyCode::Enter);
    assert!(app.log.lines().back().unwrap().text.contains("must be an https:// URL"));
}

/// 4. The URL field is a multi-line editor: Up/Down, new lines, clear, undo.
#[test]
fn the_url_field_is_a_multi_line_editor() {
    let mut app = support::app(false);
    app.set_urls("https://e.com/a.png\nhttps://e.com/b.png");
    // `i` starts on a new line at the end: typing never glues onto a line.
    key(&mut app, KeyCode::Char('i'));
    chars(&mut app, "https://e.com/d.png");
    assert_eq!(app.urls_text(), "https://e.com/a.png\nhttps://e.com/b.png\nhttps://e.com/d.png");
    app.handle_key(KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
    key(&mut app, KeyCode::Up);
    key(&mut app, KeyCode::Up);
    key(&mut app, KeyCode::End);
    app.handle_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::ALT));
    chars(&mut app, "https://e.com/c.mp3");
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.urls_text(), "https://e.com/a.png\nhttps://e.com/c.mp3\nhttps://e.com/b.png", "no blank line left");
    key(&mut app, KeyCode::Char('i'));
    app.handle_key(KeyEvent::new(KeyCode::Char('l'), KeyModifiers::CONTROL));
    assert_eq!(app.urls_text(), "");
    app.handle_key(KeyEvent::new(KeyCode::Char('z'), KeyModifiers::CONTROL));
    assert_eq!(app.urls_text().lines().count(), 3);
    let shot = screen(&mut app, 80, 24);
    assert!(shot.contains("✓ c · Audio"), "a verdict beside each line:\n{shot}");
}

/// 5. `q` with unsubmitted lines asks first.
#[test]
fn quitting_with_unsubmitted_lines_asks() {
    let mut app = support::app(false);
    app.handle_paste("https://e.com/a.png");
    key(&mut app, KeyCode::Char('q'));
    assert!(app.take_effects().is_empty());
    assert_eq!(*app.mode(), Mode::Confirm(Confirm::Quit(1)));
    key(&mut app, KeyCode::Char('n'));
    assert_eq!(app.urls_text(), "https://e.com/a.png");
    key(&mut app, KeyCode::Char('q'));
    key(&mut app, KeyCode::Char('y'));
    assert_eq!(app.take_effects(), [Effect::Quit]);
}

/// 6. A group created "into a new preset" switches the input pane to it.
#[test]
fn a_group_made_into_a_new_preset_is_used_for_the_next_import() {
    let mut app = support::app(false);
    key(&mut app, KeyCode::Char('c'));
    chars(&mut app, "storyboard");
    key(&mut app, KeyCode::Tab);
    key(&mut app, KeyCode::Tab);
    key(&mut app, KeyCode::Char(' '));
    key(&mut app, KeyCode::Enter);
    app.take_effects();
    app.apply(Update::GroupCreated(Group { id: "group-new".into(), name: "storyboard".into() }));
    let effects = app.take_effects();
    let [Effect::SavePreset(change)] = effects.as_slice() else { panic!("{effects:?}") };
    let seedance_assets::config::PresetChange::Upsert { preset, .. } = change else { panic!() };
    let mut saved = app.presets().to_vec();
    saved.push(preset.clone());
    app.preset_saved(change, Ok(saved));
    assert_eq!(app.preset_name(), Some("storyboard"));
    app.handle_paste("https://e.com/a.png");
    key(&mut app, KeyCode::Enter);
    assert_eq!(submitted(&mut app)[0].group_id, "group-new");
}

/// 8. At exactly 60×16 every pane is there.
#[test]
fn the_smallest_size_shows_every_pane() {
    let mut app = support::app(false);
    let shot = screen(&mut app, 60, 16);
    for part in ["seedance-assets", "Import", "URLs", "Preset", "Assets 8/8", "cat", "Log", "? help"] {
        assert!(shot.contains(part), "{part} missing:\n{shot}");
    }
}

/// 8. Home in the log shows a full first page, not one line.
#[test]
fn log_home_shows_the_first_page() {
    let mut app = support::app(false);
    for i in 0..20 {
        app.apply(Update::Log(LogLine {
            time: support::at(60 + i),
            level: Level::Info,
            text: format!("entry {i:02}"),
        }));
    }
    focus(&mut app, Focus::Log);
    key(&mut app, KeyCode::Home);
    let shot = screen(&mut app, 80, 24);
    // The pane is full from the oldest line (it used to show that line alone).
    assert!(shot.contains("queued 8 imports") && shot.contains("job #7 `maybe`"), "{shot}");
}

/// 8. Processing rows show the whole asset id at 80 columns.
#[test]
fn processing_rows_show_the_whole_asset_id_at_80_columns() {
    let mut app = support::app(false);
    assert!(screen(&mut app, 80, 24).contains("asset-20261124120000-000002 "));
}

/// 8. Counts agree in number and the status does not claim what the engine decides.
#[test]
fn messages_use_the_right_plural_and_do_not_overclaim() {
    let mut app = support::app(false);
    focus(&mut app, Focus::List);
    key(&mut app, KeyCode::End);
    key(&mut app, KeyCode::Char('r'));
    assert_eq!(app.status(), Some("retrying 1 job"));
    app.take_effects();
    app.handle_paste("https://e.com/a.png");
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.status(), Some("checking and sending 1 line…"));
    support::through_intake(&mut app);
    assert_eq!(app.status(), Some("queued 1"), "the engine's answer, not a claim");
}

/// 8. Changing Type or Group by hand marks the preset label modified.
#[test]
fn a_hand_changed_preset_says_modified() {
    let mut app = support::app(false);
    focus(&mut app, Focus::Type);
    key(&mut app, KeyCode::Right);
    assert!(screen(&mut app, 80, 24).contains("references (modified)"));
}

/// 8. Every preset's group can be cycled to on the Group field (the demo group too).
#[test]
fn preset_groups_are_offered_on_the_group_field() {
    let mut app = support::app(false);
    focus(&mut app, Focus::Group);
    let mut seen = Vec::new();
    for _ in 0..3 {
        key(&mut app, KeyCode::Right);
        seen.push(app.group_text().to_string());
    }
    assert!(seen.contains(&"group-20260412163933-zwxdc".to_string()), "{seen:?}");
    assert!(seen.contains(&"group-20260415111540-w9pkb".to_string()), "{seen:?}");
}

/// 8. A paste while the help is open lands in the URL field.
#[test]
fn a_paste_while_help_is_open_is_kept() {
    let mut app = support::app(false);
    key(&mut app, KeyCode::Char('?'));
    app.handle_paste("https://e.com/a.png");
    assert_eq!(*app.mode(), Mode::Normal);
    assert_eq!(app.urls_text(), "https://e.com/a.png");
}

/// 8. `gg` goes to the top of the list (the group form is `c`); the help has a glyph legend.
#[test]
fn gg_goes_to_the_top_and_the_help_explains_the_glyphs() {
    let mut app = support::app(false);
    focus(&mut app, Focus::List);
    key(&mut app, KeyCode::End);
    chars(&mut app, "gg");
    assert_eq!(*app.mode(), Mode::Normal);
    assert_eq!(app.selected_job().unwrap().spec.name, "cat");
    key(&mut app, KeyCode::Char('?'));
    let shot = screen(&mut app, 80, 24);
    assert!(shot.contains("⊘ Rejected") && shot.contains("? Uncertain"), "{shot}");
}

/// 8. The footer shows the focused pane's most useful keys, and `q` always.
#[test]
fn the_footer_fits_at_80_columns_with_the_useful_keys() {
    let mut app = support::app(false);
    focus(&mut app, Focus::List);
    let shot = screen(&mut app, 80, 24);
    let footer = shot.lines().last().unwrap();
    for k in ["? help", "d detail", "p presets", "c new group", "q quit"] {
        assert!(footer.contains(k), "{k} missing: {footer}");
    }
}

/// 9. `y` in the details copies what is shown; a "problems" filter; `S` cycles back.
#[test]
fn detail_copy_problems_filter_and_reverse_cycling() {
    let mut app = support::app(false);
    focus(&mut app, Focus::List);
    key(&mut app, KeyCode::Char('S'));
    assert_eq!(app.status(), Some("showing problems"));
    let states: Vec<JobState> = app.visible_ids().iter().map(|id| app.job(*id).unwrap().state).collect();
    assert_eq!(states, [JobState::Failed, JobState::Rejected, JobState::Uncertain, JobState::Stuck]);
    key(&mut app, KeyCode::Char('d'));
    key(&mut app, KeyCode::Char('y'));
    let effects = app.take_effects();
    let [Effect::Copy(text)] = effects.as_slice() else { panic!("{effects:?}") };
    assert!(text.starts_with("InvalidParameter.DownloadFailed"), "{text}");
    key(&mut app, KeyCode::Esc);
    key(&mut app, KeyCode::Char('s'));
    assert_eq!(app.status(), Some("showing all states"));
}

/// 10. Server-sent group names reach the screen sanitized.
#[test]
fn hostile_group_names_are_sanitized() {
    let mut app = support::app(false);
    app.apply(Update::Groups(vec![Group {
        id: "g-1\u{2028}".into(),
        name: "evil\x1b]52;c;aGk=\x07\u{200B}\u{FEFF}\u{202E}".into(),
    }]));
    focus(&mut app, Focus::Group);
    key(&mut app, KeyCode::Left);
    let status = app.status().unwrap();
    assert!(
        status.chars().all(|c| !c.is_control() && !matches!(c, '\u{200B}' | '\u{FEFF}' | '\u{202E}')),
        "{status:?}"
    );
}

/// 11. A job change costs a window read, not a re-test of every job (the
///     list reads only the rows on screen and the counts the store keeps).
#[test]
fn a_job_change_reads_only_the_window() {
    let mut app = support::app(false);
    app.put_all((100..2100).map(|id| support::job(id, &format!("img-{id}"), "png", JobState::Active)).collect());
    key(&mut app, KeyCode::Char('/'));
    chars(&mut app, "img");
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.visible_ids().len(), 2000);
    let backend = ratatui::backend::TestBackend::new(80, 24);
    let mut terminal = ratatui::Terminal::new(backend).unwrap();
    seedance_assets::tui::view::prepare(&mut app, terminal.get_frame().area());
    terminal.draw(|f| seedance_assets::tui::view::draw(f, &app)).unwrap();
    let before = app.list.reads;
    let mut j = app.job(150).unwrap();
    j.spec.name = "renamed".into();
    j.spec.url = "https://e.com/renamed.png".into();
    app.put(j);
    seedance_assets::tui::view::prepare(&mut app, terminal.get_frame().area());
    let reads = app.list.reads - before;
    assert!((1..=8).contains(&reads), "{reads} store reads for one change");
    terminal.draw(|f| seedance_assets::tui::view::draw(f, &app)).unwrap();
    assert_eq!(app.visible_ids().len(), 1999);
    assert!(!terminal.backend().buffer().content().iter().map(|c| c.symbol()).collect::<String>().contains("renamed"));
}

/// `i` edits the URLs from anywhere, as the help says.
#[test]
fn i_edits_the_urls_from_the_list_too() {
    let mut app = support::app(false);
    focus(&mut app, Focus::List);
    key(&mut app, KeyCode::Char('i'));
    assert_eq!((app.focus(), app.mode().clone()), (Focus::Urls, Mode::Editing));
}

/// 9. A forget can be undone without a confirmation.
#[test]
fn u_brings_back_the_last_forgotten_jobs() {
    let mut app = support::app(false);
    focus(&mut app, Focus::List);
    let id = app.visible_ids()[0];
    let job = app.job(id).unwrap().clone();
    key(&mut app, KeyCode::Char('x'));
    key(&mut app, KeyCode::Char('y'));
    assert_eq!(app.take_effects(), [Effect::Engine(Command::Forget(vec![id]))]);
    key(&mut app, KeyCode::Char('u'));
    assert_eq!(app.take_effects(), [Effect::Engine(Command::Restore(vec![job]))]);
    key(&mut app, KeyCode::Char('u'));
    assert!(app.take_effects().is_empty(), "one undo per forget");
}

/// A dashboard runs for one profile: it lists and counts that profile's
/// jobs, `P` shows every profile's (with a Profile column where there is
/// room) and back, and `e` exports what is shown.
#[test]
fn the_list_is_scoped_to_the_dashboards_profile() {
    let mut app = support::app(false);
    let work = |id, name: &str, state| {
        let mut j = support::job(id, name, "png", state);
        j.spec.profile = "work".into();
        j
    };
    let jobs = vec![work(20, "w-one", JobState::Active), work(21, "w-two", JobState::Failed)];
    app.put_all(jobs);
    app.scope_to("work");
    focus(&mut app, Focus::List);
    let names = |app: &mut App| -> Vec<String> {
        let ids = app.visible_ids();
        ids.iter().map(|id| app.job(*id).unwrap().spec.name).collect()
    };
    assert_eq!(names(&mut app), ["w-one", "w-two"]);
    let shot = screen(&mut app, 80, 24);
    assert!(shot.contains("Assets 2/2 [profile work]"), "{shot}");
    assert!(shot.contains("│ ✓1 ✗1 │"), "the header counts the profile's jobs only: {shot}");
    key(&mut app, KeyCode::Char('e'));
    let effects = app.take_effects();
    let [Effect::Export(filter)] = effects.as_slice() else { panic!("an export: {effects:?}") };
    assert_eq!(filter.profile.as_deref(), Some("work"), "the export is of what is shown");

    key(&mut app, KeyCode::Char('P'));
    assert_eq!(names(&mut app).len(), 10, "every profile's jobs");
    let shot = screen(&mut app, 120, 30);
    assert!(shot.contains("Assets 10/10 [all profiles]"), "{shot}");
    assert!(shot.contains("Profile"), "a Profile column where there is room: {shot}");
    assert!(shot.lines().any(|l| l.contains("w-two") && l.contains("work")), "{shot}");
    assert!(!screen(&mut app, 80, 24).contains("Profile"), "no room at 80 columns");
    key(&mut app, KeyCode::Char('P'));
    assert_eq!(names(&mut app), ["w-one", "w-two"]);
}

/// At 80×24: a three-digit line counter keeps clear of the URLs; a long
/// name template shows its start (not its tail) when not being edited; the
/// verdict column grows with the screen; a paused banner wraps rather than
/// lose its key; Esc clears the state filter once marks and text are gone.
#[test]
fn small_screen_details_a_new_user_hit() {
    let mut app = support::app(false);
    let urls: Vec<String> = (1..=120).map(|i| format!("https://example.com/img{i:03}.png")).collect();
    app.set_urls(&urls.join("\n"));
    focus(&mut app, Focus::Urls);
    key(&mut app, KeyCode::Char('i'));
    let shot = screen(&mut app, 80, 24);
    // The counter sits on the editor's last row, beside the cursor's line.
    let counter = shot.lines().find(|l| l.starts_with("│12")).unwrap_or_else(|| panic!("no counter: {shot}"));
    assert!(counter.starts_with("│121    ") || counter.starts_with("│120    "), "{counter}");
    key(&mut app, KeyCode::Esc);

    app.input.name.set("{date}-{stem}-{n:3}");
    focus(&mut app, Focus::Type);
    let shot = screen(&mut app, 80, 24);
    assert!(shot.contains("Name   {date}-{stem}-{n:…"), "the start of the template: {shot}");

    let long = "https://127.0.0.1:1/banner.png";
    app.set_urls(long);
    let verdict_columns = |shot: &str| {
        let row = shot.lines().find(|l| l.contains("banner.png")).unwrap().to_string();
        let cells: Vec<char> = row.chars().collect();
        let start = row.chars().position(|c| c == '?' || c == '✓' || c == '✗' || c == '·').unwrap_or(cells.len());
        cells.len() - start
    };
    let narrow = verdict_columns(&screen(&mut app, 80, 24));
    let wide = verdict_columns(&screen(&mut app, 200, 40));
    assert!(wide > 60 && wide > narrow * 2, "the verdict column grows: {narrow} at 80, {wide} at 200");

    let mut health = seedance_assets::engine::Health::default();
    health.quota.insert(
        "default".into(),
        "the account holds as many assets as it may: delete assets you no longer use in the console".into(),
    );
    app.apply(Update::Health(health));
    let shot = screen(&mut app, 80, 24);
    assert!(shot.contains("R resumes"), "{shot}");
    assert!(shot.contains("no longer use"), "the banner's end wraps onto a second row: {shot}");

    focus(&mut app, Focus::List);
    key(&mut app, KeyCode::Char('s'));
    assert!(app.list.state_filter().is_some());
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.list.state_filter(), None, "Esc clears the state filter, as the empty list says");

    // The footer of the input pane at 80 columns says how to reach the list.
    focus(&mut app, Focus::Urls);
    let footer = screen(&mut app, 80, 24).lines().last().unwrap().to_string();
    assert!(footer.contains("Tab focus") && footer.contains("q quit"), "{footer}");
}
