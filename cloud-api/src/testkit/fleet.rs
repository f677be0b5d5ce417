//! A fleet of simulated doors in one process, for load and failover: each enrolled through
//! the HTTP API with a key of its own, streaming sealed events over MQTT (QoS 1) and — as the
//! edge daemon does — keeping every event until the cloud's receipt covers it, resending
//! what is unconfirmed when receipts stall, reconnecting when the broker goes away.

use std::{
    collections::BTreeMap,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use protocol::{
    sync::{EnrollRequest, EnrollResponse, ENROLL_PATH},
    AccessMethod, AccessResult, Channel, Event, Keypair, PublicKey, Receipt, SiteId,
};
use rand::Rng;
use rumqttc::{Event as MqttEvent, Packet, QoS};
use tokio::sync::mpsc;

use super::{latency::Latencies, SimDevice};

/// Enrolled devices, ready to stream.
pub struct Fleet {
    devices: Vec<SimDevice>,
}

/// How a fleet streams.
#[derive(Debug, Clone, Copy)]
pub struct Stream {
    /// Events each device sends.
    pub events_per_device: u64,
    /// Between two events of one device.
    pub interval: Duration,
    /// Unconfirmed events are sent again after this long without a receipt's progress.
    pub resend_after: Duration,
    /// Devices still unconfirmed after this long give up (and are reported).
    pub deadline: Duration,
}

/// What a fleet's run came to.
#[derive(Debug, Default)]
pub struct FleetReport {
    pub devices: usize,
    /// Events sent once each.
    pub events: u64,
    /// Publications repeated because their receipt did not come in time.
    pub resent: u64,
    /// Events no receipt covered by the deadline (0 is the only good answer).
    pub unconfirmed: u64,
    pub elapsed: Duration,
    /// From an event's first publication to the receipt that covered it.
    pub confirm_latency: Latencies,
    /// Every confirmed event's first publication and confirmation, to line up with what
    /// happened meanwhile (a replica or a broker node killed).
    pub confirmations: Vec<Confirmation>,
}

/// When one event was first published and when a receipt covered it, in milliseconds since
/// the Unix epoch.
#[derive(Debug, Clone, Copy)]
pub struct Confirmation {
    pub sent_ms: u64,
    pub confirmed_ms: u64,
}

/// `at` in milliseconds since the Unix epoch.
fn epoch_ms(at: Instant) -> u64 {
    let wall = SystemTime::now() - Instant::now().saturating_duration_since(at);
    wall.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl Fleet {
    /// Registers `n` doors `load-0000…` at `site` with the admin's token, and enrols each
    /// with a fresh key, through the cloud at `base` (`http://host:port`).
    pub async fn enroll(
        base: &str,
        admin_token: &str,
        site: &SiteId,
        n: usize,
    ) -> Result<Fleet, String> {
        let http = reqwest::Client::new();
        let mut devices = Vec::with_capacity(n);
        for i in 0..n {
            let device_id = format!("load-{i:04}");
            let created = with_retries(&format!("creating {device_id}"), || {
                http.post(format!("{base}/api/devices"))
                    .bearer_auth(admin_token)
                    .json(&serde_json::json!({"site": site.as_str(), "device_id": device_id, "name": device_id}))
            })
            .await?;
            let code = created["code"]
                .as_str()
                .ok_or_else(|| format!("creating {device_id}: {created}"))?;
            let keypair = Keypair::generate();
            let request = EnrollRequest {
                code: code.to_owned(),
                public_key: keypair.public(),
                firmware: "fleet".into(),
            };
            let enrolled = with_retries(&format!("enrolling {device_id}"), || {
                http.post(format!("{base}{ENROLL_PATH}")).json(&request)
            })
            .await?;
            let enrolled: EnrollResponse = serde_json::from_value(enrolled)
                .map_err(|e| format!("enrolling {device_id}: {e}"))?;
            devices.push(SimDevice::new(keypair, enrolled));
        }
        Ok(Fleet { devices })
    }

    /// Every device streams `stream` to the broker at `mqtt_url` at once; returns when each
    /// is confirmed or past the deadline.
    pub async fn stream(self, mqtt_url: &str, stream: Stream) -> FleetReport {
        let started = Instant::now();
        let devices = self.devices.len();
        let (tx, mut rx) = mpsc::unbounded_channel();
        for device in self.devices {
            let (tx, url) = (tx.clone(), mqtt_url.to_owned());
            tokio::spawn(async move {
                let _ = tx.send(run_device(device, &url, stream).await);
            });
        }
        drop(tx);
        let mut report = FleetReport {
            devices,
            ..FleetReport::default()
        };
        while let Some(one) = rx.recv().await {
            report.events += one.events;
            report.resent += one.resent;
            report.unconfirmed += one.unconfirmed;
            report.confirm_latency.add(&one.confirm_latency);
            report.confirmations.extend(one.confirmations);
        }
        report.elapsed = started.elapsed();
        report
    }
}

/// Sends what `request` builds until a 2xx answer (a replica may die under a request: the
/// load balancer sends the next try elsewhere), at most five times; its JSON body.
async fn with_retries(
    what: &str,
    request: impl Fn() -> reqwest::RequestBuilder,
) -> Result<serde_json::Value, String> {
    let mut last = String::new();
    for attempt in 0..5u32 {
        if attempt > 0 {
            tokio::time::sleep(Duration::from_millis(500) * attempt).await;
        }
        match request().send().await {
            Ok(answer) if answer.status().is_success() => {
                return answer.json().await.map_err(|e| format!("{what}: {e}"));
            }
            Ok(answer) if answer.status().is_client_error() => {
                return Err(format!("{what}: {}", answer.status()));
            }
            Ok(answer) => last = answer.status().to_string(),
            Err(e) => last = e.to_string(),
        }
    }
    Err(format!("{what}: {last}"))
}

/// A lost connection is tried again after a wait drawn from the upper half of a step that
/// starts here and doubles up to [`RECONNECT_MAX`], as the edge daemon does.
const RECONNECT_MIN: Duration = Duration::from_secs(1);
const RECONNECT_MAX: Duration = Duration::from_secs(60);

/// An access decision, as a door makes them all day.
fn an_event(seq: u64) -> Event {
    Event::AccessDecision {
        result: if seq % 5 == 0 {
            AccessResult::Denied
        } else {
            AccessResult::Granted
        },
        method: AccessMethod::ExitButton,
        person: None,
        reason: None,
        score: None,
        liveness: None,
        snapshot: None,
    }
}

async fn run_device(mut device: SimDevice, mqtt_url: &str, stream: Stream) -> FleetReport {
    let cloud_key: PublicKey = device.enrollment.cloud_public_key.clone();
    let (client, mut eventloop) = device.mqtt_client(mqtt_url);
    let receipts_topic = device.topic(Channel::Receipts);
    let events_topic = device.topic(Channel::Events);
    let (receipt_tx, mut receipts) = mpsc::unbounded_channel::<u64>();
    let subscriber = client.clone();
    let topic = receipts_topic.clone();
    // The connection: (re)subscribes on every ConnAck, hands receipts over, reconnects.
    let connection = tokio::spawn(async move {
        let mut reconnect = RECONNECT_MIN;
        loop {
            match eventloop.poll().await {
                Ok(MqttEvent::Incoming(Packet::ConnAck(_))) => {
                    reconnect = RECONNECT_MIN;
                    let _ = subscriber.subscribe(&topic, QoS::AtLeastOnce).await;
                }
                // Refused while a clustered broker elects a leader: ask again, as a door does.
                Ok(MqttEvent::Incoming(Packet::SubAck(ack)))
                    if ack
                        .return_codes
                        .iter()
                        .any(|c| matches!(c, rumqttc::SubscribeReasonCode::Failure)) =>
                {
                    let (subscriber, topic) = (subscriber.clone(), topic.clone());
                    tokio::spawn(async move {
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        let _ = subscriber.subscribe(&topic, QoS::AtLeastOnce).await;
                    });
                }
                Ok(MqttEvent::Incoming(Packet::Publish(p))) if p.topic == topic => {
                    if let Ok(receipt) = protocol::open::<Receipt>(&p.payload, &cloud_key) {
                        let _ = receipt_tx.send(receipt.upto_seq);
                    }
                }
                Ok(_) => {}
                // As a door does (edge-daemon's back-off): jittered, doubling, so the doors of
                // a broker node that died do not all come back to the others at once.
                Err(_) => {
                    let half = reconnect / 2;
                    let wait = half + rand::thread_rng().gen_range(Duration::ZERO..=half);
                    tokio::time::sleep(wait).await;
                    reconnect = (reconnect * 2).min(RECONNECT_MAX);
                }
            }
        }
    });
    let mut report = FleetReport {
        devices: 1,
        ..FleetReport::default()
    };
    // seq → (frame, first sent).
    let mut unconfirmed: BTreeMap<u64, (Vec<u8>, Instant)> = BTreeMap::new();
    let mut next_send = tokio::time::Instant::now();
    let mut progress = Instant::now();
    let give_up = Instant::now() + stream.deadline;
    let mut tick = tokio::time::interval(Duration::from_millis(50));
    loop {
        let all_sent = report.events >= stream.events_per_device;
        if all_sent && unconfirmed.is_empty() {
            break;
        }
        if Instant::now() >= give_up {
            break;
        }
        tokio::select! {
            _ = tokio::time::sleep_until(next_send), if !all_sent => {
                let frame = device.next_frame(an_event(device.seq + 1));
                let _ = client.publish(&events_topic, QoS::AtLeastOnce, false, frame.clone()).await;
                if unconfirmed.is_empty() {
                    progress = Instant::now();
                }
                unconfirmed.insert(device.seq, (frame, Instant::now()));
                report.events += 1;
                next_send += stream.interval;
            }
            Some(upto) = receipts.recv() => {
                let now = Instant::now();
                let confirmed: Vec<u64> = unconfirmed.range(..=upto).map(|(seq, _)| *seq).collect();
                if !confirmed.is_empty() {
                    progress = now;
                }
                for seq in confirmed {
                    if let Some((_, sent)) = unconfirmed.remove(&seq) {
                        report.confirm_latency.record(now - sent);
                        report.confirmations.push(Confirmation {
                            sent_ms: epoch_ms(sent),
                            confirmed_ms: epoch_ms(now),
                        });
                    }
                }
            }
            _ = tick.tick() => {
                if !unconfirmed.is_empty() && progress.elapsed() >= stream.resend_after {
                    for (frame, _) in unconfirmed.values() {
                        let _ = client.publish(&events_topic, QoS::AtLeastOnce, false, frame.clone()).await;
                        report.resent += 1;
                    }
                    progress = Instant::now();
                }
            }
        }
    }
    report.unconfirmed = unconfirmed.len() as u64;
    let _ = client.disconnect().await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    connection.abort();
    report
}
