//! The `seedance-assets` binary: the dashboard, or a headless command.

use std::process::ExitCode;

use clap::Parser;
use seedance_assets::cli::{self, Cli};

fn main() -> ExitCode {
    seedance_assets::tui::mark_start();
    let args = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("seedance-assets: cannot start the async runtime: {e}");
            return ExitCode::from(seedance_assets::exit::USAGE);
        }
    };
    runtime.block_on(async {
        match args.command {
            Some(cmd) => cli::run(&args.global, cmd).await,
            None => seedance_assets::tui::run(&args.global).await,
        }
    })
}
