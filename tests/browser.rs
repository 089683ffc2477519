//! The browser side of WeCom, clicked through in headless Chromium as a
//! person would: an admin installs the suite from the ISV's site, a member
//! signs in with OAuth (`snsapi_privateinfo`), an admin logs in on the
//! provider login page. The ISV's side is the SDK's own link builders and
//! calls (`tests/common/isv_site.rs`); WeCom's side is the emulator's pages.
//! Every page is saved under `target/screenshots/`.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`bash tests/run.sh`
//! installs them). The same flows run without a browser in
//! `tests/emulator_pages.rs`.

#[path = "common/browser.rs"]
mod browser;
#[path = "common/child.rs"]
mod child;
mod common;
#[path = "common/isv_site.rs"]
mod isv_site;

use browser::Browser;
use common::SUITE;

const CORP: &str = "wwbrowsercorp01";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn install_oauth_and_login_click_through_in_headless_chromium() {
    let (emulator, site) = isv_site::start().await;
    let (app, server, base) = (site.app, site.server, site.base);

    let browser = Browser::start("flows").await;

    // Install: the ISV's "install" link → WeCom's install page (a test
    // install) → the admin creates a corp and confirms → the ISV's redirect
    // handler completes the install.
    browser.client.goto(&format!("{base}/install?test=1")).await.expect("opens");
    assert!(browser.url().await.starts_with(&format!("{}/3rdapp/install?", emulator.base_uri())));
    assert!(!browser.text("#test-install").await.is_empty(), "a test install says so");
    browser.shot("01-install").await;
    let install_page = browser.url().await;
    let new_corp =
        browser.client.find(fantoccini::Locator::Css("input[name=new_corp_id]")).await.expect("field");
    new_corp.send_keys(CORP).await.expect("typed");
    browser.click("#confirm").await;
    assert_eq!(browser.text("#site-installed").await, CORP, "the ISV's handler stored the authorization");
    assert_eq!(browser.text("#site-state").await, "fromsite");
    browser.shot("02-installed").await;
    let stored = app.corp(SUITE, CORP).permanent_code().get().await.expect("reads");
    assert!(stored.is_some(), "the permanent code is stored");

    // The install page again, with its used pre-auth code: WeCom's error
    // page, no redirect.
    browser.client.goto(&install_page).await.expect("opens");
    assert!(!browser.text("#errcode").await.is_empty());
    assert_eq!(browser.url().await, install_page, "no redirect");
    browser.shot("03-install-code-used").await;

    // OAuth snsapi_privateinfo: consent → code → user info → user detail.
    browser.client.goto(&format!("{base}/oauth?scope=privateinfo")).await.expect("opens");
    assert!(browser.url().await.starts_with(&format!("{}/connect/oauth2/authorize?", emulator.base_uri())));
    browser.shot("04-oauth-consent").await;
    browser.select("select[name=corp_id]", CORP).await;
    browser.click("#confirm").await;
    let userid = browser.text("#site-userid").await;
    assert!(!userid.is_empty(), "the code named a member");
    assert_eq!(browser.text("#site-corpid").await, CORP);
    assert_eq!(browser.text("#site-detail-userid").await, userid, "the user ticket read the same member");
    assert_eq!(browser.text("#site-state").await, "o1");
    browser.shot("05-oauth-signed-in").await;

    // Web login on the provider login page, as an admin → get_login_info.
    browser.client.goto(&format!("{base}/login")).await.expect("opens");
    assert!(browser.url().await.starts_with(&format!("{}/wwopen/sso/3rd_qrConnect?", emulator.base_uri())));
    browser.shot("06-login").await;
    browser.select("select[name=corp_id]", CORP).await;
    let as_admin = browser.client.find(fantoccini::Locator::Css("input[name=as_admin]")).await.expect("box");
    assert_eq!(as_admin.prop("checked").await.expect("reads").as_deref(), Some("true"), "an admin link");
    browser.click("#confirm").await;
    assert!(!browser.text("#site-login-userid").await.is_empty());
    assert_eq!(browser.text("#site-login-corpid").await, CORP);
    assert_eq!(browser.text("#site-usertype").await, "1", "an admin logged in");
    browser.shot("07-logged-in").await;

    browser.close().await;
    server.drain().await;
}
