//! The dashboard driven with synthetic keys: type a URL, submit, filter,
//! copy, retry, forget, presets and groups. Effects are what the event loop
//! would do.

mod support;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use seedance_assets::api::AssetType;
use seedance_assets::config::{PresetChange, SaveError, TypeChoice};
use seedance_assets::engine::{Command, Group, JobState, Update};
use seedance_assets::tui::app::{App, Confirm, Focus, Mode};
use seedance_assets::tui::effect::Effect;
use seedance_assets::tui::forms::Note;
use seedance_assets::tui::pane::input::Verdict;

fn key(app: &mut App, code: KeyCode) {
    app.handle_key(KeyEvent::new(code, KeyModifiers::NONE));
}

fn ctrl(app: &mut App, c: char) {
    app.handle_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL));
}

fn chars(app: &mut App, s: &str) {
    s.chars().for_each(|c| key(app, KeyCode::Char(c)));
}

fn to_list(app: &mut App) {
    while app.focus() != Focus::List {
        key(app, KeyCode::Tab);
    }
}

/// Selects the job with this name in the list.
fn select(app: &mut App, name: &str) {
    to_list(app);
    key(app, KeyCode::Home);
    let ids = app.visible_ids();
    let pos = ids.iter().position(|id| app.job(*id).unwrap().spec.name == name).unwrap();
    for _ in 0..pos {
        key(app, KeyCode::Down);
    }
    assert_eq!(app.selected_job().unwrap().spec.name, name);
}

#[test]
fn typing_a_url_and_submitting_sends_one_import() {
    let mut app = support::app(false);
    app.take_effects();
    key(&mut app, KeyCode::Char('i'));
    assert_eq!(*app.mode(), Mode::Editing);
    chars(&mut app, "https://media.example/new/shot.PNG");
    // Command keys are text while editing.
    chars(&mut app, "q");
    key(&mut app, KeyCode::Backspace);
    assert!(app.take_effects().is_empty());
    key(&mut app, KeyCode::Enter);
    let jobs = support::through_intake(&mut app);
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].url, "https://media.example/new/shot.PNG");
    assert_eq!(jobs[0].name, "shot");
    assert_eq!(jobs[0].asset_type, AssetType::Image);
    assert_eq!(jobs[0].group_id, "group-20260412163933-zwxdc");
    assert_eq!(app.urls_text(), "");
    assert_eq!(*app.mode(), Mode::Normal);
}

/// Esc and `?` typed at once over SSH arrive as one read, parsed as Alt-?:
/// unbound, it is taken as what was typed (leave the editor, open the help).
#[test]
fn esc_and_a_key_in_one_read_are_esc_then_the_key() {
    let mut app = support::app(false);
    key(&mut app, KeyCode::Char('i'));
    chars(&mut app, "https://media.example/a.png");
    app.handle_key(KeyEvent::new(KeyCode::Char('?'), KeyModifiers::ALT));
    assert_eq!(*app.mode(), Mode::Help, "Esc left the editor, then ? opened the help");
    assert_eq!(app.urls_text(), "https://media.example/a.png", "the typed line stays");
    // Alt-Enter is a binding of its own (a new line), never split.
    key(&mut app, KeyCode::Esc);
    key(&mut app, KeyCode::Char('i'));
    let before = app.urls_text().matches('\n').count();
    app.handle_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::ALT));
    assert_eq!(*app.mode(), Mode::Editing);
    assert_eq!(app.urls_text().matches('\n').count(), before + 1, "a new line: {:?}", app.urls_text());
}

#[test]
fn a_multi_line_paste_keeps_bad_lines_and_submits_good_ones() {
    let mut app = support::app(false);
    app.handle_paste("https://e.com/a.png\r\nhttp://e.com/b.png\nhttps://e.com/c.mov\n");
    assert_eq!(app.focus(), Focus::Urls);
    key(&mut app, KeyCode::Enter);
    assert_eq!(app.urls_text(), "https://e.com/a.png\nhttp://e.com/b.png\nhttps://e.com/c.mov", "shown while sent");
    let jobs = support::through_intake(&mut app);
    assert_eq!(jobs.iter().map(|j| j.name.as_str()).collect::<Vec<_>>(), ["a", "c"]);
    assert_eq!(app.urls_text(), "http://e.com/b.png", "the bad line stays to be fixed");
    assert!(matches!(&app.input.verdicts()[0], Verdict::Error(e) if e.contains("https")), "{:?}", app.input.verdicts());
}

#[test]
fn without_a_group_nothing_is_sent() {
    let mut app = App::new("x", vec![], false, "2026-11-24");
    app.handle_paste("https://e.com/a.png");
    key(&mut app, KeyCode::Enter);
    assert!(app.take_effects().is_empty());
    assert!(app.status().unwrap().contains("no group"));
}

#[test]
fn commands_are_not_swallowed_and_text_is_not_commands() {
    let mut app = support::app(false);
    app.take_effects();
    key(&mut app, KeyCode::Char('q'));
    assert_eq!(app.take_effects(), [Effect::Quit]);
    key(&mut app, KeyCode::Char('i'));
    chars(&mut app, "yrdq/");
    assert!(app.take_effects().is_empty());
    assert_eq!(app.urls_text(), "yrdq/");
    key(&mut app, KeyCode::Esc);
    assert_eq!(*app.mode(), Mode::Normal);
    // The URL field holds an unsubmitted line: Ctrl-C asks first.
    ctrl(&mut app, 'c');
    assert_eq!(*app.mode(), Mode::Confirm(Confirm::Quit(1)));
    ctrl(&mut app, 'c');
    assert_eq!(app.take_effects(), [Effect::Quit]);
}

#[test]
fn filter_by_text_and_cycle_states() {
    let mut app = support::app(false);
    key(&mut app, KeyCode::Char('/'));
    chars(&mut app, "O");
    assert_eq!(*app.mode(), Mode::Filter);
    let names: Vec<String> = app.visible_ids().iter().map(|id| app.job(*id).unwrap().spec.name.clone()).collect();
    // Name, URL, asset id and error text are searched ("maybe" matches its error).
    assert_eq!(names, ["intro", "dog", "broken", "nogroup", "maybe", "slow"]);
    key(&mut app, KeyCode::Esc);
    assert_eq!(app.visible_ids().len(), 8);
    // States in lifecycle order: Uploading (none here), then Queued.
    key(&mut app, KeyCode::Char('s'));
    assert!(app.visible_ids().is_empty());
    key(&mut app, KeyCode::Char('s'));
    let only: Vec<JobState> = app.visible_ids().iter().map(|id| app.job(*id).unwrap().state).collect();
    assert_eq!(only, [JobState::Queued]);
    for _ in 0..3 {
        key(&mut app, KeyCode::Char('s'));
    }
    let only: Vec<JobState> = app.visible_ids().iter().map(|id| app.job(*id).unwrap().state).collect();
    assert_eq!(only, [JobState::Active]);
    // The filtered view follows state changes.
    let mut j = app.job(2).unwrap();
    j.state = JobState::Active;
    app.put(j);
    assert_eq!(app.visible_ids(), [1, 2]);
}

#[test]
fn copy_sends_asset_references_of_active_rows() {
    let mut app = support::app(false);
    select(&mut app, "cat");
    key(&mut app, KeyCode::Char('y'));
    assert_eq!(app.take_effects(), [Effect::Copy("asset://asset-20261124120000-000001".into())]);
    assert!(app.status().unwrap().contains("sent"), "the status says sent, not copied");
    select(&mut app, "broken");
    key(&mut app, KeyCode::Char('y'));
    assert!(app.take_effects().is_empty());
    assert!(app.status().unwrap().contains("only Active"));
}

#[test]
fn retry_failed_at_once_and_uncertain_after_asking() {
    let mut app = support::app(false);
    select(&mut app, "broken");
    key(&mut app, KeyCode::Char('r'));
    assert_eq!(app.take_effects(), [Effect::Engine(Command::Retry(vec![5]))]);
    select(&mut app, "maybe");
    key(&mut app, KeyCode::Char('r'));
    let Mode::Confirm(Confirm::RetryUncertain(chosen)) = app.mode() else { panic!("{:?}", app.mode()) };
    assert_eq!(
        (chosen.ids.as_slice(), chosen.summary.as_str(), chosen.in_flight),
        (&[7][..], "1 job (1 Uncertain)", 0)
    );
    assert!(app.take_effects().is_empty());
    key(&mut app, KeyCode::Char('n'));
    assert!(app.take_effects().is_empty());
    key(&mut app, KeyCode::Char('r'));
    key(&mut app, KeyCode::Char('y'));
    assert_eq!(app.take_effects(), [Effect::Engine(Command::Retry(vec![7]))]);
    select(&mut app, "cat");
    key(&mut app, KeyCode::Char('r'));
    assert!(app.take_effects().is_empty(), "Active jobs are not retried");
}

#[test]
fn mark_rows_then_forget_them_after_asking() {
    let mut app = support::app(false);
    select(&mut app, "cat");
    key(&mut app, KeyCode::Char(' '));
    key(&mut app, KeyCode::Char(' '));
    key(&mut app, KeyCode::Char('x'));
    let Mode::Confirm(Confirm::Forget(chosen)) = app.mode() else { panic!("{:?}", app.mode()) };
    assert_eq!(chosen.ids, [1, 2]);
    assert!(chosen.summary.starts_with("2 jobs ("), "{}", chosen.summary);
    key(&mut app, KeyCode::Char('y'));
    assert_eq!(app.take_effects(), [Effect::Engine(Command::Forget(vec![1, 2]))]);
    app.forget(1);
    assert_eq!(app.visible_ids().len(), 7);
    app.refresh();
    assert_eq!(app.count(JobState::Active), 0);
}

#[test]
fn type_and_preset_cycle_and_fill_the_input() {
    let mut app = support::app(false);
    key(&mut app, KeyCode::Char('t'));
    key(&mut app, KeyCode::Char('i'));
    chars(&mut app, "https://e.com/x.bin");
    key(&mut app, KeyCode::Esc);
    key(&mut app, KeyCode::Enter);
    let jobs = support::through_intake(&mut app);
    assert_eq!(jobs[0].asset_type, AssetType::Image, "t chose Image for an unknown extension");
    while app.focus() != Focus::Preset {
        key(&mut app, KeyCode::Tab);
    }
    key(&mut app, KeyCode::Right);
    assert_eq!(app.group_text(), "group-20260415111540-w9pkb");
    app.handle_paste("https://e.com/y.mp4");
    key(&mut app, KeyCode::Enter);
    let jobs = support::through_intake(&mut app);
    assert_eq!(jobs[0].name, "2026-11-24-y-001");
    assert_eq!(jobs[0].asset_type, AssetType::Video);
    // Remembered groups are offered on the group field.
    while app.focus() != Focus::Group {
        key(&mut app, KeyCode::BackTab);
    }
    key(&mut app, KeyCode::Right);
    assert_eq!(app.group_text(), "group-20261124000000-abcde");
}

#[test]
fn preset_editor_validates_then_saves_and_selects() {
    let mut app = support::app(false);
    key(&mut app, KeyCode::Char('p'));
    key(&mut app, KeyCode::Char('a'));
    // Name field: replace with a duplicate name first.
    ctrl(&mut app, 'u');
    chars(&mut app, "Clips");
    key(&mut app, KeyCode::Enter);
    assert!(app.take_effects().is_empty());
    let Mode::Presets(ed) = app.mode() else { panic!() };
    assert!(ed.message.as_ref().map(Note::text).unwrap().contains("already exists"), "{:?}", ed.message);
    assert!(matches!(ed.message, Some(Note::Problem(_))), "shown as a problem: {:?}", ed.message);
    ctrl(&mut app, 'u');
    chars(&mut app, "stills");
    key(&mut app, KeyCode::Tab);
    ctrl(&mut app, 'u');
    key(&mut app, KeyCode::Enter);
    let Mode::Presets(ed) = app.mode() else { panic!() };
    assert!(ed.message.as_ref().map(Note::text).unwrap().starts_with("group:"), "{:?}", ed.message);
    ctrl(&mut app, 'g');
    key(&mut app, KeyCode::Tab);
    key(&mut app, KeyCode::Char(' '));
    key(&mut app, KeyCode::Tab);
    ctrl(&mut app, 'u');
    chars(&mut app, "{stem}-{bogus}");
    key(&mut app, KeyCode::Enter);
    let Mode::Presets(ed) = app.mode() else { panic!() };
    assert!(ed.message.as_ref().map(Note::text).unwrap().contains("unknown placeholder `{bogus}`"), "{:?}", ed.message);
    assert!(app.take_effects().is_empty(), "an invalid preset is never written");
    for _ in 0..8 {
        key(&mut app, KeyCode::Backspace);
    }
    key(&mut app, KeyCode::Enter);
    let effects = app.take_effects();
    let [Effect::SavePreset(change @ PresetChange::Upsert { original: None, preset })] = effects.as_slice() else {
        panic!("{effects:?}")
    };
    assert_eq!(preset.name, "stills");
    assert_eq!(preset.group_id, "group-20261124000000-abcde");
    assert_eq!(preset.asset_type, TypeChoice::Fixed(AssetType::Image));
    assert_eq!(preset.name_template, "{stem}");
    let mut saved = app.presets().to_vec();
    saved.push(preset.clone());
    app.preset_saved(change, Ok(saved));
    let Mode::Presets(ed) = app.mode() else { panic!() };
    assert_eq!((ed.selected, ed.form.is_none()), (2, true));
    key(&mut app, KeyCode::Enter);
    assert_eq!(*app.mode(), Mode::Normal);
    assert_eq!(app.group_text(), "group-20261124000000-abcde");
}

#[test]
fn preset_editor_deletes_after_asking_and_sets_default() {
    let mut app = support::app(false);
    key(&mut app, KeyCode::Char('p'));
    key(&mut app, KeyCode::Down);
    key(&mut app, KeyCode::Char('x'));
    key(&mut app, KeyCode::Char('n'));
    assert!(app.take_effects().is_empty());
    key(&mut app, KeyCode::Char('x'));
    key(&mut app, KeyCode::Char('y'));
    assert_eq!(app.take_effects(), [Effect::SavePreset(PresetChange::Delete("clips".into()))]);
    key(&mut app, KeyCode::Char('*'));
    assert_eq!(app.take_effects(), [Effect::SavePreset(PresetChange::SetDefault("clips".into()))]);
    // A failed save keeps the editor open with the reason.
    let changed = SaveError::ChangedOnDisk("/home/u/.config/seedance-assets/config.toml".into());
    app.preset_saved(&PresetChange::SetDefault("clips".into()), Err(changed));
    let Mode::Presets(ed) = app.mode() else { panic!() };
    assert!(ed.message.as_ref().map(Note::text).unwrap().contains("changed on disk"));
}

#[test]
fn a_new_group_goes_to_the_input_and_a_new_preset() {
    let mut app = support::app(false);
    key(&mut app, KeyCode::Char('c'));
    key(&mut app, KeyCode::Enter);
    assert!(app.take_effects().is_empty(), "an empty name is refused locally");
    chars(&mut app, "storyboard");
    key(&mut app, KeyCode::Tab);
    chars(&mut app, "boards for ep. 3");
    key(&mut app, KeyCode::Tab);
    key(&mut app, KeyCode::Char(' '));
    key(&mut app, KeyCode::Enter);
    assert_eq!(
        app.take_effects(),
        [Effect::Engine(Command::CreateGroup {
            name: "storyboard".into(),
            description: Some("boards for ep. 3".into())
        })]
    );
    app.apply(Update::GroupCreated(Group { id: "group-new".into(), name: "storyboard".into() }));
    assert_eq!(*app.mode(), Mode::Normal);
    assert_eq!(app.group_text(), "group-new");
    let effects = app.take_effects();
    let [Effect::SavePreset(PresetChange::Upsert { original: None, preset })] = effects.as_slice() else {
        panic!("{effects:?}")
    };
    assert_eq!((preset.name.as_str(), preset.group_id.as_str()), ("storyboard", "group-new"));
}

#[test]
fn a_missing_group_offers_to_create_one() {
    let mut app = support::app(false);
    let mut j = support::job(20, "late", "png", JobState::Rejected);
    j.error = Some("rejected: NotFound.group_id: no such group — the group does not exist: create one".into());
    app.put(j);
    assert!(app.status().unwrap().contains("press c to create a group"), "{:?}", app.status());
    // Another gateway spells the code otherwise: the hint still shows.
    let mut app = support::app(false);
    let mut j = support::job(21, "later", "png", JobState::Rejected);
    j.error = Some("rejected: NotFound.GroupId: group does not exist".into());
    app.put(j);
    assert!(app.status().unwrap().contains("press c to create a group"), "{:?}", app.status());
}

#[test]
fn help_and_detail_open_and_close() {
    let mut app = support::app(false);
    key(&mut app, KeyCode::Char('?'));
    assert_eq!(*app.mode(), Mode::Help);
    key(&mut app, KeyCode::Esc);
    select(&mut app, "cat");
    key(&mut app, KeyCode::Enter);
    assert_eq!(*app.mode(), Mode::Detail);
    key(&mut app, KeyCode::Esc);
    assert_eq!(*app.mode(), Mode::Normal);
}

#[test]
fn the_preset_editor_reloads_the_file_on_request() {
    let mut app = support::app(false);
    key(&mut app, KeyCode::Char('p'));
    key(&mut app, KeyCode::Char('L'));
    assert_eq!(app.take_effects(), [Effect::ReloadConfig]);
    let only = vec![support::presets().remove(1)];
    app.config_reloaded(Ok(only));
    assert_eq!(app.presets().len(), 1);
    let Mode::Presets(ed) = app.mode() else { panic!() };
    assert_eq!(ed.selected, 0);
    assert!(ed.message.as_ref().map(Note::text).unwrap().contains("reloaded"));
}

#[test]
fn with_the_mouse_a_click_selects_and_the_wheel_scrolls() {
    use crossterm::event::{MouseButton, MouseEvent, MouseEventKind};
    let mut app = support::app(false);
    let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(80, 24)).unwrap();
    seedance_assets::tui::view::prepare(&mut app, t.get_frame().area());
    t.draw(|f| seedance_assets::tui::view::draw(f, &app)).unwrap();
    let mouse = |kind, row| MouseEvent { kind, column: 10, row, modifiers: KeyModifiers::NONE };
    // Rows: header line 0, input pane 1-7, list border 8, column titles 9, first job 10.
    app.handle_mouse(mouse(MouseEventKind::Down(MouseButton::Left), 12));
    assert_eq!(app.focus(), Focus::List);
    assert_eq!(app.selected_job().unwrap().spec.name, "theme");
    app.handle_mouse(mouse(MouseEventKind::ScrollDown, 12));
    assert_eq!(app.selected_job().unwrap().spec.name, "nogroup");
    app.handle_mouse(mouse(MouseEventKind::ScrollUp, 0));
    assert_eq!(app.selected_job().unwrap().spec.name, "theme");
    app.handle_mouse(mouse(MouseEventKind::Down(MouseButton::Left), 2));
    assert_eq!(app.selected_job().unwrap().spec.name, "theme", "a click outside the list selects nothing");
}

#[test]
fn existing_items_are_reported_with_their_reference_and_offered_for_creation_anew() {
    use seedance_assets::intake::{Fate, Item, Origin};
    let mut app = support::app(false);
    let mut existing = support::job(1, "cat", "png", JobState::Active);
    existing.asset_id = Some("asset-1".into());
    // The same content under another name (a local file copied): what is
    // offered, and created if the user says so, is the line's own item.
    let mut dup = existing.spec.clone();
    dup.name = "cat-copy".into();
    let item = |fate| Item {
        origin: Origin { label: "editor".into(), line: 1 },
        line: dup.url.clone(),
        file: None,
        fate,
        hash_from: None,
        conformable: false,
        note: None,
    };
    let fate = || Fate::Existing { asked: Box::new(dup.clone()), job: Box::new(existing.clone()) };
    app.intake_done(vec![item(fate())]);
    assert_eq!(*app.mode(), Mode::Confirm(Confirm::Duplicates(vec![dup.clone()])));
    assert_eq!(app.status(), Some("queued 0 · existing 1"));
    assert!(app.log.lines().iter().any(|l| l.text.contains("asset://asset-1")), "the reference is in the log");
    // The question opened by itself: a `y` typed at once (for a line being
    // typed, say) is not an answer.
    key(&mut app, KeyCode::Char('y'));
    assert!(app.take_effects().is_empty(), "no duplicate bought by a keystroke meant for something else");
    assert_eq!(*app.mode(), Mode::Confirm(Confirm::Duplicates(vec![dup.clone()])));
    assert_eq!(app.status(), Some("a question just opened: read it, then answer y or n"));
    std::thread::sleep(std::time::Duration::from_millis(850));
    key(&mut app, KeyCode::Char('n'));
    assert!(app.take_effects().is_empty());
    app.intake_done(vec![item(fate())]);
    std::thread::sleep(std::time::Duration::from_millis(850));
    key(&mut app, KeyCode::Char('y'));
    assert_eq!(app.take_effects(), [Effect::Engine(Command::Submit { jobs: vec![dup], allow_duplicates: true })]);
}

#[test]
fn b_browses_the_servers_assets_of_the_group_and_a_delete_forgets_its_jobs() {
    use seedance_assets::api::{AssetInfo, AssetStatus, Page};
    use seedance_assets::tui::effect::LibraryAsk;
    use seedance_assets::tui::pane::library::LibraryNews;
    let mut app = support::app(false);
    app.input.group.set("");
    app.take_effects();
    key(&mut app, KeyCode::Char('b'));
    assert_eq!(*app.mode(), Mode::Normal);
    assert!(app.status().unwrap_or_default().contains("no group to show"), "{:?}", app.status());
    app.input.group.set("group-1");
    key(&mut app, KeyCode::Char('b'));
    assert!(matches!(app.mode(), Mode::Library(_)));
    assert_eq!(app.take_effects(), vec![Effect::Library(LibraryAsk::List("group-1".into()))]);
    let asset = AssetInfo {
        id: Some("asset-9".into()),
        name: Some("plate".into()),
        url: None,
        asset_type: Some("Image".into()),
        group_id: Some("group-1".into()),
        status: AssetStatus::Active,
        create_time: None,
        update_time: None,
        error: None,
    };
    let page = Page { items: vec![asset], unreadable: 0, total: Some(1) };
    app.library_news(LibraryNews::Page { group: "group-1".into(), page, last: true });
    key(&mut app, KeyCode::Char('y'));
    assert_eq!(app.take_effects(), vec![Effect::Copy("asset://asset-9".into())]);
    key(&mut app, KeyCode::Char('x'));
    assert!(app.take_effects().is_empty(), "x only asks");
    key(&mut app, KeyCode::Char('y'));
    assert_eq!(app.take_effects(), vec![Effect::Library(LibraryAsk::Delete("asset-9".into()))]);
    // Closed before the answer: the jobs holding it are still forgotten.
    key(&mut app, KeyCode::Esc);
    assert_eq!(*app.mode(), Mode::Normal);
    app.library_news(LibraryNews::Deleted { id: "asset-9".into(), result: Ok(()) });
    assert_eq!(app.take_effects(), vec![Effect::Engine(Command::AssetsDeleted(vec!["asset-9".into()]))]);
    assert!(app.status().unwrap_or_default().contains("deleted asset-9"));
    // L asks the engine to reconcile now.
    to_list(&mut app);
    key(&mut app, KeyCode::Char('L'));
    assert_eq!(app.take_effects(), vec![Effect::Engine(Command::Reconcile)]);
}

#[test]
fn w_lists_the_watched_folders_and_adds_into_the_input_panes_group() {
    use seedance_assets::tui::effect::FolderAsk;
    use seedance_assets::tui::pane::folders::FolderRow;
    let mut app = support::app(false);
    app.take_effects();
    app.input.group.set("group-1");
    app.folders = vec![FolderRow { dir: "/w/renders".into(), group: "group-0".into(), ..FolderRow::default() }];
    key(&mut app, KeyCode::Char('w'));
    assert!(matches!(app.mode(), Mode::Folders(_)));
    key(&mut app, KeyCode::Char('a'));
    app.handle_paste("/w/plates\n");
    key(&mut app, KeyCode::Enter);
    let add = FolderAsk::Add { dir: "/w/plates".into(), group: "group-1".into(), recursive: false };
    assert_eq!(app.take_effects(), vec![Effect::Folders(add)]);
    // The field stays until the event loop has stored the folder (nothing
    // stores it here): Esc leaves it.
    key(&mut app, KeyCode::Esc);
    assert!(matches!(app.mode(), Mode::Folders(p) if p.adding.is_none()));
    // ? shows the keys.
    key(&mut app, KeyCode::Char('?'));
    assert_eq!(*app.mode(), Mode::Help);
    key(&mut app, KeyCode::Esc);
    key(&mut app, KeyCode::Char('w'));
    // The removal asks first, and names the folder.
    key(&mut app, KeyCode::Char('x'));
    assert!(app.take_effects().is_empty());
    key(&mut app, KeyCode::Char('y'));
    assert_eq!(app.take_effects(), vec![Effect::Folders(FolderAsk::Remove("/w/renders".into()))]);
    key(&mut app, KeyCode::Esc);
    assert_eq!(*app.mode(), Mode::Normal);
    // A paste outside the add field goes to the URL field, as anywhere.
    key(&mut app, KeyCode::Char('w'));
    app.handle_paste("https://media.example/a.png");
    assert_eq!(*app.mode(), Mode::Normal);
}
