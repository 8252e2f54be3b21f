//! Writing results to stdout: a reader that closes the pipe early
//! (`status --json | head -1`) ends the command quietly and successfully.

use std::io::Write;

use serde::Serialize;

use crate::exit::Failure;

/// Writes `text` to stdout.
pub(crate) fn print(text: &str) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes()).and_then(|()| out.flush()).map_err(Failure::stdout)
}

/// Writes `text` and a newline to stdout.
pub(crate) fn line(text: &str) -> Result<(), Failure> {
    print(&format!("{text}\n"))
}

/// Writes `value` as pretty JSON and a newline to stdout.
pub(crate) fn json(value: &impl Serialize) -> Result<(), Failure> {
    let text = serde_json::to_string_pretty(value).map_err(|e| Failure::from(e.to_string()))?;
    line(&text)
}

/// `eprintln!` that does not panic when stderr is gone (its reader quit:
/// `2>&1 | tee log` and Ctrl-C): what was to be said is lost, the command
/// still ends as it should.
macro_rules! say {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($t)*);
    }};
}
pub(crate) use say;
