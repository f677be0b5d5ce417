//! Biometric privacy on both databases (issue #21): erasing a person — or their face
//! registration — pseudonymises their access-log rows and stored device events and deletes
//! their snapshots from the object store; the daily retention job removes exactly what is
//! past its period, once across replicas, and reports it (log, metric, audit row); a
//! person's export holds every domain's folder and their snapshots' original images, never
//! a template; the template key rotates while the cloud serves.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;

use cloud_api::{
    db_tests,
    platform::retention,
    testkit::{unique_site, Backend, BrokerKind, SimDevice, TestCloud},
};
use common::*;
use protocol::{AccessMethod, AccessResult, DenyReason, Event, PersonRef};
use reqwest::{multipart, Method, StatusCode};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement, Value as DbValue};
use serde_json::{json, Value};
use time::OffsetDateTime;

db_tests!(
    erasing_a_person_pseudonymises_history_and_deletes_snapshots,
    withdrawing_face_consent_reaches_history_and_snapshots,
    evidence_named_by_the_device_meets_its_decision_in_either_order,
    retention_removes_exactly_what_is_past_its_period,
    the_retention_run_is_claimed_once_across_replicas,
    export_holds_every_domain_and_the_original_images,
    template_keys_rotate_while_the_cloud_serves,
);

/// Creates a door person; returns their id.
async fn person(tc: &TestCloud, admin: &str, name: &str, email: &str) -> String {
    let (status, body) = call(
        authed(tc, Method::POST, "/api/users", admin).json(&json!({"name": name, "email": email})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["id"]
        .as_str()
        .or(body["user"]["id"].as_str())
        .unwrap()
        .to_owned()
}

/// Enrols Obama's photo as `user`'s face, with consent.
async fn enrol_face(tc: &TestCloud, admin: &str, user: &str) {
    let (status, body) = face_register_with(tc, admin, user, jpeg(), "a.jpg", "").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

/// Uploads a JPEG as `dev`'s evidence snapshot; returns its key.
async fn snapshot(tc: &TestCloud, dev: &SimDevice, bytes: Vec<u8>) -> String {
    let response = upload_snapshot(&tc.url(""), &dev.token, "", "image/jpeg", bytes).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    body["key"].as_str().unwrap().to_owned()
}

/// A face decision about `person` (or a stranger), with `snapshot`.
fn decision(person: Option<(&str, &str)>, granted: bool, snapshot: Option<&str>) -> Event {
    Event::AccessDecision {
        result: if granted {
            AccessResult::Granted
        } else {
            AccessResult::Denied
        },
        method: AccessMethod::Face,
        person: person.map(|(id, name)| PersonRef {
            id: id.into(),
            name: name.into(),
        }),
        reason: (!granted).then_some(DenyReason::OutsideSchedule),
        score: Some(0.8),
        liveness: Some(0.9),
        snapshot: snapshot.map(str::to_owned),
    }
}

async fn rows(db: &DatabaseConnection, sql: &str) -> Vec<sea_orm::QueryResult> {
    db.query_all(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap()
}

/// `(person_id, person_name, snapshot)` of every access-log row of `device`, oldest first.
async fn access_rows(
    db: &DatabaseConnection,
    device: &str,
) -> Vec<(Option<String>, Option<String>, Option<String>)> {
    rows(
        db,
        &format!(
            "SELECT person_id, person_name, snapshot FROM access_logs \
             WHERE device_id = '{device}' ORDER BY seq"
        ),
    )
    .await
    .iter()
    .map(|r| {
        (
            r.try_get("", "person_id").unwrap(),
            r.try_get("", "person_name").unwrap(),
            r.try_get("", "snapshot").unwrap(),
        )
    })
    .collect()
}

/// The person id each camera record is tied to, by record id.
async fn snapshot_owners(db: &DatabaseConnection) -> BTreeMap<String, Option<String>> {
    rows(db, "SELECT id, person_id FROM camera_records")
        .await
        .iter()
        .map(|r| {
            (
                r.try_get::<uuid::Uuid>("", "id").unwrap().to_string(),
                r.try_get("", "person_id").unwrap(),
            )
        })
        .collect()
}

/// Every stored event body, as text.
async fn event_bodies(db: &DatabaseConnection) -> String {
    rows(db, "SELECT body FROM events")
        .await
        .iter()
        .map(|r| r.try_get::<String>("", "body").unwrap())
        .collect::<Vec<_>>()
        .join("\n")
}

async fn image_status(tc: &TestCloud, admin: &str, key: &str) -> StatusCode {
    fetch(tc, admin, &format!("/api/camera/recordings/{key}/image"))
        .await
        .status()
}

/// Two people seen at a door, each with an evidence snapshot, and a stranger with one.
struct Scene {
    tc: TestCloud,
    admin: String,
    device: String,
    dev: SimDevice,
    ana: String,
    budi: String,
    /// Ana's, Budi's and the stranger's snapshot keys.
    keys: [String; 3],
}

async fn scene(backend: Backend) -> Scene {
    let tc = start(backend).await;
    let admin = admin_token(&tc).await;
    let ana = person(&tc, &admin, "Ana Lestari", "ana@example.com").await;
    let budi = person(&tc, &admin, "Budi Santoso", "budi@example.com").await;
    let mut dev = tc
        .enroll_device(&unique_site("privacy"), "door-privacy")
        .await;
    let keys = [
        snapshot(&tc, &dev, jpeg()).await,
        snapshot(&tc, &dev, testdata("people/biden/biden.jpg")).await,
        snapshot(&tc, &dev, jpeg()).await,
    ];
    let frames = vec![
        dev.next_frame(decision(Some((&ana, "Ana Lestari")), false, Some(&keys[0]))),
        dev.next_frame(decision(Some((&ana, "Ana Lestari")), true, None)),
        dev.next_frame(decision(
            Some((&budi, "Budi Santoso")),
            false,
            Some(&keys[1]),
        )),
        dev.next_frame(decision(None, false, Some(&keys[2]))),
    ];
    send_frames(&tc, &dev.token, &frames).await;
    let db = tc.cloud().database();
    // The projector tied each snapshot to the person its decision names.
    let owners = snapshot_owners(db).await;
    assert_eq!(owners[&keys[0]].as_deref(), Some(ana.as_str()));
    assert_eq!(owners[&keys[1]].as_deref(), Some(budi.as_str()));
    assert_eq!(owners[&keys[2]], None);
    Scene {
        device: dev.id.to_string(),
        dev,
        tc,
        admin,
        ana,
        budi,
        keys,
    }
}

async fn erasing_a_person_pseudonymises_history_and_deletes_snapshots(backend: Backend) {
    let Scene {
        tc,
        admin,
        device,
        mut dev,
        ana,
        budi,
        keys,
    } = scene(backend).await;
    let db = tc.cloud().database();
    assert!(event_bodies(db).await.contains("Ana Lestari"));

    let (status, body) = delete(&tc, &admin, &format!("/api/users/{ana}")).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // The events stay, without Ana: no id, no name, no snapshot reference.
    let logged = access_rows(db, &device).await;
    assert_eq!(logged.len(), 4, "no event is lost");
    assert_eq!(logged[0], (None, None, None));
    assert_eq!(logged[1], (None, None, None));
    assert_eq!(
        logged[2],
        (
            Some(budi.clone()),
            Some("Budi Santoso".into()),
            Some(keys[1].clone())
        )
    );
    assert_eq!(logged[3], (None, None, Some(keys[2].clone())));
    // The history API finds nothing of her by name any more.
    let (_, found) = get(&tc, &admin, "/api/history/access?q=ana").await;
    assert_eq!(found["data"].as_array().map(Vec::len), Some(0), "{found}");
    // The stored device events lost her too; Budi's are untouched.
    let bodies = event_bodies(db).await;
    assert!(
        !bodies.contains("Ana Lestari") && !bodies.contains(&ana),
        "{bodies}"
    );
    assert!(bodies.contains("Budi Santoso"));
    // Her snapshot is gone from the store and the records; the others stay.
    assert_eq!(
        image_status(&tc, &admin, &keys[0]).await,
        StatusCode::NOT_FOUND
    );
    let owners = snapshot_owners(db).await;
    assert!(!owners.contains_key(&keys[0]));
    assert_eq!(image_status(&tc, &admin, &keys[1]).await, StatusCode::OK);
    assert_eq!(image_status(&tc, &admin, &keys[2]).await, StatusCode::OK);

    // A door that was offline sends what it recorded before it heard of the erasure: the
    // events are stored without her, and no attendance of hers comes back.
    let late_key = snapshot(&tc, &dev, jpeg()).await;
    let frames = vec![
        dev.next_frame(decision(
            Some((&ana, "Ana Lestari")),
            false,
            Some(&late_key),
        )),
        dev.next_frame(Event::Attendance {
            person: PersonRef {
                id: ana.clone(),
                name: "Ana Lestari".into(),
            },
            direction: protocol::AttendanceDirection::CheckIn,
            local_date: OffsetDateTime::now_utc().date().to_string(),
            late: false,
        }),
    ];
    send_frames(&tc, &dev.token, &frames).await;
    let logged = access_rows(db, &device).await;
    assert_eq!(logged.len(), 5);
    assert_eq!(logged[4], (None, None, None));
    let bodies = event_bodies(db).await;
    assert!(
        !bodies.contains("Ana Lestari") && !bodies.contains(&ana),
        "{bodies}"
    );
    let attendance = rows(db, "SELECT COUNT(*) AS n FROM attendance").await[0]
        .try_get::<i64>("", "n")
        .unwrap();
    assert_eq!(attendance, 0);
    // The snapshot that late decision named is hers: it is deleted, not kept unowned.
    assert!(!snapshot_owners(db).await.contains_key(&late_key));
    assert_eq!(
        image_status(&tc, &admin, &late_key).await,
        StatusCode::NOT_FOUND
    );
}

/// Uploads `bytes` as `dev`'s evidence under the id it chose.
async fn evidence(
    tc: &TestCloud,
    dev: &SimDevice,
    id: &str,
    bytes: Vec<u8>,
) -> (StatusCode, Value) {
    let response = upload_snapshot(
        &tc.url(""),
        &dev.token,
        &format!("evidence={id}"),
        "image/jpeg",
        bytes,
    )
    .await;
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// A door records a denial at once under a snapshot id it chose and uploads the image
/// when it can: the image is tied to the decision's person whichever comes first, a retry
/// is harmless, another device cannot take the id, and an image that arrives after its
/// person was erased (or whose late decision names someone erased) is acknowledged and
/// never stored.
async fn evidence_named_by_the_device_meets_its_decision_in_either_order(backend: Backend) {
    let tc = start(backend).await;
    let admin = admin_token(&tc).await;
    let ana = person(&tc, &admin, "Ana Lestari", "ana@example.com").await;
    let budi = person(&tc, &admin, "Budi Santoso", "budi@example.com").await;
    let site = unique_site("evidence");
    let mut dev = tc.enroll_device(&site, "door-evidence").await;
    let other = tc.enroll_device(&site, "door-other").await;
    let db = tc.cloud().database();
    let id = || uuid::Uuid::now_v7().to_string();
    let (after, before, erased_then, late, late_first) = (id(), id(), id(), id(), id());

    // The decision first (the door was offline), the image later: tied on arrival.
    let frames = vec![
        dev.next_frame(decision(Some((&ana, "Ana Lestari")), false, Some(&after))),
        dev.next_frame(decision(
            Some((&budi, "Budi Santoso")),
            false,
            Some(&erased_then),
        )),
    ];
    send_frames(&tc, &dev.token, &frames).await;
    let (status, body) = evidence(&tc, &dev, &after, jpeg()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["key"], after.as_str());
    assert_eq!(
        snapshot_owners(db).await[&after].as_deref(),
        Some(ana.as_str())
    );
    // A retry (the answer was lost) changes nothing; another device cannot take the id.
    let (status, body) = evidence(&tc, &dev, &after, jpeg()).await;
    assert_eq!(
        (status, body["key"].as_str()),
        (StatusCode::OK, Some(after.as_str()))
    );
    let (status, _) = evidence(&tc, &other, &after, jpeg()).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, _) = evidence(&tc, &dev, "not-a-uuid", jpeg()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // The image first, the decision later (as older doors do): tied by the projector.
    let (status, _) = evidence(&tc, &dev, &before, jpeg()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(snapshot_owners(db).await[&before], None);
    let frames = vec![dev.next_frame(decision(Some((&ana, "Ana Lestari")), true, Some(&before)))];
    send_frames(&tc, &dev.token, &frames).await;
    assert_eq!(
        snapshot_owners(db).await[&before].as_deref(),
        Some(ana.as_str())
    );
    let (status, body) = get(&tc, &admin, "/api/history/access").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.to_string().contains(&after), "{body}");
    assert_eq!(image_status(&tc, &admin, &after).await, StatusCode::OK);

    // Budi is erased while his image is still on the door: when it comes, it is
    // acknowledged (the door may forget it) and not stored.
    let (status, body) = delete(&tc, &admin, &format!("/api/users/{budi}")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = evidence(&tc, &dev, &erased_then, jpeg()).await;
    assert_eq!(
        (status, body["key"].as_str()),
        (StatusCode::OK, Some(erased_then.as_str()))
    );
    assert!(!snapshot_owners(db).await.contains_key(&erased_then));
    assert_eq!(
        image_status(&tc, &admin, &erased_then).await,
        StatusCode::NOT_FOUND
    );
    // A door that did not know of the erasure: its decision about Budi arrives late, its
    // image before or after that decision; neither is kept.
    let (status, _) = evidence(&tc, &dev, &late_first, jpeg()).await;
    assert_eq!(status, StatusCode::OK);
    let frames = vec![
        dev.next_frame(decision(Some((&budi, "Budi Santoso")), false, Some(&late))),
        dev.next_frame(decision(
            Some((&budi, "Budi Santoso")),
            false,
            Some(&late_first),
        )),
    ];
    send_frames(&tc, &dev.token, &frames).await;
    let (status, _) = evidence(&tc, &dev, &late, jpeg()).await;
    assert_eq!(status, StatusCode::OK);
    let owners = snapshot_owners(db).await;
    assert!(
        !owners.contains_key(&late) && !owners.contains_key(&late_first),
        "{owners:?}"
    );
    assert!(!event_bodies(db).await.contains(&budi));
    // Ana's stay hers.
    assert_eq!(owners[&after].as_deref(), Some(ana.as_str()));
    assert_eq!(owners.len(), 2, "{owners:?}");
}

async fn withdrawing_face_consent_reaches_history_and_snapshots(backend: Backend) {
    let Scene {
        tc,
        admin,
        device,
        ana,
        budi,
        keys,
        ..
    } = scene(backend).await;
    let db = tc.cloud().database();
    let (status, body) = delete(&tc, &admin, &format!("/api/users/{budi}/face-consent")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Budi stays a user; what the doors recognised of him does not.
    let (status, _) = get(&tc, &admin, "/api/users").await;
    assert_eq!(status, StatusCode::OK);
    let logged = access_rows(db, &device).await;
    assert_eq!(logged[2], (None, None, None));
    assert_eq!(logged[0].0.as_deref(), Some(ana.as_str()));
    assert_eq!(
        image_status(&tc, &admin, &keys[1]).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(image_status(&tc, &admin, &keys[0]).await, StatusCode::OK);
    assert!(!event_bodies(db).await.contains("Budi Santoso"));
}

/// Moves a row's time back by `days` (`column` of `table`, the row whose id is `id`).
async fn age(db: &DatabaseConnection, table: &str, column: &str, id: &str, at: OffsetDateTime) {
    let sql = match db.get_database_backend() {
        sea_orm::DbBackend::Postgres => format!("UPDATE {table} SET {column} = $1 WHERE id = $2"),
        _ => format!("UPDATE {table} SET {column} = ? WHERE id = ?"),
    };
    let id = uuid::Uuid::parse_str(id).unwrap();
    let done = db
        .execute(Statement::from_sql_and_values(
            db.get_database_backend(),
            sql,
            [DbValue::from(at), DbValue::from(id)],
        ))
        .await
        .unwrap();
    assert_eq!(done.rows_affected(), 1, "{table} {id}");
}

async fn ids(db: &DatabaseConnection, sql: &str) -> Vec<String> {
    rows(db, sql)
        .await
        .iter()
        .map(|r| r.try_get::<uuid::Uuid>("", "id").unwrap().to_string())
        .collect()
}

async fn retention_removes_exactly_what_is_past_its_period(backend: Backend) {
    let tc = TestCloud::start_with(backend, BrokerKind::Embedded, |c| {
        // The test runs the job itself; the audit trail keeps 60 days here.
        c.retention.enabled = false;
        c.retention.periods.insert("platform_audit_log".into(), 60);
    })
    .await;
    let admin = admin_token(&tc).await;
    let ana = person(&tc, &admin, "Ana Lestari", "ana@example.com").await;
    let mut dev = tc
        .enroll_device(&unique_site("retain"), "door-retain")
        .await;
    let old_key = snapshot(&tc, &dev, jpeg()).await;
    let new_key = snapshot(&tc, &dev, jpeg()).await;
    let frames = vec![
        dev.next_frame(decision(Some((&ana, "Ana Lestari")), true, None)),
        dev.next_frame(decision(Some((&ana, "Ana Lestari")), true, None)),
    ];
    send_frames(&tc, &dev.token, &frames).await;
    let db = tc.cloud().database();
    let platform = tc.cloud().platform();
    let now = platform.clock.now();
    let day = time::Duration::DAY;

    // Snapshots: 31 days (past 30) and 29 days old.
    age(db, "camera_records", "timestamp", &old_key, now - 31 * day).await;
    age(db, "camera_records", "timestamp", &new_key, now - 29 * day).await;
    // Access log and device events: one 366 days old, one 364.
    let ms = |at: OffsetDateTime| (at.unix_timestamp_nanos() / 1_000_000) as i64;
    let seqs = [1, 2];
    for (seq, days) in seqs.iter().zip([366, 364]) {
        db.execute(Statement::from_string(
            db.get_database_backend(),
            format!(
                "UPDATE access_logs SET ts_ms = {} WHERE seq = {seq}",
                ms(now - days * day)
            ),
        ))
        .await
        .unwrap();
    }
    let events = ids(
        db,
        "SELECT id FROM events WHERE kind = 'access_decision' ORDER BY seq",
    )
    .await;
    age(db, "events", "received_at", &events[0], now - 366 * day).await;
    age(db, "events", "received_at", &events[1], now - 364 * day).await;
    // Audit trail: one entry 61 days old (past the configured 60), one 59.
    for (action, days) in [("old_entry", 61), ("recent_entry", 59)] {
        cloud_api::platform::audit::record(
            db,
            now - days * day,
            cloud_api::platform::audit::Entry {
                action,
                success: true,
                ..Default::default()
            },
        )
        .await;
    }

    let report = retention::run_if_due(platform, now)
        .await
        .unwrap()
        .expect("the first run is due");
    assert_eq!(report.removed("camera_snapshots"), Some(1), "{report:?}");
    assert_eq!(report.removed("history_access_logs"), Some(1), "{report:?}");
    assert_eq!(report.removed("platform_events"), Some(1), "{report:?}");
    assert_eq!(report.removed("platform_audit_log"), Some(1), "{report:?}");

    // Exactly those: the old snapshot and its image are gone, the recent one is not.
    let owners = snapshot_owners(db).await;
    assert!(!owners.contains_key(&old_key) && owners.contains_key(&new_key));
    assert_eq!(
        image_status(&tc, &admin, &old_key).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(image_status(&tc, &admin, &new_key).await, StatusCode::OK);
    let logged = access_rows(db, dev.id.as_str()).await;
    assert_eq!(
        logged[0],
        (None, None, None),
        "the year-old row is pseudonymised"
    );
    assert_eq!(
        logged[1].1.as_deref(),
        Some("Ana Lestari"),
        "the recent one is not"
    );
    let bodies: Vec<String> = rows(
        db,
        "SELECT body FROM events WHERE kind = 'access_decision' ORDER BY seq",
    )
    .await
    .iter()
    .map(|r| r.try_get("", "body").unwrap())
    .collect();
    assert!(!bodies[0].contains("Ana Lestari") && bodies[1].contains("Ana Lestari"));
    let actions: Vec<String> = rows(db, "SELECT action FROM audit_log")
        .await
        .iter()
        .map(|r| r.try_get("", "action").unwrap())
        .collect();
    assert!(!actions.contains(&"old_entry".to_owned()), "{actions:?}");
    assert!(actions.contains(&"recent_entry".to_owned()), "{actions:?}");

    // The run is reported: an audit row with the counts, and the metric.
    let (_, audit) = get(&tc, &admin, "/api/audit?action=retention_run").await;
    assert!(audit.to_string().contains("camera_snapshots"), "{audit}");
    let text = metrics(&tc).await;
    assert_eq!(
        metric(
            &text,
            "gerbang_retention_removed_total{policy=\"camera_snapshots\"}"
        ),
        1.0
    );

    // Not due again the same day; a day later it runs and finds nothing new.
    assert!(retention::run_if_due(platform, now + time::Duration::HOUR)
        .await
        .unwrap()
        .is_none());
    let next = retention::run_if_due(platform, now + day)
        .await
        .unwrap()
        .expect("due a day later");
    assert!(next.policies.iter().all(|p| p.removed == 0), "{next:?}");
}

async fn the_retention_run_is_claimed_once_across_replicas(backend: Backend) {
    let tc = TestCloud::start_with(backend, BrokerKind::Embedded, |c| {
        c.retention.enabled = false;
    })
    .await;
    // Replicas share only the database: eight claims of the same day race on it.
    let db = tc.cloud().database().clone();
    let now = OffsetDateTime::now_utc();
    let claims = (0..8).map(|_| {
        let db = db.clone();
        tokio::spawn(async move { retention::claim(&db, now).await.unwrap() })
    });
    let won = futures::future::join_all(claims)
        .await
        .into_iter()
        .filter(|c| *c.as_ref().unwrap())
        .count();
    assert_eq!(won, 1);
    assert!(!retention::claim(&db, now + time::Duration::HOUR)
        .await
        .unwrap());
    assert!(retention::claim(&db, now + time::Duration::DAY)
        .await
        .unwrap());
}

async fn export_holds_every_domain_and_the_original_images(backend: Backend) {
    let Scene {
        tc,
        admin,
        ana,
        keys,
        ..
    } = scene(backend).await;
    // Ana enrols her face (so that a template exists to be kept out of the export).
    enrol_face(&tc, &admin, &ana).await;

    let response = fetch(&tc, &admin, &format!("/api/users/{ana}/export")).await;
    assert_eq!(response.status(), StatusCode::OK);
    let files = unzip(response.bytes().await.unwrap().to_vec());
    for name in [
        "people/profile.json",
        "history/access-history.json",
        "camera/snapshots.json",
        "sakip/opd.json",
        "sakip/achievements.json",
        "live/live_profiles-user_id.json",
        "live/live_gifts-sender_id.json",
        "attendance/attendance.json",
    ] {
        assert!(
            files.contains_key(name),
            "{name} missing: {:?}",
            files.keys()
        );
    }
    let history: Value = serde_json::from_slice(&files["history/access-history.json"]).unwrap();
    assert_eq!(history.as_array().unwrap().len(), 2, "{history}");
    assert_eq!(history[0]["name"], "Ana Lestari");
    // Her snapshot, byte for byte; nobody else's.
    let image = format!("camera/snapshots/{}.jpg", keys[0]);
    assert_eq!(files.get(&image), Some(&jpeg()), "{:?}", files.keys());
    let images: Vec<&String> = files.keys().filter(|n| n.ends_with(".jpg")).collect();
    assert_eq!(images, vec![&image]);
    let listed: Value = serde_json::from_slice(&files["camera/snapshots.json"]).unwrap();
    assert_eq!(listed[0]["file"], format!("snapshots/{}.jpg", keys[0]));
    let live: Value = serde_json::from_slice(&files["live/live_profiles-user_id.json"]).unwrap();
    assert!(live.is_array(), "{live}");

    // A ChatMe member's folder holds their rows, whatever the column types.
    let (status, body) = call(http().post(tc.url("/chatme/api/register")).json(&json!({
        "phone": "081300000009", "password": "rahasia-chatme-1", "name": "Citra"
    })))
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let citra = body["user"]["id"].as_str().unwrap().to_owned();
    let (status, body) = call(http().post(tc.url("/chatme/api/login")).json(&json!({
        "phone": "081300000009", "password": "rahasia-chatme-1"
    })))
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let citra_token = body["token"].as_str().unwrap().to_owned();
    // Her avatar, a real photo, as ChatMe stores it (re-encoded).
    let form = multipart::Form::new().part(
        "avatar",
        multipart::Part::bytes(testdata("people/obama/obama.jpg")).file_name("me.jpg"),
    );
    let (status, body) = call(
        http()
            .post(tc.url("/chatme/api/profile/avatar"))
            .bearer_auth(&citra_token)
            .multipart(form),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Relative to the app's base URL (`…/chatme`), as the seed's app reads it.
    let avatar_url = format!("/chatme{}", body["avatar_url"].as_str().unwrap());
    let served = http().get(tc.url(&avatar_url)).send().await.unwrap();
    assert_eq!(served.status(), StatusCode::OK);
    let avatar = served.bytes().await.unwrap().to_vec();
    let response = fetch(&tc, &admin, &format!("/api/users/{citra}/export")).await;
    assert_eq!(response.status(), StatusCode::OK);
    let theirs = unzip(response.bytes().await.unwrap().to_vec());
    for table in ["live_profiles-user_id", "live_wallets-user_id"] {
        let rows: Value = serde_json::from_slice(&theirs[&format!("live/{table}.json")]).unwrap();
        assert_eq!(rows.as_array().map(Vec::len), Some(1), "{table}: {rows}");
    }
    let file = avatar_url.rsplit('/').next().unwrap();
    assert_eq!(
        theirs.get(&format!("live/avatars/{file}")),
        Some(&avatar),
        "the avatar image"
    );
    // Erased: the image goes with her.
    let (status, body) = delete(&tc, &admin, &format!("/api/users/{citra}")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let gone = http().get(tc.url(&avatar_url)).send().await.unwrap();
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);

    // Never the template.
    assert_no_template(&tc, &files).await;
}

/// The sealed bytes of the (only) template of `user`.
async fn sealed_template(db: &DatabaseConnection) -> (uuid::Uuid, Vec<u8>) {
    let row = &rows(db, "SELECT id, sealed FROM face_templates").await[0];
    (
        row.try_get("", "id").unwrap(),
        row.try_get("", "sealed").unwrap(),
    )
}

async fn template_keys_rotate_while_the_cloud_serves(backend: Backend) {
    use base64::{engine::general_purpose::STANDARD as B64, Engine};
    use cloud_api::people::{cipher::TemplateCipher, PeopleConfig};
    let (old_key, new_key) = ([1u8; 32], [2u8; 32]);
    // The cloud restarted with the new key, the old one still accepted.
    let tc = TestCloud::start_with(backend, BrokerKind::Embedded, |c| {
        c.set_section(
            "people",
            &PeopleConfig {
                template_key: Some(B64.encode(new_key)),
                previous_template_keys: vec![B64.encode(old_key)],
                ..PeopleConfig::default()
            },
        )
        .unwrap();
    })
    .await;
    let admin = admin_token(&tc).await;
    let ana = person(&tc, &admin, "Ana Lestari", "ana@example.com").await;
    let ana_id = uuid::Uuid::parse_str(&ana).unwrap();
    enrol_face(&tc, &admin, &ana).await;
    // Her template as it was before the rotation: sealed under the old key.
    let db = tc.cloud().database();
    let (id, sealed) = sealed_template(db).await;
    let (old, new) = (TemplateCipher::new(&old_key), TemplateCipher::new(&new_key));
    let embedding = new.open(ana_id, &sealed).unwrap();
    let before = old.seal(ana_id, &embedding).unwrap();
    let sql = match db.get_database_backend() {
        sea_orm::DbBackend::Postgres => "UPDATE face_templates SET sealed = $1 WHERE id = $2",
        _ => "UPDATE face_templates SET sealed = ? WHERE id = ?",
    };
    db.execute(Statement::from_sql_and_values(
        db.get_database_backend(),
        sql,
        [DbValue::from(before.clone()), DbValue::from(id)],
    ))
    .await
    .unwrap();

    // Meanwhile the doors still get her (the old key opens).
    let dev = tc
        .enroll_device(&unique_site("rotate"), "door-rotate")
        .await;
    let served = device_gallery(&tc, &dev.token, protocol::sync::GALLERY_PATH).await;
    assert_eq!(served.people.len(), 1);

    // Only an access admin may re-seal.
    let member = user_token(&tc, "budi@example.com", &[("access", "member")]).await;
    let (status, _) = call(authed(
        &tc,
        Method::POST,
        "/api/face-templates/reseal",
        &member,
    ))
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, done) = call(authed(
        &tc,
        Method::POST,
        "/api/face-templates/reseal",
        &admin,
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(
        (done["resealed"].as_u64(), done["current"].as_u64()),
        (Some(1), Some(0))
    );
    assert_eq!(done["unreadable"], 0);
    // Now under the new key alone; the gallery moved on (the doors re-seal theirs).
    let (_, after) = sealed_template(db).await;
    assert!(old.open(ana_id, &after).is_err());
    assert!(new.open(ana_id, &after).is_ok());
    let served_after = device_gallery(&tc, &dev.token, protocol::sync::GALLERY_PATH).await;
    assert!(served_after.version > served.version);
    // The same template (within float rounding: opening re-normalises); never printed.
    let floats = |b64: &str| -> Vec<f32> {
        B64.decode(b64)
            .unwrap()
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect()
    };
    let (was, is) = (
        floats(&served.people[0].templates[0]),
        floats(&served_after.people[0].templates[0]),
    );
    assert!(
        was.len() == is.len() && was.iter().zip(&is).all(|(a, b)| (a - b).abs() < 1e-5),
        "the re-sealed template differs"
    );
    // Again: nothing left to re-seal.
    let (_, again) = call(authed(
        &tc,
        Method::POST,
        "/api/face-templates/reseal",
        &admin,
    ))
    .await;
    assert_eq!(
        (again["resealed"].as_u64(), again["current"].as_u64()),
        (Some(0), Some(1))
    );
}
