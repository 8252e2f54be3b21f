//! The shell's listings for reconcile: every asset of a group whose name
//! contains a job's name, read page by page at the library pace, with
//! whether the listing was read whole (only a whole listing can prove a
//! creation absent).

use std::sync::Arc;

use jiff::Timestamp;

use super::pacer::Pacer;
use super::reconcile::Listing;
use crate::api::{AssetQuery, Client, LibraryError, PAGE_MAX};

/// Pages read for one name at most (2,000 assets of one name in one group).
const MAX_PAGES: u32 = 20;

/// Lists group `group`'s assets named like `name`, newest first.
pub async fn list_named(client: &Client, pacer: &Arc<Pacer>, group: &str, name: &str) -> Result<Listing, LibraryError> {
    let at = Timestamp::now();
    let q = AssetQuery {
        group_ids: vec![group.to_string()],
        name: Some(name.to_string()),
        statuses: Vec::new(),
        newest_first: true,
    };
    let (mut assets, mut seen, mut unreadable, mut total) = (Vec::new(), 0u64, 0usize, None);
    for number in 1..=MAX_PAGES {
        let page = crate::library::retried(|| async {
            pacer.until_ready().await;
            client.list_assets(&q, number, PAGE_MAX).await
        })
        .await?;
        let len = page.items.len() + page.unreadable;
        seen += len as u64;
        unreadable += page.unreadable;
        total = page.total.or(total);
        assets.extend(page.items);
        // Read whole: the server's total reached, or a page past the end
        // (a server may cap pages below the size asked for and send no
        // total). An item that could not be read could be the one looked
        // for, so it leaves the listing incomplete.
        if len == 0 || total.is_some_and(|t| seen >= t) {
            return Ok(Listing { assets, complete: unreadable == 0, at });
        }
    }
    Ok(Listing { assets, complete: false, at })
}
