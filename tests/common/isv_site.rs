//! An ISV's web site as a user of the SDK writes it, beside its callback
//! routes: it sends browsers to the install, OAuth and login pages with the
//! SDK's own link builders and finishes each flow with the SDK's own calls.
//! The tests drive it with a browser or plain HTTP against the emulator.
//! Its elements' ids start with `site-`, so that none is mistaken for one
//! of the emulator's pages.

use axum::extract::{Query, RawQuery, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use wecom_openwork::api::authorization::types::SessionInfo;
use wecom_openwork::api::provider::types::GetLoginInfoRequest;
use wecom_openwork::server::{CallbackServer, InstallRedirect};
use wecom_openwork::urls::{LoginUserType, OAuthScope};
use wecom_openwork::{Application, Error};

/// What the site's handlers need.
#[derive(Clone)]
pub struct Site {
    pub app: Application,
    pub server: CallbackServer,
    pub suite_id: String,
    /// Where the site is served, e.g. `http://127.0.0.1:PORT`.
    pub base: String,
}

/// An emulator and the site, the site (with the callback routes) served on
/// the listener the emulator pushes to, for suite `SUITE` with its ticket
/// in: the emulator, the site, and where the site is.
pub async fn start() -> (wecom_openwork::emulator::Emulator, Site) {
    use crate::common::{config, pushing_emulator, SUITE};
    let (emulator, app, _clock, listener) = pushing_emulator(config("http://placeholder.invalid")).await;
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let server = app.server();
    let site = Site { app, server: server.clone(), suite_id: SUITE.into(), base };
    let routes = router(site.clone());
    tokio::spawn(async move { axum::serve(listener, routes).await.expect("serves") });
    emulator.push_suite_ticket(SUITE).await.expect("the ticket is pushed");
    server.drain().await;
    (emulator, site)
}

/// The site's routes and the callback server's, on one router.
pub fn router(site: Site) -> Router {
    let callbacks = site.server.router();
    Router::new()
        .route("/install", get(install))
        .route("/installed", get(installed))
        .route("/oauth", get(oauth))
        .route("/oauth/cb", get(oauth_done))
        .route("/login", get(login))
        .route("/login/cb", get(login_done))
        .with_state(site)
        .merge(callbacks)
}

fn failed(e: &Error) -> Response {
    (axum::http::StatusCode::INTERNAL_SERVER_ERROR, Html(format!("<p id=\"site-error\">{e}</p>")))
        .into_response()
}

#[derive(Deserialize)]
struct InstallQuery {
    test: Option<u8>,
}

/// "Install" on the ISV's site: a pre-auth code (a test install when
/// `?test=1`), then WeCom's install page.
async fn install(State(site): State<Site>, Query(query): Query<InstallQuery>) -> Response {
    let suite = site.app.suite(site.suite_id.as_str());
    let result = async {
        let pre = suite.get_pre_auth_code().await?.pre_auth_code.unwrap_or_default();
        if query.test == Some(1) {
            let info = SessionInfo::new().auth_type(1);
            suite.set_session_info(pre.clone(), info).await?;
        }
        suite.install_url(&pre, &format!("{}/installed", site.base), Some("fromsite"))
    }
    .await;
    match result {
        Ok(url) => Redirect::to(&url).into_response(),
        Err(e) => failed(&e),
    }
}

/// WeCom's redirect after the admin confirmed.
async fn installed(State(site): State<Site>, RawQuery(query): RawQuery) -> Response {
    let result = async {
        let redirect = InstallRedirect::from_query(query.as_deref().unwrap_or_default())?;
        let installed = site.server.complete_install(site.suite_id.as_str(), &redirect).await?;
        Ok::<_, Error>((installed.authorization, installed.state))
    }
    .await;
    match result {
        Ok((authorization, state)) => Html(format!(
            "<h1>Installed</h1><p id=\"site-installed\">{}</p><p id=\"site-state\">{}</p>",
            authorization.corp_id,
            state.unwrap_or_default()
        ))
        .into_response(),
        Err(e) => failed(&e),
    }
}

#[derive(Deserialize)]
struct OAuthQuery {
    scope: Option<String>,
}

/// "Sign in with WeCom" inside the app: the OAuth page.
async fn oauth(State(site): State<Site>, Query(query): Query<OAuthQuery>) -> Response {
    let scope =
        if query.scope.as_deref() == Some("base") { OAuthScope::Base } else { OAuthScope::PrivateInfo };
    let suite = site.app.suite(site.suite_id.as_str());
    match suite.oauth().authorize_url(&format!("{}/oauth/cb", site.base), scope, Some("o1")) {
        Ok(url) => Redirect::to(&url).into_response(),
        Err(e) => failed(&e),
    }
}

#[derive(Deserialize)]
struct CodeQuery {
    code: Option<String>,
    auth_code: Option<String>,
    state: Option<String>,
}

/// OAuth's redirect: the member, and their details when a ticket came.
async fn oauth_done(State(site): State<Site>, Query(query): Query<CodeQuery>) -> Response {
    let suite = site.app.suite(site.suite_id.as_str());
    let result = async {
        let user = suite
            .oauth()
            .get_user_info_3rd_with(wecom_openwork::api::oauth::types::GetUserInfo3rdQuery::new(
                query.code.clone().unwrap_or_default(),
            ))
            .await?;
        let detail = match user.user_ticket.as_deref() {
            Some(ticket) => Some(
                suite
                    .oauth()
                    .get_user_detail_3rd_with(
                        wecom_openwork::api::oauth::types::GetUserDetail3rdRequest::new(ticket),
                    )
                    .await?,
            ),
            None => None,
        };
        Ok::<_, Error>((user, detail))
    }
    .await;
    match result {
        Ok((user, detail)) => Html(format!(
            "<h1>Signed in</h1><p id=\"site-userid\">{}</p><p id=\"site-corpid\">{}</p><p id=\"site-detail-userid\">{}</p><p id=\"site-state\">{}</p>",
            user.userid.unwrap_or_default(),
            user.corpid.unwrap_or_default(),
            detail.and_then(|d| d.userid).unwrap_or_default(),
            query.state.unwrap_or_default(),
        ))
        .into_response(),
        Err(e) => failed(&e),
    }
}

/// "Log in with WeCom" on the ISV's site: the provider login page.
async fn login(State(site): State<Site>) -> Response {
    match site.app.provider_login_url(&format!("{}/login/cb", site.base), Some("l1"), LoginUserType::Admin) {
        Ok(url) => Redirect::to(&url).into_response(),
        Err(e) => failed(&e),
    }
}

/// The login page's redirect: who logged in, from `get_login_info`.
async fn login_done(State(site): State<Site>, Query(query): Query<CodeQuery>) -> Response {
    let request = GetLoginInfoRequest::new(query.auth_code.clone().unwrap_or_default());
    match site.app.provider().get_login_info_with(request).await {
        Ok(info) => Html(format!(
            "<h1>Logged in</h1><p id=\"site-login-userid\">{}</p><p id=\"site-login-corpid\">{}</p><p id=\"site-usertype\">{}</p><p id=\"site-state\">{}</p>",
            info.user_info.and_then(|u| u.userid).unwrap_or_default(),
            info.corp_info.and_then(|c| c.corpid).unwrap_or_default(),
            info.usertype.unwrap_or_default(),
            query.state.unwrap_or_default(),
        ))
        .into_response(),
        Err(e) => failed(&e),
    }
}
