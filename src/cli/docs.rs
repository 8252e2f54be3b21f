//! `completions` and `man`, generated from the clap definitions.

use std::path::{Path, PathBuf};

use clap::CommandFactory;

use super::args::Cli;
use crate::exit::Failure;

/// Prints a completion script for `shell`.
pub(super) fn completions(shell: clap_complete::Shell) -> Result<u8, Failure> {
    let mut cmd = Cli::command();
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, "seedance-assets", &mut buf);
    super::out::print(&String::from_utf8_lossy(&buf))?;
    Ok(crate::exit::SUCCESS)
}

/// Prints the top man page (roff), or writes one page per command and
/// subcommand into `dir` (created if need be) and prints their paths.
pub(super) fn man(dir: Option<PathBuf>) -> Result<u8, Failure> {
    let mut root = Cli::command().disable_help_subcommand(true);
    // Built as clap_mangen's `generate_to` builds it: subcommand pages get
    // their display names (`seedance-assets-import`) and bin names.
    root.build();
    let Some(dir) = dir else {
        super::out::print(&page(&root)?)?;
        return Ok(crate::exit::SUCCESS);
    };
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let mut written = Vec::new();
    write_pages(&root, &dir, &mut written)?;
    super::out::print(&written.iter().map(|p| format!("{}\n", p.display())).collect::<String>())?;
    Ok(crate::exit::SUCCESS)
}

fn write_pages(cmd: &clap::Command, dir: &Path, written: &mut Vec<PathBuf>) -> Result<(), Failure> {
    let path = dir.join(clap_mangen::Man::new(cmd.clone()).get_filename());
    std::fs::write(&path, page(cmd)?).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    written.push(path);
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        write_pages(sub, dir, written)?;
    }
    Ok(())
}

/// One man page with an EXIT STATUS section (the table `--help` ends with),
/// in place of the EXTRA section clap_mangen makes of it.
fn page(cmd: &clap::Command) -> Result<String, Failure> {
    let mut buf = Vec::new();
    clap_mangen::Man::new(cmd.clone()).render(&mut buf).map_err(|e| Failure::from(e.to_string()))?;
    let roff = String::from_utf8_lossy(&buf).into_owned();
    let (head, tail) = match roff.find("\n.SH EXTRA\n") {
        Some(at) => {
            let rest = &roff[at + 1..];
            let next = rest[1..].find("\n.SH ").map_or(rest.len(), |i| i + 2);
            (&roff[..at + 1], &rest[next..])
        }
        None => match roff.find("\n.SH VERSION\n") {
            Some(at) => (&roff[..at + 1], &roff[at + 1..]),
            None => (roff.as_str(), ""),
        },
    };
    Ok(format!("{head}{}{tail}", exit_status()))
}

/// The exit codes as a roff section.
fn exit_status() -> String {
    let mut out = String::from(".SH \"EXIT STATUS\"\n");
    for line in crate::exit::TABLE.lines().skip(1) {
        let line = line.trim_start();
        match line.split_once(char::is_whitespace) {
            Some((code, text)) if code.chars().all(|c| c.is_ascii_digit()) => {
                out.push_str(&format!(".TP\n\\fB{code}\\fR\n{}\n", roff_text(text.trim())));
            }
            _ => out.push_str(&format!("{}\n", roff_text(line))),
        }
    }
    out
}

/// Text safe as a roff line: backslashes doubled, no control character first.
fn roff_text(s: &str) -> String {
    let s = s.replace('\\', "\\e").replace('-', "\\-");
    if s.starts_with(['.', '\'']) { format!("\\&{s}") } else { s }
}
