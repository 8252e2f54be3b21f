//! The view of the watched folders and what each brought in.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use super::super::app::App;
use super::super::pane::folders::FoldersPane;
use super::super::theme::Theme;
use super::centered;
use crate::text::{excerpt, sanitize};

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
fn padded(text: &str, width: usize, style: ratatui::style::Style) -> Line<'static> {
    Line::from(vec![Span::raw(" "), Span::styled(excerpt(text, width.saturating_sub(1)), style)])
}

pub(super) fn draw(frame: &mut Frame, app: &App, pane: &FoldersPane, theme: &Theme, area: Rect) {
    let rect = centered(area, 100, area.height.saturating_sub(2).max(8));
    frame.render_widget(Clear, rect);
    let title = format!(" Watched folders · {} ", app.folders.len());
    let block = Block::bordered().title(title).border_style(theme.border(true));
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    let width = usize::from(inner.width);
    let mut lines: Vec<Line> = Vec::new();
    if let Some(why) = &app.folders_idle {
        lines.push(Line::styled(excerpt(&format!(" not watching now: {why}"), width), theme.bad()));
    }
    // Two lines a folder: where, then into which group and what it brought in.
    let room = usize::from(inner.height.saturating_sub(3)) / 2;
    let selected = pane.selected(app.folders.len());
    let top = selected.saturating_sub(room.saturating_sub(1));
    for (i, r) in app.folders.iter().enumerate().skip(top).take(room.max(1)) {
        let style = if i == selected && pane.adding.is_none() { theme.selected_row() } else { theme.header() };
        let dir = sanitize(&r.dir.display().to_string());
        let mark = if r.recursive { "/**" } else { "" };
        lines.push(Line::styled(format!(" {}{mark}", tail(&dir, width.saturating_sub(5))), style));
        let mut counts = vec![Span::styled(format!("   → {}", excerpt(&r.group, 30)), theme.dim())];
        counts.push(Span::raw(format!(" · {} imported", r.imported)));
        if r.waiting > 0 {
            counts.push(Span::raw(format!(" · {} on the way", r.waiting)));
        }
        if r.refused > 0 {
            counts.push(Span::styled(format!(" · {} refused", r.refused), theme.bad()));
        }
        lines.push(Line::from(counts));
    }
    if app.folders.is_empty() {
        lines.push(Line::styled(" no watched folders: a adds one", theme.dim()));
        lines.push(Line::styled(
            excerpt(" files that land in it (complete, new or changed) are imported into the group", width),
            theme.dim(),
        ));
    }
    let body = inner.height.saturating_sub(2);
    while lines.len() < usize::from(body) {
        lines.push(Line::raw(""));
    }
    lines.truncate(usize::from(body));
    let (prompt, footer) = match (&pane.adding, &pane.confirm) {
        (Some((field, recursive)), _) => {
            let how = if *recursive { "with subfolders" } else { "this folder only" };
            let prompt = format!("folder: {}▏", field.text());
            let keys = format!("→ {} · {how} (Tab) · Enter adds · Esc", excerpt(&pane.group, 20));
            (padded(&prompt, width, theme.header()), padded(&keys, width, theme.dim()))
        }
        (None, Some(dir)) => {
            let q = format!("stop watching {}? y stops · any other key keeps it", sanitize(&dir.display().to_string()));
            (Line::raw(""), padded(&q, width, theme.bad()))
        }
        (None, None) => {
            let into = if pane.group.is_empty() { "no group".to_string() } else { excerpt(&pane.group, 24) };
            let keys = format!("a add (into {into}) · x remove · ↑↓ move · Esc close");
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
    fn a_long_path_keeps_its_end() {
        assert_eq!(tail("/a/b", 10), "/a/b");
        assert_eq!(tail("/home/me/renders/shot-042", 10), "…/shot-042");
        assert_eq!(tail("/home/me/renders/shot-042", 10).chars().count(), 10);
    }
}
