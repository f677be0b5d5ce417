//! The devices' MQTT served by a NATS cluster (`[nats]`): devices keep speaking MQTT 3.1.1 to
//! any node's MQTT listener, which turns `gerbang/{site}/{device}/{channel}` into the subject
//! `gerbang.{site}.{device}.{channel}`. The cloud speaks NATS:
//!
//! - device events and command acks are captured by one JetStream work-queue stream,
//!   replicated over the cluster; the replicas share one durable pull consumer per channel,
//!   so each message goes to one replica, which acknowledges it only once its batch is
//!   committed (and its receipt sent) — a replica that dies first leaves it to be
//!   redelivered to another after `ack_wait_secs`;
//! - device state is a plain subscription on every replica (applying it is idempotent);
//! - receipts, commands and gallery notices are plain publishes the MQTT listener delivers
//!   to the devices' subscriptions;
//! - with `auth_callout_seed` set, the replicas are the cluster's auth callout service
//!   ([`callout`]): a device logs in to the MQTT listener with its usual credentials and is
//!   confined to its own subjects.

use std::time::Duration;

use async_nats::jetstream::{
    self,
    consumer::{pull, AckPolicy, DeliverPolicy},
    message::{AckKind, Acker},
    stream::{self, RetentionPolicy, StorageType},
};
use futures::StreamExt;
use protocol::{Channel, Topic};
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

mod callout;

pub use callout::{new_issuer, serve_callouts, CalloutIssuer, CALLOUT_SUBJECT};

use crate::{
    commands, devices,
    ingest::{IncomingFrame, Settle},
    start_error::CloudError,
    state::AppState,
};

/// The NATS cluster that serves the devices' MQTT (`[nats]`, `GERBANG_NATS_*`).
#[derive(Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct NatsConfig {
    /// The cluster's client URLs, comma-separated (`nats://a:4222,nats://b:4222`): the
    /// cloud uses NATS instead of an MQTT client when set.
    pub url: Option<String>,
    /// The cloud's own user: privileged, and listed in the server's `auth_callout.auth_users`
    /// so that it bypasses the callout.
    pub username: Option<String>,
    pub password: Option<String>,
    /// The seed (`SA…`) of the account nkey whose public key the servers' `auth_callout`
    /// block names as `issuer`. Set, the replicas answer the callouts: a device is admitted
    /// with its MQTT credentials and confined to its own subjects; anyone else is refused.
    /// Unset, the cluster is expected to admit devices by itself (no confinement).
    pub auth_callout_seed: Option<String>,
    /// The account an admitted device is placed in: the one the cloud's user and the device
    /// stream live in (the `auth_callout` block's `account`; `$G` when the server's config
    /// declares no accounts).
    pub account: String,
    /// The JetStream stream that holds device events and acks until a replica settles them.
    pub stream: String,
    /// Copies of the stream kept in the cluster (1 for a single server, 3 for a cluster
    /// that survives losing a node).
    pub replicas: usize,
    /// How long a delivery waits for its acknowledgement before another replica gets it.
    pub ack_wait_secs: u64,
    /// How long an unsettled event may wait in the stream (the devices still hold it).
    pub max_age_hours: u64,
}

impl Default for NatsConfig {
    fn default() -> Self {
        Self {
            url: None,
            username: None,
            password: None,
            auth_callout_seed: None,
            account: "$G".into(),
            stream: "GERBANG_DEVICES".into(),
            replicas: 1,
            ack_wait_secs: 30,
            max_age_hours: 72,
        }
    }
}

impl std::fmt::Debug for NatsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NatsConfig")
            .field("url", &self.url)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field(
                "auth_callout_seed",
                &self.auth_callout_seed.as_ref().map(|_| "<redacted>"),
            )
            .field("account", &self.account)
            .field("stream", &self.stream)
            .field("replicas", &self.replicas)
            .field("ack_wait_secs", &self.ack_wait_secs)
            .field("max_age_hours", &self.max_age_hours)
            .finish()
    }
}

/// The NATS subject the MQTT listener maps `topic` to (`/` → `.`; device and site ids
/// contain no `.`, which [`protocol::DeviceId`] refuses).
pub fn subject_of(topic: &str) -> String {
    topic.replace('/', ".")
}

/// The subject of `channel` on every device (`gerbang.*.*.events`).
fn every_device(channel: Channel) -> String {
    subject_of(&channel.filter_all()).replace('+', "*")
}

/// The MQTT topic of a NATS subject.
fn topic_of(subject: &str) -> String {
    subject.replace('.', "/")
}

/// Connects to the cluster (retrying in the background until a server answers).
pub async fn connect(config: &NatsConfig, name: &str) -> Result<async_nats::Client, CloudError> {
    let urls = config
        .url
        .as_deref()
        .ok_or_else(|| CloudError::Config("nats.url is not set".into()))?;
    let servers = urls
        .split(',')
        .map(|u| u.trim().parse::<async_nats::ServerAddr>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| CloudError::Config(format!("nats.url {urls:?}: {e}")))?;
    let mut options = async_nats::ConnectOptions::new()
        .name(name)
        .retry_on_initial_connect()
        .max_reconnects(None::<usize>);
    if let Some((user, pass)) = config.username.clone().zip(config.password.clone()) {
        options = options.user_and_password(user, pass);
    }
    options
        .connect(servers)
        .await
        .map_err(|e| CloudError::Broker(format!("NATS {urls}: {e}")))
}

/// A JetStream delivery awaiting its batch's verdict.
struct JetStreamDelivery(Acker);

impl std::fmt::Debug for JetStreamDelivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JetStreamDelivery")
    }
}

#[async_trait::async_trait]
impl Settle for JetStreamDelivery {
    async fn stored(self: Box<Self>) {
        if let Err(err) = self.0.ack().await {
            tracing::debug!(error = %err, "JetStream ack failed; the event will come again.");
        }
    }
    async fn refused(self: Box<Self>) {
        let _ = self.0.ack_with(AckKind::Term).await;
    }
    async fn retry(self: Box<Self>) {
        let _ = self
            .0
            .ack_with(AckKind::Nak(Some(Duration::from_secs(1))))
            .await;
    }
}

/// The stream and the replicas' shared consumers, created when missing.
async fn prepare(
    js: &jetstream::Context,
    config: &NatsConfig,
) -> Result<(pull::Stream, pull::Stream), String> {
    let stream = js
        .get_or_create_stream(stream::Config {
            name: config.stream.clone(),
            subjects: vec![every_device(Channel::Events), every_device(Channel::Acks)],
            retention: RetentionPolicy::WorkQueue,
            storage: StorageType::File,
            num_replicas: config.replicas.max(1),
            max_age: Duration::from_secs(config.max_age_hours.max(1) * 3600),
            ..Default::default()
        })
        .await
        .map_err(|e| format!("stream {}: {e}", config.stream))?;
    let mut feeds = Vec::with_capacity(2);
    for (name, channel, pending) in [
        ("gerbang-events", Channel::Events, 20_000),
        ("gerbang-acks", Channel::Acks, 1_000),
    ] {
        let consumer = stream
            .get_or_create_consumer(
                name,
                pull::Config {
                    durable_name: Some(name.into()),
                    filter_subject: every_device(channel),
                    ack_policy: AckPolicy::Explicit,
                    ack_wait: Duration::from_secs(config.ack_wait_secs.max(1)),
                    deliver_policy: DeliverPolicy::All,
                    max_ack_pending: pending,
                    ..Default::default()
                },
            )
            .await
            .map_err(|e| format!("consumer {name}: {e}"))?;
        feeds.push(
            consumer
                .messages()
                .await
                .map_err(|e| format!("consumer {name}: {e}"))?,
        );
    }
    let acks = feeds.pop().ok_or("no acks consumer")?;
    let events = feeds.pop().ok_or("no events consumer")?;
    Ok((events, acks))
}

/// Feeds ingest from the shared consumer, applies acks and device state, until `stop`.
/// `subscribed` turns true once the stream, its consumers and the state subscription
/// are in place.
pub async fn run_loop(
    platform: AppState,
    client: async_nats::Client,
    config: NatsConfig,
    frames: mpsc::Sender<IncomingFrame>,
    subscribed: watch::Sender<bool>,
    stop: CancellationToken,
) {
    let js = jetstream::new(client.clone());
    loop {
        let attempt = async {
            let (events, acks) = prepare(&js, &config).await?;
            let state = client
                .subscribe(every_device(Channel::State))
                .await
                .map_err(|e| format!("state subscription: {e}"))?;
            Ok::<_, String>((events, acks, state))
        };
        let (events, acks, state) = tokio::select! {
            _ = stop.cancelled() => return,
            ready = attempt => match ready {
                Ok(feeds) => feeds,
                Err(error) => {
                    tracing::warn!(%error, "NATS JetStream not ready; retrying.");
                    tokio::select! {
                        _ = stop.cancelled() => return,
                        _ = tokio::time::sleep(Duration::from_secs(1)) => continue,
                    }
                }
            },
        };
        tracing::info!(stream = %config.stream, "Consuming device messages from NATS JetStream.");
        let _ = subscribed.send(true);
        let outcome = tokio::select! {
            _ = stop.cancelled() => return,
            outcome = feed_ingest(events, &frames) => outcome,
            outcome = apply_acks(&platform, acks) => outcome,
            outcome = apply_state(&platform, state) => outcome,
        };
        let _ = subscribed.send(false);
        match outcome {
            Feed::IngestStopped => return,
            Feed::Ended(feed) => {
                tracing::warn!(feed, "A NATS feed ended; setting it up again.");
            }
            Feed::Failed(feed, error) => {
                tracing::warn!(feed, %error, "A NATS pull feed failed; setting it up again.");
            }
        }
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(Duration::from_millis(500)) => {}
        }
    }
}

enum Feed {
    IngestStopped,
    Ended(&'static str),
    /// A pull consumer's feed reported an error: its pull request went unanswered (no
    /// consumer leader yet, a leadership change, a node gone) or its heartbeats stopped.
    /// The client still counts the messages that request asked for and would not pull
    /// again until it expires (about 35 s), leaving this replica idle while the other
    /// takes everything, so the feed is set up again with a fresh request.
    Failed(&'static str, pull::MessagesError),
}

async fn feed_ingest(mut events: pull::Stream, frames: &mpsc::Sender<IncomingFrame>) -> Feed {
    while let Some(message) = events.next().await {
        let message = match message {
            Ok(message) => message,
            Err(error) => return Feed::Failed("events", error),
        };
        let (message, acker) = message.split();
        let frame = IncomingFrame {
            topic: topic_of(message.subject.as_str()),
            payload: message.payload,
            delivery: Some(Box::new(JetStreamDelivery(acker))),
        };
        if frames.send(frame).await.is_err() {
            return Feed::IngestStopped;
        }
    }
    Feed::Ended("events")
}

async fn apply_acks(platform: &AppState, mut acks: pull::Stream) -> Feed {
    while let Some(message) = acks.next().await {
        let message = match message {
            Ok(message) => message,
            Err(error) => return Feed::Failed("acks", error),
        };
        let (message, acker) = message.split();
        match Topic::parse(&topic_of(message.subject.as_str())) {
            Ok(topic) => {
                commands::handle_ack(platform, &topic, &message.payload).await;
                let _ = acker.ack().await;
            }
            Err(err) => {
                platform.metrics.rejected("bad_topic");
                tracing::warn!(error = %err, "Ack on an unexpected subject dropped.");
                let _ = acker.ack_with(AckKind::Term).await;
            }
        }
    }
    Feed::Ended("acks")
}

async fn apply_state(platform: &AppState, mut state: async_nats::Subscriber) -> Feed {
    while let Some(message) = state.next().await {
        match Topic::parse(&topic_of(message.subject.as_str())) {
            Ok(topic) => devices::handle_state(platform, &topic, &message.payload).await,
            Err(err) => {
                platform.metrics.rejected("bad_topic");
                tracing::warn!(error = %err, "State on an unexpected subject dropped.");
            }
        }
    }
    Feed::Ended("state")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_and_subjects_map_both_ways() {
        let topic = "gerbang/site-1/door-1/events";
        assert_eq!(subject_of(topic), "gerbang.site-1.door-1.events");
        assert_eq!(topic_of(&subject_of(topic)), topic);
    }
}
