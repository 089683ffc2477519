//! `wecom-openwork endpoints` lists every spec'd endpoint.

use std::process::Command;

#[test]
fn endpoints_lists_every_endpoint_with_its_token() {
    let out = Command::new(env!("CARGO_BIN_EXE_wecom-openwork")).arg("endpoints").output().expect("runs");
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).expect("UTF-8");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), wecom_openwork::ENDPOINTS.len() + 1, "{text}");
    for e in wecom_openwork::ENDPOINTS {
        let line = lines
            .iter()
            .find(|l| {
                let mut cells = l.split_whitespace();
                (cells.next(), cells.next()) == (Some(e.group), Some(e.name))
            })
            .unwrap_or_else(|| panic!("{} missing:\n{text}", e.name));
        let cells: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(&cells[..5], [e.group, e.name, e.method.as_str(), e.path, e.token.as_str()], "{line}");
    }
    let login = lines.iter().find(|l| l.contains(" get_login_info ")).expect("listed");
    assert!(login.ends_with("provider (access_token)"), "{login}");
    let suite_token = lines.iter().find(|l| l.contains(" get_suite_token ")).expect("listed");
    assert!(suite_token.ends_with("none"), "{suite_token}");
}

#[test]
fn endpoints_json_is_one_object_per_line() {
    let out = Command::new(env!("CARGO_BIN_EXE_wecom-openwork"))
        .args(["endpoints", "--json"])
        .output()
        .expect("runs");
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).expect("UTF-8");
    let rows: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).expect("JSON")).collect();
    assert_eq!(rows.len(), wecom_openwork::ENDPOINTS.len());
    let pre = rows.iter().find(|r| r["name"] == "get_pre_auth_code").expect("listed");
    assert_eq!(pre["token_param"], "suite_access_token");
    assert_eq!(pre["method"], "GET");
}

fn run(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_wecom-openwork")).args(args).output().expect("runs")
}

/// The official sample (WeCom Python SDK): token, key, receive id, message.
const TOKEN: &str = "hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo";
const KEY: &str = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt";
const RECEIVER: &str = "ww1436e0e65a779aee";

#[test]
fn crypto_decrypt_prints_the_official_sample_and_names_errors_by_code() {
    let common = ["crypto", "decrypt", "--token", TOKEN, "--aes-key", KEY, "--receive-id", RECEIVER];
    let sample = [
        "--msg-signature",
        "012bc692d0a58dd4b10f8dfe5c4ac00ae211ebeb",
        "--timestamp",
        "1476416373",
        "--nonce",
        "47744683",
        "--encrypt",
        "fsi1xnbH4yQh0+PJxcOdhhK6TDXkjMyhEPA7xB2TGz6b+g7xyAbEkRxN/3cNXW9qdqjnoVzEtpbhnFyq6SVHyA==",
    ];
    let out = run(&[&common[..], &sample[..]].concat());
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), "1288432023552776189\n");

    let mut tampered = sample;
    tampered[1] = "012bc692d0a58dd4b10f8dfe5c4ac00ae211ebec";
    let out = run(&[&common[..], &tampered[..]].concat());
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("-40001"));
    assert!(out.stdout.is_empty());

    let other = ["crypto", "decrypt", "--token", TOKEN, "--aes-key", KEY, "--receive-id", "wwsomeoneelse"];
    let out = run(&[&other[..], &sample[..]].concat());
    assert!(String::from_utf8_lossy(&out.stderr).contains("-40005"));
}

#[test]
fn crypto_encrypt_with_a_given_random_is_deterministic_and_round_trips() {
    let args = [
        "crypto",
        "encrypt",
        "--token",
        TOKEN,
        "--aes-key",
        KEY,
        "--receive-id",
        RECEIVER,
        "--timestamp",
        "1",
        "--nonce",
        "2",
        "--message",
        "<xml>你好</xml>",
        "--random-hex",
        "00112233445566778899aabbccddeeff",
    ];
    let first = run(&args);
    let second = run(&args);
    assert!(first.status.success());
    assert_eq!(first.stdout, second.stdout);
    let sealed: serde_json::Value = serde_json::from_slice(&first.stdout).expect("JSON");
    let (encrypt, signature) =
        (sealed["encrypt"].as_str().expect("encrypt"), sealed["msg_signature"].as_str().expect("sig"));
    let out = run(&[
        "crypto",
        "decrypt",
        "--token",
        TOKEN,
        "--aes-key",
        KEY,
        "--receive-id",
        RECEIVER,
        "--msg-signature",
        signature,
        "--timestamp",
        "1",
        "--nonce",
        "2",
        "--encrypt",
        encrypt,
    ]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "<xml>你好</xml>\n");
    let bad = run(&[
        "crypto",
        "encrypt",
        "--token",
        TOKEN,
        "--aes-key",
        "short",
        "--receive-id",
        RECEIVER,
        "--timestamp",
        "1",
        "--nonce",
        "2",
        "--message",
        "m",
    ]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("-40004"));
}

#[test]
fn crypto_jsapi_signature_matches_the_official_sample() {
    let out = run(&[
        "crypto",
        "jsapi-signature",
        "--ticket",
        "sM4AOVdWfPE4DxkXGEs8VMCPGGVi4C3VM0P37wVUCFvkVAy_90u5h9nbSlYy3-Sl-HhTdfl2fzFy1AOcHKP7qg",
        "--noncestr",
        "Wm3WZYTPz0wzccnW",
        "--timestamp",
        "1414587457",
        "--url",
        "http://mp.weixin.qq.com?params=value",
    ]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "0f9de62fce790f9a083d5c99e95740ceb90c27ed\n");
}

#[test]
fn the_emulator_command_serves_until_stopped() {
    use std::io::{BufRead, BufReader, Read, Write};
    let mut child = Command::new(env!("CARGO_BIN_EXE_wecom-openwork"))
        .args(["emulator", "--port", "0"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("starts");
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().expect("stdout")).read_line(&mut line).expect("first line");
    let base = line.trim().rsplit(' ').next().expect("address").to_owned();
    let host = base.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(host).expect("connects");
    write!(stream, "GET /__emulator/stats HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n")
        .expect("sent");
    let mut reply = String::new();
    stream.read_to_string(&mut reply).expect("reply");
    child.kill().expect("stops");
    let _ = child.wait();
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    assert!(reply.contains("\"calls\""), "{reply}");
}
