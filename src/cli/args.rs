//! Command-line arguments.

use std::net::IpAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use super::values::{state_parser, type_parser};
use crate::config::TypeChoice;
use crate::engine::{JobId, JobState};
use crate::options::GlobalArgs;
use crate::sim::SimConfig;

/// Import media into the Seedance asset library: a keyboard-driven terminal
/// dashboard (no subcommand) and a headless CLI over the same engine.
#[derive(Debug, Parser)]
#[command(name = "seedance-assets", version, about, long_about = None, after_help = crate::exit::TABLE)]
pub struct Cli {
    /// Options for every command.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// What to do; without one, the dashboard opens.
    #[command(subcommand)]
    pub command: Option<CliCommand>,
}

/// The headless commands.
#[derive(Debug, Subcommand)]
pub enum CliCommand {
    /// Import URLs or local files (arguments, --file, or stdin; one per line: URL, URL,name,type, or a file, directory or glob).
    Import(ImportArgs),
    /// Follow every unfinished job until it is final.
    Wait {
        /// Print the jobs (queued now, and those that exist already) as JSON at the end.
        #[arg(long)]
        json: bool,
    },
    /// Show jobs from the job store (with --profile or SEEDANCE_PROFILE: only that profile's).
    Status {
        /// Which jobs.
        #[command(flatten)]
        select: Selection,
        /// Only jobs whose name, URL or asset id contains this text.
        #[arg(long)]
        search: Option<String>,
        /// JSON instead of a table (with --follow: one JSON object per line).
        #[arg(long)]
        json: bool,
        /// Keep printing changes as another process (an import, a dashboard)
        /// makes them, until nothing is in flight and that process has exited;
        /// exit 0 when the jobs in flight at the start, and those that changed, all ended Active.
        #[arg(long, short)]
        follow: bool,
    },
    /// Export jobs (name, type, asset id, asset:// reference, status, error, times, profile).
    Export(ExportArgs),
    /// Create Failed, Rejected or Uncertain jobs again; poll Stuck ones again.
    Retry {
        /// Which jobs.
        #[command(flatten)]
        select: Selection,
        /// Do not ask, even when a retry could create a duplicate (billed) asset.
        #[arg(long, short)]
        yes: bool,
        /// Print the retried jobs as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Remove jobs from the job store (the assets stay on the server).
    Forget {
        /// Which jobs.
        #[command(flatten)]
        select: Selection,
        /// Do not ask.
        #[arg(long, short)]
        yes: bool,
        /// Print the forgotten jobs as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Settle Uncertain jobs from the server's listing (free): a job found there becomes that asset; one
    /// the listing proves was never created is sent again; one with several candidates waits for --pick.
    Reconcile {
        /// An Uncertain job is this asset, one of the candidates reconcile showed (`JOB=ASSET`; repeatable).
        #[arg(long, value_name = "JOB=ASSET", value_parser = pick_parser)]
        pick: Vec<(JobId, String)>,
        /// Print the jobs looked at as JSON.
        #[arg(long)]
        json: bool,
    },
    /// The library as the server holds it: list, rename, delete and sync (on servers with the optional
    /// endpoints; `check` says which).
    #[command(subcommand)]
    Library(LibraryCommand),
    /// The stored list of watched folders, which `import --watch` (without folders) and the dashboard (`w`) watch.
    #[command(subcommand)]
    Watch(WatchCommand),
    /// Check the setup: config, key, server, key accepted, storage, clock, terminal.
    Check {
        /// JSON instead of one line per check.
        #[arg(long)]
        json: bool,
    },
    /// The configuration: its locations, the effective values, a new file.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Asset groups.
    #[command(subcommand)]
    Groups(GroupsCommand),
    /// Saved presets (edit them in the dashboard with `p`, or in the config file).
    #[command(subcommand)]
    Presets(PresetsCommand),
    /// Run the API simulator standalone; prints its URL, key and a group on stdout.
    Sim {
        /// Address to listen on (loopback by default).
        #[arg(long, default_value = "127.0.0.1")]
        host: IpAddr,
        /// Port to listen on (0: any free port).
        #[arg(long, default_value_t = 8787)]
        port: u16,
        /// Print the start-up line as JSON.
        #[arg(long)]
        json: bool,
        /// Start in the background: print the start-up line (with `SEEDANCE_SIM_PID`) and return, so that
        /// `eval "$(seedance-assets sim --port 0 --background)"` sets up this shell; `kill $SEEDANCE_SIM_PID` stops it.
        #[arg(long)]
        background: bool,
        /// Simulator behaviour.
        #[command(flatten)]
        config: Box<SimConfig>,
    },
    /// Print a shell completion script (e.g. `seedance-assets completions bash > ~/.local/share/bash-completion/completions/seedance-assets`).
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff; `seedance-assets man | man -l -`), or write every page to a directory.
    Man {
        /// Write one page per command and subcommand (such as `seedance-assets-import.1`) into DIR, for `man -M`.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

/// Which jobs a command applies to: ids, states, and the profile (the
/// global `--profile` or `SEEDANCE_PROFILE`; all profiles without one).
#[derive(Debug, Clone, Default, Args)]
pub struct Selection {
    /// Only these job ids.
    pub ids: Vec<JobId>,
    /// Only jobs in these states (repeatable).
    #[arg(long, value_parser = state_parser())]
    pub state: Vec<JobState>,
}

/// `export` options.
#[derive(Debug, Clone, Args)]
pub struct ExportArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = ExportFormat::Csv)]
    pub format: ExportFormat,
    /// Write here instead of stdout (atomically; refuses devices, FIFOs and symlinks).
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Write to --output even if it is a device, a FIFO or a symlink.
    #[arg(long)]
    pub force: bool,
    /// Which jobs.
    #[command(flatten)]
    pub select: Selection,
}

/// `import` options.
#[derive(Debug, Clone, Args)]
pub struct ImportArgs {
    /// URLs (each may be URL,name,type), local files, directories or globs to import.
    pub urls: Vec<String>,
    /// Read lines from this file (`-` for stdin).
    #[arg(long, short)]
    pub file: Option<PathBuf>,
    /// Use this preset (default: the preset marked default, if any).
    #[arg(long)]
    pub preset: Option<String>,
    /// Group id (overrides the preset's).
    #[arg(long, env = "SEEDANCE_GROUP")]
    pub group: Option<String>,
    /// Asset type for lines without one: Image, Video, Audio or infer.
    #[arg(long = "type", value_parser = type_parser())]
    pub asset_type: Option<TypeChoice>,
    /// Name template for lines without a name: {stem} {ext} {date} {type}, and a counter {n:1} (or zero-padded, {n:3}).
    #[arg(long)]
    pub name_template: Option<String>,
    /// Follow until every job is Active, Failed, Rejected, Uncertain or Stuck.
    #[arg(long)]
    pub wait: bool,
    /// Print the jobs (queued now, and those that exist already) as JSON at the end.
    #[arg(long)]
    pub json: bool,
    /// Create anew even when the same group+URL+name (or content) is already
    /// in flight or Active; without it such items are reported as existing.
    #[arg(long)]
    pub allow_duplicates: bool,
    /// For a directory: also import the media files of its subdirectories.
    #[arg(long, short)]
    pub recursive: bool,
    /// Accept a type that contradicts a URL's extension (a .png as Video);
    /// one line can say so with `!` after its type column (`Video!`).
    #[arg(long)]
    pub force_type: bool,
    /// Skip preflight for this run: do not check format, size, dimensions,
    /// duration and fps against the server's limits before creating.
    #[arg(long)]
    pub no_preflight: bool,
    /// Create lines that could not be checked (their host did not answer, a
    /// DNS error, a timeout) instead of holding them back. Refused lines are
    /// never created.
    #[arg(long)]
    pub allow_unchecked: bool,
    /// Conform files that break the limits before paying: images are scaled,
    /// padded or converted (image crate), video and audio re-encoded, split
    /// or trimmed (ffmpeg); every output is checked again. A URL is
    /// downloaded and its result uploaded to your bucket. Outputs are cached
    /// in the data directory, so a re-run conforms and creates nothing again.
    /// Also `[conform] enabled` or a preset's `conform = true`.
    #[arg(long, conflicts_with_all = ["no_preflight", "no_conform"])]
    pub conform: bool,
    /// Do not conform in this run, whatever the config or preset says.
    #[arg(long)]
    pub no_conform: bool,
    /// Watch the folders given instead of importing once: each media file that lands in them (or changes), once
    /// complete, goes through the same checks and is imported; one line per file; runs until Ctrl-C or SIGTERM (exit 0).
    /// Without folders: the stored ones of this group (`seedance-assets watch add`).
    #[arg(long, conflicts_with = "file")]
    pub watch: bool,
    /// Watching: a file is complete once its size and time have not changed for this many seconds.
    #[arg(long, value_name = "SECS", default_value_t = 3.0, requires = "watch")]
    pub settle: f64,
    /// Watching: only files whose path under the folder matches this glob (repeatable; `*.png`, `plates/**`).
    #[arg(long, value_name = "GLOB", requires = "watch")]
    pub include: Vec<String>,
    /// Watching: never files whose path under the folder matches this glob (repeatable).
    #[arg(long, value_name = "GLOB", requires = "watch")]
    pub exclude: Vec<String>,
    /// Watching: scan the folders every --scan-every seconds instead of using the system's file notifications
    /// (network filesystems; also used by itself where notifications are unavailable).
    #[arg(long, requires = "watch")]
    pub poll: bool,
    /// Watching: seconds between scans, when scanning.
    #[arg(long, value_name = "SECS", default_value_t = 10.0, requires = "watch")]
    pub scan_every: f64,
    /// Conforming, what an aspect ratio outside the limits becomes: `pad`
    /// (bars, the default) or `crop` (the middle kept).
    #[arg(long, value_enum, value_name = "HOW")]
    pub aspect: Option<crate::conform::AspectFix>,
    /// Conforming, what a clip longer than the limit becomes: `split` into
    /// parts NAME-part1, NAME-part2 and so on (the default) or `trim` to its start.
    #[arg(long, value_enum, value_name = "HOW")]
    pub too_long: Option<crate::conform::TooLong>,
}

/// `config` subcommands.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Where the config file, data, job store and logs are.
    Path {
        /// JSON instead of lines.
        #[arg(long)]
        json: bool,
    },
    /// The effective configuration, each value with its source (default, file, env, flag); secrets redacted.
    Show {
        /// JSON instead of lines.
        #[arg(long)]
        json: bool,
    },
    /// Write a commented config file (mode 0600); never overwrites.
    Init,
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
        /// Print the group as JSON.
        #[arg(long)]
        json: bool,
    },
    /// List the groups created from this program.
    List {
        /// JSON instead of lines.
        #[arg(long)]
        json: bool,
    },
}

/// What a `library` command picks among the server's assets.
#[derive(Debug, Clone, Default, Args)]
pub struct AssetFilter {
    /// Only this asset id (repeatable).
    #[arg(long = "id", value_name = "ASSET")]
    pub ids: Vec<String>,
    /// Only this group (repeatable).
    #[arg(long = "group", value_name = "GROUP")]
    pub groups: Vec<String>,
    /// Only this status: Active, Processing or Failed (repeatable).
    #[arg(long = "status", value_name = "STATUS", value_parser = ["Active", "Processing", "Failed"], ignore_case = true)]
    pub statuses: Vec<String>,
    /// Only names containing this.
    #[arg(long)]
    pub name: Option<String>,
    /// Only this type: Image, Video or Audio (repeatable; checked here, the server cannot filter by type).
    #[arg(long = "type", value_name = "TYPE", value_parser = asset_type_parser)]
    pub types: Vec<crate::api::AssetType>,
    /// Only assets created more than this many days ago.
    #[arg(long, value_name = "DAYS", allow_negative_numbers = true)]
    pub older_than: Option<f64>,
}

/// `watch` subcommands.
#[derive(Debug, Subcommand)]
pub enum WatchCommand {
    /// The stored folders of this profile, with how many files of each became jobs.
    List {
        /// JSON instead of one line per folder.
        #[arg(long)]
        json: bool,
    },
    /// Store folders to watch into a group (`import --watch` without folders, and the dashboard, then watch them).
    Add {
        /// The folders.
        #[arg(required = true, value_name = "DIR")]
        dirs: Vec<PathBuf>,
        /// The group their files go into (default: the default preset's).
        #[arg(long, env = "SEEDANCE_GROUP")]
        group: Option<String>,
        /// Subfolders too.
        #[arg(long, short)]
        recursive: bool,
        /// Only files whose path under the folder matches this glob (repeatable).
        #[arg(long, value_name = "GLOB")]
        include: Vec<String>,
        /// Never files whose path under the folder matches this glob (repeatable).
        #[arg(long, value_name = "GLOB")]
        exclude: Vec<String>,
    },
    /// Stop watching folders (what was imported from them stays).
    Remove {
        /// The folders.
        #[arg(required = true, value_name = "DIR")]
        dirs: Vec<PathBuf>,
    },
}

/// `library` subcommands.
#[derive(Debug, Subcommand)]
pub enum LibraryCommand {
    /// List the server's assets, streamed a page at a time (tab-separated: id, status, type, group, created, name).
    Assets {
        /// Which assets.
        #[command(flatten)]
        filter: AssetFilter,
        /// One JSON object per line instead.
        #[arg(long)]
        json: bool,
    },
    /// List the server's asset groups (tab-separated: id, name).
    Groups {
        /// One JSON object per line instead.
        #[arg(long)]
        json: bool,
    },
    /// Rename an asset on the server (its job here keeps the name it was imported with).
    Rename {
        /// The asset id.
        id: String,
        /// The new name (1 to 64 characters).
        name: String,
    },
    /// Delete the assets a filter picks (asks, with counts); their jobs here are forgotten.
    Delete {
        /// Which assets (at least one filter is required).
        #[command(flatten)]
        filter: AssetFilter,
        /// Print what would be deleted, and delete nothing.
        #[arg(long)]
        dry_run: bool,
        /// Do not ask.
        #[arg(long, short)]
        yes: bool,
        /// Then delete the groups given with --group that hold no asset any more.
        #[arg(long)]
        empty_groups: bool,
    },
    /// Keep the server's assets (those a filter picks) as jobs here, so that a new machine rebuilds its
    /// history: exports include them, and importing the same names into their group creates nothing.
    Sync {
        /// Which assets.
        #[command(flatten)]
        filter: AssetFilter,
    },
}

/// `JOB=ASSET`.
fn pick_parser(s: &str) -> Result<(JobId, String), String> {
    let (job, asset) =
        s.split_once('=').ok_or_else(|| format!("`{}` is not JOB=ASSET", crate::text::excerpt(s, 40)))?;
    let job = job
        .trim()
        .trim_start_matches('#')
        .parse()
        .map_err(|_| format!("`{}` is not a job id", crate::text::excerpt(job, 20)))?;
    let asset = asset.trim();
    if asset.is_empty() {
        return Err("the asset id is empty".into());
    }
    Ok((job, asset.to_string()))
}

fn asset_type_parser(s: &str) -> Result<crate::api::AssetType, String> {
    s.parse()
}

/// `presets` subcommands.
#[derive(Debug, Subcommand)]
pub enum PresetsCommand {
    /// List presets.
    List {
        /// JSON instead of lines.
        #[arg(long)]
        json: bool,
    },
    /// Show one preset.
    Show {
        /// The preset's name.
        name: String,
        /// JSON instead of lines.
        #[arg(long)]
        json: bool,
    },
}

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// A JSON array.
    Json,
    /// CSV with a header row (cells that a spreadsheet would run as formulas are prefixed with `'`).
    Csv,
    /// The `content` entries of a Seedance 2 video request, one per Active asset (a JSON array).
    Content,
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

    #[test]
    fn state_and_type_offer_their_values() {
        use clap::CommandFactory;
        let cmd = Cli::command();
        let status = cmd.find_subcommand("status").unwrap();
        let state = status.get_arguments().find(|a| a.get_id() == "state").unwrap();
        let values: Vec<String> = state.get_possible_values().iter().map(|v| v.get_name().to_string()).collect();
        assert_eq!(values.len(), JobState::ALL.len());
        assert!(values.contains(&"uncertain".to_string()));
        let import = cmd.find_subcommand("import").unwrap();
        let ty = import.get_arguments().find(|a| a.get_id() == "asset_type").unwrap();
        let values: Vec<String> = ty.get_possible_values().iter().map(|v| v.get_name().to_string()).collect();
        assert_eq!(values, ["infer", "Image", "Video", "Audio"]);
    }
}
