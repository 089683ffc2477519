//! The `state` of an install link, signed: the install page's redirect
//! comes back to a public URL with an auth code anyone could forge, so the
//! server completes an install only for a `state` this application issued
//! (and recently). The signature needs no store: it is an HMAC with the
//! suite secret, kept to the letters and digits WeCom allows in `state`.
//!
//! `state` = the ISV's own state, then the expiry (10 digits, Unix
//! seconds), then 16 hex digits of HMAC-SHA1 over the suite, the ISV's
//! state and the expiry.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use sha1::Sha1;

/// How long an install link's state is accepted back.
pub const INSTALL_STATE_LIFETIME: Duration = Duration::from_secs(3600);

/// What the signature adds to the ISV's own state.
pub const INSTALL_STATE_OVERHEAD: usize = EXPIRY_DIGITS + MAC_DIGITS;

const EXPIRY_DIGITS: usize = 10;
const MAC_DIGITS: usize = 16;

fn mac(secret: &str, suite_id: &str, own: &str, expiry: &str) -> String {
    // An HMAC takes a key of any length, so this cannot fail.
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(secret.as_bytes()) else { return String::new() };
    for part in ["wecom-openwork install state", suite_id, own, expiry] {
        mac.update(part.as_bytes());
        mac.update(&[0]);
    }
    mac.finalize().into_bytes().iter().take(MAC_DIGITS / 2).map(|b| format!("{b:02x}")).collect()
}

/// The signed state for an install link of `suite_id` issued at `now`.
pub fn sign(secret: &str, suite_id: &str, own: &str, now: SystemTime) -> String {
    let expiry = now.checked_add(INSTALL_STATE_LIFETIME).unwrap_or(now);
    let expiry = expiry.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()).min(9_999_999_999);
    let expiry = format!("{expiry:010}");
    let mac = mac(secret, suite_id, own, &expiry);
    format!("{own}{expiry}{mac}")
}

/// The ISV's own state inside `signed` and when the signature expires, if
/// this application signed it for `suite_id`.
pub fn open(secret: &str, suite_id: &str, signed: &str) -> Option<(String, SystemTime)> {
    if !signed.is_ascii() || signed.len() < INSTALL_STATE_OVERHEAD {
        return None;
    }
    let (own, rest) = signed.split_at(signed.len() - INSTALL_STATE_OVERHEAD);
    let (expiry, given) = rest.split_at(EXPIRY_DIGITS);
    let expected = mac(secret, suite_id, own, expiry);
    let same = subtle::ConstantTimeEq::ct_eq(expected.as_bytes(), given.as_bytes());
    if !bool::from(same) {
        return None;
    }
    Some((own.to_owned(), UNIX_EPOCH + Duration::from_secs(expiry.parse().ok()?)))
}

/// The ISV's own state inside `signed`, if this application signed it for
/// `suite_id` and it has not expired at `now`.
pub fn verify(secret: &str, suite_id: &str, signed: &str, now: SystemTime) -> Option<String> {
    open(secret, suite_id, signed).filter(|(_, expires)| now <= *expires).map(|(own, _)| own)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_state_comes_back_only_for_its_suite_secret_and_time() {
        let now = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let signed = sign("secret", "wwsuite", "order42", now);
        assert!(signed.bytes().all(|b| b.is_ascii_alphanumeric()), "{signed}");
        assert_eq!(signed.len(), "order42".len() + INSTALL_STATE_OVERHEAD);
        assert_eq!(verify("secret", "wwsuite", &signed, now).as_deref(), Some("order42"));
        assert_eq!(
            verify("secret", "wwsuite", &signed, now + INSTALL_STATE_LIFETIME).as_deref(),
            Some("order42")
        );
        assert_eq!(
            verify("secret", "wwsuite", &signed, now + INSTALL_STATE_LIFETIME + Duration::from_secs(1)),
            None
        );
        assert_eq!(verify("other", "wwsuite", &signed, now), None);
        assert_eq!(verify("secret", "wwother", &signed, now), None);
        let mut forged = signed.clone();
        forged.replace_range(0..1, "p");
        assert_eq!(verify("secret", "wwsuite", &forged, now), None);
        for garbage in ["", "s1", "fromlink", "ü".repeat(40).as_str(), &"9".repeat(26)] {
            assert_eq!(verify("secret", "wwsuite", garbage, now), None, "{garbage}");
        }
        let empty = sign("secret", "wwsuite", "", now);
        assert_eq!(verify("secret", "wwsuite", &empty, now).as_deref(), Some(""));
    }
}
