//! Turning pasted or piped lines into imports, with every check done before
//! anything is sent: https URL, asset type (given or inferred from the
//! extension), name (given, or from the name template), lengths.
//!
//! A line is `URL`, or `URL<TAB>name<TAB>type`, or `URL,name,type` (name and
//! type optional). Blank lines and lines starting with `#` are skipped.

use crate::api::AssetType;
use crate::config::{NameContext, Template, TypeChoice};

pub use super::error::{InputError, LineError};
use crate::engine::NewJob;

/// Longest accepted URL.
pub const MAX_URL_CHARS: usize = 2048;
/// Longest accepted name.
pub const MAX_NAME_CHARS: usize = 64;

/// What applies to lines that do not say otherwise.
#[derive(Debug, Clone)]
pub struct ImportDefaults {
    /// The group (required).
    pub group_id: String,
    /// Fixed type or inference.
    pub asset_type: TypeChoice,
    /// Names for lines without a name column.
    pub template: Template,
    /// `{date}`, as `YYYY-MM-DD`.
    pub date: String,
    /// Accept a given type that contradicts the URL's extension
    /// (`--force-type`; one line can say so with a `!` after its type).
    pub force_type: bool,
    /// Accept plain `http://` to a loopback host: only under `--demo`, whose
    /// simulator serves its sample media on this machine.
    pub loopback_http: bool,
}

/// Checks a URL: absolute, https, with a host, not too long.
pub fn check_url(raw: &str) -> Result<url::Url, InputError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(InputError::NoUrl);
    }
    if raw.chars().count() > MAX_URL_CHARS {
        return Err(InputError::UrlTooLong);
    }
    if let Some(at) = glued_at(raw) {
        return Err(InputError::Glued { first: raw[..at].trim_end().to_string(), second: raw[at..].to_string() });
    }
    let mut url = url::Url::parse(raw).map_err(|source| InputError::NotUrl { raw: raw.to_string(), source })?;
    if !url.username().is_empty() || url.password().is_some() {
        // Never echo the credentials: show the URL without them.
        let _ = url.set_username("");
        let _ = url.set_password(None);
        return Err(InputError::Credentials { shown: url.to_string() });
    }
    if url.scheme() != "https" {
        return Err(InputError::NotHttps { raw: raw.to_string() });
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(InputError::NoHost { raw: raw.to_string() });
    }
    Ok(url)
}

/// Whether `raw` is a plain-http URL to this machine.
fn is_loopback_http(raw: &str) -> bool {
    url::Url::parse(raw.trim()).is_ok_and(|u| u.scheme() == "http" && crate::storage::is_loopback(&u))
}

/// Where a second URL starts inside `raw`, if it does: two URLs glued
/// together (`…/x.pnghttps://…/y.png`), or run together with a space. A URL
/// given as a query value (`?src=https://…`) is not a second URL.
fn glued_at(raw: &str) -> Option<usize> {
    let lower = raw.to_ascii_lowercase();
    let query = lower.find(['?', '#']).unwrap_or(lower.len());
    ["https://", "http://"]
        .iter()
        .flat_map(|scheme| lower.match_indices(scheme).map(|(i, _)| i))
        .filter(|&i| i > 0)
        .filter(|&i| i < query || !matches!(lower.as_bytes()[i - 1], b'=' | b'&' | b'?'))
        .min()
}

/// The file stem and extension of a URL's last path segment.
pub fn stem_and_ext(url: &url::Url) -> (String, String) {
    let last = url.path_segments().and_then(|mut s| s.next_back()).unwrap_or_default();
    let last = percent_encoding::percent_decode_str(last).decode_utf8_lossy().into_owned();
    match last.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => (stem.to_string(), ext.to_string()),
        _ => (last, String::new()),
    }
}

/// Parses one line (already known non-blank) into an import; `n` is the
/// 1-based counter for `{n}`.
pub fn parse_line(line: &str, n: u64, d: &ImportDefaults) -> Result<NewJob, InputError> {
    let cols: Vec<&str> = if line.contains('\t') {
        line.split('\t').collect()
    } else if line.contains(',') {
        line.split(',').collect()
    } else {
        vec![line]
    };
    if cols.len() > 3 {
        return Err(InputError::Columns(cols.len()));
    }
    let url = match check_url(cols[0]) {
        Err(InputError::NotHttps { .. }) if d.loopback_http && is_loopback_http(cols[0]) => {
            url::Url::parse(cols[0].trim()).map_err(|source| InputError::NotUrl { raw: cols[0].to_string(), source })?
        }
        checked => checked?,
    };
    let is_url =
        |n: &str| ["https://", "http://"].iter().any(|p| n.get(..p.len()).is_some_and(|h| h.eq_ignore_ascii_case(p)));
    if let Some(name) = cols.get(1).map(|n| n.trim()).filter(|n| is_url(n)) {
        // `URL,URL`: two URLs on one line, not a URL and its name.
        return Err(InputError::Glued { first: cols[0].trim().to_string(), second: name.to_string() });
    }
    let (stem, ext) = stem_and_ext(&url);
    let column = cols.get(2).map(|t| t.trim()).filter(|t| !t.is_empty());
    let (column, forced) = match column.and_then(|t| t.strip_suffix('!')) {
        Some(t) => (Some(t.trim()), true),
        None => (column, d.force_type),
    };
    let asset_type = match (column, d.asset_type) {
        (Some(t), _) => t.parse::<AssetType>().map_err(InputError::Type)?,
        (None, TypeChoice::Fixed(t)) => t,
        (None, TypeChoice::Infer) => AssetType::from_extension(&ext).ok_or_else(|| {
            if ext.is_empty() { InputError::NoExtension } else { InputError::UnknownExtension { ext: ext.clone() } }
        })?,
    };
    if let Some(implied) = AssetType::from_extension(&ext)
        && implied != asset_type
        && !forced
    {
        return Err(InputError::WrongType { ext, asset_type });
    }
    let name = match cols.get(1).map(|n| n.trim()).filter(|n| !n.is_empty()) {
        Some(given) => {
            if given.chars().count() > MAX_NAME_CHARS {
                return Err(InputError::NameTooLong);
            }
            crate::text::sanitize(given)
        }
        None => {
            let type_name = asset_type.to_string();
            let ctx = NameContext { stem: &stem, ext: &ext, n, date: &d.date, asset_type: &type_name };
            d.template.expand(&ctx)
        }
    };
    if name.is_empty() {
        return Err(InputError::EmptyName);
    }
    Ok(NewJob {
        url: url.to_string(),
        name,
        asset_type,
        group_id: d.group_id.clone(),
        profile: crate::config::DEFAULT_PROFILE.into(),
        local: None,
        media: None,
        conform: None,
    })
}

/// Whether a line (trimmed) is skipped: blank, or a `#` comment.
pub fn is_skipped(line: &str) -> bool {
    line.is_empty() || line.starts_with('#')
}

/// The lines of an input that ask for something, trimmed, each with its
/// 1-based number: a byte-order mark (as some editors save files) is not
/// part of the first line; blank lines and comments are skipped.
pub fn content_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    text.lines().enumerate().map(|(i, l)| (i + 1, l.trim())).filter(|(_, l)| !is_skipped(l))
}

/// Parses many lines; good lines become imports, bad ones errors with their
/// line numbers. The `{n}` counter counts good lines from 1.
pub fn parse_lines(text: &str, d: &ImportDefaults) -> (Vec<NewJob>, Vec<LineError>) {
    let mut jobs = Vec::new();
    let mut errors = Vec::new();
    for (line_no, line) in content_lines(text) {
        match parse_line(line, 1 + jobs.len() as u64, d) {
            Ok(job) => jobs.push(job),
            Err(error) => errors.push(LineError { line: line_no, error }),
        }
    }
    (jobs, errors)
}

/// Today's date as `YYYY-MM-DD`, for `{date}`.
pub fn today() -> String {
    jiff::ZonedDateTime::now().strftime("%Y-%m-%d").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defaults(t: TypeChoice, template: &str) -> ImportDefaults {
        ImportDefaults {
            group_id: "g1".into(),
            asset_type: t,
            template: template.parse().unwrap(),
            date: "2026-11-24".into(),
            force_type: false,
            loopback_http: false,
        }
    }

    #[test]
    fn a_type_that_contradicts_the_extension_is_refused_unless_forced() {
        let video = defaults(TypeChoice::Fixed(AssetType::Video), "{stem}");
        let e = parse_line("https://e.com/a.png", 1, &video).unwrap_err().to_string();
        assert_eq!(
            e,
            "a .png file is not a valid Video (the asset library would fail it after creating it); fix the type, or force it with `Video!` in the type column or --force-type"
        );
        assert!(parse_line("https://e.com/a.png,,Audio", 1, &defaults(TypeChoice::Infer, "{stem}")).is_err());
        let forced = parse_line("https://e.com/a.png,,Video!", 1, &video).unwrap();
        assert_eq!(forced.asset_type, AssetType::Video);
        let all = ImportDefaults { force_type: true, ..video.clone() };
        assert_eq!(parse_line("https://e.com/a.png", 1, &all).unwrap().asset_type, AssetType::Video);
        // No extension, or one that says nothing: the given type stands.
        assert_eq!(parse_line("https://e.com/a.dat", 1, &video).unwrap().asset_type, AssetType::Video);
        assert_eq!(parse_line("https://e.com/a.mov", 1, &video).unwrap().asset_type, AssetType::Video);
    }

    #[test]
    fn good_and_bad_lines_are_reported_by_number() {
        let text = "# refs\nhttps://e.com/a/cat.PNG\n\nhttp://e.com/b.png\nhttps://e.com/clip.mov,My clip\nhttps://e.com/x.bin\nhttps://e.com/song\tTheme\taudio\nnot a url\nhttps://e.com/v.mp4,,Image\nhttps://e.com/w.mp4,,Image!\n";
        let (jobs, errors) = parse_lines(text, &defaults(TypeChoice::Infer, "{n:2}-{stem}"));
        let got: Vec<_> = jobs.iter().map(|j| (j.name.as_str(), j.asset_type)).collect();
        assert_eq!(
            got,
            [
                ("01-cat", AssetType::Image),
                ("My clip", AssetType::Video),
                ("Theme", AssetType::Audio),
                ("04-w", AssetType::Image)
            ]
        );
        let lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, [4, 6, 8, 9]);
        assert!(errors[0].error.to_string().contains("https"), "{}", errors[0]);
        assert!(errors[1].error.to_string().contains("`.bin`"), "{}", errors[1]);
        assert!(errors[2].error.to_string().contains("not a URL"), "{}", errors[2]);
        assert_eq!(errors[2].to_string(), "line 8: `not a url` is not a URL: relative URL without a base");
        assert!(jobs.iter().all(|j| j.group_id == "g1"));
    }

    #[test]
    fn fixed_type_names_and_limits() {
        let d = defaults(TypeChoice::Fixed(AssetType::Video), "{stem}");
        let j = parse_line("https://e.com/dir/my%20file.dat", 1, &d).unwrap();
        assert_eq!((j.name.as_str(), j.asset_type), ("my file", AssetType::Video));
        let long = format!("https://e.com/a.mp4,{}", "n".repeat(65));
        let err = |line: &str| parse_line(line, 1, &d).unwrap_err().to_string();
        assert!(err(&long).contains("64"));
        assert!(err("https://e.com/a.png,x,Picture").contains("unknown asset type"));
        assert!(err("https://e.com/").contains("name is empty"));
        assert!(err("https://e.com/a.png,b,Image,extra").contains("4 columns"));
        assert!(check_url(&format!("https://e.com/{}", "a".repeat(3000))).unwrap_err().to_string().contains("longer"));
        let e = check_url("https://me:pw@e.com/a.png").unwrap_err().to_string();
        assert!(e.starts_with("`https://e.com/a.png` carries a user name or password") && !e.contains("pw"), "{e}");
        assert!(check_url("https://").is_err());
        assert_eq!(stem_and_ext(&check_url("https://e.com/%E4%B8%96%zz.png").unwrap()).0, "世%zz");
    }

    #[test]
    fn plain_http_to_this_machine_only_under_the_demo() {
        let d = defaults(TypeChoice::Infer, "{stem}");
        assert!(parse_line("http://127.0.0.1:9/media/cat.png", 1, &d).is_err());
        let demo = ImportDefaults { loopback_http: true, ..d };
        assert_eq!(parse_line("http://127.0.0.1:9/media/cat.png", 1, &demo).unwrap().name, "cat");
        assert!(parse_line("http://cdn.example/cat.png", 1, &demo).is_err(), "elsewhere https only");
    }

    #[test]
    fn glued_urls_are_refused_whatever_glues_them() {
        let d = defaults(TypeChoice::Infer, "{stem}");
        for line in [
            "https://cdn.example/x.pnghttps://cdn.example/y.png",
            "https://cdn.example/x.pngHTTPS://cdn.example/y.png",
            "https://cdn.example/x.png http://cdn.example/y.png",
            "https://cdn.example/x.png,https://cdn.example/y.png",
            "https://cdn.example/a/https://b.example/y.png",
        ] {
            let e = parse_line(line, 1, &d).unwrap_err();
            assert!(matches!(e, InputError::Glued { .. }), "{line}: {e}");
            assert!(e.to_string().contains("one URL per line"), "{e}");
        }
        // A URL as a query value is one URL.
        let ok = parse_line("https://cdn.example/get.png?src=https://origin.example/y.png", 1, &d).unwrap();
        assert_eq!(ok.name, "get");
    }

    #[test]
    fn names_are_sanitized() {
        let d = defaults(TypeChoice::Infer, "{stem}");
        let j = parse_line("https://e.com/a%1B%5B2J.png", 1, &d).unwrap();
        assert!(!j.name.contains('\x1b'), "{:?}", j.name);
    }
}
