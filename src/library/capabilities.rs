//! Which optional endpoints each profile's server answers, kept in
//! `capabilities.json` in the data dir with when it was learned. Learned
//! from free listings (PageSize 1) and from the answers of real calls;
//! nothing that could create or change anything is ever sent to find out.

use std::collections::BTreeMap;
use std::path::Path;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::api::{Client, Endpoint, LibraryError, ListedGroup, Page};

/// Whether a server has an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Presence {
    /// It answered.
    Present,
    /// It said the path or action is unknown.
    Absent,
}

/// What is known of one profile's server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Known {
    /// The base URL it was learned at (another URL is another server).
    pub base_url: String,
    /// When it was last learned.
    pub checked_at: Timestamp,
    /// By endpoint name; endpoints never tried are missing.
    pub endpoints: BTreeMap<String, Presence>,
    /// The assets the account held at the last listing, when it said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assets: Option<u64>,
}

/// Every profile's [`Known`], as the file holds it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Capabilities {
    /// By profile name.
    pub profiles: BTreeMap<String, Known>,
}

impl Capabilities {
    /// Reads the file; a missing or unreadable one knows nothing.
    pub fn load(path: &Path) -> Capabilities {
        std::fs::read(path).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default()
    }

    /// Writes the file atomically.
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let bytes = serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?;
        crate::config::atomic_write(path, &bytes)
    }

    /// What is known of `profile` at `base_url`, if anything.
    pub fn of(&self, profile: &str, base_url: &str) -> Option<&Known> {
        self.profiles.get(profile).filter(|k| k.base_url == base_url)
    }

    /// Records what a call to `endpoint` showed: present, absent, or
    /// nothing (any other failure says nothing of the endpoint).
    pub fn learn<T>(&mut self, profile: &str, base_url: &str, endpoint: Endpoint, r: &Result<T, LibraryError>) {
        let presence = match r {
            Ok(_) => Presence::Present,
            Err(LibraryError::Absent { .. }) => Presence::Absent,
            Err(LibraryError::Api(_)) => return,
        };
        let known = self.profiles.entry(profile.to_string()).or_insert_with(|| Known {
            base_url: base_url.to_string(),
            checked_at: Timestamp::now(),
            endpoints: BTreeMap::new(),
            assets: None,
        });
        if known.base_url != base_url {
            known.base_url = base_url.to_string();
            known.endpoints.clear();
            known.assets = None;
        }
        known.checked_at = Timestamp::now();
        known.endpoints.insert(endpoint.name().to_string(), presence);
    }

    /// Records the account's asset count from a listing's total.
    pub fn count(&mut self, profile: &str, total: Option<u64>) {
        if let (Some(k), Some(t)) = (self.profiles.get_mut(profile), total) {
            k.assets = Some(t);
        }
    }
}

impl Known {
    /// One line: each endpoint and whether it answered, and when.
    pub fn describe(&self) -> String {
        let each: Vec<String> = Endpoint::OPTIONAL
            .iter()
            .map(|e| {
                let word = match self.endpoints.get(e.name()) {
                    Some(Presence::Present) => "yes",
                    Some(Presence::Absent) => "no",
                    None => "untried",
                };
                format!("{} {word}", e.name())
            })
            .collect();
        format!("{} (learned {})", each.join(", "), self.checked_at.strftime("%Y-%m-%d %H:%M UTC"))
    }
}

/// What the free listings showed: ListAssets and ListAssetGroups, each
/// asked for one item.
pub struct Probed {
    /// ListAssets: the account's asset count, when the server says.
    pub assets: Result<Option<u64>, LibraryError>,
    /// ListAssetGroups.
    pub groups: Result<Page<ListedGroup>, LibraryError>,
}

/// Probes the listings of `client`'s server and records them for `profile`.
pub async fn probe(client: &Client, profile: &str, caps: &mut Capabilities) -> Probed {
    let assets = super::pages::retried(|| super::pages::held(client)).await;
    let groups = super::pages::retried(|| client.list_groups(1, 1)).await;
    let base = client.base_url().as_str();
    caps.learn(profile, base, Endpoint::ListAssets, &assets);
    caps.learn(profile, base, Endpoint::ListAssetGroups, &groups);
    if let Ok(total) = &assets {
        caps.count(profile, *total);
    }
    Probed { assets, groups }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::ApiError;

    #[test]
    fn learns_presence_and_forgets_on_another_server() {
        let mut c = Capabilities::default();
        let absent: Result<(), _> =
            Err(LibraryError::Absent { endpoint: Endpoint::DeleteAsset, answer: "HTTP 404".into() });
        c.learn("default", "https://a/", Endpoint::DeleteAsset, &absent);
        c.learn("default", "https://a/", Endpoint::ListAssets, &Ok::<(), LibraryError>(()));
        let failed: Result<(), _> = Err(LibraryError::Api(ApiError::Server { status: 500, message: String::new() }));
        c.learn("default", "https://a/", Endpoint::UpdateAsset, &failed);
        let k = c.of("default", "https://a/").unwrap();
        assert_eq!(k.endpoints.get("DeleteAsset"), Some(&Presence::Absent));
        assert_eq!(k.endpoints.get("ListAssets"), Some(&Presence::Present));
        assert!(!k.endpoints.contains_key("UpdateAsset"));
        assert!(k.describe().contains("ListAssets yes, ListAssetGroups untried, UpdateAsset untried, DeleteAsset no"));
        assert!(c.of("default", "https://b/").is_none());
        c.learn("default", "https://b/", Endpoint::ListAssetGroups, &Ok::<(), LibraryError>(()));
        assert_eq!(c.of("default", "https://b/").unwrap().endpoints.len(), 1);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("capabilities.json");
        c.save(&path).unwrap();
        assert_eq!(Capabilities::load(&path), c);
        std::fs::write(&path, "{not json").unwrap();
        assert_eq!(Capabilities::load(&path), Capabilities::default());
    }
}
