//! The asset list: only the rows on screen are built.

use jiff::Timestamp;
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Row, Table};

use super::super::app::{App, Focus, Mode};
use super::super::theme::Theme;
use super::elapsed;
use crate::engine::{Job, JobState};

fn job_elapsed(job: &Job, now: Timestamp) -> String {
    let end = if job.state.is_final() { job.updated_at } else { now };
    elapsed(end.duration_since(job.submitted_at).as_secs())
}

pub(super) fn draw(frame: &mut Frame, app: &App, theme: &Theme, area: Rect, now: Timestamp) {
    let focused = app.focus == Focus::List;
    let list = &app.list;
    let (window, selected) = list.window();
    let shown = format!("{}{}", list.shown(), if list.shown_is_capped() { "+" } else { "" });
    let mut title = vec![Span::raw(format!(" Assets {shown}/{} ", list.total()))];
    // The scope, once the store holds more than one profile's jobs.
    let several = list.profiles().len() > 1;
    if several {
        let scope =
            list.profile().map_or("all profiles".to_string(), |p| format!("profile {}", crate::text::excerpt(p, 16)));
        title.push(Span::raw(format!("[{scope}] ")));
    }
    if let Some(s) = list.state_filter() {
        title.push(Span::raw(format!("[{s}] ")));
    }
    if !app.filter.text().is_empty() || app.mode == Mode::Filter {
        let cursor = if app.mode == Mode::Filter { "▏" } else { "" };
        title.push(Span::raw(format!("/{}{cursor} ", crate::text::sanitize(app.filter.text()))));
    }
    let (shown, total) = (list.marked_shown(), list.marked_total());
    if total > 0 {
        let hidden = if shown < total { format!(" ({} hidden)", total - shown) } else { String::new() };
        title.push(Span::raw(format!("{shown} marked{hidden} ")));
    }
    let block = Block::bordered().title(Line::from(title)).border_style(theme.border(focused));
    // The asset id column only where there is room; narrower screens show
    // the asset id (or the asset:// reference) in the result column.
    let wide = area.width >= 110;
    // Whose job each row is, where there is room and more than one shows.
    let profile_column = wide && several && list.profile().is_none();
    let rows: Vec<Row> = window
        .iter()
        .enumerate()
        .map(|(k, job)| {
            let state_style = theme.state(job.state);
            let mark = if list.is_marked(job.id) { "•" } else { " " };
            let uploading =
                (job.state == JobState::Uploading).then(|| app.uploads.get(&job.id)).flatten().map(|u| u.describe());
            let detail = uploading
                .or_else(|| job.error.as_deref().map(crate::text::sanitize))
                .or_else(|| job.asset_ref())
                .unwrap_or_else(|| {
                    match &job.asset_id {
                        // Without the asset id column, show the id (the glyph shows the state).
                        Some(id) if !wide => crate::text::sanitize(id),
                        _ => job.state.to_string(),
                    }
                });
            let mut cells = vec![
                Cell::from(Line::from(vec![
                    Span::raw(mark),
                    Span::styled(Theme::glyph(job.state, app.tick), state_style),
                ])),
                Cell::from(crate::text::sanitize(&job.spec.name)),
                Cell::from(job.spec.asset_type.to_string()),
                Cell::from(job_elapsed(job, now)),
            ];
            if profile_column {
                cells.insert(2, Cell::from(crate::text::sanitize(&job.spec.profile)));
            }
            if wide {
                cells.push(Cell::from(job.asset_id.as_deref().map(crate::text::sanitize).unwrap_or_default()));
            }
            let chosen = Some(k) == selected;
            // Dim grey on the selection's grey would not be read.
            let detail_style = match (job.state.needs_attention(), chosen) {
                (true, _) => state_style,
                (false, true) => theme.selected_row(),
                (false, false) => theme.dim(),
            };
            cells.push(Cell::from(Span::styled(detail, detail_style)));
            let row = Row::new(cells);
            if chosen { row.style(theme.selected_row()) } else { row }
        })
        .collect();
    let mut widths = vec![Constraint::Length(2), Constraint::Fill(2), Constraint::Length(5), Constraint::Length(6)];
    let mut titles = vec!["", "Name", "Type", "Time"];
    if profile_column {
        widths.insert(2, Constraint::Length(10));
        titles.insert(2, "Profile");
    }
    if wide {
        widths.push(Constraint::Length(27));
        titles.push("Asset id");
    }
    widths.push(Constraint::Fill(3));
    titles.push("Status / result");
    let header = Row::new(titles).style(Style::new().add_modifier(Modifier::BOLD));
    let table = Table::new(rows, widths).header(header).block(block).column_spacing(1);
    frame.render_widget(table, area);
    let empty = window.is_empty();
    if let Some(e) = list.error() {
        let inner = Rect { x: area.x + 2, y: area.y + 2, width: area.width.saturating_sub(4), height: 1 };
        frame.render_widget(
            Line::styled(format!("cannot read the job store: {e}"), theme.state(JobState::Failed)),
            inner,
        );
    } else if empty {
        let hint = if list.total() == 0 {
            "No imports yet: paste https URLs (or press i), then Enter."
        } else {
            "No job matches the filter (Esc clears it; s / S cycle states)."
        };
        let inner = Rect { x: area.x + 2, y: area.y + 2, width: area.width.saturating_sub(4), height: 1 };
        frame.render_widget(Line::styled(hint, theme.dim()), inner);
    }
}
