//! Template key rotation without downtime: restart the cloud with the new key as
//! `[people] template_key` and the old one in `previous_template_keys` (both open, only the
//! new one seals), then `POST /api/face-templates/reseal` (access admins) re-seals every
//! template still under an old key, row by row while the cloud serves, and moves the
//! gallery on: every door pulls it and seals its copy under a fresh key of its own. Then
//! the old key can leave the configuration.

use axum::{extract::State, Json};
use sea_orm::{sea_query::Expr, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use platform::{
    audit,
    error::{DbContext, ServiceError},
    http::error::ApiError,
    identity::AdminUser,
    security::ClientIp,
    state::{AppState, Platform},
};

use crate::{entities::face_template, gallery, PeopleRuntime};

/// Templates read per step.
const BATCH: u64 = 200;

/// What a re-seal did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct Resealed {
    /// Templates that were under an old key and are now under the current one.
    pub resealed: u64,
    /// Templates already under the current key.
    pub current: u64,
    /// Templates no configured key opens (logged by id; left as they are).
    pub unreadable: u64,
    /// The gallery version the doors are told to fetch.
    pub gallery_version: u64,
}

/// Re-seals every template under the current key (see the module docs).
pub async fn reseal_all(platform: &Platform) -> Result<Resealed, ServiceError> {
    let cipher = &platform.domain::<PeopleRuntime>().cipher;
    let mut outcome = Resealed::default();
    let mut after = Uuid::nil();
    loop {
        let rows = face_template::Entity::find()
            .filter(face_template::Column::Id.gt(after))
            .order_by_asc(face_template::Column::Id)
            .limit(BATCH)
            .all(&platform.db)
            .await
            .db("reading face templates to re-seal")?;
        let Some(last) = rows.last().map(|r| r.id) else {
            break;
        };
        for row in &rows {
            match cipher.open_keyed(row.user_id, &row.sealed) {
                Ok((_, true)) => outcome.current += 1,
                Ok((embedding, false)) => {
                    let sealed = cipher.seal(row.user_id, &embedding)?;
                    // Only the row as it was read: a template replaced meanwhile stays.
                    face_template::Entity::update_many()
                        .col_expr(face_template::Column::Sealed, Expr::value(sealed))
                        .filter(face_template::Column::Id.eq(row.id))
                        .filter(face_template::Column::Sealed.eq(row.sealed.clone()))
                        .exec(&platform.db)
                        .await
                        .db("re-sealing a face template")?;
                    outcome.resealed += 1;
                }
                Err(_) => {
                    tracing::error!(template = %row.id, "A face template opens with no configured key; left as it is.");
                    outcome.unreadable += 1;
                }
            }
        }
        if (rows.len() as u64) < BATCH {
            break;
        }
        after = last;
    }
    // The doors re-seal their copies under fresh keys when they install the new version.
    let txn = sea_orm::TransactionTrait::begin(&platform.db)
        .await
        .db("starting the gallery bump")?;
    outcome.gallery_version = gallery::bump(&txn).await?;
    txn.commit().await.db("committing the gallery bump")?;
    gallery::notify(platform, outcome.gallery_version).await;
    tracing::info!(
        resealed = outcome.resealed,
        current = outcome.current,
        unreadable = outcome.unreadable,
        "Face templates re-sealed under the current key."
    );
    Ok(outcome)
}

/// Re-seals every face template under the current key and tells the doors to re-seal
/// theirs (access admins).
#[utoipa::path(post, path = "/api/face-templates/reseal", tag = "people",
    responses((status = 200, body = Resealed), (status = 401), (status = 403)),
    security(("bearer" = []), ("cookie" = [])))]
pub(crate) async fn reseal(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    ip: ClientIp,
) -> Result<Json<Resealed>, ApiError> {
    let outcome = reseal_all(&state).await?;
    audit::record(
        &state.db,
        state.clock.now(),
        audit::Entry::new("face_templates_reseal", ip)
            .by(admin.sub, admin.email.clone())
            .detail(json!(outcome)),
    )
    .await;
    Ok(Json(outcome))
}
