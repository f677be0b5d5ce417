//! `GET /api/history/access`, `GET /api/analytics/dashboard`, `GET /api/analytics/reports`
//! and `POST /api/analytics/export` (seed 000), for access admins.

use axum::{
    extract::State,
    response::Response,
    routing::{get, post},
    Json, Router,
};
use platform::http::extract::QueryParams;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::{
    analytics::{self, Dashboard, GroupBy, Report},
    export::{self, AccessRows},
    filter::FilterParams,
    service::{self, AccessPage, Cursor, DEFAULT_LIMIT},
};
use platform::{
    error::ServiceError,
    export::{self as platform_export, ExportFormat},
    http::{error::ApiError, json::JsonBody},
    i18n::Msg,
    identity::{AccessAdmin, Guarded},
    state::AppState,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/history/access", get(access_history))
        .route("/api/analytics/dashboard", get(dashboard))
        .route("/api/analytics/reports", get(reports))
        .route("/api/analytics/export", post(export_file))
}

/// Paging of `GET /api/history/access`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Rows per page, 1–200 (default 50).
    pub limit: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// `true` adds the number of matching rows (costs a pass over them).
    pub include_total: Option<String>,
}

fn parse_u32(field: &str, raw: Option<&str>, default: u32, max: u32) -> Result<u32, ServiceError> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(default),
        Some(raw) => match raw.parse::<u32>() {
            Ok(n) if (1..=max).contains(&n) => Ok(n),
            _ => Err(ServiceError::Invalid(Msg::owned(
                format!("{field} harus bilangan bulat 1–{max}"),
                format!("{field} must be a whole number from 1 to {max}"),
            ))),
        },
    }
}

fn parse_bool(field: &str, raw: Option<&str>) -> Result<bool, ServiceError> {
    match raw.map(|s| s.trim().to_ascii_lowercase()).as_deref() {
        None | Some("") | Some("false") | Some("0") => Ok(false),
        Some("true") | Some("1") => Ok(true),
        Some(_) => Err(ServiceError::Invalid(Msg::owned(
            format!("{field} harus true atau false"),
            format!("{field} must be true or false"),
        ))),
    }
}

/// Access history, newest first, with filters and a keyset cursor.
#[utoipa::path(get, path = "/api/history/access", tag = "history",
    params(FilterParams, PageParams),
    responses(
        (status = 200, body = AccessPage, description = "`{data, pagination: {limit, next_cursor, has_more, total}}`"),
        (status = 400, description = "A filter is not valid (the message says which)"),
        (status = 401), (status = 403)),
    security(("bearer" = []), ("cookie" = [])))]
pub(crate) async fn access_history(
    State(state): State<AppState>,
    _admin: Guarded<AccessAdmin>,
    QueryParams(filters): QueryParams<FilterParams>,
    QueryParams(page): QueryParams<PageParams>,
) -> Result<Json<AccessPage>, ApiError> {
    let filter = filters.parse()?;
    let limit = parse_u32(
        "limit",
        page.limit.as_deref(),
        DEFAULT_LIMIT,
        service::MAX_LIMIT,
    )?;
    let cursor = page
        .cursor
        .as_deref()
        .filter(|c| !c.trim().is_empty())
        .map(Cursor::decode)
        .transpose()?;
    let include_total = parse_bool("include_total", page.include_total.as_deref())?;
    Ok(Json(
        service::list(&state.db, &filter, cursor, limit, include_total).await?,
    ))
}

/// Options of the dashboard.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DashboardParams {
    /// How many top users, 1–100 (default 10).
    pub top: Option<String>,
}

/// Counts per day and hour, success rate, by method/reason/device, top users, for a range
/// (default: the last 7 days; at most 366).
#[utoipa::path(get, path = "/api/analytics/dashboard", tag = "history",
    params(FilterParams, DashboardParams),
    responses((status = 200, body = Dashboard), (status = 400), (status = 401), (status = 403)),
    security(("bearer" = []), ("cookie" = [])))]
pub(crate) async fn dashboard(
    State(state): State<AppState>,
    _admin: Guarded<AccessAdmin>,
    QueryParams(filters): QueryParams<FilterParams>,
    QueryParams(options): QueryParams<DashboardParams>,
) -> Result<Json<Dashboard>, ApiError> {
    let filter = analytics::bounded(filters.parse()?, state.clock.now())?;
    let top = parse_u32("top", options.top.as_deref(), 10, analytics::MAX_TOP)?;
    Ok(Json(analytics::dashboard(&state.db, &filter, top).await?))
}

/// Options of the report.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportParams {
    /// `device` (default) or `person`.
    pub group_by: Option<String>,
    /// Most rows, 1–1000 (default 100).
    pub limit: Option<String>,
}

/// A period summary per device or per person: counts, success rate, active days, first
/// and last access.
#[utoipa::path(get, path = "/api/analytics/reports", tag = "history",
    params(FilterParams, ReportParams),
    responses((status = 200, body = Report), (status = 400), (status = 401), (status = 403)),
    security(("bearer" = []), ("cookie" = [])))]
pub(crate) async fn reports(
    State(state): State<AppState>,
    _admin: Guarded<AccessAdmin>,
    QueryParams(filters): QueryParams<FilterParams>,
    QueryParams(options): QueryParams<ReportParams>,
) -> Result<Json<Report>, ApiError> {
    let filter = analytics::bounded(filters.parse()?, state.clock.now())?;
    let group_by = GroupBy::parse(options.group_by.as_deref())?;
    let limit = parse_u32(
        "limit",
        options.limit.as_deref(),
        100,
        analytics::MAX_TOP * 10,
    )?;
    Ok(Json(
        analytics::report(&state.db, &filter, group_by, limit).await?,
    ))
}

/// `POST /api/analytics/export`: the format and the history filters.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ExportRequest {
    /// `csv` (default), `xlsx` or `pdf`.
    pub format: Option<String>,
    #[serde(flatten)]
    pub filters: FilterParams,
}

/// The filtered history as a file: CSV (streamed, no cap), XLSX (at most 200,000 rows) or
/// PDF (at most 10,000 rows); a cut export carries `X-Export-Truncated: true`.
#[utoipa::path(post, path = "/api/analytics/export", tag = "history",
    request_body = ExportRequest,
    responses(
        (status = 200, description = "The file (`text/csv`, XLSX or `application/pdf`) as an attachment", content_type = "application/octet-stream"),
        (status = 400), (status = 401), (status = 403), (status = 422)),
    security(("bearer" = []), ("cookie" = [])))]
pub(crate) async fn export_file(
    State(state): State<AppState>,
    _admin: Guarded<AccessAdmin>,
    JsonBody(request): JsonBody<ExportRequest>,
) -> Result<Response, ApiError> {
    let format = ExportFormat::parse(request.format.as_deref())?;
    let filter = request.filters.parse()?;
    let now = state.clock.now();
    let layout = export::layout(
        format,
        now.to_offset(filter.tz),
        export_subtitle(&request.filters, now),
    );
    Ok(platform_export::respond(format, AccessRows::new(state.db.clone(), filter), layout).await?)
}

/// The PDF's second line: the filters used and when it was made.
fn export_subtitle(filters: &FilterParams, now: time::OffsetDateTime) -> String {
    let mut parts = Vec::new();
    let named = [
        ("from", &filters.from),
        ("to", &filters.to),
        ("device", &filters.device_id),
        ("person", &filters.person_id),
        ("result", &filters.result),
        ("method", &filters.method),
        ("reason", &filters.reason),
        ("q", &filters.q),
    ];
    for (name, value) in named {
        if let Some(value) = value.as_deref().filter(|v| !v.trim().is_empty()) {
            parts.push(format!("{name}={value}"));
        }
    }
    let made = Msg::new("Dibuat", "Generated").localized().to_owned();
    let stamp = now
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    if parts.is_empty() {
        format!("{made} {stamp}")
    } else {
        format!("{made} {stamp} | {}", parts.join(", "))
    }
}
