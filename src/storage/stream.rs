//! The upload body: the file read in fixed-size chunks, hashed as it goes,
//! with the last chunk held back until the whole content is known to match
//! the hash taken before the upload, so a file that changed meanwhile never
//! completes a request (the bucket keeps nothing).

use std::sync::{Arc, Mutex};

use futures::{Stream, StreamExt};
use sha2::{Digest, Sha256};
use tokio::io::AsyncReadExt;
use tokio_util::io::ReaderStream;

use super::client::Progress;
use super::hash::hex;

/// Bytes per chunk: memory per upload in flight is a few of these.
pub(crate) const CHUNK: usize = 256 * 1024;
/// Progress is reported at most once per this many bytes (and at the end).
const REPORT_EVERY: u64 = 1 << 20;

/// Shared between the stream and the uploader: why the stream stopped.
pub(crate) type Failure = Arc<Mutex<Option<String>>>;

/// What the body must turn out to be.
pub(crate) struct Expected {
    pub size: u64,
    pub sha256: String,
}

struct State<P> {
    inner: ReaderStream<tokio::io::Take<tokio::fs::File>>,
    hasher: Sha256,
    sent: u64,
    reported: u64,
    expected: Expected,
    progress: Arc<P>,
    failure: Failure,
    done: bool,
}

/// The file's bytes as a streamed request body. The stream fails (and
/// records why in `failure`) if the file ends early, grows, or hashes
/// differently. `expected.size` must not be 0.
pub(crate) fn verified_body<P>(
    file: tokio::fs::File,
    expected: Expected,
    progress: Arc<P>,
    failure: Failure,
) -> reqwest::Body
where
    P: Fn(Progress) + Send + Sync + 'static,
{
    let inner = ReaderStream::with_capacity(file.take(expected.size.saturating_add(1)), CHUNK);
    let state = State { inner, hasher: Sha256::new(), sent: 0, reported: 0, expected, progress, failure, done: false };
    reqwest::Body::wrap_stream(chunks(state))
}

/// Reports `sent` of `total` bytes once [`REPORT_EVERY`] more went out
/// since `reported`, and at the end.
fn report<P: Fn(Progress)>(progress: &P, sent: u64, reported: &mut u64, total: u64) {
    if sent == total || sent - *reported >= REPORT_EVERY {
        *reported = sent;
        progress(Progress { done: sent, total });
    }
}

/// Bytes already in memory (read when the file was hashed) as a request
/// body in [`CHUNK`]-sized pieces, reporting progress as they go.
pub(crate) fn held_body<P>(bytes: bytes::Bytes, progress: Arc<P>) -> reqwest::Body
where
    P: Fn(Progress) + Send + Sync + 'static,
{
    let total = bytes.len() as u64;
    let pieces: Vec<bytes::Bytes> =
        (0..bytes.len()).step_by(CHUNK).map(|at| bytes.slice(at..(at + CHUNK).min(bytes.len()))).collect();
    let mut sent = 0u64;
    let mut reported = 0u64;
    let stream = futures::stream::iter(pieces).map(move |piece| {
        sent += piece.len() as u64;
        report(&*progress, sent, &mut reported, total);
        Ok::<_, std::io::Error>(piece)
    });
    reqwest::Body::wrap_stream(stream)
}

impl<P> State<P> {
    /// Ends the stream, recording why.
    fn fail(&mut self, why: String) -> std::io::Error {
        self.done = true;
        *self.failure.lock().unwrap_or_else(|p| p.into_inner()) = Some(why.clone());
        std::io::Error::other(why)
    }
}

fn chunks<P>(state: State<P>) -> impl Stream<Item = std::io::Result<bytes::Bytes>> + Send + 'static
where
    P: Fn(Progress) + Send + Sync + 'static,
{
    futures::stream::unfold(state, |mut st| async move {
        if st.done {
            return None;
        }
        let chunk = match st.inner.next().await {
            Some(Ok(chunk)) => chunk,
            Some(Err(e)) => {
                let why = format!("read failed: {e}");
                let err = st.fail(why);
                return Some((Err(err), st));
            }
            None => {
                let why = format!("it is now {} bytes, was {}", st.sent, st.expected.size);
                let err = st.fail(why);
                return Some((Err(err), st));
            }
        };
        st.sent += chunk.len() as u64;
        if st.sent > st.expected.size {
            let why = format!("it grew past {} bytes", st.expected.size);
            let err = st.fail(why);
            return Some((Err(err), st));
        }
        st.hasher.update(&chunk);
        if st.sent == st.expected.size {
            // Hold the last bytes back until the whole content is checked.
            match st.inner.next().await {
                None => {}
                Some(Ok(more)) if more.is_empty() => {}
                Some(Ok(_)) => {
                    let why = format!("it grew past {} bytes", st.expected.size);
                    let err = st.fail(why);
                    return Some((Err(err), st));
                }
                Some(Err(e)) => {
                    let why = format!("read failed: {e}");
                    let err = st.fail(why);
                    return Some((Err(err), st));
                }
            }
            let got = hex(&std::mem::take(&mut st.hasher).finalize());
            if got != st.expected.sha256 {
                let why = "its content no longer matches the hash taken before the upload".into();
                let err = st.fail(why);
                return Some((Err(err), st));
            }
            st.done = true;
        }
        report(&*st.progress, st.sent, &mut st.reported, st.expected.size);
        Some((Ok(chunk), st))
    })
}
