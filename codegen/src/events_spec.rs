//! The format of `spec/events.yaml`, as types (its JSON Schema is made from
//! them). See `spec/EVENTS.md`.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The file errors name: the events spec has one fixed name.
pub(crate) const FILE: &str = "events.yaml";

/// The whole catalogue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EventsSpec {
    /// Named sets of fields that events share, taken in with `include`.
    /// Objects and lists inside a set become types named after their element
    /// (`ExtAttr`, `SendPicsInfo`), shared by every event that includes it.
    #[serde(default)]
    pub field_sets: IndexMap<String, Fields>,
    /// Command and system events, dispatched on `InfoType`.
    pub command: Vec<CommandEvent>,
    /// User messages and events of the data callback URL.
    pub data: DataEvents,
}

/// Elements by name, in the order the generated fields keep.
pub type Fields = IndexMap<String, Field>;

/// Where a command event is delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EventUrl {
    /// The suite's command callback URL (指令回调URL).
    Command,
    /// The provider's system-event URL (系统事件接收URL).
    System,
}

/// An `InfoType` event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CommandEvent {
    /// The exact `InfoType` value.
    pub info_type: String,
    /// Rust name of the event type.
    #[serde(rename = "type")]
    pub type_name: String,
    /// One line: what happened.
    pub summary: String,
    /// Official documentation page.
    pub doc: String,
    /// Which URL receives it.
    pub url: EventUrl,
    /// Field sets (of `field_sets`) every variant has, before `fields`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub include: Vec<String>,
    /// Elements every variant has; one named like a field of an included
    /// set replaces it.
    #[serde(default)]
    pub fields: Fields,
    /// Further dispatch on `ChangeType`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<Change>,
    /// The documented sample (decrypted XML).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub example: Option<String>,
}

/// One `ChangeType` of a command event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Change {
    /// The exact `ChangeType` value.
    pub change_type: String,
    /// Rust name suffix (the type is the parent's name + this; the variant of
    /// the parent's enum is this).
    #[serde(rename = "type")]
    pub type_name: String,
    /// One line: what changed.
    pub summary: String,
    /// Official documentation page, if it has its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doc: Option<String>,
    /// Field sets specific to this change, after the parent's fields.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub include: Vec<String>,
    /// Elements specific to this change.
    #[serde(default)]
    pub fields: Fields,
    /// The documented sample.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub example: Option<String>,
}

/// The data callback's messages and events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DataEvents {
    /// Field sets every data message and event has (`ToUserName`, `MsgType`, …).
    pub include: Vec<String>,
    /// `MsgType` values other than `event`.
    pub messages: Vec<DataMessage>,
    /// `MsgType` `event`, by `Event`.
    pub events: Vec<DataEvent>,
}

/// A user message (`MsgType`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DataMessage {
    /// The exact `MsgType` value.
    pub msg_type: String,
    /// Rust name.
    #[serde(rename = "type")]
    pub type_name: String,
    /// One line.
    pub summary: String,
    /// Official documentation page.
    pub doc: String,
    /// Field sets it has besides the data callback's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub include: Vec<String>,
    /// Its own elements.
    #[serde(default)]
    pub fields: Fields,
    /// The documented sample.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub example: Option<String>,
}

/// A user event (`MsgType` `event`, by `Event`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DataEvent {
    /// The exact `Event` value.
    pub event: String,
    /// Rust name; the variant of `Event` drops a trailing `Event`
    /// (`SubscribeEvent` → `Event::Subscribe`).
    #[serde(rename = "type")]
    pub type_name: String,
    /// One line.
    pub summary: String,
    /// Official documentation page.
    pub doc: String,
    /// Field sets it has besides the data callback's.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub include: Vec<String>,
    /// Its own elements.
    #[serde(default)]
    pub fields: Fields,
    /// The documented sample.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub example: Option<String>,
}

/// One element of an event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Field {
    /// Its kind.
    #[serde(rename = "type")]
    pub ty: FieldType,
    /// What it holds.
    pub description: String,
    /// Members of an `object`, or of each item of a `list`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fields: Option<Fields>,
    /// Element name of a `list`'s items (e.g. `Item`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<String>,
    /// An `object` or `string` element that may appear many times side by
    /// side (one `<AccountList>` per account, one `<DocId>` per document):
    /// decoded as a list.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub repeated: bool,
    /// A secret (a ticket, an auth code, a token): `Debug` prints
    /// `<redacted>` in its place. Only for `string` elements.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sensitive: bool,
}

/// Kinds of event elements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    /// Text.
    String,
    /// A whole number (digits in XML).
    Integer,
    /// A nested element with `fields`.
    Object,
    /// Repeated `item` elements inside this element: with `fields`, each
    /// an object; without, each a text.
    List,
}

/// The elements of an event: its included sets in order, then its own
/// fields (which replace a set's field of the same name).
pub fn merged_fields(spec: &EventsSpec, parts: &[(&[String], &Fields)]) -> Fields {
    let mut out = Fields::new();
    for (include, fields) in parts {
        for set in include.iter() {
            if let Some(set) = spec.field_sets.get(set) {
                out.extend(set.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
        }
        out.extend(fields.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    out
}

/// The variant of `Event` for a data event type: without a trailing `Event`.
pub fn event_variant(type_name: &str) -> &str {
    match type_name.strip_suffix("Event") {
        Some(rest) if !rest.is_empty() => rest,
        _ => type_name,
    }
}
