//! Logging to a file in the state directory, never to the terminal.

use std::path::Path;

use tracing_appender::non_blocking::WorkerGuard;

/// Starts logging to `dir/seedance-assets.log` (daily rotation is not
/// wanted: one file, appended). Keep the guard alive until exit so that the
/// last lines are flushed. `RUST_LOG` sets the filter (default `info`).
pub fn init(dir: &Path) -> std::io::Result<WorkerGuard> {
    std::fs::create_dir_all(dir)?;
    let appender = tracing_appender::rolling::RollingFileAppender::builder()
        .rotation(tracing_appender::rolling::Rotation::NEVER)
        .filename_prefix("seedance-assets.log")
        .build(dir)
        .map_err(std::io::Error::other)?;
    let (writer, guard) = tracing_appender::non_blocking(appender);
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_ansi(false).with_writer(writer).try_init();
    Ok(guard)
}
