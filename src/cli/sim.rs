//! `sim`: the API simulator standalone, in the foreground or started in the
//! background for a shell to `eval` its start-up line.

use std::io::BufRead;
use std::net::{IpAddr, SocketAddr};
use std::process::{Command, Stdio};

use serde::Serialize;

use super::out;
use crate::exit::Failure;
use crate::sim::{Sim, SimConfig};

/// The simulator's start-up line, for scripts.
#[derive(Serialize)]
struct SimStarted {
    base_url: String,
    api_key: String,
    group_id: String,
    stats_url: String,
}

/// How `sim` runs.
pub(super) struct SimRun {
    /// Address to listen on.
    pub host: IpAddr,
    /// Port (0: any free one).
    pub port: u16,
    /// The start-up line as JSON.
    pub json: bool,
    /// Start in the background, print the line and return.
    pub background: bool,
}

pub(super) async fn sim(run: SimRun, config: SimConfig) -> Result<u8, Failure> {
    if run.background {
        return tokio::task::spawn_blocking(move || background(run.json))
            .await
            .map_err(|e| Failure::from(format!("starting the simulator failed: {e}")))?;
    }
    let SimRun { host, port, json, .. } = run;
    if !host.is_loopback() {
        eprintln!("warning: the simulator listens on {host}, which is not loopback");
    }
    let sim = Sim::start(config.clone(), SocketAddr::new(host, port))
        .await
        .map_err(|e| format!("cannot start the simulator on {host}:{port}: {e}"))?;
    let started = SimStarted {
        base_url: sim.base_url(),
        api_key: config.api_key.clone(),
        group_id: sim.state().add_group("sim"),
        stats_url: format!("{}_stats", sim.base_url()),
    };
    eprintln!("simulator listening on {} (stats at {}); Ctrl-C stops it", started.base_url, started.stats_url);
    if json {
        out::line(&serde_json::to_string(&started).map_err(|e| e.to_string())?)?;
    } else {
        out::line(&format!(
            "export SEEDANCE_BASE_URL={} SEEDANCE_API_KEY={} SEEDANCE_GROUP={}",
            shell_quote(&started.base_url),
            shell_quote(&started.api_key),
            shell_quote(&started.group_id)
        ))?;
    }
    tokio::select! {
        _ = sim.serve_forever() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    Ok(0)
}

/// Starts this same command without `--background` as a process of its own
/// (its own process group, so the shell's Ctrl-C does not reach it), waits
/// for its start-up line, prints it with the process id and returns: the
/// line a shell `eval`s, and `kill $SEEDANCE_SIM_PID` stops it.
fn background(json: bool) -> Result<u8, Failure> {
    use std::os::unix::process::CommandExt;
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this program to start it again: {e}"))?;
    let args = std::env::args_os().skip(1).filter(|a| a != "--background");
    // Its stderr goes nowhere: nothing is left to read it once this returns.
    let mut child = Command::new(exe)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .map_err(|e| format!("cannot start the simulator: {e}"))?;
    let mut line = String::new();
    if let Some(stdout) = child.stdout.take() {
        let _ = std::io::BufReader::new(stdout).read_line(&mut line);
    }
    let line = line.trim();
    if line.is_empty() {
        let status = child.wait().map_or_else(|e| e.to_string(), |s| s.to_string());
        return Err(format!("the simulator did not start ({status}); run it without --background to see why").into());
    }
    let pid = child.id();
    if json {
        let mut v: serde_json::Value = serde_json::from_str(line).map_err(|e| e.to_string())?;
        v["pid"] = pid.into();
        out::line(&v.to_string())?;
    } else {
        out::line(&format!("{line} SEEDANCE_SIM_PID={pid}"))?;
    }
    eprintln!("simulator started in the background (pid {pid}); `kill {pid}` stops it");
    Ok(0)
}

/// `s` as one shell word: as it is when every character is plain, else in
/// single quotes.
fn shell_quote(s: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_./:@%+=,-".contains(c);
    if !s.is_empty() && s.chars().all(plain) { s.to_string() } else { format!("'{}'", s.replace('\'', "'\\''")) }
}

#[cfg(test)]
mod tests {
    #[test]
    fn shell_words() {
        assert_eq!(super::shell_quote("http://127.0.0.1:80/"), "http://127.0.0.1:80/");
        assert_eq!(super::shell_quote("a b'c"), "'a b'\\''c'");
        assert_eq!(super::shell_quote(""), "''");
    }
}
