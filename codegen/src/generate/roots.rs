//! The doc lines that tie a request, query or reply type to its calls.

use std::collections::BTreeMap;

use super::naming::{method_link, token_name};
use crate::validate::{resolve, Index};

/// Request, query and response types say which calls use them (only the
/// types of the endpoint's own file: a shared type is not tied to one call).
pub(super) fn root_docs(index: &Index<'_>) -> BTreeMap<String, BTreeMap<String, Vec<String>>> {
    let mut out: BTreeMap<String, BTreeMap<String, Vec<String>>> = BTreeMap::new();
    for (file, spec) in index {
        for e in &spec.endpoints {
            let response = Some(e.response.clone());
            for (role, schema) in
                [("Query parameters", &e.query), ("Request body", &e.request), ("Reply", &response)]
            {
                let Some((owner, name, _)) = schema.as_ref().and_then(|s| resolve(index, file, s)) else {
                    continue;
                };
                if owner != *file {
                    continue;
                }
                let (text, target) = method_link(spec, e);
                let line = format!(
                    " {role} of [`{text}`]({target}) (`{verb} {path}`, token: {token}; official documentation: <{doc}>).",
                    verb = e.method.as_str(),
                    path = e.path,
                    token = token_name(e.token),
                    doc = e.doc,
                );
                out.entry(file.to_string()).or_default().entry(name.to_owned()).or_default().push(line);
            }
        }
    }
    out
}
