//! The OpenAPI document of every HTTP route (`GET /openapi.json`) and the Swagger UI at
//! `/docs`. The UI is vendored into the binary (`utoipa-swagger-ui` feature `vendored`), so
//! neither the build nor the browser fetches anything from outside.

use axum::{
    http::{header, HeaderValue},
    Router,
};
use tower_http::set_header::SetResponseHeaderLayer;
use utoipa::{
    openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme},
    Modify, OpenApi,
};
use utoipa_swagger_ui::SwaggerUi;

use super::state::AppState;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
        components.add_security_scheme(
            "cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new("token"))),
        );
        components.add_security_scheme(
            "device_token",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The whole API.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Gerbang cloud API",
        description = "Doors, kiosks and the business domains around them. Errors are `{\"message\"}` in Indonesian, or English with `Accept-Language: en`. Realtime: Socket.IO at `/socket.io/` (namespaces `/` and `/notifications`), token in `auth.token`, `Authorization: Bearer` or `?token=`."
    ),
    paths(
        super::health::health,
        super::health::metrics,
        super::identity::api::login,
        super::identity::api::refresh,
        super::identity::api::logout,
        super::identity::api::me,
        super::identity::api::google,
        super::audit::list,
        super::notifications::api::list,
        super::notifications::api::create,
        super::notifications::api::mark_read,
        super::notifications::api::delete,
        super::devices::routes::create,
        super::devices::routes::list,
        super::devices::routes::enroll,
        super::commands::routes::send,
        super::ingest::routes::events,
        crate::access::routes::door_status,
        crate::access::routes::door_control,
        crate::people::routes::list,
        crate::people::routes::create,
        crate::people::routes::update,
        crate::people::routes::remove,
        crate::people::routes::face_register,
        crate::people::gallery::device_gallery,
        crate::attendance::routes::register,
        crate::attendance::routes::login,
        crate::attendance::routes::logout,
        crate::attendance::routes::profile,
        crate::attendance::routes::update_profile,
        crate::attendance::routes::check_in,
        crate::attendance::routes::list,
        crate::attendance::routes::daily,
        crate::camera::routes::upload,
        crate::camera::routes::capture,
        crate::camera::routes::list_recordings,
        crate::camera::routes::recording_image,
        crate::camera::routes::delete_recording,
        crate::camera::routes::stream,
        crate::camera::settings::get_settings,
        crate::camera::settings::put_settings,
        crate::history::routes::access_history,
        crate::history::routes::dashboard,
        crate::history::routes::reports,
        crate::history::routes::export_file,
    ),
    modifiers(&SecuritySchemes),
    tags(
        (name = "auth", description = "Sessions: login, refresh rotation, logout, Google"),
        (name = "notifications", description = "Seed 000 notifications"),
        (name = "audit", description = "The audit trail"),
        (name = "devices", description = "Devices, enrolment, commands, HTTPS ingest"),
        (name = "access", description = "Seed 000 door domain"),
        (name = "people", description = "Seed 000 users (and seed 001's admin list): CRUD, access windows, face registration"),
        (name = "attendance", description = "Seed 001 face attendance: register, login (`token` cookie, 7 days), logout, profile, attendance; the daily table for admins"),
        (name = "camera", description = "Seed 000 camera: capture, recordings, live MJPEG relay"),
        (name = "history", description = "Seed 000 access history, analytics and exports"),
        (name = "platform", description = "Health and metrics"),
    )
)]
pub struct ApiDoc;

/// `/openapi.json` and `/docs`.
pub fn router() -> Router<AppState> {
    // Swagger UI needs its own scripts and inline styles; every other route keeps the strict
    // default policy.
    let csp = SetResponseHeaderLayer::overriding(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; frame-ancestors 'none'",
        ),
    );
    Router::from(SwaggerUi::new("/docs").url("/openapi.json", ApiDoc::openapi())).layer(csp)
}
