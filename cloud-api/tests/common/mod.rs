//! Helpers shared by the integration tests: HTTP calls as a signed-in user, sign-in,
//! HTTPS event batches, the test photos, snapshot uploads, polling, metric parsing, and
//! (in [`device_stub`]) a device answering commands over MQTT, (in [`socketio`]) the real
//! `socket.io-client`, (in [`confinement`]) what a broker confining doors must refuse.

#![allow(dead_code)]

pub mod confinement;
pub mod device_stub;
pub mod socketio;

use std::time::Duration;

#[allow(unused_imports)] // Not every test binary that includes this module polls.
pub use cloud_api::testkit::eventually;
use cloud_api::testkit::{Backend, BrokerKind, TestCloud};
use protocol::{sync::SNAPSHOTS_PATH, AccessMethod, AccessResult, Event};
use reqwest::{Client, Method, RequestBuilder, Response, StatusCode};
use serde_json::Value;

/// A cloud on `backend` with the embedded broker.
pub async fn start(backend: Backend) -> TestCloud {
    TestCloud::start(backend, BrokerKind::Embedded).await
}

pub fn http() -> Client {
    Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

/// Signs in (`/api/auth/login`), expects 200 and returns the access token.
pub async fn login(tc: &TestCloud, email: &str, password: &str) -> String {
    let (status, body) = call(
        http()
            .post(tc.url("/api/auth/login"))
            .json(&serde_json::json!({"email": email, "password": password})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["accessToken"].as_str().expect("token").to_owned()
}

pub async fn admin_token(tc: &TestCloud) -> String {
    login(tc, &tc.admin_email, &tc.admin_password).await
}

pub async fn json(response: Response) -> (StatusCode, Value) {
    let status = response.status();
    let text = response.text().await.expect("body");
    let value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"));
    (status, value)
}

/// Sends `request` and reads the answer as JSON.
pub async fn call(request: RequestBuilder) -> (StatusCode, Value) {
    json(request.send().await.expect("request")).await
}

/// A request to `path` on the test cloud with `token` as the bearer.
pub fn authed(tc: &TestCloud, method: Method, path: &str, token: &str) -> RequestBuilder {
    http().request(method, tc.url(path)).bearer_auth(token)
}

/// `GET path` as the holder of `token`, the raw response (images, streams, headers).
pub async fn fetch(tc: &TestCloud, token: &str, path: &str) -> Response {
    authed(tc, Method::GET, path, token)
        .send()
        .await
        .expect("request")
}

/// `GET path` as the holder of `token`, answered in JSON.
pub async fn get(tc: &TestCloud, token: &str, path: &str) -> (StatusCode, Value) {
    call(authed(tc, Method::GET, path, token)).await
}

/// `DELETE path` as the holder of `token`, answered in JSON.
pub async fn delete(tc: &TestCloud, token: &str, path: &str) -> (StatusCode, Value) {
    call(authed(tc, Method::DELETE, path, token)).await
}

/// `GET path` as the holder of `token`; expects 200 and returns the body.
pub async fn get_ok(tc: &TestCloud, token: &str, path: &str) -> Value {
    let (status, body) = get(tc, token, path).await;
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    body
}

pub async fn get_devices(tc: &TestCloud, token: &str) -> Value {
    get_ok(tc, token, "/api/devices").await
}

pub fn device<'a>(list: &'a Value, id: &str) -> &'a Value {
    list["devices"]
        .as_array()
        .expect("devices array")
        .iter()
        .find(|d| d["id"] == id)
        .unwrap_or_else(|| panic!("device {id} not listed in {list}"))
}

pub async fn metrics(tc: &TestCloud) -> String {
    http()
        .get(tc.url("/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text")
}

/// The value of one sample line, e.g. `gerbang_events_rejected_total{reason="malformed"}`.
pub fn metric(text: &str, sample: &str) -> f64 {
    text.lines()
        .find_map(|line| {
            line.strip_prefix(sample)
                .and_then(|rest| rest.trim().parse().ok())
        })
        .unwrap_or(0.0)
}

/// A granted face decision, the commonest event.
pub fn granted() -> Event {
    Event::AccessDecision {
        result: AccessResult::Granted,
        method: AccessMethod::Face,
        person: None,
        reason: None,
        score: Some(0.7),
        liveness: None,
        snapshot: None,
    }
}

/// An HTTPS batch body built from the sealed frames' exact bytes: re-serialising a frame
/// through `serde_json::Value` would reorder its keys and break its signature.
pub fn batch(frames: &[Vec<u8>]) -> String {
    let frames: Vec<&str> = frames
        .iter()
        .map(|f| std::str::from_utf8(f).expect("UTF-8 frame"))
        .collect();
    format!("{{\"frames\": [{}]}}", frames.join(","))
}

/// Posts a batch body to `/api/device/events` with the device's token.
pub async fn post_batch(tc: &TestCloud, device_token: &str, body: &str) -> (StatusCode, Value) {
    call(
        http()
            .post(tc.url("/api/device/events"))
            .bearer_auth(device_token)
            .header("Content-Type", "application/json")
            .body(body.to_owned()),
    )
    .await
}

/// Posts sealed frames as one HTTPS batch and expects 200.
pub async fn send_frames(tc: &TestCloud, device_token: &str, frames: &[Vec<u8>]) -> Value {
    let (status, body) = post_batch(tc, device_token, &batch(frames)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// A file of `models/testdata` (the real test photos).
pub fn testdata(path: &str) -> Vec<u8> {
    let full = format!("{}/../models/testdata/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&full).unwrap_or_else(|e| panic!("{full}: {e}"))
}

/// A real JPEG (a test photo).
pub fn jpeg() -> Vec<u8> {
    testdata("people/obama/obama.jpg")
}

/// Uploads `body` as a device snapshot (`/api/device/snapshots?{query}`) to the cloud at
/// `base` (`http://host:port`) with the device's token.
pub async fn upload_snapshot(
    base: &str,
    device_token: &str,
    query: &str,
    content_type: &str,
    body: Vec<u8>,
) -> Response {
    http()
        .post(format!("{base}{SNAPSHOTS_PATH}?{query}"))
        .bearer_auth(device_token)
        .header("Content-Type", content_type)
        .body(body)
        .send()
        .await
        .expect("snapshot upload")
}

/// Creates a user with `roles` and logs in; returns the user's id and access token.
pub async fn user_session(
    tc: &TestCloud,
    email: &str,
    roles: &[(&str, &str)],
) -> (uuid::Uuid, String) {
    let password = "kata-sandi-kuat-123";
    let user = cloud_api::platform::identity::create_user(
        tc.cloud().database(),
        &cloud_api::testkit::role_catalog(),
        cloud_api::platform::identity::NewUser {
            email: Some(cloud_api::platform::identity::Email::parse(email).expect("email")),
            name: email.split('@').next().unwrap_or("user").to_owned(),
            password: password.into(),
            roles: roles
                .iter()
                .map(|(d, r)| ((*d).to_owned(), (*r).to_owned()))
                .collect(),
            ..Default::default()
        },
    )
    .await
    .expect("create user");
    (user.id, login(tc, email, password).await)
}

/// Creates a user with `roles` and logs in; returns the access token.
pub async fn user_token(tc: &TestCloud, email: &str, roles: &[(&str, &str)]) -> String {
    user_session(tc, email, roles).await.1
}

/// A ZIP's files by name (a data export).
pub fn unzip(bytes: Vec<u8>) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a ZIP");
    let mut files = std::collections::BTreeMap::new();
    for i in 0..archive.len() {
        let mut file = archive.by_index(i).expect("a ZIP entry");
        let mut content = Vec::new();
        std::io::Read::read_to_end(&mut file, &mut content).expect("readable entry");
        files.insert(file.name().expect("a name").to_string(), content);
    }
    files
}

/// Fails when any 16-byte run of the (only) sealed face template is in `files`.
pub async fn assert_no_template(
    tc: &TestCloud,
    files: &std::collections::BTreeMap<String, Vec<u8>>,
) {
    use sea_orm::ConnectionTrait;
    let db = tc.cloud().database();
    let sealed: Vec<u8> = db
        .query_one(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT sealed FROM face_templates",
        ))
        .await
        .expect("query")
        .expect("a template")
        .try_get("", "sealed")
        .expect("sealed bytes");
    let everything: Vec<u8> = files.values().flatten().copied().collect();
    assert!(
        !everything
            .windows(16)
            .any(|w| sealed.windows(16).any(|s| s == w)),
        "the export holds template bytes"
    );
}

/// A device's `GET {path}` (the gallery), as it parses it.
pub async fn device_gallery(
    tc: &TestCloud,
    device_token: &str,
    path: &str,
) -> protocol::sync::GallerySnapshot {
    http()
        .get(tc.url(path))
        .bearer_auth(device_token)
        .send()
        .await
        .expect("gallery request")
        .json()
        .await
        .expect("a gallery")
}

/// `POST /api/users/{user}/face-register{query}` with the photo as multipart, the person's
/// consent given.
pub async fn face_register_with(
    tc: &TestCloud,
    admin: &str,
    user: &str,
    bytes: Vec<u8>,
    name: &str,
    query: &str,
) -> (StatusCode, Value) {
    let form = reqwest::multipart::Form::new()
        .part(
            "photo",
            reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned()),
        )
        .text("consent", "true");
    json(
        http()
            .post(tc.url(&format!("/api/users/{user}/face-register{query}")))
            .bearer_auth(admin)
            .multipart(form)
            .send()
            .await
            .unwrap(),
    )
    .await
}
