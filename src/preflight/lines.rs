//! Pasted or piped lines through preflight, for both front ends: parse
//! them keeping their numbers, then check them, each verdict arriving with
//! its line as soon as it is known.

use std::sync::Arc;

use futures::Stream;

use super::{Checked, Preflight, Target};
use crate::engine::NewJob;
use crate::engine::input::{ImportDefaults, LineError, parse_line};

/// A line that parsed: where it came from and what it asks.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// The input's label (`argument`, `stdin`, a file name, `paste`).
    pub label: String,
    /// 1-based line number in that input.
    pub number: usize,
    /// The import (its `media` is filled in by [`Preflight::check_lines`]).
    pub job: NewJob,
}

/// [`crate::engine::input::parse_lines_from`], keeping each good line's
/// number: good lines, and errors for the others.
pub fn parse_numbered(label: &str, text: &str, d: &ImportDefaults, first_n: u64) -> (Vec<Line>, Vec<LineError>) {
    let mut good = Vec::new();
    let mut errors = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match parse_line(line, first_n + good.len() as u64, d) {
            Ok(job) => good.push(Line { label: label.to_string(), number: i + 1, job }),
            Err(error) => errors.push(LineError { line: i + 1, error }),
        }
    }
    (good, errors)
}

impl Preflight {
    /// Checks parsed lines, yielding `(index in lines, line, verdict)` as
    /// each verdict is known (not in input order), the line's `job.media`
    /// set to what was measured.
    pub fn check_lines(
        self: &Arc<Self>,
        lines: Vec<Line>,
    ) -> impl Stream<Item = (usize, Line, Checked)> + Send + 'static {
        let items = lines.iter().enumerate().map(|(i, l)| (i, Target::parse(&l.job.url), l.job.asset_type)).collect();
        let mut lines: Vec<Option<Line>> = lines.into_iter().map(Some).collect();
        futures::StreamExt::filter_map(self.check_stream(items), move |(i, checked)| {
            let line = lines.get_mut(i).and_then(Option::take).map(|mut line| {
                line.job.media = checked.verdict.media().cloned();
                (i, line, checked)
            });
            std::future::ready(line)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::TypeChoice;

    #[test]
    fn good_lines_keep_their_numbers() {
        let d = ImportDefaults {
            force_type: false,
            group_id: "g".into(),
            asset_type: TypeChoice::Infer,
            template: "{n}-{stem}".parse().unwrap(),
            date: "2026-11-24".into(),
        };
        let text = "# refs\nhttps://e.com/a.png\n\nftp://e.com/b.png\nhttps://e.com/c.mp4,Clip\n";
        let (good, bad) = parse_numbered("paste", text, &d, 5);
        let got: Vec<_> = good.iter().map(|l| (l.label.as_str(), l.number, l.job.name.as_str())).collect();
        assert_eq!(got, [("paste", 2, "5-a"), ("paste", 5, "Clip")]);
        assert_eq!(bad.iter().map(|e| e.line).collect::<Vec<_>>(), [4]);
    }
}
