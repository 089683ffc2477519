//! What the emulator's stateful features keep, as plain data: license
//! orders and activations, tags, uploaded files. The features own the logic;
//! the state holds these.

use std::collections::BTreeSet;
use std::time::SystemTime;

use axum::body::Bytes;
use schemars::JsonSchema;
use serde::Serialize;

/// How many times a push is tried before it is given up: here, by the
/// record whose `attempt` it bounds, so the record's schema can say so.
pub const PUSH_ATTEMPTS: u32 = 3;

/// An order as the emulator keeps it.
pub(super) struct LicenseOrder {
    pub(super) corpid: String,
    pub(super) base_count: u64,
    pub(super) external_contact_count: u64,
    pub(super) months: u64,
    pub(super) created: SystemTime,
    /// When it was paid; its accounts exist from then on.
    pub(super) paid: Option<SystemTime>,
    /// One active code per account, with its type (1 base, 2 external contact).
    pub(super) accounts: Vec<(String, u64)>,
}

/// An active code's activation.
pub(super) struct Activation {
    pub(super) corpid: String,
    pub(super) userid: String,
    pub(super) kind: u64,
    pub(super) active_time: SystemTime,
    pub(super) expire_time: SystemTime,
}

/// One tag as the emulator keeps it.
#[derive(Default)]
pub(super) struct Tag {
    pub(super) name: String,
    pub(super) users: BTreeSet<String>,
    pub(super) parties: BTreeSet<i64>,
}

/// One corp's 微信客服: its service accounts, what customers wrote (oldest
/// first; a cursor is a position in it) and the live callback tokens.
#[derive(Default)]
pub(super) struct KfState {
    /// Accounts by `open_kfid`.
    pub(super) accounts: std::collections::BTreeMap<String, KfAccount>,
    /// Messages as `sync_msg` returns them.
    pub(super) messages: Vec<serde_json::Value>,
    /// Tokens handed out in `kf_msg_or_event` pushes, with when they expire.
    pub(super) tokens: std::collections::HashMap<String, SystemTime>,
}

/// A service account as it was added or last updated.
pub(super) struct KfAccount {
    pub(super) name: String,
    pub(super) media_id: String,
}

/// One corp's calendars and schedules, each as it was sent (plus its id,
/// and a schedule's `status` and attendees' answers).
#[derive(Default)]
pub(super) struct ScheduleState {
    /// Calendars by `cal_id`.
    pub(super) calendars: std::collections::BTreeMap<String, serde_json::Map<String, serde_json::Value>>,
    /// Schedules by `schedule_id`, cancelled ones too.
    pub(super) schedules: std::collections::BTreeMap<String, serde_json::Map<String, serde_json::Value>>,
    /// Counts every schedule made or changed: its `sequence`, and the order
    /// a calendar lists them in.
    pub(super) sequence: u64,
}

/// One corp's 微盘: its spaces, its files and folders, and the download
/// links handed out.
#[derive(Default)]
pub(super) struct WedriveState {
    /// Spaces by `spaceid`.
    pub(super) spaces: std::collections::BTreeMap<String, DriveSpace>,
    /// Files by `fileid`.
    pub(super) files: std::collections::BTreeMap<String, DriveFile>,
    /// Download links by their id (the last part of the link).
    pub(super) links: std::collections::HashMap<String, DriveLink>,
}

/// A space as it was created or last renamed.
pub(super) struct DriveSpace {
    pub(super) name: String,
}

/// A file in a space's root.
pub(super) struct DriveFile {
    pub(super) spaceid: String,
    /// The folder it is in: the space id (the emulator keeps no folders).
    pub(super) fatherid: String,
    pub(super) name: String,
    pub(super) bytes: Bytes,
    /// When it was uploaded (Unix seconds).
    pub(super) created: u64,
}

/// A download link: the file it hands over, the cookie it wants, and when
/// it stops working.
pub(super) struct DriveLink {
    pub(super) fileid: String,
    pub(super) cookie: String,
    pub(super) expires: SystemTime,
}

/// The file part of an upload, as the emulator received it.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct RecordedUpload {
    /// The form field it came in.
    pub field: String,
    /// The `filename` of its `Content-Disposition`.
    pub file_name: String,
    /// The `filelength` of its `Content-Disposition`, if given; else null.
    #[schemars(with = "super::control_doc::Nullable<u64>")]
    pub file_length: Option<u64>,
    /// Its `Content-Type`.
    pub content_type: String,
    /// Its size in bytes.
    pub size: u64,
    /// The bytes themselves (not serialized).
    #[serde(skip)]
    pub bytes: Bytes,
}

/// A kept file.
pub(super) struct StoredMedia {
    pub(super) file_name: String,
    pub(super) content_type: String,
    pub(super) bytes: Bytes,
}

/// A call that broke one of the SDK's own rules, which WeCom tolerates: the
/// emulator answered it as WeCom would and noted it here (or refused it, when
/// strict).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Violation {
    /// The path called.
    pub path: String,
    /// The rule broken, e.g. `exactly-one-token`.
    pub rule: String,
    /// What was wrong.
    pub detail: String,
}

/// An OAuth code the emulator issued for a member: single-use, short-lived.
pub(super) struct OAuthCode {
    pub(super) suite_id: String,
    pub(super) corp_id: String,
    pub(super) userid: String,
    pub(super) expires_at: SystemTime,
    pub(super) used: bool,
    /// Whether its user info carries a `user_ticket`: WeCom gives one for
    /// `snsapi_privateinfo` only.
    pub(super) user_ticket: bool,
}

/// A `user_ticket` handed out with an OAuth code's user info.
pub(super) struct UserTicket {
    pub(super) suite_id: String,
    pub(super) corp_id: String,
    pub(super) userid: String,
    pub(super) expires_at: SystemTime,
}

/// A pre-auth code the emulator issued (`get_pre_auth_code`): it opens the
/// install page once, for its suite, within 20 minutes.
pub(super) struct PreAuthCode {
    pub(super) suite_id: String,
    pub(super) expires_at: SystemTime,
    /// Spent by an install through the page.
    pub(super) used: bool,
    /// `set_session_info` asked for a test installation (`auth_type` 1).
    pub(super) test_install: bool,
}

/// The visible range an admin chose on the install page, for one corp's
/// authorization of a suite.
#[derive(Clone, Default)]
pub(super) struct VisibleRange {
    pub(super) users: Vec<String>,
    pub(super) parties: Vec<i64>,
}

/// A web-login code (`3rd_qrConnect`): single-use, 5 minutes, read by
/// `get_login_info`.
pub(super) struct LoginCode {
    pub(super) corp_id: String,
    pub(super) userid: String,
    /// WeCom's `usertype`: 1 for an admin (创建者), 5 for a member.
    pub(super) usertype: i64,
    pub(super) expires_at: SystemTime,
    pub(super) used: bool,
}

/// One attempt of a push and how the ISV answered it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct PushRecord {
    /// The suite pushed for.
    pub suite_id: String,
    /// The `InfoType` (or a data event's `Event`, else its `MsgType`).
    pub info_type: String,
    /// The URL pushed to (without the signature query).
    pub url: String,
    /// The receive id it was encrypted for, also its `ToUserName`: the suite
    /// id on the command URL, the corp id on the data URL.
    pub receive_id: String,
    /// Which attempt this was, counting from 1 (a push not acknowledged is
    /// retried).
    #[schemars(range(min = 1, max = "PUSH_ATTEMPTS"))]
    pub attempt: u32,
    /// The HTTP status of the answer (0 when the connection failed or timed out).
    pub status: u16,
    /// The answer's body (`success` acknowledges; it is what WeCom expects).
    pub body: String,
}

impl PushRecord {
    /// Whether the ISV answered exactly `success`.
    pub fn acknowledged(&self) -> bool {
        self.status == 200 && self.body == "success"
    }
}
