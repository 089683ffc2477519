//! WeCom, as the simulation needs it: suite tickets and tokens with their
//! lifetimes, installs, resets and cancels with the auth codes and
//! permanent codes they bring, and every token fetch counted. It answers
//! the SDK's HTTP requests through a `Transport`, with the faults the world
//! decides: WeCom's own errors, a status, a reply that never comes (after
//! WeCom acted, or before), a refused connection.
//!
//! It is the ground truth the invariants are checked against: what WeCom
//! did last to each corp, and which permanent code it issued.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use bytes::Bytes;
use serde_json::{json, Value};
use wecom_openwork::{BoxFuture, Transport, TransportError, TransportRequest, TransportResponse};

use crate::world::World;

pub const SUITE: &str = "wwsimsuite01";
pub const SUITE_SECRET: &str = "sim-suite-secret";
pub const TOKEN_LIFETIME_S: u64 = 7200;
/// WeCom's auth codes live ten minutes.
pub const AUTH_CODE_LIFETIME_MS: u64 = 600_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CorpState {
    New,
    Authorized,
    Cancelled,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionKind {
    Authorize { auth_code: String },
    Cancel,
}

/// Something WeCom did to a corp, at its `TimeStamp` second.
#[derive(Debug, Clone)]
pub struct Action {
    pub kind: ActionKind,
    pub second: u64,
}

#[derive(Debug)]
pub struct Corp {
    pub state: CorpState,
    /// The permanent code WeCom accepts now.
    pub current_code: Option<String>,
    pub actions: Vec<Action>,
}

#[derive(Debug, Clone)]
pub struct AuthCode {
    pub corp: String,
    pub created_ms: u64,
    pub used: bool,
    /// Voided by a later action on the corp (a cancel).
    pub void: bool,
    pub permanent_code: String,
    /// Who exchanged it (instance, incarnation), and whether its reply was lost.
    pub consumed_by: Option<(usize, u64)>,
    pub reply_lost: bool,
}

/// A token WeCom handed out.
#[derive(Debug, Clone)]
pub struct Fetch {
    pub scope: String,
    pub at_ms: u64,
    pub instance: usize,
}

#[derive(Debug, Default)]
pub struct WeCom {
    tickets: Vec<(String, u64)>,
    tokens: HashMap<String, (String, u64)>,
    pub corps: BTreeMap<String, Corp>,
    pub codes: HashMap<String, AuthCode>,
    pub fetches: Vec<Fetch>,
    /// When each corp's permanent code last changed, in ms.
    pub code_changes: Vec<(String, u64)>,
    counter: u64,
}

/// What happens to one request to WeCom.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WeComFate {
    Answer,
    Errcode(i64),
    Status(u16),
    /// WeCom acts on it, then the reply never arrives.
    ActThenHang,
    /// The connection is refused: nothing reaches WeCom.
    Refused,
    /// No answer ever (WeCom does not act).
    Hang,
    /// The instance is dead.
    Frozen,
}

fn error(code: i64, message: &str) -> Value {
    json!({"errcode": code, "errmsg": message})
}

impl WeCom {
    fn next(&mut self, what: &str) -> String {
        self.counter += 1;
        format!("{what}-{}", self.counter)
    }

    /// A new suite ticket, as pushed at `now_ms`.
    pub fn new_ticket(&mut self, now_ms: u64) -> String {
        let ticket = self.next("ticket");
        self.tickets.push((ticket.clone(), now_ms));
        ticket
    }

    /// An install (or a reinstall) of the suite by `corp` at `second`:
    /// the auth code `create_auth` brings.
    pub fn install(&mut self, corp: &str, second: u64, now_ms: u64) -> String {
        self.authorize(corp, second, now_ms)
    }

    /// A reset of an authorized corp's permanent code at `second`: the
    /// auth code `reset_permanent_code` brings (the old code stops working).
    pub fn reset(&mut self, corp: &str, second: u64, now_ms: u64) -> String {
        if let Some(c) = self.corps.get_mut(corp) {
            c.current_code = None;
        }
        self.code_changes.push((corp.to_owned(), now_ms));
        self.authorize(corp, second, now_ms)
    }

    /// An install whose code was exchanged elsewhere (by an ISV system
    /// before this one): the permanent code it holds.
    pub fn installed_elsewhere(&mut self, corp: &str, second: u64, now_ms: u64) -> String {
        let auth_code = self.authorize(corp, second, now_ms);
        let code = self.codes.get_mut(&auth_code).expect("just issued");
        code.used = true;
        let permanent = code.permanent_code.clone();
        if let Some(c) = self.corps.get_mut(corp) {
            c.current_code = Some(permanent.clone());
        }
        permanent
    }

    fn authorize(&mut self, corp: &str, second: u64, now_ms: u64) -> String {
        let auth_code = self.next("authcode");
        let permanent_code = self.next(&format!("permanent-{corp}"));
        self.codes.insert(
            auth_code.clone(),
            AuthCode {
                corp: corp.to_owned(),
                created_ms: now_ms,
                used: false,
                void: false,
                permanent_code,
                consumed_by: None,
                reply_lost: false,
            },
        );
        let entry = self.corps.entry(corp.to_owned()).or_insert(Corp {
            state: CorpState::New,
            current_code: None,
            actions: Vec::new(),
        });
        entry.state = CorpState::Authorized;
        entry.actions.push(Action { kind: ActionKind::Authorize { auth_code: auth_code.clone() }, second });
        auth_code
    }

    /// A cancel by `corp` at `second`: its codes stop working.
    pub fn cancel(&mut self, corp: &str, second: u64, now_ms: u64) {
        if let Some(c) = self.corps.get_mut(corp) {
            c.state = CorpState::Cancelled;
            c.current_code = None;
            c.actions.push(Action { kind: ActionKind::Cancel, second });
        }
        for code in self.codes.values_mut().filter(|c| c.corp == corp && !c.used) {
            code.void = true;
        }
        self.code_changes.push((corp.to_owned(), now_ms));
    }

    fn token_of(&self, token: Option<&str>, scope: &str, now_ms: u64) -> Result<(), Value> {
        match token.and_then(|t| self.tokens.get(t)) {
            Some((s, expires)) if s == scope && *expires > now_ms => Ok(()),
            Some((s, _)) if s == scope => Err(error(42009, "suite_access_token expired")),
            _ => Err(error(40082, "invalid suite_access_token")),
        }
    }

    fn issue(&mut self, scope: &str, now_ms: u64, instance: usize) -> String {
        let token = self.next(&format!("token-{scope}"));
        self.tokens.insert(token.clone(), (scope.to_owned(), now_ms + TOKEN_LIFETIME_S * 1000));
        self.fetches.push(Fetch { scope: scope.to_owned(), at_ms: now_ms, instance });
        token
    }

    /// Answers one request (WeCom acting on it).
    pub fn answer(
        &mut self,
        path: &str,
        query: &BTreeMap<String, String>,
        body: &Value,
        now_ms: u64,
        caller: (usize, u64),
    ) -> Value {
        let text = |name: &str| body.get(name).and_then(Value::as_str).unwrap_or_default().to_owned();
        let suite_token = query.get("suite_access_token").map(String::as_str);
        match path {
            "/cgi-bin/service/get_suite_token" => {
                let fresh =
                    self.tickets.iter().any(|(t, at)| *t == text("suite_ticket") && now_ms < at + 1_800_000);
                if text("suite_id") != SUITE || text("suite_secret") != SUITE_SECRET {
                    return error(40013, "invalid suite");
                }
                if !fresh {
                    return error(40085, "invalid suite_ticket");
                }
                let token = self.issue(&format!("suite:{SUITE}"), now_ms, caller.0);
                json!({"errcode": 0, "suite_access_token": token, "expires_in": TOKEN_LIFETIME_S})
            }
            "/cgi-bin/service/v2/get_permanent_code" => {
                if let Err(e) = self.token_of(suite_token, &format!("suite:{SUITE}"), now_ms) {
                    return e;
                }
                let Some(code) = self.codes.get_mut(&text("auth_code")) else {
                    return error(40078, "invalid auth_code");
                };
                if code.used || code.void || now_ms > code.created_ms + AUTH_CODE_LIFETIME_MS {
                    return error(40078, "invalid auth_code");
                }
                code.used = true;
                code.consumed_by = Some(caller);
                let (corp, permanent) = (code.corp.clone(), code.permanent_code.clone());
                if let Some(c) = self.corps.get_mut(&corp) {
                    c.current_code = Some(permanent.clone());
                }
                self.code_changes.push((corp.clone(), now_ms));
                json!({"errcode": 0, "permanent_code": permanent,
                       "auth_corp_info": {"corpid": corp, "corp_name": format!("Corp {corp}")}})
            }
            "/cgi-bin/service/get_auth_info" | "/cgi-bin/service/get_corp_token" => {
                if let Err(e) = self.token_of(suite_token, &format!("suite:{SUITE}"), now_ms) {
                    return e;
                }
                let corp = text("auth_corpid");
                let valid = self.corps.get(&corp).is_some_and(|c| {
                    c.state == CorpState::Authorized
                        && c.current_code.as_deref() == Some(text("permanent_code").as_str())
                });
                if !valid {
                    return error(40084, "invalid permanent_code");
                }
                if path.ends_with("get_auth_info") {
                    json!({"errcode": 0, "auth_corp_info": {"corpid": corp, "corp_name": format!("Corp {corp}")},
                           "auth_info": {"agent": [{"agentid": 1000}]}})
                } else {
                    let token = self.issue(&format!("corp:{corp}"), now_ms, caller.0);
                    json!({"errcode": 0, "access_token": token, "expires_in": TOKEN_LIFETIME_S})
                }
            }
            "/cgi-bin/get_jsapi_ticket" => {
                let token = query.get("access_token").cloned().unwrap_or_default();
                let Some((scope, expires)) = self.tokens.get(&token).cloned() else {
                    return error(40014, "invalid access_token");
                };
                let corp = scope.strip_prefix("corp:").unwrap_or_default().to_owned();
                let authorized = self.corps.get(&corp).is_some_and(|c| c.state == CorpState::Authorized);
                if expires <= now_ms {
                    return error(42001, "access_token expired");
                }
                if !authorized {
                    return error(40014, "invalid access_token");
                }
                let ticket = self.issue(&format!("jsapi:{corp}"), now_ms, caller.0);
                json!({"errcode": 0, "ticket": ticket, "expires_in": TOKEN_LIFETIME_S})
            }
            other => error(40066, &format!("unknown path {other}")),
        }
    }
}

/// One instance's way to WeCom.
#[derive(Debug)]
pub struct SimTransport {
    pub world: Arc<World>,
    pub instance: usize,
    pub incarnation: u64,
}

fn reply(status: u16, body: &Value) -> TransportResponse {
    http::Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Bytes::from(body.to_string()))
        .unwrap_or_default()
}

impl Transport for SimTransport {
    fn send(
        &self,
        request: TransportRequest,
    ) -> BoxFuture<'static, Result<TransportResponse, TransportError>> {
        let (world, instance, incarnation) = (self.world.clone(), self.instance, self.incarnation);
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let path = parts.uri.path().to_owned();
            let query: BTreeMap<String, String> = reqwest::Url::parse(&parts.uri.to_string())
                .map(|url| url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect())
                .unwrap_or_default();
            let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            tokio::time::sleep(std::time::Duration::from_millis(world.latency_ms())).await;
            let fate = world.wecom_fate(instance, incarnation, &path);
            match fate {
                WeComFate::Frozen | WeComFate::Hang => std::future::pending().await,
                WeComFate::Refused => Err(TransportError::before_sending("connection refused")),
                WeComFate::Status(status) => Ok(reply(status, &json!({"error": "bad gateway"}))),
                WeComFate::Errcode(code) => Ok(reply(200, &error(code, "simulated"))),
                WeComFate::Answer | WeComFate::ActThenHang => {
                    let answer = world.wecom_answer(&path, &query, &body, (instance, incarnation));
                    if fate == WeComFate::ActThenHang {
                        world.reply_lost(&body);
                        return std::future::pending().await;
                    }
                    if !world.alive(instance, incarnation) {
                        return std::future::pending().await;
                    }
                    Ok(reply(200, &answer))
                }
            }
        })
    }
}
