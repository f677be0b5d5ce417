//! Gifts per second on PostgreSQL: 50 concurrent senders over HTTP against one host, each
//! sender able to afford only part of what it sends, so guarded debits and 402s mix.
//! Prints throughput, p50/p99 latency, and checks that no balance went negative and every
//! ledger sums to its balance (zero overdrafts). Needs `GERBANG_TEST_POSTGRES`.

#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

mod common;

use cloud_api::testkit::{Backend, BrokerKind, TestCloud};
use common::user;
use serde_json::json;

const SENDERS: usize = 50;
const SENDS_PER_SENDER: usize = 60;
const COINS_PER_SENDER: i64 = 50;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let at = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[at.min(sorted.len() - 1)]
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let Some(backend) = Backend::postgres() else {
        eprintln!("gifts bench skipped: GERBANG_TEST_POSTGRES is not set");
        return;
    };
    let tc = TestCloud::start(backend, BrokerKind::Embedded).await;
    let db = &tc.cloud().platform().db;
    let now = tc.cloud().platform().clock.unix();
    let (host, _) = user(&tc, 0, "host").await;
    let gift = live::wallet::add_catalog_gift(
        db,
        &live::wallet::NewGift {
            name: "Rose",
            coin_value: 1,
            category: "basic",
            icon: None,
        },
        now,
    )
    .await
    .unwrap();
    let mut senders = Vec::new();
    for n in 1..=SENDERS {
        let (id, token) = user(&tc, n, "user").await;
        live::wallet::admin_credit(db, id, COINS_PER_SENDER, "bench", now)
            .await
            .unwrap();
        senders.push((id, token));
    }
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(SENDERS)
        .build()
        .unwrap();
    let url = tc.url("/chatme/api/gifts/send");
    let started = Instant::now();
    let tasks = senders.iter().map(|(_, token)| {
        let (client, url, token) = (client.clone(), url.clone(), token.clone());
        tokio::spawn(async move {
            let mut timings = Vec::with_capacity(SENDS_PER_SENDER);
            let (mut ok, mut short) = (0usize, 0usize);
            for _ in 0..SENDS_PER_SENDER {
                let sent = Instant::now();
                let response = client
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&json!({"receiver_id": host, "gift_id": gift, "quantity": 1}))
                    .send()
                    .await
                    .unwrap();
                let status = response.status();
                let _ = response.bytes().await;
                timings.push(sent.elapsed());
                match status.as_u16() {
                    201 => ok += 1,
                    402 => short += 1,
                    other => panic!("unexpected status {other}"),
                }
            }
            (timings, ok, short)
        })
    });
    let results = futures::future::join_all(tasks).await;
    let elapsed = started.elapsed();
    let mut timings = Vec::new();
    let (mut ok, mut short) = (0, 0);
    for result in results {
        let (t, o, s) = result.unwrap();
        timings.extend(t);
        ok += o;
        short += s;
    }
    timings.sort();
    // Zero overdrafts: every sender spent exactly what they had, no balance below zero,
    // every ledger sums to its balance.
    let mut overdrafts = 0;
    for (id, _) in &senders {
        let balance = live::wallet::balance(db, *id).await.unwrap();
        let ledger = live::wallet::ledger_sum(db, *id).await.unwrap();
        if balance != 0 || ledger != balance {
            overdrafts += 1;
        }
    }
    let house = live::wallet::PLATFORM_ACCOUNT;
    assert_eq!(
        live::wallet::balance(db, house).await.unwrap(),
        live::wallet::ledger_sum(db, house).await.unwrap()
    );
    assert_eq!(ok, SENDERS * COINS_PER_SENDER as usize, "accepted gifts");
    assert_eq!(overdrafts, 0, "overdrafts or ledger mismatches");
    println!(
        "gifts (PostgreSQL, {SENDERS} concurrent senders over HTTP): {} requests in {:.2} s = {:.0} requests/s, {:.0} accepted gifts/s; {ok} accepted, {short} refused (402); latency p50 {:.1} ms, p99 {:.1} ms; overdrafts {overdrafts}",
        timings.len(),
        elapsed.as_secs_f64(),
        timings.len() as f64 / elapsed.as_secs_f64(),
        ok as f64 / elapsed.as_secs_f64(),
        percentile(&timings, 0.50).as_secs_f64() * 1000.0,
        percentile(&timings, 0.99).as_secs_f64() * 1000.0,
    );
    tc.stop().await;
}
