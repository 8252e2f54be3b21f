//! The input pane: URLs, name template, type, group, preset, and the inline
//! validation message.

use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use unicode_width::UnicodeWidthStr;

use super::super::app::{App, Focus, Mode};
use super::super::field::TextField;
use super::super::theme::Theme;

/// The visible part of a one-line text (the tail when it is too long), and
/// the cursor's column in it.
fn window(text: &str, cursor: usize, width: usize) -> (String, usize) {
    let chars: Vec<char> = text.chars().collect();
    let cursor = cursor.min(chars.len());
    let start = cursor.saturating_sub(width.saturating_sub(1));
    let shown: String = chars[start..].iter().take(width).collect();
    (shown, cursor - start)
}

struct FieldView<'a> {
    label: &'a str,
    width: usize,
    focus: Focus,
}

pub(super) fn draw(frame: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    let focused = app.focus.in_input();
    let block = Block::bordered().title(" Import ").border_style(theme.border(focused));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let editing = app.mode == Mode::Editing;
    let style_for = |f: Focus| match (app.focus == f, editing) {
        (true, true) => theme.editing_field(),
        (true, false) => theme.focused_field(),
        _ => Style::new(),
    };
    let mut cursor: Option<Position> = None;
    let w = inner.width as usize;

    // Line 1: URLs (the line under the cursor when editing, else the first).
    let text = app.urls.text();
    let line_count = text.lines().count();
    let label = "URLs   ";
    let room = w.saturating_sub(label.len() + 16);
    let (before, cur_line, cur_col) = cursor_line(&app.urls);
    let shown_line = if app.focus == Focus::Urls && editing {
        cur_line.clone()
    } else {
        text.lines().next().unwrap_or("").to_string()
    };
    let (shown, col) = window(
        &crate::text::sanitize(&shown_line),
        if app.focus == Focus::Urls && editing { cur_col } else { 0 },
        room,
    );
    let mut spans = vec![Span::styled(label, theme.dim())];
    if text.is_empty() && !(editing && app.focus == Focus::Urls) {
        spans.push(Span::styled(
            format!("{:<room$}", "paste or type https URLs (i to edit)"),
            style_for(Focus::Urls).patch(theme.dim()),
        ));
    } else {
        spans.push(Span::styled(format!("{shown:<room$}"), style_for(Focus::Urls)));
    }
    if line_count > 1 {
        let where_ = if app.focus == Focus::Urls && editing {
            format!(" line {}/{line_count}", before + 1)
        } else {
            format!(" +{} more", line_count - 1)
        };
        spans.push(Span::styled(where_, theme.dim()));
    }
    if app.focus == Focus::Urls && editing {
        cursor = Some(Position::new(
            inner.x + (label.len() + UnicodeWidthStr::width(&shown.chars().take(col).collect::<String>()[..])) as u16,
            inner.y,
        ));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), Rect { height: 1, ..inner });

    // Line 2: name template, type, group.
    let group_w = w.saturating_sub(7 + 18 + 7 + 6 + 2 + 7).max(8);
    let fields = [
        FieldView { label: "Name   ", width: 18, focus: Focus::Name },
        FieldView { label: "  Type ", width: 6, focus: Focus::Type },
        FieldView { label: "  Group ", width: group_w, focus: Focus::Group },
    ];
    let mut spans = Vec::new();
    let mut x = 0usize;
    for f in fields {
        spans.push(Span::styled(f.label, theme.dim()));
        x += f.label.len();
        let (value, field_cursor) = match f.focus {
            Focus::Name => (Some(&app.name), app.name.cursor()),
            Focus::Group => (Some(&app.group), app.group.cursor()),
            _ => (None, 0),
        };
        let (shown, col) = match value {
            Some(v) => window(&crate::text::sanitize(v.text()), field_cursor, f.width),
            None => (app.type_choice.to_string(), 0),
        };
        if app.focus == f.focus && editing {
            cursor = Some(Position::new(
                inner.x + (x + UnicodeWidthStr::width(&shown.chars().take(col).collect::<String>()[..])) as u16,
                inner.y + 1,
            ));
        }
        let width = f.width;
        spans.push(Span::styled(format!("{shown:<width$}"), style_for(f.focus)));
        x += width;
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), Rect { y: inner.y + 1, height: 1, ..inner });

    // Line 3: preset and validation.
    let preset = match app.preset.and_then(|i| app.presets.get(i)) {
        Some(p) => format!("{} ({}/{})", p.name, app.preset.unwrap_or(0) + 1, app.presets.len()),
        None if app.presets.is_empty() => "none (p to add)".to_string(),
        None => "custom".to_string(),
    };
    let preset = format!("{:<22}", crate::text::excerpt(&preset, 22));
    let check = match &app.validation {
        Ok(0) => Span::styled("type or paste URLs", theme.dim()),
        Ok(n) => Span::styled(format!("✓ {n} ready · Enter submits"), theme.ok()),
        Err(e) => Span::styled(format!("✗ {e}"), theme.bad()),
    };
    let line = Line::from(vec![
        Span::styled("Preset ", theme.dim()),
        Span::styled(preset, style_for(Focus::Preset)),
        Span::raw("  "),
        check,
    ]);
    frame.render_widget(Paragraph::new(line), Rect { y: inner.y + 2, height: 1, ..inner });
    if let Some(c) = cursor {
        frame.set_cursor_position(c);
    }
}

/// For a multi-line field: the index of the cursor's line, that line, and
/// the cursor's column in it.
fn cursor_line(field: &TextField) -> (usize, String, usize) {
    let before: String = field.text().chars().take(field.cursor()).collect();
    let line_idx = before.matches('\n').count();
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count());
    let line = field.text().split('\n').nth(line_idx).unwrap_or("").to_string();
    (line_idx, line, col)
}
