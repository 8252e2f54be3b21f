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
    ("export", &["engine", "tui", "cli", "exit"]),
    // The config file is assembled from each part's settings: preflight
    // and storage own their tables' types, and read no config.
    ("preflight", &["config", "engine", "store", "tui", "cli", "setup", "exit"]),
    ("storage", &["config", "engine", "store", "tui", "cli", "setup", "exit"]),
    ("tui", &["cli"]),
    ("cli", &["tui"]),
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
            for (n, line) in text.lines().enumerate() {
                for other in *forbidden {
                    if names(line, other) {
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
