//! The library as the server holds it, for both front ends: which optional
//! endpoints a profile's server offers (probed with free listings only, and
//! remembered), every page of a listing as a stream, and what a delete
//! filter picks. Creating, renaming and deleting go through [`crate::api`];
//! keeping the server's assets as jobs goes through the engine.

mod capabilities;
mod filter;
mod pages;

pub use capabilities::{Capabilities, Known, Presence, Probed, probe};
pub use filter::Pick;
pub use pages::{assets, delete_asset, groups, held, rename_asset, retried};
