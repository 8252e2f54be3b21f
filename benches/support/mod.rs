//! What several benches need: image imports, an API client for a
//! simulator, a simulator in a process of its own, the dashboard's log text
//! and the process status fields the memory benches read.

#![allow(dead_code)]

use std::time::Duration;

use seedance_assets::api::{AssetType, Client, ClientOptions};
use seedance_assets::engine::NewJob;

/// `n` image imports into `group`, named `TAG-i`, at `https://media.example/TAG/i.png`.
pub fn images(group: &str, n: usize, tag: &str) -> Vec<NewJob> {
    (0..n)
        .map(|i| NewJob {
            url: format!("https://media.example/{tag}/{i}.png"),
            name: format!("{tag}-{i}"),
            asset_type: AssetType::Image,
            group_id: group.into(),
            profile: "default".into(),
            local: None,
            media: None,
            conform: None,
        })
        .collect()
}

/// An API client for `base` with `key` (5 s to connect, 30 s per request).
pub fn client(base: &str, key: &str) -> Client {
    Client::new(ClientOptions {
        base_url: base.into(),
        api_key: key.to_string().into(),
        connect_timeout: Duration::from_secs(5),
        request_timeout: Duration::from_secs(30),
        tls: Default::default(),
    })
    .expect("client")
}

/// The simulator binary (`seedance-assets sim`) in a process of its own,
/// stopped when dropped.
pub struct SimProcess {
    child: std::process::Child,
    /// Its base URL.
    pub base: String,
    /// The group it announced.
    pub group: String,
}

impl Drop for SimProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `seedance-assets sim` on a free port with the key `bench-key`
/// and these further arguments; returns once it has announced its group
/// (the first line it prints: `export SEEDANCE_BASE_URL=… SEEDANCE_GROUP=…`).
pub fn start_sim(args: &[&str]) -> SimProcess {
    use std::io::BufRead;
    use std::process::{Command, Stdio};
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_seedance-assets"))
        .args(["sim", "--port", &port.to_string(), "--key", "bench-key"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("simulator binary");
    let stdout = child.stdout.take().expect("stdout");
    let line = std::io::BufReader::new(stdout).lines().next().expect("the export line").expect("line");
    let group = line
        .split_whitespace()
        .find_map(|w| w.strip_prefix("SEEDANCE_GROUP="))
        .unwrap_or_else(|| panic!("the simulator announced no group: {line:?}"))
        .to_string();
    SimProcess { child, base: format!("http://127.0.0.1:{port}"), group }
}

/// The text of the log files in `dir` (the file name carries the date).
pub fn log_text(dir: &std::path::Path) -> String {
    let mut text = String::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        text.push_str(&std::fs::read_to_string(e.path()).unwrap_or_default());
    }
    text
}

/// A field of `/proc/self/status` in KiB (`VmRSS:`, `VmHWM:`); 0 where
/// there is no such file.
pub fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}
