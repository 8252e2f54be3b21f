//! The store on real files: writes, reads, counts, identity lookups and
//! what a crash or a second process leaves.

use super::*;
use crate::api::AssetType;
use crate::job::{Job, JobId, JobState, NewJob};

fn job(id: JobId, state: JobState) -> Job {
    let spec = NewJob {
        url: format!("https://e.com/{id}.png"),
        name: format!("n{id}"),
        asset_type: AssetType::Image,
        group_id: "g".into(),
        profile: "default".into(),
        local: None,
        media: None,
        conform: None,
    };
    Job { state, ..Job::new(id, spec, jiff::Timestamp::from_second(1_795_000_000).unwrap()) }
}

fn counts_of(h: &History) -> Vec<(JobState, u64)> {
    JobState::ALL.into_iter().zip(h.counts(None).unwrap()).filter(|(_, n)| *n > 0).collect()
}

#[test]
fn writes_are_read_back_with_counts_and_live_jobs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jobs.db");
    let mut o = Store::open(&path, None).unwrap();
    assert_eq!(o.next_id, Some(1));
    let mut a = job(1, JobState::Queued);
    a.spec.media = Some(crate::media::MediaInfo {
        format: crate::media::Format::Png,
        width: Some(640),
        height: Some(480),
        duration_secs: None,
        fps: None,
        size_bytes: Some(1234),
    });
    o.store.write(&[a.clone(), job(2, JobState::Queued), job(3, JobState::Active)], &[]).unwrap();
    let mut b = job(2, JobState::Processing);
    b.task_id = Some("task_1".into());
    b.processing_since = Some(jiff::Timestamp::from_second(1_795_000_100).unwrap());
    o.store.write(&[b.clone()], &[3]).unwrap();
    assert_eq!(o.store.syncs(), 2);
    let h = History::open(&path, None).unwrap();
    assert_eq!(h.get(1).unwrap(), Some(a.clone()), "every field survives, media included");
    assert_eq!(h.get(2).unwrap(), Some(b.clone()));
    assert_eq!(h.get(3).unwrap(), None);
    assert_eq!(counts_of(&h), [(JobState::Queued, 1), (JobState::Processing, 1)]);
    let changes = h.changes(0).unwrap();
    assert_eq!(changes.forgotten, [3]);
    assert_eq!(changes.jobs.iter().map(|j| j.id).collect::<Vec<_>>(), [1, 2], "in write order");
    assert!(h.changes(changes.seq).unwrap().jobs.is_empty());
    drop(o);
    // Reopened: the live jobs come back, and a forgotten id is never reused.
    let o = Store::open(&path, None).unwrap();
    assert_eq!(o.live.keys().copied().collect::<Vec<_>>(), [1, 2]);
    assert_eq!(o.next_id, Some(4));
}

#[test]
fn a_long_queue_is_loaded_only_up_to_its_window() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jobs.db");
    let mut o = Store::open(&path, None).unwrap();
    let extra = 10;
    let n = (QUEUED_LOADED + extra) as u64;
    // A Processing job after the queue, and a finished one among it: both
    // states are loaded or left whatever the queue's length.
    let mut jobs: Vec<Job> = (1..=n).map(|id| job(id, JobState::Queued)).collect();
    jobs[4].state = JobState::Active;
    jobs.push(job(n + 1, JobState::Processing));
    o.store.write(&jobs, &[]).unwrap();
    drop(o);
    let o = Store::open(&path, None).unwrap();
    let queued: Vec<JobId> = o.live.values().filter(|j| j.state == JobState::Queued).map(|j| j.id).collect();
    assert_eq!(queued.len(), QUEUED_LOADED);
    assert_eq!(o.queued_after, queued.last().copied(), "the rest come after the last one loaded");
    assert_eq!(o.queued_after, Some(QUEUED_LOADED as u64 + 1), "ids 1..=2049 less the Active one");
    assert!(o.live.contains_key(&(n + 1)), "the Processing job is loaded");
    assert!(!o.live.contains_key(&5));
    let h = History::open(&path, None).unwrap();
    let queued = Filter { states: vec![JobState::Queued], ..Filter::default() };
    let rest = h.page(&queued, o.queued_after, true, 100).unwrap();
    assert_eq!(rest.len(), extra - 1, "what the engine reads on: the queue past the window");
    drop(o);
    // A short queue is loaded whole.
    let mut o = Store::open(&path, None).unwrap();
    o.store.write(&[], &(20..=n).collect::<Vec<_>>()).unwrap();
    drop(o);
    let o = Store::open(&path, None).unwrap();
    assert_eq!(o.queued_after, None);
    assert_eq!(o.live.len(), 18 + 1);
}

#[test]
fn pages_counts_and_filters_without_loading_everything() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jobs.db");
    let mut o = Store::open(&path, None).unwrap();
    let jobs: Vec<Job> = (1..=1000)
        .map(|id| {
            let mut j = job(id, if id % 10 == 0 { JobState::Failed } else { JobState::Active });
            if id % 100 == 0 {
                j.error = Some("Über-Fehler".into());
            }
            j
        })
        .collect();
    o.store.write(&jobs, &[]).unwrap();
    let h = History::open(&path, None).unwrap();
    let all = Filter::default();
    let ids = |v: Vec<Job>| v.into_iter().map(|j| j.id).collect::<Vec<_>>();
    assert_eq!(ids(h.page(&all, None, true, 3).unwrap()), [1, 2, 3]);
    assert_eq!(ids(h.page(&all, Some(500), true, 2).unwrap()), [501, 502]);
    assert_eq!(ids(h.page(&all, Some(500), false, 2).unwrap()), [498, 499], "the nearest come last");
    assert_eq!(ids(h.page(&all, None, false, 2).unwrap()), [999, 1000]);
    let failed = Filter { states: vec![JobState::Failed], ..Filter::default() };
    assert_eq!(h.count(&failed, u64::MAX).unwrap(), 100);
    assert_eq!(ids(h.page(&failed, Some(35), true, 2).unwrap()), [40, 50]);
    // The needle is case-insensitive beyond ASCII, and searches errors too.
    let umlaut = Filter { needle: "ÜBER".into(), ..Filter::default() };
    assert_eq!(h.count(&umlaut, u64::MAX).unwrap(), 10);
    assert!(umlaut.admits(&h.get(100).unwrap().unwrap()));
    let capped = Filter { needle: "n".into(), ..Filter::default() };
    assert_eq!(h.count(&capped, 50).unwrap(), 50);
    let some = Filter { ids: vec![5, 10, 2000], ..Filter::default() };
    assert_eq!(h.ids(&some).unwrap(), [5, 10]);
}

#[test]
fn same_identity_finds_finished_jobs_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jobs.db");
    let mut o = Store::open(&path, None).unwrap();
    let a = job(1, JobState::Active);
    let mut other_name = job(2, JobState::Active);
    other_name.spec.url = a.spec.url.clone();
    o.store.write(&[a.clone(), other_name], &[]).unwrap();
    let found = History::open(&path, None).unwrap().same_identity(&Job::dedup_key(&a.spec)).unwrap();
    assert_eq!(found.iter().map(|j| j.id).collect::<Vec<_>>(), [1], "same URL, other name: not the same");
}

#[test]
fn a_second_writer_is_refused_and_told_who_owns_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jobs.db");
    let first = Store::open(&path, None).unwrap();
    let Err(err) = Store::open(&path, None) else { panic!("two writers") };
    assert!(matches!(err, StoreError::Busy { .. }), "{err}");
    assert!(err.to_string().contains(&format!("pid {}", std::process::id())), "{err}");
    // Readers are welcome meanwhile.
    assert!(History::open(&path, None).is_ok());
    drop(first);
    assert!(Store::open(&path, None).is_ok());
}

#[test]
fn a_file_from_a_newer_release_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jobs.db");
    drop(Store::open(&path, None).unwrap());
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch("PRAGMA user_version = 99").unwrap();
    drop(conn);
    let Err(err) = Store::open(&path, None) else { panic!("opened") };
    assert!(err.to_string().contains("upgrade seedance-assets"), "{err}");
}

#[test]
fn a_killed_migration_leaves_no_temp_file_and_the_journal_intact() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jobs.db");
    let legacy = dir.path().join("journal.jsonl");
    let text =
        format!("{}\n{}\n", serde_json::json!({ "job": job(1, JobState::Active) }), serde_json::json!({ "forget": 1 }));
    std::fs::write(&legacy, &text).unwrap();
    // What a migration killed mid-way, and an old compaction, left behind.
    std::fs::write(dir.path().join(".jobs.db.migrating-4242"), b"partial").unwrap();
    std::fs::write(dir.path().join(".journal.jsonl.tmp-77"), b"partial").unwrap();
    let o = Store::open(&path, Some(&legacy)).unwrap();
    assert!(o.warnings.iter().filter(|w| w.contains("interrupted run")).count() == 2, "{:?}", o.warnings);
    assert!(o.live.is_empty());
    assert_eq!(o.next_id, Some(1));
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(!names.iter().any(|n| n.starts_with('.')), "{names:?}");
    assert_eq!(std::fs::read_to_string(dir.path().join("journal.jsonl.bak")).unwrap(), text);
}

#[test]
fn an_immutable_open_reads_a_store_whatever_its_path() {
    // What a reader falls back to in a read-only data dir; a name with URI
    // syntax in it (`?`, `#`, `%`) still names the file.
    let dir = tempfile::tempdir().unwrap();
    let odd = dir.path().join("a?b#c%41 d");
    std::fs::create_dir(&odd).unwrap();
    let path = odd.join("jobs.db");
    Store::open(&path, None).unwrap().store.write(&[job(1, JobState::Active), job(2, JobState::Failed)], &[]).unwrap();
    let conn = super::reader::open_immutable(&path).unwrap();
    let n: i64 = conn.query_row("SELECT COUNT(*) FROM jobs", [], |r| r.get(0)).unwrap();
    assert_eq!(n, 2);
    assert!(!odd.join("jobs.db-shm").exists(), "no index is created");
    assert!(std::fs::read_dir(dir.path()).unwrap().count() == 1, "no other file was opened or made");
}

/// Version 1's per-state and per-profile tables, as a store of that
/// release holds them.
const VERSION_1_TABLES: &str = "
DROP TRIGGER tally_insert; DROP TRIGGER tally_delete; DROP TRIGGER tally_update; DROP TABLE tally;
CREATE TABLE counts (state INTEGER PRIMARY KEY, n INTEGER NOT NULL);
CREATE TABLE profiles (profile TEXT PRIMARY KEY, n INTEGER NOT NULL);
CREATE TRIGGER profile_insert AFTER INSERT ON jobs BEGIN
    INSERT INTO profiles(profile, n) VALUES (NEW.profile, 1) ON CONFLICT(profile) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER count_insert AFTER INSERT ON jobs BEGIN
    INSERT INTO counts(state, n) VALUES (NEW.state, 1) ON CONFLICT(state) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER count_update AFTER UPDATE OF state ON jobs WHEN OLD.state <> NEW.state BEGIN
    UPDATE counts SET n = n - 1 WHERE state = OLD.state;
    INSERT INTO counts(state, n) VALUES (NEW.state, 1) ON CONFLICT(state) DO UPDATE SET n = n + 1;
END;
INSERT INTO counts SELECT state, COUNT(*) FROM jobs GROUP BY state;
INSERT INTO profiles SELECT profile, COUNT(*) FROM jobs GROUP BY profile;
PRAGMA user_version = 1;
";

#[test]
fn counts_per_profile_survive_the_upgrade_from_version_1() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jobs.db");
    let in_profile = |id, state, p: &str| {
        let mut j = job(id, state);
        j.spec.profile = p.into();
        j
    };
    let jobs = [
        in_profile(1, JobState::Active, "a"),
        in_profile(2, JobState::Active, "b"),
        in_profile(3, JobState::Failed, "b"),
        in_profile(4, JobState::Processing, "b"),
    ];
    let mut o = Store::open(&path, None).unwrap();
    o.store.write(&jobs, &[]).unwrap();
    drop(o);
    rusqlite::Connection::open(&path).unwrap().execute_batch(VERSION_1_TABLES).unwrap();
    let of = |h: &History, p: Option<&str>| -> Vec<(JobState, u64)> {
        JobState::ALL.into_iter().zip(h.counts(p).unwrap()).filter(|(_, n)| *n > 0).collect()
    };
    // Read before any owner upgraded it: counted from the jobs.
    let old = History::open(&path, None).unwrap();
    assert_eq!(of(&old, Some("b")), [(JobState::Processing, 1), (JobState::Active, 1), (JobState::Failed, 1)]);
    assert_eq!(old.profiles().unwrap(), ["a", "b"]);
    drop(old);
    // The owner upgrades it in place; the tally follows every later write.
    let mut o = Store::open(&path, None).unwrap();
    o.store.write(&[in_profile(4, JobState::Active, "b"), in_profile(5, JobState::Queued, "a")], &[1]).unwrap();
    let h = History::open(&path, None).unwrap();
    assert_eq!(of(&h, Some("a")), [(JobState::Queued, 1)]);
    assert_eq!(of(&h, Some("b")), [(JobState::Active, 2), (JobState::Failed, 1)]);
    assert_eq!(of(&h, None), [(JobState::Queued, 1), (JobState::Active, 2), (JobState::Failed, 1)]);
    assert_eq!(of(&h, Some("nobody")), []);
    let filter = Filter { profile: Some("b".into()), states: vec![JobState::Active], ..Filter::default() };
    assert_eq!(h.count(&filter, u64::MAX).unwrap(), 2);
    assert_eq!(h.profiles().unwrap(), ["a", "b"]);
    let conn = rusqlite::Connection::open(&path).unwrap();
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    let old_tables: i64 = conn
        .query_row("SELECT COUNT(*) FROM sqlite_master WHERE name IN ('counts', 'profiles', 'count_insert')", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!((version, old_tables), (2, 0));
}
