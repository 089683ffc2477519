//! 微信客服 through the public API, as an ISV's app runs it: WeCom pushes
//! `kf_msg_or_event` to the data URL; the typed handler gets the push's
//! `Token`; `sync_msg` reads the messages with it; `send_msg` answers the
//! customer. The emulator pushes (sealed for the corp) and answers the calls.

mod common;

use std::time::Duration;

use common::{config, pushing_emulator, serve_callbacks, CORP, SUITE};
use futures_util::TryStreamExt;
use serde_json::{json, Value};
use wecom_openwork::api::kf::types::{KfMessage, SyncMsgRequest};
use wecom_openwork::emulator::{PushError, PushTarget, KF_TOKEN_LIFETIME};
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

/// What a customer wrote, in the order `sync_msg` returned it.
fn texts(messages: &[KfMessage]) -> Vec<String> {
    messages
        .iter()
        .map(|m| m.text.get("content").and_then(Value::as_str).unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn customers_messages_are_read_once_over_the_cursor_with_the_pushed_token_and_answered() {
    let (emulator, app, clock, listener) = pushing_emulator(config("http://127.0.0.1:1")).await;
    let (tokens, mut pushed) = tokio::sync::mpsc::unbounded_channel();
    let server = app.server().on::<KfMsgOrEvent, _, _>(move |event, _callback| {
        let _ = tokens.send(event.token.clone());
        async { Ok(Reply::Success) }
    });
    serve_callbacks(&server, listener);
    assert!(emulator.push_suite_ticket(SUITE).await.expect("pushed").acknowledged());
    emulator.authorize_corp(SUITE, CORP).await.expect("authorized");
    server.drain().await;
    let corp = app.corp(SUITE, CORP);

    // The corp's app adds a service account; it is listed.
    let added = corp.kf().add_account("咨询客服", "MEDIA_ID").await.expect("added");
    let account = added.open_kfid.expect("an account id");
    let listed = corp.kf().list_accounts().await.expect("listed");
    let names: Vec<_> = listed.account_list.iter().map(|a| (a.open_kfid.clone(), a.name.clone())).collect();
    assert_eq!(names, [(Some(account.clone()), Some("咨询客服".to_owned()))]);

    // Three messages from a customer: three pushes, each with its token.
    let mut token = String::new();
    for text in ["一", "二", "三"] {
        let record =
            emulator.kf_customer_writes(SUITE, CORP, &account, "wmCUSTOMER", text).await.expect("pushed");
        assert_eq!((record.status, record.body.as_str()), (200, "success"), "{record:?}");
        token = tokio::time::timeout(Duration::from_secs(10), pushed.recv())
            .await
            .expect("the handler ran")
            .expect("an event")
            .expect("the push carries a token");
    }

    // The stream reads them two at a time, in order, and stops after the
    // page with has_more 0; its next_cursor is where the next read starts.
    let first = SyncMsgRequest::new().token(token.clone()).limit(2).open_kfid(account.clone());
    let pages: Vec<_> = corp.kf().sync_msg_pages(first).try_collect().await.expect("every page");
    assert_eq!(pages.iter().map(|p| p.has_more).collect::<Vec<_>>(), [Some(1), Some(0)]);
    let read: Vec<KfMessage> = pages.iter().flat_map(|p| p.msg_list.clone()).collect();
    assert_eq!(texts(&read), ["一", "二", "三"]);
    assert!(read.iter().all(|m| m.open_kfid.as_deref() == Some(account.as_str()) && m.origin == Some(3)));
    let cursor = pages.last().and_then(|p| p.next_cursor.clone()).expect("a cursor to resume at");
    let sent: Vec<_> = emulator.requests().into_iter().filter(|r| r.path == "/cgi-bin/kf/sync_msg").collect();
    assert_eq!(sent.len(), 2, "one call per page");
    assert!(sent.iter().all(|r| r.body.as_ref().and_then(|b| b.get("token")) == Some(&json!(token))));

    // A later message: reading from the kept cursor gives only it.
    emulator.kf_customer_writes(SUITE, CORP, &account, "wmCUSTOMER", "四").await.expect("pushed");
    let token = pushed.recv().await.expect("an event").expect("a token");
    let next = corp.kf().sync_msg().token(token.clone()).cursor(cursor.clone()).await.expect("read");
    assert_eq!((texts(&next.msg_list), next.has_more), (vec!["四".to_owned()], Some(0)));

    // A token WeCom never pushed, and the pushed one once its 10 minutes
    // are over, are refused; reading without a token still works.
    let forged = corp.kf().sync_msg().token("ENCnot-pushed").await.expect_err("refused");
    assert_eq!(forged.code(), Some(95007), "{forged}");
    clock.advance(KF_TOKEN_LIFETIME + Duration::from_secs(1));
    let expired = corp.kf().sync_msg().token(token).cursor(cursor.clone()).await.expect_err("expired");
    assert_eq!(expired.code(), Some(95007), "{expired}");
    let untokened = corp.kf().sync_msg().cursor(cursor).await.expect("read without a token");
    assert_eq!(texts(&untokened.msg_list), ["四"]);

    // The answer goes out on the account the message came to; an account
    // the corp does not have is refused.
    let customer = read[0].external_userid.clone().expect("the customer");
    let mut text = serde_json::Map::new();
    text.insert("content".into(), Value::from("收到"));
    let reply = corp.kf().send_msg(customer.clone(), account.clone(), "text").text(text.clone()).await;
    assert!(reply.expect("sent").msgid.is_some());
    let wrong = corp.kf().send_msg(customer, "wkNOSUCH", "text").text(text).await.expect_err("refused");
    assert_eq!(wrong.code(), Some(95000), "{wrong}");

    // Once the account is deleted, no customer can write to it.
    corp.kf().del_account(account.clone()).await.expect("deleted");
    let gone = emulator.kf_customer_writes(SUITE, CORP, &account, "wmCUSTOMER", "五").await;
    assert!(matches!(gone, Err(PushError::UnknownKfAccount { .. })), "{gone:?}");
}
