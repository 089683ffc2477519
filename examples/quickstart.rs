//! The ISV flow end to end, against the embedded emulator: provider and suite
//! tokens, pre-auth code and session info, the install URL, the permanent code
//! of an authorizing corp, its corp token, and a corp API call.
//!
//! Run it with `cargo run --example quickstart`. Every step prints what it
//! did; any failure stops it with a non-zero exit.

use wecom_openwork::api::authorization::types::{
    GetCorpTokenRequest, GetPermanentCodeRequest, SessionInfo, SetSessionInfoRequest,
};
use wecom_openwork::api::oauth::types::GetUserInfoQuery;
use wecom_openwork::api::provider::types::GetProviderTokenRequest;
use wecom_openwork::api::suite::types::GetSuiteTokenRequest;
use wecom_openwork::emulator::Emulator;
use wecom_openwork::urls::{install_url, oauth_authorize_url, OAuthScope};
use wecom_openwork::{Client, StaticTokens, SuiteId};

const PROVIDER_CORP_ID: &str = "wwprovider000001";
const SUITE_ID: &str = "wwddddccc7775555aaa";

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

    // Token-less calls first: they obtain the tokens.
    let bootstrap = Client::new(emulator.base_uri(), StaticTokens::new())?;

    step(1, "provider access token (get_provider_token)");
    let provider_token = bootstrap
        .provider()
        .get_provider_token(&GetProviderTokenRequest {
            corpid: PROVIDER_CORP_ID.into(),
            provider_secret: "provider-secret".into(),
        })
        .await?;
    let provider_token = provider_token
        .provider_access_token
        .ok_or("no provider_access_token in the reply")?;
    println!("    got {}", masked(&provider_token));

    step(
        2,
        "suite access token (get_suite_token, with the latest suite ticket)",
    );
    let suite_token = bootstrap
        .suite(SUITE_ID)
        .get_suite_token(&GetSuiteTokenRequest {
            suite_id: SUITE_ID.into(),
            suite_secret: "suite-secret".into(),
            suite_ticket: "ticket-from-the-suite_ticket-callback".into(),
        })
        .await?;
    let suite_token = suite_token
        .suite_access_token
        .ok_or("no suite_access_token in the reply")?;
    println!("    got {}", masked(&suite_token));

    // From here on every call carries its token; the client puts it on the URL.
    let tokens = StaticTokens::new()
        .provider(provider_token)
        .suite(SUITE_ID, suite_token);
    let client = Client::new(emulator.base_uri(), tokens)?;
    let suite = client.suite(SUITE_ID);

    step(3, "pre-auth code and session info");
    let pre = suite.get_pre_auth_code().await?;
    let pre_auth_code = pre.pre_auth_code.ok_or("no pre_auth_code in the reply")?;
    println!(
        "    pre_auth_code {} (expires in {} s)",
        masked(&pre_auth_code),
        pre.expires_in.unwrap_or_default()
    );
    suite
        .set_session_info(&SetSessionInfoRequest {
            pre_auth_code: pre_auth_code.clone(),
            session_info: SessionInfo {
                appid: vec![],
                auth_type: Some(1),
            },
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

    step(
        5,
        "a corp authorizes; its auth code becomes a permanent code (get_permanent_code)",
    );
    let auth = suite
        .get_permanent_code(&GetPermanentCodeRequest {
            auth_code: "AUTH_CODE_FROM_REDIRECT".into(),
        })
        .await?;
    let corp = auth
        .auth_corp_info
        .ok_or("no auth_corp_info in the reply")?;
    let corp_id = corp.corpid.ok_or("no corpid in the reply")?;
    let permanent_code = auth
        .permanent_code
        .ok_or("no permanent_code in the reply")?;
    println!(
        "    corp {corp_id} ({}) authorized; permanent code {}",
        corp.corp_name.unwrap_or_default(),
        masked(&permanent_code)
    );

    step(6, "corp access token (get_corp_token)");
    let corp_token = suite
        .get_corp_token(&GetCorpTokenRequest {
            auth_corpid: corp_id.clone(),
            permanent_code,
        })
        .await?;
    let corp_token = corp_token
        .access_token
        .ok_or("no access_token in the reply")?;
    println!("    got {}", masked(&corp_token));

    step(7, "a corp API call with the corp token (auth/getuserinfo)");
    let tokens = StaticTokens::new().corp(SUITE_ID, corp_id.as_str(), corp_token);
    let corp_client = Client::new(emulator.base_uri(), tokens)?;
    let user = corp_client
        .corp(SUITE_ID, corp_id.as_str())
        .get_user_info(&GetUserInfoQuery {
            code: "CODE".into(),
        })
        .await?;
    println!(
        "    the code belongs to user {:?}",
        user.userid.unwrap_or_default()
    );

    step(8, "OAuth link for the suite's users");
    let link = oauth_authorize_url(
        SUITE_ID,
        "https://isv.example.com/oauth",
        OAuthScope::Base,
        Some("q1"),
        None,
    )?;
    println!("    {link}");

    println!(
        "\ndone: {} calls reached the emulator",
        emulator.requests().len()
    );
    Ok(())
}
