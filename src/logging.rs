//! Logging to a file in the state directory, never to the terminal.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tracing_appender::non_blocking::WorkerGuard;
use tracing_appender::rolling::{RollingFileAppender, Rotation};

/// Log files kept: one a day, the oldest removed beyond this many.
pub const KEEP_FILES: usize = 7;

/// Today's log file in `dir` (`seedance-assets.YYYY-MM-DD.log`, UTC).
pub fn log_file(dir: &Path) -> PathBuf {
    dir.join(format!("seedance-assets.{}.log", jiff::Timestamp::now().strftime("%Y-%m-%d")))
}

/// Logging to the file, running: keep it alive until exit so that the last
/// lines are flushed.
pub struct Logging {
    /// Set when writing the file fails.
    pub fault: LogFault,
    _guard: WorkerGuard,
}

/// A log file that cannot be written (a full disk, an I/O error): the
/// lines are lost, and the user is told once. By default the warning goes
/// to stderr as it happens; after [`LogFault::hold`] (the dashboard, which
/// owns the terminal) it waits for [`LogFault::take`].
#[derive(Clone, Default)]
pub struct LogFault(Arc<FaultState>);

#[derive(Default)]
struct FaultState {
    told: Mutex<Told>,
    held: AtomicBool,
}

#[derive(Default)]
enum Told {
    /// Every write so far succeeded.
    #[default]
    Nothing,
    /// A write failed; the warning waits to be taken.
    Pending(String),
    /// The warning was given (on stderr).
    Given(String),
}

impl LogFault {
    /// From now on, keeps the warning for [`LogFault::take`] instead of
    /// printing it on stderr; one printed already is kept again (the
    /// dashboard's screen hides what was printed before it).
    pub fn hold(&self) {
        let mut told = self.0.told.lock().unwrap_or_else(|e| e.into_inner());
        self.0.held.store(true, Ordering::SeqCst);
        if let Told::Given(warning) = std::mem::take(&mut *told) {
            *told = Told::Pending(warning);
        }
    }

    /// The warning, once, if a write failed and it was not given yet.
    pub fn take(&self) -> Option<String> {
        let mut told = self.0.told.lock().unwrap_or_else(|e| e.into_inner());
        match std::mem::take(&mut *told) {
            Told::Pending(warning) => {
                *told = Told::Given(warning.clone());
                Some(warning)
            }
            other => {
                *told = other;
                None
            }
        }
    }

    /// Records a failed write in `dir`: the first one only.
    fn report(&self, dir: &Path, e: &std::io::Error) {
        let mut told = self.0.told.lock().unwrap_or_else(|e| e.into_inner());
        if !matches!(*told, Told::Nothing) {
            return;
        }
        let warning = format!("cannot write the log in {}: {e}; continuing without it", dir.display());
        if self.0.held.load(Ordering::SeqCst) {
            *told = Told::Pending(warning);
        } else {
            eprintln!("warning: {warning}");
            *told = Told::Given(warning);
        }
    }
}

/// The log file's writer, reporting its first failure to a [`LogFault`].
struct Watched<W> {
    inner: W,
    dir: PathBuf,
    fault: LogFault,
}

impl<W: Write> Write for Watched<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.inner.write(buf).inspect_err(|e| self.fault.report(&self.dir, e))
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush().inspect_err(|e| self.fault.report(&self.dir, e))
    }
}

/// Starts logging to `dir/seedance-assets.YYYY-MM-DD.log`, a new file each
/// day (UTC), keeping the last [`KEEP_FILES`]. `RUST_LOG` sets the filter
/// (default `info`). A write that fails later is told once ([`LogFault`]).
pub fn init(dir: &Path) -> std::io::Result<Logging> {
    std::fs::create_dir_all(dir)?;
    let appender = RollingFileAppender::builder()
        .rotation(Rotation::DAILY)
        .filename_prefix("seedance-assets")
        .filename_suffix("log")
        .max_log_files(KEEP_FILES)
        .build(dir)
        .map_err(std::io::Error::other)?;
    let fault = LogFault::default();
    let watched = Watched { inner: appender, dir: dir.to_path_buf(), fault: fault.clone() };
    // 16,384 lines in flight to the writer thread (the default, 128,000,
    // preallocates 4 MB); a burst beyond that is dropped, not waited for.
    let (writer, guard) =
        tracing_appender::non_blocking::NonBlockingBuilder::default().buffered_lines_limit(16_384).finish(watched);
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_ansi(false).with_writer(writer).try_init();
    Ok(Logging { fault, _guard: guard })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full() -> std::io::Error {
        std::io::Error::from_raw_os_error(28)
    }

    #[test]
    fn a_held_fault_is_taken_once_and_later_failures_add_nothing() {
        let fault = LogFault::default();
        fault.hold();
        assert_eq!(fault.take(), None, "nothing failed yet");
        fault.report(Path::new("/logs"), &full());
        fault.report(Path::new("/logs"), &std::io::Error::other("again"));
        let warning = fault.take().expect("the first failure");
        assert!(warning.starts_with("cannot write the log in /logs: No space left on device"), "{warning}");
        assert_eq!(fault.take(), None, "told once");
        fault.report(Path::new("/logs"), &full());
        assert_eq!(fault.take(), None, "and never again");
    }

    #[test]
    fn a_fault_told_on_stderr_before_the_dashboard_holds_is_kept_for_it() {
        let fault = LogFault::default();
        fault.report(Path::new("/logs"), &full());
        assert_eq!(fault.take(), None, "given on stderr");
        fault.hold();
        assert!(fault.take().is_some_and(|w| w.contains("/logs")));
        assert_eq!(fault.take(), None);
    }
}
