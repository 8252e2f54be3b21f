//! Overlays: the key help, a job's details, and y/n questions.

use jiff::Timestamp;
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use super::super::app::{App, Confirm};
use super::super::theme::Theme;
use super::{centered, elapsed};

/// Every key, as the help overlay and the README list them.
pub const KEYS: &[(&str, &str)] = &[
    ("Tab / Shift-Tab", "focus: URLs, Name, Type, Group, Preset, list, log"),
    ("↑↓ or j k", "move in the list or log; between input fields"),
    ("PgUp PgDn Home End G", "page / jump in the list (or log)"),
    ("i or a", "edit the focused field (URLs if none); Esc leaves"),
    ("Enter", "submit the input (in the list: details)"),
    ("← → or h l", "cycle Type, Preset, or remembered Groups"),
    ("t", "cycle the asset type (infer, Image, Video, Audio)"),
    ("paste", "a multi-line paste goes into the URL field"),
    ("/", "filter the list by text (Enter keeps, Esc clears)"),
    ("s", "cycle the state filter"),
    ("Space / A / Esc", "mark a row / mark all shown / clear marks"),
    ("y", "copy asset:// of selected/marked rows (OSC 52)"),
    ("r", "retry Failed/Rejected/Stuck; Uncertain after asking"),
    ("x / Delete", "forget the selected or marked jobs (asks)"),
    ("d", "details of the selected job"),
    ("e", "export the shown jobs to CSV in the data dir"),
    ("p", "preset editor (its keys are shown there)"),
    ("g", "create an asset group"),
    ("?", "this help"),
    ("q / Ctrl-C", "quit (jobs in flight resume at next start)"),
];

pub(super) fn help(frame: &mut Frame, theme: &Theme, area: Rect) {
    let rect = centered(area, 78, KEYS.len() as u16 + 4);
    let lines: Vec<Line> = KEYS
        .iter()
        .map(|(k, what)| Line::from(vec![Span::styled(format!(" {k:<22}"), theme.ok()), Span::raw(*what)]))
        .collect();
    frame.render_widget(Clear, rect);
    let block = Block::bordered().title(" Keys — Esc closes ").border_style(theme.border(true));
    frame.render_widget(Paragraph::new(lines).block(block), rect);
}

pub(super) fn detail(frame: &mut Frame, app: &App, theme: &Theme, area: Rect, now: Timestamp) {
    let Some(job) = app.selected_job() else {
        return;
    };
    let rect = centered(area, 90, 18);
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
    ];
    if let Some(e) = &job.error {
        lines.push(Line::from(vec![
            Span::styled(format!("{:<12}", "Error"), theme.dim()),
            Span::styled(e.clone(), theme.bad()),
        ]));
    }
    frame.render_widget(Clear, rect);
    let block = Block::bordered().title(" Details — Esc closes ").border_style(theme.border(true));
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }).block(block), rect);
}

pub(super) fn confirm(frame: &mut Frame, app: &App, c: &Confirm, theme: &Theme, area: Rect) {
    let text = match c {
        Confirm::RetryUncertain(ids) => format!(
            "Resubmit {} job(s)? Uncertain jobs may already exist on the server: resubmitting can create a duplicate, and every creation is billed.",
            ids.len()
        ),
        Confirm::Duplicates(jobs) => {
            let first = jobs.first().map(|j| crate::text::excerpt(&j.name, 30)).unwrap_or_default();
            format!(
                "{} item(s) (first: `{first}`) have the same group, URL and name as jobs in flight, Active or Uncertain, and were skipped. Create them anyway? Each creation is billed.",
                jobs.len()
            )
        }
        Confirm::Forget(ids) => {
            let in_flight = ids.iter().filter_map(|id| app.job(*id)).filter(|j| j.state.is_in_flight()).count();
            let extra = if in_flight > 0 {
                format!(" {in_flight} still in flight will no longer be followed.")
            } else {
                String::new()
            };
            format!("Forget {} job(s)? They leave the list and the journal.{extra}", ids.len())
        }
    };
    let rect = centered(area, 64, 7);
    frame.render_widget(Clear, rect);
    let block = Block::bordered().title(" Confirm — y / n ").border_style(theme.border(true));
    frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }).block(block), rect);
}
