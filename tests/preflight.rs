//! Preflight against real media written by the tests: every documented
//! limit just inside and just outside, for local files and for URLs on an
//! HTTPS server on loopback whose test CA is trusted through
//! `tls_ca_file`; servers without range support, lying about lengths,
//! refusing HEAD, answering 404; files that are not what they claim.

mod https;
mod mediagen;

use std::sync::Arc;

use https::{Behaviour, Server};
use mediagen::{Clip, clip, jpeg, mp3, png, wav};
use seedance_assets::api::{AssetType, TlsOptions};
use seedance_assets::config::PreflightConfig;
use seedance_assets::media::Format;
use seedance_assets::preflight::{Checked, Preflight, Target, Verdict};

const MIB: u64 = 1024 * 1024;

fn checker(ca: Option<&std::path::Path>) -> Arc<Preflight> {
    let cfg = PreflightConfig { timeout_secs: 5.0, ..PreflightConfig::default() };
    Arc::new(Preflight::new(&cfg, &TlsOptions { ca_file: ca.map(Into::into) }).unwrap())
}

/// Writes `bytes` as `name` (extended with zeros to `len` if given) and checks it.
async fn local(pf: &Preflight, name: &str, bytes: &[u8], len: Option<u64>, declared: AssetType) -> Checked {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    if let Some(len) = len {
        std::fs::OpenOptions::new().write(true).open(&path).unwrap().set_len(len).unwrap();
    }
    pf.check(&Target::Local(path), declared).await
}

fn passed(c: &Checked) -> bool {
    matches!(c.verdict, Verdict::Passed(_))
}

fn reasons(c: &Checked) -> String {
    match &c.verdict {
        Verdict::Refused { reasons, .. } => reasons.join("; "),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// Each case: (name, bytes, sparse length, declared type, None = passes / Some(text in the refusal)).
type Case = (&'static str, Vec<u8>, Option<u64>, AssetType, Option<&'static str>);

fn cases() -> Vec<Case> {
    use AssetType::{Audio, Image, Video};
    let c = Clip::new;
    let at_end = |mut k: Clip| {
        k.moov_at_end = true;
        k.mdat_bytes = 200_000;
        k
    };
    let mov = |mut k: Clip| {
        k.mov = true;
        k
    };
    vec![
        ("min.png", png(300, 300), None, Image, None),
        ("narrow.png", png(299, 300), None, Image, Some("299×300: width 299 px is below 300 px")),
        ("wide-ok.png", png(6000, 2400), None, Image, None),
        ("too-wide.png", png(6001, 3000), None, Image, Some("width 6001 px is above 6000 px")),
        (
            "flat.png",
            png(1920, 200),
            None,
            Image,
            Some("1920×200: height 200 px is below 300 px; aspect 9.6 is above 2.5"),
        ),
        ("aspect-max.png", png(1000, 400), None, Image, None),
        ("aspect-over.png", png(1000, 399), None, Image, Some("aspect 2.506 is above 2.5")),
        ("aspect-min.jpg", jpeg(400, 1000, 0), None, Image, None),
        ("aspect-under.jpg", jpeg(399, 1000, 0), None, Image, Some("aspect 0.399 is below 0.4")),
        // An EXIF-sized segment pushes the frame header past the first 4 KB.
        ("exif.jpg", jpeg(1200, 800, 20_000), None, Image, None),
        ("under-30mb.png", png_of_size(400, 400, 30 * MIB as usize - 1), None, Image, None),
        (
            "30mb.png",
            png_of_size(400, 400, 30 * MIB as usize),
            None,
            Image,
            Some("size 30.0 MB is at or above the limit of 30.0 MB"),
        ),
        ("ok.mp4", clip(&c(1280, 720, 10.0, 30)), None, Video, None),
        ("end.mov", clip(&mov(at_end(c(1280, 720, 10.0, 30)))), None, Video, None),
        ("2s.mp4", clip(&c(1280, 720, 2.0, 30)), None, Video, None),
        ("short.mp4", clip(&c(1280, 720, 1.9, 30)), None, Video, Some("duration 1.9 s is below 2 s")),
        ("15s.mp4", clip(&at_end(c(1280, 720, 15.0, 30))), None, Video, None),
        ("long.mp4", clip(&at_end(c(1280, 720, 15.1, 30))), None, Video, Some("duration 15.1 s is above 15 s")),
        ("24fps.mp4", clip(&c(1280, 720, 5.0, 24)), None, Video, None),
        ("23fps.mp4", clip(&c(1280, 720, 5.0, 23)), None, Video, Some("frame rate 23 fps is below 24 fps")),
        ("60fps.mp4", clip(&c(1280, 720, 5.0, 60)), None, Video, None),
        ("61fps.mp4", clip(&c(1280, 720, 5.0, 61)), None, Video, Some("frame rate 61 fps is above 60 fps")),
        ("min-px.mp4", clip(&c(640, 640, 5.0, 30)), None, Video, None),
        ("few-px.mp4", clip(&c(639, 640, 5.0, 30)), None, Video, Some("639×640: 408,960 pixels is below 409,600")),
        ("max-px.mov", clip(&mov(c(1444, 1444, 5.0, 30))), None, Video, None),
        ("many-px.mp4", clip(&c(1445, 1445, 5.0, 30)), None, Video, Some("2,088,025 pixels is above 2,086,876")),
        ("narrow.mp4", clip(&c(299, 1400, 5.0, 30)), None, Video, Some("299×1400: width 299 px is below 300 px")),
        ("50mb.mp4", clip(&c(1280, 720, 5.0, 30)), Some(50 * MIB), Video, None),
        (
            "big.mp4",
            clip(&c(1280, 720, 5.0, 30)),
            Some(50 * MIB + 1),
            Video,
            Some("size 50.000001 MB is above the limit of 50.000000 MB"),
        ),
        ("2s.wav", wav(2.0), None, Audio, None),
        ("short.wav", wav(1.9), None, Audio, Some("duration 1.9 s is below 2 s")),
        ("15s.wav", wav(15.0), None, Audio, None),
        ("long.wav", wav(15.1), None, Audio, Some("duration 15.1 s is above 15 s")),
        ("big.wav", wav(5.0), Some(15 * MIB + 1), Audio, Some("size 15.000001 MB is above the limit of 15.000000 MB")),
        // 100 KB of cover art in the ID3 tag is skipped, not read.
        ("cover.mp3", mp3(10.0, 100_000, true), None, Audio, None),
        ("cbr.mp3", mp3(10.0, 0, false), None, Audio, None),
        ("short.mp3", mp3(1.8, 0, true), None, Audio, Some("is below 2 s")),
        ("long.mp3", mp3(15.5, 0, false), None, Audio, Some("is above 15 s")),
        ("text.png", b"just some text, not a picture\n".to_vec(), None, Image, Some("it looks like text")),
        ("video.png", png(500, 500), None, Video, Some("declared Video, but the content is png (Image)")),
        ("cut.png", png(500, 500)[..20].to_vec(), None, Image, Some("truncated")),
        // Cut short after its header (a writer still at work): no IEND.
        ("half.png", png(500, 500)[..60].to_vec(), None, Image, Some("ends before its IEND chunk")),
        ("padded.png", [png(500, 500), vec![0; 4096]].concat(), None, Image, Some("ends before its IEND chunk")),
        ("empty.mp4", Vec::new(), None, Video, Some("the file is empty")),
    ]
}

/// A PNG of exactly `total` bytes: a private chunk of zeros before its IEND
/// (a PNG ends with IEND: zeros after it would be a file cut short).
fn png_of_size(w: u32, h: u32, total: usize) -> Vec<u8> {
    let p = png(w, h);
    let (body, iend) = p.split_at(p.len() - 12);
    let pad = total - p.len() - 12;
    let mut out = body.to_vec();
    out.extend_from_slice(&(pad as u32).to_be_bytes());
    out.extend_from_slice(b"prVt");
    out.resize(out.len() + pad, 0);
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(iend);
    assert_eq!(out.len(), total);
    out
}

#[tokio::test]
async fn local_files_each_limit_inside_and_outside() {
    let pf = checker(None);
    for (name, bytes, len, declared, want) in cases() {
        let got = local(&pf, name, &bytes, len, declared).await;
        match want {
            None => assert!(passed(&got), "{name}: {got:?}"),
            Some(text) => assert!(reasons(&got).contains(text), "{name}: {} lacks {text:?}", reasons(&got)),
        }
        if declared == AssetType::Image && passed(&got) {
            assert!(got.bytes_read <= 64 * 1024, "{name}: read {} bytes", got.bytes_read);
        }
    }
}

#[tokio::test]
async fn measured_properties_are_reported() {
    let pf = checker(None);
    let got = local(
        &pf,
        "end.mp4",
        &clip(&Clip { moov_at_end: true, ..Clip::new(1280, 720, 10.0, 30) }),
        None,
        AssetType::Video,
    )
    .await;
    let Verdict::Passed(m) = &got.verdict else { panic!("{got:?}") };
    assert_eq!((m.format, m.width, m.height), (Format::Mp4, Some(1280), Some(720)));
    assert_eq!((m.duration_secs, m.fps), (Some(10.0), Some(30.0)));
    assert!(got.bytes_read < 8 * 1024, "the moov at the end is read, not the mdat: {}", got.bytes_read);
    let missing = pf.check(&Target::Local("/nonexistent/x.png".into()), AssetType::Image).await;
    assert!(reasons(&missing).contains("cannot read /nonexistent/x.png"), "{missing:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn urls_over_https_each_limit_inside_and_outside() {
    let server = Server::start().await;
    let pf = checker(Some(&server.ca_file));
    let mut items = Vec::new();
    let cases = cases();
    for (i, (name, bytes, len, declared, _)) in cases.iter().enumerate() {
        // Sparse lengths become real zeros on a server: skip the huge ones.
        if len.is_some_and(|l| l > 20 * MIB) {
            continue;
        }
        let mut bytes = bytes.clone();
        if let Some(l) = len {
            bytes.resize(*l as usize, 0);
        }
        let url = server.add(&format!("/{name}"), bytes, Behaviour::Honest);
        items.push((i, Target::parse(&url), *declared));
    }
    let n = items.len();
    let got: Vec<(usize, Checked)> = futures::StreamExt::collect(pf.check_stream(items)).await;
    assert_eq!(got.len(), n);
    for (i, checked) in got {
        let (name, _, _, declared, want) = &cases[i];
        match want {
            None => assert!(passed(&checked), "{name}: {checked:?}"),
            Some(text) => assert!(reasons(&checked).contains(text), "{name}: {}", reasons(&checked)),
        }
        if *declared == AssetType::Image {
            assert!(checked.bytes_read <= 64 * 1024, "{name}: read {} bytes", checked.bytes_read);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_servers_are_not_checked_or_refused() {
    let server = Server::start().await;
    let pf = checker(Some(&server.ca_file));
    let end = clip(&Clip { moov_at_end: true, mdat_bytes: 300_000, ..Clip::new(1280, 720, 10.0, 30) });
    let check = |url: String, t: AssetType| {
        let pf = pf.clone();
        async move { pf.check(&Target::parse(&url), t).await.verdict }
    };
    // Without range support an image is still measured from the first bytes…
    let v = check(server.add("/norange.png", png(800, 600), Behaviour::NoRange), AssetType::Image).await;
    assert!(matches!(v, Verdict::Passed(_)), "{v:?}");
    // …but a moov at the end of a video cannot be reached, and the rest of
    // the file is not read to look for it.
    let requests = server.requests.load(std::sync::atomic::Ordering::SeqCst);
    let url = server.add("/norange.mp4", end.clone(), Behaviour::NoRange);
    let v = check(url, AssetType::Video).await;
    let Verdict::NotChecked { reason } = v else { panic!("{v:?}") };
    assert!(reason.contains("does not support range requests"), "{reason}");
    assert_eq!(server.requests.load(std::sync::atomic::Ordering::SeqCst) - requests, 2, "one HEAD, one GET");
    // A HEAD that lies about the length is caught by the ranged answer.
    let v = check(server.add("/lying.mp4", end.clone(), Behaviour::LyingHead), AssetType::Video).await;
    let Verdict::NotChecked { reason } = v else { panic!("{v:?}") };
    assert!(reason.contains("sizes disagree"), "{reason}");
    // A body shorter than its Content-Length.
    let v = check(server.add("/short.png", png(800, 600), Behaviour::ShortBody), AssetType::Image).await;
    let Verdict::NotChecked { reason } = v else { panic!("{v:?}") };
    assert!(reason.contains("transfer failed"), "{reason}");
    // HEAD refused: the ranged GETs still measure it.
    let v = check(server.add("/nohead.mp4", end.clone(), Behaviour::NoHead), AssetType::Video).await;
    assert!(matches!(v, Verdict::Passed(_)), "{v:?}");
    // 404 is a per-line error: the asset library could not download it either.
    let v = check(format!("{}/missing.png", server.base), AssetType::Image).await;
    let Verdict::Refused { reasons, .. } = v else { panic!("{v:?}") };
    assert!(reasons[0].contains("HTTP 404"), "{reasons:?}");
    // A text file named .png, served as image/png.
    let v =
        check(server.add("/fake.png", b"a text file named .png\n".to_vec(), Behaviour::Honest), AssetType::Image).await;
    let Verdict::Refused { reasons, .. } = v else { panic!("{v:?}") };
    assert!(reasons[0].contains("looks like text") && reasons[0].contains("image/png"), "{reasons:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_test_ca_is_trusted_only_through_tls_ca_file() {
    let server = Server::start().await;
    let url = server.add("/a.png", png(800, 600), Behaviour::Honest);
    // Not trusted: refused (the asset library would not trust it either).
    let v = checker(None).check(&Target::parse(&url), AssetType::Image).await.verdict;
    let Verdict::Refused { reasons, .. } = v else { panic!("{v:?}") };
    assert!(reasons[0].to_lowercase().contains("certificate"), "{reasons:?}");
    let v = checker(Some(&server.ca_file)).check(&Target::parse(&url), AssetType::Image).await.verdict;
    assert!(matches!(v, Verdict::Passed(_)), "{v:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_host_is_not_checked_once_for_all_its_urls() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let pf = checker(None);
    let items: Vec<_> =
        (0..50).map(|i| (i, Target::parse(&format!("https://127.0.0.1:{port}/{i}.png")), AssetType::Image)).collect();
    let got: Vec<(usize, Checked)> = futures::StreamExt::collect(pf.check_stream(items)).await;
    assert_eq!(got.len(), 50);
    for (_, c) in got {
        let Verdict::NotChecked { reason } = c.verdict else { panic!("{:?}", c.verdict) };
        assert!(reason.contains("cannot reach"), "{reason}");
    }
}

#[tokio::test]
async fn a_file_that_grows_while_read_is_measured_from_what_was_there() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("growing.mp4");
    let c = Clip { moov_at_end: true, mdat_bytes: 50_000, ..Clip::new(1280, 720, 6.0, 30) };
    std::fs::write(&path, clip(&c)).unwrap();
    let mut src = seedance_assets::preflight::LocalFile::open(&path).unwrap();
    // Another writer appends garbage after the file was opened.
    std::fs::OpenOptions::new().append(true).open(&path).unwrap().write_all(&[0xAB; 100_000]).unwrap();
    let p = seedance_assets::media::probe(&mut src, &Default::default()).await.unwrap();
    assert_eq!((p.info.width, p.info.duration_secs), (Some(1280), Some(6.0)));
    // Opened after it grew: the walk stops at moov, before the garbage.
    let got = checker(None).check(&Target::Local(path.clone()), AssetType::Video).await;
    assert!(passed(&got), "{got:?}");
    // Garbage where a box header should be is a clear refusal.
    let mut bad = clip(&Clip::new(1280, 720, 6.0, 30))[..32].to_vec();
    bad.extend_from_slice(&[0xAB; 64]);
    std::fs::write(&path, &bad).unwrap();
    let got = checker(None).check(&Target::Local(path), AssetType::Video).await;
    assert!(!passed(&got), "{got:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_client_trusts_tls_ca_file_too() {
    use seedance_assets::api::{ApiError, Client, ClientOptions, CreateGroupRequest};
    let server = Server::start().await;
    let client = |ca: Option<&std::path::Path>| {
        Client::new(ClientOptions {
            base_url: server.base.clone(),
            api_key: "k".to_string().into(),
            connect_timeout: std::time::Duration::from_secs(5),
            request_timeout: std::time::Duration::from_secs(5),
            tls: TlsOptions { ca_file: ca.map(Into::into) },
        })
        .unwrap()
    };
    let req = CreateGroupRequest { name: "g".into(), description: None };
    // Trusted: the TLS handshake succeeds and the file server's 404 comes back.
    let e = client(Some(&server.ca_file)).create_group(&req).await.unwrap_err();
    assert!(matches!(e, ApiError::Rejected { .. }), "{e:?}");
    // Not trusted: the handshake fails on the certificate.
    let e = client(None).create_group(&req).await.unwrap_err();
    assert!(matches!(e, ApiError::Network { .. }) && e.to_string().to_lowercase().contains("certificate"), "{e}");
}

#[test]
fn the_generated_images_are_valid_for_independent_decoders() {
    for (w, h) in [(300, 300), (1000, 399), (37, 5)] {
        let bytes = png(w, h);
        let mut reader = png::Decoder::new(std::io::Cursor::new(&bytes)).read_info().unwrap();
        let mut pixels = vec![0; reader.output_buffer_size()];
        let frame = reader.next_frame(&mut pixels).unwrap();
        assert_eq!((frame.width, frame.height), (w, h));
        assert!(pixels.iter().all(|p| *p == 0));
    }
    for (w, h, exif) in [(400u16, 1000u16, 0), (1200, 800, 20_000), (9, 17, 0)] {
        let mut d = jpeg_decoder::Decoder::new(std::io::Cursor::new(jpeg(w, h, exif)));
        let pixels = d.decode().unwrap();
        let info = d.info().unwrap();
        assert_eq!((info.width, info.height), (w, h));
        assert_eq!(pixels.len(), w as usize * h as usize);
    }
}
