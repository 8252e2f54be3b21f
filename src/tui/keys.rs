//! Keys: what each key does in each mode. Every key is listed in the help
//! overlay (`view::help`).

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::app::{App, Confirm, Effect, Focus, Mode, unique_name};
use super::field::TextField;
use super::forms::{GroupForm, PresetEditor, PresetForm};
use crate::config::{Preset, PresetChange};
use crate::engine::{Command, JobState};

fn ctrl(k: &KeyEvent, c: char) -> bool {
    k.modifiers.contains(KeyModifiers::CONTROL) && k.code == KeyCode::Char(c)
}

/// Applies a text-editing key to a field; false when the key is not an edit.
fn edit(field: &mut TextField, k: &KeyEvent) -> bool {
    match k.code {
        _ if ctrl(k, 'u') => field.kill_to_start(),
        KeyCode::Char(c)
            if !k.modifiers.contains(KeyModifiers::CONTROL) && !k.modifiers.contains(KeyModifiers::ALT) =>
        {
            field.insert(&c.to_string())
        }
        KeyCode::Backspace => field.backspace(),
        KeyCode::Delete => field.delete(),
        KeyCode::Left => field.left(),
        KeyCode::Right => field.right(),
        KeyCode::Home => field.home(),
        KeyCode::End => field.end(),
        _ => return false,
    }
    true
}

impl App {
    /// Handles one key. Effects are queued for the event loop.
    pub fn handle_key(&mut self, k: KeyEvent) {
        if k.kind == KeyEventKind::Release {
            return;
        }
        self.dirty = true;
        if ctrl(&k, 'c') {
            self.effect(Effect::Quit);
            return;
        }
        match self.mode.clone() {
            Mode::Normal => self.normal_key(k),
            Mode::Editing => self.editing_key(k),
            Mode::Filter => self.filter_key(k),
            Mode::Help | Mode::Detail => {
                if matches!(
                    k.code,
                    KeyCode::Esc | KeyCode::Char('q') | KeyCode::Char('?') | KeyCode::Enter | KeyCode::Char('d')
                ) {
                    self.mode = Mode::Normal;
                }
            }
            Mode::Confirm(c) => self.confirm_key(k, c),
            Mode::Presets(ed) => self.presets_key(k, ed),
            Mode::GroupForm(form) => self.group_form_key(k, form),
        }
    }

    /// Handles the mouse (only with `--mouse`): the wheel scrolls the list,
    /// a click selects a row.
    pub fn handle_mouse(&mut self, m: crossterm::event::MouseEvent) {
        use crossterm::event::{MouseButton, MouseEventKind};
        if self.mode != Mode::Normal {
            return;
        }
        match m.kind {
            MouseEventKind::ScrollUp => self.move_selection(-3),
            MouseEventKind::ScrollDown => self.move_selection(3),
            MouseEventKind::Down(MouseButton::Left) if (self.list_top.0..self.list_top.1).contains(&m.row) => {
                self.focus = Focus::List;
                self.refresh_view();
                let row = self.offset + usize::from(m.row - self.list_top.0);
                if row < self.view.len() {
                    self.selected = row;
                }
            }
            _ => return,
        }
        self.dirty = true;
    }

    /// Handles pasted text: into the field being edited, or into the URL
    /// field (which it then focuses) when not editing.
    pub fn handle_paste(&mut self, text: &str) {
        self.dirty = true;
        match &mut self.mode {
            Mode::Editing => {
                if let Some(f) = self.text_field() {
                    f.insert(text);
                }
                self.revalidate();
            }
            Mode::Filter => {
                self.filter.insert(&text.replace('\n', " "));
                self.invalidate_view();
            }
            Mode::Presets(ed) => {
                if let Some(f) = ed.form.as_mut().and_then(PresetForm::text_field) {
                    f.insert(&text.replace('\n', " "));
                }
            }
            Mode::GroupForm(form) => match form.field {
                0 => form.name.insert(&text.replace('\n', " ")),
                1 => form.description.insert(&text.replace('\n', " ")),
                _ => {}
            },
            Mode::Normal => {
                self.focus = Focus::Urls;
                if !self.urls.text().is_empty() && !self.urls.text().ends_with('\n') {
                    self.urls.end();
                    self.urls.insert("\n");
                }
                self.urls.end();
                self.urls.insert(text);
                self.revalidate();
                self.set_status("pasted into the URL field; Enter submits");
            }
            Mode::Help | Mode::Detail | Mode::Confirm(_) => {}
        }
    }

    fn text_field(&mut self) -> Option<&mut TextField> {
        match self.focus {
            Focus::Urls => Some(&mut self.urls),
            Focus::Name => Some(&mut self.name),
            Focus::Group => Some(&mut self.group),
            _ => None,
        }
    }

    fn normal_key(&mut self, k: KeyEvent) {
        self.status = None;
        match k.code {
            KeyCode::Char('q') => self.effect(Effect::Quit),
            KeyCode::Char('?') => self.mode = Mode::Help,
            KeyCode::Tab => self.focus = self.focus.next(),
            KeyCode::BackTab => self.focus = self.focus.prev(),
            KeyCode::Char('i') | KeyCode::Char('a') => {
                if !self.focus.is_text() {
                    self.focus = Focus::Urls;
                }
                self.mode = Mode::Editing;
            }
            KeyCode::Char('/') => {
                self.focus = Focus::List;
                self.mode = Mode::Filter;
            }
            KeyCode::Char('s') => {
                self.status_filter = match self.status_filter {
                    None => Some(JobState::ALL[0]),
                    Some(s) => {
                        JobState::ALL.iter().position(|x| *x == s).and_then(|i| JobState::ALL.get(i + 1)).copied()
                    }
                };
                self.invalidate_view();
                let label = self.status_filter.map_or("all states".to_string(), |s| s.to_string());
                self.set_status(format!("showing {label}"));
            }
            KeyCode::Char('t') => self.cycle_type(),
            KeyCode::Char('y') => self.copy(),
            KeyCode::Char('r') => self.retry(),
            KeyCode::Char('x') | KeyCode::Delete => {
                let ids = self.targets();
                if !ids.is_empty() {
                    self.mode = Mode::Confirm(Confirm::Forget(ids));
                }
            }
            KeyCode::Char('d') if self.selected_job().is_some() => {
                self.mode = Mode::Detail;
            }
            KeyCode::Char('e') => {
                self.refresh_view();
                let ids = self.view.iter().map(|&i| self.jobs[i].id).collect();
                self.effect(Effect::Export(ids));
            }
            KeyCode::Char('p') => {
                let selected = self.preset.unwrap_or(0);
                self.mode = Mode::Presets(PresetEditor { selected, ..PresetEditor::default() });
            }
            KeyCode::Char('g') => self.mode = Mode::GroupForm(GroupForm::new()),
            KeyCode::Char(' ') if self.focus == Focus::List => {
                if let Some(id) = self.selected_job().map(|j| j.id) {
                    if !self.marked.remove(&id) {
                        self.marked.insert(id);
                    }
                    self.move_selection(1);
                }
            }
            KeyCode::Char('A') => {
                self.refresh_view();
                if self.marked.len() == self.view.len() {
                    self.marked.clear();
                } else {
                    self.marked = self.view.iter().map(|&i| self.jobs[i].id).collect();
                }
            }
            KeyCode::Esc => {
                self.marked.clear();
            }
            KeyCode::Enter => match self.focus {
                Focus::List => {
                    if self.selected_job().is_some() {
                        self.mode = Mode::Detail;
                    }
                }
                Focus::Log => {}
                _ => self.submit(),
            },
            KeyCode::Left | KeyCode::Char('h') => self.cycle_choice(-1),
            KeyCode::Right | KeyCode::Char('l') => self.cycle_choice(1),
            KeyCode::Up | KeyCode::Char('k') => self.move_focus_or_selection(-1),
            KeyCode::Down | KeyCode::Char('j') => self.move_focus_or_selection(1),
            KeyCode::PageUp => self.page(-1),
            KeyCode::PageDown => self.page(1),
            KeyCode::Home => self.jump(false),
            KeyCode::End | KeyCode::Char('G') => self.jump(true),
            _ => {}
        }
    }

    fn cycle_type(&mut self) {
        self.type_choice = self.type_choice.next();
        self.revalidate();
    }

    /// ←/→ on a choice field: type, preset, or known groups.
    fn cycle_choice(&mut self, dir: i64) {
        match self.focus {
            Focus::Type => self.cycle_type(),
            Focus::Preset if !self.presets.is_empty() => {
                let n = self.presets.len() as i64;
                let cur = self.preset.map_or(if dir > 0 { -1 } else { 0 }, |i| i as i64);
                self.use_preset(((cur + dir).rem_euclid(n)) as usize);
            }
            Focus::Group if !self.groups.is_empty() => {
                let n = self.groups.len() as i64;
                let cur = self.groups.iter().position(|g| g.id == self.group.text().trim()).map_or(-1, |i| i as i64);
                let next = (cur + dir).rem_euclid(n) as usize;
                let g = self.groups[next].clone();
                self.group.set(&g.id);
                self.revalidate();
                self.set_status(format!("group `{}`", g.name));
            }
            _ => {}
        }
    }

    fn move_focus_or_selection(&mut self, delta: i64) {
        match self.focus {
            Focus::List => self.move_selection(delta),
            Focus::Log => self.scroll_log(-delta),
            f if delta < 0 && f != Focus::Urls => self.focus = f.prev(),
            f if delta > 0 => self.focus = f.next(),
            _ => {}
        }
    }

    /// Scrolls the log pane back (positive) or toward the newest line.
    fn scroll_log(&mut self, back: i64) {
        let max = self.log.len().saturating_sub(1) as i64;
        self.log_scroll = (self.log_scroll as i64 + back).clamp(0, max) as usize;
    }

    pub(crate) fn move_selection(&mut self, delta: i64) {
        self.refresh_view();
        if self.view.is_empty() {
            return;
        }
        let max = self.view.len() as i64 - 1;
        self.selected = (self.selected as i64 + delta).clamp(0, max) as usize;
    }

    fn page(&mut self, dir: i64) {
        match self.focus {
            Focus::Log => self.scroll_log(-dir * 5),
            _ => {
                self.focus = Focus::List;
                self.move_selection(dir * self.list_rows.max(1) as i64);
            }
        }
    }

    fn jump(&mut self, end: bool) {
        if self.focus == Focus::Log {
            self.log_scroll = if end { 0 } else { self.log.len().saturating_sub(1) };
            return;
        }
        self.focus = Focus::List;
        self.refresh_view();
        self.selected = if end { self.view.len().saturating_sub(1) } else { 0 };
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
            "sent {n} asset:// reference(s) to the clipboard (OSC 52; the terminal cannot confirm it arrived)"
        ));
    }

    fn retry(&mut self) {
        let ids: Vec<_> =
            self.targets().into_iter().filter(|id| self.job(*id).is_some_and(|j| j.state.needs_attention())).collect();
        if ids.is_empty() {
            self.set_status("nothing to retry: r retries Failed, Rejected, Uncertain and Stuck jobs");
            return;
        }
        let uncertain = ids.iter().any(|id| self.job(*id).is_some_and(|j| j.retry_may_duplicate()));
        if uncertain {
            self.mode = Mode::Confirm(Confirm::RetryUncertain(ids));
        } else {
            let n = ids.len();
            self.effect(Effect::Engine(Command::Retry(ids)));
            self.set_status(format!("retrying {n} job(s)"));
        }
    }

    fn confirm_key(&mut self, k: KeyEvent, c: Confirm) {
        match k.code {
            KeyCode::Char('y') | KeyCode::Char('Y') => {
                self.mode = Mode::Normal;
                match c {
                    Confirm::RetryUncertain(ids) => {
                        let n = ids.len();
                        self.effect(Effect::Engine(Command::Retry(ids)));
                        self.set_status(format!("resubmitting {n} job(s)"));
                    }
                    Confirm::Duplicates(jobs) => {
                        let n = jobs.len();
                        self.effect(Effect::Engine(Command::Submit { jobs, allow_duplicates: true }));
                        self.set_status(format!("creating {n} duplicate(s) as asked"));
                    }
                    Confirm::Forget(ids) => {
                        let n = ids.len();
                        self.marked.clear();
                        self.effect(Effect::Engine(Command::Forget(ids)));
                        self.set_status(format!("forgetting {n} job(s)"));
                    }
                }
            }
            KeyCode::Char('n') | KeyCode::Char('N') | KeyCode::Esc | KeyCode::Char('q') => {
                self.mode = Mode::Normal;
                self.set_status("cancelled");
            }
            _ => {}
        }
    }

    fn editing_key(&mut self, k: KeyEvent) {
        match k.code {
            KeyCode::Esc => self.mode = Mode::Normal,
            KeyCode::Enter if self.focus == Focus::Urls => {
                self.mode = Mode::Normal;
                self.submit();
            }
            KeyCode::Enter => self.mode = Mode::Normal,
            KeyCode::Tab => self.focus = self.focus.next(),
            KeyCode::BackTab => self.focus = self.focus.prev(),
            _ => {
                let changed = self.text_field().is_some_and(|f| edit(f, &k));
                if changed {
                    self.preset_touched();
                    self.revalidate();
                }
            }
        }
        if !self.focus.is_text() {
            self.mode = Mode::Normal;
        }
    }

    /// Editing the group or template by hand detaches the preset label.
    fn preset_touched(&mut self) {
        if let Some(p) = self.preset.and_then(|i| self.presets.get(i))
            && (p.group_id != self.group.text() || p.name_template != self.name.text())
        {
            self.preset = None;
        }
    }

    fn filter_key(&mut self, k: KeyEvent) {
        match k.code {
            KeyCode::Enter => self.mode = Mode::Normal,
            KeyCode::Esc => {
                self.filter.set("");
                self.mode = Mode::Normal;
                self.invalidate_view();
            }
            _ => {
                if edit(&mut self.filter, &k) {
                    self.invalidate_view();
                }
            }
        }
    }

    fn presets_key(&mut self, k: KeyEvent, mut ed: PresetEditor) {
        ed.message = None;
        if let Some(mut form) = ed.form.take() {
            match k.code {
                KeyCode::Esc => {}
                KeyCode::Tab | KeyCode::Down => {
                    form.field = (form.field + 1) % PresetForm::LABELS.len();
                    ed.form = Some(form);
                }
                KeyCode::BackTab | KeyCode::Up => {
                    form.field = (form.field + PresetForm::LABELS.len() - 1) % PresetForm::LABELS.len();
                    ed.form = Some(form);
                }
                KeyCode::Enter => {
                    match form.validate(&self.presets) {
                        Ok(p) => {
                            ed.busy = true;
                            self.effect(Effect::SavePreset(PresetChange::Upsert {
                                original: form.original.clone(),
                                preset: p,
                            }));
                        }
                        Err(e) => ed.message = Some(e),
                    }
                    ed.form = Some(form);
                }
                _ if form.field == 2 && matches!(k.code, KeyCode::Char(' ') | KeyCode::Left | KeyCode::Right) => {
                    form.asset_type = form.asset_type.next();
                    ed.form = Some(form);
                }
                _ if form.field == 5 && matches!(k.code, KeyCode::Char(' ') | KeyCode::Left | KeyCode::Right) => {
                    form.default = !form.default;
                    ed.form = Some(form);
                }
                _ if form.field == 1 && ctrl(&k, 'g') && !self.groups.is_empty() => {
                    let cur = self.groups.iter().position(|g| g.id == form.group.text().trim());
                    let next = cur.map_or(0, |i| (i + 1) % self.groups.len());
                    form.group.set(&self.groups[next].id);
                    ed.form = Some(form);
                }
                _ => {
                    if let Some(f) = form.text_field() {
                        edit(f, &k);
                    }
                    ed.form = Some(form);
                }
            }
            self.mode = Mode::Presets(ed);
            return;
        }
        if ed.confirm_delete {
            ed.confirm_delete = false;
            if matches!(k.code, KeyCode::Char('y') | KeyCode::Char('Y')) {
                if let Some(p) = self.presets.get(ed.selected) {
                    ed.busy = true;
                    self.effect(Effect::SavePreset(PresetChange::Delete(p.name.clone())));
                }
            } else {
                ed.message = Some("not deleted".into());
            }
            self.mode = Mode::Presets(ed);
            return;
        }
        let n = self.presets.len();
        let current = self.presets.get(ed.selected).cloned();
        match k.code {
            KeyCode::Esc | KeyCode::Char('q') | KeyCode::Char('p') => {
                self.mode = Mode::Normal;
                return;
            }
            KeyCode::Up | KeyCode::Char('k') => ed.selected = ed.selected.saturating_sub(1),
            KeyCode::Down | KeyCode::Char('j') => ed.selected = (ed.selected + 1).min(n.saturating_sub(1)),
            KeyCode::Char('a') | KeyCode::Char('n') => {
                let name = unique_name(&self.presets, "new preset");
                let mut p = Preset::new(&name, self.group.text().trim());
                p.asset_type = self.type_choice;
                p.name_template =
                    if self.name.text().trim().is_empty() { "{stem}".into() } else { self.name.text().into() };
                ed.form = Some(PresetForm::from_preset(&p, None));
            }
            KeyCode::Enter if current.is_some() => {
                self.use_preset(ed.selected);
                self.set_status(format!("using preset `{}`", self.presets[ed.selected].name));
                self.mode = Mode::Normal;
                return;
            }
            KeyCode::Char('e') | KeyCode::Char('r') => {
                if let Some(p) = &current {
                    let mut form = PresetForm::from_preset(p, Some(p.name.clone()));
                    form.field = 0;
                    ed.form = Some(form);
                }
            }
            KeyCode::Char('c') => {
                if let Some(p) = &current {
                    let copy = Preset {
                        name: unique_name(&self.presets, &format!("{} copy", p.name)),
                        default: false,
                        ..p.clone()
                    };
                    ed.form = Some(PresetForm::from_preset(&copy, None));
                }
            }
            KeyCode::Char('x') | KeyCode::Delete if current.is_some() => {
                ed.confirm_delete = true;
            }
            KeyCode::Char('L') => {
                ed.busy = true;
                self.effect(Effect::ReloadConfig);
            }
            KeyCode::Char('*') | KeyCode::Char('D') => {
                if let Some(p) = &current {
                    ed.busy = true;
                    self.effect(Effect::SavePreset(PresetChange::SetDefault(p.name.clone())));
                }
            }
            _ => {}
        }
        self.mode = Mode::Presets(ed);
    }

    /// The result of saving a preset change: the new list, or why not.
    pub fn preset_saved(&mut self, change: &PresetChange, result: Result<Vec<Preset>, String>) {
        self.dirty = true;
        let current_name = self.preset.and_then(|i| self.presets.get(i)).map(|p| p.name.clone());
        match result {
            Ok(presets) => {
                self.set_presets(presets);
                let msg = match change {
                    PresetChange::Upsert { preset, original: None } => format!("added preset `{}`", preset.name),
                    PresetChange::Upsert { preset, .. } => {
                        format!("saved preset `{}`", preset.name)
                    }
                    PresetChange::Delete(name) => format!("deleted preset `{name}`"),
                    PresetChange::SetDefault(name) => format!("`{name}` is now the default preset"),
                };
                // Keep the input pane's preset in step with what was saved.
                let renamed_to = match change {
                    PresetChange::Upsert { preset, original: Some(o) } if Some(o) == current_name.as_ref() => {
                        Some(preset.name.clone())
                    }
                    _ => current_name,
                };
                if let Some(i) = renamed_to.and_then(|n| self.presets.iter().position(|p| p.name == n)) {
                    self.use_preset(i);
                }
                if let Mode::Presets(ed) = &mut self.mode {
                    ed.form = None;
                    ed.busy = false;
                    ed.message = Some(msg.clone());
                    if let PresetChange::Upsert { preset, .. } = change {
                        ed.selected = self.presets.iter().position(|p| p.name == preset.name).unwrap_or(0);
                    }
                    ed.selected = ed.selected.min(self.presets.len().saturating_sub(1));
                }
                self.set_status(msg);
            }
            Err(e) => {
                if let Mode::Presets(ed) = &mut self.mode {
                    ed.busy = false;
                    ed.message = Some(e.clone());
                }
                self.set_status(e);
            }
        }
    }

    /// The result of reloading the config file.
    pub fn config_reloaded(&mut self, result: Result<Vec<crate::config::Preset>, String>) {
        let msg = match result {
            Ok(presets) => {
                let n = presets.len();
                self.set_presets(presets);
                format!("reloaded the config file: {n} preset(s)")
            }
            Err(e) => format!("not reloaded: {e}"),
        };
        if let Mode::Presets(ed) = &mut self.mode {
            ed.busy = false;
            ed.selected = ed.selected.min(self.presets.len().saturating_sub(1));
            ed.message = Some(msg.clone());
        }
        self.set_status(msg);
    }

    fn group_form_key(&mut self, k: KeyEvent, mut form: GroupForm) {
        if form.busy {
            if k.code == KeyCode::Esc {
                self.mode = Mode::Normal;
            }
            return;
        }
        match k.code {
            KeyCode::Esc => {
                self.mode = Mode::Normal;
                return;
            }
            KeyCode::Tab | KeyCode::Down => form.field = (form.field + 1) % 3,
            KeyCode::BackTab | KeyCode::Up => form.field = (form.field + 2) % 3,
            KeyCode::Enter => match form.validate() {
                Ok(()) => {
                    form.busy = true;
                    form.error = None;
                    let name = form.name.text().trim().to_string();
                    let description = Some(form.description.text().trim().to_string()).filter(|d| !d.is_empty());
                    self.pending_attach = Some((name.clone(), form.attach));
                    self.effect(Effect::Engine(Command::CreateGroup { name, description }));
                }
                Err(e) => form.error = Some(e),
            },
            _ if form.field == 2 && matches!(k.code, KeyCode::Char(' ') | KeyCode::Left | KeyCode::Right) => {
                form.cycle_attach(self.presets.len());
            }
            _ => {
                let field = match form.field {
                    0 => Some(&mut form.name),
                    1 => Some(&mut form.description),
                    _ => None,
                };
                if let Some(f) = field {
                    edit(f, &k);
                }
            }
        }
        self.mode = Mode::GroupForm(form);
    }
}
