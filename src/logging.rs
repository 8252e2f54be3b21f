//! Logging to a file in the state directory, never to the terminal.

use std::path::{Path, PathBuf};

use tracing_appender::non_blocking::WorkerGuard;
use tracing_appender::rolling::{RollingFileAppender, Rotation};

/// Log files kept: one a day, the oldest removed beyond this many.
pub const KEEP_FILES: usize = 7;

/// Today's log file in `dir` (`seedance-assets.YYYY-MM-DD.log`, UTC).
pub fn log_file(dir: &Path) -> PathBuf {
    dir.join(format!("seedance-assets.{}.log", jiff::Timestamp::now().strftime("%Y-%m-%d")))
}

/// Starts logging to `dir/seedance-assets.YYYY-MM-DD.log`, a new file each
/// day (UTC), keeping the last [`KEEP_FILES`]. Keep the guard alive until
/// exit so that the last lines are flushed. `RUST_LOG` sets the filter
/// (default `info`).
pub fn init(dir: &Path) -> std::io::Result<WorkerGuard> {
    std::fs::create_dir_all(dir)?;
    let appender = RollingFileAppender::builder()
        .rotation(Rotation::DAILY)
        .filename_prefix("seedance-assets")
        .filename_suffix("log")
        .max_log_files(KEEP_FILES)
        .build(dir)
        .map_err(std::io::Error::other)?;
    let (writer, guard) = tracing_appender::non_blocking(appender);
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_ansi(false).with_writer(writer).try_init();
    Ok(guard)
}
