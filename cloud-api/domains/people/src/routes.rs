//! `/api/users` (seed 000 CRUD and seed 001's admin list, one endpoint) and
//! `POST /api/users/{id}/face-register`.

use axum::{
    extract::{DefaultBodyLimit, Request, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{delete, get, post, put},
    Json, Router,
};
use platform::http::extract::PathParams;
use protocol::sync::GALLERY_PATH;
use serde::Deserialize;
use serde_json::json;
use utoipa::IntoParams;
use uuid::Uuid;

use super::{
    consent, export, gallery,
    photo::{upload_from_request, MAX_PHOTO_BODY},
    service::{self, user_not_found, NewPerson, PeopleList, PersonPatch},
};
use platform::http::extract::QueryParams;
use platform::{
    audit,
    http::{error::ApiError, json::JsonBody},
    i18n::Msg,
    identity::{roles, AdminUser, AuthUser},
    security::ClientIp,
    state::AppState,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/users", get(list).post(create))
        .route("/api/users/{id}", put(update).delete(remove))
        .route(
            "/api/users/{id}/face-register",
            post(face_register).layer(DefaultBodyLimit::max(MAX_PHOTO_BODY)),
        )
        .route(GALLERY_PATH, get(gallery::device_gallery))
        .route("/api/face-consent", get(consent::text))
        .route("/api/users/{id}/face-consents", get(consent::history))
        .route("/api/users/{id}/face-consent", delete(consent::withdraw))
        .route("/api/users/{id}/export", get(export::export))
        .route("/api/face-templates/reseal", post(crate::rotation::reseal))
}

pub(crate) fn parse_id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| user_not_found().into())
}

/// Every user with `total_users` and each one's `attendance_count` (seed 001), plus the door
/// fields of seed 000. Access admins and attendance admins.
#[utoipa::path(get, path = "/api/users", tag = "people",
    responses((status = 200, body = PeopleList, description = "Seed 001's `{total_users, users: [{id, email, name, role, attendance_count, created_at, ...}]}`; each user also has phone, nik, roles, department, enabled, windows, face_registered, face_registered_at, updated_at"),
        (status = 401, description = "Anda belum login"), (status = 403, description = "Anda tidak memiliki akses")),
    security(("bearer" = []), ("cookie" = [])))]
pub(crate) async fn list(
    State(state): State<AppState>,
    AuthUser(claims): AuthUser,
) -> Result<Json<PeopleList>, ApiError> {
    if !(roles::has_role(&claims, "access", &["admin"])
        || roles::has_role(&claims, "attendance", &["admin"]))
    {
        return Err(roles::forbidden());
    }
    Ok(Json(service::list_people(&state).await?))
}

/// Creates a person (access admins).
#[utoipa::path(post, path = "/api/users", tag = "people", request_body = NewPerson,
    responses((status = 201, description = "`{message, user}`", links(
            ("Update" = (operation_ref = "#/paths/~1api~1users~1{id}/put",
                parameters(("id" = "$response.body#/user/id")))),
            ("Remove" = (operation_ref = "#/paths/~1api~1users~1{id}/delete",
                parameters(("id" = "$response.body#/user/id")))))),
        (status = 400), (status = 401), (status = 403), (status = 409), (status = 422)),
    security(("bearer" = []), ("cookie" = [])))]
pub(crate) async fn create(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    ip: ClientIp,
    JsonBody(body): JsonBody<NewPerson>,
) -> Result<Response, ApiError> {
    let user = service::create_person(&state, body).await?;
    audit::record(
        &state.db,
        state.clock.now(),
        audit::Entry::new("user_create", ip)
            .by(admin.sub, admin.email.clone())
            .target(format!("user:{}", user.id)),
    )
    .await;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "message": Msg::new("User berhasil dibuat", "User created").localized(),
            "user": user,
        })),
    )
        .into_response())
}

/// Changes a person (access admins); absent fields keep their value.
#[utoipa::path(put, path = "/api/users/{id}", tag = "people", params(("id" = uuid::Uuid, Path, description = "User id (UUID)")), request_body = PersonPatch,
    responses((status = 200, description = "`{message, user}`"), (status = 400), (status = 401), (status = 403), (status = 404), (status = 409), (status = 422)),
    security(("bearer" = []), ("cookie" = [])))]
pub(crate) async fn update(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    ip: ClientIp,
    PathParams(id): PathParams<String>,
    JsonBody(body): JsonBody<PersonPatch>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let id = parse_id(&id)?;
    let changed: Vec<&str> = [
        ("name", body.name.is_some()),
        ("email", body.email.is_some()),
        ("phone", body.phone.is_some()),
        ("nik", body.nik.is_some()),
        ("password", body.password.is_some()),
        ("role", body.role.is_some()),
        ("department", body.department.is_some()),
        ("enabled", body.enabled.is_some()),
        ("windows", body.windows.is_some()),
    ]
    .into_iter()
    .filter_map(|(k, set)| set.then_some(k))
    .collect();
    let user = service::update_person(&state, id, body, admin.sub).await?;
    audit::record(
        &state.db,
        state.clock.now(),
        audit::Entry::new("user_update", ip)
            .by(admin.sub, admin.email.clone())
            .target(format!("user:{id}"))
            .detail(json!({ "fields": changed })),
    )
    .await;
    Ok(Json(json!({
        "message": Msg::new("User berhasil diperbarui", "User updated").localized(),
        "user": user,
    })))
}

/// Removes a person with their face templates and attendance (access admins).
#[utoipa::path(delete, path = "/api/users/{id}", tag = "people", params(("id" = uuid::Uuid, Path, description = "User id (UUID)")),
    responses((status = 200, description = "`{message}`"), (status = 400), (status = 401), (status = 403), (status = 404)),
    security(("bearer" = []), ("cookie" = [])))]
pub(crate) async fn remove(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    ip: ClientIp,
    PathParams(id): PathParams<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let id = parse_id(&id)?;
    service::delete_person(&state, id, admin.sub).await?;
    audit::record(
        &state.db,
        state.clock.now(),
        audit::Entry::new("user_delete", ip)
            .by(admin.sub, admin.email.clone())
            .target(format!("user:{id}")),
    )
    .await;
    Ok(Json(json!({
        "message": Msg::new("User berhasil dihapus", "User deleted").localized(),
    })))
}

/// `POST /api/users/{id}/face-register` options.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct FaceRegisterParams {
    /// `true`: the photo becomes the person's only template (the others are removed);
    /// default `false`: it is added to their set (at most 5, the oldest dropped).
    replace: Option<String>,
}

/// Enrols a face from a photo: `multipart/form-data` (field `photo`, `image`, `file` or
/// `face`) or JSON `{"image": "<base64 or data URL>"}`; at most 6 MB. `consent` (a form
/// field `true`, or JSON `true`) is required: the person, or the admin acting for them, has
/// agreed to the text of `GET /api/face-consent`; it is recorded with the template. The template is added
/// to the person's set (at most 5; the oldest is dropped), or replaces the set with
/// `?replace=true`.
#[utoipa::path(post, path = "/api/users/{id}/face-register", tag = "people", params(("id" = uuid::Uuid, Path, description = "User id (UUID)"), FaceRegisterParams),
    request_body(content = Object, description = "multipart `photo` file, or JSON `{image: base64}`"),
    responses((status = 201, description = "`{message, user, gallery_version, detection_score, liveness}` (never the template)"),
        (status = 400, description = "No consent, not an image, no face, several faces, or poor quality (the reason)"),
        (status = 401), (status = 403), (status = 404), (status = 413), (status = 415)),
    security(("bearer" = []), ("cookie" = [])))]
pub(crate) async fn face_register(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    ip: ClientIp,
    PathParams(id): PathParams<String>,
    QueryParams(params): QueryParams<FaceRegisterParams>,
    request: Request,
) -> Result<Response, ApiError> {
    let id = parse_id(&id)?;
    let replace = match params.replace.as_deref().map(str::trim) {
        None | Some("") | Some("false") | Some("0") => false,
        Some("true") | Some("1") => true,
        Some(_) => {
            return Err(ApiError::bad_request(Msg::new(
                "replace harus true atau false",
                "replace must be true or false",
            )))
        }
    };
    let upload = upload_from_request(
        request,
        &state,
        Msg::new("Foto wajah tidak ditemukan", "No face photo was sent"),
    )
    .await?;
    if !upload.consent {
        return Err(consent::required());
    }
    let given = consent::GivenConsent {
        by: admin.sub,
        by_email: Some(admin.email.clone()),
        from: ip
            .0
            .map(|addr| addr.to_string())
            .unwrap_or_else(|| "unknown".into()),
    };
    let result = service::register_face(&state, id, upload.photo, replace, &given).await;
    let entry = audit::Entry::new("face_register", ip)
        .by(admin.sub, admin.email.clone())
        .target(format!("user:{id}"));
    let entry = match &result {
        Ok(done) => {
            entry.detail(json!({ "gallery_version": done.gallery_version, "replace": replace }))
        }
        Err(err) => entry.detail(json!({ "error": err.to_string() })).failed(),
    };
    audit::record(&state.db, state.clock.now(), entry).await;
    let done = result?;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "message": Msg::new("Wajah berhasil didaftarkan", "Face registered").localized(),
            "user": done.user,
            "gallery_version": done.gallery_version,
            "detection_score": done.detection_score,
            "liveness": done.liveness,
        })),
    )
        .into_response())
}
