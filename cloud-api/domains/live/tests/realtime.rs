//! The `/chatme` Socket.IO namespace driven by the real `socket.io-client` (Node, from
//! `cloud-api/tests/socketio/node_modules`) on SQLite and PostgreSQL: a token is required;
//! live and party rooms are isolated; a gift (by socket or over HTTP) reaches only its room
//! and charges like `POST /gifts/send`; viewer counts follow joins, leaves and dropped
//! connections and become the session's `total_viewers`; private messages reach only the
//! recipient and are kept; a session whose host stays away (or never connects) ends by
//! itself; an ended session's room is emptied and refuses messages; each socket is rate
//! limited.

#![allow(clippy::unwrap_used)]

mod common;

use std::{
    io::{BufRead, BufReader, Write},
    path::PathBuf,
    process::{Child, ChildStdin, Command, Stdio},
    sync::mpsc,
    time::{Duration, Instant},
};

use cloud_api::{db_tests, testkit::Backend};
use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

db_tests!(
    handshake_needs_a_token,
    rooms_are_isolated,
    viewer_counts_survive_drops,
    chat_reaches_the_recipient_only,
    abandoned_sessions_end,
    hosts_who_never_connect_are_swept,
    ended_rooms_are_closed,
    sockets_are_rate_limited
);

fn node_modules() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/socketio/node_modules");
    if dir.join("socket.io-client").is_dir() {
        return Some(dir);
    }
    let hint = "run `npm ci --prefix cloud-api/tests/socketio`";
    if std::env::var("GERBANG_TEST_REQUIRE_SERVICES").is_ok_and(|v| v == "1") {
        panic!("GERBANG_TEST_REQUIRE_SERVICES=1 but socket.io-client is not installed: {hint}");
    }
    eprintln!("skipped: socket.io-client not installed ({hint})");
    None
}

/// One real socket.io-client in a Node process, and what it printed.
struct Socket {
    name: String,
    child: Child,
    stdin: ChildStdin,
    lines: mpsc::Receiver<Value>,
    /// Lines not yet consumed by a wait.
    seen: Vec<Value>,
    /// Every line.
    all: Vec<Value>,
    next_id: u64,
}

impl Socket {
    /// Connects and waits for `connect` (or `connect_error`, when `expect_refusal`).
    fn open(name: &str, url: &str, token: &str, expect_refusal: bool) -> Socket {
        let modules = node_modules().unwrap();
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/socketio/client.cjs");
        let mut child = Command::new("node")
            .env("NODE_PATH", modules)
            .arg(script)
            .arg(url)
            .arg(token)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let stdin = child.stdin.take().unwrap();
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
        let mut socket = Socket {
            name: name.to_owned(),
            child,
            stdin,
            lines,
            seen: Vec::new(),
            all: Vec::new(),
            next_id: 0,
        };
        let first = socket.wait_for("connect", |v| {
            v["type"] == "connected" || v["type"] == "connect_error"
        });
        let refused = first["type"] == "connect_error";
        assert_eq!(refused, expect_refusal, "{name}: {first}");
        socket
    }

    fn drain(&mut self) {
        while let Ok(value) = self.lines.try_recv() {
            self.all.push(value.clone());
            self.seen.push(value);
        }
    }

    /// The first line (seen or coming) matching `want`, consumed so the next wait finds the
    /// next one.
    fn wait_for(&mut self, what: &str, want: impl Fn(&Value) -> bool) -> Value {
        self.drain();
        if let Some(at) = self.seen.iter().position(&want) {
            return self.seen.remove(at);
        }
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(value) => {
                    self.all.push(value.clone());
                    if want(&value) {
                        return value;
                    }
                    self.seen.push(value);
                }
                Err(_) => panic!("{}: no {what} within 15 s; saw {:?}", self.name, self.seen),
            }
        }
    }

    /// Emits `event` and waits for its acknowledgement.
    fn ask(&mut self, event: &str, data: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(json!({"id": id, "emit": event, "data": data}));
        self.wait_for(&format!("ack of {event}"), |v| {
            v["type"] == "ack" && v["id"] == id
        })["data"]
            .clone()
    }

    /// Emits without waiting.
    fn emit(&mut self, event: &str, data: Value) {
        self.next_id += 1;
        self.send(json!({"id": self.next_id, "emit": event, "data": data}));
    }

    fn send(&mut self, command: Value) {
        writeln!(self.stdin, "{command}").unwrap();
        self.stdin.flush().unwrap();
    }

    /// Waits for `event` whose data matches `want`.
    fn event(&mut self, event: &str, want: impl Fn(&Value) -> bool) -> Value {
        self.wait_for(event, |v| {
            v["type"] == "event" && v["event"] == event && want(&v["data"])
        })["data"]
            .clone()
    }

    /// Every `event` received so far (after a short settle).
    fn received(&mut self, event: &str) -> Vec<Value> {
        std::thread::sleep(Duration::from_millis(300));
        self.drain();
        self.all
            .iter()
            .filter(|v| v["type"] == "event" && v["event"] == event)
            .map(|v| v["data"].clone())
            .collect()
    }

    /// The connection drops without a goodbye (the process is killed).
    fn drop_connection(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn base(tc: &cloud_api::testkit::TestCloud) -> String {
    tc.url("")
}

async fn handshake_needs_a_token(backend: Backend) {
    if node_modules().is_none() {
        return;
    }
    let tc = start(backend).await;
    let (_, token) = member(&tc, "081200000001", "Ana").await;
    let url = base(&tc);
    tokio::task::spawn_blocking(move || {
        Socket::open("anonymous", &url, "", true);
        Socket::open("forged", &url, "not-a-jwt", true);
        let mut ana = Socket::open("ana", &url, &token, false);
        let me = ana.ask("user:join", json!("ignored"));
        assert_eq!(me["ok"], true, "{me}");
        // A room that is no open session cannot be joined; bad room ids are refused.
        let refused = ana.ask("live:join", json!({"roomId": "live_nothing"}));
        assert_eq!(refused["status"], 404, "{refused}");
        assert!(refused["message"].is_string());
        let refused = ana.ask("live:join", json!({"roomId": "../../etc"}));
        assert_eq!(refused["status"], 400, "{refused}");
        // A message into a room that is no open session: there is no such live.
        let refused = ana.ask("live:message", json!({"roomId": "live_x", "message": "hi"}));
        assert_eq!(refused["status"], 404, "{refused}");
    })
    .await
    .unwrap();
}

async fn rooms_are_isolated(backend: Backend) {
    if node_modules().is_none() {
        return;
    }
    let tc = start(backend).await;
    let admin = platform_admin(&tc).await;
    let (_, rina_token) = host(&tc, "081200000011", "Rina").await;
    let (maya, maya_token) = host(&tc, "081200000012", "Maya").await;
    let (fan_a, a) = member(&tc, "081200000013", "Fan A").await;
    let (fan_b, b) = member(&tc, "081200000014", "Fan B").await;
    let rose = gift(&tc, &admin, "Rose", 10, "basic").await;
    credit(&tc, &admin, fan_a, 100).await;
    let (rina_session, room_a) = go_live(&tc, &rina_token).await;
    let (maya_session, room_b) = go_live(&tc, &maya_token).await;
    let url = base(&tc);

    let (mut sa, mut sb, mut host_a) = tokio::task::spawn_blocking({
        let (url, room_a, room_b) = (url.clone(), room_a.clone(), room_b.clone());
        let (a, b, rina_token) = (a.clone(), b.clone(), rina_token.clone());
        move || {
            let mut host_a = Socket::open("rina", &url, &rina_token, false);
            assert_eq!(host_a.ask("live:join", json!({"roomId": room_a}))["ok"], true);
            let mut sa = Socket::open("fan a", &url, &a, false);
            let joined = sa.ask("live:join", json!({"roomId": room_a}));
            assert_eq!(joined["viewers"], 1, "{joined}");
            let mut sb = Socket::open("fan b", &url, &b, false);
            assert_eq!(sb.ask("live:join", json!(room_b.clone()))["ok"], true);
            host_a.event("live:user-joined", |d| d["name"] == "Fan A");
            host_a.event("live:viewer-count", |d| d["count"] == 1);

            // A message reaches its room (the sender too), not the other room.
            let sent = sa.ask("live:message", json!({"roomId": room_a, "message": "halo kak"}));
            assert_eq!(sent["ok"], true, "{sent}");
            host_a.event("live:new-message", |d| d["message"] == "halo kak");
            sa.event("live:new-message", |d| d["message"] == "halo kak");
            let too_long = "x".repeat(501);
            let refused = sa.ask("live:message", json!({"roomId": room_a, "message": too_long}));
            assert_eq!(refused["status"], 400, "{refused}");
            // Fan B may not speak or gift in a room they did not join.
            let refused = sb.ask("live:message", json!({"roomId": room_a, "message": "psst"}));
            assert_eq!(refused["status"], 403);

            // A gift by socket: charged like POST /gifts/send, announced to room A only.
            let receipt = sa.ask(
                "live:gift",
                json!({"roomId": room_a, "gift_name": "rose", "quantity": 2, "idempotencyKey": "g-1"}),
            );
            assert_eq!(receipt["ok"], true, "{receipt}");
            assert_eq!(receipt["balance"], 80);
            assert_eq!(receipt["income"], 12);
            let got = host_a.event("live:gift-received", |d| d["gift"]["quantity"] == 2);
            assert_eq!(got["sender"]["name"], "Fan A");
            assert_eq!(got["roomId"], json!(room_a));
            // The same key again: the first receipt, no second charge, no second broadcast.
            let again = sa.ask(
                "live:gift",
                json!({"roomId": room_a, "gift_name": "rose", "quantity": 2, "idempotencyKey": "g-1"}),
            );
            assert_eq!(again["gift"]["id"], receipt["gift"]["id"]);
            let short = sa.ask("live:gift", json!({"roomId": room_a, "gift_id": rose.to_string(), "quantity": 9}));
            assert_eq!(short["status"], 402, "{short}");
            (sa, sb, host_a)
        }
    })
    .await
    .unwrap();

    // A gift over HTTP into Maya's session reaches room B only.
    credit(&tc, &admin, fan_b, 50).await;
    let (status, body) = post(
        &tc,
        "/gifts/send",
        Some(&b),
        json!({"receiver_id": maya, "gift_id": rose, "quantity": 1, "live_session_id": maya_session}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    tokio::task::spawn_blocking(move || {
        let got = sb.event("live:gift-received", |d| d["gift"]["quantity"] == 1);
        assert_eq!(got["sender"]["name"], "Fan B");
        assert_eq!(host_a.received("live:gift-received").len(), 1);
        assert_eq!(sa.received("live:gift-received").len(), 1);
        assert!(sb.received("live:new-message").is_empty());
        assert_eq!(sb.received("live:gift-received").len(), 1);
        assert!(sb
            .received("live:user-joined")
            .iter()
            .all(|d| d["roomId"] == json!(room_b)));
    })
    .await
    .unwrap();
    assert_eq!(balance(&tc, &a).await, 80);
    assert_eq!(ledger_sum(&tc, fan_a).await, 80);
    let (status, ended) = post(&tc, "/live-session/end", Some(&rina_token), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{ended}");
    assert_eq!(ended["session"]["id"], json!(rina_session));
    assert_eq!(ended["session"]["total_income"], 12);
    assert_eq!(ended["session"]["total_viewers"], 1);

    // Party rooms: the same isolation.
    let (_, c) = member(&tc, "081200000015", "Citra").await;
    let (_, d) = member(&tc, "081200000016", "Dodi").await;
    let (_, e) = member(&tc, "081200000017", "Eka").await;
    tokio::task::spawn_blocking(move || {
        let mut sc = Socket::open("citra", &url, &c, false);
        let mut sd = Socket::open("dodi", &url, &d, false);
        let mut se = Socket::open("eka", &url, &e, false);
        assert_eq!(sc.ask("party:join", json!({"roomId": "p1"}))["ok"], true);
        assert_eq!(sd.ask("party:join", json!({"roomId": "p1"}))["ok"], true);
        assert_eq!(se.ask("party:join", json!({"roomId": "p2"}))["ok"], true);
        sc.event("party:user-joined", |d| d["name"] == "Dodi");
        assert_eq!(
            sd.ask("party:message", json!({"roomId": "p1", "message": "yuk"}))["ok"],
            true
        );
        sc.event("party:new-message", |d| {
            d["message"] == "yuk" && d["roomId"] == "p1"
        });
        assert_eq!(sd.ask("party:leave", json!({"roomId": "p1"}))["ok"], true);
        sc.event("party:user-left", |d| d["name"] == "Dodi");
        assert!(se.received("party:new-message").is_empty());
        assert!(se
            .received("party:user-joined")
            .iter()
            .all(|d| d["roomId"] == "p2"));
    })
    .await
    .unwrap();
}

async fn viewer_counts_survive_drops(backend: Backend) {
    if node_modules().is_none() {
        return;
    }
    let tc = start(backend).await;
    let (_, host_token) = host(&tc, "081200000021", "Rina").await;
    let (_, v1) = member(&tc, "081200000022", "V1").await;
    let (_, v2) = member(&tc, "081200000023", "V2").await;
    let (_, room) = go_live(&tc, &host_token).await;
    let url = base(&tc);
    let counts = tokio::task::spawn_blocking({
        let host_token = host_token.clone();
        move || {
            let mut h = Socket::open("host", &url, &host_token, false);
            h.ask("live:join", json!({"roomId": room}));
            h.event("live:viewer-count", |d| d["count"] == 0);
            let mut s1 = Socket::open("v1", &url, &v1, false);
            assert_eq!(s1.ask("live:join", json!({"roomId": room}))["viewers"], 1);
            h.event("live:viewer-count", |d| d["count"] == 1);
            let mut s2 = Socket::open("v2", &url, &v2, false);
            assert_eq!(s2.ask("live:join", json!({"roomId": room}))["viewers"], 2);
            h.event("live:viewer-count", |d| d["count"] == 2);
            // V2 in a second tab is still one viewer; joining twice changes nothing.
            let mut s2b = Socket::open("v2 tab 2", &url, &v2, false);
            assert_eq!(s2b.ask("live:join", json!({"roomId": room}))["viewers"], 2);
            assert_eq!(s2b.ask("live:join", json!({"roomId": room}))["viewers"], 2);
            // The second tab drops: V2 is still watching.
            s2b.drop_connection();
            h.event("live:viewer-count", |d| d["count"] == 2);
            // V1's connection drops: one viewer left, and V1 is announced as gone.
            s1.drop_connection();
            h.event("live:user-left", |d| d["name"] == "V1");
            h.event("live:viewer-count", |d| d["count"] == 1);
            // V2 leaves properly.
            assert_eq!(s2.ask("live:leave", json!({"roomId": room}))["ok"], true);
            h.event("live:user-left", |d| d["name"] == "V2");
            h.event("live:viewer-count", |d| d["count"] == 0);
            h.received("live:viewer-count")
        }
    })
    .await
    .unwrap();
    assert!(
        counts.iter().all(|c| c["count"].as_u64().unwrap() <= 2),
        "{counts:?}"
    );
    // Two distinct viewers watched.
    let (status, ended) = post(&tc, "/live-session/end", Some(&host_token), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{ended}");
    assert_eq!(ended["session"]["total_viewers"], 2);
}

async fn chat_reaches_the_recipient_only(backend: Backend) {
    if node_modules().is_none() {
        return;
    }
    let tc = start(backend).await;
    let (ana, a) = member(&tc, "081200000031", "Ana").await;
    let (budi, b) = member(&tc, "081200000032", "Budi").await;
    let (_, c) = member(&tc, "081200000033", "Citra").await;
    let url = base(&tc);
    tokio::task::spawn_blocking({
        let (a, b) = (a.clone(), b.clone());
        move || {
            let mut sa = Socket::open("ana", &url, &a, false);
            let mut sa2 = Socket::open("ana tab 2", &url, &a, false);
            let mut sb = Socket::open("budi", &url, &b, false);
            let mut sc = Socket::open("citra", &url, &c, false);
            for i in 0..3 {
                let sent = sa.ask(
                    "chat:send",
                    json!({"to": budi.to_string(), "message": format!("halo {i}")}),
                );
                assert_eq!(sent["ok"], true, "{sent}");
            }
            let got = sb.event("chat:receive", |d| d["message"] == "halo 2");
            assert_eq!(got["senderId"], json!(ana));
            assert_eq!(got["senderName"], "Ana");
            assert_eq!(sb.received("chat:receive").len(), 3);
            assert!(sc.received("chat:receive").is_empty());
            assert!(sa2.received("chat:receive").is_empty());
            let reply = sb.ask(
                "chat:send",
                json!({"receiverId": ana.to_string(), "message": "iya"}),
            );
            assert_eq!(reply["ok"], true);
            sa.event("chat:receive", |d| d["message"] == "iya");
            sa2.event("chat:receive", |d| d["message"] == "iya");
            for bad in [
                json!({"to": ana.to_string(), "message": "me"}),
                json!({"to": Uuid::new_v4().to_string(), "message": "nobody"}),
                json!({"to": budi.to_string(), "message": ""}),
                json!({"to": budi.to_string(), "message": "y".repeat(501)}),
                json!({"message": "no one"}),
            ] {
                let refused = sa.ask("chat:send", bad.clone());
                assert_eq!(refused["ok"], false, "{bad}: {refused}");
                assert!(refused["message"].is_string());
            }
        }
    })
    .await
    .unwrap();
    // Both sides read the stored conversation, newest first, by pages.
    let page = get(&tc, &format!("/chat/{budi}/messages?limit=3"), &a).await;
    let messages = page["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 3);
    assert_eq!(messages[0]["message"], "iya");
    let page2 = get(&tc, &format!("/chat/{budi}/messages?limit=3&page=2"), &a).await;
    assert_eq!(page2["messages"].as_array().unwrap().len(), 1);
    assert_eq!(page2["messages"][0]["message"], "halo 0");
    let theirs = get(&tc, &format!("/chat/{ana}/messages"), &b).await;
    assert_eq!(theirs["messages"].as_array().unwrap().len(), 4);
    let (status, _) = call(
        &tc,
        Method::GET,
        &format!("/chat/{ana}/messages"),
        None,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

async fn abandoned_sessions_end(backend: Backend) {
    if node_modules().is_none() {
        return;
    }
    let tc = start_live(backend, json!({"host_grace_ms": 2000})).await;
    let (_, host_token) = host(&tc, "081200000041", "Rina").await;
    let (_, v) = member(&tc, "081200000042", "Viewer").await;
    let (_, room) = go_live(&tc, &host_token).await;
    let url = base(&tc);
    tokio::task::spawn_blocking({
        let host_token = host_token.clone();
        move || {
            let mut viewer = Socket::open("viewer", &url, &v, false);
            let mut h = Socket::open("host", &url, &host_token, false);
            h.ask("live:join", json!({"roomId": room}));
            viewer.ask("live:join", json!({"roomId": room}));
            // The host drops and is back within the grace period: the session goes on.
            h.drop_connection();
            let mut h = Socket::open("host again", &url, &host_token, false);
            assert_eq!(h.ask("live:join", json!({"roomId": room}))["ok"], true);
            std::thread::sleep(Duration::from_millis(2600));
            assert!(viewer.received("live:ended").is_empty());
            // The host drops for good: the session ends by itself.
            h.drop_connection();
            let ended = viewer.event("live:ended", |d| d["reason"] == "host-disconnected");
            assert_eq!(ended["session"]["total_viewers"], 1);
            assert!(ended["session"]["end_time"].is_string());
            // The ended room cannot be joined again.
            assert_eq!(
                viewer.ask("live:join", json!({"roomId": room}))["status"],
                404
            );
        }
    })
    .await
    .unwrap();
    let (status, _) = post(&tc, "/live-session/end", Some(&host_token), json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = post(&tc, "/live-session/start", Some(&host_token), json!({})).await;
    assert_eq!(status, StatusCode::CREATED);
}

/// A host who goes live and never connects (or whose cloud restarted) is absent: the
/// sweeper ends the session after the grace period. A host with a socket connected — even
/// outside the room — is present and keeps theirs.
async fn hosts_who_never_connect_are_swept(backend: Backend) {
    if node_modules().is_none() {
        return;
    }
    let tc = start_live(backend, json!({"host_grace_ms": 3000})).await;
    let (_, absent) = host(&tc, "081200000061", "Rina").await;
    let (_, present) = host(&tc, "081200000062", "Maya").await;
    let (_, v) = member(&tc, "081200000063", "Viewer").await;
    let (_, room) = go_live(&tc, &absent).await;
    let (_, kept_room) = go_live(&tc, &present).await;
    let url = base(&tc);
    tokio::task::spawn_blocking({
        let present = present.clone();
        move || {
            let _maya = Socket::open("maya", &url, &present, false);
            let mut viewer = Socket::open("viewer", &url, &v, false);
            assert_eq!(viewer.ask("live:join", json!({"roomId": room}))["ok"], true);
            let ended = viewer.event("live:ended", |d| d["reason"] == "host-disconnected");
            assert_eq!(ended["roomId"], json!(room));
            assert_eq!(ended["session"]["total_viewers"], 1);
            std::thread::sleep(Duration::from_millis(2000));
            assert_eq!(
                viewer.ask("live:join", json!({"roomId": kept_room}))["ok"],
                true,
                "a connected host's session stays open"
            );
        }
    })
    .await
    .unwrap();
    let (status, _) = post(&tc, "/live-session/end", Some(&absent), json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = post(&tc, "/live-session/end", Some(&present), json!({})).await;
    assert_eq!(status, StatusCode::OK);
}

/// An ended session's room is emptied: its sockets are out of it, a `live:message` into it
/// is refused and reaches nobody.
async fn ended_rooms_are_closed(backend: Backend) {
    if node_modules().is_none() {
        return;
    }
    let tc = start(backend).await;
    let (_, host_token) = host(&tc, "081200000071", "Rina").await;
    let (_, v1) = member(&tc, "081200000072", "V1").await;
    let (_, v2) = member(&tc, "081200000073", "V2").await;
    let (_, room) = go_live(&tc, &host_token).await;
    let url = base(&tc);
    let (mut h, mut s1, mut s2) = tokio::task::spawn_blocking({
        let (room, host_token) = (room.clone(), host_token.clone());
        move || {
            let mut h = Socket::open("host", &url, &host_token, false);
            assert_eq!(h.ask("live:join", json!({"roomId": room}))["ok"], true);
            let mut s1 = Socket::open("v1", &url, &v1, false);
            let mut s2 = Socket::open("v2", &url, &v2, false);
            assert_eq!(s1.ask("live:join", json!({"roomId": room}))["ok"], true);
            assert_eq!(s2.ask("live:join", json!({"roomId": room}))["ok"], true);
            let sent = s1.ask(
                "live:message",
                json!({"roomId": room, "message": "sebelum"}),
            );
            assert_eq!(sent["ok"], true, "{sent}");
            s2.event("live:new-message", |d| d["message"] == "sebelum");
            (h, s1, s2)
        }
    })
    .await
    .unwrap();
    let (status, ended) = post(&tc, "/live-session/end", Some(&host_token), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{ended}");
    tokio::task::spawn_blocking(move || {
        s1.event("live:ended", |d| d["reason"] == "ended");
        s2.event("live:ended", |d| d["reason"] == "ended");
        h.event("live:ended", |d| d["reason"] == "ended");
        for socket in [&mut s1, &mut h] {
            let refused = socket.ask(
                "live:message",
                json!({"roomId": room, "message": "sesudah"}),
            );
            assert_eq!(refused["ok"], false, "{refused}");
            assert_eq!(refused["status"], 404, "{refused}");
        }
        let refused = s1.ask("live:gift", json!({"roomId": room, "gift_name": "rose"}));
        assert_eq!(refused["ok"], false, "{refused}");
        for socket in [&mut s1, &mut s2, &mut h] {
            assert!(socket
                .received("live:new-message")
                .iter()
                .all(|d| d["message"] == "sebelum"));
        }
        // Leaving it afterwards announces nothing to anybody.
        assert_eq!(s2.ask("live:leave", json!({"roomId": room}))["ok"], true);
        assert!(s1.received("live:user-left").is_empty());
    })
    .await
    .unwrap();
}

async fn sockets_are_rate_limited(backend: Backend) {
    if node_modules().is_none() {
        return;
    }
    let tc = start_live(
        backend,
        json!({"socket_events_per_second": 2, "socket_event_burst": 5}),
    )
    .await;
    let (_, a) = member(&tc, "081200000051", "Ana").await;
    let url = base(&tc);
    tokio::task::spawn_blocking(move || {
        let mut sa = Socket::open("ana", &url, &a, false);
        for _ in 0..20 {
            sa.emit("party:join", json!({"roomId": "flood"}));
        }
        let limited = sa.wait_for("a 429", |v| {
            v["type"] == "ack" && v["data"]["status"] == 429
        });
        assert_eq!(
            limited["data"]["message"],
            "Terlalu banyak pesan, coba lagi sebentar"
        );
        // The bucket refills.
        std::thread::sleep(Duration::from_millis(1200));
        assert_eq!(sa.ask("user:join", Value::Null)["ok"], true);
    })
    .await
    .unwrap();
}
