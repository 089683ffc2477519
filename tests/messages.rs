//! Every kind of app message serializes exactly as WeCom's official sample
//! of it (`tests/vectors/messages/`), and goes out that way: each sample
//! decodes into its typed variant, encodes back to the same JSON, and is what
//! the emulator receives when sent.

mod common;

use std::path::PathBuf;

use common::{app_on_emulator, CORP, SUITE};
use serde_json::Value;
use wecom_openwork::api::message::types::{AppMessage, SendMessageRequest, TemplateCard, TextContent};

fn vector(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/vectors/messages/{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).expect("valid JSON")
}

/// The sample decodes into the typed request (checked by `is_kind`), encodes
/// back to the same JSON, and is sent as it is.
async fn sample_round_trips_and_is_sent(name: &str, is_kind: fn(&AppMessage) -> bool) {
    let sample = vector(name);
    let request: SendMessageRequest = serde_json::from_value(sample.clone()).expect("decodes");
    assert!(is_kind(&request.message), "{name}: decoded as {:?}", request.message);
    assert_eq!(serde_json::to_value(&request).expect("encodes"), sample, "{name}: encoded differently");

    let (emulator, app, _clock) = app_on_emulator().await;
    emulator.clear_requests();
    let reply = app.corp(SUITE, CORP).message().send_with(request).await.expect("sent");
    assert!(reply.msgid.is_some(), "{name}: {reply:?}");
    let sent = emulator.requests().pop().expect("recorded");
    assert_eq!(sent.path, "/cgi-bin/message/send");
    assert_eq!(sent.body.as_ref(), Some(&sample), "{name}: what went out");
}

macro_rules! kinds {
    ($($test:ident: $file:literal => $pattern:pat,)*) => {
        $(
            #[tokio::test]
            async fn $test() {
                sample_round_trips_and_is_sent($file, |m| matches!(m, $pattern)).await;
            }
        )*
    };
}

kinds! {
    text: "text" => AppMessage::Text { .. },
    image: "image" => AppMessage::Image { .. },
    voice: "voice" => AppMessage::Voice { .. },
    video: "video" => AppMessage::Video { .. },
    file: "file" => AppMessage::File { .. },
    textcard: "textcard" => AppMessage::Textcard { .. },
    news: "news" => AppMessage::News { .. },
    mpnews: "mpnews" => AppMessage::Mpnews { .. },
    markdown: "markdown" => AppMessage::Markdown { .. },
    miniprogram_notice: "miniprogram_notice" => AppMessage::MiniprogramNotice { .. },
    template_card_text_notice: "template_card_text_notice"
        => AppMessage::TemplateCard { template_card: TemplateCard::TextNotice(_) },
    template_card_news_notice: "template_card_news_notice"
        => AppMessage::TemplateCard { template_card: TemplateCard::NewsNotice(_) },
    template_card_button_interaction: "template_card_button_interaction"
        => AppMessage::TemplateCard { template_card: TemplateCard::ButtonInteraction(_) },
    template_card_vote_interaction: "template_card_vote_interaction"
        => AppMessage::TemplateCard { template_card: TemplateCard::VoteInteraction(_) },
    template_card_multiple_interaction: "template_card_multiple_interaction"
        => AppMessage::TemplateCard { template_card: TemplateCard::MultipleInteraction(_) },
}

#[test]
fn a_text_message_built_with_the_typed_api_is_the_official_sample() {
    let sample = vector("text");
    let content = sample["text"]["content"].as_str().expect("content").to_owned();
    let request = SendMessageRequest::new(TextContent::new(content))
        .touser("UserID1|UserID2|UserID3")
        .toparty("PartyID1|PartyID2")
        .totag("TagID1 | TagID2")
        .agentid(1)
        .safe(0)
        .enable_id_trans(0)
        .enable_duplicate_check(0)
        .duplicate_check_interval(1800);
    assert_eq!(serde_json::to_value(&request).expect("encodes"), sample);
}

#[test]
fn a_message_kind_wecom_does_not_know_is_refused_when_decoding() {
    let mut sample = vector("text");
    sample["msgtype"] = Value::from("hologram");
    assert!(serde_json::from_value::<SendMessageRequest>(sample).is_err());
}

#[test]
fn the_unreached_recipients_come_as_lists() {
    use wecom_openwork::api::message::types::SendMessageReply;
    let reply: SendMessageReply = serde_json::from_value(serde_json::json!({
        "errcode": 0, "errmsg": "ok",
        "invaliduser": "userid1|userid2", "invalidparty": "", "invalidtag": "tagid1",
        "unlicenseduser": "userid3|userid4", "msgid": "xxxx"
    }))
    .expect("decodes");
    assert_eq!(reply.invalid_users(), vec!["userid1", "userid2"]);
    assert!(reply.invalid_parties().is_empty());
    assert_eq!(reply.invalid_tags(), vec!["tagid1"]);
    assert_eq!(reply.unlicensed_users(), vec!["userid3", "userid4"]);
    assert!(!reply.reached_everyone());
    let clean: SendMessageReply = serde_json::from_value(serde_json::json!({"msgid": "m"})).expect("decodes");
    assert!(clean.reached_everyone());
}
