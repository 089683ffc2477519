//! 100,000 random mutations of valid callback bodies — flipped bits,
//! truncations, huge length fields, bad padding, broken XML and JSON, wrong
//! receive ids — never panic and always end in a typed error (or, for the
//! rare harmless mutation, a correct result).

use aes::cipher::{block_padding::NoPadding, BlockEncryptMut, KeyIvInit};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use wecom_openwork::crypto::{parse_envelope, CryptoError, EnvelopeFormat, MsgCrypt};
use wecom_openwork::events::Event;

const TOKEN: &str = "QDG6eK";
const KEY: &str = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C";
const RECEIVER: &str = "wx5823bf96d3bd56c7";
const MESSAGE: &str = "<xml><SuiteId><![CDATA[wx5823bf96d3bd56c7]]></SuiteId><InfoType><![CDATA[suite_ticket]]></InfoType><TimeStamp>1403610513</TimeStamp><SuiteTicket><![CDATA[asdfasfdasdfasdf]]></SuiteTicket></xml>";

fn aes_key() -> [u8; 32] {
    let mut key = [0u8; 32];
    let decoded = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
    )
    .decode(format!("{KEY}="))
    .expect("key");
    key.copy_from_slice(&decoded);
    key
}

/// Encrypts raw plaintext bytes exactly as given (no framing, no padding
/// added), so tests can craft what a careful sender never would.
fn seal_raw(plain: &[u8]) -> String {
    let key = aes_key();
    let mut buf = plain.to_vec();
    let len = buf.len();
    let enc = cbc::Encryptor::<aes::Aes256>::new((&key).into(), key[..16].into());
    let out = enc.encrypt_padded_mut::<NoPadding>(&mut buf, len).expect("whole blocks");
    STANDARD.encode(out)
}

/// A plaintext buffer: random, length field, message, receive id, padding.
fn frame(length_field: u32, message: &[u8], receive_id: &[u8], pad_byte: Option<u8>) -> Vec<u8> {
    let mut buf = b"0123456789abcdef".to_vec();
    buf.extend_from_slice(&length_field.to_be_bytes());
    buf.extend_from_slice(message);
    buf.extend_from_slice(receive_id);
    let pad = 32 - buf.len() % 32;
    buf.resize(buf.len() + pad, pad_byte.unwrap_or(pad as u8));
    buf
}

fn is_decrypt_kind(e: &CryptoError) -> bool {
    matches!(e, CryptoError::DecryptAes(_) | CryptoError::IllegalBuffer(_) | CryptoError::DecodeBase64)
}

#[test]
fn crafted_buffers_fail_with_the_right_error() {
    let crypt = MsgCrypt::new(TOKEN, KEY, RECEIVER).expect("key");
    let open = |encrypt: &str| crypt.decrypt(&crypt.signature("1", "2", encrypt), "1", "2", encrypt);
    // A length field far past the buffer.
    for length in [u32::MAX, 1 << 31, 10_000, MESSAGE.len() as u32 + RECEIVER.len() as u32 + 1] {
        let err = open(&seal_raw(&frame(length, MESSAGE.as_bytes(), RECEIVER.as_bytes(), None))).unwrap_err();
        assert!(matches!(err, CryptoError::IllegalBuffer(_)), "{length}: {err:?}");
    }
    // Padding bytes that disagree, a zero pad, a pad over 32.
    let mut bad = frame(5, b"hello", RECEIVER.as_bytes(), None);
    let n = bad.len();
    bad[n - 2] ^= 1;
    assert!(matches!(open(&seal_raw(&bad)).unwrap_err(), CryptoError::DecryptAes(_)));
    for pad in [0u8, 33, 200] {
        let err = open(&seal_raw(&frame(5, b"hello", RECEIVER.as_bytes(), Some(pad)))).unwrap_err();
        assert!(matches!(err, CryptoError::DecryptAes(_)), "pad {pad}: {err:?}");
    }
    // Shorter than the header; not whole blocks; not UTF-8.
    assert!(matches!(open(&seal_raw(&[16u8; 16])).unwrap_err(), CryptoError::IllegalBuffer(_)));
    assert!(is_decrypt_kind(&open(&STANDARD.encode([0u8; 40])).unwrap_err()));
    let err = open(&seal_raw(&frame(2, &[0xff, 0xfe], RECEIVER.as_bytes(), None))).unwrap_err();
    assert!(matches!(err, CryptoError::IllegalBuffer(_)), "{err:?}");
    // The wrong receive id.
    let err = open(&seal_raw(&frame(5, b"hello", b"wwsomeoneelse", None))).unwrap_err();
    assert_eq!(err, CryptoError::ValidateReceiveId { got: "wwsomeoneelse".into() });
}

/// A tiny deterministic generator, so a failure can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    let mut out = input.to_vec();
    match rng.below(7) {
        0 => {
            for _ in 0..=rng.below(4) {
                let i = rng.below(out.len());
                if let Some(b) = out.get_mut(i) {
                    *b ^= 1 << rng.below(8);
                }
            }
        }
        1 => out.truncate(rng.below(out.len())),
        2 => {
            let i = rng.below(out.len() + 1);
            let junk: Vec<u8> = (0..rng.below(64)).map(|_| rng.next() as u8).collect();
            out.splice(i..i, junk);
        }
        3 => {
            let i = rng.below(out.len());
            let j = (i + rng.below(32)).min(out.len());
            out.drain(i..j);
        }
        4 => out = b"<xml><Encrypt><![CDATA[".iter().chain(out.iter()).copied().collect(),
        5 => out.extend_from_slice(b"</xml></xml><"),
        _ => out.reverse(),
    }
    out
}

#[test]
fn a_hundred_thousand_mutations_never_panic() {
    let crypt = MsgCrypt::new(TOKEN, KEY, RECEIVER).expect("key");
    let other = MsgCrypt::new(TOKEN, KEY, "wwother").expect("key");
    let sealed = crypt.encrypt(MESSAGE, "1409659813", "1372623149").expect("encrypt");
    let xml_body = format!("<xml><ToUserName><![CDATA[{RECEIVER}]]></ToUserName><Encrypt><![CDATA[{}]]></Encrypt><AgentID><![CDATA[]]></AgentID></xml>", sealed.encrypt);
    let json_body = format!(r#"{{"tousername":"{RECEIVER}","encrypt":"{}","agentid":""}}"#, sealed.encrypt);
    let foreign = other.encrypt(MESSAGE, "1409659813", "1372623149").expect("encrypt");
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut errors = 0usize;
    for round in 0..100_000 {
        let body = if round % 2 == 0 { xml_body.as_bytes() } else { json_body.as_bytes() };
        let mutated = mutate(&mut rng, body);
        // 1. The envelope parser: a typed error or an envelope, never a panic.
        let encrypt = match parse_envelope(&mutated) {
            Ok(envelope) => envelope.encrypt,
            Err(e) => {
                assert!(matches!(e, CryptoError::ParseXml(_) | CryptoError::ParseJson(_)), "{e:?}");
                errors += 1;
                continue;
            }
        };
        // 2. Decryption with the original signature: any change to the
        // ciphertext is caught; an unchanged one decrypts to the message.
        match crypt.decrypt(&sealed.msg_signature, "1409659813", "1372623149", &encrypt) {
            Ok(message) => assert_eq!(message, MESSAGE),
            Err(e) => {
                assert!(e == CryptoError::ValidateSignature || is_decrypt_kind(&e), "{e:?}");
                errors += 1;
            }
        }
        // 3. Re-signed mutated ciphertext goes past the signature into the
        // strict decryption.
        let mangled = String::from_utf8_lossy(&mutate(&mut rng, sealed.encrypt.as_bytes())).into_owned();
        let signature = crypt.signature("1", "2", &mangled);
        if let Err(e) = crypt.decrypt(&signature, "1", "2", &mangled) {
            assert!(is_decrypt_kind(&e) || matches!(e, CryptoError::ValidateReceiveId { .. }), "{e:?}");
        }
        // 4. Decoding a mutated plaintext into an event never fails or panics.
        let text = String::from_utf8_lossy(&mutate(&mut rng, MESSAGE.as_bytes())).into_owned();
        let _ = Event::parse(&text);
    }
    assert!(errors > 50_000, "most mutations must be refused ({errors})");
    // A message for another receiver is refused by id.
    let err =
        crypt.decrypt(&foreign.msg_signature, "1409659813", "1372623149", &foreign.encrypt).unwrap_err();
    assert!(matches!(err, CryptoError::ValidateReceiveId { .. }));
}

/// Random bytes, biased towards the pieces the body scan looks for.
fn arbitrary_body(rng: &mut Rng) -> Vec<u8> {
    const PIECES: &[&[u8]] = &[
        b"<",
        b">",
        b"/",
        b"</",
        b"/>",
        b"<!--",
        b"-->",
        b"<![CDATA[",
        b"]]>",
        b"<?",
        b"?>",
        b"<!",
        b"\"",
        b"'",
        b"=",
        b"&",
        b"&amp;",
        b";",
        b"Encrypt",
        b"encrypt",
        b"<Encrypt>",
        b"</Encrypt>",
        b"<xml>",
        b"</xml>",
        b"{",
        b"}",
        b"[",
        b"]",
        b":",
        b",",
        b"\\",
        b"\\u00",
        b"\"encrypt\":\"",
        b" ",
        b"\n",
        b"\xef\xbb\xbf",
        b"\xff",
        b"\xc3",
        b"QUJD",
        b"=",
    ];
    let mut out = Vec::new();
    if rng.below(2) == 0 {
        out.push(if rng.below(2) == 0 { b'{' } else { b'<' });
    }
    for _ in 0..rng.below(48) {
        if rng.below(3) == 0 {
            out.push(rng.next() as u8);
        } else {
            out.extend_from_slice(PIECES[rng.below(PIECES.len())]);
        }
    }
    out
}

#[test]
fn open_body_takes_any_body_without_panicking() {
    let crypt = MsgCrypt::new(TOKEN, KEY, RECEIVER).expect("key");
    let lenient = MsgCrypt::new(TOKEN, KEY, "wwother").expect("key").without_receive_id_check();
    let (timestamp, nonce) = ("1409659813", "1372623149");
    let sealed = crypt.encrypt(MESSAGE, timestamp, nonce).expect("encrypt");
    let xml_body = format!("<xml><ToUserName><![CDATA[{RECEIVER}]]></ToUserName><Encrypt><![CDATA[{}]]></Encrypt><AgentID><![CDATA[]]></AgentID></xml>", sealed.encrypt);
    let json_body = format!(r#"{{"tousername":"{RECEIVER}","encrypt":"{}","agentid":""}}"#, sealed.encrypt);
    for (body, format) in [(&xml_body, EnvelopeFormat::Xml), (&json_body, EnvelopeFormat::Json)] {
        let opened =
            crypt.open_body(&sealed.msg_signature, timestamp, nonce, body.as_bytes()).expect("opens");
        assert_eq!((opened.format, opened.opened.message.as_str()), (format, MESSAGE));
    }
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut refused = 0usize;
    for round in 0..100_000 {
        let body = match round % 3 {
            0 => mutate(&mut rng, xml_body.as_bytes()),
            1 => mutate(&mut rng, json_body.as_bytes()),
            _ => arbitrary_body(&mut rng),
        };
        for c in [&crypt, &lenient] {
            match c.open_body(&sealed.msg_signature, timestamp, nonce, &body) {
                // Only the signed ciphertext opens, and only to the message.
                Ok(opened) => assert_eq!(opened.opened.message, MESSAGE),
                Err(e) => {
                    assert!(
                        matches!(e, CryptoError::ParseXml(_) | CryptoError::ParseJson(_))
                            || e == CryptoError::ValidateSignature
                            || is_decrypt_kind(&e),
                        "{e:?}"
                    );
                    refused += 1;
                }
            }
        }
        // Re-signed, whatever it is: when the scan finds the ciphertext the
        // parser reads, it opens as that ciphertext does.
        if let Ok(envelope) = parse_envelope(&body) {
            let signature = crypt.signature(timestamp, nonce, &envelope.encrypt);
            match crypt.open_body(&signature, timestamp, nonce, &body) {
                Err(CryptoError::ValidateSignature) => {} // it found another one
                other => assert_eq!(
                    other.map(|o| o.opened),
                    crypt.open(&signature, timestamp, nonce, &envelope.encrypt)
                ),
            }
        }
    }
    assert!(refused > 100_000, "most bodies must be refused ({refused})");
}
