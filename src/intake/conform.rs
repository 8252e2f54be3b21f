//! The conform step of the front door: an item preflight refused for what
//! conforming can fix is conformed, each output is checked by the same
//! preflight, hashed and becomes an item of its own — one per part of a
//! split clip. What cannot be conformed stays refused, with both reasons.

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
    /// The item's text (the line, or the file a directory gave).
    pub text: String,
    /// 0.0–1.0.
    pub fraction: f64,
}

impl Conforming {
    /// The file's name, as progress shows it (`take.mov`).
    pub fn name(&self) -> String {
        let text = self.text.trim();
        crate::text::sanitize(text.rsplit('/').next().unwrap_or(text))
    }
}

/// Whether a refusal is one the conform step may fix: of what was measured
/// (not of the declared type, nor a clip too short to lengthen), or of a
/// local file in a format preflight does not read but conforming converts.
/// A file that passes goes as it is, conforming or not: the same line is
/// never paid for once as it is and again conformed.
pub fn can_conform(verdict: Option<&Verdict>, job: &NewJob, local: bool) -> bool {
    match verdict {
        Some(Verdict::Refused { media: Some(m), reasons }) => {
            m.format.asset_type() == job.asset_type && !reasons.iter().any(|r| is_too_short(r))
        }
        Some(Verdict::Refused { media: None, .. }) => local && convertible(&job.url),
        _ => false,
    }
}

/// `duration 1 s is below 2 s`: nothing lengthens a clip.
fn is_too_short(reason: &str) -> bool {
    reason.starts_with("duration ") && reason.contains(" is below ")
}

/// A path whose extension names a format conforming converts.
fn convertible(path: &str) -> bool {
    std::path::Path::new(path)
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| crate::local::convertible(e).is_some())
}

impl Intake {
    /// Conforms `item` (whose job is `job`, refused with `verdict`) with
    /// `conformer`: one item per output, or the item refused with both
    /// reasons.
    pub(super) async fn conform_item(
        &self,
        conformer: &Conformer,
        item: &Item,
        job: &NewJob,
        verdict: Option<&Verdict>,
    ) -> Vec<Item> {
        let refused = match verdict {
            Some(Verdict::Refused { reasons, .. }) => reasons.join("; "),
            _ => String::new(),
        };
        let fail = |e: ConformError| vec![Item { fate: Fate::Refused(format!("{refused}; {e}")), ..item.clone() }];
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
            Ok(None) => return fail(ConformError::Impossible("the conform step finds nothing to change".into())),
            Err(e) => return fail(e),
        };
        let progress: crate::conform::Progress = match &self.progress {
            Some(tx) => {
                let (tx, text) = (tx.clone(), item.text().to_string());
                Arc::new(move |fraction| {
                    let _ = tx.send(Conforming { text: text.clone(), fraction });
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
            let mut note = None;
            let fate = match checked {
                Some(Verdict::Passed(m)) => {
                    part.media = Some(m);
                    match super::local::hash(part, path, storage).await {
                        Ok(part) => {
                            if i == 0 {
                                let cached = if done.cached { " (found in the conform cache)" } else { "" };
                                note = Some(format!(
                                    "conformed ({}): {}{cached}",
                                    shown_part(i, n),
                                    done.recipe.describe()
                                ));
                            }
                            let warning =
                                (i == 0 && !done.recipe.warnings.is_empty()).then(|| done.recipe.warnings.join("; "));
                            Fate::Create { job: Box::new(part), warning }
                        }
                        Err(why) => Fate::Refused(why),
                    }
                }
                Some(v) => Fate::Refused(format!("{}", ConformError::StillRefused(v.describe()))),
                None => Fate::Refused("the conformed file cannot be checked: preflight is off".into()),
            };
            out.push(Item { fate, hash_from: Some(path.clone()), note, ..item.clone() });
        }
        out
    }
}

fn shown_part(i: usize, n: usize) -> String {
    if n > 1 { format!("part {} of {n}", i + 1) } else { "1 file".into() }
}
