//! The plan: what each line (or each file a directory or glob line gave)
//! becomes, and one tally of it that every front end shows the same way.

use crate::engine::{Job, JobId, NewJob};

/// Where an item came from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Origin {
    /// The input's label (`argument`, `stdin`, a file name, `editor`).
    pub label: String,
    /// 1-based line number in that input.
    pub line: usize,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.label, self.line)
    }
}

/// One thing a line asks for: the line itself, or one file of a directory or
/// glob line, with what happens to it.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// Where it came from.
    pub origin: Origin,
    /// The line as typed (trimmed).
    pub line: String,
    /// The file, when the line is a directory or glob that expanded to it
    /// (shown and kept as a line of its own).
    pub file: Option<String>,
    /// What happens to it.
    pub fate: Fate,
    /// The local file to hash once it has passed (local lines only).
    pub hash_from: Option<std::path::PathBuf>,
    /// Refused for what the conform step could fix (it was off): the front
    /// ends offer to conform it.
    pub conformable: bool,
    /// What was done to it on the way (`conformed (part 1 of 3): split …`).
    pub note: Option<String>,
}

impl Item {
    /// The text that stands for this item in an editor or a summary: the
    /// expanded file, else the line.
    pub fn text(&self) -> &str {
        self.file.as_deref().unwrap_or(&self.line)
    }

    /// `argument:3` or `argument:3: shots/a.png` (the file, when expanded).
    pub fn place(&self) -> String {
        match &self.file {
            Some(f) => format!("{}: {}", self.origin, crate::text::sanitize(f)),
            None => self.origin.to_string(),
        }
    }
}

/// What happens to an item.
#[derive(Debug, Clone, PartialEq)]
pub enum Fate {
    /// To be created; `warning` when it goes despite a problem the user
    /// allowed.
    Create {
        /// The import.
        job: Box<NewJob>,
        /// Why it goes although something is off, if so.
        warning: Option<String>,
    },
    /// Kept back until the user consents: it could not be checked.
    Held {
        /// The import it would be.
        job: Box<NewJob>,
        /// Why.
        reason: String,
    },
    /// Not to be created, and why.
    Refused(String),
    /// Sent: the engine queued a new job for it (created on the server
    /// once it leaves the queue).
    Created(JobId),
    /// Sent, and the engine already had it (same group and profile, same
    /// URL and name, or same content): nothing new was created.
    Existing {
        /// What this item asked for (its own name: the same content may
        /// have come under another), to create anyway if the user says so.
        asked: Box<NewJob>,
        /// The job that has it.
        job: Box<Job>,
    },
}

/// How many items went which way: the one summary every front end shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// New jobs queued (to be created on the server).
    pub queued: usize,
    /// Already in the job store (nothing paid).
    pub existing: usize,
    /// Waiting for consent.
    pub held: usize,
    /// Not created.
    pub refused: usize,
}

impl Tally {
    /// Counts one item's fate (items still to be sent are not counted).
    pub fn add(&mut self, fate: &Fate) {
        match fate {
            Fate::Created(_) => self.queued += 1,
            Fate::Existing { .. } => self.existing += 1,
            Fate::Held { .. } => self.held += 1,
            Fate::Refused(_) => self.refused += 1,
            Fate::Create { .. } => {}
        }
    }

    /// Adds another tally.
    pub fn merge(&mut self, other: Tally) {
        self.queued += other.queued;
        self.existing += other.existing;
        self.held += other.held;
        self.refused += other.refused;
    }

    /// `queued 3 · existing 1 · held back 2 · refused 1` (parts that are
    /// zero left out, except `queued`).
    pub fn summary(&self) -> String {
        let mut parts = vec![format!("queued {}", self.queued)];
        for (n, what) in [(self.existing, "existing"), (self.held, "held back"), (self.refused, "refused")] {
            if n > 0 {
                parts.push(format!("{what} {n}"));
            }
        }
        parts.join(" · ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_adds_up() {
        let mut t = Tally::default();
        t.add(&Fate::Created(1));
        t.add(&Fate::Refused("x".into()));
        t.add(&Fate::Refused("y".into()));
        assert_eq!(t.summary(), "queued 1 · refused 2");
        assert_eq!(Tally::default().summary(), "queued 0");
    }
}
