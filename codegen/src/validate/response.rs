//! Responses belong to WeCom: nothing in them may be `required`.

use std::collections::BTreeSet;

use super::schema::{refuse, Refusal, SchemaChecker};
use crate::spec::{AdditionalProperties, SpecSchema};

impl SchemaChecker<'_> {
    /// Response data belongs to WeCom: a field it omits must still decode.
    pub(super) fn no_required(
        &self,
        at: &str,
        name: &str,
        seen: &mut BTreeSet<String>,
    ) -> Result<(), Refusal> {
        if !seen.insert(format!("{}#{name}", self.file)) {
            return Ok(());
        }
        let Some(def) = self.defs.get(name) else {
            return Ok(());
        };
        self.no_required_in(at, def, seen)
    }

    fn no_required_in(&self, at: &str, s: &SpecSchema, seen: &mut BTreeSet<String>) -> Result<(), Refusal> {
        if s.reference.is_some() {
            if let Some((checker, name, _)) = self.follow(s) {
                let at = if checker.file == self.file {
                    format!("definitions.{name}")
                } else {
                    format!("spec/{}: definitions.{name}", checker.file)
                };
                return checker.no_required(&at, name, seen);
            }
            return Ok(());
        }
        if s.required.as_ref().is_some_and(|r| !r.is_empty()) {
            return refuse(
                format!("{at}.required"),
                "response fields are all optional: WeCom may omit any of them",
            );
        }
        if let Some(items) = &s.items {
            self.no_required_in(&format!("{at}.items"), items, seen)?;
        }
        for (key, prop) in s.properties.iter().flatten() {
            self.no_required_in(&format!("{at}.properties.{key}"), prop, seen)?;
        }
        for (value, variant) in s.variants.iter().flatten() {
            self.no_required_in(&format!("{at}.x-variants.{value}"), variant, seen)?;
        }
        if let Some(AdditionalProperties::Schema(extra)) = s.additional_properties.as_ref() {
            self.no_required_in(&format!("{at}.additionalProperties"), extra, seen)?;
        }
        Ok(())
    }
}
