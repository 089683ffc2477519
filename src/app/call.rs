//! One call, ready to send: what every generated method returns. Required
//! parameters were its arguments; optional ones are setters on it; `.await`
//! sends it (`corp.user().list_id().limit(100).await?`).

use std::fmt;
use std::future::IntoFuture;

use serde::Serialize;

use crate::error::{EndpointName, Error};
use crate::future::BoxFuture;
use crate::http::{body_bytes, query_pairs, Client, Decode, Endpoint, HttpMethod, TokenScope};

/// A call to one endpoint with its request, through a handle's scope.
/// Awaiting it sends it; before that, the setters generated for its request
/// type (one per optional field) change the request.
///
/// The scope was checked when the call was made: a call the handle may not
/// make (another app kind, a token it cannot obtain) fails when awaited,
/// without reaching WeCom.
#[must_use = "a call is sent only when awaited"]
pub struct Call<'a, R, T> {
    client: &'a Client,
    endpoint: &'static Endpoint,
    scope: Result<Option<TokenScope>, Error>,
    place: Place,
    request: R,
    decode: Decode<T>,
}

/// Where a call's request goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Place {
    /// Nothing is sent but the token (the request is `()`).
    Nowhere,
    /// Query parameters on the URL.
    Query,
    /// The JSON body.
    Body,
}

impl<'a, R, T> Call<'a, R, T> {
    pub(crate) fn new(
        client: &'a Client,
        endpoint: &'static Endpoint,
        scope: Result<Option<TokenScope>, Error>,
        place: Place,
        request: R,
        decode: Decode<T>,
    ) -> Self {
        Call { client, endpoint, scope, place, request, decode }
    }
}

/// The call with its request changed by `change` (what the generated
/// setters do; a free function, so that no setter name can clash with it).
pub(crate) fn map_request<R, T>(mut call: Call<'_, R, T>, change: impl FnOnce(R) -> R) -> Call<'_, R, T> {
    call.request = change(call.request);
    call
}

impl<R: fmt::Debug, T> fmt::Debug for Call<'_, R, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Call")
            .field("endpoint", &self.endpoint.name)
            .field("request", &self.request)
            .finish_non_exhaustive()
    }
}

impl<'a, R, T> IntoFuture for Call<'a, R, T>
where
    R: Serialize + Send + Sync + 'a,
    T: Send + 'a,
{
    type Output = Result<T, Error>;
    type IntoFuture = BoxFuture<'a, Result<T, Error>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let Call { client, endpoint, scope, place, request, decode } = self;
            let scope = scope?;
            // Encoded here, so that what follows is not copied per request type.
            let (query, body) = match place {
                // WeCom reads a POST's body as JSON: one without parameters
                // sends an empty object, not nothing.
                Place::Nowhere if endpoint.method == HttpMethod::Post => (Vec::new(), Some(b"{}".to_vec())),
                Place::Nowhere => (Vec::new(), None),
                Place::Query => (query_pairs(&request)?, None),
                Place::Body => {
                    (Vec::new(), Some(body_bytes(&EndpointName::Borrowed(endpoint.name), &request)?))
                }
            };
            client.call_encoded(endpoint, scope, query, body, decode).await
        })
    }
}
