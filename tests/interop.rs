//! Interop of our WXBizMsgCrypt (through the `wecom-openwork crypto` CLI)
//! with two independent implementations, in both directions:
//!
//! - the official npm package `@wecom/crypto` (tests/interop/wecom_crypto.js),
//! - PyPI's `wechatpy` (tests/interop/wechatpy_crypto.py).
//!
//! Both must be installed first: `bash tests/interop/setup.sh` (idempotent).
//! A missing peer fails the tests with that instruction; nothing is skipped.
//!
//! The messages are random but reproducible: each test prints its seed, and
//! `INTEROP_SEED=<n>` replays it.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use serde_json::Value;

#[path = "interop/cases.rs"]
mod cases;

use cases::{cases, Case, Rng, ALNUM};

const WECOM_CRYPTO_VERSION: &str = "1.0.1";

// ---------------------------------------------------------------------------
// The peers and our CLI.

fn interop_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/interop")
}

const SETUP: &str = "run `bash tests/interop/setup.sh` first (it installs @wecom/crypto and wechatpy)";

/// Checks once that both peers are installed, and fails with the way to
/// install them otherwise.
fn require_peers() {
    static READY: OnceLock<Result<(), String>> = OnceLock::new();
    let ready = READY.get_or_init(|| {
        let mut missing = Vec::new();
        let pkg = interop_dir().join("node_modules/@wecom/crypto/package.json");
        match std::fs::read_to_string(&pkg) {
            Ok(text) => {
                let version = serde_json::from_str::<Value>(&text)
                    .ok()
                    .and_then(|v| v["version"].as_str().map(str::to_owned));
                if version.as_deref() != Some(WECOM_CRYPTO_VERSION) {
                    missing.push(format!("@wecom/crypto {WECOM_CRYPTO_VERSION} (found {version:?})"));
                }
            }
            Err(e) => missing.push(format!("@wecom/crypto ({}: {e})", pkg.display())),
        }
        match Command::new("node").arg("--version").output() {
            Ok(out) if out.status.success() => {}
            other => missing.push(format!("node ({other:?})")),
        }
        match Command::new("python3")
            .args(["-c", "import wechatpy.enterprise.crypto, cryptography.hazmat.primitives.ciphers"])
            .output()
        {
            Ok(out) if out.status.success() => {}
            Ok(out) => missing.push(format!("wechatpy ({})", String::from_utf8_lossy(&out.stderr).trim())),
            Err(e) => missing.push(format!("python3 ({e})")),
        }
        if missing.is_empty() {
            Ok(())
        } else {
            Err(format!("interop peers missing: {}; {SETUP}", missing.join(", ")))
        }
    });
    if let Err(message) = ready {
        panic!("{message}");
    }
}

#[derive(Clone, Copy, Debug)]
enum Peer {
    WecomCrypto,
    Wechatpy,
}

impl Peer {
    fn command(self) -> Command {
        match self {
            Peer::WecomCrypto => {
                let mut c = Command::new("node");
                c.arg(interop_dir().join("wecom_crypto.js"));
                c
            }
            Peer::Wechatpy => {
                let mut c = Command::new("python3");
                c.arg(interop_dir().join("wechatpy_crypto.py")).env("PYTHONUTF8", "1");
                c
            }
        }
    }

    /// One subcommand in its own process.
    fn run(self, args: &[&str]) -> Output {
        let mut cmd = self.command();
        cmd.args(args);
        cmd.output().unwrap_or_else(|e| panic!("{self:?} did not start ({e}); {SETUP}"))
    }

    /// Many `encrypt`/`decrypt` requests in one process (`batch`), which
    /// spares a Python or Node start-up per message: one answer per request,
    /// in order, each the subcommand's JSON or `{"error": "<code> <text>"}`.
    fn batch(self, requests: &[Vec<&str>]) -> Vec<Value> {
        let mut child = self
            .command()
            .arg("batch")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{self:?} did not start ({e}); {SETUP}"));
        let input: String = requests.iter().map(|r| serde_json::to_string(r).expect("JSON") + "\n").collect();
        let mut stdin = child.stdin.take().expect("piped");
        // Written from another thread: the peer answers while it reads.
        let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
        let out = child.wait_with_output().expect("peer ran");
        writer
            .join()
            .expect("writer")
            .unwrap_or_else(|e| panic!("{self:?} batch input: {e}: {}", show(&out)));
        assert!(out.status.success(), "{self:?} batch failed: {}", show(&out));
        let answers: Vec<Value> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{self:?} batch answer {l:?}: {e}")))
            .collect();
        assert_eq!(answers.len(), requests.len(), "{self:?} batch answers: {}", show(&out));
        answers
    }

    /// Verifies the signature and decrypts, in its own process;
    /// `(message, receive_id)` or the failed run.
    fn decrypt(self, case: &Case, msg_signature: &str, encrypt: &str) -> Result<(String, String), Output> {
        let out = self.run(&decrypt_request(case, msg_signature, encrypt));
        if !out.status.success() {
            return Err(out);
        }
        let v: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{self:?} decrypt printed no JSON ({e}): {}", show(&out)));
        let pair =
            opened(&format!("{self:?} decrypt"), &v).unwrap_or_else(|e| panic!("{self:?}: {e} but exit 0"));
        Ok(pair)
    }
}

/// A peer's `encrypt` (with the peer's own random prefix unless `random_hex`).
fn encrypt_request<'a>(case: &'a Case, random_hex: Option<&'a str>) -> Vec<&'a str> {
    let mut args = vec![
        "encrypt",
        &case.token,
        &case.aes_key,
        &case.receive_id,
        &case.timestamp,
        &case.nonce,
        &case.message,
    ];
    args.extend(random_hex);
    args
}

/// A peer's `decrypt`. The peer is not told the receive id: it reports the
/// one it found.
fn decrypt_request<'a>(case: &'a Case, msg_signature: &'a str, encrypt: &'a str) -> Vec<&'a str> {
    vec!["decrypt", &case.token, &case.aes_key, msg_signature, &case.timestamp, &case.nonce, encrypt]
}

fn show(out: &Output) -> String {
    format!(
        "status {}, stdout {:?}, stderr {:?}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// `{"encrypt", "msg_signature"}` → the pair.
fn sealed(what: &str, v: &Value) -> (String, String) {
    let field = |k: &str| v[k].as_str().unwrap_or_else(|| panic!("{what}: {k} missing in {v}")).to_owned();
    let (encrypt, signature) = (field("encrypt"), field("msg_signature"));
    assert_eq!(signature.len(), 40, "{what}: {v}");
    (encrypt, signature)
}

/// `{"message", "receive_id"}` → the pair; `{"error"}` → the error.
fn opened(what: &str, v: &Value) -> Result<(String, String), String> {
    if let Some(error) = v.get("error") {
        return Err(error.as_str().unwrap_or_default().to_owned());
    }
    let field = |k: &str| v[k].as_str().unwrap_or_else(|| panic!("{what}: {k} missing in {v}")).to_owned();
    Ok((field("message"), field("receive_id")))
}

fn ours() -> Command {
    Command::new(env!("CARGO_BIN_EXE_wecom-openwork"))
}

/// `--name=value`, so that values starting with `-` stay values.
fn opt(name: &str, value: &str) -> String {
    format!("--{name}={value}")
}

fn ours_encrypt(case: &Case, random_hex: Option<&str>) -> (String, String) {
    let mut cmd = ours();
    cmd.args(["crypto", "encrypt"]).args([
        opt("token", &case.token),
        opt("aes-key", &case.aes_key),
        opt("receive-id", &case.receive_id),
        opt("timestamp", &case.timestamp),
        opt("nonce", &case.nonce),
        opt("message", &case.message),
    ]);
    if let Some(hex) = random_hex {
        cmd.arg(opt("random-hex", hex));
    }
    let out = cmd.output().expect("wecom-openwork runs");
    let what = "wecom-openwork crypto encrypt";
    assert!(out.status.success(), "{what} failed: {}", show(&out));
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{what} printed no JSON ({e}): {}", show(&out)));
    sealed(what, &v)
}

fn ours_decrypt(case: &Case, msg_signature: &str, encrypt: &str) -> Output {
    ours()
        .args(["crypto", "decrypt"])
        .args([
            opt("token", &case.token),
            opt("aes-key", &case.aes_key),
            opt("receive-id", &case.receive_id),
            opt("msg-signature", msg_signature),
            opt("timestamp", &case.timestamp),
            opt("nonce", &case.nonce),
            opt("encrypt", encrypt),
        ])
        .output()
        .expect("wecom-openwork runs")
}

fn label(i: usize, case: &Case, seed: u64) -> String {
    format!(
        "case {i} ({}, {} message bytes, receive id {:?}, INTEROP_SEED={seed})",
        case.kind,
        case.message.len(),
        case.receive_id
    )
}

// ---------------------------------------------------------------------------
// The directions.

/// Our CLI encrypts; the peer verifies the signature and decrypts to the same
/// message and receive id. Every other case uses a fixed random prefix, and
/// then the peer, given the same prefix, must produce the very same
/// ciphertext and signature.
fn ours_to_peer(peer: Peer, test: &str) {
    require_peers();
    let (cases, seed) = cases(test);
    let mut rng = Rng(seed | 1);
    let randoms: Vec<Option<String>> = (0..cases.len()).map(|i| (i % 2 == 1).then(|| rng.hex(16))).collect();
    let ours: Vec<(String, String)> =
        cases.iter().zip(&randoms).map(|(case, random)| ours_encrypt(case, random.as_deref())).collect();
    let mut requests = Vec::new();
    for ((case, (encrypt, signature)), random) in cases.iter().zip(&ours).zip(&randoms) {
        requests.push(decrypt_request(case, signature, encrypt));
        if let Some(hex) = random {
            requests.push(encrypt_request(case, Some(hex)));
        }
    }
    let mut answers = peer.batch(&requests).into_iter();
    for (i, ((case, (encrypt, signature)), random)) in cases.iter().zip(&ours).zip(&randoms).enumerate() {
        let at = label(i, case, seed);
        let answer = answers.next().expect("one answer per request");
        let (message, receive_id) = opened(&format!("{peer:?} decrypt"), &answer)
            .unwrap_or_else(|e| panic!("{peer:?} rejects our {at}: {e}"));
        assert_eq!(message, case.message, "{peer:?} decrypted another message from our {at}");
        assert_eq!(receive_id, case.receive_id, "{peer:?} found another receive id in our {at}");
        if let Some(hex) = random {
            let theirs =
                sealed(&format!("{peer:?} encrypt"), &answers.next().expect("one answer per request"));
            assert_eq!(
                theirs,
                (encrypt.clone(), signature.clone()),
                "{peer:?} and we seal {at} differently with random {hex}"
            );
        }
    }
}

/// The peer encrypts (with its own random prefix); our CLI verifies, decrypts
/// and prints exactly the message and a newline.
fn peer_to_ours(peer: Peer, test: &str) {
    require_peers();
    let (cases, seed) = cases(test);
    let requests: Vec<Vec<&str>> = cases.iter().map(|case| encrypt_request(case, None)).collect();
    let answers = peer.batch(&requests);
    for (i, (case, answer)) in cases.iter().zip(&answers).enumerate() {
        let at = label(i, case, seed);
        let (encrypt, signature) = sealed(&format!("{peer:?} encrypt of {at}"), answer);
        let out = ours_decrypt(case, &signature, &encrypt);
        assert!(out.status.success(), "we reject {peer:?}'s {at}: {}", show(&out));
        let printed = String::from_utf8(out.stdout).expect("UTF-8");
        assert_eq!(
            printed,
            format!("{}\n", case.message),
            "we decrypted another message from {peer:?}'s {at}"
        );
    }
}

#[test]
fn ours_to_wecom_crypto() {
    ours_to_peer(Peer::WecomCrypto, "ours_to_wecom_crypto");
}

#[test]
fn wecom_crypto_to_ours() {
    peer_to_ours(Peer::WecomCrypto, "wecom_crypto_to_ours");
}

#[test]
fn ours_to_wechatpy() {
    ours_to_peer(Peer::Wechatpy, "ours_to_wechatpy");
}

#[test]
fn wechatpy_to_ours() {
    peer_to_ours(Peer::Wechatpy, "wechatpy_to_ours");
}

// ---------------------------------------------------------------------------
// Negatives.

/// The peer encrypts `case` in its own process.
fn peer_encrypt(peer: Peer, case: &Case) -> (String, String) {
    let out = peer.run(&encrypt_request(case, None));
    assert!(out.status.success(), "{peer:?} encrypt failed: {}", show(&out));
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{peer:?} encrypt printed no JSON ({e}): {}", show(&out)));
    sealed(&format!("{peer:?} encrypt"), &v)
}

/// Flips one hex digit of a signature.
fn tamper(signature: &str, rng: &mut Rng) -> String {
    let mut chars: Vec<char> = signature.chars().collect();
    let at = rng.range(0, chars.len() - 1);
    chars[at] = if chars[at] == '0' { '1' } else { '0' };
    chars.into_iter().collect()
}

fn assert_rejected(out: &Output, code: &str, what: &str) {
    assert!(!out.status.success(), "{what} was accepted: {}", show(out));
    assert!(out.stdout.is_empty(), "{what} printed a message: {}", show(out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(code), "{what}: stderr does not name {code}: {}", show(out));
}

#[test]
fn tampered_signature_from_wecom_crypto_is_40001() {
    require_peers();
    let (cases, seed) = cases("tampered_signature_from_wecom_crypto_is_40001");
    let mut rng = Rng(seed | 1);
    for (i, case) in cases.iter().enumerate().step_by(5) {
        let at = label(i, case, seed);
        let (encrypt, signature) = peer_encrypt(Peer::WecomCrypto, case);
        let bad = tamper(&signature, &mut rng);
        assert_rejected(
            &ours_decrypt(case, &bad, &encrypt),
            "-40001",
            &format!("tampered signature on {at}"),
        );
        // Signed for another timestamp: also -40001.
        let mut other = case.clone();
        other.timestamp = format!("{}", case.timestamp.parse::<u64>().expect("digits") + 1);
        assert_rejected(
            &ours_decrypt(&other, &signature, &encrypt),
            "-40001",
            &format!("moved timestamp on {at}"),
        );
    }
}

#[test]
fn message_for_another_receive_id_from_wecom_crypto_is_40005() {
    require_peers();
    let (cases, seed) = cases("message_for_another_receive_id_from_wecom_crypto_is_40005");
    for (i, case) in cases.iter().enumerate().step_by(7) {
        let at = label(i, case, seed);
        let (encrypt, signature) = peer_encrypt(Peer::WecomCrypto, case);
        let mut ours_for = case.clone();
        ours_for.receive_id = format!("{}x", case.receive_id);
        assert_rejected(
            &ours_decrypt(&ours_for, &signature, &encrypt),
            "-40005",
            &format!("other receive id on {at}"),
        );
    }
}

/// The harness itself: both peers really check signatures, so the positive
/// directions above mean something.
#[test]
fn peers_reject_our_message_with_a_tampered_signature() {
    require_peers();
    let (cases, seed) = cases("peers_reject_our_message_with_a_tampered_signature");
    let mut rng = Rng(seed | 1);
    for (i, case) in cases.iter().enumerate().step_by(10) {
        let at = label(i, case, seed);
        let (encrypt, signature) = ours_encrypt(case, None);
        let bad = tamper(&signature, &mut rng);
        for peer in [Peer::WecomCrypto, Peer::Wechatpy] {
            let out = peer.decrypt(case, &bad, &encrypt).map(|m| format!("{m:?}"));
            let out = out.expect_err(&format!("{peer:?} accepted a tampered signature on our {at}"));
            assert!(String::from_utf8_lossy(&out.stderr).contains("-40001"), "{peer:?}: {}", show(&out));
        }
    }
}

// ---------------------------------------------------------------------------
// JS-SDK signatures.

#[test]
fn jsapi_signature_matches_wecom_crypto() {
    require_peers();
    let (mut rng, seed) = Rng::seeded("jsapi_signature_matches_wecom_crypto");
    for i in 0..20 {
        let ticket = {
            let n = rng.range(20, 100);
            rng.string_from(ALNUM, n)
        };
        let noncestr = {
            let n = rng.range(1, 32);
            rng.string_from(ALNUM, n)
        };
        let timestamp = format!("{}", rng.range(1_400_000_000, 1_900_000_000));
        let n = rng.range(0, 20);
        let path = rng.string_from(ALNUM, n);
        let n = rng.range(0, 12);
        let query = rng.string_from(ALNUM, n);
        let url = match i % 4 {
            0 => format!("https://example.com/{path}"),
            1 => format!("https://app.example.cn:8443/{path}?a={query}&b=中文"),
            2 => format!("http://example.com/{path}?x={query}"),
            _ => format!("https://example.com/{path}?q={query}%20%E4%B8%AD"),
        };
        let theirs = Peer::WecomCrypto.run(&["jsapi-signature", &ticket, &noncestr, &timestamp, &url]);
        assert!(theirs.status.success(), "{}", show(&theirs));
        let ours = ours()
            .args(["crypto", "jsapi-signature"])
            .args([
                opt("ticket", &ticket),
                opt("noncestr", &noncestr),
                opt("timestamp", &timestamp),
                opt("url", &url),
            ])
            .output()
            .expect("wecom-openwork runs");
        assert!(ours.status.success(), "{}", show(&ours));
        assert_eq!(
            String::from_utf8_lossy(&ours.stdout),
            String::from_utf8_lossy(&theirs.stdout),
            "jsapi signature of {url:?} (INTEROP_SEED={seed})"
        );
    }
}
