//! Typed configuration: built-in defaults, then an optional TOML file, then `GERBANG_*`
//! environment variables (and `DATABASE_URL`). Secrets never appear in `Debug` output.

use std::{collections::BTreeMap, fmt, net::SocketAddr, path::PathBuf, time::Duration};

use figment::{
    providers::{Env, Format, Serialized, Toml},
    Figment,
};
use serde::{Deserialize, Serialize};

use crate::start_error::CloudError;

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
    /// A NATS cluster serving the devices' MQTT (`[nats]`, `GERBANG_NATS_*`): when its
    /// `url` is set the cloud consumes device messages from JetStream instead of an MQTT
    /// client, and `mqtt.public_url` names the MQTT listener the devices are told.
    pub nats: crate::mqtt::nats::NatsConfig,
    /// The base URL devices are told to use (enrolment command, HTTPS sync).
    /// `None` means `http://{http_addr}` as bound.
    pub public_url: Option<String>,
    /// The first admin, created only when no admin exists yet.
    pub admin_email: Option<String>,
    pub admin_password: Option<String>,
    /// How long a command waits for the device's ack, in seconds.
    pub command_timeout_secs: u64,
    /// Sessions, rate limits, CORS and the other HTTP defences.
    pub security: SecurityConfig,
    /// Sign-in with Google (`POST /api/auth/google`).
    pub google: GoogleConfig,
    /// What one HTTP client may hold: the header (and keep-alive idle) timeout, the cap on
    /// open connections (`[http_limits]`, `GERBANG_HTTP_LIMITS_*`).
    pub http_limits: http_serve::Limits,
    /// Redis, shared by the replicas of one deployment (`GERBANG_REDIS_URL`): sign-in rate
    /// limits and session changes (`crate::replicas`). `None`: each replica keeps its own.
    pub redis_url: Option<String>,
    /// The prefix of this deployment's keys and channels in Redis (`GERBANG_REDIS_NAMESPACE`):
    /// deployments sharing one Redis need different ones.
    pub redis_namespace: String,
    /// Where the domains' files go (`[object_store]`, `GERBANG_OBJECT_STORE_*`): local
    /// directories by default, or one S3-compatible bucket (`crate::files`).
    pub object_store: crate::files::ObjectStoreConfig,
    /// The daily retention job (`[retention]`, `GERBANG_RETENTION_*`).
    pub retention: crate::retention::RetentionConfig,
    /// Each domain's own section (`[people]`, `[meals]`, … in the file; `GERBANG_PEOPLE_*`
    /// in the environment), read by the domain at start with [`CloudConfig::section`].
    #[serde(flatten)]
    pub sections: BTreeMap<String, figment::value::Value>,
}

/// Sessions and the HTTP defences. HSTS and `Secure` cookies follow `public_url`: they are
/// on when it starts with `https://` (TLS is terminated by the cloud's reverse proxy).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct SecurityConfig {
    /// Browser origins allowed to call the API with credentials (CORS); empty = same origin.
    pub cors_origins: Vec<String>,
    /// Access token lifetime, seconds.
    pub access_token_ttl_secs: u64,
    /// Refresh token lifetime, seconds (the `refreshToken` cookie).
    pub refresh_token_ttl_secs: u64,
    /// Login, refresh and Google sign-in attempts per client address: burst, then one more
    /// every `auth_ip_period_ms`.
    pub auth_ip_burst: u32,
    pub auth_ip_period_ms: u64,
    /// Login attempts per account identifier: burst, then one more every
    /// `account_period_secs`.
    pub account_burst: u32,
    pub account_period_secs: u64,
    /// Take the client address from `X-Forwarded-For` (only behind a trusted proxy).
    pub trust_forwarded_for: bool,
}

impl Default for SecurityConfig {
    fn default() -> Self {
        Self {
            cors_origins: Vec::new(),
            access_token_ttl_secs: 15 * 60,
            refresh_token_ttl_secs: 7 * 24 * 3600,
            auth_ip_burst: 30,
            auth_ip_period_ms: 2_000,
            account_burst: 5,
            account_period_secs: 60,
            trust_forwarded_for: false,
        }
    }
}

/// Google ID token verification.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct GoogleConfig {
    /// OAuth client ids the ID token's `aud` must match; empty disables Google sign-in.
    pub client_ids: Vec<String>,
    /// Where Google's signing keys are published.
    pub jwks_url: String,
    /// Accepted `iss` values.
    pub issuers: Vec<String>,
    /// Create a user (access role `member`) on the first Google sign-in of an unknown
    /// address; otherwise only existing users may sign in with Google.
    pub allow_signup: bool,
}

impl Default for GoogleConfig {
    fn default() -> Self {
        Self {
            client_ids: Vec::new(),
            jwks_url: "https://www.googleapis.com/oauth2/v3/certs".into(),
            issuers: vec![
                "https://accounts.google.com".into(),
                "accounts.google.com".into(),
            ],
            allow_signup: true,
        }
    }
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
    /// The external broker is Mosquitto with its dynamic-security plugin, and the cloud keeps
    /// each door's login and topics there (`mqtt::dynsec`): `username` must then hold the
    /// plugin's admin rights and the cloud's topics (docs/SCALING.md).
    pub dynamic_security: bool,
}

impl Default for CloudConfig {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("./data"),
            http_addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database_url: None,
            mqtt: MqttConfig::default(),
            nats: Default::default(),
            public_url: None,
            admin_email: None,
            admin_password: None,
            command_timeout_secs: 10,
            security: SecurityConfig::default(),
            google: GoogleConfig::default(),
            http_limits: http_serve::Limits::default(),
            redis_url: None,
            redis_namespace: "gerbang".into(),
            object_store: Default::default(),
            retention: crate::retention::RetentionConfig::default(),
            sections: BTreeMap::new(),
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
            dynamic_security: false,
        }
    }
}

impl CloudConfig {
    /// Loads defaults, then `file` (when given and present), then the environment:
    /// `GERBANG_DATA_DIR`, `GERBANG_HTTP_ADDR`, `GERBANG_DATABASE_URL` or `DATABASE_URL`,
    /// `GERBANG_PUBLIC_URL`, `GERBANG_ADMIN_EMAIL`, `GERBANG_ADMIN_PASSWORD`,
    /// `GERBANG_COMMAND_TIMEOUT_SECS`, `GERBANG_MQTT_ADDR`, `GERBANG_MQTT_URL`,
    /// `GERBANG_MQTT_CA_FILE`, `GERBANG_MQTT_USERNAME`, `GERBANG_MQTT_PASSWORD`,
    /// `GERBANG_MQTT_PUBLIC_URL`, `GERBANG_MQTT_DYNAMIC_SECURITY`, `GERBANG_NATS_*` (e.g. `GERBANG_NATS_AUTH_CALLOUT_SEED`),
    /// `GERBANG_SECURITY_*` (e.g.
    /// `GERBANG_SECURITY_CORS_ORIGINS='["https://dash.example"]'`), `GERBANG_GOOGLE_*`, `GERBANG_HTTP_LIMITS_*`, and
    /// `GERBANG_{SECTION}_*` for each of the domains' `sections`.
    pub fn load(
        file: Option<&std::path::Path>,
        sections: &[&str],
    ) -> Result<Self, Box<figment::Error>> {
        let known: Vec<String> = [
            "mqtt",
            "nats",
            "security",
            "google",
            "http_limits",
            "object_store",
            "retention",
        ]
        .iter()
        .chain(sections)
        .map(|s| s.to_string())
        .collect();
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
            .merge(Env::prefixed("GERBANG_").map(move |key| {
                let key = key.as_str().to_ascii_lowercase();
                for section in known.iter() {
                    if let Some(rest) = key.strip_prefix(&format!("{section}_")) {
                        return format!("{section}.{rest}").into();
                    }
                }
                key.into()
            }));
        figment.extract().map_err(Box::new)
    }

    /// The domain section `name`, or its defaults when the section is absent.
    pub fn section<T: serde::de::DeserializeOwned + Default>(
        &self,
        name: &str,
    ) -> Result<T, CloudError> {
        match self.sections.get(name) {
            None => Ok(T::default()),
            Some(value) => value
                .deserialize()
                .map_err(|e| CloudError::Config(format!("[{name}]: {e}"))),
        }
    }

    /// Replaces the domain section `name` (tests and tools that build a configuration in
    /// code).
    pub fn set_section<T: Serialize>(&mut self, name: &str, value: &T) -> Result<(), CloudError> {
        let value = figment::value::Value::serialize(value)
            .map_err(|e| CloudError::Config(format!("[{name}]: {e}")))?;
        self.sections.insert(name.to_owned(), value);
        Ok(())
    }

    pub fn command_timeout(&self) -> Duration {
        Duration::from_secs(self.command_timeout_secs.max(1))
    }

    /// True when the public URL is HTTPS: HSTS and `Secure` cookies are then on.
    pub fn tls(&self) -> bool {
        self.public_url
            .as_deref()
            .is_some_and(|u| u.to_ascii_lowercase().starts_with("https://"))
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
pub fn redact_url(url: &str) -> String {
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
            .field("nats", &self.nats)
            .field("public_url", &self.public_url)
            .field("admin_email", &self.admin_email)
            .field("admin_password", &secret(&self.admin_password))
            .field("command_timeout_secs", &self.command_timeout_secs)
            .field("security", &self.security)
            .field("google", &self.google)
            .field("http_limits", &self.http_limits)
            .field("redis_url", &self.redis_url.as_deref().map(redact_url))
            .field("redis_namespace", &self.redis_namespace)
            .field("object_store", &self.object_store)
            .field("sections", &self.sections.keys().collect::<Vec<_>>())
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
            .field("dynamic_security", &self.dynamic_security)
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
            nats: crate::mqtt::nats::NatsConfig {
                password: Some("nats-pass".into()),
                auth_callout_seed: Some("SA-issuer-seed".into()),
                ..Default::default()
            },
            ..CloudConfig::default()
        };
        let shown = format!("{config:?}");
        for secret in [
            "hunter2",
            "s3cret-pw",
            "mq-pass",
            "nats-pass",
            "SA-issuer-seed",
        ] {
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
            jail.set_env("GERBANG_SECURITY_CORS_ORIGINS", "[https://a.example]");
            jail.set_env("GERBANG_GOOGLE_CLIENT_IDS", "[web-client]");
            jail.set_env("GERBANG_NATS_AUTH_CALLOUT_SEED", "SA-from-env");
            jail.set_env("GERBANG_NATS_ACCOUNT", "DOORS");
            jail.set_env("GERBANG_MQTT_DYNAMIC_SECURITY", "true");
            let config = CloudConfig::load(None, &[]).expect("loads");
            assert!(config.mqtt.dynamic_security);
            assert_eq!(
                config.nats.auth_callout_seed.as_deref(),
                Some("SA-from-env")
            );
            assert_eq!(config.nats.account, "DOORS");
            assert_eq!(config.http_addr.port(), 9999);
            assert_eq!(config.mqtt.url.as_deref(), Some("mqtt://127.0.0.1:1883"));
            assert_eq!(config.database_url.as_deref(), Some("postgres://x@y/z"));
            assert_eq!(config.command_timeout(), Duration::from_secs(10));
            assert_eq!(config.security.cors_origins, ["https://a.example"]);
            assert_eq!(config.google.client_ids, ["web-client"]);
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
            let config = CloudConfig::load(Some(std::path::Path::new("cloud.toml")), &["people"])
                .expect("loads");
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

    #[test]
    #[allow(clippy::result_large_err)]
    fn domain_sections_from_file_and_environment() {
        #[derive(Debug, Default, Deserialize, PartialEq)]
        #[serde(default)]
        struct Kitchen {
            time_zone: String,
            opens_at: Option<String>,
            seats: u32,
        }
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "cloud.toml",
                r#"
                    [kitchen]
                    time_zone = "Asia/Makassar"
                    seats = 3
                "#,
            )?;
            jail.set_env("GERBANG_KITCHEN_OPENS_AT", "07:30");
            let config = CloudConfig::load(Some(std::path::Path::new("cloud.toml")), &["kitchen"])
                .expect("loads");
            let kitchen: Kitchen = config.section("kitchen").expect("section");
            assert_eq!(
                kitchen,
                Kitchen {
                    time_zone: "Asia/Makassar".into(),
                    opens_at: Some("07:30".into()),
                    seats: 3
                }
            );
            let absent: Kitchen = config.section("pantry").expect("defaults");
            assert_eq!(absent, Kitchen::default());
            jail.set_env("GERBANG_KITCHEN_SEATS", "many");
            let config = CloudConfig::load(Some(std::path::Path::new("cloud.toml")), &["kitchen"])
                .expect("loads");
            let wrong = config.section::<Kitchen>("kitchen").unwrap_err();
            assert!(wrong.to_string().contains("[kitchen]"), "{wrong}");
            Ok(())
        });
    }
}
