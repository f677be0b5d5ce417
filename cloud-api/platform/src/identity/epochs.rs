//! Session epochs: every access token (Bearer or the seed-001 `token` cookie) carries the
//! epoch of its user's sessions (`sep`); disabling a user, re-enabling them or changing
//! their password bumps the epoch in `users.session_epoch`, so every token issued before
//! stops working at once. Checking it must not cost a database round trip per request (the
//! authenticated-read target is 10k req/s): a small in-process cache holds each user's
//! epoch and whether they are enabled, filled on first use and written through by every
//! change this process makes.
//!
//! Replicas learn each other's changes through Redis when it is configured
//! (`crate::replicas`): every change is published and recorded here on every replica.

use std::{
    collections::HashMap,
    sync::{PoisonError, RwLock},
};

use sea_orm::{ConnectionTrait, DatabaseConnection, EntityTrait, QuerySelect};
use uuid::Uuid;

use super::token::Claims;
use crate::{
    db::entities::user,
    error::{DbContext, ServiceError},
    sql::stmt,
};

/// Users kept; past this the cache starts over (a full one is rare and only costs a
/// query per user to refill).
const MAX_USERS: usize = 100_000;

/// A user's sessions as of their latest change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    pub epoch: i64,
    /// False for a disabled or removed user.
    pub active: bool,
}

/// A removed user: no token of theirs is ever admitted again.
pub const REMOVED: Standing = Standing {
    epoch: i64::MAX,
    active: false,
};

/// The cache of every user's [`Standing`].
#[derive(Debug)]
pub struct SessionEpochs {
    db: DatabaseConnection,
    users: RwLock<HashMap<Uuid, Standing>>,
}

impl SessionEpochs {
    pub fn new(db: DatabaseConnection) -> Self {
        Self {
            db,
            users: RwLock::new(HashMap::new()),
        }
    }

    /// Whether the token's holder is enabled and the token is of their current epoch.
    pub async fn admits(&self, claims: &Claims) -> Result<bool, ServiceError> {
        let cached = self
            .users
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&claims.sub)
            .copied();
        let standing = match cached {
            Some(standing) => standing,
            None => {
                let loaded = load(&self.db, claims.sub).await?;
                self.record(claims.sub, loaded)
            }
        };
        Ok(standing.active && standing.epoch == claims.sep)
    }

    /// Forgets every cached standing (each is loaded again on its next use): after a time
    /// in which another replica's change may have gone unheard.
    pub fn forget_all(&self) {
        self.users
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    /// Notes `standing` for `user`, unless a newer epoch is known already (a load that read
    /// the row before a change committed must not undo it); returns what is kept.
    pub fn record(&self, user: Uuid, standing: Standing) -> Standing {
        let mut users = self.users.write().unwrap_or_else(PoisonError::into_inner);
        if users.len() >= MAX_USERS && !users.contains_key(&user) {
            users.clear();
        }
        let kept = users.entry(user).or_insert(standing);
        if standing.epoch > kept.epoch {
            *kept = standing;
        }
        *kept
    }
}

/// A user's standing as the database has it.
async fn load(db: &DatabaseConnection, id: Uuid) -> Result<Standing, ServiceError> {
    let row: Option<(i64, bool)> = user::Entity::find_by_id(id)
        .select_only()
        .column(user::Column::SessionEpoch)
        .column(user::Column::Disabled)
        .into_tuple()
        .one(db)
        .await
        .db("loading a session epoch")?;
    Ok(row.map_or(REMOVED, |(epoch, disabled)| Standing {
        epoch,
        active: !disabled,
    }))
}

/// Ends every session of `user` (inside the caller's transaction): bumps their epoch and
/// revokes their refresh tokens. Once the transaction commits, hand the result to
/// [`SessionEpochs::record`].
pub async fn bump(
    db: &impl ConnectionTrait,
    user: Uuid,
    now: time::OffsetDateTime,
) -> Result<Standing, ServiceError> {
    let backend = db.get_database_backend();
    let row = db
        .query_one(stmt(
            backend,
            "UPDATE users SET session_epoch = session_epoch + 1 WHERE id = ? \
             RETURNING session_epoch, disabled",
            vec![user.into()],
        ))
        .await
        .db("bumping a session epoch")?;
    let standing = match row {
        Some(row) => Standing {
            epoch: row
                .try_get("", "session_epoch")
                .db("reading a session epoch")?,
            active: !row
                .try_get::<bool>("", "disabled")
                .db("reading a session epoch")?,
        },
        None => REMOVED,
    };
    db.execute(stmt(
        backend,
        "UPDATE refresh_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
        vec![now.into(), user.into()],
    ))
    .await
    .db("revoking refresh tokens")?;
    Ok(standing)
}
