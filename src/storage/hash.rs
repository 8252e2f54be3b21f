//! SHA-256 of file contents (the `sha2` crate, which uses the CPU's SHA
//! extensions where present).

use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

/// A SHA-256 digest as 64 lowercase hex digits.
pub type Sha256Hex = String;

/// Bytes read per call while hashing a file.
const READ_CHUNK: usize = 1 << 20;

/// Lowercase hex of a byte string.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 15)] as char);
    }
    out
}

/// SHA-256 of a byte slice, as hex.
pub fn sha256_hex(bytes: &[u8]) -> Sha256Hex {
    hex(&Sha256::digest(bytes))
}

/// Reads `reader` to its end, returning (bytes read, SHA-256 hex). Blocking:
/// call it from `spawn_blocking`.
pub fn hash_file(reader: &mut impl Read) -> std::io::Result<(u64, Sha256Hex)> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; READ_CHUNK];
    let mut total = 0u64;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hasher.update(&buf[..n]);
        total += n as u64;
    }
    Ok((total, hex(&hasher.finalize())))
}

/// Size and modification time of a file, to notice that it changed.
pub(crate) fn stamp(path: &Path) -> std::io::Result<(u64, Option<std::time::SystemTime>)> {
    let meta = std::fs::metadata(path)?;
    Ok((meta.len(), meta.modified().ok()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_digests() {
        assert_eq!(sha256_hex(b""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        assert_eq!(sha256_hex(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        let data = vec![7u8; 3 * READ_CHUNK + 5];
        let (n, h) = hash_file(&mut data.as_slice()).unwrap();
        assert_eq!((n, h), (data.len() as u64, sha256_hex(&data)));
    }
}
