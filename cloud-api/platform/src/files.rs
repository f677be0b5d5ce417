//! Where the domains keep their files — snapshots, recordings, avatars, SAKIP documents —
//! through `object_store`: a directory of this machine by default, or one S3-compatible
//! bucket shared by every replica when `[object_store] bucket` is set (each area of files
//! under its own prefix, `media/…`, `sakip/…`, as in the data directory).

use std::{path::Path, sync::Arc};

use object_store::{
    aws::AmazonS3Builder, local::LocalFileSystem, path::Path as ObjectPath, prefix::PrefixStore,
    ObjectStore,
};
use serde::{Deserialize, Serialize};

use crate::{config::CloudConfig, start_error::CloudError};

/// The `[object_store]` section (`GERBANG_OBJECT_STORE_*`).
#[derive(Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ObjectStoreConfig {
    /// The bucket; unset keeps files in local directories.
    pub bucket: Option<String>,
    /// The S3 endpoint, e.g. `https://s3.ap-southeast-3.amazonaws.com` or a SeaweedFS/MinIO
    /// gateway such as `http://10.0.0.5:8333`; unset means AWS itself.
    pub endpoint: Option<String>,
    /// AWS region (any value for most S3-compatible servers).
    pub region: Option<String>,
    /// Credentials; both unset sends unsigned requests (a gateway without authentication).
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
}

impl std::fmt::Debug for ObjectStoreConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObjectStoreConfig")
            .field("bucket", &self.bucket)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field(
                "secret_access_key",
                &self.secret_access_key.as_ref().map(|_| "***"),
            )
            .finish()
    }
}

impl ObjectStoreConfig {
    /// True when files go to a bucket rather than local directories.
    pub fn is_shared(&self) -> bool {
        self.bucket.is_some()
    }
}

/// The store for the files of `area` (`media`, `sakip`): the bucket under the prefix
/// `area/` when one is configured, else the directory `local_dir` (created when missing).
pub fn open(
    config: &CloudConfig,
    area: &str,
    local_dir: &Path,
) -> Result<Arc<dyn ObjectStore>, CloudError> {
    let settings = &config.object_store;
    let Some(bucket) = &settings.bucket else {
        std::fs::create_dir_all(local_dir)
            .map_err(|e| CloudError::Config(format!("creating {}: {e}", local_dir.display())))?;
        let store = LocalFileSystem::new_with_prefix(local_dir)
            .map_err(|e| CloudError::Config(format!("{}: {e}", local_dir.display())))?;
        return Ok(Arc::new(store));
    };
    let mut builder = AmazonS3Builder::new()
        .with_bucket_name(bucket)
        .with_region(settings.region.as_deref().unwrap_or("us-east-1"));
    if let Some(endpoint) = &settings.endpoint {
        builder = builder
            .with_endpoint(endpoint)
            .with_allow_http(endpoint.starts_with("http://"));
    }
    builder = match (&settings.access_key_id, &settings.secret_access_key) {
        (Some(id), Some(secret)) => builder
            .with_access_key_id(id)
            .with_secret_access_key(secret),
        (None, None) => builder.with_skip_signature(true),
        _ => {
            return Err(CloudError::Config(
                "object_store: set both access_key_id and secret_access_key, or neither".into(),
            ))
        }
    };
    let s3 = builder
        .build()
        .map_err(|e| CloudError::Config(format!("object_store: {e}")))?;
    Ok(Arc::new(PrefixStore::new(s3, ObjectPath::from(area))))
}
