//! A cloud on a fresh SQLite file for HTTP load tests (`benches/http/*.lua` with wrk): no
//! sign-in rate limits, the admin `bench@gerbang.test`, and N refresh tokens written to a
//! file (one session per wrk connection). Stops on Ctrl-C.
//!
//! `cargo run -p cloud-api --example serve_for_bench -- 127.0.0.1:18080 /tmp/refresh.txt 4`
//! (`GERBANG_BENCH_DOORS=N` also registers N doors for `GET /api/door/status`;
//! `GERBANG_BENCH_DATABASE_URL` puts it on that database, e.g. PostgreSQL, instead).

use std::time::Duration;

use cloud_api::CloudConfig;
use tokio_util::sync::CancellationToken;

/// mimalloc: glibc's malloc and free took a fifth of an authenticated read's CPU in the
/// profile of `docs/SCALING.md`.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const EMAIL: &str = "bench@gerbang.test";
const PASSWORD: &str = "bench-password-123";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:18080".into());
    let tokens_file = args
        .next()
        .unwrap_or_else(|| "/tmp/gerbang-refresh.txt".into());
    let sessions: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(4);
    let dir = std::env::temp_dir().join(format!("gerbang-bench-{}", uuid::Uuid::new_v4()));
    let mut config = CloudConfig {
        data_dir: dir.clone(),
        database_url: std::env::var("GERBANG_BENCH_DATABASE_URL").ok(),
        http_addr: addr.parse()?,
        admin_email: Some(EMAIL.into()),
        admin_password: Some(PASSWORD.into()),
        ..CloudConfig::default()
    };
    config.mqtt.addr = "127.0.0.1:0".parse()?;
    config.security.auth_ip_burst = 100_000;
    config.security.account_burst = 100_000;
    let shutdown = CancellationToken::new();
    let cloud = cloud_api::start(config, shutdown.clone()).await?;
    // GERBANG_BENCH_DOORS=N registers N doors, so GET /api/door/status has something to show.
    let doors: usize = std::env::var("GERBANG_BENCH_DOORS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let site = protocol::SiteId::parse("bench")?;
    for i in 0..doors {
        let id = protocol::DeviceId::parse(format!("door-{i}"))?;
        cloud
            .create_device(&site, &id, &format!("Pintu {i}"))
            .await?;
    }
    let client = reqwest::Client::new();
    let mut tokens = Vec::new();
    let mut access = String::new();
    for _ in 0..sessions {
        let response = client
            .post(format!("http://{}/api/auth/login", cloud.http_addr()))
            .json(&serde_json::json!({"email": EMAIL, "password": PASSWORD}))
            .send()
            .await?;
        let cookie = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| v.strip_prefix("refreshToken="))
            .and_then(|v| v.split(';').next())
            .unwrap_or_default()
            .to_owned();
        tokens.push(cookie);
        let body: serde_json::Value = response.json().await?;
        access = body["accessToken"].as_str().unwrap_or_default().to_owned();
    }
    std::fs::write(&tokens_file, tokens.join("\n") + "\n")?;
    println!("ACCESS_TOKEN={access}");
    println!("ADMIN_EMAIL={EMAIL}");
    println!("ADMIN_PASSWORD={PASSWORD}");
    {
        use cloud_api::platform::identity::{M_COST_KIB, P_COST, T_COST};
        println!("ARGON2=argon2id m={M_COST_KIB} KiB t={T_COST} p={P_COST}");
    }
    println!("ready on http://{}", cloud.http_addr());
    tokio::signal::ctrl_c().await?;
    shutdown.cancel();
    let _ = tokio::time::timeout(Duration::from_secs(10), cloud.stopped()).await;
    let _ = std::fs::remove_dir_all(dir);
    Ok(())
}
