//! The log pane: timestamped lines, newest at the bottom; long lines wrap;
//! the cursor line is highlighted while the pane has focus.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};
use unicode_width::UnicodeWidthStr;

use super::super::app::{App, Focus, Mode};
use super::super::theme::Theme;

/// Width of `HH:MM:SS `.
const STAMP: usize = 9;

pub(super) fn draw(frame: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    let rows = area.height.saturating_sub(2) as usize;
    let width = area.width.saturating_sub(2).max(1) as usize;
    let height = |text: &str| (STAMP + text.width()).div_ceil(width).max(1);
    let range = app.log.window(rows, |l| height(&l.text));
    app.log.shown.set(range.len());
    // Rows left over above: show the tail of the line before, so the pane
    // stays full and the newest line stays at the bottom.
    let used: usize = range.clone().map(|i| height(&app.log.lines()[i].text)).sum();
    let (range, scroll) = match range.start.checked_sub(1) {
        Some(prev) if used < rows => {
            let extra = height(&app.log.lines()[prev].text);
            (prev..range.end, (used + extra).saturating_sub(rows))
        }
        _ => (range, 0),
    };
    let focused = app.focus == Focus::Log;
    let cursor = app.log.cursor();
    let mut lines: Vec<Line> = Vec::new();
    for i in range.clone() {
        let l = &app.log.lines()[i];
        let mut line = Line::from(vec![
            Span::styled(l.time.strftime("%H:%M:%S ").to_string(), theme.dim()),
            Span::styled(l.text.clone(), theme.level(l.level)),
        ]);
        if focused && Some(i) == cursor {
            line = line.style(theme.selected_row());
        }
        lines.push(line);
    }
    let mut title = String::from(" Log ");
    if app.log.back() > 0 {
        title.push_str(&format!("(↑{}) ", app.log.back()));
    }
    match &app.mode {
        Mode::LogSearch(f) => title.push_str(&format!("/{}▏ ", crate::text::sanitize(f.text()))),
        _ if !app.log.query().is_empty() && focused => {
            title.push_str(&format!("/{} (n older) ", crate::text::excerpt(app.log.query(), 20)));
        }
        _ => {}
    }
    let block = Block::bordered().title(title).border_style(theme.border(focused));
    // A single line taller than the pane shows its start (Enter opens it whole).
    let paragraph = Paragraph::new(lines).wrap(Wrap { trim: false }).scroll((scroll as u16, 0));
    frame.render_widget(paragraph.block(block), area);
}
