//! Enrolment: trade the one-time code from the dashboard for this device's credentials.
//!
//! The device makes its own key pair here; only the public half leaves the device.

use std::path::Path;

use protocol::{
    sync::{EnrollRequest, EnrollResponse, ENROLL_PATH},
    Keypair,
};

use crate::{
    identity::{Credentials, Identity, IdentityError, Secret},
    transport::{self, TransportError},
};

#[derive(Debug, thiserror::Error)]
pub enum EnrollError {
    #[error(transparent)]
    Transport(#[from] TransportError),
    #[error("this device is already enrolled as {device}; pass --force to enrol it again")]
    AlreadyEnrolled { device: String },
    #[error("cannot reach the cloud: {0}")]
    Unreachable(#[from] reqwest::Error),
    #[error("the cloud refused the code ({status}): {message}")]
    Refused { status: u16, message: String },
    #[error(transparent)]
    Identity(#[from] IdentityError),
}

/// Enrols against `cloud_url` with `code` and writes the identity into `data_dir`.
pub async fn enroll(
    cloud_url: &str,
    code: &str,
    data_dir: &Path,
    site_ca: Option<&Path>,
    force: bool,
) -> Result<Credentials, EnrollError> {
    if !force {
        if let Ok(existing) = Identity::load(data_dir) {
            return Err(EnrollError::AlreadyEnrolled {
                device: existing.credentials.device.to_string(),
            });
        }
    }
    let base = transport::http_endpoint(cloud_url)?;
    let url = base.join(ENROLL_PATH).map_err(|e| TransportError::BadUrl {
        url: cloud_url.into(),
        reason: e.to_string(),
    })?;
    let tls = transport::tls_config(site_ca)?;
    let http = reqwest::Client::builder()
        .use_preconfigured_tls((*tls).clone())
        .timeout(std::time::Duration::from_secs(30))
        .build()?;
    let key = Keypair::generate();
    let request = EnrollRequest {
        code: code.trim().to_owned(),
        public_key: key.public(),
        firmware: crate::FIRMWARE.into(),
    };
    let response = http.post(url).json(&request).send().await?;
    let status = response.status();
    if !status.is_success() {
        let body: serde_json::Value = response.json().await.unwrap_or_default();
        let message = body["message"]
            .as_str()
            .unwrap_or("no reason given")
            .to_owned();
        return Err(EnrollError::Refused {
            status: status.as_u16(),
            message,
        });
    }
    let answer: EnrollResponse = response.json().await?;
    let credentials = Credentials {
        device: answer.device,
        site: answer.site,
        token: Secret::new(answer.token),
        cloud_public_key: answer.cloud_public_key,
        cloud_url: base.to_string(),
        mqtt_url: answer.mqtt_url,
    };
    Identity {
        credentials: credentials.clone(),
        key,
    }
    .save(data_dir)?;
    Ok(credentials)
}
