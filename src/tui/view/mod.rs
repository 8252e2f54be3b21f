//! Drawing: pure functions from [`App`] state to widgets. Only the visible
//! rows of the list are built.

mod folders;
mod forms;
mod input;
mod library;
mod list;
mod log;
mod popup;

use jiff::Timestamp;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::app::{App, Focus, Mode};
use super::keymap::Scope;
use super::pane::input::Verdict;
use super::pane::jobs::ListGeometry;
use super::theme::Theme;
use crate::engine::JobState;

/// Smallest usable terminal.
pub const MIN_WIDTH: u16 = 60;
/// Smallest usable terminal.
pub const MIN_HEIGHT: u16 = 16;

/// Where each part of the dashboard goes.
struct Areas {
    header: Rect,
    banner: Rect,
    input: Rect,
    list: Rect,
    log: Rect,
    status: Rect,
}

/// The parts' places in `area`; `None` when it is too small to use.
fn areas(app: &App, theme: &Theme, area: Rect) -> Option<(Areas, Line<'static>)> {
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        return None;
    }
    let log_height = match area.height {
        0..20 => 4,
        20..36 => 5,
        _ => 9,
    };
    // The banner wraps onto up to three rows rather than lose its end.
    let banner_height = app.banner().map_or(0, |b| {
        let width = unicode_width::UnicodeWidthStr::width(b.text.as_str()) + 2;
        width.div_ceil(area.width.max(1) as usize).clamp(1, 3) as u16
    });
    // A message longer than the screen is wide gets a second row.
    let status_line = status_line(app, theme, area.width as usize);
    let status_height = if status_line.width() > area.width as usize { 2 } else { 1 };
    let [header, banner, input, list, log, status] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(banner_height),
        Constraint::Length(input::editor_rows(area.height) + 4),
        Constraint::Min(4),
        Constraint::Length(log_height),
        Constraint::Length(status_height),
    ])
    .areas(area);
    Some((Areas { header, banner, input, list, log, status }, status_line))
}

/// Reads what the next frame of `area` shows (the job list's window, at
/// the list's height): call before each [`draw`], which reads nothing.
pub fn prepare(app: &mut App, area: Rect) {
    let theme = Theme::new(app.no_color);
    if let Some((a, _)) = areas(app, &theme, area) {
        app.list.prepare(ListGeometry::of(a.list));
    }
}

/// Draws the whole dashboard from its state, as [`prepare`] left it.
pub fn draw(frame: &mut Frame, app: &App) {
    let area = frame.area();
    let theme = Theme::new(app.no_color);
    let Some((a, status_line)) = areas(app, &theme, area) else {
        let msg = format!(
            "The terminal is {}×{}; seedance-assets needs at least {MIN_WIDTH}×{MIN_HEIGHT}. Enlarge it, or press q to quit.",
            area.width, area.height
        );
        frame.render_widget(Paragraph::new(msg).wrap(ratatui::widgets::Wrap { trim: true }), area);
        return;
    };
    let now = app.clock.unwrap_or_else(Timestamp::now);
    let Areas { header, banner, input: input_area, list: list_area, log: log_area, status } = a;
    draw_header(frame, app, &theme, header);
    if let Some(b) = app.banner() {
        let line = Line::styled(format!(" {} ", b.text), theme.level(b.level).add_modifier(Modifier::REVERSED));
        frame.render_widget(Paragraph::new(line).wrap(ratatui::widgets::Wrap { trim: true }), banner);
    }
    input::draw(frame, app, &theme, input_area);
    list::draw(frame, app, &theme, list_area, now);
    log::draw(frame, app, &theme, log_area);
    frame.render_widget(Paragraph::new(status_line).wrap(ratatui::widgets::Wrap { trim: true }), status);
    match &app.mode {
        Mode::Help => popup::help(frame, app, &theme, area),
        Mode::LogEntry => popup::log_entry(frame, app, &theme, area),
        Mode::Detail => popup::detail(frame, app, &theme, area, now),
        Mode::Confirm(c) => popup::confirm(frame, c, &theme, area),
        Mode::Presets(ed) => forms::presets(frame, app, ed, &theme, area),
        Mode::GroupForm(form) => forms::group(frame, app, form, &theme, area),
        Mode::Library(pane) => library::draw(frame, pane, &theme, area),
        Mode::Folders(pane) => folders::draw(frame, app, pane, &theme, area),
        Mode::Normal | Mode::Editing | Mode::Filter | Mode::LogSearch(_) => {}
    }
}

fn draw_header(frame: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    let mut spans =
        vec![Span::raw(" seedance-assets · "), Span::raw(crate::text::excerpt(&app.endpoint, 24)), Span::raw(" │ ")];
    let mut any = false;
    for s in JobState::ALL {
        let n = app.count(s);
        if n > 0 {
            spans.push(Span::raw(format!("{}{} ", Theme::glyph(s, 0), n)));
            any = true;
        }
    }
    if !any {
        spans.push(Span::raw(if app.loaded { "no jobs " } else { "loading… " }));
    }
    spans.push(Span::raw(format!("│ {} req/s", app.stats.requests_per_sec)));
    if let Some((held, max)) = app.holdings {
        // The account's assets against its cap, when the server lists them.
        let style = if held * 10 >= max * 9 { theme.bad() } else { theme.header() };
        spans.push(Span::styled(format!(" · {held}/{max} assets"), style));
    }
    if let Some(cap) = app.health.cap_in_force() {
        spans.push(Span::raw(format!(" · ≤{cap} processing")));
    }
    if app.stats.rate_limited > 0 {
        spans.push(Span::raw(format!(" · {}×429", app.stats.rate_limited)));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)).style(theme.header()), area);
}

fn status_line(app: &App, theme: &Theme, width: usize) -> Line<'static> {
    match (&app.status, &app.mode) {
        (Some(msg), _) => Line::from(Span::raw(msg.clone())),
        (None, Mode::Editing) if app.focus == Focus::Urls => {
            // The whole reason for the line under the cursor, else the keys.
            let row = app.input.editor().cursor().0;
            match app.input.verdicts().get(row) {
                Some(Verdict::Error(why)) => Line::styled(format!("line {}: {why}", row + 1), theme.bad()),
                _ => Line::styled(
                    "URLs: Enter submit · Alt-Enter newline · Ctrl-Z undo · Ctrl-L clear · Esc done",
                    theme.dim(),
                ),
            }
        }
        (None, Mode::Editing) => {
            Line::styled("editing: type · Enter/Esc done · Tab next field · Ctrl-U clear", theme.dim())
        }
        (None, Mode::Filter) => Line::styled("filter: type to narrow the list · Enter keep · Esc clear", theme.dim()),
        (None, Mode::LogSearch(_)) => Line::styled("search the log: type · Enter find · Esc cancel", theme.dim()),
        (None, Mode::Folders(_)) => Line::styled("watched folders: a add · x remove (asks) · Esc close", theme.dim()),
        (None, Mode::Library(_)) => {
            Line::styled("the server's assets: y copy asset:// · x delete (asks) · r reload · Esc close", theme.dim())
        }
        (None, _) => {
            let scope = match app.focus {
                Focus::List => Scope::List,
                Focus::Log => Scope::Log,
                _ => Scope::Input,
            };
            Line::styled(app.keys.hints(scope, width), theme.dim())
        }
    }
}

/// A compact duration: `42s`, `3m04s`, `1h02m`.
pub fn elapsed(secs: i64) -> String {
    let s = secs.max(0);
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
    }
}

/// The visible part of a one-line text (the tail when it is too long), and
/// the cursor's column in it.
pub(super) fn window(text: &str, cursor: usize, width: usize) -> (String, usize) {
    let chars: Vec<char> = text.chars().collect();
    let cursor = cursor.min(chars.len());
    let start = cursor.saturating_sub(width.saturating_sub(1));
    let shown: String = chars[start..].iter().take(width).collect();
    (shown, cursor - start)
}

/// A rectangle of at most `w`×`h` centred in `area`.
pub(crate) fn centered(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect { x: area.x + (area.width - w) / 2, y: area.y + (area.height - h) / 2, width: w, height: h }
}
