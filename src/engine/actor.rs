//! The engine task: one loop that owns all jobs and reacts to commands,
//! request results and timers, journaling each batch of changes before
//! sending the matching updates.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use jiff::Timestamp;
use rand::SeedableRng;
use rand::rngs::StdRng;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::clients::Clients;
use super::groups::{GroupStore, check_group};
use super::job::{Job, JobId, JobState, NewJob};
use super::journal::Journal;
use super::learned::kind_key;
use super::looks::{LookAt, Looks};
use super::message::{Command, Group, Health, JournalFault, Level, LogLine, Stats, Update};
use super::outcome::{CreateOutcome, PauseCause, PollOutcome, classify_create, classify_poll};
use super::schedule::Schedule;
use super::timers::{Due, Timers};
use crate::api::{
    ApiError, AssetInfo, AssetStatus, Client, CreateAssetRequest, CreateGroupRequest, CreatedAsset, CreatedGroup,
};
use crate::config::{Limits, Polling};
use crate::text::sanitize;

/// Uploads retried after a transient error before the job is given up.
const UPLOAD_RETRIES: u32 = 5;
/// Longest wait between two probes of an unreachable server.
const PROBE_MAX: Duration = Duration::from_secs(15);
/// Wait between two attempts at a journal that cannot be written.
const JOURNAL_RETRY: Duration = Duration::from_secs(1);
/// Longest wait, at shutdown, for CreateAsset calls in flight.
const SHUTDOWN_WAIT: Duration = Duration::from_secs(10);
/// Events handled per journal flush, at most.
const BATCH: usize = 512;
/// How often what is learned about processing times is saved, at most.
const SAVE_LEARNED: Duration = Duration::from_secs(30);

/// How the engine behaves.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// Concurrency and rates.
    pub limits: Limits,
    /// Polling schedule, stuck limit and retry budget.
    pub polling: Polling,
    /// Seed for jitter, for repeatable runs.
    pub seed: Option<u64>,
    /// Treat a 503 answer to CreateAsset as "not processed" (`api.retry_503`).
    pub retry_503: bool,
    /// The bucket local files are uploaded to, with the number of uploads
    /// allowed at once; `None` when no `[storage]` is configured.
    pub storage: Option<(crate::storage::Storage, usize)>,
    /// Where processing times learned for polling are kept between runs
    /// (`polling.json` in the data dir); `None`: learned for this run only.
    pub polling_file: Option<PathBuf>,
}

/// What became of a [`Command::Submit`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SubmitResult {
    /// Ids of the jobs created, in the order submitted.
    pub accepted: Vec<JobId>,
    /// Items skipped as duplicates, with the existing job.
    pub duplicates: Vec<(NewJob, JobId)>,
    /// Why items were refused outright (job ids exhausted), if they were.
    pub refused: Option<String>,
}

/// The front ends' side of the engine.
#[derive(Debug, Clone)]
pub struct EngineHandle {
    tx: mpsc::UnboundedSender<(Command, Option<oneshot::Sender<SubmitResult>>)>,
}

impl EngineHandle {
    /// Sends a command; false if the engine has stopped.
    pub fn send(&self, cmd: Command) -> bool {
        self.tx.send((cmd, None)).is_ok()
    }

    /// Submits jobs and waits for the engine to accept them (journaled).
    pub async fn submit(&self, jobs: Vec<NewJob>, allow_duplicates: bool) -> Option<SubmitResult> {
        let (tx, rx) = oneshot::channel();
        self.tx.send((Command::Submit { jobs, allow_duplicates }, Some(tx))).ok()?;
        rx.await.ok()
    }
}

enum Event {
    Uploaded(JobId, Result<crate::storage::Uploaded, crate::storage::StorageError>),
    UploadProgress(JobId, crate::storage::Progress),
    Created(JobId, Result<CreatedAsset, ApiError>),
    Polled(JobId, Result<AssetInfo, ApiError>),
    Group(String, Result<CreatedGroup, ApiError>),
}

#[derive(Default)]
struct Runtime {
    polls: u32,
    /// Seconds after creation of the last look that found it processing.
    seen: f64,
    poll_failures: u32,
    create_failures: u32,
    upload_failures: u32,
}

#[derive(Default)]
struct Counters {
    requests: AtomicU64,
    rate_limited: AtomicU64,
    create_requests: AtomicU64,
}

fn limiter(per_sec: u32) -> Arc<DefaultDirectRateLimiter> {
    let rate = NonZeroU32::new(per_sec.max(1)).expect("max(1) is non-zero");
    // Burst of one: requests leave evenly spaced, so a server enforcing the
    // same rate with any burst allowance never has to answer 429.
    Arc::new(RateLimiter::direct(Quota::per_second(rate).allow_burst(NonZeroU32::MIN)))
}

struct Actor {
    clients: Clients,
    schedule: Schedule,
    looks: Looks,
    learned_saved_at: Instant,
    polling: Polling,
    limits: Limits,
    jobs: BTreeMap<JobId, Job>,
    runtime: HashMap<JobId, Runtime>,
    queue: VecDeque<JobId>,
    dedup: HashMap<String, JobId>,
    timers: Timers,
    journal: Option<Journal>,
    groups: GroupStore,
    next_id: Option<JobId>,
    creating: usize,
    retry_503: bool,
    health: Health,
    reported_health: Health,
    journal_retry_at: Option<Instant>,
    dispatch_at: Option<Instant>,
    probe_at: Option<Instant>,
    probe_wait: Duration,
    held_polls: Vec<JobId>,
    storage: Option<(crate::storage::Storage, usize)>,
    upload_queue: VecDeque<JobId>,
    uploading: usize,
    rng: StdRng,
    dirty: BTreeSet<JobId>,
    forgotten: Vec<JobId>,
    out: Vec<Update>,
    to_create: Vec<JobId>,
    to_poll: Vec<JobId>,
    replies: Vec<(oneshot::Sender<SubmitResult>, SubmitResult)>,
    updates: mpsc::UnboundedSender<Update>,
    events: mpsc::UnboundedSender<Event>,
    create_limiter: Arc<DefaultDirectRateLimiter>,
    get_limiter: Arc<DefaultDirectRateLimiter>,
    counters: Arc<Counters>,
    tasks: JoinSet<()>,
    stopping: Option<Instant>,
    last_stats: Stats,
    last_requests: u64,
}

/// How long the server says it took to process an Active asset.
fn processing_time(info: &AssetInfo) -> Option<Duration> {
    let created: Timestamp = info.create_time.as_deref()?.parse().ok()?;
    let updated: Timestamp = info.update_time.as_deref()?.parse().ok()?;
    let d = updated.duration_since(created);
    (!d.is_negative()).then(|| d.unsigned_abs())
}

/// Seconds since the Unix epoch.
fn unix_secs(t: Timestamp) -> f64 {
    t.as_millisecond() as f64 / 1000.0
}

/// Opens the journal and the group store and starts the engine task.
///
/// Returns the handle for commands, the stream of updates, and the task
/// (which ends after [`Command::Shutdown`] or when every handle is dropped).
pub fn start(
    clients: Clients,
    opts: EngineOptions,
    journal_path: &Path,
    groups_path: &Path,
) -> Result<(EngineHandle, mpsc::UnboundedReceiver<Update>, tokio::task::JoinHandle<()>), String> {
    let recovered =
        Journal::open(journal_path).map_err(|e| format!("cannot open the journal {}: {e}", journal_path.display()))?;
    let groups = GroupStore::load(groups_path)?;
    let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
    let (up_tx, up_rx) = mpsc::unbounded_channel();
    let (ev_tx, ev_rx) = mpsc::unbounded_channel();
    let rng = match opts.seed {
        Some(s) => StdRng::seed_from_u64(s),
        None => StdRng::from_os_rng(),
    };
    let (looks, looks_warning) = Looks::new(&opts.polling, opts.limits.get_per_sec, opts.polling_file);
    let mut actor = Actor {
        clients,
        schedule: Schedule::from(&opts.polling),
        looks,
        learned_saved_at: Instant::now(),
        create_limiter: limiter(opts.limits.create_per_sec),
        get_limiter: limiter(opts.limits.get_per_sec),
        polling: opts.polling,
        limits: opts.limits,
        next_id: recovered.jobs.keys().next_back().map_or(Some(1), |id| id.checked_add(1)),
        jobs: recovered.jobs,
        runtime: HashMap::new(),
        queue: VecDeque::new(),
        dedup: HashMap::new(),
        timers: Timers::default(),
        journal: Some(recovered.journal),
        groups,
        creating: 0,
        retry_503: opts.retry_503,
        health: Health::default(),
        reported_health: Health::default(),
        journal_retry_at: None,
        dispatch_at: None,
        probe_at: None,
        probe_wait: Duration::from_secs(1),
        held_polls: Vec::new(),
        storage: opts.storage,
        upload_queue: VecDeque::new(),
        uploading: 0,
        rng,
        dirty: BTreeSet::new(),
        forgotten: Vec::new(),
        out: Vec::new(),
        to_create: Vec::new(),
        to_poll: Vec::new(),
        replies: Vec::new(),
        updates: up_tx,
        events: ev_tx,
        counters: Arc::default(),
        tasks: JoinSet::new(),
        stopping: None,
        last_stats: Stats::default(),
        last_requests: 0,
    };
    for w in recovered.warnings.into_iter().chain(looks_warning) {
        actor.log(Level::Warn, w);
    }
    if let Some(learned) = actor.looks.summary() {
        actor.log(Level::Info, learned);
    }
    let task = tokio::spawn(async move { actor.run(cmd_rx, ev_rx).await });
    Ok((EngineHandle { tx: cmd_tx }, up_rx, task))
}

type CmdRx = mpsc::UnboundedReceiver<(Command, Option<oneshot::Sender<SubmitResult>>)>;

impl Actor {
    async fn run(&mut self, mut cmds: CmdRx, mut events: mpsc::UnboundedReceiver<Event>) {
        self.resume();
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            self.flush().await;
            if self.stopping.is_some() && (self.creating == 0 || self.stopping.is_some_and(|d| Instant::now() >= d)) {
                break;
            }
            let far = Instant::now() + Duration::from_secs(86_400);
            let deadline = self.stopping.unwrap_or(far);
            let running = self.stopping.is_none();
            tokio::select! {
                cmd = cmds.recv(), if running => match cmd {
                    Some((cmd, reply)) => self.on_command(cmd, reply),
                    None => self.stop(),
                },
                Some(ev) = events.recv() => self.on_event(ev),
                due = self.timers.next(), if running => self.on_timer(due),
                _ = tick.tick() => {
                    self.stats();
                    self.replan_polls();
                    self.save_learned(false).await;
                }
                _ = tokio::time::sleep_until(self.dispatch_at.unwrap_or(far)), if running && self.dispatch_at.is_some() => {
                    self.dispatch_at = None;
                }
                _ = tokio::time::sleep_until(self.probe_at.unwrap_or(far)), if running && self.probe_at.is_some() => {
                    self.probe_at = None;
                    self.probe();
                }
                _ = tokio::time::sleep_until(deadline), if !running => {}
            }
            for _ in 0..BATCH {
                match events.try_recv() {
                    Ok(ev) => self.on_event(ev),
                    Err(_) => break,
                }
            }
            while self.tasks.try_join_next().is_some() {}
            self.dispatch();
        }
        self.flush().await;
        self.save_learned(true).await;
        self.tasks.abort_all();
        let in_flight = self.jobs.values().filter(|j| j.state.is_in_flight()).count();
        let _ = self.updates.send(Update::Stopped { in_flight });
    }

    /// Picks up the journal's jobs: Queued wait again, Processing resume
    /// polling, and Creating (the outcome was lost with the process) become
    /// Uncertain.
    fn resume(&mut self) {
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
                        Some("interrupted while being sent: the outcome is unknown; check the asset library, then retry (this may make a duplicate) or forget it".into()),
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
        self.out.extend(
            self.jobs.values().filter(|j| !self.dirty.contains(&j.id)).map(|j| Update::Job(Box::new(j.clone()))),
        );
        self.out.push(Update::Loaded);
        self.out.push(Update::Groups(self.groups.groups().to_vec()));
        if resumed + uncertain > 0 {
            self.log(
                Level::Info,
                format!(
                    "resumed {resumed} jobs from the journal; {uncertain} interrupted while being sent are Uncertain"
                ),
            );
        }
        self.dispatch();
    }

    fn log(&mut self, level: Level, text: impl Into<String>) {
        let text = sanitize(&text.into());
        match level {
            Level::Info => tracing::info!("{text}"),
            Level::Warn => tracing::warn!("{text}"),
            Level::Error => tracing::error!("{text}"),
        }
        self.out.push(Update::Log(LogLine { time: Timestamp::now(), level, text }));
    }

    fn set_state(&mut self, id: JobId, state: JobState, error: Option<String>) {
        if let Some(job) = self.jobs.get_mut(&id) {
            job.state = state;
            job.error = error.map(|e| sanitize(&e));
            job.updated_at = Timestamp::now();
            self.dirty.insert(id);
        }
    }

    fn stop(&mut self) {
        if self.stopping.is_none() {
            self.stopping = Some(Instant::now() + SHUTDOWN_WAIT);
            self.queue.clear();
            self.upload_queue.clear();
            if self.creating > 0 {
                self.log(Level::Info, format!("stopping: waiting for {} creations in flight", self.creating));
            }
        }
    }

    fn on_command(&mut self, cmd: Command, reply: Option<oneshot::Sender<SubmitResult>>) {
        match cmd {
            Command::Submit { jobs, allow_duplicates } => {
                let result = self.submit(jobs, allow_duplicates);
                if let Some(tx) = reply {
                    self.replies.push((tx, result));
                }
            }
            Command::Retry(ids) => ids.into_iter().for_each(|id| self.retry(id)),
            Command::Forget(ids) => ids.into_iter().for_each(|id| self.forget(id)),
            Command::Restore(jobs) => self.restore(jobs),
            Command::CreateGroup { name, description } => self.create_group(name, description),
            Command::Resume(clients) => self.resume_work(clients),
            Command::Shutdown => self.stop(),
        }
    }

    fn submit(&mut self, specs: Vec<NewJob>, allow_duplicates: bool) -> SubmitResult {
        let mut result = SubmitResult::default();
        let now = Timestamp::now();
        for spec in specs {
            let key = Job::dedup_key(&spec);
            let existing = self
                .dedup
                .get(&key)
                .and_then(|id| self.jobs.get(id))
                .filter(|j| j.state.is_in_flight() || matches!(j.state, JobState::Active | JobState::Uncertain));
            if let (false, Some(existing)) = (allow_duplicates, existing) {
                let msg = format!(
                    "skipped `{}`: job #{} has the same group and {} and is {}",
                    spec.name,
                    existing.id,
                    if spec.local.is_some() { "content" } else { "URL and name" },
                    existing.state
                );
                result.duplicates.push((spec, existing.id));
                self.log(Level::Warn, msg);
                continue;
            }
            let Some(id) = self.next_id else {
                let why = "the journal has used every job id; forget old jobs or start a new --data-dir".to_string();
                self.log(Level::Error, format!("not imported: {why}"));
                result.refused = Some(why);
                break;
            };
            self.next_id = id.checked_add(1);
            let local = spec.local.is_some();
            let mut job = Job::new(id, spec, now);
            if local {
                job.state = JobState::Uploading;
                self.upload_queue.push_back(id);
            } else {
                self.queue.push_back(id);
            }
            self.jobs.insert(id, job);
            self.dedup.insert(key, id);
            self.dirty.insert(id);
            result.accepted.push(id);
        }
        if !result.accepted.is_empty() {
            let n = result.accepted.len();
            self.log(Level::Info, format!("queued {n} import{}", if n == 1 { "" } else { "s" }));
        }
        if !result.duplicates.is_empty() {
            self.out.push(Update::Duplicates(result.duplicates.iter().map(|(spec, _)| spec.clone()).collect()));
        }
        result
    }

    fn retry(&mut self, id: JobId) {
        let Some(job) = self.jobs.get_mut(&id) else {
            return;
        };
        match job.state {
            JobState::Stuck if job.task_id.is_some() => {
                job.processing_since = Some(Timestamp::now());
                self.runtime.insert(id, Runtime::default());
                self.set_state(id, JobState::Processing, None);
                // Asked for by a person about a job long past any plan:
                // the first look comes soon, the plan follows.
                let after = self.schedule.interval(0, None, &mut self.rng);
                self.timers.set(Due::Poll(id), after);
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

    fn forget(&mut self, id: JobId) {
        match self.jobs.get(&id).map(|j| j.state) {
            None => {}
            Some(JobState::Creating) => {
                self.log(Level::Warn, format!("job #{id} is being sent; forget it once the outcome is known"));
            }
            Some(_) => {
                let job = self.jobs.remove(&id).expect("checked above");
                let key = Job::dedup_key(&job.spec);
                if self.dedup.get(&key) == Some(&id) {
                    self.dedup.remove(&key);
                }
                self.runtime.remove(&id);
                self.timers.cancel(id);
                self.dirty.remove(&id);
                self.forgotten.push(id);
                self.out.push(Update::Removed(id));
            }
        }
    }

    fn restore(&mut self, jobs: Vec<Job>) {
        let mut n = 0;
        let mut restored_processing = Vec::new();
        for mut job in jobs {
            let id = job.id;
            if self.jobs.contains_key(&id) {
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
            self.forgotten.retain(|f| *f != id);
            self.jobs.insert(id, job);
            self.dirty.insert(id);
            n += 1;
        }
        for id in restored_processing {
            self.plan_look(id);
        }
        if n > 0 {
            self.log(Level::Info, format!("restored {n} forgotten job{}", if n == 1 { "" } else { "s" }));
        }
    }

    fn create_group(&mut self, name: String, description: Option<String>) {
        let name = name.trim().to_string();
        let description = description.map(|d| d.trim().to_string()).filter(|d| !d.is_empty());
        if let Err(error) = check_group(&name, description.as_deref()) {
            self.out.push(Update::GroupFailed { name, error });
            return;
        }
        let Some(client) = self.clients.any().cloned() else {
            let error = "no profile has a usable key".to_string();
            self.out.push(Update::GroupFailed { name, error });
            return;
        };
        self.spawn_request(client, self.create_limiter.clone(), move |client| async move {
            let r = client.create_group(&CreateGroupRequest { name: name.clone(), description }).await;
            Event::Group(name, r)
        });
    }

    /// Lifts a pause (with a new client when the key or base URL changed) and
    /// retries a failed journal write now.
    fn resume_work(&mut self, clients: Option<Clients>) {
        if let Some(c) = clients {
            self.clients = c;
        }
        self.journal_retry_at = None;
        // Uploads try again too (a bucket that still refuses pauses them again).
        self.health.storage = None;
        if self.health.paused.take().is_some() {
            self.log(Level::Info, "resuming: creation and polling continue");
        }
        self.probe_at = None;
        self.release_held_polls();
    }

    /// Puts the polls held during a pause back on the timers.
    fn release_held_polls(&mut self) {
        for id in std::mem::take(&mut self.held_polls) {
            if self.jobs.get(&id).is_some_and(|j| j.state == JobState::Processing) {
                let after = self.schedule.retry_delay(1, None, &mut self.rng);
                self.timers.set(Due::Poll(id), after);
            }
        }
    }

    /// Pauses creation and polling for a cause every request would meet.
    fn pause(&mut self, cause: PauseCause) {
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
                self.probe_at = Some(Instant::now() + self.probe_wait);
            }
        }
        self.health.paused = Some(cause);
    }

    /// An answer came from the server: an unreachable pause is over.
    fn reached_server(&mut self) {
        if matches!(self.health.paused, Some(PauseCause::Unreachable(_))) {
            self.health.paused = None;
            self.probe_at = None;
            self.log(Level::Info, "the server answers again: resuming");
            self.release_held_polls();
        }
    }

    /// While the server is unreachable: send one request that is safe to
    /// send (a queued creation, which is not sent at all if the server is
    /// still down, or a held poll) to learn whether it is back.
    fn probe(&mut self) {
        if !matches!(self.health.paused, Some(PauseCause::Unreachable(_))) {
            return;
        }
        self.probe_wait = (self.probe_wait * 2).min(PROBE_MAX);
        if self.health.journal.is_none() && self.dispatch_some(1) > 0 {
            return;
        }
        if let Some(id) = self.held_polls.pop() {
            self.to_poll.push(id);
            return;
        }
        if self.dispatch_at.is_some() {
            self.probe_at = self.dispatch_at;
        } else {
            // Nothing left to send: nothing to wait for either.
            self.health.paused = None;
        }
    }

    /// Schedules the next probe after an answer that says the server is still down.
    fn still_unreachable(&mut self) {
        if matches!(self.health.paused, Some(PauseCause::Unreachable(_))) && self.probe_at.is_none() {
            self.probe_at = Some(Instant::now() + self.probe_wait);
        }
    }

    fn on_timer(&mut self, due: Due) {
        match due {
            Due::Poll(id) if self.jobs.get(&id).is_some_and(|j| j.state == JobState::Processing) => {
                if self.health.paused.is_some() {
                    self.held_polls.push(id);
                } else {
                    self.to_poll.push(id);
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

    fn on_event(&mut self, ev: Event) {
        match ev {
            Event::UploadProgress(id, p) => {
                if self.jobs.get(&id).is_some_and(|j| j.state == JobState::Uploading) {
                    self.out.push(Update::Upload { id, done: p.done, total: p.total });
                }
            }
            Event::Uploaded(id, r) => {
                self.uploading -= 1;
                self.on_uploaded(id, r);
            }
            Event::Created(id, r) => {
                self.creating -= 1;
                if let Err(e) = &r {
                    self.count_429(e);
                }
                self.on_created(id, r);
            }
            Event::Polled(id, r) => {
                if let Err(e) = &r {
                    self.count_429(e);
                }
                self.on_polled(id, r);
            }
            Event::Group(name, Ok(g)) => {
                let group = Group { id: sanitize(&g.id), name: sanitize(&name) };
                if let Err(e) = self.groups.add(group.clone()) {
                    self.log(Level::Error, format!("group {} created but not remembered: {e}", group.id));
                }
                self.log(Level::Info, format!("created group `{}` ({})", group.name, group.id));
                self.out.push(Update::GroupCreated(group));
                self.out.push(Update::Groups(self.groups.groups().to_vec()));
            }
            Event::Group(name, Err(e)) => {
                self.log(Level::Error, format!("creating group `{name}` failed: {e}"));
                self.out.push(Update::GroupFailed { name, error: e.to_string() });
            }
        }
    }

    fn count_429(&self, e: &ApiError) {
        if matches!(e, ApiError::RateLimited { .. }) {
            self.counters.rate_limited.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn on_uploaded(&mut self, id: JobId, r: Result<crate::storage::Uploaded, crate::storage::StorageError>) {
        use crate::storage::ErrorClass;
        let Some(job) = self.jobs.get(&id).filter(|j| j.state == JobState::Uploading) else {
            return;
        };
        let name = job.spec.name.clone();
        match r {
            Ok(up) => {
                let how = if up.already_present { "already in the bucket" } else { "uploaded" };
                tracing::info!("job #{id} `{name}` {how}: {}", up.key);
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
                    self.timers.set(Due::Requeue(id), after);
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

    /// Starts uploads of local files while slots are free (uploads are free
    /// to repeat and never paid; they do not hold back creations).
    fn dispatch_uploads(&mut self) {
        if self.stopping.is_some() || self.health.storage.is_some() || self.health.journal.is_some() {
            return;
        }
        let Some((storage, max)) = self.storage.clone() else {
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
            let Some(local) =
                self.jobs.get(&id).filter(|j| j.state == JobState::Uploading).and_then(|j| j.spec.local.clone())
            else {
                continue;
            };
            let file = crate::storage::LocalFile {
                ext: local.path.extension().map(|e| e.to_string_lossy().to_lowercase()).unwrap_or_default(),
                path: local.path,
                size: local.size,
                modified: local.modified,
                sha256: local.sha256,
                key: local.key,
            };
            self.uploading += 1;
            let (storage, events) = (storage.clone(), self.events.clone());
            self.tasks.spawn(async move {
                let progress_events = events.clone();
                let r = storage.upload(&file, move |p| {
                    let _ = progress_events.send(Event::UploadProgress(id, p));
                });
                let _ = events.send(Event::Uploaded(id, r.await));
            });
        }
    }

    fn on_created(&mut self, id: JobId, r: Result<CreatedAsset, ApiError>) {
        let outcome = classify_create(r, self.retry_503);
        if !matches!(outcome, CreateOutcome::Pause(PauseCause::Unreachable(_))) {
            self.reached_server();
        }
        let Some(job) = self.jobs.get_mut(&id) else {
            return;
        };
        let name = job.spec.name.clone();
        match outcome {
            CreateOutcome::Created { asset_id, task_id } => {
                job.asset_id = Some(sanitize(&asset_id));
                job.task_id = Some(task_id);
                job.processing_since = Some(Timestamp::now());
                job.may_exist = false;
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
                self.timers.set(Due::Requeue(id), after);
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
                    "outcome unknown ({reason}); check the asset library, then retry (may duplicate) or forget"
                );
                self.log(Level::Warn, format!("job #{id} `{name}` is uncertain: {reason}"));
                self.set_state(id, JobState::Uncertain, Some(msg));
            }
        }
    }

    fn on_polled(&mut self, id: JobId, r: Result<AssetInfo, ApiError>) {
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
                rt.polls += 1;
                match info.status {
                    AssetStatus::Active => {
                        if let Some(took) = processing_time(&info) {
                            let kind = kind_key(job.spec.asset_type, &job.spec.profile);
                            self.looks.observe(&kind, took, unix_secs(job.processing_since.unwrap_or(job.updated_at)));
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
                            self.dirty.insert(id);
                        }
                        let since = job.processing_since.unwrap_or(job.updated_at);
                        let waited = Timestamp::now().duration_since(since).unsigned_abs();
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
            PollOutcome::Retry { retry_after, reason } => {
                rt.poll_failures += 1;
                let failures = rt.poll_failures;
                if failures > self.polling.retry_budget {
                    self.set_state(
                        id,
                        JobState::Stuck,
                        Some(format!("GetAsset failed {failures} times in a row; last: {reason}")),
                    );
                } else {
                    let after = self.schedule.retry_delay(failures, retry_after, &mut self.rng);
                    self.timers.set(Due::Poll(id), after);
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
        let Some(job) = self.jobs.get(&id) else {
            return;
        };
        let since = job.processing_since.unwrap_or(job.updated_at);
        let elapsed = Timestamp::now().duration_since(since).unsigned_abs().as_secs_f64();
        let kind = kind_key(job.spec.asset_type, &job.spec.profile);
        let (polls, last) = self.runtime.get(&id).map_or((0, 0.0), |r| (r.polls, r.seen));
        let at = LookAt { job: id, kind: &kind, last, elapsed, polls };
        // Retry-After comes with errors only, which `retry_delay` paces.
        let after = self.looks.next(at, None, &mut self.rng);
        self.timers.set(Due::Poll(id), after);
    }

    /// Estimates processing times again (with the jobs still processing as
    /// censored observations) and re-plans the waiting polls of the kinds
    /// whose estimate moved, so jobs planned with less knowledge do not wait
    /// on it.
    fn replan_polls(&mut self) {
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
            .filter(|j| !self.to_poll.contains(&j.id))
            .map(|j| j.id)
            .collect();
        for id in waiting {
            self.plan_look(id);
        }
    }

    /// Saves what is learned about processing times: in the background
    /// every [`SAVE_LEARNED`], and waited for at shutdown (`last`).
    async fn save_learned(&mut self, last: bool) {
        if !last && self.learned_saved_at.elapsed() < SAVE_LEARNED {
            return;
        }
        self.learned_saved_at = Instant::now();
        let Some((path, bytes)) = self.looks.take_unsaved() else {
            return;
        };
        let shown = path.display().to_string();
        let written = tokio::task::spawn_blocking(move || crate::config::atomic_write(&path, &bytes)).await;
        if let Ok(Err(e)) = written {
            // Tried again later; said once.
            if !self.looks.save_failed() {
                self.log(Level::Warn, format!("could not save the learned processing times to {shown}: {e}"));
            }
        }
    }

    /// Moves queued jobs to Creating while the engine is healthy, slots are
    /// free and the rate limiter lets one go.
    fn dispatch(&mut self) {
        self.dispatch_uploads();
        if self.stopping.is_none() && self.health.creation_ok() {
            self.dispatch_some(usize::MAX);
        }
    }

    /// Moves up to `max` queued jobs to Creating; each takes an in-flight
    /// slot and a rate-limiter permit now, so the Creating record written
    /// next is followed at once by the request. Returns how many.
    fn dispatch_some(&mut self, max: usize) -> usize {
        let mut n = 0;
        while n < max && self.creating < self.limits.max_creating {
            let Some(&id) = self.queue.front() else {
                break;
            };
            if self.jobs.get(&id).is_none_or(|j| j.state != JobState::Queued) {
                self.queue.pop_front();
                continue;
            }
            if let Err(why) = self.clients.get(&self.jobs[&id].spec.profile) {
                self.queue.pop_front();
                self.log(Level::Error, format!("job #{id} not sent: {why}"));
                self.set_state(id, JobState::Rejected, Some(format!("not sent: {why}")));
                continue;
            }
            if let Err(not_until) = self.create_limiter.check() {
                let wait =
                    not_until.wait_time_from(governor::clock::Clock::now(&governor::clock::DefaultClock::default()));
                self.dispatch_at = Some(Instant::now() + wait);
                break;
            }
            self.queue.pop_front();
            let job = self.jobs.get_mut(&id).expect("checked above");
            job.create_attempts += 1;
            self.creating += 1;
            self.set_state(id, JobState::Creating, None);
            self.to_create.push(id);
            n += 1;
        }
        n
    }

    fn stats(&mut self) {
        let requests = self.counters.requests.load(Ordering::Relaxed);
        let stats = Stats {
            requests_per_sec: (requests - self.last_requests).min(u32::MAX as u64) as u32,
            requests,
            rate_limited: self.counters.rate_limited.load(Ordering::Relaxed),
            creating: self.creating,
            create_requests: self.counters.create_requests.load(Ordering::Relaxed),
            journal_syncs: self.journal.as_ref().map_or(0, Journal::syncs),
        };
        self.last_requests = requests;
        if stats != self.last_stats {
            self.last_stats = stats;
            self.out.push(Update::Stats(stats));
        }
    }

    /// Journals the batch, then reports it, then starts the requests it
    /// implies. When the journal cannot be written, nothing of the batch is
    /// reported and no creation leaves: the jobs about to be sent go back to
    /// the queue, and the write is tried again (every second, or at once on
    /// [`Command::Resume`]).
    async fn flush(&mut self) {
        let pending = !self.dirty.is_empty() || !self.forgotten.is_empty();
        let retry_due = self.journal_retry_at.is_none_or(|at| Instant::now() >= at);
        let mut saved = !pending;
        if pending
            && retry_due
            && let Some(mut journal) = self.journal.take()
        {
            let ids = std::mem::take(&mut self.dirty);
            let snapshots: Vec<Job> = ids.iter().filter_map(|id| self.jobs.get(id).cloned()).collect();
            let forgotten = std::mem::take(&mut self.forgotten);
            let (journal, result, snapshots, forgotten) = tokio::task::spawn_blocking(move || {
                let r = journal.append(&snapshots, &forgotten);
                (journal, r, snapshots, forgotten)
            })
            .await
            .expect("journal append does not panic");
            let path = journal.path().display().to_string();
            self.journal = Some(journal);
            match result {
                Ok(()) => {
                    saved = true;
                    self.journal_retry_at = None;
                    if self.health.journal.take().is_some() {
                        self.log(Level::Info, format!("journal {path} is writable again: resuming"));
                    }
                    self.out.extend(snapshots.into_iter().map(|j| Update::Job(Box::new(j))));
                }
                Err(e) => {
                    self.dirty.extend(ids);
                    let mut all = forgotten;
                    all.append(&mut self.forgotten);
                    self.forgotten = all;
                    self.journal_retry_at = Some(Instant::now() + JOURNAL_RETRY);
                    if self.health.journal.is_none() {
                        self.log(
                            Level::Error,
                            format!("journal write to {path} failed: {e}; nothing new is sent until it can be written"),
                        );
                    }
                    self.health.journal = Some(JournalFault { path, cause: e.to_string() });
                }
            }
        }
        if !saved {
            self.unsend();
        }
        if self.health != self.reported_health {
            self.reported_health = self.health.clone();
            self.out.push(Update::Health(self.health.clone()));
        }
        for (tx, result) in self.replies.drain(..) {
            let _ = tx.send(result);
        }
        for u in self.out.drain(..) {
            let _ = self.updates.send(u);
        }
        for id in std::mem::take(&mut self.to_create) {
            self.spawn_create(id);
        }
        for id in std::mem::take(&mut self.to_poll) {
            self.spawn_poll(id);
        }
    }

    /// Takes back the creations of a batch that could not be journaled: no
    /// durable record says they are leaving, so they must not leave.
    fn unsend(&mut self) {
        for id in std::mem::take(&mut self.to_create).into_iter().rev() {
            if let Some(job) = self.jobs.get_mut(&id) {
                job.state = JobState::Queued;
                job.create_attempts = job.create_attempts.saturating_sub(1);
                self.creating -= 1;
                self.queue.push_front(id);
            }
        }
    }

    fn spawn_create(&mut self, id: JobId) {
        let Some(job) = self.jobs.get(&id) else {
            return;
        };
        // A local file goes by a URL presigned now, so it is fresh however
        // long the job waited.
        let url = match (&job.spec.local, &self.storage) {
            (Some(l), Some((storage, _))) => storage.presigned_get(&l.key).to_string(),
            _ => job.spec.url.clone(),
        };
        let req = CreateAssetRequest {
            group_id: job.spec.group_id.clone(),
            url,
            asset_type: job.spec.asset_type,
            name: job.spec.name.clone(),
        };
        // The limiter permit was taken when the job became Creating, and the
        // profile's client was checked then.
        let Ok(client) = self.clients.get(&job.spec.profile).cloned() else {
            return;
        };
        let (counters, events) = (self.counters.clone(), self.events.clone());
        self.tasks.spawn(async move {
            counters.requests.fetch_add(1, Ordering::Relaxed);
            counters.create_requests.fetch_add(1, Ordering::Relaxed);
            let _ = events.send(Event::Created(id, client.create_asset(&req).await));
        });
    }

    fn spawn_poll(&mut self, id: JobId) {
        let Some(job) = self.jobs.get(&id) else {
            return;
        };
        let Some(task_id) = job.task_id.clone() else {
            return;
        };
        let client = match self.clients.get(&job.spec.profile) {
            Ok(c) => c.clone(),
            Err(why) => {
                self.log(Level::Error, format!("job #{id} not polled: {why}"));
                self.set_state(id, JobState::Stuck, Some(format!("not polled: {why}")));
                return;
            }
        };
        self.spawn_request(client, self.get_limiter.clone(), move |client| async move {
            Event::Polled(id, client.get_asset(&task_id).await)
        });
    }

    /// Sends one request in a task of its own: it waits for the action's rate
    /// limiter, is counted, and its result comes back as an event.
    fn spawn_request<F, Fut>(&mut self, client: Client, limiter: Arc<DefaultDirectRateLimiter>, request: F)
    where
        F: FnOnce(Client) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = Event> + Send + 'static,
    {
        let (counters, events) = (self.counters.clone(), self.events.clone());
        self.tasks.spawn(async move {
            limiter.until_ready().await;
            counters.requests.fetch_add(1, Ordering::Relaxed);
            let _ = events.send(request(client).await);
        });
    }
}
