//! The install page's redirect completes an install: its auth code is the
//! one `create_auth` pushes, and whichever arrives first, the code is
//! exchanged once and the authorization stored.

mod common;
#[path = "common/isv_site.rs"]
mod isv_site;

use common::pages::{no_redirects, read};
use common::{config, pushing_emulator, serve_callbacks, SUITE};
use wecom_openwork::events::CreateAuth;
use wecom_openwork::server::{InstallRedirect, Reply};
use wecom_openwork::Application;

const NEW_CORP: &str = "wwcorpredirect01";

/// The `state` `suite.install_url` puts on a link for `own`: signed.
fn signed_state(app: &Application, own: &str) -> String {
    let link =
        app.suite(SUITE).install_url("PRE", "https://isv.example.com/done", Some(own)).expect("a link");
    let (_, state) = link.split_once("state=").expect("a state");
    state.to_owned()
}

fn exchanges(emulator: &wecom_openwork::emulator::Emulator) -> usize {
    emulator.requests().iter().filter(|r| r.path.ends_with("/get_permanent_code")).count()
}

#[tokio::test]
async fn the_redirect_after_the_push_finds_the_authorization_the_push_made() {
    let (emulator, app, _clock, listener) = pushing_emulator(config("http://placeholder.invalid")).await;
    let server = app.server();
    serve_callbacks(&server, listener);
    emulator.push_suite_ticket(SUITE).await.expect("pushed");
    let code = emulator.authorize_corp(SUITE, NEW_CORP).await.expect("authorized");
    let state = signed_state(&app, "s1");
    let redirect = InstallRedirect::from_query(&format!("auth_code={code}&expires_in=600&state={state}"))
        .expect("reads");
    let installed = server.complete_install(SUITE, &redirect).await.expect("installed");
    assert_eq!(installed.authorization.corp_id.as_str(), NEW_CORP);
    assert_eq!(installed.state.as_deref(), Some("s1"), "the ISV's own state, without its signature");
    server.drain().await;
    assert_eq!(exchanges(&emulator), 1, "the code is exchanged once");
    let stored = app.corp(SUITE, NEW_CORP).permanent_code().get().await.expect("reads");
    assert!(stored.is_some(), "the permanent code is stored");
}

#[tokio::test]
async fn the_redirect_alone_completes_the_install() {
    let (emulator, app, _clock, listener) = pushing_emulator(config("http://placeholder.invalid")).await;
    // This server answers create_auth without journaling it: only the
    // redirect brings the code.
    let authorized = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = authorized.clone();
    let server = app
        .server()
        .on::<CreateAuth, _, _>(|_event, _callback| async { Ok(Reply::Success) })
        .on_authorized(move |corp| {
            let seen = seen.clone();
            async move {
                seen.lock().expect("lock").push((corp.authorization.corp_id.to_string(), corp.state));
                Ok(())
            }
        });
    serve_callbacks(&server, listener);
    emulator.push_suite_ticket(SUITE).await.expect("pushed");
    let code = emulator.authorize_corp(SUITE, NEW_CORP).await.expect("authorized");
    assert!(app.corp(SUITE, NEW_CORP).permanent_code().get().await.expect("reads").is_none());
    let state = signed_state(&app, "fromlink");
    let redirect = InstallRedirect::from_query(&format!("auth_code={code}&state={state}")).expect("reads");
    let installed = server.complete_install(SUITE, &redirect).await.expect("installed");
    assert_eq!(installed.authorization.corp_id.as_str(), NEW_CORP);
    server.drain().await;
    assert_eq!(exchanges(&emulator), 1);
    assert_eq!(*authorized.lock().expect("lock"), vec![(NEW_CORP.to_owned(), Some("fromlink".to_owned()))]);
    // The same redirect again (a reload) finds the finished journal.
    let again = server.complete_install(SUITE, &redirect).await.expect("still installed");
    assert_eq!(again.authorization.corp_id.as_str(), NEW_CORP);
    assert_eq!(exchanges(&emulator), 1, "a reload does not exchange again");
}

/// The ISV's site and WeCom's install page without a browser: the same
/// links and forms the browser test clicks, followed by hand.
#[tokio::test]
async fn the_sites_install_link_the_page_and_the_redirect_without_a_browser() {
    let (emulator, site) = isv_site::start().await;
    let (server, base) = (site.server, site.base);
    let http = no_redirects();

    let to_page = read(http.get(format!("{base}/install")).send().await.expect("the site answers")).await;
    let page_url = to_page.location.expect("the site redirects to the install page");
    assert!(page_url.starts_with(&format!("{}/3rdapp/install?", emulator.base_uri())), "{page_url}");
    let page = read(http.get(&page_url).send().await.expect("the page")).await;
    assert_eq!(page.status, 200);
    let mut form = page.hidden();
    form.push(("new_corp_id".into(), NEW_CORP.into()));
    let install = format!("{}/3rdapp/install", emulator.base_uri());
    let confirmed = read(http.post(install).form(&form).send().await.expect("posted")).await;
    assert_eq!(confirmed.status, 302);
    let back = confirmed.location.expect("redirected to the site");
    assert!(back.starts_with(&format!("{base}/installed?")), "{back}");
    let done = read(http.get(&back).send().await.expect("the site's handler")).await;
    assert!(done.html.contains(&format!("<p id=\"site-installed\">{NEW_CORP}</p>")), "{}", done.html);
    assert!(done.html.contains("<p id=\"site-state\">fromsite</p>"), "{}", done.html);
    server.drain().await;
    assert_eq!(exchanges(&emulator), 1, "the push and the redirect exchanged the code once");
}

#[tokio::test]
async fn the_permanent_code_answer_carries_the_links_state() {
    let (emulator, app, _clock, listener) = pushing_emulator(config("http://placeholder.invalid")).await;
    let server = app.server().on::<CreateAuth, _, _>(|_event, _callback| async { Ok(Reply::Success) });
    serve_callbacks(&server, listener);
    emulator.push_suite_ticket(SUITE).await.expect("pushed");
    let suite = app.suite(SUITE);
    let pre = suite.get_pre_auth_code().await.expect("pre-auth code").pre_auth_code.expect("code");
    let url = suite.install_url(&pre, "http://127.0.0.1:9/installed", Some("st1")).expect("url");
    let http = no_redirects();
    let page = read(http.get(&url).send().await.expect("the page")).await;
    let mut form = page.hidden();
    form.push(("new_corp_id".into(), NEW_CORP.into()));
    let install = format!("{}/3rdapp/install", emulator.base_uri());
    let confirmed = read(http.post(install).form(&form).send().await.expect("posted")).await;
    let location = confirmed.location.expect("redirected");
    let redirect = InstallRedirect::from_query(location.split_once('?').expect("a query").1).expect("reads");
    let signed = redirect.state.clone().expect("the link's state comes back");
    let secret = app.config().suites[0].suite_secret.expose().to_owned();
    let own =
        wecom_openwork::crypto::install_state::verify(&secret, SUITE, &signed, std::time::SystemTime::now());
    assert_eq!(own.as_deref(), Some("st1"), "the link's state, signed by the SDK: {signed}");
    let request =
        wecom_openwork::api::authorization::types::GetPermanentCodeV2Request::new(redirect.auth_code);
    let info = suite.get_permanent_code_v2_with(request).await.expect("exchanged");
    assert_eq!(info.state, Some(signed));
}

#[tokio::test]
async fn a_code_wecom_refuses_is_a_typed_error_and_recorded_as_failed() {
    let (emulator, app, _clock, listener) = pushing_emulator(config("http://placeholder.invalid")).await;
    let server = app.server();
    serve_callbacks(&server, listener);
    emulator.push_suite_ticket(SUITE).await.expect("pushed");
    let state = signed_state(&app, "x");
    let redirect =
        InstallRedirect::from_query(&format!("auth_code=madeup0123456789&state={state}")).expect("reads");
    let err = server.complete_install(SUITE, &redirect).await.unwrap_err();
    match &err {
        wecom_openwork::Error::InstallIncomplete { pending: false, reason, .. } => {
            assert!(reason.contains("40078"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    let statuses = app.authorization_statuses().await.expect("reads");
    assert_eq!(statuses.iter().map(|s| s.status).collect::<Vec<_>>(), ["failed"], "{statuses:?}");
    assert!(app.authorizations().await.expect("reads").is_empty());
}

#[tokio::test]
async fn an_unconfigured_suite_is_refused_before_anything_is_written() {
    let (_emulator, app, _clock, _listener) = pushing_emulator(config("http://placeholder.invalid")).await;
    let redirect = InstallRedirect::from_query("auth_code=abc").expect("reads");
    let err = app.server().complete_install("wwnosuchsuite", &redirect).await.unwrap_err();
    assert!(matches!(err, wecom_openwork::Error::InvalidRequest(_)), "{err:?}");
    assert!(app.authorization_statuses().await.expect("reads").is_empty());
}
