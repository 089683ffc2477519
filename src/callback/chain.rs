//! The middleware chain: middleware first-added outermost, then the handler
//! of the event's kind.

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::sync::Arc;

use super::message::{Callback, Reply};
use crate::future::BoxFuture;

/// A handler's failure: the server answers HTTP 500 so WeCom retries later.
pub type HandlerError = Box<dyn std::error::Error + Send + Sync>;
/// What middleware and handlers return.
pub type HandlerResult = Result<Reply, HandlerError>;

pub(crate) type HandlerFn = dyn Fn(Callback) -> BoxFuture<'static, HandlerResult> + Send + Sync;
pub(crate) type MiddlewareFn = dyn Fn(Callback, Next) -> BoxFuture<'static, HandlerResult> + Send + Sync;

/// The rest of the chain, handed to middleware.
pub struct Next {
    pub(crate) chain: Arc<Chain>,
    pub(crate) index: usize,
}

impl fmt::Debug for Next {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Next").field("index", &self.index).finish()
    }
}

#[derive(Clone)]
pub(crate) struct Chain {
    pub(crate) middleware: Vec<Arc<MiddlewareFn>>,
    pub(crate) handlers: BTreeMap<String, Arc<HandlerFn>>,
}

impl Next {
    /// Passes the callback on: to the next middleware, or to the handler of
    /// its kind (plain `success` when there is none).
    pub async fn run(self, callback: Callback) -> HandlerResult {
        match self.chain.middleware.get(self.index) {
            Some(middleware) => {
                let next = Next { chain: self.chain.clone(), index: self.index + 1 };
                middleware(callback, next).await
            }
            None => match self.chain.handlers.get(callback.event.kind()) {
                Some(handler) => handler(callback).await,
                None => Ok(Reply::Success),
            },
        }
    }
}

/// Boxes a handler closure.
pub(crate) fn boxed<F, Fut>(handler: F) -> Arc<HandlerFn>
where
    F: Fn(Callback) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = HandlerResult> + Send + 'static,
{
    Arc::new(move |callback| Box::pin(handler(callback)))
}
