//! What the camera keeps about people, and for how long. A snapshot is tied to a person
//! when an access decision about them names it (the projector, in the ingest transaction);
//! the person's erasure — or their face registration's — deletes those snapshots from the
//! object store and their rows, their data export holds the original images, and every
//! snapshot and recording is deleted past the retention period (`camera_snapshots`, 30
//! days by default).
//!
//! The object store is not transactional: an erasure deletes the images before its
//! transaction commits, so a failed erasure may leave rows whose image is already gone
//! (answered as not found), never an image of an erased person.

use std::{
    collections::HashMap,
    sync::{Arc, OnceLock},
};

use object_store::ObjectStore;
use platform::{
    domain::{ExportFile, PersonalData, Projector, RetentionAction, RetentionPolicy},
    ingest::forget::ErasedSnapshot,
};
use protocol::{Envelope, Event};
use sea_orm::{
    sea_query::Expr, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{entities::camera_record, hub::object_key};

/// The object store, set once the domain is prepared.
pub type StoreCell = Arc<OnceLock<Arc<dyn ObjectStore>>>;

/// Records deleted per step of the retention pass.
const BATCH: u64 = 500;

fn store_of(cell: &StoreCell) -> Result<&Arc<dyn ObjectStore>, DbErr> {
    cell.get()
        .ok_or_else(|| DbErr::Custom("the camera's object store is not prepared".into()))
}

/// Deletes `rows`' images, then the rows. An image already gone is fine.
async fn delete_records(
    db: &impl ConnectionTrait,
    store: &dyn ObjectStore,
    rows: &[camera_record::Model],
) -> Result<u64, DbErr> {
    for row in rows {
        match store.delete(&object_key(&row.device_id, row.id)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => return Err(DbErr::Custom(format!("deleting a snapshot: {e}"))),
        }
    }
    if rows.is_empty() {
        return Ok(0);
    }
    Ok(camera_record::Entity::delete_many()
        .filter(camera_record::Column::Id.is_in(rows.iter().map(|r| r.id)))
        .exec(db)
        .await?
        .rows_affected)
}

/// The snapshots tied to people.
#[derive(Debug)]
pub struct SnapshotRecords {
    pub store: StoreCell,
}

impl SnapshotRecords {
    async fn of(
        &self,
        db: &impl ConnectionTrait,
        user: Uuid,
    ) -> Result<Vec<camera_record::Model>, DbErr> {
        camera_record::Entity::find()
            .filter(camera_record::Column::PersonId.eq(user.to_string()))
            .order_by_asc(camera_record::Column::Timestamp)
            .order_by_asc(camera_record::Column::Id)
            .all(db)
            .await
    }

    async fn forget(&self, txn: &DatabaseTransaction, user: Uuid) -> Result<(), DbErr> {
        // The claims first: an evidence upload racing this erasure waits on them, then
        // finds a tombstone (or its record, committed first, is found below).
        crate::evidence::erase_person(txn, &user.to_string()).await?;
        let rows = self.of(txn, user).await?;
        let removed = delete_records(txn, &**store_of(&self.store)?, &rows).await?;
        if removed > 0 {
            tracing::info!(user = %user, removed, "A person's snapshots deleted.");
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl PersonalData for SnapshotRecords {
    async fn count(
        &self,
        db: &DatabaseConnection,
        users: Option<&[Uuid]>,
    ) -> Result<HashMap<Uuid, u64>, DbErr> {
        let mut counts = camera_record::Entity::find()
            .select_only()
            .column(camera_record::Column::PersonId)
            .column_as(Expr::col(camera_record::Column::Id).count(), "n")
            .filter(camera_record::Column::PersonId.is_not_null())
            .group_by(camera_record::Column::PersonId);
        if let Some(users) = users {
            counts = counts
                .filter(camera_record::Column::PersonId.is_in(users.iter().map(Uuid::to_string)));
        }
        Ok(counts
            .into_tuple::<(String, i64)>()
            .all(db)
            .await?
            .into_iter()
            .filter_map(|(id, n)| Some((Uuid::parse_str(&id).ok()?, n.max(0) as u64)))
            .collect())
    }

    async fn erase(&self, txn: &DatabaseTransaction, user: Uuid) -> Result<(), DbErr> {
        self.forget(txn, user).await
    }

    async fn erase_face(&self, txn: &DatabaseTransaction, user: Uuid) -> Result<(), DbErr> {
        self.forget(txn, user).await
    }

    /// `snapshots.json` (when, which door, why) and each original image in `snapshots/`.
    async fn export(&self, db: &DatabaseConnection, user: Uuid) -> Result<Vec<ExportFile>, DbErr> {
        let rows = self.of(db, user).await?;
        let store = store_of(&self.store)?;
        let mut files = Vec::with_capacity(rows.len() + 1);
        let mut listed = Vec::with_capacity(rows.len());
        for row in &rows {
            let name = format!("snapshots/{}.jpg", row.id);
            let image = match store.get(&object_key(&row.device_id, row.id)).await {
                Ok(found) => Some(
                    found
                        .bytes()
                        .await
                        .map_err(|e| DbErr::Custom(format!("reading a snapshot: {e}")))?,
                ),
                Err(object_store::Error::NotFound { .. }) => None,
                Err(e) => return Err(DbErr::Custom(format!("reading a snapshot: {e}"))),
            };
            listed.push(serde_json::json!({
                "id": row.id,
                "device": row.device_id,
                "timestamp": row.timestamp.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
                "event_type": row.event_type,
                "file": image.as_ref().map(|_| name.clone()),
            }));
            if let Some(image) = image {
                files.push(ExportFile {
                    name,
                    bytes: image.to_vec(),
                });
            }
        }
        files.insert(0, ExportFile::json("snapshots.json", &listed));
        Ok(files)
    }
}

/// Ties a snapshot to the person its access decision names, in the ingest transaction:
/// the record's owner when the snapshot came first (older devices upload it before they
/// record the decision), and the evidence claim for a snapshot still on its way (see
/// [`crate::evidence`]).
#[derive(Debug)]
pub struct SnapshotOwners {
    pub store: StoreCell,
}

#[async_trait::async_trait]
impl Projector for SnapshotOwners {
    async fn events(
        &self,
        _platform: &platform::state::Platform,
        txn: &DatabaseTransaction,
        events: &[&Envelope],
        now: OffsetDateTime,
    ) -> Result<(), DbErr> {
        for envelope in events {
            let Event::AccessDecision {
                person,
                snapshot: Some(key),
                ..
            } = &envelope.event
            else {
                continue;
            };
            let Ok(id) = Uuid::parse_str(key) else {
                continue;
            };
            let device = envelope.device.as_str();
            crate::evidence::claim(txn, device, id, person.as_ref().map(|p| p.id.as_str()), now)
                .await?;
            let Some(person) = person else {
                continue;
            };
            // Only the device's own snapshot: no device can tie another's to someone.
            camera_record::Entity::update_many()
                .col_expr(
                    camera_record::Column::PersonId,
                    Expr::value(person.id.clone()),
                )
                .filter(camera_record::Column::Id.eq(id))
                .filter(camera_record::Column::DeviceId.eq(envelope.device.as_str()))
                .exec(txn)
                .await?;
        }
        Ok(())
    }

    /// A late decision about someone erased: the image it named is deleted if it is here,
    /// and dropped when it comes.
    async fn erased_snapshots(
        &self,
        txn: &DatabaseTransaction,
        snapshots: &[ErasedSnapshot],
    ) -> Result<(), DbErr> {
        let now = OffsetDateTime::now_utc();
        for snapshot in snapshots {
            let Ok(id) = Uuid::parse_str(&snapshot.key) else {
                continue;
            };
            let device = snapshot.device.as_str();
            crate::evidence::tombstone(txn, device, id, now).await?;
            let rows = camera_record::Entity::find()
                .filter(camera_record::Column::Id.eq(id))
                .filter(camera_record::Column::DeviceId.eq(device))
                .all(txn)
                .await?;
            let removed = delete_records(txn, &**store_of(&self.store)?, &rows).await?;
            if removed > 0 {
                tracing::info!(%device, removed, "The snapshot of an erased person's late decision deleted.");
            }
        }
        Ok(())
    }
}

/// Snapshots and recordings older than the period are deleted with their images.
#[derive(Debug)]
pub struct SnapshotRetention {
    pub store: StoreCell,
}

#[async_trait::async_trait]
impl RetentionPolicy for SnapshotRetention {
    fn name(&self) -> &'static str {
        "camera_snapshots"
    }

    fn default_days(&self) -> u32 {
        30
    }

    fn action(&self) -> RetentionAction {
        RetentionAction::Delete
    }

    async fn enforce(&self, db: &DatabaseConnection, cutoff: OffsetDateTime) -> Result<u64, DbErr> {
        let store = store_of(&self.store)?;
        let mut removed = 0;
        loop {
            let rows = camera_record::Entity::find()
                .filter(camera_record::Column::Timestamp.lt(cutoff))
                .order_by_asc(camera_record::Column::Timestamp)
                .limit(BATCH)
                .all(db)
                .await?;
            removed += delete_records(db, &**store, &rows).await?;
            if (rows.len() as u64) < BATCH {
                crate::evidence::expire(db, cutoff).await?;
                return Ok(removed);
            }
        }
    }
}
