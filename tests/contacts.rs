//! Contacts against the emulator, with state: a member created through the
//! corp handle is read back, updated and deleted.

mod common;

use common::{app_on_emulator, CORP, SUITE};
use wecom_openwork::api::user::types::{CreateUserRequest, UpdateUserRequest, UseridQuery};

#[tokio::test]
async fn a_created_member_is_read_back_updated_and_deleted() {
    let (emulator, app, _clock) = app_on_emulator().await;
    let corp = app.corp(SUITE, CORP);
    let users = corp.user();
    let create = CreateUserRequest::new("zhangsan", "张三").mobile("+86 13800000000").department(vec![1]);
    users.create(&create).await.expect("created");
    let again = users.create(&create).await.unwrap_err();
    assert_eq!(again.code(), Some(60102), "a userid is created once");

    let member = users.get(&UseridQuery::new("zhangsan")).await.expect("read back");
    assert_eq!((member.userid.as_deref(), member.name.as_deref()), (Some("zhangsan"), Some("张三")));
    users.update(&UpdateUserRequest::new("zhangsan").position("工程师")).await.expect("updated");
    let member = users.get(&UseridQuery::new("zhangsan")).await.expect("read back");
    assert_eq!(member.position.as_deref(), Some("工程师"));
    assert_eq!(member.name.as_deref(), Some("张三"), "what was not updated stays");

    users.delete(&UseridQuery::new("zhangsan")).await.expect("deleted");
    let gone = users.get(&UseridQuery::new("zhangsan")).await.unwrap_err();
    assert_eq!(gone.code(), Some(40003));
    let created = emulator.requests().into_iter().find(|r| r.path == "/cgi-bin/user/create").expect("sent");
    assert_eq!(created.query_values("access_token").len(), 1, "the corp token, once");
}
