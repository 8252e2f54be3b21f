//! The view of the server's assets of one group.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use super::super::pane::library::LibraryPane;
use super::super::theme::Theme;
use super::centered;
use crate::job::JobState;
use crate::text::excerpt;

/// The state a server status reads as, for its glyph and colour.
fn state_of(status: &str) -> JobState {
    match status {
        "Active" => JobState::Active,
        "Failed" => JobState::Failed,
        "Processing" => JobState::Processing,
        _ => JobState::Stuck,
    }
}

pub(super) fn draw(frame: &mut Frame, pane: &LibraryPane, theme: &Theme, area: Rect) {
    let rect = centered(area, 110, area.height.saturating_sub(2).max(8));
    frame.render_widget(Clear, rect);
    let count = match (pane.total, pane.loading) {
        (Some(t), _) => format!("{} of {t}", pane.rows().len()),
        (None, true) => format!("{}…", pane.rows().len()),
        (None, false) => pane.rows().len().to_string(),
    };
    let title = format!(" On the server: group {} · {count} ", excerpt(&pane.group, 40));
    let block = Block::bordered().title(title).border_style(theme.border(true));
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    let rows = usize::from(inner.height.saturating_sub(1));
    // The selected row stays in sight.
    let top = pane.selected().saturating_sub(rows.saturating_sub(1));
    let width = usize::from(inner.width);
    let mut lines: Vec<Line> = pane
        .rows()
        .iter()
        .enumerate()
        .skip(top)
        .take(rows)
        .map(|(i, r)| {
            let state = state_of(&r.status);
            let mark = if pane.is_deleting(&r.id) { "…" } else { Theme::glyph(state, 0) };
            let created = r.created.get(..16).unwrap_or(&r.created).replace('T', " ");
            // The id whole where it fits (it is what is copied and deleted);
            // the name takes the rest.
            let id_room = width.saturating_sub(2 + 6 + 17 + 12).clamp(8, 30);
            let name_room = width.saturating_sub(2 + 6 + 17 + 1 + id_room).max(4);
            let text = format!(
                "{:<5} {:<16} {:<name_room$} {}",
                excerpt(&r.asset_type, 5),
                created,
                excerpt(&r.name, name_room),
                excerpt(&r.id, id_room)
            );
            let style = if i == pane.selected() { theme.selected_row() } else { theme.state(state) };
            Line::from(vec![Span::styled(format!("{mark} "), theme.state(state)), Span::styled(text, style)])
        })
        .collect();
    if pane.rows().is_empty() {
        lines.push(match (&pane.error, pane.loading) {
            (Some(e), _) => Line::styled(format!(" cannot list: {e}"), theme.bad()),
            (None, true) => Line::styled(" listing…", theme.dim()),
            (None, false) => Line::styled(" no assets in this group", theme.dim()),
        });
    }
    while lines.len() < rows {
        lines.push(Line::raw(""));
    }
    let mut footer = String::from(" ↑↓ move · y copy asset:// · x delete · r reload · Esc close");
    if pane.unreadable > 0 {
        footer.push_str(&format!(" · {} unreadable left out", pane.unreadable));
    }
    if let Some(e) = pane.error.as_ref().filter(|_| !pane.rows().is_empty()) {
        footer = format!(" listing stopped: {e}");
    }
    let footer = match pane.confirm.as_ref().and_then(|id| pane.rows().iter().find(|r| &r.id == id)) {
        Some(r) => Line::styled(
            excerpt(
                &format!(" delete {} `{}` from the server? y deletes · any other key keeps it", r.id, r.name),
                width,
            ),
            theme.bad(),
        ),
        None => Line::styled(excerpt(&footer, width), theme.dim()),
    };
    lines.push(footer);
    frame.render_widget(Paragraph::new(lines), inner);
}
