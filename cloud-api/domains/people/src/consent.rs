//! Consent to face enrolment: the configured text, the record made with each enrolment (who
//! agreed — the person or the admin acting for them — when, from where, under which version
//! of the text), and withdrawal, which erases the person's templates in the cloud and, through
//! the gallery version, on every door.

use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
    Json,
};
use protocol::EventKind;
use sea_orm::{
    sea_query::Expr, ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, Set, TransactionTrait,
};
use serde_json::json;
use time::OffsetDateTime;
use uuid::Uuid;

use platform::{
    audit,
    error::{DbContext, ServiceError},
    http::{error::ApiError, extract::PathParams},
    i18n::{Lang, Msg},
    identity::{self, roles::has_role, AuthUser, Claims},
    security::ClientIp,
    state::AppState,
};

use crate::{
    config::ConsentText,
    entities::{face_consent, face_template},
    gallery,
    routes::parse_id,
    PeopleRuntime,
};

/// A consent given with an enrolment.
#[derive(Debug, Clone)]
pub struct GivenConsent {
    pub by: Uuid,
    pub by_email: Option<String>,
    pub from: String,
}

/// The 400 of an enrolment sent without `consent: true`.
pub fn required() -> ApiError {
    ApiError::bad_request(Msg::new(
        "Persetujuan diperlukan: kirim consent: true setelah orang tersebut (atau admin atas \
         namanya) menyetujui teks persetujuan wajah (GET /api/face-consent). Tidak ada yang \
         disimpan.",
        "Consent is required: send consent: true once the person (or the admin acting for \
         them) has agreed to the face consent text (GET /api/face-consent). Nothing was stored.",
    ))
}

/// Records `given` for `user` under the current text, inside the enrolment's transaction.
pub async fn record(
    txn: &impl ConnectionTrait,
    text: &ConsentText,
    user: Uuid,
    given: &GivenConsent,
    at: OffsetDateTime,
) -> Result<(), ServiceError> {
    face_consent::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user),
        granted_by: Set(given.by),
        granted_by_email: Set(given.by_email.clone()),
        granted_at: Set(at),
        granted_from: Set(given.from.clone()),
        text_version: Set(text.version.clone()),
        withdrawn_at: Set(None),
        withdrawn_by: Set(None),
    }
    .insert(txn)
    .await
    .db("recording a face consent")?;
    Ok(())
}

/// The consent text to show before enrolment: `{version, text, text_id, text_en}` (`text`
/// in the caller's language).
#[utoipa::path(get, path = "/api/face-consent", tag = "people",
    responses((status = 200, description = "`{version, text, text_id, text_en}`")))]
pub(crate) async fn text(State(state): State<AppState>) -> Json<serde_json::Value> {
    let consent = &state.domain::<PeopleRuntime>().consent;
    let text = match Lang::current() {
        Lang::En => &consent.text_en,
        _ => &consent.text_id,
    };
    Json(json!({
        "version": consent.version,
        "text": text,
        "text_id": consent.text_id,
        "text_en": consent.text_en,
    }))
}

/// The person themselves or an access admin.
pub(crate) fn self_or_admin(claims: &Claims, id: Uuid) -> Result<(), ApiError> {
    if claims.sub == id || has_role(claims, "access", &["admin"]) {
        Ok(())
    } else {
        Err(identity::roles::forbidden())
    }
}

/// A person's consents, newest first.
#[utoipa::path(get, path = "/api/users/{id}/face-consents", tag = "people",
    params(("id" = String, Path, description = "User id (UUID)")),
    responses((status = 200, body = Vec<face_consent::Model>), (status = 401), (status = 403)),
    security(("bearer" = []), ("cookie" = [])))]
pub(crate) async fn history(
    State(state): State<AppState>,
    AuthUser(claims): AuthUser,
    PathParams(id): PathParams<String>,
) -> Result<Json<Vec<face_consent::Model>>, ApiError> {
    let id = parse_id(&id)?;
    self_or_admin(&claims, id)?;
    let rows = face_consent::Entity::find()
        .filter(face_consent::Column::UserId.eq(id))
        .order_by_desc(face_consent::Column::GrantedAt)
        .all(&state.db)
        .await
        .db("reading face consents")?;
    Ok(Json(rows))
}

/// Withdraws a person's consent (the person or an admin): their templates are erased at
/// once and the doors told to fetch the gallery without them; in the same transaction
/// their access-log rows and device events are pseudonymised and their snapshots deleted.
#[utoipa::path(delete, path = "/api/users/{id}/face-consent", tag = "people",
    params(("id" = String, Path, description = "User id (UUID)")),
    responses((status = 200, description = "`{message, templates_removed, gallery_version}`"),
        (status = 401), (status = 403), (status = 404)),
    security(("bearer" = []), ("cookie" = [])))]
pub(crate) async fn withdraw(
    State(state): State<AppState>,
    AuthUser(claims): AuthUser,
    ip: ClientIp,
    PathParams(id): PathParams<String>,
) -> Result<Response, ApiError> {
    let id = parse_id(&id)?;
    self_or_admin(&claims, id)?;
    identity::find_by_id(&state.db, id)
        .await?
        .ok_or_else(crate::service::user_not_found)?;
    let now = state.clock.now();
    let txn = state.db.begin().await.db("starting a consent withdrawal")?;
    let withdrawn = face_consent::Entity::update_many()
        .col_expr(face_consent::Column::WithdrawnAt, Expr::value(now))
        .col_expr(face_consent::Column::WithdrawnBy, Expr::value(claims.sub))
        .filter(face_consent::Column::UserId.eq(id))
        .filter(face_consent::Column::WithdrawnAt.is_null())
        .exec(&txn)
        .await
        .db("withdrawing face consents")?
        .rows_affected;
    let removed = face_template::Entity::delete_many()
        .filter(face_template::Column::UserId.eq(id))
        .exec(&txn)
        .await
        .db("erasing face templates")?
        .rows_affected;
    // What the doors recognised of them goes with the templates: the access log keeps the
    // events without them, their snapshots are deleted.
    for (_, data) in &state.personal_data {
        data.erase_face(&txn, id)
            .await
            .db("erasing what was derived from a face")?;
    }
    platform::ingest::forget::pseudonymise_person(&txn, id, &[EventKind::AccessDecision])
        .await
        .db("pseudonymising the person's device events")?;
    let version = if removed > 0 {
        Some(gallery::bump(&txn).await?)
    } else {
        None
    };
    txn.commit().await.db("committing a consent withdrawal")?;
    if let Some(version) = version {
        gallery::notify(&state, version).await;
    }
    audit::record(
        &state.db,
        now,
        audit::Entry::new("face_consent_withdraw", ip)
            .by(claims.sub, claims.email.clone())
            .target(format!("user:{id}"))
            .detail(json!({ "consents_withdrawn": withdrawn, "templates_removed": removed })),
    )
    .await;
    tracing::info!(user = %id, removed, "Face consent withdrawn; templates erased.");
    Ok((
        StatusCode::OK,
        Json(json!({
            "message": Msg::new(
                "Persetujuan ditarik; templat wajah dihapus",
                "Consent withdrawn; face templates erased",
            )
            .localized(),
            "templates_removed": removed,
            "gallery_version": version,
        })),
    )
        .into_response())
}
