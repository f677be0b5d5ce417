//! ChatMe accounts (seed 004): `POST /register` `{phone, password, name}`, `POST /login`
//! `{phone, password}` → `{token, user}` (the 7-day token, plus the platform's rotating
//! refresh token in the `refreshToken` cookie), `GET /profile`, `PUT /profile/update`.
//! Accounts are platform users with a phone identifier; the ChatMe profile lives in
//! `live_profiles`, the balance in `live_wallets`.

use axum::{
    extract::State,
    http::{header, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use platform::{
    audit,
    db::entities::user,
    error::DbContext,
    http::{error::ApiError, json::JsonBody},
    i18n::Msg,
    identity::{self, cookie_header, sessions, AuthUser, LoginId, Roles, REFRESH_COOKIE},
    security::ClientIp,
    sql::stmt,
    state::AppState,
};
use sea_orm::{ActiveModelTrait, ConnectionTrait, DbErr, Set};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    error::{user_not_found, LiveError},
    periods::rfc3339,
    phone, wallet, LiveRuntime, DOMAIN,
};

/// A ChatMe user as the app reads it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChatUser {
    pub id: Uuid,
    /// E.164: `+62812…`.
    pub phone: Option<String>,
    pub name: String,
    pub avatar_url: Option<String>,
    pub gender: Option<String>,
    pub age: Option<i32>,
    pub signature: Option<String>,
    pub balance: i64,
    pub level: i32,
    pub vip_level: i32,
    /// `user`, `host`, `agency` or `admin`.
    pub role: String,
    pub created_at: String,
    pub updated_at: String,
}

/// Creates `user`'s profile and wallet unless they exist (platform users who sign in here
/// with a platform token get theirs on first use).
pub async fn ensure_account(db: &impl ConnectionTrait, user: Uuid, now: i64) -> Result<(), DbErr> {
    db.execute(stmt(
        db.get_database_backend(),
        "INSERT INTO live_profiles (user_id, level, vip_level, created_at, updated_at) \
         VALUES (?, 1, 0, ?, ?) ON CONFLICT (user_id) DO NOTHING",
        vec![user.into(), now.into(), now.into()],
    ))
    .await?;
    wallet::ensure_wallet(db, user, now).await
}

/// The user's role in this domain (`user` when they hold none).
pub fn live_role(raw_roles: &str) -> String {
    serde_json::from_str::<Roles>(raw_roles)
        .ok()
        .and_then(|r| r.get(DOMAIN).cloned())
        .unwrap_or_else(|| "user".to_owned())
}

/// Loads the ChatMe view of `id` (creating an empty profile and wallet if needed).
pub async fn load(state: &AppState, id: Uuid) -> Result<ChatUser, LiveError> {
    let found = identity::find_by_id(&state.db, id)
        .await?
        .ok_or_else(user_not_found)?;
    ensure_account(&state.db, id, state.clock.unix()).await?;
    let row = state
        .db
        .query_one(stmt(
            state.db.get_database_backend(),
            "SELECT p.gender, p.age, p.signature, p.avatar_url, p.level, p.vip_level, \
             p.updated_at, w.balance FROM live_profiles p JOIN live_wallets w ON w.user_id = p.user_id \
             WHERE p.user_id = ?",
            vec![id.into()],
        ))
        .await?
        .ok_or_else(user_not_found)?;
    Ok(ChatUser {
        id,
        phone: found.phone.as_deref().map(phone::e164),
        name: found.name.clone(),
        avatar_url: row.try_get("", "avatar_url")?,
        gender: row.try_get("", "gender")?,
        age: row.try_get("", "age")?,
        signature: row.try_get("", "signature")?,
        balance: row.try_get("", "balance")?,
        level: row.try_get("", "level")?,
        vip_level: row.try_get("", "vip_level")?,
        role: live_role(&found.roles),
        created_at: rfc3339(found.created_at.unix_timestamp()),
        // A profile edit touches `users` (the name) or `live_profiles` (the rest).
        updated_at: rfc3339(
            found
                .updated_at
                .unix_timestamp()
                .max(row.try_get::<i64>("", "updated_at")?),
        ),
    })
}

/// `POST /chatme/api/register` (seed 004).
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = ChatMeRegisterRequest)]
pub(crate) struct RegisterRequest {
    /// A valid number of any country (`08…`, `62…` or `+…`), at most 32 characters. The
    /// pattern documents the Indonesian mobile form, every number of which is valid
    /// ([`crate::phone::MOBILE_PATTERN`]).
    #[serde(default)]
    #[schema(value_type = String, required = true, min_length = 1, max_length = 32, pattern = "^08[1-35-9][0-9]{7,9}$", example = "081234567890")]
    phone: Option<String>,
    /// At least 8 characters.
    #[serde(default)]
    #[schema(value_type = String, required = true, min_length = 8, pattern = "\\S")]
    password: Option<String>,
    #[serde(default)]
    #[schema(value_type = String, required = true, min_length = 1, pattern = "\\S")]
    name: Option<String>,
}

fn filled(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

fn check_name(name: &str) -> Result<String, LiveError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(LiveError::Invalid(Msg::new(
            "Nama harus diisi (maks. 100 karakter)",
            "A name is required (at most 100 characters)",
        )));
    }
    Ok(name.to_owned())
}

/// Registers a ChatMe account (seed 004).
#[utoipa::path(post, path = "/chatme/api/register", tag = "live", request_body = RegisterRequest,
    responses((status = 201, description = "`{message, user}`"),
        (status = 400, description = "Missing fields, implausible phone number, short password"),
        (status = 409, description = "Nomor HP sudah terdaftar"), (status = 429)))]
pub(crate) async fn register(
    State(state): State<AppState>,
    ip: ClientIp,
    JsonBody(body): JsonBody<RegisterRequest>,
) -> Result<Response, ApiError> {
    if let Err(limited) = state.limits.auth_attempt(ip.0).await {
        return Ok(limited.into_response());
    }
    let (Some(raw_phone), Some(password), Some(name)) = (
        filled(&body.phone),
        body.password.as_deref(),
        filled(&body.name),
    ) else {
        return Err(ApiError::bad_request(Msg::new(
            "Nomor HP, password, dan nama harus diisi",
            "Phone, password and name are required",
        )));
    };
    let phone = phone::normalize(raw_phone).map_err(ApiError::bad_request)?;
    let name = check_name(name)?;
    let created = identity::create_user(
        &state.db,
        &state.roles,
        identity::NewUser {
            phone: Some(phone.clone()),
            name,
            password: password.to_owned(),
            roles: Roles::from([(DOMAIN.to_owned(), "user".to_owned())]),
            ..identity::NewUser::default()
        },
    )
    .await?;
    ensure_account(&state.db, created.id, state.clock.unix())
        .await
        .map_err(LiveError::from)?;
    audit::record(
        &state.db,
        state.clock.now(),
        audit::Entry::new("live_register", ip).by(created.id, phone.as_str()),
    )
    .await;
    let user = load(&state, created.id).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "message": Msg::new("Registrasi berhasil", "Registration successful").localized(),
            "user": user,
        })),
    )
        .into_response())
}

/// `POST /chatme/api/login` (seed 004).
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = ChatMeLoginRequest)]
pub(crate) struct LoginRequest {
    #[serde(default)]
    #[schema(value_type = String, required = true, min_length = 1, pattern = "\\S")]
    phone: Option<String>,
    #[serde(default)]
    #[schema(value_type = String, required = true, min_length = 1, pattern = "\\S")]
    password: Option<String>,
}

/// Logs in with a phone number (seed 004): `{message, token, user}` (token valid 7 days)
/// and the platform's refresh token in the `refreshToken` cookie.
#[utoipa::path(post, path = "/chatme/api/login", tag = "live", request_body = LoginRequest,
    responses((status = 200, description = "`{message, token, user}`"),
        (status = 400, description = "Nomor HP dan password harus diisi"),
        (status = 401, description = "Wrong phone or password"), (status = 403, description = "Akun dinonaktifkan"), (status = 429)))]
pub(crate) async fn login(
    State(state): State<AppState>,
    ip: ClientIp,
    JsonBody(body): JsonBody<LoginRequest>,
) -> Result<Response, ApiError> {
    if let Err(limited) = state.limits.auth_attempt(ip.0).await {
        return Ok(limited.into_response());
    }
    let (Some(raw_phone), Some(password)) = (filled(&body.phone), body.password.as_deref()) else {
        return Err(ApiError::bad_request(Msg::new(
            "Nomor HP dan password harus diisi",
            "Phone and password are required",
        )));
    };
    // An implausible number cannot name an account: the same answer as a wrong password.
    let id = match phone::normalize(raw_phone) {
        Ok(phone) => LoginId::Phone(phone),
        Err(_) => {
            return Err(platform::error::ServiceError::Unauthorized(Msg::new(
                "Nomor HP atau password salah",
                "Wrong phone number or password",
            ))
            .into())
        }
    };
    if let Err(limited) = state.limits.account_attempt(&id.key()).await {
        return Ok(limited.into_response());
    }
    let found = match identity::check_password(&state.db, &id, password).await {
        Ok(found) => found,
        Err(err) => {
            audit::record(
                &state.db,
                state.clock.now(),
                audit::Entry::new("live_login_failed", ip)
                    .actor(id.key())
                    .failed(),
            )
            .await;
            return Err(err.into());
        }
    };
    let roles: Roles = serde_json::from_str(&found.roles).unwrap_or_default();
    let token = state.domain::<LiveRuntime>().session_jwt.issue(
        &state.clock,
        found.id,
        found.email.as_deref().unwrap_or_default(),
        &roles,
        found.department.as_deref(),
        found.session_epoch,
    )?;
    let user_id = found.id;
    let session = sessions::start(&state, found).await?;
    audit::record(
        &state.db,
        state.clock.now(),
        audit::Entry::new("live_login", ip).by(user_id, id.key()),
    )
    .await;
    let user = load(&state, user_id).await?;
    let mut response = Json(json!({
        "message": Msg::new("Login berhasil", "Logged in").localized(),
        "token": token,
        "user": user,
    }))
    .into_response();
    if let Some(value) = cookie_header(
        &state,
        REFRESH_COOKIE,
        &session.refresh_token,
        state.config.security.refresh_token_ttl_secs,
    ) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    Ok(response)
}

/// The caller's ChatMe profile.
#[utoipa::path(get, path = "/chatme/api/profile", tag = "live",
    responses((status = 200, description = "`{user}`"), (status = 401)),
    security(("bearer" = [])))]
pub(crate) async fn profile(
    State(state): State<AppState>,
    AuthUser(claims): AuthUser,
) -> Result<Json<serde_json::Value>, ApiError> {
    Ok(Json(json!({ "user": load(&state, claims.sub).await? })))
}

#[derive(Debug, Deserialize, ToSchema)]
pub(crate) struct ProfileUpdate {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    gender: Option<String>,
    /// A whole number, or one written as text (`"24"`, as a form field sends it).
    #[serde(default)]
    #[schema(value_type = Option<i64>)]
    age: Option<WholeNumber>,
    #[serde(default)]
    signature: Option<String>,
}

/// A whole number as JSON writes it or as text.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum WholeNumber {
    Number(i64),
    Text(String),
}

impl WholeNumber {
    fn value(&self) -> Option<i64> {
        match self {
            WholeNumber::Number(n) => Some(*n),
            WholeNumber::Text(t) => t.trim().parse().ok(),
        }
    }
}

/// The words for a gender the app may send: English, Indonesian and their initials
/// (`Laki-laki`, `L`, `Perempuan`, `P`, …), any case.
const GENDER_WORDS: &[&str] = &[
    "male",
    "m",
    "man",
    "laki-laki",
    "laki laki",
    "lakilaki",
    "laki",
    "l",
    "pria",
    "cowok",
    "female",
    "f",
    "woman",
    "perempuan",
    "p",
    "wanita",
    "cewek",
    "other",
    "lainnya",
];

/// A gender as the app wrote it (trimmed), when it is one of [`GENDER_WORDS`]: kept as
/// written, since the seed's server stores and answers the app's own word.
pub(crate) fn gender(raw: &str) -> Result<String, LiveError> {
    let written = raw.trim();
    if GENDER_WORDS.contains(&written.to_lowercase().as_str()) {
        return Ok(written.to_owned());
    }
    Err(bad(
        "gender harus Laki-laki, Perempuan atau lainnya (male, female, other)",
        "gender must be male, female or other (Laki-laki, Perempuan, lainnya)",
    ))
}

fn bad(id: &'static str, en: &'static str) -> LiveError {
    LiveError::Invalid(Msg::new(id, en))
}

/// Updates the caller's `name, gender, age, signature` (absent fields stay).
#[utoipa::path(put, path = "/chatme/api/profile/update", tag = "live", request_body = ProfileUpdate,
    responses((status = 200, description = "`{message, user}`"), (status = 400), (status = 401)),
    security(("bearer" = [])))]
pub(crate) async fn update_profile(
    State(state): State<AppState>,
    AuthUser(claims): AuthUser,
    JsonBody(body): JsonBody<ProfileUpdate>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let name = body.name.as_deref().map(check_name).transpose()?;
    let gender = body.gender.as_deref().map(gender).transpose()?;
    let age = match body.age.as_ref().map(WholeNumber::value) {
        None => None,
        Some(Some(a @ 13..=120)) => Some(a as i32),
        Some(_) => {
            return Err(bad(
                "Umur harus antara 13 dan 120",
                "Age must be between 13 and 120",
            )
            .into())
        }
    };
    let signature = match body.signature.as_deref().map(str::trim) {
        Some(s) if s.chars().count() > 200 => {
            return Err(bad(
                "Signature paling panjang 200 karakter",
                "The signature may have at most 200 characters",
            )
            .into())
        }
        other => other.map(str::to_owned),
    };
    let now = state.clock.unix();
    let found = identity::find_by_id(&state.db, claims.sub)
        .await?
        .ok_or_else(user_not_found)?;
    ensure_account(&state.db, claims.sub, now)
        .await
        .map_err(LiveError::from)?;
    if let Some(name) = name {
        let mut active: user::ActiveModel = found.into();
        active.name = Set(name);
        active.updated_at = Set(state.clock.now());
        active.update(&state.db).await.db("renaming a user")?;
    }
    state
        .db
        .execute(stmt(
            state.db.get_database_backend(),
            "UPDATE live_profiles SET gender = COALESCE(?, gender), age = COALESCE(?, age), \
             signature = COALESCE(?, signature), updated_at = ? WHERE user_id = ?",
            vec![
                gender.into(),
                age.into(),
                signature.into(),
                now.into(),
                claims.sub.into(),
            ],
        ))
        .await
        .map_err(LiveError::from)?;
    Ok(Json(json!({
        "message": Msg::new("Profil diperbarui", "Profile updated").localized(),
        "user": load(&state, claims.sub).await?,
    })))
}

/// `q`: part of a name or phone number.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct AccountQuery {
    pub q: Option<String>,
}

/// ChatMe accounts whose name or phone holds `q` (ChatMe admins), for coin credits: at most
/// 50, by name.
#[utoipa::path(get, path = "/chatme/api/admin/accounts", tag = "live",
    params(AccountQuery),
    responses((status = 200, description = "`{accounts: [{id, name, phone, role, balance}]}`"), (status = 403)),
    security(("bearer" = [])))]
pub(crate) async fn search(
    State(state): State<AppState>,
    _admin: identity::Guarded<crate::LiveAdmin>,
    platform::http::extract::QueryParams(query): platform::http::extract::QueryParams<AccountQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    // Letters, digits and spaces only: nothing for LIKE to read as a wildcard.
    let q: String = query
        .q
        .unwrap_or_default()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == ' ')
        .take(50)
        .collect::<String>()
        .trim()
        .to_lowercase();
    let digits: String = q.chars().filter(char::is_ascii_digit).collect();
    let db = &state.db;
    let rows = db
        .query_all(stmt(
            db.get_database_backend(),
            "SELECT u.id, u.name, u.phone, u.roles, w.balance FROM live_profiles p \
             JOIN users u ON u.id = p.user_id JOIN live_wallets w ON w.user_id = p.user_id \
             WHERE ? = '' OR LOWER(u.name) LIKE ? OR (? <> '' AND u.phone LIKE ?) \
             ORDER BY u.name LIMIT 50",
            vec![
                q.as_str().into(),
                format!("%{q}%").into(),
                digits.as_str().into(),
                format!("%{digits}%").into(),
            ],
        ))
        .await
        .map_err(LiveError::from)?;
    let accounts = rows
        .iter()
        .map(|r| {
            Ok(json!({
                "id": r.try_get::<Uuid>("", "id")?,
                "name": r.try_get::<String>("", "name")?,
                "phone": r.try_get::<Option<String>>("", "phone")?.map(|p| phone::e164(&p)),
                "role": live_role(&r.try_get::<String>("", "roles")?),
                "balance": r.try_get::<i64>("", "balance")?,
            }))
        })
        .collect::<Result<Vec<_>, DbErr>>()
        .map_err(LiveError::from)?;
    Ok(Json(json!({ "accounts": accounts })))
}
