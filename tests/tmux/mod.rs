//! A tmux server of its own for a test: the real binary in a pseudo-terminal,
//! its screen read back. `scripts/test.sh` installs tmux.

#![allow(dead_code)]

use std::process::{Command, Output};
use std::thread::sleep;
use std::time::{Duration, Instant};

/// A private tmux server (its own socket) with one session; killed on drop.
pub struct Tmux {
    /// The server's socket name.
    pub socket: String,
    /// The session's name.
    pub session: String,
}

impl Tmux {
    /// A server named after `tag` and this process, for the session `session`.
    pub fn new(tag: &str, session: &str) -> Tmux {
        Tmux { socket: format!("seedance-{tag}-{}", std::process::id()), session: session.to_string() }
    }

    /// Runs a tmux command on this server.
    pub fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .args(["-L", &self.socket, "-f", "/dev/null"])
            .args(args)
            .output()
            .expect("tmux is needed by this test: apt-get install tmux (scripts/test.sh installs it)")
    }

    /// The session's screen as text.
    pub fn screen(&self) -> String {
        String::from_utf8_lossy(&self.run(&["capture-pane", "-p", "-t", &self.session]).stdout).into_owned()
    }

    /// Waits until the screen satisfies `ok`; fails naming `what` after `limit`.
    pub fn wait_for(&self, what: &str, limit: Duration, ok: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if ok(&screen) {
                return screen;
            }
            assert!(start.elapsed() < limit, "timed out waiting for {what}; screen:\n{screen}");
            sleep(Duration::from_millis(100));
        }
    }

    /// A pane property (`#{pane_pid}`, `#{pane_dead_status}`…).
    pub fn pane(&self, format: &str) -> String {
        let out = self.run(&["display-message", "-p", "-t", &self.session, format]);
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}
