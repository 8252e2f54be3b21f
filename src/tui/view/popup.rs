//! Overlays: the key help, a job's details, and y/n questions.

use jiff::Timestamp;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use super::super::app::{App, Confirm};
use super::super::theme::Theme;
use super::{centered, elapsed};
use crate::text::excerpt;

/// Keys of the URL editor and the forms, which type text and so are not
/// in the key table.
pub const EDITOR_KEYS: &[(&str, &str)] = &[
    ("Enter / Alt-Enter", "in the URL editor: submit / new line (also Ctrl-O)"),
    ("↑↓ Home End", "move in the URL editor"),
    ("Ctrl-Z / Ctrl-Y", "undo / redo in the URL editor"),
    ("Ctrl-U / Ctrl-L", "delete to line start / clear all (undoable)"),
    ("paste", "into the URL editor; URL<TAB>name<TAB>type lines kept"),
    ("in b's view", "y copy asset:// · x delete (asks) · r reload · Esc close"),
];

/// The glyphs in the header and the list.
pub const LEGEND: &[&str] = &[
    "⇡ Uploading",
    "· Queued",
    "↑ Creating",
    "◐ Processing (spins)",
    "✓ Active",
    "✗ Failed",
    "⊘ Rejected",
    "? Uncertain",
    "⧗ Stuck",
];

pub(super) fn help(frame: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    let mut lines: Vec<Line> = LEGEND
        .chunks(3)
        .enumerate()
        .map(|(i, chunk)| {
            let label = if i == 0 { " Glyphs" } else { "" };
            Line::from(vec![Span::styled(format!("{label:<19}"), theme.dim()), Span::raw(chunk.join("  "))])
        })
        .collect();
    // What a key does, cut with `…` where the popup is narrower than it.
    let room = usize::from(area.width.min(96)).saturating_sub(2 + 19);
    lines.extend(app.keys.bindings().iter().map(|b| {
        let keys = b.keys.iter().map(|k| k.to_string()).collect::<Vec<_>>().join(" / ");
        Line::from(vec![Span::styled(format!(" {keys:<17} "), theme.ok()), Span::raw(excerpt(b.help, room))])
    }));
    lines.extend(EDITOR_KEYS.iter().map(|(k, what)| {
        Line::from(vec![Span::styled(format!(" {k:<17} "), theme.ok()), Span::raw(excerpt(what, room))])
    }));
    lines.push(Line::styled(" Rebind in the config file: [keys] retry = [\"r\", \"ctrl-r\"]", theme.dim()));
    let rect = centered(area, 96, lines.len() as u16 + 2);
    let room = rect.height.saturating_sub(2) as usize;
    let scroll = app.help_scroll.min(lines.len().saturating_sub(room));
    let title = if lines.len() > room {
        format!(
            " Keys {}–{} of {} — ↑↓ PgUp PgDn scroll · Esc closes ",
            scroll + 1,
            (scroll + room).min(lines.len()),
            lines.len()
        )
    } else {
        " Keys — Esc closes ".to_string()
    };
    frame.render_widget(Clear, rect);
    let block = Block::bordered().title(title).border_style(theme.border(true));
    frame.render_widget(Paragraph::new(lines).scroll((scroll as u16, 0)).block(block), rect);
}

/// The log line under the cursor, whole.
pub(super) fn log_entry(frame: &mut Frame, app: &App, theme: &Theme, area: Rect) {
    let Some(l) = app.log.current() else { return };
    let rect = centered(area, 90, 14);
    let text = vec![
        Line::styled(l.time.strftime("%Y-%m-%d %H:%M:%S UTC").to_string(), theme.dim()),
        Line::styled(l.text.clone(), theme.level(l.level)),
    ];
    frame.render_widget(Clear, rect);
    let block = Block::bordered().title(" Log line — Esc closes ").border_style(theme.border(true));
    frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: false }).block(block), rect);
}

pub(super) fn detail(frame: &mut Frame, app: &App, theme: &Theme, area: Rect, now: Timestamp) {
    let Some(job) = app.list.shown_selection() else {
        return;
    };
    let field = |k: &str, v: String| {
        Line::from(vec![Span::styled(format!("{k:<12}"), theme.dim()), Span::raw(crate::text::sanitize(&v))])
    };
    let end = if job.state.is_final() { job.updated_at } else { now };
    let mut lines = vec![
        field("Job", format!("#{}", job.id)),
        Line::from(vec![
            Span::styled(format!("{:<12}", "State"), theme.dim()),
            Span::styled(job.state.to_string(), theme.state(job.state)),
        ]),
        field("Name", job.spec.name.clone()),
        field("Type", job.spec.asset_type.to_string()),
        field("URL", job.spec.url.clone()),
        field("Group", job.spec.group_id.clone()),
        field("Asset id", job.asset_id.clone().unwrap_or_else(|| "—".into())),
        field("Reference", job.asset_ref().unwrap_or_else(|| "— (once Active)".into())),
        field("Task id", job.task_id.clone().unwrap_or_else(|| "—".into())),
        field("Submitted", job.submitted_at.strftime("%Y-%m-%d %H:%M:%S UTC").to_string()),
        field("Updated", job.updated_at.strftime("%Y-%m-%d %H:%M:%S UTC").to_string()),
        field("Elapsed", elapsed(end.duration_since(job.submitted_at).as_secs())),
        field("Creations", job.create_attempts.to_string()),
        field("Measured", job.spec.media.as_ref().map_or_else(|| "— (not checked)".into(), |m| m.summary())),
    ];
    if let Some(c) = &job.spec.conform {
        lines.push(field("Original", c.original.clone()));
        lines.push(field("Was", c.original_media.clone()));
        let part = if c.part.1 > 1 { format!("part {} of {}: ", c.part.0, c.part.1) } else { String::new() };
        lines.push(field("Conformed", format!("{part}{}", c.recipe)));
    }
    if let Some(l) = &job.spec.local {
        lines.push(field("SHA-256", l.sha256.clone()));
        lines.push(field("Object key", l.key.clone()));
    }
    if let Some(e) = &job.error {
        lines.push(Line::from(vec![
            Span::styled(format!("{:<12}", "Error"), theme.dim()),
            Span::styled(e.clone(), theme.bad()),
        ]));
    }
    // As tall as its lines once wrapped (a conformed job has three more).
    let inner = usize::from(area.width.min(90).saturating_sub(2)).max(1);
    let rows: usize = lines.iter().map(|l| l.width().div_ceil(inner).max(1)).sum();
    let rect = centered(area, 90, u16::try_from(rows + 2).unwrap_or(u16::MAX).max(18));
    frame.render_widget(Clear, rect);
    let block = Block::bordered().title(" Details — y copies · Esc closes ").border_style(theme.border(true));
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }).block(block), rect);
}

pub(super) fn confirm(frame: &mut Frame, c: &Confirm, theme: &Theme, area: Rect) {
    let text = match c {
        Confirm::RetryUncertain(chosen) => format!(
            "Resubmit {}? Uncertain jobs may already exist on the server: resubmitting can create a duplicate, and every creation is billed.",
            chosen.summary
        ),
        Confirm::Duplicates(jobs) => {
            let first = jobs.first().map(|j| crate::text::excerpt(&j.name, 30)).unwrap_or_default();
            format!(
                "Skipped {} (first: `{first}`): the same group and URL and name (for files: the same content) as jobs in flight, Active or Uncertain. Create them anyway? Each creation is billed.",
                crate::text::plural(jobs.len(), "item")
            )
        }
        Confirm::Forget(chosen) => {
            let extra = if chosen.in_flight > 0 {
                format!(" {} still in flight will no longer be followed.", chosen.in_flight)
            } else {
                String::new()
            };
            format!("Forget {}? They leave the list and the job store.{extra}", chosen.summary)
        }
        Confirm::Quit(n) => format!(
            "The URL field holds {} not sent. y quits and keeps them as a draft (they come back, marked, at the next start) · d discards them and quits · n stays.",
            crate::text::plural(*n, "line")
        ),
        Confirm::Restored(n) => format!(
            "The URL field holds {} restored from last time (marked ↺). y sends them too · d discards them (sends the rest) · e edits · n cancels.",
            crate::text::plural(*n, "line")
        ),
    };
    let keys = match c {
        Confirm::Quit(_) => " Confirm — y / d / n ",
        Confirm::Restored(_) => " Confirm — y / d / e / n ",
        _ => " Confirm — y / n ",
    };
    let rect = centered(area, 64, 7);
    frame.render_widget(Clear, rect);
    let block = Block::bordered().title(keys).border_style(theme.border(true));
    frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }).block(block), rect);
}
