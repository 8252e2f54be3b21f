//! What several benches need: image imports, an API client for a
//! simulator, and the dashboard's log text.

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

/// The text of the log files in `dir` (the file name carries the date).
pub fn log_text(dir: &std::path::Path) -> String {
    let mut text = String::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        text.push_str(&std::fs::read_to_string(e.path()).unwrap_or_default());
    }
    text
}
