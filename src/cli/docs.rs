//! `completions` and `man`, generated from the clap definitions.

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

/// Prints the man page (roff).
pub(super) fn man() -> Result<u8, Failure> {
    let mut buf = Vec::new();
    clap_mangen::Man::new(Cli::command()).render(&mut buf).map_err(|e| Failure::from(e.to_string()))?;
    super::out::print(&String::from_utf8_lossy(&buf))?;
    Ok(crate::exit::SUCCESS)
}
