//! Helpers shared by the integration tests: an HTTP client logged in as the test admin,
//! polling, and metric parsing.

#![allow(dead_code)]

use std::time::Duration;

use cloud_api::testkit::TestCloud;
use reqwest::{Client, Response, StatusCode};
use serde_json::Value;

pub fn http() -> Client {
    Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

pub async fn admin_token(tc: &TestCloud) -> String {
    let response = http()
        .post(tc.url("/api/auth/login"))
        .json(&serde_json::json!({"email": tc.admin_email, "password": tc.admin_password}))
        .send()
        .await
        .expect("login request");
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.expect("login body");
    body["accessToken"].as_str().expect("token").to_owned()
}

pub async fn json(response: Response) -> (StatusCode, Value) {
    let status = response.status();
    let text = response.text().await.expect("body");
    let value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"));
    (status, value)
}

pub async fn get_devices(tc: &TestCloud, token: &str) -> Value {
    let (status, body) = json(
        http()
            .get(tc.url("/api/devices"))
            .bearer_auth(token)
            .send()
            .await
            .expect("request"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

pub fn device<'a>(list: &'a Value, id: &str) -> &'a Value {
    list["devices"]
        .as_array()
        .expect("devices array")
        .iter()
        .find(|d| d["id"] == id)
        .unwrap_or_else(|| panic!("device {id} not listed in {list}"))
}

/// Polls `check` until it returns `Some`, for up to `secs` seconds.
pub async fn eventually<T, F, Fut>(secs: u64, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "condition not met within {secs} s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
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

/// Posts sealed frames as one HTTPS batch (`/api/device/events`) with the device's token and
/// expects 200. The body is built from the frames' exact bytes: re-serialising a frame
/// would reorder its keys and break its signature.
pub async fn send_frames(tc: &TestCloud, device_token: &str, frames: &[Vec<u8>]) -> Value {
    let frames: Vec<&str> = frames
        .iter()
        .map(|f| std::str::from_utf8(f).expect("UTF-8 frame"))
        .collect();
    let (status, body) = json(
        http()
            .post(tc.url("/api/device/events"))
            .bearer_auth(device_token)
            .header("Content-Type", "application/json")
            .body(format!("{{\"frames\": [{}]}}", frames.join(",")))
            .send()
            .await
            .expect("request"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// Creates a user with `roles` and logs in; returns the access token.
pub async fn user_token(tc: &TestCloud, email: &str, roles: &[(&str, &str)]) -> String {
    let password = "kata-sandi-kuat-123";
    cloud_api::platform::identity::create_user(
        tc.cloud().database(),
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
    let (status, body) = json(
        http()
            .post(tc.url("/api/auth/login"))
            .json(&serde_json::json!({"email": email, "password": password}))
            .send()
            .await
            .expect("login"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["accessToken"].as_str().expect("token").to_owned()
}
