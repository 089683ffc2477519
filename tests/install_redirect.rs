//! The install page's redirect completes an install: its auth code is the
//! one `create_auth` pushes, and whichever arrives first, the code is
//! exchanged once and the authorization stored.

mod common;

use common::{config, pushing_emulator, serve_callbacks, SUITE};
use wecom_openwork::events::CreateAuth;
use wecom_openwork::server::{InstallRedirect, Reply};

const NEW_CORP: &str = "wwcorpredirect01";

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
    let redirect =
        InstallRedirect::from_query(&format!("auth_code={code}&expires_in=600&state=s1")).expect("reads");
    let authorization = server.complete_install(SUITE, &redirect).await.expect("installed");
    assert_eq!(authorization.corp_id.as_str(), NEW_CORP);
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
    let redirect = InstallRedirect::from_query(&format!("auth_code={code}&state=fromlink")).expect("reads");
    let authorization = server.complete_install(SUITE, &redirect).await.expect("installed");
    assert_eq!(authorization.corp_id.as_str(), NEW_CORP);
    server.drain().await;
    assert_eq!(exchanges(&emulator), 1);
    assert_eq!(*authorized.lock().expect("lock"), vec![(NEW_CORP.to_owned(), Some("fromlink".to_owned()))]);
    // The same redirect again (a reload) finds the finished journal.
    let again = server.complete_install(SUITE, &redirect).await.expect("still installed");
    assert_eq!(again.corp_id.as_str(), NEW_CORP);
    assert_eq!(exchanges(&emulator), 1, "a reload does not exchange again");
}

#[tokio::test]
async fn an_unconfigured_suite_is_refused_before_anything_is_written() {
    let (_emulator, app, _clock, _listener) = pushing_emulator(config("http://placeholder.invalid")).await;
    let redirect = InstallRedirect::from_query("auth_code=abc").expect("reads");
    let err = app.server().complete_install("wwnosuchsuite", &redirect).await.unwrap_err();
    assert!(matches!(err, wecom_openwork::Error::InvalidRequest(_)), "{err:?}");
    assert!(app.authorization_statuses().await.expect("reads").is_empty());
}
