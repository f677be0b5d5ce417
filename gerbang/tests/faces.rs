//! Faces end to end: Obama and Biden enrolled through the cloud's face-register endpoint
//! (as the demo does), a door pulling the gallery over HTTPS, real photos in front of its
//! simulated camera (a printed photo refused), decisions reaching the cloud and its
//! `/metrics`.

mod support;

use std::time::Duration;

use cloud_api::testkit::{Backend, BrokerKind};
use protocol::{AccessResult, DenyReason};
use support::*;

/// The value of `gerbang_access_decisions_total{result="…"}` on `/metrics`.
async fn decisions_counted(site: &Site, result: &str) -> Option<f64> {
    let text = reqwest::get(site.url("/metrics"))
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    let wanted = format!("gerbang_access_decisions_total{{result=\"{result}\"}}");
    text.lines()
        .find(|l| l.starts_with(&wanted))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faces_enrolled_in_the_cloud_open_the_door_and_are_counted() {
    let site = Site::new(Backend::Sqlite, BrokerKind::Embedded).await;
    let dir = tempfile::tempdir().unwrap();
    let FaceDoor {
        running,
        vision,
        camera,
        shutdown,
        cast,
    } = face_door(&site, dir.path(), "faces").await;
    let mut verdicts = vision.camera.verdicts();

    // Obama walks up: three photos at different head angles in turn.
    let walking = show_in_turn(&camera, cast.obama.clone());
    let granted = first_verdict(
        &mut verdicts,
        "verdict for Obama",
        Duration::from_secs(60),
        |_| true,
    )
    .await;
    walking.cancel();
    assert_eq!(granted.result, AccessResult::Granted, "{granted:?}");
    // A stranger.
    camera.show(cast.strangers[0].clone());
    let denied = first_verdict(
        &mut verdicts,
        "denial of the stranger",
        Duration::from_secs(60),
        |v| v.result == AccessResult::Denied,
    )
    .await;
    assert_eq!(denied.reason, Some(DenyReason::UnknownFace));
    // The demo's presentation attack: a printed portrait of Biden (enrolled) moved about in
    // front of the camera. The default parallax cue refuses it. The camera shows nobody for
    // a moment first, as when one visitor leaves before the next arrives.
    camera.clear();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let holding = show_in_turn(&camera, cast.biden_print.clone());
    let refused = first_verdict(
        &mut verdicts,
        "verdict on the printed photo",
        Duration::from_secs(90),
        |v| v.reason != Some(DenyReason::UnknownFace),
    )
    .await;
    holding.cancel();
    assert_eq!(refused.result, AccessResult::Denied, "{refused:?}");
    assert_eq!(refused.reason, Some(DenyReason::LivenessFailed));
    camera.clear();

    eventually(
        Duration::from_secs(60),
        "both decisions counted",
        || async {
            let granted = decisions_counted(&site, "granted").await?;
            let denied = decisions_counted(&site, "denied").await?;
            (granted >= 1.0 && denied >= 1.0).then_some(())
        },
    )
    .await;
    shutdown.cancel();
    running.stopped().await;
}
