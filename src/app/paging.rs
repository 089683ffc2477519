//! The paged list endpoints of the generated groups, as streams of pages.

use futures_util::stream::Stream;

use crate::api::groupchat::types::GroupChatList;
use crate::api::groupchat::CorpGroupchat;
use crate::api::user::types::{DeptUserPage, ListIdRequest};
use crate::api::user::CorpUser;
use crate::error::Error;
use crate::http::{cursor_pages, CursorPage};

impl CursorPage for DeptUserPage {
    fn next_cursor(&self) -> Option<&str> {
        self.next_cursor.as_deref()
    }
}

impl CursorPage for GroupChatList {
    fn next_cursor(&self) -> Option<&str> {
        self.next_cursor.as_deref()
    }
}

impl CorpUser<'_> {
    /// Every page of `list_id` (`limit` members a page): the loop over
    /// `next_cursor` written once.
    pub fn list_id_pages(&self, limit: i64) -> impl Stream<Item = Result<DeptUserPage, Error>> + '_ {
        cursor_pages(move |cursor| async move {
            let request = match cursor {
                Some(cursor) => ListIdRequest::new().limit(limit).cursor(cursor),
                None => ListIdRequest::new().limit(limit),
            };
            self.list_id(&request).await
        })
    }
}

impl CorpGroupchat<'_> {
    /// Every page of the group-chat `list`: `request` is the first page's
    /// filter and limit; the cursor is filled in for each page.
    pub fn list_pages(
        &self,
        request: crate::api::groupchat::types::GroupChatListRequest,
    ) -> impl Stream<Item = Result<GroupChatList, Error>> + '_ {
        cursor_pages(move |cursor| {
            let request = match cursor {
                Some(cursor) => request.clone().cursor(cursor),
                None => request.clone(),
            };
            async move { self.list(&request).await }
        })
    }
}
