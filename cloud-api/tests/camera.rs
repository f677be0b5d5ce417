//! Camera and door settings on both databases: device snapshot uploads (auth, type, size),
//! recordings (list, image, delete, traversal-proof ids), capture answered by a device over
//! MQTT + HTTPS, the live MJPEG relay, and door settings pushed and acked (or 504).

#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use cloud_api::{
    db_tests,
    testkit::{unique_site, Backend, BrokerKind, TestCloud},
};
use common::{device_stub::DeviceStub, *};
use futures::StreamExt;
use protocol::{sync::MAX_SNAPSHOT_BYTES, Command};
use reqwest::{Method, StatusCode};
use serde_json::json;

db_tests!(snapshots_and_recordings, capture_and_stream, door_settings,);

async fn upload(
    tc: &TestCloud,
    token: &str,
    content_type: &str,
    body: Vec<u8>,
) -> (StatusCode, serde_json::Value) {
    json(upload_snapshot(&tc.url(""), token, "", content_type, body).await).await
}

async fn snapshots_and_recordings(backend: Backend) {
    let tc = TestCloud::start(backend, BrokerKind::Embedded).await;
    let admin = admin_token(&tc).await;
    let site = unique_site("cam");
    let dev = tc.enroll_device(&site, "door-1").await;

    let (status, body) = upload(&tc, "wrong-token", "image/jpeg", jpeg()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["message"], "Token perangkat tidak valid");
    let (status, body) = upload(&tc, &dev.token, "image/png", jpeg()).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(body["message"], "Content-Type harus image/jpeg");
    let (status, body) = upload(&tc, &dev.token, "image/jpeg", b"GIF89a not a jpeg".to_vec()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["message"], "Isi bukan gambar JPEG");
    let mut big = jpeg();
    big.resize(MAX_SNAPSHOT_BYTES + 1, 0);
    let (status, _) = upload(&tc, &dev.token, "image/jpeg", big).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    // A capture answer must name one of this device's commands; live frames nobody
    // watches are refused.
    for (query, refused) in [
        ("command", StatusCode::NOT_FOUND),
        ("stream", StatusCode::CONFLICT),
    ] {
        let query = format!("{query}=00000000-0000-0000-0000-000000000000");
        let response = upload_snapshot(&tc.url(""), &dev.token, &query, "image/jpeg", jpeg()).await;
        assert_eq!(response.status(), refused, "{query}");
    }

    let (_, list) = get(&tc, &admin, "/api/camera/recordings").await;
    assert_eq!(list["total"], 0);
    // A large (2 MiB) snapshot is within the upload limit, above the API's default body limit.
    let mut large = jpeg();
    large.resize(2 * 1024 * 1024, 0);
    let (status, body) = upload(&tc, &dev.token, "image/jpeg", large).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let large_key = body["key"].as_str().unwrap().to_owned();
    let (status, _) = delete(&tc, &admin, &format!("/api/camera/recordings/{large_key}")).await;
    assert_eq!(status, StatusCode::OK);
    let mut keys = Vec::new();
    for _ in 0..3 {
        let (status, body) = upload(&tc, &dev.token, "image/jpeg", jpeg()).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        keys.push(body["key"].as_str().unwrap().to_owned());
    }
    let (status, page) = get(&tc, &admin, "/api/camera/recordings?page=1&limit=2").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["total"], 3);
    assert_eq!(page["recordings"].as_array().unwrap().len(), 2);
    let first = &page["recordings"][0];
    assert_eq!(first["id"], keys[2], "newest first");
    assert_eq!(first["event_type"], "snapshot");
    assert_eq!(first["device_id"], "door-1");
    assert_eq!(first["file_size"], jpeg().len());
    let (_, page2) = get(&tc, &admin, "/api/camera/recordings?page=2&limit=2").await;
    assert_eq!(page2["recordings"].as_array().unwrap().len(), 1);
    for bad in ["page=0", "limit=0", "limit=101", "page=abc"] {
        let response = fetch(&tc, &admin, &format!("/api/camera/recordings?{bad}")).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{bad}");
    }
    // A page far past the end (its offset beyond any database's range) is empty, not a 500.
    let (status, far) = get(
        &tc,
        &admin,
        "/api/camera/recordings?page=9223372036854775808",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{far}");
    assert_eq!(far["recordings"], json!([]));
    let response = fetch(
        &tc,
        &admin,
        &format!("/api/camera/recordings/{}/image", keys[0]),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "image/jpeg");
    assert_eq!(response.bytes().await.unwrap().to_vec(), jpeg());

    // Delete: traversal and unknown ids are 404 and change nothing.
    for bad in [
        "..%2F..%2Fgerbang.db",
        "00000000-0000-0000-0000-000000000000",
        "snapshots%2Fdoor-1",
    ] {
        let (status, body) = delete(&tc, &admin, &format!("/api/camera/recordings/{bad}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{bad}");
        assert_eq!(body["message"], "Rekaman tidak ditemukan");
    }
    let (status, body) = delete(&tc, &admin, &format!("/api/camera/recordings/{}", keys[0])).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["message"], "Rekaman berhasil dihapus");
    let response = fetch(
        &tc,
        &admin,
        &format!("/api/camera/recordings/{}/image", keys[0]),
    )
    .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let (_, list) = get(&tc, &admin, "/api/camera/recordings").await;
    assert_eq!(list["total"], 2);
    // Only access admins see recordings.
    let response = http()
        .get(tc.url("/api/camera/recordings"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    tc.stop().await;
}

async fn capture_and_stream(backend: Backend) {
    let tc = TestCloud::start(backend, BrokerKind::Embedded).await;
    let admin = admin_token(&tc).await;
    let site = unique_site("cap");
    let dev = tc.enroll_device(&site, "door-1").await;
    let mut stub = DeviceStub::start(dev, &tc, true).await;

    let (status, body) = call(authed(&tc, Method::POST, "/api/camera/capture", &admin)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["message"], "Foto berhasil diambil");
    assert_eq!(body["recording"]["event_type"], "capture");
    assert_eq!(stub.commands.recv().await.unwrap(), Command::Capture);
    let response = fetch(&tc, &admin, body["recording"]["url"].as_str().unwrap()).await;
    assert_eq!(response.bytes().await.unwrap().to_vec(), jpeg());
    let (status, body) = call(
        authed(&tc, Method::POST, "/api/camera/capture", &admin)
            .json(&json!({"device_id": "../door-1"})),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["message"], "Perangkat tidak ditemukan");

    // Live: the device is asked to stream and its frames arrive as MJPEG parts.
    let response = fetch(&tc, &admin, "/api/camera/stream?device=door-1").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"],
        "multipart/x-mixed-replace; boundary=frame"
    );
    let mut body = response.bytes_stream();
    let mut received = Vec::new();
    let needle = jpeg();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while received
        .windows(needle.len())
        .filter(|w| *w == &needle[..])
        .count()
        < 2
    {
        let chunk = tokio::time::timeout_at(deadline, body.next())
            .await
            .expect("two frames in time")
            .unwrap()
            .unwrap();
        received.extend_from_slice(&chunk);
    }
    assert!(received.starts_with(b"--frame\r\nContent-Type: image/jpeg\r\n"));
    assert!(matches!(
        stub.commands.recv().await.unwrap(),
        Command::Stream { .. }
    ));
    drop(body);
    // The viewer left: the relay closes and the device's frames are refused.
    eventually(10, || async {
        let status = upload_snapshot(
            &tc.url(""),
            &stub.token,
            "stream=00000000-0000-0000-0000-000000000000",
            "image/jpeg",
            jpeg(),
        )
        .await
        .status();
        (status == StatusCode::CONFLICT).then_some(())
    })
    .await;
    stub.stop().await;
    tc.stop().await;
}

async fn door_settings(backend: Backend) {
    let tc = TestCloud::start_with(backend, BrokerKind::Embedded, |c| {
        c.command_timeout_secs = 1
    })
    .await;
    let admin = admin_token(&tc).await;
    let site = unique_site("set");
    let silent = tc.enroll_device(&site, "door-silent").await;
    let dev = tc.enroll_device(&site, "door-1").await;
    let mut stub = DeviceStub::start(dev, &tc, true).await;
    let put = |body: serde_json::Value| {
        authed(&tc, Method::PUT, "/api/door/settings", &admin).json(&body)
    };
    // Two devices: which one must be said.
    let (status, body) = call(put(json!({"unlock_ms": 4000}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["message"],
        "device_id harus diisi karena ada beberapa perangkat"
    );
    for (bad, message) in [
        (
            json!({"device_id": "door-1", "unlock_ms": 0}),
            "unlock_ms harus 1–60000",
        ),
        (
            json!({"device_id": "door-1", "held_open_alarm_secs": 99999}),
            "held_open_alarm_secs harus 1–3600",
        ),
    ] {
        let (status, body) = call(put(bad)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["message"], message);
    }
    let (status, _) = call(put(json!({"device_id": "door-1", "mode": "party"}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = call(put(json!({"device_id": "door-1", "volume": 11}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    let (status, body) = call(put(
        json!({"device_id": "door-1", "unlock_ms": 4000, "mode": "locked_down"}),
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["message"], "Pengaturan pintu berhasil disimpan");
    assert_eq!(body["status"], "acked");
    assert_eq!(
        body["settings"],
        json!({"mode": "locked_down", "unlock_ms": 4000})
    );
    match stub.commands.recv().await.unwrap() {
        Command::UpdateSettings { settings } => {
            assert_eq!(settings.unlock_ms, Some(4000));
            assert_eq!(settings.mode, Some(protocol::DoorMode::LockedDown));
        }
        other => panic!("unexpected {other:?}"),
    }
    // A partial update keeps the other fields.
    let (_, body) = call(put(json!({"device_id": "door-1", "camera_active": false}))).await;
    assert_eq!(
        body["settings"],
        json!({"mode": "locked_down", "unlock_ms": 4000, "camera_active": false})
    );
    let (status, body) = get(&tc, &admin, "/api/door/settings?device_id=door-1").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["settings"]["camera_active"], false);

    // A device that never acks: 504, but the settings are kept for it.
    let (status, body) = call(put(
        json!({"device_id": silent.id.as_str(), "unlock_ms": 2500}),
    ))
    .await;
    assert_eq!(status, StatusCode::GATEWAY_TIMEOUT);
    assert_eq!(body["message"], "Perangkat tidak merespons dalam 1 detik");
    let (_, body) = get(&tc, &admin, "/api/door/settings?device_id=door-silent").await;
    assert_eq!(body["settings"]["unlock_ms"], 2500);
    let (status, _) = call(put(json!({"device_id": "no-such-door", "unlock_ms": 1000}))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    stub.stop().await;
    tc.stop().await;
}
