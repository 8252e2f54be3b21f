//! `check`: is this setup ready? One line per check (like `gh auth status`),
//! `--json`, and the exit code of the worst result.

use std::io::IsTerminal;

use serde::Serialize;

use super::out;
use crate::api::{ApiError, Client};
use crate::exit::{AUTH, Failure, NOT_ALL_ACTIVE, SUCCESS, UNREACHABLE, USAGE};
use crate::options::GlobalArgs;
use crate::setup::{Context, client_for};

/// How a check came out, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
enum Status {
    /// Fine.
    Ok,
    /// Not applicable or not configured.
    Skip,
    /// Works, but something deserves a look.
    Warn,
    /// Broken.
    Fail,
}

/// One check's result.
#[derive(Debug, Serialize)]
struct Outcome {
    check: &'static str,
    status: Status,
    detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    latency_ms: Option<f64>,
    /// The exit code a failure means.
    #[serde(skip)]
    code: u8,
}

fn outcome(check: &'static str, status: Status, detail: impl Into<String>) -> Outcome {
    let code = match status {
        Status::Ok | Status::Skip => SUCCESS,
        Status::Warn => NOT_ALL_ACTIVE,
        Status::Fail => USAGE,
    };
    Outcome { check, status, detail: crate::text::sanitize(&detail.into()), latency_ms: None, code }
}

/// Largest clock difference from the server that is fine (presigned URLs
/// and request signatures usually tolerate minutes; warn well before).
const SKEW_WARN_SECS: f64 = 30.0;

pub(super) async fn check(global: &GlobalArgs, json: bool) -> Result<u8, Failure> {
    let mut results = Vec::new();
    let mut demo = None;
    let mut demo_storage = None;
    let ctx = match Context::load(global) {
        Ok(ctx) => {
            let file = &ctx.loaded.path;
            let what = if ctx.loaded.text.is_some() { "valid" } else { "does not exist: built-in defaults" };
            let mut o =
                outcome("config", Status::Ok, format!("{} {what}; profile `{}`", file.display(), ctx.profile.name));
            if !ctx.loaded.warnings.is_empty() {
                o = outcome("config", Status::Warn, ctx.loaded.warnings.join("; "));
            }
            results.push(o);
            Some(ctx)
        }
        Err(e) => {
            results.push(outcome("config", Status::Fail, e.message));
            None
        }
    };
    let client = match &ctx {
        None => None,
        Some(ctx) if ctx.demo => {
            let lock = crate::demo::lock(&ctx.paths)?;
            let sim = crate::demo::start(&ctx.paths, &lock).await?;
            let loaded = crate::config::Config::load(&ctx.paths.config_file)?;
            results.push(outcome("key", Status::Ok, "the demo key (--demo)"));
            let client = client_for(&loaded, true, crate::config::DEFAULT_PROFILE)?;
            demo_storage = crate::setup::storage_for(&loaded, &ctx.profile, true);
            demo = Some((sim, lock));
            Some(client)
        }
        Some(ctx) => key_checks(ctx, &mut results),
    };
    match (&client, &ctx) {
        (Some(client), Some(ctx)) => {
            server_checks(client, &mut results).await;
            // Only with a key the server accepts: a refused one would only be refused again.
            if results.iter().any(|r| r.check == "auth" && r.status != Status::Fail)
                && results.iter().any(|r| r.check == "server" && r.status == Status::Ok)
            {
                library_checks(client, ctx, &mut results).await;
            }
        }
        _ => {
            for name in ["server", "auth", "clock"] {
                results.push(outcome(name, Status::Skip, "skipped: no usable config or key"));
            }
        }
    }
    let storage = match &ctx {
        Some(ctx) if ctx.demo => demo_storage,
        Some(ctx) => crate::setup::storage_for(&ctx.loaded, &ctx.profile, false),
        None => None,
    };
    results.push(storage_check(storage).await);
    if let Some(ctx) = &ctx {
        results.push(conform_check(&ctx.loaded.config.conform));
    }
    results.push(terminal());
    drop(demo);
    if json {
        out::json(&results)?;
    } else {
        let mut text = String::new();
        for r in &results {
            let mark = match r.status {
                Status::Ok => "✓",
                Status::Skip => "-",
                Status::Warn => "!",
                Status::Fail => "✗",
            };
            text.push_str(&format!("{mark} {:<8} {}\n", r.check, r.detail));
        }
        out::print(&text)?;
    }
    let worst = results.iter().map(|r| r.status).max().unwrap_or(Status::Ok);
    Ok(results.iter().find(|r| r.status == worst).map_or(SUCCESS, |r| r.code))
}

/// The optional endpoints the server offers (free listings only, each asked
/// for one item; remembered in the data dir), and the account's asset count
/// against `limits.max_assets`.
async fn library_checks(client: &Client, ctx: &Context, results: &mut Vec<Outcome>) {
    let path = ctx.paths.capabilities();
    let mut caps = crate::library::Capabilities::load(&path);
    let probed = crate::library::probe(client, &ctx.profile.name, &mut caps).await;
    if let Err(e) = caps.save(&path) {
        results.push(outcome(
            "library",
            Status::Warn,
            format!("cannot save what the server offers to {}: {e}", path.display()),
        ));
    }
    let known = caps.of(&ctx.profile.name, client.base_url().as_str()).map(|k| k.describe()).unwrap_or_default();
    let max = ctx.profile.limits.max_assets;
    match &probed.assets {
        Ok(_) => results.push(outcome(
            "library",
            Status::Ok,
            format!("{known}: Uncertain jobs are settled from the listing; `library` lists, deletes and syncs"),
        )),
        Err(crate::api::LibraryError::Absent { .. }) => results.push(outcome(
            "library",
            Status::Skip,
            format!("{known}: no listing, so Uncertain jobs cannot be settled automatically (check the asset library by hand)"),
        )),
        Err(e) => results.push(outcome("library", Status::Warn, format!("cannot tell whether the server lists assets: {e}"))),
    }
    results.push(match probed.assets.as_ref().ok().copied().flatten() {
        None => outcome("quota", Status::Skip, format!("the server does not say how many assets the account holds (limits.max_assets = {max})")),
        Some(n) => {
            let status = if n >= max { Status::Fail } else if n * 10 >= max * 9 { Status::Warn } else { Status::Ok };
            let mut o = outcome(
                "quota",
                status,
                format!("the account holds {n} of {max} assets (limits.max_assets){}", if n * 10 >= max * 9 {
                    "; delete unused ones with `seedance-assets library delete --status failed` (or --older-than DAYS)"
                } else {
                    ""
                }),
            );
            if status == Status::Fail {
                o.code = crate::exit::QUOTA;
            }
            o
        }
    });
}

/// The tools conforming needs: found or not, and what is missing costs.
fn conform_check(cfg: &crate::conform::ConformConfig) -> Outcome {
    let on = if cfg.enabled { "on for every import" } else { "off unless asked (import --conform)" };
    match crate::conform::Tools::find(cfg) {
        Ok(t) => outcome(
            "conform",
            Status::Ok,
            format!("ffmpeg {}, ffprobe {}; conforming is {on}", t.ffmpeg.display(), t.ffprobe.display()),
        ),
        Err((tool, looked)) => outcome(
            "conform",
            if cfg.enabled { Status::Warn } else { Status::Skip },
            format!(
                "{tool} not found ({looked}): conforming refuses video and audio that need it (images still conform); conforming is {on}"
            ),
        ),
    }
}

/// The bucket local files go through, checked for real: credentials,
/// existence and rights, by writing, finding and deleting a probe object.
async fn storage_check(
    storage: Option<Result<crate::storage::Storage, std::sync::Arc<crate::setup::StorageSetupError>>>,
) -> Outcome {
    match storage {
        None => outcome("storage", Status::Skip, "not configured (no [storage] table; needed for local files only)"),
        Some(Err(e)) => outcome("storage", Status::Fail, e.to_string()),
        Some(Ok(storage)) => {
            let started = std::time::Instant::now();
            match storage.probe().await {
                Ok(_) => {
                    let mut o = outcome(
                        "storage",
                        Status::Ok,
                        format!("{}: a probe object written, found and deleted", storage.bucket_url()),
                    );
                    o.latency_ms = Some(started.elapsed().as_secs_f64() * 1000.0);
                    o
                }
                Err(e) => outcome("storage", Status::Fail, e.to_string()),
            }
        }
    }
}

/// The key's presence and the config file's permissions; the client when a key was found.
fn key_checks(ctx: &Context, results: &mut Vec<Outcome>) -> Option<Client> {
    let cfg = &ctx.loaded.config;
    let path = &ctx.loaded.path;
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path) {
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o022 != 0 {
                results.push(outcome(
                    "perms",
                    Status::Warn,
                    format!(
                        "{} is writable by others (mode {mode:o}): they could redirect your key; chmod 600 it",
                        path.display()
                    ),
                ));
            } else {
                results.push(outcome("perms", Status::Ok, format!("{} mode {mode:o}", path.display())));
            }
        }
    }
    match cfg.profile_key(&ctx.profile, path, |k| std::env::var(k).ok()) {
        Ok((_, source)) => {
            let from = match source {
                crate::config::Source::Env(name) => format!("from the environment variable {name}"),
                _ => format!("from {} (a private file)", path.display()),
            };
            results.push(outcome("key", Status::Ok, format!("present, {from}")));
        }
        Err(e) => {
            results.push(outcome("key", Status::Fail, e.to_string()));
            return None;
        }
    }
    match client_for(&ctx.loaded, false, &ctx.profile.name) {
        Ok(c) => Some(c),
        Err(e) => {
            results.push(outcome("key", Status::Fail, e.message));
            None
        }
    }
}

/// Reachability and latency, key acceptance, clock skew: one unbilled call.
async fn server_checks(client: &Client, results: &mut Vec<Outcome>) {
    let host = client.base_url().as_str().trim_end_matches('/').to_string();
    let probe = client.probe().await;
    let ms = probe.latency.as_secs_f64() * 1000.0;
    if let Err(ApiError::Network { detail, .. }) = &probe.result {
        let mut o = outcome("server", Status::Fail, format!("{host} cannot be reached: {detail}"));
        o.code = UNREACHABLE;
        results.push(o);
        results.push(outcome("auth", Status::Skip, "skipped: the server cannot be reached"));
        results.push(outcome("clock", Status::Skip, "skipped: the server cannot be reached"));
        return;
    }
    let mut o = outcome("server", Status::Ok, format!("{host} answered in {ms:.0} ms"));
    o.latency_ms = Some((ms * 10.0).round() / 10.0);
    results.push(o);
    results.push(match &probe.result {
        Err(ApiError::Rejected { code, .. }) if crate::api::is_unknown_task(code) => outcome(
            "auth",
            Status::Ok,
            "the key is accepted (GetAsset on a task that cannot exist: not found; nothing billed)",
        ),
        // A 404 that is not about the task is about the path: it says
        // nothing of the key.
        Err(e @ ApiError::Rejected { code, .. }) if code.contains("404") || code.eq_ignore_ascii_case("NotFound") => {
            outcome(
                "auth",
                Status::Warn,
                format!("cannot tell whether the key is accepted: GetAsset was not found at {host}; check the path of api.base_url ({e})"),
            )
        }
        Ok(_) => outcome("auth", Status::Ok, "the key is accepted"),
        Err(e @ ApiError::Unauthorized { .. }) => {
            let mut o = outcome("auth", Status::Fail, e.to_string());
            o.code = AUTH;
            o
        }
        Err(e) => outcome("auth", Status::Warn, format!("cannot tell whether the key is accepted: {e}")),
    });
    results.push(match probe.server_date {
        None => outcome("clock", Status::Skip, "the server sent no Date header"),
        Some(date) => {
            let skew = jiff::Timestamp::now().duration_since(date).as_secs_f64();
            // The header has a resolution of one second.
            let status = if skew.abs() <= SKEW_WARN_SECS { Status::Ok } else { Status::Warn };
            let side = if skew >= 0.0 { "ahead of" } else { "behind" };
            outcome(
                "clock",
                status,
                format!("this machine is {:.0} s {side} the server (presigned URLs need it close)", skew.abs()),
            )
        }
    });
}

/// Colours and clipboard: what the dashboard will be able to do here.
fn terminal() -> Outcome {
    if !std::io::stdout().is_terminal() {
        return outcome("terminal", Status::Skip, "stdout is not a terminal");
    }
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let term = var("TERM").unwrap_or_else(|| "unset".into());
    let colour = if var("NO_COLOR").is_some() {
        "NO_COLOR set: no colours".to_string()
    } else if var("COLORTERM").is_some_and(|v| v == "truecolor" || v == "24bit") {
        "truecolor".to_string()
    } else if term.contains("256color") {
        "256 colours".to_string()
    } else if term == "dumb" {
        "a dumb terminal: no colours".to_string()
    } else {
        "basic colours".to_string()
    };
    let clipboard = if var("TMUX").is_some() {
        "OSC 52 copy: inside tmux, needs `set -g set-clipboard on`"
    } else if var("STY").is_some() {
        "OSC 52 copy: GNU screen usually drops it"
    } else {
        "OSC 52 copy: sent to the terminal, which must allow clipboard writes"
    };
    let ssh = if var("SSH_CONNECTION").is_some() { "; over SSH" } else { "" };
    let status = if term == "dumb" || term == "unset" { Status::Warn } else { Status::Ok };
    outcome("terminal", status, format!("TERM={term}, {colour}{ssh}; {clipboard}"))
}
