//! User management and the demo switch on SQLite and PostgreSQL: a temporary password
//! blocks administrators too, a user is created with its profile and `USER_CREATED` or not
//! at all, users created at the same moment each get 201 or 409 (never 500: on SQLite the
//! creation takes the write lock first — found by schemathesis), a role that needs a
//! department is refused without one, a new department ends
//! the user's sessions and is audited, and the meals demo data comes only when
//! `[meals] demo_data` (or `GERBANG_MEALS_DEMO_DATA`) asks for it, each account with its
//! profile or not at all.

#![allow(clippy::unwrap_used)]

mod common;

use cloud_api::{
    db_tests,
    testkit::{Backend, BrokerKind, TestCloud},
};
use common::*;
use reqwest::{Method, StatusCode};
use sea_orm::ConnectionTrait;
use serde_json::{json, Value};

db_tests!(
    temporary_password_blocks_administrators,
    user_created_with_profile_and_trail_or_not_at_all,
    concurrent_creations_each_get_an_answer,
    role_needs_a_department,
    new_department_ends_sessions,
    demo_data_only_when_asked,
    demo_account_and_profile_together
);

/// The audit trail entries of action `aksi`.
async fn trail(w: &World, aksi: &str) -> Value {
    let (status, body) = req(
        &w.tc,
        &w.admin,
        Method::GET,
        &format!("/reports/audit-trail?aksi={aksi}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn sql(tc: &TestCloud, statement: &str) {
    tc.cloud()
        .database()
        .execute_unprepared(statement)
        .await
        .unwrap();
}

async fn temporary_password_blocks_administrators(backend: Backend) {
    let w = world(backend).await;
    let tc = &w.tc;
    let adm = create_user(tc, &w.admin, "ADM002", "administrator", w.dept1).await["id"]
        .as_i64()
        .unwrap();
    let temporary = reset_password(tc, &w.admin, adm).await;
    let temp = login(tc, "ADM002", &temporary).await;
    // Every administrator route refuses, as the members' routes do.
    for (method, path, body) in [
        (Method::GET, "/users".to_owned(), None),
        (Method::GET, format!("/users/{adm}"), None),
        (
            Method::POST,
            "/users".to_owned(),
            Some(
                json!({"nik": "EMP900", "namaLengkap": "X", "password": "rahasia-123", "roleAccess": "employee", "departmentId": w.dept1}),
            ),
        ),
        (
            Method::PATCH,
            format!("/users/{}/status", w.employee.id),
            Some(json!({"isActive": false})),
        ),
        (Method::GET, "/reports/consumption".to_owned(), None),
        (Method::GET, "/reports/audit-trail".to_owned(), None),
        (
            Method::GET,
            "/reports/audit-trail/action-types".to_owned(),
            None,
        ),
        (
            Method::POST,
            "/departments".to_owned(),
            Some(json!({"namaDivisi": "Gudang"})),
        ),
        (Method::GET, "/orders/pending-approvals".to_owned(), None),
    ] {
        let (status, answer) = req(tc, &temp, method.clone(), &path, body).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{method} {path}: {answer}");
        assert_eq!(
            answer["message"], "Silakan ganti password sementara Anda terlebih dahulu",
            "{method} {path}"
        );
    }
    // Nothing changed.
    let (_, users) = req(tc, &w.admin, Method::GET, "/users", None).await;
    assert!(users
        .as_array()
        .unwrap()
        .iter()
        .all(|u| u["nik"] != "EMP900"));
    assert!(users
        .as_array()
        .unwrap()
        .iter()
        .all(|u| u["isActive"] == true));
    let (_, departments) = req(tc, &w.admin, Method::GET, "/departments", None).await;
    assert_eq!(departments.as_array().unwrap().len(), 2);
    // Once changed, the administrator is one again.
    let renewed = change_password(tc, &temp, &temporary, "baru-rahasia-1").await;
    let (status, _) = req(tc, &renewed, Method::GET, "/users", None).await;
    assert_eq!(status, StatusCode::OK);
    // A member is no administrator.
    let (status, _) = req(tc, &w.employee, Method::GET, "/users", None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

async fn user_created_with_profile_and_trail_or_not_at_all(backend: Backend) {
    let w = world(backend).await;
    let tc = &w.tc;
    let body = json!({
        "nik": "EMP300", "namaLengkap": "Karyawan Baru", "password": "rahasia-123",
        "roleAccess": "employee", "departmentId": w.dept2
    });
    // The trail cannot be written: the user must not be created either.
    sql(tc, "ALTER TABLE meals_audit RENAME TO meals_audit_away").await;
    let (status, answer) = req(tc, &w.admin, Method::POST, "/users", Some(body.clone())).await;
    sql(tc, "ALTER TABLE meals_audit_away RENAME TO meals_audit").await;
    assert!(status.is_server_error(), "{status}: {answer}");
    let (status, _) = call(
        http()
            .post(api(tc, "/auth/login"))
            .json(&json!({"nik": "EMP300", "password": "rahasia-123"})),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the user was left behind");
    // Now all three together.
    let (status, created) = req(tc, &w.admin, Method::POST, "/users", Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["departmentId"], w.dept2);
    let entries = trail(&w, "USER_CREATED").await;
    assert_eq!(entries["total"], 5);
    assert_eq!(
        entries["data"][0]["detail"],
        "User EMP300 created with role employee"
    );
    login(tc, "EMP300", "rahasia-123").await;
}

/// Eight creations at once, six distinct and two of one NIK: every distinct one is created,
/// the pair gives one 201 and one 409. SQLite refused a deferred transaction that had read
/// before another commit ("database is locked"), a 500.
async fn concurrent_creations_each_get_an_answer(backend: Backend) {
    let w = world(backend).await;
    let niks = [
        "CC01", "CC02", "CC03", "CC04", "CC05", "CC06", "CC77", "CC77",
    ];
    let answers = futures::future::join_all(niks.iter().map(|nik| {
        req(
            &w.tc,
            &w.admin,
            Method::POST,
            "/users",
            Some(json!({
                "nik": nik, "namaLengkap": format!("User {nik}"), "password": "rahasia-123",
                "roleAccess": "administrator"
            })),
        )
    }))
    .await;
    for (nik, (status, body)) in niks.iter().zip(&answers).take(6) {
        assert_eq!(status, &StatusCode::CREATED, "{nik}: {body}");
    }
    let mut pair: Vec<StatusCode> = answers[6..].iter().map(|(s, _)| *s).collect();
    pair.sort();
    assert_eq!(
        pair,
        [StatusCode::CREATED, StatusCode::CONFLICT],
        "{answers:?}"
    );
}

async fn role_needs_a_department(backend: Backend) {
    let w = world(backend).await;
    let tc = &w.tc;
    // An administrator may have no department…
    let (status, adm) = req(
        tc,
        &w.admin,
        Method::POST,
        "/users",
        Some(json!({"nik": "ADM300", "namaLengkap": "Admin Tanpa Divisi", "password": "rahasia-123", "roleAccess": "administrator"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{adm}");
    let id = adm["id"].as_i64().unwrap();
    // …but no other role may: refused, nothing changed.
    for role in ["dapur", "delivery", "employee"] {
        let (status, answer) = req(
            tc,
            &w.admin,
            Method::PATCH,
            &format!("/users/{id}/role"),
            Some(json!({"roleAccess": role})),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{role}: {answer}");
        assert!(
            answer["message"]
                .as_str()
                .unwrap()
                .contains("belum memiliki departemen"),
            "{answer}"
        );
    }
    let (_, still) = req(tc, &w.admin, Method::GET, &format!("/users/{id}"), None).await;
    assert_eq!(still["roleAccess"], "administrator");
    assert_eq!(trail(&w, "USER_ROLE_CHANGED").await["total"], 0);
    // With a department, the change goes through.
    let (status, _) = req(
        tc,
        &w.admin,
        Method::PATCH,
        &format!("/users/{id}"),
        Some(json!({"departmentId": w.dept2})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, changed) = req(
        tc,
        &w.admin,
        Method::PATCH,
        &format!("/users/{id}/role"),
        Some(json!({"roleAccess": "dapur"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["roleAccess"], "dapur");
}

async fn new_department_ends_sessions(backend: Backend) {
    let w = world(backend).await;
    let tc = &w.tc;
    // A new name only: audited, sessions kept.
    let (status, renamed) = req(
        tc,
        &w.admin,
        Method::PATCH,
        &format!("/users/{}", w.dapur.id),
        Some(json!({"namaLengkap": "Juru Masak Satu"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{renamed}");
    let (status, _) = req(tc, &w.dapur, Method::GET, "/auth/me", None).await;
    assert_eq!(status, StatusCode::OK);
    // The kitchen moves to department 2: its sessions end (tokens carry the department,
    // which picks its realtime rooms) and the trail says so.
    let (status, moved) = req(
        tc,
        &w.admin,
        Method::PATCH,
        &format!("/users/{}", w.dapur.id),
        Some(json!({"departmentId": w.dept2})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{moved}");
    assert_eq!(moved["departmentId"], w.dept2);
    let (status, _) = req(tc, &w.dapur, Method::GET, "/auth/me", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let entries = trail(&w, "USER_UPDATED").await;
    assert_eq!(entries["total"], 2, "{entries}");
    assert_eq!(
        entries["data"][0]["detail"],
        format!("User KIT001 updated: department {} -> {}", w.dept1, w.dept2)
    );
    assert_eq!(
        entries["data"][1]["detail"],
        "User KIT001 updated: name Juru Masak Satu"
    );
    // Signed in again, its session is department 2's.
    let again = login(tc, "KIT001", "rahasia-123").await;
    let (_, me) = req(tc, &again, Method::GET, "/auth/me", None).await;
    assert_eq!(me["departmentId"], w.dept2);
    // The same department again changes nothing about sessions.
    let (status, _) = req(
        tc,
        &w.admin,
        Method::PATCH,
        &format!("/users/{}", w.dapur.id),
        Some(json!({"departmentId": w.dept2})),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = req(tc, &again, Method::GET, "/auth/me", None).await;
    assert_eq!(status, StatusCode::OK);
}

/// Logs in with the seed's credentials; the status only.
async fn demo_login(tc: &TestCloud, nik: &str, password: &str) -> (StatusCode, Value) {
    call(
        http()
            .post(api(tc, "/auth/login"))
            .json(&json!({"nik": nik, "password": password})),
    )
    .await
}

async fn demo_data_only_when_asked(backend: Backend) {
    // Off by default: the plain cloud creates none of the seed's accounts.
    let tc = TestCloud::start(backend.clone(), BrokerKind::Embedded).await;
    assert_eq!(
        demo_login(&tc, "ADM001", "admin123").await.0,
        StatusCode::UNAUTHORIZED
    );
    drop(tc);
    // `[meals] demo_data = true`: the five accounts with their departments.
    let tc = TestCloud::start_with(backend, BrokerKind::Embedded, |c| {
        c.set_section("meals", &json!({"demo_data": true})).unwrap();
    })
    .await;
    for (nik, password, role, dept) in [
        ("ADM001", "admin123", "administrator", "IT Department"),
        ("EMP001", "emp123", "employee", "IT Department"),
        ("KIT001", "kitchen123", "dapur", "IT Department"),
        ("DEL001", "delivery123", "delivery", "IT Department"),
        ("EMP002", "emp123", "employee", "Produksi"),
    ] {
        let (status, body) = demo_login(&tc, nik, password).await;
        assert_eq!(status, StatusCode::OK, "{nik}: {body}");
        assert_eq!(body["user"]["role"], role, "{nik}");
        assert_eq!(body["user"]["departmentName"], dept, "{nik}");
    }
}

async fn demo_account_and_profile_together(backend: Backend) {
    let tc = TestCloud::start(backend, BrokerKind::Embedded).await;
    let db = tc.cloud().database();
    // The profile cannot be written: the account must not stay behind without it.
    sql(
        &tc,
        "ALTER TABLE meals_employees RENAME TO meals_employees_away",
    )
    .await;
    let failed = meals::seed_demo(db).await;
    sql(
        &tc,
        "ALTER TABLE meals_employees_away RENAME TO meals_employees",
    )
    .await;
    assert!(failed.is_err());
    assert_eq!(
        demo_login(&tc, "ADM001", "admin123").await.0,
        StatusCode::UNAUTHORIZED,
        "the account was left without its profile"
    );
    // The next run seeds every account with its profile.
    meals::seed_demo(db).await.unwrap();
    let (status, body) = demo_login(&tc, "ADM001", "admin123").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["user"]["departmentName"], "IT Department");
    assert!(body["user"]["jabatanId"].is_number(), "{body}");
}

/// `GERBANG_MEALS_DEMO_DATA` and `[meals] demo_data` in the file reach the switch (the
/// environment is read in a child process of this test, so no other test sees it).
#[test]
fn demo_switch_from_file_and_environment() {
    let section = |c: &cloud_api::CloudConfig| c.section::<meals::MealsConfig>("meals").unwrap();
    if std::env::var_os("MEALS_TEST_ENV_PROBE").is_some() {
        assert!(section(&cloud_api::load_config(None).unwrap()).demo_data);
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cloud.toml");
    std::fs::write(&file, "[meals]\nmax_quantity = 40\n").unwrap();
    assert!(!section(&cloud_api::load_config(Some(file.as_path())).unwrap()).demo_data);
    std::fs::write(&file, "[meals]\ndemo_data = true\n").unwrap();
    assert!(section(&cloud_api::load_config(Some(file.as_path())).unwrap()).demo_data);
    let probe = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "demo_switch_from_file_and_environment"])
        .env("MEALS_TEST_ENV_PROBE", "1")
        .env("GERBANG_MEALS_DEMO_DATA", "true")
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&probe.stdout);
    assert!(probe.status.success(), "{out}");
    assert!(out.contains("1 passed"), "{out}");
}
