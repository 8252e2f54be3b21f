//! The log pane: timestamped lines, newest at the bottom; a cursor line that
//! can be opened whole; a search.

use std::cell::Cell;
use std::collections::VecDeque;

use crate::engine::LogLine;

/// Log lines kept for the log pane.
pub const LOG_CAPACITY: usize = 2000;

/// The log pane's state.
#[derive(Debug, Default)]
pub struct LogPane {
    lines: VecDeque<LogLine>,
    /// The cursor line, counted back from the newest (0 follows new lines).
    back: usize,
    query: String,
    /// Entries that fitted at the last draw.
    pub shown: Cell<usize>,
}

impl LogPane {
    /// The lines, oldest first.
    pub fn lines(&self) -> &VecDeque<LogLine> {
        &self.lines
    }

    /// Adds a line; the cursor stays on its line when scrolled back.
    pub fn push(&mut self, line: LogLine) {
        if self.lines.len() == LOG_CAPACITY {
            self.lines.pop_front();
        }
        self.lines.push_back(line);
        if self.back > 0 {
            self.back = (self.back + 1).min(self.lines.len() - 1);
        }
    }

    /// How far back the cursor is (0: the newest line).
    pub fn back(&self) -> usize {
        self.back
    }

    /// Index of the cursor line.
    pub fn cursor(&self) -> Option<usize> {
        self.lines.len().checked_sub(1 + self.back)
    }

    /// The cursor line.
    pub fn current(&self) -> Option<&LogLine> {
        self.cursor().and_then(|i| self.lines.get(i))
    }

    /// Moves the cursor `delta` lines back (positive) or forward.
    pub fn scroll(&mut self, delta: i64) {
        let max = self.lines.len().saturating_sub(1) as i64;
        self.back = (self.back as i64 + delta).clamp(0, max) as usize;
    }

    /// The oldest line (`false`) or the newest.
    pub fn jump(&mut self, newest: bool) {
        self.back = if newest { 0 } else { self.lines.len().saturating_sub(1) };
    }

    /// One page of entries, by the last draw.
    pub fn page(&self) -> i64 {
        self.shown.get().max(1) as i64
    }

    /// The search text.
    pub fn query(&self) -> &str {
        &self.query
    }

    /// Searches back from the line before the cursor (or from the cursor
    /// with `include_current`) for `query`, case-insensitive; moves there.
    /// False when nothing (older) matches.
    pub fn search(&mut self, query: &str, include_current: bool) -> bool {
        self.query = query.to_string();
        let needle = query.to_lowercase();
        if needle.is_empty() {
            return false;
        }
        let Some(cur) = self.cursor() else { return false };
        let start = if include_current { cur + 1 } else { cur };
        let found = (0..start).rev().find(|&i| self.lines[i].text.to_lowercase().contains(&needle));
        match found {
            Some(i) => {
                self.back = self.lines.len() - 1 - i;
                true
            }
            None => false,
        }
    }

    /// The range of entries to draw in `rows` rows where entry `i` takes
    /// `height(i)` rows: ends at the cursor line, and when the oldest line is
    /// reached with room to spare, continues below the cursor so the pane
    /// stays full (Home shows the first page, not one line).
    pub fn window(&self, rows: usize, height: impl Fn(&LogLine) -> usize) -> std::ops::Range<usize> {
        let Some(cur) = self.cursor() else { return 0..0 };
        let mut used = 0;
        let mut start = cur + 1;
        while start > 0 {
            let h = height(&self.lines[start - 1]).max(1);
            if used + h > rows && used > 0 {
                break;
            }
            used += h;
            start -= 1;
        }
        let mut end = cur + 1;
        while end < self.lines.len() {
            let h = height(&self.lines[end]).max(1);
            if used + h > rows {
                break;
            }
            used += h;
            end += 1;
        }
        start..end
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Level;

    fn pane(n: usize) -> LogPane {
        let mut p = LogPane::default();
        for i in 0..n {
            p.push(LogLine { time: jiff::Timestamp::UNIX_EPOCH, level: Level::Info, text: format!("line {i}") });
        }
        p
    }

    #[test]
    fn home_shows_a_full_first_page() {
        let mut p = pane(20);
        p.jump(false);
        assert_eq!(p.window(5, |_| 1), 0..5, "Home fills the pane from the oldest line");
        p.jump(true);
        assert_eq!(p.window(5, |_| 1), 15..20);
        assert_eq!(p.window(5, |l| if l.text == "line 19" { 3 } else { 1 }), 17..20, "a wrapped line takes its rows");
    }

    #[test]
    fn search_goes_back_through_matches() {
        let mut p = pane(30);
        assert!(p.search("LINE 2", true));
        assert_eq!(p.current().unwrap().text, "line 29");
        assert!(p.search("line 2", false));
        assert_eq!(p.current().unwrap().text, "line 28");
        assert!(p.search("line 1", false));
        assert_eq!(p.current().unwrap().text, "line 19");
        assert!(!p.search("nothing", true));
    }
}
