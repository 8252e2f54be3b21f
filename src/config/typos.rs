//! Unknown keys in the config file: where they are (line) and what was
//! probably meant (a known key of the same table, by edit distance).

use std::ops::Range;

/// The annotated example config: every key it sets or shows commented out
/// is a known key of its table.
const EXAMPLE: &str = include_str!("../../config.example.toml");

/// How an unknown key is told: `line 12: unknown key `storage.bukcet`
/// ignored (did you mean `bucket`?)`. `key` is the dotted path serde gives
/// (array indexes included, such as `presets.0.nmae`; `?` for an optional
/// table, left out of what is shown).
pub fn describe(text: &str, key: &str) -> String {
    let segments: Vec<&str> = key.split('.').filter(|s| *s != "?").collect();
    let key = segments.join(".");
    let line = span_of(text, &segments).map(|r| text[..r.start.min(text.len())].matches('\n').count() + 1);
    let at = line.map(|l| format!("line {l}: ")).unwrap_or_default();
    let hint = suggestion(&segments).map(|s| format!(" (did you mean `{s}`?)")).unwrap_or_default();
    format!("{at}unknown key `{key}` ignored{hint}")
}

/// Where the key is in the text, found by walking the parsed document.
fn span_of(text: &str, segments: &[&str]) -> Option<Range<usize>> {
    let doc = toml_edit::Document::parse(text).ok()?;
    let mut table: &dyn toml_edit::TableLike = doc.as_table();
    let mut i = 0;
    while i < segments.len() {
        let (key, item) = table.get_key_value(segments[i])?;
        if i + 1 == segments.len() {
            return key.span();
        }
        i += 1;
        table = match item {
            toml_edit::Item::ArrayOfTables(a) => {
                let t = a.get(segments[i].parse().ok()?)?;
                i += 1;
                t
            }
            other => other.as_table_like()?,
        };
    }
    None
}

/// The table a key sits in, as the example names it: array indexes dropped,
/// a profile's name as `*`.
fn table_of(segments: &[&str]) -> String {
    let parents = &segments[..segments.len().saturating_sub(1)];
    let mut out: Vec<&str> = Vec::new();
    for s in parents.iter().filter(|s| s.parse::<usize>().is_err()) {
        out.push(if out.last() == Some(&"profiles") && out.len() == 1 { "*" } else { s });
    }
    out.join(".")
}

/// The known key of the same table closest to the unknown one, when close
/// enough to be a typo.
fn suggestion(segments: &[&str]) -> Option<String> {
    let wrong = segments.last()?.to_lowercase();
    let table = table_of(segments);
    known_keys()
        .filter(|(t, _)| *t == table)
        .map(|(_, k)| (strsim::damerau_levenshtein(&wrong, &k), k))
        .filter(|(d, k)| *d > 0 && *d <= 2.max(k.len() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// `(table, key)` for every key the example shows, set or commented out.
fn known_keys() -> impl Iterator<Item = (String, String)> {
    let mut table = String::new();
    EXAMPLE.lines().filter_map(move |line| {
        let line = line.trim_start_matches('#').trim();
        if let Some(header) = line.strip_prefix('[') {
            let name = header.trim_start_matches('[').split(']').next()?.trim();
            let mut parts: Vec<&str> = name.split('.').collect();
            if parts.first() == Some(&"profiles") && parts.len() > 1 {
                parts[1] = "*";
            }
            table = parts.join(".");
            return None;
        }
        let (key, _) = line.split_once('=')?;
        let key = key.trim();
        let plain = !key.is_empty() && key.chars().all(|c| c.is_ascii_lowercase() || c == '_');
        plain.then(|| (table.clone(), key.to_string()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_get_their_line_and_the_key_meant() {
        let text = "[api]\nbase_ulr = \"https://x.example\"\n\n[storage]\nbukcet = \"b\"\n\n[[presets]]\nname = \"a\"\n\n[[presets]]\nnmae = \"b\"\n[profiles.work]\nbase_ur = \"https://w.example\"\n";
        assert_eq!(
            describe(text, "api.base_ulr"),
            "line 2: unknown key `api.base_ulr` ignored (did you mean `base_url`?)"
        );
        assert_eq!(
            describe(text, "storage.?.bukcet"),
            "line 5: unknown key `storage.bukcet` ignored (did you mean `bucket`?)"
        );
        assert_eq!(
            describe(text, "presets.1.nmae"),
            "line 11: unknown key `presets.1.nmae` ignored (did you mean `name`?)"
        );
        assert_eq!(
            describe(text, "profiles.work.base_ur"),
            "line 13: unknown key `profiles.work.base_ur` ignored (did you mean `base_url`?)"
        );
        // Nothing close: no guess.
        assert_eq!(describe("[api]\nzzz = 1\n", "api.zzz"), "line 2: unknown key `api.zzz` ignored");
    }
}
