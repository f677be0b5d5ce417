//! The systemd watchdog of the real daemon, in a test binary of its own: the fake systemd is
//! named by process-wide environment variables.

use std::{os::unix::net::UnixDatagram, time::Duration};

use edge_daemon::{daemon, sim};
use tokio_util::sync::CancellationToken;

/// The real daemon, with simulated hardware and a cloud that is not there, under a fake
/// systemd: a datagram socket in a temporary directory named by `NOTIFY_SOCKET`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daemon_notifies_ready_pings_and_stopping() {
    let dir = tempfile::tempdir().unwrap();
    let socket_path = dir.path().join("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    // Only this test sets these, and it is alone in its test binary: no other daemon of
    // this process sends datagrams here.
    std::env::set_var("NOTIFY_SOCKET", &socket_path);
    std::env::set_var("WATCHDOG_USEC", "200000");
    std::env::set_var("WATCHDOG_PID", std::process::id().to_string());

    let config = daemon::offline_door_for_tests(&dir.path().join("edge")).unwrap();

    let shutdown = CancellationToken::new();
    let (hardware, world) = sim::hardware();
    let running = daemon::start(&config, hardware, Some(world), shutdown.clone())
        .await
        .unwrap();

    let received = tokio::task::spawn_blocking(move || {
        let mut seen = Vec::new();
        let mut buf = [0u8; 4096];
        while !(seen.iter().any(|m: &String| m.contains("READY=1"))
            && seen.iter().filter(|m| m.contains("WATCHDOG=1")).count() >= 3)
        {
            let n = socket.recv(&mut buf).expect("a notification within 10 s");
            seen.push(String::from_utf8_lossy(&buf[..n]).into_owned());
        }
        (socket, seen)
    })
    .await
    .unwrap();
    let (socket, seen) = received;
    assert!(seen[0].contains("READY=1"), "READY=1 comes first: {seen:?}");
    assert!(!seen.iter().any(|m| m.contains("WATCHDOG=trigger")));

    shutdown.cancel();
    running.stopped().await;
    let stopping = tokio::task::spawn_blocking(move || {
        let mut buf = [0u8; 4096];
        loop {
            let n = socket.recv(&mut buf).expect("STOPPING=1 within 10 s");
            let message = String::from_utf8_lossy(&buf[..n]).into_owned();
            if message.contains("STOPPING=1") {
                return message;
            }
        }
    })
    .await
    .unwrap();
    assert!(stopping.contains("STOPPING=1"));
    std::env::remove_var("NOTIFY_SOCKET");
    std::env::remove_var("WATCHDOG_USEC");
    std::env::remove_var("WATCHDOG_PID");
}
