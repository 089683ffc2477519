//! What a stateful handler is and sees. The router looks handlers up and
//! the areas (licenses, members, tags, OAuth, logins, 微信客服, 日程, 微盘)
//! define them; both import this bottom module, so neither has to import
//! the other.

use axum::response::Response;
use serde_json::{Map, Value};

use super::state::{Owner, Shared};
use crate::http::Endpoint;

/// One call as a stateful handler sees it: checked already (token, method,
/// required fields), so a handler only decides the answer.
pub(super) struct Call<'a> {
    /// The emulator's configuration, clock and state.
    pub(super) shared: &'a Shared,
    /// The endpoint called, for its sample.
    pub(super) endpoint: &'a Endpoint,
    /// The JSON body of a POST, the query of a GET.
    pub(super) params: &'a Map<String, Value>,
    /// Whom the call's token was issued to; `None` for an endpoint without one.
    pub(super) caller: Option<&'a Owner>,
}

impl<'a> Call<'a> {
    /// A string parameter, or `""`: WeCom treats a missing one as empty.
    pub(super) fn text(&self, key: &str) -> String {
        self.params.get(key).and_then(Value::as_str).unwrap_or_default().to_owned()
    }

    /// The suite the caller's token acts for, or `""`: what suite-token
    /// endpoints are scoped by.
    pub(super) fn suite(&self) -> &'a str {
        self.caller.and_then(Owner::suite).unwrap_or_default()
    }

    /// The answer to an id the caller's corp does not have: `refusal` when
    /// the emulator issued it (it carries `issued_prefix`, and was deleted
    /// since) or suites are registered; else `None`, for the sample: the id
    /// is a documented sample's made-up one.
    pub(super) fn unknown_id(
        &self,
        id: &str,
        issued_prefix: &str,
        refusal: impl FnOnce() -> Response,
    ) -> Option<Response> {
        self.shared.refuses_unknown(id, Some(issued_prefix)).then(refusal)
    }

    /// The corp of the caller's corp token: what per-corp state is kept by.
    /// `None` for any other caller, which gets the sample.
    pub(super) fn corp(&self) -> Option<&'a str> {
        self.caller.and_then(Owner::corp)
    }
}

/// A stateful answer, or `None` for the endpoint's documented sample.
pub(super) type Handler = fn(&Call<'_>) -> Option<Response>;

/// Endpoints with their handlers: each area's table, which the router joins.
pub(super) type Table = &'static [(&'static Endpoint, Handler)];
