//! The groups created from this program, remembered in the data dir so the
//! group field can offer them by name.

use std::io;
use std::path::{Path, PathBuf};

use super::error::{GroupError, GroupStoreError};
use super::message::Group;

/// Checks a group's name and description as the API limits them (name 1–64
/// characters, description at most 300), naming the field at fault.
pub fn validate_group(name: &str, description: Option<&str>) -> Result<(), GroupError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(GroupError::NoName);
    }
    let chars = name.chars().count();
    if chars > 64 {
        return Err(GroupError::NameTooLong(chars));
    }
    if description.is_some_and(|d| d.trim().chars().count() > 300) {
        return Err(GroupError::DescriptionTooLong);
    }
    Ok(())
}

/// The remembered groups, newest last.
#[derive(Debug, Clone)]
pub struct GroupStore {
    path: PathBuf,
    groups: Vec<Group>,
}

impl GroupStore {
    /// Opens the store; a missing file is empty, a corrupt one is reported.
    pub fn open(path: &Path) -> Result<GroupStore, GroupStoreError> {
        let groups = match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|source| GroupStoreError::Corrupt { path: path.to_path_buf(), source })?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
            Err(source) => return Err(GroupStoreError::Read { path: path.to_path_buf(), source }),
        };
        let groups = groups.into_iter().map(sanitized).collect();
        Ok(GroupStore { path: path.to_path_buf(), groups })
    }

    /// All remembered groups.
    pub fn groups(&self) -> &[Group] {
        &self.groups
    }

    /// Remembers a group (replacing one with the same id) and saves
    /// atomically. Id and name come from the server: they are stored sanitized.
    pub fn add(&mut self, group: Group) -> io::Result<()> {
        let group = sanitized(group);
        self.groups.retain(|g| g.id != group.id);
        self.groups.push(group);
        let bytes = serde_json::to_vec_pretty(&self.groups).expect("groups serialize");
        crate::config::atomic_write(&self.path, &bytes)
    }
}

/// The group with its id and name made safe to show ([`crate::text::sanitize`]).
fn sanitized(g: Group) -> Group {
    Group { id: crate::text::sanitize(&g.id), name: crate::text::sanitize(&g.name) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_across_loads_and_reports_corruption() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("groups.json");
        let mut s = GroupStore::open(&path).unwrap();
        s.add(Group { id: "g1".into(), name: "one".into() }).unwrap();
        s.add(Group { id: "g2".into(), name: "two".into() }).unwrap();
        let s = GroupStore::open(&path).unwrap();
        assert_eq!(s.groups().iter().map(|g| g.name.as_str()).collect::<Vec<_>>(), ["one", "two"]);
        std::fs::write(&path, "{oops").unwrap();
        let e = GroupStore::open(&path).unwrap_err().to_string();
        assert!(e.starts_with(&format!("{}: not a list of groups (", path.display())), "{e}");
        assert!(e.ends_with("); move it away to start afresh"), "{e}");
        assert_eq!(GroupStore::open(&path).unwrap_err().to_string(), e);
        std::fs::create_dir_all(dir.path().join("dir.json")).unwrap();
        let e = GroupStore::open(&dir.path().join("dir.json")).unwrap_err().to_string();
        assert!(e.starts_with("cannot read "), "{e}");
    }

    #[test]
    fn server_sent_escapes_are_stored_and_loaded_sanitized() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("groups.json");
        let mut s = GroupStore::open(&path).unwrap();
        s.add(Group { id: "g\x1b]0;title\x07".into(), name: "n\u{202E}\u{200B}\u{9b}x".into() }).unwrap();
        assert_eq!(s.groups()[0].name, "n\u{FFFD}\u{FFFD}x");
        let raw = std::fs::read_to_string(&path).unwrap();
        assert!(!raw.contains("\\u001b") && !raw.contains('\u{200B}'), "{raw}");
        std::fs::write(&path, r#"[{"id":"g\u001b[2J","name":"\ufeffname"}]"#).unwrap();
        let s = GroupStore::open(&path).unwrap();
        assert_eq!((s.groups()[0].id.as_str(), s.groups()[0].name.as_str()), ("g\u{FFFD}[2J", "name"));
    }
}
