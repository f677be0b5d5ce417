//! Helpers for the meals tests: a cloud with master data and one user per role, calls as a
//! signed-in user, NIK login.

#![allow(dead_code, clippy::unwrap_used)]

use std::time::Duration;

use cloud_api::{
    testkit::{Backend, BrokerKind, TestCloud},
    CloudConfig,
};
use reqwest::{Client, Method, RequestBuilder, StatusCode};
use serde_json::{json, Value};

pub fn http() -> Client {
    Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

pub async fn call(request: RequestBuilder) -> (StatusCode, Value) {
    let response = request.send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, value)
}

pub fn api(tc: &TestCloud, path: &str) -> String {
    tc.url(&format!("/meals/api{path}"))
}

/// A signed-in caller.
#[derive(Debug, Clone)]
pub struct Caller {
    pub token: String,
    pub id: i64,
}

pub async fn req(
    tc: &TestCloud,
    who: &Caller,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = http()
        .request(method, api(tc, path))
        .bearer_auth(&who.token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    call(request).await
}

/// Logs in with NIK and password through `/meals/api/auth/login`.
pub async fn login(tc: &TestCloud, nik: &str, password: &str) -> Caller {
    let (status, body) = call(
        http()
            .post(api(tc, "/auth/login"))
            .json(&json!({"nik": nik, "password": password})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    Caller {
        token: body["accessToken"].as_str().unwrap().to_owned(),
        id: body["user"]["id"].as_i64().unwrap(),
    }
}

/// The world most tests start from.
pub struct World {
    pub tc: TestCloud,
    pub admin: Caller,
    pub dept1: i64,
    pub dept2: i64,
    pub shift: i64,
    pub employee: Caller,
    pub employee2: Caller,
    pub dapur: Caller,
    pub delivery: Caller,
}

pub async fn create_user(
    tc: &TestCloud,
    admin: &Caller,
    nik: &str,
    role: &str,
    dept: i64,
) -> Value {
    let (status, body) = req(
        tc,
        admin,
        Method::POST,
        "/users",
        Some(json!({
            "nik": nik, "namaLengkap": format!("User {nik}"), "password": "rahasia-123",
            "roleAccess": role, "departmentId": dept
        })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body
}

/// `POST /users/{id}/reset-password`; returns the temporary password.
pub async fn reset_password(tc: &TestCloud, admin: &Caller, id: i64) -> String {
    let (status, reset) = req(
        tc,
        admin,
        Method::POST,
        &format!("/users/{id}/reset-password"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{reset}");
    reset["temporaryPassword"].as_str().unwrap().to_owned()
}

/// `POST /auth/change-password` to `new`; returns the caller with the fresh token.
pub async fn change_password(tc: &TestCloud, who: &Caller, old: &str, new: &str) -> Caller {
    let (status, body) = req(
        tc,
        who,
        Method::POST,
        "/auth/change-password",
        Some(json!({"oldPassword": old, "newPassword": new})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    Caller {
        token: body["accessToken"].as_str().unwrap().to_owned(),
        id: who.id,
    }
}

pub async fn world(backend: Backend) -> World {
    world_with(backend, |_| {}).await
}

/// [`world`] on a cloud whose configuration `adjust` changed first.
pub async fn world_with(backend: Backend, adjust: impl FnOnce(&mut CloudConfig)) -> World {
    world_on(TestCloud::start_with(backend, BrokerKind::Embedded, adjust).await).await
}

/// [`world`] on a cloud already started (one of several replicas, say).
pub async fn world_on(tc: TestCloud) -> World {
    // The platform's bootstrap admin holds the meals top role (administrator).
    let (status, body) = call(
        http()
            .post(tc.url("/api/auth/login"))
            .json(&json!({"email": tc.admin_email, "password": tc.admin_password})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut admin = Caller {
        token: body["accessToken"].as_str().unwrap().to_owned(),
        id: 0,
    };
    let (_, me) = req(&tc, &admin, Method::GET, "/auth/me", None).await;
    admin.id = me["id"].as_i64().unwrap();
    let mut ids = Vec::new();
    for name in ["IT Department", "Produksi"] {
        let (status, body) = req(
            &tc,
            &admin,
            Method::POST,
            "/departments",
            Some(json!({"namaDivisi": name})),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        ids.push(body["id"].as_i64().unwrap());
    }
    let (status, shift) = req(
        &tc,
        &admin,
        Method::POST,
        "/shifts",
        Some(json!({"namaShift": "Shift 1", "jamMulai": "07:00", "jamSelesai": "15:00"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{shift}");
    let (dept1, dept2) = (ids[0], ids[1]);
    for (nik, role, dept) in [
        ("EMP001", "employee", dept1),
        ("EMP002", "employee", dept1),
        ("KIT001", "dapur", dept1),
        ("DEL001", "delivery", dept1),
    ] {
        create_user(&tc, &admin, nik, role, dept).await;
    }
    let employee = login(&tc, "EMP001", "rahasia-123").await;
    let employee2 = login(&tc, "EMP002", "rahasia-123").await;
    let dapur = login(&tc, "KIT001", "rahasia-123").await;
    let delivery = login(&tc, "DEL001", "rahasia-123").await;
    World {
        tc,
        admin,
        dept1,
        dept2,
        shift: shift["id"].as_i64().unwrap(),
        employee,
        employee2,
        dapur,
        delivery,
    }
}

/// Creates an order as `who`; returns it.
pub async fn order(w: &World, who: &Caller, qty: i64) -> Value {
    let (status, body) = req(
        &w.tc,
        who,
        Method::POST,
        "/orders",
        Some(json!({"shiftId": w.shift, "jumlahPesanan": qty})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body
}

/// `PATCH /orders/{id}/status`.
pub async fn set_status(
    w: &World,
    who: &Caller,
    id: i64,
    status: &str,
    reason: Option<&str>,
) -> (StatusCode, Value) {
    let mut body = json!({"status": status});
    if let Some(reason) = reason {
        body["reason"] = json!(reason);
    }
    req(
        &w.tc,
        who,
        Method::PATCH,
        &format!("/orders/{id}/status"),
        Some(body),
    )
    .await
}
