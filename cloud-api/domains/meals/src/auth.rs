//! `/meals/api/auth` (seed 003): `POST /login` `{nik, password}` → `{accessToken, user}` and
//! the httpOnly `refreshToken` cookie (SameSite Lax, 7 days); `POST /refresh` (the cookie
//! rotates; a reused token revokes its family); `POST /logout`; `GET /me`;
//! `POST /change-password` (required after an administrator's reset). Sessions are the
//! platform's (`identity::sessions`); `nik` is the platform's employee number.

use axum::{
    extract::State,
    http::{header, HeaderMap},
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use platform::{
    db::entities::user,
    http::error::ApiError,
    i18n::Msg,
    identity::{
        self, cookie, cookie_header, epochs, password, sessions, EmployeeNo, LoginId,
        REFRESH_COOKIE,
    },
    security::ClientIp,
    state::AppState,
};
use sea_orm::{
    sea_query::Expr, ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set, TransactionTrait,
};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use crate::{
    context::{profile_of, required, user_view, AnyMember, MealsUser, Role},
    entities::employee,
    error::{user_not_found, MealsError, MealsJson},
    trail::{self, Action},
    MealsState, DOMAIN, PREFIX,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(&format!("{PREFIX}/auth/login"), post(login))
        .route(&format!("{PREFIX}/auth/refresh"), post(refresh))
        .route(&format!("{PREFIX}/auth/logout"), post(logout))
        .route(&format!("{PREFIX}/auth/me"), get(me))
        .route(
            &format!("{PREFIX}/auth/change-password"),
            post(change_password),
        )
}

/// `{nik, password}`.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = MealsLoginRequest)]
pub struct LoginRequest {
    /// The employee number, as `POST /users` takes it.
    #[schema(value_type = String, required = true, pattern = "^[A-Za-z0-9._/-]{2,32}$")]
    nik: Option<String>,
    #[schema(value_type = String, required = true, min_length = 1)]
    password: Option<String>,
}

/// Adds the `refreshToken` cookie to `response`.
fn with_refresh_cookie(state: &AppState, mut response: Response, raw: &str) -> Response {
    let max_age = state.domain::<MealsState>().config.refresh_cookie_secs;
    if let Some(value) = cookie_header(state, REFRESH_COOKIE, raw, max_age) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// Logs in with NIK and password.
#[utoipa::path(post, path = "/meals/api/auth/login", tag = "meals", request_body = LoginRequest,
    responses((status = 200, description = "`{accessToken, user}`; sets the `refreshToken` cookie"),
        (status = 400), (status = 401, description = "NIK atau password salah"),
        (status = 403, description = "Disabled, or no meals role"), (status = 429)))]
pub async fn login(
    State(state): State<AppState>,
    ip: ClientIp,
    MealsJson(body): MealsJson<LoginRequest>,
) -> Result<Response, ApiError> {
    if let Err(limited) = state.limits.auth_attempt(ip.0).await {
        return Ok(limited.into_response());
    }
    let nik = body
        .nik
        .as_deref()
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| required("nik"))?;
    let password = body
        .password
        .as_deref()
        .filter(|p| !p.is_empty())
        .ok_or_else(|| required("password"))?;
    let nik = EmployeeNo::parse(nik).map_err(|e| MealsError::Invalid(e.0))?;
    let id = LoginId::EmployeeNo(nik.clone());
    if let Err(limited) = state.limits.account_attempt(&id.key()).await {
        return Ok(limited.into_response());
    }
    let found = match identity::check_password(&state.db, &id, password).await {
        Ok(found) => found,
        Err(err) => {
            let known = identity::find_by_login(&state.db, &id)
                .await
                .ok()
                .flatten()
                .map(|u| u.id);
            trail::record(
                &state.db,
                known,
                Action::LoginFailure,
                format!("Login failed for NIK {}", nik.as_str()),
                None,
            )
            .await?;
            return Err(err.into());
        }
    };
    let roles = serde_json::from_str::<identity::Roles>(&found.roles).unwrap_or_default();
    if roles.get(DOMAIN).and_then(|r| Role::parse(r)).is_none() {
        return Err(MealsError::Forbidden(Msg::new(
            "Anda tidak memiliki akses ke portal pesanan makan",
            "You have no access to the meal portal",
        ))
        .into());
    }
    let profile = profile_of(&state.db, found.id).await?;
    let view = user_view(&state.db, &found, &profile).await?;
    let session = sessions::start(&state, found).await?;
    trail::record(
        &state.db,
        Some(view.user_id),
        Action::LoginSuccess,
        format!("User {} logged in successfully", nik.as_str()),
        None,
    )
    .await?;
    let response =
        Json(json!({ "accessToken": session.access_token, "user": view })).into_response();
    Ok(with_refresh_cookie(
        &state,
        response,
        &session.refresh_token,
    ))
}

/// Trades the `refreshToken` cookie for a new access token (the cookie rotates).
#[utoipa::path(post, path = "/meals/api/auth/refresh", tag = "meals",
    responses((status = 200, description = "`{accessToken}`; rotates the cookie"), (status = 401)))]
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
    let response = Json(json!({ "accessToken": session.access_token })).into_response();
    Ok(with_refresh_cookie(
        &state,
        response,
        &session.refresh_token,
    ))
}

/// Ends the session of the `refreshToken` cookie and clears it.
#[utoipa::path(post, path = "/meals/api/auth/logout", tag = "meals",
    responses((status = 200, description = "`{message}`")))]
pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if let Some(raw) = cookie(&headers, REFRESH_COOKIE) {
        sessions::end(&state, raw).await?;
    }
    let mut response =
        Json(json!({ "message": Msg::new("Logout berhasil", "Logged out").localized() }))
            .into_response();
    if let Some(value) = cookie_header(&state, REFRESH_COOKIE, "", 0) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    Ok(response)
}

/// The signed-in user.
#[utoipa::path(get, path = "/meals/api/auth/me", tag = "meals",
    responses((status = 200, body = MealsUser), (status = 401)))]
pub async fn me(
    State(state): State<AppState>,
    AnyMember(member): AnyMember,
) -> Result<Json<MealsUser>, ApiError> {
    let found = identity::find_by_id(&state.db, member.user_id())
        .await?
        .ok_or_else(user_not_found)?;
    Ok(Json(user_view(&state.db, &found, &member.profile).await?))
}

/// `{oldPassword, newPassword}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChangePassword {
    #[serde(alias = "currentPassword")]
    #[schema(value_type = String, required = true, min_length = 1)]
    old_password: Option<String>,
    /// At least 8 characters, and not the current password.
    #[schema(value_type = String, required = true, min_length = 8)]
    new_password: Option<String>,
}

/// Changes the caller's password (at least 8 characters): every other session ends, the
/// answer carries a fresh access token and refresh cookie.
#[utoipa::path(post, path = "/meals/api/auth/change-password", tag = "meals", request_body = ChangePassword,
    responses((status = 200, description = "`{message, accessToken}`"), (status = 400), (status = 401)))]
pub async fn change_password(
    State(state): State<AppState>,
    AnyMember(member): AnyMember,
    MealsJson(body): MealsJson<ChangePassword>,
) -> Result<Response, ApiError> {
    let old = body
        .old_password
        .as_deref()
        .ok_or_else(|| required("oldPassword"))?;
    let new = body
        .new_password
        .as_deref()
        .ok_or_else(|| required("newPassword"))?;
    let found = identity::find_by_id(&state.db, member.user_id())
        .await?
        .ok_or_else(user_not_found)?;
    if !password::verify(old.to_owned(), found.password_hash.clone()).await? {
        return Err(MealsError::Invalid(Msg::new(
            "Password lama salah",
            "The current password is wrong",
        ))
        .into());
    }
    if old == new {
        return Err(MealsError::Invalid(Msg::new(
            "Password baru harus berbeda dari password lama",
            "The new password must differ from the current one",
        ))
        .into());
    }
    let hash = identity::hash_new_password(new).await?;
    let now = state.clock.now();
    let txn = state.db.begin().await.map_err(MealsError::from)?;
    let mut row: user::ActiveModel = found.clone().into();
    row.password_hash = Set(hash);
    row.updated_at = Set(now);
    let updated = row.update(&txn).await.map_err(MealsError::from)?;
    employee::Entity::update_many()
        .col_expr(employee::Column::MustChangePassword, Expr::value(false))
        .filter(employee::Column::Id.eq(member.profile.id))
        .exec(&txn)
        .await
        .map_err(MealsError::from)?;
    let standing = epochs::bump(&txn, found.id, now).await?;
    trail::record(
        &txn,
        Some(found.id),
        Action::PasswordChanged,
        format!(
            "User {} changed their password",
            found.employee_no.as_deref().unwrap_or_default()
        ),
        None,
    )
    .await?;
    txn.commit().await.map_err(MealsError::from)?;
    state.sessions_ended(found.id, standing).await;
    let fresh = identity::find_by_id(&state.db, updated.id)
        .await?
        .ok_or_else(user_not_found)?;
    let session = sessions::start(&state, fresh).await?;
    let response = Json(json!({
        "message": Msg::new("Password berhasil diubah", "Password changed").localized(),
        "accessToken": session.access_token,
    }))
    .into_response();
    Ok(with_refresh_cookie(
        &state,
        response,
        &session.refresh_token,
    ))
}
