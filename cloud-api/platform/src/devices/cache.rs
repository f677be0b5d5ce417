//! A short-lived cache of enrolled devices (id, site, public key, token hash), so verifying a
//! frame does not cost a query. Entries expire quickly, so a re-enrolment on another replica
//! is picked up within seconds.

use std::{
    collections::HashMap,
    sync::{Arc, RwLock},
    time::{Duration, Instant},
};

use protocol::{DeviceId, PublicKey, SiteId};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

use crate::{
    db::entities::device,
    error::{DbContext, ServiceError},
    secrets::sha256_hex,
};

const TTL: Duration = Duration::from_secs(30);

/// An enrolled device, as needed to check what it sends.
#[derive(Debug, Clone)]
pub struct KnownDevice {
    pub id: DeviceId,
    pub site: SiteId,
    pub public_key: PublicKey,
    pub token_hash: String,
}

impl KnownDevice {
    fn from_model(model: device::Model) -> Option<Self> {
        let id = DeviceId::parse(&model.id).ok()?;
        let site = SiteId::parse(&model.site).ok()?;
        let public_key = PublicKey::from_base64(model.public_key.as_deref()?).ok()?;
        Some(Self {
            id,
            site,
            public_key,
            token_hash: model.token_hash?,
        })
    }
}

#[derive(Debug, Default)]
pub struct DeviceCache {
    entries: RwLock<HashMap<DeviceId, (Instant, Arc<KnownDevice>)>>,
}

impl DeviceCache {
    /// The enrolled device with this id, or `None` (unknown or not yet enrolled).
    pub async fn get(
        &self,
        db: &DatabaseConnection,
        id: &DeviceId,
    ) -> Result<Option<Arc<KnownDevice>>, ServiceError> {
        if let Some(hit) = self.cached(id) {
            return Ok(Some(hit));
        }
        let model = device::Entity::find_by_id(id.as_str())
            .one(db)
            .await
            .db("loading a device")?;
        Ok(model
            .and_then(KnownDevice::from_model)
            .map(|known| self.insert(known)))
    }

    /// The enrolled device holding this token.
    pub async fn by_token(
        &self,
        db: &DatabaseConnection,
        token: &str,
    ) -> Result<Option<Arc<KnownDevice>>, ServiceError> {
        let hash = sha256_hex(token.as_bytes());
        let model = device::Entity::find()
            .filter(device::Column::TokenHash.eq(hash))
            .one(db)
            .await
            .db("looking up a device token")?;
        Ok(model
            .and_then(KnownDevice::from_model)
            .map(|known| self.insert(known)))
    }

    pub fn invalidate(&self, id: &DeviceId) {
        if let Ok(mut entries) = self.entries.write() {
            entries.remove(id);
        }
    }

    fn cached(&self, id: &DeviceId) -> Option<Arc<KnownDevice>> {
        let entries = self.entries.read().ok()?;
        let (at, known) = entries.get(id)?;
        (at.elapsed() < TTL).then(|| known.clone())
    }

    fn insert(&self, known: KnownDevice) -> Arc<KnownDevice> {
        let known = Arc::new(known);
        if let Ok(mut entries) = self.entries.write() {
            entries.insert(known.id.clone(), (Instant::now(), known.clone()));
        }
        known
    }
}
