//! The signer (rusty-s3) against the AWS SigV4 presigned-URL example, and
//! against the simulator's independent verifier.

use std::time::Duration;

use rusty_s3::S3Action;
use seedance_assets::sim::sigv4::{Keys, Request, verify};

const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const EXPECTED: &str = "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404";

/// AWS S3 docs, "Authenticating Requests: Using Query Parameters": GET
/// /test.txt from examplebucket, signed 2013-05-24T00:00:00Z for 86400 s.
#[test]
fn signer_matches_the_aws_documented_example() {
    let bucket = rusty_s3::Bucket::new(
        "https://s3.amazonaws.com".parse().unwrap(),
        rusty_s3::UrlStyle::VirtualHost,
        "examplebucket",
        "us-east-1",
    )
    .unwrap();
    let creds = rusty_s3::Credentials::new("AKIAIOSFODNN7EXAMPLE", SECRET);
    let at = jiff02::Timestamp::from_second(1_369_353_600).unwrap();
    let url = rusty_s3::actions::GetObject::new(&bucket, Some(&creds), "test.txt")
        .sign_with_time(Duration::from_secs(86_400), &at);
    assert_eq!(url.host_str(), Some("examplebucket.s3.amazonaws.com"));
    assert_eq!(url.path(), "/test.txt");
    let signature = url.query_pairs().find(|(k, _)| k == "X-Amz-Signature").unwrap().1.into_owned();
    assert_eq!(signature, EXPECTED);

    // The simulator's verifier, written separately from the spec, accepts
    // it while it is valid, and not after.
    let host = |name: &str| (name == "host").then(|| "examplebucket.s3.amazonaws.com".to_string());
    let req = Request { method: "GET", raw_path: url.path(), raw_query: url.query().unwrap(), header: &host };
    let keys = Keys { access_key: "AKIAIOSFODNN7EXAMPLE", secret_key: SECRET, region: "us-east-1" };
    assert_eq!(verify(&req, &keys, 1_369_353_600 + 86_400), Ok(()));
    assert_eq!(verify(&req, &keys, 1_369_353_600 + 86_401).unwrap_err().message, "Request has expired");
    let head = Request { method: "HEAD", ..req };
    assert_eq!(verify(&head, &keys, 1_369_353_600).unwrap_err().code, "SignatureDoesNotMatch");
}

/// Keys with characters that need encoding sign and verify alike.
#[test]
fn signer_and_verifier_agree_on_encoded_keys() {
    let bucket =
        rusty_s3::Bucket::new("http://127.0.0.1:9000".parse().unwrap(), rusty_s3::UrlStyle::Path, "b", "eu-west-3")
            .unwrap();
    let creds = rusty_s3::Credentials::new("AK", "SK");
    let at = jiff02::Timestamp::from_second(1_700_000_000).unwrap();
    let keys = Keys { access_key: "AK", secret_key: "SK", region: "eu-west-3" };
    for key in ["p/sha256-ab.png", "a b/ü+&=.jpg", "x~y_z-1.2/(c)'!*.mov"] {
        let url =
            rusty_s3::actions::PutObject::new(&bucket, Some(&creds), key).sign_with_time(Duration::from_secs(600), &at);
        let host = |name: &str| (name == "host").then(|| "127.0.0.1:9000".to_string());
        let req = Request { method: "PUT", raw_path: url.path(), raw_query: url.query().unwrap(), header: &host };
        assert_eq!(verify(&req, &keys, 1_700_000_100), Ok(()), "{key}: {url}");
    }
}
