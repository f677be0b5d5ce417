//! Sign-in and users: `POST /auth/login` `{username, password}` → `{token, refresh_token,
//! user}` on the platform's sessions (rotating refresh tokens, session epochs), and the
//! super_admin's user management. A user's SAKIP role is their `sakip` entry in the
//! platform's role map; an `admin_opd`'s OPD lives in `sakip_user_opd`. TOTP (the platform's
//! `identity::mfa`): an enrolled user's login answers `mfa_required` and a challenge token,
//! completed at `POST /auth/mfa/verify`; `[sakip] mfa_required` makes it mandatory for
//! `super_admin` and `admin_opd`.

use axum::{
    extract::{FromRequestParts, MatchedPath, State},
    http::{request::Parts, StatusCode},
};
use platform::{
    audit,
    db::entities::user,
    i18n::Msg,
    identity::{self, epochs, mfa, sessions, AuthUser, Email, LoginId, Roles, Username},
    security::ClientIp,
    state::AppState,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::{
    entities::user_opd,
    error::{created, ok, Answer, Body, Path, Query, SakipError},
    Page, DOMAIN,
};

/// A SAKIP role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    SuperAdmin,
    AdminOpd,
    Evaluator,
    Viewer,
}

impl Role {
    pub const NAMES: &'static [&'static str] = &["super_admin", "admin_opd", "evaluator", "viewer"];

    pub fn parse(raw: &str) -> Option<Role> {
        match raw {
            "super_admin" => Some(Role::SuperAdmin),
            "admin_opd" => Some(Role::AdminOpd),
            "evaluator" => Some(Role::Evaluator),
            "viewer" => Some(Role::Viewer),
            _ => None,
        }
    }
}

/// A signed-in SAKIP user: who, their role, and (for `admin_opd`) their OPD.
#[derive(Debug, Clone)]
pub struct Caller {
    pub id: Uuid,
    pub name: String,
    pub role: Role,
    pub opd: Option<i32>,
}

impl Caller {
    /// Only a super_admin.
    pub fn super_admin(&self) -> Result<(), SakipError> {
        if self.role == Role::SuperAdmin {
            Ok(())
        } else {
            Err(SakipError::forbidden())
        }
    }

    /// May this caller read `opd`'s data? Everyone but an admin_opd of another OPD.
    pub fn read(&self, opd: i32) -> Result<(), SakipError> {
        match self.role {
            Role::AdminOpd if self.opd != Some(opd) => Err(SakipError::forbidden()),
            _ => Ok(()),
        }
    }

    /// May this caller change `opd`'s data? A super_admin, or that OPD's admin_opd.
    pub fn write(&self, opd: i32) -> Result<(), SakipError> {
        match self.role {
            Role::SuperAdmin => Ok(()),
            Role::AdminOpd if self.opd == Some(opd) => Ok(()),
            _ => Err(SakipError::forbidden()),
        }
    }

    /// The OPD a list is limited to: an admin_opd's own, else the one asked for.
    pub fn scope(&self, asked: Option<i32>) -> Result<Option<i32>, SakipError> {
        match (self.role, asked) {
            (Role::AdminOpd, Some(opd)) => self.read(opd).map(|()| Some(opd)),
            (Role::AdminOpd, None) => Ok(self.opd.or(Some(-1))),
            (_, asked) => Ok(asked),
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = SakipError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, SakipError> {
        if let Some(by_key) = crate::api_keys::caller(parts, state).await {
            return by_key;
        }
        let AuthUser(claims) = AuthUser::from_request_parts(parts, state).await?;
        let role = claims
            .roles
            .get(DOMAIN)
            .and_then(|r| Role::parse(r))
            .ok_or_else(SakipError::forbidden)?;
        let opd = if role == Role::AdminOpd {
            user_opd::Entity::find_by_id(claims.sub)
                .one(&state.db)
                .await?
                .map(|row| row.opd_id)
        } else {
            None
        };
        let caller = Caller {
            id: claims.sub,
            name: claims.email,
            role,
            opd,
        };
        enrolment_gate(parts, state, &caller).await?;
        Ok(caller)
    }
}

/// A user as SAKIP shows them.
#[derive(Debug, Serialize)]
pub struct UserView {
    pub id: Uuid,
    pub username: Option<String>,
    pub email: Option<String>,
    pub name: String,
    pub role: Option<String>,
    pub opd_id: Option<i32>,
    pub is_active: bool,
}

fn view(user: &user::Model, opd_id: Option<i32>) -> UserView {
    let roles: Roles = serde_json::from_str(&user.roles).unwrap_or_default();
    UserView {
        id: user.id,
        username: user.username.clone(),
        email: user.email.clone(),
        name: user.name.clone(),
        role: roles.get(DOMAIN).cloned(),
        opd_id,
        is_active: !user.disabled,
    }
}

async fn opd_of(state: &AppState, user: Uuid) -> Result<Option<i32>, SakipError> {
    Ok(user_opd::Entity::find_by_id(user)
        .one(&state.db)
        .await?
        .map(|r| r.opd_id))
}

fn required(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

#[derive(Debug, Deserialize)]
pub struct LoginRequest {
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
}

/// The login identifier a username names: an email when it has an `@`.
fn login_id(raw: &str) -> Option<LoginId> {
    if raw.contains('@') {
        Email::parse(raw).ok().map(LoginId::Email)
    } else {
        Username::parse(raw).ok().map(LoginId::Username)
    }
}

fn wrong_credentials() -> SakipError {
    SakipError::status(
        StatusCode::UNAUTHORIZED,
        Msg::new("Username atau password salah", "Wrong username or password"),
    )
}

fn too_many() -> SakipError {
    SakipError::status(
        StatusCode::TOO_MANY_REQUESTS,
        Msg::new(
            "Terlalu banyak percobaan, coba lagi nanti",
            "Too many attempts, try again later",
        ),
    )
}

/// `POST /auth/login`.
pub async fn login(
    State(state): State<AppState>,
    ip: ClientIp,
    Body(body): Body<LoginRequest>,
) -> Answer {
    state
        .limits
        .auth_attempt(ip.0)
        .await
        .map_err(|_| too_many())?;
    let (Some(username), Some(password)) = (required(&body.username), body.password.as_deref())
    else {
        return Err(SakipError::bad(Msg::new(
            "Username dan password harus diisi",
            "Username and password are required",
        )));
    };
    let id = login_id(username).ok_or_else(wrong_credentials)?;
    state
        .limits
        .account_attempt(&id.key())
        .await
        .map_err(|_| too_many())?;
    let found = match identity::check_password(&state.db, &id, password).await {
        Ok(found) => found,
        Err(err) => {
            audit::record(
                &state.db,
                state.clock.now(),
                audit::Entry::new("sakip_login_failed", ip)
                    .actor(id.key())
                    .failed(),
            )
            .await;
            return Err(match err {
                platform::error::ServiceError::Unauthorized(_) => wrong_credentials(),
                other => other.into(),
            });
        }
    };
    let roles: Roles = serde_json::from_str(&found.roles).unwrap_or_default();
    if !roles.contains_key(DOMAIN) {
        return Err(SakipError::forbidden());
    }
    if mfa::enrolled(&state.db, found.id).await? {
        audit::record(
            &state.db,
            state.clock.now(),
            audit::Entry::new("sakip_login_mfa_challenge", ip).by(found.id, id.key()),
        )
        .await;
        let challenge_token = mfa::challenge(&state, found.id).await?;
        return ok(json!({ "mfa_required": true, "challenge_token": challenge_token }));
    }
    start_session(&state, ip, found, id.key()).await
}

/// Starts the session of a signed-in user: `{token, refresh_token, user}`.
async fn start_session(
    state: &AppState,
    ip: ClientIp,
    found: user::Model,
    actor: String,
) -> Answer {
    let opd_id = opd_of(state, found.id).await?;
    let user = view(&found, opd_id);
    let session = sessions::start(state, found).await?;
    audit::record(
        &state.db,
        state.clock.now(),
        audit::Entry::new("sakip_login", ip).by(user.id, actor),
    )
    .await;
    ok(json!({
        "token": session.access_token,
        "refresh_token": session.refresh_token,
        "user": user,
    }))
}

#[derive(Debug, Deserialize)]
pub struct MfaRequest {
    #[serde(default)]
    challenge_token: Option<String>,
    #[serde(default)]
    code: Option<String>,
}

fn code_required(body: &MfaRequest) -> Result<&str, SakipError> {
    required(&body.code)
        .ok_or_else(|| SakipError::bad(Msg::new("code harus diisi", "code is required")))
}

/// `POST /auth/mfa/enrol`: the TOTP secret, its `otpauth://` URI and QR code (PNG, base64).
pub async fn mfa_enrol(State(state): State<AppState>, caller: Caller, ip: ClientIp) -> Answer {
    let found = identity::find_by_id(&state.db, caller.id)
        .await?
        .ok_or_else(SakipError::forbidden)?;
    let enrolment = mfa::enrol(&state, &found).await?;
    crate::audit(
        &state,
        &caller,
        ip,
        "sakip_mfa_enrol_started",
        caller.id.to_string(),
    )
    .await;
    ok(enrolment)
}

/// `POST /auth/mfa/confirm {code}`: activates TOTP; answers the recovery codes, once.
pub async fn mfa_confirm(
    State(state): State<AppState>,
    caller: Caller,
    ip: ClientIp,
    Body(body): Body<MfaRequest>,
) -> Answer {
    let codes = mfa::confirm(&state, caller.id, code_required(&body)?).await?;
    crate::audit(
        &state,
        &caller,
        ip,
        "sakip_mfa_enabled",
        caller.id.to_string(),
    )
    .await;
    ok(json!({ "recovery_codes": codes }))
}

/// `POST /auth/mfa/verify {challenge_token, code}`: the login's second step, answered as the
/// login (`{token, refresh_token, user}`); `code` is a TOTP code or an unused recovery code.
pub async fn mfa_verify(
    State(state): State<AppState>,
    ip: ClientIp,
    Body(body): Body<MfaRequest>,
) -> Answer {
    state
        .limits
        .auth_attempt(ip.0)
        .await
        .map_err(|_| too_many())?;
    let code = code_required(&body)?;
    let token = required(&body.challenge_token).ok_or_else(|| {
        SakipError::bad(Msg::new(
            "challenge_token harus diisi",
            "challenge_token is required",
        ))
    })?;
    let found = match mfa::complete(&state, token, code).await {
        Ok(found) => found,
        Err(err) => {
            audit::record(
                &state.db,
                state.clock.now(),
                audit::Entry::new("sakip_login_mfa_failed", ip).failed(),
            )
            .await;
            return Err(err.into());
        }
    };
    let actor = found.email.clone().unwrap_or_else(|| found.id.to_string());
    start_session(&state, ip, found, actor).await
}

/// With `[sakip] mfa_required`, may this `super_admin` or `admin_opd` act before enrolling?
/// Only on the routes that enrol, show who they are, or sign out.
async fn enrolment_gate(
    parts: &Parts,
    state: &AppState,
    caller: &Caller,
) -> Result<(), SakipError> {
    if !matches!(caller.role, Role::SuperAdmin | Role::AdminOpd)
        || !state.domain::<crate::jobs::JobQueue>().config.mfa_required
    {
        return Ok(());
    }
    let route = parts
        .extensions
        .get::<MatchedPath>()
        .map(MatchedPath::as_str)
        .unwrap_or_default();
    const OPEN: &[&str] = &[
        "/sakip/api/v1/auth/mfa/enrol",
        "/sakip/api/v1/auth/mfa/confirm",
        "/sakip/api/v1/auth/me",
        "/sakip/api/v1/auth/logout",
    ];
    if OPEN.contains(&route) || mfa::enrolled(&state.db, caller.id).await? {
        return Ok(());
    }
    Err(SakipError::status(
        StatusCode::FORBIDDEN,
        Msg::new(
            "Aktifkan autentikasi dua faktor terlebih dahulu (POST /auth/mfa/enrol)",
            "Enable two-factor authentication first (POST /auth/mfa/enrol)",
        ),
    ))
}

#[derive(Debug, Deserialize)]
pub struct RefreshRequest {
    #[serde(default)]
    refresh_token: Option<String>,
}

fn missing_refresh() -> SakipError {
    SakipError::bad(Msg::new(
        "refresh_token harus diisi",
        "refresh_token is required",
    ))
}

/// `POST /auth/refresh`: a new token pair; the old refresh token is spent (reuse revokes
/// the whole family).
pub async fn refresh(
    State(state): State<AppState>,
    ip: ClientIp,
    Body(body): Body<RefreshRequest>,
) -> Answer {
    state
        .limits
        .auth_attempt(ip.0)
        .await
        .map_err(|_| too_many())?;
    let raw = required(&body.refresh_token).ok_or_else(missing_refresh)?;
    let session = sessions::rotate(&state, raw, ip).await?;
    let opd_id = opd_of(&state, session.user.id).await?;
    ok(json!({
        "token": session.access_token,
        "refresh_token": session.refresh_token,
        "user": {
            "id": session.user.id,
            "username": session.user.username,
            "email": session.user.email,
            "name": session.user.name,
            "role": session.user.roles.get(DOMAIN),
            "opd_id": opd_id,
        },
    }))
}

/// `POST /auth/logout`: ends the refresh token's session.
pub async fn logout(State(state): State<AppState>, Body(body): Body<RefreshRequest>) -> Answer {
    let raw = required(&body.refresh_token).ok_or_else(missing_refresh)?;
    sessions::end(&state, raw).await?;
    ok(json!({ "logged_out": true }))
}

/// `GET /auth/me`.
pub async fn me(State(state): State<AppState>, caller: Caller) -> Answer {
    let found = identity::find_by_id(&state.db, caller.id)
        .await?
        .ok_or_else(|| SakipError::not_found("User tidak ditemukan", "User not found"))?;
    ok(view(&found, caller.opd))
}

#[derive(Debug, Deserialize)]
pub struct NewUserRequest {
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    opd_id: Option<i32>,
}

fn unknown_role() -> SakipError {
    SakipError::bad(Msg::owned(
        format!("Role harus salah satu dari: {}", Role::NAMES.join(", ")),
        format!("Role must be one of: {}", Role::NAMES.join(", ")),
    ))
}

/// The OPD an `admin_opd` needs (and no other role has).
async fn checked_opd(
    state: &AppState,
    role: Role,
    opd_id: Option<i32>,
) -> Result<Option<i32>, SakipError> {
    match (role, opd_id) {
        (Role::AdminOpd, None) => Err(SakipError::bad(Msg::new(
            "admin_opd harus memiliki opd_id",
            "An admin_opd needs an opd_id",
        ))),
        (Role::AdminOpd, Some(id)) => {
            crate::planning::find_opd(state, id).await?;
            Ok(Some(id))
        }
        _ => Ok(None),
    }
}

/// `POST /users` (super_admin).
pub async fn create_user(
    State(state): State<AppState>,
    caller: Caller,
    ip: ClientIp,
    Body(body): Body<NewUserRequest>,
) -> Answer {
    caller.super_admin()?;
    let (Some(username), Some(email), Some(name), Some(password), Some(role)) = (
        required(&body.username),
        required(&body.email),
        required(&body.name),
        body.password.as_deref(),
        required(&body.role),
    ) else {
        return Err(SakipError::bad(Msg::new(
            "username, email, name, password dan role harus diisi",
            "username, email, name, password and role are required",
        )));
    };
    let role = Role::parse(role).ok_or_else(unknown_role)?;
    let username = Username::parse(username).map_err(|e| SakipError::bad(e.0))?;
    let email = Email::parse(email).map_err(|e| SakipError::bad(e.0))?;
    let opd_id = checked_opd(&state, role, body.opd_id).await?;
    let role_name = Role::NAMES
        .iter()
        .find(|n| Role::parse(n) == Some(role))
        .copied()
        .unwrap_or("viewer");
    let made = identity::create_user(
        &state.db,
        &state.roles,
        identity::NewUser {
            email: Some(email),
            username: Some(username),
            name: name.to_owned(),
            password: password.to_owned(),
            roles: Roles::from([(DOMAIN.to_owned(), role_name.to_owned())]),
            ..identity::NewUser::default()
        },
    )
    .await?;
    if let Some(opd_id) = opd_id {
        user_opd::ActiveModel {
            user_id: Set(made.id),
            opd_id: Set(opd_id),
        }
        .insert(&state.db)
        .await?;
    }
    crate::audit(
        &state,
        &caller,
        ip,
        "sakip_user_create",
        made.id.to_string(),
    )
    .await;
    created(UserView {
        id: made.id,
        username: made.username,
        email: made.email,
        name: made.name,
        role: Some(role_name.to_owned()),
        opd_id,
        is_active: true,
    })
}

/// `GET /users` (super_admin): users holding a SAKIP role.
pub async fn list_users(
    State(state): State<AppState>,
    caller: Caller,
    Query(page): Query<Page>,
) -> Answer {
    caller.super_admin()?;
    let (page_no, limit) = page.checked()?;
    let filter = user::Column::Roles.like(format!("%\"{DOMAIN}\"%"));
    let total = user::Entity::find()
        .filter(filter.clone())
        .count(&state.db)
        .await?;
    let users = user::Entity::find()
        .filter(filter)
        .order_by_asc(user::Column::CreatedAt)
        .offset((page_no - 1) * limit)
        .limit(limit)
        .all(&state.db)
        .await?;
    let opds: std::collections::HashMap<Uuid, i32> = user_opd::Entity::find()
        .filter(user_opd::Column::UserId.is_in(users.iter().map(|u| u.id)))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|r| (r.user_id, r.opd_id))
        .collect();
    let items: Vec<UserView> = users
        .iter()
        .map(|u| view(u, opds.get(&u.id).copied()))
        .collect();
    ok(json!({ "items": items, "total": total, "page": page_no, "limit": limit }))
}

#[derive(Debug, Deserialize)]
pub struct UserPatch {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    opd_id: Option<i32>,
}

/// Sets (or, with `None`, removes) a user's SAKIP role and OPD, ending their sessions so
/// that no token carries the old role.
async fn set_role(
    state: &AppState,
    found: user::Model,
    name: Option<String>,
    role: Option<(&str, Option<i32>)>,
) -> Result<user::Model, SakipError> {
    let now = state.clock.now();
    let mut roles: Roles = serde_json::from_str(&found.roles).unwrap_or_default();
    let role_changed = match role {
        Some((r, _)) => roles.insert(DOMAIN.to_owned(), r.to_owned()).as_deref() != Some(r),
        None => roles.remove(DOMAIN).is_some(),
    };
    let id = found.id;
    let mut row: user::ActiveModel = found.into();
    if let Some(name) = name {
        row.name = Set(name);
    }
    row.roles = Set(serde_json::to_string(&roles).unwrap_or_default());
    row.updated_at = Set(now);
    let txn = state.db.begin().await?;
    let saved = row.update(&txn).await?;
    user_opd::Entity::delete_by_id(id).exec(&txn).await?;
    if let Some((_, Some(opd_id))) = role {
        user_opd::ActiveModel {
            user_id: Set(id),
            opd_id: Set(opd_id),
        }
        .insert(&txn)
        .await?;
    }
    let standing = if role_changed {
        Some(epochs::bump(&txn, id, now).await?)
    } else {
        None
    };
    txn.commit().await?;
    if let Some(standing) = standing {
        state.sessions_ended(id, standing).await;
    }
    Ok(saved)
}

async fn sakip_user(state: &AppState, id: Uuid) -> Result<user::Model, SakipError> {
    identity::find_by_id(&state.db, id)
        .await?
        .filter(|u| serde_json::from_str::<Roles>(&u.roles).is_ok_and(|r| r.contains_key(DOMAIN)))
        .ok_or_else(|| SakipError::not_found("User tidak ditemukan", "User not found"))
}

/// `PUT /users/:id` (super_admin): name, role, OPD.
pub async fn update_user(
    State(state): State<AppState>,
    caller: Caller,
    ip: ClientIp,
    Path(id): Path<Uuid>,
    Body(body): Body<UserPatch>,
) -> Answer {
    caller.super_admin()?;
    let found = sakip_user(&state, id).await?;
    let current: Roles = serde_json::from_str(&found.roles).unwrap_or_default();
    let role_name = match required(&body.role) {
        Some(r) => r.to_owned(),
        None => current.get(DOMAIN).cloned().unwrap_or_default(),
    };
    let role = Role::parse(&role_name).ok_or_else(unknown_role)?;
    let opd = match body.opd_id {
        Some(_) => body.opd_id,
        None => opd_of(&state, id).await?,
    };
    let opd_id = checked_opd(&state, role, opd).await?;
    let name = match &body.name {
        Some(n) if n.trim().is_empty() => {
            return Err(SakipError::bad(Msg::new(
                "Nama tidak boleh kosong",
                "The name may not be empty",
            )))
        }
        Some(n) => Some(n.trim().to_owned()),
        None => None,
    };
    let saved = set_role(&state, found, name, Some((&role_name, opd_id))).await?;
    crate::audit(&state, &caller, ip, "sakip_user_update", id.to_string()).await;
    ok(view(&saved, opd_id))
}

/// `DELETE /users/:id` (super_admin): takes the user's SAKIP role and OPD away (the
/// platform account, which other domains may use, stays).
pub async fn delete_user(
    State(state): State<AppState>,
    caller: Caller,
    ip: ClientIp,
    Path(id): Path<Uuid>,
) -> Answer {
    caller.super_admin()?;
    if id == caller.id {
        return Err(SakipError::bad(Msg::new(
            "Tidak dapat menghapus akun sendiri",
            "You cannot remove your own account",
        )));
    }
    let found = sakip_user(&state, id).await?;
    set_role(&state, found, None, None).await?;
    crate::audit(&state, &caller, ip, "sakip_user_delete", id.to_string()).await;
    ok(json!({ "id": id, "deleted": true }))
}

/// How many users an OPD has (an OPD with users cannot be removed).
pub async fn users_of_opd(state: &AppState, opd: i32) -> Result<u64, SakipError> {
    Ok(user_opd::Entity::find()
        .filter(user_opd::Column::OpdId.eq(opd))
        .count(&state.db)
        .await?)
}
