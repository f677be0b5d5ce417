//! Hostile and lazy clients against [`http_serve::serve`] on loopback: 1,000 connections
//! that never finish their headers are all closed once the header timeout passes while
//! ordinary requests keep being answered; a kept-alive connection left idle is closed; past
//! the connection cap a new client waits for a slot instead of being served at once.

#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use axum::{extract::ConnectInfo, routing::get, Router};
use http_serve::{
    probe::{closed_by_server, half_open},
    serve, Limits,
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
};
use tokio_util::sync::CancellationToken;

const HALF_OPEN: usize = 1_000;

async fn start(limits: Limits) -> (String, CancellationToken) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = Router::new().route(
        "/ping",
        get(
            |ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>| async move {
                format!("pong {}", peer.ip())
            },
        ),
    );
    let stop = CancellationToken::new();
    let shutdown = stop.clone().cancelled_owned();
    tokio::spawn(async move { serve(listener, app, limits, shutdown).await.unwrap() });
    (addr.to_string(), stop)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_open_requests_are_closed_while_others_are_served() {
    let limits = Limits {
        header_timeout_secs: 2,
        ..Limits::default()
    };
    let (addr, stop) = start(limits).await;
    let mut stalled = Vec::with_capacity(HALF_OPEN);
    for _ in 0..HALF_OPEN {
        stalled.push(half_open(&addr).await.unwrap());
    }
    let opened = Instant::now();
    // Ordinary clients are answered meanwhile.
    let client = reqwest::Client::new();
    for _ in 0..20 {
        let answer = client
            .get(format!("http://{addr}/ping"))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200);
        assert_eq!(answer.text().await.unwrap(), "pong 127.0.0.1");
    }
    // Every stalled connection is closed: generously after the 2 s timeout.
    let deadline = opened + Duration::from_secs(20);
    let results =
        futures::future::join_all(stalled.into_iter().map(|s| closed_by_server(s, deadline))).await;
    let still_open = results.iter().filter(|closed| !**closed).count();
    assert_eq!(
        still_open, 0,
        "{still_open} of {HALF_OPEN} half-open requests were held"
    );
    println!(
        "{HALF_OPEN} half-open requests closed {:.1} s after opening (header timeout 2 s)",
        opened.elapsed().as_secs_f64()
    );
    stop.cancel();
}

#[tokio::test]
async fn an_idle_kept_alive_connection_is_closed() {
    let limits = Limits {
        header_timeout_secs: 1,
        ..Limits::default()
    };
    let (addr, stop) = start(limits).await;
    let mut stream = TcpStream::connect(&addr).await.unwrap();
    stream
        .write_all(b"GET /ping HTTP/1.1\r\nHost: gerbang\r\n\r\n")
        .await
        .unwrap();
    let mut answer = vec![0u8; 1024];
    let n = stream.read(&mut answer).await.unwrap();
    let head = String::from_utf8_lossy(&answer[..n]).to_string();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    // Now it idles; the server hangs up.
    assert!(
        closed_by_server(stream, Instant::now() + Duration::from_secs(15)).await,
        "an idle keep-alive connection was held open"
    );
    stop.cancel();
}

#[tokio::test]
async fn past_the_cap_a_client_waits_for_a_free_connection() {
    let limits = Limits {
        header_timeout_secs: 1,
        max_connections: 4,
        ..Limits::default()
    };
    let (addr, stop) = start(limits).await;
    let mut stalled = Vec::new();
    for _ in 0..4 {
        stalled.push(half_open(&addr).await.unwrap());
    }
    let waiting = tokio::spawn({
        let addr = addr.clone();
        async move {
            let answer = reqwest::get(format!("http://{addr}/ping")).await.unwrap();
            assert_eq!(answer.status(), 200);
            Instant::now()
        }
    });
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut first_closed = None;
    for stream in stalled {
        assert!(closed_by_server(stream, deadline).await);
        first_closed.get_or_insert_with(Instant::now);
    }
    let served = waiting.await.unwrap();
    let first_closed = first_closed.unwrap();
    // Served only once a slot was free (the stalled ones were closed by their timeout).
    assert!(
        served + Duration::from_millis(50) >= first_closed,
        "served {:?} before any stalled connection closed",
        first_closed - served
    );
    stop.cancel();
}
