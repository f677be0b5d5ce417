//! `/api/auth`: `POST /login`, `POST /refresh`, `POST /logout`, `GET /me`, `POST /google`, and
//! TOTP: `POST /mfa/enrol`, `POST /mfa/confirm`, `POST /mfa/verify` (the login's second step).

use axum::{
    extract::State,
    http::{header, HeaderMap, HeaderValue},
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde::{Deserialize, Serialize};
use serde_json::json;
use time::OffsetDateTime;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{
    extract::{cookie, AuthUser},
    ids::{Email, EmployeeNo, LoginId, Nik, Phone, Username},
    mfa,
    service::{self, UserView},
    sessions::{self, Session},
    sign_in::{sign_in, throttle_address},
};
use crate::{
    audit,
    db::entities::user,
    error::{DbContext, ServiceError},
    http::{error::ApiError, json::JsonBody},
    i18n::Msg,
    security::ClientIp,
    state::{AppState, Platform},
};

/// The refresh token cookie (seed 003).
pub const REFRESH_COOKIE: &str = "refreshToken";
/// The access token cookie (seed 001).
pub const ACCESS_COOKIE: &str = "token";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/auth/login", post(login))
        .route("/api/auth/mfa/enrol", post(mfa_enrol))
        .route("/api/auth/mfa/confirm", post(mfa_confirm))
        .route("/api/auth/mfa/verify", post(mfa_verify))
        .route("/api/auth/refresh", post(refresh))
        .route("/api/auth/logout", post(logout))
        .route("/api/auth/me", get(me))
        .route("/api/auth/google", post(google))
}

/// A TOTP code, or with `challenge_token` the second step of a login.
#[derive(Debug, Deserialize, ToSchema)]
pub struct MfaRequest {
    #[serde(default)]
    pub challenge_token: String,
    /// Six digits from the authenticator, or an unused recovery code.
    #[serde(default)]
    pub code: String,
}

/// Starts TOTP enrolment: the secret, its `otpauth://` URI and a QR code (PNG, base64).
#[utoipa::path(post, path = "/api/auth/mfa/enrol", tag = "auth",
    responses((status = 200, description = "`{secret, otpauth_uri, qr_png_base64}`"), (status = 401), (status = 409)),
    security(("bearer" = [])))]
pub async fn mfa_enrol(
    State(state): State<AppState>,
    AuthUser(claims): AuthUser,
    ip: ClientIp,
) -> Result<Response, ApiError> {
    let user = service::find_by_id(&state.db, claims.sub)
        .await?
        .ok_or_else(sessions::invalid_session)?;
    let enrolment = mfa::enrol(&state, &user).await?;
    audit::record(
        &state.db,
        state.clock.now(),
        audit::Entry::new("mfa_enrol_started", ip).by(user.id, claims.email),
    )
    .await;
    Ok(Json(enrolment).into_response())
}

/// Confirms enrolment with a first code; answers the recovery codes, once.
#[utoipa::path(post, path = "/api/auth/mfa/confirm", tag = "auth", request_body = MfaRequest,
    responses((status = 200, description = "`{recovery_codes}`"), (status = 400), (status = 401), (status = 409)),
    security(("bearer" = [])))]
pub async fn mfa_confirm(
    State(state): State<AppState>,
    AuthUser(claims): AuthUser,
    ip: ClientIp,
    JsonBody(body): JsonBody<MfaRequest>,
) -> Result<Response, ApiError> {
    let codes = mfa::confirm(&state, claims.sub, &body.code).await?;
    audit::record(
        &state.db,
        state.clock.now(),
        audit::Entry::new("mfa_enabled", ip).by(claims.sub, claims.email),
    )
    .await;
    Ok(Json(json!({ "recovery_codes": codes })).into_response())
}

/// The login's second step: the challenge token and a code → the session.
#[utoipa::path(post, path = "/api/auth/mfa/verify", tag = "auth", request_body = MfaRequest,
    responses((status = 200, body = SessionResponse), (status = 401, body = MessageResponse), (status = 429, body = MessageResponse)))]
pub async fn mfa_verify(
    State(state): State<AppState>,
    ip: ClientIp,
    JsonBody(body): JsonBody<MfaRequest>,
) -> Result<Response, ApiError> {
    if let Err(refusal) = throttle_address(&state, &ip).await {
        return Ok(refusal.into_response());
    }
    let user = mfa::complete(&state, &body.challenge_token, &body.code).await?;
    audit::record(
        &state.db,
        state.clock.now(),
        audit::Entry::new("login", ip).by(user.id, "mfa"),
    )
    .await;
    let session = sessions::start(&state, user).await?;
    Ok(session_response(&state, session))
}

/// One identifier (`email`, `phone`, `nik` or `login`) and the password.
#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginRequest {
    #[serde(default)]
    pub email: Option<String>,
    /// Any one identifier, as a person types it into a single sign-in field: an email, a
    /// 16-digit NIK, a phone number, an employee number (the meals portal's `ADM001`) or a
    /// username (SAKIP's `testuser`). An employee number is tried before a username.
    #[serde(default)]
    pub login: Option<String>,
    /// `08…`, `62…` or `+62…`.
    #[serde(default)]
    pub phone: Option<String>,
    /// 16 digits.
    #[serde(default)]
    pub nik: Option<String>,
    #[serde(default)]
    pub password: String,
}

/// A new session: the access token (also set as the `token` cookie) and the user; the
/// refresh token is only in the httpOnly `refreshToken` cookie.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionResponse {
    #[serde(rename = "accessToken")]
    pub access_token: String,
    /// Seconds until the access token expires.
    #[serde(rename = "expiresIn")]
    pub expires_in: u64,
    pub user: UserView,
}

/// `{"user": …}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserResponse {
    pub user: UserView,
}

/// A Google ID token (`idToken`; `credential` as Google Identity Services names it).
#[derive(Debug, Deserialize, ToSchema)]
pub struct GoogleRequest {
    #[serde(
        default,
        rename = "idToken",
        alias = "credential",
        alias = "id_token",
        alias = "token"
    )]
    #[schema(required = true, min_length = 1)]
    pub id_token: String,
}

/// `{"message": …}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageResponse {
    pub message: String,
}

/// A `Set-Cookie` value: httpOnly, `SameSite=Lax`, `Secure` when the public URL is HTTPS.
pub fn cookie_header(
    platform: &Platform,
    name: &str,
    value: &str,
    max_age: u64,
) -> Option<HeaderValue> {
    let secure = if platform.config.tls() {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{name}={value}; HttpOnly; SameSite=Lax; Path=/; Max-Age={max_age}{secure}"
    ))
    .ok()
}

fn session_response(platform: &Platform, session: Session) -> Response {
    let ttl = platform.jwt.ttl().as_secs();
    let mut response = Json(SessionResponse {
        access_token: session.access_token.clone(),
        expires_in: ttl,
        user: session.user,
    })
    .into_response();
    let headers = response.headers_mut();
    // The refresh cookie last: simple clients that keep one Set-Cookie per name (wrk) see it.
    for value in [
        cookie_header(platform, ACCESS_COOKIE, &session.access_token, ttl),
        cookie_header(
            platform,
            REFRESH_COOKIE,
            &session.refresh_token,
            platform.config.security.refresh_token_ttl_secs,
        ),
    ]
    .into_iter()
    .flatten()
    {
        headers.append(header::SET_COOKIE, value);
    }
    response
}

fn given(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

async fn login_id(state: &AppState, body: &LoginRequest) -> Result<LoginId, ApiError> {
    let invalid = |e: super::ids::IdError| ApiError::bad_request(e.0);
    if let Some(email) = given(&body.email) {
        return Email::parse(&email).map(LoginId::Email).map_err(invalid);
    }
    if let Some(phone) = given(&body.phone) {
        return Phone::parse(&phone).map(LoginId::Phone).map_err(invalid);
    }
    if let Some(nik) = given(&body.nik) {
        return Nik::parse(&nik).map(LoginId::Nik).map_err(invalid);
    }
    if let Some(any) = given(&body.login) {
        return any_login_id(state, &any).await;
    }
    Err(ApiError::bad_request(Msg::new(
        "Email dan password harus diisi",
        "Email and password are required",
    )))
}

/// Reads `raw` as whichever identifier it can be: an email (it has `@`), a NIK (16 digits),
/// a phone number (digits and the usual separators that `Phone` accepts), else the employee
/// number or the username of an existing account (in that order). A name matching no
/// account is still signed in as its first reading, so a wrong guess is one more refused
/// password, counted against that identifier.
async fn any_login_id(state: &AppState, raw: &str) -> Result<LoginId, ApiError> {
    let invalid = |e: super::ids::IdError| ApiError::bad_request(e.0);
    if raw.contains('@') {
        return Email::parse(raw).map(LoginId::Email).map_err(invalid);
    }
    if let Ok(nik) = Nik::parse(raw) {
        return Ok(LoginId::Nik(nik));
    }
    let phone_like = raw
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '+' | ' ' | '-' | '.' | '(' | ')'));
    if phone_like {
        if let Ok(phone) = Phone::parse(raw) {
            return Ok(LoginId::Phone(phone));
        }
    }
    let readings: Vec<LoginId> = [
        EmployeeNo::parse(raw).ok().map(LoginId::EmployeeNo),
        Username::parse(raw).ok().map(LoginId::Username),
    ]
    .into_iter()
    .flatten()
    .collect();
    for id in &readings {
        if service::find_by_login(&state.db, id).await?.is_some() {
            return Ok(id.clone());
        }
    }
    readings.into_iter().next().ok_or_else(|| {
        ApiError::bad_request(Msg::new(
            "Isi email, nomor telepon, NIK, nomor pegawai atau username",
            "Enter an email, phone number, NIK, employee number or username",
        ))
    })
}

/// Logs in with email, phone, NIK or any one identifier (`login`) and a password.
#[utoipa::path(post, path = "/api/auth/login", tag = "auth", request_body = LoginRequest,
    responses(
        (status = 200, body = SessionResponse, description = "Sets the `refreshToken` and `token` cookies"),
        (status = 400, body = MessageResponse), (status = 401, body = MessageResponse),
        (status = 403, body = MessageResponse, description = "Account disabled"),
        (status = 429, body = MessageResponse, description = "Too many attempts (per address or account)")))]
pub async fn login(
    State(state): State<AppState>,
    ip: ClientIp,
    JsonBody(body): JsonBody<LoginRequest>,
) -> Result<Response, ApiError> {
    if let Err(refusal) = throttle_address(&state, &ip).await {
        return Ok(refusal.into_response());
    }
    let id = login_id(&state, &body).await?;
    if body.password.is_empty() {
        return Err(ApiError::bad_request(Msg::new(
            "Password harus diisi",
            "Password is required",
        )));
    }
    let user = match sign_in(&state, ip, &id, &body.password).await {
        Ok(user) => user,
        Err(refusal) => return Ok(refusal.into_response()),
    };
    let session = sessions::start(&state, user).await?;
    Ok(session_response(&state, session))
}

/// Trades the `refreshToken` cookie for a new session; reusing a token revokes its family.
#[utoipa::path(post, path = "/api/auth/refresh", tag = "auth",
    responses(
        (status = 200, body = SessionResponse, description = "Rotates the `refreshToken` cookie"),
        (status = 401, body = MessageResponse, description = "Missing, expired, revoked or reused token"),
        (status = 429, body = MessageResponse)))]
pub async fn refresh(
    State(state): State<AppState>,
    ip: ClientIp,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if let Err(limited) = state.limits.auth_attempt(ip.0).await {
        return Ok(limited.into_response());
    }
    let raw = cookie(&headers, REFRESH_COOKIE).ok_or_else(sessions::invalid_session)?;
    let session = sessions::rotate(&state, raw, ip).await?;
    Ok(session_response(&state, session))
}

/// Ends the session of the `refreshToken` cookie and clears both cookies.
#[utoipa::path(post, path = "/api/auth/logout", tag = "auth",
    responses((status = 200, body = MessageResponse)))]
pub async fn logout(
    State(state): State<AppState>,
    ip: ClientIp,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if let Some(raw) = cookie(&headers, REFRESH_COOKIE) {
        if let Some(user) = sessions::end(&state, raw).await? {
            audit::record(
                &state.db,
                state.clock.now(),
                audit::Entry::new("logout", ip).by(user, ""),
            )
            .await;
        }
    }
    let message = Msg::new("Logout berhasil", "Logged out");
    let mut response = Json(json!({ "message": message.localized() })).into_response();
    for name in [REFRESH_COOKIE, ACCESS_COOKIE] {
        if let Some(value) = cookie_header(&state, name, "", 0) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    Ok(response)
}

/// The signed-in user.
#[utoipa::path(get, path = "/api/auth/me", tag = "auth",
    responses((status = 200, body = UserResponse), (status = 401, body = MessageResponse)),
    security(("bearer" = []), ("cookie" = [])))]
pub async fn me(
    State(state): State<AppState>,
    AuthUser(claims): AuthUser,
) -> Result<Json<UserResponse>, ApiError> {
    let user = service::find_by_id(&state.db, claims.sub)
        .await?
        .ok_or_else(|| {
            ServiceError::NotFound(Msg::new("User tidak ditemukan", "User not found"))
        })?;
    Ok(Json(UserResponse { user: user.into() }))
}

/// Signs in with a Google ID token: an account linked to that Google subject, else the
/// account with that verified email (which gets linked), else a new member account.
#[utoipa::path(post, path = "/api/auth/google", tag = "auth", request_body = GoogleRequest,
    responses((status = 200, body = SessionResponse), (status = 400, body = MessageResponse),
        (status = 401, body = MessageResponse), (status = 403, body = MessageResponse),
        (status = 429, body = MessageResponse)))]
pub async fn google(
    State(state): State<AppState>,
    ip: ClientIp,
    JsonBody(body): JsonBody<GoogleRequest>,
) -> Result<Response, ApiError> {
    if let Err(limited) = state.limits.auth_attempt(ip.0).await {
        return Ok(limited.into_response());
    }
    if body.id_token.trim().is_empty() {
        return Err(ApiError::bad_request(Msg::new(
            "idToken harus diisi",
            "idToken is required",
        )));
    }
    let now = state.clock.now();
    let identity = match state
        .google
        .verify(&state.clock, body.id_token.trim())
        .await
    {
        Ok(identity) => identity,
        Err(err) => {
            audit::record(
                &state.db,
                now,
                audit::Entry::new("login_google_failed", ip).failed(),
            )
            .await;
            return Err(err.into());
        }
    };
    let user = google_user(&state, &identity, now).await?;
    if user.disabled {
        return Err(service::disabled().into());
    }
    let user_id = user.id;
    let session = sessions::start(&state, user).await?;
    audit::record(
        &state.db,
        now,
        audit::Entry::new("login_google", ip)
            .by(user_id, identity.verified_email.unwrap_or_default()),
    )
    .await;
    Ok(session_response(&state, session))
}

async fn google_user(
    state: &Platform,
    identity: &super::google::GoogleIdentity,
    now: OffsetDateTime,
) -> Result<user::Model, ApiError> {
    if let Some(linked) = user::Entity::find()
        .filter(user::Column::GoogleSub.eq(identity.sub.as_str()))
        .one(&state.db)
        .await
        .db("looking up a Google user")?
    {
        return Ok(linked);
    }
    let email = identity
        .verified_email
        .as_deref()
        .and_then(|e| Email::parse(e).ok())
        .ok_or_else(super::google::invalid_token)?;
    if let Some(existing) =
        service::find_by_login(&state.db, &LoginId::Email(email.clone())).await?
    {
        let mut row: user::ActiveModel = existing.into();
        row.google_sub = Set(Some(identity.sub.clone()));
        row.updated_at = Set(now);
        return Ok(row.update(&state.db).await.db("linking a Google account")?);
    }
    if !state.google.allow_signup() {
        return Err(super::google::invalid_token().into());
    }
    let roles = json!({ "access": "member" }).to_string();
    let created = user::ActiveModel {
        id: Set(Uuid::now_v7()),
        email: Set(Some(email.as_str().to_owned())),
        name: Set(identity
            .name
            .clone()
            .unwrap_or_else(|| email.as_str().to_owned())),
        // Not a PHC string: no password ever matches.
        password_hash: Set("!".into()),
        roles: Set(roles),
        disabled: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
        phone: Set(None),
        nik: Set(None),
        google_sub: Set(Some(identity.sub.clone())),
        department: Set(None),
        session_epoch: Set(0),
        username: Set(None),
        employee_no: Set(None),
    }
    .insert(&state.db)
    .await
    .db("creating a Google user")?;
    Ok(created)
}
