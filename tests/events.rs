//! Every sample in spec/events.yaml decodes into its own kind; unknown kinds
//! are kept raw. Driven by the spec, so a new event is covered without a new test.

use std::path::PathBuf;

use wecom_openwork::events::{Event, RawEvent};

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
