//! The optional library endpoints (SPEC.md, "Optional endpoints"):
//! ListAssets, ListAssetGroups, UpdateAsset, DeleteAsset and
//! DeleteAssetGroup, in the upstream's shapes inside this API's envelope.
//! Listings are free; nothing here creates anything. Pages are read item
//! by item, so one item of a strange shape is counted, not fatal. Text is
//! kept as the server sent it: front ends sanitize what they show.

use serde::Serialize;
use serde_json::{Value, json};

use super::client::Client;
use super::error::{Endpoint, LibraryError};
use super::types::AssetInfo;

/// The most items a page may hold (the upstream's limit).
pub const PAGE_MAX: u32 = 100;

/// What a listing of assets picks; every part empty picks all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AssetQuery {
    /// Only these groups.
    pub group_ids: Vec<String>,
    /// Only names containing this (the server matches substrings).
    pub name: Option<String>,
    /// Only these statuses (`Active`, `Processing`, `Failed`).
    pub statuses: Vec<String>,
    /// Newest first (by creation time) instead of the server's order.
    pub newest_first: bool,
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The items that could be read.
    pub items: Vec<T>,
    /// Items of a shape that could not be read (skipped).
    pub unreadable: usize,
    /// The server's count of every item the filter picks, when it sent one.
    pub total: Option<u64>,
}

/// A group as ListAssetGroups shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListedGroup {
    /// The group id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its description, if any.
    pub description: Option<String>,
}

/// Reads a count sent as a number or as a string of digits.
fn count(v: Option<&Value>) -> Option<u64> {
    match v? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Splits a page's `data` into readable items and a count of the others.
fn page<T>(data: &Value, read: impl Fn(&Value) -> Option<T>) -> Page<T> {
    let raw = data.get("Items").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    let items: Vec<T> = raw.iter().filter_map(&read).collect();
    Page { unreadable: raw.len() - items.len(), items, total: count(data.get("TotalCount")) }
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_string)
}

fn group(v: &Value) -> Option<ListedGroup> {
    Some(ListedGroup {
        id: text(v, "Id").filter(|s| !s.is_empty())?,
        name: text(v, "Name")?,
        description: text(v, "Description"),
    })
}

fn asset(v: &Value) -> Option<AssetInfo> {
    let a: AssetInfo = serde_json::from_value(v.clone()).ok()?;
    a.id.as_ref().is_some_and(|id| !id.is_empty()).then_some(a)
}

impl Client {
    /// ListAssets: page `number` (from 1) of `size` (at most [`PAGE_MAX`]).
    pub async fn list_assets(&self, q: &AssetQuery, number: u32, size: u32) -> Result<Page<AssetInfo>, LibraryError> {
        let mut filter = serde_json::Map::new();
        if !q.group_ids.is_empty() {
            filter.insert("GroupIds".into(), json!(q.group_ids));
        }
        if let Some(n) = q.name.as_ref().filter(|n| !n.is_empty()) {
            filter.insert("Name".into(), json!(n));
        }
        if !q.statuses.is_empty() {
            filter.insert("Statuses".into(), json!(q.statuses));
        }
        let mut body = json!({ "Filter": filter, "PageNumber": number.max(1), "PageSize": size.clamp(1, PAGE_MAX) });
        if q.newest_first {
            body["SortBy"] = json!("CreateTime");
            body["SortOrder"] = json!("Desc");
        }
        let data: Value = self.call_optional(Endpoint::ListAssets, &body).await?;
        Ok(page(&data, asset))
    }

    /// ListAssetGroups: page `number` (from 1) of `size`.
    pub async fn list_groups(&self, number: u32, size: u32) -> Result<Page<ListedGroup>, LibraryError> {
        let body = json!({ "Filter": {}, "PageNumber": number.max(1), "PageSize": size.clamp(1, PAGE_MAX) });
        let data: Value = self.call_optional(Endpoint::ListAssetGroups, &body).await?;
        Ok(page(&data, group))
    }

    /// UpdateAsset: renames an asset.
    pub async fn rename_asset(&self, id: &str, name: &str) -> Result<(), LibraryError> {
        let _: Value = self.call_optional(Endpoint::UpdateAsset, &json!({ "Id": id, "Name": name })).await?;
        Ok(())
    }

    /// DeleteAsset.
    pub async fn delete_asset(&self, id: &str) -> Result<(), LibraryError> {
        let _: Value = self.call_optional(Endpoint::DeleteAsset, &json!({ "Id": id })).await?;
        Ok(())
    }

    /// DeleteAssetGroup (the server refuses a group that is not empty).
    pub async fn delete_group(&self, id: &str) -> Result<(), LibraryError> {
        let _: Value = self.call_optional(Endpoint::DeleteAssetGroup, &json!({ "Id": id })).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_keep_what_they_can_read() {
        let data = json!({"Items": [
            {"Id": "asset-1", "Name": "a", "Status": "Active", "GroupId": "g"},
            {"Id": 7, "Status": "Active"},
            {"Id": "asset-2", "Name": "b\u{1b}[2J", "Status": "Processing"},
            {"Id": "", "Status": "Active"},
            "nonsense"
        ], "TotalCount": "12"});
        let p = page(&data, asset);
        assert_eq!(p.items.len(), 2);
        assert_eq!(p.unreadable, 3);
        assert_eq!(p.total, Some(12));
        let g = page(&json!({"Items": [{"Id": "g1", "Name": "x"}, {"Name": "no id"}]}), group);
        assert_eq!(g.items, vec![ListedGroup { id: "g1".into(), name: "x".into(), description: None }]);
        assert_eq!((g.unreadable, g.total), (1, None));
        assert_eq!(page(&json!({}), asset).items.len(), 0);
    }
}
