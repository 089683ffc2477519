//! `spec/events.yaml`: the callback events WeCom pushes, and the Rust they
//! become (`wecom_openwork::events`). See `spec/EVENTS.md` for the format.

use std::collections::{BTreeMap, BTreeSet};

use heck::ToSnakeCase;
use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::SpecError;

/// The whole catalogue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EventsSpec {
    /// Command and system events, dispatched on `InfoType`.
    pub command: Vec<CommandEvent>,
    /// User messages and events of the data callback URL.
    pub data: DataEvents,
}

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
    /// Elements every variant has.
    pub fields: BTreeMap<String, Field>,
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
    /// Rust name suffix (the type is the parent's name + this).
    #[serde(rename = "type")]
    pub type_name: String,
    /// One line: what changed.
    pub summary: String,
    /// Official documentation page, if it has its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doc: Option<String>,
    /// Elements specific to this change.
    #[serde(default)]
    pub fields: BTreeMap<String, Field>,
    /// The documented sample.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub example: Option<String>,
}

/// The data callback's messages and events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DataEvents {
    /// Elements every data message has.
    pub common: BTreeMap<String, Field>,
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
    /// Its own elements.
    #[serde(default)]
    pub fields: BTreeMap<String, Field>,
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
    /// Rust name.
    #[serde(rename = "type")]
    pub type_name: String,
    /// One line.
    pub summary: String,
    /// Official documentation page.
    pub doc: String,
    /// Its own elements.
    #[serde(default)]
    pub fields: BTreeMap<String, Field>,
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
    pub fields: Option<BTreeMap<String, Field>>,
    /// Element name of a `list`'s items (e.g. `Item`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<String>,
    /// An `object` element that may appear many times side by side (one
    /// `<AccountList>` per account): decoded as a list.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub repeated: bool,
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

const FILE: &str = "events.yaml";

/// Parses and checks `events.yaml`.
pub fn parse(text: &str) -> Result<EventsSpec, SpecError> {
    let json = crate::load::yaml_text_to_json(text).map_err(|m| SpecError::new(FILE, m))?;
    let spec: EventsSpec = serde_path_to_error::deserialize(&json)
        .map_err(|e| SpecError::new(FILE, e.inner().to_string()).field(e.path().to_string()))?;
    check(&spec)?;
    Ok(spec)
}

fn is_pascal(name: &str) -> bool {
    name.chars().next().is_some_and(|c| c.is_ascii_uppercase())
        && name.chars().all(|c| c.is_ascii_alphanumeric())
}

fn check_fields(at: &str, fields: &BTreeMap<String, Field>) -> Result<(), SpecError> {
    for (name, field) in fields {
        let here = format!("{at}.{name}");
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(SpecError::new(FILE, "element names are letters and digits").field(here));
        }
        if field.description.trim().is_empty() {
            return Err(SpecError::new(FILE, "missing description").field(here));
        }
        if field.repeated && field.ty != FieldType::Object {
            return Err(SpecError::new(FILE, "only an object can be `repeated`").field(here));
        }
        match (field.ty, &field.fields, &field.item) {
            (FieldType::Object, Some(inner), None) if !inner.is_empty() => check_fields(&here, inner)?,
            (FieldType::List, Some(inner), Some(item)) if !item.is_empty() && !inner.is_empty() => {
                check_fields(&here, inner)?
            }
            (FieldType::List, None, Some(item)) if !item.is_empty() => {}
            (FieldType::String | FieldType::Integer, None, None) => {}
            _ => {
                return Err(SpecError::new(
                    FILE,
                    "an object has `fields`, a list has `item` (and `fields` unless its items are text), a scalar neither",
                )
                .field(here))
            }
        }
    }
    Ok(())
}

/// Every element an example uses is declared.
fn check_example(at: &str, example: &str, fields: &[&BTreeMap<String, Field>]) -> Result<(), SpecError> {
    let paths = crate::xml_sample::element_paths(example)
        .map_err(|m| SpecError::new(FILE, format!("example: {m}")).field(at))?;
    for path in paths {
        if !declared(fields, &path) {
            let message = format!("example uses undeclared element `{}`", path.join("/"));
            return Err(SpecError::new(FILE, message).field(at));
        }
    }
    Ok(())
}

/// Whether an element path is declared; a list's item element stands
/// between the list and the item's fields.
fn declared(fields: &[&BTreeMap<String, Field>], path: &[String]) -> bool {
    let mut level: Vec<&BTreeMap<String, Field>> = fields.to_vec();
    let mut i = 0;
    while i < path.len() {
        let Some(field) = level.iter().find_map(|m| m.get(&path[i])) else { return false };
        level = field.fields.iter().collect();
        i += 1;
        if field.ty == FieldType::List && i < path.len() {
            if Some(&path[i]) != field.item.as_ref() {
                return false;
            }
            i += 1;
        }
    }
    true
}

fn check(spec: &EventsSpec) -> Result<(), SpecError> {
    let mut names = BTreeSet::new();
    let mut name = |n: &str, at: &str| -> Result<(), SpecError> {
        if !is_pascal(n) {
            return Err(SpecError::new(FILE, "type names are PascalCase").field(at.to_owned()));
        }
        if !names.insert(n.to_owned()) {
            return Err(SpecError::new(FILE, format!("type name `{n}` is used twice")).field(at.to_owned()));
        }
        Ok(())
    };
    let mut info_types = BTreeSet::new();
    for e in &spec.command {
        let at = format!("command.{}", e.info_type);
        name(&e.type_name, &at)?;
        if !info_types.insert(&e.info_type) {
            return Err(SpecError::new(FILE, "InfoType listed twice").field(at));
        }
        if e.summary.trim().is_empty() || !e.doc.starts_with("https://") {
            return Err(SpecError::new(FILE, "needs a summary and an https doc link").field(at));
        }
        check_fields(&format!("{at}.fields"), &e.fields)?;
        if let Some(example) = &e.example {
            check_example(&format!("{at}.example"), example, &[&e.fields])?;
        }
        let mut change_types = BTreeSet::new();
        for c in &e.changes {
            let at = format!("{at}.changes.{}", c.change_type);
            name(&format!("{}{}", e.type_name, c.type_name), &at)?;
            if !change_types.insert(&c.change_type) {
                return Err(SpecError::new(FILE, "ChangeType listed twice").field(at));
            }
            check_fields(&format!("{at}.fields"), &c.fields)?;
            if let Some(example) = &c.example {
                check_example(&format!("{at}.example"), example, &[&e.fields, &c.fields])?;
            }
        }
    }
    check_fields("data.common", &spec.data.common)?;
    let mut msg_types = BTreeSet::new();
    for m in &spec.data.messages {
        let at = format!("data.messages.{}", m.msg_type);
        name(&m.type_name, &at)?;
        if !msg_types.insert(&m.msg_type) || m.msg_type == "event" {
            return Err(
                SpecError::new(FILE, "MsgType listed twice (or `event`, which `events` covers)").field(at)
            );
        }
        check_fields(&format!("{at}.fields"), &m.fields)?;
        if let Some(example) = &m.example {
            check_example(&format!("{at}.example"), example, &[&spec.data.common, &m.fields])?;
        }
    }
    let mut events = BTreeSet::new();
    for d in &spec.data.events {
        let at = format!("data.events.{}", d.event);
        name(&d.type_name, &at)?;
        if !events.insert(&d.event) {
            return Err(SpecError::new(FILE, "Event listed twice").field(at));
        }
        check_fields(&format!("{at}.fields"), &d.fields)?;
        if let Some(example) = &d.example {
            check_example(&format!("{at}.example"), example, &[&spec.data.common, &d.fields])?;
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- Rust

fn ident(name: &str) -> Ident {
    Ident::new(name, Span::call_site())
}

/// `UserID` → `user_id`; keywords get a trailing `_`.
fn field_ident(element: &str) -> Ident {
    let snake = element.to_snake_case();
    let snake = if crate::validate::is_keyword(&snake) { format!("{snake}_") } else { snake };
    ident(&snake)
}

fn doc_attrs(text: &str) -> Vec<TokenStream> {
    text.trim_end()
        .lines()
        .map(|l| {
            let line = format!(" {l}");
            quote!(#[doc = #line])
        })
        .collect()
}

/// A struct for a set of fields, plus the structs its objects and lists need.
fn structs(type_name: &str, docs: &str, groups: &[&BTreeMap<String, Field>], out: &mut Vec<TokenStream>) {
    let mut merged: BTreeMap<&String, &Field> = BTreeMap::new();
    for group in groups {
        for (k, v) in *group {
            merged.insert(k, v);
        }
    }
    let mut members = Vec::new();
    for (element, field) in merged {
        let name = field_ident(element);
        let doc = doc_attrs(&field.description);
        let (ty, with) = match field.ty {
            FieldType::String => (quote!(::std::string::String), "crate::events::de::string"),
            FieldType::Integer => (quote!(i64), "crate::events::de::integer"),
            FieldType::Object if field.repeated => {
                let nested = format!("{type_name}{element}");
                structs(&nested, &field.description, &[field.fields.as_ref().expect("checked")], out);
                let nested = ident(&nested);
                members.push(quote! {
                    #(#doc)*
                    #[serde(rename = #element, default, deserialize_with = "crate::events::de::one_or_many", skip_serializing_if = "::std::vec::Vec::is_empty")]
                    pub #name: ::std::vec::Vec<#nested>,
                });
                continue;
            }
            FieldType::Object => {
                let nested = format!("{type_name}{element}");
                structs(&nested, &field.description, &[field.fields.as_ref().expect("checked")], out);
                let nested = ident(&nested);
                (quote!(#nested), "crate::events::de::object")
            }
            FieldType::List => {
                let list = format!("{type_name}{element}");
                let item_element = field.item.clone().unwrap_or_default();
                let item_ty = match &field.fields {
                    Some(fields) => {
                        let item_type = format!("{list}Item");
                        structs(
                            &item_type,
                            &format!("One `<{item_element}>` of `<{element}>`."),
                            &[fields],
                            out,
                        );
                        let item_ident = ident(&item_type);
                        quote!(#item_ident)
                    }
                    None => quote!(::std::string::String),
                };
                let list_ident = ident(&list);
                let list_doc = format!(" The `<{item_element}>` items of `<{element}>`.");
                out.push(quote! {
                    #[doc = #list_doc]
                    #[derive(::std::fmt::Debug, ::std::clone::Clone, ::std::cmp::PartialEq, ::std::default::Default, ::serde::Serialize, ::serde::Deserialize)]
                    #[non_exhaustive]
                    pub struct #list_ident {
                        /// The items, in document order (one or many).
                        #[serde(rename = #item_element, default, deserialize_with = "crate::events::de::one_or_many")]
                        pub items: ::std::vec::Vec<#item_ty>,
                    }
                });
                (quote!(#list_ident), "crate::events::de::object")
            }
        };
        members.push(quote! {
            #(#doc)*
            #[serde(rename = #element, default, deserialize_with = #with, skip_serializing_if = "::std::option::Option::is_none")]
            pub #name: ::std::option::Option<#ty>,
        });
    }
    let doc = doc_attrs(docs);
    let name = ident(type_name);
    out.push(quote! {
        #(#doc)*
        #[derive(::std::fmt::Debug, ::std::clone::Clone, ::std::cmp::PartialEq, ::std::default::Default, ::serde::Serialize, ::serde::Deserialize)]
        #[non_exhaustive]
        pub struct #name {
            #(#members)*
        }
    });
}

fn event_docs(summary: &str, doc: Option<&str>, dispatch: &str) -> String {
    let mut text = format!("{summary}\n\n{dispatch}");
    if let Some(doc) = doc {
        text.push_str(&format!("\n\nOfficial documentation: <{doc}>"));
    }
    text
}

/// The Rust of `events.yaml`.
pub fn generate(spec: &EventsSpec) -> TokenStream {
    let mut items = Vec::new();
    let mut variants = Vec::new();
    let mut command_arms = Vec::new();
    let mut message_arms = Vec::new();
    let mut event_arms = Vec::new();
    let mut kinds = Vec::new();
    for e in &spec.command {
        let url = match e.url {
            EventUrl::Command => "the suite's command callback URL",
            EventUrl::System => "the provider's system-event URL",
        };
        let dispatch = format!("`InfoType` `{}`, pushed to {url}.", e.info_type);
        let name = ident(&e.type_name);
        let info = &e.info_type;
        let vdoc = doc_attrs(&e.summary);
        if e.changes.is_empty() {
            structs(&e.type_name, &event_docs(&e.summary, Some(&e.doc), &dispatch), &[&e.fields], &mut items);
            command_arms.push(quote!(#info => decode(fields, Event::#name)));
        } else {
            let mut change_variants = Vec::new();
            let mut change_arms = Vec::new();
            let mut change_kinds = Vec::new();
            for c in &e.changes {
                let type_name = format!("{}{}", e.type_name, c.type_name);
                let change_dispatch = format!("{dispatch} `ChangeType` `{}`.", c.change_type);
                structs(
                    &type_name,
                    &event_docs(&c.summary, c.doc.as_deref().or(Some(&e.doc)), &change_dispatch),
                    &[&e.fields, &c.fields],
                    &mut items,
                );
                let (variant, ty) = (ident(&c.type_name), ident(&type_name));
                let cdoc = doc_attrs(&c.summary);
                let change = &c.change_type;
                let kind = format!("{info}.{change}");
                change_variants.push(quote!(#(#cdoc)* #variant(#ty),));
                change_arms.push(quote!(#change => decode(fields, |v| Event::#name(#name::#variant(v)))));
                change_kinds.push(quote!(#name::#variant(_) => #kind,));
            }
            let doc = doc_attrs(&event_docs(
                &e.summary,
                Some(&e.doc),
                &format!("{dispatch} Further told apart by `ChangeType`."),
            ));
            let unknown_kind = info.to_string();
            items.push(quote! {
                #(#doc)*
                #[derive(::std::fmt::Debug, ::std::clone::Clone, ::std::cmp::PartialEq)]
                #[non_exhaustive]
                #[allow(clippy::large_enum_variant)] // events are decoded once and read in place
                pub enum #name {
                    #(#change_variants)*
                    /// A `ChangeType` not (yet) in `spec/events.yaml`, kept as it came.
                    Unknown(RawEvent),
                }
            });
            command_arms.push(quote! {
                #info => match text(&fields, "ChangeType").as_deref().unwrap_or_default() {
                    #(#change_arms,)*
                    _ => Event::#name(#name::Unknown(RawEvent { fields })),
                }
            });
            kinds.push(quote! {
                Event::#name(change) => match change {
                    #(#change_kinds)*
                    #name::Unknown(_) => #unknown_kind,
                },
            });
            variants.push(quote!(#(#vdoc)* #name(#name),));
            continue;
        }
        variants.push(quote!(#(#vdoc)* #name(#name),));
        kinds.push(quote!(Event::#name(_) => #info,));
    }
    for m in &spec.data.messages {
        let dispatch = format!("`MsgType` `{}`, pushed to the suite's data callback URL.", m.msg_type);
        structs(
            &m.type_name,
            &event_docs(&m.summary, Some(&m.doc), &dispatch),
            &[&spec.data.common, &m.fields],
            &mut items,
        );
        let name = ident(&m.type_name);
        let msg = &m.msg_type;
        let vdoc = doc_attrs(&m.summary);
        variants.push(quote!(#(#vdoc)* #name(#name),));
        message_arms.push(quote!(#msg => decode(fields, Event::#name)));
        kinds.push(quote!(Event::#name(_) => #msg,));
    }
    for d in &spec.data.events {
        let dispatch =
            format!("`MsgType` `event`, `Event` `{}`, pushed to the suite's data callback URL.", d.event);
        structs(
            &d.type_name,
            &event_docs(&d.summary, Some(&d.doc), &dispatch),
            &[&spec.data.common, &d.fields],
            &mut items,
        );
        let name = ident(&d.type_name);
        let event = d.event.to_ascii_lowercase();
        let vdoc = doc_attrs(&d.summary);
        let kind = format!("event.{}", d.event);
        variants.push(quote!(#(#vdoc)* #name(#name),));
        event_arms.push(quote!(#event => decode(fields, Event::#name)));
        kinds.push(quote!(Event::#name(_) => #kind,));
    }
    quote! {
        #(#items)*

        /// A decrypted callback, by what it is. Unknown kinds arrive as
        /// [`Event::Unknown`] with every field kept.
        #[derive(::std::fmt::Debug, ::std::clone::Clone, ::std::cmp::PartialEq)]
        #[non_exhaustive]
        #[allow(clippy::large_enum_variant)] // events are decoded once and read in place
        pub enum Event {
            #(#variants)*
            /// A kind not (yet) in `spec/events.yaml`, kept as it came.
            Unknown(RawEvent),
        }

        impl Event {
            /// Tells the event apart by `InfoType` (command events), else by
            /// `MsgType` and `Event` (data callbacks), and decodes it. Never
            /// fails: what is not recognised is [`Event::Unknown`].
            pub fn from_fields(fields: ::serde_json::Map<::std::string::String, ::serde_json::Value>) -> Event {
                if let ::std::option::Option::Some(info_type) = text(&fields, "InfoType") {
                    return match info_type.as_str() {
                        #(#command_arms,)*
                        _ => Event::Unknown(RawEvent { fields }),
                    };
                }
                match text(&fields, "MsgType").as_deref().unwrap_or_default() {
                    "event" => match text(&fields, "Event").unwrap_or_default().to_ascii_lowercase().as_str() {
                        #(#event_arms,)*
                        _ => Event::Unknown(RawEvent { fields }),
                    },
                    #(#message_arms,)*
                    _ => Event::Unknown(RawEvent { fields }),
                }
            }

            /// The kind as WeCom names it: the `InfoType` (`suite_ticket`),
            /// `InfoType.ChangeType` (`change_contact.create_user`), the
            /// `MsgType` (`text`) or `event.Event` (`event.subscribe`);
            /// `unknown` for [`Event::Unknown`].
            pub fn kind(&self) -> &'static str {
                match self {
                    #(#kinds)*
                    Event::Unknown(_) => "unknown",
                }
            }
        }
    }
}
