//! The one key table: it drives key handling, the `?` help and the footer
//! hints, so the three cannot drift apart. Users may rebind any command in
//! the config file's `[keys]` table (`retry = ["r", "ctrl-r"]`).

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// Where a command applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Whatever has focus.
    Global,
    /// The input pane (URLs, Name, Type, Group, Preset).
    Input,
    /// The asset list.
    List,
    /// The log pane.
    Log,
}

/// A command a key can trigger outside text entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyAction {
    /// Leave (asks when the URL field holds unsubmitted lines).
    Quit,
    /// The key overlay.
    Help,
    /// Next pane or field.
    FocusNext,
    /// Previous pane or field.
    FocusPrev,
    /// Edit the focused field (URLs if none).
    Edit,
    /// Submit the input (list: details; log: the whole line).
    Submit,
    /// Up one row or field.
    Up,
    /// Down one row or field.
    Down,
    /// Cycle a choice backwards.
    Left,
    /// Cycle a choice forwards.
    Right,
    /// Page up.
    PageUp,
    /// Page down.
    PageDown,
    /// First row (`gg` also works).
    Top,
    /// Last row.
    Bottom,
    /// Filter the list, or search the log when it has focus.
    Filter,
    /// Next state filter.
    StateNext,
    /// Previous state filter.
    StatePrev,
    /// Next match of the log search.
    SearchNext,
    /// Cycle the asset type.
    CycleType,
    /// Copy asset:// references.
    Copy,
    /// Retry what needs it.
    Retry,
    /// Forget jobs (asks).
    Forget,
    /// Details of the selected job.
    Detail,
    /// Export the shown jobs to CSV.
    Export,
    /// Show every profile's jobs, or only this dashboard's profile.
    AllProfiles,
    /// The preset editor.
    Presets,
    /// The new-group form.
    NewGroup,
    /// Mark or unmark the selected row.
    Mark,
    /// Mark all shown rows (or clear).
    MarkAll,
    /// Clear marks and the filter.
    Clear,
    /// Resume after a pause or a job store error (reloads the config and key).
    Resume,
    /// Undo the last forget.
    Undo,
    /// Send the held lines (could not be checked) anyway.
    SendHeld,
    /// Conform the refused lines that can be made to pass, and send them.
    Conform,
    /// Settle Uncertain jobs from the server's listing now.
    Reconcile,
    /// The server's assets of the input pane's group (copy, delete).
    Library,
    /// The watched folders (add, remove, counts).
    Folders,
}

/// One key: a code and its modifiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    /// The key.
    pub code: KeyCode,
    /// Ctrl and Alt (Shift is part of the character).
    pub mods: KeyModifiers,
}

impl Key {
    const fn plain(code: KeyCode) -> Key {
        Key { code, mods: KeyModifiers::NONE }
    }

    const fn ch(c: char) -> Key {
        Key::plain(KeyCode::Char(c))
    }

    /// True when `event` is this key.
    pub fn matches(&self, event: &KeyEvent) -> bool {
        let relevant = KeyModifiers::CONTROL | KeyModifiers::ALT;
        let mods = event.modifiers & relevant;
        match (self.code, event.code) {
            (KeyCode::BackTab, KeyCode::BackTab) => true,
            (a, b) => a == b && mods == self.mods,
        }
    }
}

/// Why a key could not be read from the config.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// Not a key name.
    #[error("`{0}` is not a key (use e.g. `x`, `ctrl-r`, `enter`, `f2`, `space`)")]
    BadKey(String),
    /// Not a command name.
    #[error("`{0}` is not a command; known: {1}")]
    BadCommand(String, String),
    /// One key for two commands that apply in the same place.
    #[error("`{0}` is bound to both `{1}` and `{2}`")]
    Conflict(String, &'static str, &'static str),
}

impl FromStr for Key {
    type Err = KeyError;

    fn from_str(s: &str) -> Result<Key, KeyError> {
        let bad = || KeyError::BadKey(s.to_string());
        let mut mods = KeyModifiers::NONE;
        let mut rest = s;
        loop {
            let lower = rest.to_ascii_lowercase();
            if let Some(r) = lower.strip_prefix("ctrl-").or_else(|| lower.strip_prefix("c-")) {
                mods |= KeyModifiers::CONTROL;
                rest = &rest[rest.len() - r.len()..];
            } else if let Some(r) = lower.strip_prefix("alt-").or_else(|| lower.strip_prefix("m-")) {
                mods |= KeyModifiers::ALT;
                rest = &rest[rest.len() - r.len()..];
            } else {
                break;
            }
        }
        let code = match rest.to_ascii_lowercase().as_str() {
            "enter" | "return" => KeyCode::Enter,
            "esc" | "escape" => KeyCode::Esc,
            "tab" => KeyCode::Tab,
            "shift-tab" | "backtab" => KeyCode::BackTab,
            "space" => KeyCode::Char(' '),
            "up" => KeyCode::Up,
            "down" => KeyCode::Down,
            "left" => KeyCode::Left,
            "right" => KeyCode::Right,
            "pgup" | "pageup" => KeyCode::PageUp,
            "pgdn" | "pagedown" => KeyCode::PageDown,
            "home" => KeyCode::Home,
            "end" => KeyCode::End,
            "delete" | "del" => KeyCode::Delete,
            "backspace" => KeyCode::Backspace,
            f if f.len() > 1 && f.starts_with('f') => KeyCode::F(f[1..].parse().map_err(|_| bad())?),
            _ => {
                let mut chars = rest.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) if !c.is_control() => KeyCode::Char(c),
                    _ => return Err(bad()),
                }
            }
        };
        Ok(Key { code, mods })
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.mods.contains(KeyModifiers::CONTROL) {
            f.write_str("Ctrl-")?;
        }
        if self.mods.contains(KeyModifiers::ALT) {
            f.write_str("Alt-")?;
        }
        match self.code {
            KeyCode::Char(' ') => f.write_str("Space"),
            KeyCode::Char(c) if self.mods.is_empty() => write!(f, "{c}"),
            KeyCode::Char(c) => write!(f, "{}", c.to_ascii_uppercase()),
            KeyCode::Enter => f.write_str("Enter"),
            KeyCode::Esc => f.write_str("Esc"),
            KeyCode::Tab => f.write_str("Tab"),
            KeyCode::BackTab => f.write_str("Shift-Tab"),
            KeyCode::Up => f.write_str("↑"),
            KeyCode::Down => f.write_str("↓"),
            KeyCode::Left => f.write_str("←"),
            KeyCode::Right => f.write_str("→"),
            KeyCode::PageUp => f.write_str("PgUp"),
            KeyCode::PageDown => f.write_str("PgDn"),
            KeyCode::Home => f.write_str("Home"),
            KeyCode::End => f.write_str("End"),
            KeyCode::Delete => f.write_str("Delete"),
            KeyCode::Backspace => f.write_str("Backspace"),
            KeyCode::F(n) => write!(f, "F{n}"),
            _ => f.write_str("?"),
        }
    }
}

/// One row of the key table.
#[derive(Debug, Clone)]
pub struct Binding {
    /// The command.
    pub action: KeyAction,
    /// Its name in the config's `[keys]` table.
    pub name: &'static str,
    /// Where it applies.
    pub scope: Scope,
    /// The keys (the first is shown in hints).
    pub keys: Vec<Key>,
    /// The footer label (short); empty keeps it out of the footer.
    pub hint: &'static str,
    /// The help text.
    pub help: &'static str,
}

/// The key table.
#[derive(Debug, Clone)]
pub struct KeyMap {
    bindings: Vec<Binding>,
}

fn b(
    action: KeyAction,
    name: &'static str,
    scope: Scope,
    keys: &[Key],
    hint: &'static str,
    help: &'static str,
) -> Binding {
    Binding { action, name, scope, keys: keys.to_vec(), hint, help }
}

impl Default for KeyMap {
    fn default() -> KeyMap {
        use KeyAction as A;
        use KeyCode as C;
        use Scope::*;
        let ctrl_c = Key { code: C::Char('c'), mods: KeyModifiers::CONTROL };
        let bindings = vec![
            b(
                A::Help,
                "help",
                Global,
                &[Key::ch('?'), Key::plain(C::F(1))],
                "help",
                "this help, with the glyph legend",
            ),
            b(
                A::Submit,
                "submit",
                Global,
                &[Key::plain(C::Enter)],
                "submit",
                "submit the input · list: details · log: the whole line",
            ),
            b(
                A::Edit,
                "edit",
                Global,
                &[Key::ch('i'), Key::ch('a')],
                "edit",
                "edit the focused field (URLs if none); Esc leaves",
            ),
            b(
                A::FocusNext,
                "focus_next",
                Global,
                &[Key::plain(C::Tab)],
                "focus",
                "next field or pane (URLs … Preset, list, log)",
            ),
            b(A::FocusPrev, "focus_prev", Global, &[Key::plain(C::BackTab)], "", "previous field or pane"),
            b(A::Up, "up", Global, &[Key::plain(C::Up), Key::ch('k')], "", "up: list row, log line, or input field"),
            b(
                A::Down,
                "down",
                Global,
                &[Key::plain(C::Down), Key::ch('j')],
                "",
                "down: list row, log line, or input field",
            ),
            b(
                A::Left,
                "left",
                Input,
                &[Key::plain(C::Left), Key::ch('h')],
                "",
                "cycle Type, Preset, or known Groups backwards",
            ),
            b(
                A::Right,
                "right",
                Input,
                &[Key::plain(C::Right), Key::ch('l')],
                "",
                "cycle Type, Preset, or known Groups",
            ),
            b(A::PageUp, "page_up", Global, &[Key::plain(C::PageUp)], "", "page up in the list or log"),
            b(A::PageDown, "page_down", Global, &[Key::plain(C::PageDown)], "", "page down in the list or log"),
            b(A::Top, "top", Global, &[Key::plain(C::Home)], "", "first row (also g g)"),
            b(A::Bottom, "bottom", Global, &[Key::plain(C::End), Key::ch('G')], "", "last row"),
            b(
                A::Filter,
                "filter",
                Global,
                &[Key::ch('/')],
                "filter",
                "filter the list by text (in the log: search it)",
            ),
            b(A::SearchNext, "search_next", Log, &[Key::ch('n')], "next match", "next (older) match of the log search"),
            b(A::StateNext, "state_next", Global, &[Key::ch('s')], "state", "cycle the state filter (… problems, all)"),
            b(A::StatePrev, "state_prev", Global, &[Key::ch('S')], "", "cycle the state filter backwards"),
            b(
                A::CycleType,
                "cycle_type",
                Input,
                &[Key::ch('t')],
                "type",
                "cycle the asset type (infer, Image, Video, Audio)",
            ),
            b(A::Mark, "mark", List, &[Key::ch(' ')], "mark", "mark or unmark the row"),
            b(A::MarkAll, "mark_all", List, &[Key::ch('A')], "", "mark all shown rows (again: unmark)"),
            b(
                A::Clear,
                "clear",
                Global,
                &[Key::plain(C::Esc)],
                "",
                "clear marks, then the text filter, then the state filter",
            ),
            b(
                A::Copy,
                "copy",
                List,
                &[Key::ch('y')],
                "copy",
                "copy asset:// of the shown marked rows, or the selected one",
            ),
            b(A::Retry, "retry", List, &[Key::ch('r')], "retry", "retry Failed/Rejected/Stuck; Uncertain after asking"),
            b(
                A::Forget,
                "forget",
                List,
                &[Key::ch('x'), Key::plain(C::Delete)],
                "forget",
                "forget the shown marked rows, or the selected one (asks)",
            ),
            b(
                A::Detail,
                "detail",
                Global,
                &[Key::ch('d')],
                "detail",
                "details of the selected job, or a URL line's verdict",
            ),
            b(A::Export, "export", List, &[Key::ch('e')], "export", "export the shown jobs to CSV in the data dir"),
            b(
                A::AllProfiles,
                "all_profiles",
                List,
                &[Key::ch('P')],
                "",
                "show every profile's jobs, or only the profile this dashboard runs (again)",
            ),
            b(A::Presets, "presets", Global, &[Key::ch('p')], "presets", "preset editor (its keys are shown there)"),
            b(A::Undo, "undo", List, &[Key::ch('u')], "undo", "undo the last forget (the jobs come back as they were)"),
            b(A::Library, "library", Global, &[Key::ch('b')], "", "the server's assets of the input pane's group"),
            b(A::Folders, "folders", Global, &[Key::ch('w')], "", "watched folders: add, remove, what each brought in"),
            b(
                A::Reconcile,
                "reconcile",
                List,
                &[Key::ch('L')],
                "",
                "reconcile: settle Uncertain jobs from the server's listing",
            ),
            b(
                A::Resume,
                "resume",
                Global,
                &[Key::ch('R')],
                "",
                "resume after a pause or a store error (reloads the config and its key)",
            ),
            b(A::NewGroup, "new_group", Global, &[Key::ch('c')], "new group", "create an asset group"),
            b(
                A::SendHeld,
                "send_held",
                Input,
                &[Key::ch('!')],
                "",
                "send the held lines (their URL's host could not be checked) anyway",
            ),
            b(
                A::Conform,
                "conform",
                Input,
                &[Key::ch('C')],
                "",
                "conform the refused lines marked conformable, and send them",
            ),
            b(
                A::Quit,
                "quit",
                Global,
                &[Key::ch('q'), ctrl_c],
                "quit",
                "quit (asks if the URL field holds unsubmitted lines)",
            ),
        ];
        KeyMap { bindings }
    }
}

impl KeyMap {
    /// The default table with the config's `[keys]` overrides applied: each
    /// entry replaces the keys of one command.
    pub fn with_overrides(overrides: &BTreeMap<String, Vec<String>>) -> Result<KeyMap, KeyError> {
        let mut map = KeyMap::default();
        for (name, keys) in overrides {
            let known = || map.bindings.iter().map(|b| b.name).collect::<Vec<_>>().join(", ");
            let Some(i) = map.bindings.iter().position(|b| b.name == name) else {
                return Err(KeyError::BadCommand(name.clone(), known()));
            };
            let keys = keys.iter().map(|k| k.parse()).collect::<Result<Vec<Key>, _>>()?;
            map.bindings[i].keys = keys;
        }
        for (i, a) in map.bindings.iter().enumerate() {
            for b in &map.bindings[i + 1..] {
                let overlap = a.scope == b.scope || a.scope == Scope::Global || b.scope == Scope::Global;
                if let Some(k) = a.keys.iter().find(|k| overlap && b.keys.contains(k)) {
                    return Err(KeyError::Conflict(k.to_string(), a.name, b.name));
                }
            }
        }
        Ok(map)
    }

    /// The command `event` triggers with focus in `scope`.
    pub fn action(&self, event: &KeyEvent, scope: Scope) -> Option<KeyAction> {
        self.bindings
            .iter()
            .filter(|b| b.scope == Scope::Global || b.scope == scope)
            .find(|b| b.keys.iter().any(|k| k.matches(event)))
            .map(|b| b.action)
    }

    /// True when `event` is bound to a command in any scope.
    pub fn binds(&self, event: &KeyEvent) -> bool {
        self.bindings.iter().any(|b| b.keys.iter().any(|k| k.matches(event)))
    }

    /// Every binding, in help order.
    pub fn bindings(&self) -> &[Binding] {
        &self.bindings
    }

    /// The keys of a command as shown to the user (`x / Delete`).
    pub fn keys_of(&self, action: KeyAction) -> String {
        self.bindings
            .iter()
            .find(|b| b.action == action)
            .map(|b| b.keys.iter().map(Key::to_string).collect::<Vec<_>>().join(" / "))
            .unwrap_or_default()
    }

    /// Footer hints for focus in `scope`, most useful first, as many as fit
    /// in `width` columns; `help` and `quit` are always kept.
    pub fn hints(&self, scope: Scope, width: usize) -> String {
        let first_key = |a: KeyAction| {
            self.bindings.iter().find(|b| b.action == a).and_then(|b| {
                // In the log, `/` searches.
                let hint = if a == KeyAction::Filter && scope == Scope::Log { "search" } else { b.hint };
                b.keys.first().map(|k| (k.to_string(), hint))
            })
        };
        let order: &[KeyAction] = match scope {
            // Tab before `t`: a new user must find the way to the list.
            Scope::Input => &[KeyAction::Edit, KeyAction::Submit, KeyAction::FocusNext, KeyAction::CycleType],
            Scope::List => &[
                KeyAction::Detail,
                KeyAction::Copy,
                KeyAction::Retry,
                KeyAction::Mark,
                KeyAction::Forget,
                KeyAction::Filter,
                KeyAction::StateNext,
                KeyAction::Export,
            ],
            Scope::Log => &[KeyAction::Filter, KeyAction::SearchNext, KeyAction::Submit, KeyAction::FocusNext],
            Scope::Global => &[],
        };
        let tail: Vec<(String, &str)> =
            [KeyAction::Presets, KeyAction::NewGroup, KeyAction::Quit].iter().filter_map(|a| first_key(*a)).collect();
        let head = first_key(KeyAction::Help).map(|(k, h)| format!("{k} {h}")).unwrap_or_default();
        let tail_text: Vec<String> = tail.iter().map(|(k, h)| format!("{k} {h}")).collect();
        let mut parts = vec![head];
        let budget = |parts: &[String], extra: &[String]| {
            parts.iter().chain(extra).map(|p| p.chars().count()).sum::<usize>() + (parts.len() + extra.len()) * 3
        };
        for a in order {
            if let Some((k, h)) = first_key(*a).filter(|(_, h)| !h.is_empty()) {
                let candidate = format!("{k} {h}");
                let mut trial = parts.clone();
                trial.push(candidate);
                if budget(&trial, &tail_text) <= width {
                    parts = trial;
                }
            }
        }
        for t in tail_text {
            let mut trial = parts.clone();
            trial.push(t);
            if budget(&trial, &[]) <= width || trial.last().is_some_and(|t| t.ends_with("quit")) {
                parts = trial;
            }
        }
        parts.join(" · ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_parse_and_show() {
        let k: Key = "ctrl-r".parse().unwrap();
        assert!(k.matches(&KeyEvent::new(KeyCode::Char('r'), KeyModifiers::CONTROL)));
        assert!(!k.matches(&KeyEvent::new(KeyCode::Char('r'), KeyModifiers::NONE)));
        assert_eq!(k.to_string(), "Ctrl-R");
        assert_eq!("space".parse::<Key>().unwrap().to_string(), "Space");
        assert_eq!("F2".parse::<Key>().unwrap().code, KeyCode::F(2));
        assert!("ctrl-".parse::<Key>().is_err());
        assert!("xy".parse::<Key>().is_err());
    }

    #[test]
    fn overrides_replace_keys_and_unknown_names_are_refused() {
        let mut o = BTreeMap::new();
        o.insert("retry".to_string(), vec!["T".to_string(), "ctrl-r".to_string()]);
        let map = KeyMap::with_overrides(&o).unwrap();
        let r = KeyEvent::new(KeyCode::Char('T'), KeyModifiers::SHIFT);
        assert_eq!(map.action(&r, Scope::List), Some(KeyAction::Retry));
        let plain = KeyEvent::new(KeyCode::Char('r'), KeyModifiers::NONE);
        assert_eq!(map.action(&plain, Scope::List), None);
        assert_eq!(map.keys_of(KeyAction::Retry), "T / Ctrl-R");
        o.insert("launch".to_string(), vec!["l".to_string()]);
        assert!(matches!(KeyMap::with_overrides(&o), Err(KeyError::BadCommand(..))));
        o.remove("launch");
        o.insert("copy".to_string(), vec!["q".to_string()]);
        assert_eq!(KeyMap::with_overrides(&o).unwrap_err().to_string(), "`q` is bound to both `copy` and `quit`");
    }

    #[test]
    fn the_config_file_names_every_command_and_its_table_is_read() {
        let example = include_str!("../../config.example.toml");
        for b in KeyMap::default().bindings() {
            assert!(
                example.contains(&format!(" {} ", b.name)) || example.contains(&format!(" {}\n", b.name)),
                "{}",
                b.name
            );
        }
        let path = std::path::Path::new("config.toml");
        let (config, warnings) = crate::config::Config::parse("[keys]\nretry = [\"T\"]\n", path).unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        let map = KeyMap::with_overrides(&config.keys).unwrap();
        assert_eq!(map.keys_of(KeyAction::Retry), "T");
    }

    #[test]
    fn hints_fit_and_keep_help_and_quit() {
        let map = KeyMap::default();
        for scope in [Scope::Input, Scope::List, Scope::Log] {
            let h = map.hints(scope, 78);
            assert!(h.chars().count() <= 78, "{h}");
            assert!(h.starts_with("? help") && h.ends_with("q quit"), "{h}");
        }
        assert!(map.hints(Scope::List, 78).contains("d detail"));
        assert!(map.hints(Scope::Log, 78).contains("/ search"));
    }
}
