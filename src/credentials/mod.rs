//! Credentials: obtained, cached and refreshed tokens (the token manager
//! and its near cache), suite tickets, and the authorization records that
//! hold the permanent codes. What is kept goes through [`crate::store`].

pub(crate) mod authorization;
mod manager;
mod near_cache;
mod records;

pub use crate::ids::AppKind;
pub use authorization::Authorization;
pub(crate) use authorization::Cancellation;
pub(crate) use manager::{Credential, TokenManager};
pub(crate) use records::{Stored, Versioned};
