//! The embedded rumqttd broker, run in its own threads. Its external auth hook admits devices
//! (username = device id, password = device token, checked against the stored hash) and the
//! cloud's own client (a random per-process service secret). rumqttd has no shutdown: its
//! threads live until the process exits, but once the cloud stops the hook refuses everyone.

use std::{
    collections::HashMap,
    net::{SocketAddr, TcpListener},
};

use rumqttd::{Broker, Config, ConnectionSettings, RouterConfig, ServerSettings};
use tokio::sync::{mpsc, oneshot};

use crate::error::CloudError;

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

/// Picks the address to listen on: port 0 becomes a free port; a taken port (another broker
/// on 1883, say) falls back to a free port with a warning.
fn choose_addr(wanted: SocketAddr) -> Result<SocketAddr, CloudError> {
    let probe = |addr: SocketAddr| TcpListener::bind(addr).and_then(|l| l.local_addr());
    match probe(wanted) {
        Ok(addr) => Ok(addr),
        Err(err) if wanted.port() != 0 && err.kind() == std::io::ErrorKind::AddrInUse => {
            let fallback = probe(SocketAddr::new(wanted.ip(), 0))
                .map_err(|e| CloudError::Broker(format!("no free port on {}: {e}", wanted.ip())))?;
            tracing::warn!(
                wanted = %wanted,
                using = %fallback,
                "MQTT port is taken (another broker?); the embedded broker listens on a free port \
                 instead. Set GERBANG_MQTT_ADDR or GERBANG_MQTT_URL to choose."
            );
            Ok(fallback)
        }
        Err(err) => Err(CloudError::Broker(format!(
            "cannot listen on {wanted}: {err}"
        ))),
    }
}

/// Starts the broker and returns the address it really listens on.
pub fn start_embedded(
    wanted: SocketAddr,
    auth: mpsc::Sender<AuthRequest>,
) -> Result<SocketAddr, CloudError> {
    let addr = choose_addr(wanted)?;
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
        listen: addr,
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
    // The broker binds in its own thread. No probe connection here (rumqttd logs every
    // connection that sends no CONNECT as an error): the cloud's own client retries until
    // the broker accepts it, and start-up fails if that takes too long.
    tracing::info!(%addr, "Embedded MQTT broker listening.");
    Ok(addr)
}
