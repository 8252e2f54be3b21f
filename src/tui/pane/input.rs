//! The input pane: a multi-line URL editor with a verdict beside each line,
//! and the name template, type, group and preset that apply to the lines.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui_textarea::{CursorMove, TextArea};

use std::collections::{HashMap, HashSet};

use super::super::error::DefaultsError;
use super::super::field::TextField;
use crate::config::{PreflightMode, Preset, Template, TypeChoice, Unprobeable};
use crate::engine::{Group, NewJob};
use crate::intake::{Decision, Fate, ImportDefaults, Item, Origin, Policy, is_skipped, parse_line};

/// URL lines preflight has not been asked about: their check key and job.
type Unasked = Vec<(String, NewJob)>;

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

/// What is known about one line of the URL editor, under the one policy
/// of [`crate::intake`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Blank or a `#` comment: skipped.
    Skip,
    /// Being checked, or sent and waiting for the engine.
    Checking,
    /// Importable: what it becomes (`name · Type`, and what was measured).
    Ok(String),
    /// Goes, with a warning the user allowed (preflight warn mode).
    Warn(String),
    /// A local path: read and checked on Enter, off the UI thread (no file
    /// I/O while typing).
    OnEnter(String),
    /// Could not be checked: waits for the user's consent (the send-anyway key).
    Held(String),
    /// Not importable, and why.
    Error(String),
}

/// The start of a refusal the conform step could fix (at the start, so it
/// shows in a narrow column).
const CONFORMABLE: &str = "conformable: ";

impl Verdict {
    /// Refused for what conforming could fix.
    pub fn conformable(&self) -> bool {
        matches!(self, Verdict::Error(why) if why.starts_with(CONFORMABLE))
    }

    /// The glyph beside a line: `✓` `⚠` `?` `✗` `·` `…`, nothing when skipped.
    pub fn glyph(&self) -> &'static str {
        match self {
            Verdict::Skip => "",
            Verdict::Checking => "…",
            Verdict::Ok(_) => "✓",
            Verdict::Warn(_) => "⚠",
            Verdict::OnEnter(_) => "·",
            Verdict::Held(_) => "?",
            Verdict::Error(_) => "✗",
        }
    }

    /// The words after the glyph.
    pub fn text(&self) -> &str {
        match self {
            Verdict::Skip => "",
            Verdict::Checking => "checking",
            Verdict::Ok(t) | Verdict::Warn(t) | Verdict::OnEnter(t) | Verdict::Held(t) | Verdict::Error(t) => t,
        }
    }
}

/// A reason without a leading copy of the line it is about (`` `http://x`
/// must be… `` → `must be…`; `/a/b.png: not a media file` → `not a media
/// file`), for where the line is shown right beside it.
pub fn without_line<'a>(why: &'a str, line: &str) -> &'a str {
    if let Some(tail) = why.strip_prefix('`').and_then(|rest| rest.split_once("` ")).map(|(_, tail)| tail) {
        return tail;
    }
    match why.strip_prefix(line).and_then(|rest| rest.strip_prefix(": ")) {
        Some(tail) if !line.is_empty() => tail,
        _ => why,
    }
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
    /// How verdicts are acted on (the config's; consent is per submission).
    policy: Policy,
    /// Preflight of URL lines as they are typed, by `URL + type`: `None`
    /// while being checked. Empty when preflight is off.
    checks: HashMap<String, Option<crate::preflight::Verdict>>,
    /// What the front door decided for lines it sent back (refused or held,
    /// with the reason), by the line's text.
    outcomes: HashMap<String, Verdict>,
    /// Lines sent to the front door and not answered yet, by text.
    sending: HashMap<String, usize>,
    /// Lines restored from the last session's draft and not yet confirmed.
    restored: HashSet<String>,
    /// Lines being conformed, and how far along each is.
    conforming: HashMap<String, f64>,
    /// URL lines not asked about yet at the last revalidation.
    unasked: usize,
    /// Plain http to this machine is accepted (the demo's sample media).
    loopback_http: bool,
}

/// The key a URL line's preflight result is kept under.
fn check_key(job: &NewJob) -> String {
    format!("{}\u{1f}{}", job.url, job.asset_type)
}

fn new_editor(lines: Vec<String>) -> TextArea<'static> {
    let mut t = TextArea::new(lines);
    t.set_cursor_line_style(ratatui::style::Style::new());
    t.set_tab_length(2);
    t.set_placeholder_text("paste https URLs or file paths (i edits)");
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

/// Lines to send to the front door, and whether the user consented to
/// creating lines that could not be checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submission {
    /// The lines, as typed.
    pub lines: Vec<String>,
    /// Consent to create what could not be checked.
    pub consent: bool,
    /// Files that break the limits are conformed.
    pub conform: bool,
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
            policy: Policy { mode: PreflightMode::Off, unprobeable: Unprobeable::Hold, consent: false },
            checks: HashMap::new(),
            outcomes: HashMap::new(),
            sending: HashMap::new(),
            restored: HashSet::new(),
            conforming: HashMap::new(),
            unasked: 0,
            loopback_http: false,
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

    /// Puts last session's draft in the editor, marked as restored: the next
    /// Enter asks before sending these lines. Returns how many there are.
    pub fn restore(&mut self, text: &str) -> usize {
        self.set_urls(text);
        self.restored =
            self.urls.lines().iter().map(|l| l.trim()).filter(|l| !is_skipped(l)).map(String::from).collect();
        self.restored_lines()
    }

    /// Editor lines restored from the last session and not yet confirmed.
    pub fn restored_lines(&self) -> usize {
        self.urls.lines().iter().filter(|l| self.restored.contains(l.trim())).count()
    }

    /// Whether this editor line (by index) was restored and not confirmed.
    pub fn is_restored(&self, line: usize) -> bool {
        self.urls.lines().get(line).is_some_and(|l| self.restored.contains(l.trim()))
    }

    /// The user has seen the restored lines and wants them sent.
    pub fn confirm_restored(&mut self) {
        self.restored.clear();
    }

    /// Removes the restored lines from the editor; returns how many went.
    pub fn discard_restored(&mut self) -> usize {
        let before = self.urls.lines().len();
        let kept: Vec<String> =
            self.urls.lines().iter().filter(|l| !self.restored.contains(l.trim())).cloned().collect();
        let gone = before - kept.len();
        self.urls = new_editor(kept);
        self.restored.clear();
        self.revalidate();
        gone
    }

    /// Empties the editor (quitting with "discard").
    pub fn discard_all(&mut self) {
        self.urls = new_editor(Vec::new());
        self.restored.clear();
        self.revalidate();
    }

    /// Starts editing the URLs: with lines already there, on a new empty
    /// line at the end, so typing never runs into an existing line.
    pub fn start_editing_urls(&mut self) {
        if self.urls.is_empty() {
            return;
        }
        self.urls.move_cursor(CursorMove::Bottom);
        self.urls.move_cursor(CursorMove::End);
        if !self.urls.lines().last().is_some_and(|l| l.trim().is_empty()) {
            self.urls.insert_newline();
        }
    }

    /// Removes blank lines at the end (left by [`Self::start_editing_urls`]
    /// when nothing was typed), keeping the cursor where it can be.
    pub fn drop_trailing_blank_lines(&mut self) {
        let lines = self.urls.lines();
        let keep = lines.iter().rposition(|l| !l.trim().is_empty()).map_or(0, |i| i + 1);
        if keep == lines.len() {
            return;
        }
        let ratatui_textarea::DataCursor(row, col) = self.urls.cursor();
        self.urls = new_editor(lines[..keep].to_vec());
        let row = row.min(keep.saturating_sub(1));
        self.urls.move_cursor(CursorMove::Jump(
            u16::try_from(row).unwrap_or(u16::MAX),
            u16::try_from(col).unwrap_or(u16::MAX),
        ));
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

    /// Inserts pasted text at the cursor (a paste while editing the URLs);
    /// a multi-line paste into the middle of a line starts on a line of its own.
    pub fn paste_at_cursor(&mut self, text: &str) {
        let clean = clean_input(text);
        let ratatui_textarea::DataCursor(row, col) = self.urls.cursor();
        let line_len = self.urls.lines().get(row).map_or(0, |l| l.chars().count());
        if col > 0 && col == line_len && !clean.starts_with('\n') && self.line_is_complete(row) {
            self.urls.insert_newline();
        }
        self.urls.insert_str(clean);
        self.revalidate();
    }

    /// A line that already holds something importable (typing or pasting
    /// at its end would glue onto it).
    fn line_is_complete(&self, row: usize) -> bool {
        self.urls.lines().get(row).is_some_and(|l| !is_skipped(l.trim()) && l.contains("://"))
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

    /// Lines ready to import (with or without a warning).
    pub fn ready(&self) -> usize {
        self.verdicts.iter().filter(|v| matches!(v, Verdict::Ok(_) | Verdict::Warn(_))).count()
    }

    /// Local lines, read and checked on Enter.
    pub fn on_enter(&self) -> usize {
        self.verdicts.iter().filter(|v| matches!(v, Verdict::OnEnter(_))).count()
    }

    /// Lines that cannot be imported.
    pub fn bad(&self) -> usize {
        self.verdicts.iter().filter(|v| matches!(v, Verdict::Error(_))).count()
    }

    /// True while lines sent to the front door have not been answered.
    pub fn is_sending(&self) -> bool {
        !self.sending.is_empty()
    }

    /// Lines waiting for consent.
    pub fn held(&self) -> usize {
        self.verdicts.iter().filter(|v| matches!(v, Verdict::Held(_))).count()
    }

    /// The defaults the lines are read with (group, template, type).
    pub fn defaults(&self) -> Result<ImportDefaults, DefaultsError> {
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
            loopback_http: self.loopback_http,
            group_id: group.to_string(),
            asset_type: self.type_choice,
            template,
            date: self.date.clone(),
        })
    }

    /// Accepts plain http to this machine (under `--demo` only).
    pub fn accept_loopback_http(&mut self) {
        self.loopback_http = true;
        self.revalidate();
    }

    /// The policy lines are judged by (the config's, without consent).
    pub fn policy(&self) -> Policy {
        self.policy
    }

    /// Sets the policy (preflight on or off, what unchecked lines do).
    pub fn set_policy(&mut self, policy: Policy) {
        self.policy = Policy { consent: false, ..policy };
        self.revalidate();
    }

    /// The verdict of one line (no I/O: local paths are read on Enter, off
    /// this thread).
    fn judge(&self, line: &str, n: u64, d: &ImportDefaults, unasked: &mut Vec<(String, NewJob)>) -> Verdict {
        if is_skipped(line) {
            return Verdict::Skip;
        }
        if self.sending.contains_key(line) {
            return Verdict::Checking;
        }
        if let Some(v) = self.outcomes.get(line) {
            return v.clone();
        }
        if crate::local::is_local_line(line) {
            return Verdict::OnEnter("local path: read and checked on Enter".into());
        }
        let job = match parse_line(line, n, d) {
            Ok(job) => job,
            Err(e) => return Verdict::Error(e.to_string()),
        };
        let what = format!("{} · {}", job.name, job.asset_type);
        if self.policy.mode == PreflightMode::Off {
            return Verdict::Ok(what);
        }
        let key = check_key(&job);
        match self.checks.get(&key) {
            None => {
                unasked.push((key, job));
                Verdict::Ok(what)
            }
            Some(None) => Verdict::Checking,
            Some(Some(v)) => match self.policy.decide(Some(v)) {
                Decision::Create(None) => {
                    Verdict::Ok(v.media().map_or(what.clone(), |m| format!("{what} · {}", m.summary())))
                }
                Decision::Create(Some(w)) => Verdict::Warn(w),
                Decision::Hold(why) => Verdict::Held(why),
                Decision::Refuse(why) if crate::intake::can_conform(Some(v), &job, false) => {
                    Verdict::Error(format!("{CONFORMABLE}{why}"))
                }
                Decision::Refuse(why) => Verdict::Error(why),
            },
        }
    }

    /// Every line's verdict, and the URL lines preflight has not been asked about.
    fn judge_all(&self) -> Result<(Vec<Verdict>, Unasked), DefaultsError> {
        let d = self.defaults()?;
        let mut unasked = Vec::new();
        let mut n = 0u64;
        let verdicts = self
            .urls
            .lines()
            .iter()
            .map(|raw| {
                let v = self.judge(raw.trim(), n + 1, &d, &mut unasked);
                n += u64::from(!matches!(v, Verdict::Skip | Verdict::Error(_)));
                v
            })
            .collect();
        Ok((verdicts, unasked))
    }

    /// URL lines to check now (marked as being checked), each with the key
    /// its result comes back under: none while `editing` (each check is a
    /// request, not each keystroke).
    pub fn wanted_checks(&mut self, editing: bool) -> Vec<(String, NewJob)> {
        if self.unasked == 0 || editing {
            return Vec::new();
        }
        let Ok((_, unasked)) = self.judge_all() else { return Vec::new() };
        let mut wanted: Vec<(String, NewJob)> = Vec::new();
        for (key, job) in unasked {
            if !wanted.iter().any(|(k, _)| *k == key) {
                self.checks.insert(key.clone(), None);
                wanted.push((key, job));
            }
        }
        self.revalidate();
        wanted
    }

    /// Records a URL line's preflight result (shown beside it).
    pub fn set_check(&mut self, key: String, verdict: crate::preflight::Verdict) {
        self.checks.insert(key, Some(verdict));
        self.revalidate();
    }

    /// Re-checks every line for the verdict column.
    pub fn revalidate(&mut self) {
        match self.judge_all() {
            Ok((verdicts, unasked)) => {
                self.unasked = unasked.len();
                self.verdicts = verdicts;
                self.problem = None;
            }
            Err(e) => {
                // Nothing can be judged without a group or with a bad
                // template: every line says why.
                let e = e.to_string();
                self.unasked = 0;
                self.verdicts = self
                    .urls
                    .lines()
                    .iter()
                    .map(|l| if is_skipped(l.trim()) { Verdict::Skip } else { Verdict::Error(e.clone()) })
                    .collect();
                self.problem = Some(e);
            }
        }
    }

    /// The lines Enter sends: every line that is not skipped, refused, held
    /// or already being sent. They are marked as being sent; `None` (with
    /// a status line saying why) when there is nothing to send.
    /// `send_held` names the key that sends held lines, for the message.
    pub fn submit(&mut self, send_held: &str) -> Result<Submission, String> {
        if let Some(p) = &self.problem {
            return Err(p.clone());
        }
        let lines = self.take_lines(|_, v| matches!(v, Verdict::Ok(_) | Verdict::Warn(_) | Verdict::OnEnter(_)));
        if lines.is_empty() {
            let (bad, held) = (self.bad(), self.held());
            return Err(match (bad, held) {
                (0, 0) if self.sending.is_empty() => {
                    "nothing to import: type or paste https URLs or local paths in the URL field (i to edit)".into()
                }
                (0, 0) => "nothing new to send: the lines marked … are being checked and sent".into(),
                _ => format!(
                    "nothing to send: {bad} refused (reasons beside them), {held} held back (not checked; {send_held} sends them anyway)"
                ),
            });
        }
        Ok(Submission { lines, consent: false, conform: false })
    }

    /// The held lines (could not be checked), to send with the user's consent.
    /// Restored lines are not among them until Enter's question confirms them.
    pub fn submit_held(&mut self) -> Result<Submission, String> {
        let restored = self.restored.clone();
        let lines = self.take_lines(|l, v| matches!(v, Verdict::Held(_)) && !restored.contains(l));
        if lines.is_empty() {
            let why = if self.held() > 0 {
                "the held lines were restored from last time: Enter asks about them first"
            } else {
                "no held lines: this key sends lines that could not be checked (marked ?)"
            };
            return Err(why.into());
        }
        for l in &lines {
            self.outcomes.remove(l);
        }
        Ok(Submission { lines, consent: true, conform: false })
    }

    /// The refused lines the conform step could make pass, to send with
    /// conforming on.
    pub fn submit_conformable(&mut self) -> Result<Submission, String> {
        let lines = self.take_lines(|_, v| v.conformable());
        if lines.is_empty() {
            return Err("no line can be conformed: this key sends refused lines marked `conformable`".into());
        }
        for l in &lines {
            self.outcomes.remove(l);
        }
        Ok(Submission { lines, consent: false, conform: true })
    }

    /// Records how far a line being conformed is (done at 1.0).
    pub fn set_progress(&mut self, line: &str, fraction: f64) {
        if fraction >= 1.0 {
            self.conforming.remove(line);
        } else {
            self.conforming.insert(line.to_string(), fraction);
        }
    }

    /// How far the line `line` is being conformed, if it is.
    pub fn progress(&self, line: &str) -> Option<f64> {
        self.conforming.get(line).copied()
    }

    /// Lines marked conformable.
    pub fn conformable(&self) -> usize {
        self.verdicts.iter().filter(|v| v.conformable()).count()
    }

    fn take_lines(&mut self, pick: impl Fn(&str, &Verdict) -> bool) -> Vec<String> {
        let lines: Vec<String> = self
            .urls
            .lines()
            .iter()
            .zip(&self.verdicts)
            .map(|(l, v)| (l.trim(), v))
            .filter(|(l, v)| pick(l, v))
            .map(|(l, _)| l.to_string())
            .collect();
        for l in &lines {
            *self.sending.entry(l.clone()).or_default() += 1;
        }
        self.revalidate();
        lines
    }

    /// What the front door did with lines sent from here: created and
    /// existing items leave the editor; refused and held ones stay (a file a
    /// directory or glob gave becomes a line of its own) with the reason
    /// beside them.
    pub fn intake_done(&mut self, items: &[Item]) {
        // One group per submitted line (identical lines are separate lines).
        let mut groups: Vec<(&Origin, &str, Vec<&Item>)> = Vec::new();
        for it in items {
            match groups.iter_mut().find(|(o, ..)| **o == it.origin) {
                Some((.., v)) => v.push(it),
                None => groups.push((&it.origin, &it.line, vec![it])),
            }
        }
        let editor: Vec<String> = self.urls.lines().to_vec();
        let mut replaced: Vec<Option<Vec<String>>> = vec![None; editor.len()];
        let mut extra: Vec<String> = Vec::new();
        for (_, line, items) in groups {
            if let Some(n) = self.sending.get_mut(line) {
                *n -= 1;
                if *n == 0 {
                    self.sending.remove(line);
                }
            }
            let mut kept: Vec<String> = Vec::new();
            for it in items {
                let text = clean_input(it.text()).replace('\n', " ");
                let v = match &it.fate {
                    Fate::Refused(why) if it.conformable => {
                        Verdict::Error(format!("{CONFORMABLE}{}", crate::text::sanitize(why)))
                    }
                    Fate::Refused(why) => Verdict::Error(crate::text::sanitize(why)),
                    Fate::Held { reason, .. } => Verdict::Held(crate::text::sanitize(reason)),
                    _ => continue,
                };
                self.outcomes.insert(text.clone(), v);
                if !kept.contains(&text) {
                    kept.push(text);
                }
            }
            match (0..editor.len()).find(|&i| replaced[i].is_none() && editor[i].trim() == line) {
                Some(i) => replaced[i] = Some(kept),
                // Edited away meanwhile: what was not created comes back at the end.
                None => extra.extend(kept),
            }
        }
        let lines: Vec<String> = editor
            .into_iter()
            .zip(replaced)
            .flat_map(|(line, r)| r.unwrap_or_else(|| vec![line]))
            .chain(extra)
            .collect();
        let cursor = self.urls.cursor();
        self.urls = new_editor(lines);
        self.urls.move_cursor(CursorMove::Jump(
            u16::try_from(cursor.0).unwrap_or(u16::MAX),
            u16::try_from(cursor.1).unwrap_or(u16::MAX),
        ));
        self.revalidate();
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
