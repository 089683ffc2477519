//! Named scenarios: interleavings a review found, each a hand-written
//! schedule in the simulated world (on its paused clock, so minutes of
//! leases and pauses pass in milliseconds), checked by the same invariants
//! as the seeded runs and by what the scenario is about.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use wecom_openwork::server::CallbackUrl;
use wecom_openwork::{Config, SuiteId};

use crate::plan::command;
use crate::wecom::{WeComFate, SUITE};
use crate::world::{Faults, World};
use crate::{count_panics, oracle};

const CORP: &str = "wwscenario01";

/// Runs `body` in a calm world of three instances (the first without
/// hooks, as `wecom-openwork serve`), lets it settle, and answers the
/// broken invariants and the world for the scenario's own checks.
fn scenario<F, Fut>(tweak: Option<fn(&mut Config)>, body: F) -> Vec<String>
where
    F: FnOnce(Arc<World>) -> Fut,
    Fut: Future<Output = Vec<String>>,
{
    count_panics();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let world = World::new(0, 3, Faults::calm(), vec![0, 700, -700]);
        if let Some(tweak) = tweak {
            world.tweak_config(tweak);
        }
        for instance in 0..3 {
            world.start_instance(instance).await;
        }
        let ticket = world.wecom.lock().expect("wecom").new_ticket(world.now_ms());
        let message = command(
            "suite_ticket",
            world.wecom_second(),
            &format!("<SuiteTicket><![CDATA[{ticket}]]></SuiteTicket>"),
        );
        assert!(world.push(suite(), "suite_ticket", message, None).await, "the ticket is delivered");
        let mut broken = body(world.clone()).await;
        world.settle();
        tokio::time::sleep(Duration::from_secs(8 * 60)).await;
        for (_, server, _) in (0..3).filter_map(|i| world.app_of(i)) {
            server.drain().await;
        }
        broken.extend(oracle::check(&world, false).await);
        if !broken.is_empty() {
            eprintln!("{}", world.trace_lines().join("\n"));
        }
        world.teardown().await;
        broken
    })
}

fn suite() -> CallbackUrl {
    CallbackUrl::Command(SuiteId::new(SUITE))
}

/// WeCom installs the suite in `CORP`: the auth code and its push.
fn install(world: &World) -> (String, String) {
    let second = world.wecom_second();
    let code = world.wecom.lock().expect("wecom").install(CORP, second, world.now_ms());
    (code.clone(), command("create_auth", second, &format!("<AuthCode><![CDATA[{code}]]></AuthCode>")))
}

/// A store outage of 8 s while an exchange retries WeCom's errors: the
/// exchange goes on once the store is back, without a restart (it used to
/// stop at the first store error and wait for one), and soon: the store's
/// back-off does not carry over into the wait for WeCom.
#[test]
fn an_exchange_outlives_a_store_outage_without_a_restart() {
    let broken = scenario(None, |world| async move {
        let (_, message) = install(&world);
        world.force_wecom(Some(1), "get_permanent_code", WeComFate::Errcode(-1), 3);
        let w = world.clone();
        let push =
            tokio::spawn(async move { w.push_to(Some(1), suite(), "create_auth", message, None).await });
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let outage_ends = world.now_ms() + 8000;
        world.set_outage(outage_ends);
        assert!(push.await.expect("pushed"), "acknowledged");
        // Soon after the outage: the store's failures lengthened only the
        // wait for the store, not the wait before WeCom's next attempt.
        let soon = outage_ends + 6000;
        tokio::time::sleep(Duration::from_millis(soon.saturating_sub(world.now_ms()))).await;
        let (app, _, _) = world.app_of(1).expect("instance 1 runs");
        let stored = app.authorizations().await.expect("the store is back");
        if stored.iter().any(|a| a.corp_id.as_str() == CORP) {
            Vec::new()
        } else {
            vec![format!("6 s after the outage the corp is not stored yet (at {} ms)", world.now_ms())]
        }
    });
    assert!(broken.is_empty(), "{broken:#?}");
}

/// An instance paused by WeCom's rate limit (120 s) past its lease keeps
/// the lease (renewed while held), and a journal write is fenced: another
/// instance that WeCom's retry of the push reached cannot exchange the code
/// meanwhile, and the first cannot then record it failed over the other's
/// success.
#[test]
fn an_instance_paused_past_its_lease_cannot_overwrite_another_instances_exchange() {
    fn long_pause(config: &mut Config) {
        config.http.rate_limit_pause = 120.0;
    }
    let broken = scenario(Some(long_pause), |world| async move {
        let (_, message) = install(&world);
        world.force_wecom(Some(1), "get_permanent_code", WeComFate::Errcode(45009), 1);
        assert!(world.push_to(Some(1), suite(), "create_auth", message.clone(), None).await);
        tokio::time::sleep(Duration::from_secs(65)).await;
        // WeCom's retry of the same push reaches the other instance.
        assert!(world.push_to(Some(2), suite(), "create_auth", message, None).await);
        Vec::new()
    });
    assert!(broken.is_empty(), "{broken:#?}");
}

/// A JS ticket fetched three levels deep (suite token, corp token, ticket),
/// each level through its timeouts and retries, outlasts the first term of
/// its lease (76 s against 67 s): the lease is renewed while held, so a
/// second instance asking meanwhile waits for the first's ticket instead of
/// fetching every level again.
#[test]
fn a_slow_three_level_fetch_keeps_its_lease_and_wecom_is_asked_once() {
    fn slow(config: &mut Config) {
        config.http.timeout = 8.0;
        config.tokens.refresh_lease = 67;
    }
    let broken = scenario(Some(slow), |world| async move {
        let code = world.wecom.lock().expect("wecom").installed_elsewhere(
            CORP,
            world.wecom_second(),
            world.now_ms(),
        );
        for path in ["get_suite_token", "get_corp_token", "get_jsapi_ticket"] {
            world.force_wecom(Some(1), path, WeComFate::Hang, 3);
        }
        let (first, _, _) = world.app_of(1).expect("up");
        first.corp(SUITE, CORP).permanent_code().set(code).await.expect("stored");
        let slow_fetch = tokio::spawn(async move { first.corp(SUITE, CORP).jsapi().ticket().await });
        tokio::time::sleep(Duration::from_secs(70)).await;
        let (second, _, _) = world.app_of(2).expect("up");
        let waited = second.corp(SUITE, CORP).jsapi().ticket().await;
        let fetched = slow_fetch.await.expect("ran");
        let mut broken = Vec::new();
        match (fetched, waited) {
            (Ok(a), Ok(b)) if a == b => {}
            other => broken.push(format!("the two instances got different tickets: {other:?}")),
        }
        let fetches = world.wecom.lock().expect("wecom").fetches.clone();
        for scope in ["jsapi:", "corp:", "suite:"] {
            let n = fetches.iter().filter(|f| f.scope.starts_with(scope)).count();
            if n != 1 {
                broken.push(format!("{scope} fetched {n} times"));
            }
        }
        broken
    });
    assert!(broken.is_empty(), "{broken:#?}");
}
