//! The watched folders view (`w`): the stored folders of this profile, each
//! with what it brought in; `a` adds one into the input pane's group, `x`
//! removes the selected one (asked first). The folders are watched while
//! this dashboard runs the imports, whether the view is open or not.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::super::action::Action;
use super::super::effect::{Effect, FolderAsk};
use super::super::field::TextField;

/// One stored folder and its counts, as the view shows it (sanitized).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FolderRow {
    /// The folder (absolute).
    pub dir: std::path::PathBuf,
    /// The group its files go into.
    pub group: String,
    /// Subfolders too.
    pub recursive: bool,
    /// Its include and exclude globs, as one text (empty: every media file).
    pub rules: String,
    /// Files of it that became jobs so far (the watch ledger's, across runs).
    pub jobs: usize,
    /// Handed to the front door, not decided yet.
    pub waiting: usize,
    /// Refused in this run (each with its reason in the log).
    pub refused: usize,
}

/// The view's state (the rows are the app's, kept while it is closed).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FoldersPane {
    selected: usize,
    /// The folder being typed, and whether it is watched recursively.
    pub adding: Option<(TextField, bool)>,
    /// The folder whose removal waits for `y`.
    pub confirm: Option<std::path::PathBuf>,
    /// Why the last change was not made (shown whole in the view).
    pub error: Option<String>,
    /// The group a new folder goes into (the input pane's).
    pub group: String,
}

impl FoldersPane {
    /// The view, adding into `group`.
    pub fn new(group: &str) -> FoldersPane {
        FoldersPane { group: group.to_string(), ..FoldersPane::default() }
    }

    /// The selected row's index (kept within `rows`).
    pub fn selected(&self, rows: usize) -> usize {
        self.selected.min(rows.saturating_sub(1))
    }

    /// Takes pasted text into the folder being typed.
    pub fn paste(&mut self, text: &str) {
        // A folder is one line: the first one pasted.
        if let Some((field, _)) = &mut self.adding {
            field.insert(text.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or_default());
        }
    }

    /// Answers a key, given the rows shown.
    pub fn key(&mut self, k: KeyEvent, rows: &[FolderRow]) -> Vec<Action> {
        if let Some((mut field, recursive)) = self.adding.take() {
            match k.code {
                KeyCode::Esc => {
                    self.error = None;
                    return vec![Action::Status("no folder added".into())];
                }
                KeyCode::Tab => self.adding = Some((field, !recursive)),
                KeyCode::Enter if field.text().trim().is_empty() => {
                    self.adding = Some((field, recursive));
                    self.error = Some("type the folder to watch (Esc cancels)".into());
                }
                KeyCode::Enter => {
                    // The field stays until the folder is added: an error
                    // keeps what was typed, to mend.
                    let (dir, group) = (field.text().trim().to_string(), self.group.clone());
                    self.adding = Some((field, recursive));
                    return vec![Action::Effect(Effect::Folders(FolderAsk::Add { dir, group, recursive }))];
                }
                _ => {
                    field.edit(&k);
                    self.adding = Some((field, recursive));
                }
            }
            return Vec::new();
        }
        if let Some(dir) = self.confirm.take() {
            return match k.code {
                KeyCode::Char('y') | KeyCode::Char('Y') => {
                    vec![Action::Effect(Effect::Folders(FolderAsk::Remove(dir)))]
                }
                _ => vec![Action::Status("still watched".into())],
            };
        }
        let last = rows.len().saturating_sub(1);
        self.selected = self.selected(rows.len());
        self.error = None;
        match k.code {
            KeyCode::Esc | KeyCode::Char('q') | KeyCode::Char('w') => return vec![Action::Close],
            KeyCode::Down | KeyCode::Char('j') => self.selected = (self.selected + 1).min(last),
            KeyCode::Up | KeyCode::Char('k') => self.selected = self.selected.saturating_sub(1),
            KeyCode::PageDown => self.selected = (self.selected + 5).min(last),
            KeyCode::PageUp => self.selected = self.selected.saturating_sub(5),
            KeyCode::Home | KeyCode::Char('g') => self.selected = 0,
            KeyCode::End | KeyCode::Char('G') => self.selected = last,
            KeyCode::Char('a') if k.modifiers.difference(KeyModifiers::SHIFT).is_empty() => {
                if self.group.is_empty() {
                    return vec![Action::Status(
                        "no group to watch into: type one in the Group field (or pick a preset) first".into(),
                    )];
                }
                self.adding = Some((TextField::default(), false));
            }
            KeyCode::Char('x') | KeyCode::Delete => {
                if let Some(r) = rows.get(self.selected) {
                    self.confirm = Some(r.dir.clone());
                }
            }
            _ => {}
        }
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(c: KeyCode) -> KeyEvent {
        KeyEvent::new(c, KeyModifiers::NONE)
    }

    fn row(dir: &str) -> FolderRow {
        FolderRow { dir: dir.into(), group: "g".into(), ..FolderRow::default() }
    }

    #[test]
    fn add_types_a_folder_tab_makes_it_recursive_and_remove_asks_first() {
        let rows = vec![row("/a"), row("/b")];
        let mut p = FoldersPane::new("g1");
        assert!(p.key(key(KeyCode::Char('a')), &rows).is_empty());
        for c in "~/renders".chars() {
            p.key(key(KeyCode::Char(c)), &rows);
        }
        p.key(key(KeyCode::Tab), &rows);
        let add = p.key(key(KeyCode::Enter), &rows);
        let want = FolderAsk::Add { dir: "~/renders".into(), group: "g1".into(), recursive: true };
        assert_eq!(add, vec![Action::Effect(Effect::Folders(want))]);
        assert!(p.adding.is_some(), "kept until the folder is added (the event loop closes it)");
        p.adding = None;
        // Enter on nothing keeps the field open and says why; Esc leaves it.
        p.key(key(KeyCode::Char('a')), &rows);
        assert!(p.key(key(KeyCode::Enter), &rows).is_empty());
        assert!(p.error.as_deref().is_some_and(|e| e.contains("type the folder")));
        assert!(p.adding.is_some());
        assert_eq!(p.key(key(KeyCode::Esc), &rows), vec![Action::Status("no folder added".into())]);
        // x asks; anything but y keeps it.
        p.key(key(KeyCode::Down), &rows);
        assert!(p.key(key(KeyCode::Char('x')), &rows).is_empty());
        assert_eq!(p.confirm.as_deref(), Some(std::path::Path::new("/b")));
        assert_eq!(p.key(key(KeyCode::Char('n')), &rows), vec![Action::Status("still watched".into())]);
        p.key(key(KeyCode::Char('x')), &rows);
        let gone = p.key(key(KeyCode::Char('y')), &rows);
        assert_eq!(gone, vec![Action::Effect(Effect::Folders(FolderAsk::Remove("/b".into())))]);
        assert_eq!(p.key(key(KeyCode::Esc), &rows), vec![Action::Close]);
    }

    #[test]
    fn without_a_group_nothing_can_be_added() {
        let mut p = FoldersPane::new("");
        assert!(matches!(&p.key(key(KeyCode::Char('a')), &[])[0], Action::Status(s) if s.contains("Group field")));
        assert!(p.adding.is_none());
        assert!(p.key(key(KeyCode::Char('x')), &[]).is_empty(), "nothing to remove");
        assert!(p.confirm.is_none());
    }
}
