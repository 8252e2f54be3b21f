//! `config path`, `config show` and `config init`.

use std::io::Write;

use serde::Serialize;
use serde_json::{Value, json};

use super::args::ConfigCommand;
use super::out;
use crate::config::{ACCESS_KEY_ENV, API_KEY_ENV, Config, DEFAULT_PROFILE, SECRET_KEY_ENV, Source, StorageConfig};
use crate::exit::{Failure, USAGE};
use crate::options::GlobalArgs;
use crate::setup::Context;

/// The example config, documenting every key.
const EXAMPLE: &str = include_str!("../../config.example.toml");

pub(super) fn config(global: &GlobalArgs, cmd: ConfigCommand) -> Result<u8, Failure> {
    match cmd {
        ConfigCommand::Path { json } => path(global, json),
        ConfigCommand::Show { json } => show(global, json),
        ConfigCommand::Init => init(global),
    }
}

fn path(global: &GlobalArgs, json: bool) -> Result<u8, Failure> {
    let ctx = Context::load(global)?;
    let p = &ctx.paths;
    let rows = [
        ("config", p.config_file.display().to_string()),
        ("data", p.data_dir.display().to_string()),
        ("store", p.store().display().to_string()),
        ("groups", p.groups().display().to_string()),
        ("polling", p.polling().display().to_string()),
        ("exports", p.data_dir.join("exports").display().to_string()),
        ("logs", p.log_dir.display().to_string()),
        ("log", crate::logging::log_file(&p.log_dir).display().to_string()),
    ];
    if json {
        let map: serde_json::Map<String, Value> = rows.iter().map(|(k, v)| (k.to_string(), json!(v))).collect();
        out::json(&map)?;
    } else {
        let mut text = String::new();
        for (k, v) in rows {
            text.push_str(&format!("{k:<8} {v}\n"));
        }
        text.push_str(&format!(
            "(the log rotates daily, UTC; the last {} files are kept){}\n",
            crate::logging::KEEP_FILES,
            if p.config_file.exists() { "" } else { "; the config file does not exist yet: `config init` writes one" }
        ));
        out::print(&text)?;
    }
    Ok(0)
}

/// One effective setting.
#[derive(Debug, Serialize)]
struct Setting {
    key: String,
    value: Value,
    source: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    env: Option<String>,
}

fn setting(key: impl Into<String>, value: Value, source: &Source) -> Setting {
    let (source, env) = match source {
        Source::Env(name) => ("env".to_string(), Some(name.clone())),
        other => (other.to_string(), None),
    };
    Setting { key: key.into(), value, source, env }
}

/// True when the file sets `path` (a dotted key as a list of parts).
fn in_file(table: &toml::Table, path: &[&str]) -> bool {
    let mut t = table;
    for (i, part) in path.iter().enumerate() {
        match t.get(*part) {
            Some(toml::Value::Table(inner)) if i + 1 < path.len() => t = inner,
            Some(_) if i + 1 == path.len() => return true,
            _ => return false,
        }
    }
    false
}

fn show(global: &GlobalArgs, json: bool) -> Result<u8, Failure> {
    let ctx = Context::load(global)?;
    let table: toml::Table = ctx.loaded.text.as_deref().and_then(|t| t.parse().ok()).unwrap_or_default();
    let file_or_default = |path: &[&str]| if in_file(&table, path) { Source::File } else { Source::Default };
    let cfg = &ctx.loaded.config;
    let profile = &ctx.profile;
    let (config_src, data_src) =
        if ctx.demo { (Source::Flag, Source::Flag) } else { (global.config_source(), global.data_dir_source()) };
    let mut rows = vec![
        setting("config_file", json!(ctx.paths.config_file.display().to_string()), &config_src),
        setting("data_dir", json!(ctx.paths.data_dir.display().to_string()), &data_src),
        setting("profile", json!(profile.name), &ctx.profile_source),
        setting("profiles", json!(cfg.profile_names()), &file_or_default(&["profiles"])),
    ];
    // A named profile's own keys, else [api]'s.
    let named = profile.name != DEFAULT_PROFILE;
    let api_key = |key: &str| -> (String, Source) {
        if named && in_file(&table, &["profiles", &profile.name, key]) {
            (format!("profiles.{}.{key}", profile.name), Source::File)
        } else {
            (format!("api.{key}"), file_or_default(&["api", key]))
        }
    };
    let (k, s) = api_key("base_url");
    let env = |k: &str| std::env::var(k).ok();
    let s = match cfg.base_url_override(&profile.name, env) {
        Some(_) if !ctx.demo => Source::Env(crate::config::BASE_URL_ENV.into()),
        _ => s,
    };
    rows.push(setting(k, json!(profile.api.base_url), &s));
    match cfg.profile_key(profile, &ctx.loaded.path, |k| std::env::var(k).ok()) {
        Ok((_, source)) => {
            let key = match &source {
                Source::Env(name) if name == API_KEY_ENV => "api_key".to_string(),
                Source::Env(_) => api_key("api_key_env").0,
                _ => api_key("api_key").0,
            };
            rows.push(setting(key, json!("<redacted>"), &source));
        }
        Err(_) if ctx.demo => rows.push(setting("api.api_key", json!("<redacted: demo key>"), &Source::Default)),
        Err(_) => rows.push(setting(api_key("api_key").0, Value::Null, &Source::Default)),
    }
    if let Some(name) = &profile.api.api_key_env {
        let (k, s) = api_key("api_key_env");
        rows.push(setting(k, json!(name), &s));
    }
    for (key, value) in [
        ("connect_timeout_secs", profile.api.connect_timeout_secs),
        ("request_timeout_secs", profile.api.request_timeout_secs),
    ] {
        let (k, s) = api_key(key);
        rows.push(setting(k, json!(value), &s));
    }
    let limits = [
        ("max_creating", profile.limits.max_creating as u64),
        ("create_per_sec", u64::from(profile.limits.create_per_sec)),
        ("get_per_sec", u64::from(profile.limits.get_per_sec)),
        ("max_assets", profile.limits.max_assets),
    ];
    for (key, value) in limits {
        let (k, s) = if named && in_file(&table, &["profiles", &profile.name, "limits", key]) {
            (format!("profiles.{}.limits.{key}", profile.name), Source::File)
        } else {
            (format!("limits.{key}"), file_or_default(&["limits", key]))
        };
        rows.push(setting(k, json!(value), &s));
    }
    rows.push(setting(
        "limits.max_processing",
        json!(cfg.limits.max_processing),
        &file_or_default(&["limits", "max_processing"]),
    ));
    let p = &cfg.polling;
    let polling = [
        ("first_secs", json!(p.first_secs)),
        ("backoff", json!(p.backoff)),
        ("max_interval_secs", json!(p.max_interval_secs)),
        ("jitter", json!(p.jitter)),
        ("stuck_after_secs", json!(p.stuck_after_secs)),
        ("retry_budget", json!(p.retry_budget)),
        ("adaptive", json!(p.adaptive)),
    ];
    table_rows("polling", polling, &file_or_default, &mut rows);
    let r = &cfg.reconcile;
    let reconcile = [
        ("auto", json!(r.auto)),
        ("every_secs", json!(r.every_secs)),
        ("settle_secs", json!(r.settle_secs)),
        ("window_secs", json!(r.window_secs)),
    ];
    table_rows("reconcile", reconcile, &file_or_default, &mut rows);
    let caps = crate::library::Capabilities::load(&ctx.paths.capabilities());
    let known = caps.of(
        &profile.name,
        crate::api::check_base_url(&profile.api.base_url).map(|u| u.to_string()).unwrap_or_default().as_str(),
    );
    let offered = known.map_or_else(|| "not probed yet (`check` asks the server)".to_string(), |k| k.describe());
    rows.push(setting("server.endpoints", json!(offered), &crate::config::Source::Learned));
    if let Some(n) = known.and_then(|k| k.assets) {
        rows.push(setting("server.assets", json!(n), &crate::config::Source::Learned));
    }
    let mut leaves = Vec::new();
    flatten("preflight", &serde_json::to_value(&cfg.preflight).unwrap_or_default(), &mut leaves);
    for (key, value) in leaves {
        let path: Vec<&str> = key.split('.').collect();
        rows.push(setting(key.clone(), value, &file_or_default(&path)));
    }
    storage_rows(cfg.storage.as_ref(), &file_or_default, &mut rows);
    let names: Vec<&str> = cfg.presets.iter().map(|p| p.name.as_str()).collect();
    rows.push(setting("presets", json!(names), &file_or_default(&["presets"])));
    rows.push(setting("default_profile", json!(cfg.default_profile), &file_or_default(&["default_profile"])));
    let ca = cfg.tls_ca_file.as_ref().map(|f| f.display().to_string());
    rows.push(setting("tls_ca_file", json!(ca), &file_or_default(&["tls_ca_file"])));
    if cfg.keys.is_empty() {
        rows.push(setting("keys", json!({}), &Source::Default));
    }
    for (action, keys) in &cfg.keys {
        rows.push(setting(format!("keys.{action}"), json!(keys), &Source::File));
    }
    for w in &ctx.loaded.warnings {
        eprintln!("warning: {w}");
    }
    if json {
        out::json(&rows)?;
    } else {
        let width = rows.iter().map(|r| r.key.len()).max().unwrap_or(0);
        let mut text = String::new();
        for r in &rows {
            let value = match &r.value {
                Value::String(s) => crate::text::sanitize(s),
                Value::Null => "(none)".into(),
                v => crate::text::sanitize(&v.to_string()),
            };
            let source = match &r.env {
                Some(e) => format!("env {e}"),
                None => r.source.clone(),
            };
            text.push_str(&format!("{:<width$}  {value}  ({source})\n", r.key));
        }
        out::print(&text)?;
    }
    Ok(0)
}

/// Every leaf of `value` as a dotted key under `prefix`.
fn flatten(prefix: &str, value: &Value, out: &mut Vec<(String, Value)>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                flatten(&format!("{prefix}.{k}"), v, out);
            }
        }
        leaf => out.push((prefix.to_string(), leaf.clone())),
    }
}

/// A row per `(key, value)` of `[table]`, each with its source.
fn table_rows(
    table: &str,
    pairs: impl IntoIterator<Item = (&'static str, Value)>,
    source: &dyn Fn(&[&str]) -> Source,
    rows: &mut Vec<Setting>,
) {
    for (key, value) in pairs {
        rows.push(setting(format!("{table}.{key}"), value, &source(&[table, key])));
    }
}

/// The `[storage]` rows: its settings, and where the credentials come from
/// (never the credentials themselves).
fn storage_rows(sc: Option<&StorageConfig>, source: &dyn Fn(&[&str]) -> Source, rows: &mut Vec<Setting>) {
    let Some(sc) = sc else {
        rows.push(setting("storage", Value::Null, &Source::Default));
        return;
    };
    let plain = [
        ("endpoint", json!(sc.endpoint)),
        ("bucket", json!(sc.bucket)),
        ("region", json!(sc.region)),
        ("prefix", json!(sc.prefix)),
        ("path_style", json!(sc.path_style)),
        ("url_expiry_secs", json!(sc.url_expiry_secs)),
        ("max_uploading", json!(sc.max_uploading)),
        ("upload_timeout_secs", json!(sc.upload_timeout_secs)),
    ];
    table_rows("storage", plain, source, rows);
    let creds = [
        ("access_key_id", sc.access_key_id.is_some(), sc.access_key_env.as_deref(), ACCESS_KEY_ENV),
        ("secret_access_key", sc.secret_access_key.is_some(), sc.secret_key_env.as_deref(), SECRET_KEY_ENV),
    ];
    for (key, in_file, named, default_env) in creds {
        let (value, from) = if in_file {
            (json!("<redacted>"), Source::File)
        } else {
            let var = named.unwrap_or(default_env);
            let set = std::env::var(var).is_ok_and(|v| !v.trim().is_empty());
            (if set { json!("<redacted>") } else { Value::Null }, Source::Env(var.to_string()))
        };
        rows.push(setting(format!("storage.{key}"), value, &from));
    }
}

/// The config `config init` writes: the example with its sample presets
/// commented out, so the file is valid and changes nothing until edited.
fn init_text() -> String {
    let mut text = String::new();
    let mut in_presets = false;
    for line in EXAMPLE.lines() {
        in_presets |= line.trim() == "[[presets]]";
        if in_presets && !line.trim().is_empty() && !line.starts_with('#') {
            text.push_str("# ");
        }
        text.push_str(line);
        text.push('\n');
    }
    text
}

fn init(global: &GlobalArgs) -> Result<u8, Failure> {
    if global.demo {
        return Err(Failure::new(USAGE, "config init writes your own config; leave out --demo"));
    }
    let paths = global.resolve_paths()?;
    let path = &paths.config_file;
    let text = init_text();
    Config::parse(&text, path).map_err(|e| format!("the built-in template is invalid: {e}"))?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut file = match opts.open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(Failure::new(
                USAGE,
                format!("{} already exists; not overwriting it (edit it, or move it away first)", path.display()),
            ));
        }
        Err(e) => return Err(Failure::new(USAGE, format!("cannot create {}: {e}", path.display()))),
    };
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    eprintln!("wrote {} (mode 600); set your key with `export {API_KEY_ENV}=...` or in the file", path.display());
    out::line(&path.display().to_string())?;
    Ok(0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_init_template_is_valid_and_sets_no_presets() {
        let text = super::init_text();
        let (cfg, warnings) = crate::config::Config::parse(&text, std::path::Path::new("t.toml")).unwrap();
        assert!(cfg.presets.is_empty());
        assert!(warnings.is_empty(), "{warnings:?}");
        assert!(text.contains("# [[presets]]"));
    }
}
