//! Where a `$ref` leads and which handle an endpoint hangs on: the lookups
//! both validation and generation need.

use std::collections::BTreeMap;

use crate::spec::{Endpoint, HandleKind, SpecFile, SpecSchema, TokenKind};

/// Every loaded spec file by its path (relative to the spec directory).
pub type Index<'a> = BTreeMap<&'a str, &'a SpecFile>;

/// Where a `$ref` in `from` leads: the defining file (as keyed in `index`),
/// the definition's name and the definition.
pub fn resolve<'a>(
    index: &Index<'a>,
    from: &str,
    schema: &SpecSchema,
) -> Option<(&'a str, &'a str, &'a SpecSchema)> {
    let (file, name) = schema.ref_target()?;
    let file = match file {
        None => from.to_owned(),
        Some(target) => crate::spec::resolve_file(from, target)?,
    };
    let (key, spec) = index.get_key_value(file.as_str())?;
    let (name, def) = spec.definitions.get_key_value(name)?;
    Some((key, name, def))
}

/// The handle an endpoint's method hangs on, if the spec determines one.
pub fn handle_of(endpoint: &Endpoint) -> Option<HandleKind> {
    endpoint.handle.or(match endpoint.token {
        TokenKind::Provider => Some(HandleKind::Provider),
        TokenKind::Suite => Some(HandleKind::Suite),
        TokenKind::Corp => Some(HandleKind::Corp),
        TokenKind::Registration => Some(HandleKind::Provider),
        TokenKind::None => None,
    })
}
