//! Verification of S3 presigned URLs (AWS Signature Version 4, query-string
//! authentication), written from the AWS documentation ("Authenticating
//! Requests: Using Query Parameters") and independent of the client's
//! signing crate, so the tests check one against the other.

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

/// Longest lifetime S3 accepts for a presigned URL.
const MAX_EXPIRES: u64 = 7 * 24 * 3600;
/// How far in the future a request's date may be (clock skew).
const MAX_SKEW_SECS: i64 = 15 * 60;

/// Why a request is refused, as S3 says it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// HTTP status.
    pub status: u16,
    /// S3 error code.
    pub code: &'static str,
    /// S3 error message.
    pub message: String,
}

fn refuse(status: u16, code: &'static str, message: impl Into<String>) -> Refusal {
    Refusal { status, code, message: message.into() }
}

/// The request being checked, as received.
#[derive(Clone, Copy)]
pub struct Request<'a> {
    /// `GET`, `PUT`, `HEAD`…
    pub method: &'a str,
    /// The path, still percent-encoded, as on the request line.
    pub raw_path: &'a str,
    /// The query string, still percent-encoded (without `?`).
    pub raw_query: &'a str,
    /// The request's headers, by lowercase name (`host` included).
    pub header: &'a (dyn Fn(&str) -> Option<String> + Sync),
}

/// The keys the bucket accepts.
#[derive(Debug, Clone, Copy)]
pub struct Keys<'a> {
    /// Access key id.
    pub access_key: &'a str,
    /// Secret access key.
    pub secret_key: &'a str,
    /// The bucket's region.
    pub region: &'a str,
}

/// Checks a presigned request at unix time `now`.
pub fn verify(req: &Request<'_>, keys: &Keys<'_>, now: i64) -> Result<(), Refusal> {
    let params = parse_query(req.raw_query);
    let get = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    if get("X-Amz-Signature").is_none() && get("X-Amz-Credential").is_none() {
        return Err(refuse(403, "AccessDenied", "Access Denied"));
    }
    let missing = |name: &str| {
        refuse(
            400,
            "AuthorizationQueryParametersError",
            format!("Query-string authentication version 4 requires the {name} parameter"),
        )
    };
    let algorithm = get("X-Amz-Algorithm").ok_or_else(|| missing("X-Amz-Algorithm"))?;
    let credential = get("X-Amz-Credential").ok_or_else(|| missing("X-Amz-Credential"))?;
    let amz_date = get("X-Amz-Date").ok_or_else(|| missing("X-Amz-Date"))?;
    let expires = get("X-Amz-Expires").ok_or_else(|| missing("X-Amz-Expires"))?;
    let signed_headers = get("X-Amz-SignedHeaders").ok_or_else(|| missing("X-Amz-SignedHeaders"))?;
    let signature = get("X-Amz-Signature").ok_or_else(|| missing("X-Amz-Signature"))?;
    if algorithm != "AWS4-HMAC-SHA256" {
        return Err(refuse(
            400,
            "AuthorizationQueryParametersError",
            "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"",
        ));
    }
    let scope: Vec<&str> = credential.split('/').collect();
    let [access_key, date, region, service, terminator] = scope[..] else {
        return Err(refuse(400, "AuthorizationQueryParametersError", "the X-Amz-Credential parameter is malformed"));
    };
    if access_key != keys.access_key {
        return Err(refuse(
            403,
            "InvalidAccessKeyId",
            "The AWS Access Key Id you provided does not exist in our records.",
        ));
    }
    if service != "s3" || terminator != "aws4_request" {
        return Err(refuse(
            400,
            "AuthorizationQueryParametersError",
            "the credential scope must end in s3/aws4_request",
        ));
    }
    if region != keys.region {
        return Err(refuse(
            400,
            "AuthorizationQueryParametersError",
            format!("the region '{region}' is wrong; expecting '{}'", keys.region),
        ));
    }
    let signed_at = parse_amz_date(amz_date).ok_or_else(|| {
        refuse(400, "AuthorizationQueryParametersError", "X-Amz-Date must be in the ISO8601 basic format")
    })?;
    if !amz_date.starts_with(date) || date.len() != 8 {
        return Err(refuse(
            400,
            "AuthorizationQueryParametersError",
            "the date in X-Amz-Credential does not match X-Amz-Date",
        ));
    }
    let expires: u64 = expires.parse().ok().filter(|e| (1..=MAX_EXPIRES).contains(e)).ok_or_else(|| {
        refuse(400, "AuthorizationQueryParametersError", "X-Amz-Expires must be between 1 and 604800")
    })?;
    if now > signed_at + expires as i64 {
        return Err(refuse(403, "AccessDenied", "Request has expired"));
    }
    if signed_at > now + MAX_SKEW_SECS {
        return Err(refuse(403, "AccessDenied", "Request is not yet valid"));
    }
    let names: Vec<&str> = signed_headers.split(';').collect();
    if !names.contains(&"host") {
        return Err(refuse(400, "AuthorizationQueryParametersError", "the host header must be signed"));
    }
    let mut headers = String::new();
    for name in &names {
        let value = (req.header)(name).unwrap_or_default();
        headers.push_str(&format!("{name}:{}\n", collapse_spaces(value.trim())));
    }
    let mut query: Vec<(String, String)> = params
        .iter()
        .filter(|(k, _)| k != "X-Amz-Signature")
        .map(|(k, v)| (uri_encode(k, true), uri_encode(v, true)))
        .collect();
    query.sort();
    let query: Vec<String> = query.into_iter().map(|(k, v)| format!("{k}={v}")).collect();
    let canonical_request = format!(
        "{}\n{}\n{}\n{headers}\n{signed_headers}\nUNSIGNED-PAYLOAD",
        req.method,
        uri_encode(&percent_decode(req.raw_path), false),
        query.join("&"),
    );
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{date}/{region}/s3/aws4_request\n{}",
        hex(&Sha256::digest(canonical_request.as_bytes()))
    );
    let mut key = hmac(format!("AWS4{}", keys.secret_key).as_bytes(), date.as_bytes());
    for part in [region, "s3", "aws4_request"] {
        key = hmac(&key, part.as_bytes());
    }
    let expected = hex(&hmac(&key, string_to_sign.as_bytes()));
    if !constant_time_eq(expected.as_bytes(), signature.as_bytes()) {
        return Err(refuse(
            403,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
        ));
    }
    Ok(())
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn collapse_spaces(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `20130524T000000Z` as unix seconds.
fn parse_amz_date(s: &str) -> Option<i64> {
    if s.len() != 16 || !s.is_ascii() || &s[8..9] != "T" || !s.ends_with('Z') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, mo, d) = (num(0..4)?, num(4..6)?, num(6..8)?);
    let (h, mi, se) = (num(9..11)?, num(11..13)?, num(13..15)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    Some(days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + se)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `key=value` pairs of a query string, percent-decoded.
fn parse_query(raw: &str) -> Vec<(String, String)> {
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

/// `%XY` sequences decoded (malformed ones kept as they are), as UTF-8.
pub(crate) fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned()
}

/// AWS's URI encoding: every byte but `A-Za-z0-9-._~` as `%XY` (uppercase),
/// and `/` too unless `encode_slash` is false (paths).
fn uri_encode(s: &str, encode_slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => out.push(b as char),
            b'/' if !encode_slash => out.push('/'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404";
    const KEYS: Keys<'static> = Keys {
        access_key: "AKIAIOSFODNN7EXAMPLE",
        secret_key: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        region: "us-east-1",
    };

    fn host(name: &str) -> Option<String> {
        (name == "host").then(|| "examplebucket.s3.amazonaws.com".to_string())
    }

    fn example(query: &str) -> Request<'_> {
        Request { method: "GET", raw_path: "/test.txt", raw_query: query, header: &host }
    }

    /// The worked example of the AWS S3 documentation, "Authenticating
    /// Requests: Using Query Parameters".
    #[test]
    fn aws_documented_example_verifies() {
        let signed = parse_amz_date("20130524T000000Z").unwrap();
        assert_eq!(signed, 1_369_353_600);
        assert_eq!(verify(&example(EXAMPLE), &KEYS, signed + 10), Ok(()));
        let expired = verify(&example(EXAMPLE), &KEYS, signed + 86_401).unwrap_err();
        assert_eq!(
            (expired.status, expired.code, expired.message.as_str()),
            (403, "AccessDenied", "Request has expired")
        );
    }

    #[test]
    fn tampering_is_refused() {
        let signed = 1_369_353_600 + 10;
        let put = Request { method: "PUT", ..example(EXAMPLE) };
        assert_eq!(verify(&put, &KEYS, signed).unwrap_err().code, "SignatureDoesNotMatch");
        let other = Request { raw_path: "/test2.txt", ..example(EXAMPLE) };
        assert_eq!(verify(&other, &KEYS, signed).unwrap_err().code, "SignatureDoesNotMatch");
        let longer = EXAMPLE.replace("Expires=86400", "Expires=86401");
        assert_eq!(verify(&example(&longer), &KEYS, signed).unwrap_err().code, "SignatureDoesNotMatch");
        let wrong_secret = Keys { secret_key: "x", ..KEYS };
        assert_eq!(verify(&example(EXAMPLE), &wrong_secret, signed).unwrap_err().code, "SignatureDoesNotMatch");
        let wrong_key = Keys { access_key: "AKIAOTHER", ..KEYS };
        assert_eq!(verify(&example(EXAMPLE), &wrong_key, signed).unwrap_err().code, "InvalidAccessKeyId");
        assert_eq!(verify(&example(""), &KEYS, signed).unwrap_err().code, "AccessDenied");
        let no_sig = EXAMPLE.split("&X-Amz-Signature").next().unwrap();
        assert_eq!(verify(&example(no_sig), &KEYS, signed).unwrap_err().code, "AuthorizationQueryParametersError");
    }

    proptest::proptest! {
        /// Whatever arrives, the verifier answers without panicking.
        #[test]
        fn any_request_is_answered(path in ".{0,40}", query in ".{0,200}", date in "[0-9TZ]{0,18}") {
            let q = format!("{query}&X-Amz-Date={date}&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F{date}%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Signature=00");
            let req = Request { method: "GET", raw_path: &path, raw_query: &q, header: &host };
            let _ = verify(&req, &KEYS, 1_369_353_600);
            let req = Request { raw_query: &query, ..req };
            let _ = verify(&req, &KEYS, 1_369_353_600);
        }
    }

    #[test]
    fn encoding_and_dates() {
        assert_eq!(uri_encode("a b/c~", false), "a%20b/c~");
        assert_eq!(uri_encode("a/b", true), "a%2Fb");
        assert_eq!(percent_decode("a%2Fb%zz%4"), "a/b%zz%4");
        assert_eq!(parse_amz_date("19700101T000000Z"), Some(0));
        assert_eq!(parse_amz_date("20000301T000000Z"), Some(951_868_800));
        assert_eq!(parse_amz_date("2013-05-24T00:00"), None);
    }
}
