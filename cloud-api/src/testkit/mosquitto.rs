//! A Mosquitto of the test's own with the dynamic-security plugin: one `mosquitto` process
//! on a free loopback port (never the machine's 1883), anonymous logins refused, and a
//! dynamic-security file written here — Mosquitto 2.0's format, with the cloud's client
//! (PBKDF2-SHA512 password, as `mosquitto_ctrl dynsec init` writes it) holding the role
//! docs/SCALING.md asks of it. Stops on drop.

use std::{
    net::TcpStream,
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use crate::platform::config::MqttConfig;
use base64::{engine::general_purpose::STANDARD as BASE64, Engine};
use serde_json::{json, Value};
use tempfile::TempDir;

/// The cloud's username on the broker.
pub const CLOUD_USER: &str = "gerbang-cloud";

/// Mosquitto 2.0's PBKDF2 iterations and salt length (`src/password_mosq.h`).
const ITERATIONS: u32 = 101;
const SALT_LEN: usize = 12;

/// A running broker.
pub struct DynsecMosquitto {
    dir: TempDir,
    port: u16,
    cloud_password: String,
    child: Child,
}

impl std::fmt::Debug for DynsecMosquitto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DynsecMosquitto")
            .field("dir", &self.dir.path())
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

/// The ACLs of the cloud's role: the plugin's admin topics, and the doors' topics (its
/// subscriptions are shared ones on an external broker).
fn cloud_acls() -> Vec<Value> {
    let acl =
        |acltype: &str, topic: &str| json!({"acltype": acltype, "topic": topic, "allow": true});
    vec![
        acl("publishClientSend", "$CONTROL/dynamic-security/#"),
        acl("publishClientReceive", "$CONTROL/dynamic-security/#"),
        acl("subscribePattern", "$CONTROL/dynamic-security/#"),
        acl("publishClientSend", "gerbang/#"),
        acl("publishClientReceive", "gerbang/#"),
        acl("subscribePattern", "gerbang/#"),
        acl("subscribePattern", "$share/+/gerbang/#"),
    ]
}

/// A client entry of the dynamic-security file: `password` salted and hashed.
fn client_entry(username: &str, password: &str, role: &str) -> Value {
    let salt: [u8; SALT_LEN] = rand::random();
    let mut hash = [0u8; 64];
    pbkdf2::pbkdf2_hmac::<sha2::Sha512>(password.as_bytes(), &salt, ITERATIONS, &mut hash);
    json!({
        "username": username,
        "textname": "Gerbang cloud",
        "password": BASE64.encode(hash),
        "salt": BASE64.encode(salt),
        "iterations": ITERATIONS,
        "roles": [{"rolename": role}],
    })
}

/// The `mosquitto` binary: on `PATH`, else Debian's.
fn binary() -> String {
    let on_path = Command::new("mosquitto")
        .arg("-h")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    if on_path {
        "mosquitto".into()
    } else {
        "/usr/sbin/mosquitto".into()
    }
}

impl DynsecMosquitto {
    /// The dynamic-security plugin of a test that exists to run on it
    /// (`GERBANG_TEST_MOSQUITTO_DYNSEC`, set by `cargo xtask test`); missing, the test fails
    /// (such tests are `#[ignore]`d and filtered out by name where there is none).
    pub fn require_plugin() -> PathBuf {
        PathBuf::from(super::required_service(
            "GERBANG_TEST_MOSQUITTO_DYNSEC",
            "Mosquitto's dynamic-security plugin (mosquitto_dynamic_security.so)",
        ))
    }

    /// Starts the broker and waits until it accepts connections.
    pub async fn start() -> DynsecMosquitto {
        let plugin = Self::require_plugin();
        let dir = tempfile::tempdir().expect("temp dir");
        let port = super::free_port();
        let cloud_password = uuid::Uuid::new_v4().simple().to_string();
        let security = json!({
            "defaultACLAccess": {
                "publishClientSend": false,
                "publishClientReceive": true,
                "subscribe": false,
                "unsubscribe": true,
            },
            "clients": [client_entry(CLOUD_USER, &cloud_password, CLOUD_USER)],
            "roles": [{"rolename": CLOUD_USER, "acls": cloud_acls()}],
            "groups": [],
        });
        let security_file = dir.path().join("dynamic-security.json");
        std::fs::write(&security_file, security.to_string()).expect("write dynamic-security.json");
        let config = format!(
            "per_listener_settings false\n\
             allow_anonymous false\n\
             persistence false\n\
             user root\n\
             listener {port} 127.0.0.1\n\
             plugin {plugin}\n\
             plugin_opt_config_file {security}\n\
             log_dest stderr\n\
             log_type all\n",
            plugin = plugin.display(),
            security = security_file.display(),
        );
        let config_file = dir.path().join("mosquitto.conf");
        std::fs::write(&config_file, config).expect("write mosquitto.conf");
        let log = std::fs::File::create(dir.path().join("mosquitto.log")).expect("log file");
        let binary = binary();
        let child = Command::new(&binary)
            .arg("-c")
            .arg(&config_file)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {binary}: {e}"));
        let broker = DynsecMosquitto {
            dir,
            port,
            cloud_password,
            child,
        };
        broker.wait_listening().await;
        broker
    }

    async fn wait_listening(&self) {
        let deadline = Instant::now() + Duration::from_secs(15);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "Mosquitto not listening within 15 s: {}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The broker's log so far (for failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("mosquitto.log")).unwrap_or_default()
    }

    /// `mqtt://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("mqtt://127.0.0.1:{}", self.port)
    }

    /// Points the cloud's `[mqtt]` at this broker, as its dynamic-security administrator.
    pub fn configure(&self, config: &mut MqttConfig) {
        config.url = Some(self.url());
        config.username = Some(CLOUD_USER.to_owned());
        config.password = Some(self.cloud_password.clone());
        config.dynamic_security = true;
    }
}

impl Drop for DynsecMosquitto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
