//! What a delete (or a listing) picks among the server's assets: the
//! server filters what it can (groups, a name substring, statuses); the
//! rest (type, age, ids) is checked here, item by item.

use std::time::Duration;

use jiff::Timestamp;

use crate::api::{AssetInfo, AssetQuery, AssetType};

/// A filter over listed assets; every part empty picks all.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Pick {
    /// Only these asset ids.
    pub ids: Vec<String>,
    /// Only these groups.
    pub groups: Vec<String>,
    /// Only these statuses (`Active`, `Processing`, `Failed`).
    pub statuses: Vec<String>,
    /// Only names containing this.
    pub name: Option<String>,
    /// Only these types.
    pub types: Vec<AssetType>,
    /// Only assets created longer ago than this.
    pub older_than: Option<Duration>,
}

impl Pick {
    /// The part of the filter the server applies.
    pub fn query(&self) -> AssetQuery {
        AssetQuery {
            group_ids: self.groups.clone(),
            name: self.name.clone(),
            statuses: self.statuses.clone(),
            newest_first: false,
        }
    }

    /// True when `a` passes the whole filter at `now` (the server's part
    /// again too: a server may ignore a filter).
    pub fn admits(&self, a: &AssetInfo, now: Timestamp) -> bool {
        let id = a.id.as_deref().unwrap_or_default();
        let status = a.status.as_str();
        let old = |age: &Duration| {
            let created = a.create_time.as_deref().and_then(|t| t.trim().parse::<Timestamp>().ok());
            // An asset whose age cannot be read is not picked for its age.
            created.is_some_and(|c| now.duration_since(c).as_secs_f64() > age.as_secs_f64())
        };
        (self.ids.is_empty() || self.ids.iter().any(|i| i == id))
            && (self.groups.is_empty() || a.group_id.as_ref().is_some_and(|g| self.groups.contains(g)))
            && (self.statuses.is_empty() || self.statuses.iter().any(|s| s.eq_ignore_ascii_case(status)))
            && self.name.as_ref().is_none_or(|n| a.name.as_deref().is_some_and(|x| x.contains(n.as_str())))
            && (self.types.is_empty()
                || a.asset_type
                    .as_deref()
                    .and_then(|t| t.parse::<AssetType>().ok())
                    .is_some_and(|t| self.types.contains(&t)))
            && self.older_than.as_ref().is_none_or(old)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::AssetStatus;

    fn asset(id: &str, status: AssetStatus, at: &str) -> AssetInfo {
        AssetInfo {
            id: Some(id.into()),
            name: Some(format!("shot-{id}")),
            url: None,
            asset_type: Some("Image".into()),
            group_id: Some("g1".into()),
            status,
            create_time: Some(at.into()),
            update_time: None,
            error: None,
        }
    }

    #[test]
    fn every_part_of_the_filter_is_checked_here_too() {
        let now: Timestamp = "2026-12-06T12:00:00Z".parse().unwrap();
        let failed_old = asset("a1", AssetStatus::Failed, "2026-11-01T00:00:00Z");
        let active_new = asset("a2", AssetStatus::Active, "2026-12-06T11:00:00Z");
        let unknown_age = asset("a3", AssetStatus::Failed, "last week");
        let p = Pick {
            statuses: vec!["failed".into()],
            older_than: Some(Duration::from_secs(7 * 86_400)),
            ..Pick::default()
        };
        assert!(p.admits(&failed_old, now));
        assert!(!p.admits(&active_new, now));
        assert!(!p.admits(&unknown_age, now));
        let by_group = Pick { groups: vec!["g2".into()], ..Pick::default() };
        assert!(!by_group.admits(&failed_old, now));
        let by_type = Pick { types: vec![AssetType::Video], ..Pick::default() };
        assert!(!by_type.admits(&failed_old, now));
        let by_name = Pick { name: Some("shot-a2".into()), ids: vec!["a2".into()], ..Pick::default() };
        assert!(by_name.admits(&active_new, now) && !by_name.admits(&failed_old, now));
        assert_eq!(by_group.query().group_ids, vec!["g2".to_string()]);
        assert!(Pick::default().admits(&unknown_age, now));
    }
}
