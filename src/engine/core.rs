//! The engine's pure core: every job in flight, the queues, the pauses and
//! every decision about them. Its inputs are commands, answers, timer
//! expiries and the current time; its outputs ([`Effects`]) are the records
//! to write, the updates to show, the requests to send and the timers to
//! set. It does no I/O: the shell ([`super::actor`]) owns the sockets, the
//! store, the rate limiters and the clock, and finished jobs are read
//! through a [`Lookup`] (the store, or a map in tests).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::time::Duration;

use jiff::Timestamp;
use rand::rngs::StdRng;

use super::capacity::Capacity;
use super::learned::kind_key;
use super::looks::{LookAt, Looks};
use super::message::{Health, Level, LogLine, Update};
use super::outcome::{CreateOutcome, PauseCause, PollOutcome, classify_create, classify_poll};
use super::reconcile::{Listing, Rules, Settlement};
use super::schedule::Schedule;
use super::timers::Due;
use crate::api::{ApiError, AssetInfo, AssetStatus, CreatedAsset};
use crate::config::{Limits, Polling};
use crate::job::{Job, JobId, JobState, NewJob};
use crate::store::StoreError;
use crate::text::sanitize;

/// Uploads retried after a transient error before the job is given up.
const UPLOAD_RETRIES: u32 = 5;
/// Shortest wait between looks at an asset of a capped profile, in seconds.
const CAPPED_WAIT_MIN: f64 = 0.25;
/// Longest wait between two probes of an unreachable server.
const PROBE_MAX: Duration = Duration::from_secs(15);
/// Assets processing per second between refits of the learned times: with
/// many processing, a second moves the fit little and a refit costs more,
/// so it runs every `processing / REFIT_PER_SEC` seconds (up to
/// [`REFIT_MAX_EVERY`]).
const REFIT_PER_SEC: usize = 1000;
/// Longest spacing of refits, in shell ticks (seconds).
const REFIT_MAX_EVERY: u64 = 5;

/// Where the core reads finished jobs (they are not kept in memory).
pub trait Lookup: Send {
    /// A job by id.
    fn job(&self, id: JobId) -> Result<Option<Job>, StoreError>;
    /// Jobs with this identity ([`Job::dedup_key`]).
    fn same_identity(&self, key: &str) -> Result<Vec<Job>, StoreError>;
    /// Up to `n` Queued jobs with ids after `after`, in id order.
    fn queued_after(&self, after: JobId, n: usize) -> Result<Vec<Job>, StoreError>;
    /// Up to `n` jobs with ids after `after` that reconcile settles
    /// (Uncertain, or Processing with an asset id and no task id).
    fn unsettled(&self, after: JobId, n: usize) -> Result<Vec<Job>, StoreError>;
    /// The ids of the jobs holding asset `asset_id`.
    fn holding(&self, asset_id: &str) -> Result<Vec<JobId>, StoreError>;
    /// The jobs of `group` named `name`.
    fn named(&self, group: &str, name: &str) -> Result<Vec<Job>, StoreError>;
}

/// What the shell lets a creation do now: take a rate-limiter permit, and
/// use the job's profile (its client exists).
pub trait Gate {
    /// Takes a permit, or says how long until one is free.
    fn permit(&mut self) -> Result<(), Duration>;
    /// Whether `profile` has a usable client, or why not.
    fn client(&self, profile: &str) -> Result<(), super::ProfileError>;
}

/// What became of a [`super::Command::Submit`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SubmitResult {
    /// Ids of the jobs created, in the order submitted.
    pub accepted: Vec<JobId>,
    /// Items skipped as duplicates, with the existing job as it is now.
    pub duplicates: Vec<(NewJob, Job)>,
    /// Why items were refused outright (job ids exhausted), if they were.
    pub refused: Option<String>,
    /// Accepted jobs whose name another job in their group has: if the
    /// answer to a creation is lost, the listing cannot tell them apart.
    pub same_name: Vec<JobId>,
}

/// What a reconcile pass made of the jobs it settled.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reconciled {
    /// Found on the server: the job is that asset.
    pub adopted: usize,
    /// Proven never created: queued to be sent again.
    pub resent: usize,
    /// Several assets could be it: left for the user to pick.
    pub ambiguous: usize,
    /// Not decided yet (the listing may still lag).
    pub waiting: usize,
}

impl Reconciled {
    /// Adds another part's counts.
    pub fn add(&mut self, o: &Reconciled) {
        self.adopted += o.adopted;
        self.resent += o.resent;
        self.ambiguous += o.ambiguous;
        self.waiting += o.waiting;
    }
}

/// A timer the shell is to set or drop.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Timer {
    /// Fire `Due` after this long (replacing the job's timer).
    Set(Due, Duration),
    /// Drop the job's timer.
    Cancel(JobId),
}

/// What the core asks of the shell; drained by it after each input.
#[derive(Debug, Default)]
pub struct Effects {
    /// Jobs whose new state must be written before anything else is done.
    pub dirty: BTreeSet<JobId>,
    /// Jobs to delete from the store.
    pub forgotten: Vec<JobId>,
    /// Updates to send, once the records are written.
    pub updates: Vec<Update>,
    /// CreateAsset to send, once the records are written (each took a
    /// permit and an in-flight slot; its Creating record is among `dirty`).
    pub to_create: Vec<JobId>,
    /// GetAsset to send.
    pub to_poll: Vec<JobId>,
    /// Uploads to start now.
    pub to_upload: Vec<JobId>,
    /// New Queued jobs to write and not keep: the queue held its window
    /// already, so they wait in the store until it has room.
    pub spilled: Vec<Job>,
    /// Timers to set or drop, in order.
    pub timers: Vec<Timer>,
    /// `Some(Some(d))`: probe the unreachable server in `d`;
    /// `Some(None)`: no probe is due any more.
    pub probe: Option<Option<Duration>>,
    /// Look at the creation queue again in this long (the rate limiter's
    /// next slot).
    pub wake: Option<Duration>,
}

#[derive(Default)]
struct Runtime {
    polls: u32,
    /// Seconds after creation of the last look that found it processing.
    seen: f64,
    /// GetAsset failures in a row that spend the retry budget (the
    /// server did not answer).
    poll_failures: u32,
    /// GetAsset refusals in a row by a server that answered (429, 5xx):
    /// they space the looks out but spend no budget.
    poll_refusals: u32,
    create_failures: u32,
    upload_failures: u32,
    /// The resume count when its upload was last started.
    upload_epoch: u64,
}

/// How the core is set up.
pub struct CoreConfig {
    /// Concurrency and rates.
    pub limits: Limits,
    /// Polling schedule, stuck limit and retry budget.
    pub polling: Polling,
    /// Treat a 503 answer to CreateAsset as "not processed".
    pub retry_503: bool,
    /// Uploads allowed at once, when a bucket is configured.
    pub upload_slots: Option<usize>,
    /// The look planner, with what was learned of processing times.
    pub looks: Looks,
    /// Queued jobs kept in memory ([`QUEUE_WINDOW`] by default); more wait
    /// in the store.
    pub queue_window: usize,
}

/// Queued jobs the engine keeps in memory: enough to keep creating at any
/// rate between two refills, few enough that a million-line import costs
/// no more memory than a thousand-line one.
pub const QUEUE_WINDOW: usize = 2048;

/// The engine's state and decisions.
pub struct Core {
    /// Jobs not yet final (and final ones until their record is written).
    pub jobs: BTreeMap<JobId, Job>,
    /// Batch-wide faults and pauses.
    pub health: Health,
    /// CreateAsset requests in flight.
    pub creating: usize,
    /// What the shell is to do next.
    pub fx: Effects,
    /// The time of the current input (set by the shell).
    pub now: Timestamp,
    lookup: Box<dyn Lookup>,
    schedule: Schedule,
    looks: Looks,
    polling: Polling,
    limits: Limits,
    retry_503: bool,
    upload_slots: Option<usize>,
    /// Resumes so far: an upload started before the last one (with the
    /// bucket settings being fixed) does not pause the uploads again.
    upload_epoch: u64,
    capacity: Capacity,
    /// Profiles at their processing cap with items waiting: their assets
    /// are looked at often, since each one seen finished frees a slot.
    capped: HashSet<String>,
    /// Jobs with a GetAsset on its way (at most one each).
    looking: HashSet<JobId>,
    runtime: HashMap<JobId, Runtime>,
    queue: VecDeque<JobId>,
    queue_window: usize,
    /// Set while Queued jobs wait in the store and not in memory: they all
    /// have ids after this one.
    spilled_after: Option<JobId>,
    /// A refill from the store failed (said once until one works).
    refill_failed: bool,
    upload_queue: VecDeque<JobId>,
    dedup: HashMap<String, JobId>,
    held_polls: Vec<JobId>,
    /// Ticks of [`Core::replan_polls`] so far (refits are spaced by load).
    refit_ticks: u64,
    next_id: Option<JobId>,
    uploading: usize,
    rng: StdRng,
    stopping: bool,
    probe_wait: Duration,
    probe_pending: bool,
    /// The rate limiter's last "not before": a probe waits for it.
    permit_wait: Option<Duration>,
}

/// Seconds since the Unix epoch.
fn unix_secs(t: Timestamp) -> f64 {
    t.as_millisecond() as f64 / 1000.0
}

/// How long the server says it took to process an Active asset.
fn processing_time(info: &AssetInfo) -> Option<Duration> {
    let created: Timestamp = info.create_time.as_deref()?.parse().ok()?;
    let updated: Timestamp = info.update_time.as_deref()?.parse().ok()?;
    let d = updated.duration_since(created);
    (!d.is_negative()).then(|| d.unsigned_abs())
}

impl Core {
    /// A core over the jobs in flight found at start.
    pub fn new(
        config: CoreConfig,
        live: BTreeMap<JobId, Job>,
        next_id: Option<JobId>,
        queued_after: Option<JobId>,
        lookup: Box<dyn Lookup>,
        rng: StdRng,
        now: Timestamp,
    ) -> Core {
        let capacity = Capacity::new(config.limits.max_processing, config.looks.caps());
        Core {
            jobs: live,
            health: Health { fixed_cap: capacity.fixed(), caps: capacity.learned(), ..Health::default() },
            creating: 0,
            fx: Effects::default(),
            now,
            lookup,
            schedule: Schedule::from(&config.polling),
            looks: config.looks,
            polling: config.polling,
            capacity,
            limits: config.limits,
            retry_503: config.retry_503,
            upload_slots: config.upload_slots,
            upload_epoch: 0,
            capped: HashSet::new(),
            looking: HashSet::new(),
            runtime: HashMap::new(),
            queue: VecDeque::new(),
            queue_window: config.queue_window.max(2),
            spilled_after: queued_after,
            refill_failed: false,
            upload_queue: VecDeque::new(),
            dedup: HashMap::new(),
            held_polls: Vec::new(),
            refit_ticks: 0,
            next_id,
            uploading: 0,
            rng,
            stopping: false,
            probe_wait: Duration::from_secs(1),
            probe_pending: false,
            permit_wait: None,
        }
    }

    /// True once [`Core::stop`] was called.
    pub fn is_stopping(&self) -> bool {
        self.stopping
    }

    /// Jobs still Uploading, Queued, Creating or Processing.
    pub fn in_flight(&self) -> usize {
        self.jobs.values().filter(|j| j.state.is_in_flight()).count()
    }

    fn set_timer(&mut self, due: Due, after: Duration) {
        self.fx.timers.push(Timer::Set(due, after));
    }

    fn cancel_timer(&mut self, id: JobId) {
        self.fx.timers.push(Timer::Cancel(id));
    }

    fn set_probe(&mut self, after: Option<Duration>) {
        self.probe_pending = after.is_some();
        self.fx.probe = Some(after);
    }

    /// Upload progress of a local file.
    pub fn upload_progress(&mut self, id: JobId, done: u64, total: u64) {
        if self.jobs.get(&id).is_some_and(|j| j.state == JobState::Uploading) {
            self.fx.updates.push(Update::Upload { id, done, total });
        }
    }

    /// Picks up the store's jobs in flight (call once, first): Queued wait again, Processing resume
    /// polling, and Creating (the outcome was lost with the process) become
    /// Uncertain.
    pub(super) fn resume(&mut self) {
        let ids: Vec<JobId> = self.jobs.keys().copied().collect();
        let (mut resumed, mut uncertain) = (0, 0);
        for id in ids {
            let job = &self.jobs[&id];
            self.dedup.insert(Job::dedup_key(&job.spec), id);
            match job.state {
                JobState::Uploading => {
                    // An interrupted upload starts again (a finished one is
                    // found by its HEAD): uploads are free to repeat.
                    self.upload_queue.push_back(id);
                    resumed += 1;
                }
                JobState::Queued => {
                    self.queue.push_back(id);
                    resumed += 1;
                }
                JobState::Processing => {
                    self.plan_look(id);
                    resumed += 1;
                }
                JobState::Creating => {
                    self.jobs.get_mut(&id).expect("listed above").may_exist = true;
                    self.set_state(
                        id,
                        JobState::Uncertain,
                        Some("interrupted while being sent: the outcome is unknown; reconcile settles it from the server's listing where there is one, else check the asset library, then retry (this may make a duplicate) or forget it".into()),
                    );
                    let name = self.jobs[&id].spec.name.clone();
                    self.log(
                        Level::Warn,
                        format!("job #{id} `{name}` was being sent when the program stopped: it is Uncertain"),
                    );
                    uncertain += 1;
                }
                _ => {}
            }
        }
        self.fx.updates.extend(
            self.jobs.values().filter(|j| !self.fx.dirty.contains(&j.id)).map(|j| Update::Job(Box::new(j.clone()))),
        );
        self.fx.updates.push(Update::Loaded);
        if resumed + uncertain > 0 {
            self.log(
                Level::Info,
                format!(
                    "resumed {resumed} jobs from the job store; {uncertain} interrupted while being sent are Uncertain"
                ),
            );
        }
    }

    pub(super) fn log(&mut self, level: Level, text: impl Into<String>) {
        let text = sanitize(&text.into());
        self.fx.updates.push(Update::Log(LogLine { time: self.now, level, text }));
    }

    pub(super) fn set_state(&mut self, id: JobId, state: JobState, error: Option<String>) {
        if let Some(job) = self.jobs.get_mut(&id) {
            job.state = state;
            job.error = error.map(|e| sanitize(&e));
            job.updated_at = self.now;
            self.fx.dirty.insert(id);
            if state != JobState::Processing {
                self.looking.remove(&id);
            }
        }
    }

    pub(super) fn stop(&mut self) {
        if !self.stopping {
            self.stopping = true;
            self.queue.clear();
            self.upload_queue.clear();
            if self.creating > 0 {
                self.log(Level::Info, format!("stopping: waiting for {} creations in flight", self.creating));
            }
        }
    }

    pub(super) fn submit(&mut self, specs: Vec<NewJob>, allow_duplicates: bool) -> SubmitResult {
        let mut result = SubmitResult::default();
        let now = self.now;
        self.refill();
        // Identities of this batch's jobs that go to the store unkept.
        let mut spilled_keys: HashMap<String, usize> = HashMap::new();
        // Group and name of this batch's jobs so far.
        let mut names: HashSet<(String, String)> = HashSet::new();
        for spec in specs {
            let key = Job::dedup_key(&spec);
            let existing = match spilled_keys.get(&key) {
                _ if allow_duplicates => Ok(None),
                Some(&k) => Ok(Some(self.fx.spilled[k].clone())),
                None => self.same_identity(&key),
            };
            // Jobs of the same group and name: an asset brought in by sync
            // (whose source is unknown) is taken for this item; any other
            // makes the name ambiguous to reconcile.
            let named = match existing {
                Ok(None) if !allow_duplicates => self.lookup.named(&spec.group_id, &spec.name),
                _ => Ok(Vec::new()),
            };
            let named: Vec<Job> = match named {
                Ok(named) => named.into_iter().filter(|j| !self.fx.forgotten.contains(&j.id)).collect(),
                Err(e) => {
                    self.log(Level::Warn, format!("cannot check the job store for names: {e}"));
                    Vec::new()
                }
            };
            let synced = named
                .iter()
                .find(|j| {
                    j.synced
                        && j.spec.asset_type == spec.asset_type
                        && matches!(j.state, JobState::Active | JobState::Processing)
                })
                .cloned();
            let existing = match existing.map(|e| e.or(synced)) {
                Ok(existing) => existing,
                Err(e) => {
                    let why = format!("cannot check the job store for duplicates: {e}");
                    self.log(Level::Error, format!("not imported: {why}"));
                    result.refused = Some(why);
                    break;
                }
            };
            if let Some(existing) = existing {
                let same = if existing.synced {
                    "name (synced from the server)"
                } else if spec.local.is_some() {
                    "content"
                } else {
                    "URL and name"
                };
                let msg = format!(
                    "`{}` exists already: job #{} has the same group and {same} and is {}; nothing new was created",
                    spec.name, existing.id, existing.state
                );
                result.duplicates.push((spec, existing));
                self.log(Level::Info, msg);
                continue;
            }
            let Some(id) = self.next_id else {
                let why = "the job store has used every job id; forget old jobs or start a new --data-dir".to_string();
                self.log(Level::Error, format!("not imported: {why}"));
                result.refused = Some(why);
                break;
            };
            self.next_id = id.checked_add(1);
            let batch_name = (spec.group_id.clone(), spec.name.clone());
            if named.iter().any(|j| j.state != JobState::Rejected) || !names.insert(batch_name) {
                result.same_name.push(id);
            }
            let local = spec.local.is_some();
            let mut job = Job::new(id, spec, now);
            result.accepted.push(id);
            if local {
                job.state = JobState::Uploading;
                self.upload_queue.push_back(id);
            } else if self.spilled_after.is_some() || self.queue.len() >= self.queue_window {
                self.spilled_after.get_or_insert(id - 1);
                spilled_keys.insert(key, self.fx.spilled.len());
                self.fx.spilled.push(job);
                continue;
            } else {
                self.queue.push_back(id);
            }
            self.jobs.insert(id, job);
            self.dedup.insert(key, id);
            self.fx.dirty.insert(id);
        }
        if !result.accepted.is_empty() {
            let n = result.accepted.len();
            self.log(Level::Info, format!("queued {}", crate::text::plural(n, "import")));
        }
        if !result.same_name.is_empty() {
            let n = result.same_name.len();
            let named = |id: &JobId| {
                let job = self.jobs.get(id).or_else(|| self.fx.spilled.iter().find(|j| j.id == *id));
                job.map_or_else(|| format!("#{id}"), |j| format!("#{id} `{}`", j.spec.name))
            };
            let some: Vec<String> = result.same_name.iter().take(3).map(named).collect();
            let more = if n > 3 { format!(" and {} more", n - 3) } else { String::new() };
            let who =
                if n == 1 { format!("job {} has", some[0]) } else { format!("jobs {}{more} have", some.join(", ")) };
            self.log(
                Level::Warn,
                format!(
                    "{who} a name another job in their group has: should an answer be lost, the server's listing cannot tell them apart (give each its own name)"
                ),
            );
        }
        result
    }

    /// The job in flight, Active or Uncertain that has this identity (in
    /// memory, or finished in the store), if any.
    fn same_identity(&self, key: &str) -> Result<Option<Job>, StoreError> {
        let blocks = |j: &Job| j.state.is_in_flight() || matches!(j.state, JobState::Active | JobState::Uncertain);
        if let Some(j) = self.dedup.get(key).and_then(|id| self.jobs.get(id)).filter(|j| blocks(j)) {
            return Ok(Some(j.clone()));
        }
        let stored = self.lookup.same_identity(key)?;
        Ok(stored
            .into_iter()
            .filter(|j| !self.fx.forgotten.contains(&j.id))
            .map(|j| self.jobs.get(&j.id).cloned().unwrap_or(j))
            .find(|j| blocks(j)))
    }

    pub(super) fn retry(&mut self, id: JobId) {
        if self.fetch(id).is_none() {
            return;
        }
        let Some(job) = self.jobs.get_mut(&id) else {
            return;
        };
        match job.state {
            JobState::Stuck if job.task_id.is_some() => {
                job.processing_since = Some(self.now);
                self.runtime.insert(id, Runtime::default());
                self.set_state(id, JobState::Processing, None);
                // Asked for by a person about a job long past any plan:
                // the first look comes soon, the plan follows.
                let after = self.schedule.interval(0, None, &mut self.rng);
                self.set_timer(Due::Poll(id), after);
                self.log(Level::Info, format!("job #{id}: polling again"));
            }
            JobState::Failed | JobState::Rejected | JobState::Uncertain | JobState::Stuck => {
                let was = job.state;
                job.asset_id = None;
                job.task_id = None;
                job.processing_since = None;
                self.runtime.insert(id, Runtime::default());
                // A local file is uploaded again (its HEAD finds it if it is
                // there): the bucket may have dropped it since.
                if job.spec.local.is_some() {
                    self.set_state(id, JobState::Uploading, None);
                    self.upload_queue.push_back(id);
                    self.log(Level::Info, format!("job #{id}: {was} → uploading, then created again"));
                    return;
                }
                self.set_state(id, JobState::Queued, None);
                self.queue.push_back(id);
                self.log(Level::Info, format!("job #{id}: {was} → queued to create again"));
            }
            other => self.log(Level::Warn, format!("job #{id} is {other}; nothing to retry")),
        }
    }

    pub(super) fn forget(&mut self, id: JobId) {
        match self.fetch(id).map(|j| j.state) {
            None => {}
            Some(JobState::Creating) => {
                self.log(Level::Warn, format!("job #{id} is being sent; forget it once the outcome is known"));
            }
            Some(_) => {
                let job = self.jobs.remove(&id).expect("checked above");
                if job.state == JobState::Queued {
                    // Its place in the queue would count against the window.
                    self.queue.retain(|q| *q != id);
                }
                let key = Job::dedup_key(&job.spec);
                if self.dedup.get(&key) == Some(&id) {
                    self.dedup.remove(&key);
                }
                self.runtime.remove(&id);
                self.looking.remove(&id);
                self.cancel_timer(id);
                self.fx.dirty.remove(&id);
                self.fx.forgotten.push(id);
                self.fx.updates.push(Update::Removed(id));
            }
        }
    }

    pub(super) fn restore(&mut self, jobs: Vec<Job>) {
        let mut n = 0;
        let mut restored_processing = Vec::new();
        for mut job in jobs {
            let id = job.id;
            let pending_forget = self.fx.forgotten.contains(&id);
            let stored = !pending_forget && self.lookup.job(id).ok().flatten().is_some();
            if self.jobs.contains_key(&id) || stored {
                continue;
            }
            match job.state {
                JobState::Uploading => self.upload_queue.push_back(id),
                JobState::Queued => self.queue.push_back(id),
                JobState::Processing => restored_processing.push(id),
                // A forgotten job was never Creating (forget refuses it).
                JobState::Creating => job.state = JobState::Uncertain,
                _ => {}
            }
            self.dedup.insert(Job::dedup_key(&job.spec), id);
            self.fx.forgotten.retain(|f| *f != id);
            self.jobs.insert(id, job);
            self.fx.dirty.insert(id);
            n += 1;
        }
        for id in restored_processing {
            self.plan_look(id);
        }
        if n > 0 {
            self.log(Level::Info, format!("restored {}", crate::text::plural(n, "forgotten job")));
        }
    }

    /// Lifts a pause (after the key, the config or the disk was fixed):
    /// uploads, creation and polling try again.
    pub(super) fn resume_work(&mut self) {
        // Uploads try again too (a bucket that still refuses pauses them again).
        self.health.storage = None;
        self.upload_epoch += 1;
        if !std::mem::take(&mut self.health.quota).is_empty() {
            self.log(Level::Info, "resuming creation after the asset quota pause");
        }
        if self.health.paused.take().is_some() {
            self.log(Level::Info, "resuming: creation and polling continue");
        }
        self.set_probe(None);
        self.release_held_polls();
    }

    /// Puts the polls held during a pause back on the timers.
    pub(super) fn release_held_polls(&mut self) {
        for id in std::mem::take(&mut self.held_polls) {
            if self.jobs.get(&id).is_some_and(|j| j.state == JobState::Processing) {
                let after = self.schedule.retry_delay(1, None, &mut self.rng);
                self.set_timer(Due::Poll(id), after);
            }
        }
    }

    /// Pauses creation and polling for a cause every request would meet.
    pub(super) fn pause(&mut self, cause: PauseCause) {
        if self.health.paused.is_some() {
            return;
        }
        match &cause {
            PauseCause::Auth(m) => self.log(
                Level::Error,
                format!(
                    "paused: the server refused the API key ({m}); queued imports stay queued — fix the key and resume"
                ),
            ),
            PauseCause::Unreachable(m) => {
                self.log(
                    Level::Error,
                    format!("paused: the server cannot be reached ({m}); queued imports stay queued"),
                );
                self.probe_wait = Duration::from_secs(1);
                self.set_probe(Some(self.probe_wait));
            }
        }
        self.health.paused = Some(cause);
    }

    /// An answer came from the server: an unreachable pause is over.
    pub(super) fn reached_server(&mut self) {
        if matches!(self.health.paused, Some(PauseCause::Unreachable(_))) {
            self.health.paused = None;
            self.set_probe(None);
            self.log(Level::Info, "the server answers again: resuming");
            self.release_held_polls();
        }
    }

    /// While the server is unreachable: send one request that is safe to
    /// send (a queued creation, which is not sent at all if the server is
    /// still down, or a held poll) to learn whether it is back.
    pub(super) fn probe(&mut self, gate: &mut dyn Gate) {
        self.probe_pending = false;
        if !matches!(self.health.paused, Some(PauseCause::Unreachable(_))) {
            return;
        }
        self.probe_wait = (self.probe_wait * 2).min(PROBE_MAX);
        if self.health.journal.is_none() && self.dispatch_some(1, gate) > 0 {
            return;
        }
        if let Some(id) = self.held_polls.pop() {
            self.look_now(id);
            return;
        }
        if let Some(wait) = self.permit_wait {
            self.set_probe(Some(wait));
        } else {
            // Nothing left to send: nothing to wait for either.
            self.health.paused = None;
        }
    }

    /// Schedules the next probe after an answer that says the server is still down.
    pub(super) fn still_unreachable(&mut self) {
        if matches!(self.health.paused, Some(PauseCause::Unreachable(_))) && !self.probe_pending {
            self.set_probe(Some(self.probe_wait));
        }
    }

    pub(super) fn on_timer(&mut self, due: Due) {
        match due {
            Due::Poll(id) if self.jobs.get(&id).is_some_and(|j| j.state == JobState::Processing) => {
                if self.health.paused.is_some() {
                    self.held_polls.push(id);
                } else {
                    self.look_now(id);
                }
            }
            Due::Requeue(id) if self.jobs.get(&id).is_some_and(|j| j.state == JobState::Queued) => {
                self.queue.push_front(id);
            }
            Due::Requeue(id) if self.jobs.get(&id).is_some_and(|j| j.state == JobState::Uploading) => {
                self.upload_queue.push_front(id);
            }
            _ => {}
        }
    }

    pub(super) fn on_uploaded(&mut self, id: JobId, r: Result<crate::storage::Uploaded, crate::storage::StorageError>) {
        use crate::storage::ErrorClass;
        self.uploading = self.uploading.saturating_sub(1);
        let Some(job) = self.jobs.get(&id).filter(|j| j.state == JobState::Uploading) else {
            return;
        };
        let name = job.spec.name.clone();
        match r {
            Ok(_) => {
                self.set_state(id, JobState::Queued, None);
                self.queue.push_back(id);
                if self.health.storage.take().is_some() {
                    self.log(Level::Info, "the bucket accepts uploads again");
                }
            }
            Err(e) => match e.class() {
                ErrorClass::Retry if self.runtime.get(&id).map_or(0, |r| r.upload_failures) < UPLOAD_RETRIES => {
                    let rt = self.runtime.entry(id).or_default();
                    rt.upload_failures += 1;
                    let after = self.schedule.retry_delay(rt.upload_failures, None, &mut self.rng);
                    let note = format!("upload will retry in {:.1}s: {e}", after.as_secs_f64());
                    if let Some(j) = self.jobs.get_mut(&id) {
                        j.error = Some(sanitize(&note));
                    }
                    self.set_timer(Due::Requeue(id), after);
                }
                // Started before the last resume, with the settings being
                // fixed: it goes again, and says nothing about the new ones.
                ErrorClass::Batch if self.runtime.get(&id).map_or(0, |r| r.upload_epoch) < self.upload_epoch => {
                    self.upload_queue.push_front(id);
                }
                ErrorClass::Batch => {
                    // Every upload would fail the same way: hold them all,
                    // say it once.
                    self.upload_queue.push_front(id);
                    if self.health.storage.is_none() {
                        self.log(Level::Error, format!("uploads paused: {e}; fix [storage], then resume"));
                        self.health.storage = Some(sanitize(&e.to_string()));
                    }
                }
                _ => {
                    let msg = format!("upload failed (nothing was paid): {e}");
                    self.log(Level::Error, format!("job #{id} `{name}`: {msg}"));
                    self.set_state(id, JobState::Rejected, Some(msg));
                }
            },
        }
    }

    /// Shows and remembers the processing caps after a change.
    fn caps_moved(&mut self) {
        if self.capacity.any() {
            self.health.caps = self.capacity.learned();
            self.looks.remember_caps(self.capacity.to_remember());
        }
    }

    /// Sends a GetAsset for `id` unless one is on its way already.
    fn look_now(&mut self, id: JobId) {
        if self.looking.insert(id) {
            self.fx.to_poll.push(id);
        }
    }

    /// Starts uploads of local files while slots are free (uploads are free
    /// to repeat and never paid; they do not hold back creations).
    fn dispatch_uploads(&mut self) {
        if self.stopping || self.health.storage.is_some() || self.health.journal.is_some() {
            return;
        }
        let Some(max) = self.upload_slots else {
            for id in std::mem::take(&mut self.upload_queue) {
                let why = "local files need a bucket: add a [storage] table to the config (see config.example.toml)";
                self.set_state(id, JobState::Rejected, Some(why.into()));
            }
            return;
        };
        while self.uploading < max {
            let Some(id) = self.upload_queue.pop_front() else {
                break;
            };
            if self.jobs.get(&id).is_some_and(|j| j.state == JobState::Uploading && j.spec.local.is_some()) {
                self.uploading += 1;
                self.runtime.entry(id).or_default().upload_epoch = self.upload_epoch;
                self.fx.to_upload.push(id);
            }
        }
    }

    pub(super) fn on_created(&mut self, id: JobId, r: Result<CreatedAsset, ApiError>) {
        self.creating = self.creating.saturating_sub(1);
        let outcome = classify_create(r, self.retry_503);
        if !matches!(outcome, CreateOutcome::Pause(PauseCause::Unreachable(_))) {
            self.reached_server();
        }
        let Some(job) = self.jobs.get_mut(&id) else {
            return;
        };
        let name = job.spec.name.clone();
        let profile = job.spec.profile.clone();
        match outcome {
            CreateOutcome::Created { asset_id, task_id } => {
                job.asset_id = Some(sanitize(&asset_id));
                job.task_id = Some(task_id);
                job.processing_since = Some(self.now);
                job.may_exist = false;
                job.sent_at = None;
                self.capacity.accepted(&profile);
                self.caps_moved();
                self.runtime.insert(id, Runtime::default());
                self.set_state(id, JobState::Processing, None);
                self.plan_look(id);
            }
            CreateOutcome::Requeue { retry_after, reason } => {
                let rt = self.runtime.entry(id).or_default();
                rt.create_failures += 1;
                let after = self.schedule.retry_delay(rt.create_failures, retry_after, &mut self.rng);
                self.set_state(
                    id,
                    JobState::Queued,
                    Some(format!("will retry in {:.1}s: {reason}", after.as_secs_f64())),
                );
                self.set_timer(Due::Requeue(id), after);
            }
            CreateOutcome::AtCapacity { retry_after, reason } => {
                let level = self.processing_of(&profile);
                let before = self.capacity.cap(&profile);
                let cap = self.capacity.refused(&profile, level);
                self.caps_moved();
                if before != Some(cap) {
                    self.log(
                        Level::Warn,
                        format!(
                            "profile `{profile}`: the server refused a creation with {level} processing ({reason}); at most {cap} at once from now on, probing upward slowly"
                        ),
                    );
                }
                let rt = self.runtime.entry(id).or_default();
                rt.create_failures += 1;
                let failures = rt.create_failures;
                self.set_state(id, JobState::Queued, Some(format!("waiting: {cap} creations processing at once")));
                if level == 0 || retry_after.is_some() {
                    // No finishing asset will free a slot: wait a while.
                    let after = self.schedule.retry_delay(failures, retry_after, &mut self.rng);
                    self.set_timer(Due::Requeue(id), after);
                } else {
                    self.queue.push_front(id);
                }
            }
            CreateOutcome::QuotaFull { reason } => {
                self.set_state(
                    id,
                    JobState::Queued,
                    Some(format!("waiting: the account's asset quota is full ({reason})")),
                );
                self.queue.push_front(id);
                if !self.health.quota.contains_key(&profile) {
                    self.log(Level::Error, super::message::quota_message(&profile, &reason));
                    self.health.quota.insert(profile, sanitize(&reason));
                }
            }
            CreateOutcome::Pause(cause) => {
                let unreachable = matches!(cause, PauseCause::Unreachable(_));
                self.set_state(id, JobState::Queued, None);
                self.queue.push_front(id);
                self.pause(cause);
                if unreachable {
                    self.still_unreachable();
                }
            }
            CreateOutcome::Rejected { reason, maybe_processed } => {
                job.may_exist = maybe_processed;
                let note = if maybe_processed {
                    format!("{reason} (the answer also said success: the asset may exist; retry may duplicate)")
                } else {
                    reason
                };
                self.log(Level::Error, format!("job #{id} `{name}` rejected: {note}"));
                self.set_state(id, JobState::Rejected, Some(note));
            }
            CreateOutcome::Uncertain { reason } => {
                job.may_exist = true;
                let msg = format!(
                    "outcome unknown ({reason}); reconcile settles it from the server's listing where there is one, else check the asset library, then retry (may duplicate) or forget"
                );
                self.log(Level::Warn, format!("job #{id} `{name}` is uncertain: {reason}"));
                self.set_state(id, JobState::Uncertain, Some(msg));
            }
        }
    }

    pub(super) fn on_polled(&mut self, id: JobId, r: Result<AssetInfo, ApiError>) {
        self.looking.remove(&id);
        let outcome = classify_poll(r);
        if !matches!(outcome, PollOutcome::Pause(PauseCause::Unreachable(_))) {
            self.reached_server();
        }
        let Some(job) = self.jobs.get_mut(&id).filter(|j| j.state == JobState::Processing) else {
            return;
        };
        let rt = self.runtime.entry(id).or_default();
        match outcome {
            PollOutcome::Info(info) => {
                rt.poll_failures = 0;
                rt.poll_refusals = 0;
                rt.polls += 1;
                match info.status {
                    AssetStatus::Active => {
                        if let Some(took) = processing_time(&info) {
                            let kind = kind_key(job.spec.asset_type, &job.spec.profile);
                            self.looks.observe(&kind, took, unix_secs(job.processing_started()));
                        }
                        if let Some(asset) = info.id.filter(|s| !s.is_empty()) {
                            job.asset_id = Some(sanitize(&asset));
                        }
                        self.set_state(id, JobState::Active, None);
                    }
                    AssetStatus::Failed => {
                        let why = info.error.unwrap_or_else(|| "processing failed (the server gave no reason)".into());
                        let msg = format!("job #{id} `{}` failed: {why}", job.spec.name);
                        self.log(Level::Error, msg);
                        self.set_state(id, JobState::Failed, Some(why));
                    }
                    status => {
                        let note = match status {
                            AssetStatus::Other(s) => Some(sanitize(&format!("server status `{s}`"))),
                            _ => None,
                        };
                        if job.error != note {
                            job.error = note;
                            self.fx.dirty.insert(id);
                        }
                        let since = job.processing_started();
                        let waited = self.now.duration_since(since).unsigned_abs();
                        rt.seen = waited.as_secs_f64();
                        if waited.as_secs_f64() > self.polling.stuck_after_secs {
                            let msg = format!("still processing after {}s; retry to keep polling", waited.as_secs());
                            let kind = kind_key(job.spec.asset_type, &job.spec.profile);
                            self.looks.gave_up(&kind, waited.as_secs_f64(), unix_secs(since));
                            self.set_state(id, JobState::Stuck, Some(msg));
                        } else {
                            self.plan_look(id);
                        }
                    }
                }
            }
            PollOutcome::Retry { retry_after, reason, answered } => {
                if answered {
                    // The server is there: the failures "in a row" start over.
                    rt.poll_failures = 0;
                    rt.poll_refusals += 1;
                } else {
                    rt.poll_failures += 1;
                }
                let (failures, tries) = (rt.poll_failures, rt.poll_failures + rt.poll_refusals);
                let since = job.processing_started();
                let waited = self.now.duration_since(since).unsigned_abs();
                if failures > self.polling.retry_budget {
                    self.set_state(
                        id,
                        JobState::Stuck,
                        Some(format!("GetAsset failed {failures} times in a row; last: {reason}")),
                    );
                } else if waited.as_secs_f64() > self.polling.stuck_after_secs {
                    let msg = format!(
                        "not seen Active after {}s (last GetAsset: {reason}); retry to keep polling",
                        waited.as_secs()
                    );
                    self.set_state(id, JobState::Stuck, Some(msg));
                } else {
                    let after = self.schedule.retry_delay(tries, retry_after, &mut self.rng);
                    self.set_timer(Due::Poll(id), after);
                }
            }
            PollOutcome::Pause(cause) => {
                let unreachable = matches!(cause, PauseCause::Unreachable(_));
                self.held_polls.push(id);
                self.pause(cause);
                if unreachable {
                    self.still_unreachable();
                }
            }
            PollOutcome::Refused(e) => {
                self.log(Level::Error, format!("job #{id}: GetAsset refused: {e}"));
                self.set_state(id, JobState::Stuck, Some(format!("GetAsset refused: {e}")));
            }
        }
    }

    /// Plans the next look at a Processing job.
    fn plan_look(&mut self, id: JobId) {
        // A job found in a listing has no task to ask GetAsset about: the
        // reconcile passes follow it.
        let Some(job) = self.jobs.get(&id).filter(|j| !self.looking.contains(&id) && j.task_id.is_some()) else {
            return;
        };
        let since = job.processing_started();
        let elapsed = self.now.duration_since(since).unsigned_abs().as_secs_f64();
        let kind = kind_key(job.spec.asset_type, &job.spec.profile);
        let (polls, last) = self.runtime.get(&id).map_or((0, 0.0), |r| (r.polls, r.seen));
        let at = LookAt { job: id, kind: &kind, last, elapsed, polls };
        let capped = self.capped.contains(&job.spec.profile);
        // Retry-After comes with errors only, which `retry_delay` paces.
        let mut after = self.looks.next(at, None, &mut self.rng);
        if capped {
            after = after.min(self.capped_wait());
        }
        self.set_timer(Due::Poll(id), after);
    }

    /// The wait between looks at an asset of a profile at its processing
    /// cap: its assets share half the GetAsset rate (a slot seen free a
    /// second late costs a second of the whole batch).
    fn capped_wait(&self) -> Duration {
        let watched: usize = self.capped.iter().filter_map(|p| self.capacity.cap(p)).sum();
        let secs = watched.max(1) as f64 / (0.5 * f64::from(self.limits.get_per_sec.max(1)));
        Duration::from_secs_f64(secs.clamp(CAPPED_WAIT_MIN, self.polling.max_interval_secs.max(CAPPED_WAIT_MIN)))
    }

    /// Records which profiles are at their cap with items waiting, and
    /// plans anew the looks of those that just got there.
    fn update_capped(&mut self, busy: &HashMap<String, usize>) {
        let now_capped: HashSet<String> = if self.queue.is_empty() {
            HashSet::new()
        } else {
            busy.iter().filter(|(p, n)| self.capacity.full(p, **n)).map(|(p, _)| p.clone()).collect()
        };
        let newly: Vec<String> = now_capped.difference(&self.capped).cloned().collect();
        self.capped = now_capped;
        if newly.is_empty() {
            return;
        }
        let ids: Vec<JobId> = self
            .jobs
            .values()
            .filter(|j| j.state == JobState::Processing && newly.contains(&j.spec.profile))
            .map(|j| j.id)
            .collect();
        for id in ids {
            self.plan_look(id);
        }
    }

    /// Estimates processing times again (with the jobs still processing as
    /// censored observations) and re-plans the waiting polls of the kinds
    /// whose estimate moved, so jobs planned with less knowledge do not wait
    /// on it. The shell calls this every second; with more than
    /// [`REFIT_PER_SEC`] assets processing it refits every few calls.
    pub fn replan_polls(&mut self) {
        let processing = self.jobs.values().filter(|j| j.state == JobState::Processing).count();
        let every = ((processing / REFIT_PER_SEC) as u64).clamp(1, REFIT_MAX_EVERY);
        self.refit_ticks += 1;
        if !self.refit_ticks.is_multiple_of(every) {
            return;
        }
        let live: Vec<(String, f64)> = self
            .jobs
            .values()
            .filter(|j| j.state == JobState::Processing)
            .filter_map(|j| {
                let seen = self.runtime.get(&j.id)?.seen;
                (seen > 0.0).then(|| (kind_key(j.spec.asset_type, &j.spec.profile), seen))
            })
            .collect();
        let moved = self.looks.refit(&live);
        if moved.is_empty() {
            return;
        }
        let waiting: Vec<JobId> = self
            .jobs
            .values()
            .filter(|j| j.state == JobState::Processing && !self.held_polls.contains(&j.id))
            .filter(|j| moved.contains(&kind_key(j.spec.asset_type, &j.spec.profile)))
            .filter(|j| !self.looking.contains(&j.id))
            .map(|j| j.id)
            .collect();
        for id in waiting {
            self.plan_look(id);
        }
    }

    /// What was learned of processing times, to save (path and bytes), if
    /// it changed since last time.
    pub fn learned_to_save(&mut self) -> Option<(std::path::PathBuf, Vec<u8>)> {
        self.looks.take_unsaved()
    }

    /// Saving what was learned failed; true when that was already said.
    pub fn learned_save_failed(&mut self) -> bool {
        self.looks.save_failed()
    }

    /// What was learned at start, for the log.
    pub fn learned_summary(&self) -> Option<String> {
        self.looks.summary()
    }

    /// Moves queued jobs to Creating while the engine is healthy, slots are
    /// free and the rate limiter lets one go.
    pub(super) fn dispatch(&mut self, gate: &mut dyn Gate) {
        self.refill();
        self.dispatch_uploads();
        if !self.stopping && self.health.creation_ok() {
            self.dispatch_some(usize::MAX, gate);
            // Sending (or passing over jobs forgotten meanwhile) may have
            // taken the queue below half its window: read on from the
            // store now, not at the next event, which may never come.
            let before = self.queue.len();
            self.refill();
            if self.queue.len() > before {
                self.dispatch_some(usize::MAX, gate);
            }
        }
    }

    /// Moves up to `max` queued jobs to Creating; each takes an in-flight
    /// slot and a rate-limiter permit now, so the Creating record written
    /// next is followed at once by the request. A job whose profile is at
    /// its processing cap, or paused by its asset quota, waits; jobs of
    /// other profiles behind it may go. Returns how many.
    fn dispatch_some(&mut self, max: usize, gate: &mut dyn Gate) -> usize {
        let constrained = self.capacity.any() || !self.health.quota.is_empty();
        let mut busy = if constrained && !self.queue.is_empty() { self.busy_by_profile() } else { HashMap::new() };
        let mut n = 0;
        while n < max && self.creating < self.limits.max_creating {
            let Some(pos) = self.sendable(constrained, &busy) else {
                break;
            };
            let id = self.queue[pos];
            if self.jobs.get(&id).is_none_or(|j| j.state != JobState::Queued) {
                self.queue.remove(pos);
                continue;
            }
            if let Err(why) = gate.client(&self.jobs[&id].spec.profile) {
                self.queue.remove(pos);
                self.log(Level::Error, format!("job #{id} not sent: {why}"));
                self.set_state(id, JobState::Rejected, Some(format!("not sent: {why}")));
                continue;
            }
            if let Err(wait) = gate.permit() {
                self.permit_wait = Some(wait);
                self.fx.wake = Some(wait);
                break;
            }
            self.permit_wait = None;
            self.queue.remove(pos);
            let job = self.jobs.get_mut(&id).expect("checked above");
            job.create_attempts += 1;
            job.sent_at = Some(self.now);
            if constrained {
                *busy.entry(job.spec.profile.clone()).or_default() += 1;
            }
            self.creating += 1;
            self.set_state(id, JobState::Creating, None);
            self.fx.to_create.push(id);
            n += 1;
        }
        if constrained {
            self.update_capped(&busy);
        }
        n
    }

    /// The queue position of the next job to send (or to drop, when it is
    /// no longer Queued): the first whose profile is not at its cap or
    /// paused (the whole queue is looked through, so a held profile never
    /// holds up another).
    fn sendable(&self, constrained: bool, busy: &HashMap<String, usize>) -> Option<usize> {
        if !constrained {
            return (!self.queue.is_empty()).then_some(0);
        }
        self.queue.iter().position(|id| {
            let Some(job) = self.jobs.get(id).filter(|j| j.state == JobState::Queued) else {
                return true;
            };
            let profile = &job.spec.profile;
            let full = self.capacity.full(profile, busy.get(profile).copied().unwrap_or(0));
            !full && !self.health.quota.contains_key(profile)
        })
    }

    /// Brings Queued jobs that wait in the store back into memory once
    /// the queue is down to half its window (reported, so followers learn
    /// of them). Not while jobs of this input wait to be written: the
    /// store is then behind, and "nothing more" could not be told.
    fn refill(&mut self) {
        let Some(after) = self.spilled_after else { return };
        if !self.fx.spilled.is_empty() || self.queue.len() >= self.queue_window / 2 {
            return;
        }
        let want = self.queue_window - self.queue.len();
        let jobs = match self.lookup.queued_after(after, want) {
            Ok(jobs) => jobs,
            Err(e) => {
                if !std::mem::replace(&mut self.refill_failed, true) {
                    self.log(Level::Error, format!("cannot read the queued jobs from the job store: {e}"));
                }
                return;
            }
        };
        self.refill_failed = false;
        self.spilled_after = if jobs.len() < want { None } else { jobs.last().map(|j| j.id) };
        for job in jobs {
            let id = job.id;
            if self.jobs.contains_key(&id) || self.fx.forgotten.contains(&id) {
                continue;
            }
            self.dedup.insert(Job::dedup_key(&job.spec), id);
            self.queue.push_back(id);
            self.fx.updates.push(Update::Job(Box::new(job.clone())));
            self.jobs.insert(id, job);
        }
    }

    /// Creations each profile has under way: Creating or Processing.
    fn busy_by_profile(&self) -> HashMap<String, usize> {
        let mut busy: HashMap<String, usize> = HashMap::new();
        for job in self.jobs.values().filter(|j| matches!(j.state, JobState::Creating | JobState::Processing)) {
            *busy.entry(job.spec.profile.clone()).or_default() += 1;
        }
        busy
    }

    /// Assets of `profile` seen processing.
    fn processing_of(&self, profile: &str) -> usize {
        self.jobs.values().filter(|j| j.state == JobState::Processing && j.spec.profile == profile).count()
    }

    /// Drops from memory the jobs a write just made final: they live on in
    /// the store (where duplicates, retries and forgets find them), so the
    /// engine's memory grows with the jobs in flight, not with the history.
    pub fn evict_finished(&mut self, written: &[Job]) {
        for job in written.iter().filter(|j| j.state.is_final()) {
            let id = job.id;
            if self.jobs.get(&id).is_some_and(|j| j.state.is_final()) && !self.fx.dirty.contains(&id) {
                self.jobs.remove(&id);
                self.runtime.remove(&id);
                self.cancel_timer(id);
                let key = Job::dedup_key(&job.spec);
                if self.dedup.get(&key) == Some(&id) {
                    self.dedup.remove(&key);
                }
            }
        }
    }

    /// Brings a job back from the store into memory (a finished one to
    /// retry it, a Queued one that waited there to act on it),
    /// or says why it cannot.
    pub(super) fn fetch(&mut self, id: JobId) -> Option<&mut Job> {
        if !self.jobs.contains_key(&id) {
            let found = match self.lookup.job(id) {
                Ok(found) => found,
                Err(e) => {
                    self.log(Level::Error, format!("job #{id}: cannot read it from the store: {e}"));
                    None
                }
            };
            let job = found?;
            if !self.fx.forgotten.contains(&id) {
                // A Queued job not in memory waited in the store: it joins
                // the queue (a refill passes over it, being in memory).
                if job.state == JobState::Queued {
                    self.dedup.insert(Job::dedup_key(&job.spec), id);
                    self.queue.push_back(id);
                }
                self.jobs.insert(id, job);
            }
        }
        self.jobs.get_mut(&id)
    }

    /// Takes back the creations of a batch that could not be journaled: no
    /// durable record says they are leaving, so they must not leave.
    pub fn unsend(&mut self) {
        for id in std::mem::take(&mut self.fx.to_create).into_iter().rev() {
            if let Some(job) = self.jobs.get_mut(&id) {
                job.state = JobState::Queued;
                job.create_attempts = job.create_attempts.saturating_sub(1);
                self.creating -= 1;
                self.queue.push_front(id);
            }
        }
    }

    /// The jobs a reconcile pass settles (see [`Lookup::unsettled`]), as
    /// they are now: memory first, then the store.
    pub fn unsettled(&mut self) -> Vec<Job> {
        /// Enough for any account (gateways cap them at 10,000 assets).
        const MOST: usize = 100_000;
        let mut out: BTreeMap<JobId, Job> = BTreeMap::new();
        let mut after = 0;
        while out.len() < MOST {
            match self.lookup.unsettled(after, 1000) {
                Ok(page) if page.is_empty() => break,
                Ok(page) => {
                    after = page.last().map_or(after, |j| j.id);
                    out.extend(page.into_iter().map(|j| (j.id, j)));
                }
                Err(e) => {
                    self.log(Level::Error, format!("reconcile: cannot read the job store: {e}"));
                    break;
                }
            }
        }
        for j in self.jobs.values() {
            if j.is_unsettled() {
                out.insert(j.id, j.clone());
            } else {
                out.remove(&j.id);
            }
        }
        out.retain(|id, _| !self.fx.forgotten.contains(id));
        out.into_values().collect()
    }

    /// Settles the jobs `ids` (of one profile, group and name) from a
    /// listing of the server's assets; returns what became of them.
    pub fn reconciled(&mut self, ids: &[JobId], listing: &Listing, rules: Rules) -> Reconciled {
        let mut done = Reconciled::default();
        // Asset ids the jobs in memory hold (the store may not have them yet).
        let mut held: HashMap<String, JobId> =
            self.jobs.values().filter_map(|j| Some((j.asset_id.clone()?, j.id))).collect();
        for &id in ids {
            let Some(job) = self.fetch(id).cloned() else { continue };
            if !job.is_unsettled() {
                continue;
            }
            let lookup = &self.lookup;
            let claimed = |asset: &str| {
                held.get(asset).is_some_and(|holder| *holder != id)
                    || lookup.holding(asset).map_or(true, |ids| ids.iter().any(|h| *h != id))
            };
            match super::reconcile::settle(&job, listing, &claimed, rules) {
                Settlement::Adopt(info) => {
                    let asset = sanitize(info.id.as_deref().unwrap_or_default());
                    held.insert(asset.clone(), id);
                    self.adopt(id, &asset, &info, job.asset_id.is_none());
                    // Found now, or followed (after a pick) to its end.
                    let moved = self.jobs.get(&id).is_some_and(|j| j.state != job.state);
                    done.adopted += usize::from(job.asset_id.is_none() || moved);
                }
                Settlement::NotCreated => {
                    let job = self.jobs.get_mut(&id).expect("fetched above");
                    job.may_exist = false;
                    job.sent_at = None;
                    let name = job.spec.name.clone();
                    let note = "the server's listing shows it was never created: sent again".to_string();
                    self.log(Level::Info, format!("job #{id} `{name}`: {note}"));
                    self.set_state(id, JobState::Queued, Some(note));
                    self.queue.push_back(id);
                    done.resent += 1;
                }
                Settlement::Ambiguous(candidates) => {
                    let note = format!(
                        "outcome unknown: {} assets named `{}` were created then ({}); pick one with `reconcile --pick {id}=ASSET`, or forget it",
                        candidates.len(),
                        job.spec.name,
                        candidates.join(", ")
                    );
                    let note = sanitize(&note);
                    if job.error.as_deref() != Some(note.as_str()) {
                        self.log(Level::Warn, format!("job #{id}: {note}"));
                        self.set_state(id, JobState::Uncertain, Some(note));
                    }
                    done.ambiguous += 1;
                }
                Settlement::Wait => done.waiting += 1,
            }
        }
        done
    }

    /// Makes job `id` the asset `asset` the listing showed (`first`: just
    /// found; else a job already following it).
    fn adopt(&mut self, id: JobId, asset: &str, info: &AssetInfo, first: bool) {
        let Some(job) = self.jobs.get_mut(&id) else { return };
        job.asset_id = Some(asset.to_string());
        job.may_exist = false;
        job.sent_at = None;
        let name = job.spec.name.clone();
        if first {
            self.log(
                Level::Info,
                format!("job #{id} `{name}`: found as {asset} in the server's listing; nothing was paid twice"),
            );
        }
        match &info.status {
            AssetStatus::Active => self.set_state(id, JobState::Active, None),
            AssetStatus::Failed => {
                let why =
                    info.error.clone().unwrap_or_else(|| "processing failed (seen in the server's listing)".into());
                self.log(Level::Error, format!("job #{id} `{name}` failed: {why}"));
                self.set_state(id, JobState::Failed, Some(why));
            }
            _ if first => {
                let job = self.jobs.get_mut(&id).expect("checked above");
                job.processing_since =
                    Some(info.create_time.as_deref().and_then(|t| t.parse().ok()).unwrap_or(self.now));
                self.set_state(id, JobState::Processing, Some("found in the server's listing; followed there".into()));
            }
            _ => {}
        }
    }

    /// Job `id`, Uncertain, is asset `asset` (the user picked it among the
    /// candidates): it is followed in the listing from now on.
    pub(super) fn pick(&mut self, id: JobId, asset: &str) {
        let asset = sanitize(asset.trim());
        match self.fetch(id).map(|j| j.state) {
            Some(JobState::Uncertain) if !asset.is_empty() => {
                let job = self.jobs.get_mut(&id).expect("fetched above");
                job.asset_id = Some(asset.clone());
                job.task_id = None;
                job.may_exist = false;
                job.processing_since = Some(self.now);
                self.set_state(
                    id,
                    JobState::Processing,
                    Some("picked by hand; followed in the server's listing".into()),
                );
                self.log(Level::Info, format!("job #{id} is {asset}, as picked"));
            }
            Some(state) => {
                self.log(Level::Warn, format!("job #{id} is {state}; only an Uncertain job can be given an asset"))
            }
            None => self.log(Level::Warn, format!("job #{id} does not exist")),
        }
    }

    /// Brings the server's assets of one profile into the store as jobs
    /// (`library sync`): those no job holds yet, marked synced. Returns
    /// `(added, known)`.
    pub(super) fn sync(&mut self, profile: &str, assets: Vec<AssetInfo>) -> (usize, usize) {
        let (mut added, mut known) = (0, 0);
        let mut held: HashSet<String> = self.jobs.values().filter_map(|j| j.asset_id.clone()).collect();
        for info in assets {
            let (Some(asset), Some(group)) = (info.id.as_deref().map(sanitize), info.group_id.as_deref()) else {
                continue;
            };
            let Some(asset_type) = info.asset_type.as_deref().and_then(|t| t.parse().ok()) else { continue };
            if held.contains(&asset) || self.lookup.holding(&asset).map_or(true, |ids| !ids.is_empty()) {
                known += 1;
                continue;
            }
            let Some(id) = self.next_id else {
                self.log(
                    Level::Error,
                    "the job store has used every job id; forget old jobs or start a new --data-dir",
                );
                break;
            };
            self.next_id = id.checked_add(1);
            let spec = NewJob {
                url: info.url.clone().filter(|u| !u.is_empty()).unwrap_or_else(|| format!("asset://{asset}")),
                name: info.name.clone().unwrap_or_default(),
                asset_type,
                group_id: group.to_string(),
                profile: profile.to_string(),
                local: None,
                media: None,
                conform: None,
            };
            let created = info.create_time.as_deref().and_then(|t| t.parse().ok()).unwrap_or(self.now);
            let mut job = Job::new(id, spec, created);
            job.asset_id = Some(asset.clone());
            job.synced = true;
            job.processing_since = Some(created);
            job.updated_at = self.now;
            job.state = match info.status {
                AssetStatus::Active => JobState::Active,
                AssetStatus::Failed => JobState::Failed,
                _ => JobState::Processing,
            };
            job.error = match job.state {
                JobState::Failed => {
                    Some(sanitize(info.error.as_deref().unwrap_or("processing failed (seen in the server's listing)")))
                }
                JobState::Processing => Some("found in the server's listing; followed there".into()),
                _ => None,
            };
            held.insert(asset);
            self.jobs.insert(id, job);
            self.fx.dirty.insert(id);
            added += 1;
        }
        (added, known)
    }

    /// Forgets the jobs holding assets deleted from the server.
    pub(super) fn assets_deleted(&mut self, assets: &[String]) {
        let mut holders: BTreeSet<JobId> = BTreeSet::new();
        for asset in assets {
            holders.extend(self.jobs.values().filter(|j| j.asset_id.as_deref() == Some(asset)).map(|j| j.id));
            match self.lookup.holding(asset) {
                Ok(ids) => holders.extend(ids),
                Err(e) => self.log(Level::Error, format!("cannot find the jobs holding {asset}: {e}")),
            }
        }
        for &id in &holders {
            self.forget(id);
        }
        if !holders.is_empty() {
            let n = crate::text::plural(holders.len(), "job");
            self.log(Level::Info, format!("forgot {n} holding assets deleted from the server"));
        }
    }
}
