//! The emulator pushes as WeCom pushes: its incoming envelope as `text/xml`,
//! retried until answered `success` (3 attempts), every ticket due in an
//! advanced span, any event to a suite's data URL encrypted for the corp.

mod emulator_listener;

use std::time::{Duration, UNIX_EPOCH};

use emulator_listener::{element, emulator_config, Listener, CORP, QUIET_SUITE, SUITE};
use wecom_openwork::clock::{Clock, ManualClock};
use wecom_openwork::emulator::{Emulator, EmulatorConfig, PushError, PushTarget, PUSH_ATTEMPTS};

async fn emulator_for(listener: &Listener) -> Emulator {
    emulator_with(emulator_config(&listener.base)).await
}

async fn emulator_with(config: EmulatorConfig) -> Emulator {
    Emulator::bind("127.0.0.1:0".parse().expect("addr"), ManualClock::starting_now(), config)
        .await
        .expect("emulator")
}

/// A text message as WeCom pushes it to a data URL.
fn text_message(agent_id: &str) -> String {
    format!(
        "<xml><ToUserName><![CDATA[{CORP}]]></ToUserName><FromUserName><![CDATA[zhangsan]]></FromUserName><CreateTime>1348831860</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[hello]]></Content><MsgId>1234567890123456</MsgId><AgentID>{agent_id}</AgentID></xml>"
    )
}

#[tokio::test]
async fn a_push_is_wecoms_incoming_envelope_as_text_xml() {
    let listener = Listener::start().await;
    let emulator = emulator_for(&listener).await;
    let record = emulator.push_suite_ticket(SUITE).await.expect("pushed");
    assert!(record.acknowledged(), "{record:?}");
    assert_eq!((record.attempt, record.receive_id.as_str()), (1, SUITE));

    let received = listener.received();
    assert_eq!(received.len(), 1);
    let push = &received[0];
    assert_eq!((push.method.as_str(), push.path.as_str()), ("POST", "/command"));
    assert_eq!(push.content_type.as_deref(), Some("text/xml"));
    for name in ["msg_signature", "timestamp", "nonce"] {
        assert!(push.query.contains_key(name), "{name} in the query: {push:?}");
    }
    // Exactly the incoming envelope: no element of the reply envelope.
    assert!(push.body.starts_with("<xml><ToUserName><![CDATA["), "{}", push.body);
    for reply_only in ["MsgSignature", "TimeStamp", "Nonce"] {
        assert!(!push.body.contains(reply_only), "{reply_only} in {}", push.body);
    }
    assert!(push.body.contains("<AgentID><![CDATA[]]></AgentID>"), "{}", push.body);
    let (to, agent, opened) = push.open(SUITE);
    assert_eq!((to.as_str(), agent.as_str()), (SUITE, ""));
    let message = opened.expect("decrypts for the suite id");
    assert_eq!(element(&message, "InfoType").as_deref(), Some("suite_ticket"));
    let ticket = emulator.suite_ticket(SUITE).expect("a ticket");
    assert_eq!(element(&message, "SuiteTicket"), Some(ticket));
}

#[tokio::test]
async fn a_push_not_answered_success_is_tried_three_times() {
    let listener = Listener::start().await;
    let emulator = emulator_for(&listener).await;
    listener.answer_next(&[(500, "busy"), (200, "not success")]);
    let record = emulator.push_suite_ticket(SUITE).await.expect("pushed");
    assert!(record.acknowledged(), "{record:?}");
    assert_eq!(record.attempt, 3);

    let received = listener.received();
    assert_eq!(received.len(), 3);
    assert!(
        received.iter().all(|r| r.body == received[0].body && r.query == received[0].query),
        "the same push"
    );
    let attempts: Vec<(u32, u16, String)> =
        emulator.pushes().into_iter().map(|p| (p.attempt, p.status, p.body)).collect();
    assert_eq!(
        attempts,
        [(1, 500, "busy".to_owned()), (2, 200, "not success".to_owned()), (3, 200, "success".to_owned())]
    );
}

#[tokio::test]
async fn a_push_is_given_up_after_three_attempts() {
    let listener = Listener::start().await;
    let emulator = emulator_for(&listener).await;
    listener.answer_next(&[(503, ""), (503, ""), (503, "")]);
    let auth_code = emulator.authorize_corp(SUITE, CORP).await.expect("the code is issued anyway");
    assert!(!auth_code.is_empty());
    assert_eq!(listener.received().len(), PUSH_ATTEMPTS as usize, "no fourth attempt");
    let pushes = emulator.pushes();
    assert_eq!(pushes.len(), 3);
    assert!(pushes.iter().all(|p| p.info_type == "create_auth" && p.status == 503 && !p.acknowledged()));
}

#[tokio::test]
async fn a_refused_connection_is_retried_too() {
    // Nothing ever listens on port 0: every connection is refused. (A port
    // bound and released here could be handed to another test meanwhile.)
    let emulator = emulator_with(emulator_config("http://127.0.0.1:0")).await;
    let record = emulator.push_suite_ticket(SUITE).await.expect("pushed");
    assert_eq!((record.attempt, record.status), (3, 0), "{record:?}");
    let pushes = emulator.pushes();
    assert_eq!(pushes.iter().map(|p| p.attempt).collect::<Vec<_>>(), [1, 2, 3]);
    assert!(pushes.iter().all(|p| p.body.starts_with("connection failed")), "{pushes:?}");
}

#[tokio::test]
async fn an_hour_of_advance_pushes_six_tickets_each_at_its_time() {
    let listener = Listener::start().await;
    let emulator = emulator_for(&listener).await;
    emulator.push_suite_ticket(SUITE).await.expect("pushed");
    let start = emulator.clock().now().duration_since(UNIX_EPOCH).expect("after 1970").as_secs();

    let tickets = emulator.advance(Duration::from_secs(3600));
    emulator.settle().await;
    assert_eq!(tickets.len(), 6, "{tickets:?}");
    assert!(tickets.iter().all(|t| t.suite_id == SUITE), "no ticket for the suite without a URL");
    let due: Vec<u64> = tickets.iter().map(|t| t.timestamp).collect();
    assert_eq!(due, (1..=6).map(|k| start + 600 * k).collect::<Vec<_>>());

    let received = listener.received();
    assert_eq!(received.len(), 7, "the first push and six");
    let pushed: Vec<(u64, String)> = received[1..]
        .iter()
        .map(|r| {
            let message = r.open(SUITE).2.expect("decrypts");
            let at = element(&message, "TimeStamp").expect("TimeStamp").parse().expect("seconds");
            (at, element(&message, "SuiteTicket").expect("ticket"))
        })
        .collect();
    let expected: Vec<(u64, String)> = tickets.iter().map(|t| (t.timestamp, t.ticket.clone())).collect();
    assert_eq!(pushed, expected, "each ticket pushed in order with its own time");
    assert_eq!(emulator.suite_ticket(SUITE), tickets.last().map(|t| t.ticket.clone()));
    assert!(emulator.pushes().iter().all(|p| p.acknowledged()));

    // Less than 10 minutes more: nothing is due.
    assert!(emulator.advance(Duration::from_secs(599)).is_empty());
    emulator.settle().await;
    assert_eq!(listener.received().len(), 7);
}

#[tokio::test]
async fn the_schedule_starts_with_the_emulator_when_no_ticket_was_pushed() {
    let listener = Listener::start().await;
    let emulator = emulator_for(&listener).await;
    assert!(emulator.advance(Duration::from_secs(599)).is_empty());
    let tickets = emulator.advance(Duration::from_secs(3600 - 599));
    emulator.settle().await;
    assert_eq!(tickets.len(), 6, "{tickets:?}");
    assert_eq!(listener.received().len(), 6);
}

#[tokio::test]
async fn an_event_goes_to_the_data_url_encrypted_for_the_corp() {
    let listener = Listener::start().await;
    let emulator = emulator_for(&listener).await;
    let xml = text_message("1000002");
    let record = emulator.push_event(SUITE, CORP, &xml, PushTarget::Data).await.expect("pushed");
    assert!(record.acknowledged(), "{record:?}");
    assert_eq!((record.receive_id.as_str(), record.info_type.as_str()), (CORP, "text"));

    let received = listener.received();
    assert_eq!(received.len(), 1);
    let push = &received[0];
    assert_eq!(push.path, format!("/data/{CORP}"), "$CORPID$ replaced");
    assert_eq!(push.content_type.as_deref(), Some("text/xml"));
    let (to, agent, opened) = push.open(CORP);
    assert_eq!((to.as_str(), agent.as_str()), (CORP, "1000002"));
    assert_eq!(opened.expect("decrypts for the corp id"), xml);
    assert!(push.open(SUITE).2.is_err(), "not encrypted for the suite id");
}

#[tokio::test]
async fn an_event_can_go_to_the_command_url_for_the_suite() {
    let listener = Listener::start().await;
    let emulator = emulator_for(&listener).await;
    let xml = format!(
        "<xml><SuiteId><![CDATA[{SUITE}]]></SuiteId><AuthCorpId><![CDATA[{CORP}]]></AuthCorpId><InfoType><![CDATA[change_contact]]></InfoType><TimeStamp>1403610513</TimeStamp><ChangeType><![CDATA[create_user]]></ChangeType><UserID><![CDATA[zhangsan]]></UserID></xml>"
    );
    let record = emulator.push_event(SUITE, CORP, &xml, PushTarget::Command).await.expect("pushed");
    assert_eq!((record.receive_id.as_str(), record.info_type.as_str()), (SUITE, "change_contact"));
    let push = &listener.received()[0];
    assert_eq!(push.path, "/command");
    let (to, agent, opened) = push.open(SUITE);
    assert_eq!((to.as_str(), agent.as_str()), (SUITE, ""));
    assert_eq!(opened.expect("decrypts for the suite id"), xml);
}

#[tokio::test]
async fn pushes_that_cannot_be_made_are_typed_errors() {
    let listener = Listener::start().await;
    let emulator = emulator_for(&listener).await;
    let xml = text_message("1");
    let err = emulator.push_event(SUITE, CORP, "not xml <", PushTarget::Data).await.unwrap_err();
    assert!(matches!(err, PushError::InvalidEvent(_)), "{err:?}");
    let err = emulator.push_event("wwnobody", CORP, &xml, PushTarget::Data).await.unwrap_err();
    assert_eq!(err, PushError::UnknownSuite("wwnobody".into()));
    let err = emulator.push_event(QUIET_SUITE, CORP, &xml, PushTarget::Data).await.unwrap_err();
    assert!(matches!(err, PushError::NoUrl { target: PushTarget::Data, .. }), "{err:?}");
    let err = emulator.push_event(SUITE, "", &xml, PushTarget::Data).await.unwrap_err();
    assert_eq!(err, PushError::MissingCorp);
    let err = emulator.push_suite_ticket(QUIET_SUITE).await.unwrap_err();
    assert!(matches!(err, PushError::NoUrl { target: PushTarget::Command, .. }), "{err:?}");
    assert!(emulator.suite_ticket(QUIET_SUITE).is_none(), "no ticket issued for a push that cannot be made");
    assert!(listener.received().is_empty());
}

#[tokio::test]
async fn realtime_pushes_a_ticket_at_start() {
    let listener = Listener::start().await;
    let config = EmulatorConfig { realtime: true, ..emulator_config(&listener.base) };
    let emulator = emulator_with(config).await;
    let received = listener.wait_for(1).await;
    let message = received[0].open(SUITE).2.expect("decrypts");
    assert_eq!(element(&message, "InfoType").as_deref(), Some("suite_ticket"));
    assert_eq!(element(&message, "SuiteTicket"), emulator.suite_ticket(SUITE));
}
