//! The MQTT ingest pipeline: frames from the broker are collected into batches (up to
//! [`MAX_BATCH`] frames or [`MAX_BATCH_WAIT`]), judged, stored in one transaction, and each
//! device in the batch gets a sealed receipt. Nothing a device sends can stop this loop.

use std::{collections::HashMap, sync::Arc, time::Duration};

use axum::body::Bytes;
use futures::future::join_all;
use protocol::{Channel, DeviceId, Receipt, Topic};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::{
    store::{store_events, DeviceOutcome},
    verify::{verify_frame, Rejection, VerifiedEvent},
};
use crate::state::{AppState, Platform};

/// The most frames stored in one transaction.
pub const MAX_BATCH: usize = 500;
/// How long the first frame of a batch waits for company.
pub const MAX_BATCH_WAIT: Duration = Duration::from_millis(5);

/// A publish received on an `events` topic.
#[derive(Debug)]
pub struct IncomingFrame {
    pub topic: String,
    pub payload: Bytes,
    /// Whom to tell once the frame is settled: a JetStream delivery is acknowledged only
    /// after its batch committed, so a replica that dies first leaves it for another.
    /// `None` over MQTT, where the device resends whatever no receipt covers.
    pub delivery: Option<Box<dyn Settle>>,
}

/// A broker delivery waiting for its verdict.
#[async_trait::async_trait]
pub trait Settle: Send + Sync + std::fmt::Debug {
    /// Stored (or already stored): the broker may forget it.
    async fn stored(self: Box<Self>);
    /// Refused for good (forged, unknown device, bad topic): never deliver it again.
    async fn refused(self: Box<Self>);
    /// Not stored this time: deliver it again later.
    async fn retry(self: Box<Self>);
}

/// Settles `deliveries` with `verdict`, all at once.
async fn settle<F, Fut>(deliveries: Vec<Box<dyn Settle>>, verdict: F)
where
    F: Fn(Box<dyn Settle>) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    join_all(deliveries.into_iter().map(verdict)).await;
}

/// Runs until `shutdown`, then drains what is already queued.
pub async fn run_batcher(
    platform: AppState,
    mut rx: mpsc::Receiver<IncomingFrame>,
    shutdown: CancellationToken,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    loop {
        let first = tokio::select! {
            biased;
            msg = rx.recv() => msg,
            _ = shutdown.cancelled() => None,
        };
        let Some(first) = first else {
            // Shutting down or the MQTT loop is gone: store what is queued, then stop.
            rx.close();
            while let Some(frame) = rx.recv().await {
                batch.push(frame);
                if batch.len() == MAX_BATCH {
                    process(&platform, std::mem::take(&mut batch)).await;
                }
            }
            process(&platform, std::mem::take(&mut batch)).await;
            return;
        };
        batch.push(first);
        let deadline = tokio::time::Instant::now() + MAX_BATCH_WAIT;
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(frame) => batch.push(frame),
                Err(_) => match tokio::time::timeout_at(deadline, rx.recv()).await {
                    Ok(Some(frame)) => batch.push(frame),
                    _ => break,
                },
            }
        }
        process(&platform, std::mem::take(&mut batch)).await;
    }
}

async fn judge(platform: &Platform, frame: &IncomingFrame) -> Result<VerifiedEvent, Rejection> {
    let topic = Topic::parse(&frame.topic).map_err(|e| Rejection::BadTopic(e.to_string()))?;
    if topic.channel != Channel::Events {
        return Err(Rejection::BadTopic(format!(
            "{} is not an events topic",
            frame.topic
        )));
    }
    let device = match platform.devices.get(&platform.db, &topic.device).await {
        Ok(Some(device)) => device,
        Ok(None) => return Err(Rejection::UnknownDevice(topic.device.to_string())),
        Err(err) => {
            tracing::error!(error = %err, "Device lookup failed during ingest.");
            return Err(Rejection::UnknownDevice(topic.device.to_string()));
        }
    };
    if device.site != topic.site {
        return Err(Rejection::WrongSite {
            device: device.id.to_string(),
            expected: device.site.to_string(),
            got: topic.site.to_string(),
        });
    }
    verify_frame(&frame.payload, &device)
}

async fn process(platform: &Arc<Platform>, batch: Vec<IncomingFrame>) {
    if batch.is_empty() {
        return;
    }
    let mut verified = Vec::with_capacity(batch.len());
    let mut accepted = Vec::new();
    let mut refused = Vec::new();
    for mut frame in batch {
        let judged = judge(platform, &frame).await;
        let delivery = frame.delivery.take();
        match judged {
            Ok(event) => {
                verified.push(event);
                accepted.extend(delivery);
            }
            Err(rejection) => {
                refused.extend(delivery);
                platform.metrics.rejected(rejection.reason());
                tracing::warn!(
                    topic = %truncate(&frame.topic, 200),
                    bytes = frame.payload.len(),
                    reason = rejection.reason(),
                    error = %rejection,
                    "MQTT frame rejected."
                );
            }
        }
    }
    settle(refused, |d| d.refused()).await;
    if verified.is_empty() {
        return;
    }
    let count = verified.len();
    let mut attempt = 0;
    let outcome = loop {
        match store_events(platform, verified.clone()).await {
            Ok(outcome) => break outcome,
            Err(err) if attempt < 3 => {
                attempt += 1;
                tracing::warn!(error = %err, attempt, "Storing an ingest batch failed; retrying.");
                tokio::time::sleep(Duration::from_millis(100 * attempt)).await;
            }
            Err(err) => {
                // The devices keep these events (no receipt) and send them again.
                tracing::error!(error = %err, events = count, "Storing an ingest batch failed.");
                settle(accepted, |d| d.retry()).await;
                return;
            }
        }
    };
    tracing::debug!(
        events = count,
        stored = outcome.inserted(),
        "Ingest batch committed."
    );
    publish_receipts(platform, &outcome.devices).await;
    settle(accepted, |d| d.stored()).await;
}

/// Publishes each device's sealed receipt (QoS 1) after a committed batch.
pub async fn publish_receipts(platform: &Platform, devices: &HashMap<DeviceId, DeviceOutcome>) {
    for (device, outcome) in devices {
        let topic = Topic::new(&outcome.site, device, Channel::Receipts).to_string();
        let receipt = Receipt {
            v: protocol::VERSION,
            upto_seq: outcome.upto_seq,
        };
        let frame = protocol::seal(&receipt, &platform.cloud_key);
        if let Err(err) = platform.mqtt.publish(topic, false, frame).await {
            tracing::warn!(%device, error = %err, "Could not publish a receipt.");
        }
    }
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}
