//! The logs of a whole enrolment and erasure hold no template bytes. Every line the cloud
//! writes — every crate, down to TRACE — while a face is registered from a real photo, a
//! door pulls the gallery and the person is erased, is searched for the template as the
//! gallery carries it (base64 of its floats) and as it is sealed at rest (base64 and hex).
//! One test in its own binary: it owns the process's log subscriber.

mod common;

use std::{
    io::Write,
    sync::{Mutex, PoisonError},
};

use base64::Engine;
use cloud_api::testkit::{unique_site, Backend};
use common::*;
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Statement};

/// Every line logged in this process.
static LOGS: Mutex<Vec<u8>> = Mutex::new(Vec::new());

struct Capture;

impl Write for Capture {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        LOGS.lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Windows of `text` worth searching for: a template shows in a log as a whole or cut.
fn windows(text: &str) -> Vec<&str> {
    let width = 24.min(text.len());
    (0..text.len().saturating_sub(width))
        .step_by(width)
        .map(|at| &text[at..at + width])
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_enrolment_and_erasure_log_no_template_bytes() {
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(|| Capture)
        .init();
    let tc = start(Backend::Sqlite).await;
    let admin = admin_token(&tc).await;
    let (id, _) = user_session(&tc, "obama@gerbang.test", &[("access", "member")]).await;
    let photo = testdata("people/obama/obama.jpg");
    let (status, body) =
        face_register_with(&tc, &admin, &id.to_string(), photo, "obama.jpg", "").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let door = tc.enroll_device(&unique_site("logs"), "door-1").await;
    let gallery = device_gallery(&tc, &door.token, "/api/device/gallery").await;
    let carried: Vec<String> = gallery
        .people
        .iter()
        .flat_map(|p| p.templates.clone())
        .collect();
    assert!(!carried.is_empty(), "the door got no template");
    let sealed: Vec<Vec<u8>> = tc
        .cloud()
        .database()
        .query_all(Statement::from_string(
            tc.cloud().database().get_database_backend(),
            "SELECT sealed FROM face_templates",
        ))
        .await
        .unwrap()
        .iter()
        .map(|row| row.try_get("", "sealed").unwrap())
        .collect();
    assert!(!sealed.is_empty());
    let (status, body) = delete(&tc, &admin, &format!("/api/users/{id}")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    tc.stop().await;

    let logs =
        String::from_utf8_lossy(&LOGS.lock().unwrap_or_else(PoisonError::into_inner)).into_owned();
    assert!(
        logs.contains("face") && logs.lines().count() > 100,
        "the capture saw too little to mean anything ({} lines)",
        logs.lines().count()
    );
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut forms: Vec<String> = carried.clone();
    for blob in &sealed {
        forms.push(b64.encode(blob));
        forms.push(hex::encode(blob));
    }
    for form in &forms {
        for window in windows(form) {
            assert!(
                !logs.contains(window),
                "a template's bytes ({window}…) are in the logs"
            );
        }
    }
    eprintln!(
        "{} log lines searched for {} forms of {} templates",
        logs.lines().count(),
        forms.len(),
        carried.len()
    );
}
