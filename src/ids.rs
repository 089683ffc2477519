//! Typed identifiers, so a suite id and a corp id cannot be swapped, and the
//! kind of app a suite is.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Wraps an id as WeCom writes it.
            pub fn new(id: impl Into<String>) -> Self {
                $name(id.into())
            }

            /// The id as WeCom writes it.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0)
            }
        }

        impl From<&str> for $name {
            fn from(id: &str) -> Self {
                $name(id.to_owned())
            }
        }

        impl From<String> for $name {
            fn from(id: String) -> Self {
                $name(id)
            }
        }

        impl From<&$name> for $name {
            fn from(id: &$name) -> Self {
                id.clone()
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        /// Compares exactly, case included.
        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        /// Compares exactly, case included.
        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }
    };
}

id_type!(
    /// A suite (third-party app) id: `ww…`/`wx…`, `tj…` for old suites, `dk…`
    /// for 代开发 templates. Scopes the suite ticket and the suite token.
    SuiteId
);

id_type!(
    /// A corp id: the provider's own, or an authorizing corp's (`auth_corpid`).
    CorpId
);

id_type!(
    /// A corp's `open_corpid`: its id as this provider's apps see it after
    /// the ID upgrade. Kept exactly as WeCom sent it (case included); compare
    /// it as it is.
    OpenCorpId
);

id_type!(
    /// A member's `open_userid`: the same across all of this provider's apps
    /// in a corp. Kept exactly as WeCom sent it (case included); compare it as
    /// it is.
    OpenUserId
);

/// What a suite is to WeCom: a third-party app, or a 代开发 (customized) app
/// built from a template.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AppKind {
    /// A third-party app (第三方应用): the default.
    #[default]
    ThirdParty,
    /// A 代开发 app, made from a template for one corp.
    Customized,
}

impl AppKind {
    /// `"third_party"` or `"customized"`, as in the configuration and specs.
    pub fn as_str(self) -> &'static str {
        match self {
            AppKind::ThirdParty => "third_party",
            AppKind::Customized => "customized",
        }
    }
}
