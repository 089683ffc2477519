//! What `message.send` reports about recipients it could not reach: WeCom
//! joins them with `|` in one string per kind; these give them as lists.
//!
//! The message itself is one [`AppMessage`](crate::api::message::types::AppMessage)
//! variant per `msgtype`, each with its own content type, so a kind and a
//! content that do not belong together do not compile:
//!
//! ```compile_fail
//! use wecom_openwork::api::message::types::{AppMessage, ImageContent};
//! let wrong = AppMessage::Text { text: ImageContent::new("MEDIA_ID") };
//! ```

use crate::api::message::types::SendMessageReply;

/// The non-empty items of a `|`-separated list, trimmed.
fn split_list(list: Option<&str>) -> Vec<&str> {
    list.map(|l| l.split('|').map(str::trim).filter(|s| !s.is_empty()).collect()).unwrap_or_default()
}

impl SendMessageReply {
    /// The userids WeCom could not reach (unknown, or outside the app's
    /// visible range).
    pub fn invalid_users(&self) -> Vec<&str> {
        split_list(self.invaliduser.as_deref())
    }

    /// The department ids WeCom could not reach.
    pub fn invalid_parties(&self) -> Vec<&str> {
        split_list(self.invalidparty.as_deref())
    }

    /// The tag ids WeCom could not reach.
    pub fn invalid_tags(&self) -> Vec<&str> {
        split_list(self.invalidtag.as_deref())
    }

    /// The userids skipped because they hold no basic licence (接口许可).
    pub fn unlicensed_users(&self) -> Vec<&str> {
        split_list(self.unlicenseduser.as_deref())
    }

    /// Whether every recipient was reached.
    pub fn reached_everyone(&self) -> bool {
        [&self.invaliduser, &self.invalidparty, &self.invalidtag, &self.unlicenseduser]
            .iter()
            .all(|list| split_list(list.as_deref()).is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::split_list;

    #[test]
    fn lists_split_on_bars_and_skip_blanks() {
        assert_eq!(split_list(Some("a|b| c |")), vec!["a", "b", "c"]);
        assert!(split_list(Some("")).is_empty());
        assert!(split_list(None).is_empty());
    }
}
