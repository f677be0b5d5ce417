//! The offline-first path end to end: real `edge-daemon` processes, a real cloud on SQLite
//! and PostgreSQL, the embedded broker and Mosquitto.

mod support;

use std::{process::Command, time::Duration};

use cloud_api::testkit::{unique_site, Backend, BrokerKind};
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_events_reach_the_cloud_exactly_once() {
    for (backend, broker) in matrix() {
        eprintln!("exactly-once: {} + {:?}", backend.name(), broker);
        let site = Site::new(backend, broker).await;
        let admin = Admin::login(&site).await;
        let dir = tempfile::tempdir().unwrap();
        let code = site.code_for(&unique_site("once"), "door-1").await;
        enroll_process(dir.path(), &site.url(""), &code);
        let mut daemon = spawn_edge(
            dir.path(),
            &[
                ("GERBANG_CLOUD__MQTT_URL", site.mqtt_url()),
                ("GERBANG_SIM__TRAFFIC", "false".into()),
                ("GERBANG_SIM__STRANGERS", "10000".into()),
            ],
        );
        let last = assert_fully_synced(
            &site,
            &admin,
            "door-1",
            dir.path(),
            Duration::from_secs(300),
        )
        .await;
        assert!(last >= 10_000, "only {last} events were written");
        terminate(&mut daemon);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_twenty_times_loses_and_duplicates_nothing() {
    for (backend, broker) in matrix() {
        eprintln!("sigkill: {} + {:?}", backend.name(), broker);
        let site = Site::new(backend, broker).await;
        let admin = Admin::login(&site).await;
        let dir = tempfile::tempdir().unwrap();
        let code = site.code_for(&unique_site("kill"), "door-1").await;
        enroll_process(dir.path(), &site.url(""), &code);
        let flowing = [
            ("GERBANG_CLOUD__MQTT_URL", site.mqtt_url()),
            ("GERBANG_SIM__STRANGERS", "1000000".into()),
            ("GERBANG_SIM__STRANGERS_PER_SEC", "400".into()),
            ("GERBANG_SIM__VISIT_EVERY_SECS", "0.5".into()),
            ("GERBANG_SIM__SPEED", "20".into()),
            ("GERBANG_DOOR__DEBOUNCE_MS", "5".into()),
        ];
        let (written, unsynced) =
            kill_twenty_times(dir.path(), || spawn_edge(dir.path(), &flowing)).await;
        eprintln!("after 20 kills: {written} events written, {unsynced} not yet confirmed");
        let mut daemon = spawn_edge(
            dir.path(),
            &[
                ("GERBANG_CLOUD__MQTT_URL", site.mqtt_url()),
                ("GERBANG_SIM__TRAFFIC", "false".into()),
            ],
        );
        assert_fully_synced(
            &site,
            &admin,
            "door-1",
            dir.path(),
            Duration::from_secs(180),
        )
        .await;
        terminate(&mut daemon);
    }
}

async fn stored(admin: &Admin, site: &Site) -> u64 {
    admin
        .device(site, "door-1")
        .await
        .and_then(|d| d["events_stored"].as_u64())
        .unwrap_or(0)
}

/// A Mosquitto of this test's own, so it can be stopped and started.
struct PrivateBroker {
    port: u16,
    child: Option<std::process::Child>,
}

impl PrivateBroker {
    fn start(port: u16) -> Option<PrivateBroker> {
        let mut broker = PrivateBroker { port, child: None };
        broker.resume().then_some(broker)
    }

    fn resume(&mut self) -> bool {
        let child = Command::new("mosquitto")
            .args(["-p", &self.port.to_string()])
            .stderr(std::process::Stdio::null())
            .spawn();
        match child {
            Ok(child) => {
                self.child = Some(child);
                for _ in 0..50 {
                    if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                        return true;
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
                false
            }
            Err(_) => false,
        }
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            kill9(&mut child);
        }
    }
}

impl Drop for PrivateBroker {
    fn drop(&mut self) {
        self.stop();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outages_of_broker_cloud_and_both_are_survived() {
    let mut backends = vec![Backend::Sqlite];
    backends.extend(Backend::postgres());
    for backend in backends {
        let port = free_port();
        let Some(mut broker) = PrivateBroker::start(port) else {
            assert!(
                std::env::var("GERBANG_TEST_REQUIRE_SERVICES").as_deref() != Ok("1"),
                "GERBANG_TEST_REQUIRE_SERVICES=1 but the mosquitto binary cannot run"
            );
            eprintln!("skipped: no mosquitto binary to stop and start");
            return;
        };
        eprintln!("outages: {} + private mosquitto on {port}", backend.name());
        let mut site = Site::new(
            backend,
            BrokerKind::Mosquitto {
                addr: format!("127.0.0.1:{port}"),
            },
        )
        .await;
        let admin = Admin::login(&site).await;
        let dir = tempfile::tempdir().unwrap();
        let code = site.code_for(&unique_site("outage"), "door-1").await;
        enroll_process(dir.path(), &site.url(""), &code);
        let mut daemon = spawn_edge(
            dir.path(),
            &[
                ("GERBANG_SIM__TRAFFIC", "false".into()),
                ("GERBANG_SIM__STRANGERS", "1000000".into()),
                ("GERBANG_SIM__STRANGERS_PER_SEC", "50".into()),
                ("GERBANG_SYNC__HTTP_FALLBACK_AFTER_SECS", "2".into()),
                ("GERBANG_SYNC__RESEND_AFTER_SECS", "2".into()),
            ],
        );
        eventually(
            Duration::from_secs(30),
            "first events over MQTT",
            || async { (stored(&admin, &site).await > 50).then_some(()) },
        )
        .await;

        // Broker down, cloud up: after the fallback delay events arrive over HTTPS.
        broker.stop();
        let before = stored(&admin, &site).await;
        eventually(
            Duration::from_secs(30),
            "events over HTTPS while the broker is down",
            || async { (stored(&admin, &site).await > before + 100).then_some(()) },
        )
        .await;
        assert!(broker.resume(), "broker restarts");

        // Cloud down, broker up: events wait in the outbox.
        site.stop().await;
        let (_, pending_before) = device_outbox(dir.path());
        tokio::time::sleep(Duration::from_secs(3)).await;
        let (_, pending_during) = device_outbox(dir.path());
        assert!(
            pending_during > pending_before,
            "events must wait on the device while the cloud is down"
        );
        site.start().await;
        eventually(
            Duration::from_secs(60),
            "outbox drained after the cloud returns",
            || async { (device_outbox(dir.path()).1 < 100).then_some(()) },
        )
        .await;

        // Both down.
        site.stop().await;
        broker.stop();
        tokio::time::sleep(Duration::from_secs(3)).await;
        assert!(broker.resume());
        site.start().await;

        // Stop generating and check everything arrived exactly once.
        terminate(&mut daemon);
        let mut daemon = spawn_edge(dir.path(), &[("GERBANG_SIM__TRAFFIC", "false".into())]);
        assert_fully_synced(
            &site,
            &admin,
            "door-1",
            dir.path(),
            Duration::from_secs(120),
        )
        .await;
        terminate(&mut daemon);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unlock_from_the_cloud_reaches_the_relay_and_is_acked() {
    for (backend, broker) in matrix() {
        let site = Site::new(backend, broker).await;
        let admin = Admin::login(&site).await;
        let dir = tempfile::tempdir().unwrap();
        let code = site.code_for(&unique_site("cmd"), "door-1").await;
        edge_daemon::enroll::enroll(&site.url(""), &code, dir.path(), None, false)
            .await
            .unwrap();
        let mut config = edge_daemon::config::EdgeConfig::default();
        config.data_dir = dir.path().to_owned();
        config.cloud.mqtt_url = Some(site.mqtt_url());
        config.sim.traffic = false;
        config.kiosk.listen = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
        let (hardware, world) = edge_daemon::sim::hardware();
        let relay = world.relay.clone();
        let shutdown = tokio_util::sync::CancellationToken::new();
        let daemon = edge_daemon::daemon::start(&config, hardware, Some(world), shutdown.clone())
            .await
            .unwrap();
        eventually(Duration::from_secs(20), "device online", || async {
            admin
                .device(&site, "door-1")
                .await
                .filter(|d| d["online"] == true)
        })
        .await;

        let response = admin
            .http
            .post(site.url("/api/door/control"))
            .bearer_auth(&admin.token)
            .json(&serde_json::json!({ "action": "unlock", "duration_ms": 2000 }))
            .send()
            .await
            .unwrap();
        let status = response.status();
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["ack"]["ok"], true, "{body}");
        assert!(
            relay.history().iter().any(|s| !s.locked),
            "the simulated relay must have been released"
        );
        eventually(
            Duration::from_secs(10),
            "door status shows unlocked",
            || async {
                let status: serde_json::Value = admin
                    .http
                    .get(site.url("/api/door/status"))
                    .bearer_auth(&admin.token)
                    .send()
                    .await
                    .ok()?
                    .json()
                    .await
                    .ok()?;
                let text = status.to_string();
                text.contains("\"locked\":false").then_some(())
            },
        )
        .await;
        // And it relocks by itself.
        eventually(Duration::from_secs(10), "relay relocked", || async {
            relay
                .history()
                .last()
                .is_some_and(|s| s.locked)
                .then_some(())
        })
        .await;
        shutdown.cancel();
        daemon.stopped().await;
    }
}
