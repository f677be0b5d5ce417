//! Notifications on both databases: generated at ingest for the access admins (forced open,
//! held open, battery low/critical, unknown face) and when a device goes offline; the seed
//! 000 endpoints; every user sees only their own.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use cloud_api::{
    db_tests,
    testkit::{Backend, BrokerKind, SimDevice, TestCloud},
};
use common::*;
use protocol::{AccessMethod, AccessResult, BatteryLevel, Channel, DenyReason, Event};
use reqwest::StatusCode;
use rumqttc::QoS;
use serde_json::{json, Value};

db_tests!(
    notifications_from_events_and_endpoints,
    offline_device_notifies_admins
);

pub fn alarming_events(dev: &mut SimDevice) -> Vec<Vec<u8>> {
    vec![
        dev.next_frame(Event::ForcedOpen),
        dev.next_frame(Event::HeldOpen { open_secs: 90 }),
        dev.next_frame(Event::Battery {
            percent: 14,
            millivolts: None,
            charging: false,
            level: BatteryLevel::Low,
        }),
        dev.next_frame(Event::Battery {
            percent: 4,
            millivolts: None,
            charging: false,
            level: BatteryLevel::Critical,
        }),
        dev.next_frame(Event::AccessDecision {
            result: AccessResult::Denied,
            method: AccessMethod::Face,
            person: None,
            reason: Some(DenyReason::UnknownFace),
            score: Some(0.2),
            liveness: None,
            snapshot: None,
        }),
        // Not alarming.
        dev.next_frame(Event::DoorOpened),
        dev.next_frame(Event::AccessDecision {
            result: AccessResult::Denied,
            method: AccessMethod::Face,
            person: None,
            reason: Some(DenyReason::LivenessFailed),
            score: None,
            liveness: Some(0.1),
            snapshot: None,
        }),
    ]
}

async fn list(tc: &TestCloud, token: &str, query: &str) -> Value {
    get_ok(tc, token, &format!("/api/notifications{query}")).await
}

async fn notifications_from_events_and_endpoints(backend: Backend) {
    let tc = TestCloud::start(backend, BrokerKind::Embedded).await;
    let site = protocol::SiteId::parse("hq").unwrap();
    let mut dev = tc.enroll_device(&site, "door-1").await;
    let admin = admin_token(&tc).await;
    let (member_id, member) =
        user_session(&tc, "anggota@gerbang.test", &[("access", "member")]).await;

    let frames = alarming_events(&mut dev);
    send_frames(&tc, &dev.token, &frames).await;
    // Re-delivery does not notify twice.
    send_frames(&tc, &dev.token, &frames).await;

    let body = list(&tc, &admin, "").await;
    let kinds: Vec<&str> = body["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["type"].as_str().unwrap())
        .collect();
    let mut sorted = kinds.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        [
            "battery_critical",
            "battery_low",
            "forced_open",
            "held_open",
            "unknown_face"
        ],
        "{body}"
    );
    assert_eq!(body["unread"], 5);
    let first = &body["notifications"][0];
    assert_eq!(first["device_id"], "door-1");
    assert_eq!(first["read"], false);
    assert!(first["event_id"].is_string());
    assert_eq!(list(&tc, &member, "").await["unread"], 0);

    let id = first["id"].as_str().unwrap().to_owned();
    // Someone else's notification is not found for them.
    for request in [
        http().put(tc.url(&format!("/api/notifications/{id}/read"))),
        http().delete(tc.url(&format!("/api/notifications/{id}"))),
    ] {
        let response = request.bearer_auth(&member).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
    }
    let (status, body) = json(
        http()
            .put(tc.url(&format!("/api/notifications/{id}/read")))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["notification"]["read"], true);
    assert_eq!(list(&tc, &admin, "?unread=true").await["unread"], 4);
    assert_eq!(
        list(&tc, &admin, "?unread=true").await["notifications"]
            .as_array()
            .unwrap()
            .len(),
        4
    );
    let response = http()
        .delete(tc.url(&format!("/api/notifications/{id}")))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let response = http()
        .delete(tc.url(&format!("/api/notifications/{id}")))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let response = http()
        .delete(tc.url("/api/notifications/not-a-uuid"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);

    // An admin writes to a member.
    let (status, body) = json(
        http()
            .post(tc.url("/api/notifications"))
            .bearer_auth(&admin)
            .json(&json!({"user_id": member_id, "title": "Halo", "message": "Rapat jam 10"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["notification"]["type"], "info");
    let mine = list(&tc, &member, "").await;
    assert_eq!(mine["unread"], 1);
    assert_eq!(mine["notifications"][0]["message"], "Rapat jam 10");
    let (status, body) = json(
        http()
            .post(tc.url("/api/notifications"))
            .bearer_auth(&admin)
            .json(&json!({"title": " ", "message": "x"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["message"], "title dan message harus diisi");
    let (status, _) = json(
        http()
            .post(tc.url("/api/notifications"))
            .bearer_auth(&admin)
            .json(&json!({"title": "x"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    tc.stop().await;
}

async fn offline_device_notifies_admins(backend: Backend) {
    let tc = TestCloud::start(backend, BrokerKind::Embedded).await;
    let site = protocol::SiteId::parse("hq").unwrap();
    let dev = tc.enroll_device(&site, "door-1").await;
    let admin = admin_token(&tc).await;
    let (client, mut eventloop) = dev.mqtt_client(tc.cloud().mqtt_url());
    let poller = tokio::spawn(async move { while eventloop.poll().await.is_ok() {} });
    let topic = dev.topic(Channel::State);
    client
        .publish(&topic, QoS::AtLeastOnce, true, dev.seal(&dev.state(true)))
        .await
        .unwrap();
    eventually(10, || async {
        let listed = get_devices(&tc, &admin).await;
        (device(&listed, "door-1")["online"] == true).then_some(())
    })
    .await;
    assert_eq!(list(&tc, &admin, "").await["unread"], 0);
    client
        .publish(&topic, QoS::AtLeastOnce, true, dev.seal(&dev.state(false)))
        .await
        .unwrap();
    let body = eventually(10, || async {
        let body = list(&tc, &admin, "").await;
        (body["notifications"].as_array().map(Vec::len) == Some(1)).then_some(body)
    })
    .await;
    assert_eq!(body["notifications"][0]["type"], "device_offline");
    assert_eq!(body["notifications"][0]["device_id"], "door-1");
    // Offline again (a repeated will) does not notify twice.
    client
        .publish(&topic, QoS::AtLeastOnce, true, dev.seal(&dev.state(false)))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(list(&tc, &admin, "").await["unread"], 1);
    poller.abort();
    tc.stop().await;
}
