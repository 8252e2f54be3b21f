//! Every page of a listing, as a stream: the caller prints or acts on each
//! page as it comes, holding one page at a time.

use std::future::Future;
use std::time::Duration;

use futures::Stream;

use crate::api::{AssetInfo, AssetQuery, Client, LibraryError, ListedGroup, PAGE_MAX, Page};

/// Pages read at most (a million items), whatever the server says.
const MAX_PAGES: u32 = 10_000;
/// Tries of a listing call that failed transiently (a 429, a 5xx, a
/// dropped connection): listings are free and change nothing.
const TRIES: u32 = 5;

/// Calls `call` until it succeeds, fails for good, or [`TRIES`] are spent,
/// waiting as the server asks (else 0.5 s, 1 s, 2 s, 4 s).
pub async fn retried<T, F, Fut>(mut call: F) -> Result<T, LibraryError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, LibraryError>>,
{
    let mut tries = 0;
    loop {
        tries += 1;
        match call().await {
            Err(LibraryError::Api(e)) if e.is_transient() && tries < TRIES => {
                let wait = e.retry_after().unwrap_or(Duration::from_millis(250 << tries));
                tokio::time::sleep(wait).await;
            }
            other => return other,
        }
    }
}

/// Where a paged read stands.
struct Cursor {
    next: u32,
    seen: u64,
    done: bool,
}

impl Cursor {
    fn start() -> Cursor {
        Cursor { next: 1, seen: 0, done: false }
    }

    /// Counts a page; the read ends on a page past the end, at the
    /// server's total, at the first error or after [`MAX_PAGES`].
    fn after<T>(&mut self, r: &Result<Page<T>, LibraryError>) {
        self.next += 1;
        self.done = match r {
            Ok(p) => {
                let len = (p.items.len() + p.unreadable) as u64;
                self.seen += len;
                len == 0 || p.total.is_some_and(|t| self.seen >= t) || self.next > MAX_PAGES
            }
            Err(_) => true,
        };
    }
}

/// The assets the account holds, when the server's listing says (one
/// listing of one item: free).
pub async fn held(client: &Client) -> Result<Option<u64>, LibraryError> {
    Ok(client.list_assets(&AssetQuery::default(), 1, 1).await?.total)
}

/// Deletes an asset, settling a lost answer: a transient failure (a 5xx, a
/// dropped connection) is tried again, and an asset the server no longer
/// has counts as deleted, since the first try may have done it.
pub async fn delete_asset(client: &Client, id: &str) -> Result<(), LibraryError> {
    match retried(|| client.delete_asset(id)).await {
        Err(LibraryError::Api(e)) if e.code().is_some_and(|c| c.to_ascii_lowercase().starts_with("notfound")) => Ok(()),
        other => other,
    }
}

/// Renames an asset; a transient failure is tried again (a rename done
/// twice is done once).
pub async fn rename_asset(client: &Client, id: &str, name: &str) -> Result<(), LibraryError> {
    retried(|| client.rename_asset(id, name)).await
}

/// Every asset `q` picks, newest first if it says so, a page at a time.
pub fn assets<'a>(
    client: &'a Client,
    q: &'a AssetQuery,
) -> impl Stream<Item = Result<Page<AssetInfo>, LibraryError>> + 'a {
    futures::stream::unfold(Cursor::start(), move |mut c| async move {
        if c.done {
            return None;
        }
        let r = retried(|| client.list_assets(q, c.next, PAGE_MAX)).await;
        c.after(&r);
        Some((r, c))
    })
}

/// Every group, a page at a time.
pub fn groups(client: &Client) -> impl Stream<Item = Result<Page<ListedGroup>, LibraryError>> + '_ {
    futures::stream::unfold(Cursor::start(), move |mut c| async move {
        if c.done {
            return None;
        }
        let r = retried(|| client.list_groups(c.next, PAGE_MAX)).await;
        c.after(&r);
        Some((r, c))
    })
}
