//! WXBizMsgCrypt: the signature and AES envelope of WeCom callbacks.
//!
//! Decryption is strict: the signature is checked first and in constant time,
//! then base64, the AES block size, PKCS#7 padding with block 32 (every pad
//! byte checked), the length field against the buffer, and the receive id.
//! Any input gives a [`CryptoError`]; none panics.
//!
//! ```
//! use wecom_openwork::crypto::MsgCrypt;
//!
//! let crypt = MsgCrypt::new("QDG6eK", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C", "wx5823bf96d3bd56c7")?;
//! let sealed = crypt.encrypt("<xml>hi</xml>", "1409659813", "1372623149")?;
//! let opened = crypt.decrypt(&sealed.msg_signature, "1409659813", "1372623149", &sealed.encrypt)?;
//! assert_eq!(opened, "<xml>hi</xml>");
//! # Ok::<(), wecom_openwork::crypto::CryptoError>(())
//! ```

mod envelope;
mod error;
pub mod install_state;
mod jsapi;
mod key;

use aes::cipher::{block_padding::NoPadding, BlockDecryptMut, BlockEncryptMut, InnerIvInit, KeyInit};
use sha1::{Digest, Sha1};
use subtle::ConstantTimeEq;

pub use envelope::{parse_envelope, reply_json, reply_xml, Envelope, EnvelopeFormat};
pub use error::CryptoError;
pub use jsapi::{jsapi_signature, AgentConfig, JsSdkConfig, RegisterConfig, SignatureSet};

pub(crate) use key::decode_aes_key;

type Aes256CbcEnc = cbc::Encryptor<aes::Aes256>;
type Aes256CbcDec = cbc::Decryptor<aes::Aes256>;

/// WeCom pads to 32-byte blocks (PKCS#7 with block 32, not AES's 16).
const PAD_BLOCK: usize = 32;
/// Random prefix of every plaintext.
const RANDOM_LEN: usize = 16;

/// 40 hex digits as 20 bytes.
fn unhex20(text: &str) -> Option<[u8; 20]> {
    let bytes = text.as_bytes();
    if bytes.len() != 40 {
        return None;
    }
    let nibble = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    };
    let mut out = [0u8; 20];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = nibble(bytes[2 * i])? << 4 | nibble(bytes[2 * i + 1])?;
    }
    Some(out)
}

/// Lowercase hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    out
}

/// Which receive ids a [`MsgCrypt`] accepts.
#[derive(Clone, Debug, PartialEq, Eq)]
enum ReceiveIds {
    /// Only these (the first is also used when encrypting).
    Only(Vec<String>),
    /// Any: the explicitly chosen lenient mode.
    Any,
}

/// A ciphertext and its signature, ready to send.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Sealed {
    /// Base64 ciphertext (`Encrypt`).
    pub encrypt: String,
    /// Its signature (`MsgSignature`).
    pub msg_signature: String,
}

/// A decrypted message and the receive id it carried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    /// The message.
    pub message: String,
    /// The receive id (suite id, corp id, …) it was encrypted for.
    pub receive_id: String,
}

/// A posted callback body, verified and decrypted by [`MsgCrypt::open_body`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenedBody {
    /// The body's format: XML or JSON (a reply uses the same).
    pub format: EnvelopeFormat,
    /// The decrypted message and the receive id it carried.
    pub opened: Opened,
}

/// The WXBizMsgCrypt of one callback URL: its token, its EncodingAESKey and
/// the receive ids it accepts. `Debug` shows neither the token nor the key.
#[derive(Clone)]
pub struct MsgCrypt {
    token: String,
    key: [u8; 32],
    /// The expanded key schedule, made once (it is a tenth of a decryption).
    cipher: aes::Aes256,
    receive_id: String,
    accepted: ReceiveIds,
}

impl std::fmt::Debug for MsgCrypt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MsgCrypt")
            .field("receive_id", &self.receive_id)
            .field("accepted", &self.accepted)
            .finish_non_exhaustive()
    }
}

impl MsgCrypt {
    /// A crypt that accepts only messages for `receive_id` and encrypts for it.
    pub fn new(token: &str, encoding_aes_key: &str, receive_id: &str) -> Result<MsgCrypt, CryptoError> {
        let key = decode_aes_key(encoding_aes_key).map_err(CryptoError::IllegalAesKey)?;
        Ok(MsgCrypt {
            token: token.to_owned(),
            cipher: aes::Aes256::new(&key.into()),
            key,
            receive_id: receive_id.to_owned(),
            accepted: ReceiveIds::Only(vec![receive_id.to_owned()]),
        })
    }

    /// Also accepts messages for these receive ids (e.g. a suite id and the
    /// provider's corp id on one command URL).
    #[must_use]
    pub fn allow_receive_ids<I, S>(mut self, ids: I) -> MsgCrypt
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        if let ReceiveIds::Only(list) = &mut self.accepted {
            for id in ids {
                let id = id.into();
                if !list.contains(&id) {
                    list.push(id);
                }
            }
        }
        self
    }

    /// Lenient mode: accepts a message whatever receive id it carries. Only
    /// for receivers whose id cannot be known in advance; the signature and
    /// the decryption are still checked.
    #[must_use]
    pub fn without_receive_id_check(mut self) -> MsgCrypt {
        self.accepted = ReceiveIds::Any;
        self
    }

    /// The same crypt, encrypting for `receive_id` (replies go to whoever
    /// the push came from).
    #[must_use]
    pub fn with_receive_id(mut self, receive_id: &str) -> MsgCrypt {
        receive_id.clone_into(&mut self.receive_id);
        self
    }

    /// The receive id messages are encrypted for.
    pub fn receive_id(&self) -> &str {
        &self.receive_id
    }

    /// `sha1` of the sorted token, timestamp, nonce and ciphertext, in hex.
    pub fn signature(&self, timestamp: &str, nonce: &str, encrypt: &str) -> String {
        hex(&self.digest(timestamp, nonce, encrypt))
    }

    fn digest(&self, timestamp: &str, nonce: &str, encrypt: &str) -> [u8; 20] {
        let mut parts = [self.token.as_str(), timestamp, nonce, encrypt];
        parts.sort_unstable();
        let mut sha = Sha1::new();
        for part in parts {
            sha.update(part.as_bytes());
        }
        sha.finalize().into()
    }

    /// Constant-time check of `msg_signature` (40 hex digits, either case).
    pub fn verify_signature(
        &self,
        msg_signature: &str,
        timestamp: &str,
        nonce: &str,
        encrypt: &str,
    ) -> Result<(), CryptoError> {
        let expected = self.digest(timestamp, nonce, encrypt);
        let given = unhex20(msg_signature);
        let well_formed = subtle::Choice::from(u8::from(given.is_some()));
        if bool::from(expected.ct_eq(&given.unwrap_or([0u8; 20])) & well_formed) {
            Ok(())
        } else {
            Err(CryptoError::ValidateSignature)
        }
    }

    /// Verifies and decrypts `encrypt`, returning the message.
    pub fn decrypt(
        &self,
        msg_signature: &str,
        timestamp: &str,
        nonce: &str,
        encrypt: &str,
    ) -> Result<String, CryptoError> {
        self.open(msg_signature, timestamp, nonce, encrypt).map(|o| o.message)
    }

    /// Verifies and decrypts `encrypt`, returning the message and the receive id.
    pub fn open(
        &self,
        msg_signature: &str,
        timestamp: &str,
        nonce: &str,
        encrypt: &str,
    ) -> Result<Opened, CryptoError> {
        let opened = self.open_any(msg_signature, timestamp, nonce, encrypt)?;
        self.check_receive_id(&opened)?;
        Ok(opened)
    }

    /// Opens a posted callback body (XML or JSON), checking the signature
    /// before reading anything of the body but its ciphertext: the
    /// ciphertext is found by a scan that builds no tree and stops at it (the
    /// first `<Encrypt>` of the root element, or the first top-level
    /// `encrypt` member of a JSON object), then the signature is checked (in
    /// constant time), then the ciphertext is decrypted and its receive id
    /// checked as [`MsgCrypt::open`] does. The rest of the body (which the
    /// signature does not cover) is not read.
    ///
    /// Errors: [`CryptoError::ParseXml`] (−40002) or [`CryptoError::ParseJson`]
    /// (−40012) when no ciphertext is found, [`CryptoError::ValidateSignature`]
    /// (−40001), then those of [`MsgCrypt::open`]. Never panics.
    ///
    /// ```
    /// use wecom_openwork::crypto::{EnvelopeFormat, MsgCrypt};
    ///
    /// let crypt = MsgCrypt::new("QDG6eK", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C", "wx5823bf96d3bd56c7")?;
    /// let sealed = crypt.encrypt("<xml>hi</xml>", "1409659813", "1372623149")?;
    /// let body = format!("<xml><Encrypt><![CDATA[{}]]></Encrypt></xml>", sealed.encrypt);
    /// let opened = crypt.open_body(&sealed.msg_signature, "1409659813", "1372623149", body.as_bytes())?;
    /// assert_eq!((opened.format, opened.opened.message.as_str()), (EnvelopeFormat::Xml, "<xml>hi</xml>"));
    /// # Ok::<(), wecom_openwork::crypto::CryptoError>(())
    /// ```
    pub fn open_body(
        &self,
        msg_signature: &str,
        timestamp: &str,
        nonce: &str,
        body: &[u8],
    ) -> Result<OpenedBody, CryptoError> {
        let opened = self.open_body_any(msg_signature, timestamp, nonce, body)?;
        self.check_receive_id(&opened.opened)?;
        Ok(opened)
    }

    /// [`MsgCrypt::open_body`], leaving the receive id for the caller to
    /// judge (the callback server checks it against stored authorizations).
    pub(crate) fn open_body_any(
        &self,
        msg_signature: &str,
        timestamp: &str,
        nonce: &str,
        body: &[u8],
    ) -> Result<OpenedBody, CryptoError> {
        let (format, encrypt) = envelope::find_encrypt(body)?;
        let opened = self.open_any(msg_signature, timestamp, nonce, &encrypt)?;
        Ok(OpenedBody { format, opened })
    }

    /// Whether this crypt accepts the receive id `opened` carries.
    fn check_receive_id(&self, opened: &Opened) -> Result<(), CryptoError> {
        match &self.accepted {
            ReceiveIds::Any => Ok(()),
            ReceiveIds::Only(list) if list.contains(&opened.receive_id) => Ok(()),
            ReceiveIds::Only(_) => Err(CryptoError::ValidateReceiveId { got: opened.receive_id.clone() }),
        }
    }

    /// Verifies and decrypts, leaving the receive id for the caller to judge
    /// (the callback server checks it against stored authorizations).
    pub(crate) fn open_any(
        &self,
        msg_signature: &str,
        timestamp: &str,
        nonce: &str,
        encrypt: &str,
    ) -> Result<Opened, CryptoError> {
        self.verify_signature(msg_signature, timestamp, nonce, encrypt)?;
        let mut buf = base64_simd::STANDARD
            .decode_to_vec(encrypt.trim().as_bytes())
            .map_err(|_| CryptoError::DecodeBase64)?;
        if buf.is_empty() || buf.len() % 16 != 0 {
            return Err(CryptoError::DecryptAes("the ciphertext is not whole AES blocks"));
        }
        let cipher = Aes256CbcDec::inner_iv_init(self.cipher.clone(), self.key[..16].into());
        let plain = cipher
            .decrypt_padded_mut::<NoPadding>(&mut buf)
            .map_err(|_| CryptoError::DecryptAes("the ciphertext is not whole AES blocks"))?;
        let pad = usize::from(*plain.last().ok_or(CryptoError::DecryptAes("empty plaintext"))?);
        if pad == 0 || pad > PAD_BLOCK || pad > plain.len() {
            return Err(CryptoError::DecryptAes("bad padding"));
        }
        let (content, padding) = plain.split_at(plain.len() - pad);
        if padding.iter().any(|&b| usize::from(b) != pad) {
            return Err(CryptoError::DecryptAes("bad padding"));
        }
        if content.len() < RANDOM_LEN + 4 {
            return Err(CryptoError::IllegalBuffer("shorter than its header"));
        }
        let len_bytes: [u8; 4] = content[RANDOM_LEN..RANDOM_LEN + 4]
            .try_into()
            .map_err(|_| CryptoError::IllegalBuffer("no length"))?;
        let msg_len = u32::from_be_bytes(len_bytes) as usize;
        let rest = &content[RANDOM_LEN + 4..];
        if msg_len > rest.len() {
            return Err(CryptoError::IllegalBuffer("the length field runs past the buffer"));
        }
        let receive_id = std::str::from_utf8(&rest[msg_len..])
            .map_err(|_| CryptoError::IllegalBuffer("the receive id is not UTF-8"))?
            .to_owned();
        // The message stays in the decoded buffer: no second allocation.
        let start = RANDOM_LEN + 4;
        buf.truncate(start + msg_len);
        buf.drain(..start);
        let message =
            String::from_utf8(buf).map_err(|_| CryptoError::IllegalBuffer("the message is not UTF-8"))?;
        Ok(Opened { message, receive_id })
    }

    /// The GET URL check: verifies and decrypts `echostr`, whose plaintext is
    /// the response body.
    pub fn verify_url(
        &self,
        msg_signature: &str,
        timestamp: &str,
        nonce: &str,
        echostr: &str,
    ) -> Result<String, CryptoError> {
        self.decrypt(msg_signature, timestamp, nonce, echostr)
    }

    /// Encrypts `message` for this crypt's receive id, with a random prefix
    /// drawn from the operating system's CSPRNG.
    pub fn encrypt(&self, message: &str, timestamp: &str, nonce: &str) -> Result<Sealed, CryptoError> {
        let mut random = [0u8; RANDOM_LEN];
        getrandom::fill(&mut random).map_err(|e| CryptoError::EncryptAes(e.to_string()))?;
        self.encrypt_with_random(message, &random, timestamp, nonce)
    }

    /// Encrypts with a given random prefix: deterministic, for tests and
    /// reproducible vectors.
    pub fn encrypt_with_random(
        &self,
        message: &str,
        random: &[u8; RANDOM_LEN],
        timestamp: &str,
        nonce: &str,
    ) -> Result<Sealed, CryptoError> {
        let msg_len = u32::try_from(message.len())
            .map_err(|_| CryptoError::EncryptAes("the message is longer than 4 GiB".into()))?;
        let body_len = RANDOM_LEN + 4 + message.len() + self.receive_id.len();
        let pad = PAD_BLOCK - body_len % PAD_BLOCK;
        let mut buf = Vec::with_capacity(body_len + pad);
        buf.extend_from_slice(random);
        buf.extend_from_slice(&msg_len.to_be_bytes());
        buf.extend_from_slice(message.as_bytes());
        buf.extend_from_slice(self.receive_id.as_bytes());
        buf.resize(body_len + pad, pad as u8);
        let len = buf.len();
        let cipher = Aes256CbcEnc::inner_iv_init(self.cipher.clone(), self.key[..16].into());
        let sealed = cipher
            .encrypt_padded_mut::<NoPadding>(&mut buf, len)
            .map_err(|_| CryptoError::EncryptAes("the buffer is not whole blocks".into()))?;
        let encrypt = base64_simd::STANDARD.encode_to_string(sealed);
        let msg_signature = self.signature(timestamp, nonce, &encrypt);
        Ok(Sealed { encrypt, msg_signature })
    }
}
