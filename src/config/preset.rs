//! Presets: a saved group, asset type and naming.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::error::{PresetError, PresetsError, TemplateError};
use super::template::Template;
use crate::api::AssetType;

/// The asset type a preset gives, or inference from the URL's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TypeChoice {
    /// From the file extension (SPEC.md's formats).
    #[default]
    Infer,
    /// Always this type.
    Fixed(AssetType),
}

impl TypeChoice {
    /// The next choice: infer → Image → Video → Audio → infer.
    pub fn next(self) -> TypeChoice {
        match self {
            TypeChoice::Infer => TypeChoice::Fixed(AssetType::Image),
            TypeChoice::Fixed(AssetType::Audio) => TypeChoice::Infer,
            TypeChoice::Fixed(t) => TypeChoice::Fixed(t.next()),
        }
    }
}

impl fmt::Display for TypeChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TypeChoice::Infer => f.write_str("infer"),
            TypeChoice::Fixed(t) => t.fmt(f),
        }
    }
}

impl std::str::FromStr for TypeChoice {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.trim().eq_ignore_ascii_case("infer") {
            Ok(TypeChoice::Infer)
        } else {
            s.parse::<AssetType>().map(TypeChoice::Fixed).map_err(|e| format!("{e}, or infer"))
        }
    }
}

impl Serialize for TypeChoice {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for TypeChoice {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
    }
}

fn default_template() -> String {
    "{stem}".into()
}

/// A saved set of import settings, kept in the config as `[[presets]]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Preset {
    /// Unique name, shown in the picker.
    pub name: String,
    /// The asset group imports go to.
    #[serde(default)]
    pub group_id: String,
    /// Fixed type or `infer`.
    #[serde(default)]
    pub asset_type: TypeChoice,
    /// How assets are named; see [`Template`].
    #[serde(default = "default_template")]
    pub name_template: String,
    /// A note for the user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The preset selected at start.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub default: bool,
    /// Files that break the limits are conformed (as `import --conform`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub conform: bool,
}

impl Preset {
    /// A new preset with the default template and inferred type.
    pub fn new(name: &str, group_id: &str) -> Preset {
        Preset {
            name: name.into(),
            group_id: group_id.into(),
            asset_type: TypeChoice::Infer,
            name_template: default_template(),
            description: None,
            default: false,
            conform: false,
        }
    }

    /// The parsed name template.
    pub fn template(&self) -> Result<Template, TemplateError> {
        self.name_template.parse()
    }

    /// Field-by-field checks; the first problem, naming the field.
    pub fn validate(&self) -> Result<(), PresetError> {
        let name = self.name.trim();
        if name.is_empty() {
            return Err(PresetError::NoName);
        }
        if name.chars().count() > 64 || name.chars().any(char::is_control) {
            return Err(PresetError::BadName);
        }
        if self.group_id.trim().is_empty() {
            return Err(PresetError::NoGroup { name: name.to_string() });
        }
        if self.group_id.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(PresetError::BadGroup { group_id: self.group_id.clone() });
        }
        self.template().map_err(PresetError::Template)?;
        if self.description.as_ref().is_some_and(|d| d.chars().count() > 300) {
            return Err(PresetError::LongDescription);
        }
        Ok(())
    }
}

/// Checks a whole list: each preset, unique names, at most one default.
pub fn validate_all(presets: &[Preset]) -> Result<(), PresetsError> {
    let mut seen = std::collections::HashSet::new();
    for p in presets {
        p.validate().map_err(|source| PresetsError::Preset { name: p.name.clone(), source })?;
        if !seen.insert(p.name.trim().to_lowercase()) {
            return Err(PresetsError::Duplicate { name: p.name.trim().to_string() });
        }
    }
    if presets.iter().filter(|p| p.default).count() > 1 {
        return Err(PresetsError::TwoDefaults);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_choice_cycles_and_parses() {
        let mut t = TypeChoice::Infer;
        let mut seen = vec![];
        for _ in 0..4 {
            seen.push(t.to_string());
            t = t.next();
        }
        assert_eq!(seen, ["infer", "Image", "Video", "Audio"]);
        assert_eq!(t, TypeChoice::Infer);
        assert_eq!("video".parse::<TypeChoice>().unwrap(), TypeChoice::Fixed(AssetType::Video));
        assert!("gif".parse::<TypeChoice>().unwrap_err().contains("infer"));
    }

    #[test]
    fn validation_names_the_field() {
        let mut p = Preset::new("refs", "group-1");
        assert!(p.validate().is_ok());
        p.group_id.clear();
        assert_eq!(p.validate().unwrap_err().to_string(), "group: preset `refs` has no group id");
        p.group_id = "g".into();
        p.name_template = "{nope}".into();
        assert!(p.validate().unwrap_err().to_string().contains("unknown placeholder"));
        let e = validate_all(std::slice::from_ref(&p)).unwrap_err().to_string();
        assert!(e.starts_with("preset `refs`: name template: unknown placeholder `{nope}`; use {stem}"), "{e}");
        let dup = [Preset::new("a", "g"), Preset::new(" A ", "g")];
        assert_eq!(validate_all(&dup).unwrap_err().to_string(), "preset name `A` is used twice");
        let mut two = [Preset::new("a", "g"), Preset::new("b", "g")];
        two[0].default = true;
        two[1].default = true;
        assert!(validate_all(&two).unwrap_err().to_string().contains("default"));
    }
}
