//! A database written by the code before the domains became crates (commit fe444b3, the
//! fixtures in `tests/fixtures/`, made by running that commit's demo and API as their
//! README says) opens with today's code: the new migrations run, nothing is lost, and the
//! data reads back through the API.

mod common;

use std::{collections::BTreeMap, path::PathBuf, process::Command};

use cloud_api::testkit::{Backend, BrokerKind, TestCloud, TestDb};
use common::*;
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};

cloud_api::db_tests!(a_database_of_the_monolith_upgrades_in_place);

const ADMIN: &str = "admin@gerbang.local";

/// Tables the old code wrote, each non-empty in both fixtures.
const TABLES: &[&str] = &[
    "access_logs",
    "attendance",
    "audit_log",
    "camera_records",
    "cloud_secrets",
    "commands",
    "devices",
    "door_status",
    "dropped_ranges",
    "enrollment_codes",
    "events",
    "face_templates",
    "gallery_state",
    "notifications",
    "people_profiles",
    "refresh_tokens",
    "system_settings",
    "users",
];

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Puts the fixture of `backend` into `db`; returns the admin password it was made with.
fn load_fixture(backend: &Backend, db: &TestDb) -> &'static str {
    match backend {
        Backend::Sqlite => {
            let path = db
                .url
                .strip_prefix("sqlite://")
                .and_then(|rest| rest.split('?').next())
                .expect("a sqlite URL");
            std::fs::copy(fixture("main-fe444b3.sqlite"), path).expect("copy the fixture");
            "ZPB6FpBTZ0oFyCNa"
        }
        Backend::Postgres { .. } => {
            let status = Command::new("psql")
                .args(["-q", "-v", "ON_ERROR_STOP=1", "-d", &db.url, "-f"])
                .arg(fixture("main-fe444b3.pg.sql"))
                .stdout(std::process::Stdio::null())
                .status()
                .expect("psql runs (PostgreSQL's client)");
            assert!(status.success(), "psql could not load the fixture");
            "qVMrrW1n56QvS2QO"
        }
    }
}

async fn counts(db: &DatabaseConnection) -> BTreeMap<&'static str, i64> {
    let mut counts = BTreeMap::new();
    for table in TABLES {
        let row = db
            .query_one(Statement::from_string(
                db.get_database_backend(),
                format!("SELECT COUNT(*) AS n FROM {table}"),
            ))
            .await
            .expect("count")
            .expect("a row");
        counts.insert(*table, row.try_get::<i64>("", "n").expect("n"));
    }
    counts
}

async fn migrations(db: &DatabaseConnection) -> Vec<String> {
    db.query_all(Statement::from_string(
        db.get_database_backend(),
        "SELECT version FROM seaql_migrations ORDER BY version",
    ))
    .await
    .expect("migrations")
    .iter()
    .map(|r| r.try_get::<String>("", "version").expect("version"))
    .collect()
}

async fn a_database_of_the_monolith_upgrades_in_place(backend: Backend) {
    let db = TestDb::create(&backend).await;
    let password = load_fixture(&backend, &db);
    let before = {
        let conn = Database::connect(db.url.as_str()).await.expect("connect");
        let before = counts(&conn).await;
        let old = migrations(&conn).await;
        assert_eq!(old.len(), 8, "{old:?}");
        conn.close().await.ok();
        before
    };
    assert!(before.values().all(|n| *n > 0), "{before:?}");

    let tc = TestCloud::start_on(db, backend, BrokerKind::Embedded, |c| {
        c.admin_email = Some(ADMIN.into());
        c.admin_password = Some(password.into());
    })
    .await;
    let conn = tc.cloud().database();
    let applied = migrations(conn).await;
    for name in [
        "m0010_attendance",
        "m0010_camera",
        "m0014_users_username_employee_no",
    ] {
        assert!(
            applied.iter().any(|m| m == name),
            "{name} not in {applied:?}"
        );
    }
    let after = counts(conn).await;
    for table in TABLES {
        if *table == "cloud_secrets" {
            // New features generate their keys at start (the TOTP and SAKIP integration
            // seals); the old ones must all still be there.
            assert!(
                after[table] >= before[table],
                "cloud_secrets lost a key on upgrade"
            );
            continue;
        }
        // Signing in below adds an audit row and a session; nothing else may change.
        assert_eq!(after[table], before[table], "{table} changed on upgrade");
    }

    // The old admin signs in with the old password: identities and hashes survived.
    let admin = login(&tc, ADMIN, password).await;
    let (status, users) = call(http().get(tc.url("/api/users")).bearer_auth(&admin)).await;
    assert_eq!(status, StatusCode::OK, "{users}");
    assert_eq!(users["total_users"], before["users"], "{users}");
    let attendance: i64 = users["users"]
        .as_array()
        .expect("users")
        .iter()
        .map(|u| u["attendance_count"].as_i64().unwrap_or(0))
        .sum();
    assert_eq!(attendance, before["attendance"], "{users}");
    let obama = users["users"]
        .as_array()
        .expect("users")
        .iter()
        .find(|u| u["name"] == "Barack Obama")
        .expect("Obama is there");
    assert_eq!(obama["face_registered"], true, "{obama}");

    let (status, history) = call(
        http()
            .get(tc.url("/api/history/access?limit=200&include_total=true"))
            .bearer_auth(&admin),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{history}");
    assert_eq!(
        history["pagination"]["total"], before["access_logs"],
        "{history}"
    );
    let (status, doors) = call(http().get(tc.url("/api/door/status")).bearer_auth(&admin)).await;
    assert_eq!(status, StatusCode::OK, "{doors}");
    let (status, recordings) = call(
        http()
            .get(tc.url("/api/camera/recordings?limit=100"))
            .bearer_auth(&admin),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{recordings}");
    tc.stop().await;
}
