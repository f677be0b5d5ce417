//! API keys for external systems that push data: a super_admin creates a key scoped to one
//! OPD and to a list of actions (`GET/POST /api-keys`, `DELETE /api-keys/{id}` revokes); the
//! key is shown once and only its SHA-256 is stored (a 256-bit random key needs no slow hash).
//! `X-API-Key` then authenticates the routes of its actions, acting as an `admin_opd` of its
//! OPD: unknown or revoked → 401, a route outside its actions → 403.

use axum::{
    extract::{MatchedPath, State},
    http::{request::Parts, Method, StatusCode},
};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use platform::{i18n::Msg, security::ClientIp, state::AppState};
use rand::RngCore;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set,
};
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::{
    auth::{Caller, Role},
    entities::api_key,
    error::{created, ok, Answer, Body, Path, Query, SakipError},
    planning::{self, rfc3339, text},
    Page,
};

/// The header a key travels in.
pub const HEADER: &str = "x-api-key";

/// What a key may be allowed to do.
pub const ACTIONS: &[&str] = &[
    "achievements:write",
    "budget:read",
    "budget:write",
    "performance:read",
];

/// Keys start with this, so that a leaked one is recognisable (secret scanners).
const KEY_PREFIX: &str = "sakip_";

/// The action a request needs, from its method and matched route; `None` for every route no
/// key may call.
fn action_of(method: &Method, route: &str) -> Option<&'static str> {
    let route = route.strip_prefix("/sakip/api/v1")?;
    match (method.as_str(), route) {
        ("POST", "/performance/achievements" | "/performance/achievements/{id}/documents") => {
            Some("achievements:write")
        }
        ("GET", "/performance/data") => Some("performance:read"),
        ("GET", "/budget/allocations" | "/budget/summary") => Some("budget:read"),
        ("POST", "/budget/allocations" | "/budget/allocations/{id}/realizations") => {
            Some("budget:write")
        }
        _ => None,
    }
}

fn hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

fn unauthorized() -> SakipError {
    SakipError::status(
        StatusCode::UNAUTHORIZED,
        Msg::new(
            "API key tidak valid atau sudah dicabut",
            "Invalid or revoked API key",
        ),
    )
}

/// The caller behind an `X-API-Key` header, if the request carries one.
pub async fn caller(parts: &Parts, state: &AppState) -> Option<Result<Caller, SakipError>> {
    let raw = parts.headers.get(HEADER)?;
    Some(authenticate(parts, state, raw.to_str().unwrap_or_default()).await)
}

async fn authenticate(parts: &Parts, state: &AppState, key: &str) -> Result<Caller, SakipError> {
    let key = key.trim();
    if !key.starts_with(KEY_PREFIX) || key.len() > 100 {
        return Err(unauthorized());
    }
    let found = api_key::Entity::find()
        .filter(api_key::Column::KeyHash.eq(hash(key)))
        .one(&state.db)
        .await?
        .filter(|k| k.revoked_at.is_none())
        .ok_or_else(unauthorized)?;
    let route = parts
        .extensions
        .get::<MatchedPath>()
        .map(MatchedPath::as_str)
        .unwrap_or_default();
    let scopes: Vec<String> = serde_json::from_str(&found.scopes).unwrap_or_default();
    match action_of(&parts.method, route) {
        Some(action) if scopes.iter().any(|s| s == action) => {}
        _ => return Err(SakipError::forbidden()),
    }
    let mut used: api_key::ActiveModel = found.clone().into();
    used.last_used_at = Set(Some(state.clock.now()));
    if let Err(err) = used.update(&state.db).await {
        tracing::warn!(key = found.id, error = %err, "Could not record an API key's last use.");
    }
    Ok(Caller {
        id: found.actor,
        name: format!("api-key:{}", found.name),
        role: Role::AdminOpd,
        opd: Some(found.opd_id),
    })
}

fn view(row: &api_key::Model) -> Value {
    json!({
        "id": row.id,
        "name": row.name,
        "opd_id": row.opd_id,
        "scopes": serde_json::from_str::<Value>(&row.scopes).unwrap_or(Value::Null),
        "prefix": row.prefix,
        "created_at": rfc3339(row.created_at),
        "last_used_at": row.last_used_at.map(rfc3339),
        "revoked_at": row.revoked_at.map(rfc3339),
    })
}

#[derive(Debug, Deserialize)]
pub struct KeyInput {
    name: Option<String>,
    opd_id: i32,
    scopes: Vec<String>,
}

/// `POST /api-keys` (super_admin): answers the key once, in `key`.
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ip: ClientIp,
    Body(body): Body<KeyInput>,
) -> Answer {
    caller.super_admin()?;
    let name = text("name", body.name.as_deref(), 100)?;
    let mut scopes: Vec<String> = Vec::new();
    for scope in &body.scopes {
        if !ACTIONS.contains(&scope.as_str()) {
            return Err(SakipError::bad(Msg::owned(
                format!("scopes harus dari: {}", ACTIONS.join(", ")),
                format!("scopes must be among: {}", ACTIONS.join(", ")),
            )));
        }
        if !scopes.contains(scope) {
            scopes.push(scope.clone());
        }
    }
    if scopes.is_empty() {
        return Err(SakipError::bad(Msg::new(
            "scopes harus diisi",
            "scopes is required",
        )));
    }
    planning::find_opd(&state, body.opd_id).await?;
    let mut secret = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut secret);
    let key = format!("{KEY_PREFIX}{}", URL_SAFE_NO_PAD.encode(secret));
    let row = api_key::ActiveModel {
        name: Set(name),
        opd_id: Set(body.opd_id),
        scopes: Set(json!(scopes).to_string()),
        key_hash: Set(hash(&key)),
        prefix: Set(key.chars().take(12).collect()),
        actor: Set(Uuid::now_v7()),
        created_by: Set(caller.id),
        created_at: Set(state.clock.now()),
        last_used_at: Set(None),
        revoked_at: Set(None),
        ..Default::default()
    }
    .insert(&state.db)
    .await?;
    crate::audit(
        &state,
        &caller,
        ip,
        "sakip_api_key_created",
        format!("api_key:{}", row.id),
    )
    .await;
    let mut out = view(&row);
    out["key"] = json!(key);
    created(out)
}

/// `GET /api-keys` (super_admin): the keys, never their secret.
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(page): Query<Page>,
) -> Answer {
    caller.super_admin()?;
    let (p, limit) = page.checked()?;
    let pages = api_key::Entity::find()
        .order_by_asc(api_key::Column::Id)
        .paginate(&state.db, limit);
    let total = pages.num_items().await?;
    let rows = pages.fetch_page(p - 1).await?;
    ok(page.answer(rows.iter().map(view).collect(), total))
}

/// `DELETE /api-keys/{id}` (super_admin): revokes the key (idempotent; the row stays for
/// the audit trail).
pub async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    ip: ClientIp,
    Path(id): Path<i32>,
) -> Answer {
    caller.super_admin()?;
    let found = api_key::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or_else(|| SakipError::not_found("API key tidak ditemukan", "API key not found"))?;
    if found.revoked_at.is_some() {
        return ok(view(&found));
    }
    let mut row: api_key::ActiveModel = found.into();
    row.revoked_at = Set(Some(state.clock.now()));
    let row = row.update(&state.db).await?;
    crate::audit(
        &state,
        &caller,
        ip,
        "sakip_api_key_revoked",
        format!("api_key:{id}"),
    )
    .await;
    ok(view(&row))
}
