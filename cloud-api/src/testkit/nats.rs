//! A NATS cluster of the test's own: `n` `nats-server` processes on free loopback ports,
//! routed to one another, each with JetStream (its store in a temporary directory) and an
//! MQTT listener for the devices. Clients log in: the cloud as a privileged user, everyone
//! else through the auth callout, whose issuer key the cluster generates and hands to the
//! cloud ([`NatsCluster::configure`]). Nodes can be killed and started again; all stop on
//! drop.

use std::{
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use super::free_port;
use crate::platform::mqtt::nats::NatsConfig;
use tempfile::TempDir;

/// One node's ports.
#[derive(Debug, Clone, Copy)]
struct Ports {
    client: u16,
    cluster: u16,
    mqtt: u16,
    monitor: u16,
}

/// The user the cloud connects as (listed in `auth_callout.auth_users`, so not called out).
const CLOUD_USER: &str = "gerbang-cloud";

/// A running cluster.
pub struct NatsCluster {
    binary: String,
    dir: TempDir,
    ports: Vec<Ports>,
    nodes: Vec<Option<Child>>,
    /// The account key the servers trust to sign the callout's answers.
    issuer: nkeys::KeyPair,
    cloud_password: String,
}

impl std::fmt::Debug for NatsCluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NatsCluster")
            .field("dir", &self.dir.path())
            .field("ports", &self.ports)
            .field("issuer", &self.issuer.public_key())
            .finish_non_exhaustive()
    }
}

impl NatsCluster {
    /// The `nats-server` of a test that exists to run on it (`GERBANG_TEST_NATS_SERVER`,
    /// set by `cargo xtask test`); missing, the test fails (such tests are `#[ignore]`d and
    /// filtered out by name where there is none).
    pub fn require_binary() -> String {
        super::required_service("GERBANG_TEST_NATS_SERVER", "a nats-server binary")
    }

    /// Starts `n` nodes and waits until every one is healthy with JetStream ready.
    ///
    /// Ports are picked free and then handed to `nats-server`, so another process may take
    /// one in between (an outgoing connection's ephemeral port, say); a node that exits for
    /// that makes the whole cluster start again on new ports, up to three times.
    pub async fn start(n: usize) -> NatsCluster {
        let binary = Self::require_binary();
        let mut attempt = 1;
        loop {
            let mut cluster = NatsCluster {
                binary: binary.clone(),
                dir: tempfile::tempdir().expect("temp dir"),
                nodes: (0..n).map(|_| None).collect(),
                ports: (0..n)
                    .map(|_| Ports {
                        client: free_port(),
                        cluster: free_port(),
                        mqtt: free_port(),
                        monitor: free_port(),
                    })
                    .collect(),
                issuer: nkeys::KeyPair::new_account(),
                cloud_password: uuid::Uuid::new_v4().simple().to_string(),
            };
            for i in 0..n {
                cluster.write_config(i);
                cluster.spawn(i);
            }
            let mut failure = None;
            for i in 0..n {
                if let Err(why) = cluster.healthy(i).await {
                    failure = Some(format!("NATS node {i} {why}"));
                    break;
                }
            }
            match failure {
                None => return cluster,
                Some(why) if attempt < 3 && why.contains("address already in use") => {
                    eprintln!("NATS cluster start {attempt}: a port was taken; again on new ports");
                    attempt += 1;
                }
                Some(why) => panic!("{why}"),
            }
        }
    }

    fn config_path(&self, i: usize) -> PathBuf {
        self.dir.path().join(format!("n{i}.conf"))
    }

    fn write_config(&self, i: usize) {
        let me = self.ports[i];
        let routes = self
            .ports
            .iter()
            .map(|p| format!("\"nats://127.0.0.1:{}\"", p.cluster))
            .collect::<Vec<_>>()
            .join(", ");
        let store = self.dir.path().join(format!("n{i}"));
        let config = format!(
            "server_name: n{i}\n\
             listen: 127.0.0.1:{client}\n\
             http: 127.0.0.1:{monitor}\n\
             jetstream {{ store_dir: \"{store}\" }}\n\
             cluster {{ name: gerbang-test, listen: 127.0.0.1:{cluster}, routes: [{routes}] }}\n\
             mqtt {{ listen: 127.0.0.1:{mqtt} }}\n\
             authorization {{\n\
               users: [ {{ user: {CLOUD_USER}, password: \"{password}\" }} ]\n\
               auth_callout {{ issuer: {issuer}, auth_users: [ {CLOUD_USER} ] }}\n\
             }}\n",
            password = self.cloud_password,
            issuer = self.issuer.public_key(),
            client = me.client,
            monitor = me.monitor,
            cluster = me.cluster,
            mqtt = me.mqtt,
            store = store.display(),
        );
        std::fs::write(self.config_path(i), config).expect("write the NATS config");
    }

    fn spawn(&mut self, i: usize) {
        let log = std::fs::File::create(self.dir.path().join(format!("n{i}.log")))
            .expect("NATS log file");
        let child = Command::new(&self.binary)
            .arg("-c")
            .arg(self.config_path(i))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", self.binary));
        self.nodes[i] = Some(child);
    }

    /// Waits for node `i`'s `/healthz` to report it ready with JetStream; why not, with
    /// its log, if it exits or 30 s pass first.
    async fn healthy(&mut self, i: usize) -> Result<(), String> {
        let url = format!(
            "http://127.0.0.1:{}/healthz?js-enabled-only=true",
            self.ports[i].monitor
        );
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(answer) = reqwest::get(&url).await {
                if answer.status().is_success() {
                    return Ok(());
                }
            }
            let exited = self.nodes[i]
                .as_mut()
                .is_some_and(|node| matches!(node.try_wait(), Ok(Some(_))));
            if exited {
                return Err(format!("exited: {}", self.log(i)));
            }
            if Instant::now() >= deadline {
                return Err(format!("not healthy within 30 s: {}", self.log(i)));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Node `i`'s log so far (for failure messages).
    pub fn log(&self, i: usize) -> String {
        std::fs::read_to_string(self.dir.path().join(format!("n{i}.log"))).unwrap_or_default()
    }

    /// Points the cloud's `[nats]` at this cluster: every node, the privileged cloud user,
    /// and the issuer seed that makes the cloud the cluster's auth callout.
    pub fn configure(&self, config: &mut NatsConfig) {
        config.url = Some(self.client_urls());
        config.username = Some(CLOUD_USER.to_owned());
        config.password = Some(self.cloud_password.clone());
        config.auth_callout_seed = Some(self.issuer.seed().expect("a generated key has a seed"));
    }

    /// Every node's client URL, comma-separated (the cloud's `nats.url`).
    pub fn client_urls(&self) -> String {
        self.ports
            .iter()
            .map(|p| format!("nats://127.0.0.1:{}", p.client))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Node `i`'s MQTT listener, as devices are told it.
    pub fn mqtt_url(&self, i: usize) -> String {
        format!("mqtt://127.0.0.1:{}", self.ports[i].mqtt)
    }

    /// Kills node `i` at once (SIGKILL), as a machine that dies.
    pub fn kill(&mut self, i: usize) {
        if let Some(mut child) = self.nodes[i].take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts node `i` again on its old ports and store, and waits until it is healthy.
    pub async fn restart(&mut self, i: usize) {
        self.kill(i);
        self.spawn(i);
        if let Err(why) = self.healthy(i).await {
            panic!("NATS node {i} {why}");
        }
    }
}

impl Drop for NatsCluster {
    fn drop(&mut self) {
        for i in 0..self.nodes.len() {
            self.kill(i);
        }
    }
}
