//! Command-line arguments.

use std::net::IpAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::config::{Paths, TypeChoice};
use crate::engine::JobState;
use crate::sim::SimConfig;

/// Import media into the Seedance asset library: a keyboard-driven terminal
/// dashboard (no subcommand) and a headless CLI over the same engine.
#[derive(Debug, Parser)]
#[command(name = "seedance-assets", version, about, long_about = None)]
pub struct Cli {
    /// Options for every command.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// What to do; without one, the dashboard opens.
    #[command(subcommand)]
    pub command: Option<CliCommand>,
}

/// Options for every command.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Config file [env: SEEDANCE_ASSETS_CONFIG; default: the platform config dir]
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Directory of the journal, groups and logs [env: SEEDANCE_ASSETS_DATA_DIR]
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Run against a built-in simulator with a demo key and group (no network,
    /// no key); demo data lives in DATA_DIR/demo and is reset at each start.
    #[arg(long, global = true)]
    pub demo: bool,
    /// Dashboard: capture the mouse (wheel scrolls, click selects); off by default so terminal selection works.
    #[arg(long)]
    pub mouse: bool,
}

impl GlobalArgs {
    /// File locations from these options and the environment.
    pub fn paths(&self) -> Result<Paths, String> {
        Paths::resolve(self.config.as_deref(), self.data_dir.as_deref(), |k| std::env::var(k).ok())
            .map_err(|e| e.to_string())
    }
}

/// The headless commands.
#[derive(Debug, Subcommand)]
pub enum CliCommand {
    /// Import URLs (arguments, --file, or stdin; one per line: URL, or URL,name,type).
    Import(ImportArgs),
    /// Follow every unfinished job in the journal until it is final.
    Wait {
        /// Print the jobs as JSON at the end.
        #[arg(long)]
        json: bool,
    },
    /// Show jobs from the journal.
    Status {
        /// Only jobs in these states (repeatable).
        #[arg(long, value_parser = parse_state)]
        state: Vec<JobState>,
        /// Only jobs whose name, URL or asset id contains this text.
        #[arg(long)]
        search: Option<String>,
        /// JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Export jobs (name, type, asset id, asset:// reference, status, error, times).
    Export {
        /// Output format.
        #[arg(long, value_enum, default_value_t = ExportFormat::Csv)]
        format: ExportFormat,
        /// Write here instead of stdout.
        #[arg(long, short)]
        output: Option<PathBuf>,
        /// Only jobs in these states (repeatable).
        #[arg(long, value_parser = parse_state)]
        state: Vec<JobState>,
    },
    /// Asset groups.
    #[command(subcommand)]
    Groups(GroupsCommand),
    /// Saved presets (edit them in the dashboard with `p`, or in the config file).
    #[command(subcommand)]
    Presets(PresetsCommand),
    /// Run the API simulator standalone.
    Sim {
        /// Address to listen on (loopback by default).
        #[arg(long, default_value = "127.0.0.1")]
        host: IpAddr,
        /// Port to listen on.
        #[arg(long, default_value_t = 8787)]
        port: u16,
        /// Simulator behaviour.
        #[command(flatten)]
        config: SimConfig,
    },
}

/// `import` options.
#[derive(Debug, Clone, Args)]
pub struct ImportArgs {
    /// URLs to import (each may be URL,name,type).
    pub urls: Vec<String>,
    /// Read lines from this file (`-` for stdin).
    #[arg(long, short)]
    pub file: Option<PathBuf>,
    /// Use this preset (default: the preset marked default, if any).
    #[arg(long)]
    pub preset: Option<String>,
    /// Group id (overrides the preset's).
    #[arg(long)]
    pub group: Option<String>,
    /// Asset type for lines without one: Image, Video, Audio or infer.
    #[arg(long = "type", value_parser = parse_type)]
    pub asset_type: Option<TypeChoice>,
    /// Name template for lines without a name: {stem} {ext} {date} {type}, and a counter {n:1} (or zero-padded, {n:3}).
    #[arg(long)]
    pub name_template: Option<String>,
    /// Follow until every job is Active, Failed, Rejected, Uncertain or Stuck.
    #[arg(long)]
    pub wait: bool,
    /// Print the jobs as JSON at the end.
    #[arg(long)]
    pub json: bool,
    /// Create even when the same group+URL+name is already in flight or Active.
    #[arg(long)]
    pub allow_duplicates: bool,
    /// Skip preflight for this run: do not check format, size, dimensions,
    /// duration and fps against the server's limits before creating.
    #[arg(long)]
    pub no_preflight: bool,
}

/// `groups` subcommands.
#[derive(Debug, Subcommand)]
pub enum GroupsCommand {
    /// Create an asset group and remember it.
    Create {
        /// At most 64 characters.
        name: String,
        /// At most 300 characters.
        #[arg(long)]
        description: Option<String>,
    },
    /// List the groups created from this program.
    List,
}

/// `presets` subcommands.
#[derive(Debug, Subcommand)]
pub enum PresetsCommand {
    /// List presets.
    List,
    /// Show one preset.
    Show {
        /// The preset's name.
        name: String,
    },
}

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// A JSON array.
    Json,
    /// CSV with a header row.
    Csv,
}

fn parse_state(s: &str) -> Result<JobState, String> {
    s.parse()
}

fn parse_type(s: &str) -> Result<TypeChoice, String> {
    s.parse()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clap_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn bad_values_are_named() {
        let e = Cli::try_parse_from(["x", "import", "--type", "gif"]).unwrap_err().to_string();
        assert!(e.contains("unknown asset type `gif`"), "{e}");
        let e = Cli::try_parse_from(["x", "status", "--state", "done"]).unwrap_err().to_string();
        assert!(e.contains("unknown state `done`"), "{e}");
    }
}
