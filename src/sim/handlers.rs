//! HTTP handlers of the simulator: auth, rate limits, faults, validation.

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::faults::Fault;
use super::state::{Action, SimState};
use crate::api::Endpoint;

pub(crate) fn router(state: Arc<SimState>) -> Router {
    Router::new()
        .route("/v1/seedance/asset/CreateAssetGroup", post(create_group))
        .route("/v1/seedance/asset/CreateAsset", post(create_asset))
        .route("/v1/seedance/asset/GetAsset", post(get_asset))
        .route("/v1/seedance/asset/{action}", post(library))
        .route("/_stats", get(stats))
        .route("/_bucket_stats", get(bucket_stats))
        .route("/media/{name}", get(super::library::serve))
        .fallback(super::bucket::handle)
        .with_state(state)
}

async fn stats(State(sim): State<Arc<SimState>>) -> Response {
    axum::Json(sim.stats()).into_response()
}

async fn bucket_stats(State(sim): State<Arc<SimState>>) -> Response {
    axum::Json(sim.bucket.stats()).into_response()
}

async fn create_group(State(sim): State<Arc<SimState>>, headers: HeaderMap, body: Bytes) -> Response {
    handle(&sim, Op::CreateGroup, &headers, &body).await
}

async fn create_asset(State(sim): State<Arc<SimState>>, headers: HeaderMap, body: Bytes) -> Response {
    handle(&sim, Op::CreateAsset, &headers, &body).await
}

async fn get_asset(State(sim): State<Arc<SimState>>, headers: HeaderMap, body: Bytes) -> Response {
    handle(&sim, Op::GetAsset, &headers, &body).await
}

/// One of the optional endpoints, or an unknown action.
async fn library(
    State(sim): State<Arc<SimState>>,
    axum::extract::Path(action): axum::extract::Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let known = Endpoint::named(&action).filter(|e| Endpoint::OPTIONAL.contains(e));
    match known.filter(|e| !sim.config.absent.contains(e)) {
        Some(e) => handle(&sim, Op::Library(e), &headers, &body).await,
        // Two forms gateways use for a path they do not route.
        None if action.len() % 2 == 0 => (StatusCode::NOT_FOUND, "404 page not found").into_response(),
        None => reply(
            StatusCode::NOT_FOUND,
            json!({"error": {"message": format!("Unknown action {}", crate::text::excerpt(&action, 40)), "type": "invalid_request_error", "code": "not_found"}}),
        ),
    }
}

/// A request the simulator handles: one of the three documented endpoints
/// or an optional one.
#[derive(Clone, Copy, PartialEq)]
enum Op {
    CreateGroup,
    CreateAsset,
    GetAsset,
    Library(Endpoint),
}

impl Op {
    fn action(self) -> Action {
        match self {
            Op::CreateGroup => Action::CreateGroup,
            Op::CreateAsset => Action::CreateAsset,
            Op::GetAsset => Action::GetAsset,
            Op::Library(_) => Action::Library,
        }
    }
}

/// A JSON response with the given status.
fn reply(status: StatusCode, body: Value) -> Response {
    (status, axum::Json(body)).into_response()
}

pub(crate) fn ok(data: Value) -> Response {
    reply(StatusCode::OK, json!({ "state": 1, "data": data, "error": null }))
}

pub(crate) fn fail(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    reply(status, json!({ "state": 0, "data": null, "error": { "code": code, "message": message.into() } }))
}

async fn handle(sim: &SimState, op: Op, headers: &HeaderMap, body: &[u8]) -> Response {
    let action = op.action();
    sim.count_request(action);
    let expected = format!("Bearer {}", sim.config.api_key);
    let authorized = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).is_some_and(|v| v == expected);
    if !authorized {
        sim.count_unauthorized();
        if action == Action::CreateAsset {
            sim.log_create(create_key(body), false);
        }
        return reply(
            StatusCode::UNAUTHORIZED,
            json!({"error": {"message": "invalid api key", "type": "authentication_error", "code": "invalid_api_key"}}),
        );
    }
    if let Err(wait) = sim.check_rate(action) {
        if action == Action::CreateAsset {
            sim.log_create(create_key(body), false);
        }
        let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
        let mut resp = reply(
            StatusCode::TOO_MANY_REQUESTS,
            json!({"error": {"message": "rate limit exceeded", "type": "rate_limit", "code": "429"}}),
        );
        resp.headers_mut().insert(header::RETRY_AFTER, secs.into());
        return resp;
    }
    let fault = sim.roll_fault(action);
    if let Some(f) = fault.filter(|f| !f.after_processing()) {
        if action == Action::CreateAsset {
            sim.log_create(create_key(body), false);
        }
        return early_fault(sim, f);
    }
    let ambiguous = fault.is_some();
    let resp = match serde_json::from_slice::<Value>(body) {
        Err(e) => fail(StatusCode::BAD_REQUEST, "InvalidParameter.Body", format!("body is not JSON: {e}")),
        Ok(req) => match op {
            Op::CreateGroup => do_create_group(sim, &req),
            Op::CreateAsset => do_create_asset(sim, &req, ambiguous).await,
            Op::GetAsset => do_get_asset(sim, &req).await,
            Op::Library(e) => super::catalog::answer(sim, e, &req),
        },
    };
    match fault {
        None => resp,
        Some(Fault::Server500) => fail(StatusCode::INTERNAL_SERVER_ERROR, "InternalError", "internal error"),
        Some(Fault::Server502) => fail(StatusCode::BAD_GATEWAY, "BadGateway", "bad gateway"),
        Some(Fault::Server503After) => fail(StatusCode::SERVICE_UNAVAILABLE, "ServiceUnavailable", "try again later"),
        Some(Fault::Server504) => fail(StatusCode::GATEWAY_TIMEOUT, "GatewayTimeout", "upstream timed out"),
        Some(Fault::Dropped) => {
            let stream = futures::stream::once(async {
                Err::<Bytes, std::io::Error>(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "dropped"))
            });
            Response::builder()
                .status(StatusCode::OK)
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from_stream(stream))
                .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
        }
        Some(Fault::Slow) => {
            tokio::time::sleep(super::slow_delay(&sim.config)).await;
            resp
        }
        Some(Fault::Truncated) => {
            // Half of the real body, then the connection ends: the
            // Content-Length promised more.
            let full = axum::body::to_bytes(resp.into_body(), 1 << 20).await.unwrap_or_default();
            let half = full.slice(..full.len() / 2);
            let len = full.len().max(1);
            let stream = futures::stream::iter([
                Ok::<Bytes, std::io::Error>(half),
                Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "truncated")),
            ]);
            Response::builder()
                .status(StatusCode::OK)
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::CONTENT_LENGTH, len)
                .body(Body::from_stream(stream))
                .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
        }
        Some(Fault::NoTaskId) => ok(json!({ "Id": "", "task_id": "" })),
        Some(_) => (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], r#"{"state":1,"data":{"Id":"asset-"#)
            .into_response(),
    }
}

/// Faults that come before the request is processed.
fn early_fault(sim: &SimState, fault: Fault) -> Response {
    match fault {
        Fault::Server503 => fail(StatusCode::SERVICE_UNAVAILABLE, "ServiceUnavailable", "try again later"),
        Fault::Server429 => {
            let mut resp = reply(
                StatusCode::TOO_MANY_REQUESTS,
                json!({"error": {"message": "rate limit exceeded", "type": "rate_limit", "code": "429"}}),
            );
            resp.headers_mut().insert(header::RETRY_AFTER, 1.into());
            resp
        }
        Fault::Business => ok(json!({"Code": "InvalidParameter.Simulated", "Message": "simulated business error"})),
        Fault::Framework => {
            let shapes = [
                Value::Null,
                json!("simulated framework error"),
                json!(["simulated", "framework error"]),
                json!({"code": "FrameworkError", "message": "simulated framework error"}),
            ];
            let error = shapes[sim.random_index(shapes.len())].clone();
            reply(StatusCode::OK, json!({"state": 0, "data": null, "error": error}))
        }
        _ => reply(
            StatusCode::BAD_REQUEST,
            json!({"error": {"message": "simulated gateway error", "type": "invalid_request_error", "code": "gateway_error"}}),
        ),
    }
}

/// `GroupId|URL|Name` of a CreateAsset body, for the simulator's log.
fn create_key(body: &[u8]) -> String {
    let req: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let field = |n| str_field(&req, n).unwrap_or_default();
    format!("{}|{}|{}", field("GroupId"), field("URL"), field("Name"))
}

pub(crate) fn str_field<'a>(req: &'a Value, name: &str) -> Option<&'a str> {
    req.get(name).and_then(Value::as_str)
}

fn do_create_group(sim: &SimState, req: &Value) -> Response {
    let name = str_field(req, "Name").unwrap_or_default();
    if name.trim().is_empty() {
        return fail(StatusCode::BAD_REQUEST, "InvalidParameter.Name", "Name is required");
    }
    if name.chars().count() > 64 {
        return fail(StatusCode::BAD_REQUEST, "InvalidParameter.Name", "Name is longer than 64 characters");
    }
    if str_field(req, "Description").is_some_and(|d| d.chars().count() > 300) {
        return fail(
            StatusCode::BAD_REQUEST,
            "InvalidParameter.Description",
            "Description is longer than 300 characters",
        );
    }
    ok(json!({ "Id": sim.add_group(name) }))
}

async fn do_create_asset(sim: &SimState, req: &Value, ambiguous: bool) -> Response {
    let field = |n| str_field(req, n).unwrap_or_default();
    let (group, url, kind, name) = (field("GroupId"), field("URL"), field("AssetType"), field("Name"));
    let resp = validate_and_create(sim, group, url, kind, name, ambiguous).await;
    sim.log_create(format!("{group}|{url}|{name}"), resp.status().is_success());
    resp
}

async fn validate_and_create(
    sim: &SimState,
    group: &str,
    url: &str,
    kind: &str,
    name: &str,
    ambiguous: bool,
) -> Response {
    if name.trim().is_empty() || name.chars().count() > 64 {
        return fail(StatusCode::BAD_REQUEST, "InvalidParameter.Name", "Name must be 1 to 64 characters");
    }
    if !["Image", "Video", "Audio"].contains(&kind) {
        return fail(StatusCode::BAD_REQUEST, "InvalidParameter.AssetType", "AssetType must be Image, Video or Audio");
    }
    // Loopback URLs (the simulator's bucket, a test server) may be http.
    let parsed = url::Url::parse(url).ok();
    let local = parsed.as_ref().is_some_and(super::fetch::is_loopback_url);
    let https = parsed.is_some_and(|u| u.scheme() == "https" && u.host().is_some());
    if !https && !local {
        return fail(StatusCode::BAD_REQUEST, "InvalidParameter.URL", "URL must be a public https URL");
    }
    if !sim.has_group(group) {
        return fail(StatusCode::NOT_FOUND, "NotFound.group_id", format!("group `{group}` does not exist"));
    }
    if let Some(refused) = sim.limit_refusal() {
        return refused;
    }
    let download_failure = if local { super::fetch::check(sim, url, kind).await } else { None };
    let (id, task) = sim.create_asset(group, url, kind, name, ambiguous, download_failure);
    ok(json!({ "Id": id, "task_id": task }))
}

async fn do_get_asset(sim: &SimState, req: &Value) -> Response {
    let task = str_field(req, "task_id").unwrap_or_default();
    let _look = sim.look_begins(task);
    if sim.config.get_delay_ms > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(sim.config.get_delay_ms)).await;
    }
    let Some(a) = sim.get_asset(task) else {
        return fail(StatusCode::NOT_FOUND, "NotFound.task_id", format!("task `{task}` does not exist"));
    };
    let done = Instant::now() >= a.ready_at;
    let (status, error) = match (&a.failure, done) {
        (_, false) => ("Processing", Value::Null),
        (None, true) => ("Active", Value::Null),
        (Some((code, msg)), true) if sim.config.string_errors => ("Failed", json!(format!("{code}: {msg}"))),
        (Some((code, msg)), true) => ("Failed", json!({"Code": code, "Message": msg})),
    };
    if status == "Active" {
        sim.answered_active(task);
    }
    let updated = if done { a.ready_time } else { a.created };
    ok(json!({
        "Id": a.id,
        "Name": a.name,
        "URL": if status == "Active" { format!("https://sim.invalid/processed/{}", a.id) } else { a.url.clone() },
        "AssetType": a.asset_type,
        "GroupId": a.group_id,
        "Status": status,
        "CreateTime": a.created.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "UpdateTime": updated.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "Error": error,
    }))
}
