//! The web login page (`/wwlogin/sso/login`), standing in for the QR scan of
//! WeCom's newer web login: a member signs in to a service (`login_type=
//! ServiceApp`, `appid` the login suite) or to a corp's app (`CorpApp`,
//! `appid` the corp and `agentid` its app), and the site gets
//! `redirect_uri?code=…&state=…`. The code is an OAuth code without a
//! `user_ticket`: `getuserinfo3rd` with that suite's token reads it once,
//! or `auth/getuserinfo` with the corp's token for a corp app.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::Response;

use super::authorize::{redirect_with_code, resolve};
use super::html::{
    check_agentid, check_redirect, check_state, escape, hidden, or_error_page, page, select, Params, Refusal,
};
use super::people::{chosen_corp, chosen_member, members};
use crate::emulator::state::Shared;

/// Where the page and its form are served.
pub(super) const PATH: &str = "/wwlogin/sso/login";

/// A web login link that passed every check.
struct Link<'a> {
    login_type: &'a str,
    appid: &'a str,
    agentid: Option<&'a str>,
    suite_id: String,
    corps: Vec<String>,
    redirect_uri: &'a str,
    state: Option<&'a str>,
}

/// The link's checks: login_type (40035), appid (40013, 48004), agentid
/// (41011, 40056), redirect_uri (41010, 40035, 50001), state (40035).
fn check<'a>(shared: &Shared, params: &'a Params) -> Result<Link<'a>, Refusal> {
    let login_type = match params.get("login_type") {
        Some(kind @ ("ServiceApp" | "CorpApp")) => kind,
        _ => {
            return Err(Refusal::new(40035, "不合法的login_type / login_type must be ServiceApp or CorpApp"))
        }
    };
    let appid = params
        .get("appid")
        .filter(|a| super::html::is_id(a))
        .ok_or_else(|| Refusal::new(40013, "不合法的corpid或appid / invalid corpid or appid"))?;
    let (suite_id, corps) = resolve(shared, appid)?;
    let corp_app = login_type == "CorpApp";
    if corp_app == (suite_id == appid) {
        // A suite id given as a corp app, or a corp id as a service.
        return Err(Refusal::new(40013, "appid与login_type不符 / appid does not match login_type"));
    }
    let agentid = check_agentid(params.get("agentid"))?;
    if corp_app && agentid.is_none() {
        return Err(Refusal::new(41011, "缺少agentid参数 / agentid is missing"));
    }
    let domain = shared.config.suite(&suite_id).and_then(|s| s.redirect_domain.as_deref());
    let redirect_uri = check_redirect(params.get("redirect_uri"), domain)?;
    let state = params.get("state");
    check_state(state)?;
    Ok(Link { login_type, appid, agentid, suite_id, corps, redirect_uri, state })
}

/// `GET /wwlogin/sso/login`: the login page, or WeCom's error page.
pub(super) async fn show(State(shared): State<Arc<Shared>>, uri: Uri) -> Response {
    let params = Params::of_query(&uri);
    or_error_page(check(&shared, &params).map(|link| render(&shared, &link)))
}

fn render(shared: &Shared, link: &Link<'_>) -> Response {
    let users = members(&shared.state(), &link.corps);
    let corp_options: Vec<(String, String)> = link.corps.iter().map(|c| (c.clone(), c.clone())).collect();
    let mut body = String::from("<h1>企业微信登录 / Log in with WeCom</h1>");
    body.push_str(&format!(
        "<p class=\"muted\">代替扫码，登录 / Stands in for scanning the QR code, to log in to <code>{}</code></p>",
        escape(&link.suite_id)
    ));
    body.push_str(&format!("<form id=\"form\" method=\"post\" action=\"{PATH}\">"));
    body.push_str(&hidden("login_type", Some(link.login_type)));
    body.push_str(&hidden("appid", Some(link.appid)));
    body.push_str(&hidden("agentid", link.agentid));
    body.push_str(&hidden("redirect_uri", Some(link.redirect_uri)));
    body.push_str(&hidden("state", link.state));
    body.push_str("<label for=\"corp_id\">选择企业 / Choose a corp</label>");
    body.push_str(&select("corp_id", &corp_options, link.corps.first().map(String::as_str)));
    body.push_str("<label for=\"userid\">选择成员 / Choose a member</label>");
    body.push_str(&select("userid", &users, users.first().map(|(id, _)| id.as_str())));
    body.push_str("<button type=\"submit\" id=\"confirm\">登录 / Log in</button></form>");
    page(StatusCode::OK, "企业微信登录 / Log in with WeCom", &body)
}

/// `POST /wwlogin/sso/login`: checks everything again, then issues the code
/// and redirects; WeCom's error page otherwise.
pub(super) async fn submit(State(shared): State<Arc<Shared>>, body: Body) -> Response {
    or_error_page(Params::of_form(body).await.and_then(|params| {
        let link = check(&shared, &params)?;
        let corp = chosen_corp(&params, &link.corps, false)?;
        let users = members(&shared.state(), std::slice::from_ref(&corp));
        let userid = chosen_member(&params, &users, None)?;
        redirect_with_code(&shared, &link.suite_id, &corp, &userid, false, link.redirect_uri, link.state)
    }))
}
