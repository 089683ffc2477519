//! 微信客服 through the public API, as an ISV's app runs it: WeCom pushes
//! `kf_msg_or_event` to the data URL; the typed handler gets the push's
//! `Token`; `sync_msg` reads the messages with it; `send_msg` answers the
//! customer. The emulator pushes (sealed for the corp) and answers the calls.

mod common;

use std::time::Duration;

use common::{config, pushing_emulator, serve_callbacks, CORP, SUITE};
use serde_json::{json, Value};
use wecom_openwork::emulator::PushTarget;
use wecom_openwork::events::KfMsgOrEvent;
use wecom_openwork::server::Reply;

const PUSHED_TOKEN: &str = "ENCApHxnGDNAVNY4AaSJKj4Tb5mwsEMzxhFmHVGcra996NR";

#[tokio::test]
async fn a_kf_push_hands_its_token_to_sync_msg_and_the_reply_goes_out_with_send_msg() {
    let (emulator, app, _clock, listener) = pushing_emulator(config("http://127.0.0.1:1")).await;
    let (tokens, mut pushed) = tokio::sync::mpsc::unbounded_channel();
    let server = app.server().on::<KfMsgOrEvent, _, _>(move |event, _callback| {
        let _ = tokens.send(event);
        async { Ok(Reply::Success) }
    });
    serve_callbacks(&server, listener);
    // The install as WeCom runs it: a ticket, then the corp authorizes and
    // the server exchanges and stores the permanent code.
    assert!(emulator.push_suite_ticket(SUITE).await.expect("pushed").acknowledged());
    emulator.authorize_corp(SUITE, CORP).await.expect("authorized");
    server.drain().await;

    let xml = format!(
        "<xml><ToUserName><![CDATA[{CORP}]]></ToUserName><CreateTime>1348831860</CreateTime>\
         <MsgType><![CDATA[event]]></MsgType><Event><![CDATA[kf_msg_or_event]]></Event>\
         <Token><![CDATA[{PUSHED_TOKEN}]]></Token></xml>"
    );
    let record = emulator.push_event(SUITE, CORP, &xml, PushTarget::Data).await.expect("pushed");
    assert_eq!((record.status, record.body.as_str()), (200, "success"), "{record:?}");
    let event = tokio::time::timeout(Duration::from_secs(10), pushed.recv())
        .await
        .expect("the handler ran")
        .expect("an event");
    assert_eq!(event.event.as_deref(), Some("kf_msg_or_event"));
    let token = event.token.clone().expect("the push's token");
    assert_eq!(token, PUSHED_TOKEN);
    assert!(!format!("{event:?}").contains(PUSHED_TOKEN), "Debug hides the token: {event:?}");

    // Read what the push announced, with its token.
    let kf = app.corp(SUITE, CORP);
    let messages = kf.kf().sync_msg().token(token.clone()).limit(1000).await.expect("sync_msg");
    let sent = emulator.requests().into_iter().rfind(|r| r.path == "/cgi-bin/kf/sync_msg").expect("sent");
    assert_eq!(sent.body.as_ref().and_then(|b| b.get("token")), Some(&json!(token)), "{sent:?}");
    assert_eq!(sent.body.as_ref().and_then(|b| b.get("limit")), Some(&json!(1000)));
    let first = messages.msg_list.first().expect("the sample's messages decode");
    let (customer, account) = (
        first.external_userid.clone().expect("a customer"),
        first.open_kfid.clone().expect("the kf account"),
    );

    // Answer the customer on the account the message came to.
    let mut text = serde_json::Map::new();
    text.insert("content".into(), Value::from("你好，已收到"));
    let reply =
        kf.kf().send_msg(customer.clone(), account.clone(), "text").text(text).await.expect("send_msg");
    assert!(reply.msgid.is_some(), "{reply:?}");
    let sent = emulator.requests().into_iter().rfind(|r| r.path == "/cgi-bin/kf/send_msg").expect("sent");
    assert_eq!(
        sent.body,
        Some(
            json!({ "touser": customer, "open_kfid": account, "msgtype": "text", "text": { "content": "你好，已收到" } })
        )
    );
}
