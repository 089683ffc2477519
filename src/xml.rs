//! XML as WeCom writes it, read into a JSON value: elements become members,
//! repeated elements arrays, text (CDATA or not) trimmed strings. Iterative,
//! depth-limited, and never panics on any input.

use quick_xml::events::Event;
use quick_xml::Reader;
use serde_json::{Map, Value};

/// Deepest nesting accepted; WeCom's messages use three or four levels.
const MAX_DEPTH: usize = 32;

/// An element being read: its name, its children so far, its text so far.
struct Open {
    name: String,
    children: Map<String, Value>,
    text: String,
}

impl Open {
    fn new(name: String) -> Self {
        Open { name, children: Map::new(), text: String::new() }
    }

    /// Its name and its value: the children, else the text, trimmed (in
    /// place when there is nothing to trim).
    fn into_named_value(self) -> (String, Value) {
        let value = if !self.children.is_empty() {
            Value::Object(self.children)
        } else if self.text.trim().len() == self.text.len() {
            Value::String(self.text)
        } else {
            Value::String(self.text.trim().to_owned())
        };
        (self.name, value)
    }
}

fn add_child(parent: &mut Map<String, Value>, name: String, value: Value) {
    match parent.get_mut(&name) {
        None => {
            parent.insert(name, value);
        }
        Some(Value::Array(items)) => items.push(value),
        Some(existing) => {
            let first = existing.take();
            *existing = Value::Array(vec![first, value]);
        }
    }
}

/// An element's name as text (WeCom's are ASCII; anything else, lossily).
fn name_of(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(name) => name.to_owned(),
        Err(_) => String::from_utf8_lossy(bytes).into_owned(),
    }
}

/// Reads a document whose root element (whatever its name, usually `<xml>`)
/// holds the fields; returns the root's children as an object.
pub(crate) fn to_json(text: &str) -> Result<Map<String, Value>, String> {
    let mut reader = Reader::from_str(text);
    let mut stack: Vec<Open> = Vec::new();
    let mut root: Option<Map<String, Value>> = None;
    loop {
        let event = reader.read_event().map_err(|e| format!("at byte {}: {e}", reader.buffer_position()))?;
        match event {
            Event::Start(start) => {
                if root.is_some() {
                    return Err("content after the root element".into());
                }
                if stack.len() >= MAX_DEPTH {
                    return Err(format!("nested deeper than {MAX_DEPTH} levels"));
                }
                stack.push(Open::new(name_of(start.name().as_ref())));
            }
            Event::Empty(empty) => {
                let name = name_of(empty.name().as_ref());
                match stack.last_mut() {
                    Some(parent) => add_child(&mut parent.children, name, Value::String(String::new())),
                    None if root.is_none() => root = Some(Map::new()),
                    None => return Err("content after the root element".into()),
                }
            }
            Event::End(_) => {
                let done = stack.pop().ok_or("a closing tag without an opening one")?;
                match stack.last_mut() {
                    Some(parent) => {
                        let (name, value) = done.into_named_value();
                        add_child(&mut parent.children, name, value);
                    }
                    None => root = Some(done.children),
                }
            }
            Event::Text(text) => {
                if let Some(open) = stack.last_mut() {
                    let decoded = text.decode().map_err(|e| e.to_string())?;
                    let unescaped = quick_xml::escape::unescape(&decoded).map_err(|e| e.to_string())?;
                    open.text.push_str(&unescaped);
                } else if !String::from_utf8_lossy(text.as_ref()).trim().is_empty() {
                    return Err("text outside the root element".into());
                }
            }
            Event::CData(data) => {
                let open = stack.last_mut().ok_or("CDATA outside the root element")?;
                let data = std::str::from_utf8(data.as_ref()).map_err(|e| e.to_string())?;
                if open.text.is_empty() {
                    // The usual case, one CDATA section: one allocation, sized.
                    open.text = data.to_owned();
                } else {
                    open.text.push_str(data);
                }
            }
            Event::GeneralRef(reference) => {
                let open = stack.last_mut().ok_or("an entity outside the root element")?;
                let name = String::from_utf8_lossy(reference.as_ref()).into_owned();
                let entity = format!("&{name};");
                let resolved = quick_xml::escape::unescape(&entity).map_err(|e| e.to_string())?;
                open.text.push_str(&resolved);
            }
            Event::Eof => break,
            Event::Decl(_) | Event::Comment(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
    if !stack.is_empty() {
        return Err("the document ends inside an element".into());
    }
    root.ok_or_else(|| "no root element".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_trimmed_and_repeats_become_lists() {
        let doc = "<xml><SuiteId><![CDATA[ww4]]></SuiteId><InfoType> <![CDATA[suite_ticket]]></InfoType>\
                   <TimeStamp>1403610513</TimeStamp><ExtraInfo></ExtraInfo><Empty/>\
                   <ExtAttr><Item><Name>a</Name></Item><Item><Name>b &amp; c</Name></Item></ExtAttr></xml>";
        let json = Value::Object(to_json(doc).expect("parses"));
        assert_eq!(json["SuiteId"], "ww4");
        assert_eq!(json["InfoType"], "suite_ticket");
        assert_eq!(json["TimeStamp"], "1403610513");
        assert_eq!(json["ExtraInfo"], "");
        assert_eq!(json["Empty"], "");
        assert_eq!(json["ExtAttr"]["Item"][1]["Name"], "b & c");
    }

    #[test]
    fn broken_documents_are_errors() {
        for doc in [
            "",
            "<xml>",
            "<xml></y>",
            "</xml>",
            "<xml></xml><xml></xml>",
            "text",
            "<xml><a>&bogus;</a></xml>",
        ] {
            assert!(to_json(doc).is_err(), "{doc:?}");
        }
        let deep = "<a>".repeat(100) + &"</a>".repeat(100);
        assert!(to_json(&deep).unwrap_err().contains("deeper"));
    }
}
