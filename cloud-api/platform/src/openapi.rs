//! The OpenAPI document of every HTTP route (the platform's here, each domain's merged in) (`GET /openapi.json`) and the Swagger UI at
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
        super::identity::api::mfa_enrol,
        super::identity::api::mfa_confirm,
        super::identity::api::mfa_verify,
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
    ),
    modifiers(&SecuritySchemes),
    tags(
        (name = "auth", description = "Sessions: login, refresh rotation, logout, Google"),
        (name = "notifications", description = "Seed 000 notifications"),
        (name = "audit", description = "The audit trail"),
        (name = "devices", description = "Devices, enrolment, commands, HTTPS ingest"),
        (name = "platform", description = "Health and metrics"),
    )
)]
pub struct ApiDoc;

/// `/openapi.json` and `/docs`, serving `doc` (the platform's [`ApiDoc`] merged with every
/// domain's).
pub fn router(doc: utoipa::openapi::OpenApi) -> Router<AppState> {
    // Swagger UI needs its own scripts and inline styles; every other route keeps the strict
    // default policy.
    let csp = SetResponseHeaderLayer::overriding(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; frame-ancestors 'none'",
        ),
    );
    Router::from(SwaggerUi::new("/docs").url("/openapi.json", doc)).layer(csp)
}
