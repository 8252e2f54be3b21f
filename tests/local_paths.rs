//! Local paths as import lines: files, directories, globs, and a specific
//! message for each bad case.

mod storage_support;

use std::path::Path;

use seedance_assets::api::AssetType;
use seedance_assets::local::{LocalError, expand};
use storage_support::{jpeg, png};

fn line(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

#[test]
fn files_directories_and_globs_expand_to_typed_media() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("b-shot.png"), png(8, 8, 1)).unwrap();
    std::fs::write(d.join("a-shot.JPG"), jpeg(8, 8, 2)).unwrap();
    std::fs::write(d.join("voice.wav"), b"RIFF\x24\0\0\0WAVEfmt \x10\0\0\0").unwrap();
    std::fs::write(d.join("readme.txt"), "hello").unwrap();
    std::fs::write(d.join(".hidden.png"), png(8, 8, 3)).unwrap();
    std::fs::create_dir(d.join("sub")).unwrap();
    std::fs::write(d.join("sub/deep.png"), png(8, 8, 4)).unwrap();

    let one = expand(&line(&d.join("b-shot.png")), false);
    assert_eq!(one.errors, []);
    assert_eq!(
        (one.files[0].stem.as_str(), one.files[0].asset_type, one.files[0].format),
        ("b-shot", AssetType::Image, "png")
    );

    let flat = expand(&line(d), false);
    let names: Vec<_> = flat.files.iter().map(|f| (f.stem.as_str(), f.asset_type)).collect();
    assert_eq!(names, [("a-shot", AssetType::Image), ("b-shot", AssetType::Image), ("voice", AssetType::Audio)]);
    assert_eq!(flat.errors, []);

    let deep = expand(&line(d), true);
    assert_eq!(deep.files.len(), 4);
    assert!(deep.files.iter().any(|f| f.stem == "deep"));

    let glob = expand(&format!("{}/*.png", d.display()), false);
    assert_eq!(glob.files.iter().map(|f| f.stem.as_str()).collect::<Vec<_>>(), ["b-shot"]);
    let glob = expand(&format!("{}/*/*.png", d.display()), false);
    assert_eq!(glob.files.iter().map(|f| f.stem.as_str()).collect::<Vec<_>>(), ["deep"]);
    let glob = expand(&format!("{}/**/*.png", d.display()), false);
    assert_eq!(glob.files.iter().map(|f| f.stem.as_str()).collect::<Vec<_>>(), ["b-shot", "deep"]);
    let file_url = url::Url::from_file_path(d.join("b-shot.png")).unwrap();
    assert_eq!(expand(file_url.as_str(), false).files.len(), 1);
}

#[test]
fn each_bad_line_has_its_own_message() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();

    let missing = expand(&line(&d.join("nope.png")), false);
    assert!(missing.files.is_empty());
    assert!(matches!(missing.errors[..], [LocalError::Missing { .. }]), "{:?}", missing.errors);
    assert!(missing.errors[0].to_string().ends_with("nope.png: no such file or directory"));

    std::fs::create_dir(d.join("empty")).unwrap();
    std::fs::write(d.join("empty/notes.txt"), "x").unwrap();
    let e = &expand(&line(&d.join("empty")), false).errors;
    assert!(matches!(e[..], [LocalError::NoMedia { recursive: false, .. }]), "{e:?}");
    assert!(e[0].to_string().contains("holds no media files") && e[0].to_string().contains("--recursive"), "{}", e[0]);

    std::fs::write(d.join("fake.png"), "just text, not an image").unwrap();
    let e = &expand(&line(&d.join("fake.png")), false).errors;
    assert!(matches!(e[..], [LocalError::NotMedia { .. }]), "{e:?}");
    assert!(e[0].to_string().contains("not a media file"), "{}", e[0]);

    std::fs::write(d.join("notes.txt"), "x").unwrap();
    let e = &expand(&line(&d.join("notes.txt")), false).errors;
    assert!(e[0].to_string().contains("`.txt` is not an accepted format"), "{}", e[0]);

    std::fs::write(d.join("empty.png"), "").unwrap();
    let e = &expand(&line(&d.join("empty.png")), false).errors;
    assert!(e[0].to_string().contains("it is empty"), "{}", e[0]);

    std::fs::write(d.join("photo.mp4"), jpeg(8, 8, 1)).unwrap();
    let e = &expand(&line(&d.join("photo.mp4")), false).errors;
    assert!(
        matches!(
            e[..],
            [LocalError::Mismatch { expected: AssetType::Video, found: AssetType::Image, format: "jpeg", .. }]
        ),
        "{e:?}"
    );
    assert!(e[0].to_string().contains("the extension `.mp4` means Video but the content is jpeg (Image)"), "{}", e[0]);

    let e = &expand(&format!("{}/*.mov", d.display()), false).errors;
    assert!(matches!(e[..], [LocalError::NoMatch { .. }]), "{e:?}");
    let e = &expand(&format!("{}/[.png", d.display()), false).errors;
    assert!(matches!(e[..], [LocalError::BadPattern { .. }]), "{e:?}");
}

/// A file that exists but cannot be read. (Tests may run as root, which
/// reads any file whatever its mode, so use one the kernel refuses to read.)
#[cfg(target_os = "linux")]
#[test]
fn an_unreadable_file_is_named_as_such() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("locked.png");
    std::os::unix::fs::symlink("/proc/self/mem", &link).unwrap();
    let e = &expand(&line(&link), false).errors;
    assert!(matches!(e[..], [LocalError::Unreadable { .. }]), "{e:?}");
    assert!(e[0].to_string().contains("locked.png: cannot read it"), "{}", e[0]);
    // Inside a directory, the good files still come through.
    std::fs::write(dir.path().join("ok.png"), png(8, 8, 1)).unwrap();
    let x = expand(&line(dir.path()), false);
    assert_eq!((x.files.len(), x.errors.len()), (1, 1));
}

#[test]
fn names_from_hostile_file_names_are_sanitized() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("evil\x1b[2J.png");
    std::fs::write(&path, png(8, 8, 1)).unwrap();
    let x = expand(&line(dir.path()), false);
    assert!(!x.files[0].stem.contains('\x1b'), "{:?}", x.files[0].stem);
    let missing = expand(&line(&dir.path().join("gone\x1b]0;x\x07.png")), false);
    assert!(!missing.errors[0].to_string().contains('\x1b'));
}
