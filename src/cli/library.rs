//! `reconcile` and `library`: the library as the server holds it. Listings
//! are streamed a page at a time; deletes ask with counts and delete
//! exactly what they listed; sync keeps the server's assets as jobs.

use std::time::Duration;

use futures::StreamExt;
use serde::Serialize;

use super::args::{AssetFilter, LibraryCommand};
use super::manage::{confirm, loaded};
use super::out;
use super::report::{print_json, print_table};
use crate::api::{ApiError, AssetInfo, AssetStatus, Client, Endpoint, LibraryError};
use crate::engine::{Command, JobId, JobState, Update};
use crate::exit::{AUTH, Failure, NOT_ALL_ACTIVE, SUCCESS, UNREACHABLE, USAGE};
use crate::library::{Capabilities, Pick};
use crate::options::GlobalArgs;
use crate::setup::Setup;
use crate::text::{plural, sanitize};

/// Assets handed to the engine per sync command.
const SYNC_CHUNK: usize = 500;
/// Deletes sent per second, at most.
const DELETES_PER_SEC: u32 = 10;

/// A library call's failure as a command's.
fn failed(what: &str, e: &LibraryError) -> Failure {
    let code = match e {
        LibraryError::Api(ApiError::Unauthorized { .. }) => AUTH,
        LibraryError::Api(e) if e.is_unreachable() => UNREACHABLE,
        _ => NOT_ALL_ACTIVE,
    };
    let hint = match e {
        LibraryError::Absent { .. } => "; `seedance-assets check` shows what this server offers",
        _ => "",
    };
    Failure::new(code, format!("{what}: {}{hint}", sanitize(&e.to_string())))
}

/// The profile's client, and the capabilities file to record what is learned.
struct Library {
    setup: Setup,
    caps: Capabilities,
}

impl Library {
    async fn open(global: &GlobalArgs) -> Result<Library, Failure> {
        let setup = Setup::new(global).await?;
        let caps = Capabilities::load(&setup.paths.capabilities());
        Ok(Library { setup, caps })
    }

    fn client(&self) -> &Client {
        &self.setup.client
    }

    /// Records what `r` showed of `endpoint` (saved at once: a later
    /// failure must not lose it).
    fn learn<T>(&mut self, endpoint: Endpoint, r: &Result<T, LibraryError>) {
        let base = self.setup.client.base_url().to_string();
        let before = self.caps.clone();
        self.caps.learn(&self.setup.profile.name, &base, endpoint, r);
        if self.caps.profiles.get(&self.setup.profile.name).map(|k| &k.endpoints)
            != before.profiles.get(&self.setup.profile.name).map(|k| &k.endpoints)
            && let Err(e) = self.caps.save(&self.setup.paths.capabilities())
        {
            eprintln!("warning: cannot save what the server offers: {e}");
        }
    }

    /// True when the server was found to lack `endpoint`.
    fn lacks(&self, endpoint: Endpoint) -> bool {
        self.caps
            .of(&self.setup.profile.name, self.setup.client.base_url().as_str())
            .is_some_and(|k| k.endpoints.get(endpoint.name()) == Some(&crate::library::Presence::Absent))
    }

    /// Every asset `pick` picks, page by page, passed to `each`.
    async fn each_asset(
        &mut self,
        pick: &Pick,
        mut each: impl FnMut(AssetInfo) -> Result<(), Failure>,
    ) -> Result<Listed, Failure> {
        let q = pick.query();
        let now = jiff::Timestamp::now();
        let mut listed = Listed::default();
        let client = self.setup.client.clone();
        let mut pages = std::pin::pin!(crate::library::assets(&client, &q));
        while let Some(page) = pages.next().await {
            self.learn(Endpoint::ListAssets, &page);
            let page = page.map_err(|e| failed("cannot list the server's assets", &e))?;
            listed.unreadable += page.unreadable;
            listed.total = page.total.or(listed.total);
            for a in page.items.into_iter().filter(|a| pick.admits(a, now)) {
                listed.picked += 1;
                each(a)?;
            }
        }
        Ok(listed)
    }
}

/// An asset known only by its id (no listing to show the rest).
fn unlisted(id: &str) -> AssetInfo {
    AssetInfo {
        id: Some(id.to_string()),
        name: None,
        url: None,
        asset_type: None,
        group_id: None,
        status: AssetStatus::Other("unlisted".into()),
        create_time: None,
        update_time: None,
        error: None,
    }
}

/// What a listing saw.
#[derive(Default)]
struct Listed {
    picked: usize,
    unreadable: usize,
    total: Option<u64>,
}

impl Listed {
    fn say(&self, what: &str) {
        let total = self.total.map(|t| format!(" (the server's count: {t})")).unwrap_or_default();
        eprintln!("{}{total}", plural(self.picked, what));
        self.warn();
    }

    fn warn(&self) {
        if self.unreadable > 0 {
            eprintln!("warning: {} of a shape that could not be read were left out", plural(self.unreadable, "item"));
        }
    }
}

/// An asset as `library assets --json` prints it.
#[derive(Serialize)]
struct Row<'a> {
    id: &'a str,
    name: &'a str,
    #[serde(rename = "type")]
    asset_type: &'a str,
    group_id: &'a str,
    status: &'a str,
    created: &'a str,
    url: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
}

fn row(a: &AssetInfo) -> Row<'_> {
    // Borrowed as sent; sanitized where printed as text.
    Row {
        id: a.id.as_deref().unwrap_or_default(),
        name: a.name.as_deref().unwrap_or_default(),
        asset_type: a.asset_type.as_deref().unwrap_or_default(),
        group_id: a.group_id.as_deref().unwrap_or_default(),
        status: a.status.as_str(),
        created: a.create_time.as_deref().unwrap_or_default(),
        url: a.url.as_deref().unwrap_or_default(),
        error: a.error.as_deref(),
    }
}

fn text_line(a: &AssetInfo) -> String {
    let r = row(a);
    [r.id, r.status, r.asset_type, r.group_id, r.created, r.name].map(sanitize).join("\t")
}

fn json_line(a: &AssetInfo) -> Result<(), Failure> {
    let text = serde_json::to_string(&row(a)).map_err(|e| Failure::from(e.to_string()))?;
    out::line(&text)
}

impl AssetFilter {
    fn pick(&self) -> Result<Pick, Failure> {
        let older_than = match self.older_than {
            None => None,
            Some(d) if (0.0..=36_500.0).contains(&d) => Some(Duration::from_secs_f64(d * 86_400.0)),
            Some(d) => {
                return Err(Failure::new(
                    USAGE,
                    format!("--older-than takes a number of days from 0 to 36500, not {d}"),
                ));
            }
        };
        Ok(Pick {
            ids: self.ids.clone(),
            groups: self.groups.clone(),
            statuses: self.statuses.iter().map(|s| capitalized(s)).collect(),
            name: self.name.clone(),
            types: self.types.clone(),
            older_than,
        })
    }
}

/// `failed` → `Failed`: the server's spelling.
fn capitalized(s: &str) -> String {
    let s = s.to_ascii_lowercase();
    let mut c = s.chars();
    c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
}

pub(super) async fn library(global: &GlobalArgs, cmd: LibraryCommand) -> Result<u8, Failure> {
    let mut lib = Library::open(global).await?;
    match cmd {
        LibraryCommand::Assets { filter, json } => {
            let pick = filter.pick()?;
            let listed =
                lib.each_asset(&pick, |a| if json { json_line(&a) } else { out::line(&text_line(&a)) }).await?;
            listed.say("asset");
            Ok(SUCCESS)
        }
        LibraryCommand::Groups { json } => {
            let client = lib.client().clone();
            let mut pages = std::pin::pin!(crate::library::groups(&client));
            let mut n = 0;
            while let Some(page) = pages.next().await {
                lib.learn(Endpoint::ListAssetGroups, &page);
                let page = page.map_err(|e| failed("cannot list the server's groups", &e))?;
                for g in page.items {
                    n += 1;
                    if json {
                        out::line(&serde_json::to_string(&g).map_err(|e| Failure::from(e.to_string()))?)?;
                    } else {
                        out::line(&format!("{}\t{}", sanitize(&g.id), sanitize(&g.name)))?;
                    }
                }
            }
            eprintln!("{}", plural(n, "group"));
            Ok(SUCCESS)
        }
        LibraryCommand::Rename { id, name } => {
            let name = name.trim().to_string();
            if name.is_empty() || name.chars().count() > 64 {
                return Err(Failure::new(USAGE, "a name is 1 to 64 characters"));
            }
            let r = crate::library::rename_asset(lib.client(), &id, &name).await;
            lib.learn(Endpoint::UpdateAsset, &r);
            r.map_err(|e| failed(&format!("cannot rename {}", sanitize(&id)), &e))?;
            eprintln!("renamed {} to `{}`", sanitize(&id), sanitize(&name));
            Ok(SUCCESS)
        }
        LibraryCommand::Delete { filter, dry_run, yes, empty_groups } => {
            delete(lib, &filter, dry_run, yes, empty_groups).await
        }
        LibraryCommand::Sync { filter } => sync(lib, &filter).await,
    }
}

async fn delete(
    mut lib: Library,
    filter: &AssetFilter,
    dry_run: bool,
    yes: bool,
    empty_groups: bool,
) -> Result<u8, Failure> {
    let pick = filter.pick()?;
    if pick == Pick::default() {
        return Err(Failure::new(
            USAGE,
            "name what to delete: --id, --group, --status, --name, --type or --older-than (and see it first with --dry-run)",
        ));
    }
    // Exactly what was listed is what is deleted: the list is made first.
    let mut doomed: Vec<AssetInfo> = Vec::new();
    let listed = lib
        .each_asset(&pick, |a| {
            if dry_run {
                out::line(&text_line(&a))?;
            }
            doomed.push(a);
            Ok(())
        })
        .await;
    let ids_only = Pick { ids: Vec::new(), ..pick.clone() } == Pick::default();
    let listed = match listed {
        // A server without a listing can still delete the ids given.
        Err(_) if ids_only && lib.lacks(Endpoint::ListAssets) => {
            eprintln!("the server has no listing: deleting the ids given, unchecked");
            doomed = pick.ids.iter().map(|id| unlisted(id)).collect();
            if dry_run {
                doomed.iter().try_for_each(|a| out::line(&text_line(a)))?;
            }
            Listed { picked: doomed.len(), ..Listed::default() }
        }
        other => other?,
    };
    let mut by_status: std::collections::BTreeMap<&str, usize> = Default::default();
    for a in &doomed {
        *by_status.entry(a.status.as_str()).or_default() += 1;
    }
    let counts: Vec<String> = by_status.iter().map(|(s, n)| format!("{n} {s}")).collect();
    let summary = format!(
        "{}{}",
        plural(doomed.len(), "asset"),
        if counts.is_empty() { String::new() } else { format!(" ({})", counts.join(", ")) }
    );
    if dry_run {
        eprintln!("{summary} would be deleted (nothing was)");
        listed.warn();
        return Ok(SUCCESS);
    }
    if doomed.is_empty() {
        eprintln!("nothing to delete");
    } else if !yes && !confirm(&format!("delete {summary} from the server? This cannot be undone"))? {
        eprintln!("nothing deleted");
        return Ok(NOT_ALL_ACTIVE);
    }
    let mut pace = tokio::time::interval(Duration::from_secs(1) / DELETES_PER_SEC);
    let (mut deleted, mut failures) = (Vec::new(), Vec::new());
    for a in &doomed {
        let id = a.id.clone().unwrap_or_default();
        pace.tick().await;
        let r = crate::library::delete_asset(lib.client(), &id).await;
        lib.learn(Endpoint::DeleteAsset, &r);
        match r {
            Ok(()) => deleted.push(id),
            Err(e @ LibraryError::Absent { .. }) => return Err(failed("cannot delete", &e)),
            Err(e) => failures.push(format!("{}: {}", sanitize(&id), sanitize(&e.to_string()))),
        }
    }
    if !doomed.is_empty() {
        eprintln!("deleted {} of {summary}", deleted.len());
    }
    for f in &failures {
        eprintln!("not deleted: {f}");
    }
    forget_deleted(&lib.setup, &deleted).await;
    if empty_groups {
        for g in &filter.groups {
            let r = lib.client().delete_group(g).await;
            lib.learn(Endpoint::DeleteAssetGroup, &r);
            match r {
                Ok(()) => eprintln!("deleted group {}", sanitize(g)),
                Err(e) => {
                    failures.push(g.clone());
                    eprintln!("group {} not deleted: {}", sanitize(g), sanitize(&e.to_string()));
                }
            }
        }
    }
    Ok(if failures.is_empty() { SUCCESS } else { NOT_ALL_ACTIVE })
}

/// Forgets the jobs that held deleted assets (through the engine, which
/// owns the job store): they cannot be used any more, and would take a new
/// import of the same item for a duplicate.
async fn forget_deleted(setup: &Setup, deleted: &[String]) {
    if deleted.is_empty() {
        return;
    }
    let (engine, updates, task) = match setup.try_start_engine() {
        Ok(started) => started,
        Err(e) => {
            eprintln!(
                "warning: the jobs holding the deleted assets stay in the job store ({e}); `seedance-assets forget` removes them"
            );
            return;
        }
    };
    let mut updates = loaded(updates).await;
    engine.send(Command::AssetsDeleted(deleted.to_vec()));
    engine.send(Command::Shutdown);
    let mut forgotten = 0;
    while let Some(u) = updates.recv().await {
        match u {
            Update::Removed(_) => forgotten += 1,
            Update::Stopped { .. } => break,
            _ => {}
        }
    }
    let _ = task.await;
    if forgotten > 0 {
        eprintln!("forgot {} that held them", plural(forgotten, "job"));
    }
}

async fn sync(mut lib: Library, filter: &AssetFilter) -> Result<u8, Failure> {
    let pick = filter.pick()?;
    let (engine, updates, task) = lib.setup.start_engine()?;
    let mut updates = loaded(updates).await;
    let profile = lib.setup.profile.name.clone();
    let (mut added, mut known, mut sent) = (0, 0, 0);
    let mut chunk = Vec::new();
    let mut flush = |chunk: &mut Vec<AssetInfo>| {
        if !chunk.is_empty() {
            engine.send(Command::Sync { profile: profile.clone(), assets: std::mem::take(chunk) });
            sent += 1;
        }
    };
    let listed = lib
        .each_asset(&pick, |a| {
            chunk.push(a);
            if chunk.len() >= SYNC_CHUNK {
                flush(&mut chunk);
            }
            Ok(())
        })
        .await;
    flush(&mut chunk);
    let mut answered = 0;
    while answered < sent {
        match updates.recv().await {
            Some(Update::Synced { added: a, known: k }) => {
                added += a;
                known += k;
                answered += 1;
            }
            Some(_) => {}
            None => break,
        }
    }
    engine.send(Command::Shutdown);
    let _ = task.await;
    let listed = listed?;
    listed.say("asset");
    eprintln!("kept {} as jobs; {known} were known here already", plural(added, "asset"));
    Ok(SUCCESS)
}

/// Checks each pick before it is sent: the job is Uncertain, and the asset
/// is in the job's group under the job's name.
async fn check_picks(setup: &Setup, picks: &[(JobId, String)]) -> Result<(), Failure> {
    let store = |e: crate::store::StoreError| Failure::new(crate::exit::JOURNAL, e.to_string());
    let history = setup.history().map_err(store)?;
    let mut taken = std::collections::HashSet::new();
    for (job, asset) in picks {
        if !taken.insert(asset.as_str()) {
            return Err(Failure::new(USAGE, format!("{} is picked twice: an asset is one job's", sanitize(asset))));
        }
        if let Some(holder) = history.holding(asset).map_err(store)?.into_iter().find(|h| h != job) {
            return Err(Failure::new(
                USAGE,
                format!("{} is job #{holder}'s already: pick one of the candidates no job holds", sanitize(asset)),
            ));
        }
        let j =
            history.get(*job).map_err(store)?.ok_or_else(|| Failure::new(USAGE, format!("there is no job #{job}")))?;
        if j.state != JobState::Uncertain {
            return Err(Failure::new(
                USAGE,
                format!("job #{job} is {}: only an Uncertain job can be given an asset", j.state),
            ));
        }
        let client = setup.client_for(&j.spec.profile)?;
        let q = crate::api::AssetQuery {
            group_ids: vec![j.spec.group_id.clone()],
            name: Some(j.spec.name.clone()),
            ..Default::default()
        };
        let mut found = false;
        let mut pages = std::pin::pin!(crate::library::assets(&client, &q));
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| failed("cannot check the pick in the server's listing", &e))?;
            found |= page
                .items
                .iter()
                .any(|a| a.id.as_deref() == Some(asset.as_str()) && a.name.as_deref() == Some(j.spec.name.as_str()));
        }
        if !found {
            return Err(Failure::new(
                USAGE,
                format!(
                    "{} is not an asset named `{}` in group {}: pick one of the candidates `status {job}` shows",
                    sanitize(asset),
                    sanitize(&j.spec.name),
                    sanitize(&j.spec.group_id)
                ),
            ));
        }
    }
    Ok(())
}

/// The assets the account holds and may hold, when the server's listing
/// says (one free request; skipped where the listing is known absent).
pub(super) async fn holdings(setup: &Setup) -> Option<(u64, u64)> {
    let path = setup.paths.capabilities();
    let mut caps = Capabilities::load(&path);
    let profile = &setup.profile.name;
    let absent = caps
        .of(profile, setup.client.base_url().as_str())
        .is_some_and(|k| k.endpoints.get(Endpoint::ListAssets.name()) == Some(&crate::library::Presence::Absent));
    if absent {
        return None;
    }
    // One try: an import does not wait on a server that is slow to list.
    let r = crate::library::held(&setup.client).await;
    caps.learn(profile, setup.client.base_url().as_str(), Endpoint::ListAssets, &r);
    let total = r.ok()?;
    caps.count(profile, total);
    let _ = caps.save(&path);
    Some((total?, setup.profile.limits.max_assets))
}

pub(super) async fn reconcile(global: &GlobalArgs, picks: Vec<(JobId, String)>, json: bool) -> Result<u8, Failure> {
    let setup = Setup::new(global).await?;
    let (engine, updates, task) = setup.start_engine()?;
    let mut updates = loaded(updates).await;
    if let Err(e) = check_picks(&setup, &picks).await {
        engine.send(Command::Shutdown);
        let _ = task.await;
        return Err(e);
    }
    for (job, asset) in picks {
        engine.send(Command::Pick { job, asset });
    }
    engine.send(Command::Reconcile);
    let mut report = None;
    // A pass the engine ran by itself at start, before the one asked for,
    // settled jobs of this command too: counted with it.
    let mut earlier = crate::engine::Reconciled::default();
    let mut looked_at = 0;
    while let Some(u) = updates.recv().await {
        match u {
            Update::Reconciled(mut r) if r.asked && report.is_none() => {
                // What was settled adds up; what is left is the last pass's.
                r.done.adopted += earlier.adopted;
                r.done.resent += earlier.resent;
                r.unsettled = r.unsettled.max(looked_at);
                report = Some(r);
                engine.send(Command::Shutdown);
            }
            Update::Reconciled(r) if report.is_none() => {
                earlier.adopted += r.done.adopted;
                earlier.resent += r.done.resent;
                looked_at = looked_at.max(r.unsettled);
            }
            Update::Log(l) if l.level != crate::engine::Level::Info => eprintln!("{}", l.text),
            Update::Stopped { .. } => break,
            _ => {}
        }
    }
    let _ = task.await;
    let Some(report) = report else {
        return Err(Failure::new(NOT_ALL_ACTIVE, "the engine stopped before reconciling"));
    };
    eprintln!("{}", report.describe());
    if report.done.resent > 0 {
        eprintln!(
            "{} proven never created {} sent again; `seedance-assets wait` follows {}",
            plural(report.done.resent, "job"),
            if report.done.resent == 1 { "was" } else { "were" },
            if report.done.resent == 1 { "it" } else { "them" }
        );
    }
    let history = setup.history().map_err(|e| Failure::new(crate::exit::JOURNAL, e.to_string()))?;
    let left = crate::store::Filter { states: vec![JobState::Uncertain], ..Default::default() };
    let left = history.jobs(&left).map_err(|e| Failure::new(crate::exit::JOURNAL, e.to_string()))?;
    if json {
        print_json(&left)?;
    } else if !left.is_empty() {
        print_table(&left)?;
    }
    Ok(if left.is_empty() && report.no_listing.is_empty() { SUCCESS } else { NOT_ALL_ACTIVE })
}
