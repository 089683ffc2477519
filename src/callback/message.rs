//! What a handler sees of a push ([`Callback`]), what it answers
//! ([`Reply`]), and the HTTP answer the server makes of it.

use std::fmt;

use serde_json::{Map, Value};

use crate::app::Application;
use crate::events::Event;
use crate::ids::SuiteId;
use crate::secret::RedactedMembers;

/// Which callback URL a request came to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CallbackUrl {
    /// The provider's system-event URL (系统事件接收URL): receive id = the
    /// provider's corp id.
    System,
    /// A suite's command URL (指令回调URL): receive id = the suite id.
    Command(SuiteId),
    /// A suite's data URL (数据回调URL): receive id = the authorizing corp.
    Data(SuiteId),
}

impl CallbackUrl {
    /// `system`, `command` or `data`: what metrics and logs name it by.
    pub fn kind(&self) -> &'static str {
        match self {
            CallbackUrl::System => "system",
            CallbackUrl::Command(_) => "command",
            CallbackUrl::Data(_) => "data",
        }
    }

    pub(crate) fn suite(&self) -> Option<&SuiteId> {
        match self {
            CallbackUrl::System => None,
            CallbackUrl::Command(s) | CallbackUrl::Data(s) => Some(s),
        }
    }
}

/// A verified, decrypted callback, as middleware and handlers see it. Its
/// `Debug` shows the kind, the URL and the field names with their values,
/// except those of secret-named fields (tickets, tokens, auth codes) at any
/// depth, shown as `<redacted>`, and never the decrypted message.
#[derive(Clone)]
pub struct Callback {
    /// The decoded event.
    pub event: Event,
    /// Every element of the message (text trimmed), for fields the event
    /// type does not (yet) declare.
    pub fields: Map<String, Value>,
    /// The URL it came to.
    pub url: CallbackUrl,
    /// The receive id it was encrypted for.
    pub receive_id: String,
    /// The decrypted message, as sent.
    pub message: String,
    /// The application, for handlers that call WeCom or the store.
    pub app: Application,
}

impl fmt::Debug for Callback {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Callback")
            .field("kind", &self.event.kind())
            .field("url", &self.url)
            .field("receive_id", &self.receive_id)
            .field("fields", &RedactedMembers(&self.fields))
            .finish_non_exhaustive()
    }
}

impl Callback {
    /// The text of element `name`.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields.get(name).and_then(Value::as_str).map(str::trim)
    }
}

/// What to answer WeCom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// The bare word `success` (command callbacks must get exactly this).
    Success,
    /// A passive reply message (data callbacks), sent encrypted.
    Message(String),
}

/// The HTTP answer, framework-free.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackResponse {
    /// HTTP status.
    pub status: u16,
    /// `Content-Type`.
    pub content_type: &'static str,
    /// Body.
    pub body: String,
}

impl CallbackResponse {
    pub(crate) fn text(status: u16, body: impl Into<String>) -> Self {
        CallbackResponse { status, content_type: "text/plain; charset=utf-8", body: body.into() }
    }
}
