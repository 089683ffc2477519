//! A schedule's life through the public API, as an ISV's app runs it
//! against the emulator: a calendar, a schedule on it, read back, changed
//! (overwritten, attendees added and removed), listed on its calendar and
//! cancelled - still readable afterwards, with `status` 1.

mod common;

use std::time::Duration;

use common::{app_on_emulator, config, pushing_emulator, serve_callbacks, CORP, SUITE};
use wecom_openwork::api::schedule::types::{
    Attendee, NewCalendar, NewSchedule, Reminders, Schedule, ScheduleUpdate, UpdateScheduleRequest,
};
use wecom_openwork::emulator::PushTarget;
use wecom_openwork::events::ModifyScheduleEvent;
use wecom_openwork::server::Reply;

fn userids(schedule: &Schedule) -> Vec<&str> {
    schedule.attendees.iter().filter_map(|a| a.userid.as_deref()).collect()
}

#[tokio::test]
async fn a_schedule_is_created_read_changed_listed_and_cancelled() {
    let (_emulator, app, _clock) = app_on_emulator().await;
    let corp = app.corp(SUITE, CORP);
    let calendars = corp.schedule();

    let calendar = NewCalendar::new("项目日历", "#FF3030").description("评审与例会");
    let cal_id = calendars.add_calendar(calendar).await.expect("created").cal_id.expect("a calendar id");
    let read = calendars.get_calendar(vec![cal_id.clone()]).await.expect("read");
    assert_eq!(read.calendar_list.len(), 1);
    assert_eq!(read.calendar_list[0].summary.as_deref(), Some("项目日历"));

    // A schedule on the calendar, with one attendee.
    let new = NewSchedule::new(1_700_000_000, 1_700_003_600)
        .cal_id(&cal_id)
        .summary("需求评审")
        .location("10楼1005")
        .attendees(vec![Attendee::new("zhangsan")]);
    let id = calendars.add(new).await.expect("created").schedule_id.expect("a schedule id");
    let got = calendars.get(vec![id.clone()]).await.expect("read").schedule_list;
    assert_eq!(got.len(), 1);
    let schedule = &got[0];
    assert_eq!(
        (schedule.summary.as_deref(), schedule.cal_id.as_deref(), schedule.start_time, schedule.status),
        (Some("需求评审"), Some(cal_id.as_str()), Some(1_700_000_000), Some(0))
    );
    assert_eq!(userids(schedule), ["zhangsan"]);
    assert_eq!(schedule.attendees[0].response_status, Some(0), "no answer yet");

    // An update overwrites: a new time and title; the attendees it names
    // replace the old ones unless skip_attendees is 1.
    let change = ScheduleUpdate::new(&id, 1_700_007_200, 1_700_010_800).summary("需求评审（改期）");
    let request = UpdateScheduleRequest::new(change).skip_attendees(1);
    assert_eq!(
        calendars.update_with(request).await.expect("updated").schedule_id.as_deref(),
        Some(id.as_str())
    );
    let after = &calendars.get(vec![id.clone()]).await.expect("read").schedule_list[0];
    assert_eq!(
        (after.summary.as_deref(), after.start_time, after.location.as_deref()),
        (Some("需求评审（改期）"), Some(1_700_007_200), None),
        "overwritten, not merged"
    );
    assert_eq!(userids(after), ["zhangsan"], "skip_attendees kept them");

    calendars
        .add_attendees(&id)
        .attendees(vec![Attendee::new("lisi"), Attendee::new("wangwu")])
        .await
        .expect("added");
    calendars.del_attendees(&id).attendees(vec![Attendee::new("zhangsan")]).await.expect("removed");
    let after = &calendars.get(vec![id.clone()]).await.expect("read").schedule_list[0];
    assert_eq!(userids(after), ["lisi", "wangwu"]);

    // Listed on its calendar, next to a second schedule, in the order made.
    let second = NewSchedule::new(1_700_100_000, 1_700_103_600).cal_id(&cal_id).summary("周会");
    let second = calendars.add(second).await.expect("created").schedule_id.expect("an id");
    let listed = calendars.get_by_calendar(&cal_id).await.expect("listed").schedule_list;
    let listed: Vec<_> = listed.iter().map(|s| s.schedule_id.clone().unwrap_or_default()).collect();
    assert_eq!(listed, [id.clone(), second.clone()]);

    // Cancelled, and still readable with status 1.
    calendars.del(&id).await.expect("cancelled");
    let cancelled = &calendars.get(vec![id.clone()]).await.expect("read").schedule_list[0];
    assert_eq!(cancelled.status, Some(1));

    // Splitting a schedule that does not repeat is refused (更新重复日程).
    let split = UpdateScheduleRequest::new(ScheduleUpdate::new(&second, 1, 2))
        .op_mode(1)
        .op_start_time(1_700_100_000);
    let refused = calendars.update_with(split).await.expect_err("refused");
    assert_eq!(refused.code(), Some(90485), "{refused}");
    // A repeating one splits: the occurrences from then on are a new schedule.
    let weekly = NewSchedule::new(1_700_200_000, 1_700_203_600)
        .cal_id(&cal_id)
        .reminders(Reminders::new().is_repeat(1).repeat_type(1));
    let weekly = calendars.add(weekly).await.expect("created").schedule_id.expect("an id");
    let split = UpdateScheduleRequest::new(ScheduleUpdate::new(&weekly, 1_700_804_800, 1_700_808_400))
        .op_mode(2)
        .op_start_time(1_700_804_800);
    let split = calendars.update_with(split).await.expect("split").schedule_id.expect("the new id");
    assert_ne!(split, weekly);
    assert_eq!(calendars.get(vec![weekly, split]).await.expect("both").schedule_list.len(), 2);

    // Deleting the calendar takes its schedules: their ids are refused.
    calendars.del_calendar(&cal_id).await.expect("deleted");
    let gone = calendars.get(vec![second]).await.expect_err("gone with its calendar");
    assert_eq!(gone.code(), Some(40058), "{gone}");
}

/// WeCom sends a third-party app its schedule events on the command URL, in
/// the data-message shape (MsgType `event`, no InfoType), and a 代开发 app
/// on the data URL: the same typed handler gets both, and reads the
/// schedule again.
#[tokio::test]
async fn a_schedule_change_event_reaches_its_typed_handler_on_either_url() {
    let (emulator, app, _clock, listener) = pushing_emulator(config("http://127.0.0.1:1")).await;
    let (changed, mut events) = tokio::sync::mpsc::unbounded_channel();
    let server = app.server().on::<ModifyScheduleEvent, _, _>(move |event, _callback| {
        let _ = changed.send(event.schedule_id.clone());
        async { Ok(Reply::Success) }
    });
    serve_callbacks(&server, listener);
    assert!(emulator.push_suite_ticket(SUITE).await.expect("pushed").acknowledged());
    emulator.authorize_corp(SUITE, CORP).await.expect("authorized");
    server.drain().await;
    let calendars = app.corp(SUITE, CORP);
    let calendars = calendars.schedule();
    let cal_id = calendars.add_calendar(NewCalendar::new("c", "#000000")).await.expect("made").cal_id;
    let new = NewSchedule::new(1_700_000_000, 1_700_003_600).cal_id(cal_id.expect("an id")).summary("评审");
    let id = calendars.add(new).await.expect("made").schedule_id.expect("an id");

    for target in [PushTarget::Command, PushTarget::Data] {
        let xml = format!(
            "<xml><ToUserName><![CDATA[{CORP}]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName>\
             <CreateTime>1700000100</CreateTime><MsgType><![CDATA[event]]></MsgType>\
             <Event><![CDATA[modify_schedule]]></Event><CalId><![CDATA[c]]></CalId>\
             <ScheduleId><![CDATA[{id}]]></ScheduleId></xml>"
        );
        let record = emulator.push_event(SUITE, CORP, &xml, target).await.expect("pushed");
        assert_eq!((record.status, record.body.as_str()), (200, "success"), "{target:?}: {record:?}");
        let got = tokio::time::timeout(Duration::from_secs(10), events.recv()).await.expect("handled");
        let got = got.expect("an event").expect("its schedule id");
        let read = calendars.get(vec![got]).await.expect("read again").schedule_list;
        assert_eq!(read[0].summary.as_deref(), Some("评审"), "{target:?}");
    }
}
