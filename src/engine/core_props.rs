//! The pure core under any interleaving of commands, answers, store writes
//! that fail or succeed, and timer expiries, with a model of the shell
//! around it (no sockets, no clock: time is a number the test advances).
//! Invariants: a job is never sent to CreateAsset while an earlier request
//! for it may still be acting, and never again unless an answer said the
//! earlier one was not processed or the user asked; no job is lost; the
//! in-flight count is what was sent and not answered; a request leaves only
//! after its Creating record is written; and once everything is answered
//! every job is final. (Counts per state are the store's, kept by triggers
//! and tested in `store::tests`.)

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::Timestamp;
use proptest::prelude::*;
use rand::SeedableRng;

use super::core::{Core, CoreConfig, Gate, Lookup, Timer};
use super::timers::Due;
use crate::api::{ApiError, AssetInfo, AssetStatus, AssetType, CreatedAsset};
use crate::config::{Limits, Polling};
use crate::job::{Job, JobId, JobState, NewJob};

/// The store as the shell writes it.
#[derive(Clone, Default)]
struct Model(Arc<Mutex<BTreeMap<JobId, Job>>>);

impl Lookup for Model {
    fn job(&self, id: JobId) -> Result<Option<Job>, crate::store::StoreError> {
        Ok(self.0.lock().unwrap().get(&id).cloned())
    }
    fn same_identity(&self, key: &str) -> Result<Vec<Job>, crate::store::StoreError> {
        Ok(self.0.lock().unwrap().values().filter(|j| Job::dedup_key(&j.spec) == key).cloned().collect())
    }
    fn queued_after(&self, after: JobId, n: usize) -> Result<Vec<Job>, crate::store::StoreError> {
        let store = self.0.lock().unwrap();
        Ok(store.range(after + 1..).map(|(_, j)| j).filter(|j| j.state == JobState::Queued).take(n).cloned().collect())
    }
    fn unsettled(&self, after: JobId, n: usize) -> Result<Vec<Job>, crate::store::StoreError> {
        let store = self.0.lock().unwrap();
        Ok(store.range(after + 1..).map(|(_, j)| j).filter(|j| j.is_unsettled()).take(n).cloned().collect())
    }
    fn holding(&self, asset_id: &str) -> Result<Vec<JobId>, crate::store::StoreError> {
        let store = self.0.lock().unwrap();
        Ok(store.values().filter(|j| j.asset_id.as_deref() == Some(asset_id)).map(|j| j.id).collect())
    }
    fn named(&self, group: &str, name: &str) -> Result<Vec<Job>, crate::store::StoreError> {
        let store = self.0.lock().unwrap();
        Ok(store.values().filter(|j| j.spec.group_id == group && j.spec.name == name).cloned().collect())
    }
}

/// Permits as the test says; every profile has a client.
struct TestGate(bool);

impl Gate for TestGate {
    fn permit(&mut self) -> Result<(), Duration> {
        if self.0 { Ok(()) } else { Err(Duration::from_millis(100)) }
    }
    fn client(&self, _: &str) -> Result<(), super::ProfileError> {
        Ok(())
    }
}

/// What the test does next.
#[derive(Debug, Clone)]
enum Step {
    Submit(u8),
    Flush(bool),
    Answer(u8, Answer),
    Look(u8, Look),
    Fire(u8),
    Retry(u8),
    Forget(u8),
    Probe,
    Resume,
    Dispatch(bool),
}

#[derive(Debug, Clone, Copy)]
enum Answer {
    Created,
    RateLimited,
    Refused,
    Unauthorized,
    Rejected,
    Server(u16),
    Lost,
    Garbled,
}

#[derive(Debug, Clone, Copy)]
enum Look {
    Processing,
    Active,
    Failed,
    Error,
}

fn answer() -> impl Strategy<Value = Answer> {
    prop_oneof![
        4 => Just(Answer::Created),
        1 => Just(Answer::RateLimited),
        1 => Just(Answer::Refused),
        1 => Just(Answer::Unauthorized),
        1 => Just(Answer::Rejected),
        1 => prop_oneof![Just(500u16), Just(502), Just(503), Just(504)].prop_map(Answer::Server),
        1 => Just(Answer::Lost),
        1 => Just(Answer::Garbled),
    ]
}

fn look() -> impl Strategy<Value = Look> {
    prop_oneof![Just(Look::Processing), Just(Look::Active), Just(Look::Failed), Just(Look::Error)]
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => (1u8..7).prop_map(Step::Submit),
        3 => Just(Step::Flush(true)),
        1 => Just(Step::Flush(false)),
        5 => (any::<u8>(), answer()).prop_map(|(i, a)| Step::Answer(i, a)),
        4 => (any::<u8>(), look()).prop_map(|(i, l)| Step::Look(i, l)),
        4 => any::<u8>().prop_map(Step::Fire),
        1 => any::<u8>().prop_map(Step::Retry),
        1 => any::<u8>().prop_map(Step::Forget),
        1 => Just(Step::Probe),
        1 => Just(Step::Resume),
        2 => any::<bool>().prop_map(Step::Dispatch),
    ]
}

fn created_answer(a: Answer, n: u64) -> Result<CreatedAsset, ApiError> {
    match a {
        Answer::Created => Ok(CreatedAsset { id: format!("asset-{n}"), task_id: format!("task-{n}") }),
        Answer::RateLimited => Err(ApiError::RateLimited { retry_after: None }),
        Answer::Refused => Err(ApiError::Network { may_have_reached_server: false, detail: "refused".into() }),
        Answer::Unauthorized => Err(ApiError::Unauthorized { message: "bad key".into() }),
        Answer::Rejected => Err(ApiError::Rejected {
            code: "InvalidParameter.Url".into(),
            message: "no".into(),
            maybe_processed: false,
        }),
        Answer::Server(status) => Err(ApiError::Server { status, message: String::new() }),
        Answer::Lost => Err(ApiError::Network { may_have_reached_server: true, detail: "reset".into() }),
        Answer::Garbled => {
            Err(ApiError::Decode { endpoint: crate::api::Endpoint::CreateAsset, excerpt: "<html".into() })
        }
    }
}

/// True when the answer says the request surely did nothing.
fn not_processed(a: Answer) -> bool {
    matches!(a, Answer::RateLimited | Answer::Refused | Answer::Unauthorized)
}

fn info(l: Look) -> Result<AssetInfo, ApiError> {
    let status = match l {
        Look::Processing => AssetStatus::Processing,
        Look::Active => AssetStatus::Active,
        Look::Failed => AssetStatus::Failed,
        Look::Error => return Err(ApiError::Server { status: 502, message: String::new() }),
    };
    Ok(AssetInfo {
        id: None,
        name: None,
        url: None,
        asset_type: None,
        group_id: None,
        status,
        create_time: Some("2026-11-25T00:00:00Z".into()),
        update_time: Some("2026-11-25T00:00:12Z".into()),
        error: None,
    })
}

/// The shell around the core, as the test plays it.
struct World {
    core: Core,
    store: Model,
    next_url: u64,
    accepted: BTreeSet<JobId>,
    forgotten: BTreeSet<JobId>,
    /// CreateAsset sent and not answered.
    creating: BTreeSet<JobId>,
    /// GetAsset sent and not answered.
    polling: BTreeSet<JobId>,
    timers: HashMap<JobId, Due>,
    /// Creates sent per job, and how many the rules allow.
    sent: HashMap<JobId, u32>,
    allowed: HashMap<JobId, u32>,
    clock: i64,
    answers: u64,
}

impl World {
    fn new(seed: u64) -> World {
        let store = Model::default();
        let polling = Polling { stuck_after_secs: 60.0, retry_budget: 3, ..Polling::default() };
        let config = CoreConfig {
            limits: Limits { max_creating: 3, ..Limits::default() },
            looks: super::looks::Looks::new(&polling, 100, None).0,
            polling,
            retry_503: false,
            upload_slots: None,
            // Small, so that batches spill into the store and come back.
            queue_window: 4,
        };
        let rng = rand::rngs::StdRng::seed_from_u64(seed);
        let mut core = Core::new(config, BTreeMap::new(), Some(1), None, Box::new(store.clone()), rng, Self::at(0));
        core.resume();
        World {
            core,
            store,
            next_url: 0,
            accepted: BTreeSet::new(),
            forgotten: BTreeSet::new(),
            creating: BTreeSet::new(),
            polling: BTreeSet::new(),
            timers: HashMap::new(),
            sent: HashMap::new(),
            allowed: HashMap::new(),
            clock: 0,
            answers: 0,
        }
    }

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_second(1_795_000_000 + secs).unwrap()
    }

    fn tick(&mut self) {
        self.clock += 1;
        self.core.now = Self::at(self.clock);
    }

    fn pick(set: &BTreeSet<JobId>, i: u8) -> Option<JobId> {
        (!set.is_empty()).then(|| *set.iter().nth(i as usize % set.len()).expect("in range"))
    }

    fn carry_out(&mut self) {
        for t in std::mem::take(&mut self.core.fx.timers) {
            match t {
                Timer::Set(due, _) => {
                    let id = match due {
                        Due::Poll(id) | Due::Requeue(id) => id,
                    };
                    self.timers.insert(id, due);
                }
                Timer::Cancel(id) => {
                    self.timers.remove(&id);
                }
            }
        }
        self.core.fx.probe = None;
        self.core.fx.wake = None;
        assert!(self.core.fx.to_upload.is_empty(), "no local files here");
    }

    /// The write, then (only if it succeeded) the updates and the requests.
    fn flush(&mut self, ok: bool) {
        let fx = &mut self.core.fx;
        if fx.dirty.is_empty() && fx.forgotten.is_empty() && fx.spilled.is_empty() {
            ok_or_unsend(self, true);
            return;
        }
        ok_or_unsend(self, ok);
    }

    fn step(&mut self, s: Step) {
        self.tick();
        match s {
            Step::Submit(n) => {
                let specs: Vec<NewJob> = (0..n)
                    .map(|_| {
                        // Now and then the same item again: a duplicate.
                        let k = if self.next_url % 5 == 4 { self.next_url - 1 } else { self.next_url };
                        self.next_url += 1;
                        NewJob {
                            url: format!("https://e.com/{k}.png"),
                            name: format!("n{k}"),
                            asset_type: AssetType::Image,
                            group_id: "g".into(),
                            profile: "default".into(),
                            local: None,
                            media: None,
                            conform: None,
                        }
                    })
                    .collect();
                let r = self.core.submit(specs, false);
                for id in r.accepted {
                    self.accepted.insert(id);
                    self.allowed.insert(id, 1);
                }
            }
            Step::Flush(ok) => self.flush(ok),
            Step::Answer(i, a) => {
                if let Some(id) = Self::pick(&self.creating, i) {
                    self.creating.remove(&id);
                    self.answers += 1;
                    if not_processed(a) {
                        *self.allowed.entry(id).or_default() += 1;
                    }
                    self.core.on_created(id, created_answer(a, self.answers));
                }
            }
            Step::Look(i, l) => {
                if let Some(id) = Self::pick(&self.polling, i) {
                    self.polling.remove(&id);
                    self.core.on_polled(id, info(l));
                }
            }
            Step::Fire(i) => {
                let pending: BTreeSet<JobId> = self.timers.keys().copied().collect();
                if let Some(id) = Self::pick(&pending, i) {
                    let due = self.timers.remove(&id).expect("picked");
                    self.core.on_timer(due);
                }
            }
            Step::Retry(i) => {
                if let Some(id) = Self::pick(&self.accepted, i) {
                    *self.allowed.entry(id).or_default() += 1;
                    self.core.retry(id);
                }
            }
            Step::Forget(i) => {
                if let Some(id) = Self::pick(&self.accepted, i)
                    && self.core.jobs.get(&id).is_none_or(|j| j.state != JobState::Creating)
                {
                    self.core.forget(id);
                }
            }
            Step::Probe => self.core.probe(&mut TestGate(true)),
            Step::Resume => self.core.resume_work(),
            Step::Dispatch(permits) => self.core.dispatch(&mut TestGate(permits)),
        }
        self.carry_out();
        self.check();
    }

    fn check(&self) {
        for (id, n) in &self.sent {
            let allowed = self.allowed.get(id).copied().unwrap_or(0);
            assert!(*n <= allowed, "job {id} sent {n} times, allowed {allowed}");
        }
        let pending_sends = self.core.fx.to_create.len();
        assert_eq!(self.core.creating, self.creating.len() + pending_sends, "in-flight count");
        let store = self.store.0.lock().unwrap();
        for id in &self.accepted {
            if !self.forgotten.contains(id) && !self.core.fx.forgotten.contains(id) {
                let spilled = self.core.fx.spilled.iter().any(|j| j.id == *id);
                assert!(
                    self.core.jobs.contains_key(id) || store.contains_key(id) || spilled,
                    "job {id} is neither in memory nor in the store"
                );
            }
        }
    }

    /// Answers everything well, fires every timer and writes, until nothing moves.
    fn drain(&mut self) {
        for _ in 0..10_000 {
            self.tick();
            self.core.dispatch(&mut TestGate(true));
            self.core.resume_work();
            self.carry_out();
            self.flush(true);
            self.carry_out();
            if let Some(&id) = self.creating.iter().next() {
                self.creating.remove(&id);
                self.answers += 1;
                self.core.on_created(id, created_answer(Answer::Created, self.answers));
            } else if let Some(&id) = self.polling.iter().next() {
                self.polling.remove(&id);
                self.core.on_polled(id, info(Look::Active));
            } else if let Some((&id, &due)) = self.timers.iter().next() {
                self.timers.remove(&id);
                self.core.on_timer(due);
            } else if self.core.fx.dirty.is_empty() && self.core.in_flight() == 0 {
                break;
            }
            self.carry_out();
            self.check();
        }
    }
}

fn ok_or_unsend(w: &mut World, ok: bool) {
    if !ok {
        // As the shell does: nothing leaves, creation waits for the store.
        w.core.health.journal = Some(super::message::JournalFault { path: "jobs.db".into(), cause: "full".into() });
        w.core.unsend();
        return;
    }
    w.core.health.journal = None;
    let ids = std::mem::take(&mut w.core.fx.dirty);
    let snapshots: Vec<Job> = ids.iter().filter_map(|id| w.core.jobs.get(id).cloned()).collect();
    let forgotten = std::mem::take(&mut w.core.fx.forgotten);
    {
        let mut store = w.store.0.lock().unwrap();
        for j in snapshots.iter().chain(&w.core.fx.spilled) {
            store.insert(j.id, j.clone());
        }
        w.core.fx.spilled.clear();
        for id in &forgotten {
            store.remove(id);
            w.forgotten.insert(*id);
            w.accepted.remove(id);
        }
    }
    w.core.evict_finished(&snapshots);
    w.core.fx.updates.clear();
    for id in std::mem::take(&mut w.core.fx.to_create) {
        assert!(!w.creating.contains(&id), "job {id} sent while an earlier CreateAsset for it may be acting");
        let store = w.store.0.lock().unwrap();
        assert_eq!(store.get(&id).map(|j| j.state), Some(JobState::Creating), "sent before its Creating record");
        drop(store);
        w.creating.insert(id);
        *w.sent.entry(id).or_default() += 1;
    }
    for id in std::mem::take(&mut w.core.fx.to_poll) {
        w.polling.insert(id);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn any_interleaving_keeps_the_money_invariants(
        steps in proptest::collection::vec(step(), 1..120),
        seed in any::<u64>(),
    ) {
        let mut w = World::new(seed);
        for s in steps {
            w.step(s);
        }
        w.drain();
        for id in &w.accepted {
            let store = w.store.0.lock().unwrap();
            let job = w.core.jobs.get(id).or_else(|| store.get(id)).expect("kept");
            prop_assert!(job.state.is_final(), "job {id} ended {:?}", job.state);
        }
        prop_assert_eq!(w.core.in_flight(), 0);
        prop_assert_eq!(w.core.creating, 0);
    }
}
