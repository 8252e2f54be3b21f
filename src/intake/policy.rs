//! The one policy: what a preflight verdict means for a line. Both front
//! ends ask it; neither decides on its own.

use crate::config::{PreflightMode, Unprobeable};
use crate::preflight::Verdict;

/// How verdicts are acted on in one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// strict (refusals stop a line), warn (refusals are reported, the line
    /// goes on) or off (nothing is checked).
    pub mode: PreflightMode,
    /// What a line that could not be checked does without consent.
    pub unprobeable: Unprobeable,
    /// The user has said, for this run, that lines that could not be checked
    /// may be created (`--allow-unchecked`, the dashboard's send-anyway key).
    pub consent: bool,
}

/// What happens to one line (or expanded file) once its verdict is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// It goes to the engine; `Some(warning)` when it goes despite a problem
    /// the user allowed (warn mode, consent to an unchecked line).
    Create(Option<String>),
    /// It waits for the user's consent: it could not be checked.
    Hold(String),
    /// It is not created, and why.
    Refuse(String),
}

impl Policy {
    /// The decision for a line with this verdict (`None`: not checked
    /// because preflight is off).
    pub fn decide(&self, verdict: Option<&Verdict>) -> Decision {
        let Some(verdict) = verdict.filter(|_| self.mode != PreflightMode::Off) else {
            return Decision::Create(None);
        };
        match verdict {
            Verdict::Passed(_) => Decision::Create(None),
            Verdict::Refused { reasons, .. } if self.mode == PreflightMode::Warn => {
                Decision::Create(Some(format!("{} (sent anyway: preflight.mode = \"warn\")", reasons.join("; "))))
            }
            Verdict::Refused { reasons, .. } => Decision::Refuse(reasons.join("; ")),
            Verdict::NotChecked { reason } => match self.unprobeable {
                Unprobeable::Allow => {
                    Decision::Create(Some(format!("not checked: {reason} (sent: preflight.unprobeable = \"allow\")")))
                }
                Unprobeable::Refuse => {
                    Decision::Refuse(format!("not checked: {reason} (preflight.unprobeable = \"refuse\")"))
                }
                Unprobeable::Hold if self.consent => {
                    Decision::Create(Some(format!("not checked: {reason} (sent with your consent)")))
                }
                Unprobeable::Hold => Decision::Hold(format!("not checked: {reason}")),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(mode: PreflightMode, unprobeable: Unprobeable, consent: bool) -> Policy {
        Policy { mode, unprobeable, consent }
    }

    #[test]
    fn unchecked_lines_are_held_until_consent_by_default() {
        let v = Verdict::NotChecked { reason: "the URL's host did not answer".into() };
        let d = Policy { consent: false, ..policy(PreflightMode::Strict, Unprobeable::default(), false) };
        assert_eq!(d.decide(Some(&v)), Decision::Hold("not checked: the URL's host did not answer".into()));
        let d = policy(PreflightMode::Strict, Unprobeable::default(), true);
        assert!(matches!(d.decide(Some(&v)), Decision::Create(Some(w)) if w.contains("consent")));
        let d = policy(PreflightMode::Strict, Unprobeable::Refuse, true);
        assert!(matches!(d.decide(Some(&v)), Decision::Refuse(_)), "refuse is refuse, consent or not");
        let d = policy(PreflightMode::Strict, Unprobeable::Allow, false);
        assert!(matches!(d.decide(Some(&v)), Decision::Create(Some(_))));
    }

    #[test]
    fn refusals_stop_lines_unless_warn_and_off_checks_nothing() {
        let v = Verdict::refused("aspect 9.6 is above 2.5");
        let strict = policy(PreflightMode::Strict, Unprobeable::Hold, true);
        assert_eq!(strict.decide(Some(&v)), Decision::Refuse("aspect 9.6 is above 2.5".into()));
        let warn = policy(PreflightMode::Warn, Unprobeable::Hold, false);
        assert!(matches!(warn.decide(Some(&v)), Decision::Create(Some(w)) if w.contains("warn")));
        let off = policy(PreflightMode::Off, Unprobeable::Hold, false);
        assert_eq!(off.decide(Some(&v)), Decision::Create(None));
        assert_eq!(off.decide(None), Decision::Create(None));
    }
}
