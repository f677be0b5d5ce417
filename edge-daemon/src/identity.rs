//! The device's identity on disk: who it is, its private key and how to reach the cloud.
//!
//! Written once by `edge-daemon enroll` with owner-only permissions; the token and the key
//! are secrets and never reach a log line.

use std::{
    fmt,
    fs::{self, OpenOptions},
    io::Write,
    path::{Path, PathBuf},
};

use protocol::{DeviceId, Keypair, PublicKey, SiteId};
use serde::{Deserialize, Serialize};

#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error("this device is not enrolled yet ({path} is missing): run `edge-daemon enroll --cloud URL --code CODE`")]
    NotEnrolled { path: PathBuf },
    #[error("cannot read {path}: {reason}")]
    Unreadable { path: PathBuf, reason: String },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// A secret string whose `Debug` and `Display` never show it.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Self {
        Self(value)
    }

    /// The secret itself, for the one place that must send it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// What enrolment gave this device.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Credentials {
    pub device: DeviceId,
    pub site: SiteId,
    pub token: Secret,
    pub cloud_public_key: PublicKey,
    pub cloud_url: String,
    pub mqtt_url: String,
}

/// Credentials plus the device's private key.
#[derive(Debug, Clone)]
pub struct Identity {
    pub credentials: Credentials,
    pub key: Keypair,
}

const CREDENTIALS_FILE: &str = "credentials.json";
const KEY_FILE: &str = "device.key";

impl Identity {
    /// A made-up door `door-1` of site `test` with fresh keys and a cloud at these URLs,
    /// for tests (this crate's and its integration tests').
    #[doc(hidden)]
    pub fn for_tests(cloud_url: &str, mqtt_url: &str) -> Identity {
        Identity {
            credentials: Credentials {
                device: protocol::DeviceId::parse("door-1").unwrap(),
                site: protocol::SiteId::parse("test").unwrap(),
                token: Secret::new("s3cret".into()),
                cloud_public_key: protocol::Keypair::generate().public(),
                cloud_url: cloud_url.into(),
                mqtt_url: mqtt_url.into(),
            },
            key: protocol::Keypair::generate(),
        }
    }

    pub fn load(data_dir: &Path) -> Result<Self, IdentityError> {
        let path = data_dir.join(CREDENTIALS_FILE);
        let raw = match fs::read_to_string(&path) {
            Ok(raw) => raw,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(IdentityError::NotEnrolled { path })
            }
            Err(e) => {
                return Err(IdentityError::Unreadable {
                    path,
                    reason: e.to_string(),
                })
            }
        };
        let credentials: Credentials =
            serde_json::from_str(&raw).map_err(|e| IdentityError::Unreadable {
                path: path.clone(),
                reason: e.to_string(),
            })?;
        let key_path = data_dir.join(KEY_FILE);
        let key_raw = fs::read_to_string(&key_path).map_err(|e| IdentityError::Unreadable {
            path: key_path.clone(),
            reason: e.to_string(),
        })?;
        let key = Keypair::from_secret_base64(&key_raw).map_err(|e| IdentityError::Unreadable {
            path: key_path,
            reason: e.to_string(),
        })?;
        Ok(Self { credentials, key })
    }

    pub fn exists(data_dir: &Path) -> bool {
        data_dir.join(CREDENTIALS_FILE).exists()
    }

    /// Writes both files, readable by the owner only.
    pub fn save(&self, data_dir: &Path) -> Result<(), IdentityError> {
        fs::create_dir_all(data_dir).map_err(|source| IdentityError::Write {
            path: data_dir.to_owned(),
            source,
        })?;
        write_private(
            &data_dir.join(KEY_FILE),
            self.key.to_secret_base64().as_bytes(),
        )?;
        let json = serde_json::to_vec_pretty(&self.credentials).expect("credentials serialise");
        write_private(&data_dir.join(CREDENTIALS_FILE), &json)
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<(), IdentityError> {
    let tmp = path.with_extension("tmp");
    let write = || -> std::io::Result<()> {
        let mut options = OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&tmp, path)
    };
    write().map_err(|source| IdentityError::Write {
        path: path.to_owned(),
        source,
    })
}
