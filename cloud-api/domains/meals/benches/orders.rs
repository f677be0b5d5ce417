//! Meals under load, over HTTP against a real cloud: order creation and kitchen status
//! changes (throughput, p50/p99, with concurrent callers), then the realtime fan-out — many
//! real `socket.io-client` sockets spread over departments and roles, and for each status
//! change the delay from its HTTP answer to every targeted socket receiving
//! `order.status.changed` (and a check that no socket outside the audience heard it).
//!
//! `GERBANG_TEST_POSTGRES=postgres://postgres@127.0.0.1:5432/postgres cargo bench
//! --workspace --bench orders` measures on PostgreSQL (SQLite without the variable) with
//! 2,000 orders, 16 concurrent callers and 1,000 sockets; `GERBANG_BENCH_ORDERS`,
//! `GERBANG_BENCH_CONCURRENCY`, `GERBANG_BENCH_SOCKETS` change them. The sockets need
//! `npm ci --prefix cloud-api/tests/socketio`. Under `cargo test` (no `--bench` argument)
//! it is a quick smoke run.

#![allow(clippy::unwrap_used)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::{
    collections::HashMap,
    io::{BufRead, BufReader, Write},
    path::PathBuf,
    process::{Command, Stdio},
    sync::{mpsc, Arc},
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use cloud_api::testkit::{latency::Latencies, Backend, TestCloud};
use common::{create_user, login, Caller};
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};

const DEPARTMENTS: usize = 10;

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One department's people.
struct Department {
    id: i64,
    employee: Caller,
    dapur: Caller,
    delivery: Caller,
}

/// The cloud, a shift and `DEPARTMENTS` departments with an employee, a kitchen and a courier.
async fn set_up(backend: Backend) -> (common::World, Vec<Department>) {
    // Forty-odd sign-ins from one address in a moment: lift the per-address login limit.
    let w = common::world_with(backend, |config| config.security.auth_ip_burst = 1_000).await;
    let mut departments = Vec::new();
    for n in 0..DEPARTMENTS {
        let (status, body) = common::req(
            &w.tc,
            &w.admin,
            Method::POST,
            "/departments",
            Some(json!({"namaDivisi": format!("Bench {n}")})),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let id = body["id"].as_i64().unwrap();
        let mut people = Vec::new();
        for (prefix, role) in [("BE", "employee"), ("BK", "dapur"), ("BD", "delivery")] {
            let nik = format!("{prefix}{n:03}");
            create_user(&w.tc, &w.admin, &nik, role, id).await;
            people.push(login(&w.tc, &nik, "rahasia-123").await);
        }
        let delivery = people.pop().unwrap();
        let dapur = people.pop().unwrap();
        let employee = people.pop().unwrap();
        departments.push(Department {
            id,
            employee,
            dapur,
            delivery,
        });
    }
    (w, departments)
}

/// Runs `jobs` through `concurrency` workers; answers each job's result and the latencies.
async fn run_concurrently<J, F, Fut>(
    jobs: Vec<J>,
    concurrency: usize,
    call: F,
) -> (Vec<Value>, Latencies, Duration)
where
    J: Send + 'static,
    F: Fn(J) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Value> + Send,
{
    let queue = Arc::new(tokio::sync::Mutex::new(jobs.into_iter()));
    let call = Arc::new(call);
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let queue = queue.clone();
            let call = call.clone();
            tokio::spawn(async move {
                let mut results = Vec::new();
                let mut latencies = Latencies::new();
                loop {
                    let Some(job) = queue.lock().await.next() else {
                        break;
                    };
                    let t = Instant::now();
                    results.push(call(job).await);
                    latencies.record(t.elapsed());
                }
                (results, latencies)
            })
        })
        .collect();
    let mut all = Vec::new();
    let mut latencies = Latencies::new();
    for worker in workers {
        let (results, h) = worker.await.unwrap();
        all.extend(results);
        latencies.add(&h);
    }
    (all, latencies, started.elapsed())
}

async fn send(client: &Client, url: String, method: Method, token: &str, body: Value) -> Value {
    let response = client
        .request(method, url)
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert!(status.is_success(), "{status}: {body}");
    body
}

fn epoch_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
        * 1000.0
}

fn node_modules() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/socketio/node_modules");
    dir.join("socket.io-client").is_dir().then_some(dir)
}

/// What the sockets heard: `(orderId, newStatus)` → `(socket, epoch ms)`.
type Heard = mpsc::Receiver<Value>;

/// Starts the Node listener with `sockets` sockets spread over the departments: per
/// department 60 % kitchen, 20 % courier and 20 % the department's employee (the orderer).
fn start_listeners(
    tc: &TestCloud,
    departments: &[Department],
    sockets: usize,
    modules: &PathBuf,
) -> (std::process::Child, Heard, Vec<usize>) {
    let mut clients = Vec::new();
    let mut department_of = Vec::new();
    for i in 0..sockets {
        let d = i % departments.len();
        let dept = &departments[d];
        let slot = (i / departments.len()) % 10;
        let who = match slot {
            0..=5 => &dept.dapur,
            6 | 7 => &dept.delivery,
            _ => &dept.employee,
        };
        clients.push(json!({"token": who.token, "departmentId": dept.id}));
        department_of.push(d);
    }
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(serde_json::to_string(&clients).unwrap().as_bytes())
        .unwrap();
    let (_, path) = file.keep().unwrap();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/fanout.cjs");
    let mut child = Command::new("node")
        .env("NODE_PATH", modules)
        .arg(script)
        .arg(tc.url(""))
        .arg(&path)
        .stdout(Stdio::piped())
        // Not inherited: Node makes a shared stdio descriptor non-blocking, and this
        // process's own printing then fails with EAGAIN. Its errors arrive as JSON lines.
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Ok(value) = serde_json::from_str::<Value>(&line) {
                if tx.send(value).is_err() {
                    break;
                }
            }
        }
        let _ = std::fs::remove_file(path);
    });
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let line = rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("the sockets did not all connect within 120 s");
        if let Some(error) = line.get("error") {
            panic!("socket.io-client: {error}");
        }
        if line.get("ready").is_some() {
            break;
        }
    }
    (child, rx, department_of)
}

async fn bench(backend: Backend, measuring: bool) {
    let orders = env_usize("GERBANG_BENCH_ORDERS", if measuring { 2_000 } else { 40 });
    let concurrency = env_usize("GERBANG_BENCH_CONCURRENCY", 16);
    let sockets = env_usize("GERBANG_BENCH_SOCKETS", if measuring { 1_000 } else { 30 });
    println!(
        "meals on {}: {orders} orders, {concurrency} concurrent callers, {sockets} sockets",
        backend.name()
    );
    let (w, departments) = set_up(backend).await;
    let departments = Arc::new(departments);
    let client = Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()
        .unwrap();
    let base = w.tc.url("/meals/api");

    // Creation: each order by one department's employee, round robin.
    let jobs: Vec<usize> = (0..orders).map(|i| i % DEPARTMENTS).collect();
    let (created, latencies, elapsed) = {
        let (client, base, departments, shift) =
            (client.clone(), base.clone(), departments.clone(), w.shift);
        run_concurrently(jobs, concurrency, move |d| {
            let (client, base, departments) = (client.clone(), base.clone(), departments.clone());
            async move {
                let body = json!({"shiftId": shift, "jumlahPesanan": 1});
                let order = send(
                    &client,
                    format!("{base}/orders"),
                    Method::POST,
                    &departments[d].employee.token,
                    body,
                )
                .await;
                json!({"id": order["id"], "d": d, "code": order["kodePesanan"]})
            }
        })
        .await
    };
    println!("{}", latencies.line("POST /orders", Some(elapsed)));
    let mut codes: Vec<&str> = created
        .iter()
        .map(|o| o["code"].as_str().unwrap())
        .collect();
    codes.sort_unstable();
    codes.dedup();
    assert_eq!(codes.len(), orders, "order codes must be unique");

    // Status changes: MENUNGGU → IN_PROGRESS by each order's kitchen.
    let jobs: Vec<(i64, usize)> = created
        .iter()
        .map(|o| (o["id"].as_i64().unwrap(), o["d"].as_u64().unwrap() as usize))
        .collect();
    let (_, latencies, elapsed) = {
        let (client, base, departments) = (client.clone(), base.clone(), departments.clone());
        run_concurrently(jobs.clone(), concurrency, move |(id, d)| {
            let (client, base, departments) = (client.clone(), base.clone(), departments.clone());
            async move {
                send(
                    &client,
                    format!("{base}/orders/{id}/status"),
                    Method::PATCH,
                    &departments[d].dapur.token,
                    json!({"status": "IN_PROGRESS"}),
                )
                .await
            }
        })
        .await
    };
    println!(
        "{}",
        latencies.line("PATCH /orders/:id/status", Some(elapsed))
    );

    // Fan-out: IN_PROGRESS → READY, one at a time; READY goes to the department's kitchen
    // and couriers and to the orderer (every socket of that department here).
    let Some(modules) = node_modules() else {
        println!("  fan-out skipped: socket.io-client not installed (npm ci --prefix cloud-api/tests/socketio)");
        w.tc.stop().await;
        return;
    };
    let (mut node, heard, department_of) = start_listeners(&w.tc, &departments, sockets, &modules);
    let per_department: Vec<usize> = (0..DEPARTMENTS)
        .map(|d| department_of.iter().filter(|&&x| x == d).count())
        .collect();
    let changes = jobs.len().min(if measuring { 300 } else { 10 });
    let mut delays = Latencies::new();
    let mut last_delays = Latencies::new();
    let mut from_request = Latencies::new();
    for &(id, d) in jobs.iter().take(changes) {
        let requested = epoch_ms();
        send(
            &client,
            format!("{base}/orders/{id}/status"),
            Method::PATCH,
            &departments[d].dapur.token,
            json!({"status": "READY"}),
        )
        .await;
        let answered = epoch_ms();
        let mut got: HashMap<usize, f64> = HashMap::new();
        let deadline = Instant::now() + Duration::from_secs(10);
        while got.len() < per_department[d] {
            let line = heard
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .unwrap_or_else(|_| {
                    panic!(
                        "order {id}: {} of {} targeted sockets heard READY within 10 s",
                        got.len(),
                        per_department[d]
                    )
                });
            assert_eq!(line["o"], id, "an event for another order: {line}");
            let socket = line["c"].as_u64().unwrap() as usize;
            assert_eq!(
                department_of[socket], d,
                "a socket outside the audience heard {line}"
            );
            got.insert(socket, line["t"].as_f64().unwrap());
        }
        let mut slowest = 0.0_f64;
        for t in got.values() {
            let delay = (t - answered).max(0.0);
            slowest = slowest.max(delay);
            delays.record_ms(delay);
            from_request.record_ms(t - requested);
        }
        last_delays.record_ms(slowest);
    }
    println!("{}", delays.line("answer → each targeted socket", None));
    println!(
        "{}",
        last_delays.line("answer → last targeted socket", None)
    );
    // The event is emitted before the answer is written, so a socket often hears it first
    // (a delay of 0 above): from the request's start bounds it from the other side.
    println!(
        "{}",
        from_request.line("request sent → each targeted socket", None)
    );
    let _ = node.kill();
    let _ = node.wait();
    w.tc.stop().await;
}

#[tokio::main]
async fn main() {
    // `cargo bench` passes --bench; `cargo test` does not: then this is a quick smoke run.
    let measuring = std::env::args().any(|a| a == "--bench");
    let backend = Backend::postgres().unwrap_or(Backend::Sqlite);
    bench(backend, measuring).await;
}
