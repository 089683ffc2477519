//! Reading the XML samples in `events.yaml`, to check them against their
//! declared fields.

use quick_xml::events::Event;
use quick_xml::Reader;

/// The path (below the root element) of every element in `text`.
pub fn element_paths(text: &str) -> Result<Vec<Vec<String>>, String> {
    let mut reader = Reader::from_str(text);
    let mut stack: Vec<String> = Vec::new();
    let mut paths = Vec::new();
    let mut depth_seen_root = false;
    loop {
        match reader.read_event().map_err(|e| e.to_string())? {
            Event::Start(start) => {
                let name = String::from_utf8_lossy(start.name().as_ref()).into_owned();
                if depth_seen_root || !stack.is_empty() {
                    let mut path: Vec<String> = stack.iter().skip(1).cloned().collect();
                    path.push(name.clone());
                    paths.push(path);
                }
                depth_seen_root = true;
                stack.push(name);
            }
            Event::Empty(empty) => {
                let name = String::from_utf8_lossy(empty.name().as_ref()).into_owned();
                let mut path: Vec<String> = stack.iter().skip(1).cloned().collect();
                path.push(name);
                paths.push(path);
            }
            Event::End(_) => {
                stack.pop().ok_or("unbalanced closing tag")?;
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !stack.is_empty() {
        return Err("unclosed element".into());
    }
    paths.retain(|p| !p.is_empty());
    paths.sort();
    paths.dedup();
    Ok(paths)
}
