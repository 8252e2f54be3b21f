//! Settling a job whose creation's outcome was lost, from the server's
//! listing of its group and name (pure: the shell lists, this decides).
//!
//! An asset is taken for the job when it has the job's group, name and
//! type, was created within a window around the sending, and no other job
//! holds it. Exactly one such asset: the job is that asset. None, in a
//! listing read whole at least `settle` after the outcome was lost (a
//! listing lags creations): the creation did not happen, and the job may be
//! sent again — the only automatic resend, and only on that proof. Several:
//! the user picks.

use std::time::Duration;

use jiff::Timestamp;

use crate::api::AssetInfo;
use crate::job::Job;

/// How matching is judged.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rules {
    /// From the moment the outcome was lost to a listing that proves absence.
    pub settle: Duration,
    /// Allowed either side of the sending for the listed creation time.
    pub window: Duration,
}

impl Rules {
    /// The rules of a `[reconcile]` table.
    pub fn of(r: &crate::config::Reconcile) -> Rules {
        let secs = |s: f64| Duration::try_from_secs_f64(s).unwrap_or(Duration::from_secs(60));
        Rules { settle: secs(r.settle_secs), window: secs(r.window_secs) }
    }
}

/// A listing of one group's assets of one name.
#[derive(Debug, Clone, PartialEq)]
pub struct Listing {
    /// The assets listed (any name: the server's filter is a substring).
    pub assets: Vec<AssetInfo>,
    /// Every page was read and the items added up to the server's total:
    /// an asset missing from it is not on the server.
    pub complete: bool,
    /// When the listing was asked for.
    pub at: Timestamp,
}

/// What becomes of one unsettled job.
#[derive(Debug, Clone, PartialEq)]
pub enum Settlement {
    /// Exactly one unclaimed asset matches (or the job's own asset was
    /// found): the job is that asset.
    Adopt(AssetInfo),
    /// The listing proves the creation did not happen: send it again.
    NotCreated,
    /// Several assets could be it: their ids, for the user to pick.
    Ambiguous(Vec<String>),
    /// Nothing can be decided yet (the listing may still lag, or it was
    /// not read whole).
    Wait,
}

/// The moments between which the job's creation may have happened: from
/// its sending (or, for a record without one, its submission) to when its
/// outcome was lost.
fn sent_between(job: &Job) -> (Timestamp, Timestamp) {
    let from = job.sent_at.unwrap_or(job.submitted_at);
    (from, job.updated_at.max(from))
}

/// Decides one job. `claimed` says whether another job holds an asset id.
pub fn settle(job: &Job, listing: &Listing, claimed: &dyn Fn(&str) -> bool, rules: Rules) -> Settlement {
    let mine = |a: &&AssetInfo| a.group_id.as_deref().is_none_or(|g| g == job.spec.group_id);
    // A job that already holds an asset (adopted while it was processing)
    // follows it by its id.
    if let Some(own) = &job.asset_id {
        return match listing.assets.iter().filter(mine).find(|a| a.id.as_deref() == Some(own)) {
            Some(a) => Settlement::Adopt(a.clone()),
            None => Settlement::Wait,
        };
    }
    let (from, to) = sent_between(job);
    let window = jiff::SignedDuration::try_from(rules.window).unwrap_or(jiff::SignedDuration::from_secs(120));
    let (lo, hi) = (from - window, to + window);
    let candidates: Vec<&AssetInfo> = listing
        .assets
        .iter()
        .filter(mine)
        .filter(|a| a.name.as_deref() == Some(job.spec.name.as_str()))
        .filter(|a| a.asset_type.as_deref().is_none_or(|t| t.eq_ignore_ascii_case(&job.spec.asset_type.to_string())))
        .filter(|a| a.id.as_deref().is_some_and(|id| !claimed(id)))
        // A creation time that cannot be read cannot rule an asset out.
        .filter(|a| created(a).is_none_or(|t| lo <= t && t <= hi))
        .collect();
    match candidates.as_slice() {
        [one] if created(one).is_some() => Settlement::Adopt((*one).clone()),
        [] => {
            let settled =
                listing.at.duration_since(to) >= jiff::SignedDuration::try_from(rules.settle).unwrap_or_default();
            if listing.complete && settled { Settlement::NotCreated } else { Settlement::Wait }
        }
        many => {
            // A listing that shows what each asset was made from tells them
            // apart: the job's own URL, or the object key of its file.
            let made_from_mine = |a: &&&AssetInfo| {
                a.url.as_deref().is_some_and(|u| match &job.spec.local {
                    Some(l) => u.contains(&l.key),
                    None => u == job.spec.url,
                })
            };
            match many.iter().filter(made_from_mine).collect::<Vec<_>>().as_slice() {
                [one] if created(one).is_some() => Settlement::Adopt((**one).clone()),
                _ => Settlement::Ambiguous(many.iter().filter_map(|a| a.id.clone()).collect()),
            }
        }
    }
}

/// When the server says the asset was created.
pub fn created(a: &AssetInfo) -> Option<Timestamp> {
    a.create_time.as_deref()?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{AssetStatus, AssetType};
    use crate::job::NewJob;

    fn t(s: &str) -> Timestamp {
        format!("2026-12-06T{s}Z").parse().unwrap()
    }

    fn job() -> Job {
        let spec = NewJob {
            url: "https://e.com/a.png".into(),
            name: "cat".into(),
            asset_type: AssetType::Image,
            group_id: "g".into(),
            profile: "default".into(),
            local: None,
            media: None,
            conform: None,
        };
        let mut j = Job::new(1, spec, t("10:00:00"));
        j.sent_at = Some(t("10:00:05"));
        j.updated_at = t("10:00:35");
        j
    }

    fn asset(id: &str, name: &str, at: &str) -> AssetInfo {
        AssetInfo {
            id: Some(id.into()),
            name: Some(name.into()),
            url: None,
            asset_type: Some("Image".into()),
            group_id: Some("g".into()),
            status: AssetStatus::Active,
            create_time: Some(format!("2026-12-06T{at}Z")),
            update_time: None,
            error: None,
        }
    }

    const RULES: Rules = Rules { settle: Duration::from_secs(60), window: Duration::from_secs(120) };

    fn listing(assets: Vec<AssetInfo>, at: &str) -> Listing {
        Listing { assets, complete: true, at: t(at) }
    }

    #[test]
    fn one_unclaimed_match_is_adopted_and_claimed_ones_are_not() {
        let none = |_: &str| false;
        let l = listing(vec![asset("a1", "cat", "10:00:20"), asset("a2", "catalog", "10:00:21")], "10:00:40");
        assert_eq!(settle(&job(), &l, &none, RULES), Settlement::Adopt(asset("a1", "cat", "10:00:20")));
        let a1_held = |id: &str| id == "a1";
        // Held by another job: not this one's, and too early to call absent.
        assert_eq!(settle(&job(), &l, &a1_held, RULES), Settlement::Wait);
        let later = listing(l.assets.clone(), "10:01:40");
        assert_eq!(settle(&job(), &later, &a1_held, RULES), Settlement::NotCreated);
    }

    #[test]
    fn absence_is_proven_only_by_a_whole_listing_read_late_enough() {
        let none = |_: &str| false;
        assert_eq!(settle(&job(), &listing(vec![], "10:01:00"), &none, RULES), Settlement::Wait);
        assert_eq!(settle(&job(), &listing(vec![], "10:01:35"), &none, RULES), Settlement::NotCreated);
        let partial = Listing { complete: false, ..listing(vec![], "10:05:00") };
        assert_eq!(settle(&job(), &partial, &none, RULES), Settlement::Wait);
        // Outside the window, in another group, of another type: not it.
        let mut other_group = asset("a3", "cat", "10:00:20");
        other_group.group_id = Some("h".into());
        let mut video = asset("a4", "cat", "10:00:20");
        video.asset_type = Some("Video".into());
        let old = asset("a5", "cat", "09:50:00");
        let l = listing(vec![other_group, video, old], "10:02:00");
        assert_eq!(settle(&job(), &l, &none, RULES), Settlement::NotCreated);
    }

    #[test]
    fn several_matches_or_an_unreadable_time_are_left_to_the_user() {
        let none = |_: &str| false;
        let l = listing(vec![asset("a1", "cat", "10:00:10"), asset("a2", "cat", "10:00:30")], "10:05:00");
        assert_eq!(settle(&job(), &l, &none, RULES), Settlement::Ambiguous(vec!["a1".into(), "a2".into()]));
        let mut odd = asset("a6", "cat", "x");
        odd.create_time = Some("yesterday".into());
        assert_eq!(
            settle(&job(), &listing(vec![odd], "10:05:00"), &none, RULES),
            Settlement::Ambiguous(vec!["a6".into()])
        );
    }

    #[test]
    fn a_listing_that_shows_the_source_url_tells_same_named_assets_apart() {
        let none = |_: &str| false;
        let mut mine = asset("a1", "cat", "10:00:10");
        mine.url = Some("https://e.com/a.png".into());
        let mut other = asset("a2", "cat", "10:00:30");
        other.url = Some("https://e.com/b.png".into());
        let l = listing(vec![other.clone(), mine.clone()], "10:05:00");
        assert_eq!(settle(&job(), &l, &none, RULES), Settlement::Adopt(mine.clone()));
        // Two made from the same URL: still the user's to pick.
        let mut twin = mine.clone();
        twin.id = Some("a3".into());
        let l = listing(vec![mine, twin, other], "10:05:00");
        assert!(matches!(settle(&job(), &l, &none, RULES), Settlement::Ambiguous(ids) if ids.len() == 3));
    }

    #[test]
    fn an_adopted_job_follows_its_own_asset() {
        let mut j = job();
        j.asset_id = Some("a9".into());
        let none = |_: &str| false;
        let mut a = asset("a9", "renamed", "10:00:20");
        a.status = AssetStatus::Failed;
        assert_eq!(settle(&j, &listing(vec![a.clone()], "10:01:00"), &none, RULES), Settlement::Adopt(a));
        assert_eq!(settle(&j, &listing(vec![], "11:00:00"), &none, RULES), Settlement::Wait);
    }
}
