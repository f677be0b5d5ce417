//! Test kit for end-to-end tests of this crate and of others (edge-daemon, gerbang): a fresh
//! database per test (SQLite temp file, or a new PostgreSQL database `gerbang_t_<uuid>`
//! dropped afterwards), a whole [`Cloud`](crate::Cloud) on port 0 with the embedded broker or
//! an external Mosquitto (or a NATS cluster of the test's own, [`nats`], or a Mosquitto of
//! its own with the dynamic-security plugin, [`mosquitto`]), a simulated device, and macros
//! that run one case on every backend.
//!
//! Environment: `GERBANG_TEST_POSTGRES` (admin URL, e.g.
//! `postgres://postgres@127.0.0.1:5432/postgres`), `GERBANG_TEST_MOSQUITTO` (e.g.
//! `127.0.0.1:1883`), `GERBANG_TEST_REQUIRE_SERVICES=1` (a missing service fails the test
//! instead of skipping it).

mod cloud;
mod database;
mod device;
pub mod fleet;
pub mod latency;
pub mod mosquitto;
pub mod nats;

pub use cloud::TestCloud;
pub use database::TestDb;
pub use device::SimDevice;

/// Which database a test runs on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    /// With the admin URL that creates and drops the per-test database.
    Postgres {
        admin_url: String,
    },
}

/// Which broker a test runs against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BrokerKind {
    Embedded,
    /// An external broker at `host:port` (anonymous), shared with other tests.
    Mosquitto {
        addr: String,
    },
}

fn required() -> bool {
    std::env::var("GERBANG_TEST_REQUIRE_SERVICES").is_ok_and(|v| v == "1")
}

/// The trimmed value of `var`, when set and not blank.
fn configured(var: &str) -> Option<String> {
    std::env::var(var)
        .ok()
        .map(|value| value.trim().to_owned())
        .filter(|value| !value.is_empty())
}

fn service_from_env(var: &str) -> Option<String> {
    let value = configured(var);
    if value.is_none() {
        if required() {
            panic!("GERBANG_TEST_REQUIRE_SERVICES=1 but {var} is not set");
        }
        eprintln!("skipped: {var} not set");
    }
    value
}

/// The service a test exists only to run on: a missing `var` fails the test (such tests are
/// `#[ignore]`d, and `cargo xtask test` filters them out by name where it is unreachable).
fn required_service(var: &str, what: &str) -> String {
    configured(var)
        .unwrap_or_else(|| panic!("this test needs {what}: set {var}, or run `cargo xtask test`"))
}

impl Backend {
    /// PostgreSQL from `GERBANG_TEST_POSTGRES`, or `None` (test skipped) when unset.
    pub fn postgres() -> Option<Backend> {
        service_from_env("GERBANG_TEST_POSTGRES").map(|admin_url| Backend::Postgres { admin_url })
    }

    /// PostgreSQL for a test that exists only to run on it: a missing
    /// `GERBANG_TEST_POSTGRES` fails the test (such tests are `#[ignore]`d, and `cargo xtask
    /// test` filters them out by name where no PostgreSQL is reachable).
    pub fn require_postgres() -> Backend {
        Backend::Postgres {
            admin_url: required_service("GERBANG_TEST_POSTGRES", "PostgreSQL"),
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres { .. } => "postgres",
        }
    }
}

impl BrokerKind {
    /// Mosquitto for a test that exists only to run on it (see [`Backend::require_postgres`]).
    pub fn require_mosquitto() -> BrokerKind {
        BrokerKind::Mosquitto {
            addr: required_service("GERBANG_TEST_MOSQUITTO", "Mosquitto"),
        }
    }

    /// Mosquitto from `GERBANG_TEST_MOSQUITTO`, or `None` (test skipped) when unset.
    pub fn mosquitto() -> Option<BrokerKind> {
        service_from_env("GERBANG_TEST_MOSQUITTO").map(|addr| BrokerKind::Mosquitto { addr })
    }
}

/// A free loopback port for a server the test starts (free when asked; the server binds it
/// moments later).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// Logs to the test's captured output; `RUST_LOG` overrides the default filter.
/// The roles tests may give users directly: every registered domain's, plus the meals
/// roles the realtime tests use for seed 003's rooms (whether or not that domain runs).
pub fn role_catalog() -> platform::domain::RoleCatalog {
    use platform::domain::DomainSet;
    platform::domain::RoleCatalog::new(&crate::Domains::domains())
        .with("meals", &["administrator", "employee", "dapur", "delivery"])
}

pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,cloud_api=info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_test_writer()
        .try_init();
}

/// A site id unique to this test run, so tests sharing a broker never see each other's
/// devices.
pub fn unique_site(prefix: &str) -> protocol::SiteId {
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    protocol::SiteId::parse(format!("{prefix}-{}", &suffix[..12])).expect("valid site id")
}

/// Redis for a test that exists only to run on it (`GERBANG_TEST_REDIS`, a `redis://` URL):
/// missing, the test fails (such tests are `#[ignore]`d, and `cargo xtask test` filters
/// them out by name where no Redis is reachable).
pub fn require_redis() -> String {
    required_service("GERBANG_TEST_REDIS", "Redis")
}

/// The S3-compatible endpoint of the object-store suites (`GERBANG_TEST_S3`, SeaweedFS).
pub fn require_s3() -> String {
    required_service("GERBANG_TEST_S3", "an S3-compatible store")
}

/// Turns `async fn case(backend: Backend)` into `case::sqlite` and `case::postgres` tests.
#[macro_export]
macro_rules! db_tests {
    ($($case:ident),+ $(,)?) => {$(
        mod $case {
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$case($crate::testkit::Backend::Sqlite).await
            }

            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[ignore = "needs PostgreSQL: `cargo xtask test` runs it where one is reachable"]
            async fn postgres() {
                super::$case($crate::testkit::Backend::require_postgres()).await
            }
        }
    )+};
}

/// Turns `async fn case(backend: Backend, broker: BrokerKind)` into four tests:
/// `{sqlite,postgres}_{embedded,mosquitto}`.
#[macro_export]
macro_rules! broker_tests {
    ($($case:ident),+ $(,)?) => {$(
        mod $case {
            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite_embedded() {
                super::$case($crate::testkit::Backend::Sqlite, $crate::testkit::BrokerKind::Embedded).await
            }

            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[ignore = "needs Mosquitto: `cargo xtask test` runs it where one is reachable"]
            async fn sqlite_mosquitto() {
                super::$case($crate::testkit::Backend::Sqlite, $crate::testkit::BrokerKind::require_mosquitto()).await
            }

            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[ignore = "needs PostgreSQL: `cargo xtask test` runs it where one is reachable"]
            async fn postgres_embedded() {
                super::$case($crate::testkit::Backend::require_postgres(), $crate::testkit::BrokerKind::Embedded).await
            }

            #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[ignore = "needs PostgreSQL and Mosquitto: `cargo xtask test` runs it where both are reachable"]
            async fn postgres_mosquitto() {
                super::$case(
                    $crate::testkit::Backend::require_postgres(),
                    $crate::testkit::BrokerKind::require_mosquitto(),
                ).await
            }
        }
    )+};
}

/// Polls `check` until it returns `Some`, for up to `secs` seconds.
pub async fn eventually<T, F, Fut>(secs: u64, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "condition not met within {secs} s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
