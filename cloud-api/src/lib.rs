//! The Gerbang cloud API: the assembly of the platform core and every business domain, with
//! an embedded MQTT broker and SQLite by default.
//!
//! # Layout
//! - [`platform`] (its own crate): the core every domain stands on — configuration, start-up,
//!   database and migrations, identity and sessions, audit, security layers, devices, ingest,
//!   commands, notifications, realtime, the broker, metrics, OpenAPI, HTTP plumbing.
//! - One crate per business domain under `cloud-api/domains/`, each describing itself as a
//!   [`platform::domain::Domain`]: [`access`] (doors), [`people`] (users, faces, the device
//!   gallery), [`attendance`] (seed 001), [`camera`] (snapshots, recordings, the live relay,
//!   door settings), [`history`] (the access log, analytics, exports).
//! - This crate: [`Domains`] (the list the cloud runs), [`start`], [`load_config`], the
//!   [`dashboard`] shell, and `testkit` (feature `testkit`): fresh databases, a whole cloud on
//!   port 0, test macros. The `cloud-api` binary (`src/main.rs`) is what the cloud package
//!   installs.

use std::{
    path::{Path, PathBuf},
    sync::Arc,
};

use platform::domain::{Domain, DomainSet};
use tokio_util::sync::CancellationToken;

pub mod backup;
pub mod dashboard;
#[cfg(feature = "testkit")]
pub mod testkit;

pub use access;
pub use attendance;
pub use camera;
pub use history;
pub use live;
pub use meals;
pub use people;
pub use platform;
pub use platform::{
    config, Cloud, CloudConfig, CloudError, EnrollmentCode, GoogleConfig, MqttConfig,
    SecurityConfig,
};
pub use sakip;

/// Every business domain this cloud runs, in migration order.
#[derive(Debug)]
pub struct Domains;

impl DomainSet for Domains {
    fn domains() -> Vec<Arc<dyn Domain>> {
        vec![
            Arc::new(access::Access::default()),
            Arc::new(people::People),
            Arc::new(attendance::Attendance),
            Arc::new(camera::Camera::default()),
            Arc::new(history::History),
            Arc::new(meals::Meals::default()),
            Arc::new(sakip::Sakip),
            Arc::new(live::Live::default()),
        ]
    }
}

/// The configuration sections of the domains (`[people]`, `GERBANG_PEOPLE_*`, …).
pub const DOMAIN_SECTIONS: &[&str] = &["people", "camera", "meals", "sakip", "live"];

/// Loads the configuration: defaults, then `file`, then the environment (see
/// [`CloudConfig::load`]), with every domain's section.
pub fn load_config(file: Option<&Path>) -> Result<CloudConfig, Box<figment::Error>> {
    CloudConfig::load(file, DOMAIN_SECTIONS)
}

/// When no first admin is configured: `admin@gerbang.local` with a password generated once
/// into `{data_dir}/admin-password` (mode 0600, kept across restarts). Returns that file, or
/// `None` when the configuration names the admin itself.
pub fn default_first_admin(config: &mut CloudConfig) -> std::io::Result<Option<PathBuf>> {
    if config.admin_email.is_some() && config.admin_password.is_some() {
        return Ok(None);
    }
    std::fs::create_dir_all(&config.data_dir)?;
    let path = config.data_dir.join("admin-password");
    let existing = std::fs::read_to_string(&path).unwrap_or_default();
    let password = match existing.trim() {
        "" => {
            let bytes: [u8; 12] = rand::random();
            let password =
                base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, bytes);
            write_secret_file(&path, &password, true)?;
            password
        }
        kept => kept.to_owned(),
    };
    config.admin_password = Some(password);
    config
        .admin_email
        .get_or_insert_with(|| "admin@gerbang.local".into());
    Ok(Some(path))
}

/// Writes `secret` and a newline to `path`, readable by its owner only; an existing file is
/// replaced only when `replace` says so.
pub fn write_secret_file(path: &Path, secret: &str, replace: bool) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true);
    if replace {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    std::io::Write::write_all(&mut file, format!("{secret}\n").as_bytes())
}

/// Starts the cloud with every domain and the dashboard; returns once it serves HTTP and
/// its MQTT subscriptions are in place.
pub async fn start(config: CloudConfig, shutdown: CancellationToken) -> Result<Cloud, CloudError> {
    platform::start::<Domains>(config, dashboard::router(), shutdown).await
}
