//! Secrets in configuration: kept as strings, never shown by `Debug`, and
//! serialized as `<redacted>` unless asked for explicitly.

use std::cell::Cell;
use std::fmt;

use serde::{Deserialize, Serialize};

/// What a secret serializes as, outside [`Secret::exposing`].
pub(crate) const REDACTED: &str = "<redacted>";

/// Why a redacted secret cannot be loaded.
pub(crate) const REDACTED_REFUSED: &str = "is `<redacted>`: this was written without its secrets \
     (serialize inside `Secret::exposing` to write them), put the real secret here";

thread_local! {
    /// How many [`Secret::exposing`] scopes this thread is in.
    static EXPOSING: Cell<u32> = const { Cell::new(0) };
}

/// A secret string (a provider or suite secret, a callback token, an
/// EncodingAESKey, a permanent code). `Debug` prints `<redacted>`.
///
/// Serializing a secret writes `<redacted>` (an empty one stays empty), so a
/// [`crate::Config`] can be dumped to a log or a file without its secrets.
/// To write the secrets themselves, serialize inside [`Secret::exposing`]:
///
/// ```
/// # fn run(config: &wecom_openwork::Config) -> Result<(), serde_json::Error> {
/// use wecom_openwork::Secret;
/// let shown = serde_json::to_string(config)?; // secrets are "<redacted>"
/// let full = Secret::exposing(|| serde_json::to_string(config))?; // the real secrets
/// # Ok(()) }
/// ```
///
/// Deserializing `<redacted>` is an error, so a redacted dump is never loaded
/// as if it held the secrets. TOML and YAML errors show the field; from the
/// environment ([`crate::Config::from_env`]) the error names the variable.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.0.is_empty() || EXPOSING.with(Cell::get) > 0 {
            serializer.serialize_str(&self.0)
        } else {
            serializer.serialize_str(REDACTED)
        }
    }
}

/// Serializes a secret as its value, whatever the scope: for records that
/// must keep it, such as a stored [`crate::Authorization`]'s permanent code.
pub(crate) fn serialize_exposed<S: serde::Serializer>(
    secret: &Secret,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&secret.0)
}

/// A secret made only of digits may arrive as a number (from environment
/// variables or YAML); it is the same secret. `<redacted>` is refused.
impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Secret;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Secret, E> {
                self.visit_string(v.to_owned())
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Secret, E> {
                if v == REDACTED {
                    return Err(E::custom(format!("the secret {REDACTED_REFUSED}")));
                }
                Ok(Secret(v))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Secret, E> {
                Ok(Secret(v.to_string()))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Secret, E> {
                Ok(Secret(v.to_string()))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// Leaves the [`Secret::exposing`] scope, also on unwind.
struct ExposingGuard;

impl Drop for ExposingGuard {
    fn drop(&mut self) {
        EXPOSING.with(|depth| depth.set(depth.get().saturating_sub(1)));
    }
}

impl Secret {
    /// Wraps a secret.
    pub fn new(secret: impl Into<String>) -> Self {
        Secret(secret.into())
    }

    /// The secret itself. Do not log it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Runs `serialize` with every [`Secret`] it serializes (on this thread)
    /// written as its real value instead of `<redacted>`: the explicit way to
    /// write a configuration with its secrets, in any serde format.
    ///
    /// ```
    /// # fn run(config: &wecom_openwork::Config) -> Result<(), Box<dyn std::error::Error>> {
    /// use wecom_openwork::Secret;
    /// let toml = Secret::exposing(|| toml::to_string(config))?;
    /// std::fs::write("wecom.toml", toml)?;
    /// # Ok(()) }
    /// ```
    ///
    /// The scope is the closure's synchronous run on the calling thread:
    /// serialize inside it, do not return a future or a lazy serializer.
    pub fn exposing<R>(serialize: impl FnOnce() -> R) -> R {
        EXPOSING.with(|depth| depth.set(depth.get().saturating_add(1)));
        let _guard = ExposingGuard;
        serialize()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_empty() { "<empty>" } else { REDACTED })
    }
}

impl From<&str> for Secret {
    fn from(secret: &str) -> Self {
        Secret::new(secret)
    }
}

impl From<String> for Secret {
    fn from(secret: String) -> Self {
        Secret(secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialized_secrets_are_redacted_unless_exposed() {
        let secret = Secret::new("s3cret");
        assert_eq!(serde_json::to_string(&secret).ok().as_deref(), Some("\"<redacted>\""));
        let exposed = Secret::exposing(|| Secret::exposing(|| serde_json::to_string(&secret)).ok());
        assert_eq!(exposed.as_deref(), Some("\"s3cret\""), "nested scopes");
        assert_eq!(serde_json::to_string(&secret).ok().as_deref(), Some("\"<redacted>\""), "scope left");
        assert_eq!(serde_json::to_string(&Secret::default()).ok().as_deref(), Some("\"\""));

        let caught = std::panic::catch_unwind(|| Secret::exposing(|| panic!("inside")));
        assert!(caught.is_err());
        assert_eq!(serde_json::to_string(&secret).ok().as_deref(), Some("\"<redacted>\""), "left on unwind");
    }

    #[test]
    fn a_redacted_secret_is_not_loaded() {
        let err = serde_json::from_str::<Secret>("\"<redacted>\"").err().map(|e| e.to_string());
        assert!(err.is_some_and(|e| e.contains("Secret::exposing")));
        assert_eq!(serde_json::from_str::<Secret>("\"x\"").ok(), Some(Secret::new("x")));
        assert_eq!(serde_json::from_str::<Secret>("0123").ok(), None, "not a JSON number");
        assert_eq!(serde_json::from_str::<Secret>("123").ok(), Some(Secret::new("123")));
    }
}
