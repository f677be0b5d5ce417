//! The demo's visitors: real face photos from `models/testdata` shown to each simulated
//! door's camera, so every decision comes out of the real pipeline (presence trigger,
//! detection, liveness, embedding, gallery search, frame voting, door policy).
//!
//! The cast: Barack Obama and Joe Biden are enrolled at start through the cloud's own
//! face-register endpoint (`POST /api/users`, `POST /api/users/{id}/face-register`), as an
//! admin would. Obama walks up (three photos of him at different head angles, in turn, stand
//! in for a live head); strangers from the test set walk past; and someone holds up a
//! printed photo of Biden ([`edge_daemon::sim::printed_photo`]), which the parallax cue
//! refuses (the single-frame liveness models alone do not catch it on these images).

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use anyhow::Context;
use base64::Engine as _;
use hal::{sim::SimCamera, RgbImage};
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

/// Where the photos are (the models crate's test set).
pub fn testdata_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/testdata")
}

/// The photos the demo uses, decoded once.
#[derive(Debug, Clone)]
pub struct Cast {
    /// Obama at three head angles: a live person in front of the camera.
    pub obama: Vec<RgbImage>,
    /// Frames of a printed portrait of Biden held up to the camera.
    pub biden_print: Vec<RgbImage>,
    /// People who are never enrolled.
    pub strangers: Vec<RgbImage>,
}

impl Cast {
    /// Loads the cast from `dir`; an error when the test set is not there (a packaged
    /// install has no test photos: then the doors run without visitors).
    pub fn load(dir: &Path) -> anyhow::Result<Self> {
        let open = |rel: &str| -> anyhow::Result<RgbImage> {
            let path = dir.join(rel);
            Ok(image::open(&path)
                .with_context(|| format!("reading {}", path.display()))?
                .to_rgb8())
        };
        // A printed portrait: head and shoulders cut from the full-length photo (printed
        // whole, the face would be too small for the door to consider at all).
        let biden = open("people/biden/biden.jpg")?;
        let portrait = image::imageops::crop_imm(
            &biden,
            biden.width().saturating_sub(312),
            0,
            312,
            340.min(biden.height()),
        )
        .to_image();
        Ok(Self {
            obama: vec![
                open("people/obama/obama2.jpg")?,
                open("people/obama/obama3.jpg")?,
                open("people/obama/obama.jpg")?,
            ],
            biden_print: (0..6)
                .map(|i| edge_daemon::sim::printed_photo(&portrait, i))
                .collect(),
            strangers: vec![
                open("strangers/hanks.png")?,
                open("strangers/astronaut.jpg")?,
            ],
        })
    }
}

/// Enrols Obama (from `obama.jpg`) and Biden (from `biden.jpg`) through the cloud's HTTP
/// API with the admin's credentials. People already there are left as they are.
pub async fn enrol(base: &str, email: &str, password: &str, dir: &Path) -> anyhow::Result<()> {
    let http = reqwest::Client::new();
    let login: Value = http
        .post(format!("{base}/api/auth/login"))
        .json(&json!({ "email": email, "password": password }))
        .send()
        .await?
        .error_for_status()
        .context("admin login")?
        .json()
        .await?;
    let token = login["accessToken"]
        .as_str()
        .context("no access token in the login answer")?
        .to_owned();
    let existing: Value = http
        .get(format!("{base}/api/users"))
        .bearer_auth(&token)
        .send()
        .await?
        .error_for_status()
        .context("listing users")?
        .json()
        .await?;
    for (name, email, photo) in [
        (
            "Barack Obama",
            "obama@demo.gerbang.local",
            "people/obama/obama.jpg",
        ),
        (
            "Joe Biden",
            "biden@demo.gerbang.local",
            "people/biden/biden.jpg",
        ),
    ] {
        let known = existing["users"].as_array().and_then(|users| {
            users.iter().find(|u| u["email"] == email).map(|u| {
                (
                    u["id"].as_str().map(str::to_owned),
                    u["face_registered"] == true,
                )
            })
        });
        let id = match known {
            Some((_, true)) => continue,
            Some((Some(id), false)) => id,
            _ => {
                let created: Value = http
                    .post(format!("{base}/api/users"))
                    .bearer_auth(&token)
                    .json(&json!({ "name": name, "email": email }))
                    .send()
                    .await?
                    .error_for_status()
                    .with_context(|| format!("creating {name}"))?
                    .json()
                    .await?;
                created["user"]["id"]
                    .as_str()
                    .context("no id for the new user")?
                    .to_owned()
            }
        };
        let bytes = std::fs::read(dir.join(photo))?;
        let image = base64::engine::general_purpose::STANDARD.encode(bytes);
        http.post(format!("{base}/api/users/{id}/face-register"))
            .bearer_auth(&token)
            // The demo stands in for the admin who collected each person's consent.
            .json(&json!({ "image": image, "consent": true }))
            .send()
            .await?
            .error_for_status()
            .with_context(|| format!("registering {name}'s face"))?;
        tracing::info!(%name, "Demo person enrolled with a face.");
    }
    Ok(())
}

/// Shows the cast to `camera` in a loop until shutdown: an empty corridor between visits,
/// each visit a few seconds long. `gap` is the empty time between two visits.
pub async fn run(camera: SimCamera, cast: Cast, gap: Duration, shutdown: CancellationToken) {
    let mut scene = 0usize;
    loop {
        camera.clear();
        if sleep_or_stop(gap, &shutdown).await {
            return;
        }
        let (frames, every): (Vec<&RgbImage>, _) = match scene % 4 {
            0 | 2 => (cast.obama.iter().collect(), Duration::from_millis(150)),
            1 => (
                vec![&cast.strangers[(scene / 4) % cast.strangers.len()]],
                Duration::from_millis(150),
            ),
            _ => (
                cast.biden_print.iter().collect(),
                Duration::from_millis(150),
            ),
        };
        scene += 1;
        let visit = tokio::time::Instant::now() + Duration::from_secs(4);
        for image in frames.iter().cycle() {
            camera.show((*image).clone());
            if tokio::time::Instant::now() >= visit || sleep_or_stop(every, &shutdown).await {
                break;
            }
        }
        if shutdown.is_cancelled() {
            camera.clear();
            return;
        }
    }
}

async fn sleep_or_stop(duration: Duration, shutdown: &CancellationToken) -> bool {
    tokio::select! {
        _ = shutdown.cancelled() => true,
        _ = tokio::time::sleep(duration) => false,
    }
}
