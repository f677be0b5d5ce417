//! Seed 001 routes exactly as documented: `POST /api/register`, `POST /api/login` (the
//! httpOnly `token` cookie, 7 days), `POST /api/logout`, `GET/PUT /api/profile`,
//! `POST/GET /api/attendance`. (`GET /api/users` is served by `people`, one endpoint for
//! both seeds.) Errors are `{"message"}`, Indonesian unless `Accept-Language: en`.
//! Beyond the seed, attendance admins get `GET /api/attendance/daily` (a day's table and
//! its CSV/XLSX/PDF export).

use axum::{
    extract::{DefaultBodyLimit, Request, State},
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use people::PeopleRuntime;
use sea_orm::{ActiveModelTrait, Set};
use serde::{Deserialize, Serialize};
use serde_json::json;
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{
    daily::{self as day, DailyReport},
    service::{self, AttendanceView},
};
use crate::{AttendanceAdmin, AttendanceSessions, SESSION_TTL};
use people::{
    gallery,
    photo::{photo_from_request, MAX_PHOTO_BODY},
    service::{display_role, user_not_found},
};
use platform::http::extract::QueryParams;
use platform::identity::parse_roles;
use platform::{
    audit,
    db::entities::user,
    error::{DbContext, ServiceError},
    export::{self, ExportFormat},
    http::{error::ApiError, json::JsonBody},
    i18n::Msg,
    identity::{
        self, cookie, cookie_header, roles, sessions, AuthUser, Email, Guarded, LoginId, Roles,
        ACCESS_COOKIE, REFRESH_COOKIE,
    },
    security::ClientIp,
    state::AppState,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/register", post(register))
        .route("/api/login", post(login))
        .route("/api/logout", post(logout))
        .route("/api/profile", get(profile).put(update_profile))
        .route(
            "/api/attendance",
            post(check_in)
                .get(list)
                .layer(DefaultBodyLimit::max(MAX_PHOTO_BODY)),
        )
        .route("/api/attendance/daily", get(daily))
}

/// Seed 001's short user: `{id, email, name, role}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SeedUser {
    pub id: Uuid,
    pub email: Option<String>,
    pub name: String,
    pub role: String,
}

impl From<&user::Model> for SeedUser {
    fn from(u: &user::Model) -> Self {
        Self {
            id: u.id,
            email: u.email.clone(),
            name: u.name.clone(),
            role: display_role(&serde_json::from_str(&u.roles).unwrap_or_default()),
        }
    }
}

/// `POST /api/register` (seed 001).
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = AttendanceRegisterRequest)]
pub(crate) struct RegisterRequest {
    #[serde(default)]
    #[schema(value_type = String, required = true, format = Email, max_length = 254)]
    email: Option<String>,
    /// At least 8 characters.
    #[serde(default)]
    #[schema(value_type = String, required = true, min_length = 8)]
    password: Option<String>,
    /// 1–100 characters once trimmed.
    #[serde(default)]
    #[schema(value_type = String, required = true, min_length = 1, max_length = 100, pattern = "\\S")]
    name: Option<String>,
    /// `mahasiswa` (default) or `admin` (only an attendance admin may create admins).
    #[serde(default)]
    #[schema(pattern = "^(mahasiswa|admin)$")]
    role: Option<String>,
}

fn filled(v: &Option<String>) -> Option<&str> {
    v.as_deref().filter(|v| !v.trim().is_empty())
}

/// Registers a user (seed 001).
#[utoipa::path(post, path = "/api/register", tag = "attendance", request_body = RegisterRequest,
    responses((status = 201, description = "`{message: \"Registrasi berhasil\", user: {id, email, name, role}}`"),
        (status = 400, description = "Email, password, dan nama harus diisi"), (status = 403, description = "Only admins create admins"),
        (status = 409, description = "Email sudah terdaftar"), (status = 429)))]
pub(crate) async fn register(
    State(state): State<AppState>,
    ip: ClientIp,
    headers: HeaderMap,
    JsonBody(body): JsonBody<RegisterRequest>,
) -> Result<Response, ApiError> {
    if let Err(limited) = state.limits.auth_attempt(ip.0).await {
        return Ok(limited.into_response());
    }
    let (Some(email), Some(password), Some(name)) = (
        filled(&body.email),
        filled(&body.password),
        filled(&body.name),
    ) else {
        return Err(ApiError::bad_request(Msg::new(
            "Email, password, dan nama harus diisi",
            "Email, password and name are required",
        )));
    };
    let role = match body.role.as_deref().map(str::trim) {
        None | Some("") | Some("mahasiswa") => "mahasiswa",
        Some("admin") => {
            let token = headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .or_else(|| cookie(&headers, ACCESS_COOKIE));
            let caller = match token {
                Some(token) => identity::authenticate(&state, token.trim()).await?,
                None => None,
            };
            if !caller.is_some_and(|c| roles::has_role(&c, "attendance", &["admin"])) {
                return Err(roles::forbidden());
            }
            "admin"
        }
        Some(_) => {
            return Err(ApiError::bad_request(Msg::new(
                "Role harus 'admin' atau 'mahasiswa'",
                "Role must be 'admin' or 'mahasiswa'",
            )))
        }
    };
    let email = Email::parse(email).map_err(|e| ApiError::bad_request(e.0))?;
    if name.trim().chars().count() > 100 {
        return Err(ApiError::bad_request(Msg::new(
            "Nama paling panjang 100 karakter",
            "The name may have at most 100 characters",
        )));
    }
    let created = identity::create_user(
        &state.db,
        &state.roles,
        identity::NewUser {
            email: Some(email),
            name: name.trim().to_owned(),
            password: password.to_owned(),
            roles: Roles::from([("attendance".to_owned(), role.to_owned())]),
            ..identity::NewUser::default()
        },
    )
    .await?;
    audit::record(
        &state.db,
        state.clock.now(),
        audit::Entry::new("register", ip).by(created.id, created.email.clone().unwrap_or_default()),
    )
    .await;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "message": Msg::new("Registrasi berhasil", "Registration successful").localized(),
            "user": SeedUser {
                id: created.id,
                email: created.email,
                name: created.name,
                role: role.to_owned(),
            },
        })),
    )
        .into_response())
}

/// `POST /api/login` (seed 001).
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = AttendanceLoginRequest)]
pub(crate) struct LoginRequest {
    #[serde(default)]
    #[schema(value_type = String, required = true, min_length = 1, pattern = "\\S")]
    email: Option<String>,
    #[serde(default)]
    #[schema(value_type = String, required = true, min_length = 1, pattern = "\\S")]
    password: Option<String>,
}

/// Logs in (seed 001): `{ok: true, user}` and the httpOnly `token` cookie, valid 7 days.
#[utoipa::path(post, path = "/api/login", tag = "attendance", request_body = LoginRequest,
    responses((status = 200, description = "`{ok: true, user: {id, email, name, role}}`; sets the httpOnly `token` cookie (7 days)"),
        (status = 400, description = "Email dan password harus diisi"), (status = 401, description = "Email atau password salah"),
        (status = 403, description = "Akun dinonaktifkan"), (status = 429)))]
pub(crate) async fn login(
    State(state): State<AppState>,
    ip: ClientIp,
    JsonBody(body): JsonBody<LoginRequest>,
) -> Result<Response, ApiError> {
    if let Err(refusal) = identity::throttle_address(&state, &ip).await {
        return Ok(refusal.into_response());
    }
    let (Some(email), Some(password)) = (filled(&body.email), filled(&body.password)) else {
        return Err(ApiError::bad_request(Msg::new(
            "Email dan password harus diisi",
            "Email and password are required",
        )));
    };
    let wrong = || {
        ServiceError::Unauthorized(Msg::new(
            "Email atau password salah",
            "Wrong email or password",
        ))
    };
    let id = LoginId::Email(Email::parse(email).map_err(|_| wrong())?);
    let user = match identity::sign_in(&state, ip, &id, password).await {
        Ok(user) => user,
        Err(refusal) => return Ok(refusal.into_response()),
    };
    let token = state.domain::<AttendanceSessions>().keys.issue(
        &state.clock,
        user.id,
        user.email.as_deref().unwrap_or_default(),
        &parse_roles(&user.roles),
        user.department.as_deref(),
        user.session_epoch,
    )?;
    let mut response = Json(json!({ "ok": true, "user": SeedUser::from(&user) })).into_response();
    if let Some(value) = cookie_header(&state, ACCESS_COOKIE, &token, SESSION_TTL.as_secs()) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    Ok(response)
}

/// Logs out (seed 001): clears the `token` cookie (and ends a refresh session if present).
#[utoipa::path(post, path = "/api/logout", tag = "attendance",
    responses((status = 200, description = "`{message: \"Logout berhasil\"}`")))]
pub(crate) async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if let Some(raw) = cookie(&headers, REFRESH_COOKIE) {
        sessions::end(&state, raw).await?;
    }
    let mut response = Json(json!({
        "message": Msg::new("Logout berhasil", "Logged out").localized(),
    }))
    .into_response();
    for name in [ACCESS_COOKIE, REFRESH_COOKIE] {
        if let Some(value) = cookie_header(&state, name, "", 0) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    Ok(response)
}

async fn current(state: &AppState, id: Uuid) -> Result<user::Model, ApiError> {
    Ok(identity::find_by_id(&state.db, id)
        .await?
        .ok_or_else(user_not_found)?)
}

/// The caller's profile (seed 001).
#[utoipa::path(get, path = "/api/profile", tag = "attendance",
    responses((status = 200, description = "`{user: {id, email, name, role, created_at, updated_at}}`"),
        (status = 401, description = "Anda belum login"), (status = 404, description = "User tidak ditemukan")),
    security(("cookie" = []), ("bearer" = [])))]
pub(crate) async fn profile(
    State(state): State<AppState>,
    AuthUser(claims): AuthUser,
) -> Result<Json<serde_json::Value>, ApiError> {
    let user = current(&state, claims.sub).await?;
    Ok(Json(json!({
        "user": {
            "id": user.id,
            "email": user.email,
            "name": user.name,
            "role": display_role(&parse_roles(&user.roles)),
            "created_at": rfc3339(user.created_at),
            "updated_at": rfc3339(user.updated_at),
        }
    })))
}

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// `PUT /api/profile` (seed 001).
#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct ProfileRequest {
    /// 1–100 characters once trimmed.
    #[serde(default)]
    #[schema(value_type = String, required = true, min_length = 1, max_length = 100, pattern = "\\S")]
    name: Option<String>,
}

/// Changes the caller's name (seed 001).
#[utoipa::path(put, path = "/api/profile", tag = "attendance", request_body = ProfileRequest,
    responses((status = 200, description = "`{message: \"Profile updated\", user: {id, email, name, role, updated_at}}`"),
        (status = 400, description = "Nama harus diisi"), (status = 401), (status = 404)),
    security(("cookie" = []), ("bearer" = [])))]
pub(crate) async fn update_profile(
    State(state): State<AppState>,
    AuthUser(claims): AuthUser,
    JsonBody(body): JsonBody<ProfileRequest>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let found = current(&state, claims.sub).await?;
    let name = body.name.as_deref().map(str::trim).unwrap_or_default();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::bad_request(Msg::new(
            "Nama harus diisi (paling panjang 100 karakter)",
            "Name is required (at most 100 characters)",
        )));
    }
    let renamed = name != found.name;
    let mut row: user::ActiveModel = found.into();
    row.name = Set(name.to_owned());
    row.updated_at = Set(OffsetDateTime::now_utc());
    let user = row.update(&state.db).await.db("updating a profile")?;
    // Devices show names: a renamed person with a face is a gallery change.
    if renamed
        && !people::service::templates_of(&state, user.id)
            .await?
            .is_empty()
    {
        let version = gallery::bump(&state.db).await?;
        gallery::notify(&state, version).await;
    }
    Ok(Json(json!({
        "message": Msg::new("Profile updated", "Profile updated").localized(),
        "user": {
            "id": user.id,
            "email": user.email,
            "name": user.name,
            "role": display_role(&parse_roles(&user.roles)),
            "updated_at": rfc3339(user.updated_at),
        }
    })))
}

/// Records today's attendance when the photo shows the caller's enrolled face (seed 001).
#[utoipa::path(post, path = "/api/attendance", tag = "attendance",
    request_body(content = Object, description = "`{image: base64 (or a data: URL)}`; multipart `image` also accepted"),
    responses((status = 201, description = "`{message: \"Absensi berhasil dicatat\", attendance: {id, userId, timestamp, status}}`"),
        (status = 400, description = "Image tidak ditemukan; not an image; no face, several faces, poor quality; face not registered"),
        (status = 401, description = "Anda belum login"), (status = 403, description = "The face does not match"),
        (status = 404, description = "User tidak ditemukan"), (status = 409, description = "Anda sudah absen hari ini"), (status = 413)),
    security(("cookie" = []), ("bearer" = [])))]
pub(crate) async fn check_in(
    State(state): State<AppState>,
    AuthUser(claims): AuthUser,
    request: Request,
) -> Result<Response, ApiError> {
    let photo = photo_from_request(
        request,
        &state,
        Msg::new("Image tidak ditemukan", "Image not found"),
    )
    .await?;
    let record = service::check_in(&state, claims.sub, photo).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "message": Msg::new("Absensi berhasil dicatat", "Attendance recorded").localized(),
            "attendance": {
                "id": record.id,
                "userId": record.user_id,
                "timestamp": rfc3339(record.timestamp),
                "status": record.status,
            }
        })),
    )
        .into_response())
}

/// The caller's attendance records, newest first (seed 001).
#[utoipa::path(get, path = "/api/attendance", tag = "attendance",
    responses((status = 200, description = "`{records: [{id, userId, timestamp, status, created_at, local_date, source, late}]}`"),
        (status = 401, description = "Anda belum login")),
    security(("cookie" = []), ("bearer" = [])))]
pub(crate) async fn list(
    State(state): State<AppState>,
    AuthUser(claims): AuthUser,
) -> Result<Json<serde_json::Value>, ApiError> {
    let records: Vec<AttendanceView> = service::records_of(&state, claims.sub).await?;
    Ok(Json(json!({ "records": records })))
}

/// `GET /api/attendance/daily`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct DailyParams {
    /// The site-local day, `YYYY-MM-DD` (default: today at the site).
    date: Option<String>,
    /// Only this department (case-insensitive).
    department: Option<String>,
    /// `csv`, `xlsx` or `pdf` for a file; absent: JSON.
    format: Option<String>,
}

/// A day's attendance (attendance admins): one row per person expected at work that day
/// with their first check-in, last check-out and `present` / `late` / `absent`, in the
/// site's time zone. With `format` the same rows as a file: CSV (streamed), XLSX or PDF.
#[utoipa::path(get, path = "/api/attendance/daily", tag = "attendance",
    params(DailyParams),
    responses(
        (status = 200, body = DailyReport, description = "`{date, time_zone, work_starts_at, department, totals: {expected, present, late, absent}, people: [{user_id, name, department, check_in, check_out, status, source}]}`; with `format`, the file (`text/csv`, XLSX or `application/pdf`) as an attachment"),
        (status = 400, description = "date is not YYYY-MM-DD, or an unknown format"),
        (status = 401), (status = 403)),
    security(("bearer" = []), ("cookie" = [])))]
pub(crate) async fn daily(
    State(state): State<AppState>,
    _admin: Guarded<AttendanceAdmin>,
    QueryParams(params): QueryParams<DailyParams>,
) -> Result<Response, ApiError> {
    let date = match params.date.as_deref().filter(|d| !d.trim().is_empty()) {
        Some(raw) => day::parse_day(raw)?,
        None => {
            let (today, _) = state.domain::<PeopleRuntime>().local_day(state.clock.now());
            day::parse_day(&today)?
        }
    };
    let format = params
        .format
        .as_deref()
        .filter(|f| !f.trim().is_empty())
        .map(|f| ExportFormat::parse(Some(f)))
        .transpose()?;
    let report = day::daily(&state, date, params.department.as_deref()).await?;
    let Some(format) = format else {
        return Ok(Json(report).into_response());
    };
    let layout = day::layout(
        &report,
        format,
        state
            .domain::<PeopleRuntime>()
            .in_site_zone(state.clock.now()),
    );
    Ok(export::respond(format, report.people.into_iter(), layout).await?)
}
