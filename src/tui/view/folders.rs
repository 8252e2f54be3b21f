//! The view of the watched folders and what each brought in.

use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use super::super::app::App;
use super::super::pane::folders::{FolderRow, FoldersPane};
use super::super::theme::Theme;
use super::{centered, window};
use crate::text::{excerpt, sanitize};
use unicode_width::UnicodeWidthStr;

/// The folder's path in `room` columns, its end kept (the end names it).
fn tail(path: &str, room: usize) -> String {
    let n = path.chars().count();
    if n <= room {
        return path.to_string();
    }
    let keep: String = path.chars().skip(n - room.saturating_sub(1)).collect();
    format!("…{keep}")
}

/// `text` one column in, cut to fit `width`.
fn padded(text: &str, width: usize, style: Style) -> Line<'static> {
    Line::from(vec![Span::raw(" "), Span::styled(excerpt(text, width.saturating_sub(1)), style)])
}

/// `text` one column in, wrapped at spaces into at most `max` lines of
/// `width` (a word longer than a line is cut; `…` marks text left out).
fn wrapped(text: &str, width: usize, max: usize, style: Style) -> Vec<Line<'static>> {
    let room = width.saturating_sub(1).max(1);
    let mut rows: Vec<String> = vec![String::new()];
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let last = rows.last_mut().expect("one row at least");
        let needed = last.chars().count() + usize::from(!last.is_empty()) + word.chars().count();
        if needed <= room || last.is_empty() {
            if !last.is_empty() {
                last.push(' ');
            }
            last.push_str(word);
        } else {
            rows.push(word.to_string());
        }
    }
    let cut = rows.len() > max;
    rows.truncate(max);
    if cut && let Some(last) = rows.last_mut() {
        last.push('…');
    }
    rows.iter().map(|r| padded(r, width, style)).collect()
}

pub(super) fn draw(frame: &mut Frame, app: &App, pane: &FoldersPane, theme: &Theme, area: Rect) {
    let rect = centered(area, 100, area.height.saturating_sub(2).max(8));
    frame.render_widget(Clear, rect);
    let title = format!(" Watched folders · {} ", app.folders.len());
    let block = Block::bordered().title(title).border_style(theme.border(true));
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    let width = usize::from(inner.width);
    // Above the rows: why nothing is watched now, why the last change failed.
    let mut top: Vec<Line> = Vec::new();
    if let Some(why) = &app.folders_idle {
        top.extend(wrapped(&format!("not watching now: {why}"), width, 2, theme.bad()));
    }
    if let Some(e) = &pane.error {
        top.extend(wrapped(e, width, 3, theme.bad()));
    }
    // Below: the prompt or question, and the keys.
    let bottom = 2;
    let body = usize::from(inner.height).saturating_sub(top.len() + bottom);
    let mut lines = top;
    // Two lines a folder (three with rules): where, then into which group
    // and what it brought in, then which files.
    let height = |r: &FolderRow| if r.rules.is_empty() { 2 } else { 3 };
    let selected = pane.selected(app.folders.len());
    // The first row shown keeps the selected one in sight.
    let mut first = selected;
    let mut used = app.folders.get(selected).map_or(0, height);
    while first > 0 && used + height(&app.folders[first - 1]) <= body {
        first -= 1;
        used += height(&app.folders[first]);
    }
    let mut used = 0;
    for (i, r) in app.folders.iter().enumerate().skip(first) {
        used += height(r);
        if used > body && i > first {
            break;
        }
        let chosen = i == selected && pane.adding.is_none();
        let style = if chosen { theme.selected_row() } else { Style::default() };
        let dir = sanitize(&r.dir.display().to_string());
        let mark = if r.recursive { "/**" } else { "" };
        // The selected folder's lines are marked across the whole width.
        let path = format!(" {}{mark}", tail(&dir, width.saturating_sub(5)));
        lines.push(Line::styled(format!("{path:<width$}"), style));
        let mut counts = vec![Span::styled(format!("   → {}", excerpt(&r.group, 30)), theme.dim())];
        counts.push(Span::raw(format!(" · {} job{}", r.jobs, if r.jobs == 1 { "" } else { "s" })));
        if r.waiting > 0 {
            counts.push(Span::raw(format!(" · {} on the way", r.waiting)));
        }
        if r.refused > 0 {
            counts.push(Span::styled(format!(" · {} refused", r.refused), theme.bad()));
        }
        lines.push(Line::from(counts).style(style));
        if !r.rules.is_empty() {
            let rules = format!("     {}", excerpt(&r.rules, width.saturating_sub(5)));
            lines.push(Line::from(Span::styled(rules, theme.dim())).style(style));
        }
    }
    if app.folders.is_empty() {
        lines.push(padded("no watched folders: a adds one", width, theme.dim()));
        lines.push(padded(
            "files that land in it (complete, new or changed) are imported into the group",
            width,
            theme.dim(),
        ));
    }
    let body_end = usize::from(inner.height).saturating_sub(bottom);
    lines.truncate(body_end);
    while lines.len() < body_end {
        lines.push(Line::raw(""));
    }
    let (prompt, footer) = match (&pane.adding, &pane.confirm) {
        (Some((field, recursive)), _) => {
            let how = if *recursive { "with subfolders" } else { "this folder only" };
            let label = " folder: ";
            let (shown, col) = window(&sanitize(field.text()), field.cursor(), width.saturating_sub(label.len() + 1));
            let before: String = shown.chars().take(col).collect();
            let x = inner.x + (label.len() + before.width()) as u16;
            frame.set_cursor_position(Position::new(x.min(inner.right().saturating_sub(1)), inner.y + body_end as u16));
            let keys = format!("→ {} · {how} (Tab) · Enter adds · Esc", excerpt(&pane.group, 20));
            (
                Line::from(vec![Span::styled(label, theme.dim()), Span::styled(shown, theme.header())]),
                padded(&keys, width, theme.dim()),
            )
        }
        (None, Some(dir)) => {
            let dir = tail(&sanitize(&dir.display().to_string()), width.saturating_sub(16).max(8));
            (
                padded(&format!("stop watching {dir}?"), width, theme.bad()),
                padded("y stops · any other key keeps it", width, theme.bad()),
            )
        }
        (None, None) => {
            let into = if pane.group.is_empty() { "no group".to_string() } else { excerpt(&pane.group, 24) };
            let keys = format!("a add (into {into}) · x remove · ? help · Esc close");
            (Line::raw(""), padded(&keys, width, theme.dim()))
        }
    };
    lines.push(prompt);
    lines.push(footer);
    frame.render_widget(Paragraph::new(lines), inner);
}

#[cfg(test)]
mod tests {
    use super::tail;

    #[test]
    fn long_messages_wrap_at_spaces_within_their_lines() {
        let lines = super::wrapped("not watching now: another process runs the imports", 20, 2, Default::default());
        let text: Vec<String> = lines.iter().map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect()).collect();
        assert_eq!(text, vec![" not watching now:", " another process…"]);
    }

    #[test]
    fn a_long_path_keeps_its_end() {
        assert_eq!(tail("/a/b", 10), "/a/b");
        assert_eq!(tail("/home/me/renders/shot-042", 10), "…/shot-042");
        assert_eq!(tail("/home/me/renders/shot-042", 10).chars().count(), 10);
    }
}
