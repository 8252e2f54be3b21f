//! The job list pane: every job, the filtered view kept up to date one job
//! at a time, the selection and the marks.

use std::cell::Cell;
use std::collections::{HashMap, HashSet};

use crate::engine::{Job, JobId, JobState};

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

/// Where the list was drawn last (the draw records it; keys and the mouse use it).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ListGeometry {
    /// Data rows on screen.
    pub rows: usize,
    /// Screen row of the first data row.
    pub top: u16,
    /// First view row on screen.
    pub offset: usize,
}

/// The job list's state.
#[derive(Debug, Default)]
pub struct JobList {
    jobs: Vec<Job>,
    index: HashMap<JobId, usize>,
    counts: HashMap<JobState, usize>,
    /// Ids the list shows, in id order.
    view: Vec<JobId>,
    selected: usize,
    marked: HashSet<JobId>,
    needle: String,
    state_filter: Option<StateFilter>,
    /// Set by each draw.
    pub geometry: Cell<ListGeometry>,
    /// Jobs the filter was tested against since start (for the benchmark
    /// and the test that only the changed job is re-tested).
    pub tested: Cell<u64>,
}

impl JobList {
    /// All jobs in id order.
    pub fn jobs(&self) -> &[Job] {
        &self.jobs
    }

    /// A job by id.
    pub fn job(&self, id: JobId) -> Option<&Job> {
        self.index.get(&id).map(|&i| &self.jobs[i])
    }

    /// How many jobs are in `state`.
    pub fn count(&self, state: JobState) -> usize {
        self.counts.get(&state).copied().unwrap_or(0)
    }

    /// The ids shown, in order.
    pub fn view(&self) -> &[JobId] {
        &self.view
    }

    /// Index in the view of the selected row.
    pub fn selected(&self) -> usize {
        self.selected
    }

    /// The selected job.
    pub fn selected_job(&self) -> Option<&Job> {
        self.view.get(self.selected).and_then(|id| self.job(*id))
    }

    /// True when `id` is marked.
    pub fn is_marked(&self, id: JobId) -> bool {
        self.marked.contains(&id)
    }

    /// Marked rows that are shown.
    pub fn marked_shown(&self) -> usize {
        self.view.iter().filter(|id| self.marked.contains(id)).count()
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

    /// What an action applies to: the marked rows that are shown, or else
    /// the selected row. Marks on rows the filter hides are left alone.
    pub fn targets(&self) -> Vec<JobId> {
        let shown: Vec<JobId> = self.view.iter().copied().filter(|id| self.marked.contains(id)).collect();
        if shown.is_empty() { self.selected_job().map(|j| vec![j.id]).unwrap_or_default() } else { shown }
    }

    fn passes(&self, job: &Job) -> bool {
        self.tested.set(self.tested.get() + 1);
        if !self.state_filter.is_none_or(|f| f.admits(job.state)) {
            return false;
        }
        let n = &self.needle;
        n.is_empty()
            || job.spec.name.to_lowercase().contains(n)
            || job.spec.url.to_lowercase().contains(n)
            || job.asset_id.as_deref().is_some_and(|a| a.to_lowercase().contains(n))
            || job.error.as_deref().is_some_and(|e| e.to_lowercase().contains(n))
    }

    /// Adds or replaces a job; only this job is tested against the filter.
    pub fn upsert(&mut self, job: Job) {
        let id = job.id;
        match self.index.get(&id) {
            Some(&i) => {
                let old = self.jobs[i].state;
                if old != job.state {
                    *self.counts.entry(old).or_default() -= 1;
                    *self.counts.entry(job.state).or_default() += 1;
                }
                self.jobs[i] = job;
            }
            None => {
                *self.counts.entry(job.state).or_default() += 1;
                let pos = self.jobs.partition_point(|j| j.id < id);
                self.jobs.insert(pos, job);
                if pos + 1 == self.jobs.len() {
                    self.index.insert(id, pos);
                } else {
                    for (k, j) in self.jobs.iter().enumerate().skip(pos) {
                        self.index.insert(j.id, k);
                    }
                }
            }
        }
        self.retest(id);
    }

    /// Re-tests one job and adds it to or drops it from the view.
    fn retest(&mut self, id: JobId) {
        let passes = self.job(id).is_some_and(|j| self.passes(j));
        let pos = self.view.partition_point(|v| *v < id);
        let present = self.view.get(pos) == Some(&id);
        match (passes, present) {
            (true, false) => {
                self.view.insert(pos, id);
                if pos <= self.selected && self.view.len() > 1 {
                    self.selected += 1;
                }
            }
            (false, true) => {
                self.view.remove(pos);
                if pos < self.selected {
                    self.selected -= 1;
                }
            }
            _ => {}
        }
        self.selected = self.selected.min(self.view.len().saturating_sub(1));
    }

    /// Removes a job.
    pub fn remove(&mut self, id: JobId) -> Option<Job> {
        let i = self.index.remove(&id)?;
        let job = self.jobs.remove(i);
        *self.counts.entry(job.state).or_default() -= 1;
        self.marked.remove(&id);
        for (k, j) in self.jobs.iter().enumerate().skip(i) {
            self.index.insert(j.id, k);
        }
        let pos = self.view.partition_point(|v| *v < id);
        if self.view.get(pos) == Some(&id) {
            self.view.remove(pos);
            if pos < self.selected {
                self.selected -= 1;
            }
            self.selected = self.selected.min(self.view.len().saturating_sub(1));
        }
        Some(job)
    }

    /// Rebuilds the whole view (after the filter changed), keeping the selected job if shown.
    fn rebuild(&mut self) {
        let keep = self.selected_job().map(|j| j.id);
        let view: Vec<JobId> = self.jobs.iter().filter(|j| self.passes(j)).map(|j| j.id).collect();
        self.view = view;
        self.selected = keep
            .and_then(|id| self.view.binary_search(&id).ok())
            .unwrap_or(self.selected)
            .min(self.view.len().saturating_sub(1));
    }

    /// Sets the text filter (case-insensitive).
    pub fn set_needle(&mut self, needle: &str) {
        self.needle = needle.to_lowercase();
        self.rebuild();
    }

    /// Sets the state filter.
    pub fn set_state_filter(&mut self, f: Option<StateFilter>) {
        self.state_filter = f;
        self.rebuild();
    }

    /// Moves the selection by `delta` rows.
    pub fn move_by(&mut self, delta: i64) {
        if self.view.is_empty() {
            return;
        }
        let max = self.view.len() as i64 - 1;
        self.selected = (self.selected as i64 + delta).clamp(0, max) as usize;
    }

    /// Selects the first (`false`) or last row.
    pub fn jump(&mut self, end: bool) {
        self.selected = if end { self.view.len().saturating_sub(1) } else { 0 };
    }

    /// Selects the view row `row` if it exists.
    pub fn select(&mut self, row: usize) {
        if row < self.view.len() {
            self.selected = row;
        }
    }

    /// One page, by the rows drawn last.
    pub fn page_rows(&self) -> i64 {
        self.geometry.get().rows.max(1) as i64
    }

    /// Marks or unmarks the selected row and moves down.
    pub fn toggle_mark(&mut self) {
        if let Some(id) = self.selected_job().map(|j| j.id) {
            if !self.marked.remove(&id) {
                self.marked.insert(id);
            }
            self.move_by(1);
        }
    }

    /// Marks every shown row, or clears the marks if all shown rows are marked.
    pub fn mark_all(&mut self) {
        if self.view.iter().all(|id| self.marked.contains(id)) {
            self.marked.clear();
        } else {
            self.marked.extend(self.view.iter().copied());
        }
    }

    /// Clears the marks; false when there were none.
    pub fn clear_marks(&mut self) -> bool {
        let had = !self.marked.is_empty();
        self.marked.clear();
        had
    }

    /// The first view row to draw so that the selection is visible in
    /// `rows` rows, given the last offset.
    pub fn offset_for(&self, rows: usize) -> usize {
        let last = self.geometry.get().offset;
        let rows = rows.max(1);
        let offset = if self.selected < last {
            self.selected
        } else if self.selected >= last + rows {
            self.selected + 1 - rows
        } else {
            last
        };
        offset.min(self.view.len().saturating_sub(rows))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::NewJob;

    fn job(id: JobId, name: &str, state: JobState) -> Job {
        let spec = NewJob {
            url: format!("https://e.com/{name}.png"),
            name: name.into(),
            asset_type: crate::api::AssetType::Image,
            group_id: "g".into(),
            profile: crate::config::DEFAULT_PROFILE.into(),
            local: None,
            media: None,
        };
        let mut j = Job::new(id, spec, jiff::Timestamp::UNIX_EPOCH);
        j.state = state;
        j
    }

    #[test]
    fn a_change_re_tests_only_the_changed_job() {
        let mut l = JobList::default();
        for id in 0..1000 {
            l.upsert(job(id, if id % 2 == 0 { "img" } else { "clip" }, JobState::Active));
        }
        l.set_needle("IMG");
        assert_eq!(l.view().len(), 500);
        let before = l.tested.get();
        l.upsert(job(3, "img-now", JobState::Processing));
        assert_eq!(l.tested.get() - before, 1, "one job re-tested, not all");
        assert_eq!(l.view().len(), 501);
        l.upsert(job(4, "renamed", JobState::Active));
        assert_eq!(l.view().len(), 500);
        assert!(l.view().windows(2).all(|w| w[0] < w[1]), "the view stays in id order");
    }

    #[test]
    fn the_selection_stays_on_its_job_as_rows_come_and_go() {
        let mut l = JobList::default();
        for id in [2, 4, 6] {
            l.upsert(job(id, "a", JobState::Active));
        }
        l.jump(true);
        assert_eq!(l.selected_job().unwrap().id, 6);
        l.upsert(job(1, "a", JobState::Active));
        assert_eq!(l.selected_job().unwrap().id, 6);
        l.remove(2);
        assert_eq!(l.selected_job().unwrap().id, 6);
    }

    #[test]
    fn targets_are_the_shown_marks_only() {
        let mut l = JobList::default();
        for id in 1..=4 {
            l.upsert(job(id, "a", if id <= 2 { JobState::Stuck } else { JobState::Active }));
        }
        l.mark_all();
        l.set_state_filter(Some(StateFilter::Problems));
        assert_eq!(l.targets(), [1, 2]);
        assert_eq!((l.marked_shown(), l.marked_total()), (2, 4));
        assert_eq!(StateFilter::cycle(None, true), Some(StateFilter::Problems));
        assert_eq!(StateFilter::cycle(Some(StateFilter::Problems), false), None);
    }
}
