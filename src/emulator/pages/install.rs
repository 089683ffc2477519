//! The install page (`/3rdapp/install`): an admin authorizes a suite for a
//! corp with a pre-auth code. The corp is chosen among those the emulator
//! knows, or typed in; the visible range among the members and departments
//! of every known corp (the corp is picked on the same form, so the page
//! offers them all). Confirming spends the pre-auth code, records the range,
//! pushes `create_auth` with the link's `state` to the suite's command URL
//! and redirects to `redirect_uri?auth_code=…&expires_in=600&state=…`.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::Response;

use super::html::{
    check_redirect, check_state, error_page, escape, hidden, or_error_page, page, redirect, select, Params,
    Refusal,
};
use super::people::{chosen_corp, departments, known_corps, members};
use crate::emulator::records::VisibleRange;
use crate::emulator::state::{Shared, SuiteCorp};
use crate::emulator::{push, AUTH_CODE_LIFETIME};

/// Where the page and its form are served.
pub(super) const PATH: &str = "/3rdapp/install";
/// The longest pre-auth code accepted.
const MAX_CODE_BYTES: usize = 512;

/// An install link that passed every check.
struct Link<'a> {
    suite_id: &'a str,
    pre_auth_code: &'a str,
    redirect_uri: &'a str,
    state: Option<&'a str>,
    test_install: bool,
}

/// The link's checks, in WeCom's order; the pre-auth code must be one this
/// emulator issued for the suite, unused and unexpired.
fn check<'a>(shared: &Shared, params: &'a Params) -> Result<Link<'a>, Refusal> {
    let suite_id = params
        .get("suite_id")
        .ok_or_else(|| Refusal::new(41021, "缺少suite_id参数 / suite_id is missing"))?;
    let invalid_suite = || Refusal::new(40083, "不合法的suite_id / invalid suite_id");
    let suite = shared.config.suite(suite_id);
    if !super::html::is_id(suite_id) || (suite.is_none() && !shared.config.suites.is_empty()) {
        return Err(invalid_suite());
    }
    let invalid_code = || Refusal::new(40077, "不合法的pre_auth_code / invalid pre_auth_code");
    let pre_auth_code =
        params.get("pre_auth_code").filter(|c| c.len() <= MAX_CODE_BYTES).ok_or_else(invalid_code)?;
    let redirect_uri =
        check_redirect(params.get("redirect_uri"), suite.and_then(|s| s.redirect_domain.as_deref()))?;
    let state = params.get("state");
    check_state(state)?;
    let now = shared.now();
    let guard = shared.state();
    let code = guard.pre_auth_codes.get(pre_auth_code).ok_or_else(invalid_code)?;
    if code.suite_id != suite_id || code.used {
        return Err(invalid_code());
    }
    if code.expires_at <= now {
        return Err(Refusal::new(42007, "pre_auth_code已过期 / pre_auth_code expired"));
    }
    Ok(Link { suite_id, pre_auth_code, redirect_uri, state, test_install: code.test_install })
}

/// `GET /3rdapp/install`: the authorization page, or WeCom's error page.
pub(super) async fn show(State(shared): State<Arc<Shared>>, uri: Uri) -> Response {
    let params = Params::of_query(&uri);
    or_error_page(check(&shared, &params).map(|link| render(&shared, &link)))
}

fn render(shared: &Shared, link: &Link<'_>) -> Response {
    let (corps, users, parties) = {
        let state = shared.state();
        let corps = known_corps(&state);
        (corps.clone(), members(&state, &corps), departments(&state, &corps))
    };
    let corp_options: Vec<(String, String)> = corps.iter().map(|c| (c.clone(), c.clone())).collect();
    let mut body = String::from("<h1>授权 / Authorize</h1>");
    body.push_str(&format!(
        "<p class=\"muted\">应用 / App: <code id=\"suite-id\">{}</code></p>",
        escape(link.suite_id)
    ));
    if link.test_install {
        body.push_str("<p><span class=\"badge\" id=\"test-install\">测试安装 / Test installation</span></p>");
    }
    body.push_str(&format!("<form id=\"form\" method=\"post\" action=\"{PATH}\">"));
    body.push_str(&hidden("suite_id", Some(link.suite_id)));
    body.push_str(&hidden("pre_auth_code", Some(link.pre_auth_code)));
    body.push_str(&hidden("redirect_uri", Some(link.redirect_uri)));
    body.push_str(&hidden("state", link.state));
    body.push_str("<label for=\"corp_id\">选择企业 / Choose a corp</label>");
    body.push_str(&select("corp_id", &corp_options, corps.first().map(String::as_str)));
    body.push_str(
        "<label for=\"new_corp_id\">或新建企业 / Or create a corp</label>\
<input type=\"text\" name=\"new_corp_id\" id=\"new_corp_id\" placeholder=\"wwxxxxxxxxxxxxxxxx\">",
    );
    body.push_str("<fieldset><legend>可见范围 / Visible range</legend>");
    body.push_str("<div class=\"muted\">成员 / Members</div>");
    for (userid, label) in &users {
        body.push_str(&format!(
            "<label class=\"check\"><input type=\"checkbox\" name=\"allow_user\" value=\"{}\" checked> {}</label>",
            escape(userid),
            escape(label)
        ));
    }
    body.push_str("<div class=\"muted\">部门 / Departments</div>");
    for party in &parties {
        body.push_str(&format!(
            "<label class=\"check\"><input type=\"checkbox\" name=\"allow_party\" value=\"{party}\" checked> 部门 / Department {party}</label>"
        ));
    }
    body.push_str("</fieldset><button type=\"submit\" id=\"confirm\">授权 / Authorize</button></form>");
    page(StatusCode::OK, "授权 / Authorize", &body)
}

/// The visible range ticked on the form: listed members (60111) and
/// departments (60123) only.
fn chosen_range(shared: &Shared, params: &Params) -> Result<VisibleRange, Refusal> {
    let state = shared.state();
    let corps = known_corps(&state);
    let users = members(&state, &corps);
    let parties = departments(&state, &corps);
    let mut range = VisibleRange::default();
    for userid in params.all("allow_user") {
        if !users.iter().any(|(id, _)| id == userid) {
            return Err(Refusal::new(60111, "成员不存在 / no such member in allow_user"));
        }
        if !range.users.iter().any(|u| u == userid) {
            range.users.push(userid.to_owned());
        }
    }
    for party in params.all("allow_party") {
        match party.parse::<i64>() {
            Ok(id) if parties.contains(&id) => {
                if !range.parties.contains(&id) {
                    range.parties.push(id);
                }
            }
            _ => return Err(Refusal::new(60123, "无效的部门id / invalid department in allow_party")),
        }
    }
    Ok(range)
}

/// `POST /3rdapp/install`: checks everything again, then authorizes and
/// redirects; WeCom's error page otherwise.
pub(super) async fn submit(State(shared): State<Arc<Shared>>, body: Body) -> Response {
    match Params::of_form(body).await {
        Ok(params) => or_error_page(authorize(&shared, &params).await),
        Err(refusal) => error_page(&refusal),
    }
}

async fn authorize(shared: &Shared, params: &Params) -> Result<Response, Refusal> {
    let link = check(shared, params)?;
    let corps = known_corps(&shared.state());
    let corp = chosen_corp(params, &corps, true)?;
    let range = chosen_range(shared, params)?;
    {
        // Spent under the lock, so two confirmations cannot both pass.
        let mut state = shared.state();
        match state.pre_auth_codes.get_mut(link.pre_auth_code) {
            Some(code) if !code.used => code.used = true,
            _ => return Err(Refusal::new(40077, "不合法的pre_auth_code / invalid pre_auth_code")),
        }
        state.visible_ranges.insert(SuiteCorp::new(link.suite_id, corp.clone()), range);
    }
    let auth_code = match push::authorize(shared, link.suite_id, &corp, link.state.unwrap_or_default()).await
    {
        Ok((code, _)) => code,
        // No command URL (or none registered): WeCom redirects all the same.
        Err(e) => {
            tracing::warn!(suite = %link.suite_id, error = %e, "create_auth not pushed");
            push::issue_auth_code(shared, link.suite_id, &corp, link.state.unwrap_or_default())
        }
    };
    let expires_in = AUTH_CODE_LIFETIME.as_secs().to_string();
    Ok(redirect(
        link.redirect_uri,
        &[("auth_code", &auth_code), ("expires_in", &expires_in), ("state", link.state.unwrap_or_default())],
    ))
}
