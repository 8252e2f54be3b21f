//! Colours and glyphs, with a `NO_COLOR` variant that uses modifiers only.

use ratatui::style::{Color, Modifier, Style};

use crate::engine::{JobState, Level};

/// Styles for one run: colour or `NO_COLOR`.
#[derive(Debug, Clone, Copy)]
pub struct Theme {
    no_color: bool,
}

const SPINNER: [&str; 4] = ["◐", "◓", "◑", "◒"];

impl Theme {
    /// A theme; `no_color` replaces colours with modifiers.
    pub fn new(no_color: bool) -> Theme {
        Theme { no_color }
    }

    fn pick(&self, color: Style, plain: Style) -> Style {
        if self.no_color { plain } else { color }
    }

    /// The glyph of a state; Processing spins with `tick`.
    pub fn glyph(state: JobState, tick: u64) -> &'static str {
        match state {
            JobState::Uploading => "⇡",
            JobState::Queued => "·",
            JobState::Creating => "↑",
            JobState::Processing => SPINNER[(tick % 4) as usize],
            JobState::Active => "✓",
            JobState::Failed => "✗",
            JobState::Rejected => "⊘",
            JobState::Uncertain => "?",
            JobState::Stuck => "⧗",
        }
    }

    /// The style of a state.
    pub fn state(&self, state: JobState) -> Style {
        let (color, plain) = match state {
            JobState::Uploading => (Color::Cyan, Modifier::empty()),
            JobState::Queued => (Color::DarkGray, Modifier::DIM),
            JobState::Creating => (Color::Blue, Modifier::empty()),
            JobState::Processing => (Color::Yellow, Modifier::empty()),
            JobState::Active => (Color::Green, Modifier::BOLD),
            JobState::Failed | JobState::Rejected => (Color::Red, Modifier::BOLD | Modifier::UNDERLINED),
            JobState::Uncertain => (Color::Magenta, Modifier::BOLD | Modifier::ITALIC),
            JobState::Stuck => (Color::LightRed, Modifier::ITALIC),
        };
        self.pick(Style::new().fg(color), Style::new().add_modifier(plain))
    }

    /// A log level's style.
    pub fn level(&self, level: Level) -> Style {
        match level {
            Level::Info => Style::new(),
            Level::Warn => self.pick(Style::new().fg(Color::Yellow), Style::new().add_modifier(Modifier::ITALIC)),
            Level::Error => self.pick(Style::new().fg(Color::Red), Style::new().add_modifier(Modifier::BOLD)),
        }
    }

    /// A pane border: bright when focused.
    pub fn border(&self, focused: bool) -> Style {
        match (focused, self.no_color) {
            (true, false) => Style::new().fg(Color::Cyan),
            (true, true) => Style::new().add_modifier(Modifier::BOLD),
            (false, false) => Style::new().fg(Color::DarkGray),
            (false, true) => Style::new(),
        }
    }

    /// The focused field (not editing).
    pub fn focused_field(&self) -> Style {
        self.pick(Style::new().fg(Color::Black).bg(Color::Cyan), Style::new().add_modifier(Modifier::REVERSED))
    }

    /// A field being edited.
    pub fn editing_field(&self) -> Style {
        self.pick(Style::new().fg(Color::White).bg(Color::Blue), Style::new().add_modifier(Modifier::UNDERLINED))
    }

    /// The cursor in the URL editor.
    pub fn cursor(&self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED)
    }

    /// The selected list row.
    pub fn selected_row(&self) -> Style {
        self.pick(
            Style::new().bg(Color::DarkGray).add_modifier(Modifier::BOLD),
            Style::new().add_modifier(Modifier::REVERSED),
        )
    }

    /// Labels and hints.
    pub fn dim(&self) -> Style {
        self.pick(Style::new().fg(Color::DarkGray), Style::new().add_modifier(Modifier::DIM))
    }

    /// Good news.
    pub fn ok(&self) -> Style {
        self.pick(Style::new().fg(Color::Green), Style::new())
    }

    /// Bad news.
    pub fn bad(&self) -> Style {
        self.level(Level::Error)
    }

    /// The header bar.
    pub fn header(&self) -> Style {
        self.pick(Style::new().fg(Color::White).bg(Color::Blue), Style::new().add_modifier(Modifier::REVERSED))
    }
}
