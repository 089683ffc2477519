//! The house rules ARCHITECTURE.md states, checked on the code: no two
//! modules import each other, directly or around a circle, and no
//! handwritten file grows past 700 lines.
//!
//! Imports are read as text (`crate::…` and `super::…` paths, `use` trees
//! included), outside comments and `#[cfg(test)]` modules, and compared
//! between siblings: `credentials::manager` using `crate::store::Record` is
//! an arrow from `credentials` to `store`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Files longer than this are two concepts in one room.
const MAX_LINES: usize = 700;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries {
        let path = entry.expect("a readable directory").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module path of `file` inside the crate rooted at `dir`
/// (`credentials/manager.rs` → `["credentials", "manager"]`).
fn module_of(dir: &Path, file: &Path) -> Vec<String> {
    let relative = file.strip_prefix(dir).expect("under the crate root").with_extension("");
    let mut parts: Vec<String> = relative.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib" | "main")) {
        parts.pop();
    }
    parts
}

/// The code of a file without comments, string contents and test modules.
fn code_of(text: &str) -> String {
    let mut code = String::new();
    for line in text.lines() {
        if line.starts_with("#[cfg(test)]") {
            break;
        }
        let trimmed = line.trim_start();
        if trimmed.starts_with("//") {
            continue;
        }
        code.push_str(line.split(" //").next().unwrap_or(""));
        code.push('\n');
    }
    code
}

/// Every path a `use` tree or a qualified name starting at `at` names.
fn paths_from(code: &[u8], at: usize, prefix: Vec<String>, out: &mut Vec<Vec<String>>) -> usize {
    let mut i = at;
    let mut path = prefix;
    loop {
        while i < code.len() && code[i].is_ascii_whitespace() {
            i += 1;
        }
        if i < code.len() && code[i] == b'{' {
            i += 1;
            loop {
                i = paths_from(code, i, path.clone(), out);
                while i < code.len() && code[i].is_ascii_whitespace() {
                    i += 1;
                }
                match code.get(i) {
                    Some(b',') => i += 1,
                    Some(b'}') => return i + 1,
                    _ => return i,
                }
                while i < code.len() && code[i].is_ascii_whitespace() {
                    i += 1;
                }
                if code.get(i) == Some(&b'}') {
                    return i + 1;
                }
            }
        }
        let start = i;
        while i < code.len() && (code[i].is_ascii_alphanumeric() || code[i] == b'_') {
            i += 1;
        }
        if start == i {
            out.push(path);
            return i;
        }
        path.push(String::from_utf8_lossy(&code[start..i]).into_owned());
        if code[i..].starts_with(b"::") {
            i += 2;
        } else {
            out.push(path);
            return i;
        }
    }
}

/// Arrows between sibling modules of one crate, with a file that draws each.
fn arrows(dir: &Path, files: &[PathBuf]) -> BTreeMap<(String, String), String> {
    let modules: BTreeSet<Vec<String>> = files.iter().map(|f| module_of(dir, f)).collect();
    let mut arrows = BTreeMap::new();
    for file in files {
        let me = module_of(dir, file);
        let code = code_of(&std::fs::read_to_string(file).expect("readable"));
        let bytes = code.as_bytes();
        let mut named = Vec::new();
        let mut below_me = me.clone();
        below_me.push("super".to_owned());
        for (keyword, base) in [("crate::", Vec::new()), ("super::", below_me)] {
            let mut from = 0;
            while let Some(found) = code[from..].find(keyword) {
                let at = from + found;
                from = at + keyword.len();
                let preceded = at > 0 && (bytes[at - 1].is_ascii_alphanumeric() || bytes[at - 1] == b'_');
                if !preceded {
                    paths_from(bytes, from, base.clone(), &mut named);
                }
            }
        }
        for path in named {
            let mut target = resolved(&path);
            while !target.is_empty() && !modules.contains(&target) {
                target.pop();
            }
            let common = me.iter().zip(&target).take_while(|(a, b)| a == b).count();
            if common < me.len() && common < target.len() {
                let (from, to) = (me[..=common].join("::"), target[..=common].join("::"));
                arrows.entry((from, to)).or_insert_with(|| file.display().to_string());
            }
        }
    }
    arrows
}

/// `path` with each `super` taking the segment before it away.
fn resolved(path: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for segment in path {
        match segment.as_str() {
            "super" => {
                out.pop();
            }
            "self" => {}
            _ => out.push(segment.clone()),
        }
    }
    out
}

/// The circles among `arrows`: each strongly connected group of two or more.
fn circles(arrows: &BTreeMap<(String, String), String>) -> Vec<Vec<String>> {
    let nodes: BTreeSet<&String> = arrows.keys().flat_map(|(a, b)| [a, b]).collect();
    let reach = |from: &String| {
        let mut seen = BTreeSet::from([from.clone()]);
        let mut todo = vec![from.clone()];
        while let Some(n) = todo.pop() {
            for (a, b) in arrows.keys() {
                if *a == n && seen.insert(b.clone()) {
                    todo.push(b.clone());
                }
            }
        }
        seen
    };
    let reaches: BTreeMap<&String, BTreeSet<String>> = nodes.iter().map(|n| (*n, reach(n))).collect();
    let mut groups: Vec<Vec<String>> = Vec::new();
    for n in &nodes {
        let group: Vec<String> = nodes
            .iter()
            .filter(|m| reaches[*n].contains(**m) && reaches[*m].contains(*n))
            .map(|m| (*m).clone())
            .collect();
        if group.len() > 1 && !groups.contains(&group) {
            groups.push(group);
        }
    }
    groups
}

fn crate_circles(dir: &Path, skip: &[&str]) -> Vec<String> {
    let mut files = Vec::new();
    rust_files(dir, &mut files);
    files.retain(|f| !skip.iter().any(|s| f.starts_with(dir.join(s))));
    let arrows = arrows(dir, &files);
    circles(&arrows)
        .into_iter()
        .map(|group| {
            let ties: Vec<String> = arrows
                .iter()
                .filter(|((a, b), _)| group.contains(a) && group.contains(b))
                .map(|((a, b), file)| format!("{a} -> {b} (in {file})"))
                .collect();
            format!("{}: {}", group.join(", "), ties.join("; "))
        })
        .collect()
}

#[test]
fn no_module_imports_one_that_imports_it_back() {
    let root = root();
    let mut found = crate_circles(&root.join("src"), &["bin"]);
    found.extend(crate_circles(&root.join("src/bin/wecom-openwork"), &[]));
    found.extend(crate_circles(&root.join("codegen/src"), &[]));
    assert!(found.is_empty(), "module circles:\n{}", found.join("\n"));
}

#[test]
fn the_check_sees_a_circle_when_there_is_one() {
    let dir = std::env::temp_dir().join(format!("wecom-architecture-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("b")).expect("scratch");
    std::fs::write(dir.join("lib.rs"), "mod a;\nmod b;\n").expect("write");
    std::fs::write(dir.join("a.rs"), "use crate::{b::{inner::Thing, Other}, c};\n").expect("write");
    std::fs::write(dir.join("b/mod.rs"), "mod inner;\n").expect("write");
    std::fs::write(
        dir.join("b/inner.rs"),
        "// crate::a is only a comment\nfn f() { super::super::a::g() }\n",
    )
    .expect("write");
    let one = crate_circles(&dir, &[]);
    std::fs::write(dir.join("b/inner.rs"), "// use crate::a;\n").expect("write");
    let none = crate_circles(&dir, &[]);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(one.len(), 1, "{one:?}");
    assert!(one[0].starts_with("a, b:"), "{one:?}");
    assert!(none.is_empty(), "{none:?}");
}

#[test]
fn no_handwritten_file_is_over_700_lines() {
    let root = root();
    let mut files = Vec::new();
    for dir in ["src", "codegen/src", "codegen/tests", "tests", "benches", "examples"] {
        rust_files(&root.join(dir), &mut files);
    }
    files.push(root.join("build.rs"));
    let long: Vec<String> = files
        .iter()
        .filter(|f| !f.components().any(|c| c.as_os_str() == "goldens"))
        .filter_map(|f| {
            let lines = std::fs::read_to_string(f).expect("readable").lines().count();
            (lines > MAX_LINES).then(|| format!("{} ({lines} lines)", f.display()))
        })
        .collect();
    assert!(long.is_empty(), "over {MAX_LINES} lines: {long:?}");
}
