//! The preset editor and the new-group form: their state, and their keys
//! (each returns [`Action`]s rather than touching the app).

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::action::Action;
use super::effect::Effect;
use super::error::PresetFormError;
use super::field::TextField;
use crate::config::{Preset, PresetChange, TypeChoice};
use crate::engine::{Command, Group, GroupError};

/// Where a newly created group goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attach {
    /// Only into the input pane's group field.
    None,
    /// Also into a new preset named after the group.
    NewPreset,
    /// Also into this existing preset (index).
    Preset(usize),
}

/// A field of the preset form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PresetField {
    /// The preset's name.
    Name,
    /// Its group id.
    Group,
    /// Its asset type.
    Type,
    /// Its name template.
    Template,
    /// Its description.
    Description,
    /// Whether it is the default.
    Default,
    /// Whether its imports are conformed.
    Conform,
}

impl PresetField {
    /// Fields in order.
    pub const ALL: [PresetField; 7] = [
        PresetField::Name,
        PresetField::Group,
        PresetField::Type,
        PresetField::Template,
        PresetField::Description,
        PresetField::Default,
        PresetField::Conform,
    ];

    /// The label shown.
    pub fn label(self) -> &'static str {
        match self {
            PresetField::Name => "Name",
            PresetField::Group => "Group",
            PresetField::Type => "Type",
            PresetField::Template => "Template",
            PresetField::Description => "Description",
            PresetField::Default => "Default",
            PresetField::Conform => "Conform",
        }
    }

    fn step(self, back: bool) -> PresetField {
        let i = PresetField::ALL.iter().position(|f| *f == self).unwrap_or(0);
        let n = PresetField::ALL.len();
        PresetField::ALL[if back { (i + n - 1) % n } else { (i + 1) % n }]
    }
}

/// The fields of a preset being edited.
#[derive(Debug, Clone, PartialEq)]
pub struct PresetForm {
    /// The name the preset had (`None` when adding).
    pub original: Option<String>,
    /// The focused field.
    pub field: PresetField,
    /// Name.
    pub name: TextField,
    /// Group id.
    pub group: TextField,
    /// Asset type or infer.
    pub asset_type: TypeChoice,
    /// Name template.
    pub template: TextField,
    /// Description.
    pub description: TextField,
    /// Default flag.
    pub default: bool,
    /// Conform flag.
    pub conform: bool,
}

impl PresetForm {
    /// A form holding `p`; `original` names the preset being replaced.
    pub fn from_preset(p: &Preset, original: Option<String>) -> PresetForm {
        PresetForm {
            original,
            field: PresetField::Name,
            name: TextField::new(&p.name),
            group: TextField::new(&p.group_id),
            asset_type: p.asset_type,
            template: TextField::new(&p.name_template),
            description: TextField::new(p.description.as_deref().unwrap_or("")),
            default: p.default,
            conform: p.conform,
        }
    }

    /// The preset the form describes (not yet validated).
    pub fn to_preset(&self) -> Preset {
        let description = self.description.text().trim();
        Preset {
            name: self.name.text().trim().to_string(),
            group_id: self.group.text().trim().to_string(),
            asset_type: self.asset_type,
            name_template: self.template.text().trim().to_string(),
            description: (!description.is_empty()).then(|| description.to_string()),
            default: self.default,
            conform: self.conform,
        }
    }

    /// The text field of `field`, if it is text.
    pub fn text_field(&mut self) -> Option<&mut TextField> {
        match self.field {
            PresetField::Name => Some(&mut self.name),
            PresetField::Group => Some(&mut self.group),
            PresetField::Template => Some(&mut self.template),
            PresetField::Description => Some(&mut self.description),
            PresetField::Type | PresetField::Default | PresetField::Conform => None,
        }
    }

    /// Checks the form against the other presets: the message names the field.
    pub fn validate(&self, others: &[Preset]) -> Result<Preset, PresetFormError> {
        let p = self.to_preset();
        p.validate()?;
        let clash = others
            .iter()
            .any(|o| o.name.eq_ignore_ascii_case(&p.name) && Some(o.name.as_str()) != self.original.as_deref());
        if clash {
            return Err(PresetFormError::NameTaken { name: p.name });
        }
        Ok(p)
    }
}

/// What the preset editor's keys need to know of the rest of the dashboard.
#[derive(Debug, Clone, Copy)]
pub struct PresetContext<'a> {
    /// The saved presets.
    pub presets: &'a [Preset],
    /// Known groups (Ctrl-G cycles them).
    pub groups: &'a [Group],
    /// The input pane's values, for a new preset.
    pub current: &'a Preset,
}

/// The preset editor screen.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PresetEditor {
    /// The highlighted preset.
    pub selected: usize,
    /// The form, while adding or editing.
    pub form: Option<PresetForm>,
    /// Asking to delete the selected preset.
    pub confirm_delete: bool,
    /// The last problem or result.
    pub message: Option<Note>,
    /// A save is under way.
    pub busy: bool,
}

/// What the preset editor last said: a result or a problem (shown in the
/// colour of each, whatever the words).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Note {
    /// Done as asked.
    Done(String),
    /// Not done, and why.
    Problem(String),
}

impl Note {
    /// The words.
    pub fn text(&self) -> &str {
        match self {
            Note::Done(t) | Note::Problem(t) => t,
        }
    }
}

impl PresetEditor {
    /// Handles a key.
    pub fn key(&mut self, k: KeyEvent, cx: PresetContext<'_>) -> Vec<Action> {
        self.message = None;
        if let Some(mut form) = self.form.take() {
            let actions = self.form_key(&mut form, k, cx);
            if k.code != KeyCode::Esc {
                self.form = Some(form);
            }
            return actions;
        }
        if self.confirm_delete {
            self.confirm_delete = false;
            if matches!(k.code, KeyCode::Char('y') | KeyCode::Char('Y'))
                && let Some(p) = cx.presets.get(self.selected)
            {
                self.busy = true;
                return vec![Action::Effect(Effect::SavePreset(PresetChange::Delete(p.name.clone())))];
            }
            self.message = Some(Note::Problem("not deleted".into()));
            return Vec::new();
        }
        let n = cx.presets.len();
        let current = cx.presets.get(self.selected);
        match k.code {
            KeyCode::Esc | KeyCode::Char('q') | KeyCode::Char('p') => return vec![Action::Close],
            KeyCode::Up | KeyCode::Char('k') => self.selected = self.selected.saturating_sub(1),
            KeyCode::Down | KeyCode::Char('j') => self.selected = (self.selected + 1).min(n.saturating_sub(1)),
            KeyCode::Char('a') | KeyCode::Char('n') => {
                let mut p = cx.current.clone();
                p.name = unique_name(cx.presets, "new preset");
                self.form = Some(PresetForm::from_preset(&p, None));
            }
            KeyCode::Enter if current.is_some() => {
                return vec![Action::UsePreset(self.selected), Action::Close];
            }
            KeyCode::Char('e') | KeyCode::Char('r') => {
                if let Some(p) = current {
                    self.form = Some(PresetForm::from_preset(p, Some(p.name.clone())));
                }
            }
            KeyCode::Char('c') => {
                if let Some(p) = current {
                    let copy = Preset {
                        name: unique_name(cx.presets, &format!("{} copy", p.name)),
                        default: false,
                        ..p.clone()
                    };
                    self.form = Some(PresetForm::from_preset(&copy, None));
                }
            }
            KeyCode::Char('x') | KeyCode::Delete if current.is_some() => self.confirm_delete = true,
            KeyCode::Char('L') => {
                self.busy = true;
                return vec![Action::Effect(Effect::ReloadConfig)];
            }
            KeyCode::Char('*') | KeyCode::Char('D') => {
                if let Some(p) = current {
                    self.busy = true;
                    return vec![Action::Effect(Effect::SavePreset(PresetChange::SetDefault(p.name.clone())))];
                }
            }
            _ => {}
        }
        Vec::new()
    }

    fn form_key(&mut self, form: &mut PresetForm, k: KeyEvent, cx: PresetContext<'_>) -> Vec<Action> {
        let toggle = matches!(k.code, KeyCode::Char(' ') | KeyCode::Left | KeyCode::Right);
        match k.code {
            KeyCode::Esc => {}
            KeyCode::Tab | KeyCode::Down => form.field = form.field.step(false),
            KeyCode::BackTab | KeyCode::Up => form.field = form.field.step(true),
            KeyCode::Enter => match form.validate(cx.presets) {
                Ok(p) => {
                    self.busy = true;
                    let change = PresetChange::Upsert { original: form.original.clone(), preset: p };
                    return vec![Action::Effect(Effect::SavePreset(change))];
                }
                Err(e) => self.message = Some(Note::Problem(e.to_string())),
            },
            _ if form.field == PresetField::Type && toggle => form.asset_type = form.asset_type.next(),
            _ if form.field == PresetField::Default && toggle => form.default = !form.default,
            _ if form.field == PresetField::Conform && toggle => form.conform = !form.conform,
            KeyCode::Char('g')
                if form.field == PresetField::Group
                    && k.modifiers.contains(KeyModifiers::CONTROL)
                    && !cx.groups.is_empty() =>
            {
                let cur = cx.groups.iter().position(|g| g.id == form.group.text().trim());
                let next = cur.map_or(0, |i| (i + 1) % cx.groups.len());
                form.group.set(&cx.groups[next].id);
            }
            _ => {
                if let Some(f) = form.text_field() {
                    f.edit(&k);
                }
            }
        }
        Vec::new()
    }
}

/// A field of the new-group form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupField {
    /// The group's name.
    Name,
    /// Its description.
    Description,
    /// Where it goes once created.
    Attach,
}

impl GroupField {
    fn step(self, back: bool) -> GroupField {
        match (self, back) {
            (GroupField::Name, false) | (GroupField::Attach, true) => GroupField::Description,
            (GroupField::Description, false) | (GroupField::Name, true) => GroupField::Attach,
            (GroupField::Attach, false) | (GroupField::Description, true) => GroupField::Name,
        }
    }
}

/// The new-group form.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupForm {
    /// The focused field.
    pub field: GroupField,
    /// At most 64 characters.
    pub name: TextField,
    /// At most 300 characters.
    pub description: TextField,
    /// Where the new group goes.
    pub attach: Attach,
    /// Why the last attempt failed.
    pub error: Option<String>,
    /// The request is under way.
    pub busy: bool,
}

impl GroupForm {
    /// An empty form.
    pub fn new() -> GroupForm {
        GroupForm {
            field: GroupField::Name,
            name: TextField::default(),
            description: TextField::default(),
            attach: Attach::None,
            error: None,
            busy: false,
        }
    }

    /// Local checks before anything is sent (the engine's own).
    pub fn validate(&self) -> Result<(), GroupError> {
        crate::engine::validate_group(self.name.text(), Some(self.description.text()))
    }

    /// The next attach choice: none → new preset → each preset → none.
    pub fn cycle_attach(&mut self, presets: usize) {
        self.attach = match self.attach {
            Attach::None => Attach::NewPreset,
            Attach::NewPreset if presets > 0 => Attach::Preset(0),
            Attach::Preset(i) if i + 1 < presets => Attach::Preset(i + 1),
            _ => Attach::None,
        };
    }

    /// Pasted text goes into the focused text field, on one line.
    pub fn paste(&mut self, text: &str) {
        let text = text.replace(['\n', '\t'], " ");
        match self.field {
            GroupField::Name => self.name.insert(&text),
            GroupField::Description => self.description.insert(&text),
            GroupField::Attach => {}
        }
    }

    /// Handles a key; `presets` is how many presets exist.
    pub fn key(&mut self, k: KeyEvent, presets: usize) -> Vec<Action> {
        if self.busy {
            return if k.code == KeyCode::Esc { vec![Action::Close] } else { Vec::new() };
        }
        match k.code {
            KeyCode::Esc => return vec![Action::Close],
            KeyCode::Tab | KeyCode::Down => self.field = self.field.step(false),
            KeyCode::BackTab | KeyCode::Up => self.field = self.field.step(true),
            KeyCode::Enter => match self.validate() {
                Ok(()) => {
                    self.busy = true;
                    self.error = None;
                    let name = self.name.text().trim().to_string();
                    let description = Some(self.description.text().trim().to_string()).filter(|d| !d.is_empty());
                    return vec![
                        Action::Attach(name.clone(), self.attach),
                        Action::Effect(Effect::Engine(Command::CreateGroup { name, description })),
                    ];
                }
                Err(e) => self.error = Some(e.to_string()),
            },
            KeyCode::Char(' ') | KeyCode::Left | KeyCode::Right if self.field == GroupField::Attach => {
                self.cycle_attach(presets);
            }
            _ => {
                match self.field {
                    GroupField::Name => self.name.edit(&k),
                    GroupField::Description => self.description.edit(&k),
                    GroupField::Attach => false,
                };
            }
        }
        Vec::new()
    }
}

impl Default for GroupForm {
    fn default() -> Self {
        GroupForm::new()
    }
}

/// `base`, or `base 2`, `base 3`… whichever no preset has.
pub fn unique_name(presets: &[Preset], base: &str) -> String {
    let taken = |n: &str| presets.iter().any(|p| p.name.eq_ignore_ascii_case(n));
    if !taken(base) {
        return base.to_string();
    }
    (2..).map(|i| format!("{base} {i}")).find(|n| !taken(n)).unwrap_or_else(|| base.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(c: KeyCode) -> KeyEvent {
        KeyEvent::new(c, KeyModifiers::NONE)
    }

    #[test]
    fn the_group_form_on_its_own_asks_for_a_group_and_where_it_goes() {
        let mut form = GroupForm::new();
        assert!(form.key(key(KeyCode::Enter), 0).is_empty());
        assert!(form.error.as_deref().unwrap().starts_with("name:"));
        for c in "refs".chars() {
            form.key(key(KeyCode::Char(c)), 0);
        }
        form.key(key(KeyCode::BackTab), 0);
        assert_eq!(form.field, GroupField::Attach);
        form.key(key(KeyCode::Char(' ')), 0);
        let actions = form.key(key(KeyCode::Enter), 0);
        assert_eq!(
            actions,
            [
                Action::Attach("refs".into(), Attach::NewPreset),
                Action::Effect(Effect::Engine(Command::CreateGroup { name: "refs".into(), description: None }))
            ]
        );
        assert!(form.busy);
        assert_eq!(form.key(key(KeyCode::Esc), 0), [Action::Close]);
    }

    #[test]
    fn the_preset_editor_on_its_own_adds_from_the_current_values() {
        let presets = vec![Preset::new("a", "g1")];
        let mut current = Preset::new("", "g2");
        current.name_template = "{n}-{stem}".into();
        let cx = PresetContext { presets: &presets, groups: &[], current: &current };
        let mut ed = PresetEditor::default();
        assert!(ed.key(key(KeyCode::Char('a')), cx).is_empty());
        let form = ed.form.as_ref().unwrap();
        assert_eq!((form.name.text(), form.group.text(), form.template.text()), ("new preset", "g2", "{n}-{stem}"));
        let actions = ed.key(key(KeyCode::Enter), cx);
        let [Action::Effect(Effect::SavePreset(PresetChange::Upsert { original: None, preset }))] = actions.as_slice()
        else {
            panic!("{actions:?}")
        };
        assert_eq!(preset.group_id, "g2");
        ed.form = None;
        assert_eq!(ed.key(key(KeyCode::Enter), cx), [Action::UsePreset(0), Action::Close]);
    }
}
