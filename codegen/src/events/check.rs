//! The rules `events.yaml` follows beyond its shape: names, includes,
//! unique kinds and variants, and XML examples that use declared elements.

use std::collections::{BTreeMap, BTreeSet};

use crate::error::SpecError;
use crate::events_spec::{event_variant, merged_fields, EventsSpec, FieldType, Fields, FILE};

fn is_pascal(name: &str) -> bool {
    name.chars().next().is_some_and(|c| c.is_ascii_uppercase())
        && name.chars().all(|c| c.is_ascii_alphanumeric())
}

fn check_fields(at: &str, fields: &Fields) -> Result<(), SpecError> {
    for (name, field) in fields {
        let here = format!("{at}.{name}");
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(SpecError::new(FILE, "element names are letters and digits").field(here));
        }
        if field.description.trim().is_empty() {
            return Err(SpecError::new(FILE, "missing description").field(here));
        }
        if field.repeated && !matches!(field.ty, FieldType::Object | FieldType::String) {
            return Err(SpecError::new(FILE, "only an object or a string can be `repeated`").field(here));
        }
        if field.sensitive && field.ty != FieldType::String {
            return Err(SpecError::new(FILE, "only a string can be `sensitive`").field(here));
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
fn check_example(at: &str, example: &str, fields: &Fields) -> Result<(), SpecError> {
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
fn declared(fields: &Fields, path: &[String]) -> bool {
    let mut level = Some(fields);
    let mut i = 0;
    while i < path.len() {
        let Some(field) = level.and_then(|m| m.get(&path[i])) else { return false };
        level = field.fields.as_ref();
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

fn check_include(spec: &EventsSpec, at: &str, include: &[String]) -> Result<(), SpecError> {
    for set in include {
        if !spec.field_sets.contains_key(set) {
            return Err(SpecError::new(FILE, format!("no field set `{set}` in `field_sets`"))
                .field(format!("{at}.include")));
        }
    }
    if include.iter().collect::<BTreeSet<_>>().len() != include.len() {
        return Err(SpecError::new(FILE, "includes a field set twice").field(format!("{at}.include")));
    }
    Ok(())
}

/// Every rule, over the whole spec.
pub(super) fn check(spec: &EventsSpec) -> Result<(), SpecError> {
    for (name, set) in &spec.field_sets {
        let at = format!("field_sets.{name}");
        if !crate::names::is_snake_ident(name) {
            return Err(SpecError::new(FILE, "field set names are snake_case").field(at));
        }
        if set.is_empty() {
            return Err(SpecError::new(FILE, "a field set needs fields").field(at));
        }
        check_fields(&at, set)?;
    }
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
    let mut variants: BTreeMap<String, String> = BTreeMap::new();
    let mut variant = |v: &str, at: &str| -> Result<(), SpecError> {
        if v == "Unknown" {
            return Err(
                SpecError::new(FILE, "`Unknown` is the variant of unlisted kinds").field(at.to_owned())
            );
        }
        if let Some(first) = variants.insert(v.to_owned(), at.to_owned()) {
            return Err(SpecError::new(FILE, format!("variant `Event::{v}` is already used by {first}"))
                .field(at.to_owned()));
        }
        Ok(())
    };
    let mut info_types = BTreeSet::new();
    for e in &spec.command {
        let at = format!("command.{}", e.info_type);
        name(&e.type_name, &at)?;
        variant(&e.type_name, &at)?;
        if !info_types.insert(&e.info_type) {
            return Err(SpecError::new(FILE, "InfoType listed twice").field(at));
        }
        if e.summary.trim().is_empty() || !e.doc.starts_with("https://") {
            return Err(SpecError::new(FILE, "needs a summary and an https doc link").field(at));
        }
        check_include(spec, &at, &e.include)?;
        check_fields(&format!("{at}.fields"), &e.fields)?;
        let fields = merged_fields(spec, &[(&e.include, &e.fields)]);
        if let Some(example) = &e.example {
            check_example(&format!("{at}.example"), example, &fields)?;
        }
        let mut change_types = BTreeSet::new();
        let mut change_variants = BTreeSet::new();
        for c in &e.changes {
            let at = format!("{at}.changes.{}", c.change_type);
            name(&format!("{}{}", e.type_name, c.type_name), &at)?;
            if !change_types.insert(&c.change_type) {
                return Err(SpecError::new(FILE, "ChangeType listed twice").field(at));
            }
            if c.type_name == "Unknown" || !change_variants.insert(&c.type_name) {
                return Err(SpecError::new(
                    FILE,
                    format!("variant `{}` is used twice (or is `Unknown`)", c.type_name),
                )
                .field(at));
            }
            check_include(spec, &at, &c.include)?;
            check_fields(&format!("{at}.fields"), &c.fields)?;
            if let Some(example) = &c.example {
                let fields = merged_fields(spec, &[(&e.include, &e.fields), (&c.include, &c.fields)]);
                check_example(&format!("{at}.example"), example, &fields)?;
            }
        }
    }
    check_include(spec, "data", &spec.data.include)?;
    let mut msg_types = BTreeSet::new();
    for m in &spec.data.messages {
        let at = format!("data.messages.{}", m.msg_type);
        name(&m.type_name, &at)?;
        variant(&m.type_name, &at)?;
        if !msg_types.insert(&m.msg_type) || m.msg_type == "event" {
            return Err(
                SpecError::new(FILE, "MsgType listed twice (or `event`, which `events` covers)").field(at)
            );
        }
        check_include(spec, &at, &m.include)?;
        check_fields(&format!("{at}.fields"), &m.fields)?;
        if let Some(example) = &m.example {
            let fields =
                merged_fields(spec, &[(&spec.data.include, &Fields::new()), (&m.include, &m.fields)]);
            check_example(&format!("{at}.example"), example, &fields)?;
        }
    }
    let mut events = BTreeSet::new();
    for d in &spec.data.events {
        let at = format!("data.events.{}", d.event);
        name(&d.type_name, &at)?;
        variant(event_variant(&d.type_name), &at)?;
        if !events.insert(d.event.to_ascii_lowercase()) {
            return Err(SpecError::new(FILE, "Event listed twice").field(at));
        }
        check_include(spec, &at, &d.include)?;
        check_fields(&format!("{at}.fields"), &d.fields)?;
        if let Some(example) = &d.example {
            let fields =
                merged_fields(spec, &[(&spec.data.include, &Fields::new()), (&d.include, &d.fields)]);
            check_example(&format!("{at}.example"), example, &fields)?;
        }
    }
    Ok(())
}
