//! Why a callback could not be verified, decrypted or encrypted, with the
//! official WXBizMsgCrypt error codes.

/// A WXBizMsgCrypt failure. [`CryptoError::code`] is the official −400xx
/// number, so logs and peers' documentation agree.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CryptoError {
    /// The signature does not match (−40001).
    #[error("signature mismatch (-40001)")]
    ValidateSignature,
    /// The XML envelope could not be parsed (−40002).
    #[error("malformed XML (-40002): {0}")]
    ParseXml(String),
    /// The EncodingAESKey is not 43 characters decoding to 32 bytes (−40004).
    #[error("invalid EncodingAESKey (-40004): {0}")]
    IllegalAesKey(String),
    /// The message was meant for another receiver (−40005).
    #[error("receive id mismatch (-40005): got {got:?}")]
    ValidateReceiveId {
        /// The receive id the message carried.
        got: String,
    },
    /// Encryption failed (−40006).
    #[error("encryption failed (-40006): {0}")]
    EncryptAes(String),
    /// The ciphertext does not decrypt to a well-padded plaintext (−40007).
    #[error("decryption failed (-40007): {0}")]
    DecryptAes(&'static str),
    /// The decrypted buffer is malformed: too short, a length beyond its end,
    /// or a message that is not UTF-8 (−40008).
    #[error("illegal buffer (-40008): {0}")]
    IllegalBuffer(&'static str),
    /// The ciphertext is not base64 (−40010).
    #[error("not base64 (-40010)")]
    DecodeBase64,
    /// The JSON envelope could not be parsed (−40012).
    #[error("malformed JSON (-40012): {0}")]
    ParseJson(String),
}

impl CryptoError {
    /// The official error code (negative).
    pub fn code(&self) -> i32 {
        match self {
            CryptoError::ValidateSignature => -40001,
            CryptoError::ParseXml(_) => -40002,
            CryptoError::IllegalAesKey(_) => -40004,
            CryptoError::ValidateReceiveId { .. } => -40005,
            CryptoError::EncryptAes(_) => -40006,
            CryptoError::DecryptAes(_) => -40007,
            CryptoError::IllegalBuffer(_) => -40008,
            CryptoError::DecodeBase64 => -40010,
            CryptoError::ParseJson(_) => -40012,
        }
    }
}
