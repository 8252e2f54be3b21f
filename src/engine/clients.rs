//! The API clients by profile: every job is created and polled with the key
//! and base URL of the profile that created it, never another account's.

use std::collections::BTreeMap;

use super::error::ProfileError;
use crate::api::Client;
use crate::config::DEFAULT_PROFILE;

/// Clients by profile name; a profile whose client could not be built (no
/// key, a bad base URL) keeps the reason, so its jobs can say why.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Clients {
    by_profile: BTreeMap<String, Result<Client, String>>,
}

impl Clients {
    /// One client for the default profile (tests, benchmarks, the demo).
    pub fn single(client: Client) -> Clients {
        Clients::default().with(DEFAULT_PROFILE, Ok(client))
    }

    /// Adds (or replaces) a profile's client, or the reason there is none.
    pub fn with(mut self, profile: &str, client: Result<Client, String>) -> Clients {
        self.by_profile.insert(profile.to_string(), client);
        self
    }

    /// The client for `profile`, or why there is none.
    pub fn get(&self, profile: &str) -> Result<&Client, ProfileError> {
        match self.by_profile.get(profile) {
            Some(Ok(c)) => Ok(c),
            Some(Err(why)) => Err(ProfileError::Unusable { profile: profile.to_string(), reason: why.clone() }),
            None => Err(ProfileError::Missing { profile: profile.to_string() }),
        }
    }

    /// Any usable client, for requests that belong to no job (groups).
    pub fn any(&self) -> Option<&Client> {
        let default = self.by_profile.get(DEFAULT_PROFILE).and_then(|c| c.as_ref().ok());
        default.or_else(|| self.by_profile.values().find_map(|c| c.as_ref().ok()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_profile_without_a_client_says_why() {
        let clients = Clients::default().with("work", Err("no API key for profile `work`".into()));
        let e = clients.get("work").unwrap_err();
        assert_eq!(e.to_string(), "profile `work` cannot be used: no API key for profile `work`");
        assert_eq!(
            clients.get("gone").unwrap_err().to_string(),
            "profile `gone` is not in the config; add [profiles.gone] back (with its key) and resume"
        );
        assert!(clients.any().is_none());
    }
}
