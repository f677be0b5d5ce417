//! The device load generator: N simulated doors, each enrolled through the cloud's HTTP API
//! with a key of its own, streaming sealed events over MQTT until every receipt is in
//! (`testkit::fleet`). Prints one line of figures. Used by `scripts/scale/replicas.sh`.
//!
//! `cargo run --release -p cloud-api --features testkit --example fleet -- \
//!    --base http://127.0.0.1:8080 --mqtt mqtt://127.0.0.1:1883 --devices 1000 --events 60`
//! with `GERBANG_ADMIN_EMAIL` / `GERBANG_ADMIN_PASSWORD` naming an admin.

use std::time::Duration;

use clap::Parser;
use cloud_api::testkit::{
    fleet::{Fleet, Stream},
    unique_site,
};

#[derive(Debug, Parser)]
struct Args {
    /// The cloud (or the load balancer in front of its replicas).
    #[arg(long)]
    base: String,
    /// The broker devices connect to.
    #[arg(long)]
    mqtt: String,
    #[arg(long, default_value_t = 100)]
    devices: usize,
    /// Events per device.
    #[arg(long, default_value_t = 60)]
    events: u64,
    /// Milliseconds between two events of one device.
    #[arg(long, default_value_t = 1000)]
    interval_ms: u64,
    /// Resend what is unconfirmed after this many milliseconds without a receipt.
    #[arg(long, default_value_t = 3000)]
    resend_ms: u64,
    #[arg(long, default_value_t = 600)]
    deadline_secs: u64,
    /// Writes every confirmed event's `sent_ms,confirmed_ms` (ms since the Unix epoch) here.
    #[arg(long)]
    confirmations: Option<std::path::PathBuf>,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let email = std::env::var("GERBANG_ADMIN_EMAIL")?;
    let password = std::env::var("GERBANG_ADMIN_PASSWORD")?;
    let login: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/api/auth/login", args.base))
        .json(&serde_json::json!({"email": email, "password": password}))
        .send()
        .await?
        .json()
        .await?;
    let token = login["accessToken"]
        .as_str()
        .ok_or_else(|| format!("sign-in refused: {login}"))?;
    let site = unique_site("fleet");
    let fleet = Fleet::enroll(&args.base, token, &site, args.devices).await?;
    eprintln!(
        "{} devices enrolled at site {}",
        args.devices,
        site.as_str()
    );
    let report = fleet
        .stream(
            &args.mqtt,
            Stream {
                events_per_device: args.events,
                interval: Duration::from_millis(args.interval_ms),
                resend_after: Duration::from_millis(args.resend_ms),
                deadline: Duration::from_secs(args.deadline_secs),
            },
        )
        .await;
    if let Some(path) = &args.confirmations {
        let mut csv = csv::Writer::from_path(path)?;
        csv.write_record(["sent_ms", "confirmed_ms"])?;
        for c in &report.confirmations {
            csv.serialize((c.sent_ms, c.confirmed_ms))?;
        }
        csv.flush()?;
    }
    let secs = report.elapsed.as_secs_f64();
    println!(
        "site={} devices={} events={} resent={} unconfirmed={} elapsed_s={secs:.1} events_per_s={:.0} {}",
        site.as_str(),
        report.devices,
        report.events,
        report.resent,
        report.unconfirmed,
        report.events as f64 / secs,
        report.confirm_latency.line("confirm", None),
    );
    if report.unconfirmed > 0 {
        std::process::exit(1);
    }
    Ok(())
}
