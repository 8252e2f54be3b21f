//! The conform step of the front door: an item preflight refused (or a
//! video in a codec not kept) is conformed, each output is checked by the
//! same preflight, hashed and becomes an item of its own — one per part of
//! a split clip. What cannot be conformed stays refused, with both reasons.

use std::sync::Arc;

use super::plan::{Fate, Item};
use super::run::Intake;
use crate::conform::{ConformError, Conformer};
use crate::engine::NewJob;
use crate::preflight::{Target, Verdict};

/// Progress of one item being conformed: where it is, and the fraction
/// done (1.0 when made or found in the cache).
#[derive(Debug, Clone, PartialEq)]
pub struct Conforming {
    /// The item's place (`argument:3: shots/a.mov`).
    pub place: String,
    /// The item's text (the line, or the file a directory gave).
    pub text: String,
    /// 0.0–1.0.
    pub fraction: f64,
}

/// Whether an item with this verdict goes to the conform step: refused for
/// what it measures (not for its declared type), refused without a
/// measurement when it is a local file (a format preflight does not read),
/// or a video that passed (its codec is checked).
pub(super) fn wanted(verdict: Option<&Verdict>, job: &NewJob, local: bool) -> bool {
    match verdict {
        Some(Verdict::Passed(_)) => job.asset_type == crate::api::AssetType::Video,
        v => can_conform(v, job, local),
    }
}

/// Whether a refusal is one the conform step may fix: of what was measured
/// (not of the declared type), or of a local file preflight cannot read.
pub fn can_conform(verdict: Option<&Verdict>, job: &NewJob, local: bool) -> bool {
    match verdict {
        Some(Verdict::Refused { media: Some(m), .. }) => m.format.asset_type() == job.asset_type,
        Some(Verdict::Refused { media: None, .. }) => local,
        _ => false,
    }
}

impl Intake {
    /// Conforms `item` (whose job is `job`, verdict `verdict`) with
    /// `conformer`. `None` when it needs nothing (it goes on as it is).
    pub(super) async fn conform_item(
        &self,
        conformer: &Conformer,
        item: &Item,
        job: &NewJob,
        verdict: Option<&Verdict>,
    ) -> Option<Vec<Item>> {
        let refused = match verdict {
            Some(Verdict::Refused { reasons, .. }) => Some(reasons.join("; ")),
            _ => None,
        };
        let fail = |e: ConformError| {
            let why = match &refused {
                Some(r) => format!("{r}; {e}"),
                None => e.to_string(),
            };
            Some(vec![Item { fate: Fate::Refused(why), ..item.clone() }])
        };
        let storage = match &self.storage {
            Ok(s) => s,
            Err(why) => return fail(ConformError::NoStorage(why.to_string())),
        };
        let (download, src) = match &item.hash_from {
            Some(path) => (None, path.clone()),
            None => {
                let Target::Url(url) = Target::parse(&job.url) else {
                    return fail(ConformError::Io("not a URL".into()));
                };
                match conformer.download(&url).await {
                    Ok(d) => {
                        let p = d.path.clone();
                        (Some(d), p)
                    }
                    Err(e) => return fail(e),
                }
            }
        };
        let (measured, recipe) = match conformer.recipe(&src, job.asset_type).await {
            Ok(Some(mr)) => mr,
            // A passed video in a kept codec goes on as it is.
            Ok(None) if refused.is_none() => return None,
            Ok(None) => return fail(ConformError::Impossible("the conform step finds nothing to change".into())),
            Err(e) if refused.is_none() && !matches!(e, ConformError::NoTool { .. }) => {
                // A video preflight passed but ffprobe cannot read: it goes on as checked.
                tracing::warn!("conform: {}: {e}", crate::text::sanitize(&job.url));
                return None;
            }
            Err(e) => return fail(e),
        };
        let progress: crate::conform::Progress = match &self.progress {
            Some(tx) => {
                let (tx, place, text) = (tx.clone(), item.place(), item.text().to_string());
                Arc::new(move |fraction| {
                    let _ = tx.send(Conforming { place: place.clone(), text: text.clone(), fraction });
                })
            }
            None => Arc::new(|_| {}),
        };
        let done = match conformer.make(&src, &job.name, measured, recipe, progress).await {
            Ok(c) => c,
            Err(e) => return fail(e),
        };
        drop(download);
        let n = done.outputs.len();
        let mut out = Vec::with_capacity(n);
        for (i, path) in done.outputs.iter().enumerate() {
            let mut part = NewJob::clone(job);
            if n > 1 {
                part.name = format!("{}-part{}", job.name, i + 1);
            }
            part.conform = Some(done.record(&job.url, i));
            let checked = match &self.checker {
                Some(c) => Some(c.verdict(&part, Some(&path.to_path_buf())).await),
                None => None,
            };
            let fate = match checked {
                Some(Verdict::Passed(m)) => {
                    part.media = Some(m);
                    match super::local::hash(part, path, storage).await {
                        Ok(part) => {
                            let mut said =
                                vec![format!("conformed ({}): {}", shown_part(i, n), done.recipe.describe())];
                            said.extend(done.recipe.warnings.iter().cloned());
                            if done.cached {
                                said.push("found in the conform cache".into());
                            }
                            Fate::Create { job: Box::new(part), warning: (i == 0).then(|| said.join("; ")) }
                        }
                        Err(why) => Fate::Refused(why),
                    }
                }
                Some(v) => Fate::Refused(format!("{}", ConformError::StillRefused(v.describe()))),
                None => Fate::Refused("the conformed file cannot be checked: preflight is off".into()),
            };
            out.push(Item { fate, hash_from: Some(path.clone()), ..item.clone() });
        }
        Some(out)
    }
}

fn shown_part(i: usize, n: usize) -> String {
    if n > 1 { format!("part {} of {n}", i + 1) } else { "1 file".into() }
}
