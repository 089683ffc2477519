//! The request and response types of one group: typify makes them from the
//! definitions, then a pass over the syn tree gives them their final shape
//! (spec field order, docs, constructors and setters for what users build,
//! a redacted `Debug` for sensitive fields, no typify boilerplate).

mod builder;
mod finish;
mod graph;
mod redacted;
mod syntax;
mod tidy;
mod typify;
mod union;

pub(crate) use builder::Constructor;
pub(crate) use finish::{finish, Finish};
pub(crate) use typify::{typify_group, GroupTypes};
