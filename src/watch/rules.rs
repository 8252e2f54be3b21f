//! Which files under a watched folder are imported: media (or what conform
//! converts), not hidden, not a temporary name, within the depth asked for,
//! and passing the include and exclude globs (matched against the path
//! relative to the folder).

use std::path::Path;

use super::WatchError;
use crate::api::AssetType;

/// Names that mark a file still being written or not meant to be kept.
const TEMPORARY_SUFFIXES: [&str; 8] = [".part", ".tmp", ".temp", ".crdownload", ".download", ".partial", ".swp", "~"];

/// The rules of one watch.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    /// Look in subfolders too.
    pub recursive: bool,
    include: Vec<glob::Pattern>,
    exclude: Vec<glob::Pattern>,
}

impl Rules {
    /// Rules with these globs (`*.png`, `plates/**`), each checked here.
    pub fn new(recursive: bool, include: &[String], exclude: &[String]) -> Result<Rules, WatchError> {
        let parse = |g: &String| {
            if g.trim().is_empty() {
                return Err(WatchError::Glob { glob: g.clone(), why: "an empty glob matches nothing".into() });
            }
            if g.starts_with('/') {
                let why = "globs match the path under the folder (`*.png`, `plates/**`), not from the root";
                return Err(WatchError::Glob { glob: g.clone(), why: why.into() });
            }
            if g.contains(['{', '}']) {
                let why = "braces are not globs here: give the option once per pattern (`--include '*.png' --include '*.jpg'`)";
                return Err(WatchError::Glob { glob: g.clone(), why: why.into() });
            }
            glob::Pattern::new(g).map_err(|e| WatchError::Glob { glob: g.clone(), why: e.msg.to_string() })
        };
        Ok(Rules {
            recursive,
            include: include.iter().map(parse).collect::<Result<_, _>>()?,
            exclude: exclude.iter().map(parse).collect::<Result<_, _>>()?,
        })
    }

    /// Whether the file `path` under the folder `root` is one to import.
    pub fn wants(&self, root: &Path, path: &Path) -> bool {
        let Ok(rel) = path.strip_prefix(root) else { return false };
        let parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
        let Some(name) = parts.last() else { return false };
        if (!self.recursive && parts.len() > 1) || parts.iter().any(|p| p.starts_with('.')) {
            return false;
        }
        let lower = name.to_ascii_lowercase();
        if TEMPORARY_SUFFIXES.iter().any(|s| lower.ends_with(s)) || lower.starts_with("~$") {
            return false;
        }
        let ext = lower.rsplit_once('.').map(|(_, e)| e).unwrap_or_default();
        if AssetType::from_extension(ext).is_none() && crate::local::convertible(ext).is_none() {
            return false;
        }
        // `*.png` takes `SHOT.PNG` too, as the extension rules do.
        let options = glob::MatchOptions {
            case_sensitive: false,
            require_literal_separator: false,
            require_literal_leading_dot: false,
        };
        (self.include.is_empty() || self.include.iter().any(|g| g.matches_path_with(rel, options)))
            && !self.exclude.iter().any(|g| g.matches_path_with(rel, options))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_not_hidden_not_temporary_and_within_the_globs() {
        let root = Path::new("/w");
        let flat = Rules::new(false, &[], &[]).unwrap();
        assert!(flat.wants(root, Path::new("/w/shot.PNG")));
        assert!(flat.wants(root, Path::new("/w/take.webm")), "conform converts it");
        for no in [
            "/w/notes.txt",
            "/w/.shot.png",
            "/w/shot.png.part",
            "/w/shot.png~",
            "/w/x.tmp",
            "/w/sub/a.png",
            "/w/~$a.png",
            "/elsewhere/a.png",
        ] {
            assert!(!flat.wants(root, Path::new(no)), "{no}");
        }
        let deep = Rules::new(true, &["plates/**".into(), "*.mp4".into()], &["**/rejects/**".into()]).unwrap();
        assert!(deep.wants(root, Path::new("/w/plates/a/b.png")));
        assert!(deep.wants(root, Path::new("/w/clip.mp4")));
        assert!(!deep.wants(root, Path::new("/w/other/b.png")), "not included");
        assert!(!deep.wants(root, Path::new("/w/plates/rejects/b.png")), "excluded");
        assert!(!deep.wants(root, Path::new("/w/.sync/plates/b.png")), "a hidden folder");
        assert!(matches!(Rules::new(true, &["[".into()], &[]), Err(WatchError::Glob { .. })));
        for never in ["", " ", "/abs/*.png"] {
            let e = Rules::new(true, &[never.into()], &[]).unwrap_err().to_string();
            assert!(e.contains("empty") || e.contains("under the folder"), "{never:?}: {e}");
        }
        assert!(matches!(Rules::new(true, &[], &["*.{png,jpg}".into()]), Err(WatchError::Glob { .. })));
        let png = Rules::new(false, &["*.png".into()], &[]).unwrap();
        assert!(png.wants(root, Path::new("/w/SHOT.PNG")));
    }
}
