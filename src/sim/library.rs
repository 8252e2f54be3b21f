//! Sample media the simulator serves at `/media/NAME` (HEAD, and GET with
//! one `Range`), so the demo's lines are real files on this machine: the
//! client's preflight measures them and the simulator's own download checks
//! them, and nothing leaves loopback.

use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::media::{Clip, clip, mp3, png};

/// The files served, with what each shows in the demo.
pub const FILES: &[(&str, &str)] = &[
    ("banner.png", "an image preflight refuses before anything is paid (1920×200)"),
    ("cat.png", "an image that passes"),
    ("intro.mp4", "a clip that passes"),
    ("theme.mp3", "audio that passes"),
    ("fail-broken.png", "an image the simulator fails on purpose after creating it"),
];

/// The bytes and content type of a served file.
pub fn file(name: &str) -> Option<(Vec<u8>, &'static str)> {
    Some(match name {
        "cat.png" => (png(1024, 768), "image/png"),
        "fail-broken.png" => (png(800, 600), "image/png"),
        "banner.png" => (png(1920, 200), "image/png"),
        "intro.mp4" => (clip(&Clip::new(1280, 720, 5.0, 24)), "video/mp4"),
        "theme.mp3" => (mp3(6.0, 0, true), "audio/mpeg"),
        _ => return None,
    })
}

/// `bytes=A-B` or `bytes=A-` against a body of `len` bytes: the inclusive range.
fn range(h: &str, len: usize) -> Option<(usize, usize)> {
    let (a, b) = h.trim().strip_prefix("bytes=")?.split_once('-')?;
    let start: usize = a.trim().parse().ok()?;
    let end = match b.trim() {
        "" => len.checked_sub(1)?,
        b => b.parse::<usize>().ok()?.min(len.checked_sub(1)?),
    };
    (start <= end).then_some((start, end))
}

/// `GET`/`HEAD /media/NAME`.
pub(crate) async fn serve(Path(name): Path<String>, headers: HeaderMap) -> Response {
    let Some((body, kind)) = file(&name) else {
        return (StatusCode::NOT_FOUND, "no such file").into_response();
    };
    let len = body.len();
    match headers.get(header::RANGE).and_then(|v| v.to_str().ok()) {
        Some(r) => match range(r, len) {
            Some((start, end)) => (
                StatusCode::PARTIAL_CONTENT,
                [
                    (header::CONTENT_TYPE, kind.to_string()),
                    (header::CONTENT_RANGE, format!("bytes {start}-{end}/{len}")),
                    (header::ACCEPT_RANGES, "bytes".to_string()),
                ],
                body[start..=end].to_vec(),
            )
                .into_response(),
            None => {
                (StatusCode::RANGE_NOT_SATISFIABLE, [(header::CONTENT_RANGE, format!("bytes */{len}"))]).into_response()
            }
        },
        None => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, kind.to_string()), (header::ACCEPT_RANGES, "bytes".to_string())],
            body,
        )
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(range("bytes=0-99", 1000), Some((0, 99)));
        assert_eq!(range("bytes=900-", 1000), Some((900, 999)));
        assert_eq!(range("bytes=0-5000", 1000), Some((0, 999)));
        assert_eq!(range("bytes=5-1", 1000), None);
        assert_eq!(range("items=0-1", 1000), None);
        assert!(FILES.iter().all(|(name, _)| file(name).is_some()));
    }
}
