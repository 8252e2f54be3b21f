//! Real media of chosen properties: the simulator's generators.

pub use seedance_assets::sim::media::*;
