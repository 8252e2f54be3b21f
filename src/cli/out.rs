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
