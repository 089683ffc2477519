//! The browser side of WeCom, served as plain HTML forms (no script): the
//! install page (`/3rdapp/install`), the OAuth page
//! (`/connect/oauth2/authorize`) and the two web login pages (the provider
//! login `/wwopen/sso/3rd_qrConnect`, and `/wwlogin/sso/login`). Each page
//! checks its link as WeCom does and answers a bad one with a 400 error
//! page naming WeCom's errcode, never a redirect; its form carries the
//! link's parameters as hidden inputs and the POST checks everything again,
//! so a forged form gets no further than the link would. A confirmed form
//! answers `302 Found` to the app's `redirect_uri`.
//!
//! Stable hooks for browser tests: the form is `#form`, its button
//! `#confirm`; the corp is `select[name=corp_id]` or `input[name=new_corp_id]`
//! (which wins when filled); the member `select[name=userid]`; the visible
//! range `allow_user` and `allow_party` checkboxes; `as_admin` on the login
//! page; `#test-install` marks a test installation; an error page has
//! `h1#error` and `span#errcode`.

mod authorize;
mod html;
mod install;
mod login;
mod people;
mod sso_login;

use std::sync::Arc;

use axum::routing::get;
use axum::Router;

use super::state::Shared;

/// The pages' routes (they are WeCom's, not controls: they stay out of the
/// control table).
pub(super) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route(install::PATH, get(install::show).post(install::submit))
        .route(authorize::PATH, get(authorize::show).post(authorize::submit))
        .route(login::PATH, get(login::show).post(login::submit))
        .route(sso_login::PATH, get(sso_login::show).post(sso_login::submit))
        .with_state(shared)
}
