//! Calls by path, for endpoints no spec covers yet, with the same tokens,
//! retries and envelope rule.

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::{decode_json, Client, HttpMethod, Target, TokenScope, TokenUse};
use crate::error::Error;
/// Calls by path, for endpoints not (yet) in a spec. The token scope picks
/// the token and its query name (`provider_access_token`,
/// `suite_access_token`, `access_token`); `None` sends no token.
#[derive(Clone, Debug)]
pub struct UntypedClient {
    client: Client,
}

impl UntypedClient {
    /// Untyped calls through `client`.
    pub fn new(client: Client) -> Self {
        UntypedClient { client }
    }

    /// `GET path?query` (retried on uncertain failures: a GET is safe to repeat).
    pub async fn get<R: DeserializeOwned + Send>(
        &self,
        path: &str,
        scope: Option<TokenScope>,
        query: &impl Serialize,
    ) -> Result<R, Error> {
        self.call(HttpMethod::Get, path, scope, Some(query), None::<&()>, true).await
    }

    /// `POST path` with a JSON body. Not repeated after an uncertain failure
    /// (it may consume a one-time code); see [`UntypedClient::post_json_idempotent`].
    pub async fn post_json<R: DeserializeOwned + Send>(
        &self,
        path: &str,
        scope: Option<TokenScope>,
        body: &impl Serialize,
    ) -> Result<R, Error> {
        self.call(HttpMethod::Post, path, scope, None::<&()>, Some(body), false).await
    }

    /// `POST path` with a JSON body that is harmless to send twice, so it is
    /// retried like a GET.
    pub async fn post_json_idempotent<R: DeserializeOwned + Send>(
        &self,
        path: &str,
        scope: Option<TokenScope>,
        body: &impl Serialize,
    ) -> Result<R, Error> {
        self.call(HttpMethod::Post, path, scope, None::<&()>, Some(body), true).await
    }

    async fn call<Q: Serialize + ?Sized, B: Serialize + ?Sized, R: DeserializeOwned + Send>(
        &self,
        method: HttpMethod,
        path: &str,
        scope: Option<TokenScope>,
        query: Option<&Q>,
        body: Option<&B>,
        retry_safe: bool,
    ) -> Result<R, Error> {
        if path.contains(['?', '#']) || path.chars().any(char::is_whitespace) {
            return Err(Error::InvalidRequest(format!(
                "path {path:?} must be a bare path; pass parameters as `query`"
            )));
        }
        let path = if path.starts_with('/') { path.to_owned() } else { format!("/{path}") };
        let token_param = scope.as_ref().and_then(|s| s.kind().query_name());
        let target = Target {
            name: path.clone().into(),
            method,
            path: &path,
            token_param,
            retry_safe,
            download: false,
            link_cookie: None,
        };
        let tokens = scope.as_ref().map_or(TokenUse::Without, TokenUse::Scope);
        self.client.run(target, tokens, query, body, decode_json).await
    }
}
