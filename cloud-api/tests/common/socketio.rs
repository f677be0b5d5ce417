//! The Node harness with the real `socket.io-client` (`tests/socketio/client.mjs`). Tests
//! that use it are `#[ignore]`d with the reason; `cargo xtask test` runs them where node and
//! the client are installed (`npm ci --prefix cloud-api/tests/socketio`) and filters them
//! out by name (`socketio`), visibly, where not.

use std::{
    io::{BufRead, BufReader},
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::mpsc,
    time::{Duration, Instant},
};

use serde_json::Value;

/// The harness directory, with the client installed.
pub fn client_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/socketio");
    assert!(
        dir.join("node_modules/socket.io-client").is_dir(),
        "socket.io-client is not installed: run `npm ci --prefix cloud-api/tests/socketio`"
    );
    dir
}

/// A running node client and the lines it printed.
pub struct Client {
    child: Child,
    lines: mpsc::Receiver<Value>,
    pub seen: Vec<Value>,
}

impl Client {
    pub fn spawn(dir: &PathBuf, url: &str, namespace: &str, token: &str, mode: &str) -> Client {
        let mut child = Command::new("node")
            .arg(dir.join("client.mjs"))
            .args([url, namespace, token, mode])
            .current_dir(dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("node runs");
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Ok(value) = serde_json::from_str::<Value>(&line) {
                    if tx.send(value).is_err() {
                        return;
                    }
                }
            }
        });
        Client {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Waits for a line matching `want`, keeping every line seen.
    pub fn wait_for(&mut self, what: &str, want: impl Fn(&Value) -> bool) -> Value {
        if let Some(found) = self.seen.iter().find(|v| want(v)) {
            return found.clone();
        }
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(value) => {
                    self.seen.push(value.clone());
                    if want(&value) {
                        return value;
                    }
                }
                Err(_) => panic!("no {what} within 15 s; saw {:?}", self.seen),
            }
        }
    }

    pub fn events(&mut self, name: &str) -> Vec<Value> {
        while let Ok(value) = self.lines.try_recv() {
            self.seen.push(value);
        }
        self.seen
            .iter()
            .filter(|v| v["type"] == "event" && v["event"] == name)
            .map(|v| v["data"].clone())
            .collect()
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn is_type(kind: &'static str) -> impl Fn(&Value) -> bool {
    move |v| v["type"] == kind
}
