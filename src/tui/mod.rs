//! The dashboard.

use std::process::ExitCode;

use crate::cli::GlobalArgs;

/// Runs the dashboard until the user quits.
pub async fn run(global: &GlobalArgs) -> ExitCode {
    let _ = global;
    eprintln!("the dashboard is not built yet; use a subcommand (see --help)");
    ExitCode::from(2)
}
