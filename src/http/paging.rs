//! Cursor paging as a stream: a list endpoint that answers `next_cursor`
//! is walked page by page without a hand-written loop. WeCom's rule: pass
//! the previous page's `next_cursor` as `cursor`; an empty or missing one
//! means the last page.

use std::future::Future;

use futures_util::stream::{self, Stream};

use crate::error::Error;

/// A reply page that says where the next one starts.
pub trait CursorPage {
    /// The next page's cursor; `None` or empty on the last page.
    fn next_cursor(&self) -> Option<&str>;
}

/// Every page of a cursor-paged list, in order: `fetch(None)` for the
/// first, then `fetch(Some(next_cursor))` until a page has no next cursor.
/// The stream ends after the first error (which it yields). A cursor that
/// comes back unchanged ends it too, so a misbehaving server cannot loop it.
pub fn cursor_pages<R, F, Fut>(fetch: F) -> impl Stream<Item = Result<R, Error>>
where
    R: CursorPage,
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<R, Error>>,
{
    enum Next {
        Page(Option<String>),
        Done,
    }
    stream::unfold((fetch, Next::Page(None)), |(mut fetch, next)| async move {
        let Next::Page(cursor) = next else { return None };
        match fetch(cursor.clone()).await {
            Ok(page) => {
                let following = match page.next_cursor().filter(|c| !c.is_empty()) {
                    Some(c) if Some(c) != cursor.as_deref() => Next::Page(Some(c.to_owned())),
                    _ => Next::Done,
                };
                Some((Ok(page), (fetch, following)))
            }
            Err(error) => Some((Err(error), (fetch, Next::Done))),
        }
    })
}
