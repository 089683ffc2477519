//! Contacts against the emulator, with state: a member created through the
//! corp handle is read back, updated and deleted.

mod common;

use common::{app_on_emulator, CORP, SUITE};
use wecom_openwork::api::user::types::{CreateUserRequest, ListIdRequest};

#[tokio::test]
async fn a_created_member_is_read_back_updated_and_deleted() {
    let (emulator, app, _clock) = app_on_emulator().await;
    let corp = app.corp(SUITE, CORP);
    let users = corp.user();
    let create = CreateUserRequest::new("zhangsan", "张三").mobile("+86 13800000000").department(vec![1]);
    users.create_with(create.clone()).await.expect("created");
    let again = users.create_with(create).await.unwrap_err();
    assert_eq!(again.code(), Some(60102), "a userid is created once");

    let member = users.get("zhangsan").await.expect("read back");
    assert_eq!((member.userid.as_deref(), member.name.as_deref()), (Some("zhangsan"), Some("张三")));
    users.update("zhangsan").position("工程师").await.expect("updated");
    let member = users.get("zhangsan").await.expect("read back");
    assert_eq!(member.position.as_deref(), Some("工程师"));
    assert_eq!(member.name.as_deref(), Some("张三"), "what was not updated stays");

    users.delete("zhangsan").await.expect("deleted");
    let gone = users.get("zhangsan").await.unwrap_err();
    assert_eq!(gone.code(), Some(40003));
    let created = emulator.requests().into_iter().find(|r| r.path == "/cgi-bin/user/create").expect("sent");
    assert_eq!(created.query_values("access_token").len(), 1, "the corp token, once");
}

#[tokio::test]
async fn a_cursor_paged_list_streams_every_page() {
    use futures_util::StreamExt;
    let (emulator, app, _clock) = app_on_emulator().await;
    let corp = app.corp(SUITE, CORP);
    let users = corp.user();
    for i in 0..5 {
        users.create(format!("member{i}"), format!("成员{i}")).department(vec![1]).await.expect("created");
    }
    let first = users.list_id().limit(2).await.expect("one page, its option set on the call");
    assert_eq!(first.dept_user.len(), 2);
    assert!(first.next_cursor.as_deref().is_some_and(|c| !c.is_empty()), "more to come");
    let pages: Vec<_> = users.list_id_pages(ListIdRequest::new().limit(2)).collect().await;
    assert_eq!(pages.len(), 3, "2 + 2 + 1 members");
    let mut seen = Vec::new();
    for page in pages {
        let page = page.expect("a page");
        seen.extend(page.dept_user.into_iter().filter_map(|d| d.open_userid));
    }
    assert_eq!(seen, ["member0", "member1", "member2", "member3", "member4"]);
    let cursors: Vec<Option<String>> = emulator
        .requests()
        .into_iter()
        .filter(|r| r.path == "/cgi-bin/user/list_id")
        .map(|r| r.body.and_then(|b| b.get("cursor").and_then(|c| c.as_str()).map(str::to_owned)))
        .collect();
    assert_eq!(cursors.len(), 4, "the single page, then the stream's three");
    let cursors = &cursors[1..];
    assert_eq!(cursors[0], None, "the first page carries no cursor");
    assert!(cursors[1].is_some() && cursors[2].is_some() && cursors[1] != cursors[2]);
}

#[tokio::test]
async fn a_created_tag_holds_its_members_until_it_is_deleted() {
    use wecom_openwork::api::tag::types::TagUsersRequest;
    let (_emulator, app, _clock) = app_on_emulator().await;
    let corp = app.corp(SUITE, CORP);
    for userid in ["alice", "bob"] {
        corp.user().create(userid, userid).department(vec![1]).await.expect("created");
    }
    let tags = corp.tag();
    let created = tags.create("on-call").await.expect("created");
    let tagid = created.tagid.expect("a tag id");
    let taken = tags.create("on-call").await.unwrap_err();
    assert_eq!(taken.code(), Some(40071), "{taken:?}");

    let add = TagUsersRequest::new(tagid)
        .userlist(vec!["alice".into(), "bob".into(), "nobody".into()])
        .partylist(vec![2]);
    let added = tags.add_users_with(add).await.expect("added");
    assert_eq!(added.invalidlist.as_deref(), Some("nobody"), "the unknown member is reported");
    tags.update(tagid, "on-call (nights)").await.expect("renamed");
    let removed = TagUsersRequest::new(tagid).userlist(vec!["bob".into()]);
    tags.delete_users_with(removed).await.expect("removed");

    let read = tags.get(tagid).await.expect("read back");
    assert_eq!(read.tagname.as_deref(), Some("on-call (nights)"));
    let members: Vec<_> = read.userlist.iter().filter_map(|u| u.userid.as_deref()).collect();
    assert_eq!(members, ["alice"]);
    assert_eq!(read.partylist, vec![2]);
    let list = tags.list().await.expect("listed");
    assert_eq!(list.taglist.len(), 1);

    tags.delete(tagid).await.expect("deleted");
    // With another tag in the corp, the deleted id is unknown.
    let other = tags.create("other").await.expect("created").tagid.expect("id");
    assert_ne!(other, tagid, "ids are not reused");
    let error = tags.get(tagid).await.unwrap_err();
    assert_eq!(error.code(), Some(40068), "{error:?}");
}
