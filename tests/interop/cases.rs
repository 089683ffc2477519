//! The messages the interop tests exchange: random but reproducible, each
//! test printing its seed (`INTEROP_SEED=<n>` replays it), with the edge
//! cases WeCom's peers get wrong (multi-byte text cut at block edges,
//! receive ids of every shape).

/// Messages per test.
const CASES: usize = 50;

// ---------------------------------------------------------------------------
// Randomness: xorshift64*, seeded from the clock unless INTEROP_SEED is set.

pub(super) struct Rng(pub(super) u64);

impl Rng {
    pub(super) fn seeded(test: &str) -> (Rng, u64) {
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

    pub(super) fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `lo..=hi`.
    pub(super) fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next() % (hi - lo + 1) as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.range(0, items.len() - 1)]
    }

    pub(super) fn string_from(&mut self, alphabet: &[u8], len: usize) -> String {
        (0..len).map(|_| char::from(*self.pick(alphabet))).collect()
    }

    pub(super) fn hex(&mut self, bytes: usize) -> String {
        (0..bytes).map(|_| format!("{:02x}", self.next() as u8)).collect()
    }
}

pub(super) const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const BASE64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const DIGITS: &[u8] = b"0123456789";

// ---------------------------------------------------------------------------
// Cases.

#[derive(Debug, Clone)]
pub(super) struct Case {
    pub(super) kind: &'static str,
    pub(super) token: String,
    pub(super) aes_key: String,
    pub(super) receive_id: String,
    pub(super) timestamp: String,
    pub(super) nonce: String,
    pub(super) message: String,
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

pub(super) fn cases(test: &str) -> (Vec<Case>, u64) {
    let (mut rng, seed) = Rng::seeded(test);
    ((0..CASES).map(|i| case(&mut rng, i)).collect(), seed)
}
