//! Agencies, host applications and weekly salary requests (seed 004).
//!
//! A user applies to run an agency (`POST /agency/apply`); a ChatMe admin approves or
//! rejects it once, and the owner of an approved agency becomes `agency`. A user applies to
//! host for an agency with their national id number (stored, but masked in every answer);
//! that agency approves or rejects once, and the applicant becomes a `host` of it. A host
//! asks for the salary of an ISO week that is over; the amount and the number of lives are
//! computed from that week's host income and sessions (Asia/Jakarta), and only the owning
//! agency sees and decides its hosts' requests, once. Agency statistics are for the owner
//! and ChatMe admins. A salary is paid outside this system: deciding a request moves no
//! coins.

use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
    Json,
};
use platform::{
    audit,
    db::entities::user,
    error::DbContext,
    http::{
        error::ApiError,
        extract::{PathParams, QueryParams},
        json::JsonBody,
    },
    i18n::Msg,
    identity::{self, roles::has_role, AuthUser, Claims, Guarded, Nik, Roles},
    security::ClientIp,
    sql::stmt,
    state::AppState,
};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DbErr, QueryResult, Set, SqlErr, TransactionTrait,
};
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::{
    accounts::live_role,
    error::{forbidden, user_not_found, LiveError},
    periods::{bounds, rfc3339, IsoWeek, Period},
    phone,
    stats::PeriodQuery,
    LiveAdmin, LiveRuntime, DOMAIN,
};

fn bad(id: &'static str, en: &'static str) -> LiveError {
    LiveError::Invalid(Msg::new(id, en))
}

fn already_decided() -> LiveError {
    LiveError::Conflict(Msg::new(
        "Permintaan ini sudah diputuskan",
        "This request has already been decided",
    ))
}

fn agency_not_found() -> LiveError {
    LiveError::NotFound(Msg::new("Agency tidak ditemukan", "Agency not found"))
}

/// `************3456`: only the last four characters of a national id number are shown.
pub fn mask_id_number(raw: &str) -> String {
    let chars: Vec<char> = raw.chars().collect();
    let shown = chars.len().saturating_sub(4);
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| if i < shown { '*' } else { *c })
        .collect()
}

fn text(
    raw: Option<&str>,
    max: usize,
    id: &'static str,
    en: &'static str,
) -> Result<String, LiveError> {
    let value = raw.map(str::trim).unwrap_or_default();
    if value.is_empty() || value.chars().count() > max {
        return Err(bad(id, en));
    }
    Ok(value.to_owned())
}

const AGENCY_COLUMNS: &str =
    "id, owner_id, family_name, region, phone, status, created_at, approved_at, decided_at";

fn agency_json(r: &QueryResult) -> Result<Value, DbErr> {
    Ok(json!({
        "id": r.try_get::<Uuid>("", "id")?,
        "user_id": r.try_get::<Uuid>("", "owner_id")?,
        "family_name": r.try_get::<String>("", "family_name")?,
        "region": r.try_get::<String>("", "region")?,
        "phone": phone::e164(&r.try_get::<String>("", "phone")?),
        "status": r.try_get::<String>("", "status")?,
        "created_at": rfc3339(r.try_get("", "created_at")?),
        "approved_at": r.try_get::<Option<i64>>("", "approved_at")?.map(rfc3339),
        "decided_at": r.try_get::<Option<i64>>("", "decided_at")?.map(rfc3339),
    }))
}

const APPLICATION_COLUMNS: &str =
    "id, host_id, agency_id, name, gender, id_number, status, created_at, approved_at, \
     decided_at";

fn application_json(r: &QueryResult) -> Result<Value, DbErr> {
    Ok(json!({
        "id": r.try_get::<Uuid>("", "id")?,
        "host_id": r.try_get::<Uuid>("", "host_id")?,
        "agency_id": r.try_get::<Uuid>("", "agency_id")?,
        "name": r.try_get::<String>("", "name")?,
        "gender": r.try_get::<String>("", "gender")?,
        "id_number": mask_id_number(&r.try_get::<String>("", "id_number")?),
        "status": r.try_get::<String>("", "status")?,
        "created_at": rfc3339(r.try_get("", "created_at")?),
        "approved_at": r.try_get::<Option<i64>>("", "approved_at")?.map(rfc3339),
        "decided_at": r.try_get::<Option<i64>>("", "decided_at")?.map(rfc3339),
    }))
}

const SALARY_COLUMNS: &str = "id, host_id, agency_id, iso_year, week_number, week_start, \
     week_end, salary_amount, total_lives, status, created_at, approved_at, decided_at";

fn salary_json(r: &QueryResult) -> Result<Value, DbErr> {
    Ok(json!({
        "id": r.try_get::<Uuid>("", "id")?,
        "host_id": r.try_get::<Uuid>("", "host_id")?,
        "agency_id": r.try_get::<Uuid>("", "agency_id")?,
        "year": r.try_get::<i32>("", "iso_year")?,
        "week_number": r.try_get::<i32>("", "week_number")?,
        "week_start": rfc3339(r.try_get("", "week_start")?),
        "week_end": rfc3339(r.try_get("", "week_end")?),
        "salary_amount": r.try_get::<i64>("", "salary_amount")?,
        "total_lives": r.try_get::<i64>("", "total_lives")?,
        "status": r.try_get::<String>("", "status")?,
        "created_at": rfc3339(r.try_get("", "created_at")?),
        "approved_at": r.try_get::<Option<i64>>("", "approved_at")?.map(rfc3339),
        "decided_at": r.try_get::<Option<i64>>("", "decided_at")?.map(rfc3339),
    }))
}

async fn one(
    db: &impl ConnectionTrait,
    sql: &str,
    values: Vec<sea_orm::Value>,
) -> Result<Option<QueryResult>, DbErr> {
    db.query_one(stmt(db.get_database_backend(), sql, values))
        .await
}

async fn all(
    db: &impl ConnectionTrait,
    sql: &str,
    values: Vec<sea_orm::Value>,
) -> Result<Vec<QueryResult>, DbErr> {
    db.query_all(stmt(db.get_database_backend(), sql, values))
        .await
}

/// Gives `user` the ChatMe role `role` (an admin stays admin), inside `txn`.
async fn set_live_role(
    txn: &impl ConnectionTrait,
    state: &AppState,
    user: Uuid,
    role: &str,
) -> Result<(), ApiError> {
    let found = identity::find_by_id(txn, user)
        .await?
        .ok_or_else(user_not_found)?;
    let mut roles: Roles = identity::parse_roles(&found.roles);
    if roles.get(DOMAIN).is_some_and(|r| r == "admin") {
        return Ok(());
    }
    roles.insert(DOMAIN.to_owned(), role.to_owned());
    let mut active: user::ActiveModel = found.into();
    active.roles = Set(serde_json::to_string(&roles).unwrap_or_default());
    active.updated_at = Set(state.clock.now());
    active.update(txn).await.db("changing a ChatMe role")?;
    Ok(())
}

/// The approved agency `id` if `claims` own it; 404 when there is no such agency, 403 when
/// it is somebody else's (ChatMe admins pass when `admins_too`).
async fn guard_agency(
    state: &AppState,
    claims: &Claims,
    id: Uuid,
    admins_too: bool,
) -> Result<QueryResult, ApiError> {
    let row = one(
        &state.db,
        &format!("SELECT {AGENCY_COLUMNS} FROM live_agencies WHERE id = ? AND status = 'approved'"),
        vec![id.into()],
    )
    .await
    .map_err(LiveError::from)?
    .ok_or_else(agency_not_found)?;
    let owner: Uuid = row.try_get("", "owner_id").map_err(LiveError::from)?;
    if owner == claims.sub || (admins_too && has_role(claims, DOMAIN, &["admin"])) {
        Ok(row)
    } else {
        Err(forbidden().into())
    }
}

/// Whether `viewer` owns the approved agency `host` belongs to.
pub async fn is_agency_of(
    db: &impl ConnectionTrait,
    viewer: Uuid,
    host: Uuid,
) -> Result<bool, DbErr> {
    Ok(one(
        db,
        "SELECT 1 AS x FROM live_agency_hosts h JOIN live_agencies a ON a.id = h.agency_id \
         WHERE h.host_id = ? AND a.owner_id = ? AND a.status = 'approved'",
        vec![host.into(), viewer.into()],
    )
    .await?
    .is_some())
}

#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct AgencyApplication {
    /// 1–100 characters once trimmed.
    #[serde(default)]
    #[schema(value_type = String, required = true, min_length = 1, max_length = 100, pattern = "\\S", example = "Keluarga Sejahtera")]
    family_name: Option<String>,
    /// 1–100 characters once trimmed.
    #[serde(default)]
    #[schema(value_type = String, required = true, min_length = 1, max_length = 100, pattern = "\\S", example = "Jakarta")]
    region: Option<String>,
    /// A valid phone number of any country (`08…`, `62…` or `+…`), at most 32 characters.
    /// The pattern documents the Indonesian mobile form, every number of which is valid
    /// ([`crate::phone::MOBILE_PATTERN`]).
    #[serde(default)]
    #[schema(value_type = String, required = true, min_length = 1, max_length = 32, pattern = "^08[1-35-9][0-9]{7,9}$", example = "081234567890")]
    phone: Option<String>,
}

/// Applies to run an agency (pending until an admin decides).
#[utoipa::path(post, path = "/chatme/api/agency/apply", tag = "live", request_body = AgencyApplication,
    responses((status = 201, description = "`{message, agency}`"), (status = 400), (status = 409, description = "Already applied or running one")),
    security(("bearer" = [])))]
pub(crate) async fn apply(
    State(state): State<AppState>,
    AuthUser(claims): AuthUser,
    JsonBody(body): JsonBody<AgencyApplication>,
) -> Result<Response, ApiError> {
    let family_name = text(
        body.family_name.as_deref(),
        100,
        "family_name harus diisi (maks. 100 karakter)",
        "family_name is required (at most 100 characters)",
    )?;
    let region = text(
        body.region.as_deref(),
        100,
        "region harus diisi (maks. 100 karakter)",
        "region is required (at most 100 characters)",
    )?;
    let phone = phone::normalize(body.phone.as_deref().unwrap_or_default())
        .map_err(ApiError::bad_request)?;
    let id = Uuid::now_v7();
    insert_once(
        &state.db,
        "INSERT INTO live_agencies (id, owner_id, family_name, region, phone, status, \
             created_at, approved_at) VALUES (?, ?, ?, ?, ?, 'pending', ?, NULL)",
        vec![
            id.into(),
            claims.sub.into(),
            family_name.into(),
            region.into(),
            phone.as_str().into(),
            state.clock.unix().into(),
        ],
        Msg::new(
            "Anda sudah mengajukan atau menjalankan agency",
            "You have already applied for or run an agency",
        ),
    )
    .await?;
    let row = one(
        &state.db,
        &format!("SELECT {AGENCY_COLUMNS} FROM live_agencies WHERE id = ?"),
        vec![id.into()],
    )
    .await
    .map_err(LiveError::from)?
    .ok_or_else(agency_not_found)?;
    Ok(created(
        Msg::new("Pengajuan agency terkirim", "Agency application sent"),
        "agency",
        agency_json(&row).map_err(LiveError::from)?,
    ))
}

/// Runs an INSERT; a unique violation (the one-per rules of the migration) is a 409 with
/// `conflict`.
async fn insert_once(
    db: &impl ConnectionTrait,
    sql: &str,
    values: Vec<sea_orm::Value>,
    conflict: Msg,
) -> Result<(), LiveError> {
    match db
        .execute(stmt(db.get_database_backend(), sql, values))
        .await
    {
        Ok(_) => Ok(()),
        Err(err) if matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
            Err(LiveError::Conflict(conflict))
        }
        Err(err) => Err(err.into()),
    }
}

/// `201 {message, <key>: value}`.
fn created(message: Msg, key: &str, value: Value) -> Response {
    (
        StatusCode::CREATED,
        Json(json!({ "message": message.localized(), key: value })),
    )
        .into_response()
}

/// `approve` or `reject`.
#[derive(Debug, Clone, Copy)]
enum Decision {
    Approve,
    Reject,
}

impl Decision {
    fn status(self) -> &'static str {
        match self {
            Decision::Approve => "approved",
            Decision::Reject => "rejected",
        }
    }

    /// The columns a decision stamps: `decided_at` always, `approved_at` (the seed's
    /// approval date) on approval only.
    fn stamps(self) -> &'static str {
        match self {
            Decision::Approve => "approved_at = ?, decided_at = ?",
            Decision::Reject => "decided_at = ?",
        }
    }
}

/// Sets a pending row of `table` to the decision, once, with its time (`decided_at`, and
/// `approved_at` on approval); 404 when there is no such row, 409 when it was decided
/// already. Runs inside `txn`.
async fn decide_row(
    txn: &impl ConnectionTrait,
    table: &str,
    id: Uuid,
    decision: Decision,
    now: i64,
) -> Result<(), LiveError> {
    let mut values: Vec<sea_orm::Value> = vec![decision.status().into(), now.into()];
    if matches!(decision, Decision::Approve) {
        values.push(now.into());
    }
    values.push(id.into());
    let updated = txn
        .execute(stmt(
            txn.get_database_backend(),
            &format!(
                "UPDATE {table} SET status = ?, {} WHERE id = ? AND status = 'pending'",
                decision.stamps()
            ),
            values,
        ))
        .await?;
    if updated.rows_affected() == 1 {
        return Ok(());
    }
    let exists = one(
        txn,
        &format!("SELECT 1 AS x FROM {table} WHERE id = ?"),
        vec![id.into()],
    )
    .await?
    .is_some();
    Err(if exists {
        already_decided()
    } else {
        LiveError::NotFound(Msg::new("Permintaan tidak ditemukan", "Request not found"))
    })
}

async fn decide_agency(
    state: &AppState,
    admin: &Claims,
    ip: ClientIp,
    id: Uuid,
    decision: Decision,
) -> Result<Json<Value>, ApiError> {
    let txn = state.db.begin().await.map_err(LiveError::from)?;
    decide_row(&txn, "live_agencies", id, decision, state.clock.unix()).await?;
    let row = one(
        &txn,
        &format!("SELECT {AGENCY_COLUMNS} FROM live_agencies WHERE id = ?"),
        vec![id.into()],
    )
    .await
    .map_err(LiveError::from)?
    .ok_or_else(agency_not_found)?;
    if let Decision::Approve = decision {
        let owner: Uuid = row.try_get("", "owner_id").map_err(LiveError::from)?;
        set_live_role(&txn, state, owner, "agency").await?;
    }
    txn.commit().await.map_err(LiveError::from)?;
    audit::record(
        &state.db,
        state.clock.now(),
        audit::Entry::new("live_agency_decided", ip)
            .by(admin.sub, admin.email.clone())
            .target(id.to_string())
            .detail(json!({ "status": decision.status() })),
    )
    .await;
    Ok(Json(json!({
        "message": Msg::new("Keputusan disimpan", "Decision saved").localized(),
        "agency": agency_json(&row).map_err(LiveError::from)?,
    })))
}

/// Approves an agency application (ChatMe admins): the owner becomes `agency`.
#[utoipa::path(post, path = "/chatme/api/admin/agencies/{id}/approve", tag = "live",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "`{message, agency}`"), (status = 403), (status = 404), (status = 409, description = "Already decided")),
    security(("bearer" = [])))]
pub(crate) async fn approve_agency(
    State(state): State<AppState>,
    admin: Guarded<LiveAdmin>,
    ip: ClientIp,
    PathParams(id): PathParams<Uuid>,
) -> Result<Json<Value>, ApiError> {
    decide_agency(&state, &admin.claims, ip, id, Decision::Approve).await
}

/// Rejects an agency application (ChatMe admins).
#[utoipa::path(post, path = "/chatme/api/admin/agencies/{id}/reject", tag = "live",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "`{message, agency}`"), (status = 403), (status = 404), (status = 409, description = "Already decided")),
    security(("bearer" = [])))]
pub(crate) async fn reject_agency(
    State(state): State<AppState>,
    admin: Guarded<LiveAdmin>,
    ip: ClientIp,
    PathParams(id): PathParams<Uuid>,
) -> Result<Json<Value>, ApiError> {
    decide_agency(&state, &admin.claims, ip, id, Decision::Reject).await
}

/// The caller's agency (any status, newest first).
#[utoipa::path(get, path = "/chatme/api/agency/profile", tag = "live",
    responses((status = 200, description = "`{agency}`"), (status = 404, description = "The caller has no agency")),
    security(("bearer" = [])))]
pub(crate) async fn profile(
    State(state): State<AppState>,
    AuthUser(claims): AuthUser,
) -> Result<Json<Value>, ApiError> {
    let row = one(
        &state.db,
        &format!(
            "SELECT {AGENCY_COLUMNS} FROM live_agencies WHERE owner_id = ? \
             ORDER BY created_at DESC, id DESC LIMIT 1"
        ),
        vec![claims.sub.into()],
    )
    .await
    .map_err(LiveError::from)?
    .ok_or_else(agency_not_found)?;
    Ok(Json(
        json!({ "agency": agency_json(&row).map_err(LiveError::from)? }),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct HostApplication {
    /// 1–100 characters once trimmed.
    #[serde(default)]
    #[schema(value_type = String, required = true, min_length = 1, max_length = 100, pattern = "\\S")]
    name: Option<String>,
    /// English or Indonesian, any case (`male`, `Perempuan`, `L`, `P`, `lainnya`, …).
    #[serde(default)]
    #[schema(value_type = String, required = true, pattern = "^(male|female|other|Laki-laki|Perempuan|lainnya|L|P)$")]
    gender: Option<String>,
    /// The national id number (NIK, 16 digits); never shown unmasked.
    #[serde(default)]
    #[schema(value_type = String, required = true, pattern = "^[0-9]{16}$")]
    id_number: Option<String>,
}

/// Applies to host for an agency (pending until the agency decides).
#[utoipa::path(post, path = "/chatme/api/agency/{agencyId}/host-applications", tag = "live",
    params(("agencyId" = Uuid, Path)), request_body = HostApplication,
    responses((status = 201, description = "`{message, application}` (id_number masked)"), (status = 400), (status = 404), (status = 409)),
    security(("bearer" = [])))]
pub(crate) async fn apply_host(
    State(state): State<AppState>,
    AuthUser(claims): AuthUser,
    PathParams(agency): PathParams<Uuid>,
    JsonBody(body): JsonBody<HostApplication>,
) -> Result<Response, ApiError> {
    let name = text(
        body.name.as_deref(),
        100,
        "Nama harus diisi (maks. 100 karakter)",
        "A name is required (at most 100 characters)",
    )?;
    let gender = crate::accounts::gender(body.gender.as_deref().unwrap_or_default())?;
    let id_number = Nik::parse(body.id_number.as_deref().unwrap_or_default()).map_err(|_| {
        bad(
            "id_number harus 16 digit angka",
            "id_number must be 16 digits",
        )
    })?;
    let exists = one(
        &state.db,
        "SELECT owner_id FROM live_agencies WHERE id = ? AND status = 'approved'",
        vec![agency.into()],
    )
    .await
    .map_err(LiveError::from)?
    .ok_or_else(agency_not_found)?;
    let owner: Uuid = exists.try_get("", "owner_id").map_err(LiveError::from)?;
    let found = identity::find_by_id(&state.db, claims.sub)
        .await?
        .ok_or_else(user_not_found)?;
    let in_agency = one(
        &state.db,
        "SELECT agency_id FROM live_agency_hosts WHERE host_id = ?",
        vec![claims.sub.into()],
    )
    .await
    .map_err(LiveError::from)?
    .is_some();
    if owner == claims.sub
        || in_agency
        || matches!(live_role(&found.roles).as_str(), "agency" | "admin")
    {
        return Err(LiveError::Conflict(Msg::new(
            "Anda tidak bisa mendaftar sebagai host agency ini",
            "You cannot apply to host for this agency",
        ))
        .into());
    }
    let id = Uuid::now_v7();
    insert_once(
        &state.db,
        "INSERT INTO live_host_applications (id, host_id, agency_id, name, gender, \
             id_number, status, created_at, approved_at) \
             VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, NULL)",
        vec![
            id.into(),
            claims.sub.into(),
            agency.into(),
            name.into(),
            gender.into(),
            id_number.as_str().into(),
            state.clock.unix().into(),
        ],
        Msg::new(
            "Pengajuan Anda ke agency ini masih diproses",
            "Your application to this agency is still pending",
        ),
    )
    .await?;
    let row = application(&state.db, id).await?;
    Ok(created(
        Msg::new("Pengajuan host terkirim", "Host application sent"),
        "application",
        application_json(&row).map_err(LiveError::from)?,
    ))
}

async fn application(db: &impl ConnectionTrait, id: Uuid) -> Result<QueryResult, LiveError> {
    one(
        db,
        &format!("SELECT {APPLICATION_COLUMNS} FROM live_host_applications WHERE id = ?"),
        vec![id.into()],
    )
    .await?
    .ok_or_else(|| {
        LiveError::NotFound(Msg::new(
            "Pengajuan tidak ditemukan",
            "Application not found",
        ))
    })
}

/// Fails with 403 unless `user` owns the approved agency `agency`.
async fn require_owner(
    db: &impl ConnectionTrait,
    user: Uuid,
    agency: Uuid,
) -> Result<(), LiveError> {
    let owns = one(
        db,
        "SELECT 1 AS x FROM live_agencies WHERE id = ? AND owner_id = ? AND status = 'approved'",
        vec![agency.into(), user.into()],
    )
    .await?
    .is_some();
    if owns {
        Ok(())
    } else {
        Err(forbidden())
    }
}

async fn decide_application(
    state: &AppState,
    claims: &Claims,
    ip: ClientIp,
    id: Uuid,
    decision: Decision,
) -> Result<Json<Value>, ApiError> {
    let row = application(&state.db, id).await?;
    let agency: Uuid = row.try_get("", "agency_id").map_err(LiveError::from)?;
    let applicant: Uuid = row.try_get("", "host_id").map_err(LiveError::from)?;
    require_owner(&state.db, claims.sub, agency).await?;
    let now = state.clock.unix();
    let txn = state.db.begin().await.map_err(LiveError::from)?;
    decide_row(&txn, "live_host_applications", id, decision, now).await?;
    if let Decision::Approve = decision {
        let joined = txn
            .execute(stmt(
                txn.get_database_backend(),
                "INSERT INTO live_agency_hosts (host_id, agency_id, joined_at) VALUES (?, ?, ?)",
                vec![applicant.into(), agency.into(), now.into()],
            ))
            .await;
        if let Err(err) = joined {
            if matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) {
                return Err(LiveError::Conflict(Msg::new(
                    "Host ini sudah tergabung di agency lain",
                    "This host already belongs to an agency",
                ))
                .into());
            }
            return Err(LiveError::from(err).into());
        }
        set_live_role(&txn, state, applicant, "host").await?;
    }
    txn.commit().await.map_err(LiveError::from)?;
    audit::record(
        &state.db,
        state.clock.now(),
        audit::Entry::new("live_host_application_decided", ip)
            .by(claims.sub, claims.email.clone())
            .target(id.to_string())
            .detail(json!({ "status": decision.status(), "agency": agency })),
    )
    .await;
    let row = application(&state.db, id).await?;
    Ok(Json(json!({
        "message": Msg::new("Keputusan disimpan", "Decision saved").localized(),
        "application": application_json(&row).map_err(LiveError::from)?,
    })))
}

/// Approves a host application (that agency only): the applicant becomes its `host`.
#[utoipa::path(post, path = "/chatme/api/agency/host-applications/{id}/approve", tag = "live",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "`{message, application}`"), (status = 403), (status = 404), (status = 409)),
    security(("bearer" = [])))]
pub(crate) async fn approve_host(
    State(state): State<AppState>,
    AuthUser(claims): AuthUser,
    ip: ClientIp,
    PathParams(id): PathParams<Uuid>,
) -> Result<Json<Value>, ApiError> {
    decide_application(&state, &claims, ip, id, Decision::Approve).await
}

/// Rejects a host application (that agency only).
#[utoipa::path(post, path = "/chatme/api/agency/host-applications/{id}/reject", tag = "live",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "`{message, application}`"), (status = 403), (status = 404), (status = 409)),
    security(("bearer" = [])))]
pub(crate) async fn reject_host(
    State(state): State<AppState>,
    AuthUser(claims): AuthUser,
    ip: ClientIp,
    PathParams(id): PathParams<Uuid>,
) -> Result<Json<Value>, ApiError> {
    decide_application(&state, &claims, ip, id, Decision::Reject).await
}

/// `status=pending|approved|rejected` (absent: all).
#[derive(Debug, Deserialize, IntoParams)]
pub struct StatusQuery {
    pub status: Option<String>,
}

fn status_filter(q: &StatusQuery) -> Result<Option<&'static str>, LiveError> {
    match q.status.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some("pending") => Ok(Some("pending")),
        Some("approved") => Ok(Some("approved")),
        Some("rejected") => Ok(Some("rejected")),
        Some(_) => Err(bad(
            "status harus pending, approved atau rejected",
            "status must be pending, approved or rejected",
        )),
    }
}

/// An agency's rows of `table` (newest first, at most 500), filtered by `status`.
async fn listed(
    db: &impl ConnectionTrait,
    table: &str,
    columns: &str,
    agency: Uuid,
    q: &StatusQuery,
    to_json: fn(&QueryResult) -> Result<Value, DbErr>,
) -> Result<Vec<Value>, LiveError> {
    let status = status_filter(q)?;
    let filter = if status.is_some() {
        "AND status = ?"
    } else {
        ""
    };
    let rows = all(
        db,
        &format!(
            "SELECT {columns} FROM {table} WHERE agency_id = ? {filter} \
             ORDER BY created_at DESC, id DESC LIMIT 500"
        ),
        std::iter::once(agency.into())
            .chain(status.map(Into::into))
            .collect(),
    )
    .await?;
    Ok(rows.iter().map(to_json).collect::<Result<Vec<_>, _>>()?)
}

/// The agency's host applications (the owner only), newest first.
#[utoipa::path(get, path = "/chatme/api/agency/{agencyId}/host-applications", tag = "live",
    params(("agencyId" = Uuid, Path), StatusQuery),
    responses((status = 200, description = "`{agency_id, applications}` (id numbers masked)"), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub(crate) async fn host_applications(
    State(state): State<AppState>,
    AuthUser(claims): AuthUser,
    PathParams(agency): PathParams<Uuid>,
    QueryParams(q): QueryParams<StatusQuery>,
) -> Result<Json<Value>, ApiError> {
    guard_agency(&state, &claims, agency, false).await?;
    let list = listed(
        &state.db,
        "live_host_applications",
        APPLICATION_COLUMNS,
        agency,
        &q,
        application_json,
    )
    .await?;
    Ok(Json(json!({ "agency_id": agency, "applications": list })))
}

fn period_of(state: &AppState, q: &PeriodQuery) -> Result<(Period, i64, i64), ApiError> {
    let period = Period::parse(q.period.as_deref()).map_err(ApiError::bad_request)?;
    let (start, end) = bounds(
        period,
        &state.domain::<LiveRuntime>().time_zone,
        state.clock.unix(),
    );
    Ok((period, start, end))
}

/// An agency's totals (the owner and ChatMe admins).
#[utoipa::path(get, path = "/chatme/api/agency/{agencyId}/stats", tag = "live",
    params(("agencyId" = Uuid, Path)),
    responses((status = 200, description = "`{agency_id, total_hosts, live_now, total_income, income_this_month, total_lives, pending_salary_requests, pending_host_applications}`"), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub(crate) async fn stats(
    State(state): State<AppState>,
    AuthUser(claims): AuthUser,
    PathParams(agency): PathParams<Uuid>,
) -> Result<Json<Value>, ApiError> {
    guard_agency(&state, &claims, agency, true).await?;
    let (_, month_start, month_end) = period_of(
        &state,
        &PeriodQuery {
            period: Some("month".into()),
        },
    )?;
    let row = one(
        &state.db,
        "SELECT \
         (SELECT COUNT(*) FROM live_agency_hosts WHERE agency_id = ?) AS hosts, \
         (SELECT COUNT(*) FROM live_sessions s JOIN live_agency_hosts h ON h.host_id = s.host_id \
          WHERE h.agency_id = ? AND s.end_time IS NULL) AS live_now, \
         (SELECT CAST(COALESCE(SUM(i.income), 0) AS BIGINT) FROM live_host_income i \
          JOIN live_agency_hosts h ON h.host_id = i.host_id WHERE h.agency_id = ?) AS income, \
         (SELECT CAST(COALESCE(SUM(i.income), 0) AS BIGINT) FROM live_host_income i \
          JOIN live_agency_hosts h ON h.host_id = i.host_id WHERE h.agency_id = ? \
          AND i.created_at >= ? AND i.created_at < ?) AS month_income, \
         (SELECT COUNT(*) FROM live_sessions s JOIN live_agency_hosts h ON h.host_id = s.host_id \
          WHERE h.agency_id = ?) AS lives, \
         (SELECT COUNT(*) FROM live_salary_requests WHERE agency_id = ? AND status = 'pending') AS salaries, \
         (SELECT COUNT(*) FROM live_host_applications WHERE agency_id = ? AND status = 'pending') AS applications",
        vec![
            agency.into(),
            agency.into(),
            agency.into(),
            agency.into(),
            month_start.into(),
            month_end.into(),
            agency.into(),
            agency.into(),
            agency.into(),
        ],
    )
    .await
    .map_err(LiveError::from)?
    .ok_or_else(agency_not_found)?;
    let n = |col: &str| row.try_get::<i64>("", col).map_err(LiveError::from);
    Ok(Json(json!({
        "agency_id": agency,
        "total_hosts": n("hosts")?,
        "live_now": n("live_now")?,
        "total_income": n("income")?,
        "income_this_month": n("month_income")?,
        "total_lives": n("lives")?,
        "pending_salary_requests": n("salaries")?,
        "pending_host_applications": n("applications")?,
    })))
}

/// The agency's hosts with their income (the owner and ChatMe admins).
#[utoipa::path(get, path = "/chatme/api/agency/{agencyId}/hosts", tag = "live",
    params(("agencyId" = Uuid, Path)),
    responses((status = 200, description = "`{agency_id, hosts: [{host_id, name, phone, joined_at, total_income, is_live}]}`"), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub(crate) async fn hosts(
    State(state): State<AppState>,
    AuthUser(claims): AuthUser,
    PathParams(agency): PathParams<Uuid>,
) -> Result<Json<Value>, ApiError> {
    guard_agency(&state, &claims, agency, true).await?;
    let rows = all(
        &state.db,
        "SELECT h.host_id, u.name, u.phone, h.joined_at, \
         (SELECT CAST(COALESCE(SUM(i.income), 0) AS BIGINT) FROM live_host_income i \
          WHERE i.host_id = h.host_id) AS income, \
         (SELECT COUNT(*) FROM live_sessions s WHERE s.host_id = h.host_id \
          AND s.end_time IS NULL) AS open_sessions \
         FROM live_agency_hosts h JOIN users u ON u.id = h.host_id \
         WHERE h.agency_id = ? ORDER BY u.name, h.host_id",
        vec![agency.into()],
    )
    .await
    .map_err(LiveError::from)?;
    let list = rows
        .iter()
        .map(|r| {
            Ok(json!({
                "host_id": r.try_get::<Uuid>("", "host_id")?,
                "name": r.try_get::<String>("", "name")?,
                "phone": r.try_get::<Option<String>>("", "phone")?.as_deref().map(phone::e164),
                "joined_at": rfc3339(r.try_get("", "joined_at")?),
                "total_income": r.try_get::<i64>("", "income")?,
                "is_live": r.try_get::<i64>("", "open_sessions")? > 0,
            }))
        })
        .collect::<Result<Vec<_>, DbErr>>()
        .map_err(LiveError::from)?;
    Ok(Json(json!({ "agency_id": agency, "hosts": list })))
}

/// The agency's hosts' income in a period (`period=day|week|month|all`).
#[utoipa::path(get, path = "/chatme/api/agency/{agencyId}/income", tag = "live",
    params(("agencyId" = Uuid, Path), PeriodQuery),
    responses((status = 200, description = "`{agency_id, period, total_income, hosts: [{host_id, name, income, gifts}]}`"), (status = 400), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub(crate) async fn income(
    State(state): State<AppState>,
    AuthUser(claims): AuthUser,
    PathParams(agency): PathParams<Uuid>,
    QueryParams(q): QueryParams<PeriodQuery>,
) -> Result<Json<Value>, ApiError> {
    guard_agency(&state, &claims, agency, true).await?;
    let (_, start, end) = period_of(&state, &q)?;
    let rows = all(
        &state.db,
        "SELECT h.host_id, u.name, CAST(COALESCE(SUM(i.income), 0) AS BIGINT) AS income, \
         COUNT(i.id) AS gifts FROM live_agency_hosts h JOIN users u ON u.id = h.host_id \
         LEFT JOIN live_host_income i ON i.host_id = h.host_id \
         AND i.created_at >= ? AND i.created_at < ? \
         WHERE h.agency_id = ? GROUP BY h.host_id, u.name ORDER BY income DESC, u.name",
        vec![start.into(), end.into(), agency.into()],
    )
    .await
    .map_err(LiveError::from)?;
    let mut total = 0i64;
    let list = rows
        .iter()
        .map(|r| {
            let income: i64 = r.try_get("", "income")?;
            total += income;
            Ok(json!({
                "host_id": r.try_get::<Uuid>("", "host_id")?,
                "name": r.try_get::<String>("", "name")?,
                "income": income,
                "gifts": r.try_get::<i64>("", "gifts")?,
            }))
        })
        .collect::<Result<Vec<_>, DbErr>>()
        .map_err(LiveError::from)?;
    Ok(Json(json!({
        "agency_id": agency,
        "period": q.period.as_deref().unwrap_or("all"),
        "total_income": total,
        "hosts": list,
    })))
}

/// The agency's hosts' lives in a period: sessions started and seconds live.
#[utoipa::path(get, path = "/chatme/api/agency/{agencyId}/live-stats", tag = "live",
    params(("agencyId" = Uuid, Path), PeriodQuery),
    responses((status = 200, description = "`{agency_id, period, total_lives, total_duration_seconds, hosts: [{host_id, name, lives, duration_seconds, viewers}]}`"), (status = 400), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub(crate) async fn live_stats(
    State(state): State<AppState>,
    AuthUser(claims): AuthUser,
    PathParams(agency): PathParams<Uuid>,
    QueryParams(q): QueryParams<PeriodQuery>,
) -> Result<Json<Value>, ApiError> {
    guard_agency(&state, &claims, agency, true).await?;
    let (_, start, end) = period_of(&state, &q)?;
    let rows = all(
        &state.db,
        "SELECT h.host_id, u.name, COUNT(s.id) AS lives, \
         CAST(COALESCE(SUM(s.duration_seconds), 0) AS BIGINT) AS seconds, \
         CAST(COALESCE(SUM(s.total_viewers), 0) AS BIGINT) AS viewers \
         FROM live_agency_hosts h JOIN users u ON u.id = h.host_id \
         LEFT JOIN live_sessions s ON s.host_id = h.host_id \
         AND s.start_time >= ? AND s.start_time < ? \
         WHERE h.agency_id = ? GROUP BY h.host_id, u.name ORDER BY lives DESC, u.name",
        vec![start.into(), end.into(), agency.into()],
    )
    .await
    .map_err(LiveError::from)?;
    let (mut lives, mut seconds) = (0i64, 0i64);
    let list = rows
        .iter()
        .map(|r| {
            let n: i64 = r.try_get("", "lives")?;
            let s: i64 = r.try_get("", "seconds")?;
            lives += n;
            seconds += s;
            Ok(json!({
                "host_id": r.try_get::<Uuid>("", "host_id")?,
                "name": r.try_get::<String>("", "name")?,
                "lives": n,
                "duration_seconds": s,
                "viewers": r.try_get::<i64>("", "viewers")?,
            }))
        })
        .collect::<Result<Vec<_>, DbErr>>()
        .map_err(LiveError::from)?;
    Ok(Json(json!({
        "agency_id": agency,
        "period": q.period.as_deref().unwrap_or("all"),
        "total_lives": lives,
        "total_duration_seconds": seconds,
        "hosts": list,
    })))
}

#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct SalaryRequest {
    /// The ISO week (1–53), which must be over.
    #[schema(minimum = 1, maximum = 53)]
    week_number: i64,
    /// The ISO week-numbering year, 2000 or later (default: the latest year in which that
    /// week has begun, so in week 1 of 2027 week 52 is 2026's).
    #[serde(default)]
    #[schema(minimum = 2000, maximum = 9999)]
    year: Option<i64>,
}

/// A host asks for a week's salary: amount and lives computed from that ISO week.
#[utoipa::path(post, path = "/chatme/api/salary-requests", tag = "live", request_body = SalaryRequest,
    responses((status = 201, description = "`{message, request}`"), (status = 400, description = "Unknown week or a week not yet over"), (status = 403, description = "Not a host of an agency"), (status = 409, description = "Already requested")),
    security(("bearer" = [])))]
pub(crate) async fn request_salary(
    State(state): State<AppState>,
    AuthUser(claims): AuthUser,
    JsonBody(body): JsonBody<SalaryRequest>,
) -> Result<Response, ApiError> {
    let membership = one(
        &state.db,
        "SELECT agency_id FROM live_agency_hosts WHERE host_id = ?",
        vec![claims.sub.into()],
    )
    .await
    .map_err(LiveError::from)?
    .ok_or_else(|| {
        LiveError::Forbidden(Msg::new(
            "Hanya host yang tergabung di agency yang bisa mengajukan gaji",
            "Only hosts of an agency can request a salary",
        ))
    })?;
    let agency: Uuid = membership
        .try_get("", "agency_id")
        .map_err(LiveError::from)?;
    let tz = &state.domain::<LiveRuntime>().time_zone;
    let now = state.clock.unix();
    let number = i8::try_from(body.week_number)
        .map_err(|_| bad("week_number tidak valid", "Invalid week_number"))?;
    let week = match body.year {
        Some(year) => Some(IsoWeek {
            year: i16::try_from(year).map_err(|_| bad("year tidak valid", "Invalid year"))?,
            week: number,
        }),
        None => IsoWeek::latest_begun(tz, number, now),
    };
    let (week, (week_start, week_end)) = week
        .filter(|w| w.year >= 2000)
        .and_then(|w| Some((w, w.bounds(tz)?)))
        .ok_or_else(|| {
            bad(
                "week_number tidak valid untuk tahun ini",
                "week_number does not exist in that year",
            )
        })?;
    if week_end > now {
        return Err(bad(
            "Minggu ini belum selesai; gaji hanya bisa diajukan untuk minggu yang sudah lewat",
            "That week is not over yet; a salary can only be requested for a past week",
        )
        .into());
    }
    let totals = one(
        &state.db,
        "SELECT (SELECT CAST(COALESCE(SUM(income), 0) AS BIGINT) FROM live_host_income \
          WHERE host_id = ? AND created_at >= ? AND created_at < ?) AS amount, \
         (SELECT COUNT(*) FROM live_sessions WHERE host_id = ? \
          AND start_time >= ? AND start_time < ?) AS lives",
        vec![
            claims.sub.into(),
            week_start.into(),
            week_end.into(),
            claims.sub.into(),
            week_start.into(),
            week_end.into(),
        ],
    )
    .await
    .map_err(LiveError::from)?
    .ok_or_else(user_not_found)?;
    let amount: i64 = totals.try_get("", "amount").map_err(LiveError::from)?;
    let lives: i64 = totals.try_get("", "lives").map_err(LiveError::from)?;
    let id = Uuid::now_v7();
    insert_once(
        &state.db,
        "INSERT INTO live_salary_requests (id, host_id, agency_id, iso_year, week_number, \
             week_start, week_end, salary_amount, total_lives, status, created_at, approved_at, \
             decided_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, NULL, NULL)",
        vec![
            id.into(),
            claims.sub.into(),
            agency.into(),
            i32::from(week.year).into(),
            i32::from(week.week).into(),
            week_start.into(),
            week_end.into(),
            amount.into(),
            lives.into(),
            now.into(),
        ],
        Msg::new(
            "Gaji minggu ini sudah diajukan",
            "A salary for that week has already been requested",
        ),
    )
    .await?;
    let row = salary(&state.db, id).await?;
    Ok(created(
        Msg::new("Pengajuan gaji terkirim", "Salary request sent"),
        "request",
        salary_json(&row).map_err(LiveError::from)?,
    ))
}

async fn salary(db: &impl ConnectionTrait, id: Uuid) -> Result<QueryResult, LiveError> {
    one(
        db,
        &format!("SELECT {SALARY_COLUMNS} FROM live_salary_requests WHERE id = ?"),
        vec![id.into()],
    )
    .await?
    .ok_or_else(|| {
        LiveError::NotFound(Msg::new(
            "Pengajuan gaji tidak ditemukan",
            "Salary request not found",
        ))
    })
}

/// The agency's hosts' salary requests (the owning agency only), newest first.
#[utoipa::path(get, path = "/chatme/api/agency/{agencyId}/salary-requests", tag = "live",
    params(("agencyId" = Uuid, Path), StatusQuery),
    responses((status = 200, description = "`{agency_id, requests}`"), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub(crate) async fn salary_requests(
    State(state): State<AppState>,
    AuthUser(claims): AuthUser,
    PathParams(agency): PathParams<Uuid>,
    QueryParams(q): QueryParams<StatusQuery>,
) -> Result<Json<Value>, ApiError> {
    guard_agency(&state, &claims, agency, false).await?;
    let list = listed(
        &state.db,
        "live_salary_requests",
        SALARY_COLUMNS,
        agency,
        &q,
        salary_json,
    )
    .await?;
    Ok(Json(json!({ "agency_id": agency, "requests": list })))
}

async fn decide_salary(
    state: &AppState,
    claims: &Claims,
    ip: ClientIp,
    id: Uuid,
    decision: Decision,
) -> Result<Json<Value>, ApiError> {
    let row = salary(&state.db, id).await?;
    let agency: Uuid = row.try_get("", "agency_id").map_err(LiveError::from)?;
    require_owner(&state.db, claims.sub, agency).await?;
    let txn = state.db.begin().await.map_err(LiveError::from)?;
    decide_row(
        &txn,
        "live_salary_requests",
        id,
        decision,
        state.clock.unix(),
    )
    .await?;
    txn.execute(stmt(
        txn.get_database_backend(),
        "UPDATE live_salary_requests SET decided_by = ? WHERE id = ?",
        vec![claims.sub.into(), id.into()],
    ))
    .await
    .map_err(LiveError::from)?;
    txn.commit().await.map_err(LiveError::from)?;
    audit::record(
        &state.db,
        state.clock.now(),
        audit::Entry::new("live_salary_decided", ip)
            .by(claims.sub, claims.email.clone())
            .target(id.to_string())
            .detail(json!({ "status": decision.status(), "agency": agency })),
    )
    .await;
    let row = salary(&state.db, id).await?;
    Ok(Json(json!({
        "message": Msg::new("Keputusan disimpan", "Decision saved").localized(),
        "request": salary_json(&row).map_err(LiveError::from)?,
    })))
}

/// Approves a salary request (the host's agency only; once).
#[utoipa::path(post, path = "/chatme/api/agency/salary-request/{requestId}/approve", tag = "live",
    params(("requestId" = Uuid, Path)),
    responses((status = 200, description = "`{message, request}`"), (status = 403), (status = 404), (status = 409, description = "Already decided")),
    security(("bearer" = [])))]
pub(crate) async fn approve_salary(
    State(state): State<AppState>,
    AuthUser(claims): AuthUser,
    ip: ClientIp,
    PathParams(id): PathParams<Uuid>,
) -> Result<Json<Value>, ApiError> {
    decide_salary(&state, &claims, ip, id, Decision::Approve).await
}

/// Rejects a salary request (the host's agency only; once).
#[utoipa::path(post, path = "/chatme/api/agency/salary-request/{requestId}/reject", tag = "live",
    params(("requestId" = Uuid, Path)),
    responses((status = 200, description = "`{message, request}`"), (status = 403), (status = 404), (status = 409, description = "Already decided")),
    security(("bearer" = [])))]
pub(crate) async fn reject_salary(
    State(state): State<AppState>,
    AuthUser(claims): AuthUser,
    ip: ClientIp,
    PathParams(id): PathParams<Uuid>,
) -> Result<Json<Value>, ApiError> {
    decide_salary(&state, &claims, ip, id, Decision::Reject).await
}

/// Every agency application, newest first (ChatMe admins), to decide the pending ones.
#[utoipa::path(get, path = "/chatme/api/admin/agencies", tag = "live",
    params(StatusQuery),
    responses((status = 200, description = "`{agencies: [{id, user_id, family_name, region, phone, status, created_at, approved_at, decided_at}]}` (at most 500)"), (status = 403)),
    security(("bearer" = [])))]
pub(crate) async fn list_agencies(
    State(state): State<AppState>,
    _admin: Guarded<LiveAdmin>,
    QueryParams(q): QueryParams<StatusQuery>,
) -> Result<Json<Value>, ApiError> {
    let status = status_filter(&q)?;
    let filter = if status.is_some() {
        "WHERE status = ?"
    } else {
        ""
    };
    let rows = all(
        &state.db,
        &format!(
            "SELECT {AGENCY_COLUMNS} FROM live_agencies {filter} \
             ORDER BY created_at DESC, id DESC LIMIT 500"
        ),
        status.into_iter().map(Into::into).collect(),
    )
    .await
    .map_err(LiveError::from)?;
    let agencies = rows
        .iter()
        .map(agency_json)
        .collect::<Result<Vec<_>, _>>()
        .map_err(LiveError::from)?;
    Ok(Json(json!({ "agencies": agencies })))
}
