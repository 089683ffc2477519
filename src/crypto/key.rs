//! EncodingAESKey: the 43-character form WeCom shows, and the AES key in it.

use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;

/// Decodes an EncodingAESKey: 43 characters of `[A-Za-z0-9+/]` that decode,
/// with one `=` appended, to a 32-byte AES key.
pub(crate) fn decode_aes_key(key: &str) -> Result<[u8; 32], String> {
    if key.len() != 43 {
        return Err(format!("must be 43 characters, got {}", key.chars().count()));
    }
    if !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/') {
        return Err("must hold only letters, digits, `+` and `/`".into());
    }
    // WeCom keys are random: the last character's spare bits need not be zero.
    let engine = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_allow_trailing_bits(true)
            .with_decode_padding_mode(DecodePaddingMode::RequireCanonical),
    );
    let bytes = engine.decode(format!("{key}=")).map_err(|e| format!("is not base64: {e}"))?;
    bytes.try_into().map_err(|b: Vec<u8>| format!("must decode to 32 bytes, got {}", b.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn official_keys_decode_to_32_bytes() {
        for key in
            ["6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"]
        {
            assert_eq!(decode_aes_key(key).map(|k| k.len()), Ok(32), "{key}");
        }
        assert!(decode_aes_key("short").unwrap_err().contains("43 characters"));
        assert!(decode_aes_key(&"-".repeat(43)).is_err());
    }
}
