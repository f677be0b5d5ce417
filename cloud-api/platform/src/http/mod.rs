//! The HTTP application: the platform's routes and the domains' (merged by the caller), plus
//! the cross-cutting layers (request language, tracing, request-duration metrics, a default
//! body limit, security headers, CORS, panic guard) and Socket.IO.

pub mod client;
pub mod error;
pub mod extract;
pub mod json;

use axum::{extract::DefaultBodyLimit, middleware, Router};
use tower_http::trace::TraceLayer;

use socketioxide::layer::SocketIoLayer;

use super::{
    audit, commands, devices, health, i18n, identity, ingest, metrics, notifications, openapi,
    security, state::AppState,
};

/// The default limit for request bodies that do not set their own.
const DEFAULT_BODY_LIMIT: usize = 1024 * 1024;

/// Builds the whole application around `domains` (every domain's router and the dashboard)
/// and the merged OpenAPI document `doc`.
pub fn app(
    state: AppState,
    realtime: SocketIoLayer<crate::realtime::Adapter>,
    domains: Router<AppState>,
    doc: utoipa::openapi::OpenApi,
) -> Router {
    let router = Router::new()
        .merge(health::router())
        .merge(identity::router())
        .merge(audit::router())
        .merge(notifications::router())
        .merge(devices::router())
        .merge(commands::router())
        .merge(domains)
        .layer(DefaultBodyLimit::max(DEFAULT_BODY_LIMIT))
        // Ingest sets its own, larger limit.
        .merge(ingest::router())
        .merge(openapi::router(doc))
        // Per route (`Router::layer`), so the matched route template is known.
        .layer(middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .layer(realtime)
        .layer(middleware::from_fn(i18n::language));
    // Spans name the path only: query strings can carry secrets (Socket.IO's `?token=`).
    let trace = TraceLayer::new_for_http().make_span_with(|request: &axum::extract::Request| {
        tracing::debug_span!("request", method = %request.method(), path = %request.uri().path())
    });
    security::layers(router, &state.config)
        .layer(trace)
        .with_state(state)
}
