//! Access history at scale: bulk-loads N access logs (multi-row INSERTs through the same
//! `history::record` path ingest uses, 500 rows per statement, 10,000 per transaction),
//! then times `GET /api/history/access` with typical filters over HTTP (p50/p99 per query
//! kind), and exports of many rows (time, and the peak RSS growth of this process while the
//! export streams: VmHWM is reset through /proc/self/clear_refs before each export).
//!
//! `GERBANG_TEST_POSTGRES=postgres://postgres@127.0.0.1:5432/postgres cargo bench -p cloud-api
//! --features testkit --bench history` measures on PostgreSQL with 1,000,000 rows and a
//! 100,000-row export (`GERBANG_BENCH_ROWS`, `GERBANG_BENCH_EXPORT_ROWS` change them). Under
//! `cargo test` (no `--bench` argument) it is a quick smoke run on SQLite (and PostgreSQL
//! when set) with 3,000 rows.

use std::time::{Duration, Instant};

use cloud_api::testkit::{Backend, BrokerKind, TestCloud};
use protocol::{AccessMethod, AccessResult, DenyReason, DeviceId, Envelope, Event, PersonRef};
use sea_orm::TransactionTrait;
use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

const DEVICES: usize = 20;
const PEOPLE: usize = 2_000;
const DAYS: i64 = 365;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A small deterministic generator (xorshift), so every run loads the same rows.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn person_name(i: u64) -> String {
    const FIRST: [&str; 10] = [
        "Budi", "Siti", "Agus", "Dewi", "Eko", "Rina", "Joko", "Sri", "Andi", "Putri",
    ];
    const LAST: [&str; 8] = [
        "Santoso", "Aminah", "Wijaya", "Lestari", "Pratama", "Hidayat", "Kusuma", "Saputra",
    ];
    format!(
        "{} {} {i:04}",
        FIRST[(i % 10) as usize],
        LAST[((i / 10) % 8) as usize]
    )
}

fn envelope(rng: &mut Rng, seq: u64, now: OffsetDateTime, devices: &[DeviceId]) -> Envelope {
    let device = devices[rng.below(devices.len() as u64) as usize].clone();
    let ts = now - Duration::from_millis(rng.below((DAYS * 86_400_000) as u64));
    let roll = rng.below(100);
    let person_no = rng.below(PEOPLE as u64);
    let person = PersonRef {
        id: format!("u-{person_no:05}"),
        name: person_name(person_no),
    };
    let event = match roll {
        0..=69 => Event::AccessDecision {
            result: AccessResult::Granted,
            method: AccessMethod::Face,
            person: Some(person),
            reason: None,
            score: Some(0.6 + (rng.below(40) as f32) / 100.0),
            liveness: Some(0.9),
            snapshot: None,
        },
        70..=79 => Event::AccessDecision {
            result: AccessResult::Denied,
            method: AccessMethod::Face,
            person: None,
            reason: Some(DenyReason::UnknownFace),
            score: Some(0.3),
            liveness: Some(0.8),
            snapshot: Some(format!("snap/{seq}.jpg")),
        },
        80..=84 => Event::AccessDecision {
            result: AccessResult::Denied,
            method: AccessMethod::Face,
            person: Some(person),
            reason: Some(DenyReason::LivenessFailed),
            score: Some(0.7),
            liveness: Some(0.2),
            snapshot: None,
        },
        85..=92 => Event::AccessDecision {
            result: AccessResult::Granted,
            method: AccessMethod::ExitButton,
            person: None,
            reason: None,
            score: None,
            liveness: None,
            snapshot: None,
        },
        _ => Event::AccessDecision {
            result: AccessResult::Granted,
            method: AccessMethod::Remote,
            person: None,
            reason: None,
            score: None,
            liveness: None,
            snapshot: None,
        },
    };
    Envelope {
        v: protocol::VERSION,
        id: Uuid::new_v4(),
        device,
        boot_id: Uuid::nil(),
        seq,
        ts,
        mono_ms: seq,
        clock_synced: true,
        event,
    }
}

async fn load(tc: &TestCloud, rows: u64) -> Duration {
    let db = tc.cloud().database();
    let site = protocol::SiteId::parse("bench").expect("site");
    let mut devices = Vec::new();
    for i in 0..DEVICES {
        let id = DeviceId::parse(format!("door-{i:02}")).expect("id");
        tc.cloud()
            .create_device(&site, &id, &format!("Pintu {i}"))
            .await
            .expect("device");
        devices.push(id);
    }
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let now = OffsetDateTime::now_utc();
    let started = Instant::now();
    let mut seq = 0;
    while seq < rows {
        let n = (rows - seq).min(10_000);
        let batch: Vec<Envelope> = (0..n)
            .map(|i| envelope(&mut rng, seq + i + 1, now, &devices))
            .collect();
        let txn = db.begin().await.expect("begin");
        cloud_api::history::record(&txn, batch.iter(), now)
            .await
            .expect("insert");
        txn.commit().await.expect("commit");
        seq += n;
    }
    if let Backend::Postgres { .. } = tc.backend {
        use sea_orm::ConnectionTrait;
        db.execute_unprepared("ANALYZE access_logs")
            .await
            .expect("analyze");
    }
    started.elapsed()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Peak RSS (VmHWM) in KiB.
fn vm_hwm() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

fn vm_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

async fn token(tc: &TestCloud, client: &reqwest::Client) -> String {
    let body: Value = client
        .post(tc.url("/api/auth/login"))
        .json(&serde_json::json!({"email": tc.admin_email, "password": tc.admin_password}))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("body");
    body["accessToken"].as_str().expect("token").to_owned()
}

async fn queries(tc: &TestCloud, rounds: usize) {
    let client = reqwest::Client::new();
    let token = token(tc, &client).await;
    let today = OffsetDateTime::now_utc().date();
    let day = |d: i64| (today - time::Duration::days(d)).to_string();
    let mut rng = Rng(42);
    let kinds: Vec<(&str, Box<dyn Fn(&mut Rng) -> String>)> = vec![
        ("newest page", Box::new(|_| String::new())),
        (
            "device",
            Box::new(|r| format!("device_id=door-{:02}", r.below(DEVICES as u64))),
        ),
        (
            "person",
            Box::new(|r| format!("person_id=u-{:05}", r.below(PEOPLE as u64))),
        ),
        (
            "denied face",
            Box::new(|_| "result=denied&method=face".to_owned()),
        ),
        ("reason", Box::new(|_| "reason=liveness_failed".to_owned())),
        (
            "one day",
            Box::new(move |r| {
                let d = day(1 + r.below(300) as i64);
                format!("from={d}&to={d}")
            }),
        ),
        (
            "device + week",
            Box::new(move |r| {
                format!(
                    "device_id=door-{:02}&from={}&to={}",
                    r.below(DEVICES as u64),
                    day(30),
                    day(23)
                )
            }),
        ),
        (
            "name search",
            Box::new(|r| {
                format!(
                    "q={}",
                    person_name(r.below(PEOPLE as u64))
                        .split(' ')
                        .nth(2)
                        .unwrap_or("0001")
                )
            }),
        ),
        (
            "name search, words",
            // Common to rare: a first name (10 % of the rows), a last name, both, or
            // three digits of a number (under 1 %).
            Box::new(|r| {
                let name = person_name(r.below(PEOPLE as u64));
                let words: Vec<&str> = name.split(' ').collect();
                let term = match r.below(4) {
                    0 => words[0].to_owned(),
                    1 => words[1].to_owned(),
                    2 => format!("{}%20{}", words[0], words[1]),
                    _ => words[2][1..].to_owned(),
                };
                format!("q={term}")
            }),
        ),
        ("page 20 via cursor", Box::new(|_| "CURSOR:20".to_owned())),
    ];
    let mut all = Vec::new();
    for (name, make) in &kinds {
        let mut times = Vec::with_capacity(rounds);
        let mut slowest = (Duration::ZERO, String::new());
        for _ in 0..rounds {
            let query = make(&mut rng);
            if let Some(pages) = query.strip_prefix("CURSOR:") {
                // Follow next_cursor; time only the last page.
                let pages: usize = pages.parse().unwrap_or(20);
                let mut cursor = String::new();
                for page in 0..pages {
                    let url = if cursor.is_empty() {
                        tc.url("/api/history/access?limit=50")
                    } else {
                        tc.url(&format!("/api/history/access?limit=50&cursor={cursor}"))
                    };
                    let started = Instant::now();
                    let body: Value = client
                        .get(url)
                        .bearer_auth(&token)
                        .send()
                        .await
                        .expect("request")
                        .json()
                        .await
                        .expect("json");
                    if page == pages - 1 {
                        times.push(started.elapsed());
                    }
                    cursor = body["pagination"]["next_cursor"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned();
                    if cursor.is_empty() {
                        break;
                    }
                }
                continue;
            }
            let started = Instant::now();
            let response = client
                .get(tc.url(&format!("/api/history/access?limit=50&{query}")))
                .bearer_auth(&token)
                .send()
                .await
                .expect("request");
            assert!(
                response.status().is_success(),
                "{query}: {}",
                response.status()
            );
            let _body: Value = response.json().await.expect("json");
            let took = started.elapsed();
            if took > slowest.0 {
                slowest = (took, query);
            }
            times.push(took);
        }
        times.sort();
        if times.is_empty() {
            continue;
        }
        println!(
            "  {name:<20} p50 {:>7.2} ms  p99 {:>7.2} ms  max {:>7.2} ms  ({} requests; slowest: {})",
            ms(percentile(&times, 0.5)),
            ms(percentile(&times, 0.99)),
            ms(*times.last().unwrap_or(&Duration::ZERO)),
            times.len(),
            if slowest.1.is_empty() { "a cursor page" } else { &slowest.1 }
        );
        all.extend(times);
    }
    all.sort();
    println!(
        "  {:<20} p50 {:>7.2} ms  p99 {:>7.2} ms  ({} requests)",
        "ALL",
        ms(percentile(&all, 0.5)),
        ms(percentile(&all, 0.99)),
        all.len()
    );
}

async fn exports(tc: &TestCloud, rows: u64) {
    let client = reqwest::Client::new();
    let token = token(tc, &client).await;
    // The newest `rows` rows: find the timestamp that bounds them.
    let body: Value = client
        .get(tc.url("/api/history/access?include_total=true&limit=1"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    let total = body["pagination"]["total"].as_u64().unwrap_or(0);
    let share = (rows as f64 / total.max(1) as f64).min(1.0);
    let days = ((DAYS as f64) * share).ceil() as i64;
    let from = (OffsetDateTime::now_utc() - time::Duration::days(days)).date();
    for format in ["csv", "xlsx", "pdf"] {
        // Reset the peak to the current RSS, then watch it while the export streams.
        let _ = std::fs::write("/proc/self/clear_refs", "5");
        let before = vm_rss().unwrap_or(0);
        let started = Instant::now();
        let mut response = client
            .post(tc.url("/api/analytics/export"))
            .bearer_auth(&token)
            .json(&serde_json::json!({"format": format, "from": from.to_string()}))
            .send()
            .await
            .expect("export");
        assert!(
            response.status().is_success(),
            "{format}: {}",
            response.status()
        );
        let rows_header = response
            .headers()
            .get("x-export-rows")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let mut bytes = 0usize;
        let mut lines = 0usize;
        while let Some(chunk) = response.chunk().await.expect("chunk") {
            bytes += chunk.len();
            if format == "csv" {
                lines += chunk.iter().filter(|b| **b == b'\n').count();
            }
        }
        let elapsed = started.elapsed();
        let peak = vm_hwm().unwrap_or(0);
        let rows = rows_header.unwrap_or_else(|| (lines.saturating_sub(1)).to_string());
        println!(
            "  export {format:<4} {rows:>7} rows  {:>6.1} MB  {:>7.2} s  RSS before {:>6} KiB, peak {:>6} KiB (+{} KiB)",
            bytes as f64 / 1e6,
            elapsed.as_secs_f64(),
            before,
            peak,
            peak.saturating_sub(before)
        );
    }
}

async fn run(backend: Backend, rows: u64, export_rows: u64, rounds: usize) {
    println!("{} with {rows} access logs:", backend.name());
    let tc = TestCloud::start(backend, BrokerKind::Embedded).await;
    let took = load(&tc, rows).await;
    println!(
        "  loaded in {:.1} s ({:.0} rows/s)",
        took.as_secs_f64(),
        rows as f64 / took.as_secs_f64()
    );
    queries(&tc, rounds).await;
    exports(&tc, export_rows).await;
    tc.stop().await;
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    // `cargo bench` passes --bench; `cargo test` does not: then this is a quick smoke run.
    let measuring = std::env::args().any(|a| a == "--bench");
    let rows = env_u64(
        "GERBANG_BENCH_ROWS",
        if measuring { 1_000_000 } else { 3_000 },
    );
    let export_rows = env_u64(
        "GERBANG_BENCH_EXPORT_ROWS",
        if measuring { 100_000 } else { 1_000 },
    );
    let rounds = if measuring { 100 } else { 3 };
    runtime.block_on(async {
        if !measuring {
            run(Backend::Sqlite, rows, export_rows, rounds).await;
        }
        match Backend::postgres() {
            Some(pg) => run(pg, rows, export_rows, rounds).await,
            None if measuring => eprintln!("GERBANG_TEST_POSTGRES is not set: nothing measured"),
            None => {}
        }
    });
}
