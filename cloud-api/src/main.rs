//! `cloud-api`: the Gerbang cloud alone (no simulated doors, no demo data unless
//! `[meals] demo_data` asks for the meals demo's) — what the cloud package installs and
//! `cloud-api.service` runs. Configuration: defaults, then the TOML file given with
//! `--config` (or `GERBANG_CONFIG`), then `GERBANG_*` environment variables.
//! `cloud-api backup --to DIR` and `cloud-api restore --from DIR` keep a site's data
//! (`cloud_api::backup`); `cloud-api nats-issuer --seed-file F` makes the key of a NATS
//! cluster's auth callout.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use tokio_util::sync::CancellationToken;

/// mimalloc: glibc's malloc and free took a fifth of an authenticated read's CPU in the
/// profile of `docs/SCALING.md`.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(name = "cloud-api", version, about = "The Gerbang cloud API")]
struct Args {
    /// A TOML configuration file (optional; the environment overrides it).
    #[arg(long, env = "GERBANG_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Action>,
}

#[derive(Debug, Subcommand)]
enum Action {
    /// Serve the API (what runs without a subcommand).
    Serve,
    /// Write a consistent backup of the database and the data directory's files into a new
    /// directory (the cloud may keep running).
    Backup {
        #[arg(long)]
        to: PathBuf,
    },
    /// Restore a backup into the configured database (which must be empty) and data
    /// directory, then migrate it to this version's schema.
    Restore {
        #[arg(long)]
        from: PathBuf,
    },
    /// Generate the key that makes the replicas a NATS cluster's auth callout: writes its
    /// seed (a secret, for `GERBANG_NATS_AUTH_CALLOUT_SEED`) to a new file readable by its
    /// owner only, and prints the public key the servers' `auth_callout.issuer` names.
    NatsIssuer {
        #[arg(long)]
        seed_file: PathBuf,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,rumqttc=warn,rumqttd=warn,sqlx=warn,sea_orm=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let mut config = cloud_api::load_config(args.config.as_deref())
        .map_err(|e| anyhow::anyhow!(e))
        .context("reading the configuration")?;
    match args.command {
        Some(Action::Backup { to }) => {
            let manifest = cloud_api::backup::backup(&config, &to).await?;
            println!(
                "Backup written to {}: {} database, {} migrations, {} files.",
                to.display(),
                manifest.backend,
                manifest.migrations.len(),
                manifest.files
            );
            return Ok(());
        }
        Some(Action::Restore { from }) => {
            let manifest = cloud_api::backup::restore(&config, &from).await?;
            println!(
                "Restored the backup of {} ({} database, {} files).",
                manifest.created_at, manifest.backend, manifest.files
            );
            return Ok(());
        }
        Some(Action::NatsIssuer { seed_file }) => {
            let (seed, public) = cloud_api::platform::mqtt::nats::new_issuer()?;
            cloud_api::write_secret_file(&seed_file, &seed, false)
                .with_context(|| format!("writing {}", seed_file.display()))?;
            println!("{public}");
            return Ok(());
        }
        Some(Action::Serve) | None => {}
    }
    if let Some(file) = cloud_api::default_first_admin(&mut config)
        .context("writing the generated admin password")?
    {
        tracing::info!(file = %file.display(), "The first admin's password is in this file.");
    }
    let shutdown = CancellationToken::new();
    let cloud = cloud_api::start(config, shutdown.clone())
        .await
        .context("starting the cloud")?;
    tracing::info!(url = %cloud.public_url(), mqtt = %cloud.mqtt_url(), "Serving.");
    // Ctrl-C, or SIGTERM from systemd.
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("installing the SIGTERM handler")?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    tracing::info!("Stopping.");
    shutdown.cancel();
    cloud.stopped().await;
    Ok(())
}
