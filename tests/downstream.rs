//! A downstream corp (上下游) as its own token scope: the runtime gets its
//! token with the upstream corp's, once however many callers, and calls go
//! out with it.

mod common;

use common::{app_on_emulator, CORP, CUSTOMIZED, SUITE};

const DOWNSTREAM: &str = "wwdownstream0001";

#[tokio::test]
async fn downstream_calls_carry_the_downstream_token_fetched_once() {
    let (emulator, app, _clock) = app_on_emulator().await;
    app.corp(CUSTOMIZED, CORP).permanent_code().set("permanent-code-of-customized").await.expect("stored");
    let upstream = app.corp(CUSTOMIZED, CORP);
    let upstream_token = upstream.access_token().get().await.expect("upstream token");
    let downstream = upstream.downstream(DOWNSTREAM, 1111);
    assert_eq!(downstream.corp_id().as_str(), DOWNSTREAM);
    assert_eq!(downstream.upstream().map(|(c, a)| (c.as_str(), a)), Some((CORP, 1111)));
    emulator.clear_requests();

    let calls = (0..20).map(|_| {
        let downstream = downstream.clone();
        async move { downstream.user().get("zhangsan").await }
    });
    for result in futures_util::future::join_all(calls).await {
        result.expect("read through the downstream token");
    }
    let requests = emulator.requests();
    let fetches: Vec<_> = requests.iter().filter(|r| r.path == "/cgi-bin/corpgroup/corp/gettoken").collect();
    assert_eq!(fetches.len(), 1, "one fetch for twenty callers");
    assert_eq!(fetches[0].token(), Some(upstream_token.as_str()), "fetched with the upstream corp's token");
    let body = fetches[0].body.as_ref().expect("a body");
    assert_eq!(body["corpid"], DOWNSTREAM);
    assert_eq!(body["agentid"], 1111);
    assert_eq!(body["business_type"], 1);

    let downstream_token = downstream.access_token().get().await.expect("cached");
    assert_ne!(downstream_token, upstream_token);
    let reads: Vec<_> = requests.iter().filter(|r| r.path == "/cgi-bin/user/get").collect();
    assert_eq!(reads.len(), 20);
    assert!(reads.iter().all(|r| r.token() == Some(downstream_token.as_str())), "every read carried it");
    let owner = emulator.token_owner(&downstream_token).expect("issued by the emulator");
    assert!(owner.owner.ends_with(&format!("/{DOWNSTREAM}")), "issued for the downstream corp: {owner:?}");
}

#[tokio::test]
async fn a_third_party_app_is_refused_before_anything_is_sent() {
    let (emulator, app, _clock) = app_on_emulator().await;
    let downstream = app.corp(SUITE, CORP).downstream(DOWNSTREAM, 1111);
    emulator.clear_requests();
    let error = downstream.user().get("zhangsan").await.unwrap_err();
    assert!(
        matches!(error, wecom_openwork::Error::AppKindNotAllowed { ref endpoint, .. } if *endpoint == "get_token"),
        "{error:?}"
    );
    assert!(emulator.requests().iter().all(|r| r.path != "/cgi-bin/corpgroup/corp/gettoken"));
}
