//! Typed configuration: built-in defaults, then an optional TOML file, then `GERBANG_*`
//! environment variables (and `DATABASE_URL`). Secrets never appear in `Debug` output.

use std::{fmt, net::SocketAddr, path::PathBuf, time::Duration};

use figment::{
    providers::{Env, Format, Serialized, Toml},
    Figment,
};
use serde::{Deserialize, Serialize};

/// Everything the cloud needs to start.
#[derive(Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct CloudConfig {
    /// Where the SQLite database lives when no `database_url` is given.
    pub data_dir: PathBuf,
    /// HTTP listen address; port 0 picks a free port.
    pub http_addr: SocketAddr,
    /// `postgres://…` or `sqlite://…`; `None` means the SQLite file `{data_dir}/gerbang.db`.
    pub database_url: Option<String>,
    pub mqtt: MqttConfig,
    /// The base URL devices are told to use (enrolment command, HTTPS sync).
    /// `None` means `http://{http_addr}` as bound.
    pub public_url: Option<String>,
    /// The first admin, created only when no admin exists yet.
    pub admin_email: Option<String>,
    pub admin_password: Option<String>,
    /// How long a command waits for the device's ack, in seconds.
    pub command_timeout_secs: u64,
}

/// Which MQTT broker the cloud talks to.
#[derive(Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct MqttConfig {
    /// Address of the embedded broker (used when `url` is `None`); port 0 picks a free port.
    pub addr: SocketAddr,
    /// An external broker: `mqtt://host:port` or `mqtts://host:port`.
    pub url: Option<String>,
    /// CA certificates (PEM) for `mqtts://`; the system bundle when absent.
    pub ca_file: Option<PathBuf>,
    pub username: Option<String>,
    pub password: Option<String>,
    /// The broker URL devices are told at enrolment; defaults to the URL the cloud uses.
    pub public_url: Option<String>,
    /// Shared-subscription group of the cloud replicas on an external broker: replicas of one
    /// deployment split ingest; separate deployments on one broker need separate groups.
    pub share_group: String,
}

impl Default for CloudConfig {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("./data"),
            http_addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database_url: None,
            mqtt: MqttConfig::default(),
            public_url: None,
            admin_email: None,
            admin_password: None,
            command_timeout_secs: 10,
        }
    }
}

impl Default for MqttConfig {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 1883)),
            url: None,
            ca_file: None,
            username: None,
            password: None,
            public_url: None,
            share_group: "gerbang-cloud".into(),
        }
    }
}

impl CloudConfig {
    /// Loads defaults, then `file` (when given and present), then the environment:
    /// `GERBANG_DATA_DIR`, `GERBANG_HTTP_ADDR`, `GERBANG_DATABASE_URL` or `DATABASE_URL`,
    /// `GERBANG_PUBLIC_URL`, `GERBANG_ADMIN_EMAIL`, `GERBANG_ADMIN_PASSWORD`,
    /// `GERBANG_COMMAND_TIMEOUT_SECS`, `GERBANG_MQTT_ADDR`, `GERBANG_MQTT_URL`,
    /// `GERBANG_MQTT_CA_FILE`, `GERBANG_MQTT_USERNAME`, `GERBANG_MQTT_PASSWORD`,
    /// `GERBANG_MQTT_PUBLIC_URL`.
    pub fn load(file: Option<&std::path::Path>) -> Result<Self, Box<figment::Error>> {
        let mut figment = Figment::from(Serialized::defaults(CloudConfig::default()));
        if let Some(file) = file {
            figment = figment.merge(Toml::file(file));
        }
        figment = figment
            .merge(
                Env::raw()
                    .only(&["DATABASE_URL"])
                    .map(|_| "database_url".into()),
            )
            .merge(Env::prefixed("GERBANG_").map(|key| {
                let key = key.as_str().to_ascii_lowercase();
                match key.strip_prefix("mqtt_") {
                    Some(rest) => format!("mqtt.{rest}").into(),
                    None => key.into(),
                }
            }));
        figment.extract().map_err(Box::new)
    }

    pub fn command_timeout(&self) -> Duration {
        Duration::from_secs(self.command_timeout_secs.max(1))
    }

    /// The database URL actually used.
    pub fn effective_database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("gerbang.db").display()
            ),
        }
    }
}

/// Replaces the password of a URL like `scheme://user:pass@host` for logs.
pub(crate) fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.split_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:***@{host}")
        }
        None => url.to_owned(),
    }
}

fn secret(value: &Option<String>) -> &'static str {
    if value.is_some() {
        "Some(***)"
    } else {
        "None"
    }
}

impl fmt::Debug for CloudConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CloudConfig")
            .field("data_dir", &self.data_dir)
            .field("http_addr", &self.http_addr)
            .field(
                "database_url",
                &self.database_url.as_deref().map(redact_url),
            )
            .field("mqtt", &self.mqtt)
            .field("public_url", &self.public_url)
            .field("admin_email", &self.admin_email)
            .field("admin_password", &secret(&self.admin_password))
            .field("command_timeout_secs", &self.command_timeout_secs)
            .finish()
    }
}

impl fmt::Debug for MqttConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MqttConfig")
            .field("addr", &self.addr)
            .field("url", &self.url.as_deref().map(redact_url))
            .field("ca_file", &self.ca_file)
            .field("username", &self.username)
            .field("password", &secret(&self.password))
            .field("public_url", &self.public_url)
            .field("share_group", &self.share_group)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_secrets() {
        let config = CloudConfig {
            database_url: Some("postgres://app:hunter2@db/gerbang".into()),
            admin_password: Some("s3cret-pw".into()),
            mqtt: MqttConfig {
                password: Some("mq-pass".into()),
                ..MqttConfig::default()
            },
            ..CloudConfig::default()
        };
        let shown = format!("{config:?}");
        for secret in ["hunter2", "s3cret-pw", "mq-pass"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert!(shown.contains("postgres://app:***@db/gerbang"), "{shown}");
    }

    #[test]
    #[allow(clippy::result_large_err)]
    fn environment_overrides_defaults() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("GERBANG_HTTP_ADDR", "127.0.0.1:9999");
            jail.set_env("GERBANG_MQTT_URL", "mqtt://127.0.0.1:1883");
            jail.set_env("DATABASE_URL", "postgres://x@y/z");
            let config = CloudConfig::load(None).expect("loads");
            assert_eq!(config.http_addr.port(), 9999);
            assert_eq!(config.mqtt.url.as_deref(), Some("mqtt://127.0.0.1:1883"));
            assert_eq!(config.database_url.as_deref(), Some("postgres://x@y/z"));
            assert_eq!(config.command_timeout(), Duration::from_secs(10));
            Ok(())
        });
    }

    #[test]
    #[allow(clippy::result_large_err)]
    fn file_then_environment() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "cloud.toml",
                r#"
                    http_addr = "0.0.0.0:8081"
                    command_timeout_secs = 4
                    [mqtt]
                    url = "mqtts://broker.example:8883"
                    username = "cloud"
                "#,
            )?;
            jail.set_env("GERBANG_MQTT_PASSWORD", "from-env");
            jail.set_env("GERBANG_COMMAND_TIMEOUT_SECS", "7");
            let config =
                CloudConfig::load(Some(std::path::Path::new("cloud.toml"))).expect("loads");
            assert_eq!(config.http_addr.port(), 8081);
            assert_eq!(
                config.mqtt.url.as_deref(),
                Some("mqtts://broker.example:8883")
            );
            assert_eq!(config.mqtt.username.as_deref(), Some("cloud"));
            assert_eq!(config.mqtt.password.as_deref(), Some("from-env"));
            assert_eq!(config.command_timeout(), Duration::from_secs(7));
            assert_eq!(config.data_dir, PathBuf::from("./data"));
            assert!(config
                .effective_database_url()
                .ends_with("data/gerbang.db?mode=rwc"));
            Ok(())
        });
    }
}
