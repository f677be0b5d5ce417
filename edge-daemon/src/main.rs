//! `edge-daemon`: parses the command line and hands over to the library.

use std::{io::IsTerminal, path::PathBuf};

use anyhow::Context;
use clap::{Parser, Subcommand};
use edge_daemon::{backup, config::EdgeConfig, daemon, enroll, hardware};
use tokio_util::sync::CancellationToken;

#[derive(Parser)]
#[command(
    name = "edge-daemon",
    version,
    about = "The Gerbang daemon at a door or kiosk."
)]
struct Cli {
    /// TOML configuration file (defaults, then this file, then GERBANG_* variables).
    #[arg(long, short, env = "GERBANG_CONFIG", global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Cmd>,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the daemon (the default).
    Run,
    /// Exchange a one-time code from the dashboard for this device's credentials.
    Enroll {
        /// The cloud's base URL, e.g. https://gerbang.example.org
        #[arg(long)]
        cloud: String,
        #[arg(long)]
        code: String,
        /// Enrol again even if this device already has credentials.
        #[arg(long)]
        force: bool,
    },
    /// Check disk, credentials, clock, cloud, broker and hardware; exits 1 if any fails.
    Doctor {
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Copy the store (unsynced events included), credentials, gallery and queued evidence
    /// into a new directory; safe while the daemon runs.
    Backup {
        /// The backup directory (new or empty).
        #[arg(long)]
        to: PathBuf,
    },
    /// Bring a backup back into an empty data directory (a replaced SD card).
    Restore {
        /// The backup directory.
        #[arg(long)]
        from: PathBuf,
    },
    /// Face recognition tools for installers: identify, evaluate, benchmark.
    #[command(subcommand)]
    Face(models::cli::FaceCommand),
}

fn main() -> anyhow::Result<()> {
    // The arguments first: `--help` and `--version` answer before any thread or runtime
    // exists.
    let cli = Cli::parse();
    // Logs go to stderr, always: stdout is for what a command answers (`--json` documents
    // that scripts pipe into jq). Colour only for a person at a terminal, never into a file
    // or the journal.
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,rumqttc=warn".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    let config = EdgeConfig::load(cli.config.as_deref()).context("reading the configuration")?;
    let command = cli.command.unwrap_or(Cmd::Run);
    // The face tools are CPU-bound and synchronous: no runtime at all.
    match command {
        Cmd::Face(command) => return models::cli::run(command),
        // File work: no runtime either.
        Cmd::Backup { to } => return backup_to(&config, &to),
        Cmd::Restore { from } => return restore_from(&config, &from),
        _ => {}
    }
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?
        .block_on(dispatch(command, config))
}

/// Runs every command but the face tools on the async runtime.
async fn dispatch(command: Cmd, config: EdgeConfig) -> anyhow::Result<()> {
    match command {
        Cmd::Run => run(config).await,
        Cmd::Face(command) => models::cli::run(command),
        Cmd::Backup { to } => backup_to(&config, &to),
        Cmd::Restore { from } => restore_from(&config, &from),
        Cmd::Doctor { json } => {
            let report = edge_daemon::doctor::run(&config).await;
            if json {
                println!("{}", report.to_json());
            } else {
                print!("{}", report.to_text());
            }
            std::process::exit(if report.ok { 0 } else { 1 });
        }
        Cmd::Enroll { cloud, code, force } => {
            let credentials = enroll::enroll(
                &cloud,
                &code,
                &config.data_dir,
                config.cloud.ca_file.as_deref(),
                force,
            )
            .await?;
            println!(
                "Enrolled as device {} of site {}. Credentials are in {}.",
                credentials.device,
                credentials.site,
                config.data_dir.display()
            );
            Ok(())
        }
    }
}

fn backup_to(config: &EdgeConfig, to: &std::path::Path) -> anyhow::Result<()> {
    let manifest = backup::backup(&config.data_dir, to)
        .with_context(|| format!("backing up {}", config.data_dir.display()))?;
    println!(
        "Backed up {} into {}: {} unsynced events (last seq {}), {} files.",
        config.data_dir.display(),
        to.display(),
        manifest.unsynced,
        manifest.last_seq,
        manifest.files
    );
    Ok(())
}

fn restore_from(config: &EdgeConfig, from: &std::path::Path) -> anyhow::Result<()> {
    let manifest = backup::restore(&config.data_dir, from)
        .with_context(|| format!("restoring {}", from.display()))?;
    println!(
        "Restored {} into {}: device {}, {} unsynced events (last seq {}), backed up at {}.",
        from.display(),
        config.data_dir.display(),
        manifest.device.as_deref().unwrap_or("not enrolled"),
        manifest.unsynced,
        manifest.last_seq,
        manifest.created_at
    );
    Ok(())
}

async fn run(config: EdgeConfig) -> anyhow::Result<()> {
    let shutdown = CancellationToken::new();
    let built = hardware::build(&config.hal, config.door.fail_mode)
        .context("setting up the hardware ([hal] in the configuration)")?;
    let running = daemon::start(&config, built.hardware, built.world, shutdown.clone()).await?;
    edge_daemon::shutdown_signal().await;
    tracing::info!("Stopping.");
    shutdown.cancel();
    running.stopped().await;
    Ok(())
}
