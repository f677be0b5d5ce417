//! Several replicas of the cloud on one PostgreSQL and, where it runs, one Redis: they start
//! together without fighting over the migrations, and a session or a password guesser
//! meets the same rules on every replica. Device traffic reaches them through Mosquitto's
//! shared subscriptions or through a three-node NATS cluster's JetStream, and neither a
//! replica nor a NATS node dying mid-stream loses or doubles an event.

mod common;

use std::time::Duration;

use cloud_api::platform::mqtt::nats::NatsConfig;
use cloud_api::testkit::{
    fleet::{Fleet, Stream},
    nats::NatsCluster,
    unique_site, Backend, BrokerKind, TestCloud,
};
use common::{confinement::*, device_stub::DeviceStub, socketio::*, *};
use protocol::Channel;
use reqwest::{header, Method, StatusCode};
use rumqttc::QoS;
use sea_orm::{ConnectionTrait, Database};
use sea_orm_migration::MigratorTrait;
use serde_json::json;

/// Password attempts per account before 429 (none replenishes during a test).
const ACCOUNT_BURST: u32 = 5;

/// Two replicas on one fresh PostgreSQL database, sharing Redis when `redis` is given.
async fn two_replicas(redis: Option<String>) -> Vec<TestCloud> {
    TestCloud::start_replicas(
        2,
        Backend::require_postgres(),
        BrokerKind::Embedded,
        move |config| {
            config.redis_url = redis.clone();
            // The per-address limit is shared too, and every test here comes from
            // 127.0.0.1: keep it out of the way of the per-account one under test.
            config.security.auth_ip_burst = 10_000;
            config.security.account_burst = ACCOUNT_BURST;
            config.security.account_period_secs = 3600;
        },
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs PostgreSQL: `cargo xtask test` runs it where one is reachable"]
async fn postgres_replicas_starting_together_migrate_once() {
    // Without the migration lock, replicas racing through the same migrations fail their
    // start on "relation already exists".
    let replicas =
        TestCloud::start_replicas(4, Backend::require_postgres(), BrokerKind::Embedded, |_| {})
            .await;
    for replica in &replicas {
        admin_token(replica).await;
    }
    let db = Database::connect(replicas[0].database_url())
        .await
        .expect("connect");
    let applied = db
        .query_one(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(*) AS n, COUNT(DISTINCT version) AS d FROM seaql_migrations",
        ))
        .await
        .expect("count")
        .expect("a row");
    let (n, distinct): (i64, i64) = (
        applied.try_get("", "n").unwrap(),
        applied.try_get("", "d").unwrap(),
    );
    let known = cloud_api::platform::db::Migrator::<cloud_api::Domains>::migrations().len();
    assert_eq!(n as usize, known, "every migration recorded");
    assert_eq!(n, distinct, "a migration was recorded twice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs PostgreSQL: `cargo xtask test` runs it where one is reachable"]
async fn postgres_refresh_token_rotated_on_one_replica_is_refused_on_another() {
    let replicas = two_replicas(None).await;
    let (a, b) = (&replicas[0], &replicas[1]);
    let login = http()
        .post(a.url("/api/auth/login"))
        .json(&json!({"email": a.admin_email, "password": a.admin_password}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::OK);
    let first = refresh_cookie(&login);
    let rotated = http()
        .post(a.url("/api/auth/refresh"))
        .header(header::COOKIE, format!("refreshToken={first}"))
        .send()
        .await
        .unwrap();
    assert_eq!(rotated.status(), StatusCode::OK);
    let second = refresh_cookie(&rotated);
    // The spent token replayed on the other replica: refused, and the family revoked there
    // too (the newest token, never used, stops working).
    for token in [&first, &second] {
        let replay = http()
            .post(b.url("/api/auth/refresh"))
            .header(header::COOKIE, format!("refreshToken={token}"))
            .send()
            .await
            .unwrap();
        assert_eq!(replay.status(), StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs PostgreSQL and Redis: `cargo xtask test` runs it where both are reachable"]
async fn postgres_redis_a_disabled_user_is_locked_out_on_every_replica() {
    let replicas = two_replicas(Some(cloud_api::testkit::require_redis())).await;
    let (a, b) = (&replicas[0], &replicas[1]);
    let email = format!("siti-{}@gerbang.test", uuid::Uuid::new_v4().simple());
    let (id, token) = user_session(a, &email, &[("access", "member")]).await;
    // B has admitted the token, so its cache holds the user's standing.
    assert_eq!(me(b, &token).await, StatusCode::OK);
    let admin = admin_token(a).await;
    let (status, body) = call(
        authed(a, Method::PUT, &format!("/api/users/{id}"), &admin)
            .json(&json!({"enabled": false})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(me(a, &token).await, StatusCode::UNAUTHORIZED);
    // B hears it through Redis: no wait for a cache to expire.
    eventually(5, || async {
        (me(b, &token).await == StatusCode::UNAUTHORIZED).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs PostgreSQL and Redis: `cargo xtask test` runs it where both are reachable"]
async fn postgres_redis_bad_logins_over_both_replicas_meet_one_limit() {
    let replicas = two_replicas(Some(cloud_api::testkit::require_redis())).await;
    let burst = ACCOUNT_BURST as usize;
    let email = format!("tamu-{}@gerbang.test", uuid::Uuid::new_v4().simple());
    let mut judged = 0;
    let mut limited = 0;
    for attempt in 0..60 {
        let replica = &replicas[attempt % 2];
        let answer = http()
            .post(replica.url("/api/auth/login"))
            .json(&json!({"email": email, "password": "salah-sekali"}))
            .send()
            .await
            .unwrap();
        match answer.status() {
            StatusCode::UNAUTHORIZED => judged += 1,
            StatusCode::TOO_MANY_REQUESTS => {
                assert!(answer.headers().contains_key(header::RETRY_AFTER));
                limited += 1;
            }
            other => panic!("attempt {attempt}: {other}"),
        }
    }
    // One limit for the account across both replicas, not one per replica.
    assert_eq!(
        judged, burst,
        "{judged} attempts were judged, the burst is {burst}"
    );
    assert_eq!(limited, 60 - burst);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs PostgreSQL: `cargo xtask test` runs it where one is reachable"]
async fn postgres_door_status_kept_in_memory_follows_every_writer() {
    // Replica A answers door status from memory (the door board); a change ingested by B, a
    // new door registered on B and a row changed by plain SQL all reach A's answers.
    let replicas = two_replicas(None).await;
    let (a, b) = (&replicas[0], &replicas[1]);
    let site = unique_site("board");
    let dev = b.enroll_device(&site, "door-1").await;
    let token = admin_token(a).await;
    let status = |tc: &TestCloud, query: &'static str| {
        let request = http()
            .get(tc.url(&format!("/api/door/status{query}")))
            .bearer_auth(&token);
        async move { json(request.send().await.unwrap()).await }
    };
    let relay = |seq, locked| {
        dev.seal(&dev.envelope(
            seq,
            protocol::Event::Relay {
                locked,
                cause: "test".into(),
            },
        ))
    };
    send_frames(b, &dev.token, &[relay(1, true)]).await;
    // Read twice on A: the second answer comes from memory.
    for _ in 0..2 {
        let (code, door) = status(a, "?device_id=door-1").await;
        assert_eq!(code, StatusCode::OK, "{door}");
        assert_eq!(door["locked"], true);
    }
    // Written through B: A hears it from the database's notification.
    send_frames(b, &dev.token, &[relay(2, false)]).await;
    eventually(5, || async {
        (status(a, "?device_id=door-1").await.1["locked"] == false).then_some(())
    })
    .await;
    // Written through A: A's own next read already shows it (no waiting).
    send_frames(a, &dev.token, &[relay(3, true)]).await;
    assert_eq!(status(a, "?device_id=door-1").await.1["locked"], true);
    // A door registered on B turns A's single door into a list.
    assert!(status(a, "").await.1.is_object());
    b.enroll_device(&site, "door-2").await;
    eventually(5, || async {
        status(a, "")
            .await
            .1
            .as_array()
            .map(Vec::len)
            .filter(|n| *n == 2)
    })
    .await;
    // Maintenance SQL, through no replica at all.
    let db = Database::connect(a.database_url()).await.expect("connect");
    db.execute_unprepared("UPDATE devices SET name = 'Pintu Gudang' WHERE id = 'door-2'")
        .await
        .expect("rename");
    eventually(5, || async {
        (status(a, "?device_id=door-2").await.1["name"] == "Pintu Gudang").then_some(())
    })
    .await;
    // An unknown door stays 404, from memory or not.
    assert_eq!(status(a, "?device_id=nope").await.0, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs PostgreSQL: `cargo xtask test` runs it where one is reachable"]
async fn postgres_replicas_storing_overlapping_batches_at_once_never_deadlock() {
    // Two replicas store batches over the same doors at the same moment: other events of the
    // same doors, or the same events twice (a resend that reached both), given to them in
    // opposite orders. Locks taken in arrival order deadlock here; every batch must commit
    // on its first attempt, and each event be stored once.
    use cloud_api::platform::ingest::{store_events, verify_frame, VerifiedEvent};
    const DOORS: usize = 24;
    const PER_ROUND: u64 = 8;
    const ROUNDS: u64 = 12;
    let replicas = two_replicas(None).await;
    let (a, b) = (&replicas[0], &replicas[1]);
    let site = unique_site("lockorder");
    let mut doors = Vec::with_capacity(DOORS);
    for n in 0..DOORS {
        let dev = a.enroll_device(&site, &format!("door-{n:02}")).await;
        let known = a
            .cloud()
            .platform()
            .devices
            .get(a.cloud().database(), &dev.id)
            .await
            .expect("lookup")
            .expect("enrolled");
        doors.push((dev, known));
    }
    for round in 0..ROUNDS {
        let base = round * PER_ROUND;
        // Per door, this round's events in seq order.
        let events: Vec<Vec<VerifiedEvent>> = doors
            .iter()
            .map(|(dev, known)| {
                (base + 1..=base + PER_ROUND)
                    .map(|seq| {
                        let frame = dev.seal(&dev.envelope(seq, protocol::Event::DoorOpened));
                        verify_frame(&frame, known).expect("a valid frame")
                    })
                    .collect()
            })
            .collect();
        let (for_a, for_b): (Vec<VerifiedEvent>, Vec<VerifiedEvent>) = if round % 2 == 0 {
            // Other events of the same doors: A the first half of each door's, B the rest.
            let half = PER_ROUND as usize / 2;
            (
                events.iter().flat_map(|e| e[..half].to_vec()).collect(),
                events
                    .iter()
                    .rev()
                    .flat_map(|e| e[half..].to_vec())
                    .collect(),
            )
        } else {
            // The same events on both, in opposite orders.
            (
                events.iter().flatten().cloned().collect(),
                events.iter().flatten().rev().cloned().collect(),
            )
        };
        let (stored_a, stored_b) = tokio::join!(
            store_events(a.cloud().platform(), for_a),
            store_events(b.cloud().platform(), for_b),
        );
        let stored_a = stored_a.unwrap_or_else(|e| panic!("round {round}, replica A: {e}"));
        let stored_b = stored_b.unwrap_or_else(|e| panic!("round {round}, replica B: {e}"));
        assert_eq!(
            stored_a.inserted() + stored_b.inserted(),
            DOORS as u64 * PER_ROUND,
            "round {round}: every event stored once"
        );
    }
    let db = Database::connect(a.database_url()).await.expect("connect");
    let row = db
        .query_one(sea_orm::Statement::from_string(
            db.get_database_backend(),
            format!(
                "SELECT COUNT(*) AS n, COUNT(DISTINCT (device_id, seq)) AS d, \
                 (SELECT MIN(contiguous_seq) FROM devices WHERE site = '{site}') AS low \
                 FROM events WHERE device_id IN (SELECT id FROM devices WHERE site = '{site}')"
            ),
        ))
        .await
        .expect("count")
        .expect("a row");
    let (n, distinct, low): (i64, i64, i64) = (
        row.try_get("", "n").unwrap(),
        row.try_get("", "d").unwrap(),
        row.try_get("", "low").unwrap(),
    );
    let expected = (DOORS as u64 * PER_ROUND * ROUNDS) as i64;
    assert_eq!((n, distinct), (expected, expected));
    assert_eq!(
        low,
        (PER_ROUND * ROUNDS) as i64,
        "every door's receipt covers all"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs PostgreSQL and Mosquitto: `cargo xtask test` runs it where both are reachable"]
async fn postgres_mosquitto_replicas_share_device_traffic() {
    let broker = BrokerKind::require_mosquitto();
    // One shared-subscription group for the deployment: each event goes to one replica.
    let group = format!("gerbang-t-{}", uuid::Uuid::new_v4().simple());
    let replicas =
        TestCloud::start_replicas(2, Backend::require_postgres(), broker, move |config| {
            config.mqtt.share_group = group.clone();
        })
        .await;
    share_device_traffic_and_commands(&replicas, "rep").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs PostgreSQL and an S3 store: `cargo xtask test` runs it where both are reachable"]
async fn postgres_s3_replicas_share_one_bucket() {
    let endpoint = cloud_api::testkit::require_s3();
    // A bucket of this test's own.
    let bucket = format!("gerbang-t-{}", uuid::Uuid::new_v4().simple());
    let made = http()
        .put(format!("{endpoint}/{bucket}"))
        .send()
        .await
        .unwrap();
    assert!(
        made.status().is_success(),
        "creating the bucket: {}",
        made.status()
    );
    let replicas =
        TestCloud::start_replicas(2, Backend::require_postgres(), BrokerKind::Embedded, {
            let (endpoint, bucket) = (endpoint.clone(), bucket.clone());
            move |config| {
                config.object_store.bucket = Some(bucket.clone());
                config.object_store.endpoint = Some(endpoint.clone());
            }
        })
        .await;
    let (a, b) = (&replicas[0], &replicas[1]);
    let dev = a.enroll_device(&unique_site("s3"), "door-1").await;
    let (status, body) =
        json(upload_snapshot(&a.url(""), &dev.token, "", "image/jpeg", jpeg()).await).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let key = body["key"].as_str().unwrap().to_owned();
    // Stored through A, served by B, and really in the bucket (not in A's data directory).
    let admin = admin_token(b).await;
    let image = fetch(b, &admin, &format!("/api/camera/recordings/{key}/image")).await;
    assert_eq!(image.status(), StatusCode::OK);
    assert_eq!(image.bytes().await.unwrap().to_vec(), jpeg());
    let object = http()
        .get(format!(
            "{endpoint}/{bucket}/media/snapshots/door-1/{key}.jpg"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(object.status(), StatusCode::OK);
    assert_eq!(object.bytes().await.unwrap().to_vec(), jpeg());
    assert!(!a.data_dir().join("media/snapshots").exists());
    // Deleted through B: gone for A too.
    let (status, _) = delete(b, &admin, &format!("/api/camera/recordings/{key}")).await;
    assert_eq!(status, StatusCode::OK);
    let gone = fetch(
        a,
        &admin_token(a).await,
        &format!("/api/camera/recordings/{key}/image"),
    )
    .await;
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs PostgreSQL and Mosquitto: `cargo xtask test` runs it where both are reachable"]
async fn postgres_mosquitto_a_replica_leaving_mid_stream_loses_nothing() {
    let broker = BrokerKind::require_mosquitto();
    let group = format!("gerbang-t-{}", uuid::Uuid::new_v4().simple());
    let mut replicas =
        TestCloud::start_replicas(2, Backend::require_postgres(), broker, move |config| {
            config.mqtt.share_group = group.clone();
        })
        .await;
    let mqtt_url = replicas[1].cloud().mqtt_url().to_owned();
    // `scripts/scale/replicas.sh` kills one with SIGKILL instead, which a test process
    // cannot do to a cloud inside itself.
    stream_while_a_replica_stops(&mut replicas, &mqtt_url, "die").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs PostgreSQL, Redis, node and socket.io-client: `cargo xtask test` runs it where all are there"]
async fn postgres_redis_socketio_a_client_on_one_replica_sees_what_another_ingests() {
    let replicas = two_replicas(Some(cloud_api::testkit::require_redis())).await;
    let (a, b) = (&replicas[0], &replicas[1]);
    let admin = admin_token(a).await;
    // A dashboard's real socket.io-client on replica A…
    let mut client = Client::spawn(&client_dir(), &a.url(""), "/", &admin, "auth");
    client.wait_for("connect", is_type("connected"));
    // …and a door whose events replica B ingests.
    let mut dev = b.enroll_device(&unique_site("sio"), "door-1").await;
    let frames: Vec<Vec<u8>> = (0..3).map(|_| dev.next_frame(granted())).collect();
    send_frames(b, &dev.token, &frames).await;
    let pushed = client.wait_for("device:events from replica B", |v| {
        v["event"] == "device:events" && v["data"][0]["device"] == "door-1"
    });
    assert_eq!(pushed["data"].as_array().map(Vec::len), Some(3), "{pushed}");
}

/// Two replicas on one PostgreSQL consuming device traffic from `nats`' JetStream; the
/// devices are told node `mqtt_node`'s MQTT listener.
/// The replicas answer the cluster's auth callout, so the devices log in with their own
/// credentials.
async fn nats_replicas(nats: &NatsCluster, mqtt_node: usize) -> Vec<TestCloud> {
    let mut settings = NatsConfig::default();
    nats.configure(&mut settings);
    settings.replicas = 3;
    // A dead replica's deliveries go to the other one soon.
    settings.ack_wait_secs = 3;
    let mqtt = nats.mqtt_url(mqtt_node);
    TestCloud::start_replicas(
        2,
        Backend::require_postgres(),
        BrokerKind::Embedded,
        move |config| {
            config.nats = settings.clone();
            config.mqtt.public_url = Some(mqtt.clone());
        },
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs PostgreSQL and a nats-server: `cargo xtask test` runs it where both are there"]
async fn postgres_nats_replicas_share_device_traffic_and_commands() {
    let nats = NatsCluster::start(3).await;
    let replicas = nats_replicas(&nats, 1).await;
    // The device speaks plain MQTT 3.1.1 to the NATS node, as a Pi would; commands
    // published through NATS reach its MQTT subscription, and its acks come back through
    // JetStream to whichever replica.
    share_device_traffic_and_commands(&replicas, "nats").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs PostgreSQL and a nats-server: `cargo xtask test` runs it where both are there"]
async fn postgres_nats_a_replica_dying_mid_stream_loses_nothing() {
    let nats = NatsCluster::start(3).await;
    let mut replicas = nats_replicas(&nats, 2).await;
    // What replica A had pulled and not settled is delivered again to B once the
    // consumer's ack wait passes. (A NATS node killed under load is
    // `scripts/scale/replicas.sh`'s, with BROKER=nats: its JetStream elections take longer
    // than a suite should wait on a busy machine.)
    stream_while_a_replica_stops(&mut replicas, &nats.mqtt_url(2), "natsdie").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs PostgreSQL and a nats-server: `cargo xtask test` runs it where both are there"]
async fn postgres_nats_device_credentials_confine_it_to_its_own_topics() {
    let nats = NatsCluster::start(3).await;
    let replicas = nats_replicas(&nats, 0).await;
    let (a, b) = (&replicas[0], &replicas[1]);
    let site = unique_site("natsauth");
    let mut door1 = a.enroll_device(&site, "door-1").await;
    let door2 = a.enroll_device(&site, "door-2").await;
    let mqtt = nats.mqtt_url(0);

    // Refused: a wrong password, an unknown device, a device using another's client id
    // (it would take over that device's session), and a device speaking NATS instead.
    assert_logins_refused(
        &mqtt,
        &[
            ("door-1", "door-1", "not-the-token"),
            ("door-9", "door-9", door1.token.as_str()),
            ("door-1", "door-2", door2.token.as_str()),
        ],
    )
    .await;
    let over_nats = tokio::time::timeout(
        Duration::from_secs(10),
        async_nats::ConnectOptions::with_user_and_password("door-1".into(), door1.token.clone())
            .connect(nats.client_urls().split(',').next().unwrap_or_default()),
    )
    .await;
    assert!(
        !matches!(over_nats, Ok(Ok(_))),
        "a device's credentials opened a NATS connection"
    );

    // Door 1 logs in with its own credentials (and subscribes to its commands).
    let forged = door1.next_frame(granted());
    let own = door1.next_frame(granted());
    let events1 = door1.topic(Channel::Events);
    let receipts1 = door1.topic(Channel::Receipts);
    let commands1 = door1.topic(Channel::Commands);
    let stub = DeviceStub::start(door1, a, true).await;

    // Door 2, logged in with its own credentials, may neither subscribe to door 1's topics
    // (nor to everything) nor publish on them: a frame of door 1's it replays there never
    // reaches the cloud, though it is validly sealed.
    let intruder = Intruder::start(
        &door2,
        &mqtt,
        &[commands1, receipts1, "gerbang/#".to_owned()],
        (events1.clone(), forged),
    )
    .await;
    // Door 1's own event is stored and receipted; the forged one never arrives.
    stub.client
        .publish(&events1, QoS::AtLeastOnce, false, own)
        .await
        .unwrap();
    let admin = admin_token(b).await;
    eventually(30, || async {
        let listed = get_devices(b, &admin).await;
        (device(&listed, "door-1")["last_seq"] == 2).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let listed = get_devices(b, &admin).await;
    assert_eq!(device(&listed, "door-1")["events_stored"], 1, "{listed}");
    // Door 1 still takes commands, through either replica; door 2 heard none of it.
    let token = admin_token(b).await;
    let (status, body) = call(
        authed(b, Method::POST, "/api/door/control", &token)
            .json(&json!({"device_id": "door-1", "action": "unlock", "duration_ms": 1000})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "acked", "{body}");
    intruder.assert_heard_nothing();
    stub.stop().await;
}

/// Events from one door over the replicas' broker, 200 at a time until both replicas have
/// taken a share (at most five rounds): stored once each, the replicas' counts adding up to
/// exactly what was sent. Then commands sent through A complete whichever replica their
/// ack reaches.
///
/// Rounds, not one burst: a replica whose pull request or subscription is not yet waiting
/// when a burst arrives (a loaded machine, a consumer being set up again) rightly gets none
/// of it; a replica that takes nothing over five rounds is not sharing.
async fn share_device_traffic_and_commands(replicas: &[TestCloud], site: &str) {
    let (a, b) = (&replicas[0], &replicas[1]);
    let mut dev = a.enroll_device(&unique_site(site), "door-1").await;
    let events = dev.topic(Channel::Events);
    const ROUND: u64 = 200;
    const ROUNDS: u64 = 5;
    let mut frames = (0..ROUND * ROUNDS)
        .map(|_| dev.next_frame(granted()))
        .collect::<Vec<_>>()
        .into_iter();
    let stub = DeviceStub::start(dev, a, true).await;
    let admin = admin_token(b).await;
    let mut sent = 0;
    loop {
        for frame in frames.by_ref().take(ROUND as usize) {
            stub.client
                .publish(&events, QoS::AtLeastOnce, false, frame)
                .await
                .unwrap();
        }
        sent += ROUND;
        eventually(30, || async {
            let listed = get_devices(b, &admin).await;
            (device(&listed, "door-1")["events_stored"] == sent).then_some(())
        })
        .await;
        let listed = get_devices(a, &admin_token(a).await).await;
        assert_eq!(device(&listed, "door-1")["missing_seqs"], 0);
        assert_eq!(device(&listed, "door-1")["last_seq"], sent);
        // Together the replicas ingested exactly every event once.
        let ingested: Vec<f64> =
            futures::future::join_all(replicas.iter().map(|r| async move {
                metric(&metrics(r).await, "gerbang_events_ingested_total")
            }))
            .await;
        assert_eq!(ingested.iter().sum::<f64>(), sent as f64, "{ingested:?}");
        if ingested.iter().all(|n| *n > 0.0) {
            break;
        }
        assert!(
            sent < ROUND * ROUNDS,
            "after {sent} events a replica still took none: {ingested:?}"
        );
    }
    // Commands sent through A complete whichever replica their ack reaches.
    let token = admin_token(a).await;
    for _ in 0..6 {
        let (status, body) = call(
            authed(a, Method::POST, "/api/door/control", &token)
                .json(&json!({"action": "unlock", "duration_ms": 1000})),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["status"], "acked", "{body}");
    }
    stub.stop().await;
}

/// 20 doors × 60 events through `mqtt_url` while replica A stops a third of the way in:
/// every event confirmed, every door's `missing_seqs = 0`, each stored once.
async fn stream_while_a_replica_stops(replicas: &mut [TestCloud], mqtt_url: &str, site: &str) {
    let admin = admin_token(&replicas[1]).await;
    const DEVICES: usize = 20;
    const EVENTS: u64 = 60;
    let fleet = Fleet::enroll(&replicas[1].url(""), &admin, &unique_site(site), DEVICES)
        .await
        .expect("enrol the fleet");
    let mqtt_url = mqtt_url.to_owned();
    let streaming = tokio::spawn(async move {
        fleet
            .stream(
                &mqtt_url,
                Stream {
                    events_per_device: EVENTS,
                    interval: Duration::from_millis(50),
                    resend_after: Duration::from_secs(2),
                    deadline: Duration::from_secs(60),
                },
            )
            .await
    });
    // A third of the way in, replica A stops.
    tokio::time::sleep(Duration::from_secs(1)).await;
    replicas[0].halt().await;
    let report = streaming.await.unwrap();
    eprintln!(
        "{} events, {} resent, {}",
        report.events,
        report.resent,
        report.confirm_latency.line("confirm", None)
    );
    assert_eq!(report.unconfirmed, 0, "{} resent", report.resent);
    assert_eq!(report.events, DEVICES as u64 * EVENTS);
    let listed = get_devices(&replicas[1], &admin).await;
    for i in 0..DEVICES {
        let door = device(&listed, &format!("load-{i:04}"));
        assert_eq!(door["missing_seqs"], 0, "{door}");
        assert_eq!(door["events_stored"], EVENTS, "{door}");
    }
}

/// The status of `GET /api/auth/me` with `token`.
async fn me(tc: &TestCloud, token: &str) -> StatusCode {
    http()
        .get(tc.url("/api/auth/me"))
        .bearer_auth(token)
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .unwrap()
        .status()
}

fn refresh_cookie(response: &reqwest::Response) -> String {
    response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("refreshToken="))
        .and_then(|v| v.split(';').next())
        .expect("a refreshToken cookie")
        .to_owned()
}
