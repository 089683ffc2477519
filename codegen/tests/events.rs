//! `events.yaml` to Rust, and the refusals that name the element at fault.

use wecom_openwork_codegen::{generate_events, SpecError};

const GOOD: &str = r#"# yaml-language-server: $schema=./events.schema.json
field_sets:
  suite_command:
    SuiteId: { type: string, description: The suite. }
    TimeStamp: { type: integer, description: When. }
  member:
    UserID: { type: string, description: The member. }
    ExtAttr:
      type: list
      item: Item
      description: Extra attributes.
      fields:
        Name: { type: string, description: Name. }
  data:
    MsgType: { type: string, description: Kind. }
command:
  - info_type: suite_ticket
    type: SuiteTicket
    summary: The suite ticket.
    doc: https://developer.work.weixin.qq.com/document/path/90628
    url: command
    include: [suite_command]
    fields:
      SuiteTicket: { type: string, description: The ticket., sensitive: true }
    example: |
      <xml><SuiteId><![CDATA[ww4]]></SuiteId><TimeStamp>1</TimeStamp><SuiteTicket>t</SuiteTicket></xml>
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
        include: [member]
        example: |
          <xml><ChangeType>create_user</ChangeType><UserID>u</UserID><ExtAttr><Item><Name>a</Name></Item></ExtAttr></xml>
      - change_type: update_user
        type: UpdateUser
        summary: A member was changed.
        include: [member]
        fields:
          NewUserID: { type: string, description: The new userid. }
data:
  include: [data]
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

fn refuse(text: &str) -> SpecError {
    match generate_events(text) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(e) => e,
    }
}

#[test]
fn events_become_types_and_one_enum() {
    let file = generate_events(GOOD).expect("valid");
    let rust = &file.contents;
    assert_eq!(file.name, "events.rs");
    for needle in [
        "pub struct SuiteTicket",
        "pub time_stamp: Option<i64>",
        "pub struct ChangeContactCreateUser",
        "pub enum ChangeContact",
        // The set's list is one type, shared by both change types.
        "pub struct ExtAttr {",
        "pub struct ExtAttrItem {",
        "pub ext_attr: Option<ExtAttr>",
        "#[serde(rename = \"UserID\", deserialize_with = \"crate::events::de::string\")]",
        "#[serde(default, rename_all = \"PascalCase\")]",
        "#[derive(Clone, Debug, Default, PartialEq, ::serde::Deserialize, ::serde::Serialize)]",
        "\"change_contact.create_user\"",
        "\"event.subscribe\"",
        "pub enum Event",
        // Variants do not repeat the enum's name.
        "Subscribe(SubscribeEvent)",
        "impl crate::events::TypedEvent for ChangeContactUpdateUser",
        "Event::ChangeContact(ChangeContact::UpdateUser(event)) => Some(event)",
        "const KIND: &'static str = \"event.subscribe\";",
        // A sensitive element is redacted from Debug.
        ".field(\"suite_ticket\", &self.suite_ticket.as_ref().map(|_| \"<redacted>\"))",
    ] {
        assert!(rust.contains(needle), "{needle} missing");
    }
    assert_eq!(rust.matches("pub struct ExtAttr {").count(), 1);
    assert!(!rust.contains("SubscribeEvent(SubscribeEvent)"));
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
    let err = refuse(
        &GOOD.replace("{ type: string, description: The member. }", "{ type: string, description: \"\" }"),
    );
    assert!(err.message.contains("missing description"), "{err}");
    let err = refuse(&GOOD.replace("type: TextMessage", "type: SuiteTicket"));
    assert!(err.message.contains("used twice"), "{err}");
    let err = refuse(&GOOD.replace(
        "url: command\n    fields:\n      ChangeType",
        "url: somewhere\n    fields:\n      ChangeType",
    ));
    assert!(err.message.contains("unknown variant"), "{err}");
}

#[test]
fn an_unknown_field_set_is_refused() {
    let err =
        refuse(&GOOD.replace("include: [member]\n        example", "include: [members]\n        example"));
    assert!(err.message.contains("no field set `members`"), "{err}");
    assert_eq!(err.field.as_deref(), Some("command.change_contact.changes.create_user.include"));
    let err = refuse(&GOOD.replace("include: [suite_command]", "include: [suite_command, suite_command]"));
    assert!(err.message.contains("twice"), "{err}");
    let err = refuse(&GOOD.replace("  suite_command:\n", "  SuiteCommand:\n"));
    assert!(err.message.contains("snake_case"), "{err}");
    assert_eq!(err.field.as_deref(), Some("field_sets.SuiteCommand"));
}

#[test]
fn only_strings_are_sensitive() {
    let err = refuse(&GOOD.replace(
        "TimeStamp: { type: integer, description: When. }",
        "TimeStamp: { type: integer, description: When., sensitive: true }",
    ));
    assert!(err.message.contains("only a string can be `sensitive`"), "{err}");
    assert_eq!(err.field.as_deref(), Some("field_sets.suite_command.TimeStamp"));
}

#[test]
fn variant_names_are_unique() {
    // `SubscribeEvent` is the variant `Subscribe`; a message type `Subscribe` would take it too.
    let err = refuse(&GOOD.replace("type: TextMessage", "type: Subscribe"));
    assert!(err.message.contains("variant `Event::Subscribe`"), "{err}");
    assert_eq!(err.field.as_deref(), Some("data.events.subscribe"));
}

#[test]
fn two_shapes_with_one_type_name_are_refused() {
    // A set's list is named after its element; another `ExtAttr` list of another shape cannot be.
    let bad = GOOD.replace(
        "  data:\n    MsgType",
        "  other:\n    ExtAttr: { type: list, item: Item, description: Other. }\n  data:\n    MsgType",
    );
    let err = refuse(&bad);
    assert!(err.message.contains("`ExtAttr`"), "{err}");
}

#[test]
fn the_first_line_names_the_schema() {
    let err = refuse(GOOD.trim_start_matches("# yaml-language-server: $schema=./events.schema.json"));
    assert!(err.message.contains("$schema=./events.schema.json"), "{err}");
    assert_eq!(err.file, "events.yaml");
}

#[test]
fn secret_named_elements_are_redacted_from_debug_sensitive_or_not() {
    let extra = "
          ActiveCode: { type: string, description: Not marked sensitive. }
          ErrCode: { type: integer, description: A result code. }
          Grants:
            type: object
            repeated: true
            description: Grants.
            fields:
              CorpSecret: { type: string, description: A secret. }
          SuiteTicket: { type: object, description: An object named like a secret., fields: { Id: { type: string, description: Id. } } }
          Codes: { type: list, item: AuthCode, description: Codes. }
          SyncToken: { type: object, repeated: true, description: Tokens., fields: { Id: { type: string, description: Id. } } }";
    let new_user_id = "          NewUserID: { type: string, description: The new userid. }";
    assert!(GOOD.contains(new_user_id));
    let spec = GOOD.replace(new_user_id, &format!("{new_user_id}{extra}"));
    let rust = generate_events(&spec).expect("valid").contents;
    for needle in [
        ".field(\"active_code\", &self.active_code.as_ref().map(|_| \"<redacted>\"))",
        ".field(\"err_code\", &self.err_code)",
        ".field(\"grants\", &self.grants)",
        ".field(\"corp_secret\", &self.corp_secret.as_ref().map(|_| \"<redacted>\"))",
        ".field(\"suite_ticket\", &self.suite_ticket.as_ref().map(|_| \"<redacted>\"))",
        "&self.sync_token.iter().map(|_| \"<redacted>\").collect::<Vec<_>>()",
        "impl ::std::fmt::Debug for ChangeContactUpdateUserCodes",
        "&self.items.iter().map(|_| \"<redacted>\").collect::<Vec<_>>()",
    ] {
        assert!(rust.contains(needle), "{needle} missing");
    }
    let plain = generate_events(GOOD).expect("valid").contents;
    assert!(!plain.contains("impl ::std::fmt::Debug for ChangeContactUpdateUser "), "nothing to hide there");
}
