//! The URL probe against hosts that misbehave, on loopback: redirect loops
//! and long chains, https redirected to plain http, a HEAD declaring a size
//! over the limit, untrusted TLS certificates, every kind of HTTP error
//! status, and a host that accepts connections and never answers.

mod https;
mod mediagen;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use https::{Behaviour, Server, TestCert};
use mediagen::png;
use seedance_assets::api::{AssetType, TlsOptions};
use seedance_assets::config::PreflightConfig;
use seedance_assets::preflight::{Checked, Preflight, Target, Verdict};

const MIB: usize = 1024 * 1024;

fn checker_with(cfg: PreflightConfig, ca: Option<&std::path::Path>) -> Arc<Preflight> {
    Arc::new(Preflight::new(&cfg, &TlsOptions { ca_file: ca.map(Into::into) }).unwrap())
}

fn checker(ca: Option<&std::path::Path>) -> Arc<Preflight> {
    checker_with(PreflightConfig { timeout_secs: 5.0, ..PreflightConfig::default() }, ca)
}

async fn verdict(pf: &Preflight, url: &str, declared: AssetType) -> Verdict {
    pf.check(&Target::parse(url), declared).await.verdict
}

fn refusal(v: &Verdict) -> String {
    match v {
        Verdict::Refused { reasons, .. } => reasons.join("; "),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

fn not_checked(v: &Verdict) -> String {
    match v {
        Verdict::NotChecked { reason } => reason.clone(),
        other => panic!("expected not checked, got {other:?}"),
    }
}

/// `/{name}0` → `/{name}1` → … → `/{name}{hops - 1}` → `target`: `hops` redirects.
fn chain(server: &Server, name: &str, hops: usize, target: &str) -> String {
    for i in 0..hops {
        let next = if i + 1 == hops { target.to_string() } else { format!("{}/{name}{}", server.base, i + 1) };
        server.add(&format!("/{name}{i}"), next.into_bytes(), Behaviour::Status(302));
    }
    format!("{}/{name}0", server.base)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redirect_loops_and_long_chains_are_refused() {
    let server = Server::start().await;
    let pf = checker(Some(&server.ca_file));
    let ok = server.add("/ok.png", png(800, 600), Behaviour::Honest);
    // Five hops are followed.
    let five = chain(&server, "five", 5, &ok);
    let v = verdict(&pf, &five, AssetType::Image).await;
    assert!(matches!(v, Verdict::Passed(_)), "{v:?}");
    // Six are not: nobody would follow them to the file.
    let six = chain(&server, "six", 6, &ok);
    let reason = refusal(&verdict(&pf, &six, AssetType::Image).await);
    assert!(reason.contains("the URL's host answers more than 5 redirects"), "{reason}");
    // A loop: a → b → a.
    server.add("/loop-a", format!("{}/loop-b", server.base).into_bytes(), Behaviour::Status(301));
    server.add("/loop-b", format!("{}/loop-a", server.base).into_bytes(), Behaviour::Status(307));
    let reason = refusal(&verdict(&pf, &format!("{}/loop-a", server.base), AssetType::Image).await);
    assert!(reason.contains("the URL's host redirects in a loop"), "{reason}");
    // A URL redirecting to itself.
    server.add("/self", format!("{}/self", server.base).into_bytes(), Behaviour::Status(302));
    let reason = refusal(&verdict(&pf, &format!("{}/self", server.base), AssetType::Image).await);
    assert!(reason.contains("redirects in a loop"), "{reason}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_redirected_to_plain_http_is_measured_and_refused() {
    let secure = Server::start().await;
    let plain = Server::start_plain().await;
    let pf = checker(Some(&secure.ca_file));
    let target = plain.add("/cat.png", png(800, 600), Behaviour::Honest);
    // Plain http throughout is not a downgrade.
    let v = verdict(&pf, &target, AssetType::Image).await;
    assert!(matches!(v, Verdict::Passed(_)), "{v:?}");
    // https → http: measured (the media is kept) but refused for the downgrade.
    let url = secure.add("/cat.png", target.clone().into_bytes(), Behaviour::Status(302));
    let v = verdict(&pf, &url, AssetType::Image).await;
    let Verdict::Refused { media: Some(m), reasons } = &v else { panic!("{v:?}") };
    assert_eq!((m.width, m.height), (Some(800), Some(600)));
    assert_eq!(reasons.len(), 1, "{reasons:?}");
    assert!(reasons[0].starts_with("the URL's host redirects https to plain http"), "{reasons:?}");
    assert!(reasons[0].contains(&target), "names where it lands: {reasons:?}");
    // The downgrade is named alongside the limits the file breaks.
    let banner = plain.add("/banner.png", png(1920, 200), Behaviour::Honest);
    let url = secure.add("/banner.png", banner.into_bytes(), Behaviour::Status(301));
    let reasons = refusal(&verdict(&pf, &url, AssetType::Image).await);
    assert!(reasons.contains("plain http") && reasons.contains("aspect 9.6 is above 2.5"), "{reasons}");
    // https → https is fine.
    let ok = secure.add("/ok.png", png(800, 600), Behaviour::Honest);
    let url = secure.add("/moved.png", ok.into_bytes(), Behaviour::Status(308));
    let v = verdict(&pf, &url, AssetType::Image).await;
    assert!(matches!(v, Verdict::Passed(_)), "{v:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_head_declaring_a_size_over_the_limit_is_refused_whatever_the_body_does() {
    let server = Server::start().await;
    let pf = checker(Some(&server.ca_file));
    // 4 MB served; HEAD says ten times that, over the 30 MB image limit.
    let mut bytes = png(800, 600);
    bytes.resize(4 * MIB, 0);
    let before = server.requests.load(Ordering::SeqCst);
    let url = server.add("/huge.png", bytes, Behaviour::LyingHead);
    let reason = refusal(&verdict(&pf, &url, AssetType::Image).await);
    assert!(reason.contains("Content-Length"), "{reason}");
    assert!(reason.contains("40.0 MB") && reason.contains("30.0 MB"), "{reason}");
    assert!(!reason.contains("bytes"), "one unit: {reason}");
    assert_eq!(server.requests.load(Ordering::SeqCst) - before, 1, "the HEAD alone decides");
    // Under the video limit (50 MB), the same lie is caught by the ranged answer.
    let mut bytes = mediagen::clip(&mediagen::Clip::new(1280, 720, 5.0, 30));
    bytes.resize(4 * MIB, 0);
    let url = server.add("/lying.mp4", bytes, Behaviour::LyingHead);
    let reason = not_checked(&verdict(&pf, &url, AssetType::Video).await);
    assert!(reason.contains("the URL's host's sizes disagree"), "{reason}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn untrusted_certificates_are_refused_and_unreachable_hosts_are_not_checked() {
    let good = Server::start().await;
    let url = good.add("/a.png", png(800, 600), Behaviour::Honest);
    // A CA we do not trust.
    let reason = refusal(&verdict(&checker(None), &url, AssetType::Image).await);
    assert!(reason.starts_with("the URL's host's TLS certificate is not trusted: "), "{reason}");
    assert!(reason.contains("UnknownIssuer"), "{reason}");
    assert!(reason.ends_with("the asset library will almost certainly refuse it too"), "{reason}");
    // Every URL on that host is refused the same way.
    let items: Vec<_> =
        (0..10).map(|i| (i, Target::parse(&format!("{}/{i}.png", good.base)), AssetType::Image)).collect();
    let got: Vec<(usize, Checked)> = futures::StreamExt::collect(checker(None).check_stream(items)).await;
    assert_eq!(got.len(), 10);
    for (_, c) in got {
        assert!(refusal(&c.verdict).contains("TLS certificate is not trusted"), "{:?}", c.verdict);
    }
    // Trusted CA, expired certificate.
    let expired = Server::start_with(TestCert::Expired).await;
    let url = expired.add("/a.png", png(800, 600), Behaviour::Honest);
    let reason = refusal(&verdict(&checker(Some(&expired.ca_file)), &url, AssetType::Image).await);
    assert!(reason.contains("TLS certificate is not trusted") && reason.contains("certificate expired"), "{reason}");
    // Trusted CA, certificate for another name.
    let wrong = Server::start_with(TestCert::WrongName).await;
    let url = wrong.add("/a.png", png(800, 600), Behaviour::Honest);
    let reason = refusal(&verdict(&checker(Some(&wrong.ca_file)), &url, AssetType::Image).await);
    assert!(reason.contains("TLS certificate is not trusted") && reason.contains("not valid for name"), "{reason}");
    // A refused connection is not a certificate problem: not checked.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let reason =
        not_checked(&verdict(&checker(None), &format!("https://127.0.0.1:{port}/a.png"), AssetType::Image).await);
    assert!(reason.starts_with("cannot reach the URL's host"), "{reason}");
    assert!(!reason.contains("certificate"), "{reason}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_statuses_are_refused_except_rate_limiting() {
    let server = Server::start().await;
    let pf = checker(Some(&server.ca_file));
    for status in [400, 402, 403, 404, 405, 410, 418, 451] {
        let url = server.add(&format!("/{status}.png"), Vec::new(), Behaviour::Status(status));
        let reason = refusal(&verdict(&pf, &url, AssetType::Image).await);
        assert_eq!(
            reason,
            format!("the URL's host answers HTTP {status}: the asset library could not download it either")
        );
    }
    for status in [500, 502, 503, 504] {
        let url = server.add(&format!("/{status}.png"), Vec::new(), Behaviour::Status(status));
        let reason = refusal(&verdict(&pf, &url, AssetType::Image).await);
        assert_eq!(
            reason,
            format!("the URL's host answers HTTP {status}; the asset library could not download it now either")
        );
    }
    // Rate limiting is about our probe, not the file.
    let url = server.add("/429.png", Vec::new(), Behaviour::Status(429));
    let reason = not_checked(&verdict(&pf, &url, AssetType::Image).await);
    assert_eq!(reason, "the URL's host answers HTTP 429");
    // HEAD refused alone: the ranged GET still measures the file.
    let url = server.add("/nohead.png", png(800, 600), Behaviour::NoHead);
    let v = verdict(&pf, &url, AssetType::Image).await;
    assert!(matches!(v, Verdict::Passed(_)), "{v:?}");
}

/// A listener that accepts connections, reads nothing back, never answers,
/// and keeps them open. Returns its port and the number of connections
/// accepted so far.
async fn silent_host() -> (u16, Arc<AtomicU64>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = Arc::new(AtomicU64::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((tcp, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            held.push(tcp);
        }
    });
    (port, accepted)
}

async fn fifty_urls_on_a_silent_host(scheme: &str) {
    let (port, accepted) = silent_host().await;
    let cfg = PreflightConfig { timeout_secs: 0.5, concurrency: 16, ..PreflightConfig::default() };
    let pf = checker_with(cfg, None);
    let items: Vec<_> = (0..50)
        .map(|i| (i, Target::parse(&format!("{scheme}://127.0.0.1:{port}/{i}.png")), AssetType::Image))
        .collect();
    let got: Vec<(usize, Checked)> = futures::StreamExt::collect(pf.check_stream(items)).await;
    assert_eq!(got.len(), 50);
    for (_, c) in &got {
        let reason = not_checked(&c.verdict);
        assert_eq!(reason, "the URL's host did not answer within 0.5 s; gave up on the host for this batch");
    }
    // Only the first wave (one connection per item in flight, a few spare)
    // ever reached the host: the rest were given up on at once.
    let n = accepted.load(Ordering::SeqCst);
    assert!((1..=16 + 4).contains(&n), "{n} connections for 50 URLs");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_that_never_answers_is_given_up_on_after_one_timeout() {
    fifty_urls_on_a_silent_host("http").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_that_never_finishes_the_tls_handshake_is_given_up_on_too() {
    fifty_urls_on_a_silent_host("https").await;
}
