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
