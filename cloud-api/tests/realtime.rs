//! Socket.IO with the real `socket.io-client` from npm (`tests/socketio/`): the seed-003
//! handshake (`auth.token`, `Authorization: Bearer`, `?token=`), refusal without a valid
//! token, rooms, pushes of notifications and device events to the access admins, and the
//! end of a socket whose user is disabled.
//!
//! Needs `npm ci --prefix cloud-api/tests/socketio` once; without `node_modules` the test
//! is skipped with a message, unless `GERBANG_TEST_REQUIRE_SERVICES=1`.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use cloud_api::{
    platform::identity::{create_user, Email, NewUser},
    testkit::{Backend, BrokerKind, TestCloud},
};
use common::{socketio::*, *};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs node and socket.io-client: `cargo xtask test` runs it where installed"]
async fn socketio_handshake_rooms_and_pushes() {
    let dir = client_dir();
    let tc = TestCloud::start(Backend::Sqlite, BrokerKind::Embedded).await;
    let url = tc.url("");
    let admin = admin_token(&tc).await;
    let dapur = create_user(
        tc.cloud().database(),
        &cloud_api::testkit::role_catalog(),
        NewUser {
            email: Some(Email::parse("dapur@gerbang.test").unwrap()),
            name: "Dapur".into(),
            password: "kata-sandi-kuat".into(),
            roles: [("access", "member"), ("meals", "dapur")]
                .map(|(d, r)| (d.to_owned(), r.to_owned()))
                .into(),
            department: Some("3".into()),
            ..NewUser::default()
        },
    )
    .await
    .unwrap();
    let member = login(&tc, "dapur@gerbang.test", "kata-sandi-kuat").await;

    // Every documented way of presenting the token connects; none or a bad one does not.
    let mut by_auth = Client::spawn(&dir, &url, "/", &admin, "auth");
    let mut by_header = Client::spawn(&dir, &url, "/notifications", &admin, "header");
    let mut by_query = Client::spawn(&dir, &url, "/", &member, "query");
    let mut without = Client::spawn(&dir, &url, "/", "", "none");
    let mut forged = Client::spawn(
        &dir,
        &url,
        "/notifications",
        "eyJhbGciOiJIUzI1NiJ9.e30.x",
        "auth",
    );
    for client in [&mut by_auth, &mut by_header, &mut by_query] {
        client.wait_for("connect", is_type("connected"));
    }
    for client in [&mut without, &mut forged] {
        let refused = client.wait_for("connect_error", |v| {
            v["type"] == "connect_error" || v["type"] == "connected"
        });
        assert_eq!(refused["type"], "connect_error", "{refused}");
    }

    // Device events raise notifications, pushed to each admin on each namespace.
    let site = protocol::SiteId::parse("hq").unwrap();
    let mut dev = tc.enroll_device(&site, "door-1").await;
    let frames = [
        dev.next_frame(protocol::Event::ForcedOpen),
        dev.next_frame(protocol::Event::DoorOpened),
    ];
    let frames: Vec<&str> = frames
        .iter()
        .map(|f| std::str::from_utf8(f).unwrap())
        .collect();
    let response = http()
        .post(tc.url("/api/device/events"))
        .bearer_auth(&dev.token)
        .header("Content-Type", "application/json")
        .body(format!("{{\"frames\": [{}]}}", frames.join(",")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let notification = by_auth.wait_for("notification", |v| v["event"] == "notification");
    assert_eq!(notification["data"]["type"], "forced_open");
    assert_eq!(notification["data"]["device_id"], "door-1");
    by_header.wait_for("notification on /notifications", |v| {
        v["event"] == "notification"
    });
    let events = by_auth.wait_for("device events", |v| v["event"] == "device:events");
    let kinds: Vec<&str> = events["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"]["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["forced_open", "door_opened"]);

    // A notification to the member reaches only the member's room.
    let member_id = dapur.id;
    let response = http()
        .post(tc.url("/api/notifications"))
        .bearer_auth(&admin)
        .json(&json!({"user_id": member_id, "title": "Pesanan", "message": "Siap diantar"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let mine = by_query.wait_for("member notification", |v| v["event"] == "notification");
    assert_eq!(mine["data"]["message"], "Siap diantar");
    // A positive control: a second notification to the member, sent after everything the
    // member must not see. Once it has arrived, anything wrongly routed to the member's
    // socket would have arrived before it (one connection delivers in order).
    let response = http()
        .post(tc.url("/api/notifications"))
        .bearer_auth(&admin)
        .json(&json!({"user_id": member_id, "title": "Kontrol", "message": "Kontrol urutan"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    by_query.wait_for("the control notification", |v| {
        v["event"] == "notification" && v["data"]["message"] == "Kontrol urutan"
    });
    // The member saw neither the admins' alert nor device events.
    assert_eq!(by_query.events("notification").len(), 2);
    assert!(by_query.events("device:events").is_empty());
    assert!(by_auth
        .events("notification")
        .iter()
        .all(|n| n["type"] == "forced_open"));

    // Disabling the member ends their open socket at once, not at token expiry; a new
    // connection with the same token is refused. The admins' sockets stay.
    let response = http()
        .put(tc.url(&format!("/api/users/{member_id}")))
        .bearer_auth(&admin)
        .json(&json!({"enabled": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let gone = by_query.wait_for("disabled member's disconnect", is_type("disconnect"));
    assert_eq!(gone["reason"], "io server disconnect", "{gone}");
    let mut again = Client::spawn(&dir, &url, "/", &member, "query");
    let refused = again.wait_for("connect_error", |v| {
        v["type"] == "connect_error" || v["type"] == "connected"
    });
    assert_eq!(refused["type"], "connect_error", "{refused}");
    by_auth.events("notification"); // takes in whatever else the admin's client printed
    assert!(
        by_auth.seen.iter().all(|v| v["type"] != "disconnect"),
        "an admin's socket was closed: {:?}",
        by_auth.seen
    );

    // Stopping the cloud closes the sockets instead of hanging on them.
    tokio::time::timeout(Duration::from_secs(20), tc.stop())
        .await
        .expect("cloud stops with sockets connected");
    by_auth.wait_for("disconnect", is_type("disconnect"));
}

/// A socket does not outlive its access token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs node and socket.io-client: `cargo xtask test` runs it where installed"]
async fn socketio_sockets_end_when_their_token_expires() {
    let dir = client_dir();
    let tc = TestCloud::start_with(Backend::Sqlite, BrokerKind::Embedded, |c| {
        c.security.access_token_ttl_secs = 2;
    })
    .await;
    let token = admin_token(&tc).await;
    let mut client = Client::spawn(&dir, &tc.url(""), "/notifications", &token, "auth");
    client.wait_for("connect", is_type("connected"));
    let gone = client.wait_for("disconnect", is_type("disconnect"));
    assert_eq!(gone["reason"], "io server disconnect", "{gone}");
    tc.stop().await;
}
