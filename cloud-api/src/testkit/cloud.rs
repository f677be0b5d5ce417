//! A whole cloud for one test: fresh database, temp data dir, HTTP and embedded broker on
//! port 0 (or an external broker), a known admin; or several replicas of it on one database.

use std::sync::Arc;

use protocol::{sync::EnrollRequest, DeviceId, SiteId};
use tempfile::TempDir;
use tokio_util::sync::CancellationToken;

use super::{Backend, BrokerKind, SimDevice, TestDb};
use crate::{Cloud, CloudConfig};

pub const ADMIN_EMAIL: &str = "admin@gerbang.test";
pub const ADMIN_PASSWORD: &str = "rahasia-admin-123";

/// A running cloud that stops (and whose database is dropped) when this is dropped.
#[derive(Debug)]
pub struct TestCloud {
    cloud: Option<Cloud>,
    shutdown: CancellationToken,
    pub backend: Backend,
    pub broker: BrokerKind,
    pub admin_email: String,
    pub admin_password: String,
    // Dropped last: the cloud must stop before its database disappears (replicas share it;
    // the last one to go drops it).
    data_dir: TempDir,
    db: Arc<TestDb>,
}

impl TestCloud {
    pub async fn start(backend: Backend, broker: BrokerKind) -> TestCloud {
        Self::start_with(backend, broker, |_| {}).await
    }

    /// Like [`TestCloud::start`], letting the test adjust the configuration first.
    pub async fn start_with(
        backend: Backend,
        broker: BrokerKind,
        adjust: impl FnOnce(&mut CloudConfig),
    ) -> TestCloud {
        let db = TestDb::create(&backend).await;
        Self::start_on(db, backend, broker, adjust).await
    }

    /// Like [`TestCloud::start_with`], on a database the test prepared (a fixture).
    pub async fn start_on(
        db: TestDb,
        backend: Backend,
        broker: BrokerKind,
        adjust: impl FnOnce(&mut CloudConfig),
    ) -> TestCloud {
        Self::launch(Arc::new(db), backend, broker, adjust).await
    }

    /// `n` replicas of one cloud on one fresh database, started at the same moment as a
    /// deployment's would be: each has its own HTTP port, data directory and (embedded)
    /// broker; they share the database and whatever `adjust` points them at.
    pub async fn start_replicas(
        n: usize,
        backend: Backend,
        broker: BrokerKind,
        adjust: impl Fn(&mut CloudConfig),
    ) -> Vec<TestCloud> {
        let db = Arc::new(TestDb::create(&backend).await);
        futures::future::join_all(
            (0..n).map(|_| Self::launch(db.clone(), backend.clone(), broker.clone(), &adjust)),
        )
        .await
    }

    async fn launch(
        db: Arc<TestDb>,
        backend: Backend,
        broker: BrokerKind,
        adjust: impl FnOnce(&mut CloudConfig),
    ) -> TestCloud {
        super::init_tracing();
        let data_dir = tempfile::tempdir().expect("temp dir");
        let mut config = CloudConfig {
            data_dir: data_dir.path().to_path_buf(),
            http_addr: "127.0.0.1:0".parse().expect("addr"),
            database_url: Some(db.url.clone()),
            admin_email: Some(ADMIN_EMAIL.into()),
            admin_password: Some(ADMIN_PASSWORD.into()),
            command_timeout_secs: 3,
            ..CloudConfig::default()
        };
        config.mqtt.addr = "127.0.0.1:0".parse().expect("addr");
        // Tests share the machine's Redis: the replicas of one test (one database) share a
        // namespace, and no two tests (or runs) share one.
        config.redis_namespace = format!(
            "gerbang-t-{}",
            &platform::secrets::sha256_hex(db.url.as_bytes())[..16]
        );
        if let BrokerKind::Mosquitto { addr } = &broker {
            config.mqtt.url = Some(format!("mqtt://{addr}"));
            // Other tests' clouds share the broker: a group of our own keeps our events ours.
            config.mqtt.share_group = format!("gerbang-t-{}", uuid::Uuid::new_v4().simple());
        }
        adjust(&mut config);
        let admin_email = config.admin_email.clone().unwrap_or_default();
        let admin_password = config.admin_password.clone().unwrap_or_default();
        let shutdown = CancellationToken::new();
        let cloud = crate::start(config, shutdown.clone())
            .await
            .expect("cloud starts");
        TestCloud {
            cloud: Some(cloud),
            shutdown,
            backend,
            broker,
            admin_email,
            admin_password,
            data_dir,
            db,
        }
    }

    pub fn cloud(&self) -> &Cloud {
        self.cloud.as_ref().expect("cloud is running")
    }

    /// `http://127.0.0.1:PORT{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.cloud().http_addr())
    }

    pub fn database_url(&self) -> &str {
        &self.db.url
    }

    /// The cloud's data directory (the object store's files).
    pub fn data_dir(&self) -> &std::path::Path {
        self.data_dir.path()
    }

    /// Registers and enrols a device in-process; the returned device holds its credentials.
    pub async fn enroll_device(&self, site: &SiteId, device: &str) -> SimDevice {
        let device = DeviceId::parse(device).expect("valid device id");
        let code = self
            .cloud()
            .create_device(site, &device, "Pintu uji")
            .await
            .expect("create");
        let keypair = protocol::Keypair::generate();
        let response = self
            .cloud()
            .enroll(&EnrollRequest {
                code: code.code,
                public_key: keypair.public(),
                firmware: "test".into(),
            })
            .await
            .expect("enrol");
        SimDevice::new(keypair, response)
    }

    /// Stops the cloud and waits for a clean shutdown.
    pub async fn stop(mut self) {
        self.halt().await;
    }

    /// Stops the cloud and waits for a clean shutdown, keeping its database and data
    /// directory until this is dropped (to look at what it left).
    pub async fn halt(&mut self) {
        self.shutdown.cancel();
        if let Some(cloud) = self.cloud.take() {
            cloud.stopped().await;
        }
    }
}

impl Drop for TestCloud {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}
