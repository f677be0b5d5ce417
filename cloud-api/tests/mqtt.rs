//! MQTT paths on both databases and both brokers (embedded rumqttd, external Mosquitto):
//! ingest with receipts, malformed payloads, retained state and last will, commands acked by
//! a device stub (a real rumqttc client using protocol types), and command timeouts; and
//! doors confined to their own logins and topics on a Mosquitto of the test's own with the
//! dynamic-security plugin.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use cloud_api::{
    broker_tests,
    testkit::{mosquitto::DynsecMosquitto, unique_site, Backend, BrokerKind, SimDevice, TestCloud},
};
use common::{confinement::*, device_stub::DeviceStub, *};
use protocol::{Channel, CommandEnvelope, Event, Keypair, Receipt};
use reqwest::StatusCode;
use rumqttc::{AsyncClient, Event as MqttEvent, EventLoop, Packet, QoS};
use serde_json::json;
use tokio::sync::mpsc;

broker_tests!(
    mqtt_ingest_with_receipts,
    malformed_payloads_do_not_stop_ingest,
    state_and_last_will,
    command_acked_by_device_stub,
    command_times_out,
);

/// Connects and drives a device's event loop on a task; incoming publishes go to the channel.
async fn connect(
    dev: &SimDevice,
    url: &str,
    subscribe: &[Channel],
) -> (
    AsyncClient,
    mpsc::UnboundedReceiver<rumqttc::Publish>,
    tokio::task::JoinHandle<()>,
) {
    let (client, eventloop) = dev.mqtt_client(url);
    let (tx, rx) = mpsc::unbounded_channel();
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
    let task = tokio::spawn(drive(eventloop, tx, ready_tx, subscribe.len()));
    for channel in subscribe {
        client
            .subscribe(dev.topic(*channel), QoS::AtLeastOnce)
            .await
            .expect("subscribe");
    }
    tokio::time::timeout(Duration::from_secs(10), ready_rx)
        .await
        .expect("connected")
        .expect("ready");
    (client, rx, task)
}

async fn drive(
    mut eventloop: EventLoop,
    tx: mpsc::UnboundedSender<rumqttc::Publish>,
    ready: tokio::sync::oneshot::Sender<()>,
    subscriptions: usize,
) {
    let mut ready = Some(ready);
    let mut acked = 0;
    loop {
        match eventloop.poll().await {
            Ok(MqttEvent::Incoming(Packet::ConnAck(_))) if subscriptions == 0 => {
                if let Some(ready) = ready.take() {
                    let _ = ready.send(());
                }
            }
            Ok(MqttEvent::Incoming(Packet::SubAck(_))) => {
                acked += 1;
                if acked >= subscriptions {
                    if let Some(ready) = ready.take() {
                        let _ = ready.send(());
                    }
                }
            }
            Ok(MqttEvent::Incoming(Packet::Publish(p))) => {
                let _ = tx.send(p);
            }
            Ok(_) => {}
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

/// Disconnects cleanly (no last will left retained on a shared broker), then stops the loop.
async fn finish(client: AsyncClient, task: tokio::task::JoinHandle<()>) {
    let _ = client.disconnect().await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    task.abort();
}

async fn next_receipt(
    dev: &SimDevice,
    tc: &TestCloud,
    rx: &mut mpsc::UnboundedReceiver<rumqttc::Publish>,
) -> Receipt {
    let publish = tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("a receipt in time")
        .expect("channel open");
    assert_eq!(publish.topic, dev.topic(Channel::Receipts));
    protocol::open(&publish.payload, &tc.cloud().public_key()).expect("receipt sealed by the cloud")
}

async fn mqtt_ingest_with_receipts(backend: Backend, broker: BrokerKind) {
    let tc = TestCloud::start(backend, broker).await;
    let site = unique_site("ingest");
    let mut dev = tc.enroll_device(&site, "door-1").await;
    let (client, mut rx, task) = connect(&dev, tc.cloud().mqtt_url(), &[Channel::Receipts]).await;
    let events = dev.topic(Channel::Events);
    let first = dev.next_frame(granted());
    client
        .publish(&events, QoS::AtLeastOnce, false, first.clone())
        .await
        .unwrap();
    let mut upto = next_receipt(&dev, &tc, &mut rx).await.upto_seq;
    assert_eq!(upto, 1);
    for _ in 0..4 {
        let frame = dev.next_frame(Event::DoorOpened);
        client
            .publish(&events, QoS::AtLeastOnce, false, frame)
            .await
            .unwrap();
    }
    // A re-delivery of the first event.
    client
        .publish(&events, QoS::AtLeastOnce, false, first)
        .await
        .unwrap();
    while upto < 5 {
        upto = next_receipt(&dev, &tc, &mut rx).await.upto_seq;
    }
    let text = eventually(10, || async {
        let text = metrics(&tc).await;
        (metric(&text, "gerbang_events_duplicate_total") >= 1.0).then_some(text)
    })
    .await;
    assert_eq!(metric(&text, "gerbang_events_ingested_total"), 5.0);
    assert_eq!(
        metric(&text, "gerbang_access_decisions_total{result=\"granted\"}"),
        1.0
    );
    let token = admin_token(&tc).await;
    let listed = get_devices(&tc, &token).await;
    let d = device(&listed, "door-1");
    assert_eq!(d["events_stored"], 5);
    assert_eq!(d["last_seq"], 5);
    assert_eq!(d["missing_seqs"], 0);
    finish(client, task).await;
    tc.stop().await;
}

async fn malformed_payloads_do_not_stop_ingest(backend: Backend, broker: BrokerKind) {
    let tc = TestCloud::start(backend, broker).await;
    let site = unique_site("malformed");
    let mut dev = tc.enroll_device(&site, "door-1").await;
    let other = tc.enroll_device(&site, "door-2").await;
    let (client, mut rx, task) = connect(&dev, tc.cloud().mqtt_url(), &[Channel::Receipts]).await;
    let events = dev.topic(Channel::Events);
    let mut future = serde_json::to_value(dev.envelope(50, Event::DoorOpened)).unwrap();
    future["v"] = json!(9);
    let bad: Vec<(String, Vec<u8>)> = vec![
        (events.clone(), b"not json at all".to_vec()),
        (
            events.clone(),
            protocol::seal(&dev.envelope(51, Event::DoorOpened), &Keypair::generate()),
        ),
        // Signed by door-1 but published on door-2's topic.
        (
            other.topic(Channel::Events),
            dev.seal(&dev.envelope(52, Event::DoorOpened)),
        ),
        (events.clone(), dev.seal(&future)),
        (events.clone(), vec![b'x'; protocol::MAX_FRAME_BYTES + 1]),
        (
            format!("gerbang/{site}/ghost/events"),
            dev.seal(&dev.envelope(53, Event::DoorOpened)),
        ),
    ];
    for (topic, payload) in bad {
        client
            .publish(topic, QoS::AtLeastOnce, false, payload)
            .await
            .unwrap();
    }
    let good = dev.next_frame(Event::DoorOpened);
    client
        .publish(&events, QoS::AtLeastOnce, false, good)
        .await
        .unwrap();
    assert_eq!(next_receipt(&dev, &tc, &mut rx).await.upto_seq, 1);
    let text = eventually(10, || async {
        let text = metrics(&tc).await;
        let total: f64 = [
            "malformed",
            "bad_signature",
            "unsupported_version",
            "too_large",
            "unknown_device",
        ]
        .iter()
        .map(|r| {
            metric(
                &text,
                &format!("gerbang_events_rejected_total{{reason=\"{r}\"}}"),
            )
        })
        .sum();
        (total >= 6.0).then_some(text)
    })
    .await;
    assert_eq!(
        metric(&text, "gerbang_events_rejected_total{reason=\"too_large\"}"),
        1.0
    );
    // Other tests' devices on a shared broker are unknown here too: at least ours.
    assert!(
        metric(
            &text,
            "gerbang_events_rejected_total{reason=\"unknown_device\"}"
        ) >= 1.0
    );
    assert_eq!(
        metric(
            &text,
            "gerbang_events_rejected_total{reason=\"unsupported_version\"}"
        ),
        1.0
    );
    // door-2's key does not verify door-1's signature.
    assert_eq!(
        metric(
            &text,
            "gerbang_events_rejected_total{reason=\"bad_signature\"}"
        ),
        2.0
    );
    assert_eq!(metric(&text, "gerbang_events_ingested_total"), 1.0);
    finish(client, task).await;
    tc.stop().await;
}

async fn state_and_last_will(backend: Backend, broker: BrokerKind) {
    let tc = TestCloud::start(backend, broker.clone()).await;
    let site = unique_site("state");
    let dev = tc.enroll_device(&site, "door-1").await;
    let token = admin_token(&tc).await;
    let (client, _rx, task) = connect(&dev, tc.cloud().mqtt_url(), &[]).await;
    client
        .publish(
            dev.topic(Channel::State),
            QoS::AtLeastOnce,
            true,
            dev.seal(&dev.state(true)),
        )
        .await
        .unwrap();
    eventually(10, || async {
        let listed = get_devices(&tc, &token).await;
        (device(&listed, "door-1")["online"] == true).then_some(())
    })
    .await;
    let (_, door) = json(
        http()
            .get(tc.url("/api/door/status"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(door["battery_level"], 90);
    assert_eq!(door["camera_active"], true);
    assert_eq!(door["online"], true);
    let text = metrics(&tc).await;
    assert_eq!(metric(&text, "gerbang_devices_online"), 1.0);

    // The connection dies without a DISCONNECT: the broker publishes the last will.
    task.abort();
    drop(client);
    eventually(20, || async {
        let listed = get_devices(&tc, &token).await;
        (device(&listed, "door-1")["online"] == false).then_some(())
    })
    .await;
    // Clear the retained state so the shared broker does not keep it.
    if let BrokerKind::Mosquitto { .. } = broker {
        let (client, _rx, task) = connect(&dev, tc.cloud().mqtt_url(), &[]).await;
        client
            .publish(
                dev.topic(Channel::State),
                QoS::AtLeastOnce,
                true,
                Vec::new(),
            )
            .await
            .unwrap();
        finish(client, task).await;
    }
    if broker == BrokerKind::Embedded {
        // The embedded broker admits only enrolled devices with their token.
        let mut impostor = SimDevice::new(Keypair::generate(), dev.enrollment.clone());
        impostor.token = "0".repeat(64);
        let (_client, mut eventloop) = impostor.mqtt_client(tc.cloud().mqtt_url());
        let result = tokio::time::timeout(Duration::from_secs(5), eventloop.poll())
            .await
            .expect("answer");
        assert!(result.is_err(), "a wrong token must be refused: {result:?}");
    }
    tc.stop().await;
}

/// A device stub: answers every command with a sealed ack.
fn spawn_stub(
    dev: SimDevice,
    client: AsyncClient,
    mut rx: mpsc::UnboundedReceiver<rumqttc::Publish>,
    cloud_key: protocol::PublicKey,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        while let Some(publish) = rx.recv().await {
            if publish.topic != dev.topic(Channel::Commands) {
                continue;
            }
            let command: CommandEnvelope =
                protocol::open(&publish.payload, &cloud_key).expect("sealed by the cloud");
            assert_eq!(command.device, dev.id);
            assert!(command.expires_at > time::OffsetDateTime::now_utc());
            let locked = !matches!(command.command, protocol::Command::Unlock { .. });
            let ack = dev.seal(&dev.ack(&command, true, locked));
            client
                .publish(dev.topic(Channel::Acks), QoS::AtLeastOnce, false, ack)
                .await
                .unwrap();
        }
    })
}

async fn command_acked_by_device_stub(backend: Backend, broker: BrokerKind) {
    let tc = TestCloud::start(backend, broker).await;
    let site = unique_site("cmd");
    let dev = tc.enroll_device(&site, "door-1").await;
    let token = admin_token(&tc).await;
    let (client, rx, task) = connect(&dev, tc.cloud().mqtt_url(), &[Channel::Commands]).await;
    let stub = spawn_stub(dev, client.clone(), rx, tc.cloud().public_key());

    let (status, body) = json(
        http()
            .post(tc.url("/api/door/control"))
            .bearer_auth(&token)
            .json(&json!({"action": "unlock", "duration_ms": 3000}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["message"], "Pintu berhasil dibuka");
    assert_eq!(body["status"], "acked");
    assert_eq!(body["ack"]["ok"], true);
    assert_eq!(body["ack"]["locked"], false);

    let (status, body) = json(
        http()
            .post(tc.url("/api/devices/door-1/commands"))
            .bearer_auth(&token)
            .header("Accept-Language", "en")
            .json(&json!({"type": "lock"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["message"], "Command executed");
    assert_eq!(body["ack"]["locked"], true);
    stub.abort();
    finish(client, task).await;
    tc.stop().await;
}

async fn command_times_out(backend: Backend, broker: BrokerKind) {
    let tc = TestCloud::start_with(backend, broker, |c| c.command_timeout_secs = 1).await;
    let site = unique_site("timeout");
    tc.enroll_device(&site, "door-1").await;
    let token = admin_token(&tc).await;
    let (status, body) = json(
        http()
            .post(tc.url("/api/door/control"))
            .bearer_auth(&token)
            .json(&json!({"action": "lock"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::GATEWAY_TIMEOUT);
    assert_eq!(body["message"], "Perangkat tidak merespons dalam 1 detik");
    tc.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_broker_falls_back_when_its_port_is_taken() {
    // Another broker (here: any listener) already holds the configured port.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let taken_addr = taken.local_addr().unwrap();
    let tc = TestCloud::start_with(Backend::Sqlite, BrokerKind::Embedded, |c| {
        c.mqtt.addr = taken_addr;
    })
    .await;
    let url = tc.cloud().mqtt_url().to_owned();
    assert!(url.starts_with("mqtt://127.0.0.1:"), "{url}");
    assert!(!url.ends_with(&format!(":{}", taken_addr.port())), "{url}");
    let (status, health) = json(http().get(tc.url("/health")).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(health["mqtt"], "connected");
    // Devices are told the real address and can use it.
    let site = unique_site("fallback");
    let dev = tc.enroll_device(&site, "door-1").await;
    assert_eq!(dev.enrollment.mqtt_url, url);
    let (client, _rx, task) = connect(&dev, &url, &[]).await;
    finish(client, task).await;
    tc.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_frees_the_broker_port_and_cuts_devices() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let tc = TestCloud::start_with(Backend::Sqlite, BrokerKind::Embedded, |c| {
        c.mqtt.addr = addr
    })
    .await;
    assert_eq!(tc.cloud().mqtt_url(), format!("mqtt://{addr}"));
    let site = unique_site("restart");
    let dev = tc.enroll_device(&site, "door-1").await;
    let (client, mut eventloop) = dev.mqtt_client(tc.cloud().mqtt_url());
    client
        .subscribe(dev.topic(Channel::Receipts), QoS::AtLeastOnce)
        .await
        .unwrap();
    loop {
        if let MqttEvent::Incoming(Packet::SubAck(_)) = eventloop.poll().await.unwrap() {
            break;
        }
    }
    tc.stop().await;
    // The device notices: its connection is closed.
    let dropped = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            if eventloop.poll().await.is_err() {
                break;
            }
        }
    })
    .await;
    assert!(
        dropped.is_ok(),
        "the device connection should be cut when the cloud stops"
    );
    // A new cloud in the same process gets the same port.
    let again = TestCloud::start_with(Backend::Sqlite, BrokerKind::Embedded, |c| {
        c.mqtt.addr = addr
    })
    .await;
    assert_eq!(again.cloud().mqtt_url(), format!("mqtt://{addr}"));
    again.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Mosquitto's dynamic-security plugin: `cargo xtask test` runs it where there is one"]
async fn dynsec_door_credentials_confine_it_to_its_own_topics() {
    let broker = DynsecMosquitto::start().await;
    let tc = TestCloud::start_with(Backend::Sqlite, BrokerKind::Embedded, |config| {
        broker.configure(&mut config.mqtt)
    })
    .await;
    let url = broker.url();
    let site = unique_site("dynsec");
    let mut door1 = tc.enroll_device(&site, "door-1").await;
    let door2 = tc.enroll_device(&site, "door-2").await;

    // A door logs in with its token; a wrong password, an unknown door, a door with another
    // door's token are refused.
    mqtt_connect(&url, "door-1", "door-1", &door1.token)
        .await
        .unwrap_or_else(|code| panic!("door-1 refused ({code:?}): {}", broker.log()));
    assert_logins_refused(
        &url,
        &[
            ("door-1", "door-1", "not-the-token"),
            ("door-9", "door-9", door1.token.as_str()),
            ("door-1", "door-1", door2.token.as_str()),
        ],
    )
    .await;

    // Door 2 may neither subscribe to door 1's topics (nor to everything) nor publish on
    // them: a validly sealed frame of door 1's it replays there never reaches the cloud.
    let forged = door1.next_frame(granted());
    let own = door1.next_frame(granted());
    let events1 = door1.topic(Channel::Events);
    let filters = [
        door1.topic(Channel::Commands),
        door1.topic(Channel::Receipts),
        "gerbang/#".to_owned(),
        format!("gerbang/{site}/+/commands"),
    ];
    let stub = DeviceStub::start(door1, &tc, true).await;
    let intruder = Intruder::start(&door2, &url, &filters, (events1.clone(), forged)).await;
    stub.client
        .publish(&events1, QoS::AtLeastOnce, false, own)
        .await
        .unwrap();
    let admin = admin_token(&tc).await;
    eventually(10, || async {
        let listed = get_devices(&tc, &admin).await;
        (device(&listed, "door-1")["last_seq"] == 2).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let listed = get_devices(&tc, &admin).await;
    assert_eq!(device(&listed, "door-1")["events_stored"], 1, "{listed}");
    // Door 1 still takes commands; door 2 heard none of it.
    let (status, body) = call(
        authed(&tc, reqwest::Method::POST, "/api/door/control", &admin)
            .json(&json!({"device_id": "door-1", "action": "unlock", "duration_ms": 1000})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "acked", "{body}");
    intruder.assert_heard_nothing();
    let old_token = stub.token.clone();
    stub.stop().await;

    // Enrolling again rotates the token: the old one is refused, the new one admitted.
    let door1 = tc.enroll_device(&site, "door-1").await;
    assert_logins_refused(&url, &[("door-1", "door-1", old_token.as_str())]).await;
    mqtt_connect(&url, "door-1", "door-1", &door1.token)
        .await
        .expect("the new token admitted");

    // A removed door is refused.
    let dynsec = tc
        .cloud()
        .platform()
        .mqtt
        .dynsec
        .as_ref()
        .expect("dynsec on");
    dynsec.remove_door(&door2.id).await.expect("removed");
    assert_logins_refused(&url, &[("door-2", "door-2", door2.token.as_str())]).await;

    // With the broker gone, an enrolment fails and stores nothing.
    drop(broker);
    let door3 = protocol::DeviceId::parse("door-3").unwrap();
    let code = tc
        .cloud()
        .create_device(&site, &door3, "Pintu tiga")
        .await
        .unwrap();
    let refused = tc
        .cloud()
        .enroll(&protocol::sync::EnrollRequest {
            code: code.code,
            public_key: Keypair::generate().public(),
            firmware: "test".into(),
        })
        .await
        .expect_err("no broker, no enrolment");
    assert!(refused.to_string().contains("broker"), "{refused}");
    let listed = get_devices(&tc, &admin).await;
    assert_eq!(device(&listed, "door-3")["enrolled"], false, "{listed}");
    tc.stop().await;
}
