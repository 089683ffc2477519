//! The README's first command keeps working: the quickstart runs the whole
//! ISV flow and ends by itself, and with `--browser` it waits for a person
//! to confirm the emulator's install page (here, its form posted by hand)
//! and carries on with the corp they chose.
//!
//! `cargo test` builds the example beside the tests; run the whole suite
//! (or `cargo build --example quickstart`) before this file alone.

#[path = "common/child.rs"]
mod child;
mod common;

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use child::Running;
use common::pages::{no_redirects, read};

/// The example's binary, which cargo puts in `examples/` beside `deps/`.
fn quickstart() -> Command {
    let exe = std::env::current_exe().expect("the test's path");
    let profile_dir = exe.parent().and_then(|deps| deps.parent()).expect("target/<profile>");
    let binary: PathBuf = profile_dir.join("examples").join("quickstart");
    assert!(
        binary.exists(),
        "{} is missing: `cargo test` builds it (or `cargo build --example quickstart`)",
        binary.display()
    );
    Command::new(binary)
}

#[test]
fn the_quickstart_runs_the_flow_and_ends_by_itself() {
    let run = Running::start(quickstart(), Duration::from_secs(60));
    run.line_with("[5] a corp admin authorizes");
    let stored = run.line_with("corp wwcorpquickstart: permanent code");
    assert!(!stored.contains("emu-pc-"), "the permanent code is masked: {stored}");
    run.line_with("done:");
    let mut run = run;
    assert!(run.child.wait().expect("ends").success());
}

#[tokio::test]
async fn with_browser_it_waits_for_the_install_page_to_be_confirmed() {
    let mut command = quickstart();
    command.arg("--browser");
    let run = Running::start(command, Duration::from_secs(60));
    run.line_with("[4] install URL");
    let link = run.next_line(|line| line.trim_start().starts_with("http://")).trim().to_owned();
    assert!(link.contains("/3rdapp/install?suite_id="), "{link}");
    run.line_with("[5] open the install URL");

    let http = no_redirects();
    let page = read(http.get(&link).send().await.expect("the page")).await;
    assert_eq!(page.status, 200, "{}", page.html);
    let mut form = page.hidden();
    form.push(("new_corp_id".into(), "wwclickedcorp01".into()));
    let action = format!("{}/3rdapp/install", link.split("/3rdapp/").next().expect("the base"));
    let confirmed = read(http.post(action).form(&form).send().await.expect("posted")).await;
    let back = confirmed.location.unwrap_or_else(|| panic!("redirected: {}", confirmed.html));
    let done = read(http.get(&back).send().await.expect("the ISV's page")).await;
    assert!(done.html.contains("Installed for corp wwclickedcorp01"), "{}", done.html);

    run.line_with("the admin of wwclickedcorp01 confirmed");
    run.line_with("corp wwclickedcorp01: permanent code");
    run.line_with("done:");
    let mut run = run;
    assert!(run.child.wait().expect("ends").success());
}
