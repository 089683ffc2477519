//! The web login page (`/wwopen/sso/3rd_qrConnect`), standing in for the QR
//! scan: a member (or admin) of a corp logs in to the provider's site, which
//! gets `redirect_uri?auth_code=…&state=…` for `get_login_info`. `appid` is
//! the provider's corp id; `usertype` is `member` (the default) or `admin`,
//! and an admin link refuses a member's login. The corp is chosen among the
//! known corps or typed in; the member among those of every known corp.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::Response;

use super::html::{
    check_redirect, check_state, hidden, is_id, or_error_page, page, redirect, select, Params, Refusal,
};
use super::people::{chosen_corp, chosen_member, everyone};
use crate::emulator::login::{issue_code, ADMIN, MEMBER};
use crate::emulator::state::Shared;

/// Where the page and its form are served.
pub(super) const PATH: &str = "/wwopen/sso/3rd_qrConnect";

/// A login link that passed every check.
struct Link<'a> {
    appid: &'a str,
    redirect_uri: &'a str,
    state: Option<&'a str>,
    admin_only: bool,
}

/// The link's checks: appid (40013), usertype (40035), redirect_uri (41010,
/// 40035, 50001), state (40035).
fn check<'a>(shared: &Shared, params: &'a Params) -> Result<Link<'a>, Refusal> {
    let appid = params.get("appid").filter(|a| is_id(a));
    let appid = match (appid, shared.config.provider_corp_id.as_deref()) {
        (Some(appid), Some(provider)) if appid == provider => appid,
        (Some(appid), None) => appid,
        _ => return Err(Refusal::new(40013, "不合法的corpid / appid must be the provider's corp id")),
    };
    let admin_only = match params.get("usertype") {
        None | Some("member") => false,
        Some("admin") => true,
        Some(_) => return Err(Refusal::new(40035, "不合法的usertype / usertype must be member or admin")),
    };
    let redirect_uri =
        check_redirect(params.get("redirect_uri"), shared.config.login_redirect_domain.as_deref())?;
    let state = params.get("state");
    check_state(state)?;
    Ok(Link { appid, redirect_uri, state, admin_only })
}

/// `GET /wwopen/sso/3rd_qrConnect`: the login page, or WeCom's error page.
pub(super) async fn show(State(shared): State<Arc<Shared>>, uri: Uri) -> Response {
    let params = Params::of_query(&uri);
    or_error_page(check(&shared, &params).map(|link| render(&shared, &link)))
}

fn render(shared: &Shared, link: &Link<'_>) -> Response {
    let (corps, users) = everyone(&shared.state());
    let corp_options: Vec<(String, String)> = corps.iter().map(|c| (c.clone(), c.clone())).collect();
    let mut body = String::from(
        "<h1>企业微信登录 / Log in with WeCom</h1>\
<p class=\"muted\">代替扫码 / Stands in for scanning the QR code</p>",
    );
    body.push_str(&format!("<form id=\"form\" method=\"post\" action=\"{PATH}\">"));
    body.push_str(&hidden("appid", Some(link.appid)));
    body.push_str(&hidden("redirect_uri", Some(link.redirect_uri)));
    body.push_str(&hidden("state", link.state));
    body.push_str(&hidden("usertype", Some(if link.admin_only { "admin" } else { "member" })));
    body.push_str("<label for=\"corp_id\">选择企业 / Choose a corp</label>");
    body.push_str(&select("corp_id", &corp_options, corps.first().map(String::as_str)));
    body.push_str(
        "<label for=\"new_corp_id\">或新建企业 / Or create a corp</label>\
<input type=\"text\" name=\"new_corp_id\" id=\"new_corp_id\" placeholder=\"wwxxxxxxxxxxxxxxxx\">",
    );
    body.push_str("<label for=\"userid\">选择成员 / Choose a member</label>");
    body.push_str(&select("userid", &users, users.first().map(|(id, _)| id.as_str())));
    let checked = if link.admin_only { " checked" } else { "" };
    body.push_str(&format!(
        "<label class=\"check\"><input type=\"checkbox\" name=\"as_admin\" id=\"as_admin\" value=\"1\"{checked}> \
以管理员身份登录 / Log in as admin</label>"
    ));
    body.push_str("<button type=\"submit\" id=\"confirm\">登录 / Log in</button></form>");
    page(StatusCode::OK, "企业微信登录 / Log in with WeCom", &body)
}

/// `POST /wwopen/sso/3rd_qrConnect`: checks everything again, then issues
/// the login code and redirects; WeCom's error page otherwise.
pub(super) async fn submit(State(shared): State<Arc<Shared>>, body: Body) -> Response {
    or_error_page(Params::of_form(body).await.and_then(|params| {
        let link = check(&shared, &params)?;
        let (corps, users) = everyone(&shared.state());
        let corp = chosen_corp(&params, &corps, true)?;
        let userid = chosen_member(&params, &users, None)?;
        let as_admin = params.get("as_admin") == Some("1");
        if link.admin_only && !as_admin {
            return Err(Refusal::new(40035, "此链接仅限管理员登录 / this link is for admins only"));
        }
        let code = issue_code(&shared, &corp, &userid, if as_admin { ADMIN } else { MEMBER });
        Ok(redirect(link.redirect_uri, &[("auth_code", &code), ("state", link.state.unwrap_or_default())]))
    }))
}
