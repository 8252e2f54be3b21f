//! The preset editor and the new-group form.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use super::super::app::App;
use super::super::field::TextField;
use super::super::forms::{Attach, GroupField, GroupForm, Note, PresetEditor, PresetField};
use super::super::theme::Theme;
use super::centered;

fn text_value(f: &TextField, focused: bool) -> String {
    let t = crate::text::sanitize(f.text());
    if focused {
        let (a, b): (String, String) = (t.chars().take(f.cursor()).collect(), t.chars().skip(f.cursor()).collect());
        format!("{a}▏{b}")
    } else {
        t
    }
}

fn row<'a>(theme: &Theme, label: &str, value: String, focused: bool) -> Line<'a> {
    Line::from(vec![
        Span::styled(format!(" {label:<12}"), theme.dim()),
        Span::styled(value, if focused { theme.editing_field() } else { Style::new() }),
    ])
}

fn message<'a>(theme: &Theme, msg: &Option<Note>) -> Line<'a> {
    match msg {
        Some(Note::Done(m)) => Line::styled(format!(" {m}"), theme.ok()),
        Some(Note::Problem(m)) => Line::styled(format!(" {m}"), theme.bad()),
        None => Line::raw(""),
    }
}

pub(super) fn presets(frame: &mut Frame, app: &App, ed: &PresetEditor, theme: &Theme, area: Rect) {
    let rect = centered(area, 100, 20);
    frame.render_widget(Clear, rect);
    let block = Block::bordered().title(" Presets — saved to the config file ").border_style(theme.border(true));
    let inner = block.inner(rect);
    frame.render_widget(block, rect);
    let [left, right] = Layout::horizontal([Constraint::Length(26), Constraint::Fill(1)]).areas(inner);
    let mut names: Vec<Line> = app
        .presets
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let mark = if p.default { "*" } else { " " };
            let text = format!("{mark}{}", crate::text::excerpt(&p.name, 24));
            if i == ed.selected { Line::styled(text, theme.selected_row()) } else { Line::raw(text) }
        })
        .collect();
    if names.is_empty() {
        names.push(Line::styled(" no presets: a adds one", theme.dim()));
    }
    frame.render_widget(Paragraph::new(names), left);
    let mut lines = Vec::new();
    match (&ed.form, app.presets.get(ed.selected)) {
        (Some(form), _) => {
            let title = match &form.original {
                Some(o) => format!(" Editing `{}`", crate::text::excerpt(o, 30)),
                None => " New preset".to_string(),
            };
            lines.push(Line::styled(title, theme.ok()));
            for field in PresetField::ALL {
                let focused = form.field == field;
                let value = match field {
                    PresetField::Name => text_value(&form.name, focused),
                    PresetField::Group => text_value(&form.group, focused),
                    PresetField::Type => format!("{}  (Space cycles)", form.asset_type),
                    PresetField::Template => text_value(&form.template, focused),
                    PresetField::Description => text_value(&form.description, focused),
                    PresetField::Default => format!("{}  (Space toggles)", if form.default { "yes" } else { "no" }),
                    PresetField::Conform => format!("{}  (Space toggles)", if form.conform { "yes" } else { "no" }),
                };
                lines.push(row(theme, field.label(), value, focused));
            }
            lines.push(Line::raw(""));
            lines.push(Line::styled(" Template placeholders: {stem} {ext} {n} {n:3} {date} {type}", theme.dim()));
            lines.push(Line::styled(" Tab/↑↓ field · Ctrl-G next known group · Enter save · Esc cancel", theme.dim()));
        }
        (None, Some(p)) => {
            lines.push(row(theme, "Name", crate::text::sanitize(&p.name), false));
            lines.push(row(theme, "Group", crate::text::sanitize(&p.group_id), false));
            lines.push(row(theme, "Type", p.asset_type.to_string(), false));
            lines.push(row(theme, "Template", crate::text::sanitize(&p.name_template), false));
            lines.push(row(theme, "Description", crate::text::sanitize(p.description.as_deref().unwrap_or("")), false));
            lines.push(row(theme, "Default", if p.default { "yes".into() } else { "no".into() }, false));
            lines.push(row(theme, "Conform", if p.conform { "yes".into() } else { "no".into() }, false));
            lines.push(Line::raw(""));
            if ed.confirm_delete {
                lines.push(Line::styled(
                    format!(" Delete preset `{}`? y / n", crate::text::excerpt(&p.name, 30)),
                    theme.bad(),
                ));
            }
            lines.push(Line::styled(
                " Enter use · a add · e edit/rename · c duplicate · x delete · * default · L reload · Esc",
                theme.dim(),
            ));
        }
        (None, None) => lines.push(Line::styled(" a adds a preset · Esc closes", theme.dim())),
    }
    if ed.busy {
        lines.push(Line::styled(" saving…", theme.dim()));
    }
    lines.push(message(theme, &ed.message));
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), right);
}

pub(super) fn group(frame: &mut Frame, app: &App, form: &GroupForm, theme: &Theme, area: Rect) {
    let rect = centered(area, 76, 11);
    frame.render_widget(Clear, rect);
    let attach = match form.attach {
        Attach::None => "only the input pane".to_string(),
        Attach::NewPreset => "a new preset named after the group".to_string(),
        Attach::Preset(i) => {
            format!("preset `{}`", app.presets.get(i).map_or("?".into(), |p| crate::text::excerpt(&p.name, 30)))
        }
    };
    let mut lines = vec![
        row(theme, "Name", text_value(&form.name, form.field == GroupField::Name), form.field == GroupField::Name),
        row(
            theme,
            "Description",
            text_value(&form.description, form.field == GroupField::Description),
            form.field == GroupField::Description,
        ),
        row(theme, "Use it in", format!("{attach}  (Space cycles)"), form.field == GroupField::Attach),
        Line::raw(""),
        Line::styled(" Name ≤ 64, description ≤ 300 chars · Tab field · Enter create · Esc cancel", theme.dim()),
    ];
    if form.busy {
        lines.push(Line::styled(" creating…", theme.dim()));
    }
    if let Some(e) = &form.error {
        lines.push(Line::styled(format!(" {e}"), theme.bad()));
    }
    let block = Block::bordered().title(" New asset group ").border_style(theme.border(true));
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }).block(block), rect);
}
