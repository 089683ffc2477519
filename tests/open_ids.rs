//! The upgraded ids (`open_corpid`, `open_userid`) come as their own types
//! and keep exactly what WeCom sent, case included.

use wecom_openwork::api::provider::types::OpenCorpid;
use wecom_openwork::api::user::types::DeptUserPage;
use wecom_openwork::{OpenCorpId, OpenUserId};

#[test]
fn an_open_corpid_keeps_its_case_through_decoding_and_encoding() {
    let json = serde_json::json!({"errcode": 0, "errmsg": "ok", "open_corpid": "wpAbCdEf-MiXeD_Case"});
    let reply: OpenCorpid = serde_json::from_value(json).expect("decodes");
    let id: &OpenCorpId = reply.open_corpid.as_ref().expect("present");
    assert_eq!(id.as_str(), "wpAbCdEf-MiXeD_Case");
    assert_ne!(*id, OpenCorpId::new("wpabcdef-mixed_case"), "ids compare exactly");
    let again = serde_json::to_value(&reply).expect("encodes");
    assert_eq!(again["open_corpid"], "wpAbCdEf-MiXeD_Case");
}

#[test]
fn open_userids_in_lists_are_typed_too() {
    let json = serde_json::json!({"dept_user": [{"open_userid": "woAJ2GCAAAXtWyujaWJHDDGi0mACH71w", "department": 1}]});
    let page: DeptUserPage = serde_json::from_value(json).expect("decodes");
    let id: &OpenUserId = page.dept_user[0].open_userid.as_ref().expect("present");
    assert_eq!(*id, "woAJ2GCAAAXtWyujaWJHDDGi0mACH71w");
    assert_ne!(*id, "woaj2gcaaaxtwyujawjhddgi0mach71w");
}
