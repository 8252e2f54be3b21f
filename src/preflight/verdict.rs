//! What preflight says of one item.

use crate::media::MediaInfo;

/// The outcome of checking one item.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Within every limit.
    Passed(MediaInfo),
    /// The server would reject it (or cannot download it): each reason names
    /// the limit and the measured value.
    Refused {
        /// What was measured, if anything.
        media: Option<MediaInfo>,
        /// Why, one reason per broken limit.
        reasons: Vec<String>,
    },
    /// It could not be measured (probe refused, no range support, timeout,
    /// a header past the byte budget); config decides whether it goes on.
    NotChecked {
        /// Why.
        reason: String,
    },
}

impl Verdict {
    /// A refusal with one reason.
    pub fn refused(reason: impl Into<String>) -> Verdict {
        Verdict::Refused { media: None, reasons: vec![reason.into()] }
    }

    /// The measured properties, when there are any.
    pub fn media(&self) -> Option<&MediaInfo> {
        match self {
            Verdict::Passed(m) => Some(m),
            Verdict::Refused { media, .. } => media.as_ref(),
            Verdict::NotChecked { .. } => None,
        }
    }

    /// One line for a person: `✓ png 1920×1080, 0.1 MB`, `✗ 1920×200: aspect 9.6 is above 2.5`,
    /// `not checked: …`. Already sanitized.
    pub fn describe(&self) -> String {
        let text = match self {
            Verdict::Passed(m) => format!("✓ {}", m.summary()),
            Verdict::Refused { reasons, .. } => format!("✗ {}", reasons.join("; ")),
            Verdict::NotChecked { reason } => format!("not checked: {reason}"),
        };
        crate::text::sanitize(&text)
    }
}
