//! The config file: the example parses, errors point at line and column,
//! insecure key files are refused, the environment wins.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use secrecy::ExposeSecret;
use seedance_assets::config::{Config, ConfigError, TypeChoice};

fn write(dir: &Path, text: &str, mode: u32) -> PathBuf {
    let path = dir.join("config.toml");
    std::fs::write(&path, text).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    path
}

#[test]
fn the_example_file_parses_with_no_warnings() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config.example.toml");
    let loaded = Config::load(&path).unwrap();
    assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
    let c = &loaded.config;
    assert_eq!(c.api.base_url, "https://octopusx.ai");
    assert_eq!(c.limits.max_creating, 30);
    assert_eq!(c.presets.len(), 2);
    assert_eq!(c.default_preset().unwrap().name, "references");
    assert_eq!(c.preset("CLIPS").unwrap().asset_type, TypeChoice::Fixed(seedance_assets::api::AssetType::Video));
}

#[test]
fn a_missing_file_gives_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let loaded = Config::load(&dir.path().join("none.toml")).unwrap();
    assert_eq!(loaded.text, None);
    assert_eq!(loaded.config.limits.get_per_sec, 100);
}

#[test]
fn syntax_errors_give_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "[api]\nbase_url = \"https://x\"\nrequest_timeout_secs = = 3\n", 0o600);
    let e = Config::load(&path).unwrap_err();
    let ConfigError::Parse { line, column, .. } = &e else { panic!("{e:?}") };
    assert_eq!((*line, *column), (3, 24));
    assert!(e.to_string().starts_with(&format!("{}:3:24:", path.display())), "{e}");
}

#[test]
fn type_errors_name_the_place() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "[limits]\nmax_creating = \"many\"\n", 0o600);
    let e = Config::load(&path).unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains(":2:"), "{msg}");
    assert!(msg.contains("`limits.max_creating`: invalid type"), "{msg}");
    let path = write(dir.path(), "[[presets]]\nname = \"a\"\ngroup_id = \"g\"\nasset_type = \"gif\"\n", 0o600);
    let msg = Config::load(&path).unwrap_err().to_string();
    assert!(msg.contains(":4:") && msg.contains("`presets.asset_type`: unknown asset type `gif`"), "{msg}");
}

#[test]
fn unknown_keys_are_warnings_and_invalid_values_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "[api]\nbase_ulr = \"https://x\"\n[polling]\njitter = 0.1\n", 0o600);
    let loaded = Config::load(&path).unwrap();
    assert_eq!(loaded.warnings.len(), 1);
    assert!(
        loaded.warnings[0].contains("line 2: unknown key `api.base_ulr` ignored (did you mean `base_url`?)"),
        "{:?}",
        loaded.warnings
    );
    // A typo inside [storage] is named beside the error it causes.
    let path = write(
        dir.path(),
        "[storage]\nendpoint = \"https://s3.example.com\"\nbukcet = \"refs\"\nregion = \"us-east-1\"\n",
        0o600,
    );
    let msg = Config::load(&path).unwrap_err().to_string();
    assert!(msg.contains("storage.bucket is required"), "{msg}");
    assert!(msg.contains("line 3: unknown key `storage.bukcet` ignored (did you mean `bucket`?)"), "{msg}");
    let path = write(dir.path(), "[api]\nbase_url = \"http://octopusx.ai\"\n", 0o600);
    assert!(Config::load(&path).unwrap_err().to_string().contains("not loopback"));
    let path = write(dir.path(), "[polling]\nfirst_secs = -1\n", 0o600);
    assert!(Config::load(&path).unwrap_err().to_string().contains("polling.first_secs"));
    let path = write(dir.path(), "[[presets]]\nname = \"a\"\ngroup_id = \"g\"\nname_template = \"{bad}\"\n", 0o600);
    assert!(Config::load(&path).unwrap_err().to_string().contains("unknown placeholder"));
}

#[test]
fn a_key_in_a_readable_file_is_refused_with_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "[api]\napi_key = \"sk-file\"\n", 0o644);
    let e = Config::load(&path).unwrap_err();
    assert!(matches!(e, ConfigError::Insecure { mode: 0o644, .. }), "{e:?}");
    assert!(e.to_string().contains(&format!("chmod 600 {}", path.display())), "{e}");
    // Without a key, a readable file is fine.
    let path = write(dir.path(), "[api]\napi_key_env = \"MY_KEY\"\n", 0o644);
    assert!(Config::load(&path).is_ok());
}

#[test]
fn an_unreadable_file_is_an_io_error() {
    let dir = tempfile::tempdir().unwrap();
    let e = Config::load(dir.path()).unwrap_err();
    assert!(matches!(e, ConfigError::Io { .. }), "{e:?}");
}

#[test]
fn environment_overrides_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "[api]\napi_key = \"sk-file\"\napi_key_env = \"MY_KEY\"\n", 0o600);
    let c = Config::load(&path).unwrap().config;
    let none = |_: &str| None;
    assert_eq!(c.api_key(&path, none).unwrap().expose_secret(), "sk-file");
    let named = |k: &str| (k == "MY_KEY").then(|| "sk-named".to_string());
    assert_eq!(c.api_key(&path, named).unwrap().expose_secret(), "sk-named");
    let both = |k: &str| match k {
        "SEEDANCE_API_KEY" => Some("sk-env".to_string()),
        "MY_KEY" => Some("sk-named".to_string()),
        _ => None,
    };
    assert_eq!(c.api_key(&path, both).unwrap().expose_secret(), "sk-env");
    let empty = Config::default();
    let e = empty.api_key(&path, none).unwrap_err();
    assert!(e.to_string().contains("SEEDANCE_API_KEY"), "{e}");
    let mut unset = Config::default();
    unset.api.api_key_env = Some("MY_KEY".into());
    let e = unset.api_key(&path, none).unwrap_err();
    assert!(e.to_string().contains("api_key_env names `MY_KEY`, which is not set"), "{e}");
}

#[test]
fn every_number_is_checked_against_its_documented_range() {
    let dir = tempfile::tempdir().unwrap();
    for (text, want) in [
        ("[polling]\nfirst_secs = 1e8\n", "polling.first_secs must be between 0.1 and 600, not 100000000"),
        ("[polling]\nmax_interval_secs = 0.0\n", "polling.max_interval_secs must be between 0.5 and 3600"),
        ("[polling]\njitter = 5.0\n", "polling.jitter must be between 0 and 0.9"),
        ("[polling]\nretry_budget = 100000\n", "polling.retry_budget must be between 0 and 1000"),
        ("[limits]\nmax_creating = 0\n", "limits.max_creating must be between 1 and 1000"),
        ("[limits]\nget_per_sec = 4000000000\n", "limits.get_per_sec must be between 1 and 10000"),
        ("[api]\nrequest_timeout_secs = 1e300\n", "api.request_timeout_secs must be between 0.5 and 600"),
        ("[api]\nconnect_timeout_secs = nan\n", "api.connect_timeout_secs must be between"),
    ] {
        let path = write(dir.path(), text, 0o644);
        let e = Config::load(&path).unwrap_err().to_string();
        assert!(e.contains(want), "{text}: {e}");
    }
    // The documented ranges in the example file are the ones enforced.
    let example = include_str!("../config.example.toml");
    for (key, lo, hi) in seedance_assets::config::RANGES {
        let name = key.rsplit('.').next().unwrap();
        if key.starts_with("api.") {
            continue;
        }
        assert!(example.contains(&format!("{name} {lo}-{hi}")), "{key} {lo}-{hi} not documented");
    }
}
