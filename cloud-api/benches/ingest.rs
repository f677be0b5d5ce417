//! Ingest throughput, in events per second, on SQLite and (with `GERBANG_TEST_POSTGRES`)
//! PostgreSQL: the batch store path alone (verified events, 500 per transaction), and MQTT end
//! to end (a device publishes N events QoS 1; timed until the cloud's receipt covers them all).
//!
//! `cargo bench -p cloud-api --features testkit --bench ingest` (`GERBANG_BENCH_EVENTS`
//! sets N, default 20000).

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use cloud_api::{
    platform::ingest::{store_events, verify_frame, VerifiedEvent, MAX_BATCH},
    testkit::{unique_site, Backend, BrokerKind, TestCloud},
};
use protocol::{Channel, Event, Receipt};
use rumqttc::{Event as MqttEvent, Packet, QoS};

fn events() -> u64 {
    std::env::var("GERBANG_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000)
}

async fn store_path(backend: Backend) -> f64 {
    let tc = TestCloud::start(backend, BrokerKind::Embedded).await;
    let site = unique_site("bench");
    let mut dev = tc.enroll_device(&site, "bench-1").await;
    let known = tc
        .cloud()
        .platform()
        .devices
        .get(tc.cloud().database(), &dev.id)
        .await
        .expect("lookup")
        .expect("enrolled");
    let n = events();
    let frames: Vec<Vec<u8>> = (0..n).map(|_| dev.next_frame(Event::DoorOpened)).collect();
    let started = Instant::now();
    let mut stored = 0;
    for chunk in frames.chunks(MAX_BATCH) {
        let verified: Vec<VerifiedEvent> = chunk
            .iter()
            .map(|f| verify_frame(f, &Arc::clone(&known)).expect("valid"))
            .collect();
        stored += store_events(tc.cloud().platform(), verified)
            .await
            .expect("stored")
            .inserted();
    }
    let rate = stored as f64 / started.elapsed().as_secs_f64();
    assert_eq!(stored, n);
    tc.stop().await;
    rate
}

async fn mqtt_path(backend: Backend) -> f64 {
    let tc = TestCloud::start(backend, BrokerKind::Embedded).await;
    let site = unique_site("bench");
    let mut dev = tc.enroll_device(&site, "bench-1").await;
    let n = events();
    let frames: Vec<Vec<u8>> = (0..n).map(|_| dev.next_frame(Event::DoorOpened)).collect();
    let (client, mut eventloop) = dev.mqtt_client(tc.cloud().mqtt_url());
    client
        .subscribe(dev.topic(Channel::Receipts), QoS::AtLeastOnce)
        .await
        .expect("subscribe");
    let cloud_key = tc.cloud().public_key();
    let (done_tx, done_rx) = tokio::sync::oneshot::channel();
    let driver = tokio::spawn(async move {
        let mut done_tx = Some(done_tx);
        loop {
            match eventloop.poll().await {
                Ok(MqttEvent::Incoming(Packet::Publish(p))) => {
                    if let Ok(receipt) = protocol::open::<Receipt>(&p.payload, &cloud_key) {
                        if receipt.upto_seq >= n {
                            if let Some(tx) = done_tx.take() {
                                let _ = tx.send(());
                            }
                        }
                    }
                }
                Ok(_) => {}
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    let topic = dev.topic(Channel::Events);
    let started = Instant::now();
    for frame in frames {
        client
            .publish(&topic, QoS::AtLeastOnce, false, frame)
            .await
            .expect("publish");
    }
    tokio::time::timeout(Duration::from_secs(300), done_rx)
        .await
        .expect("all receipted")
        .ok();
    let rate = n as f64 / started.elapsed().as_secs_f64();
    driver.abort();
    tc.stop().await;
    rate
}

fn main() {
    // `cargo test --benches` runs this with `--bench`-less args; keep that quick.
    if std::env::args().any(|a| a == "--test") {
        return;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let mut backends = vec![Backend::Sqlite];
        backends.extend(Backend::postgres());
        for backend in backends {
            let name = backend.name();
            let store = store_path(backend.clone()).await;
            println!(
                "ingest/{name}/store-batch: {store:.0} events/s ({} events)",
                events()
            );
            let mqtt = mqtt_path(backend).await;
            println!(
                "ingest/{name}/mqtt-end-to-end: {mqtt:.0} events/s ({} events)",
                events()
            );
        }
    });
}
