//! The embedded rumqttd broker. rumqttd cannot be stopped (its threads live until the process
//! exits), so it listens on an internal loopback port known only to this process, and devices
//! reach it through a front listener the cloud owns: stopping the cloud closes that listener
//! and cuts every device connection, so a stopped cloud really is gone and its port is free
//! for the next start. The broker's external auth hook admits devices (username = device id,
//! password = device token, checked against the stored hash) and the cloud's own client (a
//! random per-process service secret); once the cloud stops the hook refuses everyone.

use std::{collections::HashMap, net::SocketAddr, time::Duration};

use rumqttd::{Broker, Config, ConnectionSettings, RouterConfig, ServerSettings};
use tokio::{
    net::{TcpListener, TcpStream},
    sync::{mpsc, oneshot},
    task::JoinSet,
};
use tokio_util::sync::CancellationToken;

use crate::start_error::CloudError;

/// The username of the cloud's own client.
pub const SERVICE_USER: &str = "gerbang-cloud";

/// A connection attempt the broker asks the cloud to judge.
#[derive(Debug)]
pub struct AuthRequest {
    pub client_id: String,
    pub username: String,
    pub password: String,
    pub reply: oneshot::Sender<bool>,
}

/// A started embedded broker: where devices connect, and where the cloud's client connects.
#[derive(Debug)]
pub struct EmbeddedBroker {
    /// The front address devices use (port 0 resolved, or the fallback port).
    pub addr: SocketAddr,
    /// The broker's own loopback address.
    pub internal: SocketAddr,
    front: TcpListener,
}

/// Binds the front listener: a taken port (another broker on 1883, say) falls back to a free
/// port with a warning.
async fn bind_front(wanted: SocketAddr) -> Result<TcpListener, CloudError> {
    match TcpListener::bind(wanted).await {
        Ok(listener) => Ok(listener),
        Err(err) if wanted.port() != 0 && err.kind() == std::io::ErrorKind::AddrInUse => {
            let listener = TcpListener::bind(SocketAddr::new(wanted.ip(), 0))
                .await
                .map_err(|e| CloudError::Broker(format!("no free port on {}: {e}", wanted.ip())))?;
            tracing::warn!(
                wanted = %wanted,
                using = ?listener.local_addr().ok(),
                "MQTT port is taken (another broker?); the embedded broker listens on a free port \
                 instead. Set GERBANG_MQTT_ADDR or GERBANG_MQTT_URL to choose."
            );
            Ok(listener)
        }
        Err(err) => Err(CloudError::Broker(format!(
            "cannot listen on {wanted}: {err}"
        ))),
    }
}

/// Starts the broker (in its own threads) and binds its front listener.
pub async fn start_embedded(
    wanted: SocketAddr,
    auth: mpsc::Sender<AuthRequest>,
) -> Result<EmbeddedBroker, CloudError> {
    let front = bind_front(wanted).await?;
    let addr = front
        .local_addr()
        .map_err(|e| CloudError::Broker(e.to_string()))?;
    // rumqttd binds by itself and cannot report a port-0 choice: pick a free loopback port.
    let internal = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| CloudError::Broker(format!("no free loopback port: {e}")))?;
    let mut connections = ConnectionSettings {
        connection_timeout_ms: 60_000,
        max_payload_size: 2 * protocol::MAX_FRAME_BYTES,
        max_inflight_count: 500,
        auth: None,
        external_auth: None,
        dynamic_filters: true,
    };
    connections.set_auth_handler(move |client_id, username, password| {
        let auth = auth.clone();
        async move {
            let (reply, answer) = oneshot::channel();
            let request = AuthRequest {
                client_id,
                username,
                password,
                reply,
            };
            if auth.send(request).await.is_err() {
                return false;
            }
            answer.await.unwrap_or(false)
        }
    });
    let server = ServerSettings {
        name: "gerbang-v4".into(),
        listen: internal,
        tls: None,
        next_connection_delay_ms: 1,
        connections,
    };
    let config = Config {
        id: 0,
        router: RouterConfig {
            max_connections: 10_010,
            max_outgoing_packet_count: 200,
            max_segment_size: 16 * 1024 * 1024,
            max_segment_count: 4,
            ..RouterConfig::default()
        },
        v4: Some(HashMap::from([("1".to_owned(), server)])),
        ..Config::default()
    };
    std::thread::Builder::new()
        .name("gerbang-broker".into())
        .spawn(move || {
            let mut broker = Broker::new(config);
            if let Err(err) = broker.start() {
                tracing::error!(error = %err, "Embedded MQTT broker stopped.");
            }
        })
        .map_err(|e| CloudError::Broker(format!("cannot start the broker thread: {e}")))?;
    tracing::info!(%addr, "Embedded MQTT broker listening.");
    Ok(EmbeddedBroker {
        addr,
        internal,
        front,
    })
}

impl EmbeddedBroker {
    /// Relays device connections to the broker until `stop`, then closes the listener and
    /// every relayed connection.
    pub async fn serve(self, stop: CancellationToken) {
        let mut connections = JoinSet::new();
        loop {
            tokio::select! {
                _ = stop.cancelled() => break,
                accepted = self.front.accept() => match accepted {
                    Ok((stream, _peer)) => {
                        connections.spawn(relay(stream, self.internal));
                    }
                    Err(err) => {
                        tracing::warn!(error = %err, "Accepting an MQTT connection failed.");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                },
                Some(_) = connections.join_next(), if !connections.is_empty() => {}
            }
        }
        drop(self.front);
        connections.shutdown().await;
    }
}

async fn relay(mut device: TcpStream, broker: SocketAddr) {
    let mut upstream = None;
    // The broker thread may still be binding right after start.
    for _ in 0..100 {
        match TcpStream::connect(broker).await {
            Ok(stream) => {
                upstream = Some(stream);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
    let Some(mut upstream) = upstream else {
        tracing::error!(%broker, "The embedded broker is not accepting connections.");
        return;
    };
    // Commands and acks are small: never hold them back for coalescing.
    let _ = device.set_nodelay(true);
    let _ = upstream.set_nodelay(true);
    let _ = tokio::io::copy_bidirectional(&mut device, &mut upstream).await;
}
