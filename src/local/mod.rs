//! Local paths as import lines: a line that is a file, a directory (its
//! media files; `recursive` descends) or a shell-style glob expands to the
//! media files it names, each typed from its extension *and* its first
//! bytes (a disagreement is an error for that file), named by default after
//! its file stem. Reading is blocking: call [`expand`] from `spawn_blocking`
//! for large directories.

mod magic;

use std::io::Read;
use std::path::{Path, PathBuf};

pub use magic::{SNIFF_LEN, sniff};

use crate::api::AssetType;
use crate::text::sanitize;

/// One local media file ready to be uploaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalMedia {
    /// The file.
    pub path: PathBuf,
    /// Its type (extension and content agree on it).
    pub asset_type: AssetType,
    /// The format its content has: `png`, `jpeg`, `mp4`, …
    pub format: &'static str,
    /// The file stem, sanitized: the default name.
    pub stem: String,
    /// The extension as written.
    pub ext: String,
}

/// Why (part of) a local line cannot be imported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LocalError {
    /// Nothing exists at that path.
    #[error("{}: no such file or directory", shown(path))]
    Missing {
        /// The path as resolved.
        path: PathBuf,
    },
    /// A directory without a single media file.
    #[error("{}: the directory holds no media files (jpeg, png, webp, bmp, tiff, gif, heic, mp4, mov, mp3, wav){}", shown(path),
        if *recursive { "" } else { "; --recursive also looks in its subdirectories" })]
    NoMedia {
        /// The directory.
        path: PathBuf,
        /// Whether subdirectories were searched.
        recursive: bool,
    },
    /// A glob that matched no media file.
    #[error("`{}` matches no media file", sanitize(pattern))]
    NoMatch {
        /// The pattern.
        pattern: String,
    },
    /// A glob that is not a valid pattern.
    #[error("`{}` is not a valid pattern: {message}", sanitize(pattern))]
    BadPattern {
        /// The pattern.
        pattern: String,
        /// What is wrong with it.
        message: String,
    },
    /// A file that is not an accepted media file.
    #[error("{}: not a media file: {reason}", shown(path))]
    NotMedia {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The extension names one type and the content is another.
    #[error(
        "{}: the extension `.{}` means {expected} but the content is {format} ({found})",
        shown(path),
        sanitize(ext)
    )]
    Mismatch {
        /// The file.
        path: PathBuf,
        /// Its extension.
        ext: String,
        /// The type the extension implies.
        expected: AssetType,
        /// The type the content is.
        found: AssetType,
        /// The content's format.
        format: &'static str,
    },
    /// A format the server does not take, which conforming converts.
    #[error("{}: `.{}` is not an accepted format; conforming converts it ({format} to {})", shown(path), sanitize(ext),
        match asset_type { AssetType::Image => "jpeg", AssetType::Video => "mp4", AssetType::Audio => "mp3" })]
    Convertible {
        /// The file.
        path: PathBuf,
        /// Its extension.
        ext: String,
        /// The type it would become.
        asset_type: AssetType,
        /// Its format, by extension.
        format: &'static str,
    },
    /// The file or directory exists but cannot be read.
    #[error("{}: cannot read it: {reason}", shown(path))]
    Unreadable {
        /// The path.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

impl LocalError {
    /// The file or directory it is about (a pattern is about no one path).
    pub fn path(&self) -> Option<&Path> {
        match self {
            LocalError::Missing { path }
            | LocalError::NoMedia { path, .. }
            | LocalError::NotMedia { path, .. }
            | LocalError::Mismatch { path, .. }
            | LocalError::Convertible { path, .. }
            | LocalError::Unreadable { path, .. } => Some(path),
            LocalError::NoMatch { .. } | LocalError::BadPattern { .. } => None,
        }
    }
}

fn shown(path: &Path) -> String {
    sanitize(&path.display().to_string())
}

/// What one line expanded to: the media files, and the errors for the parts
/// that could not be used. A line is bad as a whole when `files` is empty.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expansion {
    /// Media files, in path order.
    pub files: Vec<LocalMedia>,
    /// Problems, in path order.
    pub errors: Vec<LocalError>,
}

/// Whether an input line names a local path rather than a URL: anything
/// without `://`, or a `file://` URL.
pub fn is_local(line: &str) -> bool {
    let line = line.trim();
    !line.is_empty() && (!line.contains("://") || line.starts_with("file://"))
}

/// Whether an input line (`TARGET` or `TARGET<TAB>name<TAB>type`) names
/// local files rather than a URL: its first tab-separated column does.
pub fn is_local_line(line: &str) -> bool {
    is_local(line.split('\t').next().unwrap_or(line))
}

/// The path a local line names: `file://` URLs decoded, a leading `~/`
/// replaced by `$HOME/`.
pub fn resolve(line: &str) -> PathBuf {
    let line = line.trim();
    if line.starts_with("file://")
        && let Some(path) = url::Url::parse(line).ok().and_then(|u| u.to_file_path().ok())
    {
        return path;
    }
    if let Some(rest) = line.strip_prefix("~/")
        && let Some(home) = std::env::var_os("HOME")
    {
        return PathBuf::from(home).join(rest);
    }
    PathBuf::from(line)
}

/// Whether a line is a glob pattern (has `*`, `?` or `[`) rather than a
/// plain path.
fn is_pattern(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

/// Expands one local line (see [`resolve`]) into media files.
pub fn expand(line: &str, recursive: bool) -> Expansion {
    expand_with(line, recursive, false)
}

/// As [`expand`]; with `convert`, files the conform step can turn into an
/// accepted format ([`convertible`]: webm, mkv, flac, tga …) and files whose
/// content is not recognised are taken too, typed by their extension, for
/// the conform step to measure.
pub fn expand_with(line: &str, recursive: bool, convert: bool) -> Expansion {
    let path = resolve(line);
    let mut out = Expansion::default();
    let text = path.to_string_lossy().into_owned();
    if is_pattern(&text) && std::fs::symlink_metadata(&path).is_err() {
        expand_glob(&text, recursive, convert, &mut out);
        return out;
    }
    match std::fs::metadata(&path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => out.errors.push(LocalError::Missing { path }),
        Err(e) => out.errors.push(unreadable(path, &e)),
        Ok(m) if m.is_dir() => {
            walk(&path, recursive, convert, &mut out);
            if out.files.is_empty() && out.errors.is_empty() {
                out.errors.push(LocalError::NoMedia { path, recursive });
            }
        }
        Ok(_) => match classify_with(&path, convert) {
            Ok(media) => out.files.push(media),
            Err(e) => out.errors.push(e),
        },
    }
    out
}

fn expand_glob(pattern: &str, recursive: bool, convert: bool, out: &mut Expansion) {
    let options = glob::MatchOptions { require_literal_leading_dot: true, ..glob::MatchOptions::new() };
    let paths = match glob::glob_with(pattern, options) {
        Ok(paths) => paths,
        Err(e) => {
            out.errors.push(LocalError::BadPattern { pattern: pattern.into(), message: e.msg.to_string() });
            return;
        }
    };
    for entry in paths {
        match entry {
            Err(e) => {
                let reason = e.error().to_string();
                out.errors.push(LocalError::Unreadable { path: e.path().to_path_buf(), reason });
            }
            Ok(path) if path.is_dir() => {
                if recursive {
                    walk(&path, true, convert, out);
                }
            }
            Ok(path) => add_if_media(path, convert, out),
        }
    }
    if out.files.is_empty() && out.errors.is_empty() {
        out.errors.push(LocalError::NoMatch { pattern: pattern.into() });
    }
}

/// Adds the media files of a directory (and of its subdirectories when
/// `recursive`), skipping hidden entries, files with other extensions and
/// symbolic links to directories.
fn walk(dir: &Path, recursive: bool, convert: bool, out: &mut Expansion) {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            out.errors.push(unreadable(dir.to_path_buf(), &e));
            return;
        }
    };
    let mut paths: Vec<(PathBuf, bool)> = Vec::new();
    for entry in entries {
        match entry {
            Ok(entry) => {
                if entry.file_name().to_string_lossy().starts_with('.') {
                    continue;
                }
                let real_dir = entry.file_type().is_ok_and(|t| t.is_dir());
                paths.push((entry.path(), real_dir));
            }
            Err(e) => out.errors.push(unreadable(dir.to_path_buf(), &e)),
        }
    }
    paths.sort();
    for (path, real_dir) in paths {
        if real_dir {
            if recursive {
                walk(&path, true, convert, out);
            }
        } else if !path.is_dir() {
            add_if_media(path, convert, out);
        }
    }
}

/// Adds a file found by a directory or a glob: one with a media extension
/// must be media; others are not what was asked for and are skipped.
fn add_if_media(path: PathBuf, convert: bool, out: &mut Expansion) {
    let ext = extension(&path);
    let known = ext.and_then(AssetType::from_extension).is_some();
    if !(known || ext.and_then(convertible).is_some()) {
        return;
    }
    match classify_with(&path, convert) {
        Ok(media) => out.files.push(media),
        Err(e) => out.errors.push(e),
    }
}

fn extension(path: &Path) -> Option<&str> {
    path.extension().and_then(|e| e.to_str())
}

fn unreadable(path: PathBuf, e: &std::io::Error) -> LocalError {
    let reason = match e.kind() {
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => e.to_string(),
    };
    LocalError::Unreadable { path, reason }
}

/// Types one file from its extension and its first bytes.
pub fn classify(path: &Path) -> Result<LocalMedia, LocalError> {
    classify_with(path, false)
}

/// Formats the conform step turns into accepted ones, by extension: the
/// asset type they become and the format's name.
pub fn convertible(ext: &str) -> Option<(AssetType, &'static str)> {
    Some(match ext.to_ascii_lowercase().as_str() {
        "webm" => (AssetType::Video, "webm"),
        "mkv" => (AssetType::Video, "matroska"),
        "avi" => (AssetType::Video, "avi"),
        "m4v" => (AssetType::Video, "m4v"),
        "mpg" | "mpeg" | "ts" | "mts" | "m2ts" => (AssetType::Video, "mpeg"),
        "wmv" => (AssetType::Video, "wmv"),
        "flv" => (AssetType::Video, "flv"),
        "ogv" => (AssetType::Video, "ogg"),
        "flac" => (AssetType::Audio, "flac"),
        "ogg" | "oga" | "opus" => (AssetType::Audio, "ogg"),
        "m4a" | "aac" => (AssetType::Audio, "aac"),
        "aif" | "aiff" => (AssetType::Audio, "aiff"),
        "wma" => (AssetType::Audio, "wma"),
        "tga" => (AssetType::Image, "tga"),
        "qoi" => (AssetType::Image, "qoi"),
        "ppm" | "pgm" | "pbm" | "pnm" => (AssetType::Image, "pnm"),
        _ => return None,
    })
}

/// As [`classify`]; with `convert`, a [`convertible`] file, or one whose
/// content is not recognised, is typed by its extension.
pub fn classify_with(path: &Path, convert: bool) -> Result<LocalMedia, LocalError> {
    // A FIFO, a device or a socket would block the read (or never end):
    // only regular files are media files.
    match std::fs::metadata(path) {
        Ok(m) if !m.is_file() => {
            let reason = format!("it is {}, not a regular file", crate::text::file_kind(&m));
            return Err(LocalError::NotMedia { path: path.into(), reason });
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(LocalError::Missing { path: path.into() }),
        Err(e) => return Err(unreadable(path.into(), &e)),
        Ok(_) => {}
    }
    let mut head = Vec::with_capacity(SNIFF_LEN);
    let read = std::fs::File::open(path).and_then(|f| f.take(SNIFF_LEN as u64).read_to_end(&mut head));
    if let Err(e) = read {
        return Err(match e.kind() {
            std::io::ErrorKind::NotFound => LocalError::Missing { path: path.into() },
            _ => unreadable(path.into(), &e),
        });
    }
    let ext = extension(path).unwrap_or_default().to_string();
    let not_media = |reason: String| LocalError::NotMedia { path: path.into(), reason };
    let stem = || path.file_stem().map(|s| sanitize(&s.to_string_lossy())).unwrap_or_default();
    let by_extension =
        |asset_type, format| Ok(LocalMedia { path: path.into(), asset_type, format, stem: stem(), ext: ext.clone() });
    if let Some((asset_type, format)) = convertible(&ext).filter(|_| !head.is_empty()) {
        if !convert {
            return Err(LocalError::Convertible { path: path.into(), ext, asset_type, format });
        }
        return by_extension(asset_type, format);
    }
    if convert
        && !head.is_empty()
        && let Some(t) = AssetType::from_extension(&ext).filter(|_| sniff(&head).is_none())
    {
        return by_extension(t, "unrecognised");
    }
    let Some(expected) = AssetType::from_extension(&ext) else {
        return Err(not_media(if ext.is_empty() {
            "it has no extension (jpeg, png, webp, bmp, tiff, gif, heic, mp4, mov, mp3 or wav)".into()
        } else {
            format!("`.{}` is not an accepted format", sanitize(&ext))
        }));
    };
    if head.is_empty() {
        return Err(not_media("it is empty".into()));
    }
    let Some((found, format)) = sniff(&head) else {
        return Err(not_media(format!(
            "its content is not an image, video or audio format the library accepts (named `.{}`)",
            sanitize(&ext)
        )));
    };
    if found != expected {
        return Err(LocalError::Mismatch { path: path.into(), ext, expected, found, format });
    }
    Ok(LocalMedia { path: path.into(), asset_type: found, format, stem: stem(), ext })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_or_url() {
        assert!(is_local("/tmp/a.png"));
        assert!(is_local("./shots/*.jpg"));
        assert!(is_local("file:///tmp/a.png"));
        assert!(!is_local("https://e.com/a.png"));
        assert!(!is_local("  "));
        assert_eq!(resolve("file:///tmp/a%20b.png"), PathBuf::from("/tmp/a b.png"));
    }
}
