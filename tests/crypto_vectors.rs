//! WXBizMsgCrypt against the official samples and the vectors made with the
//! official `@wecom/crypto` package (`tests/vectors`, see its README).

use std::path::PathBuf;

use serde_json::Value;
use wecom_openwork::crypto::{jsapi_signature, CryptoError, MsgCrypt};

fn vectors(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("JSON")
}

fn s<'a>(case: &'a Value, key: &str) -> &'a str {
    case[key].as_str().unwrap_or_else(|| panic!("{key} missing in {case}"))
}

fn crypt(case: &Value) -> MsgCrypt {
    MsgCrypt::new(s(case, "token"), s(case, "encoding_aes_key"), s(case, "receive_id")).expect("valid key")
}

fn random_of(case: &Value) -> [u8; 16] {
    let hex = s(case, "random_hex");
    let mut out = [0u8; 16];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).expect("hex");
    }
    out
}

#[test]
fn official_samples_verify_and_decrypt() {
    let official = vectors("official.json");
    let cases = official["cases"].as_array().expect("cases");
    assert!(cases.len() >= 4);
    for case in cases {
        let name = s(case, "name");
        let crypt = crypt(case);
        let (sig, ts, nonce, enc) =
            (s(case, "msg_signature"), s(case, "timestamp"), s(case, "nonce"), s(case, "encrypt"));
        let message = if name.contains("verify-url") {
            crypt.verify_url(sig, ts, nonce, enc)
        } else {
            crypt.decrypt(sig, ts, nonce, enc)
        };
        assert_eq!(message.as_deref(), Ok(s(case, "message")), "{name}");
    }
    for case in official["jsapi"].as_array().into_iter().flatten() {
        let signature =
            jsapi_signature(s(case, "ticket"), s(case, "noncestr"), s(case, "timestamp"), s(case, "url"));
        assert_eq!(signature, s(case, "signature"));
    }
}

#[test]
fn positive_vectors_decrypt_and_encrypt_reproduces_them() {
    let all = vectors("wxbizmsgcrypt.json");
    let cases = all["positive"].as_array().expect("positive");
    assert!(cases.len() >= 20);
    for case in cases {
        let name = s(case, "name");
        let crypt = crypt(case);
        let (sig, ts, nonce, enc) =
            (s(case, "msg_signature"), s(case, "timestamp"), s(case, "nonce"), s(case, "encrypt"));
        let opened = crypt.open(sig, ts, nonce, enc).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(opened.message, s(case, "message"), "{name}");
        assert_eq!(opened.receive_id, s(case, "receive_id"), "{name}");
        let sealed =
            crypt.encrypt_with_random(s(case, "message"), &random_of(case), ts, nonce).expect("encrypts");
        assert_eq!(sealed.encrypt, enc, "{name}: ciphertext");
        assert_eq!(sealed.msg_signature, sig, "{name}: signature");
    }
}

#[test]
fn negative_vectors_fail_with_the_expected_kind() {
    let all = vectors("wxbizmsgcrypt.json");
    let cases = all["negative"].as_array().expect("negative");
    assert!(cases.len() >= 20);
    for case in cases {
        let name = s(case, "name");
        let crypt = crypt(case);
        let result = crypt.decrypt(
            s(case, "msg_signature"),
            s(case, "timestamp"),
            s(case, "nonce"),
            s(case, "encrypt"),
        );
        let err = result.expect_err(name);
        let decrypt_kind = matches!(
            err,
            CryptoError::DecryptAes(_) | CryptoError::IllegalBuffer(_) | CryptoError::DecodeBase64
        );
        let ok = match s(case, "expect") {
            "signature" => err == CryptoError::ValidateSignature,
            "receive_id" => matches!(err, CryptoError::ValidateReceiveId { .. }),
            "decrypt" => decrypt_kind,
            "decrypt_or_receive_id" => decrypt_kind || matches!(err, CryptoError::ValidateReceiveId { .. }),
            other => panic!("{name}: unknown expectation {other}"),
        };
        assert!(ok, "{name}: expected {}, got {err:?} ({})", s(case, "expect"), err.code());
    }
}

#[test]
fn jsapi_vectors_match() {
    let all = vectors("wxbizmsgcrypt.json");
    let cases = all["jsapi"].as_array().expect("jsapi");
    assert!(cases.len() >= 20);
    for case in cases {
        let signature =
            jsapi_signature(s(case, "ticket"), s(case, "noncestr"), s(case, "timestamp"), s(case, "url"));
        assert_eq!(signature, s(case, "signature"), "{}", s(case, "name"));
    }
}

#[test]
fn error_codes_are_the_official_ones() {
    let crypt =
        MsgCrypt::new("t", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C", "wx5823bf96d3bd56c7").expect("key");
    assert_eq!(crypt.decrypt("bad", "1", "2", "AAAA").unwrap_err().code(), -40001);
    let sig = crypt.signature("1", "2", "not base64!");
    assert_eq!(crypt.decrypt(&sig, "1", "2", "not base64!").unwrap_err().code(), -40010);
    let sig = crypt.signature("1", "2", "AAAA");
    assert_eq!(crypt.decrypt(&sig, "1", "2", "AAAA").unwrap_err().code(), -40007);
    assert_eq!(MsgCrypt::new("t", "short", "r").unwrap_err().code(), -40004);
    let other = MsgCrypt::new("t", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C", "wwother").expect("key");
    let sealed = other.encrypt("hello", "1", "2").expect("encrypts");
    assert_eq!(crypt.decrypt(&sealed.msg_signature, "1", "2", &sealed.encrypt).unwrap_err().code(), -40005);
    let lenient = crypt.clone().without_receive_id_check();
    assert_eq!(lenient.decrypt(&sealed.msg_signature, "1", "2", &sealed.encrypt).as_deref(), Ok("hello"));
    let both = crypt.allow_receive_ids(["wwother"]);
    assert_eq!(both.decrypt(&sealed.msg_signature, "1", "2", &sealed.encrypt).as_deref(), Ok("hello"));
}
