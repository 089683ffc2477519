//! Names a spec may not take: they belong to the envelope, the handles or
//! the prelude that generated code relies on.

/// Keys of the response envelope; the runtime consumes them.
pub const ENVELOPE_KEYS: &[&str] = &["errcode", "errmsg"];

/// Names the handles already use (or the runtime keeps for itself): no
/// accessor or flat method may take them.
pub const RESERVED_HANDLE_NAMES: &[&str] = &[
    "call",
    "call_upload",
    "call_with_token",
    "check_app_kind",
    "client",
    "clone",
    "corp_id",
    "new",
    "scope",
    "suite_id",
];

/// Names generated code uses from the prelude; a definition may not shadow them.
pub const PRELUDE_NAMES: &[&str] = &[
    "Box",
    "Clone",
    "Debug",
    "Default",
    "Eq",
    "Err",
    "From",
    "Into",
    "None",
    "Ok",
    "Option",
    "PartialEq",
    "Result",
    "Self",
    "Some",
    "String",
    "Vec",
];
