//! The server's assets of one group, as its listing shows them: loaded a
//! page at a time in the background, with copy and delete (asked first).
//! Opened with `b` on the group in the input pane.

use std::collections::HashSet;

use crossterm::event::{KeyCode, KeyEvent};

use super::super::action::Action;
use super::super::effect::{Effect, LibraryAsk};
use crate::api::AssetInfo;
use crate::text::sanitize;

/// One asset as the view shows it (sanitized when it arrives).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LibRow {
    /// The asset id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Image, Video or Audio as the server spells it.
    pub asset_type: String,
    /// Processing, Active, Failed or what the server said.
    pub status: String,
    /// When it was created (RFC 3339), if the server said.
    pub created: String,
}

impl LibRow {
    fn of(a: &AssetInfo) -> Option<LibRow> {
        Some(LibRow {
            id: sanitize(a.id.as_deref().filter(|i| !i.is_empty())?),
            name: sanitize(a.name.as_deref().unwrap_or_default()),
            asset_type: sanitize(a.asset_type.as_deref().unwrap_or_default()),
            status: sanitize(a.status.as_str()),
            created: sanitize(a.create_time.as_deref().unwrap_or_default()),
        })
    }
}

/// What the background listing and deletes send back.
#[derive(Debug, Clone, PartialEq)]
pub enum LibraryNews {
    /// A page of the group's assets; `last` when the listing is done.
    Page {
        /// The group listed (a page of an earlier group is dropped).
        group: String,
        /// The assets, the unreadable ones counted, the server's total.
        page: crate::api::Page<AssetInfo>,
        /// No page follows.
        last: bool,
    },
    /// The listing failed.
    Failed {
        /// The group listed.
        group: String,
        /// Why.
        error: String,
    },
    /// The assets the account holds and may hold (`None`: the server does not say).
    Holdings(Option<(u64, u64)>),
    /// A delete was answered.
    Deleted {
        /// The asset.
        id: String,
        /// `Err(why)` when it was not deleted.
        result: Result<(), String>,
    },
}

/// The view's state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LibraryPane {
    /// The group shown.
    pub group: String,
    rows: Vec<LibRow>,
    selected: usize,
    /// More pages are coming.
    pub loading: bool,
    /// The server's count of the group's assets.
    pub total: Option<u64>,
    /// Items of a shape that could not be read.
    pub unreadable: usize,
    /// Why the listing failed, if it did.
    pub error: Option<String>,
    deleting: HashSet<String>,
    /// The asset whose delete waits for `y`.
    pub confirm: Option<String>,
}

impl LibraryPane {
    /// A view of `group`, loading.
    pub fn new(group: &str) -> LibraryPane {
        LibraryPane { group: group.to_string(), loading: true, ..LibraryPane::default() }
    }

    /// The rows so far.
    pub fn rows(&self) -> &[LibRow] {
        &self.rows
    }

    /// The selected row's index.
    pub fn selected(&self) -> usize {
        self.selected
    }

    /// True while a delete of `id` is on its way.
    pub fn is_deleting(&self, id: &str) -> bool {
        self.deleting.contains(id)
    }

    fn current(&self) -> Option<&LibRow> {
        self.rows.get(self.selected)
    }

    /// Takes what the background work sent; returns a status line, if any.
    pub fn news(&mut self, news: LibraryNews) -> Option<String> {
        match news {
            LibraryNews::Page { group, page, last } if group == self.group => {
                self.rows.extend(page.items.iter().filter_map(LibRow::of));
                self.unreadable += page.unreadable;
                self.total = page.total.or(self.total);
                self.loading = !last;
                None
            }
            LibraryNews::Failed { group, error } if group == self.group => {
                self.loading = false;
                self.error = Some(sanitize(&error));
                None
            }
            LibraryNews::Deleted { id, result } => {
                self.deleting.remove(&id);
                match result {
                    Ok(()) => {
                        self.rows.retain(|r| r.id != id);
                        self.total = self.total.map(|t| t.saturating_sub(1));
                        self.selected = self.selected.min(self.rows.len().saturating_sub(1));
                        Some(format!("deleted {id} from the server; its jobs here are forgotten"))
                    }
                    Err(why) => Some(format!("{id} not deleted: {}", sanitize(&why))),
                }
            }
            _ => None,
        }
    }

    /// Answers a key.
    pub fn key(&mut self, k: KeyEvent) -> Vec<Action> {
        if let Some(id) = self.confirm.take() {
            return match k.code {
                KeyCode::Char('y') | KeyCode::Char('Y') => {
                    self.deleting.insert(id.clone());
                    vec![
                        Action::Effect(Effect::Library(LibraryAsk::Delete(id.clone()))),
                        Action::Status(format!("deleting {id}…")),
                    ]
                }
                _ => vec![Action::Status("nothing deleted".into())],
            };
        }
        let last = self.rows.len().saturating_sub(1);
        match k.code {
            KeyCode::Esc | KeyCode::Char('q') | KeyCode::Char('b') => return vec![Action::Close],
            KeyCode::Down | KeyCode::Char('j') => self.selected = (self.selected + 1).min(last),
            KeyCode::Up | KeyCode::Char('k') => self.selected = self.selected.saturating_sub(1),
            KeyCode::PageDown => self.selected = (self.selected + 10).min(last),
            KeyCode::PageUp => self.selected = self.selected.saturating_sub(10),
            KeyCode::Home | KeyCode::Char('g') => self.selected = 0,
            KeyCode::End | KeyCode::Char('G') => self.selected = last,
            KeyCode::Char('r') => {
                *self = LibraryPane::new(&self.group);
                return vec![Action::Effect(Effect::Library(LibraryAsk::List(self.group.clone())))];
            }
            KeyCode::Char('y') => {
                return match self.current() {
                    Some(r) if r.status == "Active" => vec![
                        Action::Effect(Effect::Copy(format!("asset://{}", r.id))),
                        Action::Status(format!("sent asset://{} to the clipboard (OSC 52)", r.id)),
                    ],
                    Some(r) => {
                        vec![Action::Status(format!("{} is {}: only an Active asset can be used", r.id, r.status))]
                    }
                    None => Vec::new(),
                };
            }
            KeyCode::Char('x') | KeyCode::Delete => {
                // The question is the view's footer until the next key.
                if let Some(r) = self.current().filter(|r| !self.deleting.contains(&r.id)) {
                    self.confirm = Some(r.id.clone());
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
    use crate::api::AssetStatus;
    use crossterm::event::KeyModifiers;

    fn key(c: KeyCode) -> KeyEvent {
        KeyEvent::new(c, KeyModifiers::NONE)
    }

    fn asset(id: &str, status: AssetStatus) -> AssetInfo {
        AssetInfo {
            id: Some(id.into()),
            name: Some(format!("n\u{1b}[31m{id}")),
            url: None,
            asset_type: Some("Image".into()),
            group_id: Some("g".into()),
            status,
            create_time: Some("2026-12-06T10:00:00Z".into()),
            update_time: None,
            error: None,
        }
    }

    fn page(items: Vec<AssetInfo>) -> crate::api::Page<AssetInfo> {
        crate::api::Page { items, unreadable: 1, total: Some(3) }
    }

    #[test]
    fn pages_fill_it_copy_takes_active_ones_and_delete_asks_first() {
        let mut p = LibraryPane::new("g");
        let stale =
            LibraryNews::Page { group: "other".into(), page: page(vec![asset("z", AssetStatus::Active)]), last: true };
        assert_eq!(p.news(stale), None);
        assert!(p.rows().is_empty());
        let first = page(vec![asset("a1", AssetStatus::Active), asset("a2", AssetStatus::Failed)]);
        p.news(LibraryNews::Page { group: "g".into(), page: first, last: true });
        assert_eq!(p.rows().len(), 2);
        assert!(!p.loading);
        assert_eq!((p.total, p.unreadable), (Some(3), 1));
        assert!(!p.rows()[0].name.contains('\u{1b}'), "sanitized");
        let copy = p.key(key(KeyCode::Char('y')));
        assert_eq!(copy[0], Action::Effect(Effect::Copy("asset://a1".into())));
        p.key(key(KeyCode::Down));
        assert!(matches!(&p.key(key(KeyCode::Char('y')))[0], Action::Status(s) if s.contains("only an Active")));
        // x asks (in the view's footer); anything but y keeps it.
        assert!(p.key(key(KeyCode::Char('x'))).is_empty());
        assert_eq!(p.confirm.as_deref(), Some("a2"));
        assert_eq!(p.key(key(KeyCode::Char('n'))), vec![Action::Status("nothing deleted".into())]);
        p.key(key(KeyCode::Char('x')));
        let go = p.key(key(KeyCode::Char('y')));
        assert_eq!(go[0], Action::Effect(Effect::Library(LibraryAsk::Delete("a2".into()))));
        assert!(p.is_deleting("a2"));
        assert!(p.key(key(KeyCode::Char('x'))).is_empty(), "not asked twice while under way");
        let said = p.news(LibraryNews::Deleted { id: "a2".into(), result: Ok(()) }).unwrap();
        assert!(said.contains("deleted a2"));
        assert_eq!(p.rows().len(), 1);
        assert_eq!((p.selected(), p.total), (0, Some(2)));
        assert_eq!(p.key(key(KeyCode::Esc)), vec![Action::Close]);
        let again = p.key(key(KeyCode::Char('r')));
        assert_eq!(again, vec![Action::Effect(Effect::Library(LibraryAsk::List("g".into())))]);
        assert!(p.loading && p.rows().is_empty());
    }
}
