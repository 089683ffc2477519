//! What the runtime knows about an endpoint: the descriptor every generated
//! method passes to it.

use std::fmt;

use crate::ids::AppKind;

/// HTTP method of an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HttpMethod {
    /// `GET`.
    Get,
    /// `POST` with a JSON body.
    Post,
}

impl HttpMethod {
    /// `"GET"` or `"POST"`.
    pub fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Post => "POST",
        }
    }
}

impl fmt::Display for HttpMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which access token an endpoint's URL carries. Exactly one, or none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TokenKind {
    /// The provider access token (provider corpid + provider secret).
    Provider,
    /// A suite access token (suite secret + suite ticket).
    Suite,
    /// An authorizing corp's access token (obtained with its permanent code).
    Corp,
    /// The one-time `access_token` of a corp registered through the
    /// provider's registration link, from the `register_corp` callback or
    /// `get_register_info`: the caller passes it; the runtime does not
    /// fetch or keep it.
    Registration,
    /// No token: the calls that obtain tokens.
    None,
}

impl TokenKind {
    /// `"provider"`, `"suite"`, `"corp"` or `"none"`, as in the specs.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::Provider => "provider",
            TokenKind::Suite => "suite",
            TokenKind::Corp => "corp",
            TokenKind::Registration => "registration",
            TokenKind::None => "none",
        }
    }

    /// The URL query parameter WeCom reads this kind of token from
    /// (`provider_access_token`, `suite_access_token`, `access_token`); none
    /// for [`TokenKind::None`]. The one table of these names.
    pub fn query_name(self) -> Option<&'static str> {
        match self {
            TokenKind::Provider => Some("provider_access_token"),
            TokenKind::Suite => Some("suite_access_token"),
            TokenKind::Corp | TokenKind::Registration => Some("access_token"),
            TokenKind::None => None,
        }
    }

    /// Every kind that puts a token on the URL.
    pub const WITH_TOKEN: [TokenKind; 4] =
        [TokenKind::Provider, TokenKind::Suite, TokenKind::Corp, TokenKind::Registration];
}

impl fmt::Display for TokenKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an endpoint's response body can be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResponseFormat {
    /// Always JSON.
    Json,
    /// Binary content (e.g. a PNG) on success, JSON otherwise; see [`crate::Payload`].
    JsonOrBinary,
    /// A file, streamed to the caller as it arrives ([`crate::Download`]); a
    /// JSON body in its place is WeCom's error.
    Download,
}

/// How an upload endpoint takes its file: the form field, and the sizes
/// WeCom accepts (checked before sending, so a refused file costs no call).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct UploadRule {
    /// The `multipart/form-data` field WeCom reads the file from.
    pub field: &'static str,
    /// The smallest file accepted, in bytes.
    pub min_bytes: u64,
    /// The largest file accepted, in bytes, whatever its kind.
    pub max_bytes: u64,
    /// The query parameter whose value picks a limit from `limits`.
    pub limit_by: Option<&'static str>,
    /// Limits by the value of `limit_by` (e.g. `("voice", 2 MiB)`).
    pub limits: &'static [(&'static str, u64)],
}

impl UploadRule {
    /// The largest file accepted, given the call's query parameters.
    pub fn max_for(&self, query: &[(String, String)]) -> u64 {
        let Some(param) = self.limit_by else { return self.max_bytes };
        let value = query.iter().find(|(k, _)| k == param).map(|(_, v)| v.as_str());
        self.limits.iter().find(|(v, _)| Some(*v) == value).map_or(self.max_bytes, |(_, limit)| *limit)
    }
}

/// A spec'd endpoint, as generated from `spec/<group>.yaml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Endpoint {
    /// The spec group (module under [`crate::api`]).
    pub group: &'static str,
    /// The method name.
    pub name: &'static str,
    /// One line on what it does.
    pub summary: &'static str,
    /// URL of the official documentation page.
    pub doc: &'static str,
    /// HTTP method.
    pub method: HttpMethod,
    /// Path below the API host.
    pub path: &'static str,
    /// The token the URL carries.
    pub token: TokenKind,
    /// The token's URL query name, `None` when the endpoint takes no token.
    pub token_param: Option<&'static str>,
    /// What the response body can be.
    pub response_format: ResponseFormat,
    /// For an upload (`multipart/form-data`), its field and size limits.
    pub upload: Option<UploadRule>,
    /// Whether repeating the request is harmless, so it may be retried after
    /// an uncertain failure. One-time codes make some POSTs unsafe.
    pub retry_safe: bool,
    /// The kinds of app that may make the call (both, unless the spec limits
    /// it): a call through a suite of another kind is refused before it is
    /// sent, with [`crate::Error::AppKindNotAllowed`].
    pub app_kinds: &'static [AppKind],
}

impl Endpoint {
    /// Whether an app of `kind` may make this call.
    pub fn allows(&self, kind: AppKind) -> bool {
        self.app_kinds.contains(&kind)
    }
}
