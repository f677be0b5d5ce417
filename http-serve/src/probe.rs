//! Stalling clients, for proving a server closes them (the suites of every server that uses
//! [`crate::serve`], and the chaos scripts).

use std::time::Instant;

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

/// Opens a connection to `addr`, sends the start of a request's headers and stalls.
pub async fn half_open(addr: &str) -> std::io::Result<TcpStream> {
    let mut stream = TcpStream::connect(addr).await?;
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: gerbang\r\nX-Stalling: ")
        .await?;
    Ok(stream)
}

/// Waits until the server closes `stream` (end of stream or a reset); false if `deadline`
/// passes first.
pub async fn closed_by_server(mut stream: TcpStream, deadline: Instant) -> bool {
    let mut buf = [0u8; 1024];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
        }
    }
}

/// Opens `count` stalled connections to `addr` and answers how many the server had not
/// closed by `deadline`.
pub async fn held_open(addr: &str, count: usize, deadline: Instant) -> std::io::Result<usize> {
    let mut stalled = Vec::with_capacity(count);
    for _ in 0..count {
        stalled.push(half_open(addr).await?);
    }
    let mut held = 0;
    let waits = stalled
        .into_iter()
        .map(|stream| tokio::spawn(closed_by_server(stream, deadline)));
    for wait in waits.collect::<Vec<_>>() {
        if !wait.await.unwrap_or(false) {
            held += 1;
        }
    }
    Ok(held)
}
