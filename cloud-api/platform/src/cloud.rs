//! Starting and stopping the whole cloud: database and migrations, secrets, the first admin,
//! the HTTP listener, the embedded broker (or an external one), the MQTT loop and ingest.

use std::{
    net::SocketAddr,
    sync::{atomic::AtomicBool, Arc},
    time::Duration,
};

use protocol::{
    sync::{EnrollRequest, EnrollResponse},
    DeviceId, PublicKey, SiteId,
};
use sea_orm::DatabaseConnection;
use tokio::{net::TcpListener, sync::mpsc, task::JoinHandle};
use tokio_util::sync::CancellationToken;

use axum::Router;
use utoipa::OpenApi;

use crate::{
    config::{redact_url, CloudConfig},
    domain::{DomainSet, DomainStates, PrepareContext, RoleCatalog},
    openapi,
    start_error::CloudError,
    {
        clock::Clock,
        commands::PendingCommands,
        db,
        devices::{self, DeviceCache, EnrollmentCode},
        http,
        identity::{ensure_first_admin, google::GoogleVerifier, JwtKeys, SessionEpochs},
        ingest,
        metrics::Metrics,
        mqtt::{self, AuthRequest, BrokerLink, BrokerUrl, MqttHandle, SERVICE_USER},
        realtime::Realtime,
        replicas::Replicas,
        secrets::{self, constant_time_eq, random_bytes},
        security::RateLimits,
        state::{AppState, Platform},
    },
};

/// How long start-up waits for the broker to acknowledge the cloud's subscriptions.
const SUBSCRIBE_TIMEOUT: Duration = Duration::from_secs(15);

/// Where device messages come from: the MQTT client's event loop, or NATS JetStream.
enum DeviceFeed {
    Mqtt(Box<rumqttc::EventLoop>),
    Nats(async_nats::Client),
}

/// A running cloud. Dropping it does not stop it: cancel the token given to [`start`], then
/// await [`Cloud::stopped`].
#[derive(Debug)]
pub struct Cloud {
    platform: AppState,
    http_addr: SocketAddr,
    supervisor: JoinHandle<()>,
}

impl Cloud {
    /// The address the HTTP API really listens on (port 0 resolved).
    pub fn http_addr(&self) -> SocketAddr {
        self.http_addr
    }

    /// `http://{http_addr}` unless `public_url` was configured.
    pub fn public_url(&self) -> &str {
        &self.platform.public_url
    }

    /// The broker URL devices should use (told to them at enrolment).
    pub fn mqtt_url(&self) -> &str {
        &self.platform.device_mqtt_url
    }

    /// The key devices verify commands and receipts with.
    pub fn public_key(&self) -> PublicKey {
        self.platform.cloud_key.public()
    }

    /// The platform core (services, database, metrics), for benches and in-process tools.
    #[doc(hidden)]
    pub fn platform(&self) -> &AppState {
        &self.platform
    }

    /// The database, for tests and tools in the same process.
    pub fn database(&self) -> &DatabaseConnection {
        &self.platform.db
    }

    /// Registers a device and returns its one-time enrolment code (as `POST /api/devices`).
    pub async fn create_device(
        &self,
        site: &SiteId,
        device: &DeviceId,
        name: &str,
    ) -> Result<EnrollmentCode, CloudError> {
        Ok(devices::create_device(&self.platform, site, device, name).await?)
    }

    /// Trades a code for credentials (as `POST /api/device/enroll`), for in-process devices.
    pub async fn enroll(&self, request: &EnrollRequest) -> Result<EnrollResponse, CloudError> {
        Ok(devices::enroll(&self.platform, request).await?)
    }

    /// Resolves once everything has shut down cleanly after the shutdown token was cancelled.
    pub async fn stopped(self) {
        let _ = self.supervisor.await;
    }
}

/// Starts the cloud with the domains `D` and the dashboard `shell` (routes the assembly
/// serves beside the domains'); returns once it serves HTTP and its MQTT subscriptions are
/// in place.
pub async fn start<D: DomainSet>(
    config: CloudConfig,
    shell: Router<AppState>,
    shutdown: CancellationToken,
) -> Result<Cloud, CloudError> {
    let domains = D::domains();
    let roles = RoleCatalog::new(&domains);
    let database_url = config.effective_database_url();
    if config.database_url.is_none() {
        std::fs::create_dir_all(&config.data_dir).map_err(|e| {
            CloudError::Config(format!(
                "creating data dir {}: {e}",
                config.data_dir.display()
            ))
        })?;
    }
    tracing::info!(database = %redact_url(&database_url), "Opening the database.");
    let db = db::open(&database_url)
        .await
        .map_err(|source| CloudError::Database {
            context: "connecting",
            source,
        })?;
    // Until the domains are prepared and the first admin exists: one replica at a time.
    let startup = db::StartupLock::acquire(&db)
        .await
        .map_err(|source| CloudError::Database {
            context: "waiting for the replicas starting alongside",
            source,
        })?;
    db::migrate::<D>(&db)
        .await
        .map_err(|source| CloudError::Database {
            context: "migrating",
            source,
        })?;
    if config.database_url.is_none() {
        restrict_permissions(&config.data_dir.join("gerbang.db"));
    }
    let cloud_key = secrets::cloud_keypair(&db).await?;
    let jwt_secret = secrets::jwt_secret(&db).await?;
    let jwt = JwtKeys::with_ttl(
        &jwt_secret,
        Duration::from_secs(config.security.access_token_ttl_secs),
    );
    let mut states = DomainStates::default();
    let context = PrepareContext {
        config: &config,
        db: &db,
        jwt_secret: &jwt_secret,
    };
    for domain in &domains {
        domain.prepare(&context, &mut states).await?;
    }
    if let (Some(email), Some(password)) = (&config.admin_email, &config.admin_password) {
        ensure_first_admin(&db, &roles, email, password).await?;
    }
    startup.release().await;
    let projectors = domains.iter().filter_map(|d| d.projector()).collect();
    let personal_data = domains
        .iter()
        .filter_map(|d| d.personal_data().map(|data| (d.name(), data)))
        .collect();
    let mut retention = crate::retention::platform_policies();
    retention.extend(domains.iter().flat_map(|d| d.retention()));

    let http_limits = config.http_limits;
    let listener = TcpListener::bind(config.http_addr)
        .await
        .map_err(|source| CloudError::Bind {
            addr: config.http_addr,
            source,
        })?;
    let http_addr = listener.local_addr().map_err(|source| CloudError::Bind {
        addr: config.http_addr,
        source,
    })?;
    let public_url = config
        .public_url
        .clone()
        .map(|u| u.trim_end_matches('/').to_owned())
        .unwrap_or_else(|| format!("http://{http_addr}"));

    // The broker: a NATS cluster or an external MQTT broker when configured, else embedded
    // with our auth hook.
    let service_secret = hex::encode(random_bytes::<32>());
    let (auth_tx, auth_rx) = mpsc::channel::<AuthRequest>(1024);
    let mut embedded = None;
    let client_id = format!("gerbang-cloud-{}", uuid::Uuid::new_v4().simple());
    if config.nats.url.is_some() && config.mqtt.public_url.is_none() {
        return Err(CloudError::Config(
            "with [nats], set mqtt.public_url to the NATS MQTT listener the devices use".into(),
        ));
    }
    if config.mqtt.dynamic_security && (config.mqtt.url.is_none() || config.nats.url.is_some()) {
        return Err(CloudError::Config(
            "mqtt.dynamic_security needs mqtt.url: an external Mosquitto with its \
             dynamic-security plugin (and no [nats])"
                .into(),
        ));
    }
    let (broker_url, credentials, device_mqtt_url) = match &config.mqtt.url {
        Some(url) => {
            let parsed = mqtt::parse_url(url)?;
            let creds = config
                .mqtt
                .username
                .clone()
                .zip(config.mqtt.password.clone());
            (parsed, creds, url.clone())
        }
        None if config.nats.url.is_some() => {
            // Unused: the NATS loop replaces the MQTT client.
            let url = config.mqtt.public_url.clone().unwrap_or_default();
            (mqtt::parse_url(&url)?, None, url)
        }
        None => {
            let broker = mqtt::start_embedded(config.mqtt.addr, auth_tx).await?;
            let addr = broker.addr;
            // What devices are told: a wildcard listen address means "this host".
            let shown = if addr.ip().is_unspecified() {
                SocketAddr::from(([127, 0, 0, 1], addr.port()))
            } else {
                addr
            };
            // The cloud's own client goes straight to the broker, not through the relay.
            let url = BrokerUrl {
                tls: false,
                host: broker.internal.ip().to_string(),
                port: broker.internal.port(),
            };
            embedded = Some(broker);
            (
                url,
                Some((SERVICE_USER.to_owned(), service_secret.clone())),
                format!("mqtt://{shown}"),
            )
        }
    };
    let device_mqtt_url = config.mqtt.public_url.clone().unwrap_or(device_mqtt_url);
    // With an issuer seed, the replicas answer the NATS cluster's auth callout.
    let callout_issuer = mqtt::nats::CalloutIssuer::from_config(&config.nats)?;
    let (link, feed) = match config.nats.url {
        Some(_) => {
            let client = mqtt::nats::connect(&config.nats, &client_id).await?;
            (BrokerLink::Nats(client.clone()), DeviceFeed::Nats(client))
        }
        None => {
            let (client, eventloop) = mqtt::connect(
                &broker_url,
                &client_id,
                credentials.as_ref().map(|(u, p)| (u.as_str(), p.as_str())),
                config.mqtt.ca_file.as_deref(),
            )?;
            (
                BrokerLink::Mqtt(client),
                DeviceFeed::Mqtt(Box::new(eventloop)),
            )
        }
    };
    let dynsec = match &link {
        BrokerLink::Mqtt(client) if config.mqtt.dynamic_security => {
            Some(mqtt::dynsec::DynamicSecurity::new(client.clone()))
        }
        _ => None,
    };
    let external = config.mqtt.url.is_some() || config.nats.url.is_some();
    tracing::info!(
        http = %http_addr,
        mqtt = %device_mqtt_url,
        broker = match (&link, external) {
            (BrokerLink::Nats(_), _) => "nats",
            (_, true) => "external",
            _ => "embedded",
        },
        "Cloud starting."
    );

    let share_group = config.mqtt.share_group.clone();
    let clock = Arc::new(Clock::default());
    let sessions = Arc::new(SessionEpochs::new(db.clone()));
    let (realtime_layer, realtime) = Realtime::build(
        jwt.clone(),
        clock.clone(),
        sessions.clone(),
        config
            .redis_url
            .as_deref()
            .map(|url| (url, config.redis_namespace.as_str())),
    )
    .await
    .map_err(|e| CloudError::Config(format!("redis_url (Socket.IO adapter): {e}")))?;
    let replicas = match &config.redis_url {
        Some(url) => Replicas::connect(url, &config.redis_namespace)
            .await
            .map_err(|e| CloudError::Config(format!("redis_url: {e}")))?,
        None => Replicas::alone(),
    };
    let limits = RateLimits::new(&config.security, replicas.clone());
    let google = GoogleVerifier::new(config.google.clone());
    let platform: AppState = Arc::new(Platform {
        config,
        db,
        cloud_key,
        jwt,
        sessions,
        metrics: Metrics::default(),
        devices: DeviceCache::default(),
        mqtt: MqttHandle {
            link,
            connected: Arc::new(AtomicBool::new(false)),
            external,
            share_group,
            dynsec,
        },
        commands: PendingCommands::default(),
        public_url,
        device_mqtt_url,
        running: AtomicBool::new(true),
        clock,
        limits,
        replicas,
        google,
        realtime,
        roles,
        projectors,
        personal_data,
        retention,
        domains: states,
    });
    for domain in &domains {
        domain.spawn(&platform, &shutdown);
    }
    platform
        .replicas
        .spawn_listener(platform.clone(), shutdown.clone());
    crate::retention::spawn(platform.clone(), shutdown.clone());

    let inner = shutdown.child_token();
    let mqtt_stop = CancellationToken::new();
    let auth_task = tokio::spawn(answer_auth(
        platform.clone(),
        auth_rx,
        service_secret,
        inner.clone(),
    ));
    let (frames_tx, frames_rx) = mpsc::channel(20_000);
    let batcher = tokio::spawn(ingest::run_batcher(
        platform.clone(),
        frames_rx,
        inner.clone(),
    ));
    let (subscribed_tx, mut subscribed_rx) = tokio::sync::watch::channel(false);
    let callouts = match (&feed, callout_issuer) {
        (DeviceFeed::Nats(client), Some(issuer)) => Some(tokio::spawn(mqtt::nats::serve_callouts(
            platform.clone(),
            client.clone(),
            issuer,
            mqtt_stop.clone(),
        ))),
        _ => None,
    };
    let mqtt_loop = match feed {
        DeviceFeed::Mqtt(eventloop) => tokio::spawn(mqtt::run_loop(
            platform.clone(),
            *eventloop,
            frames_tx,
            subscribed_tx,
            mqtt_stop.clone(),
        )),
        DeviceFeed::Nats(client) => tokio::spawn(mqtt::nats::run_loop(
            platform.clone(),
            client,
            platform.config.nats.clone(),
            frames_tx,
            subscribed_tx,
            mqtt_stop.clone(),
        )),
    };
    let relay = embedded.map(|broker| tokio::spawn(broker.serve(mqtt_stop.clone())));
    let mut routes = shell;
    let mut doc = openapi::ApiDoc::openapi();
    for domain in &domains {
        routes = routes.merge(domain.router());
        doc.merge(domain.openapi());
    }
    let app = http::app(platform.clone(), realtime_layer, routes, doc);
    let http_stop = inner.clone();
    let realtime_stop = platform.realtime.clone();
    let server = tokio::spawn(async move {
        let result = http_serve::serve(listener, app, http_limits, async move {
            http_stop.cancelled().await;
            // Socket.IO connections would hold graceful shutdown open.
            realtime_stop.close().await;
        })
        .await;
        if let Err(err) = result {
            tracing::error!(error = %err, "HTTP server failed.");
        }
    });

    let supervisor_platform = platform.clone();
    let supervisor_inner = inner.clone();
    let supervisor = tokio::spawn(async move {
        supervisor_inner.cancelled().await;
        tracing::info!("Cloud shutting down.");
        let _ = server.await;
        // Ingest drains its queue and publishes its receipts before MQTT disconnects.
        let _ = batcher.await;
        mqtt_stop.cancel();
        let _ = mqtt_loop.await;
        if let Some(callouts) = callouts {
            let _ = callouts.await;
        }
        if let Some(relay) = relay {
            let _ = relay.await;
        }
        let _ = auth_task.await;
        supervisor_platform
            .running
            .store(false, std::sync::atomic::Ordering::Relaxed);
        supervisor_platform.db.clone().close().await.ok();
        tracing::info!("Cloud stopped.");
    });

    let ready = tokio::time::timeout(SUBSCRIBE_TIMEOUT, subscribed_rx.wait_for(|s| *s)).await;
    if !matches!(ready, Ok(Ok(_))) {
        inner.cancel();
        let _ = supervisor.await;
        return Err(CloudError::Broker(format!(
            "could not connect and subscribe to {} within {} s",
            broker_url.host,
            SUBSCRIBE_TIMEOUT.as_secs()
        )));
    }
    tracing::info!(http = %http_addr, "Cloud ready.");
    Ok(Cloud {
        platform,
        http_addr,
        supervisor,
    })
}

/// Judges connection attempts to the embedded broker until shutdown.
async fn answer_auth(
    platform: AppState,
    mut requests: mpsc::Receiver<AuthRequest>,
    service_secret: String,
    stop: CancellationToken,
) {
    let service_secret = Arc::new(service_secret);
    loop {
        let request = tokio::select! {
            _ = stop.cancelled() => return,
            request = requests.recv() => match request {
                Some(request) => request,
                None => return,
            },
        };
        let platform = platform.clone();
        let service_secret = service_secret.clone();
        tokio::spawn(async move {
            let ok = if request.username == SERVICE_USER {
                constant_time_eq(&request.password, &service_secret)
            } else {
                devices::device_from_mqtt_credentials(
                    &platform,
                    &request.username,
                    &request.password,
                )
                .await
                .is_some()
            };
            if !ok {
                tracing::warn!(
                    client_id = %request.client_id.chars().take(64).collect::<String>(),
                    username = %request.username.chars().take(64).collect::<String>(),
                    "MQTT connection refused: bad credentials."
                );
            }
            let _ = request.reply.send(ok);
        });
    }
}

#[cfg(unix)]
fn restrict_permissions(path: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Err(err) = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)) {
        tracing::warn!(path = %path.display(), error = %err, "Could not restrict database file permissions.");
    }
}

#[cfg(not(unix))]
fn restrict_permissions(_path: &std::path::Path) {}
