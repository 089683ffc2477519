//! Headless Chromium driven through chromedriver (WebDriver), for the tests
//! that click through the emulator's pages as a person would. Each page can
//! be saved as a screenshot under `target/screenshots/`.
//!
//! Debian's `chromium` and `chromium-driver` are needed; `bash tests/run.sh`
//! installs them. Without them the browser tests fail with that
//! instruction: they are not skipped. Standalone, beside `child.rs`:
//! `#[path = "common/child.rs"] mod child;` and
//! `#[path = "common/browser.rs"] mod browser;`.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};

use crate::child::Running;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// How long a page may take to show an element.
const ELEMENT_WAIT: Duration = Duration::from_secs(20);

/// A browser session; chromedriver and Chromium stop when it is dropped.
pub struct Browser {
    pub client: Client,
    shots: PathBuf,
    profile: PathBuf,
    _driver: Running,
}

impl Browser {
    /// Starts chromedriver on a free loopback port and opens a headless
    /// Chromium session with a fresh profile.
    pub async fn start(test: &str) -> Browser {
        for needed in [CHROMIUM, CHROMEDRIVER] {
            assert!(
                std::path::Path::new(needed).exists(),
                "{needed} is missing: run `bash tests/run.sh` (it installs Debian's chromium and chromium-driver)"
            );
        }
        // Port 0: chromedriver takes a free port itself and says which.
        let mut command = Command::new(CHROMEDRIVER);
        command.arg("--port=0").arg("--allowed-ips=127.0.0.1");
        let driver = Running::start(command, Duration::from_secs(30));
        let started = driver.line_with("started successfully on port");
        let port: u16 = started
            .trim_end_matches('.')
            .rsplit(' ')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no port in {started:?}"));
        let profile =
            std::env::temp_dir().join(format!("wecom-openwork-chromium-{}-{test}", std::process::id()));
        let _ = std::fs::remove_dir_all(&profile);
        let args = [
            "--headless=new".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--disable-quic".to_owned(),
            "--no-first-run".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--window-size=900,900".to_owned(),
            format!("--user-data-dir={}", profile.display()),
        ];
        let mut capabilities = serde_json::Map::new();
        capabilities
            .insert("goog:chromeOptions".into(), serde_json::json!({ "binary": CHROMIUM, "args": args }));
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("a Chromium session");
        let shots = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/target/screenshots"));
        std::fs::create_dir_all(&shots).expect("the screenshot folder");
        Browser { client, shots, profile, _driver: driver }
    }

    /// Saves the current page as `target/screenshots/{name}.png`.
    pub async fn shot(&self, name: &str) {
        let png = self.client.screenshot().await.expect("a screenshot");
        std::fs::write(self.shots.join(format!("{name}.png")), png).expect("saved");
    }

    /// The text of the element `css`, once the page has it (a form's
    /// answer arrives after the click returns): WebDriver's explicit wait,
    /// at most [`ELEMENT_WAIT`].
    pub async fn text(&self, css: &str) -> String {
        let element = self
            .client
            .wait()
            .at_most(ELEMENT_WAIT)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"));
        element.text().await.expect("text")
    }

    /// Clicks the element `css` (a link, a checkbox, a button).
    pub async fn click(&self, css: &str) {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"))
            .click()
            .await
            .expect("clicked");
    }

    /// Picks the option `value` of the select `css`.
    pub async fn select(&self, css: &str, value: &str) {
        let select = self.client.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}"));
        select.select_by_value(value).await.unwrap_or_else(|e| panic!("{css} = {value}: {e}"));
    }

    /// The current URL.
    pub async fn url(&self) -> String {
        self.client.current_url().await.expect("a URL").to_string()
    }

    /// Ends the session and removes the profile.
    pub async fn close(self) {
        let _ = self.client.close().await;
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}
