//! The engine's shell: one task that owns the sockets, the job store, the
//! rate limiters and the timers, feeds commands, answers and timer expiries
//! to the pure [`Core`], and carries out what it asks — writing each batch
//! of records before sending the matching updates and requests.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use jiff::Timestamp;
use rand::SeedableRng;
use rand::rngs::StdRng;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinSet;
use tokio::time::Instant;

use super::clients::Clients;
use super::core::{Core, CoreConfig, Gate, Lookup, SubmitResult, Timer};
use super::error::GroupStoreError;
use super::groups::{GroupStore, validate_group};
use super::looks::Looks;
use super::message::{Command, Group, JournalFault, Level, ReconcileReport, Stats, Update};
use super::pacer::Pacer;
use super::reconcile::{Listing, Rules};
use super::timers::Timers;
use crate::api::{
    ApiError, AssetInfo, Client, CreateAssetRequest, CreateGroupRequest, CreatedAsset, CreatedGroup, LibraryError,
};
use crate::config::{Limits, Polling};
use crate::job::{Job, JobId, JobState, NewJob};
use crate::store::{History, Store, StoreError};
use crate::text::sanitize;

/// Wait between two attempts at a store that cannot be written.
const JOURNAL_RETRY: Duration = Duration::from_secs(1);
/// Shortest time between two writes of answers (Processing, Active …) to
/// the job store: answers that come closer together share one write. A
/// write that lets a creation go, records a forget, or answers a
/// submission is never held.
const WRITE_GAP: Duration = Duration::from_millis(25);
/// Longest wait, at shutdown, for CreateAsset calls in flight.
const SHUTDOWN_WAIT: Duration = Duration::from_secs(10);
/// Events handled per store write, at most.
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
    pub polling_file: Option<std::path::PathBuf>,
    /// Settling Uncertain jobs from the server's listing.
    pub reconcile: crate::config::Reconcile,
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
    /// A reconcile listing of one profile's group and name, for these jobs.
    Listed(Vec<JobId>, String, Result<Listing, LibraryError>),
}

/// A reconcile pass under way.
struct Pass {
    /// Listings not yet answered.
    outstanding: usize,
    report: ReconcileReport,
}

#[derive(Default)]
struct Counters {
    requests: AtomicU64,
    rate_limited: AtomicU64,
    create_requests: AtomicU64,
}

/// The shell's side of [`Gate`]: the CreateAsset pacer and the clients.
struct ShellGate<'a> {
    limiter: &'a Pacer,
    clients: &'a Clients,
}

impl Gate for ShellGate<'_> {
    fn permit(&mut self) -> Result<(), Duration> {
        self.limiter.check()
    }

    fn client(&self, profile: &str) -> Result<(), super::ProfileError> {
        self.clients.get(profile).map(|_| ())
    }
}

impl Lookup for History {
    fn job(&self, id: JobId) -> Result<Option<Job>, StoreError> {
        self.get(id)
    }

    fn same_identity(&self, key: &str) -> Result<Vec<Job>, StoreError> {
        History::same_identity(self, key)
    }

    fn queued_after(&self, after: JobId, n: usize) -> Result<Vec<Job>, StoreError> {
        let queued = crate::store::Filter { states: vec![JobState::Queued], ..crate::store::Filter::default() };
        self.page(&queued, Some(after), true, n)
    }

    fn unsettled(&self, after: JobId, n: usize) -> Result<Vec<Job>, StoreError> {
        History::unsettled(self, after, n)
    }

    fn holding(&self, asset_id: &str) -> Result<Vec<JobId>, StoreError> {
        History::holding(self, asset_id)
    }

    fn named(&self, group: &str, name: &str) -> Result<Vec<Job>, StoreError> {
        History::named(self, group, name)
    }
}

struct Actor {
    core: Core,
    clients: Clients,
    /// The job store; `None` only while a write is under way.
    store: Option<Store>,
    groups: GroupStore,
    timers: Timers,
    storage: Option<crate::storage::Storage>,
    journal_retry_at: Option<Instant>,
    /// When the store was last written.
    written_at: Instant,
    /// A write held back to share it with the next answers, due then.
    write_at: Option<Instant>,
    dispatch_at: Option<Instant>,
    probe_at: Option<Instant>,
    stopping: Option<Instant>,
    reported_health: super::message::Health,
    replies: Vec<(oneshot::Sender<SubmitResult>, SubmitResult)>,
    updates: mpsc::UnboundedSender<Update>,
    events: mpsc::UnboundedSender<Event>,
    create_limiter: Arc<Pacer>,
    get_pacer: Pacer,
    /// GetAsset waiting for a slot of `get_pacer`, in order (no task waits).
    poll_queue: VecDeque<JobId>,
    /// When the next GetAsset slot is free, while some wait.
    poll_at: Option<Instant>,
    counters: Arc<Counters>,
    tasks: JoinSet<()>,
    last_stats: Stats,
    last_requests: u64,
    learned_saved_at: Instant,
    rules: Rules,
    /// Between automatic reconcile passes (`None`: only when asked).
    auto_every: Option<Duration>,
    next_pass: Instant,
    pass: Option<Pass>,
    /// A pass was asked for while another ran: it runs when that one ends.
    asked_again: bool,
    /// Paces the listings (the upstream allows 30 a second).
    library_pacer: Arc<Pacer>,
    /// Profiles already said to have no listing.
    no_listing_said: std::collections::HashSet<String>,
}

/// Listings per second reconcile sends, at most.
const LISTINGS_PER_SEC: u32 = 10;

/// Why the engine could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The job store could not be opened (or another process owns it).
    #[error("cannot open the job store: {0}")]
    Store(#[from] StoreError),
    /// The remembered groups could not be read.
    #[error(transparent)]
    Groups(#[from] GroupStoreError),
}

impl StartError {
    /// True when another process owns the store (it can be watched instead).
    pub fn is_busy(&self) -> bool {
        matches!(self, StartError::Store(StoreError::Busy { .. }))
    }
}

/// Where the engine keeps its files.
#[derive(Debug, Clone)]
pub struct EngineFiles {
    /// The job store (`jobs.db`).
    pub store: std::path::PathBuf,
    /// The JSON-lines journal of earlier releases, migrated once if present.
    pub legacy_journal: Option<std::path::PathBuf>,
    /// The groups created from this program.
    pub groups: std::path::PathBuf,
}

impl EngineFiles {
    /// The engine's files in the data dir `dir` (an old journal there is
    /// migrated at start).
    pub fn in_data_dir(dir: &std::path::Path) -> EngineFiles {
        use crate::config::{GROUPS_FILE, LEGACY_JOURNAL_FILE, STORE_FILE};
        EngineFiles {
            store: dir.join(STORE_FILE),
            legacy_journal: Some(dir.join(LEGACY_JOURNAL_FILE)),
            groups: dir.join(GROUPS_FILE),
        }
    }
}

/// Opens the job store and the group store and starts the engine task.
///
/// Returns the handle for commands, the stream of updates, and the task
/// (which ends after [`Command::Shutdown`] or when every handle is dropped).
pub fn start(
    clients: Clients,
    opts: EngineOptions,
    files: &EngineFiles,
) -> Result<(EngineHandle, mpsc::UnboundedReceiver<Update>, tokio::task::JoinHandle<()>), StartError> {
    let recovered = Store::open(&files.store, files.legacy_journal.as_deref())?;
    let lookup = History::open(&files.store, None)?;
    let groups = GroupStore::open(&files.groups)?;
    let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
    let (up_tx, up_rx) = mpsc::unbounded_channel();
    let (ev_tx, ev_rx) = mpsc::unbounded_channel();
    let rng = match opts.seed {
        Some(s) => StdRng::seed_from_u64(s),
        None => StdRng::from_os_rng(),
    };
    let (looks, looks_warning) = Looks::new(&opts.polling, opts.limits.get_per_sec, opts.polling_file.clone());
    let config = CoreConfig {
        limits: opts.limits.clone(),
        polling: opts.polling.clone(),
        retry_503: opts.retry_503,
        upload_slots: opts.storage.as_ref().map(|(_, n)| *n),
        looks,
        queue_window: super::core::QUEUE_WINDOW,
    };
    let (live, next_id, after) = (recovered.live, recovered.next_id, recovered.queued_after);
    let core = Core::new(config, live, next_id, after, Box::new(lookup), rng, Timestamp::now());
    let mut actor = Actor {
        core,
        clients,
        store: Some(recovered.store),
        groups,
        timers: Timers::default(),
        storage: opts.storage.map(|(s, _)| s),
        journal_retry_at: None,
        written_at: Instant::now(),
        write_at: None,
        dispatch_at: None,
        probe_at: None,
        stopping: None,
        reported_health: super::message::Health::default(),
        replies: Vec::new(),
        updates: up_tx,
        events: ev_tx,
        create_limiter: Arc::new(Pacer::new(opts.limits.create_per_sec)),
        get_pacer: Pacer::new(opts.limits.get_per_sec),
        poll_queue: VecDeque::new(),
        poll_at: None,
        counters: Arc::default(),
        tasks: JoinSet::new(),
        last_stats: Stats::default(),
        last_requests: 0,
        learned_saved_at: Instant::now(),
        rules: Rules::of(&opts.reconcile),
        auto_every: opts.reconcile.auto.then(|| Duration::try_from_secs_f64(opts.reconcile.every_secs).ok()).flatten(),
        next_pass: Instant::now(),
        pass: None,
        asked_again: false,
        library_pacer: Arc::new(Pacer::new(LISTINGS_PER_SEC)),
        no_listing_said: Default::default(),
    };
    for w in recovered.warnings.into_iter().chain(looks_warning) {
        actor.core.log(Level::Warn, w);
    }
    if let Some(learned) = actor.core.learned_summary() {
        actor.core.log(Level::Info, learned);
    }
    let task = tokio::spawn(async move { actor.run(cmd_rx, ev_rx).await });
    Ok((EngineHandle { tx: cmd_tx }, up_rx, task))
}

type CmdRx = mpsc::UnboundedReceiver<(Command, Option<oneshot::Sender<SubmitResult>>)>;

impl Actor {
    async fn run(&mut self, mut cmds: CmdRx, mut events: mpsc::UnboundedReceiver<Event>) {
        self.core.now = Timestamp::now();
        self.core.resume();
        self.core.fx.updates.push(Update::Groups(self.groups.groups().to_vec()));
        self.dispatch();
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            self.flush().await;
            if self.stopping.is_some()
                && (self.core.creating == 0 || self.stopping.is_some_and(|d| Instant::now() >= d))
            {
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
                due = self.timers.next(), if running => {
                    self.core.now = Timestamp::now();
                    self.core.on_timer(due);
                }
                _ = tick.tick() => {
                    if self.auto_every.is_some() && Instant::now() >= self.next_pass {
                        self.start_pass(false);
                    }
                    self.stats();
                    self.core.now = Timestamp::now();
                    self.core.replan_polls();
                    self.carry_out();
                    self.save_learned(false).await;
                }
                _ = tokio::time::sleep_until(self.write_at.unwrap_or(far)), if self.write_at.is_some() => {
                    self.write_at = None;
                }
                _ = tokio::time::sleep_until(self.dispatch_at.unwrap_or(far)), if running && self.dispatch_at.is_some() => {
                    self.dispatch_at = None;
                }
                _ = tokio::time::sleep_until(self.poll_at.unwrap_or(far)), if running && self.poll_at.is_some() => {
                    self.poll_at = None;
                    self.send_polls();
                }
                _ = tokio::time::sleep_until(self.probe_at.unwrap_or(far)), if running && self.probe_at.is_some() => {
                    self.probe_at = None;
                    self.core.now = Timestamp::now();
                    let mut gate = ShellGate { limiter: &self.create_limiter, clients: &self.clients };
                    self.core.probe(&mut gate);
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
        let in_flight = self.core.in_flight();
        let _ = self.updates.send(Update::Stopped { in_flight });
    }

    /// Lets the core send what it can, then carries out its timers and
    /// uploads at once (records, updates and requests wait for the write).
    fn dispatch(&mut self) {
        self.core.now = Timestamp::now();
        let mut gate = ShellGate { limiter: &self.create_limiter, clients: &self.clients };
        self.core.dispatch(&mut gate);
        self.carry_out();
    }

    /// Carries out the core's timers, probes, wake-ups and uploads.
    fn carry_out(&mut self) {
        for t in std::mem::take(&mut self.core.fx.timers) {
            match t {
                Timer::Set(due, after) => self.timers.set(due, after),
                Timer::Cancel(id) => self.timers.cancel(id),
            }
        }
        if let Some(probe) = self.core.fx.probe.take() {
            self.probe_at = probe.map(|d| Instant::now() + d);
        }
        if let Some(wait) = self.core.fx.wake.take() {
            self.dispatch_at = Some(Instant::now() + wait);
        }
        for id in std::mem::take(&mut self.core.fx.to_upload) {
            self.spawn_upload(id);
        }
    }

    fn stop(&mut self) {
        if self.stopping.is_none() {
            self.stopping = Some(Instant::now() + SHUTDOWN_WAIT);
            self.core.stop();
        }
    }

    fn on_command(&mut self, cmd: Command, reply: Option<oneshot::Sender<SubmitResult>>) {
        self.core.now = Timestamp::now();
        match cmd {
            Command::Submit { jobs, allow_duplicates } => {
                let result = self.core.submit(jobs, allow_duplicates);
                if let Some(tx) = reply {
                    self.replies.push((tx, result));
                }
            }
            Command::Retry(ids) => ids.into_iter().for_each(|id| self.core.retry(id)),
            Command::Forget(ids) => ids.into_iter().for_each(|id| self.core.forget(id)),
            Command::Restore(jobs) => self.core.restore(jobs),
            Command::CreateGroup { name, description } => self.create_group(name, description),
            Command::Resume(clients) => {
                if let Some(c) = clients {
                    self.clients = c;
                }
                self.journal_retry_at = None;
                self.core.resume_work();
            }
            Command::SetStorage(storage) => self.storage = Some(storage),
            Command::Reconcile => self.start_pass(true),
            Command::Pick { job, asset } => self.core.pick(job, &asset),
            Command::Sync { profile, assets } => {
                let (added, known) = self.core.sync(&profile, assets);
                self.core.fx.updates.push(Update::Synced { added, known });
            }
            Command::AssetsDeleted(assets) => self.core.assets_deleted(&assets),
            Command::Shutdown => self.stop(),
        }
        self.carry_out();
    }

    fn on_event(&mut self, ev: Event) {
        self.core.now = Timestamp::now();
        match ev {
            Event::UploadProgress(id, p) => self.core.upload_progress(id, p.done, p.total),
            Event::Uploaded(id, r) => {
                if let Ok(up) = &r {
                    let how = if up.already_present { "already in the bucket" } else { "uploaded" };
                    tracing::info!("job #{id} {how}: {}", up.key);
                }
                self.core.on_uploaded(id, r);
            }
            Event::Created(id, r) => {
                if let Err(e) = &r {
                    self.count_429(e);
                }
                self.core.on_created(id, r);
            }
            Event::Polled(id, r) => {
                if let Err(e) = &r {
                    self.count_429(e);
                }
                self.core.on_polled(id, r);
            }
            Event::Group(name, Ok(g)) => {
                let group = Group { id: sanitize(&g.id), name: sanitize(&name) };
                if let Err(e) = self.groups.add(group.clone()) {
                    self.core.log(Level::Error, format!("group {} created but not remembered: {e}", group.id));
                }
                self.core.log(Level::Info, format!("created group `{}` ({})", group.name, group.id));
                self.core.fx.updates.push(Update::GroupCreated(group));
                self.core.fx.updates.push(Update::Groups(self.groups.groups().to_vec()));
            }
            Event::Group(name, Err(e)) => {
                self.core.log(Level::Error, format!("creating group `{name}` failed: {e}"));
                self.core.fx.updates.push(Update::GroupFailed { name, error: e.to_string() });
            }
            Event::Listed(ids, profile, r) => self.on_listed(&ids, profile, r),
        }
        self.carry_out();
    }

    /// Starts a reconcile pass over every unsettled job: one listing per
    /// profile, group and name. A pass asked for while one runs is
    /// answered by that one.
    fn start_pass(&mut self, asked: bool) {
        if let Some(every) = self.auto_every {
            self.next_pass = Instant::now() + every;
        }
        if self.stopping.is_some() {
            return;
        }
        if self.pass.is_some() {
            self.asked_again |= asked;
            return;
        }
        let jobs = self.core.unsettled();
        let mut report = ReconcileReport { asked, unsettled: jobs.len(), ..Default::default() };
        let mut lists: std::collections::BTreeMap<(String, String, String), Vec<JobId>> = Default::default();
        for j in jobs {
            let key = (j.spec.profile.clone(), j.spec.group_id.clone(), j.spec.name.clone());
            lists.entry(key).or_default().push(j.id);
        }
        let mut outstanding = 0;
        for ((profile, group, name), ids) in lists {
            let client = match self.clients.get(&profile) {
                Ok(c) => c.clone(),
                Err(why) => {
                    report.failed.push(format!("profile `{profile}`: {why}"));
                    continue;
                }
            };
            outstanding += 1;
            let (pacer, counters, events) = (self.library_pacer.clone(), self.counters.clone(), self.events.clone());
            self.tasks.spawn(async move {
                counters.requests.fetch_add(1, Ordering::Relaxed);
                let r = super::listing::list_named(&client, &pacer, &group, &name).await;
                let _ = events.send(Event::Listed(ids, profile, r));
            });
        }
        let pass = Pass { outstanding, report };
        if outstanding > 0 {
            self.pass = Some(pass);
        } else if asked || !pass.report.failed.is_empty() {
            self.end_pass(pass.report);
        }
    }

    fn on_listed(&mut self, ids: &[JobId], profile: String, r: Result<Listing, LibraryError>) {
        let Some(mut pass) = self.pass.take() else { return };
        match r {
            Ok(listing) => {
                let done = self.core.reconciled(ids, &listing, self.rules);
                pass.report.done.add(&done);
            }
            Err(LibraryError::Absent { answer, .. }) => {
                if self.no_listing_said.insert(profile.clone()) {
                    self.core.log(
                        Level::Warn,
                        format!(
                            "profile `{profile}`: the server has no listing ({answer}), so Uncertain jobs cannot be settled from it; check the asset library, then retry (may duplicate) or forget them"
                        ),
                    );
                }
                if !pass.report.no_listing.contains(&profile) {
                    pass.report.no_listing.push(profile);
                }
            }
            Err(LibraryError::Api(e)) => pass.report.failed.push(format!("profile `{profile}`: listing failed: {e}")),
        }
        pass.outstanding -= 1;
        if pass.outstanding == 0 {
            self.end_pass(pass.report);
        } else {
            self.pass = Some(pass);
        }
    }

    fn end_pass(&mut self, report: ReconcileReport) {
        if let Some(first) = report.failed.first() {
            let more = report.failed.len() - 1;
            let more = if more > 0 { format!(" (and {more} more)") } else { String::new() };
            self.core.log(Level::Warn, format!("reconcile: {first}{more}; tried again at the next pass"));
        }
        let d = &report.done;
        if d.adopted + d.resent > 0 {
            self.core.log(
                Level::Info,
                format!(
                    "reconcile: {} found on the server, {} proven never created and sent again, {} to pick by hand, {} not settled yet",
                    d.adopted, d.resent, d.ambiguous, d.waiting
                ),
            );
        }
        self.core.fx.updates.push(Update::Reconciled(report));
        if std::mem::take(&mut self.asked_again) {
            self.start_pass(true);
        }
    }

    fn count_429(&self, e: &ApiError) {
        if matches!(e, ApiError::RateLimited { .. }) {
            self.counters.rate_limited.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn create_group(&mut self, name: String, description: Option<String>) {
        let name = name.trim().to_string();
        let description = description.map(|d| d.trim().to_string()).filter(|d| !d.is_empty());
        if let Err(error) = validate_group(&name, description.as_deref()) {
            self.core.fx.updates.push(Update::GroupFailed { name, error: error.to_string() });
            return;
        }
        let Some(client) = self.clients.any().cloned() else {
            let error = "no profile has a usable key".to_string();
            self.core.fx.updates.push(Update::GroupFailed { name, error });
            return;
        };
        let pacer = self.create_limiter.clone();
        self.spawn_request(client, async move { pacer.until_ready().await }, move |client| async move {
            let r = client.create_group(&CreateGroupRequest { name: name.clone(), description }).await;
            Event::Group(name, r)
        });
    }

    fn stats(&mut self) {
        let requests = self.counters.requests.load(Ordering::Relaxed);
        let stats = Stats {
            requests_per_sec: (requests - self.last_requests).min(u32::MAX as u64) as u32,
            requests,
            rate_limited: self.counters.rate_limited.load(Ordering::Relaxed),
            creating: self.core.creating,
            create_requests: self.counters.create_requests.load(Ordering::Relaxed),
            journal_syncs: self.store.as_ref().map_or(0, Store::syncs),
        };
        self.last_requests = requests;
        if stats != self.last_stats {
            self.last_stats = stats;
            self.core.fx.updates.push(Update::Stats(stats));
        }
    }

    /// Writes the batch, then reports it, then starts the requests it
    /// implies. When the store cannot be written, nothing of the batch is
    /// reported and no creation leaves: the jobs about to be sent go back to
    /// the queue, and the write is tried again (every second, or at once on
    /// [`Command::Resume`]).
    async fn flush(&mut self) {
        let fx = &mut self.core.fx;
        let pending = !fx.dirty.is_empty() || !fx.forgotten.is_empty() || !fx.spilled.is_empty();
        // Answers alone wait a moment to share a write; anything that
        // waits on durability (a creation, a submission, a forget already
        // shown as gone, stopping) goes now.
        let urgent =
            !fx.to_create.is_empty() || !fx.forgotten.is_empty() || !self.replies.is_empty() || self.stopping.is_some();
        let hold = pending && !urgent && self.written_at.elapsed() < WRITE_GAP;
        if hold {
            self.write_at.get_or_insert(self.written_at + WRITE_GAP);
        }
        let retry_due = self.journal_retry_at.is_none_or(|at| Instant::now() >= at);
        let mut saved = !pending || hold;
        if pending
            && !hold
            && retry_due
            && let Some(mut store) = self.store.take()
        {
            self.write_at = None;
            let ids = std::mem::take(&mut self.core.fx.dirty);
            let mut snapshots: Vec<Job> = ids.iter().filter_map(|id| self.core.jobs.get(id).cloned()).collect();
            let kept = snapshots.len();
            snapshots.append(&mut self.core.fx.spilled);
            let forgotten = std::mem::take(&mut self.core.fx.forgotten);
            let (store, result, mut snapshots, forgotten) = tokio::task::spawn_blocking(move || {
                let r = store.write(&snapshots, &forgotten);
                (store, r, snapshots, forgotten)
            })
            .await
            .expect("a store write does not panic");
            let path = store.path().display().to_string();
            self.store = Some(store);
            self.written_at = Instant::now();
            self.core.now = Timestamp::now();
            match result {
                Ok(()) => {
                    saved = true;
                    self.journal_retry_at = None;
                    if self.core.health.journal.take().is_some() {
                        self.core.log(Level::Info, format!("the job store {path} is writable again: resuming"));
                    }
                    self.core.evict_finished(&snapshots);
                    self.core.fx.updates.extend(snapshots.into_iter().map(|j| Update::Job(Box::new(j))));
                }
                Err(e) => {
                    self.core.fx.dirty.extend(ids);
                    self.core.fx.spilled = snapshots.split_off(kept);
                    let mut all = forgotten;
                    all.append(&mut self.core.fx.forgotten);
                    self.core.fx.forgotten = all;
                    self.journal_retry_at = Some(Instant::now() + JOURNAL_RETRY);
                    if self.core.health.journal.is_none() {
                        self.core.log(
                            Level::Error,
                            format!(
                                "job store write to {path} failed: {}; nothing new is sent until it can be written",
                                e.reason()
                            ),
                        );
                    }
                    self.core.health.journal = Some(JournalFault { path, cause: e.reason() });
                }
            }
            self.carry_out();
        }
        if !saved {
            self.core.unsend();
        }
        if self.core.health != self.reported_health {
            self.reported_health = self.core.health.clone();
            self.core.fx.updates.push(Update::Health(self.core.health.clone()));
        }
        for (tx, result) in self.replies.drain(..) {
            let _ = tx.send(result);
        }
        for u in std::mem::take(&mut self.core.fx.updates) {
            if let Update::Log(line) = &u {
                let text = &line.text;
                match line.level {
                    Level::Info => tracing::info!("{text}"),
                    Level::Warn => tracing::warn!("{text}"),
                    Level::Error => tracing::error!("{text}"),
                }
            }
            let _ = self.updates.send(u);
        }
        for id in std::mem::take(&mut self.core.fx.to_create) {
            self.spawn_create(id);
        }
        self.poll_queue.extend(std::mem::take(&mut self.core.fx.to_poll));
        self.send_polls();
    }

    /// Sends the waiting GetAsset calls the rate allows now, and sets the
    /// wake-up for the rest (one timer, however many wait).
    fn send_polls(&mut self) {
        if self.poll_at.is_some() {
            return;
        }
        while let Some(&id) = self.poll_queue.front() {
            if let Err(wait) = self.get_pacer.check() {
                self.poll_at = Some(Instant::now() + wait);
                return;
            }
            self.poll_queue.pop_front();
            self.spawn_poll(id);
        }
    }

    /// Saves what is learned about processing times: in the background
    /// every [`SAVE_LEARNED`], and waited for at shutdown (`last`).
    async fn save_learned(&mut self, last: bool) {
        if !last && self.learned_saved_at.elapsed() < SAVE_LEARNED {
            return;
        }
        self.learned_saved_at = Instant::now();
        let Some((path, bytes)) = self.core.learned_to_save() else {
            return;
        };
        let shown = path.display().to_string();
        let written = tokio::task::spawn_blocking(move || crate::config::atomic_write(&path, &bytes)).await;
        if let Ok(Err(e)) = written {
            // Tried again later; said once.
            if !self.core.learned_save_failed() {
                self.core.log(Level::Warn, format!("could not save the learned processing times to {shown}: {e}"));
            }
        }
    }

    /// Starts the upload of a local file in a task of its own.
    fn spawn_upload(&mut self, id: JobId) {
        let (Some(storage), Some(local)) = (&self.storage, self.core.jobs.get(&id).and_then(|j| j.spec.local.clone()))
        else {
            return;
        };
        let file = crate::storage::LocalFile {
            ext: local.path.extension().map(|e| e.to_string_lossy().to_lowercase()).unwrap_or_default(),
            path: local.path,
            size: local.size,
            modified: local.modified,
            sha256: local.sha256,
            key: local.key,
        };
        let (storage, events) = (storage.clone(), self.events.clone());
        self.tasks.spawn(async move {
            let progress_events = events.clone();
            let r = storage.upload(&file, move |p| {
                let _ = progress_events.send(Event::UploadProgress(id, p));
            });
            let _ = events.send(Event::Uploaded(id, r.await));
        });
    }

    fn spawn_create(&mut self, id: JobId) {
        let Some(job) = self.core.jobs.get(&id) else {
            return;
        };
        // A local file goes by a URL presigned now, so it is fresh however
        // long the job waited.
        let url = match (&job.spec.local, &self.storage) {
            (Some(l), Some(storage)) => storage.presigned_get(&l.key).to_string(),
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
        let Some(job) = self.core.jobs.get(&id).filter(|j| j.state == JobState::Processing) else {
            return;
        };
        let Some(task_id) = job.task_id.clone() else {
            return;
        };
        let client = match self.clients.get(&job.spec.profile) {
            Ok(c) => c.clone(),
            Err(why) => {
                self.core.log(Level::Error, format!("job #{id} not polled: {why}"));
                self.core.set_state(id, JobState::Stuck, Some(format!("not polled: {why}")));
                return;
            }
        };
        // The slot was taken when it left the poll queue.
        self.spawn_request(client, async {}, move |client| async move {
            Event::Polled(id, client.get_asset(&task_id).await)
        });
    }

    /// Sends one request in a task of its own: it waits for the action's rate
    /// limiter (`ready`), is counted, and its result comes back as an event.
    fn spawn_request<F, Fut>(
        &mut self,
        client: Client,
        ready: impl std::future::Future<Output = ()> + Send + 'static,
        request: F,
    ) where
        F: FnOnce(Client) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = Event> + Send + 'static,
    {
        let (counters, events) = (self.counters.clone(), self.events.clone());
        self.tasks.spawn(async move {
            ready.await;
            counters.requests.fetch_add(1, Ordering::Relaxed);
            let _ = events.send(request(client).await);
        });
    }
}
