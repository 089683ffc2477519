//! The callback server as an axum [`Router`] (and so a tower `Service`).

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, RawQuery, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;

use super::{CallbackResponse, CallbackServer, CallbackUrl};
use crate::ids::SuiteId;

impl IntoResponse for CallbackResponse {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, self.body).into_response();
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(self.content_type));
        response
    }
}

async fn respond(
    server: &CallbackServer,
    url: CallbackUrl,
    method: Method,
    query: Option<String>,
    body: Bytes,
) -> Response {
    server.serve(&url, method.as_str(), query.as_deref().unwrap_or_default(), &body).await.into_response()
}

impl CallbackServer {
    /// An axum router with the three callback URLs under `/callback`:
    /// `/callback/system`, `/callback/command/{suite_id}` and
    /// `/callback/data/{suite_id}` (a trailing `/{corp_id}`, as WeCom's
    /// `$CORPID$` substitution makes, is accepted and ignored).
    pub fn router(&self) -> Router {
        self.router_at("/callback")
    }

    /// The same router under another path prefix.
    pub fn router_at(&self, prefix: &str) -> Router {
        let prefix = prefix.trim_end_matches('/');
        let data = |State(server): State<CallbackServer>,
                    Path(suite): Path<String>,
                    method: Method,
                    RawQuery(query): RawQuery,
                    body: Bytes| async move {
            respond(&server, CallbackUrl::Data(SuiteId::new(suite)), method, query, body).await
        };
        let data_with_corp = |State(server): State<CallbackServer>,
                              Path((suite, _corp)): Path<(String, String)>,
                              method: Method,
                              RawQuery(query): RawQuery,
                              body: Bytes| async move {
            respond(&server, CallbackUrl::Data(SuiteId::new(suite)), method, query, body).await
        };
        Router::new()
            .route(
                &format!("{prefix}/system"),
                any(
                    |State(server): State<CallbackServer>,
                     method: Method,
                     RawQuery(query): RawQuery,
                     body: Bytes| async move {
                        respond(&server, CallbackUrl::System, method, query, body).await
                    },
                ),
            )
            .route(
                &format!("{prefix}/command/{{suite_id}}"),
                any(
                    |State(server): State<CallbackServer>,
                     Path(suite): Path<String>,
                     method: Method,
                     RawQuery(query): RawQuery,
                     body: Bytes| async move {
                        respond(&server, CallbackUrl::Command(SuiteId::new(suite)), method, query, body).await
                    },
                ),
            )
            .route(&format!("{prefix}/data/{{suite_id}}"), any(data))
            .route(&format!("{prefix}/data/{{suite_id}}/{{corp_id}}"), any(data_with_corp))
            // One byte more than the limit reaches `serve`, which answers 413 itself.
            .layer(DefaultBodyLimit::max(self.max_body.saturating_add(1)))
            .with_state(self.clone())
    }
}
