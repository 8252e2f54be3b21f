//! seedance-assets: import media into the Seedance asset library, from a
//! terminal dashboard or a headless CLI, over one engine.
//!
//! Modules, each talking to the next through one-way messages:
//! - [`api`]: the typed HTTP client for the three documented endpoints;
//! - [`engine`]: jobs, scheduling, rate limits, retries and the journal;
//! - [`tui`]: the ratatui dashboard (drawing and keys);
//! - [`cli`]: the headless front end;
//! - [`config`]: file locations, the TOML config and presets;
//! - [`sim`]: a local simulator of the API;
//! - [`media`]: header readers (format, dimensions, duration, fps);
//! - [`preflight`]: media checked against the server's limits before creation;
//! - [`setup`]: start-up shared by both front ends; [`export`]: jobs as JSON/CSV records.

#![warn(missing_docs)]

pub mod api;
pub mod cli;
pub mod config;
pub mod engine;
pub mod exit;
pub mod export;
pub mod logging;
pub mod media;
pub mod preflight;
pub mod setup;
pub mod sim;
pub mod text;
pub mod tui;
