//! Saving presets: comments, order and unknown keys survive; only the
//! touched table changes; the write is atomic, keeps mode 0600, refuses to
//! overwrite a file changed on disk, and never writes an invalid preset.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use seedance_assets::api::AssetType;
use seedance_assets::config::{Config, Preset, PresetChange, SaveError, TypeChoice, save_presets, save_presets_with};

const ORIGINAL: &str = r#"# My seedance config — hand written.
[[presets]]   # the first one
name = "alpha"
group_id = "group-a"   # keep this comment
asset_type = "Image"
colour = "teal"        # a key this program does not know

[api]
base_url = "https://octopusx.ai"
api_key_env = "OCTO_KEY"

# Beta is for clips.
[[presets]]
name_template = "{date}-{stem}"
name = "beta"
group_id = "group-b"
asset_type = "infer"
default = true

[future_section]
whatever = [1, 2, 3]
"#;

fn setup(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.toml");
    std::fs::write(&path, text).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    (dir, path)
}

/// The parts of `old` and `new` that differ, after their common prefix and suffix.
fn changed<'a>(old: &'a str, new: &'a str) -> (&'a str, &'a str) {
    let prefix = old.bytes().zip(new.bytes()).take_while(|(a, b)| a == b).count();
    let max_suffix = old.len().min(new.len()) - prefix;
    let suffix = old.bytes().rev().zip(new.bytes().rev()).take(max_suffix).take_while(|(a, b)| a == b).count();
    (&old[prefix..old.len() - suffix], &new[prefix..new.len() - suffix])
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn adding_appends_one_table_and_touches_nothing_else() {
    let (_dir, path) = setup(ORIGINAL);
    let loaded = Config::load(&path).unwrap();
    assert_eq!(loaded.warnings.len(), 2, "{:?}", loaded.warnings);
    let mut p = Preset::new("gamma", "group-c");
    p.asset_type = TypeChoice::Fixed(AssetType::Audio);
    let saved = save_presets(&loaded, &PresetChange::Upsert { original: None, preset: p.clone() }).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let (gone, added) = changed(ORIGINAL, &text);
    assert_eq!(gone, "", "nothing of the original was changed");
    assert!(added.contains("presets]]\nname = \"gamma\""), "{added}");
    assert!(!added.contains("alpha") && !added.contains("future_section"));
    assert_eq!(saved.config.presets.len(), 3);
    assert_eq!(saved.config.preset("gamma").unwrap(), &p);
    assert_eq!(saved.text.as_deref(), Some(text.as_str()));
    assert_eq!(mode(&path), 0o600);
}

#[test]
fn editing_changes_only_the_edited_value() {
    let (_dir, path) = setup(ORIGINAL);
    let loaded = Config::load(&path).unwrap();
    let mut alpha = loaded.config.preset("alpha").unwrap().clone();
    alpha.group_id = "group-z".into();
    save_presets(&loaded, &PresetChange::Upsert { original: Some("alpha".into()), preset: alpha }).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let (gone, added) = changed(ORIGINAL, &text);
    assert_eq!((gone, added), ("a", "z"), "only the group id changed");
    assert!(text.contains("# keep this comment") && text.contains("colour = \"teal\""));
    assert_eq!(mode(&path), 0o600);
}

#[test]
fn the_conform_flag_is_saved_and_cleared() {
    let (_dir, path) = setup(ORIGINAL);
    let loaded = Config::load(&path).unwrap();
    let mut alpha = loaded.config.preset("alpha").unwrap().clone();
    alpha.conform = true;
    let upsert = |p: &seedance_assets::config::Preset| PresetChange::Upsert {
        original: Some("alpha".into()),
        preset: p.clone(),
    };
    let loaded = save_presets(&loaded, &upsert(&alpha)).unwrap();
    assert!(loaded.config.preset("alpha").unwrap().conform);
    assert!(std::fs::read_to_string(&path).unwrap().contains("conform = true"));
    alpha.conform = false;
    let loaded = save_presets(&loaded, &upsert(&alpha)).unwrap();
    assert!(!loaded.config.preset("alpha").unwrap().conform);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), ORIGINAL, "off again: the file is as it was");
}

#[test]
fn renaming_and_default_and_deleting() {
    let (_dir, path) = setup(ORIGINAL);
    let loaded = Config::load(&path).unwrap();
    let mut beta = loaded.config.preset("beta").unwrap().clone();
    beta.name = "clips".into();
    let loaded = save_presets(&loaded, &PresetChange::Upsert { original: Some("beta".into()), preset: beta }).unwrap();
    let after_rename = std::fs::read_to_string(&path).unwrap();
    assert_eq!(changed(ORIGINAL, &after_rename), ("beta", "clips"));

    let loaded = save_presets(&loaded, &PresetChange::SetDefault("alpha".into())).unwrap();
    assert_eq!(loaded.config.default_preset().unwrap().name, "alpha");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("colour = \"teal\""));
    assert_eq!(text.matches("default = true").count(), 1);

    let loaded = save_presets(&loaded, &PresetChange::Delete("clips".into())).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(!text.contains("clips") && !text.contains("{date}-{stem}"));
    assert!(text.starts_with("# My seedance config — hand written.\n[[presets]]   # the first one\n"));
    assert!(text.contains("[api]\nbase_url = \"https://octopusx.ai\"\napi_key_env = \"OCTO_KEY\"\n"));
    assert!(text.ends_with("[future_section]\nwhatever = [1, 2, 3]\n"));
    assert_eq!(loaded.config.presets.len(), 1);
    assert_eq!(mode(&path), 0o600);
}

#[test]
fn a_file_changed_on_disk_is_not_overwritten() {
    let (_dir, path) = setup(ORIGINAL);
    let loaded = Config::load(&path).unwrap();
    let edited_elsewhere = format!("{ORIGINAL}\n# edited in vim meanwhile\n");
    std::fs::write(&path, &edited_elsewhere).unwrap();
    let e = save_presets(&loaded, &PresetChange::Delete("alpha".into())).unwrap_err();
    assert!(matches!(e, SaveError::ChangedOnDisk(_)), "{e:?}");
    assert!(e.to_string().contains("changed on disk"));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), edited_elsewhere);
}

#[test]
fn an_invalid_preset_is_never_written() {
    let (_dir, path) = setup(ORIGINAL);
    let loaded = Config::load(&path).unwrap();
    for bad in [
        Preset::new("", "group-x"),
        Preset::new("delta", ""),
        Preset { name_template: "{stem}-{nope}".into(), ..Preset::new("delta", "g") },
        Preset::new("ALPHA", "g"),
    ] {
        let e = save_presets(&loaded, &PresetChange::Upsert { original: None, preset: bad.clone() }).unwrap_err();
        assert!(matches!(e, SaveError::Invalid(_)), "{bad:?}: {e:?}");
    }
    assert!(matches!(save_presets(&loaded, &PresetChange::Delete("nobody".into())), Err(SaveError::Invalid(_))));
    let e = save_presets(&loaded, &PresetChange::Delete("nobody".into())).unwrap_err();
    assert_eq!(e.to_string(), "not saved: there is no preset named `nobody`");
    let dup = PresetChange::Upsert { original: None, preset: Preset::new("ALPHA", "g") };
    let e = save_presets(&loaded, &dup).unwrap_err().to_string();
    assert!(e.starts_with("not saved: preset name `ALPHA` is used twice"), "{e}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), ORIGINAL);
}

#[test]
fn a_crash_between_write_and_rename_leaves_the_old_file_intact() {
    let (dir, path) = setup(ORIGINAL);
    let loaded = Config::load(&path).unwrap();
    let change = PresetChange::Upsert { original: None, preset: Preset::new("gamma", "g") };
    let e = save_presets_with(&loaded, &change, || Err(std::io::Error::other("simulated crash"))).unwrap_err();
    assert!(e.to_string().contains("simulated crash"));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), ORIGINAL);
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(leftovers, ["config.toml"], "no temporary file is left behind");

    // A panic at that point (the process dying) also leaves the old file.
    let result = std::panic::catch_unwind(|| save_presets_with(&loaded, &change, || panic!("killed")));
    assert!(result.is_err());
    assert_eq!(std::fs::read_to_string(&path).unwrap(), ORIGINAL);
    // And the next save still works.
    save_presets(&loaded, &change).unwrap();
    assert!(std::fs::read_to_string(&path).unwrap().contains("gamma"));
}

#[test]
fn saving_into_a_missing_file_creates_it_private() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub").join("config.toml");
    let loaded = Config::load(&path).unwrap();
    let mut p = Preset::new("first", "group-1");
    p.default = true;
    save_presets(&loaded, &PresetChange::Upsert { original: None, preset: p }).unwrap();
    assert_eq!(mode(&path), 0o600);
    let again = Config::load(&path).unwrap();
    assert_eq!(again.config.default_preset().unwrap().name, "first");
}

#[test]
fn presets_cli_lists_and_shows() {
    let (_dir, path) = setup(ORIGINAL);
    let bin = env!("CARGO_BIN_EXE_seedance-assets");
    let out =
        std::process::Command::new(bin).args(["--config", path.to_str().unwrap(), "presets", "list"]).output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success());
    assert_eq!(stdout, "  alpha\tgroup-a\tImage\t{stem}\n* beta\tgroup-b\tinfer\t{date}-{stem}\n");
    let out = std::process::Command::new(bin)
        .args(["--config", path.to_str().unwrap(), "presets", "show", "BETA"])
        .output()
        .unwrap();
    assert!(String::from_utf8(out.stdout).unwrap().contains("name_template = {date}-{stem}"));
    let out = std::process::Command::new(bin)
        .args(["--config", path.to_str().unwrap(), "presets", "show", "zeta"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8(out.stderr).unwrap().contains("no preset named `zeta`"));
}

/// The example config ends with a `# Presets:` comment block; with its
/// presets deleted, the first preset made lands below that block, not
/// above it.
#[test]
fn the_first_preset_goes_below_the_comment_that_explains_presets() {
    let text = "[api]\nbase_url = \"https://octopusx.ai\"\n\n# Presets: saved import settings, picked in the dashboard.\n#   name = \"refs\"\n";
    let (_dir, path) = setup(text);
    let loaded = Config::load(&path).unwrap();
    let change = PresetChange::Upsert { original: None, preset: Preset::new("first", "group-1") };
    save_presets(&loaded, &change).unwrap();
    let saved = std::fs::read_to_string(&path).unwrap();
    let comment = saved.find("# Presets:").expect("the comment is kept");
    let table = saved.find("[[presets]]").expect("the preset is written");
    assert!(comment < table, "the comment stays above the preset:\n{saved}");
    assert!(saved.starts_with("[api]\nbase_url = \"https://octopusx.ai\"\n\n# Presets:"), "{saved}");
    assert_eq!(Config::load(&path).unwrap().config.presets.len(), 1);
    // A second preset goes after the first, the comment staying put.
    let loaded = Config::load(&path).unwrap();
    let change = PresetChange::Upsert { original: None, preset: Preset::new("second", "group-2") };
    save_presets(&loaded, &change).unwrap();
    let saved = std::fs::read_to_string(&path).unwrap();
    assert_eq!(saved.matches("# Presets:").count(), 1, "{saved}");
    assert!(saved.find("name = \"first\"").unwrap() < saved.find("name = \"second\"").unwrap(), "{saved}");
}
