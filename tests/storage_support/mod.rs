//! Helpers for the storage tests: real PNG and JPEG files written by code,
//! a storage client for the simulator's bucket, and a `moto_server`.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use secrecy::SecretString;
use seedance_assets::config::{StorageConfig, StorageCredentials};
use seedance_assets::sim::Sim;
use seedance_assets::storage::Storage;

// PNG chunks are written by the media generator the preflight tests use.
#[path = "../mediagen/mod.rs"]
mod mediagen;
use mediagen::chunk;

/// RGB pixels that differ with `seed`.
fn pixels(width: u32, height: u32, seed: u32) -> Vec<u8> {
    let mut px = Vec::with_capacity((width * height * 3) as usize);
    for y in 0..height {
        for x in 0..width {
            px.push((x.wrapping_mul(seed + 3) ^ y) as u8);
            px.push((y.wrapping_add(seed * 7)) as u8);
            px.push((x + y + seed) as u8);
        }
    }
    px
}

/// A valid PNG (8-bit RGB, stored deflate blocks).
pub fn png(width: u32, height: u32, seed: u32) -> Vec<u8> {
    let px = pixels(width, height, seed);
    let mut raw = Vec::new();
    for row in px.chunks((width * 3) as usize) {
        raw.push(0);
        raw.extend_from_slice(row);
    }
    let mut z = vec![0x78, 0x01];
    let blocks: Vec<&[u8]> = raw.chunks(65_535).collect();
    for (i, block) in blocks.iter().enumerate() {
        z.push(u8::from(i + 1 == blocks.len()));
        let len = block.len() as u16;
        z.extend_from_slice(&len.to_le_bytes());
        z.extend_from_slice(&(!len).to_le_bytes());
        z.extend_from_slice(block);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in &raw {
        a = (a + u32::from(byte)) % 65_521;
        b = (b + a) % 65_521;
    }
    z.extend_from_slice(&((b << 16) | a).to_be_bytes());
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", &z);
    chunk(&mut out, b"IEND", &[]);
    out
}

/// A valid baseline JPEG.
pub fn jpeg(width: u16, height: u16, seed: u32) -> Vec<u8> {
    let px = pixels(u32::from(width), u32::from(height), seed);
    let mut out = Vec::new();
    jpeg_encoder::Encoder::new(&mut out, 85)
        .encode(&px, width, height, jpeg_encoder::ColorType::Rgb)
        .expect("JPEG encodes");
    out
}

/// Writes `n` distinct images (PNG and JPEG alternately, 320×320) to `dir`.
pub fn write_images(dir: &Path, n: usize) -> Vec<PathBuf> {
    std::fs::create_dir_all(dir).unwrap();
    (0..n)
        .map(|i| {
            let (name, bytes) = if i % 2 == 0 {
                (format!("ref-{i:03}.png"), png(320, 320, i as u32))
            } else {
                (format!("ref-{i:03}.jpg"), jpeg(320, 320, i as u32))
            };
            let path = dir.join(name);
            std::fs::write(&path, bytes).unwrap();
            path
        })
        .collect()
}

/// The simulator's default bucket.
pub const SIM_BUCKET: &str = "sim-bucket";

/// A `[storage]` table for a path-style bucket at `endpoint`.
pub fn storage_config(endpoint: &str, bucket: &str) -> StorageConfig {
    StorageConfig {
        endpoint: endpoint.into(),
        bucket: bucket.into(),
        prefix: "refs".into(),
        path_style: true,
        ..StorageConfig::default()
    }
}

/// Credentials from two strings.
pub fn credentials(access: &str, secret: &str) -> StorageCredentials {
    StorageCredentials {
        access_key_id: SecretString::from(access.to_string()),
        secret_access_key: SecretString::from(secret.to_string()),
        session_token: None,
    }
}

/// A plain HTTP client with short timeouts.
pub fn http() -> reqwest::Client {
    seedance_assets::api::http_client_builder(&Default::default())
        .unwrap()
        .connect_timeout(Duration::from_secs(2))
        .build()
        .unwrap()
}

/// A client for the simulator's bucket with the given keys.
pub fn sim_storage_with(sim: &Sim, access: &str, secret: &str) -> Storage {
    let cfg = storage_config(&sim.base_url(), SIM_BUCKET);
    Storage::from_config(&cfg, &credentials(access, secret), http()).expect("storage client builds")
}

/// A client for the simulator's bucket with its default keys.
pub fn sim_storage(sim: &Sim) -> Storage {
    sim_storage_with(sim, "sim-access-key", "sim-secret-key")
}

/// A `moto_server` on a free loopback port, killed on drop.
pub struct Moto {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
}

impl Moto {
    /// Starts `moto_server`; panics, naming the install command, if it is
    /// not installed.
    pub fn start() -> Moto {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot run `moto_server` ({e}): install it with `pip install 'moto[server]'` (.ci/run does)")
            });
        let mut moto = Moto { child, endpoint: format!("http://127.0.0.1:{port}") };
        for _ in 0..300 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return moto;
            }
            if let Ok(Some(status)) = moto.child.try_wait() {
                panic!("moto_server exited at start ({status}); reinstall it with `pip install 'moto[server]'`");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("moto_server did not listen on port {port} within 30 s");
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
