//! What the SAKIP suites share: a client of one cloud that checks the envelope on every
//! answer, sign-in helpers, and further clouds (replicas) on the same database.

#![allow(dead_code, clippy::unwrap_used)]

use std::time::Duration;

use cloud_api::{
    testkit::{Backend, BrokerKind, TestCloud},
    Cloud, CloudConfig,
};
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

pub struct Api {
    pub tc: TestCloud,
    /// `http://127.0.0.1:PORT` of the cloud this talks to.
    pub base: String,
    pub http: Client,
}

impl Api {
    pub async fn start(backend: Backend) -> Api {
        Api::on(TestCloud::start(backend, BrokerKind::Embedded).await)
    }

    /// A cloud whose `[sakip]` section is `section`.
    pub async fn with(backend: Backend, section: Value) -> Api {
        Api::on(
            TestCloud::start_with(backend, BrokerKind::Embedded, |c| {
                c.set_section("sakip", &section).unwrap();
            })
            .await,
        )
    }

    pub fn on(tc: TestCloud) -> Api {
        let base = tc.url("");
        Api::at(tc, base)
    }

    fn at(tc: TestCloud, base: String) -> Api {
        Api {
            tc,
            base,
            http: Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
        }
    }

    /// `/sakip/api/v1{path}` on this cloud.
    pub fn url(&self, path: &str) -> String {
        format!("{}/sakip/api/v1{path}", self.base)
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self.http.request(method, self.url(path));
        if !token.is_empty() {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        let res = req.send().await.unwrap();
        let status = res.status();
        let body: Value = res.json().await.unwrap_or(Value::Null);
        // The envelope, always.
        assert_eq!(
            body["success"],
            json!(status.is_success()),
            "{status} {body}"
        );
        if !status.is_success() {
            assert!(body["error"]["message"].is_string(), "{body}");
        }
        (status, body)
    }

    pub async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, token, Some(body)).await
    }

    pub async fn put(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::PUT, path, token, Some(body)).await
    }

    /// POSTs and expects 201; answers `data`.
    pub async fn create(&self, path: &str, token: &str, body: Value) -> Value {
        let (status, out) = self.post(path, token, body).await;
        assert_eq!(status, StatusCode::CREATED, "{path}: {out}");
        out["data"].clone()
    }

    pub async fn login(&self, username: &str, password: &str) -> String {
        let (status, out) = self
            .post(
                "/auth/login",
                "",
                json!({"username": username, "password": password}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{out}");
        out["data"]["token"].as_str().unwrap().to_owned()
    }

    pub async fn admin(&self) -> String {
        self.login(
            &self.tc.admin_email.clone(),
            &self.tc.admin_password.clone(),
        )
        .await
    }

    /// Creates a user with `role` (and OPD) and signs them in.
    pub async fn user(&self, admin: &str, username: &str, role: &str, opd: Option<i64>) -> String {
        self.create(
            "/users",
            admin,
            json!({"username": username, "email": format!("{username}@opd.test"), "name": username,
                   "password": "sandi-rahasia-1", "role": role, "opd_id": opd}),
        )
        .await;
        self.login(username, "sandi-rahasia-1").await
    }
}

pub fn id(v: &Value) -> i64 {
    v["id"].as_i64().unwrap()
}

/// A renstra (2021-2026) of `opd` with one tujuan `T1 {tujuan}` holding one sasaran
/// `S1 {sasaran}`; answers their ids (renstra, tujuan, sasaran).
pub async fn plan(
    api: &Api,
    token: &str,
    opd: i64,
    tujuan: &str,
    sasaran: &str,
) -> (i64, i64, i64) {
    let r = id(&api
        .create(
            "/renstra",
            token,
            json!({"opd_id": opd, "period": "2021-2026"}),
        )
        .await);
    let t = id(&api
        .create(
            "/tujuan",
            token,
            json!({"renstra_id": r, "code": "T1", "name": tujuan}),
        )
        .await);
    let s = id(&api
        .create(
            "/sasaran",
            token,
            json!({"tujuan_id": t, "code": "S1", "name": sasaran}),
        )
        .await);
    (r, t, s)
}

/// Another cloud on `tc`'s database (a replica, or the same cloud after a restart), with
/// the `[sakip]` section `section`; stop it with [`Replica::stop`].
pub struct Replica {
    pub cloud: Option<Cloud>,
    shutdown: CancellationToken,
    _dir: tempfile::TempDir,
}

impl Replica {
    pub async fn start(tc: &TestCloud, section: &Value) -> Replica {
        let dir = tempfile::tempdir().unwrap();
        let mut config = CloudConfig {
            data_dir: dir.path().to_path_buf(),
            http_addr: "127.0.0.1:0".parse().unwrap(),
            database_url: Some(tc.database_url().to_owned()),
            admin_email: Some(tc.admin_email.clone()),
            admin_password: Some(tc.admin_password.clone()),
            ..CloudConfig::default()
        };
        config.mqtt.addr = "127.0.0.1:0".parse().unwrap();
        config.set_section("sakip", section).unwrap();
        let shutdown = CancellationToken::new();
        let cloud = cloud_api::start(config, shutdown.clone()).await.unwrap();
        Replica {
            cloud: Some(cloud),
            shutdown,
            _dir: dir,
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base(&self) -> String {
        format!("http://{}", self.cloud.as_ref().unwrap().http_addr())
    }

    pub async fn stop(mut self) {
        self.shutdown.cancel();
        if let Some(cloud) = self.cloud.take() {
            cloud.stopped().await;
        }
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// Polls `GET path` until `done` holds of its `data` (at most 20 s).
pub async fn wait_for(api: &Api, path: &str, token: &str, done: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..400 {
        let (_, out) = api.get(path, token).await;
        if done(&out["data"]) {
            return out["data"].clone();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{path} never reached the expected state");
}

/// A client of a replica: same admin, another address.
pub fn client_of(api: &Api, base: String) -> ApiRef<'_> {
    ApiRef { api, base }
}

/// [`Api`]'s calls against another cloud of the same database.
pub struct ApiRef<'a> {
    api: &'a Api,
    base: String,
}

impl ApiRef<'_> {
    pub async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        let res = self
            .api
            .http
            .get(format!("{}/sakip/api/v1{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let status = res.status();
        (status, res.json().await.unwrap_or(Value::Null))
    }
}

/// The platform's audit entries of `action` (newest first, at most 500).
pub async fn audit_entries(api: &Api, token: &str, action: &str) -> Vec<Value> {
    let res = api
        .http
        .get(api.tc.url(&format!("/api/audit?action={action}&limit=500")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let out: Value = res.json().await.unwrap();
    out["entries"].as_array().unwrap().clone()
}

/// A TCP relay on a loopback port of its own to a real Redis, that can be taken down (every
/// connection cut, new ones closed at once) and brought back: Redis going away and coming
/// back, without touching the shared server.
pub struct RedisProxy {
    port: u16,
    up: std::sync::Arc<std::sync::atomic::AtomicBool>,
    cut: std::sync::Arc<std::sync::Mutex<CancellationToken>>,
    task: tokio::task::JoinHandle<()>,
}

impl RedisProxy {
    /// A relay to the Redis at `url` (`redis://host:port`).
    pub async fn start(url: &str) -> RedisProxy {
        use std::sync::{atomic::Ordering, Arc, Mutex};
        let parsed = reqwest::Url::parse(url).unwrap();
        let upstream = format!(
            "{}:{}",
            parsed.host_str().unwrap_or("127.0.0.1"),
            parsed.port().unwrap_or(6379)
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let up = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let cut = Arc::new(Mutex::new(CancellationToken::new()));
        let (up2, cut2) = (up.clone(), cut.clone());
        let task = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if !up2.load(Ordering::SeqCst) {
                    continue; // dropped: closed at once
                }
                let token = cut2.lock().unwrap().clone();
                let upstream = upstream.clone();
                tokio::spawn(async move {
                    let Ok(mut outbound) = tokio::net::TcpStream::connect(&upstream).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        () = token.cancelled() => {}
                    }
                });
            }
        });
        RedisProxy {
            port,
            up,
            cut,
            task,
        }
    }

    /// `redis://127.0.0.1:PORT` of the relay.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Redis gone: open connections cut, new ones closed.
    pub fn down(&self) {
        self.up.store(false, std::sync::atomic::Ordering::SeqCst);
        let mut cut = self.cut.lock().unwrap();
        cut.cancel();
        *cut = CancellationToken::new();
    }

    /// Redis back.
    pub fn up(&self) {
        self.up.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Drop for RedisProxy {
    fn drop(&mut self) {
        self.task.abort();
        self.cut.lock().unwrap().cancel();
    }
}
