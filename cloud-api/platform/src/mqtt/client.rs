//! The cloud's own MQTT client and its event loop: subscribes (again after every reconnect),
//! hands event frames to the ingest batcher and state/ack frames to their handlers.

use std::{
    path::Path,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::Duration,
};

use axum::body::Bytes;
use protocol::{Channel, Topic};
use rumqttc::{
    AsyncClient, Event, EventLoop, MqttOptions, Packet, QoS, SubscribeFilter, Transport,
};
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use crate::{
    start_error::CloudError,
    {commands, devices, ingest::IncomingFrame, state::AppState},
};

/// How the cloud reaches the devices' broker: its own MQTT client, or a NATS client when
/// the devices' MQTT is served by a NATS cluster (`[nats]`).
#[derive(Debug, Clone)]
pub enum BrokerLink {
    Mqtt(AsyncClient),
    Nats(async_nats::Client),
}

/// A message could not be handed to the broker.
#[derive(Debug, thiserror::Error)]
#[error("publishing to the broker failed: {0}")]
pub struct PublishError(String);

/// The cloud's client and what the rest of the platform needs to know about it.
#[derive(Debug)]
pub struct MqttHandle {
    pub link: BrokerLink,
    pub connected: Arc<AtomicBool>,
    /// An external broker (shared subscriptions or a NATS cluster, several replicas) rather
    /// than the embedded one.
    pub external: bool,
    /// The shared-subscription group used with an external broker.
    pub share_group: String,
    /// Mosquitto's dynamic-security plugin, when the cloud keeps the doors' logins there
    /// (`mqtt.dynamic_security`).
    pub dynsec: Option<super::dynsec::DynamicSecurity>,
}

impl MqttHandle {
    pub fn is_connected(&self) -> bool {
        match &self.link {
            BrokerLink::Mqtt(_) => self.connected.load(Ordering::Relaxed),
            BrokerLink::Nats(client) => {
                client.connection_state() == async_nats::connection::State::Connected
            }
        }
    }

    /// Publishes a sealed frame to a device topic (QoS 1 over MQTT). Through NATS the
    /// subject is the topic with `/` as `.`, which the NATS MQTT listener delivers to the
    /// device's subscription; `retain` has no NATS equivalent, and the devices do not need
    /// it there: a device checks its gallery after every reconnection.
    pub async fn publish(
        &self,
        topic: String,
        retain: bool,
        frame: Vec<u8>,
    ) -> Result<(), PublishError> {
        match &self.link {
            BrokerLink::Mqtt(client) => client
                .publish(topic, QoS::AtLeastOnce, retain, frame)
                .await
                .map_err(|e| PublishError(e.to_string())),
            BrokerLink::Nats(client) => client
                .publish(super::nats::subject_of(&topic), frame.into())
                .await
                .map_err(|e| PublishError(e.to_string())),
        }
    }
}

/// `mqtt://host:port` or `mqtts://host:port`, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerUrl {
    pub tls: bool,
    pub host: String,
    pub port: u16,
}

pub fn parse_url(url: &str) -> Result<BrokerUrl, CloudError> {
    let bad = |why: &str| CloudError::Config(format!("MQTT URL {url:?}: {why}"));
    let (tls, rest) = if let Some(rest) = url.strip_prefix("mqtts://") {
        (true, rest)
    } else if let Some(rest) = url.strip_prefix("mqtt://") {
        (false, rest)
    } else if url.contains("://") {
        return Err(bad("scheme must be mqtt:// or mqtts://"));
    } else {
        (false, url)
    };
    let rest = rest.trim_end_matches('/');
    if rest.contains('@') {
        return Err(bad(
            "put credentials in GERBANG_MQTT_USERNAME/PASSWORD, not in the URL",
        ));
    }
    let (host, port) = match rest.rsplit_once(':') {
        Some((host, port)) => (host, port.parse().map_err(|_| bad("invalid port"))?),
        None => (rest, if tls { 8883 } else { 1883 }),
    };
    if host.is_empty() {
        return Err(bad("missing host"));
    }
    Ok(BrokerUrl {
        tls,
        host: host.trim_matches(['[', ']']).to_owned(),
        port,
    })
}

fn tls_transport(ca_file: Option<&Path>) -> Result<Transport, CloudError> {
    let path = ca_file.unwrap_or(Path::new("/etc/ssl/certs/ca-certificates.crt"));
    let pem = std::fs::read(path)
        .map_err(|e| CloudError::Config(format!("reading MQTT CA file {}: {e}", path.display())))?;
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_pemfile::certs(&mut pem.as_slice()) {
        let cert = cert.map_err(|e| CloudError::Config(format!("MQTT CA file: {e}")))?;
        roots
            .add(cert)
            .map_err(|e| CloudError::Config(format!("MQTT CA certificate: {e}")))?;
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| CloudError::Config(format!("TLS: {e}")))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(Transport::Tls(rumqttc::TlsConfiguration::Rustls(Arc::new(
        config,
    ))))
}

/// Builds the client; nothing connects until the event loop is polled.
pub fn connect(
    url: &BrokerUrl,
    client_id: &str,
    credentials: Option<(&str, &str)>,
    ca_file: Option<&Path>,
) -> Result<(AsyncClient, EventLoop), CloudError> {
    let mut options = MqttOptions::new(client_id, url.host.clone(), url.port);
    options
        .set_keep_alive(Duration::from_secs(30))
        .set_clean_session(true)
        .set_max_packet_size(4 * protocol::MAX_FRAME_BYTES, 4 * protocol::MAX_FRAME_BYTES)
        .set_inflight(1000)
        .set_request_channel_capacity(10_000);
    if let Some((user, pass)) = credentials {
        options.set_credentials(user, pass);
    }
    if url.tls {
        options.set_transport(tls_transport(ca_file)?);
    }
    // Nagle stays on here (unlike the edge's client): with TCP_NODELAY on this side too the
    // sync bench's idle edge → cloud latency got worse (p50 10 → 27 ms), not better.
    Ok(AsyncClient::new(options, 10_000))
}

fn filters(external: bool, group: &str, dynsec: bool) -> Vec<SubscribeFilter> {
    let shared = |channel: Channel| {
        if external {
            format!("$share/{group}/{}", channel.filter_all())
        } else {
            channel.filter_all()
        }
    };
    let mut filters = vec![
        SubscribeFilter::new(shared(Channel::Events), QoS::AtLeastOnce),
        SubscribeFilter::new(shared(Channel::Acks), QoS::AtLeastOnce),
        // Retained messages are not delivered to shared subscriptions, and every replica
        // may apply a state message (it is idempotent), so state is subscribed plainly.
        SubscribeFilter::new(Channel::State.filter_all(), QoS::AtLeastOnce),
    ];
    if dynsec {
        // Every replica hears every answer; each waits for its own.
        filters.push(SubscribeFilter::new(
            super::dynsec::RESPONSE_TOPIC.to_owned(),
            QoS::AtMostOnce,
        ));
    }
    filters
}

/// Polls the event loop until `stop`; `subscribed` turns true once the broker acknowledged
/// the subscriptions (and false while disconnected).
pub async fn run_loop(
    platform: AppState,
    mut eventloop: EventLoop,
    frames: mpsc::Sender<IncomingFrame>,
    subscribed: watch::Sender<bool>,
    stop: CancellationToken,
) {
    let (control_tx, mut control_rx) = mpsc::channel::<(Topic, Bytes)>(10_000);
    let control_platform = platform.clone();
    // State and acks are handled in order on their own task, so a slow database never
    // stalls the broker connection.
    let control = tokio::spawn(async move {
        while let Some((topic, payload)) = control_rx.recv().await {
            match topic.channel {
                Channel::State => devices::handle_state(&control_platform, &topic, &payload).await,
                Channel::Acks => commands::handle_ack(&control_platform, &topic, &payload).await,
                _ => {}
            }
        }
    });
    let connected = platform.mqtt.connected.clone();
    let external = platform.mqtt.external;
    loop {
        let event = tokio::select! {
            _ = stop.cancelled() => break,
            event = eventloop.poll() => event,
        };
        match event {
            Ok(Event::Incoming(Packet::ConnAck(_))) => {
                connected.store(true, Ordering::Relaxed);
                tracing::info!("Connected to the MQTT broker.");
                let BrokerLink::Mqtt(client) = platform.mqtt.link.clone() else {
                    break;
                };
                let filters = filters(
                    external,
                    &platform.mqtt.share_group,
                    platform.mqtt.dynsec.is_some(),
                );
                tokio::spawn(async move {
                    if let Err(err) = client.subscribe_many(filters).await {
                        tracing::error!(error = %err, "Could not subscribe.");
                    }
                });
            }
            Ok(Event::Incoming(Packet::SubAck(ack))) => {
                let refused = ack
                    .return_codes
                    .iter()
                    .filter(|c| matches!(c, rumqttc::SubscribeReasonCode::Failure))
                    .count();
                if refused > 0 {
                    tracing::error!(
                        refused,
                        "The broker refused some subscriptions (the cloud's MQTT user needs the \
                         rights docs/SCALING.md lists)."
                    );
                } else {
                    let _ = subscribed.send(true);
                }
            }
            Ok(Event::Incoming(Packet::Publish(publish))) => {
                dispatch(&platform, publish, &frames, &control_tx).await;
            }
            Ok(_) => {}
            Err(err) => {
                if connected.swap(false, Ordering::Relaxed) {
                    tracing::warn!(error = %err, "MQTT connection lost; reconnecting.");
                } else {
                    tracing::debug!(error = %err, "MQTT connection attempt failed.");
                }
                let _ = subscribed.send(false);
                tokio::select! {
                    _ = stop.cancelled() => break,
                    _ = tokio::time::sleep(Duration::from_millis(200)) => {}
                }
            }
        }
    }
    // Say goodbye so the broker does not keep the session, then let the request drain.
    if let BrokerLink::Mqtt(client) = &platform.mqtt.link {
        let _ = client.try_disconnect();
    }
    let _ = tokio::time::timeout(Duration::from_millis(500), async {
        while let Ok(event) = eventloop.poll().await {
            if matches!(event, Event::Outgoing(rumqttc::Outgoing::Disconnect)) {
                break;
            }
        }
    })
    .await;
    connected.store(false, Ordering::Relaxed);
    drop(control_tx);
    let _ = control.await;
}

async fn dispatch(
    platform: &AppState,
    publish: rumqttc::Publish,
    frames: &mpsc::Sender<IncomingFrame>,
    control: &mpsc::Sender<(Topic, Bytes)>,
) {
    if let Some(dynsec) = &platform.mqtt.dynsec {
        if publish.topic == super::dynsec::RESPONSE_TOPIC {
            dynsec.answered(&publish.payload);
            return;
        }
    }
    let topic = match Topic::parse(&publish.topic) {
        Ok(topic) => topic,
        Err(err) => {
            platform.metrics.rejected("bad_topic");
            tracing::warn!(error = %err, "Message on an unexpected topic dropped.");
            return;
        }
    };
    match topic.channel {
        Channel::Events => {
            let frame = IncomingFrame {
                topic: publish.topic,
                payload: publish.payload,
                delivery: None,
            };
            if frames.send(frame).await.is_err() {
                tracing::debug!("Ingest is stopping; event frame left for redelivery.");
            }
        }
        Channel::State | Channel::Acks => {
            let queued = control.try_send((topic, publish.payload));
            if queued.is_err() {
                tracing::warn!("State/ack queue full; message dropped.");
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_broker_urls() {
        let url = |tls, host: &str, port| BrokerUrl {
            tls,
            host: host.into(),
            port,
        };
        assert_eq!(
            parse_url("mqtt://127.0.0.1:1883").expect("parses"),
            url(false, "127.0.0.1", 1883)
        );
        assert_eq!(
            parse_url("mqtts://broker.example").expect("parses"),
            url(true, "broker.example", 8883)
        );
        assert_eq!(
            parse_url("mqtt://broker/").expect("parses"),
            url(false, "broker", 1883)
        );
        assert_eq!(
            parse_url("127.0.0.1:1884").expect("parses"),
            url(false, "127.0.0.1", 1884)
        );
        assert_eq!(
            parse_url("mqtt://[::1]:1883").expect("parses"),
            url(false, "::1", 1883)
        );
        for bad in [
            "http://x:1",
            "mqtt://u:p@x:1",
            "mqtt://:1883",
            "mqtt://x:port",
        ] {
            assert!(parse_url(bad).is_err(), "{bad}");
        }
    }
}
