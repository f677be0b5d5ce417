//! Response headers every answer carries (unless a route set its own, like the docs UI's
//! CSP), CORS for the configured origins, and a guard that turns a panic into a logged 500.

use std::time::Duration;

use axum::{
    http::{header, HeaderName, HeaderValue, Method},
    response::IntoResponse,
    Router,
};
use tower_http::{
    catch_panic::CatchPanicLayer,
    cors::{AllowOrigin, CorsLayer},
    set_header::SetResponseHeaderLayer,
};

use crate::{config::CloudConfig, state::AppState};

fn fixed(name: HeaderName, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
}

/// Wraps the whole application in the cross-cutting defences.
pub fn layers(router: Router<AppState>, config: &CloudConfig) -> Router<AppState> {
    let mut router = router
        .layer(fixed(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(fixed(header::X_FRAME_OPTIONS, "DENY"))
        .layer(fixed(header::REFERRER_POLICY, "no-referrer"))
        .layer(fixed(
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; frame-ancestors 'none'",
        ))
        .layer(fixed(
            HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ))
        .layer(fixed(
            HeaderName::from_static("permissions-policy"),
            "camera=(), microphone=(), geolocation=()",
        ));
    if config.tls() {
        router = router.layer(fixed(
            header::STRICT_TRANSPORT_SECURITY,
            "max-age=31536000; includeSubDomains",
        ));
    }
    let origins: Vec<HeaderValue> = config
        .security
        .cors_origins
        .iter()
        .filter_map(
            |o| match HeaderValue::from_str(o.trim().trim_end_matches('/')) {
                Ok(v) => Some(v),
                Err(_) => {
                    tracing::warn!(origin = %o, "Ignoring an invalid CORS origin.");
                    None
                }
            },
        )
        .collect();
    if !origins.is_empty() {
        router = router.layer(
            CorsLayer::new()
                .allow_origin(AllowOrigin::list(origins))
                .allow_credentials(true)
                .allow_methods([
                    Method::GET,
                    Method::POST,
                    Method::PUT,
                    Method::PATCH,
                    Method::DELETE,
                ])
                .allow_headers([
                    header::AUTHORIZATION,
                    header::CONTENT_TYPE,
                    header::ACCEPT_LANGUAGE,
                ])
                .max_age(Duration::from_secs(600)),
        );
    }
    router.layer(CatchPanicLayer::custom(panic_response))
}

fn panic_response(err: Box<dyn std::any::Any + Send + 'static>) -> axum::response::Response {
    let detail = err
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| err.downcast_ref::<&str>().copied())
        .unwrap_or("unknown");
    tracing::error!(panic = %detail, "A request handler panicked.");
    let msg = crate::i18n::Msg::new("Terjadi kesalahan pada server", "Internal server error");
    (
        axum::http::StatusCode::INTERNAL_SERVER_ERROR,
        axum::Json(serde_json::json!({ "message": msg.localized() })),
    )
        .into_response()
}
