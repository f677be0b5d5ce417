//! A thin command line over `models::cli`, for running the face pipeline by hand.

use clap::Parser;

/// Face pipeline tools (the daemon exposes the same commands as `edge-daemon face …`).
#[derive(Debug, Parser)]
struct Args {
    #[command(subcommand)]
    command: models::cli::FaceCommand,
}

fn main() -> anyhow::Result<()> {
    models::cli::run(Args::parse().command)
}
