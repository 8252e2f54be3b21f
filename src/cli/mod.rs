//! The headless front end: clap subcommands over the same engine as the
//! dashboard, for scripts.

mod args;
mod catalog;
mod check;
mod configure;
mod docs;
mod error;
mod folders;
mod follow;
mod import;
mod library;
mod manage;
mod out;
mod report;
mod sim;
mod stage;
mod values;
mod watch;

pub use args::{
    AssetFilter, Cli, CliCommand, ConfigCommand, ExportArgs, ExportFormat, ImportArgs, LibraryCommand, Selection,
    WatchCommand,
};

use std::process::ExitCode;

use crate::exit::Failure;
use crate::options::GlobalArgs;

/// Runs a subcommand; prints errors to stderr and returns the exit code.
pub async fn run(global: &GlobalArgs, cmd: CliCommand) -> ExitCode {
    let result: Result<u8, Failure> = match cmd {
        CliCommand::Import(a) => import::import(global, a).await,
        CliCommand::Wait { json } => import::wait(global, json).await,
        CliCommand::Status { select, search, json, follow: false } => {
            report::status(global, &select, search.as_deref(), json)
        }
        CliCommand::Status { select, search, json, follow: true } => {
            follow::follow(global, &select, search.as_deref(), json).await
        }
        CliCommand::Export(a) => report::export(global, &a),
        CliCommand::Retry { select, yes, json } => manage::retry(global, &select, yes, json).await,
        CliCommand::Forget { select, yes, json } => manage::forget(global, &select, yes, json).await,
        CliCommand::Reconcile { pick, json } => library::reconcile(global, pick, json).await,
        CliCommand::Library(c) => library::library(global, c).await,
        CliCommand::Watch(c) => folders::folders(global, c),
        CliCommand::Check { json } => check::check(global, json).await,
        CliCommand::Config(c) => configure::config(global, c),
        CliCommand::Groups(g) => catalog::groups(global, g).await,
        CliCommand::Presets(p) => catalog::presets(global, p),
        CliCommand::Sim { host, port, json, background, config } => {
            sim::sim(sim::SimRun { host, port, json, background }, *config).await
        }
        CliCommand::Completions { shell } => docs::completions(shell),
        CliCommand::Man { dir } => docs::man(dir),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            if !e.message.is_empty() {
                out::say!("seedance-assets: {}", e.message);
            }
            ExitCode::from(e.code)
        }
    }
}
