//! seedance-assets: import media into the Seedance asset library, from a
//! terminal dashboard or a headless CLI, over one engine.
//!
//! Modules, each talking to the next through one-way messages:
//! - [`api`]: the typed HTTP client for the three documented endpoints and
//!   the optional library ones;
//! - [`job`]: the job model (a job, its id and state), below the engine and
//!   the store, which both speak it;
//! - [`engine`]: scheduling, rate limits and retries (a pure core and an I/O
//!   shell); [`store`]: the job store (SQLite) that every front end reads;
//! - [`tui`]: the ratatui dashboard (drawing and keys);
//! - [`cli`]: the headless front end;
//! - [`config`]: file locations, the TOML config and presets;
//! - [`sim`]: a local simulator of the API (and of an S3-compatible bucket);
//! - [`storage`]: the user's S3-compatible bucket, through which local files
//!   reach the server; [`local`]: local paths, directories and globs as input;
//! - [`media`]: header readers (format, dimensions, duration, fps);
//! - [`preflight`]: media checked against the server's limits before creation;
//! - [`options`]: options shared by both front ends; [`setup`]: start-up shared by both; [`demo`]: `--demo`;
//! - [`export`]: jobs as JSON/CSV records; [`exit`]: exit codes;
//! - [`library`]: the library as the server holds it (what a server offers,
//!   listings read whole, what a delete filter picks); [`watch`]: watch
//!   folders, whose complete files become imports.

#![warn(missing_docs)]

#[cfg(not(unix))]
compile_error!(
    "seedance-assets supports Unix only (Linux, macOS, the BSDs): it uses Unix signals, file modes and flock."
);

pub mod api;
pub mod cli;
pub mod config;
pub mod conform;
pub mod demo;
pub mod engine;
pub mod exit;
pub mod export;
pub mod intake;
pub mod job;
pub mod library;
pub mod local;
pub mod logging;
pub mod media;
pub mod options;
pub mod preflight;
pub mod setup;
pub mod sim;
pub mod storage;
pub mod store;
pub mod text;
pub mod tui;
pub mod watch;
