//! `config path|show|init`, `--config` that does not exist, profiles chosen
//! by flag, environment and file, and a key misplaced in `api_key_env`.

mod clienv;

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use clienv::{BIN, Env, text};
use serde_json::Value;

fn env() -> Env {
    Env::with(
        "https://octopusx.ai",
        "sk-test-secret-123",
        "[limits]\nmax_creating = 7\n[profiles.work]\nbase_url = \"http://127.0.0.1:9/\"\napi_key_env = \"WORK_KEY\"\n[profiles.work.limits]\nget_per_sec = 5\n",
    )
}

/// `config show --json` as (key → (value, source, env)).
fn show(out: &std::process::Output) -> Vec<(String, Value, String, Option<String>)> {
    assert!(out.status.success(), "{}", text(&out.stderr));
    let rows: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    rows.into_iter()
        .map(|r| {
            (
                r["key"].as_str().unwrap().to_string(),
                r["value"].clone(),
                r["source"].as_str().unwrap().to_string(),
                r.get("env").and_then(Value::as_str).map(String::from),
            )
        })
        .collect()
}

fn row<'a>(
    rows: &'a [(String, Value, String, Option<String>)],
    key: &str,
) -> &'a (String, Value, String, Option<String>) {
    rows.iter().find(|r| r.0 == key).unwrap_or_else(|| panic!("no `{key}` in {rows:?}"))
}

#[test]
fn show_names_each_source_and_redacts_the_key() {
    let env = env();
    let out = env.command(["config", "show", "--json"]).output().unwrap();
    assert!(!text(&out.stdout).contains("sk-test-secret-123"), "the key is never shown");
    let rows = show(&out);
    assert_eq!(row(&rows, "config_file").2, "flag");
    assert_eq!(row(&rows, "data_dir").2, "flag");
    assert_eq!(row(&rows, "profile").1, "default");
    assert_eq!(row(&rows, "profile").2, "default");
    assert_eq!(row(&rows, "api.base_url").2, "file");
    let key = row(&rows, "api_key");
    assert_eq!(
        (key.1.as_str(), key.2.as_str(), key.3.as_deref()),
        (Some("<redacted>"), "env", Some("SEEDANCE_API_KEY"))
    );
    assert_eq!(row(&rows, "limits.max_creating").1, 7);
    assert_eq!(row(&rows, "limits.max_creating").2, "file");
    assert_eq!(row(&rows, "limits.get_per_sec").2, "default");
    assert_eq!(row(&rows, "polling.first_secs").2, "file");
    assert_eq!(row(&rows, "polling.backoff").2, "default");
    assert_eq!(row(&rows, "profiles").1, serde_json::json!(["default", "work"]));

    let plain = text(&env.command(["config", "show"]).output().unwrap().stdout);
    assert!(plain.contains("<redacted>  (env SEEDANCE_API_KEY)"), "{plain}");
    assert!(!plain.contains("sk-test-secret-123"));
}

/// Every section is listed with its source: preflight, storage (its
/// credentials by where they come from, never their value), keys, TLS.
#[test]
fn show_lists_every_section() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(
        &path,
        "tls_ca_file = \"ca.pem\"\n[limits]\nmax_processing = 30\n[preflight]\nmode = \"warn\"\n[preflight.video]\nmax_secs = 12.0\n\
         [storage]\nendpoint = \"https://s3.example.com\"\nbucket = \"refs\"\nsecret_key_env = \"MY_SECRET\"\n\
         [keys]\nretry = [\"r\", \"ctrl-r\"]\n",
    )
    .unwrap();
    let out = Command::new(BIN)
        .arg("--config")
        .arg(&path)
        .args(["config", "show", "--json"])
        .env("AWS_ACCESS_KEY_ID", "AKIA-not-shown")
        .env("MY_SECRET", "secret-not-shown")
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(!stdout.contains("not-shown"), "credentials are never shown: {stdout}");
    let rows = show(&out);
    assert_eq!(
        (&row(&rows, "limits.max_processing").1, row(&rows, "limits.max_processing").2.as_str()),
        (&serde_json::json!(30), "file")
    );
    assert_eq!(
        (&row(&rows, "preflight.mode").1, row(&rows, "preflight.mode").2.as_str()),
        (&serde_json::json!("warn"), "file")
    );
    assert_eq!(row(&rows, "preflight.video.max_secs").2, "file");
    assert_eq!(row(&rows, "preflight.video.min_secs").2, "default");
    assert_eq!(row(&rows, "storage.bucket").1, "refs");
    assert_eq!(row(&rows, "storage.region").2, "default");
    let secret = row(&rows, "storage.secret_access_key");
    assert_eq!(
        (secret.1.as_str(), secret.2.as_str(), secret.3.as_deref()),
        (Some("<redacted>"), "env", Some("MY_SECRET"))
    );
    let access = row(&rows, "storage.access_key_id");
    assert_eq!(access.3.as_deref(), Some("AWS_ACCESS_KEY_ID"));
    assert_eq!(row(&rows, "keys.retry").1, serde_json::json!(["r", "ctrl-r"]));
    assert_eq!(row(&rows, "tls_ca_file").1, "ca.pem");
}

#[test]
fn a_profile_is_chosen_by_flag_or_environment_and_inherits() {
    let env = env();
    let by_flag =
        show(&env.command(["--profile", "work", "config", "show", "--json"]).env("WORK_KEY", "wk").output().unwrap());
    assert_eq!(row(&by_flag, "profile").1, "work");
    assert_eq!(row(&by_flag, "profile").2, "flag");
    assert_eq!(row(&by_flag, "profiles.work.base_url").1, "http://127.0.0.1:9/");
    let key = row(&by_flag, "profiles.work.api_key_env");
    assert_eq!((key.2.as_str(), key.3.as_deref()), ("env", Some("WORK_KEY")), "its own key, not SEEDANCE_API_KEY");
    assert_eq!(row(&by_flag, "profiles.work.limits.get_per_sec").1, 5);
    assert_eq!(row(&by_flag, "limits.max_creating").1, 7, "inherited from [limits]");

    let by_env = show(&env.command(["config", "show", "--json"]).env("SEEDANCE_PROFILE", "work").output().unwrap());
    assert_eq!(row(&by_env, "profile").2, "env");
    assert_eq!(row(&by_env, "profile").3.as_deref(), Some("SEEDANCE_PROFILE"));

    let out = env.command(["--profile", "nope", "status"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no profile named `nope`"), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("profiles: default, work"), "{}", text(&out.stderr));

    // A named profile never borrows SEEDANCE_API_KEY: without WORK_KEY it has no key.
    let out = env.command(["--profile", "work", "import", "--group", "g", "https://x.example/a.png"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no API key for profile `work`"), "{}", text(&out.stderr));
}

#[test]
fn a_missing_config_flag_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.toml");
    let out = Command::new(BIN).arg("--config").arg(&missing).args(["presets", "list"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("does not exist"), "{}", text(&out.stderr));
}

#[test]
fn init_writes_a_private_commented_file_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub/config.toml");
    let init = || Command::new(BIN).arg("--config").arg(&path).args(["config", "init"]).output().unwrap();
    let out = init();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let written = std::fs::read_to_string(&path).unwrap();
    assert!(written.lines().filter(|l| l.starts_with('#')).count() > 20, "commented");
    std::fs::write(&path, "# mine\n").unwrap();
    let out = init();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("already exists"), "{}", text(&out.stderr));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "# mine\n", "never overwritten");
    // The file it wrote is a valid config.
    std::fs::write(&path, &written).unwrap();
    let out = Command::new(BIN).arg("--config").arg(&path).args(["config", "show"]).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[test]
fn path_lists_every_location_with_the_log() {
    let env = env();
    let out = env.command(["config", "path", "--json"]).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let p: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(p["config"], env.config.display().to_string());
    assert_eq!(p["store"], env.data.join("jobs.db").display().to_string());
    assert_eq!(p["polling"], env.data.join("polling.json").display().to_string());
    let log = p["log"].as_str().unwrap();
    assert!(log.starts_with(&env.data.join("logs").display().to_string()) && log.ends_with(".log"), "{log}");
}

#[test]
fn a_key_put_in_api_key_env_is_never_echoed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(&path, "[api]\napi_key_env = \"sk-live-9f8e7d-very-secret\"\n").unwrap();
    let out = Command::new(BIN).arg("--config").arg(&path).args(["config", "show"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let all = text(&out.stderr) + &text(&out.stdout);
    assert!(all.contains("api_key_env must be the NAME"), "{all}");
    assert!(!all.contains("9f8e7d"), "{all}");
}
