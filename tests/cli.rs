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
            .find(|l| l.split_whitespace().nth(1) == Some(e.name))
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
