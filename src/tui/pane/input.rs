//! The input pane: a multi-line URL editor with a verdict beside each line,
//! and the name template, type, group and preset that apply to the lines.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui_textarea::{CursorMove, TextArea};

use super::super::action::Action;
use super::super::field::TextField;
use crate::config::{Preset, Template, TypeChoice};
use std::collections::HashMap;

use super::super::error::DefaultsError;
use crate::engine::input::{ImportDefaults, parse_line};
use crate::engine::{Command, Group, Level, NewJob};

/// A field of the input pane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputField {
    /// The URL editor.
    Urls,
    /// The name template.
    Name,
    /// The asset type choice.
    Type,
    /// The group id.
    Group,
    /// The preset picker.
    Preset,
}

impl InputField {
    /// Fields in Tab order.
    pub const ORDER: [InputField; 5] =
        [InputField::Urls, InputField::Name, InputField::Type, InputField::Group, InputField::Preset];

    /// True for fields edited as text.
    pub fn is_text(self) -> bool {
        matches!(self, InputField::Urls | InputField::Name | InputField::Group)
    }
}

/// What is known about one line of the URL editor. Filled from the line
/// parser now; a preflight check can feed the same column later.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Blank or a `#` comment: skipped.
    Skip,
    /// Being checked.
    Checking,
    /// Importable: what it becomes (`name · Type`).
    Ok(String),
    /// Not importable, and why.
    Error(String),
}

/// What an editing key did.
#[derive(Debug, Clone, PartialEq)]
pub enum EditOutcome {
    /// Still editing.
    Editing,
    /// Esc or Enter on a one-line field: stop editing.
    Leave,
    /// Enter in the URL editor: submit.
    Submit,
    /// Tab: next field.
    Next,
    /// Shift-Tab: previous field.
    Prev,
}

/// The imports with their line index, and a verdict for every line.
/// What the URL editor holds, line by line.
#[derive(Default)]
struct Parsed {
    /// URL imports ready to go (checked, or preflight off), with their line.
    jobs: Vec<(usize, NewJob)>,
    /// Good URL lines preflight has not judged yet: line, check key, import.
    unchecked: Vec<(usize, String, NewJob)>,
    /// The check key of every parsed URL line (preflight on).
    keys: Vec<(usize, String)>,
    /// Local lines (checked and uploaded on submit).
    locals: Vec<(usize, String)>,
    /// One per line.
    verdicts: Vec<Verdict>,
}

/// The input pane's state.
#[derive(Debug)]
pub struct InputPane {
    urls: TextArea<'static>,
    /// The name template.
    pub name: TextField,
    /// Fixed type or inference.
    pub type_choice: TypeChoice,
    /// The group id.
    pub group: TextField,
    /// The focused field.
    pub field: InputField,
    preset: Option<usize>,
    verdicts: Vec<Verdict>,
    problem: Option<String>,
    date: String,
    /// Preflight results by URL and type; `None` when preflight is off.
    checks: Option<Checks>,
    /// Lines preflight has not been asked about yet, counted at the last
    /// revalidation (all, and those submitted): the event loop asks only
    /// when there are some, without parsing again.
    unasked: (usize, usize),
}

/// Preflight of URL lines as they arrive: results by `URL + type`.
#[derive(Debug, Default)]
struct Checks {
    /// Lines that cannot be probed may go on.
    allow_unchecked: bool,
    /// `None`: being checked.
    results: HashMap<String, Option<crate::preflight::Verdict>>,
    /// Lines submitted before their verdict: submitted when it comes, if good.
    awaiting: std::collections::HashSet<String>,
}

/// The key a URL line's preflight result is kept under.
fn check_key(job: &NewJob) -> String {
    format!("{}\u{1f}{}", job.url, job.asset_type)
}

fn new_editor(lines: Vec<String>) -> TextArea<'static> {
    let mut t = TextArea::new(lines);
    t.set_cursor_line_style(ratatui::style::Style::new());
    t.set_tab_length(2);
    t.set_placeholder_text("paste or type https URLs (i edits)");
    t
}

/// Pasted or typed text made safe to keep: CRLF and CR become LF; tabs (the
/// column separator) and newlines stay; other control and format
/// characters are dropped.
pub fn clean_input(s: &str) -> String {
    s.replace("\r\n", "\n")
        .replace('\r', "\n")
        .chars()
        .filter(|c| matches!(c, '\n' | '\t') || !(c.is_control() || crate::text::is_format(*c)))
        .collect()
}

impl InputPane {
    /// An empty pane; `date` fills `{date}`.
    pub fn new(date: &str) -> InputPane {
        let mut pane = InputPane {
            urls: new_editor(Vec::new()),
            name: TextField::new("{stem}"),
            type_choice: TypeChoice::Infer,
            group: TextField::default(),
            field: InputField::Urls,
            preset: None,
            verdicts: Vec::new(),
            problem: None,
            date: date.to_string(),
            checks: None,
            unasked: (0, 0),
        };
        pane.revalidate();
        pane
    }

    /// The URL editor (for drawing).
    pub fn editor(&self) -> &TextArea<'static> {
        &self.urls
    }

    /// The URL editor's text, lines joined by `\n`.
    pub fn urls_text(&self) -> String {
        self.urls.lines().join("\n")
    }

    /// Lines that would be imported or need fixing (not blank, not comments).
    pub fn pending_lines(&self) -> usize {
        self.verdicts.iter().filter(|v| **v != Verdict::Skip).count()
    }

    /// Replaces the URL editor's text.
    pub fn set_urls(&mut self, text: &str) {
        let clean = clean_input(text);
        let lines = if clean.is_empty() { Vec::new() } else { clean.split('\n').map(str::to_string).collect() };
        self.urls = new_editor(lines);
        self.revalidate();
    }

    /// Adds pasted text on a new line at the end (tabs are kept).
    pub fn paste(&mut self, text: &str) {
        let clean = clean_input(text);
        self.urls.move_cursor(CursorMove::Bottom);
        self.urls.move_cursor(CursorMove::End);
        if !self.urls.is_empty() && !self.urls.lines().last().is_some_and(|l| l.is_empty()) {
            self.urls.insert_newline();
        }
        self.urls.insert_str(clean.trim_end_matches('\n'));
        // Show the lines from their start (the URL's scheme and host).
        self.urls.move_cursor(CursorMove::Head);
        self.field = InputField::Urls;
        self.revalidate();
    }

    /// Inserts pasted text at the cursor (a paste while editing the URLs).
    pub fn paste_at_cursor(&mut self, text: &str) {
        self.urls.insert_str(clean_input(text));
        self.revalidate();
    }

    /// The preset in use.
    pub fn preset(&self) -> Option<usize> {
        self.preset
    }

    /// True when the name, type or group differ from the preset in use.
    pub fn modified(&self, presets: &[Preset]) -> bool {
        self.preset.and_then(|i| presets.get(i)).is_some_and(|p| {
            p.group_id != self.group.text().trim()
                || p.asset_type != self.type_choice
                || p.name_template != self.name.text().trim()
        })
    }

    /// Fills the fields from preset `i`.
    pub fn use_preset(&mut self, presets: &[Preset], i: usize) {
        let Some(p) = presets.get(i) else { return };
        self.preset = Some(i);
        self.group.set(&p.group_id);
        self.type_choice = p.asset_type;
        self.name.set(&p.name_template);
        self.revalidate();
    }

    /// Forgets a preset index that no longer exists.
    pub fn presets_changed(&mut self, presets: &[Preset], keep: Option<&str>) {
        self.preset = keep.and_then(|n| presets.iter().position(|p| p.name == n));
    }

    /// The per-line verdicts, one per editor line.
    pub fn verdicts(&self) -> &[Verdict] {
        &self.verdicts
    }

    /// Why nothing can be parsed (no group, bad template), if so.
    pub fn problem(&self) -> Option<&str> {
        self.problem.as_deref()
    }

    /// Lines ready to import.
    pub fn ready(&self) -> usize {
        self.verdicts.iter().filter(|v| matches!(v, Verdict::Ok(_))).count()
    }

    /// Lines that cannot be imported.
    pub fn bad(&self) -> usize {
        self.verdicts.iter().filter(|v| matches!(v, Verdict::Error(_))).count()
    }

    pub(crate) fn defaults(&self) -> Result<ImportDefaults, DefaultsError> {
        let group = self.group.text().trim();
        if group.is_empty() {
            return Err(DefaultsError::NoGroup);
        }
        let template: Template = match self.name.text().trim() {
            "" => Template::stem(),
            t => t.parse().map_err(DefaultsError::Template)?,
        };
        Ok(ImportDefaults {
            force_type: false,
            group_id: group.to_string(),
            asset_type: self.type_choice,
            template,
            date: self.date.clone(),
        })
    }

    /// Parses every line: the imports (with their line index) and the verdicts.
    fn parse(&self) -> Result<Parsed, DefaultsError> {
        let d = self.defaults()?;
        let mut out = Parsed::default();
        for (i, raw) in self.urls.lines().iter().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                out.verdicts.push(Verdict::Skip);
                continue;
            }
            if crate::local::is_local_line(line) {
                let first = line.split('\t').next().unwrap_or(line);
                let v = match std::fs::metadata(crate::local::resolve(first)) {
                    Ok(m) if m.is_dir() => Verdict::Ok("directory · uploaded on submit".into()),
                    Ok(_) => Verdict::Ok("local file · uploaded on submit".into()),
                    Err(_) if first.contains(['*', '?', '[']) => Verdict::Ok("pattern · uploaded on submit".into()),
                    Err(e) => Verdict::Error(format!("{}: {e}", crate::text::sanitize(first))),
                };
                if matches!(v, Verdict::Ok(_)) {
                    out.locals.push((i, line.to_string()));
                }
                out.verdicts.push(v);
                continue;
            }
            let mut job = match parse_line(line, (out.jobs.len() + out.unchecked.len()) as u64 + 1, &d) {
                Ok(job) => job,
                Err(e) => {
                    out.verdicts.push(Verdict::Error(e.to_string()));
                    continue;
                }
            };
            let what = format!("{} · {}", job.name, job.asset_type);
            let Some(checks) = &self.checks else {
                out.verdicts.push(Verdict::Ok(what));
                out.jobs.push((i, job));
                continue;
            };
            use crate::preflight::Verdict as Pf;
            let key = check_key(&job);
            out.keys.push((i, key.clone()));
            let v = match checks.results.get(&key) {
                // Not asked yet (the line is being typed): what it would be.
                None => {
                    out.unchecked.push((i, key, job));
                    Verdict::Ok(what)
                }
                Some(None) => {
                    out.unchecked.push((i, key, job));
                    Verdict::Checking
                }
                Some(Some(Pf::Passed(m))) => {
                    let v = Verdict::Ok(format!("{what} · {}", m.summary()));
                    job.media = Some(m.clone());
                    out.jobs.push((i, job));
                    v
                }
                Some(Some(Pf::Refused { reasons, .. })) => Verdict::Error(reasons.join("; ")),
                Some(Some(Pf::NotChecked { reason })) if !checks.allow_unchecked => {
                    Verdict::Error(format!("not checked ({reason}) and preflight.unprobeable = refuse"))
                }
                Some(Some(Pf::NotChecked { .. })) => {
                    out.jobs.push((i, job));
                    Verdict::Ok(format!("{what} · not checked"))
                }
            };
            out.verdicts.push(v);
        }
        Ok(out)
    }

    /// Turns preflight on for URL lines (`allow_unchecked`: lines that cannot
    /// be probed may go on).
    pub fn enable_preflight(&mut self, allow_unchecked: bool) {
        self.checks = Some(Checks { allow_unchecked, ..Checks::default() });
        self.revalidate();
    }

    /// URL lines to check now (now marked as being checked), with the key
    /// their result comes back under: every unjudged line, or while
    /// `editing`, only those already submitted (not each keystroke).
    pub fn wanted_checks(&mut self, editing: bool) -> Vec<(String, NewJob)> {
        if self.unasked.0 == 0 || (editing && self.unasked.1 == 0) {
            return Vec::new();
        }
        let (Some(checks), Ok(parsed)) = (&self.checks, self.parse()) else {
            return Vec::new();
        };
        let mut wanted: Vec<(String, NewJob)> = Vec::new();
        for (_, key, job) in parsed.unchecked {
            let due = !editing || checks.awaiting.contains(&key);
            if due && !checks.results.contains_key(&key) && !wanted.iter().any(|(k, _)| *k == key) {
                wanted.push((key, job));
            }
        }
        if let Some(checks) = &mut self.checks {
            for (key, _) in &wanted {
                checks.results.insert(key.clone(), None);
            }
        }
        if !wanted.is_empty() {
            self.revalidate();
        }
        wanted
    }

    /// Records a line's preflight result; a line submitted while it waited
    /// for it is submitted now if it passed.
    pub fn set_check(&mut self, key: String, verdict: crate::preflight::Verdict) -> Vec<Action> {
        let Some(checks) = &mut self.checks else {
            return Vec::new();
        };
        checks.results.insert(key.clone(), Some(verdict));
        let awaited = checks.awaiting.remove(&key);
        self.revalidate();
        if !awaited {
            return Vec::new();
        }
        let Ok(parsed) = self.parse() else {
            return Vec::new();
        };
        let lines: std::collections::HashSet<usize> =
            parsed.keys.iter().filter(|(_, k)| *k == key).map(|(i, _)| *i).collect();
        let ready: Vec<NewJob> = parsed.jobs.into_iter().filter(|(i, _)| lines.contains(i)).map(|(_, j)| j).collect();
        if ready.is_empty() {
            let refused = parsed.verdicts.iter().enumerate().find(|(i, _)| lines.contains(i));
            return match refused {
                Some((i, Verdict::Error(e))) => {
                    vec![Action::Note(Level::Warn, format!("not imported, line {}: {e}", i + 1))]
                }
                _ => Vec::new(),
            };
        }
        let kept =
            self.urls.lines().iter().enumerate().filter(|(i, _)| !lines.contains(i)).map(|(_, l)| l.clone()).collect();
        self.urls = new_editor(kept);
        self.revalidate();
        let n = ready.len();
        vec![
            Action::Engine(Command::Submit { jobs: ready, allow_duplicates: false }),
            Action::Status(format!("checked and sent {}", super::super::app::plural(n, "line"))),
        ]
    }

    /// Re-checks every line for the verdict column.
    pub fn revalidate(&mut self) {
        self.unasked = (0, 0);
        match self.parse() {
            Ok(Parsed { verdicts, unchecked, .. }) => {
                if let Some(checks) = &self.checks {
                    for (_, key, _) in unchecked.iter().filter(|(_, k, _)| !checks.results.contains_key(k)) {
                        self.unasked.0 += 1;
                        self.unasked.1 += usize::from(checks.awaiting.contains(key));
                    }
                }
                self.verdicts = verdicts;
                self.problem = None;
            }
            Err(e) => {
                // Nothing can be judged without a group or with a bad
                // template: every line says why.
                let e = e.to_string();
                let skip = |l: &str| l.trim().is_empty() || l.trim().starts_with('#');
                self.verdicts = self
                    .urls
                    .lines()
                    .iter()
                    .map(|l| if skip(l) { Verdict::Skip } else { Verdict::Error(e.clone()) })
                    .collect();
                self.problem = Some(e);
            }
        }
    }

    /// Submits: good lines go to the engine, bad lines stay in the editor
    /// (with their reasons in the log) so nothing is lost.
    pub fn submit(&mut self) -> Vec<Action> {
        let Parsed { jobs, unchecked, locals, verdicts, .. } = match self.parse() {
            Ok(r) => r,
            Err(e) => return vec![Action::Status(e.to_string())],
        };
        if jobs.is_empty()
            && locals.is_empty()
            && unchecked.is_empty()
            && !verdicts.iter().any(|v| matches!(v, Verdict::Error(_)))
        {
            return vec![Action::Status(
                "nothing to import: type or paste https URLs or local paths in the URL field (i to edit)".into(),
            )];
        }
        let mut actions = Vec::new();
        let mut kept = Vec::new();
        let waiting: std::collections::HashSet<usize> = unchecked.iter().map(|(i, ..)| *i).collect();
        let checking = waiting.len();
        if let Some(checks) = &mut self.checks {
            checks.awaiting.extend(unchecked.into_iter().map(|(_, k, _)| k));
        }
        for (i, v) in verdicts.iter().enumerate() {
            if waiting.contains(&i) {
                kept.push(self.urls.lines()[i].clone());
            } else if let Verdict::Error(e) = v {
                actions.push(Action::Note(Level::Warn, format!("not imported, line {}: {e}", i + 1)));
                kept.push(self.urls.lines()[i].clone());
            }
        }
        let n = jobs.len() + locals.len();
        let bad = kept.len() - checking;
        if !jobs.is_empty() {
            let jobs = jobs.into_iter().map(|(_, j)| j).collect();
            actions.push(Action::Engine(Command::Submit { jobs, allow_duplicates: false }));
        }
        if !locals.is_empty() {
            let lines = locals.into_iter().map(|(_, l)| l).collect();
            actions.push(Action::Effect(super::super::app::Effect::SubmitLocal(lines)));
        }
        self.urls = new_editor(kept);
        self.revalidate();
        let sent = super::super::app::plural(n, "line");
        let still = if checking > 0 {
            format!(
                "; {} being checked go{} once {} ✓",
                super::super::app::plural(checking, "line"),
                if checking == 1 { "es" } else { "" },
                if checking == 1 { "it shows" } else { "they show" }
            )
        } else {
            String::new()
        };
        actions.push(Action::Status(match bad {
            0 if checking > 0 => format!("sent {sent} to the queue{still}"),
            0 => format!("sent {sent} to the queue; the log says what was queued"),
            _ => format!(
                "sent {sent} to the queue; {} left in the URL field (reasons beside them and in the log)",
                super::super::app::plural(bad, "bad line")
            ),
        }));
        actions
    }

    /// A key while editing the focused text field.
    pub fn edit_key(&mut self, k: KeyEvent) -> EditOutcome {
        let ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
        let alt = k.modifiers.contains(KeyModifiers::ALT);
        match k.code {
            KeyCode::Esc => return EditOutcome::Leave,
            KeyCode::Tab => return EditOutcome::Next,
            KeyCode::BackTab => return EditOutcome::Prev,
            _ => {}
        }
        if self.field != InputField::Urls {
            if k.code == KeyCode::Enter {
                return EditOutcome::Leave;
            }
            let field = if self.field == InputField::Name { &mut self.name } else { &mut self.group };
            if field.edit(&k) {
                self.revalidate();
            }
            return EditOutcome::Editing;
        }
        let changed = match k.code {
            KeyCode::Enter if alt => {
                self.urls.insert_newline();
                true
            }
            KeyCode::Enter => return EditOutcome::Submit,
            KeyCode::Char('o') if ctrl => {
                self.urls.insert_newline();
                true
            }
            KeyCode::Char('z') if ctrl => self.urls.undo(),
            KeyCode::Char('y') if ctrl => self.urls.redo(),
            KeyCode::Char('u') if ctrl => self.urls.delete_line_by_head(),
            KeyCode::Char('l') if ctrl => self.urls.clear(),
            _ => self.urls.input(k),
        };
        if changed {
            self.revalidate();
        }
        EditOutcome::Editing
    }

    /// Cycles a choice field by `dir`: type, preset, or known groups
    /// (remembered groups and the presets' groups). Returns a status message.
    pub fn cycle(&mut self, dir: i64, presets: &[Preset], groups: &[Group]) -> Option<String> {
        match self.field {
            InputField::Type => {
                self.cycle_type();
                None
            }
            InputField::Preset if !presets.is_empty() => {
                let n = presets.len() as i64;
                let cur = self.preset.map_or(if dir > 0 { -1 } else { 0 }, |i| i as i64);
                self.use_preset(presets, (cur + dir).rem_euclid(n) as usize);
                None
            }
            InputField::Group => {
                let mut known: Vec<(String, String)> = groups
                    .iter()
                    .map(|g| (g.id.clone(), format!("group `{}`", crate::text::sanitize(&g.name))))
                    .collect();
                for p in presets {
                    if !known.iter().any(|(id, _)| *id == p.group_id) {
                        known.push((
                            p.group_id.clone(),
                            format!("the group of preset `{}`", crate::text::sanitize(&p.name)),
                        ));
                    }
                }
                if known.is_empty() {
                    return None;
                }
                let n = known.len() as i64;
                let cur = known.iter().position(|(id, _)| id == self.group.text().trim()).map_or(-1, |i| i as i64);
                let (id, name) = known[(cur + dir).rem_euclid(n) as usize].clone();
                self.group.set(&id);
                self.revalidate();
                Some(name)
            }
            _ => None,
        }
    }

    /// The next asset type choice.
    pub fn cycle_type(&mut self) {
        self.type_choice = self.type_choice.next();
        self.revalidate();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pane() -> InputPane {
        let mut p = InputPane::new("2026-11-24");
        p.group.set("g1");
        p.revalidate();
        p
    }

    #[test]
    fn local_paths_are_accepted_and_go_to_the_uploader_on_submit() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("cat.png");
        std::fs::write(&file, b"x").unwrap();
        let missing = dir.path().join("gone.png");
        let mut p = pane();
        p.paste(&format!("{}\n{}\nhttps://e.com/b.png", file.display(), missing.display()));
        assert_eq!(p.verdicts()[0], Verdict::Ok("local file · uploaded on submit".into()));
        assert!(matches!(&p.verdicts()[1], Verdict::Error(e) if e.contains("gone.png")), "{:?}", p.verdicts());
        let actions = p.submit();
        let local = actions.iter().find_map(|a| match a {
            Action::Effect(super::super::super::app::Effect::SubmitLocal(lines)) => Some(lines.clone()),
            _ => None,
        });
        assert_eq!(local, Some(vec![file.display().to_string()]));
        assert!(actions.iter().any(|a| matches!(a, Action::Engine(Command::Submit { jobs, .. }) if jobs.len() == 1)));
        // The missing one stays in the editor, with its reason.
        assert_eq!(p.urls_text(), missing.display().to_string());
    }

    #[test]
    fn preflight_results_show_per_line_and_only_good_lines_are_submitted() {
        use crate::media::MediaInfo;
        use crate::preflight::Verdict as Pf;
        let mut p = pane();
        p.enable_preflight(true);
        p.paste("https://e.com/a.png\nhttps://e.com/b.png\nhttps://e.com/c.png\nhttps://e.com/d.png");
        // While typing nothing is probed; the lines say what they would be.
        assert!(p.wanted_checks(true).is_empty());
        assert_eq!(p.verdicts()[0], Verdict::Ok("a · Image".into()));
        let wanted = p.wanted_checks(false);
        assert_eq!(wanted.len(), 4);
        assert!(p.wanted_checks(false).is_empty(), "asked once");
        assert!(p.verdicts().iter().all(|v| *v == Verdict::Checking), "{:?}", p.verdicts());
        let media: MediaInfo = serde_json::from_value(serde_json::json!({
            "format": "png", "width": 640, "height": 480, "size_bytes": 1000
        }))
        .unwrap();
        assert!(p.set_check(wanted[0].0.clone(), Pf::Passed(media.clone())).is_empty());
        let refused = Pf::Refused { media: None, reasons: vec!["1920×200: aspect 9.6 is above 2.5".into()] };
        p.set_check(wanted[1].0.clone(), refused);
        p.set_check(wanted[2].0.clone(), Pf::NotChecked { reason: "timeout".into() });
        assert!(matches!(&p.verdicts()[0], Verdict::Ok(t) if t.contains("640×480")), "{:?}", p.verdicts());
        assert!(matches!(&p.verdicts()[1], Verdict::Error(e) if e.contains("aspect 9.6 is above 2.5")));
        assert!(matches!(&p.verdicts()[2], Verdict::Ok(t) if t.contains("not checked")));
        assert_eq!(p.verdicts()[3], Verdict::Checking);
        let submitted = |actions: &[Action]| {
            actions.iter().find_map(|a| match a {
                Action::Engine(Command::Submit { jobs, .. }) => Some(jobs.clone()),
                _ => None,
            })
        };
        let sent = submitted(&p.submit()).expect("the good lines are submitted");
        assert_eq!(sent.len(), 2);
        assert!(sent[0].media.is_some(), "the measured properties travel with the job");
        // The refused line and the one still being checked stay ...
        assert_eq!(p.urls_text(), "https://e.com/b.png\nhttps://e.com/d.png");
        // ... and the latter goes as soon as it passes.
        let later = submitted(&p.set_check(wanted[3].0.clone(), Pf::Passed(media))).expect("sent once it passes");
        assert_eq!(later.len(), 1);
        assert_eq!(later[0].url, "https://e.com/d.png");
        assert_eq!(p.urls_text(), "https://e.com/b.png");
    }

    #[test]
    fn a_tab_separated_paste_keeps_its_columns() {
        let mut p = pane();
        p.paste("https://e.com/a.bin\tMy name\tvideo\r\nhttps://e.com/b.png");
        assert_eq!(p.urls_text(), "https://e.com/a.bin\tMy name\tvideo\nhttps://e.com/b.png");
        assert_eq!(p.verdicts(), [Verdict::Ok("My name · Video".into()), Verdict::Ok("b · Image".into())]);
    }

    #[test]
    fn the_editor_moves_between_lines_inserts_newlines_and_undoes() {
        let mut p = pane();
        p.set_urls("https://e.com/a.png\nhttps://e.com/b.png");
        let key = |c| KeyEvent::new(c, KeyModifiers::NONE);
        p.edit_key(key(KeyCode::Up));
        p.edit_key(key(KeyCode::End));
        p.edit_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::ALT));
        for c in "https://e.com/c.mp3".chars() {
            p.edit_key(key(KeyCode::Char(c)));
        }
        assert_eq!(p.urls_text(), "https://e.com/a.png\nhttps://e.com/c.mp3\nhttps://e.com/b.png");
        assert_eq!(p.ready(), 3);
        p.edit_key(KeyEvent::new(KeyCode::Char('l'), KeyModifiers::CONTROL));
        assert_eq!(p.urls_text(), "");
        p.edit_key(KeyEvent::new(KeyCode::Char('z'), KeyModifiers::CONTROL));
        assert_eq!(p.ready(), 3, "clear-all is undone");
        assert_eq!(p.edit_key(key(KeyCode::Enter)), EditOutcome::Submit);
    }

    #[test]
    fn bad_lines_get_their_reason_and_stay_after_submit() {
        let mut p = pane();
        p.set_urls("https://e.com/a.png\n\nhttp://e.com/b.png");
        assert!(matches!(&p.verdicts()[2], Verdict::Error(e) if e.contains("https")));
        assert_eq!(p.verdicts()[1], Verdict::Skip);
        let actions = p.submit();
        assert!(actions.iter().any(|a| matches!(a, Action::Engine(Command::Submit { jobs, .. }) if jobs.len() == 1)));
        assert_eq!(p.urls_text(), "http://e.com/b.png");
    }
}
