//! The `[storage]` table: defaults, checks, credentials and the 0600 rule.

use std::path::{Path, PathBuf};

use secrecy::ExposeSecret;
use seedance_assets::config::{Config, ConfigError, StorageConfigError};

fn write(dir: &Path, text: &str, mode: u32) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join("config.toml");
    std::fs::write(&path, text).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    path
}

const MINIMAL: &str = "[storage]\nendpoint = \"https://s3.eu-west-3.amazonaws.com\"\nbucket = \"refs\"\n";

#[test]
fn defaults_and_checks() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), MINIMAL, 0o644);
    let s = Config::load(&path).unwrap().config.storage.unwrap();
    assert_eq!((s.region.as_str(), s.prefix.as_str(), s.path_style), ("us-east-1", "seedance-assets", false));
    assert_eq!((s.url_expiry_secs, s.max_uploading), (12 * 3600, 4));
    assert!(Config::load(&write(dir.path(), "", 0o644)).unwrap().config.storage.is_none());

    let bad = [
        ("endpoint = \"http://minio.lan:9000\"\nbucket = \"b\"", "not loopback"),
        ("endpoint = \"http://127.0.0.1:9000\"\nbucket = \"b\"", "path_style = true"),
        ("bucket = \"b\"", "storage.endpoint is required"),
        ("endpoint = \"https://s3.amazonaws.com\"", "storage.bucket is required"),
        ("endpoint = \"https://s3.amazonaws.com\"\nbucket = \"b\"\nurl_expiry_secs = 604801", "url_expiry_secs"),
        ("endpoint = \"https://s3.amazonaws.com\"\nbucket = \"b\"\nmax_uploading = 0", "max_uploading"),
        ("endpoint = \"https://s3.amazonaws.com\"\nbucket = \"b\"\nprefix = \"a/../b\"", "storage.prefix"),
        ("endpoint = \"https://s3.amazonaws.com\"\nbucket = \"b\"\nupload_timeout_secs = 0", "upload_timeout_secs"),
    ];
    for (body, words) in bad {
        let e = Config::load(&write(dir.path(), &format!("[storage]\n{body}\n"), 0o644)).unwrap_err().to_string();
        assert!(e.contains(words), "{body}: {e}");
    }
    let ok = "[storage]\nendpoint = \"http://127.0.0.1:9000\"\nbucket = \"b\"\npath_style = true\nprefix = \"/a/b/\"\n";
    assert!(Config::load(&write(dir.path(), ok, 0o644)).is_ok());
}

#[test]
fn credentials_from_the_environment_first_then_the_private_file() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!("{MINIMAL}access_key_id = \"AKFILE\"\nsecret_access_key = \"file-secret\"\n");
    let readable = write(dir.path(), &text, 0o640);
    let e = Config::load(&readable).unwrap_err();
    assert!(matches!(e, ConfigError::Insecure { mode: 0o640, .. }), "{e:?}");
    assert!(e.to_string().contains("holds storage credentials") && e.to_string().contains("chmod 600"), "{e}");

    let path = write(dir.path(), &text, 0o600);
    let s = Config::load(&path).unwrap().config.storage.unwrap();
    let dbg = format!("{s:?}");
    assert!(!dbg.contains("file-secret") && !dbg.contains("AKFILE"), "{dbg}");
    let none = |_: &str| None;
    let c = s.credentials(&path, none).unwrap();
    assert_eq!((c.access_key_id.expose_secret(), c.secret_access_key.expose_secret()), ("AKFILE", "file-secret"));
    assert!(!format!("{c:?}").contains("file-secret"));

    let env = |k: &str| match k {
        "AWS_ACCESS_KEY_ID" => Some("AKENV".to_string()),
        "AWS_SECRET_ACCESS_KEY" => Some("env-secret".to_string()),
        "AWS_SESSION_TOKEN" => Some("tok".to_string()),
        _ => None,
    };
    let c = s.credentials(&path, env).unwrap();
    assert_eq!((c.access_key_id.expose_secret(), c.secret_access_key.expose_secret()), ("AKENV", "env-secret"));
    assert_eq!(c.session_token.as_ref().map(|t| t.expose_secret().to_string()), Some("tok".into()));

    // Renamed variables; a missing one is named in the message.
    let renamed = format!("{MINIMAL}access_key_env = \"R2_KEY\"\nsecret_key_env = \"R2_SECRET\"\n");
    let path = write(dir.path(), &renamed, 0o644);
    let s = Config::load(&path).unwrap().config.storage.unwrap();
    let env = |k: &str| (k == "R2_KEY").then(|| "AKR2".to_string());
    let e = s.credentials(&path, env).unwrap_err();
    assert!(matches!(e, StorageConfigError::NoCredentials { .. }));
    assert!(e.to_string().contains("set R2_SECRET"), "{e}");
}
