//! Door benchmarks on the real face models and photos, with the simulated camera and relay:
//! frame → relay latency of a granted face (p50/p99), CPU use of the whole door with nobody
//! in view and with a steady stream of faces, and resident memory.
//!
//! `cargo bench -p edge-daemon --bench door` (needs `ORT_DYLIB_PATH` for ONNX Runtime;
//! without it the much slower tract backend runs). Under `cargo test` it is a smoke run.

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use edge_daemon::vision::VisionSettings;
use protocol::AccessResult;
use support::*;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(run());
}

/// CPU seconds (user + system) this process has used so far, from `/proc/self/stat`.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = stat.rsplit_once(") ").map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name; Linux
    // reports them in USER_HZ, 100 a second on every architecture it runs on.
    (ticks(11) + ticks(12)) / 100.0
}

/// `VmRSS` and `VmHWM` (peak) in MiB.
fn memory_mib() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

async fn run() {
    let measuring = std::env::args().any(|a| a == "--bench");
    let samples = if measuring { 100 } else { 3 };
    let window = Duration::from_secs(if measuring { 30 } else { 2 });
    // The production voting window and presence hold (the tests stretch both for slow
    // debug builds; a bench measures the release build as it ships).
    let defaults = VisionSettings::default();
    let settings = VisionSettings {
        cooldown_secs: 0,
        window_ms: defaults.window_ms,
        presence: defaults.presence,
        ..settings()
    };
    let started = Instant::now();
    let rig = rig(settings, gallery_of(vec![obama()]), system_clock()).await;
    println!(
        "== face engine ({}) and door ready in {:.1} s ==",
        engine().backend_name(),
        started.elapsed().as_secs_f64()
    );

    // Nobody in view: the camera runs at 15 fps, only the presence trigger looks.
    tokio::time::sleep(Duration::from_secs(3)).await; // past the first-frame look
    let (cpu0, t0) = (cpu_seconds(), Instant::now());
    tokio::time::sleep(window).await;
    let idle = (cpu_seconds() - cpu0) / t0.elapsed().as_secs_f64() * 100.0;
    println!("  CPU, nobody in view:      {idle:>6.1} % of one core");

    // A steady stream of faces: a person walking in front of the camera the whole time.
    let mut verdicts = rig.handle.verdicts();
    let walking = walk(&rig.camera, live_sequence());
    let (cpu0, t0) = (cpu_seconds(), Instant::now());
    let mut latencies = Vec::with_capacity(samples);
    let mut busy_cpu = None;
    while latencies.len() < samples {
        let verdict = rig.verdict(&mut verdicts).await;
        if verdict.result != AccessResult::Granted {
            continue;
        }
        // The relay records every command with its own monotonic time.
        if let Some(unlock) = rig
            .relay
            .history()
            .iter()
            .find(|s| !s.locked && s.at >= verdict.captured)
        {
            latencies.push(unlock.at - verdict.captured);
        }
        rig.relay.clear_history();
        rig.door.lock("bench").await.expect("the door locks");
        if busy_cpu.is_none() && t0.elapsed() >= window {
            busy_cpu = Some((cpu_seconds() - cpu0) / t0.elapsed().as_secs_f64() * 100.0);
        }
    }
    let busy =
        busy_cpu.unwrap_or_else(|| (cpu_seconds() - cpu0) / t0.elapsed().as_secs_f64() * 100.0);
    walking.cancel();
    println!("  CPU, faces in view:       {busy:>6.1} % of one core");
    latencies.sort();
    println!(
        "  frame → relay ({} grants): p50 {:>6.1} ms  p99 {:>6.1} ms  max {:>6.1} ms",
        latencies.len(),
        percentile(&latencies, 0.5).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        latencies.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
    );
    let (rss, peak) = memory_mib();
    println!("  resident memory:          {rss:>6.1} MiB now, {peak:.1} MiB peak");
    assert!(!latencies.is_empty(), "no grant was measured");
}
