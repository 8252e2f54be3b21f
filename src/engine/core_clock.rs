//! The core's timers on tokio's paused clock: what it asks to wait for is
//! carried out by the shell's `DelayQueue`, in virtual time.

use std::collections::BTreeMap;
use std::time::Duration;

use rand::SeedableRng;
use tokio::time::Instant;

use super::core::{Core, CoreConfig, Gate, Lookup, Timer};
use super::timers::{Due, Timers};
use crate::api::{ApiError, AssetInfo, AssetStatus, AssetType, CreatedAsset};
use crate::config::{Limits, Polling};
use crate::job::{Job, JobId, JobState, NewJob};

struct Nothing;

impl Lookup for Nothing {
    fn job(&self, _: JobId) -> Result<Option<Job>, crate::store::StoreError> {
        Ok(None)
    }
    fn same_identity(&self, _: &str) -> Result<Vec<Job>, crate::store::StoreError> {
        Ok(Vec::new())
    }
    fn queued_after(&self, _: JobId, _: usize) -> Result<Vec<Job>, crate::store::StoreError> {
        Ok(Vec::new())
    }
    fn unsettled(&self, _: JobId, _: usize) -> Result<Vec<Job>, crate::store::StoreError> {
        Ok(Vec::new())
    }
    fn holding(&self, _: &str) -> Result<Vec<JobId>, crate::store::StoreError> {
        Ok(Vec::new())
    }
    fn named(&self, _: &str, _: &str) -> Result<Vec<Job>, crate::store::StoreError> {
        Ok(Vec::new())
    }
}

struct Open;

impl Gate for Open {
    fn permit(&mut self) -> Result<(), Duration> {
        Ok(())
    }
    fn client(&self, _: &str) -> Result<(), super::ProfileError> {
        Ok(())
    }
}

fn core() -> Core {
    core_with(None)
}

/// A core with `upload_slots` uploads at once (`None`: no bucket).
fn core_with(upload_slots: Option<usize>) -> Core {
    let polling = Polling { jitter: 0.0, ..Polling::default() };
    let config = CoreConfig {
        limits: Limits::default(),
        looks: super::looks::Looks::new(&polling, 100, None).0,
        polling,
        retry_503: false,
        upload_slots,
        queue_window: super::core::QUEUE_WINDOW,
    };
    let rng = rand::rngs::StdRng::seed_from_u64(1);
    let mut c = Core::new(config, BTreeMap::new(), Some(1), None, Box::new(Nothing), rng, jiff::Timestamp::now());
    c.resume();
    c
}

/// Writes what the core asks (always successfully) and hands its timers to `timers`.
fn carry_out(c: &mut Core, timers: &mut Timers) -> (Vec<JobId>, Vec<JobId>) {
    c.fx.dirty.clear();
    for t in std::mem::take(&mut c.fx.timers) {
        match t {
            Timer::Set(due, after) => timers.set(due, after),
            Timer::Cancel(id) => timers.cancel(id),
        }
    }
    (std::mem::take(&mut c.fx.to_create), std::mem::take(&mut c.fx.to_poll))
}

fn spec() -> NewJob {
    NewJob {
        url: "https://e.com/a.png".into(),
        name: "a".into(),
        asset_type: AssetType::Image,
        group_id: "g".into(),
        profile: "default".into(),
        local: None,
        media: None,
        conform: None,
    }
}

#[tokio::test(start_paused = true)]
async fn a_429_sends_again_after_retry_after_and_polls_follow_the_schedule() {
    let mut c = core();
    let mut timers = Timers::default();
    let r = c.submit(vec![spec()], false);
    assert_eq!(r.accepted, [1]);
    c.dispatch(&mut Open);
    assert_eq!(carry_out(&mut c, &mut timers).0, [1]);
    assert_eq!(c.jobs[&1].state, JobState::Creating);

    // 429 with Retry-After 7 s: queued again, not before 7 s.
    let start = Instant::now();
    c.on_created(1, Err(ApiError::RateLimited { retry_after: Some(Duration::from_secs(7)) }));
    assert_eq!(c.jobs[&1].state, JobState::Queued);
    carry_out(&mut c, &mut timers);
    assert_eq!(timers.next().await, Due::Requeue(1));
    assert!(start.elapsed() >= Duration::from_secs(7), "{:?}", start.elapsed());
    c.on_timer(Due::Requeue(1));
    c.dispatch(&mut Open);
    assert_eq!(carry_out(&mut c, &mut timers).0, [1], "a 429 was not processed: sent again");

    // Created: the first look comes after the schedule's first interval.
    let created = Instant::now();
    c.on_created(1, Ok(CreatedAsset { id: "asset-1".into(), task_id: "task-1".into() }));
    carry_out(&mut c, &mut timers);
    assert_eq!(timers.next().await, Due::Poll(1));
    assert!(created.elapsed() > Duration::ZERO);
    c.on_timer(Due::Poll(1));
    assert_eq!(carry_out(&mut c, &mut timers).1, [1]);
    let active = AssetInfo {
        id: Some("asset-1".into()),
        name: None,
        url: None,
        asset_type: None,
        group_id: None,
        status: AssetStatus::Active,
        create_time: None,
        update_time: None,
        error: None,
    };
    c.on_polled(1, Ok(active));
    assert_eq!(c.jobs[&1].state, JobState::Active);
    assert_eq!(c.jobs[&1].asset_ref().as_deref(), Some("asset://asset-1"));
}

#[tokio::test(start_paused = true)]
async fn a_500_is_never_sent_again_by_itself() {
    let mut c = core();
    let mut timers = Timers::default();
    c.submit(vec![spec()], false);
    c.dispatch(&mut Open);
    carry_out(&mut c, &mut timers);
    c.on_created(1, Err(ApiError::Server { status: 500, message: String::new() }));
    assert_eq!(c.jobs[&1].state, JobState::Uncertain);
    assert!(c.jobs[&1].may_exist);
    carry_out(&mut c, &mut timers);
    // An hour of virtual time: no timer, nothing sent.
    tokio::time::advance(Duration::from_secs(3600)).await;
    c.dispatch(&mut Open);
    assert!(carry_out(&mut c, &mut timers).0.is_empty());
}

/// A bucket that refused the keys pauses the uploads; after the user fixes
/// them and resumes, an upload that was already on its way with the old
/// keys fails late. That failure must not pause the uploads again (it did,
/// under load, and left a job in Uploading for good): it goes again.
#[test]
fn an_upload_failing_late_with_the_old_settings_does_not_pause_the_fixed_ones() {
    use crate::storage::StorageError;
    let mut c = core_with(Some(2));
    let local = |i: u32| NewJob {
        url: format!("/refs/{i}.png"),
        name: format!("f{i}"),
        local: Some(crate::job::LocalSource {
            path: format!("/refs/{i}.png").into(),
            size: 1,
            sha256: format!("{i:064}"),
            key: format!("refs/{i}.png"),
            modified: None,
        }),
        ..spec()
    };
    let r = c.submit(vec![local(1), local(2), local(3)], false);
    assert_eq!(r.accepted, [1, 2, 3]);
    c.dispatch(&mut Open);
    assert_eq!(std::mem::take(&mut c.fx.to_upload), [1, 2], "two slots");
    let refused = || Err(StorageError::Unreachable { endpoint: "http://bucket".into(), detail: "bad keys".into() });
    c.on_uploaded(1, refused());
    assert!(c.health.storage.is_some(), "the uploads pause");
    c.dispatch(&mut Open);
    assert!(c.fx.to_upload.is_empty());
    // Fixed and resumed: the held uploads start again.
    c.resume_work();
    c.dispatch(&mut Open);
    assert_eq!(std::mem::take(&mut c.fx.to_upload), [1], "one slot is still taken by job 2's old upload");
    // Job 2's upload, started with the old keys, fails only now.
    c.on_uploaded(2, refused());
    assert!(c.health.storage.is_none(), "a failure from before the resume does not pause again");
    c.dispatch(&mut Open);
    assert_eq!(std::mem::take(&mut c.fx.to_upload), [2], "it goes again, with the new settings");
    // A failure with the new settings does pause.
    c.on_uploaded(1, refused());
    assert!(c.health.storage.is_some());
    assert_eq!(c.jobs[&3].state, JobState::Uploading);
}

#[test]
fn a_name_repeated_in_a_group_is_flagged_naming_the_job() {
    let mut c = core();
    let other = NewJob { url: "https://e.com/b.png".into(), ..spec() };
    let elsewhere = NewJob { group_id: "h".into(), url: "https://e.com/c.png".into(), ..spec() };
    let r = c.submit(vec![spec(), other, elsewhere], false);
    assert_eq!(r.accepted.len(), 3);
    assert_eq!(r.same_name, vec![r.accepted[1]], "only the second `a` in group g");
    let said: Vec<String> =
        c.fx.updates
            .iter()
            .filter_map(|u| match u {
                super::Update::Log(l) if l.level == super::Level::Warn => Some(l.text.clone()),
                _ => None,
            })
            .collect();
    assert!(said.iter().any(|t| t.starts_with(&format!("job #{} `a` has a name", r.accepted[1]))), "{said:?}");
}
