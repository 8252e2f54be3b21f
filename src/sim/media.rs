//! Real media of chosen properties, written by code: PNG and JPEG files
//! that decoders accept (all-black pixels, compressed to a few bytes per
//! row), mp4/mov with the boxes players read (`moov` before or after
//! `mdat`), WAVE and MPEG layer III audio.

// ---- PNG -----------------------------------------------------------------

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// Appends one PNG chunk (length, type, data, CRC).
pub fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let start = out.len();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = crc32(&out[start..]);
    out.extend_from_slice(&crc.to_be_bytes());
}

/// LSB-first bit writer for deflate.
struct Bits {
    out: Vec<u8>,
    acc: u64,
    n: u32,
}

impl Bits {
    fn put(&mut self, value: u32, bits: u32) {
        self.acc |= (value as u64) << self.n;
        self.n += bits;
        while self.n >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.n -= 8;
        }
    }
    /// A Huffman code, written most significant bit first.
    fn code(&mut self, code: u32, bits: u32) {
        let rev = code.reverse_bits() >> (32 - bits);
        self.put(rev, bits);
    }
}

/// A zlib stream of `n` zero bytes: one fixed-Huffman block of a literal
/// 0 and copies of 258 bytes at distance 1.
pub fn zlib_zeros(n: u64) -> Vec<u8> {
    let mut b = Bits { out: vec![0x78, 0x01], acc: 0, n: 0 };
    b.put(1, 1); // final block
    b.put(1, 2); // fixed Huffman
    let mut left = n;
    if left > 0 {
        b.code(0x30, 8); // literal 0
        left -= 1;
    }
    while left >= 258 {
        b.code(0b1100_0101, 8); // length 258 (code 285)
        b.code(0, 5); // distance 1
        left -= 258;
    }
    for _ in 0..left {
        b.code(0x30, 8);
    }
    b.code(0, 7); // end of block
    if b.n > 0 {
        b.out.push(b.acc as u8);
    }
    let adler_b = (n % 65521) as u32; // a stays 1 over zero bytes; b adds 1 per byte
    b.out.extend_from_slice(&((adler_b << 16) | 1).to_be_bytes());
    b.out
}

/// A valid 8-bit greyscale PNG of `w`×`h` black pixels.
pub fn png(w: u32, h: u32) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&w.to_be_bytes());
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &ihdr);
    // Each row: filter byte 0, then w zero bytes.
    chunk(&mut out, b"IDAT", &zlib_zeros((w as u64 + 1) * h as u64));
    chunk(&mut out, b"IEND", &[]);
    out
}

// ---- JPEG ----------------------------------------------------------------

fn segment(out: &mut Vec<u8>, marker: u8, data: &[u8]) {
    out.extend_from_slice(&[0xFF, marker]);
    out.extend_from_slice(&((data.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(data);
}

/// A valid baseline greyscale JPEG of `w`×`h` mid-grey pixels, with an
/// APP1 segment of `app_padding` bytes before the frame header (as EXIF
/// data would be), to push the dimensions past the first read.
pub fn jpeg(w: u16, h: u16, app_padding: usize) -> Vec<u8> {
    let mut out = vec![0xFF, 0xD8];
    segment(&mut out, 0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
    let mut left = app_padding;
    while left > 0 {
        let n = left.min(65000);
        let mut data = b"Exif\0\0".to_vec();
        data.resize(n.max(6), 0);
        segment(&mut out, 0xE1, &data);
        left -= n;
    }
    let mut dqt = vec![0u8];
    dqt.extend_from_slice(&[1u8; 64]);
    segment(&mut out, 0xDB, &dqt);
    let mut sof = vec![8];
    sof.extend_from_slice(&h.to_be_bytes());
    sof.extend_from_slice(&w.to_be_bytes());
    sof.extend_from_slice(&[1, 1, 0x11, 0]);
    segment(&mut out, 0xC0, &sof);
    // One code of length 1 per table: DC category 0, AC end-of-block.
    let mut dht = vec![0x00, 1];
    dht.extend_from_slice(&[0u8; 15]);
    dht.push(0);
    dht.push(0x10);
    dht.push(1);
    dht.extend_from_slice(&[0u8; 15]);
    dht.push(0x00);
    segment(&mut out, 0xC4, &dht);
    segment(&mut out, 0xDA, &[1, 1, 0x00, 0, 63, 0]);
    // Each 8×8 block is two zero bits (DC diff 0, EOB); pad with ones.
    let blocks = (w as u64).div_ceil(8) * (h as u64).div_ceil(8);
    let bits = blocks * 2;
    out.resize(out.len() + (bits / 8) as usize, 0);
    let rest = bits % 8;
    if rest > 0 {
        out.push(0xFFu8 >> rest);
    }
    out.extend_from_slice(&[0xFF, 0xD9]);
    out
}

// ---- mp4 / mov -----------------------------------------------------------

fn bx(kind: &[u8; 4], parts: &[&[u8]]) -> Vec<u8> {
    let len: usize = 8 + parts.iter().map(|p| p.len()).sum::<usize>();
    let mut b = (len as u32).to_be_bytes().to_vec();
    b.extend_from_slice(kind);
    for p in parts {
        b.extend_from_slice(p);
    }
    b
}

fn be(v: u32) -> [u8; 4] {
    v.to_be_bytes()
}

/// A movie's properties.
#[derive(Debug, Clone, Copy)]
pub struct Clip {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Duration in seconds.
    pub secs: f64,
    /// Frames per second.
    pub fps: u32,
    /// mov (QuickTime brand) instead of mp4.
    pub mov: bool,
    /// `moov` after `mdat`, as cameras write it.
    pub moov_at_end: bool,
    /// Bytes of sample data in `mdat`.
    pub mdat_bytes: usize,
}

impl Clip {
    /// An mp4 with `moov` first and a little sample data.
    pub fn new(width: u32, height: u32, secs: f64, fps: u32) -> Clip {
        Clip { width, height, secs, fps, mov: false, moov_at_end: false, mdat_bytes: 1000 }
    }
}

fn moov(c: &Clip) -> Vec<u8> {
    let scale = 1000u32;
    let duration = (c.secs * scale as f64).round() as u32;
    let frames = (c.secs * c.fps as f64).round() as u32;
    let matrix: [u32; 9] = [0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x4000_0000];
    let matrix: Vec<u8> = matrix.iter().flat_map(|v| v.to_be_bytes()).collect();
    let mut mvhd = vec![0u8; 4];
    mvhd.extend_from_slice(&[0; 8]);
    mvhd.extend_from_slice(&be(scale));
    mvhd.extend_from_slice(&be(duration));
    mvhd.extend_from_slice(&be(0x10000));
    mvhd.extend_from_slice(&[1, 0, 0, 0]);
    mvhd.extend_from_slice(&[0; 8]);
    mvhd.extend_from_slice(&matrix);
    mvhd.extend_from_slice(&[0; 24]);
    mvhd.extend_from_slice(&be(2));
    let mut tkhd = vec![0, 0, 0, 3];
    tkhd.extend_from_slice(&[0; 8]);
    tkhd.extend_from_slice(&be(1));
    tkhd.extend_from_slice(&[0; 4]);
    tkhd.extend_from_slice(&be(duration));
    tkhd.extend_from_slice(&[0; 16]);
    tkhd.extend_from_slice(&matrix);
    tkhd.extend_from_slice(&be(c.width << 16));
    tkhd.extend_from_slice(&be(c.height << 16));
    let mut mdhd = vec![0u8; 4];
    mdhd.extend_from_slice(&[0; 8]);
    mdhd.extend_from_slice(&be(scale));
    mdhd.extend_from_slice(&be(duration));
    mdhd.extend_from_slice(&[0x55, 0xC4, 0, 0]);
    let mut hdlr = vec![0u8; 8];
    hdlr.extend_from_slice(b"vide");
    hdlr.extend_from_slice(&[0; 12]);
    hdlr.extend_from_slice(b"video\0");
    let mut entry = vec![0u8; 6];
    entry.extend_from_slice(&[0, 1]);
    entry.extend_from_slice(&[0; 16]);
    entry.extend_from_slice(&(c.width as u16).to_be_bytes());
    entry.extend_from_slice(&(c.height as u16).to_be_bytes());
    entry.extend_from_slice(&[0, 0x48, 0, 0, 0, 0x48, 0, 0, 0, 0, 0, 0, 0, 1]);
    entry.extend_from_slice(&[0; 32]);
    entry.extend_from_slice(&[0, 0x18, 0xFF, 0xFF]);
    let stsd = bx(b"stsd", &[&[0; 4], &be(1), &bx(b"avc1", &[&entry])]);
    let delta = if frames > 0 { duration / frames.max(1) } else { 0 };
    let stts = bx(b"stts", &[&[0; 4], &be(1), &be(frames), &be(delta.max(1))]);
    let stbl = bx(b"stbl", &[&stsd, &stts]);
    let minf = bx(b"minf", &[&bx(b"vmhd", &[&[0, 0, 0, 1], &[0; 8]]), &stbl]);
    let mdia = bx(b"mdia", &[&bx(b"mdhd", &[&mdhd]), &bx(b"hdlr", &[&hdlr]), &minf]);
    let trak = bx(b"trak", &[&bx(b"tkhd", &[&tkhd]), &mdia]);
    bx(b"moov", &[&bx(b"mvhd", &[&mvhd]), &trak])
}

/// An mp4 (or mov) file of these properties.
pub fn clip(c: &Clip) -> Vec<u8> {
    let ftyp = if c.mov {
        bx(b"ftyp", &[b"qt  ", &[0; 4], b"qt  "])
    } else {
        bx(b"ftyp", &[b"isom", &[0, 0, 2, 0], b"isomiso2avc1mp41"])
    };
    let mdat = bx(b"mdat", &[&vec![0u8; c.mdat_bytes]]);
    let moov = moov(c);
    if c.moov_at_end { [ftyp, mdat, moov].concat() } else { [ftyp, moov, mdat].concat() }
}

// ---- audio ---------------------------------------------------------------

/// A WAVE file of `secs` seconds of silence, 8 kHz mono 8-bit.
pub fn wav(secs: f64) -> Vec<u8> {
    let rate = 8000u32;
    let data = (secs * rate as f64).round() as u32;
    let mut b = b"RIFF".to_vec();
    b.extend_from_slice(&(36 + data).to_le_bytes());
    b.extend_from_slice(b"WAVEfmt \x10\0\0\0\x01\0\x01\0");
    b.extend_from_slice(&rate.to_le_bytes());
    b.extend_from_slice(&rate.to_le_bytes());
    b.extend_from_slice(b"\x01\0\x08\0data");
    b.extend_from_slice(&data.to_le_bytes());
    b.resize(b.len() + data as usize, 0x80);
    b
}

/// An MP3 of `secs` seconds (MPEG-1 layer III, 128 kb/s, 44.1 kHz,
/// 417-byte frames) after an ID3v2 tag of `id3` bytes, with a Xing header
/// giving the frame count when `xing`.
pub fn mp3(secs: f64, id3: usize, xing: bool) -> Vec<u8> {
    let mut out = Vec::new();
    if id3 > 0 {
        let size = id3 as u32;
        out.extend_from_slice(b"ID3\x04\0\0");
        out.extend_from_slice(&[
            (size >> 21) as u8 & 0x7F,
            (size >> 14) as u8 & 0x7F,
            (size >> 7) as u8 & 0x7F,
            size as u8 & 0x7F,
        ]);
        out.resize(out.len() + id3, 0);
    }
    let frames = (secs * 44100.0 / 1152.0).round() as u32;
    for i in 0..frames {
        let start = out.len();
        out.extend_from_slice(&[0xFF, 0xFB, 0x90, 0x00]);
        if i == 0 && xing {
            out.resize(start + 36, 0);
            out.extend_from_slice(b"Xing");
            out.extend_from_slice(&1u32.to_be_bytes());
            out.extend_from_slice(&frames.to_be_bytes());
        }
        out.resize(start + 417, 0);
    }
    out
}
