//! Saving preset changes: edits go through `toml_edit` so comments, order
//! and unknown keys survive, and the write is atomic and durable.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use toml_edit::{ArrayOfTables, DocumentMut, Item, Table, value};

use super::error::{ConfigError, PresetsError};
use super::file::{Config, LoadedConfig};
use super::preset::{Preset, validate_all};

/// One change to the list of presets.
#[derive(Debug, Clone, PartialEq)]
pub enum PresetChange {
    /// Adds a preset, or replaces the one named `original` (a rename when
    /// the names differ).
    Upsert {
        /// The name of the preset being edited; `None` to add.
        original: Option<String>,
        /// The new content.
        preset: Preset,
    },
    /// Removes the preset of this name.
    Delete(String),
    /// Marks this preset as the default (and no other).
    SetDefault(String),
}

/// Why a save did not happen. In every case the file is as it was.
#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    /// The result would not be a valid list of presets.
    #[error("not saved: {0}")]
    Invalid(#[from] InvalidChange),
    /// Someone else changed the file since it was loaded.
    #[error(
        "not saved: {0} changed on disk since it was loaded; press L in the preset editor to reload it, then edit again"
    )]
    ChangedOnDisk(PathBuf),
    /// The existing file is not valid TOML any more.
    #[error("not saved: {0}")]
    Parse(#[source] toml_edit::TomlError),
    /// `presets` is not written as `[[presets]]` tables.
    #[error("not saved: `presets` is not written as [[presets]] tables; cannot edit it safely")]
    NotTables,
    /// The file has no table for a preset the loaded config has.
    #[error("not saved: no [[presets]] table with name = \"{name}\"")]
    NoTable {
        /// The preset's name.
        name: String,
    },
    /// Reading or writing failed.
    #[error("not saved: {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
}

/// Why a change would leave the presets (or the file) invalid.
#[derive(Debug, thiserror::Error)]
pub enum InvalidChange {
    /// The new list of presets is invalid.
    #[error(transparent)]
    Presets(#[from] PresetsError),
    /// The change names a preset that does not exist.
    #[error("there is no preset named `{name}`")]
    NoSuchPreset {
        /// The name given.
        name: String,
    },
    /// The edited file would not load.
    #[error(transparent)]
    Config(#[from] ConfigError),
}

/// Applies `change` to the presets in `loaded` and writes the file, touching
/// only the affected `[[presets]]` tables. Returns the config as now saved.
pub fn save_presets(loaded: &LoadedConfig, change: &PresetChange) -> Result<LoadedConfig, SaveError> {
    save_presets_with(loaded, change, || Ok(()))
}

/// [`save_presets`] with a hook run between writing the temporary file and
/// renaming it over the config (tests inject a crash there).
pub fn save_presets_with(
    loaded: &LoadedConfig,
    change: &PresetChange,
    before_rename: impl FnOnce() -> io::Result<()>,
) -> Result<LoadedConfig, SaveError> {
    let path = &loaded.path;
    let io_err = |source| SaveError::Io { path: path.clone(), source };
    let mut presets = loaded.config.presets.clone();
    apply(&mut presets, change)?;
    validate_all(&presets).map_err(InvalidChange::from)?;
    let on_disk = match fs::read_to_string(path) {
        Ok(t) => Some(t),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(io_err(e)),
    };
    if on_disk != loaded.text {
        return Err(SaveError::ChangedOnDisk(path.clone()));
    }
    let mut doc: DocumentMut = on_disk.as_deref().unwrap_or("").parse().map_err(SaveError::Parse)?;
    edit_doc(&mut doc, change, &presets)?;
    let text = doc.to_string();
    let (config, warnings) = Config::parse(&text, path).map_err(InvalidChange::from)?;
    atomic_write_with(path, |f| f.write_all(text.as_bytes()), before_rename).map_err(io_err)?;
    Ok(LoadedConfig { config, path: path.clone(), text: Some(text), warnings })
}

fn find(presets: &[Preset], name: &str) -> Result<usize, SaveError> {
    presets
        .iter()
        .position(|p| p.name == name)
        .ok_or_else(|| InvalidChange::NoSuchPreset { name: name.to_string() }.into())
}

fn apply(presets: &mut Vec<Preset>, change: &PresetChange) -> Result<(), SaveError> {
    match change {
        PresetChange::Upsert { original: None, preset } => presets.push(preset.clone()),
        PresetChange::Upsert { original: Some(name), preset } => {
            let i = find(presets, name)?;
            presets[i] = preset.clone();
        }
        PresetChange::Delete(name) => {
            let i = find(presets, name)?;
            presets.remove(i);
        }
        PresetChange::SetDefault(name) => {
            let i = find(presets, name)?;
            for (j, p) in presets.iter_mut().enumerate() {
                p.default = i == j;
            }
        }
    }
    Ok(())
}

fn tables(doc: &mut DocumentMut) -> Result<&mut ArrayOfTables, SaveError> {
    let item = doc.entry("presets").or_insert(Item::ArrayOfTables(ArrayOfTables::new()));
    item.as_array_of_tables_mut().ok_or(SaveError::NotTables)
}

fn table_index(aot: &ArrayOfTables, name: &str) -> Result<usize, SaveError> {
    aot.iter()
        .position(|t| t.get("name").and_then(Item::as_str) == Some(name))
        .ok_or_else(|| SaveError::NoTable { name: name.to_string() })
}

fn edit_doc(doc: &mut DocumentMut, change: &PresetChange, presets: &[Preset]) -> Result<(), SaveError> {
    // Comments after the last table (the example config's `# Presets:`
    // block, once its presets are gone) belong above the first preset made.
    let first = tables(doc)?.is_empty();
    let trailing = if first { doc.trailing().as_str().unwrap_or("").to_string() } else { String::new() };
    let aot = tables(doc)?;
    match change {
        PresetChange::Upsert { original: None, preset } => {
            let mut t = Table::new();
            write_fields(&mut t, preset);
            if trailing.trim_start().starts_with('#') {
                t.decor_mut().set_prefix(format!("\n{}", trailing.trim_start_matches('\n')));
            }
            aot.push(t);
            if trailing.trim_start().starts_with('#') {
                doc.set_trailing("");
            }
        }
        PresetChange::Upsert { original: Some(name), preset } => {
            let i = table_index(aot, name)?;
            write_fields(aot.get_mut(i).expect("index from position"), preset);
        }
        PresetChange::Delete(name) => {
            let i = table_index(aot, name)?;
            aot.remove(i);
        }
        PresetChange::SetDefault(_) => {
            for p in presets {
                let i = table_index(aot, &p.name)?;
                set_flag(aot.get_mut(i).expect("index from position"), "default", p.default);
            }
        }
    }
    Ok(())
}

/// Sets a key only when its value differs, keeping the old value's
/// comments and spacing, so untouched keys keep their bytes. A key that is
/// absent stays absent when the new value is the default (`default`).
fn set_str(t: &mut Table, key: &str, v: &str, default: Option<&str>) {
    match t.get_mut(key).and_then(Item::as_value_mut) {
        Some(old) if old.as_str() == Some(v) => {}
        Some(old) => {
            let decor = old.decor().clone();
            *old = toml_edit::Value::from(v);
            *old.decor_mut() = decor;
        }
        None if default == Some(v) => {}
        None => t[key] = value(v),
    }
}

fn set_flag(t: &mut Table, key: &str, on: bool) {
    let now = t.get(key).and_then(Item::as_bool).unwrap_or(false);
    if now != on {
        if on {
            t[key] = value(true);
        } else {
            t.remove(key);
        }
    }
}

fn write_fields(t: &mut Table, p: &Preset) {
    set_str(t, "name", &p.name, None);
    set_str(t, "group_id", &p.group_id, None);
    set_str(t, "asset_type", &p.asset_type.to_string(), Some("infer"));
    set_str(t, "name_template", &p.name_template, Some("{stem}"));
    match &p.description {
        Some(d) => set_str(t, "description", d, None),
        None => {
            t.remove("description");
        }
    }
    set_flag(t, "default", p.default);
    set_flag(t, "conform", p.conform);
}

/// Writes `data` to `path` atomically and durably: a temporary file in the
/// same directory, fsync, rename over `path`, fsync of the directory. The
/// file keeps its permission bits (0600 for a new file).
pub fn atomic_write(path: &Path, data: &[u8]) -> io::Result<()> {
    atomic_write_with(path, |f| f.write_all(data), || Ok(()))
}

/// [`atomic_write`] of what `fill` writes (streamed to the temporary file,
/// never held whole in memory).
pub fn atomic_write_stream<E: From<io::Error>>(
    path: &Path,
    fill: impl FnOnce(&mut io::BufWriter<&mut File>) -> Result<(), E>,
) -> Result<(), E> {
    let mut inner = None;
    let result = atomic_write_with(
        path,
        |f| {
            let mut w = io::BufWriter::new(f);
            match fill(&mut w) {
                Ok(()) => w.flush(),
                Err(e) => {
                    inner = Some(e);
                    Err(io::Error::other("the export failed"))
                }
            }
        },
        || Ok(()),
    );
    match (inner, result) {
        (Some(e), _) => Err(e),
        (None, r) => r.map_err(E::from),
    }
}

fn atomic_write_with(
    path: &Path,
    fill: impl FnOnce(&mut File) -> io::Result<()>,
    before_rename: impl FnOnce() -> io::Result<()>,
) -> io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&dir)?;
    let file_name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{file_name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut opts = OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
            let mode = fs::metadata(path).map(|m| m.permissions().mode() & 0o7777).unwrap_or(0o600);
            opts.mode(mode);
            let mut f = opts.open(&tmp)?;
            f.set_permissions(fs::Permissions::from_mode(mode))?;
            fill(&mut f)?;
            f.sync_all()?;
        }
        #[cfg(not(unix))]
        {
            let mut f = opts.open(&tmp)?;
            fill(&mut f)?;
            f.sync_all()?;
        }
        before_rename()?;
        fs::rename(&tmp, path)?;
        File::open(&dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}
