//! Every sample in spec/events.yaml decodes into its own kind; unknown kinds
//! are kept raw. Driven by the spec, so a new event is covered without a new test.

use std::path::PathBuf;

use wecom_openwork::events::{self, Event, RawEvent, TypedEvent};

#[test]
fn every_documented_sample_decodes_into_its_kind() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("spec/events.yaml");
    let spec = wecom_openwork_codegen::events::parse(&std::fs::read_to_string(path).expect("readable"))
        .expect("valid");
    let mut samples = Vec::new();
    for e in &spec.command {
        samples.extend(e.example.iter().map(|x| (e.info_type.clone(), x.clone())));
        for c in &e.changes {
            samples
                .extend(c.example.iter().map(|x| (format!("{}.{}", e.info_type, c.change_type), x.clone())));
        }
    }
    for m in &spec.data.messages {
        samples.extend(m.example.iter().map(|x| (m.msg_type.clone(), x.clone())));
    }
    for d in &spec.data.events {
        samples.extend(d.example.iter().map(|x| (format!("event.{}", d.event), x.clone())));
    }
    assert!(samples.len() >= 50, "only {} samples", samples.len());
    for (kind, xml) in samples {
        let event = Event::parse(&xml).unwrap_or_else(|e| panic!("{kind}: {e}"));
        assert_eq!(event.kind(), kind, "{xml}");
    }
}

#[test]
fn unknown_kinds_and_odd_values_are_kept_not_refused() {
    let event = Event::parse("<xml><InfoType>from_the_future</InfoType><X> 1 </X></xml>").expect("parses");
    assert!(matches!(&event, Event::Unknown(RawEvent { fields }) if fields["X"] == "1"));
    assert_eq!(event.kind(), "unknown");
    let event =
        Event::parse("<xml><InfoType>change_contact</InfoType><ChangeType>merge_users</ChangeType></xml>")
            .expect("parses");
    assert_eq!(event.kind(), "change_contact");
    // A number field that is not a number decodes as absent, not as an error.
    let event = Event::parse(
        "<xml><InfoType>suite_ticket</InfoType><TimeStamp>soon</TimeStamp><SuiteTicket>t</SuiteTicket></xml>",
    )
    .expect("parses");
    match event {
        Event::SuiteTicket(ticket) => {
            assert_eq!(ticket.time_stamp, None);
            assert_eq!(ticket.suite_ticket.as_deref(), Some("t"));
        }
        other => panic!("{other:?}"),
    }
    // JSON callbacks decode the same way.
    let event = Event::parse(r#"{"InfoType":"suite_ticket","SuiteTicket":"t","TimeStamp":1403610513}"#)
        .expect("parses");
    assert!(matches!(event, Event::SuiteTicket(ref t) if t.time_stamp == Some(1_403_610_513)), "{event:?}");
}

#[test]
fn typed_events_find_themselves() {
    let ticket = Event::parse("<xml><InfoType>suite_ticket</InfoType><SuiteTicket>t</SuiteTicket></xml>")
        .expect("parses");
    assert_eq!(events::SuiteTicket::KIND, ticket.kind());
    assert!(events::SuiteTicket::from_event(&ticket).is_some());
    assert!(events::CreateAuth::from_event(&ticket).is_none());
    let user = Event::parse(
        "<xml><InfoType>change_contact</InfoType><ChangeType>update_user</ChangeType><UserID>u</UserID></xml>",
    )
    .expect("parses");
    assert_eq!(events::ChangeContactUpdateUser::KIND, "change_contact.update_user");
    let found = events::ChangeContactUpdateUser::from_event(&user).expect("an update_user");
    assert_eq!(found.user_id.as_deref(), Some("u"));
    // Variants do not repeat the enum's name.
    let subscribe =
        Event::parse("<xml><MsgType>event</MsgType><Event>subscribe</Event></xml>").expect("parses");
    assert!(matches!(subscribe, Event::Subscribe(_)));
    assert_eq!(events::SubscribeEvent::KIND, "event.subscribe");
}

/// The text of every `<element>` named in `names`, CDATA or not.
fn element_texts(xml: &str, names: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for name in names {
        let (open, close) = (format!("<{name}>"), format!("</{name}>"));
        let mut rest = xml;
        while let Some(start) = rest.find(&open) {
            let after = &rest[start + open.len()..];
            let Some(end) = after.find(&close) else { break };
            let text = after[..end].trim().trim_start_matches("<![CDATA[").trim_end_matches("]]>").trim();
            if !text.is_empty() {
                out.push(text.to_owned());
            }
            rest = &after[end..];
        }
    }
    out
}

fn sensitive_elements(fields: &wecom_openwork_codegen::events::Fields, out: &mut Vec<String>) {
    for (name, field) in fields {
        if field.sensitive {
            out.push(name.clone());
        }
        if let Some(inner) = &field.fields {
            sensitive_elements(inner, out);
        }
    }
}

#[test]
fn debug_never_shows_a_sensitive_element() {
    use wecom_openwork_codegen::events::{merged_fields, Fields};
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("spec/events.yaml");
    let spec = wecom_openwork_codegen::events::parse(&std::fs::read_to_string(path).expect("readable"))
        .expect("valid");
    let mut samples: Vec<(Fields, String)> = Vec::new();
    for e in &spec.command {
        let fields = merged_fields(&spec, &[(&e.include, &e.fields)]);
        samples.extend(e.example.iter().map(|x| (fields.clone(), x.clone())));
        for c in &e.changes {
            let fields = merged_fields(&spec, &[(&e.include, &e.fields), (&c.include, &c.fields)]);
            samples.extend(c.example.iter().map(|x| (fields.clone(), x.clone())));
        }
    }
    let mut checked = 0;
    for (fields, xml) in samples {
        let mut names = Vec::new();
        sensitive_elements(&fields, &mut names);
        let event = Event::parse(&xml).expect("parses");
        let shown = format!("{event:?}");
        for secret in element_texts(&xml, &names) {
            assert!(!shown.contains(&secret), "Debug shows `{secret}`: {shown}");
            checked += 1;
        }
    }
    assert!(checked >= 5, "only {checked} sensitive elements in the samples");
}

/// Decoding borrowed fields gives the same event as decoding owned ones,
/// known kinds and unknown alike.
#[test]
fn borrowed_fields_decode_as_owned_ones() {
    let cases = [
        serde_json::json!({"SuiteId": "ww1", "InfoType": "create_auth", "AuthCode": "A", "TimeStamp": "1"}),
        serde_json::json!({"SuiteId": "ww1", "InfoType": "change_contact", "ChangeType": "create_user", "UserID": "u"}),
        serde_json::json!({"SuiteId": "ww1", "InfoType": "change_contact", "ChangeType": "a_new_one"}),
        serde_json::json!({"ToUserName": "c", "MsgType": "event", "Event": "subscribe"}),
        serde_json::json!({"Foo": "bar"}),
    ];
    let mut kinds = Vec::new();
    for case in cases {
        let serde_json::Value::Object(fields) = case else { unreachable!("objects") };
        let borrowed = Event::from_field_map(&fields);
        assert_eq!(borrowed, Event::from_fields(fields.clone()), "{fields:?}");
        kinds.push(borrowed.kind());
    }
    assert_eq!(
        kinds,
        ["create_auth", "change_contact.create_user", "change_contact", "event.subscribe", "unknown"]
    );
}

#[test]
fn a_text_element_repeated_side_by_side_is_a_list_however_many_come() {
    let event = |ids: &str| {
        let xml = format!(
            "<xml><MsgType>event</MsgType><Event>doc_change</Event><ChangeType>delete_doc</ChangeType>{ids}</xml>"
        );
        match Event::parse(&xml).expect("parses") {
            Event::DocChange(change) => change,
            other => panic!("{other:?}"),
        }
    };
    let two = event("<DocId><![CDATA[doc-a]]></DocId><DocId>doc-b</DocId>");
    assert_eq!(two.doc_id, ["doc-a", "doc-b"]);
    assert_eq!(two.change_type.as_deref(), Some("delete_doc"));
    assert_eq!(event("<DocId>doc-a</DocId>").doc_id, ["doc-a"], "one is a list of one");
    assert!(event("").doc_id.is_empty(), "none is an empty list");
    assert_eq!(event("<DocId>42</DocId>").doc_id, ["42"], "digits stay text");
}
