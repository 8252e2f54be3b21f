//! A dashboard state with a fixed clock and a mix of jobs, for snapshot and
//! state tests.

#![allow(dead_code)]

use jiff::Timestamp;
use seedance_assets::api::AssetType;
use seedance_assets::config::{Preset, TypeChoice};
use seedance_assets::engine::{Group, Job, JobState, Level, LogLine, NewJob, Stats, Update};
use seedance_assets::store::{History, Store};
use seedance_assets::tui::app::App;

pub const T0: i64 = 1_795_000_000;

pub fn at(secs: i64) -> Timestamp {
    Timestamp::from_second(T0 + secs).unwrap()
}

pub fn presets() -> Vec<Preset> {
    let mut refs = Preset::new("references", "group-20260412163933-zwxdc");
    refs.default = true;
    refs.description = Some("character and style references".into());
    let mut clips = Preset::new("clips", "group-20260415111540-w9pkb");
    clips.asset_type = TypeChoice::Fixed(AssetType::Video);
    clips.name_template = "{date}-{stem}-{n:3}".into();
    vec![refs, clips]
}

pub fn job(id: u64, name: &str, ext: &str, state: JobState) -> Job {
    let asset_type = AssetType::from_extension(ext).unwrap();
    let spec = NewJob {
        url: format!("https://media.example/refs/{name}.{ext}"),
        name: name.into(),
        asset_type,
        group_id: "group-20260412163933-zwxdc".into(),
        profile: "default".into(),
        local: None,
        media: None,
        conform: None,
    };
    let mut j = Job::new(id, spec, at(id as i64));
    j.state = state;
    j.updated_at = at(id as i64 + 20);
    j.create_attempts = 1;
    if !matches!(state, JobState::Queued | JobState::Creating | JobState::Rejected) {
        j.asset_id = Some(format!("asset-20261124120000-{id:06}"));
        j.task_id = Some(format!("task_{id:08}"));
    }
    j.error = match state {
        JobState::Failed => Some("InvalidParameter.DownloadFailed: the server could not download the URL".into()),
        JobState::Rejected => Some("rejected: NotFound.group_id: group `group-x` does not exist".into()),
        JobState::Uncertain => {
            Some("outcome unknown (network error); retry only if you accept a possible duplicate".into())
        }
        JobState::Stuck => Some("still processing after 900s; retry to keep polling".into()),
        _ => None,
    };
    j
}

/// A dashboard over a real job store in a temporary directory: jobs are
/// written to the store, then announced, as the engine does.
pub struct Board {
    /// The dashboard.
    pub app: App,
    store: Store,
    _dir: tempfile::TempDir,
}

impl std::ops::Deref for Board {
    type Target = App;
    fn deref(&self) -> &App {
        &self.app
    }
}

impl std::ops::DerefMut for Board {
    fn deref_mut(&mut self) -> &mut App {
        &mut self.app
    }
}

impl Board {
    /// Writes `job` to the store, then tells the dashboard (as the engine does).
    pub fn put(&mut self, job: Job) {
        self.store.write(std::slice::from_ref(&job), &[]).unwrap();
        self.app.apply(Update::Job(Box::new(job)));
    }

    /// Writes many jobs in one batch, then tells the dashboard.
    pub fn put_all(&mut self, jobs: Vec<Job>) {
        self.store.write(&jobs, &[]).unwrap();
        for job in jobs {
            self.app.apply(Update::Job(Box::new(job)));
        }
    }

    /// Forgets a job in the store, then tells the dashboard.
    pub fn forget(&mut self, id: u64) {
        self.store.write(&[], &[id]).unwrap();
        self.app.apply(Update::Removed(id));
    }
}

/// `app` over a new, empty job store.
pub fn board(mut app: App) -> Board {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jobs.db");
    let store = Store::open(&path, None).unwrap().store;
    app.list.attach(History::open(&path, None).unwrap());
    Board { app, store, _dir: dir }
}

/// A dashboard with one job in every state, some log lines and stats.
pub fn app(no_color: bool) -> Board {
    let mut app = board(App::new("simulator", presets(), no_color, "2026-11-24"));
    app.clock = Some(at(100));
    let names = [
        ("cat", "png", JobState::Active),
        ("intro", "mp4", JobState::Processing),
        ("theme", "mp3", JobState::Queued),
        ("dog", "webp", JobState::Creating),
        ("broken", "png", JobState::Failed),
        ("nogroup", "jpg", JobState::Rejected),
        ("maybe", "png", JobState::Uncertain),
        ("slow", "mov", JobState::Stuck),
    ];
    app.put_all(names.into_iter().enumerate().map(|(i, (n, e, s))| job(i as u64 + 1, n, e, s)).collect());
    app.apply(Update::Loaded);
    app.apply(Update::Groups(vec![Group { id: "group-20261124000000-abcde".into(), name: "made here".into() }]));
    app.apply(Update::Stats(Stats {
        requests_per_sec: 12,
        requests: 340,
        rate_limited: 0,
        creating: 1,
        ..Stats::default()
    }));
    for (i, (level, text)) in [
        (Level::Info, "queued 8 imports"),
        (Level::Error, "job #5 `broken` failed: InvalidParameter.DownloadFailed"),
        (Level::Warn, "job #7 `maybe` is uncertain: network error"),
    ]
    .into_iter()
    .enumerate()
    {
        app.apply(Update::Log(LogLine { time: at(50 + i as i64), level, text: text.into() }));
    }
    app.clear_status();
    app
}

/// Runs the dashboard's one pending submission (its Enter) through the real
/// front door — the app's defaults and policy, preflight off, no bucket —
/// hands the outcome back to the app as the event loop does (what would be
/// created counts as created), and returns the jobs it would create.
pub fn through_intake(app: &mut App) -> Vec<NewJob> {
    use seedance_assets::intake::{Fate, Intake, Source};
    let effects = app.take_effects();
    let [seedance_assets::tui::effect::Effect::Intake(sub)] = effects.as_slice() else {
        panic!("one submission: {effects:?}")
    };
    let intake = std::sync::Arc::new(Intake {
        defaults: app.input.defaults().expect("defaults"),
        policy: seedance_assets::intake::Policy { consent: sub.consent, ..app.input.policy() },
        checker: None,
        storage: Err(std::sync::Arc::new(seedance_assets::setup::StorageSetupError::NotConfigured {
            config: "config.toml".into(),
        })),
        limits: Default::default(),
        recursive: false,
        profile: "default".into(),
        concurrency: 4,
        conform: None,
        progress: None,
    });
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let mut items = rt.block_on(intake.read(vec![Source::inline("editor", sub.lines.join("\n"))]));
    let mut jobs = Vec::new();
    for (i, it) in items.iter_mut().enumerate() {
        if let Fate::Create { job, .. } = &it.fate {
            jobs.push(NewJob::clone(job));
            it.fate = Fate::Created(1000 + i as u64);
        }
    }
    app.intake_done(items);
    jobs
}
