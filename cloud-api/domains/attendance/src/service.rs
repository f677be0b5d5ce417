//! Attendance records: one per person per site-local day, whether it came from the web
//! (`POST /api/attendance`, the photo checked against the person's enrolled face) or from a
//! kiosk (`protocol::Event::Attendance`, stored by ingest in its batch transaction).

use models::Embedding;
use people::PeopleRuntime;
use protocol::{AttendanceDirection, Envelope, Event};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, Value};
use serde::Serialize;
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::entities::attendance;
use people::{faces, service as people_service};
use platform::{
    error::{DbContext, ServiceError},
    i18n::Msg,
    ingest::clock::ClockCorrection,
    sql::stmt,
    state::Platform,
};

/// A record as seed 001 shows it (`userId`), plus where it came from.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AttendanceView {
    pub id: Uuid,
    #[serde(rename = "userId")]
    pub user_id: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    pub timestamp: OffsetDateTime,
    /// `success`.
    pub status: String,
    /// Site-local day `YYYY-MM-DD`.
    pub local_date: String,
    /// `web` or `device`.
    pub source: String,
    pub late: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// The day's last check-out at a kiosk, if any.
    #[serde(with = "time::serde::rfc3339::option")]
    pub check_out: Option<OffsetDateTime>,
}

impl From<attendance::Model> for AttendanceView {
    fn from(m: attendance::Model) -> Self {
        Self {
            id: m.id,
            user_id: m.user_id,
            timestamp: m.timestamp,
            status: m.status,
            local_date: m.local_date,
            source: m.source,
            late: m.late,
            created_at: m.created_at,
            check_out: m.check_out,
        }
    }
}

fn already() -> ServiceError {
    ServiceError::Conflict(Msg::new(
        "Anda sudah absen hari ini",
        "You have already checked in today",
    ))
}

/// A new record, unless the person already has one that day.
struct NewRecord<'a> {
    user_id: Uuid,
    local_date: std::borrow::Cow<'a, str>,
    at: OffsetDateTime,
    source: &'a str,
    device_id: Option<&'a str>,
    direction: &'a str,
    late: bool,
    score: Option<f64>,
}

/// What a second record of the same person and day does to the first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OnSameDay {
    /// Nothing: one check-in per day (the web).
    Keep,
    /// A kiosk check-in: becomes the day's check-in when the record has none yet (only a
    /// check-out) or when it is earlier (events of an offline kiosk arrive late).
    EarlierCheckIn,
    /// A kiosk check-out: becomes the day's check-out when it is the latest.
    LaterCheckOut,
}

impl OnSameDay {
    fn sql(self) -> &'static str {
        match self {
            OnSameDay::Keep => "DO NOTHING",
            OnSameDay::EarlierCheckIn => {
                "DO UPDATE SET timestamp = excluded.timestamp, direction = excluded.direction, \
                 late = excluded.late, source = excluded.source, device_id = excluded.device_id, \
                 score = excluded.score \
                 WHERE attendance.direction = 'check_out' OR excluded.timestamp < attendance.timestamp"
            }
            OnSameDay::LaterCheckOut => {
                "DO UPDATE SET check_out = excluded.check_out \
                 WHERE attendance.check_out IS NULL OR attendance.check_out < excluded.check_out"
            }
        }
    }
}

/// Inserts `record` when its user exists (what happens when they already have a record
/// that day is `on_same_day`'s); the id of the row inserted or changed, if any.
async fn insert(
    db: &impl ConnectionTrait,
    record: NewRecord<'_>,
    on_same_day: OnSameDay,
) -> Result<Option<Uuid>, DbErr> {
    let id = Uuid::now_v7();
    let backend = db.get_database_backend();
    // Stored in UTC, so that timestamps compare in SQL on both databases.
    let at = record.at.to_offset(time::UtcOffset::UTC);
    let check_out = (record.direction == "check_out").then_some(at);
    let sql = format!(
        "INSERT INTO attendance (id, user_id, local_date, timestamp, status, source, device_id, direction, late, score, created_at, check_out) \
         SELECT ?, ?, ?, ?, 'success', ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM users WHERE id = ?) \
         ON CONFLICT (user_id, local_date) {} RETURNING id",
        on_same_day.sql()
    );
    let row = db
        .query_one(stmt(
            backend,
            &sql,
            vec![
                id.into(),
                record.user_id.into(),
                Value::from(&*record.local_date),
                at.into(),
                record.source.into(),
                Value::from(record.device_id.map(str::to_owned)),
                record.direction.into(),
                record.late.into(),
                Value::from(record.score),
                OffsetDateTime::now_utc().into(),
                Value::from(check_out),
                record.user_id.into(),
            ],
        ))
        .await?;
    row.map(|row| row.try_get::<Uuid>("", "id")).transpose()
}

/// Called by ingest for each newly stored event, inside its batch transaction: a kiosk's
/// `Attendance` event becomes the person's record for that day, or completes it (the first
/// check-in and the last check-out count).
///
/// The day and lateness are the kiosk's, unless its clock was not synchronised: then they
/// follow the event's time (dated by the cloud from its boot when it could, see
/// `platform::ingest::clock`) in the site's time zone.
pub async fn record_device_event(
    db: &impl ConnectionTrait,
    site: &PeopleRuntime,
    envelope: &Envelope,
) -> Result<(), DbErr> {
    let Some(record) = device_record(site, envelope) else {
        return Ok(());
    };
    let on_same_day = match record.direction {
        "check_in" => OnSameDay::EarlierCheckIn,
        _ => OnSameDay::LaterCheckOut,
    };
    insert(db, record, on_same_day).await?;
    Ok(())
}

/// The record a kiosk's `Attendance` event makes, if it is one with a valid person and day.
fn device_record<'a>(site: &PeopleRuntime, envelope: &'a Envelope) -> Option<NewRecord<'a>> {
    let Event::Attendance {
        person,
        direction,
        local_date,
        late,
    } = &envelope.event
    else {
        return None;
    };
    let (Ok(user_id), true) = (Uuid::parse_str(&person.id), valid_date(local_date)) else {
        tracing::warn!(device = %envelope.device, "Attendance event with a bad person id or date ignored.");
        return None;
    };
    let (local_date, late) = if envelope.clock_synced {
        (std::borrow::Cow::Borrowed(local_date.as_str()), *late)
    } else {
        let (day, minutes) = site.local_day(envelope.ts);
        (std::borrow::Cow::Owned(day), site.is_late(minutes))
    };
    let (direction, late) = match direction {
        AttendanceDirection::CheckIn => ("check_in", late),
        AttendanceDirection::CheckOut => ("check_out", false),
    };
    Some(NewRecord {
        user_id,
        local_date,
        at: envelope.ts,
        source: "device",
        device_id: Some(envelope.device.as_str()),
        direction,
        late,
        score: None,
    })
}

/// Moves the records of kiosk events stored with an unsynchronised clock to the time the
/// cloud dated them at: the record each made under the device's time (same person, day,
/// kiosk and time) is removed, then every corrected event is recorded again, in order, so
/// the first check-in and the last check-out of each day count.
pub async fn redate_device_events(
    db: &impl ConnectionTrait,
    site: &PeopleRuntime,
    corrections: &[ClockCorrection],
) -> Result<(), DbErr> {
    let backend = db.get_database_backend();
    for correction in corrections {
        let mut stale = correction.envelope.clone();
        stale.ts = correction.device_ts;
        let Some(record) = device_record(site, &stale) else {
            continue;
        };
        let at = record.at.to_offset(time::UtcOffset::UTC);
        db.execute(stmt(
            backend,
            "DELETE FROM attendance WHERE user_id = ? AND local_date = ? AND device_id = ? \
             AND source = 'device' AND (timestamp = ? OR check_out = ?)",
            vec![
                record.user_id.into(),
                Value::from(&*record.local_date),
                Value::from(record.device_id.map(str::to_owned)),
                at.into(),
                at.into(),
            ],
        ))
        .await?;
    }
    for correction in corrections {
        record_device_event(db, site, &correction.envelope).await?;
    }
    Ok(())
}

fn valid_date(raw: &str) -> bool {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(raw, &format).is_ok()
}

/// The best similarity of `probe` to any of `templates`.
fn best_score(probe: &Embedding, templates: &[Embedding]) -> f32 {
    templates
        .iter()
        .map(|t| probe.cosine(t))
        .fold(f32::MIN, f32::max)
}

/// Seed 001 `POST /api/attendance`: today's record for `user_id` if `photo` shows them.
pub async fn check_in(
    platform: &Platform,
    user_id: Uuid,
    photo: Vec<u8>,
) -> Result<AttendanceView, ServiceError> {
    let user = platform::identity::find_by_id(&platform.db, user_id)
        .await?
        .ok_or_else(people_service::user_not_found)?;
    if user.disabled {
        return Err(ServiceError::Forbidden(Msg::new(
            "Akun dinonaktifkan",
            "Account disabled",
        )));
    }
    let runtime = platform.domain::<PeopleRuntime>();
    let now = OffsetDateTime::now_utc();
    let (today, minutes) = runtime.local_day(now);
    let exists = attendance::Entity::find()
        .filter(attendance::Column::UserId.eq(user_id))
        .filter(attendance::Column::LocalDate.eq(today.as_str()))
        .one(&platform.db)
        .await
        .db("checking today's attendance")?;
    if exists.is_some() {
        return Err(already());
    }
    let templates = people_service::templates_of(platform, user_id).await?;
    if templates.is_empty() {
        return Err(ServiceError::Invalid(Msg::new(
            "Wajah Anda belum terdaftar; minta admin mendaftarkan wajah Anda",
            "Your face is not registered yet; ask an admin to register it",
        )));
    }
    let probe = faces::single_face(runtime.models_dir.clone(), photo).await?;
    let threshold = faces::engine(runtime.models_dir.clone())
        .await?
        .match_threshold();
    let score = best_score(&probe.embedding, &templates);
    if !(score >= threshold) {
        tracing::info!(user = %user_id, score, "Attendance refused: face does not match.");
        return Err(ServiceError::Forbidden(Msg::new(
            "Wajah tidak cocok dengan wajah yang terdaftar",
            "The face does not match the registered face",
        )));
    }
    let id = insert(
        &platform.db,
        NewRecord {
            user_id,
            local_date: today.as_str().into(),
            at: now,
            source: "web",
            device_id: None,
            direction: "check_in",
            late: runtime.is_late(minutes),
            score: Some(f64::from(score)),
        },
        OnSameDay::Keep,
    )
    .await
    .db("recording attendance")?
    .ok_or_else(already)?;
    let row = attendance::Entity::find_by_id(id)
        .one(&platform.db)
        .await
        .db("loading attendance")?
        .ok_or_else(|| ServiceError::internal("recording attendance", "row vanished"))?;
    Ok(row.into())
}

/// A person's records, newest first.
pub async fn records_of(
    platform: &Platform,
    user_id: Uuid,
) -> Result<Vec<AttendanceView>, ServiceError> {
    Ok(attendance::Entity::find()
        .filter(attendance::Column::UserId.eq(user_id))
        .order_by_desc(attendance::Column::Timestamp)
        .all(&platform.db)
        .await
        .db("listing attendance")?
        .into_iter()
        .map(Into::into)
        .collect())
}
