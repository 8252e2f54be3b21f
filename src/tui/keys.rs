//! Key dispatch: overlays and text entry first, then the key table
//! ([`KeyMap`](super::keymap::KeyMap)) for the focused pane.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::app::{App, Chosen, Confirm, Focus, Mode};
use super::effect::Effect;
use super::field::TextField;
use super::forms::{GroupForm, PresetContext, PresetEditor};
use super::keymap::{KeyAction, Scope};
use super::pane::input::EditOutcome;
use super::pane::jobs::StateFilter;
use crate::engine::{Command, JobId, JobState, Level};
use crate::text::plural;

/// Keys this soon after a question opened by itself are ignored: they were
/// typed for something else, and `y` could buy a duplicate.
const ANSWER_GUARD: std::time::Duration = std::time::Duration::from_millis(800);

impl App {
    fn scope(&self) -> Scope {
        match self.focus {
            Focus::List => Scope::List,
            Focus::Log => Scope::Log,
            _ => Scope::Input,
        }
    }

    /// Esc and a key typed at once arrive as one read (over SSH, one packet)
    /// and are parsed as Alt-key. Unless Alt-key is bound, they were what
    /// they look like to the user: Esc, then the key (what vim's `ttimeout`
    /// decides by time). Returns the key without Alt.
    fn esc_then(&self, k: &KeyEvent) -> Option<KeyEvent> {
        let mods = k.modifiers - KeyModifiers::SHIFT;
        let split = mods == KeyModifiers::ALT && matches!(k.code, KeyCode::Char(_)) && !self.keys.binds(k);
        split.then(|| KeyEvent::new(k.code, k.modifiers - KeyModifiers::ALT))
    }

    /// Handles one key. Effects are queued for the event loop.
    pub fn handle_key(&mut self, k: KeyEvent) {
        if k.kind == KeyEventKind::Release {
            return;
        }
        self.dirty = true;
        if let Some(plain) = self.esc_then(&k) {
            self.handle_key(KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE));
            self.handle_key(plain);
            return;
        }
        if k.modifiers.contains(KeyModifiers::CONTROL) && k.code == KeyCode::Char('c') {
            self.quit();
            return;
        }
        match std::mem::replace(&mut self.mode, Mode::Normal) {
            Mode::Normal => self.normal_key(k),
            Mode::Editing => {
                self.mode = Mode::Editing;
                self.editing_key(k);
            }
            Mode::Filter => {
                self.mode = Mode::Filter;
                self.filter_key(k);
            }
            Mode::LogSearch(mut field) => match k.code {
                KeyCode::Esc => {}
                KeyCode::Enter => {
                    let q = field.text().to_string();
                    if !self.log.search(&q, true) {
                        self.set_status(format!("`{q}` is not in the log"));
                    }
                }
                _ => {
                    field.edit(&k);
                    self.mode = Mode::LogSearch(field);
                }
            },
            Mode::Help if matches!(k.code, KeyCode::Down | KeyCode::Char('j') | KeyCode::PageDown) => {
                let step = if k.code == KeyCode::PageDown { 10 } else { 1 };
                self.help_scroll = (self.help_scroll + step).min(self.keys.bindings().len() + 8);
                self.mode = Mode::Help;
            }
            Mode::Help if matches!(k.code, KeyCode::Up | KeyCode::Char('k') | KeyCode::PageUp) => {
                let step = if k.code == KeyCode::PageUp { 10 } else { 1 };
                self.help_scroll = self.help_scroll.saturating_sub(step);
                self.mode = Mode::Help;
            }
            m @ (Mode::Help | Mode::Detail | Mode::LogEntry) => {
                if m == Mode::Detail && k.code == KeyCode::Char('y') {
                    self.copy_detail();
                    self.mode = m;
                } else if !matches!(
                    k.code,
                    KeyCode::Esc | KeyCode::Char('q') | KeyCode::Char('?') | KeyCode::Enter | KeyCode::Char('d')
                ) {
                    self.mode = m;
                }
            }
            Mode::Confirm(c) => self.confirm_key(k, c),
            Mode::Presets(mut ed) => {
                let current = self.current_as_preset();
                let cx = PresetContext { presets: &self.presets, groups: &self.groups, current: &current };
                let actions = ed.key(k, cx);
                self.mode = Mode::Presets(ed);
                self.run(actions);
            }
            Mode::GroupForm(mut form) => {
                let actions = form.key(k, self.presets.len());
                self.mode = Mode::GroupForm(form);
                self.run(actions);
            }
            Mode::Library(mut pane) => {
                let actions = pane.key(k);
                self.mode = Mode::Library(pane);
                self.run(actions);
            }
            Mode::Folders(mut pane) => {
                if k.code == KeyCode::Char('?') && pane.adding.is_none() && pane.confirm.is_none() {
                    self.help_scroll = 0;
                    self.mode = Mode::Help;
                    return;
                }
                let actions = pane.key(k, &self.folders);
                self.mode = Mode::Folders(pane);
                self.run(actions);
            }
        }
    }

    /// Quits, asking first when the URL editor holds lines not submitted.
    fn quit(&mut self) {
        let pending = self.input.pending_lines();
        if pending > 0 && !matches!(self.mode, Mode::Confirm(Confirm::Quit(_))) {
            self.mode = Mode::Confirm(Confirm::Quit(pending));
        } else {
            self.effect(Effect::Quit);
        }
    }

    /// Handles the mouse (only with `--mouse`): the wheel scrolls the list,
    /// a click selects a row.
    pub fn handle_mouse(&mut self, m: crossterm::event::MouseEvent) {
        use crossterm::event::{MouseButton, MouseEventKind};
        if self.mode != Mode::Normal {
            return;
        }
        let g = self.list.geometry();
        match m.kind {
            MouseEventKind::ScrollUp => self.list.move_by(-3),
            MouseEventKind::ScrollDown => self.list.move_by(3),
            MouseEventKind::Down(MouseButton::Left) if (g.top..g.top + g.rows as u16).contains(&m.row) => {
                self.set_focus(Focus::List);
                self.list.select(usize::from(m.row - g.top));
            }
            _ => return,
        }
        self.dirty = true;
    }

    /// Handles pasted text: into the text field being typed in, else into
    /// the URL editor (which it focuses). An open help or details overlay
    /// closes; a question stays open and the paste still lands.
    pub fn handle_paste(&mut self, text: &str) {
        self.dirty = true;
        match &mut self.mode {
            Mode::Editing if self.focus == Focus::Urls => self.input.paste_at_cursor(text),
            Mode::Editing => {
                let field = if self.focus == Focus::Name { &mut self.input.name } else { &mut self.input.group };
                field.insert(&text.replace(['\n', '\t'], " "));
                self.input.revalidate();
            }
            Mode::Filter => {
                self.filter.insert(&text.replace(['\n', '\t'], " "));
                self.list.set_needle(self.filter.text());
            }
            Mode::LogSearch(f) => f.insert(&text.replace(['\n', '\t'], " ")),
            Mode::Presets(ed) => {
                if let Some(f) = ed.form.as_mut().and_then(|f| f.text_field()) {
                    f.insert(&text.replace(['\n', '\t'], " "));
                }
            }
            Mode::GroupForm(form) => form.paste(text),
            Mode::Folders(pane) if pane.adding.is_some() => pane.paste(text),
            Mode::Normal
            | Mode::Help
            | Mode::Detail
            | Mode::LogEntry
            | Mode::Confirm(_)
            | Mode::Library(_)
            | Mode::Folders(_) => {
                if matches!(self.mode, Mode::Help | Mode::Detail | Mode::LogEntry | Mode::Library(_) | Mode::Folders(_))
                {
                    self.mode = Mode::Normal;
                }
                self.set_focus(Focus::Urls);
                self.input.paste(text);
                let msg = match self.mode {
                    Mode::Confirm(_) => "pasted into the URL field; answer the question first (y / n)",
                    _ => "pasted into the URL field; Enter submits, i edits",
                };
                self.set_status(msg);
            }
        }
    }

    fn normal_key(&mut self, k: KeyEvent) {
        self.status = None;
        let pending_g = std::mem::take(&mut self.pending_g);
        match self.keys.action(&k, self.scope()) {
            Some(action) => self.command(action),
            // `g g`: the first row, as in vim (unless `g` was bound to a command).
            None if k.code == KeyCode::Char('g') && k.modifiers.difference(KeyModifiers::SHIFT).is_empty() => {
                if pending_g {
                    self.jump(false);
                } else {
                    self.pending_g = true;
                }
            }
            None => {}
        }
    }

    /// Runs a command from the key table.
    fn command(&mut self, action: KeyAction) {
        let needs_engine = matches!(
            action,
            KeyAction::Retry
                | KeyAction::Forget
                | KeyAction::Undo
                | KeyAction::Resume
                | KeyAction::NewGroup
                | KeyAction::Reconcile
                | KeyAction::Library
        );
        if needs_engine && self.refuse_while_watching() {
            return;
        }
        match action {
            KeyAction::Quit => self.quit(),
            KeyAction::Help => {
                self.help_scroll = 0;
                self.mode = Mode::Help;
            }
            KeyAction::FocusNext => self.set_focus(self.focus.next()),
            KeyAction::FocusPrev => self.set_focus(self.focus.prev()),
            KeyAction::Edit => {
                if !self.focus.is_text() {
                    self.set_focus(Focus::Urls);
                }
                if self.focus == Focus::Urls {
                    self.input.start_editing_urls();
                }
                self.mode = Mode::Editing;
            }
            KeyAction::SendHeld => self.send_held(),
            KeyAction::Conform => self.send_conformed(),
            KeyAction::Filter if self.focus == Focus::Log => self.mode = Mode::LogSearch(TextField::default()),
            KeyAction::Filter => {
                self.set_focus(Focus::List);
                self.mode = Mode::Filter;
            }
            KeyAction::SearchNext => {
                let q = self.log.query().to_string();
                if !self.log.search(&q, false) {
                    self.set_status(if q.is_empty() {
                        "no search: / searches the log".into()
                    } else {
                        format!("no older `{q}`")
                    });
                }
            }
            KeyAction::StateNext | KeyAction::StatePrev => {
                let f = StateFilter::cycle(self.list.state_filter(), action == KeyAction::StatePrev);
                self.list.set_state_filter(f);
                let label = f.map_or("all states".to_string(), |s| s.to_string());
                self.set_status(format!("showing {label}"));
            }
            KeyAction::CycleType => self.input.cycle_type(),
            KeyAction::Copy => self.copy(),
            KeyAction::Retry => self.retry(),
            KeyAction::Library => self.open_library(),
            KeyAction::Folders => {
                self.mode = Mode::Folders(super::pane::folders::FoldersPane::new(self.input.group.text().trim()));
            }
            KeyAction::Reconcile => {
                self.effect(Effect::Engine(Command::Reconcile));
                self.set_status("reconcile: listing the server's assets for the Uncertain jobs…");
            }
            KeyAction::Forget => {
                let ids = self.targets();
                if !ids.is_empty() {
                    let chosen = self.describe(ids);
                    self.mode = Mode::Confirm(Confirm::Forget(chosen));
                }
            }
            KeyAction::Detail if self.focus == Focus::Urls => self.explain_line(),
            KeyAction::Detail => {
                if self.focus == Focus::List && self.selected_job().is_some() {
                    self.mode = Mode::Detail;
                }
            }
            KeyAction::AllProfiles => self.toggle_all_profiles(),
            KeyAction::Export => {
                self.effect(Effect::Export(self.list.filter()));
                self.set_status("exporting…");
            }
            KeyAction::Presets => {
                let selected = self.input.preset().unwrap_or(0);
                self.mode = Mode::Presets(PresetEditor { selected, ..PresetEditor::default() });
            }
            KeyAction::NewGroup => self.mode = Mode::GroupForm(GroupForm::new()),
            KeyAction::Mark => self.list.toggle_mark(),
            KeyAction::MarkAll => self.list.mark_all(),
            KeyAction::Undo => {
                let jobs = std::mem::take(&mut self.last_forgotten);
                if jobs.is_empty() {
                    self.set_status("nothing to undo: u brings back the jobs of the last forget");
                } else {
                    let n = jobs.len();
                    self.effect(Effect::Engine(Command::Restore(jobs)));
                    self.set_status(format!("bringing back {}", plural(n, "job")));
                }
            }
            KeyAction::Resume => {
                self.effect(Effect::Resume);
                self.set_status("resuming: reloading the config and trying again");
            }
            KeyAction::Clear => {
                // Marks first, then the text filter, then the state filter.
                let cleared = self.list.clear_marks();
                if !cleared && !self.filter.text().is_empty() {
                    self.filter.set("");
                    self.list.set_needle("");
                } else if !cleared && self.list.state_filter().is_some() {
                    self.list.set_state_filter(None);
                    self.set_status("showing all states");
                }
            }
            KeyAction::Submit => match self.focus {
                Focus::List => {
                    if self.selected_job().is_some() {
                        self.mode = Mode::Detail;
                    }
                }
                Focus::Log => {
                    if self.log.current().is_some() {
                        self.mode = Mode::LogEntry;
                    }
                }
                _ => self.submit(),
            },
            KeyAction::Left | KeyAction::Right => {
                let dir = if action == KeyAction::Left { -1 } else { 1 };
                if let Some(msg) = self.input.cycle(dir, &self.presets, &self.groups) {
                    self.set_status(msg);
                }
            }
            KeyAction::Up | KeyAction::Down => {
                let delta = if action == KeyAction::Up { -1 } else { 1 };
                match self.focus {
                    Focus::List => self.list.move_by(delta),
                    Focus::Log => self.log.scroll(-delta),
                    f if delta < 0 && f != Focus::Urls => self.set_focus(f.prev()),
                    f if delta > 0 => self.set_focus(f.next()),
                    _ => {}
                }
            }
            KeyAction::PageUp | KeyAction::PageDown => {
                let dir = if action == KeyAction::PageUp { -1 } else { 1 };
                if self.focus == Focus::Log {
                    self.log.scroll(-dir * self.log.page());
                } else {
                    self.set_focus(Focus::List);
                    self.list.move_by(dir * self.list.page_rows());
                }
            }
            KeyAction::Top => self.jump(false),
            KeyAction::Bottom => self.jump(true),
        }
    }

    fn jump(&mut self, end: bool) {
        if self.focus == Focus::Log {
            self.log.jump(end);
        } else {
            self.set_focus(Focus::List);
            self.list.jump(end);
        }
    }

    fn copy(&mut self) {
        let ids = self.targets();
        let refs: Vec<String> = ids.iter().filter_map(|id| self.job(*id)).filter_map(|j| j.asset_ref()).collect();
        if refs.is_empty() {
            self.set_status("nothing to copy: only Active jobs have an asset:// reference");
            return;
        }
        let n = refs.len();
        self.effect(Effect::Copy(refs.join("\n")));
        self.set_status(format!(
            "sent {} to the clipboard (OSC 52; the terminal cannot confirm it arrived)",
            plural(n, "asset:// reference")
        ));
    }

    /// `y` in the details: the asset:// reference, or else the error.
    fn copy_detail(&mut self) {
        let Some(job) = self.selected_job() else { return };
        let (text, what) = match (job.asset_ref(), &job.error) {
            (Some(r), _) => (r, "the asset:// reference"),
            (None, Some(e)) => (crate::text::sanitize(e), "the error"),
            (None, None) => {
                self.set_status("nothing to copy yet: no asset:// reference and no error");
                return;
            }
        };
        self.effect(Effect::Copy(text));
        self.set_status(format!("sent {what} to the clipboard (OSC 52)"));
    }

    fn retry(&mut self) {
        let targets = self.targets();
        let ids: Vec<_> =
            targets.into_iter().filter(|id| self.job(*id).is_some_and(|j| j.state.needs_attention())).collect();
        if ids.is_empty() {
            self.set_status("nothing to retry: r retries Failed, Rejected, Uncertain and Stuck jobs");
            return;
        }
        let uncertain = ids.iter().any(|id| self.job(*id).is_some_and(|j| j.retry_may_duplicate()));
        if uncertain {
            let chosen = self.describe(ids);
            self.mode = Mode::Confirm(Confirm::RetryUncertain(chosen));
        } else {
            let n = ids.len();
            self.effect(Effect::Engine(Command::Retry(ids)));
            self.set_status(format!("retrying {}", plural(n, "job")));
        }
    }

    /// The jobs a question is about: `3 jobs (2 Active, 1 Failed)`, and
    /// how many are in flight.
    fn describe(&mut self, ids: Vec<JobId>) -> Chosen {
        let mut by_state: Vec<(JobState, usize)> = Vec::new();
        for id in &ids {
            let Some(s) = self.job(*id).map(|j| j.state) else { continue };
            match by_state.iter_mut().find(|(x, _)| *x == s) {
                Some((_, n)) => *n += 1,
                None => by_state.push((s, 1)),
            }
        }
        let parts: Vec<String> = by_state.iter().map(|(s, n)| format!("{n} {s}")).collect();
        let in_flight = by_state.iter().filter(|(s, _)| s.is_in_flight()).map(|(_, n)| n).sum();
        Chosen { summary: format!("{} ({})", plural(ids.len(), "job"), parts.join(", ")), ids, in_flight }
    }

    fn confirm_key(&mut self, k: KeyEvent, c: Confirm) {
        // A question that opened by itself (after a submission) while the
        // user was typing: what was typed just after it is not an answer.
        if self.asked_at.is_some_and(|t| t.elapsed() < ANSWER_GUARD) {
            self.set_status("a question just opened: read it, then answer y or n");
            self.mode = Mode::Confirm(c);
            return;
        }
        self.asked_at = None;
        match k.code {
            KeyCode::Char('y') | KeyCode::Char('Y') => match c {
                Confirm::RetryUncertain(Chosen { ids, .. }) => {
                    let n = ids.len();
                    self.effect(Effect::Engine(Command::Retry(ids)));
                    self.set_status(format!("resubmitting {}", plural(n, "job")));
                }
                Confirm::Duplicates(jobs) => {
                    let n = jobs.len();
                    self.effect(Effect::Engine(Command::Submit { jobs, allow_duplicates: true }));
                    self.set_status(format!("creating {} as asked", plural(n, "duplicate")));
                }
                Confirm::Forget(Chosen { ids, summary, .. }) => {
                    self.last_forgotten = ids.iter().filter_map(|id| self.job(*id)).collect();
                    self.effect(Effect::Engine(Command::Forget(ids)));
                    self.set_status(format!("forgetting {summary}"));
                }
                Confirm::Quit(_) => self.effect(Effect::Quit),
                Confirm::Restored(_) => {
                    self.input.confirm_restored();
                    self.submit();
                }
            },
            KeyCode::Char('d') | KeyCode::Char('D') if matches!(c, Confirm::Quit(_)) => {
                self.input.discard_all();
                self.effect(Effect::Quit);
            }
            KeyCode::Char('d') | KeyCode::Char('D') if matches!(c, Confirm::Restored(_)) => {
                let gone = self.input.discard_restored();
                self.note(Level::Info, format!("discarded {} restored from last time", plural(gone, "line")));
                if self.input.pending_lines() > 0 {
                    self.submit();
                } else {
                    self.set_status(format!("discarded {}; nothing was sent", plural(gone, "restored line")));
                }
            }
            KeyCode::Char('e') | KeyCode::Char('E') if matches!(c, Confirm::Restored(_)) => {
                self.set_focus(Focus::Urls);
                self.input.start_editing_urls();
                self.mode = Mode::Editing;
                self.set_status("editing: restored lines are marked ↺; Enter asks again before sending them");
            }
            KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Esc | KeyCode::Char('q') => {
                self.set_status("cancelled");
            }
            _ => self.mode = Mode::Confirm(c),
        }
    }

    fn editing_key(&mut self, k: KeyEvent) {
        if self.focus == Focus::Urls {
            self.pending_g = false;
        }
        let outcome = self.input.edit_key(k);
        if outcome != EditOutcome::Editing {
            self.input.drop_trailing_blank_lines();
        }
        match outcome {
            EditOutcome::Editing => {}
            EditOutcome::Leave => self.mode = Mode::Normal,
            EditOutcome::Submit => {
                self.mode = Mode::Normal;
                self.submit();
            }
            EditOutcome::Next => self.set_focus(self.focus.next()),
            EditOutcome::Prev => self.set_focus(self.focus.prev()),
        }
        if !self.focus.is_text() {
            self.mode = Mode::Normal;
        }
    }

    fn filter_key(&mut self, k: KeyEvent) {
        match k.code {
            KeyCode::Enter => self.mode = Mode::Normal,
            KeyCode::Esc => {
                self.filter.set("");
                self.mode = Mode::Normal;
                self.list.set_needle("");
            }
            _ => {
                if self.filter.edit(&k) {
                    self.list.set_needle(self.filter.text());
                }
            }
        }
    }
}
