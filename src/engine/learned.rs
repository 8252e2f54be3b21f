//! Processing times learned per asset type and profile, kept between runs in
//! the data dir (`polling.json`).
//!
//! Each kind keeps the observations of its 1,024 most recently created
//! assets (exact times of Active assets and the censored times of assets
//! given up while still processing); older ones weigh less, by age (half
//! per week) and by how many newer ones there are (half per 256), so the
//! last batch leads but one slow batch does not erase the batches before
//! it: the fit widens to cover both, and the next batch is looked at early
//! enough whichever way it goes. Recency goes by creation,
//! not by when the answer came: within a batch the slow assets finish last,
//! and keeping "the last to finish" would keep the slow ones. The fit adds
//! the censored times of assets still being polled, which the engine passes
//! in.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::lognormal::{LogNormal, Observation, PRIOR_WEIGHT};

/// Observations kept per kind.
const KEEP: usize = 1024;
/// An observation with this many newer ones (by creation) counts half.
const HALF_LIFE_OBS: f64 = 256.0;
/// Kinds kept (the least recently observed goes first).
const KINDS: usize = 64;
/// An observation of an asset created this many seconds before the newest
/// counts half (a week: last week's batch still outweighs the prior).
const HALF_LIFE_SECS: f64 = 7.0 * 86_400.0;
/// The shortest time recorded: the server's times have whole seconds, so
/// 0 s means "under a second".
const SHORTEST: f64 = 0.5;
/// The file format's version.
const VERSION: u32 = 1;

/// The kind of an asset for learning: its type and profile.
pub fn kind_key(asset_type: crate::api::AssetType, profile: &str) -> String {
    format!("{asset_type}/{profile}")
}

#[derive(Debug, Clone)]
struct Kind {
    /// `(seconds, censored, created)`, in the order observed; `created` is
    /// the asset's creation, in seconds since the Unix epoch.
    obs: Vec<(f64, bool, f64)>,
    /// `obs` weighted by age and rank, as the fit takes them: computed
    /// again only when `obs` changes (refits run every second or so).
    weighted: Option<Vec<Observation>>,
    fit: LogNormal,
    /// How many observations the fit rests on (weighted, prior included).
    weight: f64,
    touched: u64,
}

/// What is known about processing times.
#[derive(Debug, Clone, Default)]
pub struct Learned {
    kinds: BTreeMap<String, Kind>,
    caps: BTreeMap<String, f64>,
    clock: u64,
    changed: bool,
}

#[derive(Serialize, Deserialize)]
struct File {
    version: u32,
    kinds: BTreeMap<String, FileKind>,
    /// Caps on creations processing at once learned from the server's
    /// refusals, per profile ([`super::capacity`]).
    #[serde(default)]
    caps: BTreeMap<String, f64>,
}

#[derive(Serialize, Deserialize)]
struct FileKind {
    /// The fitted median, in seconds (for people reading the file).
    median_secs: f64,
    /// The fitted sigma of log seconds (for people reading the file).
    sigma: f64,
    /// `[seconds, censored, created (Unix seconds)]`.
    observations: Vec<(f64, bool, f64)>,
}

impl Learned {
    /// Reads `path`. A missing file is nothing learned yet; an unreadable or
    /// corrupt one is nothing learned plus a warning to show (never an
    /// error: the prior works).
    pub fn load(path: &Path) -> (Learned, Option<String>) {
        let text = match std::fs::read(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return (Learned::default(), None),
            Err(e) => return (Learned::default(), Some(unusable(path, &e.to_string()))),
        };
        let file: File = match serde_json::from_slice(&text) {
            Ok(f) => f,
            Err(e) => return (Learned::default(), Some(unusable(path, &e.to_string()))),
        };
        if file.version != VERSION {
            return (Learned::default(), Some(unusable(path, &format!("unknown version {}", file.version))));
        }
        let mut learned = Learned::default();
        for (key, kind) in file.kinds.into_iter().take(KINDS) {
            for (secs, censored, created) in kind.observations {
                if secs.is_finite() && secs > 0.0 && created.is_finite() {
                    learned.push(&key, secs, censored, created);
                }
            }
            learned.refit(&key, &[]);
        }
        learned.caps = file.caps.into_iter().filter(|(_, c)| c.is_finite() && *c >= 1.0).collect();
        learned.changed = false;
        (learned, None)
    }

    /// The processing caps learned, per profile.
    pub fn caps(&self) -> &BTreeMap<String, f64> {
        &self.caps
    }

    /// Remembers the processing caps learned (saved when one moved by a
    /// whole step).
    pub fn set_caps(&mut self, caps: BTreeMap<String, f64>) {
        let whole =
            |m: &BTreeMap<String, f64>| m.iter().map(|(k, v)| (k.clone(), v.floor() as u64)).collect::<Vec<_>>();
        if whole(&caps) != whole(&self.caps) {
            self.changed = true;
        }
        self.caps = caps;
    }

    /// The file's bytes (each kind estimated from its observations alone).
    pub fn snapshot_json(&mut self) -> Vec<u8> {
        let keys: Vec<String> = self.kinds.keys().cloned().collect();
        for key in keys {
            self.refit(&key, &[]);
        }
        let kinds = self
            .kinds
            .iter()
            .map(|(k, v)| {
                let kind = FileKind {
                    median_secs: round(v.fit.median()),
                    sigma: round(v.fit.sigma),
                    observations: v.obs.iter().map(|&(s, c, t)| (round(s), c, round(t))).collect(),
                };
                (k.clone(), kind)
            })
            .collect();
        serde_json::to_vec(&File { version: VERSION, kinds, caps: self.caps.clone() }).unwrap_or_default()
    }

    /// Records that an asset of `key` created at `created` (Unix seconds)
    /// took `secs` to process, or (censored) was still processing after
    /// `secs` when it was given up.
    pub fn observe(&mut self, key: &str, secs: f64, censored: bool, created: f64) {
        if secs.is_finite() && secs >= 0.0 && created.is_finite() {
            self.push(key, secs.max(SHORTEST), censored, created);
            self.changed = true;
        }
    }

    fn push(&mut self, key: &str, secs: f64, censored: bool, created: f64) {
        self.clock += 1;
        if !self.kinds.contains_key(key) && self.kinds.len() >= KINDS {
            let oldest = self.kinds.iter().min_by_key(|(_, k)| k.touched).map(|(k, _)| k.clone());
            if let Some(oldest) = oldest {
                self.kinds.remove(&oldest);
            }
        }
        let kind = self.kinds.entry(key.to_string()).or_insert_with(|| Kind {
            obs: Vec::new(),
            weighted: None,
            fit: LogNormal::prior(),
            weight: PRIOR_WEIGHT,
            touched: 0,
        });
        kind.obs.push((secs, censored, created));
        kind.weighted = None;
        if kind.obs.len() > KEEP {
            // The asset created first goes (the new one, if it is that).
            let oldest = kind.obs.iter().enumerate().min_by(|a, b| a.1.2.total_cmp(&b.1.2)).map(|(i, _)| i);
            if let Some(i) = oldest {
                kind.obs.remove(i);
            }
        }
        kind.touched = self.clock;
    }

    /// The current estimate for `key` (the prior when nothing is known).
    #[cfg(test)]
    pub fn dist(&self, key: &str) -> LogNormal {
        self.kinds.get(key).map_or_else(LogNormal::prior, |k| k.fit)
    }

    /// What the next processing time of `key` may be: the estimate, widened
    /// for how little it rests on ([`LogNormal::predictive`]).
    pub fn predictive(&self, key: &str) -> LogNormal {
        self.kinds.get(key).map_or_else(|| LogNormal::prior().predictive(PRIOR_WEIGHT), |k| k.fit.predictive(k.weight))
    }

    /// Estimates `key` again from its observations and `live` (the seconds
    /// after which assets still being polled were last seen processing);
    /// returns the predictive distribution ([`Learned::predictive`]).
    pub fn refit(&mut self, key: &str, live: &[f64]) -> LogNormal {
        let prior = LogNormal::prior();
        let stored = self.kinds.get_mut(key);
        let mut obs: Vec<Observation> = Vec::new();
        if let Some(k) = stored {
            let weighted = k.weighted.get_or_insert_with(|| weigh(&k.obs));
            obs.reserve(weighted.len() + live.len());
            obs.extend_from_slice(weighted);
        }
        obs.extend(live.iter().filter(|s| **s > 0.0).map(|&secs| Observation { secs, censored: true, weight: 1.0 }));
        let start = self.kinds.get(key).map_or(prior, |k| k.fit);
        let fit = LogNormal::fit(&obs, prior, start);
        let weight = PRIOR_WEIGHT + obs.iter().map(|o| o.weight).sum::<f64>();
        if let Some(k) = self.kinds.get_mut(key) {
            k.fit = fit;
            k.weight = weight;
        }
        fit.predictive(weight)
    }

    /// One line per kind: its estimate and how many observations it rests on.
    pub fn summary(&self) -> Vec<String> {
        self.kinds
            .iter()
            .map(|(k, v)| {
                format!("{k}: median {:.1} s, sigma {:.2} ({} observed)", v.fit.median(), v.fit.sigma, v.obs.len())
            })
            .collect()
    }

    /// The kinds with stored observations.
    #[cfg(test)]
    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.kinds.keys()
    }

    /// True when something was observed since it was last saved.
    pub fn changed(&self) -> bool {
        self.changed
    }

    /// Marks what is learned as saved (or not).
    pub fn set_saved(&mut self, saved: bool) {
        self.changed = !saved;
    }
}

/// Observations `(seconds, censored, created)` weighted for the fit: half
/// per [`HALF_LIFE_SECS`] older than the newest, and half per
/// [`HALF_LIFE_OBS`] newer ones (ranked by creation, newest first).
fn weigh(stored: &[(f64, bool, f64)]) -> Vec<Observation> {
    let newest = stored.iter().map(|o| o.2).fold(f64::NEG_INFINITY, f64::max);
    let mut order: Vec<usize> = (0..stored.len()).collect();
    order.sort_by(|&a, &b| stored[b].2.total_cmp(&stored[a].2));
    order
        .iter()
        .enumerate()
        .map(|(newer, &i)| {
            let (secs, censored, created) = stored[i];
            let by_age = (newest - created).max(0.0) / HALF_LIFE_SECS;
            Observation { secs, censored, weight: 0.5f64.powf(by_age + newer as f64 / HALF_LIFE_OBS) }
        })
        .collect()
}

/// The processing caps learned on the data dir's `polling.json`, per
/// profile (for `status`; nothing when the file is missing or unreadable).
pub fn saved_caps(path: &Path) -> BTreeMap<String, usize> {
    Learned::load(path).0.caps.iter().map(|(p, c)| (p.clone(), c.floor() as usize)).collect()
}

fn unusable(path: &Path, why: &str) -> String {
    format!(
        "ignoring the learned processing times in {} ({why}); polling starts from the documented 9-30 s",
        path.display()
    )
}

fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: f64 = 1.8e9;

    #[test]
    fn persistence_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("polling.json");
        let mut learned = Learned::default();
        let n = KEEP + 44;
        for i in 0..n {
            learned.observe("Image/default", 10.0 + (i % 7) as f64, false, T0 + i as f64);
        }
        learned.observe("Image/default", 40.0, true, T0 + n as f64);
        learned.observe("Video/studio", 0.0, false, T0);
        assert!(learned.changed());
        crate::config::atomic_write(&path, &learned.snapshot_json()).unwrap();
        let (back, warning) = Learned::load(&path);
        assert_eq!(warning, None);
        assert!(!back.changed());
        assert_eq!(back.keys().collect::<Vec<_>>(), ["Image/default", "Video/studio"]);
        let (a, b) = (learned.dist("Image/default"), back.dist("Image/default"));
        assert!((a.mu - b.mu).abs() < 1e-3 && (a.sigma - b.sigma).abs() < 1e-3, "{a:?} {b:?}");
        assert_eq!(back.kinds["Image/default"].obs.len(), KEEP, "bounded");
        assert_eq!(back.kinds["Image/default"].obs.last(), Some(&(40.0, true, T0 + n as f64)));
        assert_eq!(back.kinds["Image/default"].obs[0].2, T0 + 45.0, "the first created went");
        assert_eq!(back.kinds["Video/studio"].obs.last(), Some(&(SHORTEST, false, T0)), "0 s is under a second");
        // Never seen: the prior.
        assert_eq!(back.dist("Audio/default"), LogNormal::prior());
        // Processing caps are kept too, and read by `status`.
        let mut learned = back;
        learned.set_caps(BTreeMap::from([("work".to_string(), 31.4)]));
        assert!(learned.changed());
        crate::config::atomic_write(&path, &learned.snapshot_json()).unwrap();
        assert_eq!(saved_caps(&path), BTreeMap::from([("work".to_string(), 31)]));
        assert_eq!(Learned::load(&path).0.caps()["work"], 31.4);
    }

    #[test]
    fn a_missing_or_corrupt_file_is_the_prior() {
        let dir = tempfile::tempdir().unwrap();
        let (learned, warning) = Learned::load(&dir.path().join("none.json"));
        assert_eq!((learned.keys().count(), warning), (0, None));
        for (name, bytes) in [
            ("garbage.json", &b"{\"version\":1,\"kinds\":{\"Image/default\":"[..]),
            ("version.json", &br#"{"version":99,"kinds":{}}"#[..]),
            ("dir.json", &b""[..]),
        ] {
            let path = dir.path().join(name);
            if name == "dir.json" {
                std::fs::create_dir(&path).unwrap();
            } else {
                std::fs::write(&path, bytes).unwrap();
            }
            let (learned, warning) = Learned::load(&path);
            assert_eq!(learned.keys().count(), 0, "{name}");
            let warning = warning.expect("a warning");
            assert!(warning.contains(name) && warning.contains("9-30 s"), "{warning}");
            assert_eq!(learned.dist("Image/default"), LogNormal::prior());
        }
    }

    #[test]
    fn recent_observations_weigh_more_and_live_jobs_count_as_censored() {
        let mut learned = Learned::default();
        let week = 7.0 * 86_400.0;
        for i in 0..100 {
            learned.observe("Image/default", 30.0, false, T0 + i as f64);
        }
        for i in 0..100 {
            learned.observe("Image/default", 10.0, false, T0 + 2.0 * week + i as f64);
        }
        let fit = learned.refit("Image/default", &[]);
        // Half are 10 s, but two weeks newer (and newer by rank): they weigh
        // more than four times as much.
        let share_of_ten = (30f64.ln() - fit.mu) / (30f64.ln() - 10f64.ln());
        assert!(share_of_ten > 0.75 && share_of_ten < 0.9, "{share_of_ten} {fit:?}");
        // Jobs still processing after 40 s pull the estimate up.
        let with_live = learned.refit("Image/default", &[40.0; 100]);
        assert!(with_live.median() > fit.median() + 2.0, "{with_live:?} vs {fit:?}");
    }

    /// Two batches at 15 s, then one three times slower: the next batch is
    /// planned from a fit that still expects 15 s to be likely (its fast
    /// assets are looked at in time), and a normal batch after that brings
    /// the estimate back.
    #[test]
    fn one_slow_batch_does_not_poison_the_next() {
        let mut learned = Learned::default();
        let mut t = T0;
        let mut batch = |learned: &mut Learned, secs: f64| {
            for i in 0..300 {
                learned.observe("Image/default", secs * (0.8 + 0.4 * (i % 10) as f64 / 10.0), false, t);
                t += 1.0;
            }
        };
        batch(&mut learned, 15.0);
        batch(&mut learned, 15.0);
        batch(&mut learned, 45.0);
        let after_slow = learned.refit("Image/default", &[]);
        assert!(after_slow.cdf(15.0) > 0.1, "15 s is not ruled out: {after_slow:?}");
        assert!(after_slow.quantile(0.001) < 12.0, "first looks come early enough: {after_slow:?}");
        batch(&mut learned, 15.0);
        let back = learned.refit("Image/default", &[]);
        assert!(back.median() < 22.0, "{back:?}");
    }

    /// Within a batch the slow assets are observed last: keeping the last
    /// observed would keep the slow ones. Eviction goes by creation.
    #[test]
    fn a_batch_larger_than_the_memory_is_not_biased_to_its_slow_end() {
        let mut learned = Learned::default();
        // 4000 assets created in order, processing 10 s or 30 s alternately,
        // observed in order of completion: all the 10 s ones first.
        let mut done: Vec<(f64, f64)> =
            (0..4000).map(|i| (if i % 2 == 0 { 10.0 } else { 30.0 }, T0 + i as f64)).collect();
        done.sort_by(|a, b| (a.0 + a.1).total_cmp(&(b.0 + b.1)));
        for (secs, created) in done {
            learned.observe("Image/default", secs, false, created);
        }
        let fast = learned.kinds["Image/default"].obs.iter().filter(|o| o.0 == 10.0).count();
        assert_eq!(fast, KEEP / 2);
    }

    #[test]
    fn kinds_are_bounded() {
        let mut learned = Learned::default();
        for i in 0..KINDS + 5 {
            learned.observe(&format!("Image/p{i}"), 12.0, false, T0);
        }
        assert_eq!(learned.keys().count(), KINDS);
        assert!(!learned.kinds.contains_key("Image/p0"), "the least recent went first");
    }
}
