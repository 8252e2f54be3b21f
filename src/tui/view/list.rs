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
use crate::engine::Job;

fn job_elapsed(job: &Job, now: Timestamp) -> String {
    let end = if job.state.is_final() { job.updated_at } else { now };
    elapsed(end.duration_since(job.submitted_at).as_secs())
}

pub(super) fn draw(frame: &mut Frame, app: &mut App, theme: &Theme, area: Rect, now: Timestamp) {
    let focused = app.focus == Focus::List;
    let mut title = vec![Span::raw(format!(" Assets {}/{} ", app.view.len(), app.jobs.len()))];
    if let Some(s) = app.status_filter {
        title.push(Span::raw(format!("[{s}] ")));
    }
    if !app.filter.text().is_empty() || app.mode == Mode::Filter {
        let cursor = if app.mode == Mode::Filter { "▏" } else { "" };
        title.push(Span::raw(format!("/{}{cursor} ", app.filter.text())));
    }
    if !app.marked.is_empty() {
        title.push(Span::raw(format!("{} marked ", app.marked.len())));
    }
    let block = Block::bordered().title(Line::from(title)).border_style(theme.border(focused));
    let inner_rows = area.height.saturating_sub(3) as usize; // borders + header row
    app.list_rows = inner_rows.max(1);
    app.list_top = (area.y + 2, area.y + 2 + app.list_rows as u16);
    if app.selected < app.offset {
        app.offset = app.selected;
    } else if app.selected >= app.offset + app.list_rows {
        app.offset = app.selected + 1 - app.list_rows;
    }
    app.offset = app.offset.min(app.view.len().saturating_sub(app.list_rows));
    let end = (app.offset + app.list_rows).min(app.view.len());
    // The asset id column only where there is room; narrower screens show
    // the asset:// reference in the result column anyway.
    let wide = area.width >= 110;
    let rows: Vec<Row> = app.view[app.offset..end]
        .iter()
        .enumerate()
        .map(|(k, &i)| {
            let job = &app.jobs[i];
            let state_style = theme.state(job.state);
            let mark = if app.marked.contains(&job.id) { "•" } else { " " };
            let detail = job.error.clone().or_else(|| job.asset_ref()).unwrap_or_else(|| match &job.asset_id {
                // Without the asset id column, show the id beside the state.
                Some(id) if !wide => format!("{} {id}", job.state),
                _ => job.state.to_string(),
            });
            let mut cells = vec![
                Cell::from(Line::from(vec![
                    Span::raw(mark),
                    Span::styled(Theme::glyph(job.state, app.tick), state_style),
                ])),
                Cell::from(job.spec.name.clone()),
                Cell::from(job.spec.asset_type.to_string()),
                Cell::from(job_elapsed(job, now)),
            ];
            if wide {
                cells.push(Cell::from(job.asset_id.clone().unwrap_or_default()));
            }
            cells.push(Cell::from(Span::styled(
                detail,
                if job.state.needs_attention() { state_style } else { theme.dim() },
            )));
            let row = Row::new(cells);
            if app.offset + k == app.selected { row.style(theme.selected_row()) } else { row }
        })
        .collect();
    let mut widths = vec![Constraint::Length(2), Constraint::Fill(2), Constraint::Length(5), Constraint::Length(6)];
    let mut titles = vec!["", "Name", "Type", "Time"];
    if wide {
        widths.push(Constraint::Length(27));
        titles.push("Asset id");
    }
    widths.push(Constraint::Fill(3));
    titles.push("Status / result");
    let header = Row::new(titles).style(Style::new().add_modifier(Modifier::BOLD));
    let table = Table::new(rows, widths).header(header).block(block).column_spacing(1);
    frame.render_widget(table, area);
    if app.view.is_empty() {
        let hint = if app.jobs.is_empty() {
            "No imports yet: paste https URLs (or press i), then Enter."
        } else {
            "No job matches the filter (Esc in / clears it; s cycles states)."
        };
        let inner = Rect { x: area.x + 2, y: area.y + 2, width: area.width.saturating_sub(4), height: 1 };
        frame.render_widget(Line::styled(hint, theme.dim()), inner);
    }
}
