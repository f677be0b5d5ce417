//! The demo's attendance kiosk: with the visitors on (as `cargo run --release` has them),
//! the enrolled people who walk up to `kiosk-1` are checked in through the real face
//! pipeline, and the day's attendance report shows them in.

mod support;

use std::time::Duration;

use serde_json::Value;
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_kiosk_checks_its_visitors_in() {
    let data = tempfile::tempdir().unwrap();
    let log = std::fs::File::create(data.path().join("gerbang.log")).unwrap();
    let (_gerbang, base) = spawn_demo(data.path(), log, &[]);
    let admin = eventually(Duration::from_secs(120), "the demo to take logins", || {
        Admin::login_at(&base)
    })
    .await;
    let kiosk = eventually(
        Duration::from_secs(60),
        "the kiosk to be enrolled",
        || async {
            admin
                .devices()
                .await?
                .into_iter()
                .find(|d| d["id"] == "kiosk-1")
        },
    )
    .await;
    assert_eq!(kiosk["name"], "Kios Absensi");
    // Someone checked in today, through the kiosk's camera.
    let person = eventually(
        Duration::from_secs(240),
        "a check-in at the kiosk",
        || async {
            let report: Value = admin
                .http
                .get(format!("{base}/api/attendance/daily"))
                .bearer_auth(&admin.token)
                .send()
                .await
                .ok()?
                .json()
                .await
                .ok()?;
            report["people"]
                .as_array()?
                .iter()
                .find(|p| p["check_in"].is_string())
                .cloned()
        },
    )
    .await;
    assert_ne!(person["status"], "absent", "{person}");
}
