//! What a packager gets: the crate's declared `rust-version` is true of
//! every dependency, clippy's MSRV lint is never switched off, the package
//! ships the program and its documents but not the tests, and SQLite is
//! bundled unless the packager links the system's.

use std::path::Path;
use std::process::Command;

fn cargo(args: &[&str]) -> String {
    let out =
        Command::new(env!("CARGO")).args(args).current_dir(env!("CARGO_MANIFEST_DIR")).output().expect("cargo runs");
    assert!(out.status.success(), "cargo {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn version(v: &str) -> (u64, u64) {
    let mut parts = v.split('.').map(|p| p.parse::<u64>().unwrap());
    (parts.next().unwrap(), parts.next().unwrap_or(0))
}

#[test]
fn rust_version_covers_every_dependency_and_the_msrv_lint_stays_on() {
    let meta: serde_json::Value =
        serde_json::from_str(&cargo(&["metadata", "--format-version", "1", "--locked"])).unwrap();
    let ours = version(env!("CARGO_PKG_RUST_VERSION"));
    let resolved: Vec<&str> =
        meta["resolve"]["nodes"].as_array().unwrap().iter().map(|n| n["id"].as_str().unwrap()).collect();
    let newer: Vec<String> = meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| resolved.contains(&p["id"].as_str().unwrap()))
        .filter_map(|p| Some((p["name"].as_str()?, p["rust_version"].as_str()?)))
        .filter(|(_, v)| version(v) > ours)
        .map(|(n, v)| format!("{n} needs {v}"))
        .collect();
    assert!(newer.is_empty(), "rust-version {} is too low: {newer:?}", env!("CARGO_PKG_RUST_VERSION"));
    let mut sources = Vec::new();
    collect(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut sources);
    for file in sources {
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(!text.contains("incompatible_msrv"), "{} switches the MSRV lint off", file.display());
    }
}

fn collect(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()) {
        if e.is_dir() {
            collect(&e, out);
        } else {
            out.push(e);
        }
    }
}

#[test]
fn the_package_ships_the_program_and_its_documents_not_the_tests() {
    let list = cargo(&["package", "--list", "--locked", "--allow-dirty"]);
    let files: Vec<&str> = list.lines().collect();
    for wanted in ["src/main.rs", "src/lib.rs", "config.example.toml", "README.md", "LICENSE", "Cargo.toml"] {
        assert!(files.contains(&wanted), "{wanted} is not packaged: {files:?}");
    }
    let unwanted: Vec<&&str> = files
        .iter()
        .filter(|f| f.starts_with("tests/") || f.starts_with(".ci/") || f.starts_with("benches/"))
        .collect();
    assert!(unwanted.is_empty(), "packaged: {unwanted:?}");
    let manifest: toml::Table =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml")).unwrap().parse().unwrap();
    let default = manifest["features"]["default"].as_array().unwrap();
    assert!(default.iter().any(|f| f.as_str() == Some("bundled-sqlite")), "SQLite is bundled by default");
}
