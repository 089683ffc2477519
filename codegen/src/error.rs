//! Why a spec was refused, and where.

use std::fmt;

/// A refused spec: the file, the endpoint and the field it concerns, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecError {
    /// The spec file, relative to the spec directory (e.g. `suite.yaml`).
    pub file: String,
    /// The endpoint concerned, when the problem is in one.
    pub endpoint: Option<String>,
    /// The field concerned (a dotted path such as `example.response.agent[0]`).
    pub field: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl SpecError {
    pub(crate) fn new(file: &str, message: impl Into<String>) -> Self {
        SpecError { file: file.to_owned(), endpoint: None, field: None, message: message.into() }
    }

    pub(crate) fn endpoint(mut self, endpoint: &str) -> Self {
        self.endpoint = Some(endpoint.to_owned());
        self
    }

    pub(crate) fn field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "spec/{}", self.file)?;
        if let Some(endpoint) = &self.endpoint {
            write!(f, ": endpoint `{endpoint}`")?;
        }
        if let Some(field) = &self.field {
            write!(f, ": field `{field}`")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for SpecError {}
