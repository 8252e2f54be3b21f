//! Local files as a probe [`Source`]: positioned reads of the headers only.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use crate::media::Source;

/// An open local file. Reads are synchronous: a header read from a local
/// disk takes microseconds, less than handing it to a thread.
#[derive(Debug)]
pub struct LocalFile {
    file: File,
    size: u64,
}

impl LocalFile {
    /// Opens `path` for probing.
    pub fn open(path: &Path) -> std::io::Result<LocalFile> {
        let file = File::open(path)?;
        let meta = file.metadata()?;
        if meta.is_dir() {
            return Err(std::io::Error::other("it is a directory"));
        }
        Ok(LocalFile { size: meta.len(), file })
    }
}

impl Source for LocalFile {
    type Error = std::io::Error;

    fn size(&self) -> Option<u64> {
        Some(self.size)
    }

    fn read_at(&mut self, offset: u64, len: u64) -> impl Future<Output = Result<Vec<u8>, Self::Error>> + Send {
        let result = (|| {
            self.file.seek(SeekFrom::Start(offset))?;
            let mut buf = Vec::new();
            // A file that grows while read still gives at most `len` bytes.
            (&mut self.file).take(len).read_to_end(&mut buf)?;
            Ok(buf)
        })();
        std::future::ready(result)
    }
}
