//! The job list pane: a window onto the job store with its filters, the
//! selection and the marks.

use std::collections::BTreeSet;

use crate::engine::{Job, JobId, JobState};
use crate::store::{Filter, History, StoreError};

/// Which states the list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateFilter {
    /// One state.
    Only(JobState),
    /// Failed, Rejected, Uncertain and Stuck.
    Problems,
}

impl StateFilter {
    /// True when a job in `state` passes.
    pub fn admits(self, state: JobState) -> bool {
        match self {
            StateFilter::Only(s) => s == state,
            StateFilter::Problems => state.needs_attention(),
        }
    }

    /// The filter after `current` in the cycle all → each state → problems →
    /// all; `back` goes the other way.
    pub fn cycle(current: Option<StateFilter>, back: bool) -> Option<StateFilter> {
        let mut all: Vec<Option<StateFilter>> = vec![None];
        all.extend(JobState::ALL.iter().map(|s| Some(StateFilter::Only(*s))));
        all.push(Some(StateFilter::Problems));
        let i = all.iter().position(|f| *f == current).unwrap_or(0);
        let n = all.len();
        all[if back { (i + n - 1) % n } else { (i + 1) % n }]
    }
}

impl std::fmt::Display for StateFilter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StateFilter::Only(s) => write!(f, "{s}"),
            StateFilter::Problems => f.write_str("problems"),
        }
    }
}

/// Where the list is drawn (set before each frame; keys and the mouse use it).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ListGeometry {
    /// Data rows on screen.
    pub rows: usize,
    /// Screen row of the first data row.
    pub top: u16,
}

impl ListGeometry {
    /// The data rows of a bordered table with a header row in `area`.
    pub fn of(area: ratatui::layout::Rect) -> ListGeometry {
        ListGeometry { rows: (area.height.saturating_sub(3) as usize).max(1), top: area.y + 2 }
    }
}

/// Marks up to this many are checked against the filter in one query;
/// more are intersected with the shown ids in memory.
const MARKS_IN_QUERY: usize = 5000;
/// A text filter's match count stops here (the title then says `N+`).
const COUNT_CAP: u64 = 100_000;
/// How often a text filter's match count is taken again while jobs change.
const RECOUNT: std::time::Duration = std::time::Duration::from_secs(2);

/// What the last refresh read from the store.
#[derive(Debug, Default)]
struct Cache {
    /// The rows on screen, in id order.
    window: Vec<Job>,
    /// Jobs per state, in [`JobState::ALL`] order (of the profile in scope).
    counts: [u64; JobState::ALL.len()],
    /// The profiles the store holds jobs of.
    profiles: Vec<String>,
    /// Jobs the filter shows (at most [`COUNT_CAP`] with a text filter).
    shown: u64,
    /// The filter `shown` was counted for, and when (a text filter scans:
    /// it is counted again at most every [`RECOUNT`]).
    counted: Option<(Filter, std::time::Instant)>,
    /// Marked jobs the filter shows.
    marked_shown: usize,
    /// The store could not be read.
    error: Option<String>,
    /// The rows the window was read for.
    rows: usize,
    /// Nothing changed since the read.
    fresh: bool,
    /// The counts per state are stale (a job changed that the window and
    /// the filter do not involve: only the counts are read again).
    counts_stale: bool,
}

/// The job list: a window onto the job store. Only the rows on screen are
/// read (and the counts, which the store keeps), so a history of a million
/// jobs costs what a screenful does; engine updates and other processes'
/// writes mark the window stale, and [`JobList::prepare`] reads it again
/// before the next frame. Reading the store takes `&mut self`: drawing,
/// which gets `&self`, shows what the last read left and never reads.
#[derive(Default)]
pub struct JobList {
    history: Option<History>,
    /// Only this profile's jobs (`None`: every profile's).
    profile: Option<String>,
    needle: String,
    state_filter: Option<StateFilter>,
    /// The selected job.
    selected: Option<JobId>,
    /// Rows on screen above the selected one (kept while scrolling).
    above: usize,
    marked: BTreeSet<JobId>,
    cache: Cache,
    geometry: ListGeometry,
    /// Store reads since start (for the benchmark and the tests).
    pub reads: u64,
}

impl std::fmt::Debug for JobList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobList").field("selected", &self.selected).field("marked", &self.marked.len()).finish()
    }
}

impl JobList {
    /// Reads from this store from now on.
    pub fn attach(&mut self, history: History) {
        self.history = Some(history);
        self.invalidate();
    }

    /// True once a store is attached.
    pub fn is_attached(&self) -> bool {
        self.history.is_some()
    }

    /// Something changed in the store: read again before the next draw.
    pub fn invalidate(&mut self) {
        self.cache.fresh = false;
    }

    /// Where the list goes on the next frame: reads what changed (or what
    /// the new height shows) so that the frame draws without reading.
    pub fn prepare(&mut self, geometry: ListGeometry) {
        self.geometry = geometry;
        self.refresh(geometry.rows);
    }

    /// Where the list was last placed.
    pub fn geometry(&self) -> ListGeometry {
        self.geometry
    }

    /// The engine reports that `job` changed. With a text filter, the window
    /// is read again only when the job is on screen or the filter shows it:
    /// a change to a job it hides costs a read of the counts, not a scan of
    /// a large history. Without one, the window is read again (by index).
    pub fn job_changed(&mut self, job: &Job) {
        let admits = self.filter().admits(job);
        let c = &mut self.cache;
        let on_screen = c.window.iter().any(|j| j.id == job.id);
        // Without a text filter a full read is cheap (indexes only).
        if on_screen || self.needle.is_empty() || admits {
            c.fresh = false;
        } else {
            c.counts_stale = true;
        }
    }

    /// Invalidates when another process wrote to the store since the last
    /// look (an observer's only news); true when it did.
    pub fn poll_changes(&mut self, last: &mut i64) -> bool {
        let Some(v) = self.history.as_ref().and_then(|h| h.version().ok()) else { return false };
        if v != std::mem::replace(last, v) {
            self.invalidate();
            return true;
        }
        false
    }

    /// The store query for the current filters.
    pub fn filter(&self) -> Filter {
        let states = match self.state_filter {
            None => Vec::new(),
            Some(StateFilter::Only(s)) => vec![s],
            Some(StateFilter::Problems) => JobState::ALL.into_iter().filter(|s| s.needs_attention()).collect(),
        };
        Filter { states, needle: self.needle.clone(), profile: self.profile.clone(), ..Filter::default() }
    }

    fn read<T>(&mut self, what: impl FnOnce(&History) -> Result<T, StoreError>) -> Option<T> {
        let history = self.history.as_ref()?;
        self.reads += 1;
        match what(history) {
            Ok(v) => Some(v),
            Err(e) => {
                self.cache.error = Some(crate::text::sanitize(&e.to_string()));
                None
            }
        }
    }

    /// Reads the window again if anything changed or the height did.
    fn refresh(&mut self, rows: usize) {
        if self.history.is_none() {
            return;
        }
        let rows = rows.max(1);
        if self.cache.fresh && self.cache.rows == rows {
            if self.cache.counts_stale {
                let profile = self.profile.clone();
                self.cache.counts = self.read(|h| h.counts(profile.as_deref())).unwrap_or_default();
                self.cache.counts_stale = false;
            }
            return;
        }
        self.cache.error = None;
        let filter = self.filter();
        let profile = self.profile.clone();
        let counts = self.read(|h| h.counts(profile.as_deref())).unwrap_or_default();
        let profiles = self.read(|h| h.profiles()).unwrap_or_default();
        let recount = filter.needle.is_empty()
            || self.cache.counted.as_ref().is_none_or(|(f, at)| *f != filter || at.elapsed() >= RECOUNT);
        let shown = if recount {
            let n = self.read(|h| h.count(&filter, COUNT_CAP)).unwrap_or(0);
            self.cache.counted = Some((filter.clone(), std::time::Instant::now()));
            n
        } else {
            self.cache.shown
        };
        let window = self.read_window(&filter, rows).unwrap_or_default();
        let marked_shown = self.count_marked(&filter);
        let c = &mut self.cache;
        c.window = window;
        c.counts = counts;
        c.profiles = profiles;
        c.shown = shown;
        c.marked_shown = marked_shown;
        c.rows = rows;
        c.fresh = true;
        c.counts_stale = false;
    }

    /// The rows on screen: some above the selection, the selection, and
    /// the rest below; the screen stays full near either end.
    fn read_window(&mut self, filter: &Filter, rows: usize) -> Option<Vec<Job>> {
        let Some(sel) = self.selected else {
            return self.read(|h| h.page(filter, None, true, rows));
        };
        let mut only = filter.clone();
        only.ids = vec![sel];
        let current = self.read(|h| h.page(&only, None, true, 1))?;
        let after = self.read(|h| h.page(filter, Some(sel), true, rows))?;
        let above = self.above.min(rows - 1);
        let want_before = rows.saturating_sub(current.len() + after.len().min(rows - 1 - above)).max(above);
        let before = self.read(|h| h.page(filter, Some(sel), false, want_before))?;
        let mut window = before;
        window.extend(current);
        window.extend(after);
        let start =
            window.len().saturating_sub(rows).min(self.position_in(&window).map_or(0, |p| p.saturating_sub(above)));
        window.drain(..start);
        window.truncate(rows);
        Some(window)
    }

    fn position_in(&self, window: &[Job]) -> Option<usize> {
        let sel = self.selected?;
        Some(window.partition_point(|j| j.id < sel))
    }

    fn count_marked(&mut self, filter: &Filter) -> usize {
        if self.marked.is_empty() {
            return 0;
        }
        if self.marked.len() <= MARKS_IN_QUERY {
            let mut f = filter.clone();
            f.ids = self.marked.iter().copied().collect();
            return self.read(|h| h.count(&f, u64::MAX)).unwrap_or(0) as usize;
        }
        let ids = self.read(|h| h.ids(filter)).unwrap_or_default();
        ids.iter().filter(|id| self.marked.contains(id)).count()
    }

    /// The rows read for the screen, and the index of the selected one
    /// among them.
    pub fn window(&self) -> (&[Job], Option<usize>) {
        let w = &self.cache.window;
        // A selected job the filter now hides hands the selection on to the
        // next row (or the last, at the end).
        let sel = match self.selected {
            Some(s) => w.iter().position(|j| j.id >= s).or_else(|| w.len().checked_sub(1)),
            None => (!w.is_empty()).then_some(0),
        };
        (w, sel)
    }

    /// The selected row as last read (what the screen shows).
    pub fn shown_selection(&self) -> Option<&Job> {
        let (window, sel) = self.window();
        sel.and_then(|i| window.get(i))
    }

    /// Reads the window and the counts again if they are stale (at the
    /// height last placed).
    pub fn read_stale(&mut self) {
        let rows = self.geometry.rows.max(self.cache.rows).max(1);
        self.refresh(rows);
    }

    /// Why the store could not be read, if it could not.
    pub fn error(&self) -> Option<&str> {
        self.cache.error.as_deref()
    }

    /// How many jobs are in `state` (as last read).
    pub fn count(&self, state: JobState) -> u64 {
        let i = JobState::ALL.iter().position(|s| *s == state).expect("every state is in ALL");
        self.cache.counts[i]
    }

    /// How many jobs there are (as last read).
    pub fn total(&self) -> u64 {
        self.cache.counts.iter().sum()
    }

    /// How many jobs the filter shows (capped with a text filter; see [`JobList::shown_is_capped`]).
    pub fn shown(&self) -> u64 {
        self.cache.shown
    }

    /// True when [`JobList::shown`] stopped counting.
    pub fn shown_is_capped(&self) -> bool {
        !self.needle.is_empty() && self.shown() >= COUNT_CAP
    }

    /// Every id the filter shows, in order (one query; for marking all).
    pub fn view(&mut self) -> Vec<JobId> {
        let filter = self.filter();
        self.read(|h| h.ids(&filter)).unwrap_or_default()
    }

    /// A job by id, read from the store unless it is in a fresh window.
    pub fn job(&mut self, id: JobId) -> Option<Job> {
        if self.cache.fresh
            && let Some(j) = self.cache.window.iter().find(|j| j.id == id)
        {
            return Some(j.clone());
        }
        self.read(|h| h.get(id)).flatten()
    }

    /// The selected job (the first shown when none was chosen yet), read
    /// again if the window is stale.
    pub fn selected_job(&mut self) -> Option<Job> {
        self.read_stale();
        self.shown_selection().cloned()
    }

    /// True when `id` is marked.
    pub fn is_marked(&self, id: JobId) -> bool {
        self.marked.contains(&id)
    }

    /// Marked rows that are shown (as last read).
    pub fn marked_shown(&self) -> usize {
        self.cache.marked_shown
    }

    /// All marks, shown or not.
    pub fn marked_total(&self) -> usize {
        self.marked.len()
    }

    /// The text filter.
    pub fn needle(&self) -> &str {
        &self.needle
    }

    /// The state filter.
    pub fn state_filter(&self) -> Option<StateFilter> {
        self.state_filter
    }

    /// Shows only `profile`'s jobs, or every profile's (`None`).
    pub fn set_profile(&mut self, profile: Option<String>) {
        self.profile = profile;
        self.invalidate();
    }

    /// The profile in scope (`None`: all).
    pub fn profile(&self) -> Option<&str> {
        self.profile.as_deref()
    }

    /// The profiles the store holds jobs of (as last read).
    pub fn profiles(&self) -> &[String] {
        &self.cache.profiles
    }

    /// What an action applies to: the marked rows that are shown, or else
    /// the selected row. Marks on rows the filter hides are left alone.
    pub fn targets(&mut self) -> Vec<JobId> {
        let shown: Vec<JobId> = if self.marked.is_empty() {
            Vec::new()
        } else if self.marked.len() <= MARKS_IN_QUERY {
            let mut f = self.filter();
            f.ids = self.marked.iter().copied().collect();
            self.read(|h| h.ids(&f)).unwrap_or_default()
        } else {
            let view = self.view();
            view.into_iter().filter(|id| self.marked.contains(id)).collect()
        };
        if shown.is_empty() { self.selected_job().map(|j| vec![j.id]).unwrap_or_default() } else { shown }
    }

    /// Forgets a removed job's mark (the store no longer has it).
    pub fn remove(&mut self, id: JobId) {
        self.marked.remove(&id);
        self.invalidate();
    }

    /// Sets the text filter (case-insensitive).
    pub fn set_needle(&mut self, needle: &str) {
        self.needle = needle.to_lowercase();
        self.invalidate();
    }

    /// Sets the state filter.
    pub fn set_state_filter(&mut self, f: Option<StateFilter>) {
        self.state_filter = f;
        self.invalidate();
    }

    /// Moves the selection by `delta` rows.
    pub fn move_by(&mut self, delta: i64) {
        let Some(current) = self.selected_job() else { return };
        let filter = self.filter();
        let n = delta.unsigned_abs() as usize;
        let forward = delta > 0;
        let Some(page) = self.read(|h| h.page(&filter, Some(current.id), forward, n)) else { return };
        let target = if forward { page.last() } else { page.first() };
        if let Some(t) = target {
            self.selected = Some(t.id);
            // Before the first draw the height is unknown: the draw clamps.
            let last_row = self.geometry.rows.checked_sub(1).unwrap_or(usize::MAX);
            self.above = if forward {
                self.above.saturating_add(page.len()).min(last_row)
            } else {
                self.above.min(last_row).saturating_sub(page.len())
            };
            self.invalidate();
        }
    }

    /// Selects the first (`false`) or last row.
    pub fn jump(&mut self, end: bool) {
        let filter = self.filter();
        let Some(page) = self.read(|h| h.page(&filter, None, !end, 1)) else { return };
        if let Some(j) = page.first() {
            self.selected = Some(j.id);
            self.above = if end { self.geometry.rows.checked_sub(1).unwrap_or(usize::MAX) } else { 0 };
            self.invalidate();
        }
    }

    /// Selects the on-screen row `row` if it exists.
    pub fn select(&mut self, row: usize) {
        let id = self.cache.window.get(row).map(|j| j.id);
        if let Some(id) = id {
            self.selected = Some(id);
            self.above = row;
            self.invalidate();
        }
    }

    /// One page, by the rows drawn last.
    pub fn page_rows(&self) -> i64 {
        self.geometry.rows.max(1) as i64
    }

    /// Marks or unmarks the selected row and moves down.
    pub fn toggle_mark(&mut self) {
        if let Some(id) = self.selected_job().map(|j| j.id) {
            self.selected = Some(id);
            if !self.marked.remove(&id) {
                self.marked.insert(id);
            }
            self.invalidate();
            self.move_by(1);
        }
    }

    /// Marks every shown row, or clears the marks if all shown rows are marked.
    pub fn mark_all(&mut self) {
        let shown = self.view();
        if shown.iter().all(|id| self.marked.contains(id)) {
            self.marked.clear();
        } else {
            self.marked.extend(shown);
        }
        self.invalidate();
    }

    /// Clears the marks; false when there were none.
    pub fn clear_marks(&mut self) -> bool {
        let had = !self.marked.is_empty();
        self.marked.clear();
        self.invalidate();
        had
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::NewJob;
    use crate::store::Store;

    fn job(id: JobId, name: &str, state: JobState) -> Job {
        let spec = NewJob {
            url: format!("https://e.com/{name}.png"),
            name: name.into(),
            asset_type: crate::api::AssetType::Image,
            group_id: "g".into(),
            profile: crate::config::DEFAULT_PROFILE.into(),
            local: None,
            media: None,
            conform: None,
        };
        let mut j = Job::new(id, spec, jiff::Timestamp::UNIX_EPOCH);
        j.state = state;
        j
    }

    /// A list over a store holding `jobs`, drawn `rows` high.
    fn list(jobs: Vec<Job>, rows: usize) -> (JobList, Store, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jobs.db");
        let mut store = Store::open(&path, None).unwrap().store;
        store.write(&jobs, &[]).unwrap();
        let mut l = JobList::default();
        l.attach(History::open(&path, None).unwrap());
        l.prepare(ListGeometry { rows, top: 0 });
        (l, store, dir)
    }

    /// The rows a frame shows (read first, as the event loop does).
    fn shown(l: &mut JobList) -> Vec<JobId> {
        l.prepare(l.geometry());
        l.window().0.iter().map(|j| j.id).collect()
    }

    #[test]
    fn a_window_of_a_large_history_reads_only_its_rows() {
        let (mut l, _s, _d) = list((1..=10_000).map(|id| job(id, "a", JobState::Active)).collect(), 5);
        assert_eq!(shown(&mut l), [1, 2, 3, 4, 5]);
        let reads = l.reads;
        assert_eq!(shown(&mut l), [1, 2, 3, 4, 5]);
        assert_eq!(l.reads, reads, "a fresh window is not read again");
        l.move_by(7);
        assert_eq!(l.selected_job().unwrap().id, 8);
        assert_eq!(shown(&mut l), [4, 5, 6, 7, 8], "the selection stays on screen, at the bottom");
        l.move_by(-2);
        assert_eq!(shown(&mut l), [4, 5, 6, 7, 8]);
        l.jump(true);
        assert_eq!(shown(&mut l), [9996, 9997, 9998, 9999, 10_000]);
        assert_eq!(l.selected_job().unwrap().id, 10_000);
        l.move_by(100);
        assert_eq!(l.selected_job().unwrap().id, 10_000, "past the end stays at the end");
        l.select(1);
        assert_eq!(l.selected_job().unwrap().id, 9997);
        assert_eq!(l.total(), 10_000);
        assert_eq!(l.count(JobState::Active), 10_000);
    }

    #[test]
    fn writes_show_after_invalidation_and_the_selection_follows_its_job() {
        let (mut l, mut store, _d) = list((1..=10).map(|id| job(id, "a", JobState::Processing)).collect(), 4);
        l.set_state_filter(Some(StateFilter::Only(JobState::Processing)));
        l.move_by(2);
        assert_eq!(l.selected_job().unwrap().id, 3);
        store.write(&[job(3, "a", JobState::Active), job(1, "a", JobState::Active)], &[]).unwrap();
        assert_eq!(shown(&mut l), [1, 2, 3, 4], "stale until told");
        l.invalidate();
        assert_eq!(shown(&mut l), [2, 4, 5, 6]);
        assert_eq!(l.selected_job().unwrap().id, 4, "a job the filter now hides hands the selection on");
        assert_eq!((l.count(JobState::Active), l.shown()), (2, 8));
    }

    #[test]
    fn a_change_the_filter_hides_reads_only_the_counts() {
        let jobs = (1..=1000).map(|id| job(id, if id % 100 == 0 { "img" } else { "clip" }, JobState::Processing));
        let (mut l, mut store, _d) = list(jobs.collect(), 5);
        l.set_needle("img");
        assert_eq!(shown(&mut l), [100, 200, 300, 400, 500]);
        let hidden = job(7, "clip", JobState::Active);
        store.write(std::slice::from_ref(&hidden), &[]).unwrap();
        let before = l.reads;
        l.job_changed(&hidden);
        assert_eq!(shown(&mut l), [100, 200, 300, 400, 500]);
        assert_eq!(l.count(JobState::Active), 1, "the counts follow");
        assert_eq!(l.reads - before, 1, "one read of the counts, no scan");
        let now_shown = job(8, "img-now", JobState::Active);
        store.write(std::slice::from_ref(&now_shown), &[]).unwrap();
        l.job_changed(&now_shown);
        assert_eq!(shown(&mut l), [8, 100, 200, 300, 400]);
    }

    #[test]
    fn targets_are_the_shown_marks_only() {
        let (mut l, _s, _d) = list(
            (1..=4).map(|id| job(id, "a", if id <= 2 { JobState::Stuck } else { JobState::Active })).collect(),
            10,
        );
        l.mark_all();
        l.set_state_filter(Some(StateFilter::Problems));
        assert_eq!(l.targets(), [1, 2]);
        l.prepare(l.geometry());
        assert_eq!((l.marked_shown(), l.marked_total()), (2, 4));
        l.mark_all();
        assert_eq!(l.marked_total(), 0, "all shown were marked: A clears");
        l.toggle_mark();
        assert_eq!(l.targets(), [1]);
        l.set_needle("NOPE");
        assert!(l.targets().is_empty());
        assert_eq!(StateFilter::cycle(None, true), Some(StateFilter::Problems));
        assert_eq!(StateFilter::cycle(Some(StateFilter::Problems), false), None);
    }

    #[test]
    fn without_a_store_the_list_is_empty() {
        let mut l = JobList::default();
        l.move_by(3);
        l.jump(true);
        assert!(l.window().0.is_empty());
        assert_eq!(l.total(), 0);
        assert!(l.targets().is_empty());
    }
}
