//! What the ChatMe suites share: a cloud per test, HTTP calls under `/chatme/api`, members,
//! hosts, coins and gifts made through the API.

#![allow(dead_code, clippy::unwrap_used)]

use cloud_api::{
    platform::identity::{self, NewUser, Phone},
    testkit::{role_catalog, Backend, BrokerKind, TestCloud},
};
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

pub const PASSWORD: &str = "rahasia-chatme-1";

pub fn http() -> Client {
    Client::builder()
        .timeout(std::time::Duration::from_secs(60))
        .build()
        .unwrap()
}

pub async fn call(
    tc: &TestCloud,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = http().request(method, tc.url(&format!("/chatme/api{path}")));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

pub async fn post(
    tc: &TestCloud,
    path: &str,
    token: Option<&str>,
    body: Value,
) -> (StatusCode, Value) {
    call(tc, Method::POST, path, token, Some(body)).await
}

pub async fn get(tc: &TestCloud, path: &str, token: &str) -> Value {
    let (status, body) = call(tc, Method::GET, path, Some(token), None).await;
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    body
}

pub async fn platform_admin(tc: &TestCloud) -> String {
    let response = http()
        .post(tc.url("/api/auth/login"))
        .json(&json!({"email": tc.admin_email, "password": tc.admin_password}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    body["accessToken"].as_str().unwrap().to_owned()
}

/// Registers `phone` through the API and logs in: (id, ChatMe token).
pub async fn member(tc: &TestCloud, phone: &str, name: &str) -> (Uuid, String) {
    let (status, body) = post(
        tc,
        "/register",
        None,
        json!({"phone": phone, "password": PASSWORD, "name": name}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    login(tc, phone).await
}

pub async fn login(tc: &TestCloud, phone: &str) -> (Uuid, String) {
    let (status, body) = post(
        tc,
        "/login",
        None,
        json!({"phone": phone, "password": PASSWORD}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    (
        body["user"]["id"].as_str().unwrap().parse().unwrap(),
        body["token"].as_str().unwrap().to_owned(),
    )
}

/// A host, made directly in the database (the agency path is tested in `agency.rs`).
pub async fn host(tc: &TestCloud, phone: &str, name: &str) -> (Uuid, String) {
    identity::create_user(
        tc.cloud().database(),
        &role_catalog(),
        NewUser {
            phone: Some(Phone::parse(phone).unwrap()),
            name: name.to_owned(),
            password: PASSWORD.to_owned(),
            roles: [("live".to_owned(), "host".to_owned())].into(),
            ..NewUser::default()
        },
    )
    .await
    .unwrap();
    login(tc, phone).await
}

pub async fn credit(tc: &TestCloud, admin: &str, user: Uuid, amount: i64) -> (StatusCode, Value) {
    post(
        tc,
        "/admin/coins/credit",
        Some(admin),
        json!({"user_id": user, "amount": amount, "reference": format!("topup-{}", Uuid::new_v4())}),
    )
    .await
}

pub async fn gift(tc: &TestCloud, admin: &str, name: &str, value: i64, category: &str) -> Uuid {
    let (status, body) = post(
        tc,
        "/admin/gifts",
        Some(admin),
        json!({"name": name, "coin_value": value, "category": category, "icon": "🌹"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["gift"]["id"].as_str().unwrap().parse().unwrap()
}

pub async fn balance(tc: &TestCloud, token: &str) -> i64 {
    get(tc, "/wallet", token).await["balance"].as_i64().unwrap()
}

/// The sum of an account's ledger, read straight from the database.
pub async fn ledger_sum(tc: &TestCloud, account: Uuid) -> i64 {
    live::wallet::ledger_sum(tc.cloud().database(), account)
        .await
        .unwrap()
}

pub async fn stored_balance(tc: &TestCloud, account: Uuid) -> i64 {
    live::wallet::balance(tc.cloud().database(), account)
        .await
        .unwrap()
}

pub async fn start(backend: Backend) -> TestCloud {
    TestCloud::start(backend, BrokerKind::Embedded).await
}

/// A cloud whose `[live]` section is `live` (e.g. a short `host_grace_ms`).
pub async fn start_live(backend: Backend, live: Value) -> TestCloud {
    TestCloud::start_with(backend, BrokerKind::Embedded, |config| {
        config.set_section("live", &live).unwrap();
    })
    .await
}

/// A host's open session: `(session id, room id)`.
pub async fn go_live(tc: &TestCloud, token: &str) -> (Uuid, String) {
    let (status, started) = post(tc, "/live-session/start", Some(token), json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{started}");
    (
        started["session"]["id"].as_str().unwrap().parse().unwrap(),
        started["room_id"].as_str().unwrap().to_owned(),
    )
}
