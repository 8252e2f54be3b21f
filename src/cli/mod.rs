//! The headless front end: clap subcommands over the same engine as the
//! dashboard, for scripts.

mod args;
mod catalog;
mod import;
mod preflight;
mod report;

pub use args::{Cli, CliCommand, ExportFormat, GlobalArgs, ImportArgs};

use std::process::ExitCode;

/// Runs a subcommand; prints errors to stderr and returns the exit code.
pub async fn run(global: &GlobalArgs, cmd: CliCommand) -> ExitCode {
    let result = match cmd {
        CliCommand::Import(a) => import::import(global, a).await,
        CliCommand::Wait { json } => import::wait(global, json).await,
        CliCommand::Status { state, search, json } => report::status(global, &state, search.as_deref(), json),
        CliCommand::Export { format, output, state } => report::export(global, format, output.as_deref(), &state),
        CliCommand::Groups(g) => catalog::groups(global, g).await,
        CliCommand::Presets(p) => catalog::presets(global, p),
        CliCommand::Sim { host, port, config } => catalog::sim(host, port, config).await,
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("seedance-assets: {e}");
            ExitCode::from(crate::exit::USAGE)
        }
    }
}
