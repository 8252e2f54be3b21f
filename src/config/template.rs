//! Name templates: `{stem}`, `{ext}`, `{n}` (or `{n:3}`, zero-padded),
//! `{date}` (YYYY-MM-DD), `{type}`; `{{` and `}}` for literal braces.

use std::fmt;
use std::str::FromStr;

use super::error::TemplateError;

/// Names longer than this are cut (the API's limit).
pub const MAX_NAME_CHARS: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Stem,
    Ext,
    Counter { width: usize },
    Date,
    Type,
}

/// A parsed, valid name template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    source: String,
    parts: Vec<Part>,
}

/// What a template is expanded with.
#[derive(Debug, Clone, PartialEq)]
pub struct NameContext<'a> {
    /// The URL's file name without extension.
    pub stem: &'a str,
    /// The URL's extension, without the dot (may be empty).
    pub ext: &'a str,
    /// A 1-based counter over the items of one submission.
    pub n: u64,
    /// Today's date, `YYYY-MM-DD`.
    pub date: &'a str,
    /// The asset type (`Image`, `Video`, `Audio`).
    pub asset_type: &'a str,
}

impl FromStr for Template {
    type Err = TemplateError;

    fn from_str(src: &str) -> Result<Self, Self::Err> {
        let mut parts = Vec::new();
        let mut text = String::new();
        let mut chars = src.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            match c {
                '{' if chars.peek().is_some_and(|(_, n)| *n == '{') => {
                    chars.next();
                    text.push('{');
                }
                '}' if chars.peek().is_some_and(|(_, n)| *n == '}') => {
                    chars.next();
                    text.push('}');
                }
                '}' => {
                    return Err(TemplateError::UnmatchedClose { position: i + 1 });
                }
                '{' => {
                    let mut name = String::new();
                    let mut closed = false;
                    for (_, c) in chars.by_ref() {
                        if c == '}' {
                            closed = true;
                            break;
                        }
                        name.push(c);
                    }
                    if !closed {
                        return Err(TemplateError::Unclosed { position: i + 1 });
                    }
                    if !text.is_empty() {
                        parts.push(Part::Text(std::mem::take(&mut text)));
                    }
                    parts.push(placeholder(&name)?);
                }
                c => text.push(c),
            }
        }
        if !text.is_empty() {
            parts.push(Part::Text(text));
        }
        if parts.is_empty() {
            return Err(TemplateError::Empty);
        }
        Ok(Template { source: src.to_string(), parts })
    }
}

fn placeholder(name: &str) -> Result<Part, TemplateError> {
    Ok(match name.trim() {
        "stem" => Part::Stem,
        "ext" => Part::Ext,
        "date" => Part::Date,
        "type" => Part::Type,
        "n" => Part::Counter { width: 0 },
        other => match other.strip_prefix("n:").map(str::parse::<usize>) {
            Some(Ok(width)) if width <= 12 => Part::Counter { width },
            _ => {
                return Err(TemplateError::UnknownPlaceholder { name: other.to_string() });
            }
        },
    })
}

impl Template {
    /// The default template: the URL's file stem.
    pub fn stem() -> Template {
        Template { source: "{stem}".into(), parts: vec![Part::Stem] }
    }

    /// Expands the template, cutting the result to 64 characters (the API's limit).
    pub fn expand(&self, ctx: &NameContext<'_>) -> String {
        let mut out = String::new();
        for p in &self.parts {
            match p {
                Part::Text(t) => out.push_str(t),
                Part::Stem => out.push_str(ctx.stem),
                Part::Ext => out.push_str(ctx.ext),
                Part::Counter { width } => out.push_str(&format!("{:0width$}", ctx.n, width = *width)),
                Part::Date => out.push_str(ctx.date),
                Part::Type => out.push_str(ctx.asset_type),
            }
        }
        let out = crate::text::sanitize(out.trim());
        out.chars().take(MAX_NAME_CHARS).collect()
    }

    /// True when two items expanded from this template can get the same
    /// name only if their stems are equal (it has no counter).
    pub fn has_counter(&self) -> bool {
        self.parts.iter().any(|p| matches!(p, Part::Counter { .. }))
    }
}

impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ctx(n: u64) -> NameContext<'static> {
        NameContext { stem: "cat", ext: "png", n, date: "2026-11-24", asset_type: "Image" }
    }

    #[test]
    fn expands_every_placeholder() {
        let t: Template = "{date}-{stem}.{ext}#{n:3}/{type} {{x}}".parse().unwrap();
        assert_eq!(t.expand(&ctx(7)), "2026-11-24-cat.png#007/Image {x}");
        assert!(t.has_counter());
        assert!(!Template::stem().has_counter());
        assert_eq!(Template::stem().expand(&ctx(1)), "cat");
    }

    #[test]
    fn rejects_bad_templates_with_reasons() {
        let err = |s: &str| s.parse::<Template>().unwrap_err().to_string();
        assert_eq!(err("{ stme }"), "unknown placeholder `{stme}`; use {stem}, {ext}, {n}, {n:3}, {date} or {type}");
        assert_eq!(err("ab{stem"), "unclosed `{` at position 3");
        assert_eq!(err("a}"), "unmatched `}` at position 2; write `}}` for a literal brace");
        assert_eq!(err(""), "the name template is empty");
        assert!("{n:99}".parse::<Template>().is_err());
    }

    #[test]
    fn long_names_are_cut() {
        let t: Template = "{stem}{stem}{stem}".parse().unwrap();
        let long = "x".repeat(40);
        let c = NameContext { stem: &long, ..ctx(1) };
        assert_eq!(t.expand(&c).chars().count(), MAX_NAME_CHARS);
    }

    proptest! {
        #[test]
        fn literal_text_round_trips(s in "[a-zA-Z0-9 _.-]{1,40}") {
            let t: Template = s.parse().unwrap();
            prop_assert_eq!(t.expand(&ctx(1)), s.trim().to_string());
        }

        #[test]
        fn parse_never_panics_and_expansion_is_bounded(s in "\\PC{0,60}", stem in "\\PC{0,80}") {
            if let Ok(t) = s.parse::<Template>() {
                let c = NameContext { stem: &stem, ..ctx(3) };
                let name = t.expand(&c);
                prop_assert!(name.chars().count() <= MAX_NAME_CHARS);
                prop_assert!(!name.chars().any(char::is_control));
            }
        }
    }
}
