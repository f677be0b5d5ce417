//! Sessions: a short access token plus a rotating refresh token. Each login starts a token
//! family; every refresh marks the presented token used and issues the next one of the
//! family. Presenting a used token again means it was stolen (or the client misbehaves):
//! the whole family is revoked and the caller must log in again.

use sea_orm::{
    sea_query::Expr, ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set, TransactionTrait,
};
use serde_json::json;
use uuid::Uuid;

use super::{service::find_by_id, service::UserView};
use crate::{
    audit,
    db::entities::{refresh_token, user},
    error::{DbContext, ServiceError},
    i18n::Msg,
    secrets::{random_bytes, sha256_hex},
    security::ClientIp,
    state::Platform,
};

/// What a login or refresh hands out. The refresh token is secret: it goes only into the
/// `refreshToken` cookie.
#[derive(Debug)]
pub struct Session {
    pub access_token: String,
    pub refresh_token: String,
    pub user: UserView,
}

pub fn invalid_session() -> ServiceError {
    ServiceError::Unauthorized(Msg::new(
        "Sesi tidak valid, silakan login kembali",
        "Session is not valid, please log in again",
    ))
}

fn access_token(platform: &Platform, view: &UserView) -> Result<String, ServiceError> {
    platform.jwt.issue(
        &platform.clock,
        view.id,
        view.email.as_deref().unwrap_or_default(),
        &view.roles,
        view.department.as_deref(),
        view.session_epoch,
    )
}

fn refresh_row(
    platform: &Platform,
    family: Uuid,
    user: Uuid,
) -> (String, refresh_token::ActiveModel) {
    let raw = hex::encode(random_bytes::<32>());
    let now = platform.clock.now();
    let ttl = time::Duration::seconds(
        i64::try_from(platform.config.security.refresh_token_ttl_secs).unwrap_or(i64::MAX / 4),
    );
    let row = refresh_token::ActiveModel {
        id: Set(Uuid::now_v7()),
        family: Set(family),
        user_id: Set(user),
        token_hash: Set(sha256_hex(raw.as_bytes())),
        issued_at: Set(now),
        expires_at: Set(now + ttl),
        used_at: Set(None),
        revoked_at: Set(None),
    };
    (raw, row)
}

/// Starts a new session (a new token family) for a user who just proved who they are.
pub async fn start(platform: &Platform, user: user::Model) -> Result<Session, ServiceError> {
    let view = UserView::from(user);
    let (raw, row) = refresh_row(platform, Uuid::now_v7(), view.id);
    row.insert(&platform.db)
        .await
        .db("storing a refresh token")?;
    Ok(Session {
        access_token: access_token(platform, &view)?,
        refresh_token: raw,
        user: view,
    })
}

async fn revoke_family(
    db: &impl sea_orm::ConnectionTrait,
    family: Uuid,
    now: time::OffsetDateTime,
) -> Result<u64, ServiceError> {
    Ok(refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RevokedAt, Expr::value(now))
        .filter(refresh_token::Column::Family.eq(family))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(db)
        .await
        .db("revoking a token family")?
        .rows_affected)
}

/// Trades a refresh token for a new session of the same family.
pub async fn rotate(platform: &Platform, raw: &str, ip: ClientIp) -> Result<Session, ServiceError> {
    let now = platform.clock.now();
    let hash = sha256_hex(raw.trim().as_bytes());
    let txn = platform.db.begin().await.db("starting a refresh")?;
    // Write first: on SQLite a transaction that reads and then writes fails when another
    // writer committed in between; writing first takes the write lock (waiting if need be).
    // Only one of two racing refreshes with the same token can win this update.
    let won = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::UsedAt, Expr::value(now))
        .filter(refresh_token::Column::TokenHash.eq(hash.as_str()))
        .filter(refresh_token::Column::UsedAt.is_null())
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(&txn)
        .await
        .db("using a refresh token")?
        .rows_affected
        == 1;
    let Some(row) = refresh_token::Entity::find()
        .filter(refresh_token::Column::TokenHash.eq(hash.as_str()))
        .one(&txn)
        .await
        .db("looking up a refresh token")?
    else {
        return Err(invalid_session());
    };
    if !won && row.revoked_at.is_some() {
        return Err(invalid_session());
    }
    if !won {
        // Already used: stolen, or a client replaying it. Revoke the whole family.
        let revoked = revoke_family(&txn, row.family, now).await?;
        txn.commit().await.db("revoking a token family")?;
        tracing::warn!(user = %row.user_id, family = %row.family, "Refresh token reused; family revoked.");
        audit::record(
            &platform.db,
            now,
            audit::Entry::new("refresh_token_reuse", ip)
                .by(row.user_id, "")
                .target(format!("family:{}", row.family))
                .detail(json!({ "revoked": revoked }))
                .failed(),
        )
        .await;
        return Err(invalid_session());
    }
    if row.expires_at <= now {
        return Err(invalid_session());
    }
    let user = match find_by_id(&txn, row.user_id).await? {
        Some(user) if !user.disabled => user,
        _ => {
            revoke_family(&txn, row.family, now).await?;
            txn.commit().await.db("revoking a token family")?;
            return Err(invalid_session());
        }
    };
    let view = UserView::from(user);
    let (raw, next) = refresh_row(platform, row.family, view.id);
    next.insert(&txn).await.db("storing a refresh token")?;
    txn.commit().await.db("committing a refresh")?;
    Ok(Session {
        access_token: access_token(platform, &view)?,
        refresh_token: raw,
        user: view,
    })
}

/// Ends the session a refresh token belongs to (its whole family); returns its user.
pub async fn end(platform: &Platform, raw: &str) -> Result<Option<Uuid>, ServiceError> {
    let Some(row) = refresh_token::Entity::find()
        .filter(refresh_token::Column::TokenHash.eq(sha256_hex(raw.trim().as_bytes())))
        .one(&platform.db)
        .await
        .db("looking up a refresh token")?
    else {
        return Ok(None);
    };
    revoke_family(&platform.db, row.family, platform.clock.now()).await?;
    Ok(Some(row.user_id))
}
