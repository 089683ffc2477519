//! The emulator's controls over HTTP, for tests and scripts in any language.
//! Bodies are JSON (no `Content-Type` needed); a bad request is answered
//! 400 with `{"error": …}`. Answers that push include what was pushed, so a
//! caller learns tickets and codes without running a callback server.
//!
//! Every route is one entry of this module's route table: its method, path,
//! handler and the words of its documentation together. The OpenAPI 3.1
//! document of them all ([`openapi_json`], served at
//! `GET /__emulator/openapi.json`) is built from that table and from the
//! handlers' request and answer types, so it lists exactly the routes served
//! and describes exactly what they take and answer.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{on, MethodFilter, MethodRouter};
use axum::{Json, Router};
use schemars::gen::SchemaGenerator;
use schemars::schema::{InstanceType, Schema, SchemaObject};
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::control_doc::{self, Operation, Refusal, Words};
use super::push::{PermanentCodeReset, PushTarget};
use super::records::{PushRecord, Violation};
use super::{advance, clear_faults, inject, reset, settle, stats, unix_now, Fault, RecordedRequest, Shared};
use super::{ScheduledTicket, OAUTH_CODE_LIFETIME};

/// The OpenAPI 3.1 document of the control routes, served at
/// `GET /__emulator/openapi.json`: built from the route table the first time
/// it is asked for, then kept.
pub fn openapi_json() -> &'static str {
    static DOCUMENT: OnceLock<String> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        let operations: Vec<Operation> = table().into_iter().map(|route| route.operation).collect();
        serde_json::to_string_pretty(&control_doc::document(&operations)).unwrap_or_default()
    })
}

/// Every control route the emulator serves, as (method, path).
pub fn routes() -> Vec<(&'static str, &'static str)> {
    table().into_iter().map(|route| (route.operation.method, route.operation.path)).collect()
}

/// The control routes, for the emulator to serve before its WeCom routes.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    table()
        .into_iter()
        .fold(Router::new(), |router, route| router.route(route.operation.path, route.handler))
        .with_state(shared)
}

/// Every control route: what it is called and does, next to what serves it.
fn table() -> Vec<Route> {
    use Verb::{Delete, Get, Post};
    vec![
        Route::bodyless(Get, "/__emulator/stats", get_stats, Words {
            id: "getStats",
            summary: "Counts of requests and pushes",
            description: "Requests per path, the number of requests and of push attempts, and the emulator's clock.",
        }),
        Route::bodyless(Get, "/__emulator/requests", get_requests, Words {
            id: "getRequests",
            summary: "Every request received",
            description: "Every WeCom API request the emulator received, oldest first.",
        }),
        Route::bodyless(Get, "/__emulator/violations", get_violations, Words {
            id: "getViolations",
            summary: "Calls that broke the SDK's own rules",
            description: "The calls a lenient emulator answered although they broke one of the SDK's own rules (a token parameter of another kind, a token given twice), oldest first. A strict emulator refuses them instead and records none.",
        }),
        Route::bodyless(Get, "/__emulator/pushes", get_pushes, Words {
            id: "getPushes",
            summary: "Every push attempt",
            description: "Every callback push attempt (a push not acknowledged is retried: 3 attempts in all) and how the ISV answered.",
        }),
        Route::json("/__emulator/faults", post_fault, Words {
            id: "injectFault",
            summary: "Inject a fault",
            description: "Answers the next `times` calls to `path` (every path when null) with the fault. Faults queue in the order injected.",
        }),
        Route::bodyless(Delete, "/__emulator/faults", delete_faults, Words {
            id: "clearFaults",
            summary: "Clear the faults",
            description: "Removes every injected fault not yet used up.",
        }),
        Route::json("/__emulator/clock/advance", post_advance, Words {
            id: "advanceClock",
            summary: "Move the clock",
            description: "Moves the emulator's clock forward; tokens and codes expire on it. Every suite ticket due in the span (one each 10 minutes) is issued at its own due time and pushed to the suite's command URL; answers when the pushes are done.",
        }),
        Route::json("/__emulator/suite_ticket", post_suite_ticket, Words {
            id: "pushSuiteTicket",
            summary: "Push a suite ticket",
            description: "Issues a new suite ticket (valid 30 minutes) and pushes it to the suite's command URL now. The answer is the push's last attempt and the ticket.",
        }),
        Route::json("/__emulator/authorize", post_authorize, Words {
            id: "authorizeCorp",
            summary: "A corp authorizes the suite",
            description: "An emulated admin of the corp authorizes the suite: a single-use auth code (valid 10 minutes) is issued and pushed in `create_auth`. The answer is the push's last attempt and the auth code.",
        }),
        Route::json("/__emulator/oauth_code", post_oauth_code, Words {
            id: "postOAuthCode",
            summary: "An OAuth code for a member",
            description: "The code WeCom's OAuth redirect would hand the suite's app for a member of a corp. It works once, within 5 minutes, with that suite's token on service/auth/getuserinfo3rd (or, for a 代开发 app, the corp's token on auth/getuserinfo); its user_ticket then reads the member's details.",
        }),
        Route::json("/__emulator/cancel", post_cancel, Words {
            id: "cancelAuthorization",
            summary: "A corp cancels its authorization",
            description: "The corp's permanent code and tokens stop working and `cancel_auth` is pushed. The answer is the push's last attempt.",
        }),
        Route::json("/__emulator/change_auth", post_change_auth, Words {
            id: "changeAuthorization",
            summary: "A corp changes its authorization",
            description: "`change_auth` is pushed. The answer is the push's last attempt.",
        }),
        Route::json("/__emulator/reset_permanent_code", post_reset_permanent_code, Words {
            id: "resetPermanentCode",
            summary: "Reset a corp's permanent code",
            description: "The provider resets the permanent code of a corp that authorized the suite: a new code replaces the old one, which stops working at once, and `reset_permanent_code` is pushed with an auth code that `get_permanent_code` exchanges for the new code. Refused when the corp has no permanent code.",
        }),
        Route::json("/__emulator/events", post_event, Words {
            id: "pushEvent",
            summary: "Push any event",
            description: "Pushes the plain event XML encrypted: to the suite's data URL for the corp (receive id and `ToUserName` the corp id, `AgentID` the event's), or with `url: command` to its command URL (receive id the suite id). The answer is the push's last attempt.",
        }),
        Route::json("/__emulator/kf/customer_message", post_kf_customer_message, Words {
            id: "kfCustomerWrites",
            summary: "A customer writes to a 微信客服 account",
            description: "A WeChat customer writes a text message to a service account the corp added with `kf/account/add`: the message waits for `kf/sync_msg`, and `kf_msg_or_event` is pushed to the suite's data URL with a token that lets `sync_msg` read for 10 minutes. The answer is the push's last attempt.",
        }),
        Route::json("/__emulator/license/pay", post_license_pay, Words {
            id: "payLicenseOrder",
            summary: "Pay a license order",
            description: "Pays the order as the provider would in the admin console: its accounts appear, one active code each.",
        }),
        Route::bodyless(Post, "/__emulator/reset", post_reset, Words {
            id: "reset",
            summary: "Forget everything but the configuration",
            description: "Waits for the pushes under way, then forgets the recorded requests and pushes, the faults and everything issued or kept (tokens, tickets, codes, permanent codes, orders, members, tags, media, 微信客服 accounts and messages, 微盘 spaces and files, schedules). The configuration and the clock stay; the ticket schedule restarts from now.",
        }),
        Route::document("/__emulator/openapi.json", Words {
            id: "getOpenapi",
            summary: "This document",
            description: "The OpenAPI 3.1 document of the control routes.",
        }),
    ]
}

/// The methods the control routes use, each with its name (for
/// [`routes`] and the document) and axum's filter (for the router).
#[derive(Clone, Copy)]
enum Verb {
    Get,
    Post,
    Delete,
}

impl Verb {
    /// The method as HTTP writes it.
    fn name(self) -> &'static str {
        match self {
            Verb::Get => "GET",
            Verb::Post => "POST",
            Verb::Delete => "DELETE",
        }
    }

    /// What the router matches it with.
    fn filter(self) -> MethodFilter {
        match self {
            Verb::Get => MethodFilter::GET,
            Verb::Post => MethodFilter::POST,
            Verb::Delete => MethodFilter::DELETE,
        }
    }
}

/// One control route: what the document says of it and what serves it,
/// made together so neither exists without the other.
struct Route {
    /// Its documentation, the schemas from the handler's types.
    operation: Operation,
    /// Its handler, for its one method.
    handler: MethodRouter<Arc<Shared>>,
}

/// The state every handler is given.
type Control = State<Arc<Shared>>;

impl Route {
    /// A route that reads no body (one sent is ignored) and answers `A`.
    fn bodyless<A, F, Fut>(verb: Verb, path: &'static str, handler: F, words: Words) -> Route
    where
        A: Serialize + JsonSchema,
        F: Fn(Arc<Shared>) -> Fut + Clone + Send + Sync + 'static,
        Fut: Future<Output = A> + Send + 'static,
    {
        let serve = move |State(shared): Control| {
            let handler = handler.clone();
            async move { Json(handler(shared).await).into_response() }
        };
        let operation = Operation {
            method: verb.name(),
            path,
            words,
            request: None,
            answer: SchemaGenerator::subschema_for::<A>,
        };
        Route { operation, handler: on(verb.filter(), serve) }
    }

    /// A `POST` route that reads a JSON `R` (refused with 400 when the body
    /// is not one) and answers `A`, or 400 with the handler's reason.
    fn json<R, A, F, Fut>(path: &'static str, handler: F, words: Words) -> Route
    where
        R: DeserializeOwned + JsonSchema + Send + 'static,
        A: Serialize + JsonSchema,
        F: Fn(Arc<Shared>, R) -> Fut + Clone + Send + Sync + 'static,
        Fut: Future<Output = Result<A, String>> + Send + 'static,
    {
        let serve = move |State(shared): Control, body: Bytes| {
            let handler = handler.clone();
            async move {
                let request = match parse::<R>(&body) {
                    Ok(request) => request,
                    Err(e) => return failed(e),
                };
                match handler(shared, request).await {
                    Ok(answer) => sorted(&answer),
                    Err(e) => failed(e),
                }
            }
        };
        let operation = Operation {
            method: Verb::Post.name(),
            path,
            words,
            request: Some(SchemaGenerator::subschema_for::<R>),
            answer: SchemaGenerator::subschema_for::<A>,
        };
        Route { operation, handler: on(MethodFilter::POST, serve) }
    }

    /// The route of the document itself, served as built (its schema: some
    /// JSON object).
    fn document(path: &'static str, words: Words) -> Route {
        let serve =
            || async { ([(header::CONTENT_TYPE, "application/json")], openapi_json()).into_response() };
        let operation = Operation {
            method: Verb::Get.name(),
            path,
            words,
            request: None,
            answer: SchemaGenerator::subschema_for::<serde_json::Map<String, Value>>,
        };
        Route { operation, handler: on(MethodFilter::GET, serve) }
    }
}

/// The 400 answer, with why.
fn failed(message: String) -> Response {
    (StatusCode::BAD_REQUEST, Json(Refusal { error: message })).into_response()
}

/// The JSON body as `T`, or why not (for a 400 answer).
fn parse<T: DeserializeOwned>(body: &Bytes) -> Result<T, String> {
    serde_json::from_slice(body).map_err(|e| format!("bad request body: {e}"))
}

/// `answer` as JSON with its members sorted by name, through a [`Value`]:
/// the order these answers have always come in (a push record with members
/// added), so their bytes stay what callers have seen.
fn sorted<T: Serialize>(answer: &T) -> Response {
    Json(serde_json::to_value(answer).unwrap_or_default()).into_response()
}

/// A schema that takes only `true`: the `ok` of an answer that has no other
/// outcome (a failure is a 400).
fn always_true(_: &mut SchemaGenerator) -> Schema {
    let schema = SchemaObject {
        instance_type: Some(InstanceType::Boolean.into()),
        const_value: Some(Value::Bool(true)),
        ..SchemaObject::default()
    };
    schema.into()
}

/// Injects a fault: `POST /__emulator/faults`.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct FaultRequest {
    /// The path, or null for every path.
    #[serde(default)]
    path: Option<String>,
    /// How many calls it answers.
    times: usize,
    /// What it answers.
    fault: Fault,
}

/// Moves the clock: `POST /__emulator/clock/advance`.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct AdvanceRequest {
    /// How far, in seconds.
    seconds: u64,
}

/// Names a suite: `POST /__emulator/suite_ticket`.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct SuiteRequest {
    /// The suite.
    suite_id: String,
}

/// Names a license order: `POST /__emulator/license/pay`.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct OrderRequest {
    /// The order, as `create_new_order` answered it.
    order_id: String,
}

/// Names a corp's authorization of a suite: authorize, cancel, change_auth,
/// reset_permanent_code.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct CorpRequest {
    /// The suite.
    suite_id: String,
    /// The corp.
    corp_id: String,
}

/// An event to push: `POST /__emulator/events`.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct EventRequest {
    /// The suite whose URL it goes to, with whose key it is encrypted.
    suite_id: String,
    /// The corp the event is about; required for the data URL.
    #[serde(default)]
    corp_id: String,
    /// The plain event XML.
    xml: String,
    /// Which of the suite's URLs.
    #[serde(default)]
    url: PushTarget,
}

/// A customer's message: `POST /__emulator/kf/customer_message`.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct KfCustomerMessage {
    /// The suite whose data URL gets the push.
    suite_id: String,
    /// The corp that owns the account.
    corp_id: String,
    /// The service account written to.
    open_kfid: String,
    /// The customer's external_userid.
    external_userid: String,
    /// What the customer wrote.
    text: String,
}

/// A member's OAuth code: `POST /__emulator/oauth_code`.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct OAuthCodeRequest {
    /// The suite whose app the member opens.
    suite_id: String,
    /// The member's corp.
    corp_id: String,
    /// The member.
    userid: String,
}

/// Done: the answer of a control with nothing else to say.
#[derive(Serialize, JsonSchema)]
#[schemars(rename = "Ok")]
struct Done {
    /// Always true.
    #[schemars(schema_with = "always_true")]
    ok: bool,
}

/// The answer of `DELETE /__emulator/faults`.
#[derive(Serialize, JsonSchema)]
struct Cleared {
    /// How many faults were removed.
    cleared: usize,
}

/// The answer of `POST /__emulator/reset`.
// Members in name order: the order they have always come in.
#[derive(Serialize, JsonSchema)]
struct ResetAnswer {
    /// The emulator's clock, Unix seconds.
    now: u64,
    /// Always true.
    #[schemars(schema_with = "always_true")]
    ok: bool,
}

/// Counts of requests and pushes.
// Members in name order: the order they have always come in.
#[derive(Serialize, JsonSchema)]
struct Stats {
    /// Requests per path.
    calls: BTreeMap<String, usize>,
    /// The emulator's clock, Unix seconds.
    now: u64,
    /// Push attempts made.
    pushes: usize,
    /// Requests received.
    requests: usize,
}

/// The answer of `POST /__emulator/clock/advance`.
#[derive(Serialize, JsonSchema)]
struct AdvanceAnswer {
    /// The emulator's clock after the move, Unix seconds.
    now: u64,
    /// The suite tickets issued in the span, oldest first.
    tickets: Vec<ScheduledTicket>,
}

/// A member's OAuth code.
#[derive(Serialize, JsonSchema)]
struct OAuthCodeAnswer {
    /// The OAuth code.
    code: String,
    /// Its lifetime in seconds (300).
    expires_in: u64,
}

/// A suite ticket's push: its last attempt, and the ticket.
#[derive(Serialize, JsonSchema)]
struct SuiteTicketPush {
    /// The push's last attempt.
    #[serde(flatten)]
    record: PushRecord,
    /// The ticket pushed.
    ticket: String,
}

/// A `create_auth` push: its last attempt, and the auth code.
#[derive(Serialize, JsonSchema)]
struct AuthCodePush {
    /// The push's last attempt.
    #[serde(flatten)]
    record: PushRecord,
    /// The auth code pushed, which `get_permanent_code` exchanges.
    auth_code: String,
}

/// `GET /__emulator/stats`: how busy the emulator has been.
async fn get_stats(shared: Arc<Shared>) -> Stats {
    let calls = stats(&shared).into_iter().collect();
    let (requests, pushes) = {
        let state = shared.state();
        (state.requests.len(), state.pushes.len())
    };
    Stats { calls, now: unix_now(&shared), pushes, requests }
}

/// `GET /__emulator/requests`: what a test asserts its calls against.
async fn get_requests(shared: Arc<Shared>) -> Vec<RecordedRequest> {
    shared.state().requests.clone()
}

/// `GET /__emulator/violations`: the rule breaks a lenient emulator let pass.
async fn get_violations(shared: Arc<Shared>) -> Vec<Violation> {
    shared.state().violations.clone()
}

/// `GET /__emulator/pushes`: what the ISV was sent and how it answered.
async fn get_pushes(shared: Arc<Shared>) -> Vec<PushRecord> {
    shared.state().pushes.clone()
}

/// `POST /__emulator/faults`: queues a fault for the next calls.
async fn post_fault(shared: Arc<Shared>, request: FaultRequest) -> Result<Done, String> {
    inject(&shared, request.path, request.times, request.fault);
    Ok(Done { ok: true })
}

/// `DELETE /__emulator/faults`: drops the faults not yet used up.
async fn delete_faults(shared: Arc<Shared>) -> Cleared {
    Cleared { cleared: clear_faults(&shared) }
}

/// `POST /__emulator/clock/advance`: moves the clock, answering once the
/// tickets due are pushed.
async fn post_advance(shared: Arc<Shared>, request: AdvanceRequest) -> Result<AdvanceAnswer, String> {
    let Some(tickets) = advance(&shared, Duration::from_secs(request.seconds)) else {
        return Err(format!("advancing {} seconds overflows the clock", request.seconds));
    };
    settle(&shared).await;
    Ok(AdvanceAnswer { now: unix_now(&shared), tickets })
}

/// `POST /__emulator/suite_ticket`: pushes a new ticket now.
async fn post_suite_ticket(shared: Arc<Shared>, request: SuiteRequest) -> Result<SuiteTicketPush, String> {
    let (ticket, record) =
        super::push::suite_ticket(&shared, &request.suite_id).await.map_err(|e| e.to_string())?;
    Ok(SuiteTicketPush { record, ticket })
}

/// `POST /__emulator/authorize`: a corp authorizes; `create_auth` is pushed.
async fn post_authorize(shared: Arc<Shared>, request: CorpRequest) -> Result<AuthCodePush, String> {
    let (auth_code, record) = super::push::authorize(&shared, &request.suite_id, &request.corp_id, "")
        .await
        .map_err(|e| e.to_string())?;
    Ok(AuthCodePush { record, auth_code })
}

/// `POST /__emulator/oauth_code`: the code an OAuth redirect would hand over.
async fn post_oauth_code(shared: Arc<Shared>, request: OAuthCodeRequest) -> Result<OAuthCodeAnswer, String> {
    let code = super::oauth::issue_code(&shared, &request.suite_id, &request.corp_id, &request.userid)?;
    Ok(OAuthCodeAnswer { code, expires_in: OAUTH_CODE_LIFETIME.as_secs() })
}

/// `POST /__emulator/cancel`: a corp cancels; `cancel_auth` is pushed.
async fn post_cancel(shared: Arc<Shared>, request: CorpRequest) -> Result<PushRecord, String> {
    super::push::cancel(&shared, &request.suite_id, &request.corp_id).await.map_err(|e| e.to_string())
}

/// `POST /__emulator/change_auth`: `change_auth` is pushed.
async fn post_change_auth(shared: Arc<Shared>, request: CorpRequest) -> Result<PushRecord, String> {
    super::push::change(&shared, &request.suite_id, &request.corp_id).await.map_err(|e| e.to_string())
}

/// `POST /__emulator/reset_permanent_code`: a new permanent code, pushed
/// as an auth code.
async fn post_reset_permanent_code(
    shared: Arc<Shared>,
    request: CorpRequest,
) -> Result<PermanentCodeReset, String> {
    super::push::reset_permanent_code(&shared, &request.suite_id, &request.corp_id)
        .await
        .map_err(|e| e.to_string())
}

/// `POST /__emulator/events`: pushes any event.
async fn post_event(shared: Arc<Shared>, request: EventRequest) -> Result<PushRecord, String> {
    super::push::event(&shared, &request.suite_id, &request.corp_id, &request.xml, request.url)
        .await
        .map_err(|e| e.to_string())
}

/// `POST /__emulator/kf/customer_message`: a customer writes to a kf account.
async fn post_kf_customer_message(shared: Arc<Shared>, m: KfCustomerMessage) -> Result<PushRecord, String> {
    super::kf::customer_writes(&shared, &m.suite_id, &m.corp_id, &m.open_kfid, &m.external_userid, &m.text)
        .await
        .map_err(|e| e.to_string())
}

/// `POST /__emulator/license/pay`: pays an order, as the admin console would.
async fn post_license_pay(shared: Arc<Shared>, request: OrderRequest) -> Result<Done, String> {
    super::license::pay(&shared, &request.order_id)?;
    Ok(Done { ok: true })
}

/// `POST /__emulator/reset`: forgets all but the configuration.
async fn post_reset(shared: Arc<Shared>) -> ResetAnswer {
    reset(&shared).await;
    ResetAnswer { now: unix_now(&shared), ok: true }
}
