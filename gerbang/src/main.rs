//! `gerbang`: the cloud API and a simulated door in one process — the demo.

use tokio_util::sync::CancellationToken;

/// mimalloc: glibc's malloc and free took a fifth of an authenticated read's CPU in the
/// profile of `docs/SCALING.md`.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,rumqttc=warn,rumqttd=warn,sqlx=warn,sea_orm=warn".into()),
        )
        .init();
    let doors = std::env::var("GERBANG_DEMO_DOORS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1);
    let shutdown = CancellationToken::new();
    let running = gerbang::start(doors, shutdown.clone()).await?;

    let url = running.cloud.public_url().to_owned();
    println!();
    println!("  Gerbang is running.");
    println!("  API and dashboard  {url}");
    println!("  Health, metrics    {url}/health   {url}/metrics");
    println!("  MQTT broker        {}", running.cloud.mqtt_url());
    match &running.admin_password_file {
        Some(file) => println!(
            "  Admin              {} (password in {})",
            running.admin_email,
            file.display()
        ),
        None => println!(
            "  Admin              {} (password from GERBANG_ADMIN_PASSWORD)",
            running.admin_email
        ),
    }
    println!("  Meals portal       {url}/meals/api  (NIK/password: ADM001/admin123, EMP001/emp123, KIT001/kitchen123, DEL001/delivery123, EMP002/emp123)");
    println!("  SAKIP (seed 002)   {url}/sakip/api/v1  (username/password: testuser/testpass, super_admin)");
    println!("  ChatMe (seed 004)  {url}/chatme/api, Socket.IO {url}/chatme  (phone/password: 081211110000/chatme123 agency, 081211110001 Rina host, live now, 081211110002 Maya host, 081211110003 and 081211110004 viewers with 10,000 coins)");
    for (device, _) in &running.doors {
        println!(
            "  Simulated door     {device} (site {}): people leave through it every ~20 s",
            gerbang::DEMO_SITE
        );
    }
    if let Some((kiosk, _)) = &running.kiosk {
        println!(
            "  Attendance kiosk   {kiosk} (site {}): the demo's visitors check in at it every ~30 s",
            gerbang::DEMO_SITE
        );
    }
    println!();
    println!("  Try:  TOKEN=$(curl -s {url}/api/auth/login -H 'content-type: application/json' \\");
    println!(
        "          -d '{{\"email\":\"{}\",\"password\":\"…\"}}' | jq -r .accessToken)",
        running.admin_email
    );
    println!("        curl -s {url}/api/devices -H \"Authorization: Bearer $TOKEN\"");
    println!("        curl -s {url}/api/door/control -H \"Authorization: Bearer $TOKEN\" \\");
    println!("          -H 'content-type: application/json' -d '{{\"action\":\"unlock\"}}'");
    println!("  Ctrl-C stops it.");
    println!();

    edge_daemon::shutdown_signal().await;
    tracing::info!("Stopping.");
    shutdown.cancel();
    running.stopped().await;
    Ok(())
}
