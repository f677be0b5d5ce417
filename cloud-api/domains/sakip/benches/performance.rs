//! Bench of `GET /sakip/api/v1/performance/data` (one OPD-year, uncached and cached, p50 and
//! p99) and of the LKjIP PDF of one OPD-year with 1,000 indicators, on PostgreSQL
//! (`GERBANG_TEST_POSTGRES`). The data set is built with `generate_series`:
//! `SAKIP_BENCH_OPDS` OPDs (default 10; the province is 40) × 5 years × 1,000 indicators with
//! monthly targets and achievements.
//!
//! Run: `cargo bench --workspace --bench performance` (release), or
//! `cargo test --workspace --bench performance` (debug build, same code, slower figures).

#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use cloud_api::testkit::{Backend, BrokerKind, TestCloud};
use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};
use serde_json::{json, Value};

/// The data set (`scripts/bench/sakip-data.sql`, shared with `scripts/bench/peer.sh`): one
/// statement a line, `{opds}` replaced.
const SETUP: &str = include_str!("../../../../scripts/bench/sakip-data.sql");

/// The statements `GET /performance/data?year=2025&opd_id=1&quarter=2&month=6` runs (as
/// `performance::load_data` builds them), whose plans the bench prints: each must use an index.
const EXPLAIN: &[&str] = &[
    "SELECT * FROM sakip_performance_achievements WHERE year = 2025 AND indicator_id IN (SELECT id FROM sakip_indicators WHERE opd_id = 1) AND quarter = 2 AND month = 6 ORDER BY indicator_id, quarter, month",
    "SELECT * FROM sakip_indicators WHERE opd_id = 1",
    "SELECT * FROM sakip_performance_targets WHERE year = 2025 AND indicator_id IN (SELECT id FROM sakip_indicators WHERE opd_id = 1) AND quarter = 2 AND month = 6 ORDER BY id",
];

fn percentile(mut samples: Vec<Duration>, p: f64) -> Duration {
    samples.sort();
    let idx = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples[idx]
}

fn report(name: &str, samples: Vec<Duration>) {
    println!(
        "{name}: n={} p50={:.1} ms p99={:.1} ms",
        samples.len(),
        percentile(samples.clone(), 0.5).as_secs_f64() * 1e3,
        percentile(samples, 0.99).as_secs_f64() * 1e3
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let Some(backend) = Backend::postgres() else {
        println!("skipped: GERBANG_TEST_POSTGRES not set");
        return;
    };
    let opds: u32 = std::env::var("SAKIP_BENCH_OPDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let tc = TestCloud::start(backend, BrokerKind::Embedded).await;
    let db = Database::connect(tc.database_url()).await.unwrap();
    let started = Instant::now();
    for sql in SETUP
        .lines()
        .filter(|l| !l.starts_with("--") && !l.trim().is_empty())
    {
        db.execute_unprepared(&sql.replace("{opds}", &opds.to_string()))
            .await
            .unwrap();
    }
    println!(
        "data set: {opds} OPDs × 5 years × 1,000 indicators, {} achievements, built in {:.1} s",
        opds as u64 * 5 * 1000 * 12,
        started.elapsed().as_secs_f64()
    );
    for sql in EXPLAIN {
        let plan = db
            .query_all(Statement::from_string(
                DbBackend::Postgres,
                format!("EXPLAIN (ANALYZE, COSTS OFF) {sql}"),
            ))
            .await
            .unwrap();
        println!("EXPLAIN {sql}");
        for row in plan {
            println!("  {}", row.try_get::<String>("", "QUERY PLAN").unwrap());
        }
    }
    let http = reqwest::Client::new();
    let base = tc.url("/sakip/api/v1");
    let login: Value = http
        .post(format!("{base}/auth/login"))
        .json(&json!({"username": tc.admin_email, "password": tc.admin_password}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["data"]["token"].as_str().unwrap().to_owned();
    let data = format!("{base}/performance/data?year=2025&opd_id=1&month=6&quarter=2");
    let get = |url: String| {
        let req = http.get(url).bearer_auth(&token);
        async move {
            let t = Instant::now();
            let res = req.send().await.unwrap();
            assert!(res.status().is_success());
            let body = res.bytes().await.unwrap();
            (t.elapsed(), body.len())
        }
    };
    // Uncached: a write to 2025 (not timed) before each read.
    let mut uncached = Vec::new();
    let mut size = 0;
    for i in 0..30 {
        http.post(format!("{base}/performance/achievements"))
            .bearer_auth(&token)
            .json(&json!({"indicator_id": 1, "year": 2025, "month": 1, "quarter": 1, "achievement_value": 90 + i}))
            .send()
            .await
            .unwrap();
        let (t, n) = get(data.clone()).await;
        uncached.push(t);
        size = n;
    }
    report(
        &format!("GET /performance/data one OPD-month ({size} bytes) uncached"),
        uncached,
    );
    let cached: Vec<Duration> = {
        let mut out = Vec::new();
        for _ in 0..300 {
            out.push(get(data.clone()).await.0);
        }
        out
    };
    report("GET /performance/data one OPD-month cached", cached);
    let year = format!("{base}/performance/data?year=2025&opd_id=1");
    let mut whole = Vec::new();
    for _ in 0..10 {
        whole.push(get(year.clone()).await.0);
    }
    report(
        "GET /performance/data one OPD-year (12,000 rows) cached after first",
        whole,
    );
    let mut pdf = Vec::new();
    for _ in 0..5 {
        pdf.push(
            get(format!(
                "{base}/reports/performance?opd_id=1&year=2025&format=pdf"
            ))
            .await,
        );
    }
    let bytes = pdf[0].1;
    report(
        &format!("GET /reports/performance PDF, 1,000 indicators ({bytes} bytes)"),
        pdf.into_iter().map(|(t, _)| t).collect(),
    );
    tc.stop().await;
}
