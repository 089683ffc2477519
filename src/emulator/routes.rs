//! How the emulator answers a call: the token check, the required fields,
//! injected faults, the stateful endpoints (tokens, the install flow), and
//! the documented sample for the rest.

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::handler::{Call, Table};
use super::records::{PreAuthCode, VisibleRange};
use super::reply::{json_reply, sample, sample_members, sample_with, wecom_error, INVALID_PARAMETER};
use super::state::{
    random_code, Fault, Issued, Owner, RecordedRequest, Shared, State, SuiteCorp, PERMANENT_CODE_PREFIX,
};
use super::{is_token_param, PNG_1X1, PRE_AUTH_CODE_LIFETIME, TICKET_VALIDITY, TOKEN_LIFETIME};
use crate::api::{
    authorization::endpoints as authorization, provider::endpoints as provider, suite::endpoints as suite,
};
use crate::http::{Endpoint, HttpMethod, ResponseFormat, TokenKind};
use crate::ids::AppKind;

pub(super) async fn handle(
    shared: &Shared,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let query = uri.query().map(crate::urls::parse_query).unwrap_or_default();
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let upload = super::media::parse(content_type, &body);
    let json_body =
        if body.is_empty() || upload.is_some() { None } else { serde_json::from_slice(&body).ok() };
    let request = RecordedRequest {
        method: method.as_str().to_owned(),
        path: uri.path().to_owned(),
        query,
        body: json_body,
        upload,
    };
    let fault = {
        let mut state = shared.state();
        state.requests.push(request.clone());
        take_fault(&mut state.faults, &request.path)
    };
    match fault {
        Some(Fault::Errcode(code)) => return wecom_error(code, "injected by the emulator"),
        Some(Fault::HttpStatus(status)) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return (status, "injected by the emulator").into_response();
        }
        Some(Fault::Drop) => {
            let broken = futures_util::stream::once(async {
                Err::<Bytes, std::io::Error>(std::io::Error::other("connection dropped by the emulator"))
            });
            return Response::new(Body::from_stream(broken));
        }
        Some(Fault::Delay(delay)) => tokio::time::sleep(delay).await,
        Some(Fault::Json(body)) => return json_reply(&body),
        None => {}
    }
    if let Some(link) = request.path.strip_prefix(super::wedrive::DOWNLOAD_PREFIX) {
        return super::wedrive::serve_download(shared, &request.method, link, &headers);
    }
    answer(shared, &request, !body.is_empty())
}

pub(super) fn take_fault(faults: &mut Vec<(Option<String>, usize, Fault)>, path: &str) -> Option<Fault> {
    let index = faults.iter().position(|(p, n, _)| *n > 0 && p.as_deref().is_none_or(|p| p == path))?;
    let entry = &mut faults[index];
    entry.1 -= 1;
    let fault = entry.2.clone();
    if entry.1 == 0 {
        faults.remove(index);
    }
    Some(fault)
}

pub(super) fn answer(shared: &Shared, request: &RecordedRequest, has_body: bool) -> Response {
    let path = request.path.as_str();
    let Some((endpoint, endpoint_sample)) = super::samples::routed(path) else {
        return wecom_error(40066, "invalid url");
    };
    if request.method != endpoint.method.as_str() {
        return match endpoint.method {
            HttpMethod::Get => wecom_error(43001, "require GET method"),
            HttpMethod::Post => wecom_error(43002, "require POST method"),
        };
    }
    let caller = match check_token(shared, endpoint, request) {
        Ok(caller) => caller,
        Err(reply) => return *reply,
    };
    if let Some(kind) = caller.as_ref().and_then(|c| caller_kind(shared, c)) {
        if !endpoint.allows(kind) {
            return wecom_error(
                48002,
                &format!("api forbidden: a {kind} app may not call {}", endpoint.path),
            );
        }
    }
    if endpoint.upload.is_some() {
        let params = params_of(endpoint, request);
        return super::media::upload(shared, endpoint, &params, request.upload.as_ref());
    }
    if endpoint.method == HttpMethod::Post
        && (!has_body || request.body.as_ref().is_none_or(|b| !b.is_object()))
    {
        return wecom_error(47001, "data format error: the body must be a JSON object");
    }
    let params = params_of(endpoint, request);
    if let Some(missing) =
        endpoint_sample.required.iter().find(|name| params.get(**name).is_none_or(is_blank))
    {
        return wecom_error(INVALID_PARAMETER, &format!("invalid parameter: `{missing}` is required"));
    }
    if let Some(reply) = stateful(shared, endpoint, &params, caller.as_ref()) {
        return reply;
    }
    if let Some(reply) = super::media::download(shared, endpoint, &params) {
        return reply;
    }
    let wants_image = endpoint.response_format == ResponseFormat::JsonOrBinary
        && params.get("result_type").and_then(Value::as_i64) != Some(2);
    if wants_image {
        let mut response = Bytes::from_static(PNG_1X1).into_response();
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("image/png"));
        return response;
    }
    sample(endpoint)
}

pub(super) fn is_blank(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.is_empty(),
        _ => false,
    }
}

/// The request's parameters: the JSON body of a POST, the query of a GET.
pub(super) fn params_of(endpoint: &Endpoint, request: &RecordedRequest) -> serde_json::Map<String, Value> {
    match endpoint.method {
        HttpMethod::Post if endpoint.upload.is_none() => {
            request.body.as_ref().and_then(Value::as_object).cloned().unwrap_or_default()
        }
        // A GET, or an upload: its parameters are in the query.
        _ => request
            .query
            .iter()
            .filter(|(k, _)| !is_token_param(k))
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect(),
    }
}

/// The codes WeCom gives for a missing, invalid and expired token of a kind.
pub(super) fn token_codes(kind: TokenKind) -> (i64, i64, i64) {
    match kind {
        TokenKind::Suite => (41022, 40082, 42009),
        _ => (41001, 40014, 42001),
    }
}

/// Exactly the endpoint's token parameter, once, issued for its kind and not
/// expired; no other token. Returns who the token belongs to.
pub(super) fn check_token(
    shared: &Shared,
    endpoint: &Endpoint,
    request: &RecordedRequest,
) -> Result<Option<Owner>, Box<Response>> {
    let (missing, invalid, expired) = token_codes(endpoint.token);
    let strict = shared.config.strict;
    // Older paths took every token as `access_token`.
    let legacy = endpoint.path != request.path;
    let mut expected_name = endpoint.token_param;
    if legacy
        && expected_name.is_some_and(|n| request.query_values(n).is_empty())
        && !request.query_values("access_token").is_empty()
    {
        expected_name = Some("access_token");
    }
    let mut carried = None;
    let mut names: Vec<&str> = TokenKind::WITH_TOKEN.iter().filter_map(|kind| kind.query_name()).collect();
    names.dedup();
    let violation = |detail: String| -> Result<(), Box<Response>> {
        if strict {
            return Err(Box::new(wecom_error(invalid, &detail)));
        }
        let rule = "exactly-one-token".to_owned();
        let path = request.path.clone();
        shared.state().violations.push(super::records::Violation { path, rule, detail });
        Ok(())
    };
    for name in names {
        let values = request.query_values(name);
        let expected = expected_name == Some(name);
        match (expected, values.as_slice()) {
            (true, [value]) if !value.is_empty() => carried = Some(value.to_string()),
            (true, []) => return Err(Box::new(wecom_error(missing, &format!("{name} missing")))),
            (true, [value, ..]) if !value.is_empty() => {
                violation(format!("{name} given {} times", values.len()))?;
                carried = Some(value.to_string());
            }
            (true, _) => return Err(Box::new(wecom_error(invalid, &format!("invalid {name}")))),
            (false, []) => {}
            (false, _) => violation(format!("unexpected {name} on this endpoint"))?,
        }
    }
    let Some(token) = carried else { return Ok(None) };
    let now = shared.now();
    let state = shared.state();
    match state.issued.get(&token) {
        Some(issued) if issued.owner.kind() != endpoint.token => {
            Err(Box::new(wecom_error(invalid, "invalid access token: issued for another kind")))
        }
        Some(issued) if issued.expires_at <= now => {
            Err(Box::new(wecom_error(expired, "access token expired")))
        }
        Some(issued) => Ok(Some(issued.owner.clone())),
        None => Err(Box::new(wecom_error(invalid, "invalid access token"))),
    }
}

/// The kind of the registered suite a token was issued for, if known.
pub(super) fn caller_kind(shared: &Shared, caller: &Owner) -> Option<AppKind> {
    shared.config.kind_of(caller.suite()?)
}

/// The endpoints of tokens and the install flow, each with its handler.
static HANDLERS: Table = &[
    (&provider::GET_PROVIDER_TOKEN, provider_token),
    (&suite::GET_SUITE_TOKEN, suite_token),
    (&authorization::GET_PRE_AUTH_CODE, pre_auth_code),
    (&authorization::SET_SESSION_INFO, session_info),
    (&authorization::GET_PERMANENT_CODE, |c| {
        permanent_code(c.shared, c.endpoint, &c.text("auth_code"), c.suite())
    }),
    (&authorization::GET_PERMANENT_CODE_V2, |c| {
        permanent_code(c.shared, c.endpoint, &c.text("auth_code"), c.suite())
    }),
    (&authorization::GET_CORP_TOKEN, corp_token),
    (&crate::api::corpgroup::endpoints::GET_TOKEN, downstream_corp_token),
    (&authorization::GET_AUTH_INFO, auth_info),
    (&authorization::GET_AUTH_INFO_V2, auth_info),
    (&authorization::GET_ADMIN_LIST, |c| {
        admin_list(c.shared, &SuiteCorp::new(c.suite(), c.text("auth_corpid")))
    }),
    (&provider::GET_REGISTER_INFO, |c| Some(register_info(c.shared, c.endpoint))),
    (&authorization::GET_CUSTOMIZED_CORP_TOKEN, |c| {
        customized_corp_token(c.shared, &c.text("corpid"), &c.text("corpsecret"))
    }),
];

/// Every stateful endpoint's handler: the token and install endpoints here,
/// then each area that keeps state of its own (licenses, members, tags,
/// OAuth codes, logins). An endpoint is in one table at most.
static TABLES: &[Table] = &[
    HANDLERS,
    super::license::HANDLERS,
    super::contacts::HANDLERS,
    super::tags::HANDLERS,
    super::kf::HANDLERS,
    super::wedrive::HANDLERS,
    super::schedule::HANDLERS,
    super::oauth::HANDLERS,
    super::login::HANDLERS,
];

/// Endpoints whose answer depends on the emulator's state; `None` for the
/// rest (they get their sample).
pub(super) fn stateful(
    shared: &Shared,
    endpoint: &Endpoint,
    params: &serde_json::Map<String, Value>,
    caller: Option<&Owner>,
) -> Option<Response> {
    let (_, handler) =
        TABLES.iter().flat_map(|table| table.iter()).find(|(known, _)| std::ptr::eq(endpoint, *known))?;
    handler(&Call { shared, endpoint, params, caller })
}

fn provider_token(c: &Call<'_>) -> Option<Response> {
    let config = &c.shared.config;
    let corp_ok = config.provider_corp_id.as_ref().is_none_or(|id| *id == c.text("corpid"));
    let secret_ok = config.provider_secret.as_ref().is_none_or(|s| *s == c.text("provider_secret"));
    if !corp_ok {
        return Some(wecom_error(40013, "invalid corpid"));
    }
    if !secret_ok {
        return Some(wecom_error(40001, "invalid provider_secret"));
    }
    Some(issue_token(c.shared, Owner::Provider(c.text("corpid")), "provider_access_token"))
}

fn suite_token(c: &Call<'_>) -> Option<Response> {
    let suite_id = c.text("suite_id");
    if let Some(suite) = c.shared.config.suite(&suite_id) {
        if suite.suite_secret != c.text("suite_secret") {
            return Some(wecom_error(40080, "invalid suite_secret"));
        }
        if !ticket_valid(c.shared, &suite_id, &c.text("suite_ticket")) {
            return Some(wecom_error(40085, "invalid suite_ticket"));
        }
    } else if !c.shared.config.suites.is_empty() {
        return Some(wecom_error(40083, "invalid suite_id"));
    }
    Some(issue_token(c.shared, Owner::Suite(suite_id), "suite_access_token"))
}

fn pre_auth_code(c: &Call<'_>) -> Option<Response> {
    let code = random_code(64);
    let expires = c.shared.now() + PRE_AUTH_CODE_LIFETIME;
    let suite_id = c.suite().to_owned();
    let record = PreAuthCode { suite_id, expires_at: expires, used: false, test_install: false };
    c.shared.state().pre_auth_codes.insert(code.clone(), record);
    let lifetime = PRE_AUTH_CODE_LIFETIME.as_secs();
    Some(json_reply(
        &serde_json::json!({"errcode": 0, "errmsg": "ok", "pre_auth_code": code, "expires_in": lifetime}),
    ))
}

fn session_info(c: &Call<'_>) -> Option<Response> {
    let code = c.text("pre_auth_code");
    let test_install =
        c.params.get("session_info").and_then(|s| s.get("auth_type")).and_then(Value::as_i64) == Some(1);
    let now = c.shared.now();
    let mut state = c.shared.state();
    match state.pre_auth_codes.get_mut(&code) {
        Some(issued) if issued.expires_at <= now => Some(wecom_error(42007, "pre_auth_code expired")),
        // The install page shows a test installation as such.
        Some(issued) => {
            issued.test_install = test_install;
            None
        }
        // Never issued (a sample's code): accepted.
        None => None,
    }
}

fn corp_token(c: &Call<'_>) -> Option<Response> {
    let (key, code) = (SuiteCorp::new(c.suite(), c.text("auth_corpid")), c.text("permanent_code"));
    if let Err(refused) = check_permanent_code(c.shared, &key, &code) {
        return Some(*refused);
    }
    if key.corp.is_empty() {
        return Some(wecom_error(40013, "invalid corpid"));
    }
    Some(issue_token(c.shared, Owner::Corp(key), "access_token"))
}

/// A downstream corp's token, issued to the calling suite for that corp.
fn downstream_corp_token(c: &Call<'_>) -> Option<Response> {
    let key = SuiteCorp::new(c.suite(), c.text("corpid"));
    Some(issue_token(c.shared, Owner::Corp(key), "access_token"))
}

fn auth_info(c: &Call<'_>) -> Option<Response> {
    let (key, code) = (SuiteCorp::new(c.suite(), c.text("auth_corpid")), c.text("permanent_code"));
    match check_permanent_code(c.shared, &key, &code) {
        Err(refused) => Some(*refused),
        // The authorized corp's own id, not the sample's.
        Ok(true) => {
            let range = c.shared.state().visible_ranges.get(&key).cloned();
            Some(sample_with(c.endpoint, |map| {
                if let Some(Value::Object(info)) = map.get_mut("auth_corp_info") {
                    info.insert("corpid".into(), Value::from(key.corp));
                }
                if let Some(info) = map.get_mut("auth_info") {
                    with_visible_range(info, range);
                }
            }))
        }
        Ok(false) => None,
    }
}

/// The visible range chosen on the install page, in the first agent's
/// `privilege` of an `auth_info` (or of a reply holding one), where the
/// sample has `allow_user` / `allow_party`.
fn with_visible_range(reply: &mut Value, range: Option<VisibleRange>) {
    let Some(range) = range else { return };
    let pointer =
        if reply.get("auth_info").is_some() { "/auth_info/agent/0/privilege" } else { "/agent/0/privilege" };
    if let Some(Value::Object(privilege)) = reply.pointer_mut(pointer) {
        if privilege.contains_key("allow_user") {
            privilege.insert("allow_user".into(), Value::from(range.users));
        }
        if privilege.contains_key("allow_party") {
            privilege.insert("allow_party".into(), Value::from(range.parties));
        }
    }
}

/// `get_admin_list` (suite token): a corp that has not authorized the
/// calling suite, or has cancelled, is WeCom's 48004 (授权关系无效) once
/// suites are registered; an authorized corp gets the sample's admins.
fn admin_list(shared: &Shared, key: &SuiteCorp) -> Option<Response> {
    let authorized = shared.state().permanent_codes.values().any(|authorized| authorized == key);
    (!authorized && !shared.config.suites.is_empty()).then(|| wecom_error(48004, "authorization invalid"))
}

/// `get_register_info`: the sample, with a working one-time registration
/// token (for `set_scope` and `contact_sync_success`) in `contact_sync`.
fn register_info(shared: &Shared, endpoint: &Endpoint) -> Response {
    let mut reply = Value::Object(sample_members(endpoint));
    let corp = reply.get("corpid").and_then(Value::as_str).unwrap_or("registered-corp").to_owned();
    let token = random_code(64);
    let lifetime = reply.pointer("/contact_sync/expires_in").and_then(Value::as_u64).unwrap_or(1800);
    let owner = Owner::Registration(corp);
    let expires_at = shared.now() + std::time::Duration::from_secs(lifetime);
    shared.state().issued.insert(token.clone(), Issued { owner, expires_at });
    if let Some(sync) = reply.get_mut("contact_sync").and_then(Value::as_object_mut) {
        sync.insert("access_token".into(), Value::from(token));
    }
    json_reply(&reply)
}

/// `gettoken` for a 代开发 app: the secret is a permanent code issued to a
/// customized suite for that corp, else 40001 (invalid secret). With no
/// suites registered, a secret the emulator did not issue (a sample's) is
/// accepted too, and the token's owner names no suite (`/corp_id`).
pub(super) fn customized_corp_token(shared: &Shared, corp: &str, secret: &str) -> Option<Response> {
    if corp.is_empty() {
        return Some(wecom_error(40013, "invalid corpid"));
    }
    let known = shared.state().permanent_codes.get(secret).cloned();
    let key = match known {
        Some(key) if key.corp == corp => {
            if shared.config.kind_of(&key.suite) == Some(AppKind::ThirdParty) {
                // A third-party app's permanent code is not an app secret.
                return Some(wecom_error(40001, "invalid corpsecret"));
            }
            key
        }
        Some(_) => return Some(wecom_error(40001, "invalid corpsecret")),
        None if secret.is_empty() || shared.refuses_unknown(secret, Some(PERMANENT_CODE_PREFIX)) => {
            return Some(wecom_error(40001, "invalid corpsecret"));
        }
        None => SuiteCorp::new("", corp),
    };
    Some(issue_token(shared, Owner::Corp(key), "access_token"))
}

/// A permanent code the emulator does not know for the authorization gets
/// WeCom's 40084: always when it looks like one the emulator issued (or
/// was cancelled), and for any code once suites are registered. With no
/// suites registered, a code it never issued (a sample's) is accepted.
/// Answers whether the emulator knows the code (accepted either way).
fn check_permanent_code(shared: &Shared, key: &SuiteCorp, code: &str) -> Result<bool, Box<Response>> {
    let known = shared.state().permanent_codes.get(code).cloned();
    let refused = match &known {
        Some(authorized) => authorized != key,
        None => shared.refuses_unknown(code, Some(PERMANENT_CODE_PREFIX)),
    };
    if refused {
        return Err(Box::new(wecom_error(40084, "invalid permanent_code")));
    }
    Ok(known.is_some())
}

pub(super) fn ticket_valid(shared: &Shared, suite_id: &str, ticket: &str) -> bool {
    let state = shared.state();
    match state.tickets.get(suite_id) {
        // Nothing was pushed for this suite: any non-empty ticket passes.
        None => !ticket.is_empty(),
        Some(pushed) => {
            let now = shared.now();
            pushed
                .iter()
                .any(|(t, at)| t == ticket && now.duration_since(*at).unwrap_or_default() < TICKET_VALIDITY)
        }
    }
}

pub(super) fn permanent_code(
    shared: &Shared,
    endpoint: &Endpoint,
    auth_code: &str,
    suite: &str,
) -> Option<Response> {
    let now = shared.now();
    let mut reply = Value::Object(sample_members(endpoint));
    // A 代开发 template gets no corp token here: the code is the app's
    // secret, for gettoken.
    let customized = shared.config.kind_of(suite) == Some(AppKind::Customized);
    let with_token = !customized && reply.get("access_token").is_some();
    let mut state = shared.state();
    let Some(entry) = state.auth_codes.get_mut(auth_code) else {
        // A code it never issued: WeCom's 40078 once suites are registered;
        // else a sample's, answered with the sample.
        return shared.refuses_unknown(auth_code, None).then(|| wecom_error(40078, "invalid auth_code"));
    };
    if entry.used || entry.expires_at <= now || entry.suite_id != suite {
        return Some(wecom_error(40078, "invalid auth_code"));
    }
    entry.used = true;
    let key = SuiteCorp::new(suite, entry.corp_id.clone());
    let link_state = entry.state.clone();
    let existing =
        state.permanent_codes.iter().find(|(_, authorized)| **authorized == key).map(|(k, _)| k.clone());
    let code = existing.unwrap_or_else(|| format!("{PERMANENT_CODE_PREFIX}{}", random_code(32)));
    state.permanent_codes.insert(code.clone(), key.clone());
    // The corp token that comes with the code, issued under the same lock,
    // so a cancel in between cannot leave a token for a cancelled corp.
    let token = with_token.then(|| current_token(&mut state, now, Owner::Corp(key.clone())));
    let range = state.visible_ranges.get(&key).cloned();
    let corp = key.corp;
    drop(state);
    with_visible_range(&mut reply, range);
    reply["permanent_code"] = Value::from(code);
    reply["auth_corp_info"]["corpid"] = Value::from(corp.clone());
    if let Some(map) = reply.as_object_mut() {
        if link_state.is_empty() {
            map.remove("state");
        } else {
            map.insert("state".into(), Value::from(link_state));
        }
    }
    reply["errcode"] = Value::from(0);
    if customized {
        if let Some(map) = reply.as_object_mut() {
            map.remove("access_token");
            map.remove("expires_in");
        }
    }
    // A working corp token, the one get_corp_token would give.
    if let Some((token, remaining)) = token {
        reply["access_token"] = Value::from(token);
        reply["expires_in"] = Value::from(remaining);
    }
    Some(json_reply(&reply))
}

/// The token endpoints: a random token per owner, the same one while valid.
pub(super) fn issue_token(shared: &Shared, owner: Owner, field: &str) -> Response {
    if owner.is_unnamed() {
        return wecom_error(40013, "invalid corpid or suite_id");
    }
    let (token, remaining) = current_token(&mut shared.state(), shared.now(), owner);
    json_reply(&serde_json::json!({ "errcode": 0, "errmsg": "ok", field: token, "expires_in": remaining }))
}

/// The owner's valid token, or a new one: the token and its remaining
/// lifetime in whole seconds.
fn current_token(state: &mut State, now: std::time::SystemTime, owner: Owner) -> (String, u64) {
    let valid = state
        .current
        .get(&owner)
        .and_then(|t| state.issued.get(t).map(|i| (t.clone(), i.expires_at)))
        .filter(|(_, expires)| *expires > now);
    let (token, expires_at) = match valid {
        Some(found) => found,
        None => {
            let token = random_code(64);
            let expires_at = now + TOKEN_LIFETIME;
            state.issued.insert(token.clone(), Issued { owner: owner.clone(), expires_at });
            state.current.insert(owner, token.clone());
            (token, expires_at)
        }
    };
    // The remaining lifetime, rounded up: a token asked for again comes back
    // unchanged with what is left of its life, never with 0 while valid.
    let left = expires_at.duration_since(now).unwrap_or_default();
    let remaining = left.as_secs() + u64::from(left.subsec_nanos() > 0);
    (token, remaining)
}

#[cfg(test)]
mod tests {
    use super::TABLES;

    #[test]
    fn each_endpoint_has_one_handler_and_is_spec_d() {
        let all: Vec<_> = TABLES.iter().flat_map(|table| table.iter()).collect();
        for (i, (endpoint, _)) in all.iter().enumerate() {
            let again = all[i + 1..].iter().any(|(other, _)| std::ptr::eq(*endpoint, *other));
            assert!(
                !again,
                "{} has two handlers (in one table or two); the second never runs",
                endpoint.name
            );
            let listed = crate::ENDPOINTS.iter().any(|e| std::ptr::eq(*e, *endpoint));
            assert!(listed, "{} is not in ENDPOINTS, so no request reaches it", endpoint.name);
        }
        // Every area's endpoints are in TABLES, so a request reaches them.
        let areas = [
            super::super::license::HANDLERS,
            super::super::contacts::HANDLERS,
            super::super::tags::HANDLERS,
            super::super::kf::HANDLERS,
            super::super::wedrive::HANDLERS,
            super::super::schedule::HANDLERS,
            super::super::oauth::HANDLERS,
            super::super::login::HANDLERS,
        ];
        for (endpoint, _) in areas.iter().flat_map(|area| area.iter()) {
            let joined = all.iter().any(|(known, _)| std::ptr::eq(*known, *endpoint));
            assert!(joined, "{}'s area table is not in TABLES, so its handler never runs", endpoint.name);
        }
    }
}
