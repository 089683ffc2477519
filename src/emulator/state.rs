//! What the emulator remembers: requests, faults, issued tokens and codes,
//! tickets, all behind one lock.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::config::EmulatorConfig;
use super::is_token_param;
use super::records::PushRecord;
use crate::clock::{Clock, ManualClock};
use crate::http::TokenKind;
use crate::tasks::Background;

/// One request as the emulator received it.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct RecordedRequest {
    /// `GET` or `POST`.
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// Query parameters in order, decoded.
    pub query: Vec<(String, String)>,
    /// The JSON body, if there was one and it parsed; else null.
    #[schemars(with = "super::control_doc::Nullable<Value>")]
    pub body: Option<Value>,
    /// The file of a `multipart/form-data` upload; else null.
    #[schemars(with = "super::control_doc::Nullable<super::records::RecordedUpload>")]
    pub upload: Option<super::records::RecordedUpload>,
}

impl RecordedRequest {
    /// Values of query parameter `name`, in order.
    pub fn query_values(&self, name: &str) -> Vec<&str> {
        self.query.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str()).collect()
    }

    /// The access token the request carried, whatever its query name.
    pub fn token(&self) -> Option<&str> {
        self.query.iter().find(|(k, _)| is_token_param(k)).map(|(_, v)| v.as_str())
    }
}

/// A fault the emulator answers with instead of the real reply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Fault {
    /// A WeCom error: `{"errcode": code, "errmsg": …}` with HTTP 200.
    Errcode(i64),
    /// An HTTP status with a short text body.
    HttpStatus(u16),
    /// Wait this long, then answer normally.
    Delay(Duration),
    /// Break the connection instead of answering.
    Drop,
    /// Answer with this JSON body (HTTP 200), e.g. a token reply without
    /// `expires_in`.
    Json(Value),
}

/// Who a token was issued to, as [`Emulator::token_owner`](super::Emulator::token_owner)
/// shows it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TokenOwner {
    /// Its kind.
    pub kind: TokenKind,
    /// The provider corp id, the suite id, or `suite_id/corp_id` (`/corp_id`
    /// for a 代开发 token got with a secret the emulator did not issue).
    pub owner: String,
}

impl From<&Owner> for TokenOwner {
    /// The public form of a typed owner: the one place a corp token's owner
    /// is written `suite_id/corp_id`, as the emulator's API has always shown it.
    fn from(owner: &Owner) -> Self {
        let name = match owner {
            Owner::Provider(id) | Owner::Suite(id) | Owner::Registration(id) => id.clone(),
            Owner::Corp(SuiteCorp { suite, corp }) => format!("{suite}/{corp}"),
        };
        TokenOwner { kind: owner.kind(), owner: name }
    }
}

/// One corp's authorization of one suite: the key of what the emulator keeps
/// per (suite, corp), with named fields so the two ids cannot be swapped.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) struct SuiteCorp {
    /// The suite id; empty for a 代开发 token got with a secret the emulator
    /// did not issue (a sample's), which names no suite.
    pub(super) suite: String,
    /// The authorizing corp's id.
    pub(super) corp: String,
}

impl SuiteCorp {
    /// The key of `corp`'s authorization of `suite`, from ids however held.
    pub(super) fn new(suite: impl Into<String>, corp: impl Into<String>) -> Self {
        SuiteCorp { suite: suite.into(), corp: corp.into() }
    }
}

/// Who a token was issued to, typed: what tokens are kept by and what a
/// handler reads its caller from, so no code takes an owner string apart.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) enum Owner {
    /// A provider token, for the provider's corp id.
    Provider(String),
    /// A suite token, for the suite id.
    Suite(String),
    /// A corp token, issued to a suite for a corp that authorized it.
    Corp(SuiteCorp),
    /// A registration's one-time token, for the registered corp id.
    Registration(String),
}

impl Owner {
    /// The kind of token: an endpoint takes only its own kind.
    pub(super) fn kind(&self) -> TokenKind {
        match self {
            Owner::Provider(_) => TokenKind::Provider,
            Owner::Suite(_) => TokenKind::Suite,
            Owner::Corp(_) => TokenKind::Corp,
            Owner::Registration(_) => TokenKind::Registration,
        }
    }

    /// The suite the token acts for (a suite token's own, a corp token's
    /// issuer): the key of suite-scoped state and of the app's kind.
    pub(super) fn suite(&self) -> Option<&str> {
        match self {
            Owner::Suite(suite) => Some(suite),
            Owner::Corp(key) => Some(&key.suite),
            Owner::Provider(_) | Owner::Registration(_) => None,
        }
    }

    /// A corp token's corp: the key of per-corp state (members, tags).
    pub(super) fn corp(&self) -> Option<&str> {
        match self {
            Owner::Corp(key) => Some(&key.corp),
            _ => None,
        }
    }

    /// Whether no id names the owner (a token asked for with an empty
    /// `corpid` or `suite_id`), which WeCom refuses.
    pub(super) fn is_unnamed(&self) -> bool {
        match self {
            Owner::Provider(id) | Owner::Suite(id) | Owner::Registration(id) => id.is_empty(),
            Owner::Corp(_) => false,
        }
    }
}

/// A token the emulator issued: to whom, and until when.
pub(super) struct Issued {
    pub(super) owner: Owner,
    pub(super) expires_at: SystemTime,
}

pub(super) struct AuthCode {
    pub(super) suite_id: String,
    pub(super) corp_id: String,
    pub(super) expires_at: SystemTime,
    pub(super) used: bool,
    /// The install link's `state`, which `get_permanent_code` answers with.
    pub(super) state: String,
}

#[derive(Default)]
pub(super) struct State {
    pub(super) requests: Vec<RecordedRequest>,
    pub(super) faults: Vec<(Option<String>, usize, Fault)>,
    pub(super) issued: HashMap<String, Issued>,
    /// Each owner's newest token, handed out again while valid.
    pub(super) current: HashMap<Owner, String>,
    /// Tickets pushed per suite, newest last, with their push time.
    pub(super) tickets: HashMap<String, Vec<(String, SystemTime)>>,
    pub(super) last_ticket_push: HashMap<String, SystemTime>,
    /// Where the ticket schedule of a suite never pushed to starts: the
    /// emulator's start, or its last reset.
    pub(super) ticket_epoch: Option<SystemTime>,
    pub(super) pre_auth_codes: HashMap<String, super::records::PreAuthCode>,
    pub(super) auth_codes: HashMap<String, AuthCode>,
    /// Permanent code → the authorization it stands for; removed when the
    /// corp cancels.
    pub(super) permanent_codes: HashMap<String, SuiteCorp>,
    pub(super) pushes: Vec<PushRecord>,
    /// License orders by id, and active codes' activations.
    pub(super) license_orders: HashMap<String, super::records::LicenseOrder>,
    pub(super) activations: HashMap<String, super::records::Activation>,
    /// Members created per corp, by userid, as they were sent.
    pub(super) members: HashMap<String, HashMap<String, serde_json::Map<String, Value>>>,
    /// The last tag id handed out (ids are never reused).
    pub(super) last_tag_id: i64,
    /// Tags created per corp, by tag id.
    pub(super) tags: HashMap<String, std::collections::BTreeMap<i64, super::records::Tag>>,
    /// Calls that broke the SDK's own rules, in order.
    pub(super) violations: Vec<super::records::Violation>,
    /// OAuth codes and user tickets issued, by value.
    pub(super) oauth_codes: HashMap<String, super::records::OAuthCode>,
    pub(super) user_tickets: HashMap<String, super::records::UserTicket>,
    /// Visible ranges chosen on the install page, per authorization.
    pub(super) visible_ranges: HashMap<SuiteCorp, super::records::VisibleRange>,
    /// Web-login codes issued, by value.
    pub(super) login_codes: HashMap<String, super::records::LoginCode>,
    /// Uploaded files by media id.
    pub(super) media: HashMap<String, super::records::StoredMedia>,
    /// 微信客服 accounts and messages per corp.
    pub(super) kf: HashMap<String, super::records::KfState>,
    /// Calendars and schedules per corp.
    pub(super) schedules: HashMap<String, super::records::ScheduleState>,
    /// 微盘 spaces and files per corp.
    pub(super) wedrive: HashMap<String, super::records::WedriveState>,
}

pub(crate) struct Shared {
    pub(super) config: EmulatorConfig,
    /// Where the emulator listens (`http://127.0.0.1:port`), for the links
    /// it hands out.
    pub(super) base_uri: String,
    pub(super) clock: ManualClock,
    pub(super) state: Mutex<State>,
    pub(super) http: reqwest::Client,
    pub(super) pending: Background,
}

impl Shared {
    pub(super) fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(super) fn now(&self) -> SystemTime {
        self.clock.now()
    }

    /// Whether a code, ticket or secret the emulator does not know is
    /// refused: when it carries `issued_prefix` (one it issued and has since
    /// revoked, used or let expire), and any once suites are registered.
    /// Otherwise it is a documented sample's value, answered with the sample.
    pub(super) fn refuses_unknown(&self, value: &str, issued_prefix: Option<&str>) -> bool {
        issued_prefix.is_some_and(|prefix| value.starts_with(prefix)) || !self.config.suites.is_empty()
    }
}

pub(super) fn random_code(len: usize) -> String {
    std::iter::repeat_with(fastrand::alphanumeric).take(len).collect()
}

/// Unix seconds of the emulator's clock.
pub(super) fn unix_now(shared: &Shared) -> u64 {
    shared.now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs()
}

/// Permanent codes the emulator issues carry this prefix, so one it issued
/// and then revoked is told apart from a sample's made-up code.
pub(super) const PERMANENT_CODE_PREFIX: &str = "emu-pc-";
