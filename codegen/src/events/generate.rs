//! The Rust of `events.yaml` (`wecom_openwork::events`): a struct per event,
//! the `Event` enum, and decoding by `InfoType`, `MsgType` and `Event`.

use std::collections::{BTreeMap, BTreeSet};

use heck::ToSnakeCase;
use proc_macro2::{Ident, Span, TokenStream};
use quote::quote;

use crate::error::SpecError;
use crate::events_spec::{
    event_variant, merged_fields, EventUrl, EventsSpec, Field, FieldType, Fields, FILE,
};
use crate::sensitive::is_secret_name;

fn ident(name: &str) -> Ident {
    Ident::new(name, Span::call_site())
}

/// `UserID` → `user_id`; keywords get a trailing `_`.
fn field_ident(element: &str) -> Ident {
    let snake = element.to_snake_case();
    let snake = if crate::names::is_keyword(&snake) { format!("{snake}_") } else { snake };
    ident(&snake)
}

/// What `rename_all = "PascalCase"` makes of a field name.
fn pascal_of(field: &str) -> String {
    field
        .trim_end_matches('_')
        .split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
        })
        .collect()
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

/// Whether a field is shown as `<redacted>` by `Debug`: marked `sensitive`,
/// or named like a secret ([`is_secret_name`] of its element name).
fn hidden(element: &str, field: &Field) -> bool {
    field.sensitive || is_secret_name(element)
}

/// The derives of every event type, the same as the API types'.
fn derives(debug: bool) -> TokenStream {
    let debug = debug.then(|| quote!(Debug,));
    quote!(#[derive(Clone, #debug Default, PartialEq, ::serde::Deserialize, ::serde::Serialize)])
}

/// The structs of the events, nested ones merged when they are the same.
struct Types {
    items: Vec<TokenStream>,
    /// Nested types by their shape (the JSON of their fields): one type per shape.
    by_shape: BTreeMap<String, String>,
    /// Every type name taken.
    names: BTreeSet<String>,
}

impl Types {
    /// A struct named `name` for `fields`, or the struct already made for the
    /// same fields when `nested`. Returns the name used.
    fn structs(
        &mut self,
        name: &str,
        docs: &str,
        fields: &Fields,
        nested: bool,
    ) -> Result<String, SpecError> {
        let shape = serde_json::to_string(fields).expect("fields serialize");
        if nested {
            if let Some(existing) = self.by_shape.get(&shape) {
                return Ok(existing.clone());
            }
        }
        if !self.names.insert(name.to_owned()) {
            return Err(SpecError::new(
                FILE,
                format!("two different shapes would both be the type `{name}`; rename an element or a type"),
            )
            .field(name.to_owned()));
        }
        if nested {
            self.by_shape.insert(shape, name.to_owned());
        }
        let mut members = Vec::new();
        let mut redacted = Vec::new();
        for (element, field) in fields {
            let fname = field_ident(element);
            let doc = doc_attrs(&field.description);
            let rename = (pascal_of(&fname.to_string()) != *element).then(|| quote!(rename = #element,));
            let label = fname.to_string();
            redacted.push(match (hidden(element, field), field.repeated) {
                (false, _) => quote!(.field(#label, &self.#fname)),
                (true, false) => quote!(.field(#label, &self.#fname.as_ref().map(|_| "<redacted>"))),
                (true, true) => {
                    quote!(.field(#label, &self.#fname.iter().map(|_| "<redacted>").collect::<Vec<_>>()))
                }
            });
            // Nested types of a shared set's field are named after the element.
            let nested_name =
                |suffix: &str| if name.is_empty() { suffix.to_owned() } else { format!("{name}{suffix}") };
            let (ty, with) = match field.ty {
                FieldType::String if field.repeated => {
                    members.push(quote! {
                        #(#doc)*
                        #[serde(#rename deserialize_with = "crate::events::de::texts")]
                        pub #fname: Vec<String>,
                    });
                    continue;
                }
                FieldType::String => (quote!(String), "crate::events::de::string"),
                FieldType::Integer => (quote!(i64), "crate::events::de::integer"),
                FieldType::Object => {
                    let inner = field.fields.as_ref().expect("checked");
                    let nested = self.structs(&nested_name(element), &field.description, inner, true)?;
                    let nested = ident(&nested);
                    if field.repeated {
                        members.push(quote! {
                            #(#doc)*
                            #[serde(#rename deserialize_with = "crate::events::de::one_or_many")]
                            pub #fname: Vec<#nested>,
                        });
                        continue;
                    }
                    (quote!(#nested), "crate::events::de::object")
                }
                FieldType::List => {
                    let list = self.list(&nested_name(element), element, field)?;
                    let list = ident(&list);
                    (quote!(#list), "crate::events::de::object")
                }
            };
            members.push(quote! {
                #(#doc)*
                #[serde(#rename deserialize_with = #with)]
                pub #fname: Option<#ty>,
            });
        }
        let sensitive = fields.iter().any(|(element, f)| hidden(element, f));
        let doc = doc_attrs(docs);
        let type_ident = ident(name);
        let derive = derives(!sensitive);
        self.items.push(quote! {
            #(#doc)*
            #derive
            #[serde(default, rename_all = "PascalCase")]
            #[non_exhaustive]
            pub struct #type_ident {
                #(#members)*
            }
        });
        if sensitive {
            self.items.push(quote! {
                impl ::std::fmt::Debug for #type_ident {
                    fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                        f.debug_struct(#name) #(#redacted)* .finish()
                    }
                }
            });
        }
        Ok(name.to_owned())
    }
}

impl Types {
    /// The type of a `list` element: a struct holding its items (and the
    /// items' struct when they have fields), one per shape.
    fn list(&mut self, list: &str, element: &str, field: &Field) -> Result<String, SpecError> {
        let item_element = field.item.clone().unwrap_or_default();
        let item_ty = match &field.fields {
            Some(inner) => {
                let doc = format!("One `<{item_element}>` of `<{element}>`.");
                let item = ident(&self.structs(&format!("{list}Item"), &doc, inner, true)?);
                quote!(#item)
            }
            None => quote!(String),
        };
        let shape = format!("list {item_element} {item_ty}");
        if let Some(existing) = self.by_shape.get(&shape) {
            return Ok(existing.clone());
        }
        if !self.names.insert(list.to_owned()) {
            return Err(SpecError::new(
                FILE,
                format!("two different shapes would both be the type `{list}`"),
            )
            .field(list.to_owned()));
        }
        self.by_shape.insert(shape, list.to_owned());
        let list_ident = ident(list);
        let list_doc = format!(" The `<{item_element}>` items of `<{element}>`.");
        // Items that are text with a secret's name are hidden from `Debug`.
        let secret_items = field.fields.is_none() && is_secret_name(&item_element);
        let derive = derives(!secret_items);
        self.items.push(quote! {
            #[doc = #list_doc]
            #derive
            #[serde(default)]
            #[non_exhaustive]
            pub struct #list_ident {
                /// The items, in document order (one or many).
                #[serde(rename = #item_element, deserialize_with = "crate::events::de::one_or_many")]
                pub items: Vec<#item_ty>,
            }
        });
        if secret_items {
            self.items.push(quote! {
                impl ::std::fmt::Debug for #list_ident {
                    fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                        f.debug_struct(#list)
                            .field("items", &self.items.iter().map(|_| "<redacted>").collect::<Vec<_>>())
                            .finish()
                    }
                }
            });
        }
        Ok(list.to_owned())
    }
}

fn event_docs(summary: &str, doc: Option<&str>, dispatch: &str) -> String {
    let mut text = format!("{summary}\n\n{dispatch}");
    if let Some(doc) = doc {
        text.push_str(&format!("\n\nOfficial documentation: <{doc}>"));
    }
    text
}

/// `impl TypedEvent` for an event type: its kind and how to find it in an [`Event`].
fn typed_event(ty: &Ident, kind: &str, pattern: TokenStream) -> TokenStream {
    quote! {
        impl crate::events::TypedEvent for #ty {
            const KIND: &'static str = #kind;

            fn from_event(event: &Event) -> Option<&Self> {
                match event {
                    #pattern => Some(event),
                    _ => None,
                }
            }
        }
    }
}

/// The Rust of `events.yaml`.
pub fn generate(spec: &EventsSpec) -> Result<TokenStream, SpecError> {
    let mut types = Types { items: Vec::new(), by_shape: BTreeMap::new(), names: BTreeSet::new() };
    // Every event type's name is taken before nested types are named.
    for e in &spec.command {
        types.names.insert(e.type_name.clone());
        for c in &e.changes {
            types.names.insert(format!("{}{}", e.type_name, c.type_name));
        }
    }
    for name in
        spec.data.messages.iter().map(|m| &m.type_name).chain(spec.data.events.iter().map(|d| &d.type_name))
    {
        types.names.insert(name.clone());
    }
    // Objects of shared sets: one type each, named after the element.
    for set in spec.field_sets.values() {
        for (element, field) in set {
            match field.ty {
                FieldType::Object => {
                    types.structs(
                        element,
                        &field.description,
                        field.fields.as_ref().expect("checked"),
                        true,
                    )?;
                }
                FieldType::List => {
                    types.list(element, element, field)?;
                }
                _ => {}
            }
        }
    }
    let mut typed = Vec::new();
    let mut variants = Vec::new();
    let mut command_arms = Vec::new();
    let mut message_arms = Vec::new();
    let mut event_arms = Vec::new();
    let mut kinds = Vec::new();
    let top = |types: &mut Types, name: &str, docs: &str, fields: &Fields| -> Result<(), SpecError> {
        types.names.remove(name);
        types.structs(name, docs, fields, false).map(|_| ())
    };
    for e in &spec.command {
        let url = match e.url {
            EventUrl::Command => "the suite's command callback URL",
            EventUrl::System => "the provider's system-event URL",
        };
        let dispatch = format!("`InfoType` `{}`, pushed to {url}.", e.info_type);
        let name = ident(&e.type_name);
        let info = &e.info_type;
        let vdoc = doc_attrs(&e.summary);
        let fields = merged_fields(spec, &[(&e.include, &e.fields)]);
        if e.changes.is_empty() {
            top(&mut types, &e.type_name, &event_docs(&e.summary, Some(&e.doc), &dispatch), &fields)?;
            command_arms.push(quote!(#info => decode(fields, Event::#name)));
            typed.push(typed_event(&name, info, quote!(Event::#name(event))));
            variants.push(quote!(#(#vdoc)* #name(#name),));
            kinds.push(quote!(Event::#name(_) => #info,));
            continue;
        }
        let mut change_variants = Vec::new();
        let mut change_arms = Vec::new();
        let mut change_kinds = Vec::new();
        for c in &e.changes {
            let type_name = format!("{}{}", e.type_name, c.type_name);
            let change_dispatch = format!("{dispatch} `ChangeType` `{}`.", c.change_type);
            let fields = merged_fields(spec, &[(&e.include, &e.fields), (&c.include, &c.fields)]);
            top(
                &mut types,
                &type_name,
                &event_docs(&c.summary, c.doc.as_deref().or(Some(&e.doc)), &change_dispatch),
                &fields,
            )?;
            let (variant, ty) = (ident(&c.type_name), ident(&type_name));
            let cdoc = doc_attrs(&c.summary);
            let change = &c.change_type;
            let kind = format!("{info}.{change}");
            change_variants.push(quote!(#(#cdoc)* #variant(#ty),));
            change_arms.push(quote!(#change => decode(fields, |v| Event::#name(#name::#variant(v)))));
            change_kinds.push(quote!(#name::#variant(_) => #kind,));
            typed.push(typed_event(&ty, &kind, quote!(Event::#name(#name::#variant(event)))));
        }
        let doc = doc_attrs(&event_docs(
            &e.summary,
            Some(&e.doc),
            &format!("{dispatch} Further told apart by `ChangeType`."),
        ));
        let unknown_kind = info.to_string();
        types.items.push(quote! {
            #(#doc)*
            #[derive(Clone, Debug, PartialEq)]
            #[non_exhaustive]
            #[allow(clippy::large_enum_variant)] // events are decoded once and read in place
            pub enum #name {
                #(#change_variants)*
                /// A `ChangeType` not (yet) in `spec/events.yaml`, kept as it came.
                Unknown(RawEvent),
            }
        });
        command_arms.push(quote! {
            #info => match text(fields.fields(), "ChangeType").as_deref().unwrap_or_default() {
                #(#change_arms,)*
                _ => Event::#name(#name::Unknown(fields.into_raw())),
            }
        });
        kinds.push(quote! {
            Event::#name(change) => match change {
                #(#change_kinds)*
                #name::Unknown(_) => #unknown_kind,
            },
        });
        variants.push(quote!(#(#vdoc)* #name(#name),));
    }
    for m in &spec.data.messages {
        let dispatch = format!("`MsgType` `{}`, pushed to the suite's data callback URL.", m.msg_type);
        let fields = merged_fields(spec, &[(&spec.data.include, &Fields::new()), (&m.include, &m.fields)]);
        top(&mut types, &m.type_name, &event_docs(&m.summary, Some(&m.doc), &dispatch), &fields)?;
        let name = ident(&m.type_name);
        let msg = &m.msg_type;
        let vdoc = doc_attrs(&m.summary);
        variants.push(quote!(#(#vdoc)* #name(#name),));
        message_arms.push(quote!(#msg => decode(fields, Event::#name)));
        kinds.push(quote!(Event::#name(_) => #msg,));
        typed.push(typed_event(&name, msg, quote!(Event::#name(event))));
    }
    for d in &spec.data.events {
        let dispatch =
            format!("`MsgType` `event`, `Event` `{}`, pushed to the suite's data callback URL.", d.event);
        let fields = merged_fields(spec, &[(&spec.data.include, &Fields::new()), (&d.include, &d.fields)]);
        top(&mut types, &d.type_name, &event_docs(&d.summary, Some(&d.doc), &dispatch), &fields)?;
        let name = ident(&d.type_name);
        let variant = ident(event_variant(&d.type_name));
        let event = d.event.to_ascii_lowercase();
        let vdoc = doc_attrs(&d.summary);
        let kind = format!("event.{}", d.event);
        variants.push(quote!(#(#vdoc)* #variant(#name),));
        event_arms.push(quote!(#event => decode(fields, Event::#variant)));
        kinds.push(quote!(Event::#variant(_) => #kind,));
        typed.push(typed_event(&name, &kind, quote!(Event::#variant(event))));
    }
    let items = &types.items;
    Ok(quote! {
        #(#items)*

        /// A decrypted callback, by what it is. Unknown kinds arrive as
        /// [`Event::Unknown`] with every field kept.
        #[derive(Clone, Debug, PartialEq)]
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
            pub fn from_fields(fields: ::serde_json::Map<String, ::serde_json::Value>) -> Event {
                Event::decode_fields(fields)
            }

            /// [`Event::from_fields`], borrowing the fields: they are copied
            /// only into an [`Event::Unknown`].
            pub fn from_field_map(fields: &::serde_json::Map<String, ::serde_json::Value>) -> Event {
                Event::decode_fields(fields)
            }

            fn decode_fields<F: FieldSource>(fields: F) -> Event {
                if let Some(info_type) = text(fields.fields(), "InfoType") {
                    return match info_type.as_str() {
                        #(#command_arms,)*
                        _ => Event::Unknown(fields.into_raw()),
                    };
                }
                match text(fields.fields(), "MsgType").as_deref().unwrap_or_default() {
                    "event" => match text(fields.fields(), "Event").unwrap_or_default().to_ascii_lowercase().as_str() {
                        #(#event_arms,)*
                        _ => Event::Unknown(fields.into_raw()),
                    },
                    #(#message_arms,)*
                    _ => Event::Unknown(fields.into_raw()),
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

        #(#typed)*
    })
}
