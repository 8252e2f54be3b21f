//! What the real server does with a CreateAsset URL, for loopback URLs
//! only: download it, and fail the asset when the download fails or the
//! bytes are not media of the asset's type. The format check is the
//! simulator's own, independent of the client's.

use futures::StreamExt;
use sha2::{Digest, Sha256};

use super::bucket::Fetch;
use super::state::SimState;

/// Most bytes downloaded from one URL.
const MAX_DOWNLOAD: u64 = 256 * 1024 * 1024;

/// Whether the simulator downloads this CreateAsset URL: http or https to a
/// loopback host. (It cannot reach anything else.)
pub(crate) fn is_loopback_url(url: &url::Url) -> bool {
    let loopback = match url.host() {
        Some(url::Host::Ipv4(a)) => a.octets()[0] == 127,
        Some(url::Host::Ipv6(a)) => a == std::net::Ipv6Addr::LOCALHOST,
        Some(url::Host::Domain(d)) => d == "localhost",
        None => false,
    };
    loopback && matches!(url.scheme(), "http" | "https")
}

/// The media type of content by its leading bytes, the way a media server
/// probes a download: `Image`, `Video`, `Audio`, or `None`.
fn probe(head: &[u8]) -> Option<&'static str> {
    const SIGNATURES: &[(usize, &[u8], &str)] = &[
        (0, b"\x89PNG\r\n\x1a\n", "Image"),
        (0, b"\xff\xd8\xff", "Image"),
        (0, b"GIF8", "Image"),
        (0, b"BM", "Image"),
        (0, b"II\x2a\x00", "Image"),
        (0, b"MM\x00\x2a", "Image"),
        (0, b"ID3", "Audio"),
    ];
    for (offset, sig, kind) in SIGNATURES {
        if head.len() >= offset + sig.len() && &head[*offset..offset + sig.len()] == *sig {
            return Some(kind);
        }
    }
    if head.len() >= 12 && &head[..4] == b"RIFF" {
        return match &head[8..12] {
            b"WEBP" => Some("Image"),
            b"WAVE" => Some("Audio"),
            _ => None,
        };
    }
    if head.len() >= 12 && &head[4..8] == b"ftyp" {
        let brand = &head[8..12];
        let still = [&b"heic"[..], b"heix", b"mif1", b"msf1", b"hevc", b"heim", b"heis", b"hevx"];
        return Some(if still.contains(&brand) { "Image" } else { "Video" });
    }
    if head.len() >= 8 && [&b"moov"[..], b"mdat", b"wide", b"free", b"pnot"].contains(&&head[4..8]) {
        return Some("Video");
    }
    if head.len() >= 2 && head[0] == 0xff && (head[1] & 0xe0) == 0xe0 {
        return Some("Audio");
    }
    None
}

/// Downloads `url` and says why the asset must fail, if it must:
/// `(code, message)` as the real server reports them.
pub(crate) async fn check(sim: &SimState, url: &str, asset_type: &str) -> Option<(String, String)> {
    let download_failed = |why: String| {
        Some(("InvalidParameter.DownloadFailed".to_string(), format!("the server could not download the URL: {why}")))
    };
    let resp = match sim.http.get(url).send().await {
        Ok(r) => r,
        Err(e) => {
            sim.bucket.record_fetch(Fetch { url: url.into(), status: None, bytes: 0, sha256: None });
            return download_failed(e.without_url().to_string());
        }
    };
    let status = resp.status().as_u16();
    let mut hasher = Sha256::new();
    let mut head = Vec::with_capacity(64);
    let mut body = Vec::new();
    let mut bytes = 0u64;
    let mut stream = resp.bytes_stream();
    let mut broken = None;
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(c) => {
                bytes += c.len() as u64;
                if head.len() < 64 {
                    head.extend_from_slice(&c[..c.len().min(64 - head.len())]);
                }
                if !sim.config.no_media_check {
                    body.extend_from_slice(&c);
                }
                hasher.update(&c);
                if bytes > MAX_DOWNLOAD {
                    broken = Some("the file is larger than the server accepts".to_string());
                    break;
                }
            }
            Err(e) => {
                broken = Some(e.without_url().to_string());
                break;
            }
        }
    }
    let ok = (200..300).contains(&status) && broken.is_none();
    let sha256 = ok.then(|| hasher.finalize().iter().map(|b| format!("{b:02x}")).collect());
    sim.bucket.record_fetch(Fetch { url: url.into(), status: Some(status), bytes, sha256 });
    if let Some(why) = broken {
        return download_failed(why);
    }
    if !(200..300).contains(&status) {
        return download_failed(format!("HTTP {status}"));
    }
    match probe(&head) {
        None => Some((
            "InvalidParameter.FormatUnsupported".into(),
            "the downloaded file is not a supported image, video or audio format".into(),
        )),
        Some(kind) if kind != asset_type => Some((
            "InvalidParameter.FormatUnsupported".into(),
            format!("the downloaded file is {} {kind}, not {} {asset_type}", article(kind), article(asset_type)),
        )),
        Some(_) if sim.config.no_media_check => None,
        Some(kind) => limits(&body, kind).await,
    }
}

/// The documented limits, held against what was downloaded: an image's
/// size from the image crate (a decoder of its own, not the client's
/// parser), a clip's or a sound's from its headers. `(code, message)` of
/// the first limit broken.
async fn limits(body: &[u8], kind: &str) -> Option<(String, String)> {
    use crate::api::AssetType;
    let table = crate::preflight::MediaLimits::default();
    let asset_type = match kind {
        "Image" => AssetType::Image,
        "Video" => AssetType::Video,
        _ => AssetType::Audio,
    };
    let unsupported = |why: String| Some(("InvalidParameter.FormatUnsupported".to_string(), why));
    let mut info = match crate::media::probe(
        &mut crate::media::InMemory(body),
        &crate::media::Budget { image: u64::MAX, video: u64::MAX, audio: u64::MAX },
    )
    .await
    {
        Ok(p) => p.info,
        Err(e) => return unsupported(format!("the downloaded file cannot be read: {e}")),
    };
    if asset_type == AssetType::Image {
        let reader = image::ImageReader::new(std::io::Cursor::new(body)).with_guessed_format();
        match reader.map(|r| r.into_dimensions()) {
            Ok(Ok((w, h))) => (info.width, info.height) = (Some(u64::from(w)), Some(u64::from(h))),
            // HEIF is not read by the image crate: its header's size stands.
            _ if info.format == crate::media::Format::Heif => {}
            _ => return unsupported("the downloaded image cannot be decoded".into()),
        }
    }
    info.size_bytes = Some(body.len() as u64);
    let broken = table.check(asset_type, &info);
    let first = broken.first()?;
    let code = if first.contains("frame rate") {
        if first.contains("below") { "InvalidParameter.FpsTooLow" } else { "InvalidParameter.FpsTooHigh" }
    } else if first.contains("duration") {
        "InvalidParameter.DurationInvalid"
    } else if first.contains("size ") {
        "InvalidParameter.FileTooLarge"
    } else {
        "InvalidParameter.ImageSizeInvalid"
    };
    Some((code.to_string(), format!("the downloaded {} breaks a limit: {}", kind.to_lowercase(), broken.join("; "))))
}

fn article(kind: &str) -> &'static str {
    if kind.starts_with(['A', 'E', 'I', 'O', 'U']) { "an" } else { "a" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probes_and_loopback() {
        assert_eq!(probe(b"\x89PNG\r\n\x1a\n\0\0"), Some("Image"));
        assert_eq!(probe(b"\0\0\0\x20ftypmp42\0\0"), Some("Video"));
        assert_eq!(probe(b"RIFF\0\0\0\0WAVEfmt "), Some("Audio"));
        assert_eq!(probe(b"plain text"), None);
        assert!(is_loopback_url(&"http://127.0.0.1:9/x".parse().unwrap()));
        assert!(!is_loopback_url(&"https://example.com/x".parse().unwrap()));
        assert_eq!(article("Image"), "an");
    }
}
