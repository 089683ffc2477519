//! The ISV flow end to end, against the embedded emulator: the suite ticket,
//! the suite token, pre-auth code and session info, the install URL, the
//! permanent code of an authorizing corp, its corp token, and a corp API call.
//!
//! Run it with `cargo run --example quickstart`. Every step prints what it
//! did; any failure stops it with a non-zero exit.

use wecom_openwork::api::authorization::types::{
    GetPermanentCodeRequest, SessionInfo, SetSessionInfoRequest,
};
use wecom_openwork::api::oauth::types::GetUserInfoQuery;
use wecom_openwork::config::SuiteConfig;
use wecom_openwork::emulator::Emulator;
use wecom_openwork::urls::{install_url, OAuthScope};
use wecom_openwork::{Application, Config, SuiteId};

const PROVIDER_CORP_ID: &str = "wwprovider000001";
const SUITE_ID: &str = "wwddddccc7775555aaa";
/// An EncodingAESKey from WeCom's official samples (43 characters).
const AES_KEY: &str = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt";

/// Shows the start of a secret, never all of it.
fn masked(secret: &str) -> String {
    let head: String = secret.chars().take(4).collect();
    format!("{head}… ({} chars)", secret.chars().count())
}

fn step(n: u32, what: &str) {
    println!("\n[{n}] {what}");
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let emulator = Emulator::start().await?;
    println!("emulated WeCom listening at {}", emulator.base_uri());

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
        }],
        ..Config::default()
    };
    config.http.base_uri = emulator.base_uri();
    let app = Application::new(config)?;

    step(1, "suite ticket pushed by WeCom, stored");
    // WeCom pushes it to the command callback URL every 10 minutes; the
    // callback server stores it like this.
    app.suite_ticket(SUITE_ID).set_ticket("ticket-pushed-by-wecom").await?;
    println!("    ticket {}", masked(&app.suite_ticket(SUITE_ID).get_ticket().await?));

    step(2, "suite access token (fetched with the ticket, cached, refreshed early)");
    let suite_token = app.suite_access_token(SUITE_ID).get_token().await?;
    println!("    got {}", masked(&suite_token));

    step(3, "pre-auth code and session info");
    let suite = app.suite(SUITE_ID);
    let pre = suite.get_pre_auth_code().await?;
    let pre_auth_code = pre.pre_auth_code.ok_or("no pre_auth_code in the reply")?;
    println!(
        "    pre_auth_code {} (expires in {} s)",
        masked(&pre_auth_code),
        pre.expires_in.unwrap_or_default()
    );
    let session = SessionInfo { appid: vec![], auth_type: Some(1) };
    suite
        .set_session_info(&SetSessionInfoRequest {
            pre_auth_code: pre_auth_code.clone(),
            session_info: session,
        })
        .await?;
    println!("    session set to test authorization (auth_type 1)");

    step(4, "install URL for the corp admin");
    let url = install_url(
        &SuiteId::new(SUITE_ID),
        &pre_auth_code,
        "https://isv.example.com/installed",
        Some("quickstart"),
    )?;
    println!("    {url}");

    step(5, "a corp authorizes; its auth code becomes a permanent code, stored");
    let auth = suite
        .get_permanent_code(&GetPermanentCodeRequest { auth_code: "AUTH_CODE_FROM_REDIRECT".into() })
        .await?;
    let corp = auth.auth_corp_info.ok_or("no auth_corp_info in the reply")?;
    let corp_id = corp.corpid.ok_or("no corpid in the reply")?;
    let permanent_code = auth.permanent_code.ok_or("no permanent_code in the reply")?;
    app.set_permanent_code(SUITE_ID, corp_id.as_str(), permanent_code.as_str()).await?;
    println!(
        "    corp {corp_id} ({}) authorized; permanent code {} stored",
        corp.corp_name.unwrap_or_default(),
        masked(&permanent_code)
    );

    step(6, "corp access token (from the stored permanent code)");
    let corp_token =
        app.authorizer_access_token(corp_id.as_str(), permanent_code.as_str(), SUITE_ID).get_token().await?;
    println!("    got {}", masked(&corp_token));

    step(7, "a corp API call; the corp token is put on the URL for you (auth/getuserinfo)");
    let user =
        app.corp(SUITE_ID, corp_id.as_str()).get_user_info(&GetUserInfoQuery { code: "CODE".into() }).await?;
    println!("    the code belongs to user {:?}", user.userid.unwrap_or_default());

    step(8, "OAuth link for the suite's users");
    let link =
        app.oauth(SUITE_ID).authorize_url("https://isv.example.com/oauth", OAuthScope::Base, Some("q1"))?;
    println!("    {link}");

    let fetches = emulator.calls("/cgi-bin/service/get_suite_token");
    println!(
        "\ndone: {} calls reached the emulator ({fetches} suite-token fetch)",
        emulator.requests().len()
    );
    Ok(())
}
