//! What the emulator knows of each endpoint beyond the client's descriptor:
//! the documented sample reply it serves, the members a request must carry,
//! and the older paths it still routes. Generated from `spec/` into a table
//! compiled only with this feature, so a client's binary carries none of it.

use crate::http::Endpoint;

/// The emulator's data of one spec'd endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct EndpointSample {
    /// Older paths WeCom still answers for this endpoint; the client never
    /// calls them, the emulator routes them to it.
    pub legacy_paths: &'static [&'static str],
    /// Members the request body (POST) or query (GET) must carry.
    pub required: &'static [&'static str],
    /// The documented sample reply (JSON text), as in the spec: what the
    /// emulator answers when no state of its own applies.
    pub example_response: &'static str,
}

/// What a descriptor the specs do not have gets: nothing required, an empty reply.
static UNKNOWN: EndpointSample = EndpointSample { legacy_paths: &[], required: &[], example_response: "{}" };

/// The sample data of `endpoint` (an empty one for a descriptor that is not
/// spec'd). A copy of a descriptor is known by its group and name.
pub fn sample(endpoint: &Endpoint) -> &'static EndpointSample {
    crate::api::EMULATOR_SAMPLES
        .iter()
        .find(|(known, _)| {
            std::ptr::eq(*known, endpoint) || (known.group == endpoint.group && known.name == endpoint.name)
        })
        .map_or(&UNKNOWN, |(_, sample)| sample)
}

/// The spec'd endpoint a request path reaches (its own path or a legacy
/// one), with its sample data: one lookup per request.
pub(super) fn routed(path: &str) -> Option<(&'static Endpoint, &'static EndpointSample)> {
    crate::api::EMULATOR_SAMPLES
        .iter()
        .find(|(endpoint, sample)| endpoint.path == path || sample.legacy_paths.contains(&path))
        .map(|(endpoint, sample)| (*endpoint, sample))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_endpoint_has_its_sample_and_its_paths_route_to_it() {
        assert_eq!(crate::api::EMULATOR_SAMPLES.len(), crate::ENDPOINTS.len());
        for endpoint in crate::ENDPOINTS {
            let sample = sample(endpoint);
            assert!(!std::ptr::eq(sample, &UNKNOWN), "{}: no sample", endpoint.name);
            let reply: serde_json::Value = serde_json::from_str(sample.example_response).expect("JSON");
            assert!(reply.is_object(), "{}: {reply}", endpoint.name);
            for path in std::iter::once(&endpoint.path).chain(sample.legacy_paths) {
                assert!(
                    routed(path).is_some_and(|(e, s)| std::ptr::eq(e, *endpoint) && std::ptr::eq(s, sample)),
                    "{path}"
                );
            }
        }
        assert!(routed("/cgi-bin/not/spec-d").is_none());
    }
}
