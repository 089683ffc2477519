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

const CASES: usize = 50;
const WECOM_CRYPTO_VERSION: &str = "1.0.1";

// ---------------------------------------------------------------------------
// Randomness: xorshift64*, seeded from the clock unless INTEROP_SEED is set.

struct Rng(u64);

impl Rng {
    fn seeded(test: &str) -> (Rng, u64) {
        let seed = match std::env::var("INTEROP_SEED") {
            Ok(s) => s.trim().parse().unwrap_or_else(|_| panic!("INTEROP_SEED={s:?} is not a u64")),
            Err(_) => {
                let nanos = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .expect("clock after 1970")
                    .as_nanos() as u64;
                nanos ^ u64::from(std::process::id()).rotate_left(32)
            }
        };
        eprintln!("{test}: INTEROP_SEED={seed}");
        // Mix so that near seeds give unrelated streams; never zero.
        let mut state = seed ^ 0x9E37_79B9_7F4A_7C15;
        for b in test.bytes() {
            state = (state ^ u64::from(b)).wrapping_mul(0x0100_0000_01B3);
        }
        (Rng(state | 1), seed)
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next() % (hi - lo + 1) as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.range(0, items.len() - 1)]
    }

    fn string_from(&mut self, alphabet: &[u8], len: usize) -> String {
        (0..len).map(|_| char::from(*self.pick(alphabet))).collect()
    }

    fn hex(&mut self, bytes: usize) -> String {
        (0..bytes).map(|_| format!("{:02x}", self.next() as u8)).collect()
    }
}

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const BASE64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const DIGITS: &[u8] = b"0123456789";

// ---------------------------------------------------------------------------
// Cases.

#[derive(Debug, Clone)]
struct Case {
    kind: &'static str,
    token: String,
    aes_key: String,
    receive_id: String,
    timestamp: String,
    nonce: String,
    message: String,
}

fn printable_ascii(rng: &mut Rng, len: usize) -> String {
    (0..len).map(|_| char::from(rng.range(0x20, 0x7e) as u8)).collect()
}

fn chinese(rng: &mut Rng, chars: usize) -> String {
    const PUNCT: &[char] = &['，', '。', '！', '？', '「', '」', '、', '：'];
    (0..chars)
        .map(|_| {
            if rng.range(0, 9) == 0 {
                *rng.pick(PUNCT)
            } else {
                char::from_u32(rng.range(0x4E00, 0x9FA5) as u32).expect("CJK")
            }
        })
        .collect()
}

/// Text of mixed scripts: ASCII words, Chinese, emoji (4-byte UTF-8),
/// newlines, tabs, quotes and backslashes.
fn mixed(rng: &mut Rng, min_bytes: usize) -> String {
    let mut s = String::new();
    while s.len() < min_bytes {
        match rng.range(0, 7) {
            0 | 1 => {
                let n = rng.range(1, 12);
                s.push_str(&rng.string_from(ALNUM, n));
            }
            2 | 3 => {
                let n = rng.range(1, 8);
                s.push_str(&chinese(rng, n));
            }
            4 => s.push(*rng.pick(&['😀', '🚀', '企', 'é', 'ß', '€'])),
            5 => s.push(*rng.pick(&['\n', '\t', ' ', ' ', '\r'])),
            6 => s.push(*rng.pick(&['"', '\\', '\'', '<', '>', '&', '$', '`'])),
            _ => s.push(' '),
        }
    }
    s
}

/// Cuts `s` to at most `bytes` bytes on a char boundary, then pads with
/// ASCII to exactly `bytes`.
fn exact_bytes(mut s: String, bytes: usize) -> String {
    let mut cut = bytes.min(s.len());
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    s.truncate(cut);
    while s.len() < bytes {
        s.push('x');
    }
    s
}

fn receive_id(rng: &mut Rng) -> String {
    match rng.range(0, 5) {
        // Corp ids and suite ids as WeCom issues them.
        0 | 1 => format!("ww{}", rng.string_from(b"0123456789abcdef", 16)),
        2 => format!("wx{}", rng.string_from(ALNUM, 16)),
        3 => format!("tj{}", rng.string_from(ALNUM, 16)),
        // Anything else a caller may use: other lengths.
        4 => {
            let prefix = *rng.pick(&["ww", "wx", "tj"]);
            let n = rng.range(1, 30);
            format!("{prefix}{}", rng.string_from(ALNUM, n))
        }
        _ => {
            let n = rng.range(1, 40);
            rng.string_from(ALNUM, n)
        }
    }
}

fn case(rng: &mut Rng, i: usize) -> Case {
    let token = {
        let n = rng.range(1, 32);
        rng.string_from(ALNUM, n)
    };
    // Any last character: WeCom's keys are random, so its spare bits are too.
    let aes_key = rng.string_from(BASE64, 43);
    let receive_id = receive_id(rng);
    let timestamp = format!("{}", rng.range(1_400_000_000, 1_900_000_000));
    let nonce = {
        let n = rng.range(1, 16);
        if rng.range(0, 1) == 0 {
            rng.string_from(DIGITS, n)
        } else {
            rng.string_from(ALNUM, n)
        }
    };
    // plaintext = random(16) ‖ len(4) ‖ message ‖ receive id, padded to 32.
    let overhead = 20 + receive_id.len();
    let (kind, message) = match i % 10 {
        0 if i == 0 => ("empty", String::new()),
        0 => {
            let n = rng.range(1, 3);
            ("short ASCII", printable_ascii(rng, n))
        }
        1 => {
            let n = rng.range(1, 300);
            ("ASCII", printable_ascii(rng, n))
        }
        2 => {
            let n = rng.range(1, 200);
            ("Chinese", chinese(rng, n))
        }
        3 => {
            let n = rng.range(1, 300);
            let content = mixed(rng, n);
            let xml = format!(
                "<xml><ToUserName><![CDATA[{rid}]]></ToUserName><FromUserName><![CDATA[{from}]]></FromUserName>\
                 <CreateTime>{ts}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{content}]]></Content>\
                 <MsgId>{id}</MsgId><AgentID>{agent}</AgentID></xml>",
                rid = receive_id,
                from = rng.string_from(ALNUM, 10),
                ts = timestamp,
                id = rng.string_from(DIGITS, 19),
                agent = rng.range(1, 1_000_010),
            );
            ("XML with CDATA", xml)
        }
        4 => {
            let xml = format!(
                "<xml><SuiteId><![CDATA[{rid}]]></SuiteId><InfoType><![CDATA[suite_ticket]]></InfoType>\
                 <TimeStamp>{ts}</TimeStamp><SuiteTicket><![CDATA[{ticket}]]></SuiteTicket></xml>",
                rid = receive_id,
                ts = timestamp,
                ticket = rng.string_from(ALNUM, 40),
            );
            ("suite_ticket XML", xml)
        }
        5 | 6 => {
            let bytes = rng.range(1024, 8192);
            ("1-8 KiB mixed", exact_bytes(mixed(rng, bytes), bytes))
        }
        7 | 8 => {
            // Plaintext one short of, exactly at, or one past a multiple of
            // 32 bytes (a whole block of padding at 0).
            let delta = [-1i64, 0, 1][(i / 10) % 3];
            let first = overhead / 32 + 1;
            let blocks = rng.range(first, first + 40) as i64;
            let want = (32 * blocks + delta - overhead as i64) as usize;
            let text = if i % 10 == 7 { printable_ascii(rng, want) } else { mixed(rng, want) };
            ("32-byte boundary", exact_bytes(text, want))
        }
        _ => {
            let json = format!(
                "{{\"msg\":\"{}\",\"中文\":\"{}\",\"n\":{}}}\r\n-- {}",
                rng.string_from(ALNUM, 8),
                chinese(rng, 6),
                rng.range(0, 99999),
                mixed(rng, 20),
            );
            // Leading hyphens must survive the CLIs' option parsing.
            if i % 20 == 9 {
                ("leading hyphen", format!("--message -x {json}"))
            } else {
                ("JSON and specials", json)
            }
        }
    };
    Case { kind, token, aes_key, receive_id, timestamp, nonce, message }
}

fn cases(test: &str) -> (Vec<Case>, u64) {
    let (mut rng, seed) = Rng::seeded(test);
    ((0..CASES).map(|i| case(&mut rng, i)).collect(), seed)
}

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
