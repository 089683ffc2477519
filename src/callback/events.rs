//! Callback events, generated from `spec/events.yaml`: one type per event
//! WeCom pushes, and [`Event`] to tell them apart. Decoding is lenient by
//! design: every field is optional, numbers may come as text, one list item
//! or many both decode, and an unknown kind is [`Event::Unknown`], never an
//! error.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

include!(concat!(env!("OUT_DIR"), "/events.rs"));

/// One kind of event, as a type: what typed handler registration
/// (`server.on::<events::CreateAuth, _, _>(..)`) is keyed by. Generated for
/// every event type of `spec/events.yaml`.
pub trait TypedEvent: Clone + Send + Sync + 'static {
    /// The kind, as [`Event::kind`] names it (`create_auth`,
    /// `change_contact.create_user`, `text`, `event.subscribe`, …).
    const KIND: &'static str;

    /// This event, if `event` is one.
    fn from_event(event: &Event) -> Option<&Self>;
}

/// An event as it came, for kinds the specs do not (yet) list. Its `Debug`
/// shows the values of secret-named fields (tickets, tokens, codes), at any
/// depth, as `<redacted>`.
#[derive(Clone, PartialEq, Default)]
pub struct RawEvent {
    /// Every element of the message, by name (text trimmed; nested elements
    /// as objects, repeated ones as arrays).
    pub fields: Map<String, Value>,
}

impl std::fmt::Debug for RawEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawEvent").field("fields", &crate::secret::RedactedMembers(&self.fields)).finish()
    }
}

impl RawEvent {
    /// The text of element `name`, if present.
    pub fn get(&self, name: &str) -> Option<String> {
        text(&self.fields, name)
    }
}

impl Event {
    /// Decodes a decrypted callback message (XML, or JSON for JSON callbacks).
    pub fn parse(message: &str) -> Result<Event, crate::crypto::CryptoError> {
        Ok(Event::from_fields(fields_of(message)?))
    }
}

/// The fields of a decrypted message, XML or JSON.
pub(crate) fn fields_of(message: &str) -> Result<Map<String, Value>, crate::crypto::CryptoError> {
    use crate::crypto::CryptoError;
    let trimmed = message.trim_start_matches('\u{feff}').trim_start();
    if trimmed.starts_with('{') {
        match serde_json::from_str(trimmed) {
            Ok(Value::Object(map)) => Ok(map),
            Ok(_) => Err(CryptoError::ParseJson("the message is not an object".into())),
            Err(e) => Err(CryptoError::ParseJson(e.to_string())),
        }
    } else {
        crate::xml::to_json(trimmed).map_err(CryptoError::ParseXml)
    }
}

/// The text of a scalar field.
fn text(fields: &Map<String, Value>, name: &str) -> Option<String> {
    match fields.get(name)? {
        Value::String(s) => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Where an event's fields come from: owned (moved into a raw event) or
/// borrowed (copied only into one).
trait FieldSource {
    fn fields(&self) -> &Map<String, Value>;
    fn into_raw(self) -> RawEvent;
}

impl FieldSource for Map<String, Value> {
    fn fields(&self) -> &Map<String, Value> {
        self
    }

    fn into_raw(self) -> RawEvent {
        RawEvent { fields: self }
    }
}

impl FieldSource for &Map<String, Value> {
    fn fields(&self) -> &Map<String, Value> {
        self
    }

    fn into_raw(self) -> RawEvent {
        RawEvent { fields: self.clone() }
    }
}

/// Decodes `fields` as `T` and wraps it; keeps them raw if that fails.
fn decode<T: DeserializeOwned, F: FieldSource>(fields: F, wrap: impl FnOnce(T) -> Event) -> Event {
    // Decoding borrows the fields, so they need no copy to stay raw.
    match T::deserialize(fields.fields()) {
        Ok(decoded) => wrap(decoded),
        Err(_) => Event::Unknown(fields.into_raw()),
    }
}

/// Lenient field decoders the generated types use: a value of an unexpected
/// shape becomes `None` (the raw message is still there), never an error.
#[doc(hidden)]
pub mod de {
    use serde::de::DeserializeOwned;
    use serde::{Deserialize, Deserializer};
    use serde_json::Value;

    /// Text; numbers and booleans as their text.
    pub fn string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        Ok(match Value::deserialize(d)? {
            Value::String(s) => Some(s),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        })
    }

    /// A whole number, written as a number or as digits.
    pub fn integer<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        Ok(match Value::deserialize(d)? {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        })
    }

    /// A nested element; an empty one is `None`.
    pub fn object<'de, D: Deserializer<'de>, T: DeserializeOwned>(d: D) -> Result<Option<T>, D::Error> {
        Ok(match Value::deserialize(d)? {
            value @ Value::Object(_) => serde_json::from_value(value).ok(),
            _ => None,
        })
    }

    /// One text or many (an element repeated side by side); numbers as
    /// their text.
    pub fn texts<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
        let text = |value: Value| match value {
            Value::String(s) => Some(s),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        };
        Ok(match Value::deserialize(d)? {
            Value::Array(items) => items.into_iter().filter_map(text).collect(),
            value => text(value).into_iter().collect(),
        })
    }

    /// One item or many.
    pub fn one_or_many<'de, D: Deserializer<'de>, T: DeserializeOwned>(d: D) -> Result<Vec<T>, D::Error> {
        Ok(match Value::deserialize(d)? {
            Value::Array(items) => items.into_iter().filter_map(|v| serde_json::from_value(v).ok()).collect(),
            value @ Value::Object(_) => serde_json::from_value(value).ok().into_iter().collect(),
            _ => Vec::new(),
        })
    }
}
