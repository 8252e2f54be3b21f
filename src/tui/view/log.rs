//! The log pane: timestamped lines, newest at the bottom, scrollable.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use super::super::app::{App, Focus};
use super::super::theme::Theme;

pub(super) fn draw(frame: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    let rows = area.height.saturating_sub(2) as usize;
    let total = app.log.len();
    let end = total.saturating_sub(app.log_scroll);
    let start = end.saturating_sub(rows);
    let lines: Vec<Line> = app
        .log
        .range(start..end)
        .map(|l| {
            Line::from(vec![
                Span::styled(l.time.strftime("%H:%M:%S ").to_string(), theme.dim()),
                Span::styled(l.text.clone(), theme.level(l.level)),
            ])
        })
        .collect();
    let title = if app.log_scroll > 0 { format!(" Log (↑{}) ", app.log_scroll) } else { " Log ".to_string() };
    let block = Block::bordered().title(title).border_style(theme.border(app.focus == Focus::Log));
    frame.render_widget(Paragraph::new(lines).block(block), area);
}
