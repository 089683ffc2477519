//! The ISV flow end to end against the embedded emulator, with WeCom's pushes
//! arriving over HTTP at the SDK's callback server: the suite ticket, the
//! suite token, pre-auth code and session info, the install URL, a corp
//! authorizing (create_auth), its permanent code, its corp token, and a corp
//! API call.
//!
//! Run it with `cargo run --example quickstart`. Every step prints what it
//! did; any failure stops it with a non-zero exit.
//!
//! With `cargo run --example quickstart -- --browser` it prints the local
//! install link and waits while you click through the emulator's install
//! page in a browser on this machine: pick or create a corp, confirm, and
//! the ISV's redirect handler below completes the install.

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::response::Html;
use tokio::sync::mpsc;
use wecom_openwork::api::authorization::types::SessionInfo;
use wecom_openwork::clock::ManualClock;
use wecom_openwork::config::{StoreConfig, SuiteConfig};
use wecom_openwork::emulator::{Emulator, EmulatorConfig};
use wecom_openwork::server::{CallbackServer, InstallRedirect};
use wecom_openwork::urls::OAuthScope;
use wecom_openwork::{Application, Config, CorpId};

const PROVIDER_CORP_ID: &str = "wwprovider000001";
const SUITE_ID: &str = "wwddddccc7775555aaa";
const CORP_ID: &str = "wwcorpquickstart";
/// An EncodingAESKey from WeCom's official samples (43 characters).
const AES_KEY: &str = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt";

/// Shows the start of a secret, never all of it.
fn masked(secret: &str) -> String {
    let head: String = secret.chars().take(6).collect();
    format!("{head}… ({} chars)", secret.chars().count())
}

fn step(n: u32, what: &str) {
    println!("\n[{n}] {what}");
}

/// The ISV's page WeCom's install page redirects the admin to: it completes
/// the install and tells `main` which corp it was.
async fn installed(
    State((server, done)): State<(CallbackServer, mpsc::Sender<CorpId>)>,
    RawQuery(query): RawQuery,
) -> Html<String> {
    let result = match InstallRedirect::from_query(query.as_deref().unwrap_or_default()) {
        Ok(redirect) => server.complete_install(SUITE_ID, &redirect).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(installed) => {
            let corp = installed.authorization.corp_id;
            let _ = done.send(corp.clone()).await;
            Html(format!("<h1>Installed for corp {corp}</h1><p>Back to the terminal.</p>"))
        }
        Err(e) => Html(format!("<h1>The install did not complete</h1><p>{e}</p>")),
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let click_through = std::env::args().any(|arg| arg == "--browser");
    let mut config = Config {
        corp_id: PROVIDER_CORP_ID.into(),
        provider_secret: "provider-secret".into(),
        token: "ProviderCallbackToken".into(),
        aes_key: AES_KEY.into(),
        suites: vec![SuiteConfig {
            suite_id: SUITE_ID.into(),
            suite_secret: "suite-secret".into(),
            token: "SuiteCallbackToken".into(),
            aes_key: AES_KEY.into(),
            ..Default::default()
        }],
        // A demo keeps nothing: a real backend keeps the default SQLite file
        // or names a Redis store, so permanent codes survive a restart.
        store: StoreConfig::memory(),
        ..Config::default()
    };

    // The ISV's callback server listens here; the emulator pushes to it.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let callback_base = format!("http://{}", listener.local_addr()?);
    let clock = ManualClock::starting_now();
    let emulator = Emulator::bind(
        "127.0.0.1:0".parse()?,
        clock.clone(),
        EmulatorConfig::from_config(&config, Some(&callback_base)),
    )
    .await?;
    println!("emulated WeCom at {}; callback server at {callback_base}/callback", emulator.base_uri());

    config.http.base_uri = emulator.base_uri();
    // Install, OAuth and login links go to the emulator's pages.
    config.browser.base = Some(emulator.base_uri());
    let app = Application::builder(config).clock(Arc::new(clock)).build()?;
    let server = app.server().with(|callback, next| async move {
        println!("    <- callback {} (receive id {})", callback.event.kind(), callback.receive_id);
        next.run(callback).await
    });
    let (done, mut installs) = mpsc::channel(1);
    let site = axum::Router::new()
        .route("/installed", axum::routing::get(installed))
        .with_state((server.clone(), done));
    let router = server.router().merge(site);
    tokio::spawn(async move { axum::serve(listener, router).await });

    step(1, "WeCom pushes the suite ticket; the callback server stores it");
    let push = emulator.push_suite_ticket(SUITE_ID).await?;
    if !push.acknowledged() {
        return Err(format!("the ticket push was answered {} {:?}", push.status, push.body).into());
    }
    println!("    stored ticket {}", masked(&app.suite(SUITE_ID).ticket().get().await?));

    step(2, "suite access token (fetched with the ticket, cached, refreshed early)");
    println!("    got {}", masked(&app.suite(SUITE_ID).access_token().get().await?));

    step(3, "pre-auth code and session info");
    let suite = app.suite(SUITE_ID);
    let pre = suite.get_pre_auth_code().await?;
    let pre_auth_code = pre.pre_auth_code.ok_or("no pre_auth_code in the reply")?;
    println!(
        "    pre_auth_code {} (expires in {} s)",
        masked(&pre_auth_code),
        pre.expires_in.unwrap_or_default()
    );
    let session = SessionInfo::new().auth_type(1);
    suite.set_session_info(pre_auth_code.clone(), session).await?;
    println!("    session set to test authorization (auth_type 1)");

    step(4, "install URL for the corp admin (the emulator's install page)");
    let url = suite.install_url(&pre_auth_code, &format!("{callback_base}/installed"), Some("quickstart"))?;
    println!("    {url}");

    let corp_id = if click_through {
        step(5, "open the install URL above in a browser on this machine, pick a corp and confirm; waiting");
        let corp_id = installs.recv().await.ok_or("the ISV's site stopped")?;
        println!("    the admin of {corp_id} confirmed; WeCom pushed create_auth and redirected to the ISV");
        corp_id
    } else {
        step(
            5,
            "a corp admin authorizes; WeCom pushes create_auth (add --browser to click through the page)",
        );
        emulator.authorize_corp(SUITE_ID, CORP_ID).await?;
        CorpId::new(CORP_ID)
    };
    server.drain().await; // the exchange runs after the `success` reply
    step(6, "the permanent code was exchanged and stored");
    let corp = app.corp(SUITE_ID, corp_id.clone()); // the suite comes first
    let code = corp.permanent_code().get().await?.ok_or("no permanent code was stored")?;
    println!("    corp {corp_id}: permanent code {}", masked(code.expose()));

    step(7, "corp access token (from the stored permanent code)");
    let corp_token = corp.access_token().get().await?;
    println!("    got {}", masked(&corp_token));

    step(
        8,
        "a corp API call; the corp token is put on the URL for you (the JS-SDK ticket, cached like a token)",
    );
    let ticket = corp.jsapi().ticket().await?;
    println!("    the corp's JS-SDK ticket {}", masked(&ticket));
    let oauth = app.suite(SUITE_ID);
    let oauth = oauth.oauth();
    let user = oauth.get_user_info_3rd("CODE").await?;
    println!("    an OAuth code belongs to user {:?} (get_user_info_3rd)", user.userid.unwrap_or_default());
    let link = oauth.authorize_url("https://isv.example.com/oauth", OAuthScope::Base, Some("q1"))?;
    println!("    (users reach such codes through {link})");

    let stats = emulator.stats();
    println!(
        "\ndone: {} API calls and {} pushes; calls per path: {stats:?}",
        emulator.requests().len(),
        emulator.pushes().len()
    );
    Ok(())
}
