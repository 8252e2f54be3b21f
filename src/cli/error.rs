//! Why `import` cannot start: its defaults or its input.

use std::path::PathBuf;

use crate::config::TemplateError;

/// A problem with `import`'s flags, preset or input sources.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// `--preset` names no preset.
    #[error(
        "no preset named `{name}`; presets: {}",
        if known.is_empty() { "none".to_string() } else { known.join(", ") }
    )]
    NoPreset {
        /// The name asked for.
        name: String,
        /// The presets that exist.
        known: Vec<String>,
    },
    /// Neither `--group` nor a preset gives a group.
    #[error("no group: pass --group ID or --preset NAME (see `presets list`), or create one with `groups create NAME`")]
    NoGroup,
    /// The name template does not parse.
    #[error("name template `{template}`: {source}")]
    Template {
        /// The template as given.
        template: String,
        /// Why.
        source: TemplateError,
    },
    /// `--file` cannot be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

impl From<ImportError> for crate::exit::Failure {
    /// Bad flags or input are a usage error.
    fn from(e: ImportError) -> crate::exit::Failure {
        crate::exit::Failure::new(crate::exit::USAGE, e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_preset_lists_the_known_ones_or_none() {
        let e = ImportError::NoPreset { name: "x".into(), known: vec![] };
        assert_eq!(e.to_string(), "no preset named `x`; presets: none");
        let e = ImportError::NoPreset { name: "x".into(), known: vec!["refs".into(), "clips".into()] };
        assert_eq!(e.to_string(), "no preset named `x`; presets: refs, clips");
        let source = "{oops}".parse::<crate::config::Template>().unwrap_err();
        let e = ImportError::Template { template: "{oops}".into(), source };
        assert!(e.to_string().starts_with("name template `{oops}`: unknown placeholder `{oops}`"), "{e}");
    }
}
