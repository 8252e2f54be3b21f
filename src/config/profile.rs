//! Profiles: several accounts or endpoints in one config. `[api]` and
//! `[limits]` are the `default` profile; each `[profiles.NAME]` table
//! overrides what it sets and inherits the rest.

use std::collections::BTreeMap;
use std::path::Path;

use secrecy::SecretString;
use serde::Deserialize;

use super::file::{ApiConfig, Config, Limits};
use super::{ConfigError, Source};

/// The profile `[api]` and `[limits]` describe.
pub const DEFAULT_PROFILE: &str = "default";

/// The environment variable holding the default profile's key.
pub const API_KEY_ENV: &str = "SEEDANCE_API_KEY";

/// One `[profiles.NAME]` table: every key optional, inherited from `[api]`
/// and `[limits]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ProfileConfig {
    /// Where this account's API lives.
    pub base_url: Option<String>,
    /// The key itself (the file must then be mode 0600).
    pub api_key: Option<SecretString>,
    /// The name of an environment variable holding the key.
    pub api_key_env: Option<String>,
    /// Seconds allowed to connect.
    pub connect_timeout_secs: Option<f64>,
    /// Seconds allowed for a whole request.
    pub request_timeout_secs: Option<f64>,
    /// Treat a 503 to CreateAsset as "not processed" (see `api.retry_503`).
    pub retry_503: Option<bool>,
    /// Concurrency and rates for this account.
    pub limits: ProfileLimits,
}

/// `[profiles.NAME.limits]`: each key overrides `[limits]`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct ProfileLimits {
    /// CreateAsset requests in flight at once.
    pub max_creating: Option<usize>,
    /// CreateAsset (and CreateAssetGroup) requests per second.
    pub create_per_sec: Option<u32>,
    /// GetAsset requests per second.
    pub get_per_sec: Option<u32>,
    /// Assets this account may hold.
    pub max_assets: Option<u64>,
}

/// A profile with everything inherited filled in.
#[derive(Debug, Clone)]
pub struct Profile {
    /// Its name (`default` for `[api]`).
    pub name: String,
    /// Endpoint and credentials.
    pub api: ApiConfig,
    /// Concurrency and rates.
    pub limits: Limits,
}

/// Overrides the default profile's `api.base_url`, the way
/// `AWS_ENDPOINT_URL` does for the AWS CLI (what `sim` prints).
pub const BASE_URL_ENV: &str = "SEEDANCE_BASE_URL";

/// True for a plausible environment variable name: letters, digits and `_`,
/// not starting with a digit, at most 64 characters.
pub fn is_env_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && !s.starts_with(|c: char| c.is_ascii_digit())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl Config {
    /// The names of every profile: `default` first.
    pub fn profile_names(&self) -> Vec<String> {
        std::iter::once(DEFAULT_PROFILE.to_string()).chain(self.profiles.keys().cloned()).collect()
    }

    /// The profile to use: `wanted` (from `--profile` or `SEEDANCE_PROFILE`),
    /// else `default_profile`, else `default`; with where the choice came from.
    pub fn selected_profile(&self, wanted: Option<(&str, Source)>) -> (String, Source) {
        match wanted {
            Some((name, source)) => (name.trim().to_string(), source),
            None => match &self.default_profile {
                Some(name) => (name.clone(), Source::File),
                None => (DEFAULT_PROFILE.to_string(), Source::Default),
            },
        }
    }

    /// The profile `name` with inherited values filled in.
    pub fn profile(&self, name: &str, path: &Path) -> Result<Profile, ConfigError> {
        if name == DEFAULT_PROFILE {
            return Ok(Profile { name: name.into(), api: self.api.clone(), limits: self.limits.clone() });
        }
        let p = self.profiles.get(name).ok_or_else(|| ConfigError::NoProfile {
            path: path.into(),
            name: crate::text::excerpt(name, 40),
            known: self.profile_names().join(", "),
        })?;
        let base = &self.api;
        let api = ApiConfig {
            base_url: p.base_url.clone().unwrap_or_else(|| base.base_url.clone()),
            // A profile's key is its own: never inherited, so that a job is
            // never polled with another account's key.
            api_key: p.api_key.clone(),
            api_key_env: p.api_key_env.clone(),
            connect_timeout_secs: p.connect_timeout_secs.unwrap_or(base.connect_timeout_secs),
            request_timeout_secs: p.request_timeout_secs.unwrap_or(base.request_timeout_secs),
            retry_503: p.retry_503.unwrap_or(base.retry_503),
        };
        let l = &self.limits;
        let limits = Limits {
            max_creating: p.limits.max_creating.unwrap_or(l.max_creating),
            create_per_sec: p.limits.create_per_sec.unwrap_or(l.create_per_sec),
            get_per_sec: p.limits.get_per_sec.unwrap_or(l.get_per_sec),
            max_processing: l.max_processing,
            max_assets: p.limits.max_assets.unwrap_or(l.max_assets),
        };
        Ok(Profile { name: name.into(), api, limits })
    }

    /// The profile `name` as [`Config::profile`] gives it, with the default
    /// profile's base URL replaced by `SEEDANCE_BASE_URL` (read through
    /// `env`) when that is set; the URL is checked as the file's would be.
    pub fn profile_in_env(
        &self,
        name: &str,
        path: &Path,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Profile, ConfigError> {
        let mut profile = self.profile(name, path)?;
        if let Some(url) = self.base_url_override(name, env) {
            crate::api::check_base_url(&url).map_err(|source| ConfigError::BaseUrl {
                path: path.into(),
                key: format!("{BASE_URL_ENV} (environment)"),
                source,
            })?;
            profile.api.base_url = url;
        }
        Ok(profile)
    }

    /// `SEEDANCE_BASE_URL`, when set and not blank, for the default profile.
    pub fn base_url_override(&self, name: &str, env: impl Fn(&str) -> Option<String>) -> Option<String> {
        (name == DEFAULT_PROFILE)
            .then(|| env(BASE_URL_ENV))
            .flatten()
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    }

    /// The key of profile `profile` and where it came from. The default
    /// profile reads `SEEDANCE_API_KEY` first, then the variable named by
    /// `api_key_env`, then `api_key`; a named profile only its own
    /// `api_key_env` and `api_key`.
    pub fn profile_key(
        &self,
        profile: &Profile,
        path: &Path,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<(SecretString, Source), ConfigError> {
        let from_env = |name: &str| {
            env(name)
                .filter(|v| !v.trim().is_empty())
                .map(|v| (SecretString::from(v.trim().to_string()), Source::Env(name.to_string())))
        };
        let global = if profile.name == DEFAULT_PROFILE { from_env(API_KEY_ENV) } else { None };
        global
            .or_else(|| profile.api.api_key_env.as_deref().and_then(from_env))
            .or_else(|| profile.api.api_key.clone().map(|k| (k, Source::File)))
            .ok_or_else(|| ConfigError::NoKey {
                path: path.into(),
                profile: profile.name.clone(),
                env_hint: profile
                    .api
                    .api_key_env
                    .clone()
                    .filter(|n| n.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')),
            })
    }

    /// Checks the `[profiles]` tables and `default_profile`.
    pub(super) fn check_profiles(&self, path: &Path) -> Result<(), ConfigError> {
        let invalid = |message: String| ConfigError::Invalid { path: path.into(), message };
        if self.profiles.contains_key(DEFAULT_PROFILE) {
            return Err(invalid("[profiles.default] is not allowed: the default profile is [api] and [limits]".into()));
        }
        if let Some(name) = &self.default_profile
            && name != DEFAULT_PROFILE
            && !self.profiles.contains_key(name)
        {
            return Err(invalid(format!(
                "default_profile names `{}`, which is not a [profiles.NAME] table",
                crate::text::excerpt(name, 40)
            )));
        }
        let tables = std::iter::once(("api".to_string(), self.api.api_key_env.as_deref()))
            .chain(self.profiles.iter().map(|(n, p)| (format!("profiles.{n}"), p.api_key_env.as_deref())));
        for (table, env_name) in tables {
            if let Some(v) = env_name
                && !is_env_name(v)
            {
                // Never echo it: it may be the key itself, put there by mistake.
                return Err(invalid(format!(
                    "{table}.api_key_env must be the NAME of an environment variable (letters, digits, _), not the key itself; the value is not shown"
                )));
            }
        }
        for (name, p) in &self.profiles {
            let prefix = format!("profiles.{name}");
            if let Some(url) = &p.base_url {
                crate::api::check_base_url(url).map_err(|source| ConfigError::BaseUrl {
                    path: path.into(),
                    key: format!("{prefix}.base_url"),
                    source,
                })?;
            }
            for (key, secs) in
                [("connect_timeout_secs", p.connect_timeout_secs), ("request_timeout_secs", p.request_timeout_secs)]
            {
                if let Some(s) = secs
                    && !(s.is_finite() && s > 0.0)
                {
                    return Err(invalid(format!("{prefix}.{key} must be a positive number of seconds, not {s}")));
                }
            }
            let l = &p.limits;
            if [
                l.max_creating.map(|v| v as u64),
                l.create_per_sec.map(u64::from),
                l.get_per_sec.map(u64::from),
                l.max_assets,
            ]
            .contains(&Some(0))
            {
                return Err(invalid(format!("{prefix}.limits: every limit must be at least 1")));
            }
        }
        Ok(())
    }

    /// True when the file holds a key anywhere (`[api]` or a profile).
    pub(super) fn holds_a_key(&self) -> bool {
        self.api.api_key.is_some() || self.profiles.values().any(|p| p.api_key.is_some())
    }
}

/// The profiles map type, for `Config`.
pub type Profiles = BTreeMap<String, ProfileConfig>;

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    const TEXT: &str = "default_profile = \"work\"\n[api]\nbase_url = \"https://a.example\"\napi_key_env = \"A_KEY\"\nrequest_timeout_secs = 5.0\n[limits]\nmax_creating = 3\n[profiles.work]\nbase_url = \"https://w.example\"\napi_key_env = \"W_KEY\"\n[profiles.work.limits]\nget_per_sec = 9\n[profiles.bare]\n";

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, Path::new("c.toml")).map(|(c, _)| c)
    }

    #[test]
    fn a_profile_inherits_all_but_the_key() {
        let c = parse(TEXT).unwrap();
        assert_eq!(c.selected_profile(None), ("work".to_string(), Source::File));
        assert_eq!(c.selected_profile(Some(("bare", Source::Flag))).0, "bare");
        let w = c.profile("work", Path::new("c.toml")).unwrap();
        assert_eq!(w.api.base_url, "https://w.example");
        assert_eq!(w.api.request_timeout_secs, 5.0);
        assert_eq!((w.limits.max_creating, w.limits.get_per_sec), (3, 9));
        let bare = c.profile("bare", Path::new("c.toml")).unwrap();
        assert_eq!(bare.api.base_url, "https://a.example");
        assert_eq!(bare.api.api_key_env, None, "the key is never inherited");
        let env = |k: &str| match k {
            "SEEDANCE_API_KEY" => Some("sk-global".to_string()),
            "W_KEY" => Some("sk-work".to_string()),
            _ => None,
        };
        let (key, src) = c.profile_key(&w, Path::new("c.toml"), env).unwrap();
        assert_eq!((key.expose_secret(), src), ("sk-work", Source::Env("W_KEY".into())));
        let e = c.profile_key(&bare, Path::new("c.toml"), env).unwrap_err();
        assert!(e.to_string().contains("no API key for profile `bare`"), "{e}");
        let d = c.profile(DEFAULT_PROFILE, Path::new("c.toml")).unwrap();
        assert_eq!(c.profile_key(&d, Path::new("c.toml"), env).unwrap().0.expose_secret(), "sk-global");
        let e = c.profile("nope", Path::new("c.toml")).unwrap_err();
        assert!(e.to_string().contains("profiles: default, bare, work"), "{e}");
    }

    #[test]
    fn seedance_base_url_overrides_the_default_profile_only() {
        let c = parse(TEXT).unwrap();
        let path = Path::new("c.toml");
        let env = |url: &'static str| move |k: &str| (k == BASE_URL_ENV).then(|| url.to_string());
        let d = c.profile_in_env(DEFAULT_PROFILE, path, env(" http://127.0.0.1:9/ ")).unwrap();
        assert_eq!(d.api.base_url, "http://127.0.0.1:9/", "trimmed; loopback http is allowed");
        let w = c.profile_in_env("work", path, env("http://127.0.0.1:9/")).unwrap();
        assert_eq!(w.api.base_url, "https://w.example", "a named profile keeps its own, as with the key");
        let blank = c.profile_in_env(DEFAULT_PROFILE, path, env("  ")).unwrap();
        assert_eq!(blank.api.base_url, "https://a.example", "blank is unset");
        let e = c.profile_in_env(DEFAULT_PROFILE, path, env("ftp://x")).unwrap_err().to_string();
        assert!(e.contains("SEEDANCE_BASE_URL (environment)") && e.contains("ftp"), "{e}");
    }

    #[test]
    fn bad_profiles_are_refused() {
        for (text, want) in [
            ("[profiles.default]\n", "[profiles.default] is not allowed"),
            ("default_profile = \"x\"\n", "default_profile names `x`"),
            ("[profiles.p]\nbase_url = \"http://example.com\"\n", "profiles.p.base_url"),
            ("[profiles.p.limits]\nmax_creating = 0\n", "at least 1"),
            ("[profiles.p]\nrequest_timeout_secs = -1.0\n", "positive number"),
            ("[profiles.p]\napi_key_env = \"sk-abc\"\n", "profiles.p.api_key_env must be the NAME"),
        ] {
            let e = parse(text).unwrap_err().to_string();
            assert!(e.contains(want), "{text}: {e}");
            assert!(!e.contains("sk-abc"), "{e}");
        }
        assert!(is_env_name("MY_KEY_2") && !is_env_name("2KEY") && !is_env_name("sk-x") && !is_env_name(""));
    }
}
