//! The optional library endpoints, as the upstream asset library shapes
//! them inside this API's envelope: ListAssets, ListAssetGroups,
//! UpdateAsset, DeleteAsset and DeleteAssetGroup. Listings
//! lag creations by `--listing-lag-ms`, as the upstream's "may lag by some
//! seconds" says; `--absent NAME` makes an endpoint answer 404 as a
//! gateway without it does.

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use super::handlers::{fail, ok, str_field};
use super::state::{SimAsset, SimState};
use crate::api::Endpoint;

/// The status an asset shows now.
fn status(a: &SimAsset, now: Instant) -> &'static str {
    match (now >= a.ready_at, &a.failure) {
        (false, _) => "Processing",
        (true, None) => "Active",
        (true, Some(_)) => "Failed",
    }
}

fn time(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn item(a: &SimAsset, now: Instant) -> Value {
    let status = status(a, now);
    let updated = if status == "Processing" { a.created } else { a.ready_time };
    // As GetAsset shows it: the processed asset's URL once Active.
    let url = if status == "Active" { format!("https://sim.invalid/processed/{}", a.id) } else { a.url.clone() };
    json!({
        "Id": a.id, "Name": a.name, "URL": url, "AssetType": a.asset_type, "GroupId": a.group_id,
        "Status": status, "CreateTime": time(a.created), "UpdateTime": time(updated),
    })
}

/// `(page number from 1, page size 1..=100)`, or `None` for bad paging.
fn paging(req: &Value) -> Option<(usize, usize)> {
    let number = req.get("PageNumber").map_or(Some(1), Value::as_u64).filter(|n| *n >= 1)?;
    let size = req.get("PageSize").map_or(Some(10), Value::as_u64).filter(|n| (1..=100).contains(n))?;
    Some((number as usize, size as usize))
}

fn bad_paging() -> Response {
    fail(StatusCode::BAD_REQUEST, "InvalidParameter.PageSize", "PageNumber must be at least 1 and PageSize 1 to 100")
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
        .unwrap_or_default()
}

fn paged(all: Vec<Value>, number: usize, size: usize) -> Response {
    let total = all.len();
    let items: Vec<Value> = all.into_iter().skip((number - 1) * size).take(size).collect();
    ok(json!({ "Items": items, "TotalCount": total, "PageNumber": number, "PageSize": size }))
}

/// Answers one library request.
pub(crate) fn answer(sim: &SimState, endpoint: Endpoint, req: &Value) -> Response {
    let lag = Duration::from_millis(sim.config.listing_lag_ms);
    let now = Instant::now();
    let mut inner = sim.lock();
    match endpoint {
        Endpoint::ListAssets => {
            let Some((number, size)) = paging(req) else { return bad_paging() };
            let filter = req.get("Filter").cloned().unwrap_or(Value::Null);
            let groups = strings(filter.get("GroupIds"));
            let statuses = strings(filter.get("Statuses"));
            let name = filter.get("Name").and_then(Value::as_str).unwrap_or_default();
            let mut picked: Vec<&SimAsset> = inner
                .assets
                .values()
                .filter(|a| a.created_at + lag <= now)
                .filter(|a| groups.is_empty() || groups.contains(&a.group_id))
                .filter(|a| statuses.is_empty() || statuses.iter().any(|s| s == status(a, now)))
                .filter(|a| a.name.contains(name))
                .collect();
            let desc = str_field(req, "SortOrder") == Some("Desc");
            picked.sort_by_key(|a| a.seq);
            if desc {
                picked.reverse();
            }
            paged(picked.into_iter().map(|a| item(a, now)).collect(), number, size)
        }
        Endpoint::ListAssetGroups => {
            let Some((number, size)) = paging(req) else { return bad_paging() };
            let mut groups: Vec<(&String, &String)> = inner.groups.iter().collect();
            groups.sort();
            let all = groups.into_iter().map(|(id, name)| json!({"Id": id, "Name": name, "Description": ""})).collect();
            paged(all, number, size)
        }
        Endpoint::UpdateAsset => {
            let (id, name) = (str_field(req, "Id").unwrap_or_default(), str_field(req, "Name").unwrap_or_default());
            if name.trim().is_empty() || name.chars().count() > 64 {
                return fail(StatusCode::BAD_REQUEST, "InvalidParameter.Name", "Name must be 1 to 64 characters");
            }
            match inner.assets.values_mut().find(|a| a.id == id) {
                Some(a) => {
                    a.name = name.to_string();
                    ok(json!({ "Id": id }))
                }
                None => fail(StatusCode::NOT_FOUND, "NotFound.Id", format!("asset `{id}` does not exist")),
            }
        }
        Endpoint::DeleteAsset => {
            let id = str_field(req, "Id").unwrap_or_default();
            let before = inner.assets.len();
            inner.assets.retain(|_, a| a.id != id);
            if inner.assets.len() == before {
                return fail(StatusCode::NOT_FOUND, "NotFound.Id", format!("asset `{id}` does not exist"));
            }
            inner.stats.assets_deleted += 1;
            ok(json!({ "Id": id }))
        }
        Endpoint::DeleteAssetGroup => {
            let id = str_field(req, "Id").unwrap_or_default();
            if !inner.groups.contains_key(id) {
                return fail(StatusCode::NOT_FOUND, "NotFound.GroupId", format!("group `{id}` does not exist"));
            }
            if inner.assets.values().any(|a| a.group_id == id) {
                return fail(
                    StatusCode::BAD_REQUEST,
                    "OperationDenied.GroupNotEmpty",
                    format!("group `{id}` still holds assets"),
                );
            }
            inner.groups.remove(id);
            ok(json!({ "Id": id }))
        }
        _ => fail(StatusCode::NOT_FOUND, "InvalidAction", format!("unknown action {endpoint}")),
    }
}
