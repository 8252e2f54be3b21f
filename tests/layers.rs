//! The module layers point one way: each rule below is a `crate::…` path a
//! module's source must never name. The job model sits below the engine and
//! the store; the two front ends never import each other; the API client,
//! the simulator and the store know nothing of what runs them.

use std::path::{Path, PathBuf};

/// `(module, modules it must not import)`.
/// Exit codes are decided at the edge (`exit`, for both front ends): no
/// layer below names them.
const RULES: &[(&str, &[&str])] = &[
    ("job", &["engine", "store", "intake", "tui", "cli", "setup", "exit"]),
    ("store", &["engine", "intake", "tui", "cli", "setup", "exit"]),
    ("api", &["engine", "store", "intake", "tui", "cli", "setup", "sim", "exit"]),
    ("sim", &["engine", "store", "intake", "tui", "cli", "setup", "exit"]),
    ("engine", &["intake", "tui", "cli", "setup", "exit"]),
    ("config", &["engine", "intake", "tui", "cli", "setup", "exit"]),
    ("options", &["engine", "tui", "cli", "exit"]),
    // The front door: one intake for both front ends, below both and below
    // what assembles them.
    ("intake", &["tui", "cli", "setup", "exit"]),
    ("export", &["engine", "tui", "cli", "exit"]),
    // The config file is assembled from each part's settings: preflight
    // and storage own their tables' types, and read no config.
    ("preflight", &["config", "engine", "store", "tui", "cli", "setup", "exit"]),
    ("storage", &["config", "engine", "store", "tui", "cli", "setup", "exit"]),
    // Conforming owns its table too, and knows nothing of jobs or the intake
    // that calls it.
    ("conform", &["config", "engine", "store", "intake", "tui", "cli", "setup", "exit"]),
    // The library as the server holds it: below the engine and both front ends.
    ("library", &["engine", "store", "intake", "tui", "cli", "setup", "exit"]),
    // Watch folders: below the front ends; the CLI hands their files to the intake.
    ("watch", &["engine", "store", "intake", "tui", "cli", "setup", "exit"]),
    ("tui", &["cli"]),
    ("cli", &["tui"]),
    // Inside the dashboard: the panes and forms hold state and answer keys
    // with actions; the app owns them, and keys and drawing sit on top. So
    // nothing below the app names it, and the app names neither the key
    // handling nor the drawing.
    ("tui/pane", &["tui::app", "tui::keys", "tui::view", "tui::forms", "tui::intake"]),
    ("tui/forms", &["tui::app", "tui::keys", "tui::view", "tui::intake"]),
    ("tui/action", &["tui::app", "tui::keys", "tui::view"]),
    ("tui/effect", &["tui::app", "tui::keys", "tui::view"]),
    ("tui/app", &["tui::keys", "tui::view"]),
    ("tui/view", &["tui::keys", "tui::intake"]),
];

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.map(|e| e.unwrap().path()) {
        if e.is_dir() {
            sources(&e, out);
        } else if e.extension().is_some_and(|x| x == "rs") {
            out.push(e);
        }
    }
}

/// The files of a module: `src/NAME.rs` or everything under `src/NAME/`.
fn module_files(name: &str) -> Vec<PathBuf> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src.join(name), &mut files);
    let single = src.join(format!("{name}.rs"));
    if single.exists() {
        files.push(single);
    }
    assert!(!files.is_empty(), "no module `{name}` under src/");
    files
}

/// The module path of a source file: `src/tui/pane/input.rs` is
/// `["tui", "pane", "input"]`, `src/tui/mod.rs` is `["tui"]`.
fn module_path(file: &Path) -> Vec<String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let rel = file.strip_prefix(&src).expect("a file under src/").with_extension("");
    let mut parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib" || p == "main") {
        parts.pop();
    }
    parts
}

/// `line` with each `super::…` path written from the crate root, so that
/// `use super::super::app::App;` in `tui/pane/input.rs` reads
/// `use crate::tui::app::App;`.
fn absolute(line: &str, module: &[String]) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(i) = rest.find("super::") {
        // Only a path that starts here (not `a_super::`).
        if rest[..i].chars().next_back().is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
            out.push_str(&rest[..i + 7]);
            rest = &rest[i + 7..];
            continue;
        }
        out.push_str(&rest[..i]);
        let mut ups = 0;
        while rest[i..].get(ups * 7..(ups + 1) * 7) == Some("super::") {
            ups += 1;
        }
        let base = &module[..module.len().saturating_sub(ups)];
        out.push_str("crate::");
        for part in base {
            out.push_str(part);
            out.push_str("::");
        }
        rest = &rest[i + ups * 7..];
    }
    out.push_str(rest);
    out
}

/// True when `line` names the module `other` (`crate::other`, followed by
/// `::`, `;`, `}` … but not by more of a longer name).
fn names(line: &str, other: &str) -> bool {
    let path = format!("crate::{other}");
    line.match_indices(&path).any(|(i, _)| {
        let next = line[i + path.len()..].chars().next();
        !next.is_some_and(|c| c.is_alphanumeric() || c == '_')
    })
}

#[test]
fn imports_point_one_way() {
    let mut wrong = Vec::new();
    for (module, forbidden) in RULES {
        for file in module_files(module) {
            let text = std::fs::read_to_string(&file).unwrap();
            let path = module_path(&file);
            for (n, line) in text.lines().enumerate() {
                let line = absolute(line, &path);
                for other in *forbidden {
                    if names(&line, other) {
                        wrong.push(format!(
                            "{}:{}: `{module}` imports `{other}`: {}",
                            file.display(),
                            n + 1,
                            line.trim()
                        ));
                    }
                }
            }
        }
    }
    assert!(wrong.is_empty(), "imports against the layers:\n{}", wrong.join("\n"));
}

/// The matcher finds a wrong-way import however it is written, and only
/// the module named.
#[test]
fn the_matcher_finds_each_form_of_import() {
    for line in [
        "use crate::engine::{Job, JobId};",
        "let j: crate::engine::Job;",
        "use crate::engine;",
        "pub use crate::engine as e;",
    ] {
        assert!(names(line, "engine"), "{line}");
    }
    for line in ["use crate::engine_room::A;", "use crate::job::Job;", "// engine::Job"] {
        assert!(!names(line, "engine"), "{line}");
    }
}

/// `super::` paths are read from the file's place in the tree.
#[test]
fn super_paths_resolve_from_the_file() {
    let pane: Vec<String> = ["tui", "pane", "input"].map(String::from).to_vec();
    let line = absolute("use super::super::app::{App, Focus};", &pane);
    assert_eq!(line, "use crate::tui::app::{App, Focus};");
    assert!(names(&line, "tui::app"));
    assert!(names(&absolute("x: super::super::app::Effect", &pane), "tui::app"));
    assert!(!names(&absolute("use super::jobs::JobList;", &pane), "tui::app"));
    assert_eq!(absolute("use my_super::x;", &pane), "use my_super::x;");
    let tui: Vec<String> = vec!["tui".into()];
    assert_eq!(absolute("use super::engine;", &tui), "use crate::engine;");
    assert_eq!(module_path(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src/tui/mod.rs")), tui);
}
