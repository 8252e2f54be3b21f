//! The input pane: the URL editor with a verdict beside each line, then the
//! name template, type and group, then the preset and a summary.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Position, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};
use unicode_width::UnicodeWidthStr;

use crate::text::excerpt;

use super::super::app::{App, Focus, Mode};
use super::super::pane::input::{Verdict, without_line};
use super::super::theme::Theme;
use super::window;

/// The end of a text at most `width` characters wide, `…` marking a cut.
fn tail(text: &str, width: usize) -> String {
    let chars: Vec<char> = crate::text::sanitize(text.trim()).chars().collect();
    if chars.len() <= width {
        return chars.into_iter().collect();
    }
    let keep = width.saturating_sub(1);
    std::iter::once('…').chain(chars[chars.len() - keep..].iter().copied()).collect()
}

/// Rows the URL editor gets for a screen `height` rows high.
pub(super) fn editor_rows(height: u16) -> u16 {
    match height {
        0..20 => 1,
        20..36 => 3,
        _ => 5,
    }
}

pub(super) fn draw(frame: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    let focused = app.focus.in_input();
    let restored = app.input.restored_lines();
    let title = if restored > 0 { format!(" Import · ↺ {restored} restored ") } else { " Import ".to_string() };
    let block = Block::bordered().title(title).border_style(theme.border(focused));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let editing = app.mode == Mode::Editing;
    let style_for = |f: Focus| match (app.focus == f, editing) {
        (true, true) => theme.editing_field(),
        (true, false) => theme.focused_field(),
        _ => Style::new(),
    };
    let rows = inner.height.saturating_sub(2).max(1);
    let [editor_area, fields_area, summary_area] =
        Layout::vertical([Constraint::Length(rows), Constraint::Length(1), Constraint::Length(1)]).areas(inner);
    draw_editor(frame, app, theme, editor_area, editing);

    // Name template, type, group.
    let w = inner.width as usize;
    let group_w = w.saturating_sub(7 + 18 + 7 + 6 + 8).max(8);
    let fields = [("Name   ", 18, Focus::Name), ("  Type ", 6, Focus::Type), ("  Group ", group_w, Focus::Group)];
    let mut spans = Vec::new();
    let mut x = 0usize;
    let mut cursor: Option<Position> = None;
    for (label, width, focus) in fields {
        spans.push(Span::styled(label, theme.dim()));
        x += label.len();
        // A field being edited scrolls to its cursor; otherwise a template
        // shows its start and a group id its distinctive end, cut with `…`.
        let field = match focus {
            Focus::Name => Some(&app.input.name),
            Focus::Group => Some(&app.input.group),
            _ => None,
        };
        let (shown, col) = match field {
            Some(f) if app.focus == focus && editing => window(&crate::text::sanitize(f.text()), f.cursor(), width),
            Some(f) if focus == Focus::Group => (tail(f.text(), width), 0),
            Some(f) => (excerpt(f.text(), width), 0),
            None => (app.input.type_choice.to_string(), 0),
        };
        if app.focus == focus && editing {
            let before: String = shown.chars().take(col).collect();
            cursor = Some(Position::new(inner.x + (x + before.width()) as u16, fields_area.y));
        }
        spans.push(Span::styled(format!("{shown:<width$}"), style_for(focus)));
        x += width;
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), fields_area);

    // Preset and summary.
    let preset = match app.input.preset().and_then(|i| app.presets.get(i)) {
        Some(p) if app.input.modified(&app.presets) => format!("{} (modified)", p.name),
        Some(p) => format!("{} ({}/{})", p.name, app.input.preset().unwrap_or(0) + 1, app.presets.len()),
        None if app.presets.is_empty() => "none (p to add)".to_string(),
        None => "custom".to_string(),
    };
    let preset = format!("{:<22}", crate::text::excerpt(&preset, 22));
    let (ready, bad, held) = (app.input.ready(), app.input.bad(), app.input.held());
    let local = app.input.on_enter();
    let summary = match (app.input.problem(), ready, bad, held) {
        (Some(p), ..) => Span::styled(format!("✗ {p}"), theme.bad()),
        (None, 0, 0, 0) if local > 0 => Span::styled(format!("· {local} local, read on Enter"), theme.dim()),
        (None, 0, 0, 0) => Span::styled("type or paste URLs", theme.dim()),
        (None, n, 0, 0) => Span::styled(format!("✓ {n} ready · Enter submits"), theme.ok()),
        (None, n, b, 0) => Span::styled(format!("{n} ready · ✗ {b} bad (reasons beside them)"), theme.bad()),
        (None, n, b, h) => Span::styled(
            format!(
                "{n} ready · ? {h} held · ✗ {b} bad · {} sends held",
                app.keys.keys_of(super::super::keymap::KeyAction::SendHeld)
            ),
            theme.bad(),
        ),
    };
    let line = Line::from(vec![
        Span::styled("Preset ", theme.dim()),
        Span::styled(preset, style_for(Focus::Preset)),
        Span::raw("  "),
        summary,
    ]);
    frame.render_widget(Paragraph::new(line), summary_area);
    if let Some(c) = cursor {
        frame.set_cursor_position(c);
    }
}

/// The URL editor and, beside each line, its verdict.
fn draw_editor(frame: &mut Frame, app: &App, theme: &Theme, area: Rect, editing: bool) {
    // A third of the width on a narrow screen, two fifths on a wide one
    // (the reasons are long; URLs rarely need more than the rest).
    let verdict_w = if area.width < 100 { area.width / 3 } else { area.width * 2 / 5 }.max(12);
    let [left, right] = Layout::horizontal([Constraint::Fill(1), Constraint::Length(verdict_w)]).areas(area);
    let label_w = 7u16;
    let [label, text] = Layout::horizontal([Constraint::Length(label_w), Constraint::Fill(1)]).areas(left);
    let active = app.focus == Focus::Urls;
    frame.render_widget(Span::styled("URLs", theme.dim()), label);
    let mut editor = app.input.editor().clone();
    let base = match (active, editing) {
        (true, true) => theme.editing_field(),
        (true, false) => theme.focused_field(),
        _ => Style::new(),
    };
    editor.set_style(base);
    editor.set_placeholder_style(base.patch(theme.dim()));
    editor.set_cursor_style(if active && editing { theme.cursor() } else { base });
    frame.render_widget(&editor, text);
    let (top, _) = editor.scroll_offset();
    let verdicts = app.input.verdicts();
    let texts = app.input.editor().lines();
    let w = verdict_w as usize - 3;
    let lines: Vec<Line> = (0..area.height as usize)
        .map(|r| {
            let i = top as usize + r;
            // A line restored from last time says so before its verdict.
            let mark = if app.input.is_restored(i) { "↺" } else { " " };
            let line = texts.get(i).map_or("", |l| l.trim());
            let Some(v) = verdicts.get(i).filter(|v| **v != Verdict::Skip) else { return Line::raw("") };
            let style = match v {
                Verdict::Ok(_) => theme.ok(),
                Verdict::Error(_) | Verdict::Warn(_) | Verdict::Held(_) => theme.bad(),
                _ => theme.dim(),
            };
            if let (Verdict::Checking, Some(f)) = (v, app.input.progress(line)) {
                return Line::styled(format!("{mark}… conforming {:.0}%", f * 100.0), style);
            }
            Line::styled(format!("{mark}{} {}", v.glyph(), excerpt(without_line(v.text(), line), w)), style)
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), right);
    let n = app.input.editor().lines().len();
    if n > area.height as usize && area.height > 0 {
        // The cursor's line of how many, kept clear of the URLs: the total
        // goes when both would not fit.
        let line = editor.cursor().0 + 1;
        let room = label_w as usize - 1;
        let counter = [format!("{line}/{n}"), format!("{line}")].into_iter().find(|c| c.len() <= room);
        let more = format!("{:<w$}", counter.unwrap_or_default(), w = label_w as usize);
        let r = Rect { x: label.x, y: label.y + area.height - 1, width: label_w, height: 1 };
        frame.render_widget(Span::styled(more, theme.dim()), r);
    }
}
