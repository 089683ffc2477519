//! Credentials: obtained, cached and refreshed tokens (the token manager
//! and its near cache), suite tickets, and the authorization records that
//! hold the permanent codes. What is kept goes through [`crate::store`].

pub(crate) mod authorization;
mod credential;
mod fetch;
mod gone;
mod manager;
mod near_cache;
mod records;
mod ticket_budget;

pub use authorization::Authorization;
pub(crate) use authorization::Cancellation;
pub(crate) use credential::Credential;
pub(crate) use manager::TokenManager;
pub(crate) use records::{Stored, Versioned};
