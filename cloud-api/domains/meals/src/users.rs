//! `/meals/api/users` (administrator, seed 003): create, list, read, activate/deactivate,
//! change role, change department and position, reset the password (a temporary one the
//! user must change at next login). A user's meals department is also written to the
//! platform's `users.department`, so the platform's `dept:<id>` realtime rooms match.

use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{get, patch, post},
    Json, Router,
};
use platform::{
    db::entities::user,
    http::{error::ApiError, extract::PathParams},
    i18n::Msg,
    identity::{self, epochs, password, EmployeeNo, Roles},
    state::AppState,
};
use rand::{distributions::Alphanumeric, Rng};
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, QueryOrder, Set, TransactionTrait};
use serde::Deserialize;
use serde_json::json;
use time::OffsetDateTime;
use utoipa::ToSchema;

use crate::{
    context::{required, text_between, user_view, Admin, MealsUser, Role},
    entities::{department, employee, position},
    error::{invalid, user_not_found, MealsError, MealsJson},
    trail::{self, Action},
    DOMAIN, PREFIX,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(&format!("{PREFIX}/users"), post(create).get(list))
        .route(
            &format!("{PREFIX}/users/{{id}}"),
            get(get_one).patch(update),
        )
        .route(&format!("{PREFIX}/users/{{id}}/status"), patch(set_status))
        .route(&format!("{PREFIX}/users/{{id}}/role"), patch(set_role))
        .route(
            &format!("{PREFIX}/users/{{id}}/reset-password"),
            post(reset_password),
        )
}

fn parse_role(raw: Option<&str>) -> Result<Role, MealsError> {
    let raw = raw.ok_or_else(|| required("roleAccess"))?;
    Role::parse(raw.trim()).ok_or_else(|| {
        invalid(
            "roleAccess harus administrator, employee, dapur atau delivery",
            "roleAccess must be administrator, employee, dapur or delivery",
        )
    })
}

async fn check_department(
    db: &impl ConnectionTrait,
    id: Option<i64>,
) -> Result<Option<i32>, MealsError> {
    let Some(id) = id else { return Ok(None) };
    let found = match i32::try_from(id) {
        Ok(id) => department::Entity::find_by_id(id).one(db).await?,
        Err(_) => None,
    };
    found
        .map(|d| Some(d.id))
        .ok_or_else(|| invalid("Departemen tidak ditemukan", "Department not found"))
}

async fn check_position(
    db: &impl ConnectionTrait,
    id: Option<i64>,
) -> Result<Option<i32>, MealsError> {
    let Some(id) = id else { return Ok(None) };
    let found = match i32::try_from(id) {
        Ok(id) => position::Entity::find_by_id(id).one(db).await?,
        Err(_) => None,
    };
    found
        .map(|p| Some(p.id))
        .ok_or_else(|| invalid("Jabatan tidak ditemukan", "Position not found"))
}

/// `POST /users`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateUser {
    /// The employee number: 2–32 letters, digits, `.`, `_`, `-` or `/` (kept upper-case).
    #[serde(alias = "nomorIndukKaryawan")]
    #[schema(value_type = String, required = true, pattern = "^[A-Za-z0-9._/-]{2,32}$")]
    nik: Option<String>,
    /// 1–100 characters once trimmed.
    #[schema(value_type = String, required = true, min_length = 1, max_length = 100, pattern = "\\S")]
    nama_lengkap: Option<String>,
    /// At least 8 characters.
    #[schema(value_type = String, required = true, min_length = 8)]
    password: Option<String>,
    /// `administrator`, `employee`, `dapur` or `delivery`.
    #[serde(alias = "role")]
    #[schema(value_type = String, required = true,
        pattern = "^(administrator|employee|dapur|delivery)$")]
    role_access: Option<String>,
    /// An existing department; required for everyone but an administrator.
    #[schema(minimum = 1, maximum = 2147483647)]
    department_id: Option<i64>,
    /// An existing position, if any.
    #[schema(minimum = 1, maximum = 2147483647)]
    jabatan_id: Option<i64>,
}

/// Creates a user (the platform's rule: a password of at least 8 characters). Everyone but
/// an administrator needs a department.
#[utoipa::path(post, path = "/meals/api/users", tag = "meals", request_body = CreateUser,
    responses((status = 201, body = MealsUser), (status = 400), (status = 403), (status = 409, description = "NIK sudah terdaftar")))]
pub async fn create(
    State(state): State<AppState>,
    admin: Admin,
    MealsJson(body): MealsJson<CreateUser>,
) -> Result<Response, ApiError> {
    let nik = EmployeeNo::parse(body.nik.as_deref().ok_or_else(|| required("nik"))?)
        .map_err(|e| MealsError::Invalid(e.0))?;
    let name = text_between(body.nama_lengkap.as_deref(), "namaLengkap", 1, 100)?;
    let role = parse_role(body.role_access.as_deref())?;
    let dept = check_department(&state.db, body.department_id).await?;
    if dept.is_none() && role != Role::Administrator {
        return Err(required("departmentId").into());
    }
    let jabatan = check_position(&state.db, body.jabatan_id).await?;
    // The user, their profile and `USER_CREATED` in one transaction: all or none.
    let txn = platform::db::begin_write(&state.db)
        .await
        .map_err(MealsError::from)?;
    let created = identity::create_user(
        &txn,
        &state.roles,
        identity::NewUser {
            employee_no: Some(nik.clone()),
            name,
            password: body.password.unwrap_or_default(),
            roles: Roles::from([(DOMAIN.to_owned(), role.as_str().to_owned())]),
            department: dept.map(|d| d.to_string()),
            ..identity::NewUser::default()
        },
    )
    .await?;
    let profile = employee::ActiveModel {
        user_id: Set(created.id),
        department_id: Set(dept),
        position_id: Set(jabatan),
        must_change_password: Set(false),
        created_at: Set(OffsetDateTime::now_utc()),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(MealsError::from)?;
    trail::record(
        &txn,
        Some(admin.0.user_id()),
        Action::UserCreated,
        format!("User {} created with role {}", nik.as_str(), role.as_str()),
        None,
    )
    .await?;
    txn.commit().await.map_err(MealsError::from)?;
    let found = identity::find_by_id(&state.db, created.id)
        .await?
        .ok_or_else(user_not_found)?;
    Ok((
        StatusCode::CREATED,
        Json(user_view(&state.db, &found, &profile).await?),
    )
        .into_response())
}

async fn target(
    db: &impl ConnectionTrait,
    id: i32,
) -> Result<(user::Model, employee::Model), MealsError> {
    let profile = employee::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(user_not_found)?;
    let found = user::Entity::find_by_id(profile.user_id)
        .one(db)
        .await?
        .ok_or_else(user_not_found)?;
    Ok((found, profile))
}

/// Every user with a meals profile.
#[utoipa::path(get, path = "/meals/api/users", tag = "meals",
    responses((status = 200, body = [MealsUser]), (status = 403)))]
pub async fn list(
    State(state): State<AppState>,
    _admin: Admin,
) -> Result<Json<Vec<MealsUser>>, ApiError> {
    let profiles = employee::Entity::find()
        .order_by_asc(employee::Column::Id)
        .all(&state.db)
        .await
        .map_err(MealsError::from)?;
    let mut out = Vec::with_capacity(profiles.len());
    for profile in profiles {
        if let Some(found) = user::Entity::find_by_id(profile.user_id)
            .one(&state.db)
            .await
            .map_err(MealsError::from)?
        {
            out.push(user_view(&state.db, &found, &profile).await?);
        }
    }
    Ok(Json(out))
}

/// One user.
#[utoipa::path(get, path = "/meals/api/users/{id}", tag = "meals", params(("id" = i32, Path)),
    responses((status = 200, body = MealsUser), (status = 400), (status = 403), (status = 404)))]
pub async fn get_one(
    State(state): State<AppState>,
    _admin: Admin,
    PathParams(id): PathParams<i32>,
) -> Result<Json<MealsUser>, ApiError> {
    let (found, profile) = target(&state.db, id).await?;
    Ok(Json(user_view(&state.db, &found, &profile).await?))
}

/// `PATCH /users/{id}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateUser {
    nama_lengkap: Option<String>,
    department_id: Option<i64>,
    jabatan_id: Option<i64>,
}

/// Changes a user's name, department or position (the department also in
/// `users.department`, for the realtime rooms). A new department ends the user's sessions
/// (tokens and sockets carry the department), so the next token joins the new rooms;
/// every change is audited (`USER_UPDATED`).
#[utoipa::path(patch, path = "/meals/api/users/{id}", tag = "meals", params(("id" = i32, Path)),
    request_body = UpdateUser,
    responses((status = 200, body = MealsUser), (status = 400), (status = 403), (status = 404)))]
pub async fn update(
    State(state): State<AppState>,
    admin: Admin,
    PathParams(id): PathParams<i32>,
    MealsJson(body): MealsJson<UpdateUser>,
) -> Result<Json<MealsUser>, ApiError> {
    let (found, profile) = target(&state.db, id).await?;
    let dept = check_department(&state.db, body.department_id).await?;
    let jabatan = check_position(&state.db, body.jabatan_id).await?;
    let name = match body.nama_lengkap.as_deref() {
        Some(n) => Some(text_between(Some(n), "namaLengkap", 1, 100)?),
        None => None,
    };
    let moved = dept.is_some_and(|d| profile.department_id != Some(d));
    let nik = found.employee_no.clone().unwrap_or_default();
    let mut changed = Vec::new();
    if let Some(name) = &name {
        changed.push(format!("name {name}"));
    }
    if let Some(d) = dept {
        changed.push(format!(
            "department {} -> {d}",
            profile
                .department_id
                .map_or_else(|| "-".to_owned(), |d| d.to_string())
        ));
    }
    if let Some(j) = jabatan {
        changed.push(format!("position {j}"));
    }
    let now = state.clock.now();
    let txn = state.db.begin().await.map_err(MealsError::from)?;
    let mut row: user::ActiveModel = found.into();
    if let Some(name) = name {
        row.name = Set(name);
    }
    if let Some(dept) = dept {
        row.department = Set(Some(dept.to_string()));
    }
    row.updated_at = Set(now);
    let found = row.update(&txn).await.map_err(MealsError::from)?;
    let mut p: employee::ActiveModel = profile.into();
    if dept.is_some() {
        p.department_id = Set(dept);
    }
    if jabatan.is_some() {
        p.position_id = Set(jabatan);
    }
    let profile = p.update(&txn).await.map_err(MealsError::from)?;
    let standing = if moved {
        Some(epochs::bump(&txn, found.id, now).await?)
    } else {
        None
    };
    trail::record(
        &txn,
        Some(admin.0.user_id()),
        Action::UserUpdated,
        format!("User {nik} updated: {}", changed.join(", ")),
        None,
    )
    .await?;
    txn.commit().await.map_err(MealsError::from)?;
    if let Some(standing) = standing {
        state.sessions_ended(found.id, standing).await;
    }
    Ok(Json(user_view(&state.db, &found, &profile).await?))
}

/// `{isActive}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = UserStatusChange)]
pub struct SetStatus {
    #[schema(value_type = bool, required = true)]
    is_active: Option<bool>,
}

/// Activates or deactivates a user (a deactivated user's sessions end at once).
#[utoipa::path(patch, path = "/meals/api/users/{id}/status", tag = "meals", params(("id" = i32, Path)),
    request_body = SetStatus,
    responses((status = 200, body = MealsUser), (status = 400), (status = 403), (status = 404)))]
pub async fn set_status(
    State(state): State<AppState>,
    admin: Admin,
    PathParams(id): PathParams<i32>,
    MealsJson(body): MealsJson<SetStatus>,
) -> Result<Json<MealsUser>, ApiError> {
    let active = body.is_active.ok_or_else(|| required("isActive"))?;
    let (found, profile) = target(&state.db, id).await?;
    if found.id == admin.0.user_id() && !active {
        return Err(invalid(
            "Anda tidak dapat menonaktifkan akun sendiri",
            "You cannot deactivate your own account",
        )
        .into());
    }
    let now = state.clock.now();
    let nik = found.employee_no.clone().unwrap_or_default();
    let txn = state.db.begin().await.map_err(MealsError::from)?;
    let mut row: user::ActiveModel = found.into();
    row.disabled = Set(!active);
    row.updated_at = Set(now);
    let found = row.update(&txn).await.map_err(MealsError::from)?;
    let standing = epochs::bump(&txn, found.id, now).await?;
    trail::record(
        &txn,
        Some(admin.0.user_id()),
        Action::UserStatusChanged,
        format!(
            "User {nik} {}",
            if active { "activated" } else { "deactivated" }
        ),
        None,
    )
    .await?;
    txn.commit().await.map_err(MealsError::from)?;
    state.sessions_ended(found.id, standing).await;
    Ok(Json(user_view(&state.db, &found, &profile).await?))
}

/// `{roleAccess}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SetRole {
    /// `administrator`, `employee`, `dapur` or `delivery`.
    #[serde(alias = "role")]
    #[schema(value_type = String, required = true,
        pattern = "^(administrator|employee|dapur|delivery)$")]
    role_access: Option<String>,
}

/// Changes a user's meals role (their sessions end: tokens carry the role).
#[utoipa::path(patch, path = "/meals/api/users/{id}/role", tag = "meals", params(("id" = i32, Path)),
    request_body = SetRole,
    responses((status = 200, body = MealsUser), (status = 400), (status = 403), (status = 404)))]
pub async fn set_role(
    State(state): State<AppState>,
    admin: Admin,
    PathParams(id): PathParams<i32>,
    MealsJson(body): MealsJson<SetRole>,
) -> Result<Json<MealsUser>, ApiError> {
    let role = parse_role(body.role_access.as_deref())?;
    let (found, profile) = target(&state.db, id).await?;
    if profile.department_id.is_none() && role != Role::Administrator {
        // As `POST /users`: everyone but an administrator belongs to a department.
        return Err(invalid(
            "Pengguna belum memiliki departemen; tetapkan departmentId dahulu (PATCH /users/{id})",
            "The user has no department; set departmentId first (PATCH /users/{id})",
        )
        .into());
    }
    if found.id == admin.0.user_id() && role != Role::Administrator {
        return Err(invalid(
            "Anda tidak dapat mengubah peran akun sendiri",
            "You cannot change your own role",
        )
        .into());
    }
    let now = state.clock.now();
    let mut roles = serde_json::from_str::<Roles>(&found.roles).unwrap_or_default();
    roles.insert(DOMAIN.to_owned(), role.as_str().to_owned());
    let nik = found.employee_no.clone().unwrap_or_default();
    let txn = state.db.begin().await.map_err(MealsError::from)?;
    let mut row: user::ActiveModel = found.into();
    row.roles = Set(serde_json::to_string(&roles).unwrap_or_default());
    row.updated_at = Set(now);
    let found = row.update(&txn).await.map_err(MealsError::from)?;
    let standing = epochs::bump(&txn, found.id, now).await?;
    trail::record(
        &txn,
        Some(admin.0.user_id()),
        Action::UserRoleChanged,
        format!("User {nik} role changed to {}", role.as_str()),
        None,
    )
    .await?;
    txn.commit().await.map_err(MealsError::from)?;
    state.sessions_ended(found.id, standing).await;
    Ok(Json(user_view(&state.db, &found, &profile).await?))
}

/// Resets a user's password to a temporary one (returned once); the user must change it
/// through `POST /auth/change-password` before anything else, and their sessions end.
#[utoipa::path(post, path = "/meals/api/users/{id}/reset-password", tag = "meals", params(("id" = i32, Path)),
    responses((status = 200, description = "`{message, temporaryPassword}`"), (status = 400), (status = 403), (status = 404)))]
pub async fn reset_password(
    State(state): State<AppState>,
    admin: Admin,
    PathParams(id): PathParams<i32>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let (found, profile) = target(&state.db, id).await?;
    let temporary: String = rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(12)
        .map(char::from)
        .collect();
    let hash = password::hash(temporary.clone()).await?;
    let now = state.clock.now();
    let nik = found.employee_no.clone().unwrap_or_default();
    let txn = state.db.begin().await.map_err(MealsError::from)?;
    let mut row: user::ActiveModel = found.into();
    row.password_hash = Set(hash);
    row.updated_at = Set(now);
    let found = row.update(&txn).await.map_err(MealsError::from)?;
    let mut p: employee::ActiveModel = profile.into();
    p.must_change_password = Set(true);
    p.update(&txn).await.map_err(MealsError::from)?;
    let standing = epochs::bump(&txn, found.id, now).await?;
    trail::record(
        &txn,
        Some(admin.0.user_id()),
        Action::PasswordReset,
        format!("Password of user {nik} reset"),
        None,
    )
    .await?;
    txn.commit().await.map_err(MealsError::from)?;
    state.sessions_ended(found.id, standing).await;
    Ok(Json(json!({
        "message": Msg::new(
            "Password berhasil direset; pengguna harus menggantinya saat login berikutnya",
            "Password reset; the user must change it at next login",
        )
        .localized(),
        "temporaryPassword": temporary,
    })))
}
