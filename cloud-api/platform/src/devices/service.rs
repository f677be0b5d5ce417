//! Device registration and enrolment: an admin creates a device and gets a one-time code;
//! the device trades the code (once, within 24 h) for its token and the cloud's public key
//! (and, with `mqtt.dynamic_security`, its own login and topics on Mosquitto).

use protocol::{
    sync::{EnrollRequest, EnrollResponse},
    DeviceId, SiteId,
};
use rand::Rng;
use sea_orm::{
    sea_query::Expr, ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use serde::Serialize;
use time::{Duration, OffsetDateTime};

use super::gaps::{gap_report, GapReport};
use crate::{
    db::entities::{device, enrollment_code},
    error::{DbContext, ServiceError},
    i18n::Msg,
    secrets::{random_bytes, sha256_hex},
    state::Platform,
};

/// How long an enrolment code is valid.
pub const CODE_TTL: Duration = Duration::hours(24);

/// Letters and digits that cannot be mistaken for one another when read aloud or typed.
const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";

/// A one-time enrolment code, shown to the admin once.
#[derive(Debug, Clone, Serialize)]
pub struct EnrollmentCode {
    pub device_id: DeviceId,
    pub site: SiteId,
    /// `XXXX-XXXX-XXXX`; only its hash is stored.
    pub code: String,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// What the installer runs on the device.
    pub command: String,
}

fn new_code() -> String {
    let mut rng = rand::rngs::OsRng;
    let chars: Vec<char> = (0..12)
        .map(|_| CODE_ALPHABET[rng.gen_range(0..CODE_ALPHABET.len())] as char)
        .collect();
    chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// Codes are compared without dashes, spaces or case.
fn code_hash(code: &str) -> String {
    let normalized: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    sha256_hex(normalized.as_bytes())
}

/// Registers a device (or re-issues a code for an existing one) and returns a one-time code.
pub async fn create_device(
    platform: &Platform,
    site: &SiteId,
    device_id: &DeviceId,
    name: &str,
) -> Result<EnrollmentCode, ServiceError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(ServiceError::Invalid(Msg::new(
            "Nama perangkat harus diisi (maksimal 200 karakter)",
            "Device name is required (at most 200 characters)",
        )));
    }
    let db = &platform.db;
    let now = OffsetDateTime::now_utc();
    let txn = crate::db::begin_write(db)
        .await
        .db("starting device creation")?;
    match device::Entity::find_by_id(device_id.as_str())
        .one(&txn)
        .await
        .db("loading a device")?
    {
        Some(existing) if existing.site != site.as_str() => {
            return Err(ServiceError::Conflict(Msg::owned(
                format!(
                    "Perangkat {device_id} sudah terdaftar di situs {}",
                    existing.site
                ),
                format!(
                    "Device {device_id} is already registered at site {}",
                    existing.site
                ),
            )));
        }
        Some(existing) => {
            let mut row: device::ActiveModel = existing.into();
            row.name = Set(name.to_owned());
            row.update(&txn).await.db("renaming a device")?;
        }
        None => {
            device::ActiveModel {
                id: Set(device_id.to_string()),
                site: Set(site.to_string()),
                name: Set(name.to_owned()),
                public_key: Set(None),
                token_hash: Set(None),
                firmware: Set(None),
                created_at: Set(now),
                enrolled_at: Set(None),
                last_seen: Set(None),
                online: Set(false),
                last_seq: Set(0),
                contiguous_seq: Set(0),
                events_stored: Set(0),
            }
            .insert(&txn)
            .await
            .db("creating a device")?;
        }
    }
    let code = new_code();
    let expires_at = now + CODE_TTL;
    enrollment_code::ActiveModel {
        code_hash: Set(code_hash(&code)),
        device_id: Set(device_id.to_string()),
        site: Set(site.to_string()),
        created_at: Set(now),
        expires_at: Set(expires_at),
        used_at: Set(None),
    }
    .insert(&txn)
    .await
    .db("storing an enrolment code")?;
    txn.commit().await.db("committing device creation")?;
    platform.committed(&[device_id]);
    tracing::info!(%site, device = %device_id, "Device registered; enrolment code issued.");
    Ok(EnrollmentCode {
        device_id: device_id.clone(),
        site: site.clone(),
        command: format!(
            "edge-daemon enroll --cloud {} --code {code}",
            platform.public_url
        ),
        code,
        expires_at,
    })
}

/// Trades a one-time code for the device's credentials.
pub async fn enroll(
    platform: &Platform,
    request: &EnrollRequest,
) -> Result<EnrollResponse, ServiceError> {
    let db = &platform.db;
    let hash = code_hash(&request.code);
    let now = OffsetDateTime::now_utc();
    // Read outside the transaction, for the precise refusal; the claim below decides.
    let code = enrollment_code::Entity::find_by_id(hash.clone())
        .one(db)
        .await
        .db("loading an enrolment code")?
        .ok_or_else(|| {
            ServiceError::Unauthorized(Msg::new(
                "Kode pendaftaran tidak valid",
                "Invalid enrolment code",
            ))
        })?;
    if code.used_at.is_some() {
        return Err(ServiceError::Unauthorized(Msg::new(
            "Kode pendaftaran sudah digunakan",
            "This enrolment code has already been used",
        )));
    }
    if code.expires_at <= now {
        return Err(ServiceError::Unauthorized(Msg::new(
            "Kode pendaftaran sudah kedaluwarsa",
            "This enrolment code has expired",
        )));
    }
    // Claim the code with a conditional update, so two concurrent enrolments cannot both win.
    let txn = crate::db::begin_write(db).await.db("starting enrolment")?;
    let claimed = enrollment_code::Entity::update_many()
        .col_expr(enrollment_code::Column::UsedAt, Expr::value(now))
        .filter(enrollment_code::Column::CodeHash.eq(hash))
        .filter(enrollment_code::Column::UsedAt.is_null())
        .filter(enrollment_code::Column::ExpiresAt.gt(now))
        .exec(&txn)
        .await
        .db("claiming an enrolment code")?;
    if claimed.rows_affected != 1 {
        return Err(ServiceError::Unauthorized(Msg::new(
            "Kode pendaftaran sudah digunakan",
            "This enrolment code has already been used",
        )));
    }
    let device = device::Entity::find_by_id(code.device_id.clone())
        .one(&txn)
        .await
        .db("loading the enrolling device")?
        .ok_or_else(|| ServiceError::internal("enrolling", "code refers to a missing device"))?;
    let device_id =
        DeviceId::parse(&device.id).map_err(|e| ServiceError::internal("enrolling", e))?;
    let site = SiteId::parse(&device.site).map_err(|e| ServiceError::internal("enrolling", e))?;
    let token = hex::encode(random_bytes::<32>());
    let firmware: String = request.firmware.chars().take(100).collect();
    let mut row: device::ActiveModel = device.into();
    row.public_key = Set(Some(request.public_key.to_base64()));
    row.token_hash = Set(Some(sha256_hex(token.as_bytes())));
    row.firmware = Set(Some(firmware));
    row.enrolled_at = Set(Some(now));
    row.update(&txn).await.db("storing device credentials")?;
    // Only now is the token known in plaintext. A broker that refuses it fails the
    // enrolment with nothing stored and the code still unused, so the door may try again.
    if let Some(dynsec) = &platform.mqtt.dynsec {
        dynsec
            .admit_door(&site, &device_id, &token)
            .await
            .map_err(|e| ServiceError::Broker {
                context: "admitting the door on the broker",
                message: e.to_string(),
            })?;
    }
    txn.commit().await.db("committing enrolment")?;
    platform.devices.invalidate(&device_id);
    tracing::info!(%site, device = %device_id, "Device enrolled.");
    Ok(EnrollResponse {
        device: device_id,
        site,
        token,
        cloud_public_key: platform.cloud_key.public(),
        mqtt_url: platform.device_mqtt_url.clone(),
    })
}

/// One device as the dashboard lists it.
#[derive(Debug, Clone, Serialize)]
pub struct DeviceSummary {
    pub id: String,
    pub site: String,
    pub name: String,
    pub enrolled: bool,
    pub online: bool,
    #[serde(with = "time::serde::rfc3339::option")]
    pub last_seen: Option<OffsetDateTime>,
    pub last_seq: u64,
    pub contiguous_seq: u64,
    pub events_stored: u64,
    #[serde(flatten)]
    pub gaps: GapReport,
}

pub async fn list_devices(platform: &Platform) -> Result<Vec<DeviceSummary>, ServiceError> {
    let db = &platform.db;
    let devices = device::Entity::find()
        .order_by_asc(device::Column::Site)
        .order_by_asc(device::Column::Id)
        .all(db)
        .await
        .db("listing devices")?;
    let mut out = Vec::with_capacity(devices.len());
    for d in devices {
        let gaps = gap_report(db, &d.id, d.contiguous_seq)
            .await
            .db("computing sequence gaps")?;
        out.push(DeviceSummary {
            enrolled: d.public_key.is_some(),
            id: d.id,
            site: d.site,
            name: d.name,
            online: d.online,
            last_seen: d.last_seen,
            last_seq: d.last_seq.max(0) as u64,
            contiguous_seq: d.contiguous_seq.max(0) as u64,
            events_stored: d.events_stored.max(0) as u64,
            gaps,
        });
    }
    Ok(out)
}
