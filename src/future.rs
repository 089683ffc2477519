//! The boxed future every object-safe async trait here returns.

use std::future::Future;
use std::pin::Pin;

/// A boxed, sendable future, as [`crate::TokenSource`], [`crate::store::Store`]
/// and [`crate::clock::Clock`] return.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;
