//! `events.yaml` to Rust, and the refusals that name the element at fault.

use wecom_openwork_codegen::generate_events;

const GOOD: &str = r#"
command:
  - info_type: suite_ticket
    type: SuiteTicket
    summary: The suite ticket.
    doc: https://developer.work.weixin.qq.com/document/path/90628
    url: command
    fields:
      SuiteId: { type: string, description: The suite. }
      TimeStamp: { type: integer, description: When. }
    example: |
      <xml><SuiteId><![CDATA[ww4]]></SuiteId><TimeStamp>1</TimeStamp></xml>
  - info_type: change_contact
    type: ChangeContact
    summary: Contacts changed.
    doc: https://developer.work.weixin.qq.com/document/path/90639
    url: command
    fields:
      ChangeType: { type: string, description: What changed. }
    changes:
      - change_type: create_user
        type: CreateUser
        summary: A member was created.
        fields:
          UserID: { type: string, description: The member. }
          ExtAttr:
            type: list
            item: Item
            description: Extra attributes.
            fields:
              Name: { type: string, description: Name. }
        example: |
          <xml><ChangeType>create_user</ChangeType><UserID>u</UserID><ExtAttr><Item><Name>a</Name></Item></ExtAttr></xml>
data:
  common:
    MsgType: { type: string, description: Kind. }
  messages:
    - msg_type: text
      type: TextMessage
      summary: A text message.
      doc: https://developer.work.weixin.qq.com/document/path/90240
      fields:
        Content: { type: string, description: Text. }
  events:
    - event: subscribe
      type: SubscribeEvent
      summary: Subscribed.
      doc: https://developer.work.weixin.qq.com/document/path/90240
      fields:
        Event: { type: string, description: subscribe. }
"#;

#[test]
fn events_become_types_and_one_enum() {
    let file = generate_events(GOOD).expect("valid");
    let rust = &file.contents;
    assert_eq!(file.name, "events.rs");
    for needle in [
        "pub struct SuiteTicket",
        "pub time_stamp: ::std::option::Option<i64>",
        "pub struct ChangeContactCreateUser",
        "pub enum ChangeContact",
        "pub struct ChangeContactCreateUserExtAttr",
        "pub user_id: ::std::option::Option<::std::string::String>",
        "\"change_contact.create_user\"",
        "\"event.subscribe\"",
        "pub enum Event",
    ] {
        assert!(rust.contains(needle), "{needle} missing");
    }
}

#[test]
fn undeclared_example_elements_are_refused() {
    let bad = GOOD.replace("<UserID>u</UserID>", "<UserId>u</UserId>");
    let err = generate_events(&bad).unwrap_err();
    assert!(err.message.contains("undeclared element `UserId`"), "{err}");
    assert_eq!(err.field.as_deref(), Some("command.change_contact.changes.create_user.example"));
    let bad = GOOD.replace("<Name>a</Name>", "<Nam>a</Nam>");
    let err = generate_events(&bad).unwrap_err();
    assert!(err.message.contains("ExtAttr/Item/Nam"), "{err}");
}

#[test]
fn missing_descriptions_and_duplicates_are_refused() {
    let err = generate_events(
        &GOOD.replace("{ type: string, description: The member. }", "{ type: string, description: \"\" }"),
    )
    .unwrap_err();
    assert!(err.message.contains("missing description"), "{err}");
    let err = generate_events(&GOOD.replace("type: TextMessage", "type: SuiteTicket")).unwrap_err();
    assert!(err.message.contains("used twice"), "{err}");
    let err = generate_events(&GOOD.replace(
        "url: command\n    fields:\n      ChangeType",
        "url: somewhere\n    fields:\n      ChangeType",
    ))
    .unwrap_err();
    assert!(err.message.contains("unknown variant"), "{err}");
}
