//! The stored list of watched folders (`DATA_DIR/watch-folders.json`): what
//! `watch add` and the dashboard's watch view keep, so a restart watches the
//! same folders into the same groups. Written whole, atomically, on every
//! change; a list that cannot be read is an error naming the file, never an
//! empty list (that would silently stop watching).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{Rules, WatchError, Watched};

/// The list's file name in the data dir.
pub const FILE: &str = "watch-folders.json";

/// A folder as typed: `~/x` is the home folder's `x`, and quotes around
/// the whole path (as a terminal pastes a dropped folder) are not part of it.
pub fn typed_folder(typed: &str) -> PathBuf {
    let typed = typed.trim();
    let typed =
        ['\'', '"'].iter().find_map(|q| typed.strip_prefix(*q).and_then(|t| t.strip_suffix(*q))).unwrap_or(typed);
    let home = || directories::BaseDirs::new().map(|b| b.home_dir().to_path_buf());
    match (typed.strip_prefix("~/"), typed == "~") {
        (Some(rest), _) => home().map_or_else(|| typed.into(), |h| h.join(rest)),
        (None, true) => home().unwrap_or_else(|| typed.into()),
        _ => PathBuf::from(typed),
    }
}

/// One watched folder: where, into which group of which profile, and which files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Folder {
    /// The folder (absolute).
    pub dir: PathBuf,
    /// The asset group its files go into.
    pub group: String,
    /// The profile (account) whose group it is.
    pub profile: String,
    /// Subfolders too.
    #[serde(default)]
    pub recursive: bool,
    /// Only files matching one of these globs (relative to the folder).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub include: Vec<String>,
    /// Never files matching one of these globs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude: Vec<String>,
}

impl Folder {
    /// A folder to watch: `dir` must exist and be a folder (made absolute);
    /// the globs are checked.
    pub fn new(
        dir: &Path,
        group: &str,
        profile: &str,
        recursive: bool,
        include: &[String],
        exclude: &[String],
    ) -> Result<Folder, WatchError> {
        Rules::new(recursive, include, exclude)?;
        let dir = super::folder(dir)?;
        Ok(Folder {
            dir,
            group: group.to_string(),
            profile: profile.to_string(),
            recursive,
            include: include.to_vec(),
            exclude: exclude.to_vec(),
        })
    }

    /// What the watcher looks at for it.
    pub fn watched(&self) -> Result<Watched, WatchError> {
        Ok(Watched { dir: self.dir.clone(), rules: Rules::new(self.recursive, &self.include, &self.exclude)? })
    }

    fn same_place(&self, other: &Folder) -> bool {
        self.dir == other.dir && self.group == other.group && self.profile == other.profile
    }
}

/// The rules of a folder as one short text (`include *.png, exclude raw/**`;
/// empty: every media file), sanitized for a terminal.
pub fn rules_text(f: &Folder) -> String {
    let mut parts: Vec<String> = f.include.iter().map(|g| format!("include {g}")).collect();
    parts.extend(f.exclude.iter().map(|g| format!("exclude {g}")));
    crate::text::sanitize(&parts.join(", "))
}

/// What [`FolderList::add`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Added {
    /// The folder is stored now.
    New,
    /// It was stored already, with the same rules: nothing changed.
    Same,
    /// It was stored with other rules (these), now replaced.
    Replaced(Folder),
}

/// The stored list, as read from its file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderList {
    path: PathBuf,
    folders: Vec<Folder>,
}

impl FolderList {
    /// Reads the list at `path` (none yet: an empty list).
    pub fn load(path: &Path) -> Result<FolderList, WatchError> {
        let bad = |why: String| WatchError::List { path: path.to_path_buf(), why };
        let folders = match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| bad(e.to_string()))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(bad(e.to_string())),
        };
        Ok(FolderList { path: path.to_path_buf(), folders })
    }

    /// Every stored folder.
    pub fn folders(&self) -> &[Folder] {
        &self.folders
    }

    /// The folders of `profile`.
    pub fn of_profile<'a>(&'a self, profile: &'a str) -> impl Iterator<Item = &'a Folder> + 'a {
        self.folders.iter().filter(move |f| f.profile == profile)
    }

    /// Adds `folder` and saves (nothing saved when that folder is already
    /// watched into that group with those rules). The same folder into the
    /// same group with other rules replaces the stored one, which is returned.
    pub fn add(&mut self, folder: Folder) -> Result<Added, WatchError> {
        let mut next = self.folders.clone();
        let added = match next.iter_mut().find(|f| f.same_place(&folder)) {
            Some(f) if *f == folder => return Ok(Added::Same),
            Some(f) => Added::Replaced(std::mem::replace(f, folder)),
            None => {
                next.push(folder);
                Added::New
            }
        };
        self.save(next)?;
        Ok(added)
    }

    /// True when `dir` is stored for `profile` (into any group).
    pub fn holds(&self, dir: &Path, profile: &str) -> bool {
        self.folders.iter().any(|f| f.dir == dir && f.profile == profile)
    }

    /// Removes the folders of `profile` at `dir` (every group) and saves;
    /// returns those removed.
    pub fn remove(&mut self, dir: &Path, profile: &str) -> Result<Vec<Folder>, WatchError> {
        let (gone, kept): (Vec<Folder>, Vec<Folder>) =
            self.folders.iter().cloned().partition(|f| f.dir == dir && f.profile == profile);
        if !gone.is_empty() {
            self.save(kept)?;
        }
        Ok(gone)
    }

    fn save(&mut self, folders: Vec<Folder>) -> Result<(), WatchError> {
        let bad = |why: String| WatchError::List { path: self.path.clone(), why };
        let mut text = serde_json::to_vec_pretty(&folders).map_err(|e| bad(e.to_string()))?;
        text.push(b'\n');
        if let Some(parent) = self.path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| bad(e.to_string()))?;
        }
        crate::config::atomic_write(&self.path, &text).map_err(|e| bad(e.to_string()))?;
        self.folders = folders;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_across_loads_added_once_and_removed_by_folder() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        std::fs::create_dir_all(&a).unwrap();
        std::fs::create_dir_all(&b).unwrap();
        let path = dir.path().join("data").join(FILE);
        let mut list = FolderList::load(&path).unwrap();
        assert!(list.folders().is_empty(), "no file yet: no folders");
        let fa = Folder::new(&a, "g1", "default", true, &["*.png".into()], &[]).unwrap();
        assert_eq!(list.add(fa.clone()).unwrap(), Added::New);
        assert_eq!(list.add(fa.clone()).unwrap(), Added::Same, "the same folder into the same group once");
        let into_g2 = Folder { group: "g2".into(), ..fa.clone() };
        assert_eq!(list.add(into_g2).unwrap(), Added::New, "another group is another watch");
        assert_eq!(list.add(Folder::new(&b, "g1", "work", false, &[], &[]).unwrap()).unwrap(), Added::New);
        let flat = Folder { recursive: false, ..fa.clone() };
        assert_eq!(list.add(flat.clone()).unwrap(), Added::Replaced(fa.clone()), "new rules replace the stored ones");
        assert!(list.holds(&fa.dir, "default") && !list.holds(&fa.dir, "work"));
        let back = FolderList::load(&path).unwrap();
        assert_eq!(back.folders().len(), 3);
        assert_eq!(back.folders()[0], flat);
        assert_eq!(back.of_profile("work").count(), 1);
        let mut back = back;
        let gone = back.remove(&std::fs::canonicalize(&a).unwrap(), "default").unwrap();
        assert_eq!(gone.len(), 2, "both groups of that folder");
        assert_eq!(FolderList::load(&path).unwrap().folders().len(), 1);
    }

    #[test]
    fn a_tilde_is_the_home_folder_and_quotes_are_not_part_of_it() {
        let home = directories::BaseDirs::new().unwrap().home_dir().to_path_buf();
        assert_eq!(typed_folder("~/renders"), home.join("renders"));
        assert_eq!(typed_folder("~"), home);
        assert_eq!(typed_folder("/srv/x"), PathBuf::from("/srv/x"));
        assert_eq!(typed_folder("~user/x"), PathBuf::from("~user/x"));
        assert_eq!(typed_folder("'/srv/my renders'"), PathBuf::from("/srv/my renders"));
        assert_eq!(typed_folder(" \"~/x\" "), home.join("x"));
    }

    #[test]
    fn a_damaged_list_or_a_missing_folder_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE);
        std::fs::write(&path, b"[{\"dir\": 3").unwrap();
        let e = FolderList::load(&path).unwrap_err().to_string();
        assert!(e.contains(FILE), "{e}");
        let e = Folder::new(&dir.path().join("nope"), "g", "p", false, &[], &[]).unwrap_err().to_string();
        assert!(e.contains("nope"), "{e}");
        let e = Folder::new(dir.path(), "g", "p", false, &["{a,b}".into()], &[]).unwrap_err().to_string();
        assert!(e.contains("braces"), "{e}");
    }
}
