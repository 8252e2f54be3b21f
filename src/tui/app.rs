//! The dashboard's state: what it shows and what is being edited. Pure data
//! plus the rules that change it; drawing is in `view`, keys in `keys`.

use std::collections::{HashMap, HashSet, VecDeque};

use jiff::Timestamp;

use super::field::TextField;
use super::forms::{GroupForm, PresetEditor};
use crate::config::{Preset, PresetChange, Template, TypeChoice};
use crate::engine::input::{ImportDefaults, LineError, parse_lines};
use crate::engine::{Command, Group, Job, JobId, JobState, Level, LogLine, NewJob, Stats, Update};

/// Log lines kept for the log pane.
pub const LOG_CAPACITY: usize = 2000;

/// Which part of the screen keys go to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    /// The URL field (accepts a multi-line paste).
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

    /// True for the fields of the input pane.
    pub fn in_input(self) -> bool {
        !matches!(self, Focus::List | Focus::Log)
    }

    /// True for fields edited as text.
    pub fn is_text(self) -> bool {
        matches!(self, Focus::Urls | Focus::Name | Focus::Group)
    }
}

/// A question awaiting y/n.
#[derive(Debug, Clone, PartialEq)]
pub enum Confirm {
    /// Resubmitting jobs whose creation may have happened.
    RetryUncertain(Vec<JobId>),
    /// Forgetting jobs.
    Forget(Vec<JobId>),
    /// Creating items that duplicate existing jobs.
    Duplicates(Vec<NewJob>),
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
}

/// Something the event loop must do outside the state (I/O).
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Send to the engine.
    Engine(Command),
    /// Put this text on the clipboard (OSC 52).
    Copy(String),
    /// Write the (filtered) list to a CSV file.
    Export(Vec<JobId>),
    /// Save a preset change to the config file.
    SavePreset(PresetChange),
    /// Read the config file again (after it changed on disk).
    ReloadConfig,
    /// Leave the dashboard.
    Quit,
}

/// The whole dashboard state.
#[derive(Debug)]
pub struct App {
    /// `simulator` or the API host, for the header.
    pub endpoint: String,
    /// Use modifiers instead of colours.
    pub no_color: bool,
    pub(crate) jobs: Vec<Job>,
    index: HashMap<JobId, usize>,
    counts: HashMap<JobState, usize>,
    pub(crate) view: Vec<usize>,
    view_stale: bool,
    /// Index into `view` of the selected row.
    pub(crate) selected: usize,
    /// First row of `view` on screen.
    pub(crate) offset: usize,
    /// Rows the list showed at the last draw (for paging).
    pub(crate) list_rows: usize,
    /// Where the list's first data row was drawn (for mouse clicks).
    pub(crate) list_top: (u16, u16),
    pub(crate) marked: HashSet<JobId>,
    pub(crate) filter: TextField,
    pub(crate) status_filter: Option<JobState>,
    pub(crate) focus: Focus,
    pub(crate) mode: Mode,
    pub(crate) urls: TextField,
    pub(crate) name: TextField,
    pub(crate) type_choice: TypeChoice,
    pub(crate) group: TextField,
    pub(crate) preset: Option<usize>,
    pub(crate) presets: Vec<Preset>,
    pub(crate) groups: Vec<Group>,
    pub(crate) validation: Result<usize, String>,
    pub(crate) log: VecDeque<LogLine>,
    pub(crate) log_scroll: usize,
    pub(crate) stats: Stats,
    /// The engine's health: a journal fault or a pause, shown as a banner.
    pub(crate) health: crate::engine::Health,
    pub(crate) status: Option<String>,
    pub(crate) tick: u64,
    pub(crate) loaded: bool,
    pub(crate) date: String,
    pub(crate) pending_attach: Option<(String, super::forms::Attach)>,
    effects: Vec<Effect>,
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
            jobs: Vec::new(),
            index: HashMap::new(),
            counts: HashMap::new(),
            view: Vec::new(),
            view_stale: false,
            selected: 0,
            offset: 0,
            list_rows: 10,
            list_top: (0, 0),
            marked: HashSet::new(),
            filter: TextField::default(),
            status_filter: None,
            focus: Focus::Urls,
            mode: Mode::Normal,
            urls: TextField::default(),
            name: TextField::new("{stem}"),
            type_choice: TypeChoice::Infer,
            group: TextField::default(),
            preset: None,
            presets: Vec::new(),
            groups: Vec::new(),
            validation: Ok(0),
            log: VecDeque::new(),
            log_scroll: 0,
            stats: Stats::default(),
            health: crate::engine::Health::default(),
            status: None,
            tick: 0,
            loaded: false,
            date: date.to_string(),
            pending_attach: None,
            effects: Vec::new(),
            dirty: true,
            clock: None,
        };
        app.set_presets(presets);
        if let Some(i) =
            app.presets.iter().position(|p| p.default).or(if app.presets.is_empty() { None } else { Some(0) })
        {
            app.use_preset(i);
        }
        app.revalidate();
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

    /// The URL field's text.
    pub fn urls_text(&self) -> &str {
        self.urls.text()
    }

    /// Sets the URL field's text (the demo pre-fills it).
    pub fn set_urls(&mut self, text: &str) {
        self.urls.set(text);
        self.revalidate();
    }

    /// The group field's text.
    pub fn group_text(&self) -> &str {
        self.group.text()
    }

    /// The presets the dashboard knows.
    pub fn presets(&self) -> &[Preset] {
        &self.presets
    }

    /// Ids of the jobs the list shows, in order.
    pub fn visible_ids(&mut self) -> Vec<JobId> {
        self.refresh_view();
        self.view.iter().map(|&i| self.jobs[i].id).collect()
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

    /// Shows a message in the status bar.
    pub fn set_status(&mut self, msg: impl Into<String>) {
        self.status = Some(crate::text::sanitize(&msg.into()));
        self.dirty = true;
    }

    /// Replaces the preset list (after loading or saving).
    pub fn set_presets(&mut self, presets: Vec<Preset>) {
        self.presets = presets;
        if self.preset.is_some_and(|i| i >= self.presets.len()) {
            self.preset = None;
        }
        self.dirty = true;
    }

    /// Fills the input pane from preset `i`.
    pub fn use_preset(&mut self, i: usize) {
        let Some(p) = self.presets.get(i) else { return };
        self.preset = Some(i);
        self.group.set(&p.group_id);
        self.type_choice = p.asset_type;
        self.name.set(&p.name_template);
        self.revalidate();
        self.dirty = true;
    }

    /// The job list in id order.
    pub fn jobs(&self) -> &[Job] {
        &self.jobs
    }

    /// How many jobs are in `state`.
    pub fn count(&self, state: JobState) -> usize {
        self.counts.get(&state).copied().unwrap_or(0)
    }

    /// Jobs still Queued, Creating or Processing.
    pub fn in_flight(&self) -> usize {
        self.count(JobState::Queued) + self.count(JobState::Creating) + self.count(JobState::Processing)
    }

    /// The job by id.
    pub fn job(&self, id: JobId) -> Option<&Job> {
        self.index.get(&id).map(|&i| &self.jobs[i])
    }

    /// The selected job, if the list is not empty.
    pub fn selected_job(&self) -> Option<&Job> {
        self.view.get(self.selected).map(|&i| &self.jobs[i])
    }

    /// The marked jobs, or else the selected one.
    pub fn targets(&self) -> Vec<JobId> {
        if self.marked.is_empty() {
            self.selected_job().map(|j| vec![j.id]).unwrap_or_default()
        } else {
            let mut ids: Vec<JobId> = self.marked.iter().copied().collect();
            ids.sort_unstable();
            ids
        }
    }

    /// Applies an engine update; marks the state dirty when something visible changed.
    pub fn apply(&mut self, update: Update) {
        match update {
            Update::Job(job) => self.upsert(*job),
            Update::Removed(id) => {
                if let Some(i) = self.index.remove(&id) {
                    let job = self.jobs.remove(i);
                    *self.counts.entry(job.state).or_default() -= 1;
                    self.marked.remove(&id);
                    for (k, j) in self.jobs.iter().enumerate().skip(i) {
                        self.index.insert(j.id, k);
                    }
                    self.view_stale = true;
                    self.dirty = true;
                }
            }
            Update::Loaded => {
                self.loaded = true;
                self.dirty = true;
            }
            Update::Log(line) => self.push_log(line),
            Update::Stats(s) => {
                self.stats = s;
                self.dirty = true;
            }
            Update::Groups(groups) => {
                self.groups = groups;
                self.dirty = true;
            }
            Update::GroupCreated(g) => self.group_created(g),
            Update::GroupFailed { name, error } => {
                if let Mode::GroupForm(form) = &mut self.mode {
                    form.error = Some(error.clone());
                    form.busy = false;
                }
                self.set_status(format!("group `{name}` not created: {error}"));
            }
            Update::Duplicates(items) => {
                if self.mode == Mode::Normal {
                    self.mode = Mode::Confirm(Confirm::Duplicates(items));
                    self.dirty = true;
                }
            }
            Update::Upload { .. } => {}
            Update::Health(h) => {
                self.health = h;
                self.dirty = true;
            }
            Update::Stopped { .. } => {}
        }
    }

    fn group_created(&mut self, g: Group) {
        if matches!(self.mode, Mode::GroupForm(_)) {
            self.mode = Mode::Normal;
        }
        self.group.set(&g.id);
        self.revalidate();
        self.set_status(format!("created group `{}` ({}); it is now in the group field", g.name, g.id));
        if let Some((_, attach)) = self.pending_attach.take().filter(|(n, _)| *n == g.name) {
            match attach {
                super::forms::Attach::None => {}
                super::forms::Attach::NewPreset => {
                    let mut p = Preset::new(&unique_name(&self.presets, &g.name), &g.id);
                    p.asset_type = self.type_choice;
                    p.name_template = self.name.text().to_string();
                    self.effect(Effect::SavePreset(PresetChange::Upsert { original: None, preset: p }));
                }
                super::forms::Attach::Preset(i) => {
                    if let Some(p) = self.presets.get(i) {
                        let original = p.name.clone();
                        let preset = Preset { group_id: g.id.clone(), ..p.clone() };
                        self.effect(Effect::SavePreset(PresetChange::Upsert { original: Some(original), preset }));
                    }
                }
            }
        }
    }

    fn upsert(&mut self, job: Job) {
        if job.state == JobState::Rejected && job.error.as_deref().is_some_and(|e| e.contains("NotFound.group_id")) {
            let prev = self.job(job.id).map(|j| j.state);
            if prev != Some(JobState::Rejected) {
                self.set_status(format!("group `{}` does not exist — press g to create a group", job.spec.group_id));
            }
        }
        match self.index.get(&job.id) {
            Some(&i) => {
                let old = &self.jobs[i];
                if old.state != job.state {
                    *self.counts.entry(old.state).or_default() -= 1;
                    *self.counts.entry(job.state).or_default() += 1;
                    if self.status_filter.is_some() || !self.filter.text().is_empty() {
                        self.view_stale = true;
                    }
                }
                self.jobs[i] = job;
            }
            None => {
                *self.counts.entry(job.state).or_default() += 1;
                let pos = self.jobs.partition_point(|j| j.id < job.id);
                if pos == self.jobs.len() {
                    self.index.insert(job.id, pos);
                    self.jobs.push(job);
                } else {
                    self.jobs.insert(pos, job);
                    for (k, j) in self.jobs.iter().enumerate().skip(pos) {
                        self.index.insert(j.id, k);
                    }
                }
                self.view_stale = true;
            }
        }
        self.dirty = true;
    }

    fn push_log(&mut self, line: LogLine) {
        if self.log.len() == LOG_CAPACITY {
            self.log.pop_front();
        }
        self.log.push_back(line);
        if self.log_scroll > 0 {
            self.log_scroll += 1;
        }
        self.dirty = true;
    }

    /// Adds a line to the log pane from the dashboard itself.
    pub fn note(&mut self, level: Level, text: impl Into<String>) {
        self.push_log(LogLine { time: Timestamp::now(), level, text: crate::text::sanitize(&text.into()) });
    }

    /// Recomputes the filtered view if jobs or filters changed.
    pub fn refresh_view(&mut self) {
        if !self.view_stale {
            return;
        }
        self.view_stale = false;
        let selected_id = self.selected_job().map(|j| j.id);
        let needle = self.filter.text().to_lowercase();
        self.view = self
            .jobs
            .iter()
            .enumerate()
            .filter(|(_, j)| self.status_filter.is_none_or(|s| j.state == s))
            .filter(|(_, j)| {
                needle.is_empty()
                    || j.spec.name.to_lowercase().contains(&needle)
                    || j.spec.url.to_lowercase().contains(&needle)
                    || j.asset_id.as_deref().is_some_and(|a| a.to_lowercase().contains(&needle))
                    || j.error.as_deref().is_some_and(|e| e.to_lowercase().contains(&needle))
            })
            .map(|(i, _)| i)
            .collect();
        self.selected = selected_id
            .and_then(|id| self.index.get(&id))
            .and_then(|i| self.view.iter().position(|v| v == i))
            .unwrap_or(self.selected)
            .min(self.view.len().saturating_sub(1));
    }

    pub(crate) fn invalidate_view(&mut self) {
        self.view_stale = true;
        self.dirty = true;
    }

    /// The defaults the input pane gives, or why it cannot.
    fn defaults(&self) -> Result<ImportDefaults, String> {
        let group = self.group.text().trim();
        if group.is_empty() {
            return Err("no group: pick a preset (←/→ on Preset), type a group id, or press g to create one".into());
        }
        let template: Template = match self.name.text().trim() {
            "" => Template::stem(),
            t => t.parse().map_err(|e| format!("name template: {e}"))?,
        };
        Ok(ImportDefaults {
            force_type: false,
            group_id: group.to_string(),
            asset_type: self.type_choice,
            template,
            date: self.date.clone(),
        })
    }

    /// Parses the URL field: the imports, the bad lines, or why nothing can be parsed.
    pub fn parse_input(&self) -> Result<(Vec<NewJob>, Vec<LineError>), String> {
        let d = self.defaults()?;
        Ok(parse_lines(self.urls.text(), &d))
    }

    /// Re-checks the input pane for the inline message.
    pub fn revalidate(&mut self) {
        self.validation = match self.parse_input() {
            Err(e) => Err(e),
            Ok((_, errors)) if !errors.is_empty() => Err(format!("{} bad line(s); first: {}", errors.len(), errors[0])),
            Ok((jobs, _)) => Ok(jobs.len()),
        };
        self.dirty = true;
    }

    /// Submits the input pane: good lines go to the engine, bad lines stay
    /// in the field (with their problems in the log) so nothing is lost.
    pub fn submit(&mut self) {
        let (jobs, errors) = match self.parse_input() {
            Ok(r) => r,
            Err(e) => {
                self.set_status(e);
                return;
            }
        };
        if jobs.is_empty() && errors.is_empty() {
            self.set_status("nothing to import: type or paste https URLs in the URL field (i to edit)");
            return;
        }
        for e in &errors {
            self.note(Level::Warn, format!("not imported, {e}"));
        }
        let kept: Vec<&str> = {
            let bad: HashSet<usize> = errors.iter().map(|e| e.line).collect();
            self.urls.text().lines().enumerate().filter(|(i, _)| bad.contains(&(i + 1))).map(|(_, l)| l).collect()
        };
        let kept = kept.join("\n");
        let n = jobs.len();
        if n > 0 {
            self.effect(Effect::Engine(Command::Submit { jobs, allow_duplicates: false }));
        }
        self.urls.set(&kept);
        self.revalidate();
        self.set_status(match errors.len() {
            0 => format!("submitted {n} import(s)"),
            e => format!("submitted {n} import(s); {e} bad line(s) left in the URL field (see the log)"),
        });
    }
}

/// `base`, or `base 2`, `base 3`… whichever no preset has.
pub(crate) fn unique_name(presets: &[Preset], base: &str) -> String {
    let taken = |n: &str| presets.iter().any(|p| p.name.eq_ignore_ascii_case(n));
    if !taken(base) {
        return base.to_string();
    }
    (2..).map(|i| format!("{base} {i}")).find(|n| !taken(n)).expect("some number is free")
}
