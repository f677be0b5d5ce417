//! Camera snapshots to the cloud: JPEG encoding and the HTTPS upload to
//! [`protocol::sync::SNAPSHOTS_PATH`] with the device token, for denied faces (under the id
//! the event already carries, from [`crate::evidence`]'s queue), `capture` commands and
//! live streams.

use std::time::Duration;

use image::{codecs::jpeg::JpegEncoder, RgbImage};
use protocol::sync::{SnapshotStored, MAX_SNAPSHOT_BYTES, SNAPSHOTS_PATH};

use crate::identity::Secret;

#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("JPEG encoding failed: {0}")]
    Encode(String),
    #[error("snapshot of {0} bytes is larger than the cloud accepts")]
    TooLarge(usize),
    #[error("upload failed: {0}")]
    Http(#[from] reqwest::Error),
    #[error("the cloud answered {0} to a snapshot")]
    Status(u16),
    #[error("bad snapshot URL: {0}")]
    Url(String),
}

/// What a snapshot is for, which names it at the cloud.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Evidence for a denied decision, under the id the device chose and put in the event.
    Evidence(uuid::Uuid),
    /// The answer to a `capture` command.
    Command(uuid::Uuid),
    /// One frame of a live stream.
    Stream(uuid::Uuid),
}

/// Encodes `image` as a baseline JPEG of `quality` (1–100). CPU work: call it off the
/// async workers.
pub fn encode_jpeg(image: &RgbImage, quality: u8) -> Result<Vec<u8>, SnapshotError> {
    let mut out = Vec::with_capacity((image.width() * image.height() / 4) as usize);
    JpegEncoder::new_with_quality(&mut out, quality.clamp(1, 100))
        .encode_image(image)
        .map_err(|e| SnapshotError::Encode(e.to_string()))?;
    Ok(out)
}

/// Uploads snapshots with the device token.
#[derive(Debug, Clone)]
pub struct SnapshotClient {
    http: reqwest::Client,
    url: url::Url,
    token: Secret,
}

impl SnapshotClient {
    /// `cloud` is any URL on the cloud (its path is replaced).
    pub fn new(
        http: reqwest::Client,
        cloud: &url::Url,
        token: Secret,
    ) -> Result<Self, SnapshotError> {
        let url = cloud
            .join(SNAPSHOTS_PATH)
            .map_err(|e| SnapshotError::Url(e.to_string()))?;
        Ok(Self { http, url, token })
    }

    /// Sends one JPEG; returns the key the cloud stored it under.
    pub async fn upload(
        &self,
        jpeg: Vec<u8>,
        purpose: Purpose,
        timeout: Duration,
    ) -> Result<String, SnapshotError> {
        if jpeg.len() > MAX_SNAPSHOT_BYTES {
            return Err(SnapshotError::TooLarge(jpeg.len()));
        }
        let mut request = self
            .http
            .post(self.url.clone())
            .bearer_auth(self.token.expose())
            .header(reqwest::header::CONTENT_TYPE, "image/jpeg")
            .timeout(timeout)
            .body(jpeg);
        match purpose {
            Purpose::Evidence(id) => request = request.query(&[("evidence", id.to_string())]),
            Purpose::Command(id) => request = request.query(&[("command", id.to_string())]),
            Purpose::Stream(id) => request = request.query(&[("stream", id.to_string())]),
        }
        let response = request.send().await?;
        let status = response.status();
        if !status.is_success() {
            return Err(SnapshotError::Status(status.as_u16()));
        }
        Ok(response.json::<SnapshotStored>().await?.key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_a_decodable_jpeg_well_under_the_cloud_limit() {
        let image = RgbImage::from_fn(640, 480, |x, y| image::Rgb([x as u8, y as u8, 90]));
        let jpeg = encode_jpeg(&image, 80).unwrap();
        assert!(jpeg.starts_with(&[0xFF, 0xD8]));
        assert!(jpeg.len() < MAX_SNAPSHOT_BYTES / 10);
        let back = image::load_from_memory(&jpeg).unwrap();
        assert_eq!((back.width(), back.height()), (640, 480));
    }
}
