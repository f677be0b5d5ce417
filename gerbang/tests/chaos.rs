//! Short versions of the chaos scenarios of `docs/RELIABILITY.md` (issue #20): each test
//! runs its `scripts/chaos/*.sh` with small figures against the suite's own debug builds of
//! `cloud-api` and `edge-daemon` (`CHAOS_BIN_DIR`, so nothing more is built) and checks what
//! the script prints — nothing lost, nothing stored twice, `missing_seqs = 0`, the door's
//! store intact — besides the script's own exit status.
//!
//! The scripts need root, network namespaces, private PostgreSQL and Mosquitto servers,
//! libfaketime, socat and openssl (`scripts/chaos/prerequisites.sh` says what is missing;
//! `scripts/ci/chaos.sh` installs the Debian tools). `cargo xtask test` runs these tests where
//! everything is there and filters them out by name, visibly, where it is not; a test run
//! without its prerequisites says "skipped", and fails under
//! `GERBANG_TEST_REQUIRE_SERVICES=1`. One scenario runs at a time: each loads both cores and
//! measures timings.

use std::{
    io::{BufRead, BufReader, Read},
    os::unix::process::CommandExt,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::Mutex,
    time::{Duration, Instant},
};

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The folder of this build's binaries (`target/debug`), where `cargo test --workspace`
/// (and so `cargo xtask test`) has built `cloud-api` and `edge-daemon`.
fn binaries() -> PathBuf {
    let mut dir = std::env::current_exe().expect("the test binary's path");
    dir.pop();
    if dir.ends_with("deps") {
        dir.pop();
    }
    for bin in ["cloud-api", "edge-daemon"] {
        assert!(
            dir.join(bin).exists(),
            "{} is missing: build the workspace's binaries (cargo xtask test does; or \
             cargo build -p cloud-api -p edge-daemon --bins)",
            dir.join(bin).display()
        );
    }
    dir
}

/// Why `scenario` cannot run here, if it cannot.
fn missing(scenario: &str) -> Option<String> {
    let out = Command::new("bash")
        .arg(repository().join("scripts/chaos/prerequisites.sh"))
        .arg(scenario)
        .output();
    match out {
        Ok(out) if out.status.success() => None,
        Ok(out) => Some(String::from_utf8_lossy(&out.stdout).trim().to_owned()),
        Err(e) => Some(format!("cannot run bash: {e}")),
    }
}

/// What a script printed, and how long it ran.
struct Transcript {
    stdout: String,
    secs: f64,
}

impl Transcript {
    /// The first line containing `needle`.
    fn line(&self, needle: &str) -> &str {
        self.stdout
            .lines()
            .find(|line| line.contains(needle))
            .unwrap_or_else(|| panic!("no line with {needle:?} in:\n{}", self.stdout))
    }

    /// The number after `name=` in `line`.
    fn figure(line: &str, name: &str) -> u64 {
        let key = format!("{name}=");
        line.split_whitespace()
            .find_map(|word| word.strip_prefix(&key))
            .and_then(|n| n.trim_end_matches([';', ',']).parse().ok())
            .unwrap_or_else(|| panic!("no {name}=N in {line:?}"))
    }

    /// The verdict line (`written=… stored=… distinct=… missing_seqs=… lost=… duplicated=…`):
    /// the door wrote something, and the cloud holds every seq once.
    fn assert_nothing_lost_or_doubled(&self) -> u64 {
        let verdict = self.line("written=");
        let written = Self::figure(verdict, "written");
        assert!(written > 0, "the door wrote nothing: {verdict}");
        for (name, expected) in [
            ("stored", written),
            ("distinct", written),
            ("missing_seqs", 0),
            ("lost", 0),
            ("duplicated", 0),
        ] {
            assert_eq!(Self::figure(verdict, name), expected, "{name} in {verdict}");
        }
        written
    }
}

/// Kills the script's process group: SIGTERM (its trap stops what it started), then SIGKILL.
fn stop_group(child: &mut Child) {
    let group = format!("-{}", child.id());
    let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
    let until = Instant::now() + Duration::from_secs(30);
    while Instant::now() < until {
        if matches!(child.try_wait(), Ok(Some(_))) {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
    let _ = child.wait();
}

/// Runs `scripts/chaos/<script>` with `env`, for at most `limit`; `None` when the scenario's
/// prerequisites are missing (said, or a failure under `GERBANG_TEST_REQUIRE_SERVICES=1`).
/// Fails when the script does, with everything it printed.
fn run(scenario: &str, script: &str, env: &[(&str, &str)], limit: Duration) -> Option<Transcript> {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(reason) = missing(scenario) {
        let required = std::env::var("GERBANG_TEST_REQUIRE_SERVICES").is_ok_and(|v| v == "1");
        assert!(
            !required,
            "chaos scenario {scenario} required but cannot run: {reason}"
        );
        eprintln!("skipped: chaos scenario {scenario}: {reason}");
        return None;
    }
    let started = Instant::now();
    let mut child = Command::new("bash")
        .arg(repository().join("scripts/chaos").join(script))
        .env("CHAOS_BIN_DIR", binaries())
        .env("CLOUD_DB", "sqlite")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own process group, so a script past its limit is stopped with all it started.
        .process_group(0)
        .spawn()
        .expect("bash runs");
    // Echoed as it comes (seen with --nocapture), and kept.
    let stdout = child.stdout.take().expect("piped");
    let name = script.to_owned();
    let echo = std::thread::spawn(move || {
        let mut kept = String::new();
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            eprintln!("{name}: {line}");
            kept.push_str(&line);
            kept.push('\n');
        }
        kept
    });
    let mut stderr = child.stderr.take().expect("piped");
    let errors = std::thread::spawn(move || {
        let mut kept = String::new();
        let _ = stderr.read_to_string(&mut kept);
        kept
    });
    let status = loop {
        if let Some(status) = child.try_wait().expect("the script can be waited on") {
            break Some(status);
        }
        if started.elapsed() > limit {
            stop_group(&mut child);
            break None;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let stdout = echo.join().unwrap_or_default();
    let stderr = errors.join().unwrap_or_default();
    let secs = started.elapsed().as_secs_f64();
    match status {
        Some(status) if status.success() => {
            eprintln!("{script}: passed in {secs:.0} s");
            Some(Transcript { stdout, secs })
        }
        Some(status) => panic!("{script} failed ({status}) after {secs:.0} s:\n{stdout}\n{stderr}"),
        None => panic!("{script} still running after {limit:?}; stopped:\n{stdout}\n{stderr}"),
    }
}

#[test]
#[ignore = "chaos: needs sqlite3, jq and curl (scripts/chaos/prerequisites.sh); cargo xtask test runs it"]
fn chaos_kill_cycles_keep_the_store_intact_and_lose_nothing() {
    const KILLS: u64 = 20;
    let Some(run) = run(
        "kill-cycles",
        "kill-cycles.sh",
        &[("KILLS", "20"), ("CHECK_EVERY", "1")],
        Duration::from_secs(240),
    ) else {
        return;
    };
    // `PRAGMA integrity_check` after every kill, and at the end.
    let checks: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| l.starts_with("after "))
        .collect();
    assert_eq!(checks.len() as u64, KILLS, "{}", run.stdout);
    assert!(
        checks.iter().all(|l| l.ends_with("integrity_check=ok")),
        "{}",
        run.stdout
    );
    let last = run.line("SIGKILLs in");
    assert!(
        last.contains("final integrity_check=ok") && last.contains("(failed checks on the way: 0)"),
        "{last}"
    );
    let written = run.assert_nothing_lost_or_doubled();
    eprintln!(
        "{KILLS} kills: {written} events, all stored once, in {:.0} s",
        run.secs
    );
}

#[test]
#[ignore = "chaos: needs root, PostgreSQL's and Mosquitto's server binaries (scripts/chaos/prerequisites.sh); cargo xtask test runs it"]
fn chaos_restarts_of_broker_database_and_cloud_lose_nothing() {
    let Some(run) = run(
        "restarts",
        "restarts.sh",
        &[("RESTARTS", "1"), ("HOLD_SECS", "3"), ("BETWEEN_SECS", "4")],
        Duration::from_secs(300),
    ) else {
        return;
    };
    for step in [
        "Mosquitto restart 1 done",
        "PostgreSQL restart 1 (fast) done",
        "PostgreSQL crash (immediate stop) and start done",
        "cloud SIGKILL 1 done",
    ] {
        run.line(step);
    }
    let written = run.assert_nothing_lost_or_doubled();
    eprintln!(
        "restarts: {written} events, all stored once, in {:.0} s",
        run.secs
    );
}

#[test]
#[ignore = "chaos: needs root, ip netns, /dev/net/tun and socat (scripts/chaos/prerequisites.sh); cargo xtask test runs it"]
fn chaos_network_partition_loss_latency_and_flapping_lose_nothing() {
    let Some(run) = run(
        "network",
        "network.sh",
        &[
            ("PARTITION_SECS", "10"),
            ("LOSS_SECS", "5"),
            ("LATENCY_SECS", "5"),
            ("FLAP_TOTAL_SECS", "6"),
            ("FLAP_SECS", "1"),
            ("BASE_SECS", "3"),
            ("DRAIN_LIMIT_SECS", "90"),
        ],
        Duration::from_secs(300),
    ) else {
        return;
    };
    for phase in ["partition", "loss", "latency", "flapping"] {
        let healed = run.line(&format!("{phase}: healed with seq"));
        assert!(!healed.contains("not drained"), "{healed}");
    }
    run.assert_nothing_lost_or_doubled();
    // The door went on deciding in every phase: decisions written, and no pause between two
    // of them as long as the partition (5 s leaves room for a loaded machine).
    let table: Vec<&str> = run
        .stdout
        .lines()
        .skip_while(|l| !l.starts_with("phase "))
        .skip(1)
        .collect();
    for phase in ["partition", "loss", "latency", "flapping"] {
        let row = table
            .iter()
            .find(|l| l.split_whitespace().next() == Some(phase))
            .unwrap_or_else(|| panic!("no {phase} row in:\n{}", run.stdout));
        let words: Vec<&str> = row.split_whitespace().collect();
        let decisions: u64 = words[1].parse().expect("a count");
        let pause: u64 = words[3].parse().unwrap_or(u64::MAX);
        assert!(
            decisions > 0 && pause < 5_000,
            "the door waited on the network: {row}"
        );
    }
}

/// The clock scenario's checks (clock.sh prints OK only when they hold): every event written
/// at 1970 corrected by the cloud, none stored twice or lost.
fn assert_clock_corrected(run: &Transcript) {
    let counts = run.line("unsynchronised events:");
    let unsynced: u64 = counts
        .split(|c: char| !c.is_ascii_digit())
        .find(|w| !w.is_empty())
        .and_then(|w| w.parse().ok())
        .unwrap_or(0);
    assert!(unsynced > 0, "{counts}");
    assert!(counts.ends_with("left uncorrected: 0"), "{counts}");
    run.line("access-log rows still dated before 2025: 0");
    let verdict = run.line("written=");
    assert!(verdict.contains(" lost=0 duplicated=0"), "{verdict}");
    assert_eq!(run.stdout.lines().last(), Some("OK"), "{}", run.stdout);
}

#[test]
#[ignore = "chaos: needs libfaketime (scripts/chaos/prerequisites.sh); cargo xtask test runs it"]
fn chaos_clock_at_1970_is_corrected_by_the_cloud() {
    let Some(run) = run(
        "clock",
        "clock.sh",
        &[("UNSYNCED_SECS", "8"), ("SYNCED_SECS", "4")],
        Duration::from_secs(180),
    ) else {
        return;
    };
    assert_clock_corrected(&run);
}

#[test]
#[ignore = "chaos: needs libfaketime, socat and openssl (scripts/chaos/prerequisites.sh); cargo xtask test runs it"]
fn chaos_clock_at_1970_refuses_tls_until_the_clock_is_right() {
    let Some(run) = run(
        "clock-tls",
        "clock.sh",
        &[("TLS", "1"), ("UNSYNCED_SECS", "8"), ("SYNCED_SECS", "4")],
        Duration::from_secs(240),
    ) else {
        return;
    };
    // At 1970 the certificate is not yet valid: nothing reached the cloud, and the daemon
    // said why; after the jump everything came over TLS.
    let refused = run.line("at 1970 over TLS:");
    assert!(refused.contains("the cloud received 0;"), "{refused}");
    assert!(!refused.contains("; 0 log lines"), "{refused}");
    let after = run.line("after the jump:");
    assert!(!after.contains("never"), "{after}");
    assert_clock_corrected(&run);
}
