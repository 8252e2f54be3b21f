//! The preset editor and the new-group form: their state and rules.

use super::field::TextField;
use crate::config::{Preset, TypeChoice};

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

/// The fields of a preset being edited.
#[derive(Debug, Clone, PartialEq)]
pub struct PresetForm {
    /// The name the preset had (`None` when adding).
    pub original: Option<String>,
    /// The focused field (see [`PresetForm::LABELS`]).
    pub field: usize,
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
}

impl PresetForm {
    /// Field labels, in order.
    pub const LABELS: [&'static str; 6] = ["Name", "Group", "Type", "Template", "Description", "Default"];

    /// A form holding `p`; `original` names the preset being replaced.
    pub fn from_preset(p: &Preset, original: Option<String>) -> PresetForm {
        PresetForm {
            original,
            field: 0,
            name: TextField::new(&p.name),
            group: TextField::new(&p.group_id),
            asset_type: p.asset_type,
            template: TextField::new(&p.name_template),
            description: TextField::new(p.description.as_deref().unwrap_or("")),
            default: p.default,
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
        }
    }

    /// The focused text field, if the focused field is text.
    pub fn text_field(&mut self) -> Option<&mut TextField> {
        match self.field {
            0 => Some(&mut self.name),
            1 => Some(&mut self.group),
            3 => Some(&mut self.template),
            4 => Some(&mut self.description),
            _ => None,
        }
    }

    /// Checks the form against the other presets: the message names the field.
    pub fn validate(&self, others: &[Preset]) -> Result<Preset, String> {
        let p = self.to_preset();
        p.validate()?;
        let clash = others
            .iter()
            .any(|o| o.name.eq_ignore_ascii_case(&p.name) && Some(o.name.as_str()) != self.original.as_deref());
        if clash {
            return Err(format!("name: a preset named `{}` already exists", p.name));
        }
        Ok(p)
    }
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
    pub message: Option<String>,
    /// A save is under way.
    pub busy: bool,
}

/// The new-group form.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupForm {
    /// 0 name, 1 description, 2 attach.
    pub field: usize,
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
            field: 0,
            name: TextField::default(),
            description: TextField::default(),
            attach: Attach::None,
            error: None,
            busy: false,
        }
    }

    /// Local checks before anything is sent (the engine's own).
    pub fn validate(&self) -> Result<(), String> {
        crate::engine::check_group(self.name.text(), Some(self.description.text()))
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
}

impl Default for GroupForm {
    fn default() -> Self {
        GroupForm::new()
    }
}
