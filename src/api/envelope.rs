//! Tolerant decoding of every response shape SPEC.md lists: the success
//! envelope, a business error inside a success envelope, a framework error
//! (`state != 1`) and gateway errors (`{"error": {...}}` with HTTP 4xx/5xx).

use std::time::Duration;

use serde::de::DeserializeOwned;
use serde_json::Value;

use super::error::{ApiError, Endpoint, limit_named};
use crate::text::excerpt;

const EXCERPT_CHARS: usize = 160;

/// Turns one HTTP response into the endpoint's `data` or an [`ApiError`].
///
/// A call succeeded only when HTTP is 2xx, `state == 1`, `error` is null or
/// absent, and `data` has no `Code`.
pub fn decode_response<T: DeserializeOwned>(
    endpoint: Endpoint,
    status: u16,
    retry_after: Option<Duration>,
    body: &[u8],
) -> Result<T, ApiError> {
    let text = String::from_utf8_lossy(body);
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let message = || parsed.as_ref().and_then(error_of).unwrap_or_else(|| excerpt(&text, EXCERPT_CHARS));
    let code = || parsed.as_ref().and_then(code_of).unwrap_or_else(|| format!("HTTP {status}"));
    match status {
        401 => return Err(ApiError::Unauthorized { message: message() }),
        // A 403 or 503 is read for a limit only when it names the
        // processing limit or the asset quota outright: a 403 is otherwise
        // the key, and a 503 may come after the request was acted on.
        403 | 503 => {
            let e = match limited(&code(), &message(), retry_after) {
                Some(e @ ApiError::LimitReached { .. }) => e,
                _ if status == 403 => ApiError::Unauthorized { message: message() },
                _ => ApiError::Server { status, message: message() },
            };
            return Err(e);
        }
        429 => return Err(limited(&code(), &message(), retry_after).unwrap_or(ApiError::RateLimited { retry_after })),
        500..=599 => {
            return Err(ApiError::Server { status, message: message() });
        }
        400..=499 => {
            let (code, message) = (code(), message());
            return Err(limited(&code, &message, retry_after).unwrap_or_else(|| rejected(code, message)));
        }
        200..=299 => {}
        _ => {
            return Err(ApiError::Decode {
                endpoint,
                excerpt: format!("unexpected HTTP {status}: {}", excerpt(&text, EXCERPT_CHARS)),
            });
        }
    }
    let decode_err =
        |why: &str| ApiError::Decode { endpoint, excerpt: format!("{why}: {}", excerpt(&text, EXCERPT_CHARS)) };
    let Some(Value::Object(env)) = parsed else {
        return Err(decode_err("not a JSON object"));
    };
    let error = env.get("error").filter(|e| !is_empty(e));
    let state = env.get("state").and_then(Value::as_i64);
    if let Some(error) = error {
        let code = code_of(error).unwrap_or_else(|| format!("state {}", state.unwrap_or(0)));
        let msg = describe_error(error).unwrap_or_default();
        if state != Some(1)
            && let Some(e) = limited(&code, &msg, retry_after)
        {
            return Err(e);
        }
        return Err(match rejected(code, msg) {
            // `state: 1` says it worked, `error` says it did not: it may have.
            ApiError::Rejected { code, message, .. } if state == Some(1) => {
                ApiError::Rejected { code, message, maybe_processed: true }
            }
            other => other,
        });
    }
    match state {
        Some(1) => {}
        Some(other) => {
            return Err(rejected(format!("state {other}"), "the server reported failure".into()));
        }
        None => return Err(decode_err("no `state` in the envelope")),
    }
    let data = env.get("data").cloned().unwrap_or(Value::Null);
    if let Some(code) = data.get("Code").and_then(Value::as_str) {
        let msg = data.get("Message").and_then(Value::as_str).map(|m| excerpt(m, EXCERPT_CHARS)).unwrap_or_default();
        let code = excerpt(code, 60);
        // An error beside an asset or task id contradicts itself: it may exist.
        let has_id = ["Id", "TaskId", "task_id"]
            .iter()
            .any(|k| data.get(*k).and_then(Value::as_str).is_some_and(|v| !v.is_empty()));
        if has_id {
            return Err(ApiError::Rejected { code, message: msg, maybe_processed: true });
        }
        return Err(limited(&code, &msg, retry_after).unwrap_or_else(|| rejected(code, msg)));
    }
    if data.is_null() {
        return Err(decode_err("`data` is null"));
    }
    serde_json::from_value(data).map_err(|e| decode_err(&e.to_string()))
}

/// The refusal as an account limit's, when its code or message names one.
fn limited(code: &str, message: &str, retry_after: Option<Duration>) -> Option<ApiError> {
    Some(match limit_named(code, message)? {
        None => ApiError::RateLimited { retry_after },
        Some(limit) => {
            let message = if message.is_empty() || message.starts_with(code) {
                message.to_string()
            } else {
                format!("{code}: {message}")
            };
            ApiError::LimitReached {
                limit,
                message: if message.is_empty() { code.to_string() } else { message },
                retry_after,
            }
        }
    })
}

/// A rejection, except that `AccessDenied`-style codes mean a bad key.
fn rejected(code: String, message: String) -> ApiError {
    if code == "AccessDenied" || code.starts_with("Unauthorized") || code == "invalid_api_key" {
        ApiError::Unauthorized { message: format!("{code}: {message}") }
    } else {
        ApiError::Rejected { code, message, maybe_processed: false }
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

/// The error text of a whole body: its `error` member, else its `data.Message`.
fn error_of(body: &Value) -> Option<String> {
    body.get("error")
        .filter(|e| !is_empty(e))
        .and_then(describe_error)
        .or_else(|| body.get("data").and_then(|d| d.get("Message")).and_then(describe_error))
}

/// The error code of a body or error value: `code`/`Code`, at the top or under `error`/`data`.
fn code_of(v: &Value) -> Option<String> {
    let direct = ["code", "Code"].iter().find_map(|k| v.get(k)).and_then(|c| match c {
        Value::String(s) => Some(excerpt(s, 60)),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    });
    direct.or_else(|| ["error", "data"].iter().filter_map(|k| v.get(k)).find_map(code_of))
}

/// A human-readable, sanitized text for an error value of any shape: a
/// string, a list of strings, or an object with `message`/`Message` and
/// `code`/`Code`. `None` for null.
pub(crate) fn describe_error(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(excerpt(s, EXCERPT_CHARS)),
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().filter_map(describe_error).collect();
            Some(parts.join("; "))
        }
        Value::Object(o) => {
            let field = |names: [&str; 2]| {
                names.iter().find_map(|n| o.get(*n)).and_then(|x| match x {
                    Value::String(s) => Some(excerpt(s, EXCERPT_CHARS)),
                    Value::Number(n) => Some(n.to_string()),
                    _ => None,
                })
            };
            match (field(["code", "Code"]), field(["message", "Message"])) {
                (Some(c), Some(m)) => Some(format!("{c}: {m}")),
                (None, Some(m)) => Some(m),
                (Some(c), None) => Some(c),
                (None, None) => Some(excerpt(&v.to_string(), EXCERPT_CHARS)),
            }
        }
        other => Some(excerpt(&other.to_string(), EXCERPT_CHARS)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{AssetInfo, AssetStatus, CreatedAsset, CreatedGroup};

    fn get(body: &str) -> Result<AssetInfo, ApiError> {
        decode_response(Endpoint::GetAsset, 200, None, body.as_bytes())
    }

    #[test]
    fn success_envelope() {
        let g: CreatedGroup = decode_response(
            Endpoint::CreateAssetGroup,
            200,
            None,
            br#"{"state":1,"data":{"Id":"group-1","Extra":true},"error":null}"#,
        )
        .unwrap();
        assert_eq!(g.id, "group-1");
    }

    #[test]
    fn business_error_in_success_envelope() {
        let e = get(r#"{"state":1,"data":{"Code":"InvalidParameter.X","Message":"bad x"},"error":null}"#).unwrap_err();
        assert_eq!(
            e,
            ApiError::Rejected { code: "InvalidParameter.X".into(), message: "bad x".into(), maybe_processed: false }
        );
    }

    #[test]
    fn success_state_with_an_error_may_have_been_processed() {
        let e = get(r#"{"state":1,"data":{"Id":"a"},"error":{"code":"E9","message":"odd"}}"#).unwrap_err();
        assert!(matches!(e, ApiError::Rejected { maybe_processed: true, .. }), "{e:?}");
        let e = get(r#"{"state":0,"data":null,"error":{"code":"E9","message":"odd"}}"#).unwrap_err();
        assert!(matches!(e, ApiError::Rejected { maybe_processed: false, .. }), "{e:?}");
    }

    #[test]
    fn framework_error_shapes() {
        for (body, want) in [
            (r#"{"state":0,"data":null,"error":null}"#, "state 0"),
            (r#"{"state":0,"data":null,"error":"boom"}"#, "boom"),
            (r#"{"state":0,"data":null,"error":["a","b"]}"#, "a; b"),
            (r#"{"state":0,"data":null,"error":{"code":"E1","message":"m"}}"#, "E1"),
        ] {
            let e = get(body).unwrap_err();
            assert!(matches!(e, ApiError::Rejected { .. }), "{body}: {e:?}");
            assert!(e.to_string().contains(want), "{body}: {e}");
        }
    }

    #[test]
    fn gateway_errors_by_status() {
        let body = br#"{"error":{"message":"slow down","type":"rate","code":"429"}}"#;
        let e: ApiError =
            decode_response::<AssetInfo>(Endpoint::GetAsset, 429, Some(Duration::from_secs(2)), body).unwrap_err();
        assert_eq!(e, ApiError::RateLimited { retry_after: Some(Duration::from_secs(2)) });
        let e = decode_response::<AssetInfo>(Endpoint::GetAsset, 401, None, br#"{"error":{"message":"bad key"}}"#)
            .unwrap_err();
        assert_eq!(e, ApiError::Unauthorized { message: "bad key".into() });
        let e = decode_response::<AssetInfo>(Endpoint::GetAsset, 502, None, b"<html>bad gateway</html>").unwrap_err();
        assert!(matches!(e, ApiError::Server { status: 502, .. }));
        let e = decode_response::<AssetInfo>(
            Endpoint::CreateAsset,
            404,
            None,
            br#"{"state":0,"data":null,"error":{"code":"NotFound.group_id","message":"no such group"}}"#,
        )
        .unwrap_err();
        assert_eq!(e.code(), Some("NotFound.group_id"));
    }

    #[test]
    fn account_limits_in_every_form_are_not_rejections() {
        use crate::api::AccountLimit;
        let create = |status, body: &str| {
            decode_response::<CreatedAsset>(Endpoint::CreateAsset, status, None, body.as_bytes()).unwrap_err()
        };
        let processing = [
            (429, r#"{"error":{"code":"429","message":"too many concurrent tasks"}}"#),
            (
                200,
                r#"{"state":1,"data":{"Code":"RequestLimitExceeded","Message":"at most 30 creation tasks may be processing at once"},"error":null}"#,
            ),
            (
                400,
                r#"{"state":0,"data":null,"error":{"code":"OperationDenied","message":"同时处理中的创建任务不超过 30 个"}}"#,
            ),
            (400, r#"{"error":{"code":"QuotaExceeded.ConcurrentTasks","message":"quota exceeded"}}"#),
            (403, r#"{"error":{"code":"Forbidden","message":"concurrent task limit reached"}}"#),
            (503, r#"{"error":{"message":"too many tasks in progress, at most 30"}}"#),
            (200, r#"{"state":0,"data":null,"error":"并发任务数超过上限"}"#),
        ];
        for (status, body) in processing {
            let e = create(status, body);
            assert!(
                matches!(e, ApiError::LimitReached { limit: AccountLimit::Processing, .. }),
                "{status} {body}: {e:?}"
            );
            assert!(e.surely_not_processed());
        }
        let e =
            create(400, r#"{"error":{"code":"QuotaExceeded.AssetCount","message":"the account holds 10000 assets"}}"#);
        assert!(matches!(e, ApiError::LimitReached { limit: AccountLimit::Quota, .. }), "{e:?}");
        assert!(e.to_string().contains("10000 assets"), "{e}");
        let e = create(
            200,
            r#"{"state":1,"data":{"Code":"Throttling","Message":"Request was denied due to flow control"}}"#,
        );
        assert_eq!(e, ApiError::RateLimited { retry_after: None });
        // Not limits: a bad key, an input error that says "limit", a 500.
        assert!(matches!(create(403, r#"{"error":{"message":"bad key"}}"#), ApiError::Unauthorized { .. }));
        let e = create(400, r#"{"error":{"code":"InvalidParameter.Size","message":"exceeds the limit of 30 MB"}}"#);
        assert!(matches!(e, ApiError::Rejected { .. }), "{e:?}");
        let e = create(500, r#"{"error":{"message":"too many concurrent tasks"}}"#);
        assert!(matches!(e, ApiError::Server { status: 500, .. }), "{e:?}");
        // A 503 or 403 that names no processing limit or quota keeps its meaning.
        let e = create(503, r#"{"error":{"message":"rate limit exceeded"}}"#);
        assert!(matches!(e, ApiError::Server { status: 503, .. }), "{e:?}");
        let e = create(503, r#"{"error":{"message":"context deadline exceeded"}}"#);
        assert!(matches!(e, ApiError::Server { status: 503, .. }), "{e:?}");
        let e = create(403, r#"{"error":{"code":"Forbidden","message":"无权限访问该资源"}}"#);
        assert!(matches!(e, ApiError::Unauthorized { .. }), "{e:?}");
        let e = create(403, r#"{"error":{"code":"Throttling","message":"too many requests"}}"#);
        assert!(matches!(e, ApiError::Unauthorized { .. }), "{e:?}");
        // A limit's words beside an asset id: it may exist.
        let e = create(
            200,
            r#"{"state":1,"data":{"Id":"asset-1","Code":"LimitExceeded","Message":"too many concurrent tasks"}}"#,
        );
        assert!(matches!(e, ApiError::Rejected { maybe_processed: true, .. }), "{e:?}");
        // A contradictory answer (state 1 and an error) stays "may exist".
        let e = create(
            200,
            r#"{"state":1,"data":{"Id":"a"},"error":{"code":"LimitExceeded","message":"too many concurrent tasks"}}"#,
        );
        assert!(matches!(e, ApiError::Rejected { maybe_processed: true, .. }), "{e:?}");
    }

    #[test]
    fn decode_errors_name_endpoint_and_sanitize() {
        let e = decode_response::<CreatedAsset>(Endpoint::CreateAsset, 200, None, b"\x1b[2J{\"state\":1,").unwrap_err();
        let ApiError::Decode { endpoint, excerpt } = &e else { panic!("{e:?}") };
        assert_eq!(*endpoint, Endpoint::CreateAsset);
        assert!(!excerpt.contains('\x1b'));
        assert!(e.to_string().contains("CreateAsset"));
        let e = get(r#"{"state":1,"data":{"Id":"x"},"error":null}"#).unwrap_err();
        assert!(matches!(e, ApiError::Decode { .. }), "missing Status: {e:?}");
    }

    #[test]
    fn asset_error_as_string_or_object_and_unknown_status() {
        let a = get(r#"{"state":1,"data":{"Status":"Failed","Error":{"Code":"InvalidParameter.FpsTooLow","Message":"fps 12"}}}"#).unwrap();
        assert_eq!(a.status, AssetStatus::Failed);
        assert_eq!(a.error.as_deref(), Some("InvalidParameter.FpsTooLow: fps 12"));
        let a = get(r#"{"state":1,"data":{"Status":"Failed","Error":"download failed"}}"#).unwrap();
        assert_eq!(a.error.as_deref(), Some("download failed"));
        let a = get(r#"{"state":1,"data":{"Status":"Reviewing"}}"#).unwrap();
        assert_eq!(a.status, AssetStatus::Other("Reviewing".into()));
    }
}
