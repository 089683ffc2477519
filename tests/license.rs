//! The license (接口调用许可) batch calls answer errcode 0 even when single
//! items fail: the per-item errors must survive into the typed reply.

mod common;

use common::app_on_emulator;
use wecom_openwork::api::license::types::{
    ActiveAccountItem, BatchActiveAccountRequest, BatchShareActiveCodeRequest, BatchTransferLicenseRequest,
    ShareItem, TransferItem,
};

#[tokio::test]
async fn batch_active_account_shows_which_activations_failed() {
    let (emulator, app, _clock) = app_on_emulator().await;
    let request = BatchActiveAccountRequest::new(
        "CORPID",
        vec![ActiveAccountItem::new("XXXXXXXX", "USERID"), ActiveAccountItem::new("YYYYYYYY", "USERID2")],
    );
    let reply =
        app.provider().license().batch_active_account_with(request).await.expect("errcode 0 is a success");

    let sent = emulator.requests().pop().expect("recorded");
    assert_eq!(sent.path, "/cgi-bin/license/batch_active_account");
    assert!(sent.query.iter().any(|(k, _)| k == "provider_access_token"), "{:?}", sent.query);

    assert_eq!(reply.active_result.len(), 2);
    let ok = &reply.active_result[0];
    assert_eq!(ok.userid.as_deref(), Some("USERID"));
    assert_eq!(ok.errcode, Some(0));
    let failed: Vec<_> = reply.active_result.iter().filter(|r| r.errcode.unwrap_or(0) != 0).collect();
    assert_eq!(failed.len(), 1, "{:?}", reply.active_result);
    assert_eq!(failed[0].userid.as_deref(), Some("USERID2"));
    assert_eq!(failed[0].active_code.as_deref(), Some("YYYYYYYY"));
    assert_eq!(failed[0].errcode, Some(701030));
    // The activation code is redacted from Debug, the error is not.
    let shown = format!("{:?}", failed[0]);
    assert!(!shown.contains("YYYYYYYY") && shown.contains("701030"), "{shown}");
}

#[tokio::test]
async fn batch_transfer_license_shows_which_hand_overs_failed() {
    let (_emulator, app, _clock) = app_on_emulator().await;
    let request = BatchTransferLicenseRequest::new(
        "xxx",
        vec![
            TransferItem::new("USERID", "TAKEOVER_USERID"),
            TransferItem::new("USERID2", "TAKEOVER_USERID2"),
        ],
    );
    let reply =
        app.provider().license().batch_transfer_license_with(request).await.expect("errcode 0 is a success");
    let failed: Vec<_> = reply.transfer_result.iter().filter(|r| r.errcode.unwrap_or(0) != 0).collect();
    assert_eq!(failed.len(), 1, "{:?}", reply.transfer_result);
    assert_eq!(failed[0].handover_userid.as_deref(), Some("USERID2"));
    assert_eq!(failed[0].takeover_userid.as_deref(), Some("TAKEOVER_USERID2"));
}

#[tokio::test]
async fn batch_share_active_code_lists_the_codes_that_were_not_shared() {
    let (_emulator, app, _clock) = app_on_emulator().await;
    let request = BatchShareActiveCodeRequest::new(
        "FROMCORPID",
        "ToCORPID",
        vec![ShareItem::new("ACTIVE_CODE"), ShareItem::new("ACTIVE_CODE2")],
    );
    let reply =
        app.provider().license().batch_share_active_code_with(request).await.expect("errcode 0 is a success");
    assert_eq!(reply.share_result.len(), 1);
    let failed = &reply.share_result[0];
    assert_eq!(failed.active_code.as_deref(), Some("ACTIVE_CODE2"));
    assert_ne!(failed.errcode, Some(0));
    assert_eq!(failed.errmsg.as_deref(), Some("xxx"));
}

#[tokio::test]
async fn a_license_order_is_paid_then_an_account_is_activated_for_a_member() {
    use wecom_openwork::api::license::types::{
        AccountCount, AccountDuration, ActiveAccountRequest, CreateNewOrderRequest,
    };
    let (emulator, app, _clock) = app_on_emulator().await;
    let license = app.provider();
    let license = license.license();
    let corp = "wwcorplicensed";
    let order = CreateNewOrderRequest::new(
        corp,
        "buyer",
        AccountCount::new().base_count(2).external_contact_count(1),
        AccountDuration::new().months(12),
    );
    let order_id =
        license.create_new_order_with(order).await.expect("ordered").order_id.expect("an order id");

    let unpaid = license.get_order(&order_id).await.expect("order").order.expect("order");
    assert_eq!(unpaid.order_status, Some(0), "not paid yet");
    let accounts = license.list_order_account(&order_id).await.expect("listed");
    assert!(accounts.account_list.is_empty(), "no accounts before payment");

    emulator.pay_license_order(&order_id).expect("paid");
    assert!(emulator.pay_license_order(&order_id).is_err(), "paid once");
    let paid = license.get_order(&order_id).await.expect("order").order.expect("order");
    assert_eq!(paid.order_status, Some(1));
    let accounts = license.list_order_account(&order_id).await.expect("listed");
    assert_eq!(
        accounts.account_list.iter().map(|a| a.type_).collect::<Vec<_>>(),
        [Some(1), Some(1), Some(2)]
    );
    let code = accounts.account_list[0].active_code.clone().expect("a code");

    let activate = ActiveAccountRequest::new(&code, corp, "zhangsan");
    license.active_account_with(activate.clone()).await.expect("activated");
    let again = license.active_account_with(activate).await.unwrap_err();
    assert_eq!(again.code(), Some(40058), "a code activates once");
    let wrong_corp = license.active_account(&code, "wwother", "lisi").await;
    assert!(wrong_corp.is_err(), "a code is bought for one corp");

    let by_user = license.get_active_info_by_user(corp, "zhangsan").await.expect("read back");
    assert_eq!(by_user.active_status, Some(1));
    assert_eq!(by_user.active_info_list.len(), 1);
    assert_eq!(by_user.active_info_list[0].active_code.as_deref(), Some(code.as_str()));
    let by_code =
        license.get_active_info_by_code(corp, &code).await.expect("read back").active_info.expect("info");
    assert_eq!((by_code.status, by_code.userid.as_deref()), (Some(2), Some("zhangsan")));
    let nobody = license.get_active_info_by_user(corp, "nobody").await.expect("read back");
    assert_eq!(nobody.active_status, Some(0));
}
