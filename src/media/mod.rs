//! Media headers, read without I/O: the format from its magic bytes, image
//! dimensions, the duration, frame rate and size of mp4/mov from the `moov`
//! box, and the duration of wav and mp3.
//!
//! Every reader takes bytes and returns a typed error on anything it does
//! not understand; none panics on any input (property tests feed them random
//! bytes). [`probe`] drives them over any [`Source`] of byte ranges (a local
//! file, an HTTP server), reading only the headers, within a byte budget.

mod error;
mod format;
mod image;
mod isobmff;
mod mp3;
mod probe;
mod wav;

pub use error::MediaError;
pub use format::{Format, sniff};
pub use image::dimensions as image_dimensions;
pub use isobmff::{BoxHeader, VideoProps, parse_moov, read_box_header};
pub use mp3::{Mp3Props, id3_len, parse_mp3};
pub use probe::{Budget, InMemory, MediaInfo, ProbeError, Probed, Source, probe};
pub use wav::{WavProps, parse_wav_chunks};

#[cfg(test)]
mod proptests;
