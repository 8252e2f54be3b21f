//! The engine task: one loop that owns all jobs and reacts to commands,
//! request results and timers, journaling each batch of changes before
//! sending the matching updates.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::num::NonZeroU32;
use std::path::Path;
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

use super::groups::{GroupStore, check_group};
use super::job::{Job, JobId, JobState, NewJob};
use super::journal::Journal;
use super::message::{Command, Group, Level, LogLine, Stats, Update};
use super::schedule::{Learned, Schedule};
use super::timers::{Due, Timers};
use crate::api::{
    ApiError, AssetInfo, AssetStatus, Client, CreateAssetRequest, CreateGroupRequest, CreatedAsset, CreatedGroup,
};
use crate::config::{Limits, Polling};
use crate::text::sanitize;

/// Attempts at CreateAsset that surely never reached the server before the
/// job is given up as Rejected.
const CREATE_RETRY_LIMIT: u32 = 8;
/// Longest wait, at shutdown, for CreateAsset calls in flight.
const SHUTDOWN_WAIT: Duration = Duration::from_secs(10);
/// Events handled per journal flush, at most.
const BATCH: usize = 512;

/// How the engine behaves.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// Concurrency and rates.
    pub limits: Limits,
    /// Polling schedule, stuck limit and retry budget.
    pub polling: Polling,
    /// Seed for jitter, for repeatable runs.
    pub seed: Option<u64>,
}

/// What became of a [`Command::Submit`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SubmitResult {
    /// Ids of the jobs created, in the order submitted.
    pub accepted: Vec<JobId>,
    /// Items skipped as duplicates, with the existing job.
    pub duplicates: Vec<(NewJob, JobId)>,
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
    Created(JobId, Result<CreatedAsset, ApiError>),
    Polled(JobId, Result<AssetInfo, ApiError>),
    Group(String, Result<CreatedGroup, ApiError>),
}

#[derive(Default)]
struct Runtime {
    polls: u32,
    poll_failures: u32,
    create_failures: u32,
}

#[derive(Default)]
struct Counters {
    requests: AtomicU64,
    rate_limited: AtomicU64,
}

fn limiter(per_sec: u32) -> Arc<DefaultDirectRateLimiter> {
    let rate = NonZeroU32::new(per_sec.max(1)).expect("max(1) is non-zero");
    // Burst of one: requests leave evenly spaced, so a server enforcing the
    // same rate with any burst allowance never has to answer 429.
    Arc::new(RateLimiter::direct(Quota::per_second(rate).allow_burst(NonZeroU32::MIN)))
}

struct Actor {
    client: Client,
    schedule: Schedule,
    learned: Learned,
    polling: Polling,
    limits: Limits,
    jobs: BTreeMap<JobId, Job>,
    runtime: HashMap<JobId, Runtime>,
    queue: VecDeque<JobId>,
    dedup: HashMap<String, JobId>,
    timers: Timers,
    journal: Option<Journal>,
    groups: GroupStore,
    next_id: JobId,
    creating: usize,
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

/// Opens the journal and the group store and starts the engine task.
///
/// Returns the handle for commands, the stream of updates, and the task
/// (which ends after [`Command::Shutdown`] or when every handle is dropped).
pub fn start(
    client: Client,
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
    let mut actor = Actor {
        client,
        schedule: Schedule::from(&opts.polling),
        learned: Learned::default(),
        create_limiter: limiter(opts.limits.create_per_sec),
        get_limiter: limiter(opts.limits.get_per_sec),
        polling: opts.polling,
        limits: opts.limits,
        next_id: recovered.jobs.keys().next_back().map_or(1, |id| id + 1),
        jobs: recovered.jobs,
        runtime: HashMap::new(),
        queue: VecDeque::new(),
        dedup: HashMap::new(),
        timers: Timers::default(),
        journal: Some(recovered.journal),
        groups,
        creating: 0,
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
    for w in recovered.warnings {
        actor.log(Level::Warn, w);
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
            let deadline = self.stopping.unwrap_or_else(|| Instant::now() + Duration::from_secs(86_400));
            tokio::select! {
                cmd = cmds.recv(), if self.stopping.is_none() => match cmd {
                    Some((cmd, reply)) => self.on_command(cmd, reply),
                    None => self.stop(),
                },
                Some(ev) = events.recv() => self.on_event(ev),
                due = self.timers.next(), if self.stopping.is_none() => self.on_timer(due),
                _ = tick.tick() => self.stats(),
                _ = tokio::time::sleep_until(deadline), if self.stopping.is_some() => {}
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
                JobState::Queued => {
                    self.queue.push_back(id);
                    resumed += 1;
                }
                JobState::Processing => {
                    let after = self.schedule.interval(0, None, &mut self.rng);
                    self.timers.set(Due::Poll(id), after);
                    resumed += 1;
                }
                JobState::Creating => {
                    self.set_state(
                        id,
                        JobState::Uncertain,
                        Some("interrupted while creating: the outcome is unknown; retry to create it again (this may make a duplicate)".into()),
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
                    "resumed {resumed} jobs from the journal; {uncertain} interrupted while creating are Uncertain"
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
            Command::CreateGroup { name, description } => self.create_group(name, description),
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
                    "skipped `{}`: job #{} has the same group, URL and name and is {}",
                    spec.name, existing.id, existing.state
                );
                result.duplicates.push((spec, existing.id));
                self.log(Level::Warn, msg);
                continue;
            }
            let id = self.next_id;
            self.next_id += 1;
            self.jobs.insert(id, Job::new(id, spec, now));
            self.dedup.insert(key, id);
            self.queue.push_back(id);
            self.dirty.insert(id);
            result.accepted.push(id);
        }
        if !result.accepted.is_empty() {
            self.log(Level::Info, format!("queued {} imports", result.accepted.len()));
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
                self.log(Level::Warn, format!("job #{id} is being created; forget it once the outcome is known"));
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

    fn create_group(&mut self, name: String, description: Option<String>) {
        let name = name.trim().to_string();
        let description = description.map(|d| d.trim().to_string()).filter(|d| !d.is_empty());
        if let Err(error) = check_group(&name, description.as_deref()) {
            self.out.push(Update::GroupFailed { name, error });
            return;
        }
        self.spawn_request(self.create_limiter.clone(), move |client| async move {
            let r = client.create_group(&CreateGroupRequest { name: name.clone(), description }).await;
            Event::Group(name, r)
        });
    }

    fn on_timer(&mut self, due: Due) {
        match due {
            Due::Poll(id) if self.jobs.get(&id).is_some_and(|j| j.state == JobState::Processing) => {
                self.to_poll.push(id);
            }
            Due::Requeue(id) if self.jobs.get(&id).is_some_and(|j| j.state == JobState::Queued) => {
                self.queue.push_front(id);
            }
            _ => {}
        }
    }

    fn on_event(&mut self, ev: Event) {
        match ev {
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
                let group = Group { id: g.id, name: sanitize(&name) };
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

    fn on_created(&mut self, id: JobId, r: Result<CreatedAsset, ApiError>) {
        let Some(job) = self.jobs.get_mut(&id) else {
            return;
        };
        let name = job.spec.name.clone();
        match r {
            Ok(created) => {
                job.asset_id = Some(sanitize(&created.id));
                job.task_id = Some(created.task_id);
                job.processing_since = Some(Timestamp::now());
                self.runtime.insert(id, Runtime::default());
                self.set_state(id, JobState::Processing, None);
                let after = self.schedule.next_look(0, Duration::ZERO, &self.learned, None, &mut self.rng);
                self.timers.set(Due::Poll(id), after);
            }
            Err(e) if e.surely_not_processed() => {
                let rt = self.runtime.entry(id).or_default();
                rt.create_failures += 1;
                let failures = rt.create_failures;
                if failures >= CREATE_RETRY_LIMIT {
                    let msg = format!("not sent after {failures} attempts that never reached the server; last: {e}");
                    self.set_state(id, JobState::Rejected, Some(msg));
                } else {
                    let after = self.schedule.retry_delay(failures, e.retry_after(), &mut self.rng);
                    self.set_state(
                        id,
                        JobState::Queued,
                        Some(format!("will retry in {:.1}s: {e}", after.as_secs_f64())),
                    );
                    self.timers.set(Due::Requeue(id), after);
                }
            }
            Err(e @ (ApiError::Rejected { .. } | ApiError::Unauthorized { .. })) => {
                let hint = if e.code() == Some("NotFound.group_id") {
                    " — the group does not exist: create one (g in the dashboard, `groups create` in the CLI)"
                } else {
                    ""
                };
                let msg = format!("{e}{hint}");
                self.log(Level::Error, format!("job #{id} `{name}` rejected: {msg}"));
                self.set_state(id, JobState::Rejected, Some(msg));
            }
            Err(e) => {
                let msg = format!("outcome unknown ({e}); retry only if you accept a possible duplicate");
                self.log(Level::Warn, format!("job #{id} `{name}` is uncertain: {e}"));
                self.set_state(id, JobState::Uncertain, Some(msg));
            }
        }
    }

    fn on_polled(&mut self, id: JobId, r: Result<AssetInfo, ApiError>) {
        let Some(job) = self.jobs.get_mut(&id).filter(|j| j.state == JobState::Processing) else {
            return;
        };
        let rt = self.runtime.entry(id).or_default();
        match r {
            Ok(info) => {
                rt.poll_failures = 0;
                rt.polls += 1;
                let polls = rt.polls;
                match info.status {
                    AssetStatus::Active => {
                        let adapt = processing_time(&info).is_some_and(|d| self.learned.observe(d));
                        if let Some(asset) = info.id.filter(|s| !s.is_empty()) {
                            job.asset_id = Some(sanitize(&asset));
                        }
                        self.set_state(id, JobState::Active, None);
                        if adapt {
                            self.replan_polls();
                        }
                    }
                    AssetStatus::Failed => {
                        let why = info.error.unwrap_or_else(|| "processing failed (the server gave no reason)".into());
                        let msg = format!("job #{id} `{}` failed: {why}", job.spec.name);
                        self.log(Level::Error, msg);
                        self.set_state(id, JobState::Failed, Some(why));
                    }
                    status => {
                        let note = match status {
                            AssetStatus::Other(s) => Some(format!("server status `{s}`")),
                            _ => None,
                        };
                        if job.error != note {
                            job.error = note;
                            self.dirty.insert(id);
                        }
                        let since = job.processing_since.unwrap_or(job.updated_at);
                        let waited = Timestamp::now().duration_since(since).unsigned_abs();
                        if waited.as_secs_f64() > self.polling.stuck_after_secs {
                            let msg = format!("still processing after {}s; retry to keep polling", waited.as_secs());
                            self.set_state(id, JobState::Stuck, Some(msg));
                        } else {
                            let after = self.schedule.next_look(polls, waited, &self.learned, None, &mut self.rng);
                            self.timers.set(Due::Poll(id), after);
                        }
                    }
                }
            }
            Err(e) if e.is_transient() => {
                rt.poll_failures += 1;
                let failures = rt.poll_failures;
                if failures > self.polling.retry_budget {
                    self.set_state(
                        id,
                        JobState::Stuck,
                        Some(format!("GetAsset failed {failures} times in a row; last: {e}")),
                    );
                } else {
                    let after = self.schedule.retry_delay(failures, e.retry_after(), &mut self.rng);
                    self.timers.set(Due::Poll(id), after);
                }
            }
            Err(e) => {
                self.log(Level::Error, format!("job #{id}: GetAsset refused: {e}"));
                self.set_state(id, JobState::Stuck, Some(format!("GetAsset refused: {e}")));
            }
        }
    }

    /// Re-plans every waiting poll with the learned schedule (once, when it
    /// first becomes available), so jobs created before it do not wait on a
    /// schedule that knew nothing.
    fn replan_polls(&mut self) {
        let now = Timestamp::now();
        let waiting: Vec<(JobId, Timestamp)> = self
            .jobs
            .values()
            .filter(|j| j.state == JobState::Processing)
            .map(|j| (j.id, j.processing_since.unwrap_or(j.updated_at)))
            .collect();
        for (id, since) in waiting {
            let polls = self.runtime.get(&id).map_or(0, |r| r.polls);
            let elapsed = now.duration_since(since).unsigned_abs();
            let after = self.schedule.next_look(polls, elapsed, &self.learned, None, &mut self.rng);
            self.timers.set(Due::Poll(id), after);
        }
    }

    /// Moves queued jobs to Creating while slots are free.
    fn dispatch(&mut self) {
        while self.stopping.is_none() && self.creating < self.limits.max_creating {
            let Some(id) = self.queue.pop_front() else {
                break;
            };
            let Some(job) = self.jobs.get_mut(&id).filter(|j| j.state == JobState::Queued) else {
                continue;
            };
            job.create_attempts += 1;
            self.creating += 1;
            self.set_state(id, JobState::Creating, None);
            self.to_create.push(id);
        }
    }

    fn stats(&mut self) {
        let requests = self.counters.requests.load(Ordering::Relaxed);
        let stats = Stats {
            requests_per_sec: (requests - self.last_requests).min(u32::MAX as u64) as u32,
            requests,
            rate_limited: self.counters.rate_limited.load(Ordering::Relaxed),
            creating: self.creating,
        };
        self.last_requests = requests;
        if stats != self.last_stats {
            self.last_stats = stats;
            self.out.push(Update::Stats(stats));
        }
    }

    /// Journals the batch, then reports it, then starts the requests it implies.
    async fn flush(&mut self) {
        if !self.dirty.is_empty() || !self.forgotten.is_empty() {
            let snapshots: Vec<Job> =
                std::mem::take(&mut self.dirty).into_iter().filter_map(|id| self.jobs.get(&id).cloned()).collect();
            let forgotten = std::mem::take(&mut self.forgotten);
            if let Some(mut journal) = self.journal.take() {
                let (journal, result, snapshots) = tokio::task::spawn_blocking(move || {
                    let r = journal.append(&snapshots, &forgotten);
                    (journal, r, snapshots)
                })
                .await
                .expect("journal append does not panic");
                if let Err(e) = result {
                    self.log(
                        Level::Error,
                        format!(
                            "journal write to {} failed: {e}; changes are not being saved",
                            journal.path().display()
                        ),
                    );
                }
                self.journal = Some(journal);
                self.out.extend(snapshots.into_iter().map(|j| Update::Job(Box::new(j))));
            }
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

    fn spawn_create(&mut self, id: JobId) {
        let Some(job) = self.jobs.get(&id) else {
            return;
        };
        let req = CreateAssetRequest {
            group_id: job.spec.group_id.clone(),
            url: job.spec.url.clone(),
            asset_type: job.spec.asset_type,
            name: job.spec.name.clone(),
        };
        self.spawn_request(self.create_limiter.clone(), move |client| async move {
            Event::Created(id, client.create_asset(&req).await)
        });
    }

    fn spawn_poll(&mut self, id: JobId) {
        let Some(task_id) = self.jobs.get(&id).and_then(|j| j.task_id.clone()) else {
            return;
        };
        self.spawn_request(self.get_limiter.clone(), move |client| async move {
            Event::Polled(id, client.get_asset(&task_id).await)
        });
    }

    /// Sends one request in a task of its own: it waits for the action's rate
    /// limiter, is counted, and its result comes back as an event.
    fn spawn_request<F, Fut>(&mut self, limiter: Arc<DefaultDirectRateLimiter>, request: F)
    where
        F: FnOnce(Client) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = Event> + Send + 'static,
    {
        let (client, counters, events) = (self.client.clone(), self.counters.clone(), self.events.clone());
        self.tasks.spawn(async move {
            limiter.until_ready().await;
            counters.requests.fetch_add(1, Ordering::Relaxed);
            let _ = events.send(request(client).await);
        });
    }
}
