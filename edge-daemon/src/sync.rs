//! Sync with the cloud: drains the outbox over MQTT, or over HTTPS batches when MQTT has
//! been down for a while; receives receipts, commands and gallery notices.
//!
//! Delivery is at-least-once and the cloud stores each event id once. An outbox row is
//! deleted only when the cloud says it has stored it: a sealed receipt over MQTT (a broker's
//! PUBACK only proves the *broker* has it) or a 2xx answer to an HTTPS batch. After every
//! reconnect, and whenever receipts stall, everything unconfirmed is published again.

use std::{
    path::PathBuf,
    sync::Arc,
    time::{Duration, Instant},
};

use protocol::{
    open, seal,
    sync::{BatchResult, EVENTS_PATH},
    Channel, CommandAck, CommandEnvelope, DeviceState, GalleryNotice, Keypair, PublicKey, Receipt,
    Topic,
};
use rumqttc::{
    AsyncClient, ConnectReturnCode, Event as MqttEvent, LastWill, MqttOptions, Packet, QoS,
    TlsConfiguration, Transport,
};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use crate::{
    backoff::Backoff,
    identity::{Identity, Secret},
    store::{Durability, Outbox, PendingFrame},
    transport::{self, Endpoint, TransportError},
};

/// The `[cloud]` section: overrides for how the device reaches the cloud; enrolment supplies
/// the rest.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CloudLink {
    /// Use this broker instead of the one the cloud named at enrolment.
    pub mqtt_url: Option<String>,
    /// Use this HTTPS base URL instead of the one enrolled against.
    pub url: Option<String>,
    /// A PEM bundle of the site's own certificate authority, trusted besides the public ones.
    pub ca_file: Option<PathBuf>,
}

/// The `[sync]` section: batching, the confirmation window and the outbox bound.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SyncSettings {
    /// Fall back to HTTPS batches after MQTT has been down this long.
    pub http_fallback_after_secs: u64,
    /// Frames per HTTPS batch and per MQTT read of the outbox.
    pub batch_size: usize,
    /// Events published but not yet confirmed by the cloud, at most.
    pub window: u64,
    /// Publish again what the cloud has not confirmed after this long.
    pub resend_after_secs: u64,
    /// Unsynced events kept on disk at most.
    pub max_unsynced: u64,
    /// Unsynced events older than this many days are dropped (reported to the cloud as a
    /// `dropped` range once it is reachable): a door cut off for good keeps no one's
    /// passages for ever. 0 keeps them.
    pub unsynced_retention_days: u32,
    /// Frames the cloud refused for good are kept this many days for an installer to
    /// inspect, then deleted. 0 keeps them.
    pub parked_retention_days: u32,
    pub durability: Durability,
    pub keep_alive_secs: u64,
}

impl SyncSettings {
    pub fn http_fallback_after(&self) -> Duration {
        Duration::from_secs(self.http_fallback_after_secs)
    }

    pub fn resend_after(&self) -> Duration {
        Duration::from_secs(self.resend_after_secs)
    }

    fn days(days: u32) -> Option<Duration> {
        (days > 0).then(|| Duration::from_secs(u64::from(days) * 24 * 3600))
    }

    /// `unsynced_retention_days`, `None` when kept for ever.
    pub fn unsynced_retention(&self) -> Option<Duration> {
        Self::days(self.unsynced_retention_days)
    }

    /// `parked_retention_days`, `None` when kept for ever.
    pub fn parked_retention(&self) -> Option<Duration> {
        Self::days(self.parked_retention_days)
    }
}

/// Removes the outbox's leftovers past their retention period once a day (the first time a
/// minute after start), until shutdown.
pub async fn run_retention(
    outbox: Outbox,
    clock: Arc<dyn hal::Clock>,
    settings: SyncSettings,
    shutdown: CancellationToken,
) {
    let mut wait = Duration::from_secs(60);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(wait) => {}
        }
        wait = Duration::from_secs(24 * 3600);
        let (now, unsynced, parked) = (
            clock.now(),
            settings.unsynced_retention(),
            settings.parked_retention(),
        );
        if let Err(error) = outbox
            .with(move |store| store.enforce_retention(now, unsynced, parked))
            .await
        {
            warn!(%error, "Outbox retention failed; tried again tomorrow.");
        }
    }
}

impl Default for SyncSettings {
    fn default() -> Self {
        Self {
            http_fallback_after_secs: 20,
            batch_size: 500,
            window: 2_000,
            resend_after_secs: 15,
            max_unsynced: 500_000,
            unsynced_retention_days: 365,
            parked_retention_days: 30,
            durability: Durability::Full,
            keep_alive_secs: 10,
        }
    }
}

/// Everything the syncer needs to know about the link to the cloud.
#[derive(Debug, Clone)]
pub struct Link {
    pub topic_events: Topic,
    pub topic_state: Topic,
    pub topic_acks: Topic,
    pub subscriptions: [Topic; 3],
    pub device_key: Keypair,
    pub cloud_key: PublicKey,
    pub token: Secret,
    pub mqtt: Endpoint,
    pub events_url: url::Url,
    pub tls: Arc<rustls::ClientConfig>,
}

impl Link {
    pub fn new(
        identity: &Identity,
        mqtt_override: Option<&str>,
        cloud_override: Option<&str>,
        site_ca: Option<&std::path::Path>,
    ) -> Result<Self, TransportError> {
        let c = &identity.credentials;
        let mqtt = transport::mqtt_endpoint(mqtt_override.unwrap_or(&c.mqtt_url))?;
        let cloud = transport::http_endpoint(cloud_override.unwrap_or(&c.cloud_url))?;
        let events_url = cloud
            .join(EVENTS_PATH)
            .map_err(|e| TransportError::BadUrl {
                url: cloud.to_string(),
                reason: e.to_string(),
            })?;
        let topic = |channel| Topic::new(&c.site, &c.device, channel);
        Ok(Self {
            topic_events: topic(Channel::Events),
            topic_state: topic(Channel::State),
            topic_acks: topic(Channel::Acks),
            subscriptions: [
                topic(Channel::Commands),
                topic(Channel::Receipts),
                topic(Channel::Gallery),
            ],
            device_key: identity.key.clone(),
            cloud_key: c.cloud_public_key,
            token: c.token.clone(),
            mqtt,
            events_url,
            tls: transport::tls_config(site_ca)?,
        })
    }
}

/// What the rest of the daemon can see of the link.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncStatus {
    pub mqtt_connected: bool,
    /// Bumped on every new MQTT connection.
    pub connection: u64,
    /// When MQTT went down (or the daemon started without it).
    pub down_since: Option<Instant>,
    /// The cloud has stored every event up to here.
    pub confirmed_upto: u64,
}

/// Messages from the cloud for other parts of the daemon.
#[derive(Debug)]
pub struct Inbound {
    pub commands: mpsc::Receiver<CommandEnvelope>,
    pub gallery: watch::Receiver<Option<GalleryNotice>>,
}

/// Sends acks and state on behalf of the rest of the daemon.
#[derive(Debug, Clone)]
pub struct SyncHandle {
    client: AsyncClient,
    link: Arc<Link>,
    status: watch::Receiver<SyncStatus>,
}

impl SyncHandle {
    pub async fn publish_ack(&self, ack: &CommandAck) {
        let frame = seal(ack, &self.link.device_key);
        if let Err(e) = self
            .client
            .publish(
                self.link.topic_acks.to_string(),
                QoS::AtLeastOnce,
                false,
                frame,
            )
            .await
        {
            warn!(command = %ack.command_id, error = %e, "Could not queue a command ack.");
        }
    }

    /// Publishes the retained device state (best effort: the next change publishes again).
    pub fn publish_state(&self, state: &DeviceState) {
        let frame = seal(state, &self.link.device_key);
        if let Err(e) = self.client.try_publish(
            self.link.topic_state.to_string(),
            QoS::AtLeastOnce,
            true,
            frame,
        ) {
            debug!(error = %e, "State not queued; it is published again on the next change.");
        }
    }

    pub fn status(&self) -> watch::Receiver<SyncStatus> {
        self.status.clone()
    }
}

/// Starts the MQTT driver, the outbox publisher and the HTTPS fallback.
pub fn start(
    outbox: Outbox,
    link: Link,
    settings: SyncSettings,
    offline_state: DeviceState,
    shutdown: CancellationToken,
) -> (SyncHandle, Inbound, Vec<tokio::task::JoinHandle<()>>) {
    let link = Arc::new(link);
    let device = offline_state.device.clone();
    let mut options = MqttOptions::new(device.as_str(), link.mqtt.host.clone(), link.mqtt.port);
    options.set_credentials(device.as_str(), link.token.expose());
    options.set_keep_alive(Duration::from_secs(settings.keep_alive_secs.max(5)));
    options.set_clean_session(true);
    options.set_max_packet_size(
        protocol::MAX_FRAME_BYTES + 4096,
        protocol::MAX_FRAME_BYTES + 4096,
    );
    options.set_last_will(LastWill::new(
        link.topic_state.to_string(),
        seal(&offline_state, &link.device_key),
        QoS::AtLeastOnce,
        true,
    ));
    if link.mqtt.tls {
        options.set_transport(Transport::tls_with_config(TlsConfiguration::Rustls(
            link.tls.clone(),
        )));
    }
    let (client, mut eventloop) = AsyncClient::new(options, 1_000);
    eventloop.set_network_options(no_delay());

    let (status_tx, status_rx) = watch::channel(SyncStatus {
        down_since: Some(Instant::now()),
        ..Default::default()
    });
    let (commands_tx, commands_rx) = mpsc::channel(64);
    let (gallery_tx, gallery_rx) = watch::channel(None);

    let driver = MqttDriver {
        client: client.clone(),
        link: link.clone(),
        outbox: outbox.clone(),
        status: status_tx.clone(),
        commands: commands_tx,
        gallery: gallery_tx,
    };
    let publisher = Publisher {
        client: client.clone(),
        link: link.clone(),
        outbox: outbox.clone(),
        status: status_rx.clone(),
        settings: settings.clone(),
    };
    let uploader = Uploader {
        http: reqwest::Client::builder()
            .use_preconfigured_tls((*link.tls).clone())
            .timeout(Duration::from_secs(30))
            .build()
            .expect("a rustls client with preconfigured TLS always builds"),
        link: link.clone(),
        outbox,
        status: status_tx,
        settings,
    };
    let tasks = vec![
        tokio::spawn(driver.run(eventloop, shutdown.clone())),
        tokio::spawn(publisher.run(shutdown.clone())),
        tokio::spawn(uploader.run(shutdown)),
    ];
    let handle = SyncHandle {
        client,
        link,
        status: status_rx,
    };
    (
        handle,
        Inbound {
            commands: commands_rx,
            gallery: gallery_rx,
        },
        tasks,
    )
}

/// Polls the MQTT event loop for ever: (re)connects, subscribes, routes what arrives.
struct MqttDriver {
    client: AsyncClient,
    link: Arc<Link>,
    outbox: Outbox,
    status: watch::Sender<SyncStatus>,
    commands: mpsc::Sender<CommandEnvelope>,
    gallery: watch::Sender<Option<GalleryNotice>>,
}

impl MqttDriver {
    async fn run(self, mut eventloop: rumqttc::EventLoop, shutdown: CancellationToken) {
        let mut backoff = Backoff::default();
        loop {
            let event = tokio::select! {
                _ = shutdown.cancelled() => break,
                event = eventloop.poll() => event,
            };
            match event {
                Ok(MqttEvent::Incoming(Packet::ConnAck(ack)))
                    if ack.code == ConnectReturnCode::Success =>
                {
                    backoff.reset();
                    for topic in &self.link.subscriptions {
                        if let Err(e) = self
                            .client
                            .try_subscribe(topic.to_string(), QoS::AtLeastOnce)
                        {
                            warn!(%topic, error = %e, "Could not subscribe.");
                        }
                    }
                    self.status.send_modify(|s| {
                        s.mqtt_connected = true;
                        s.connection += 1;
                        s.down_since = None;
                    });
                    info!(broker = %self.link.mqtt.host, port = self.link.mqtt.port, "Connected to the broker.");
                }
                Ok(MqttEvent::Incoming(Packet::SubAck(ack)))
                    if ack
                        .return_codes
                        .iter()
                        .any(|c| matches!(c, rumqttc::SubscribeReasonCode::Failure)) =>
                {
                    // A clustered broker refuses a subscription while it elects a leader for
                    // the subscription's state (NATS JetStream after losing a node): without
                    // it no receipt or command would reach this door until it reconnects.
                    warn!("The broker refused a subscription; subscribing again in a second.");
                    let client = self.client.clone();
                    let topics = self.link.subscriptions.clone();
                    tokio::spawn(async move {
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        for topic in topics {
                            let _ = client.try_subscribe(topic.to_string(), QoS::AtLeastOnce);
                        }
                    });
                }
                Ok(MqttEvent::Incoming(Packet::Publish(publish))) => {
                    self.route(&publish.topic, &publish.payload).await
                }
                Ok(_) => {}
                Err(error) => {
                    let was_connected = self.status.borrow().mqtt_connected;
                    self.status.send_modify(|s| {
                        s.mqtt_connected = false;
                        s.down_since.get_or_insert_with(Instant::now);
                    });
                    let delay = backoff.next_delay();
                    if was_connected {
                        warn!(%error, retry_in_ms = delay.as_millis() as u64, "Lost the broker.");
                    } else {
                        debug!(%error, retry_in_ms = delay.as_millis() as u64, "Broker unreachable.");
                    }
                    tokio::select! {
                        _ = shutdown.cancelled() => break,
                        jumped = crate::backoff::wait(delay) => if jumped {
                            info!("The wall clock was set; reconnecting now.");
                            backoff.reset();
                        },
                    }
                }
            }
        }
        // Leave cleanly so the broker does not publish the last will for a planned stop;
        // the daemon publishes its own offline state before this.
        let _ = self.client.try_disconnect();
        let _ = tokio::time::timeout(Duration::from_millis(500), async {
            while let Ok(event) = eventloop.poll().await {
                if matches!(event, MqttEvent::Outgoing(rumqttc::Outgoing::Disconnect)) {
                    break;
                }
            }
        })
        .await;
    }

    async fn route(&self, topic: &str, payload: &[u8]) {
        let channel = match Topic::parse(topic) {
            Ok(t) if t.device == self.link.topic_events.device => t.channel,
            _ => {
                warn!(
                    topic,
                    "Message on a topic that is not this device's; ignored."
                );
                return;
            }
        };
        let key = &self.link.cloud_key;
        match channel {
            Channel::Receipts => match open::<Receipt>(payload, key) {
                Ok(receipt) => self.confirm(receipt.upto_seq).await,
                Err(error) => warn!(%error, "Refused a receipt."),
            },
            Channel::Commands => match open::<CommandEnvelope>(payload, key) {
                Ok(command) => {
                    if self.commands.try_send(command).is_err() {
                        warn!("Command queue full; command dropped (the cloud will time out).");
                    }
                }
                Err(error) => warn!(%error, "Refused a command."),
            },
            Channel::Gallery => match open::<GalleryNotice>(payload, key) {
                Ok(notice) => {
                    let _ = self.gallery.send(Some(notice));
                }
                Err(error) => warn!(%error, "Refused a gallery notice."),
            },
            _ => {}
        }
    }

    async fn confirm(&self, upto: u64) {
        if upto <= self.status.borrow().confirmed_upto {
            return;
        }
        match self.outbox.with(move |s| s.confirm_upto(upto)).await {
            Ok(gone) => {
                debug!(upto, gone, "Cloud confirmed events.");
                self.status
                    .send_modify(|s| s.confirmed_upto = s.confirmed_upto.max(upto));
            }
            Err(error) => warn!(%error, "Could not apply a receipt; it will come again."),
        }
    }
}

/// TCP without Nagle's algorithm: an event is one small PUBLISH, sent at once rather than
/// held back until the previous segment is acknowledged (tens of ms on an idle link).
fn no_delay() -> rumqttc::NetworkOptions {
    let mut network = rumqttc::NetworkOptions::new();
    network.set_tcp_nodelay(true);
    network
}

/// Publishes unconfirmed outbox rows in order, within a window, while MQTT is up.
struct Publisher {
    client: AsyncClient,
    link: Arc<Link>,
    outbox: Outbox,
    status: watch::Receiver<SyncStatus>,
    settings: SyncSettings,
}

impl Publisher {
    async fn run(mut self, shutdown: CancellationToken) {
        let topic = self.link.topic_events.to_string();
        let mut connection = 0;
        let mut cursor = 0;
        let mut progress_at = tokio::time::Instant::now();
        loop {
            let status = self.status.borrow_and_update().clone();
            if status.connection != connection {
                // A new session: the broker and client forgot whatever was in flight.
                connection = status.connection;
                cursor = status.confirmed_upto;
                progress_at = tokio::time::Instant::now();
            }
            cursor = cursor.max(status.confirmed_upto);
            let mut blocked = false;
            if status.mqtt_connected {
                let in_flight = cursor - status.confirmed_upto;
                let room = self.settings.window.saturating_sub(in_flight) as usize;
                if room > 0 {
                    let (after, limit) = (cursor, room.min(self.settings.batch_size));
                    match self
                        .outbox
                        .with(move |s| s.pending_after(after, limit))
                        .await
                    {
                        Ok(rows) => {
                            let sent = self.publish(&topic, rows, &mut cursor);
                            blocked = sent.blocked;
                            if sent.count > 0 && !sent.blocked {
                                continue;
                            }
                        }
                        Err(error) => warn!(%error, "Could not read the outbox."),
                    }
                }
            }
            let resend_at = progress_at + self.settings.resend_after();
            let unconfirmed = status.mqtt_connected && cursor > status.confirmed_upto;
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = self.outbox.appended() => {}
                changed = self.status.changed() => {
                    if changed.is_err() { return; }
                    if self.status.borrow().confirmed_upto > status.confirmed_upto {
                        progress_at = tokio::time::Instant::now();
                    }
                }
                _ = tokio::time::sleep(Duration::from_millis(10)), if blocked => {}
                _ = tokio::time::sleep_until(resend_at), if unconfirmed => {
                    debug!(from = status.confirmed_upto, "No receipt for a while; publishing the unconfirmed events again.");
                    cursor = status.confirmed_upto;
                    progress_at = tokio::time::Instant::now();
                }
            }
        }
    }

    fn publish(&self, topic: &str, rows: Vec<PendingFrame>, cursor: &mut u64) -> Sent {
        let mut sent = Sent::default();
        for row in rows {
            // try_publish never waits: a full request queue means the event loop is busy or
            // down, and waiting here while holding nothing is what keeps this deadlock-free.
            match self
                .client
                .try_publish(topic, QoS::AtLeastOnce, false, row.frame)
            {
                Ok(()) => {
                    *cursor = row.seq;
                    sent.count += 1;
                }
                Err(_) => {
                    sent.blocked = true;
                    break;
                }
            }
        }
        sent
    }
}

#[derive(Default)]
struct Sent {
    count: usize,
    blocked: bool,
}

/// Uploads HTTPS batches while MQTT has been down longer than the fallback delay.
struct Uploader {
    http: reqwest::Client,
    link: Arc<Link>,
    outbox: Outbox,
    status: watch::Sender<SyncStatus>,
    settings: SyncSettings,
}

impl Uploader {
    async fn run(self, shutdown: CancellationToken) {
        let mut backoff = Backoff::default();
        let mut status = self.status.subscribe();
        loop {
            let down_for = status.borrow_and_update().down_since.map(|t| t.elapsed());
            let due = down_for.is_some_and(|d| d >= self.settings.http_fallback_after());
            if due {
                let limit = self
                    .settings
                    .batch_size
                    .min(protocol::sync::MAX_BATCH_FRAMES);
                match self.outbox.with(move |s| s.pending_after(0, limit)).await {
                    Ok(rows) if !rows.is_empty() => match self.upload(rows).await {
                        Ok(()) => {
                            backoff.reset();
                            continue;
                        }
                        Err(error) => {
                            let delay = backoff.next_delay();
                            warn!(%error, retry_in_ms = delay.as_millis() as u64, "HTTPS upload failed.");
                            tokio::select! {
                                _ = shutdown.cancelled() => return,
                                _ = tokio::time::sleep(delay) => {}
                            }
                            continue;
                        }
                    },
                    Ok(_) => {}
                    Err(error) => warn!(%error, "Could not read the outbox."),
                }
            }
            let wait = match down_for {
                Some(d) if !due => self.settings.http_fallback_after() - d,
                _ => Duration::from_secs(1),
            };
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = status.changed() => {}
                _ = self.outbox.appended(), if due => {}
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }

    async fn upload(&self, rows: Vec<PendingFrame>) -> Result<(), UploadError> {
        let mut frames = Vec::with_capacity(rows.len());
        for row in &rows {
            let text =
                String::from_utf8(row.frame.clone()).map_err(|_| UploadError::Corrupt(row.seq))?;
            frames.push(RawValue::from_string(text).map_err(|_| UploadError::Corrupt(row.seq))?);
        }
        let response = self
            .http
            .post(self.link.events_url.clone())
            .bearer_auth(self.link.token.expose())
            .json(&protocol::sync::EventBatch { frames })
            .send()
            .await?;
        let status = response.status();
        if !status.is_success() {
            let body = response.text().await.unwrap_or_default();
            return Err(UploadError::Status(
                status.as_u16(),
                body.chars().take(200).collect(),
            ));
        }
        let result: BatchResult = response.json().await?;
        let rejected: std::collections::HashMap<usize, String> = result
            .rejected
            .into_iter()
            .map(|r| (r.index, r.error))
            .collect();
        let mut stored = Vec::with_capacity(rows.len());
        let mut refused = Vec::new();
        for (index, row) in rows.iter().enumerate() {
            match rejected.get(&index) {
                Some(error) => refused.push((row.seq, error.clone())),
                None => stored.push(row.seq),
            }
        }
        let count = stored.len();
        let upto = result.upto_seq;
        self.outbox
            .with(move |s| {
                s.confirm(&stored)?;
                for (seq, error) in &refused {
                    warn!(
                        seq,
                        error, "The cloud refused an event for good; parked on the device."
                    );
                    s.park(*seq, error)?;
                }
                Ok(())
            })
            .await
            .map_err(|e| UploadError::Store(e.to_string()))?;
        self.status
            .send_modify(|s| s.confirmed_upto = s.confirmed_upto.max(upto));
        info!(
            events = count,
            upto_seq = upto,
            "Uploaded a batch over HTTPS."
        );
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
enum UploadError {
    #[error("request failed: {0}")]
    Http(#[from] reqwest::Error),
    #[error("cloud answered {0}: {1}")]
    Status(u16, String),
    #[error("outbox row {0} is not valid JSON")]
    Corrupt(u64),
    #[error("store: {0}")]
    Store(String),
}
