//! The dashboard's state: the panes (each owns its state), the overlay in
//! front of them, and the rules that apply engine updates. Keys are in
//! `keys`, drawing in `view`.

use jiff::Timestamp;

use super::action::Action;
use super::effect::Effect;
use super::field::TextField;
use super::forms::{Attach, GroupForm, Note, PresetEditor, unique_name};
use super::keymap::KeyMap;
use super::pane::input::{InputField, InputPane, Submission, Verdict, without_line};
use super::pane::jobs::JobList;
use super::pane::log::LogPane;
use crate::config::{ConfigError, Preset, PresetChange, SaveError};
use crate::engine::{Group, Job, JobId, JobState, Level, LogLine, NewJob, Stats, Update};

/// Which part of the screen keys go to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    /// The URL editor (accepts a multi-line paste).
    Urls,
    /// The name (template) field.
    Name,
    /// The asset type choice.
    Type,
    /// The group id field.
    Group,
    /// The preset picker.
    Preset,
    /// The asset list.
    List,
    /// The log pane.
    Log,
}

impl Focus {
    const ORDER: [Focus; 7] =
        [Focus::Urls, Focus::Name, Focus::Type, Focus::Group, Focus::Preset, Focus::List, Focus::Log];

    /// The next focus in Tab order.
    pub fn next(self) -> Focus {
        let i = Focus::ORDER.iter().position(|f| *f == self).unwrap_or(0);
        Focus::ORDER[(i + 1) % Focus::ORDER.len()]
    }

    /// The previous focus in Tab order.
    pub fn prev(self) -> Focus {
        let i = Focus::ORDER.iter().position(|f| *f == self).unwrap_or(0);
        Focus::ORDER[(i + Focus::ORDER.len() - 1) % Focus::ORDER.len()]
    }

    /// The input pane field, if this is one.
    pub fn input_field(self) -> Option<InputField> {
        match self {
            Focus::Urls => Some(InputField::Urls),
            Focus::Name => Some(InputField::Name),
            Focus::Type => Some(InputField::Type),
            Focus::Group => Some(InputField::Group),
            Focus::Preset => Some(InputField::Preset),
            Focus::List | Focus::Log => None,
        }
    }

    /// True for the fields of the input pane.
    pub fn in_input(self) -> bool {
        self.input_field().is_some()
    }

    /// True for fields edited as text.
    pub fn is_text(self) -> bool {
        self.input_field().is_some_and(InputField::is_text)
    }
}

/// Jobs a question is about, described when it was asked (the popup
/// draws this; drawing reads nothing).
#[derive(Debug, Clone, PartialEq)]
pub struct Chosen {
    /// The jobs.
    pub ids: Vec<JobId>,
    /// `3 jobs (2 Active, 1 Failed)`.
    pub summary: String,
    /// How many of them are still in flight.
    pub in_flight: usize,
}

/// A question awaiting y/n.
#[derive(Debug, Clone, PartialEq)]
pub enum Confirm {
    /// Resubmitting jobs whose creation may have happened.
    RetryUncertain(Chosen),
    /// Forgetting jobs.
    Forget(Chosen),
    /// Creating items that duplicate existing jobs.
    Duplicates(Vec<NewJob>),
    /// Quitting with this many unsubmitted lines in the URL editor.
    Quit(usize),
    /// Enter with this many lines restored from the last session in the
    /// editor: send them too, discard them, or go back to editing.
    Restored(usize),
}

/// What the keys currently do.
#[derive(Debug, Clone, PartialEq)]
pub enum Mode {
    /// Commands.
    Normal,
    /// Typing into the focused text field; Esc leaves.
    Editing,
    /// Typing the list filter; Enter keeps it, Esc clears it.
    Filter,
    /// Typing a log search; Enter searches, Esc cancels.
    LogSearch(TextField),
    /// The log line under the cursor, whole.
    LogEntry,
    /// The key overlay.
    Help,
    /// The selected job's details.
    Detail,
    /// A y/n question.
    Confirm(Confirm),
    /// The preset editor.
    Presets(PresetEditor),
    /// The new-group form.
    GroupForm(GroupForm),
    /// The server's assets of a group.
    Library(super::pane::library::LibraryPane),
    /// The watched folders.
    Folders(super::pane::folders::FoldersPane),
}

/// Progress of one upload, for its row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Upload {
    /// Bytes sent.
    pub done: u64,
    /// The file's size.
    pub total: u64,
    /// When the first progress report came.
    pub started: std::time::Instant,
    /// When the last one came.
    pub at: std::time::Instant,
}

impl Upload {
    /// `3.2 of 10.0 MB · 12.5 MB/s` (the rate once there is one).
    pub fn describe(&self) -> String {
        let mb = |b: u64| b as f64 / 1e6;
        let secs = self.at.duration_since(self.started).as_secs_f64();
        let rate = if secs > 0.05 { format!(" · {:.1} MB/s", mb(self.done) / secs) } else { String::new() };
        format!("uploading {:.1} of {:.1} MB{rate}", mb(self.done), mb(self.total))
    }
}

/// A persistent message above the panes (engine health), until cleared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Banner {
    /// How serious.
    pub level: Level,
    /// What is wrong and what to do (sanitized when set).
    pub text: String,
}

/// The whole dashboard state.
#[derive(Debug)]
pub struct App {
    /// `simulator` or the API host, for the header.
    pub endpoint: String,
    /// Use modifiers instead of colours.
    pub no_color: bool,
    /// The input pane.
    pub input: InputPane,
    /// The job list.
    pub list: JobList,
    /// The log pane.
    pub log: LogPane,
    /// The key table.
    pub keys: KeyMap,
    /// The list filter being typed.
    pub(crate) filter: TextField,
    pub(crate) focus: Focus,
    pub(crate) mode: Mode,
    pub(crate) presets: Vec<Preset>,
    pub(crate) groups: Vec<Group>,
    pub(crate) stats: Stats,
    /// The engine's health: a job store fault or a pause, shown as a banner.
    pub(crate) health: crate::engine::Health,
    /// The jobs of the last forget, for `u` (undo).
    pub(crate) last_forgotten: Vec<Job>,
    /// Local files being uploaded: bytes sent, size, and when the upload
    /// was first seen (for the rate).
    pub(crate) uploads: std::collections::HashMap<JobId, Upload>,
    pub(crate) status: Option<String>,
    banner: Option<Banner>,
    /// Another process owns the job store: watched read-only.
    watching: Option<String>,
    /// The stored watched folders of this profile, with their counts.
    pub folders: Vec<super::pane::folders::FolderRow>,
    /// Why the folders are not being watched now, if they are not.
    pub folders_idle: Option<String>,
    /// The assets the account holds and may hold, when the server's listing says.
    pub holdings: Option<(u64, u64)>,
    pub(crate) tick: u64,
    pub(crate) loaded: bool,
    /// The profile this dashboard runs; the list shows its jobs unless
    /// every profile's are asked for.
    profile: Option<String>,
    pub(crate) pending_g: bool,
    /// When a question the user did not ask for opened (duplicates after a
    /// submission): keys typed just after it are not answers.
    pub(crate) asked_at: Option<std::time::Instant>,
    /// First line of the help overlay on screen.
    pub(crate) help_scroll: usize,
    pending_attach: Option<(String, Attach)>,
    pending_preset: Option<String>,
    effects: Vec<Effect>,
    /// The tally of the last submission: lines kept back at Enter, then
    /// what the front door reports as it goes.
    round: crate::intake::Tally,
    /// Something visible changed since the last draw.
    pub dirty: bool,
    /// A fixed "now" for drawing (tests); `None` uses the clock.
    pub clock: Option<Timestamp>,
}

impl App {
    /// A dashboard for `endpoint` with these presets; the default preset is selected.
    pub fn new(endpoint: &str, presets: Vec<Preset>, no_color: bool, date: &str) -> App {
        let mut app = App {
            endpoint: endpoint.to_string(),
            no_color,
            input: InputPane::new(date),
            list: JobList::default(),
            log: LogPane::default(),
            keys: KeyMap::default(),
            filter: TextField::default(),
            focus: Focus::Urls,
            mode: Mode::Normal,
            presets,
            groups: Vec::new(),
            stats: Stats::default(),
            health: crate::engine::Health::default(),
            uploads: std::collections::HashMap::new(),
            last_forgotten: Vec::new(),
            status: None,
            banner: None,
            watching: None,
            folders: Vec::new(),
            folders_idle: None,
            holdings: None,
            tick: 0,
            loaded: false,
            profile: None,
            pending_g: false,
            asked_at: None,
            help_scroll: 0,
            pending_attach: None,
            pending_preset: None,
            effects: Vec::new(),
            round: crate::intake::Tally::default(),
            dirty: true,
            clock: None,
        };
        // One rule everywhere: only a preset marked default applies unasked.
        if let Some(i) = app.presets.iter().position(|p| p.default) {
            app.input.use_preset(&app.presets, i);
        }
        app
    }

    /// The status bar message, if any.
    pub fn status(&self) -> Option<&str> {
        self.status.as_deref()
    }

    /// Clears the status bar message.
    pub fn clear_status(&mut self) {
        self.status = None;
    }

    /// The current mode.
    pub fn mode(&self) -> &Mode {
        &self.mode
    }

    /// Where keys go.
    pub fn focus(&self) -> Focus {
        self.focus
    }

    pub(crate) fn set_focus(&mut self, f: Focus) {
        self.focus = f;
        if let Some(field) = f.input_field() {
            self.input.field = field;
        }
    }

    /// The URL editor's text.
    pub fn urls_text(&self) -> String {
        self.input.urls_text()
    }

    /// Sets the URL editor's text (the demo pre-fills it; a draft is restored).
    pub fn set_urls(&mut self, text: &str) {
        self.input.set_urls(text);
        self.dirty = true;
    }

    /// The group field's text.
    pub fn group_text(&self) -> &str {
        self.input.group.text()
    }

    /// The presets the dashboard knows.
    pub fn presets(&self) -> &[Preset] {
        &self.presets
    }

    /// The name of the preset the input pane uses, if any.
    pub fn preset_name(&self) -> Option<&str> {
        self.input.preset().and_then(|i| self.presets.get(i)).map(|p| p.name.as_str())
    }

    /// Ids of the jobs the list shows (scrolled to or not), in order.
    pub fn visible_ids(&mut self) -> Vec<JobId> {
        self.list.view()
    }

    /// The persistent banner, if any.
    pub fn banner(&self) -> Option<&Banner> {
        self.banner.as_ref()
    }

    /// Shows (or with `None` clears) the persistent banner above the panes.
    pub fn set_banner(&mut self, banner: Option<Banner>) {
        self.banner = banner.map(|b| Banner { level: b.level, text: crate::text::sanitize(&b.text) });
        self.dirty = true;
    }

    /// Advances the spinner (the event loop does this while jobs are in flight).
    pub fn advance_tick(&mut self) {
        self.tick += 1;
        self.dirty = true;
    }

    /// Takes the effects queued by keys and updates.
    pub fn take_effects(&mut self) -> Vec<Effect> {
        std::mem::take(&mut self.effects)
    }

    pub(crate) fn effect(&mut self, e: Effect) {
        self.effects.push(e);
    }

    /// Carries out what a pane asked for.
    pub(crate) fn run(&mut self, actions: Vec<Action>) {
        for a in actions {
            match a {
                Action::Effect(e) => self.effect(e),
                Action::Status(s) => self.set_status(s),
                Action::Note(level, s) => self.note(level, s),
                Action::Close => self.mode = Mode::Normal,
                Action::UsePreset(i) => {
                    self.input.use_preset(&self.presets, i);
                    if let Some(p) = self.presets.get(i) {
                        let msg = format!("using preset `{}`", p.name);
                        self.set_status(msg);
                    }
                }
                Action::Attach(name, attach) => self.pending_attach = Some((name, attach)),
            }
        }
        self.dirty = true;
    }

    /// Shows a message in the status bar; it also goes to the log file.
    pub fn set_status(&mut self, msg: impl Into<String>) {
        let msg = crate::text::sanitize(&msg.into());
        tracing::info!(target: "dashboard", "{msg}");
        self.status = Some(msg);
        self.dirty = true;
    }

    /// Shows a message in the status bar that already went to the log.
    fn show(&mut self, msg: String) {
        self.status = Some(crate::text::sanitize(&msg));
        self.dirty = true;
    }

    /// Replaces the preset list (after loading or saving).
    pub fn set_presets(&mut self, presets: Vec<Preset>) {
        let keep = self.preset_name().map(str::to_string);
        self.presets = presets;
        self.input.presets_changed(&self.presets, keep.as_deref());
        self.dirty = true;
    }

    /// Fills the input pane from preset `i`.
    pub fn use_preset(&mut self, i: usize) {
        self.input.use_preset(&self.presets, i);
        self.dirty = true;
    }

    /// How many jobs are in `state`, as last read (see [`App::refresh`]).
    pub fn count(&self, state: JobState) -> usize {
        usize::try_from(self.list.count(state)).unwrap_or(usize::MAX)
    }

    /// Reads what changed in the job store since the last read (at the
    /// list's last height), so the counts and the window are current.
    pub fn refresh(&mut self) {
        self.list.read_stale();
    }

    /// Jobs still Queued, Creating or Processing (as last read).
    pub fn in_flight(&self) -> usize {
        self.count(JobState::Queued) + self.count(JobState::Creating) + self.count(JobState::Processing)
    }

    /// The job by id (read from the job store).
    pub fn job(&mut self, id: JobId) -> Option<Job> {
        self.list.job(id)
    }

    /// The selected job, if the list is not empty (read again if stale).
    pub fn selected_job(&mut self) -> Option<Job> {
        self.list.selected_job()
    }

    /// The shown marked jobs, or else the selected one.
    pub fn targets(&mut self) -> Vec<JobId> {
        self.list.targets()
    }

    /// Applies an engine update; marks the state dirty when something visible changed.
    pub fn apply(&mut self, update: Update) {
        match update {
            Update::Job(job) => self.upsert(*job),
            Update::Removed(id) => {
                self.list.remove(id);
            }
            Update::Loaded => self.loaded = true,
            Update::Log(line) => self.log.push(line),
            Update::Stats(s) => self.stats = s,
            Update::Groups(groups) => {
                self.groups = groups
                    .into_iter()
                    .map(|g| Group { id: crate::text::sanitize(&g.id), name: crate::text::sanitize(&g.name) })
                    .collect();
            }
            Update::GroupCreated(g) => {
                self.group_created(Group { id: crate::text::sanitize(&g.id), name: crate::text::sanitize(&g.name) })
            }
            Update::GroupFailed { name, error } => {
                let error = crate::text::sanitize(&error);
                if let Mode::GroupForm(form) = &mut self.mode {
                    form.error = Some(error.clone());
                    form.busy = false;
                }
                self.set_status(format!("group `{}` not created: {error}", crate::text::sanitize(&name)));
            }
            Update::Upload { id, done, total } => {
                let now = std::time::Instant::now();
                let started = self.uploads.get(&id).map_or(now, |u| u.started);
                self.uploads.insert(id, Upload { done, total, started, at: now });
            }
            Update::Health(h) => {
                // The key first: on a narrow screen the reason may wrap.
                let key = self.keys.keys_of(super::keymap::KeyAction::Resume);
                let banner =
                    h.describe().map(|text| Banner { level: Level::Error, text: format!("{key} resumes · {text}") });
                self.set_banner(banner);
                self.health = h;
            }
            Update::Reconciled(report) => {
                let d = &report.done;
                if report.asked || d.adopted + d.resent + d.ambiguous > 0 {
                    self.set_status(report.describe());
                }
            }
            Update::Synced { .. } | Update::Stopped { .. } => {}
        }
        self.dirty = true;
    }

    /// Opens the view of the server's assets of the input pane's group.
    pub(crate) fn open_library(&mut self) {
        let group = self.input.group.text().trim().to_string();
        if group.is_empty() {
            self.set_status("no group to show: type one in the Group field, or pick a preset");
            return;
        }
        self.mode = Mode::Library(super::pane::library::LibraryPane::new(&group));
        self.effect(Effect::Library(super::effect::LibraryAsk::List(group)));
    }

    /// Takes what the library's background work sent (the view may be closed).
    pub fn library_news(&mut self, news: super::pane::library::LibraryNews) {
        use super::pane::library::LibraryNews;
        if let LibraryNews::Holdings(h) = news {
            self.holdings = h;
            self.dirty = true;
            return;
        }
        if let LibraryNews::Deleted { id, result: Ok(()) } = &news {
            self.effect(Effect::Engine(crate::engine::Command::AssetsDeleted(vec![id.clone()])));
            self.holdings = self.holdings.map(|(n, max)| (n.saturating_sub(1), max));
        }
        let said = match &mut self.mode {
            Mode::Library(pane) => pane.news(news),
            _ => match news {
                LibraryNews::Deleted { id, result: Ok(()) } => Some(format!("deleted {id} from the server")),
                LibraryNews::Deleted { id, result: Err(why) } => Some(format!("{id} not deleted: {why}")),
                _ => None,
            },
        };
        if let Some(s) = said {
            self.set_status(s);
        }
        self.dirty = true;
    }

    fn group_created(&mut self, g: Group) {
        if matches!(self.mode, Mode::GroupForm(_)) {
            self.mode = Mode::Normal;
        }
        self.input.group.set(&g.id);
        self.input.revalidate();
        self.set_status(format!("created group `{}` ({}); it is now in the group field", g.name, g.id));
        let Some((_, attach)) = self.pending_attach.take().filter(|(n, _)| *n == g.name) else { return };
        let change = match attach {
            Attach::None => return,
            Attach::NewPreset => {
                let mut p = Preset::new(&unique_name(&self.presets, &g.name), &g.id);
                p.asset_type = self.input.type_choice;
                p.name_template = self.input.name.text().to_string();
                PresetChange::Upsert { original: None, preset: p }
            }
            Attach::Preset(i) => {
                let Some(p) = self.presets.get(i) else { return };
                let preset = Preset { group_id: g.id.clone(), ..p.clone() };
                PresetChange::Upsert { original: Some(p.name.clone()), preset }
            }
        };
        // Once saved, the input pane switches to this preset (so the next
        // Enter imports into the new group).
        if let PresetChange::Upsert { preset, .. } = &change {
            self.pending_preset = Some(preset.name.clone());
        }
        self.effect(Effect::SavePreset(change));
    }

    fn upsert(&mut self, job: Job) {
        // The engine sends a job when it changes: a Rejected one once each
        // time it is rejected.
        if job.state == JobState::Rejected && job.error.as_deref().is_some_and(crate::api::is_missing_group) {
            self.set_status(format!(
                "group `{}` does not exist — press {} to create a group",
                crate::text::excerpt(&job.spec.group_id, 40),
                self.keys.keys_of(super::keymap::KeyAction::NewGroup)
            ));
        }
        if job.state != JobState::Uploading {
            self.uploads.remove(&job.id);
        }
        self.list.job_changed(&job);
    }

    /// Runs for `profile`: the list shows its jobs (and the header counts
    /// them) until every profile's are asked for.
    pub fn scope_to(&mut self, profile: &str) {
        self.profile = Some(profile.to_string());
        self.list.set_profile(self.profile.clone());
    }

    /// Shows every profile's jobs, or (again) only this dashboard's.
    pub fn toggle_all_profiles(&mut self) {
        let Some(own) = self.profile.clone() else { return };
        let all = self.list.profile().is_some();
        self.list.set_profile(if all { None } else { Some(own.clone()) });
        let key = self.keys.keys_of(super::keymap::KeyAction::AllProfiles);
        self.set_status(if all {
            format!("showing every profile's jobs ({key}: only this profile's)")
        } else {
            format!("showing profile {}'s jobs ({key}: every profile's)", crate::text::sanitize(&own))
        });
    }

    /// Another process owns the job store (`Some(owner)`): this
    /// dashboard watches its jobs read-only until it exits; `None` once
    /// this dashboard runs the engine.
    pub fn set_watching(&mut self, owner: Option<String>) {
        let banner = owner.as_ref().map(|o| Banner {
            level: Level::Warn,
            text: format!("watching {o}: read-only until it exits, then this one takes over"),
        });
        if self.watching.is_some() || owner.is_some() {
            self.set_banner(banner);
        }
        if owner.is_some() {
            self.loaded = true;
        }
        self.watching = owner.map(|o| crate::text::sanitize(&o));
        self.dirty = true;
    }

    /// Who owns the job store while this dashboard only watches.
    pub fn watching(&self) -> Option<&str> {
        self.watching.as_deref()
    }

    /// True (with a status line saying why) when an action that needs the
    /// engine comes while another process owns it: nothing is lost, the
    /// input stays where it is.
    pub fn refuse_while_watching(&mut self) -> bool {
        let Some(owner) = &self.watching else { return false };
        let msg = format!("read-only while {owner} runs; this dashboard takes over when it exits");
        self.set_status(msg);
        true
    }

    /// Adds a line to the log pane from the dashboard itself (and to the log file).
    pub fn note(&mut self, level: Level, text: impl Into<String>) {
        let text = crate::text::sanitize(&text.into());
        match level {
            Level::Info => tracing::info!(target: "dashboard", "{text}"),
            Level::Warn => tracing::warn!(target: "dashboard", "{text}"),
            Level::Error => tracing::error!(target: "dashboard", "{text}"),
        }
        self.log.push(LogLine { time: self.clock.unwrap_or_else(Timestamp::now), level, text });
        self.dirty = true;
    }

    /// Puts last session's unsent lines back in the editor, marked as
    /// restored: the next Enter asks before sending them.
    pub fn restore_draft(&mut self, text: &str) {
        let n = self.input.restore(text);
        if n > 0 {
            let msg = format!(
                "restored {} not sent last time (marked ↺); Enter asks before sending them",
                crate::text::plural(n, "line")
            );
            self.note(Level::Info, msg.clone());
            self.show(msg);
        }
        self.dirty = true;
    }

    /// Submits the input pane through the front door: lines that may go are
    /// checked and sent; refused and held lines stay with their reasons.
    /// Restored lines are sent only once the user has said so.
    pub fn submit(&mut self) {
        if self.refuse_while_watching() {
            return;
        }
        let restored = self.input.restored_lines();
        if restored > 0 {
            self.mode = Mode::Confirm(Confirm::Restored(restored));
            return;
        }
        let kept: Vec<(usize, String)> = self
            .input
            .verdicts()
            .iter()
            .enumerate()
            .filter_map(|(i, v)| match v {
                Verdict::Error(why) => Some((i + 1, why.clone())),
                _ => None,
            })
            .collect();
        for (line, why) in kept {
            self.note(Level::Warn, format!("not sent, line {line}: {why}"));
        }
        let sent = self.input.submit(&self.keys.keys_of(super::keymap::KeyAction::SendHeld));
        self.sent(sent);
    }

    /// Shows the whole verdict of the URL editor's cursor line (the column
    /// beside it is cut at the pane's width): in the status line and the log.
    pub fn explain_line(&mut self) {
        let row = self.input.editor().cursor().0;
        let text = match self.input.verdicts().get(row) {
            Some(Verdict::Held(why)) => {
                format!("? held back, {why}: {} sends it anyway", self.keys.keys_of(super::keymap::KeyAction::SendHeld))
            }
            Some(v @ Verdict::Error(why)) if v.conformable() => {
                format!(
                    "✗ {why}: {} conforms it (and any other line so marked)",
                    self.keys.keys_of(super::keymap::KeyAction::Conform)
                )
            }
            Some(Verdict::Checking) => "… being checked".to_string(),
            Some(Verdict::Skip) | None => "nothing on this line".to_string(),
            Some(v) => format!("{} {}", v.glyph(), v.text()),
        };
        let msg = format!("line {}: {text}", row + 1);
        self.note(Level::Info, msg.clone());
        self.show(msg);
    }

    /// Sends the held lines (not checked) with the user's consent.
    pub fn send_held(&mut self) {
        if self.refuse_while_watching() {
            return;
        }
        let sent = self.input.submit_held();
        self.sent(sent);
    }

    /// Sends the refused lines the conform step could make pass, conformed.
    pub fn send_conformed(&mut self) {
        if self.refuse_while_watching() {
            return;
        }
        let sent = self.input.submit_conformable();
        self.sent(sent);
    }

    /// An item being conformed: how far along it is, in the status line.
    pub fn conforming(&mut self, c: &crate::intake::Conforming) {
        self.input.set_progress(c.text.trim(), c.fraction);
        // Progress may arrive after the round's summary: it never replaces it.
        if c.fraction < 1.0 && self.input.is_sending() {
            let what = crate::text::excerpt(&c.name(), 40);
            self.set_status(format!("conforming {what}: {:.0}%", c.fraction * 100.0));
        }
        self.dirty = true;
    }

    fn sent(&mut self, sent: Result<Submission, String>) {
        match sent {
            Ok(s) => {
                // Lines kept back at Enter count in this round's tally too.
                self.round = crate::intake::Tally {
                    refused: self.input.bad(),
                    held: if s.consent { 0 } else { self.input.held() },
                    ..Default::default()
                };
                let n = s.lines.len();
                let how = if s.consent { " (not checked: sent with your consent)" } else { "" };
                self.set_status(format!("checking and sending {}{how}…", crate::text::plural(n, "line")));
                self.effect(Effect::Intake(s));
            }
            Err(why) => self.set_status(why),
        }
    }

    /// What the front door did with submitted lines: the editor keeps what
    /// was not created (with reasons), the log says what happened to each
    /// item, and the status line gives the tally.
    pub fn intake_done(&mut self, items: Vec<crate::intake::Item>) {
        use crate::intake::Fate;
        let mut tally = crate::intake::Tally::default();
        let mut existing = Vec::new();
        for it in &items {
            tally.add(&it.fate);
            let what = crate::text::excerpt(&crate::text::sanitize(it.text()), 60);
            if let Some(note) = &it.note {
                self.note(Level::Info, format!("{what}: {}", crate::text::sanitize(note)));
            }
            match &it.fate {
                Fate::Refused(why) => {
                    self.note(Level::Warn, format!("refused {what}: {}", without_line(why, it.text())));
                }
                Fate::Held { reason, .. } => {
                    self.note(Level::Warn, format!("held back {what}: {}", without_line(reason, it.text())));
                }
                Fate::Existing { asked, job } => {
                    let reference =
                        job.asset_id.as_ref().map_or_else(|| "no asset yet".to_string(), |a| format!("asset://{a}"));
                    self.note(
                        Level::Info,
                        format!("exists already: `{}` is job #{} ({}, {reference})", job.spec.name, job.id, job.state),
                    );
                    existing.push(NewJob::clone(asked));
                }
                _ => {}
            }
        }
        self.input.intake_done(&items);
        self.round.merge(tally);
        let tally = self.round;
        let mut msg = tally.summary();
        let conformable = self.input.conformable();
        if tally.held > 0 {
            msg.push_str(&format!(
                " — {} sends held lines anyway",
                self.keys.keys_of(super::keymap::KeyAction::SendHeld)
            ));
        } else if conformable > 0 {
            msg.push_str(&format!(
                " — {} conforms the {} marked conformable",
                self.keys.keys_of(super::keymap::KeyAction::Conform),
                crate::text::plural(conformable, "line")
            ));
        } else if tally.refused > 0 {
            msg.push_str(" — reasons beside the lines");
        }
        if self.input.is_sending() {
            self.set_status(msg);
        } else {
            self.note(Level::Info, msg.clone());
            self.show(msg);
        }
        if !existing.is_empty() && self.mode == Mode::Normal {
            self.mode = Mode::Confirm(Confirm::Duplicates(existing));
            self.asked_at = Some(std::time::Instant::now());
        }
    }

    /// The result of saving a preset change: the new list, or why not.
    pub fn preset_saved(&mut self, change: &PresetChange, result: Result<Vec<Preset>, SaveError>) {
        self.dirty = true;
        let current_name = self.preset_name().map(str::to_string);
        let presets = match result {
            Ok(p) => p,
            Err(e) => {
                let e = e.to_string();
                self.pending_preset = None;
                if let Mode::Presets(ed) = &mut self.mode {
                    ed.busy = false;
                    ed.message = Some(Note::Problem(e.clone()));
                }
                self.set_status(e);
                return;
            }
        };
        let modified = self.input.modified(&self.presets);
        self.set_presets(presets);
        let msg = match change {
            PresetChange::Upsert { preset, original: None } => format!("added preset `{}`", preset.name),
            PresetChange::Upsert { preset, .. } => format!("saved preset `{}`", preset.name),
            PresetChange::Delete(name) => format!("deleted preset `{name}`"),
            PresetChange::SetDefault(name) => format!("`{name}` is now the default preset"),
        };
        // The input pane follows a preset made for a new group; otherwise it
        // keeps its preset (renamed if it was renamed), refreshed from the
        // file unless the user changed the fields by hand.
        let follow = match (self.pending_preset.take(), change) {
            (Some(name), _) => Some(name),
            (None, PresetChange::Upsert { preset, original: Some(o) }) if Some(o) == current_name.as_ref() => {
                Some(preset.name.clone())
            }
            _ => current_name.filter(|_| !modified),
        };
        if let Some(i) = follow.and_then(|n| self.presets.iter().position(|p| p.name == n)) {
            self.input.use_preset(&self.presets, i);
        }
        if let Mode::Presets(ed) = &mut self.mode {
            ed.form = None;
            ed.busy = false;
            ed.message = Some(Note::Done(msg.clone()));
            if let PresetChange::Upsert { preset, .. } = change {
                ed.selected = self.presets.iter().position(|p| p.name == preset.name).unwrap_or(0);
            }
            ed.selected = ed.selected.min(self.presets.len().saturating_sub(1));
        }
        self.set_status(msg);
    }

    /// The result of reloading the config file.
    pub fn config_reloaded(&mut self, result: Result<Vec<Preset>, ConfigError>) {
        let note = match result {
            Ok(presets) => {
                let n = presets.len();
                self.set_presets(presets);
                Note::Done(format!("reloaded the config file: {}", crate::text::plural(n, "preset")))
            }
            Err(e) => Note::Problem(format!("not reloaded: {e}")),
        };
        let (Note::Done(msg) | Note::Problem(msg)) = note.clone();
        if let Mode::Presets(ed) = &mut self.mode {
            ed.busy = false;
            ed.selected = ed.selected.min(self.presets.len().saturating_sub(1));
            ed.message = Some(note);
        }
        self.set_status(msg);
    }

    /// The input pane's values as a preset (for "add preset").
    pub(crate) fn current_as_preset(&self) -> Preset {
        let mut p = Preset::new("", self.input.group.text().trim());
        p.asset_type = self.input.type_choice;
        p.name_template =
            if self.input.name.text().trim().is_empty() { "{stem}".into() } else { self.input.name.text().into() };
        p
    }
}
