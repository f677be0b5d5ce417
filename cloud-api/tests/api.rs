//! HTTP API on both databases: login, enrolment, HTTPS ingest, idempotency, sequence gaps,
//! door status, health and metrics.

#![allow(clippy::unwrap_used)]

mod common;

use cloud_api::{db_tests, testkit::Backend};
use common::*;
use protocol::{BatteryLevel, Envelope, Event, Keypair};
use reqwest::StatusCode;
use sea_orm::ConnectionTrait;
use serde_json::json;

db_tests!(
    login_and_guards,
    enrollment_code_is_single_use,
    expired_code_is_refused,
    http_ingest_judges_frames_one_by_one,
    http_ingest_refuses_bad_bodies,
    sequence_gaps_and_dropped_ranges,
    door_status_follows_newest_seq,
    health_and_metrics,
    gap_sql_matches_a_naive_model,
);

async fn login_and_guards(backend: Backend) {
    let tc = start(backend).await;
    let wrong = json!({"email": tc.admin_email, "password": "salah"});
    let (status, body) = json(
        http()
            .post(tc.url("/api/auth/login"))
            .json(&wrong)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["message"], "Email atau password salah");
    let (_, body) = json(
        http()
            .post(tc.url("/api/auth/login"))
            .header("Accept-Language", "en-US,en;q=0.9")
            .json(&wrong)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(body["message"], "Wrong email or password");
    let (status, body) = json(
        http()
            .post(tc.url("/api/auth/login"))
            .json(&json!({}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["message"], "Email dan password harus diisi");

    let (status, body) = json(http().get(tc.url("/api/devices")).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["message"], "Anda belum login");

    let token = admin_token(&tc).await;
    // The seed-001 cookie works as well as the bearer header.
    let response = http()
        .get(tc.url("/api/devices"))
        .header("Cookie", format!("theme=dark; token={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let response = http()
        .get(tc.url("/api/devices"))
        .bearer_auth("not-a-jwt")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    tc.stop().await;
}

async fn enrollment_code_is_single_use(backend: Backend) {
    let tc = start(backend).await;
    let token = admin_token(&tc).await;
    let (status, created) = json(
        http()
            .post(tc.url("/api/devices"))
            .bearer_auth(&token)
            .json(&json!({"site": "hq", "device_id": "door-1", "name": "Pintu depan"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let code = created["code"].as_str().expect("code").to_owned();
    assert_eq!(created["device_id"], "door-1");
    assert_eq!(created["site"], "hq");
    assert!(created["expires_at"].is_string());
    assert_eq!(
        created["command"],
        format!(
            "edge-daemon enroll --cloud {} --code {code}",
            tc.cloud().public_url()
        )
    );

    let keypair = Keypair::generate();
    let request =
        json!({"code": code.to_lowercase(), "public_key": keypair.public(), "firmware": "1.0"});
    let (status, enrolled) = json(
        http()
            .post(tc.url("/api/device/enroll"))
            .json(&request)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{enrolled}");
    assert_eq!(enrolled["device"], "door-1");
    assert_eq!(enrolled["site"], "hq");
    assert_eq!(enrolled["mqtt_url"], tc.cloud().mqtt_url());
    assert_eq!(
        enrolled["cloud_public_key"],
        tc.cloud().public_key().to_base64()
    );
    assert_eq!(enrolled["token"].as_str().expect("token").len(), 64);

    let (status, again) = json(
        http()
            .post(tc.url("/api/device/enroll"))
            .json(&request)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(again["message"], "Kode pendaftaran sudah digunakan");

    let bad = json!({"code": "AAAA-BBBB-CCCC", "public_key": keypair.public(), "firmware": "1.0"});
    let (status, body) = json(
        http()
            .post(tc.url("/api/device/enroll"))
            .json(&bad)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["message"], "Kode pendaftaran tidak valid");

    // Invalid ids are refused with a reason.
    let (status, body) = json(
        http()
            .post(tc.url("/api/devices"))
            .bearer_auth(&token)
            .json(&json!({"site": "HQ/1", "device_id": "door-1", "name": "x"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("Site tidak valid"),
        "{body}"
    );
    tc.stop().await;
}

async fn expired_code_is_refused(backend: Backend) {
    let tc = start(backend).await;
    let site = protocol::SiteId::parse("hq").unwrap();
    let device = protocol::DeviceId::parse("door-2").unwrap();
    let code = tc
        .cloud()
        .create_device(&site, &device, "Pintu belakang")
        .await
        .unwrap();
    let db = tc.cloud().database();
    let past = time::OffsetDateTime::now_utc() - time::Duration::hours(25);
    db.execute(sea_orm::Statement::from_sql_and_values(
        db.get_database_backend(),
        if tc.backend.name() == "postgres" {
            "UPDATE enrollment_codes SET expires_at = $1"
        } else {
            "UPDATE enrollment_codes SET expires_at = ?"
        },
        [past.into()],
    ))
    .await
    .unwrap();
    let request =
        json!({"code": code.code, "public_key": Keypair::generate().public(), "firmware": "1"});
    let (status, body) = json(
        http()
            .post(tc.url("/api/device/enroll"))
            .header("Accept-Language", "en")
            .json(&request)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["message"], "This enrolment code has expired");
    tc.stop().await;
}

async fn http_ingest_judges_frames_one_by_one(backend: Backend) {
    let tc = start(backend).await;
    let site = protocol::SiteId::parse("hq").unwrap();
    let mut dev = tc.enroll_device(&site, "door-1").await;
    let other = tc.enroll_device(&site, "door-2").await;

    let good1 = dev.next_frame(granted());
    let forged = protocol::seal(&dev.next(granted()), &Keypair::generate());
    let mut foreign: Envelope = dev.envelope(99, granted());
    foreign.device = other.id.clone();
    let foreign = dev.seal(&foreign);
    let mut future_version = serde_json::to_value(dev.envelope(98, granted())).unwrap();
    future_version["v"] = json!(2);
    let future_version = dev.seal(&future_version);
    let not_a_frame = br#"{"hello": "world"}"#.to_vec();
    let good2 = dev.seal(&dev.envelope(2, Event::DoorOpened));

    let body = batch(&[
        good1.clone(),
        forged,
        foreign,
        future_version,
        not_a_frame,
        good2.clone(),
    ]);
    let (status, result) = post_batch(&tc, &dev.token, &body).await;
    assert_eq!(status, StatusCode::OK, "{result}");
    assert_eq!(result["accepted"], 2, "{result}");
    assert_eq!(result["duplicates"], 0);
    assert_eq!(result["upto_seq"], 2);
    let rejected = result["rejected"].as_array().unwrap();
    let indices: Vec<u64> = rejected
        .iter()
        .map(|r| r["index"].as_u64().unwrap())
        .collect();
    assert_eq!(indices, [1, 2, 3, 4]);
    assert!(
        rejected[0]["error"].as_str().unwrap().contains("signature"),
        "{result}"
    );
    assert!(
        rejected[1]["error"].as_str().unwrap().contains("door-2"),
        "{result}"
    );
    assert!(
        rejected[2]["error"].as_str().unwrap().contains("version 2"),
        "{result}"
    );

    // The same frames again: recognised, stored once.
    let (status, result) = post_batch(&tc, &dev.token, &batch(&[good1, good2])).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(result["accepted"], 0);
    assert_eq!(result["duplicates"], 2);
    assert_eq!(result["upto_seq"], 2);

    let token = admin_token(&tc).await;
    let listed = get_devices(&tc, &token).await;
    assert_eq!(device(&listed, "door-1")["events_stored"], 2);
    let text = metrics(&tc).await;
    assert_eq!(metric(&text, "gerbang_events_ingested_total"), 2.0);
    assert_eq!(metric(&text, "gerbang_events_duplicate_total"), 2.0);
    assert_eq!(
        metric(
            &text,
            "gerbang_events_rejected_total{reason=\"bad_signature\"}"
        ),
        1.0
    );
    assert_eq!(
        metric(
            &text,
            "gerbang_events_rejected_total{reason=\"wrong_device\"}"
        ),
        1.0
    );
    assert_eq!(
        metric(
            &text,
            "gerbang_events_rejected_total{reason=\"unsupported_version\"}"
        ),
        1.0
    );
    assert_eq!(
        metric(&text, "gerbang_events_rejected_total{reason=\"malformed\"}"),
        1.0
    );
    assert_eq!(
        metric(&text, "gerbang_access_decisions_total{result=\"granted\"}"),
        1.0
    );
    tc.stop().await;
}

async fn http_ingest_refuses_bad_bodies(backend: Backend) {
    let tc = start(backend).await;
    let site = protocol::SiteId::parse("hq").unwrap();
    let mut dev = tc.enroll_device(&site, "door-1").await;
    let url = tc.url("/api/device/events");

    let (status, body) = json(
        http()
            .post(&url)
            .bearer_auth(&dev.token)
            .body("this is not json")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("Body bukan batch event"),
        "{body}"
    );

    let (status, _) = json(
        http()
            .post(&url)
            .bearer_auth(&dev.token)
            .json(&json!({"events": []}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let (status, body) = json(
        http()
            .post(&url)
            .bearer_auth("wrong-token")
            .json(&json!({"frames": []}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["message"], "Token perangkat tidak valid");

    let huge = format!("{{\"frames\": [\"{}\"]}}", "x".repeat(9 * 1024 * 1024));
    let (status, body) = json(
        http()
            .post(&url)
            .bearer_auth(&dev.token)
            .body(huge)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(body["message"], "Ukuran permintaan terlalu besar");

    let frame = dev.next_frame(Event::DoorOpened);
    let many: Vec<Vec<u8>> = (0..1001).map(|_| frame.clone()).collect();
    let (status, _) = post_batch(&tc, &dev.token, &batch(&many)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);

    // After all that, the device's good events still go in.
    let (status, result) = post_batch(&tc, &dev.token, &batch(&[frame])).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(result["accepted"], 1);
    assert_eq!(result["upto_seq"], 1);
    tc.stop().await;
}

async fn sequence_gaps_and_dropped_ranges(backend: Backend) {
    let tc = start(backend).await;
    let site = protocol::SiteId::parse("hq").unwrap();
    let dev = tc.enroll_device(&site, "door-1").await;
    let token = admin_token(&tc).await;
    let frames = |seqs: &[u64]| -> Vec<Vec<u8>> {
        seqs.iter()
            .map(|s| dev.seal(&dev.envelope(*s, Event::DoorOpened)))
            .collect()
    };

    let (_, result) = post_batch(&tc, &dev.token, &batch(&frames(&[1, 2, 3, 6, 7, 10]))).await;
    assert_eq!(result["upto_seq"], 3);
    let listed = get_devices(&tc, &token).await;
    let d = device(&listed, "door-1");
    assert_eq!(d["last_seq"], 10);
    assert_eq!(d["missing_seqs"], 4);
    assert_eq!(d["missing_ranges"], json!([[4, 5], [8, 9]]));

    // The device reports 4..=5 as dropped (outbox overflow): covered, no longer missing.
    let dropped = dev.seal(&dev.envelope(
        11,
        Event::Dropped {
            count: 2,
            first_seq: 4,
            last_seq: 5,
        },
    ));
    let (_, result) = post_batch(&tc, &dev.token, &batch(&[dropped])).await;
    assert_eq!(result["upto_seq"], 7);
    let listed = get_devices(&tc, &token).await;
    let d = device(&listed, "door-1");
    assert_eq!(d["missing_seqs"], 2);
    assert_eq!(d["missing_ranges"], json!([[8, 9]]));
    assert_eq!(d["last_seq"], 11);

    let (_, result) = post_batch(&tc, &dev.token, &batch(&frames(&[9, 8]))).await;
    assert_eq!(result["upto_seq"], 11);
    let listed = get_devices(&tc, &token).await;
    let d = device(&listed, "door-1");
    assert_eq!(d["missing_seqs"], 0);
    assert_eq!(d["missing_ranges"], json!([]));
    assert_eq!(d["events_stored"], 9);
    tc.stop().await;
}

async fn door_status_follows_newest_seq(backend: Backend) {
    let tc = start(backend).await;
    let site = protocol::SiteId::parse("hq").unwrap();
    let dev = tc.enroll_device(&site, "door-1").await;
    let token = admin_token(&tc).await;
    let relay = |seq, locked| {
        dev.seal(&dev.envelope(
            seq,
            Event::Relay {
                locked,
                cause: "test".into(),
            },
        ))
    };
    let battery = dev.seal(&dev.envelope(
        3,
        Event::Battery {
            percent: 55,
            millivolts: None,
            charging: false,
            level: BatteryLevel::Normal,
        },
    ));
    post_batch(&tc, &dev.token, &batch(&[relay(2, false), battery])).await;
    // An older relay event arriving late does not win.
    post_batch(&tc, &dev.token, &batch(&[relay(1, true)])).await;
    let (status, body) = json(
        http()
            .get(tc.url("/api/door/status"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["id"], "door-1");
    assert_eq!(body["locked"], false);
    assert_eq!(body["battery_level"], 55);
    assert!(body["last_update"].is_string());
    assert!(body.get("camera_active").is_some());

    // Two doors: a list; `?device_id=` narrows to one.
    tc.enroll_device(&site, "door-2").await;
    let (_, list) = json(
        http()
            .get(tc.url("/api/door/status"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(list.as_array().map(Vec::len), Some(2), "{list}");
    let (_, one) = json(
        http()
            .get(tc.url("/api/door/status?device_id=door-2"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(one["id"], "door-2");
    // Control needs a device id when there are several doors.
    let (status, body) = json(
        http()
            .post(tc.url("/api/door/control"))
            .bearer_auth(&token)
            .json(&json!({"action": "unlock"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["message"],
        "device_id harus diisi karena ada 2 perangkat"
    );
    tc.stop().await;
}

async fn health_and_metrics(backend: Backend) {
    let tc = start(backend.clone()).await;
    let (status, body) = json(http().get(tc.url("/health")).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "ok");
    assert_eq!(body["database"], "ok");
    assert_eq!(body["database_backend"], backend.name());
    assert_eq!(body["mqtt"], "connected");
    assert_eq!(body["mqtt_broker"], "embedded");
    assert_eq!(body["face_backend"], "none");
    let text = metrics(&tc).await;
    for name in [
        "gerbang_events_ingested_total",
        "gerbang_events_duplicate_total",
        "gerbang_devices_online",
        "# TYPE gerbang_events_rejected counter",
        "# TYPE gerbang_access_decisions counter",
    ] {
        assert!(text.contains(name), "{name} missing in:\n{text}");
    }
    tc.stop().await;
}

/// Random sets of stored seqs and dropped ranges: the SQL gap report and the contiguous
/// frontier agree with a naive model, from any starting frontier.
async fn gap_sql_matches_a_naive_model(backend: Backend) {
    use cloud_api::platform::devices::{advance_contiguous, gap_report};
    use rand::{Rng, SeedableRng};

    let test_db = cloud_api::testkit::TestDb::create(&backend).await;
    let db = cloud_api::platform::db::connect::<cloud_api::Domains>(&test_db.url)
        .await
        .unwrap();
    let backend_kind = db.get_database_backend();
    let q = |sql: &str| {
        if backend_kind == sea_orm::DbBackend::Postgres {
            let mut n = 0;
            sql.chars()
                .map(|c| {
                    if c == '?' {
                        n += 1;
                        format!("${n}")
                    } else {
                        c.to_string()
                    }
                })
                .collect::<String>()
        } else {
            sql.to_owned()
        }
    };
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    for case in 0..25 {
        let device = format!("d{case}");
        let top: i64 = rng.gen_range(1..60);
        let mut covered = vec![false; top as usize + 1];
        let mut stored = Vec::new();
        for seq in 1..=top {
            if rng.gen_bool(0.7) || seq == top {
                stored.push(seq);
                covered[seq as usize] = true;
            }
        }
        let mut dropped = Vec::new();
        for _ in 0..rng.gen_range(0..3) {
            let first: i64 = rng.gen_range(1..=top);
            let last: i64 = rng.gen_range(first..=top);
            dropped.push((first, last));
            for seq in first..=last {
                covered[seq as usize] = true;
            }
        }
        for seq in &stored {
            db.execute(sea_orm::Statement::from_sql_and_values(
                backend_kind,
                q("INSERT INTO events (id, device_id, seq, kind, ts, mono_ms, clock_synced, boot_id, received_at, body) VALUES (?, ?, ?, 'door_opened', ?, 0, true, ?, ?, 'null')"),
                [
                    uuid::Uuid::new_v4().into(),
                    device.clone().into(),
                    (*seq).into(),
                    time::OffsetDateTime::now_utc().into(),
                    uuid::Uuid::new_v4().into(),
                    time::OffsetDateTime::now_utc().into(),
                ],
            ))
            .await
            .unwrap();
        }
        for (first, last) in &dropped {
            db.execute(sea_orm::Statement::from_sql_and_values(
                backend_kind,
                q("INSERT INTO dropped_ranges (device_id, first_seq, last_seq) VALUES (?, ?, ?) ON CONFLICT DO NOTHING"),
                [device.clone().into(), (*first).into(), (*last).into()],
            ))
            .await
            .unwrap();
        }
        // The naive model.
        let contiguous = (1..=top)
            .take_while(|s| covered[*s as usize])
            .last()
            .unwrap_or(0);
        let missing: Vec<i64> = (1..=top).filter(|s| !covered[*s as usize]).collect();
        let mut ranges: Vec<[u64; 2]> = Vec::new();
        for seq in &missing {
            match ranges.last_mut() {
                Some(r) if r[1] + 1 == *seq as u64 => r[1] = *seq as u64,
                _ => ranges.push([*seq as u64, *seq as u64]),
            }
        }
        for floor in [0, contiguous / 2, contiguous] {
            let advanced = advance_contiguous(&db, &device, floor).await.unwrap();
            assert_eq!(
                advanced, contiguous,
                "case {case} floor {floor}: {stored:?} {dropped:?}"
            );
        }
        let report = gap_report(&db, &device, contiguous).await.unwrap();
        assert_eq!(
            report.missing_seqs,
            missing.len() as u64,
            "case {case}: {stored:?} {dropped:?}"
        );
        assert_eq!(
            report.missing_ranges, ranges,
            "case {case}: {stored:?} {dropped:?}"
        );
        let from_zero = gap_report(&db, &device, 0).await.unwrap();
        assert_eq!(from_zero, report, "case {case}");
    }
    db.close().await.unwrap();
}

/// The cloud closes clients that never finish their request headers (slowloris) while it
/// keeps answering everyone else.
#[tokio::test]
async fn stalled_clients_are_closed_while_others_are_served() {
    let tc = cloud_api::testkit::TestCloud::start_with(
        Backend::Sqlite,
        cloud_api::testkit::BrokerKind::Embedded,
        |config| config.http_limits.header_timeout_secs = 1,
    )
    .await;
    let addr = tc.cloud().http_addr().to_string();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let stalled =
        tokio::spawn(async move { http_serve::probe::held_open(&addr, 1_000, deadline).await });
    for _ in 0..20 {
        let health = reqwest::get(tc.url("/health")).await.unwrap();
        assert_eq!(health.status(), StatusCode::OK);
    }
    let held = stalled.await.unwrap().unwrap();
    assert_eq!(
        held, 0,
        "{held} of 1,000 stalled connections were held open"
    );
    tc.stop().await;
}
