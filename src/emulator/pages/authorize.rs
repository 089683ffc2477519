//! The OAuth page (`/connect/oauth2/authorize`): a member of a corp signs in
//! to an app and the app gets `redirect_uri?code=…&state=…`. `appid` is a
//! suite id (a third-party app: the corp is picked among those that
//! authorized it) or a corp id (a 代开发 app: the suite is the one that corp
//! authorized, customized first). `snsapi_base` with a preset member
//! ([`EmulatorConfig::oauth_user`](crate::emulator::EmulatorConfig::oauth_user))
//! redirects at once; otherwise, and always for `snsapi_privateinfo`, a page
//! asks. Codes work once within 5 minutes; only a `snsapi_privateinfo` code
//! yields a `user_ticket`.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::Response;

use super::html::{
    check_agentid, check_redirect, check_state, escape, hidden, is_id, or_error_page, page, redirect, select,
    Params, Refusal,
};
use super::people::{authorized_corps, chosen_corp, chosen_member, members, with_preset};
use crate::emulator::oauth::issue_scoped_code;
use crate::emulator::state::Shared;
use crate::ids::AppKind;

/// Where the page and its form are served.
pub(super) const PATH: &str = "/connect/oauth2/authorize";

/// An OAuth link that passed every check.
struct Link<'a> {
    appid: &'a str,
    suite_id: String,
    /// The corps the member may sign in from (one for a corp-id appid).
    corps: Vec<String>,
    redirect_uri: &'a str,
    state: Option<&'a str>,
    private_info: bool,
    agentid: Option<&'a str>,
}

/// The suite and candidate corps `appid` stands for, or 40013.
pub(super) fn resolve(shared: &Shared, appid: &str) -> Result<(String, Vec<String>), Refusal> {
    let state = shared.state();
    let unknown = || Refusal::new(40013, "不合法的corpid或appid / invalid corpid or appid");
    let is_suite =
        shared.config.suite(appid).is_some() || state.permanent_codes.values().any(|key| key.suite == appid);
    if is_suite {
        let corps = authorized_corps(&state, appid);
        if corps.is_empty() {
            return Err(Refusal::new(
                48004,
                "授权关系无效: 尚无企业安装此应用 / no corp has authorized this app; install it first",
            ));
        }
        return Ok((appid.to_owned(), corps));
    }
    let mut suites: Vec<&String> =
        state.permanent_codes.values().filter(|key| key.corp == appid).map(|key| &key.suite).collect();
    suites.sort();
    // A 代开发 (customized) suite first: a corp-id appid is a corp app.
    suites.sort_by_key(|suite| shared.config.kind_of(suite) != Some(AppKind::Customized));
    let suite = suites.first().ok_or_else(unknown)?;
    Ok(((*suite).clone(), vec![appid.to_owned()]))
}

/// The link's checks: appid (40013), response_type and scope (40035),
/// redirect_uri (41010, 40035, 50001), state (40035), agentid (41011, 40056).
fn check<'a>(shared: &Shared, params: &'a Params) -> Result<Link<'a>, Refusal> {
    let appid = params
        .get("appid")
        .filter(|a| is_id(a))
        .ok_or_else(|| Refusal::new(40013, "不合法的corpid或appid / invalid corpid or appid"))?;
    if params.get("response_type") != Some("code") {
        return Err(Refusal::new(40035, "不合法的response_type / response_type must be code"));
    }
    let private_info = match params.get("scope") {
        Some("snsapi_base") => false,
        Some("snsapi_privateinfo") => true,
        _ => return Err(Refusal::new(40035, "不合法的scope / invalid scope")),
    };
    let (suite_id, corps) = resolve(shared, appid)?;
    let domain = shared.config.suite(&suite_id).and_then(|s| s.redirect_domain.as_deref());
    let redirect_uri = check_redirect(params.get("redirect_uri"), domain)?;
    let state = params.get("state");
    check_state(state)?;
    let agentid = check_agentid(params.get("agentid"))?;
    if private_info && appid != suite_id && agentid.is_none() {
        return Err(Refusal::new(41011, "缺少agentid参数 / agentid is missing"));
    }
    Ok(Link { appid, suite_id, corps, redirect_uri, state, private_info, agentid })
}

/// `GET /connect/oauth2/authorize`: a redirect at once (`snsapi_base` with a
/// preset member), the sign-in or consent page, or WeCom's error page.
pub(super) async fn show(State(shared): State<Arc<Shared>>, uri: Uri) -> Response {
    let params = Params::of_query(&uri);
    or_error_page(check(&shared, &params).and_then(|link| {
        let preset = shared.config.oauth_user.as_deref();
        match (preset, link.corps.first()) {
            (Some(userid), Some(corp)) if !link.private_info => redirect_with_code(
                &shared,
                &link.suite_id,
                corp,
                userid,
                false,
                link.redirect_uri,
                link.state,
            ),
            _ => Ok(render(&shared, &link, preset)),
        }
    }))
}

fn render(shared: &Shared, link: &Link<'_>, preset: Option<&str>) -> Response {
    let users = with_preset(members(&shared.state(), &link.corps), preset);
    let corp_options: Vec<(String, String)> = link.corps.iter().map(|c| (c.clone(), c.clone())).collect();
    let (title, button) = if link.private_info {
        ("授权 / Allow", "允许 / Allow")
    } else {
        ("登录 / Sign in", "确定 / Confirm")
    };
    let app = escape(&link.suite_id);
    let mut body = format!("<h1>{title}</h1>");
    if link.private_info {
        body.push_str(&format!(
            "<p id=\"consent\"><code>{app}</code> 将获取你的姓名、头像、性别、手机号、邮箱等信息 / \
<code>{app}</code> wants your name, avatar, gender, mobile and email</p>"
        ));
    } else {
        body.push_str(&format!("<p class=\"muted\">登录应用 / Sign in to <code>{app}</code></p>"));
    }
    body.push_str(&format!("<form id=\"form\" method=\"post\" action=\"{PATH}\">"));
    body.push_str(&hidden("appid", Some(link.appid)));
    body.push_str(&hidden("redirect_uri", Some(link.redirect_uri)));
    body.push_str(&hidden("response_type", Some("code")));
    body.push_str(&hidden(
        "scope",
        Some(if link.private_info { "snsapi_privateinfo" } else { "snsapi_base" }),
    ));
    body.push_str(&hidden("state", link.state));
    body.push_str(&hidden("agentid", link.agentid));
    body.push_str("<label for=\"corp_id\">选择企业 / Choose a corp</label>");
    body.push_str(&select("corp_id", &corp_options, link.corps.first().map(String::as_str)));
    body.push_str("<label for=\"userid\">选择成员 / Choose a member</label>");
    body.push_str(&select("userid", &users, preset.or(users.first().map(|(id, _)| id.as_str()))));
    body.push_str(&format!("<button type=\"submit\" id=\"confirm\">{button}</button></form>"));
    page(StatusCode::OK, title, &body)
}

/// Issues an OAuth code for the member (with a `user_ticket` when asked)
/// and redirects with it and the link's `state`.
pub(super) fn redirect_with_code(
    shared: &Shared,
    suite_id: &str,
    corp: &str,
    userid: &str,
    with_ticket: bool,
    redirect_uri: &str,
    state: Option<&str>,
) -> Result<Response, Refusal> {
    let code = issue_scoped_code(shared, suite_id, corp, userid, with_ticket)
        .map_err(|e| Refusal::new(40013, format!("不合法的appid / {e}")))?;
    Ok(redirect(redirect_uri, &[("code", &code), ("state", state.unwrap_or_default())]))
}

/// `POST /connect/oauth2/authorize`: checks everything again, then issues
/// the code and redirects; WeCom's error page otherwise.
pub(super) async fn submit(State(shared): State<Arc<Shared>>, body: Body) -> Response {
    or_error_page(Params::of_form(body).await.and_then(|params| {
        let link = check(&shared, &params)?;
        let corp = chosen_corp(&params, &link.corps, false)?;
        let users = members(&shared.state(), std::slice::from_ref(&corp));
        let userid = chosen_member(&params, &users, shared.config.oauth_user.as_deref())?;
        redirect_with_code(
            &shared,
            &link.suite_id,
            &corp,
            &userid,
            link.private_info,
            link.redirect_uri,
            link.state,
        )
    }))
}
