//! Evidence snapshots a door names itself. A door records a denial at once, with the id
//! of its snapshot (a UUIDv7 it chose), and uploads the image later, when the cloud is
//! reachable (`POST SNAPSHOTS_PATH?evidence=ID`): the event and the image arrive in either
//! order, hours apart if the door was offline. `camera_evidence` is where they meet:
//!
//! - the ingest projector claims the id for the person the decision names ([`claim`]);
//! - the upload takes that person into its record ([`open_for_upload`]);
//! - an erasure turns its person's claims into tombstones ([`erase_person`]), and a late
//!   decision about someone already erased leaves one too ([`tombstone`]), so that an image
//!   arriving afterwards is acknowledged and dropped, never stored.
//!
//! Every side writes the claim row before anything else: on PostgreSQL the row's unique
//! key and lock order a concurrent upload, ingest and erasure of the same id (the upload
//! reads the row `FOR UPDATE`); SQLite has one writer at a time.

use sea_orm::{ConnectionTrait, DbBackend, DbErr};
use time::OffsetDateTime;
use uuid::Uuid;

use platform::sql::stmt;

/// What an upload may do with a device-chosen evidence id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Claim {
    /// Another device's id: refused.
    Foreign,
    /// The person the decision named was erased: acknowledged, not stored.
    Erased,
    /// Store it, tied to this person if the decision (already ingested) named one.
    Store { person: Option<String> },
}

/// The decision of `device` that named snapshot `id` was ingested; `person` is whom it
/// names. Only the device's own, never a tombstone, is changed.
pub(crate) async fn claim(
    db: &impl ConnectionTrait,
    device: &str,
    id: Uuid,
    person: Option<&str>,
    now: OffsetDateTime,
) -> Result<(), DbErr> {
    execute(
        db,
        "INSERT INTO camera_evidence (id, device_id, person_id, erased, claimed_at) \
         VALUES (?, ?, ?, FALSE, ?) \
         ON CONFLICT (id) DO UPDATE SET person_id = excluded.person_id \
         WHERE camera_evidence.device_id = excluded.device_id AND NOT camera_evidence.erased",
        vec![
            id.into(),
            device.into(),
            person.map(str::to_owned).into(),
            now.into(),
        ],
    )
    .await?;
    Ok(())
}

/// Snapshot `id` of `device` shows someone erased: whenever it is uploaded, it is dropped.
pub(crate) async fn tombstone(
    db: &impl ConnectionTrait,
    device: &str,
    id: Uuid,
    now: OffsetDateTime,
) -> Result<(), DbErr> {
    execute(
        db,
        "INSERT INTO camera_evidence (id, device_id, person_id, erased, claimed_at) \
         VALUES (?, ?, NULL, TRUE, ?) \
         ON CONFLICT (id) DO UPDATE SET person_id = NULL, erased = TRUE \
         WHERE camera_evidence.device_id = excluded.device_id",
        vec![id.into(), device.into(), now.into()],
    )
    .await?;
    Ok(())
}

/// Runs `sql` with `values`; returns the rows it changed.
async fn execute(
    db: &impl ConnectionTrait,
    sql: &str,
    values: Vec<sea_orm::Value>,
) -> Result<u64, DbErr> {
    Ok(db
        .execute(stmt(db.get_database_backend(), sql, values))
        .await?
        .rows_affected())
}

/// Every claim of `person` becomes a tombstone (inside the erasure's transaction, before
/// their records are deleted); returns how many.
pub(crate) async fn erase_person(db: &impl ConnectionTrait, person: &str) -> Result<u64, DbErr> {
    execute(
        db,
        "UPDATE camera_evidence SET person_id = NULL, erased = TRUE WHERE person_id = ?",
        vec![person.into()],
    )
    .await
}

/// Claims past the retention cutoff go (their snapshot, if it ever came, went with the
/// same policy); tombstones stay, like the erased ids themselves, so that an image a door
/// kept longer is still refused. Returns how many went.
pub(crate) async fn expire(
    db: &impl ConnectionTrait,
    cutoff: OffsetDateTime,
) -> Result<u64, DbErr> {
    execute(
        db,
        "DELETE FROM camera_evidence WHERE claimed_at < ? AND NOT erased",
        vec![cutoff.into()],
    )
    .await
}

/// Inside the upload's transaction: makes sure a claim row for `id` exists (this
/// device's, with nobody yet, when the decision has not arrived) and reads it locked.
pub(crate) async fn open_for_upload(
    db: &impl ConnectionTrait,
    device: &str,
    id: Uuid,
    now: OffsetDateTime,
) -> Result<Claim, DbErr> {
    let backend = db.get_database_backend();
    execute(
        db,
        "INSERT INTO camera_evidence (id, device_id, person_id, erased, claimed_at) \
         VALUES (?, ?, NULL, FALSE, ?) ON CONFLICT (id) DO NOTHING",
        vec![id.into(), device.into(), now.into()],
    )
    .await?;
    let lock = if backend == DbBackend::Postgres {
        " FOR UPDATE"
    } else {
        ""
    };
    let row = db
        .query_one(stmt(
            backend,
            &format!("SELECT device_id, person_id, erased FROM camera_evidence WHERE id = ?{lock}"),
            vec![id.into()],
        ))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("the evidence claim just written".into()))?;
    let owner: String = row.try_get("", "device_id")?;
    if owner != device {
        return Ok(Claim::Foreign);
    }
    if row.try_get::<bool>("", "erased")? {
        return Ok(Claim::Erased);
    }
    Ok(Claim::Store {
        person: row.try_get("", "person_id")?,
    })
}
