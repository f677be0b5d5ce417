//! Rankings, contributions and host income (seed 004), over Asia/Jakarta calendar periods:
//! `GET /ranking/fans/:hostId`, `GET /ranking/hosts` (`period=day|week|month|all`),
//! `GET /contributions/:hostId`, `GET /host-income/today|week|month|category|history/:hostId`.
//! A host sees their own income; their agency and ChatMe admins see it too; nobody else.

use axum::{extract::State, Json};
use platform::{
    http::{
        error::ApiError,
        extract::{PathParams, QueryParams},
    },
    identity::{roles::has_role, AuthUser, Claims},
    sql::stmt,
    state::AppState,
};
use sea_orm::{ConnectionTrait, QueryResult};
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::IntoParams;
use uuid::Uuid;

use crate::{
    error::{forbidden, LiveError},
    periods::{bounds, rfc3339, Period},
    routes::Page,
    LiveRuntime, DOMAIN,
};

/// `period=day|week|month|all`.
#[derive(Debug, Deserialize, IntoParams)]
pub struct PeriodQuery {
    pub period: Option<String>,
}

fn range(state: &AppState, period: Option<&str>) -> Result<(Period, i64, i64), ApiError> {
    let period = Period::parse(period).map_err(ApiError::bad_request)?;
    let (start, end) = bounds(
        period,
        &state.domain::<LiveRuntime>().time_zone,
        state.clock.unix(),
    );
    Ok((period, start, end))
}

fn period_name(period: Period) -> &'static str {
    match period {
        Period::Day => "day",
        Period::Week => "week",
        Period::Month => "month",
        Period::All => "all",
    }
}

async fn rows(
    state: &AppState,
    sql: &str,
    values: Vec<sea_orm::Value>,
) -> Result<Vec<QueryResult>, LiveError> {
    Ok(state
        .db
        .query_all(stmt(state.db.get_database_backend(), sql, values))
        .await?)
}

/// The top senders to a host in a period: `{host_id, period, fans: [{rank, user_id, name,
/// avatar_url, total_coins, total_gifts}]}`.
#[utoipa::path(get, path = "/chatme/api/ranking/fans/{hostId}", tag = "live",
    params(("hostId" = Uuid, Path), PeriodQuery),
    responses((status = 200, description = "`{host_id, period, fans}`"), (status = 400)))]
pub(crate) async fn fan_ranking(
    State(state): State<AppState>,
    PathParams(host): PathParams<Uuid>,
    QueryParams(q): QueryParams<PeriodQuery>,
) -> Result<Json<Value>, ApiError> {
    let (period, start, end) = range(&state, q.period.as_deref())?;
    let found = rows(
        &state,
        "SELECT g.sender_id AS id, u.name AS name, p.avatar_url AS avatar_url, \
         CAST(SUM(g.coin_value * g.quantity) AS BIGINT) AS coins, \
         CAST(SUM(g.quantity) AS BIGINT) AS gifts \
         FROM live_gifts g JOIN users u ON u.id = g.sender_id \
         LEFT JOIN live_profiles p ON p.user_id = g.sender_id \
         WHERE g.receiver_id = ? AND g.created_at >= ? AND g.created_at < ? \
         GROUP BY g.sender_id, u.name, p.avatar_url ORDER BY coins DESC, name LIMIT 100",
        vec![host.into(), start.into(), end.into()],
    )
    .await?;
    let fans = ranked(&found, "user_id")?;
    Ok(Json(
        json!({ "host_id": host, "period": period_name(period), "fans": fans }),
    ))
}

fn ranked(found: &[QueryResult], id_field: &str) -> Result<Vec<Value>, LiveError> {
    found
        .iter()
        .enumerate()
        .map(|(i, r)| {
            Ok(json!({
                "rank": i + 1,
                id_field: r.try_get::<Uuid>("", "id")?,
                "name": r.try_get::<String>("", "name")?,
                "avatar_url": r.try_get::<Option<String>>("", "avatar_url")?,
                "total_coins": r.try_get::<i64>("", "coins")?,
                "total_gifts": r.try_get::<i64>("", "gifts")?,
            }))
        })
        .collect()
}

/// The hosts who received the most coins in a period: `{period, hosts: [{rank, host_id,
/// name, avatar_url, total_coins, total_gifts}]}`.
#[utoipa::path(get, path = "/chatme/api/ranking/hosts", tag = "live", params(PeriodQuery),
    responses((status = 200, description = "`{period, hosts}`"), (status = 400)))]
pub(crate) async fn host_ranking(
    State(state): State<AppState>,
    QueryParams(q): QueryParams<PeriodQuery>,
) -> Result<Json<Value>, ApiError> {
    let (period, start, end) = range(&state, q.period.as_deref())?;
    let found = rows(
        &state,
        "SELECT g.receiver_id AS id, u.name AS name, p.avatar_url AS avatar_url, \
         CAST(SUM(g.coin_value * g.quantity) AS BIGINT) AS coins, \
         CAST(SUM(g.quantity) AS BIGINT) AS gifts \
         FROM live_gifts g JOIN users u ON u.id = g.receiver_id \
         LEFT JOIN live_profiles p ON p.user_id = g.receiver_id \
         WHERE g.created_at >= ? AND g.created_at < ? \
         GROUP BY g.receiver_id, u.name, p.avatar_url ORDER BY coins DESC, name LIMIT 100",
        vec![start.into(), end.into()],
    )
    .await?;
    let hosts = ranked(&found, "host_id")?;
    Ok(Json(
        json!({ "period": period_name(period), "hosts": hosts }),
    ))
}

/// Each sender's contribution to a host: `{host_id, contributions: [{user_id, name,
/// total_coins, total_gifts, last_gift_at, last_gift_name}]}`.
#[utoipa::path(get, path = "/chatme/api/contributions/{hostId}", tag = "live",
    params(("hostId" = Uuid, Path)),
    responses((status = 200, description = "`{host_id, contributions}`")))]
pub(crate) async fn contributions(
    State(state): State<AppState>,
    PathParams(host): PathParams<Uuid>,
) -> Result<Json<Value>, ApiError> {
    let found = rows(
        &state,
        "SELECT g.sender_id AS id, u.name AS name, \
         CAST(SUM(g.coin_value * g.quantity) AS BIGINT) AS coins, \
         CAST(SUM(g.quantity) AS BIGINT) AS gifts, MAX(g.created_at) AS last_at, \
         (SELECT l.gift_name FROM live_gifts l WHERE l.receiver_id = g.receiver_id \
          AND l.sender_id = g.sender_id ORDER BY l.created_at DESC, l.id DESC LIMIT 1) AS last_name \
         FROM live_gifts g JOIN users u ON u.id = g.sender_id WHERE g.receiver_id = ? \
         GROUP BY g.sender_id, g.receiver_id, u.name ORDER BY coins DESC, name LIMIT 500",
        vec![host.into()],
    )
    .await?;
    let list = found
        .iter()
        .map(|r| {
            Ok(json!({
                "user_id": r.try_get::<Uuid>("", "id")?,
                "name": r.try_get::<String>("", "name")?,
                "total_coins": r.try_get::<i64>("", "coins")?,
                "total_gifts": r.try_get::<i64>("", "gifts")?,
                "last_gift_at": rfc3339(r.try_get::<i64>("", "last_at")?),
                "last_gift_name": r.try_get::<Option<String>>("", "last_name")?,
            }))
        })
        .collect::<Result<Vec<_>, LiveError>>()?;
    Ok(Json(json!({ "host_id": host, "contributions": list })))
}

/// Whether `claims` may see `host`'s income: the host, their agency, or a ChatMe admin.
pub async fn may_see_income(
    db: &impl ConnectionTrait,
    claims: &Claims,
    host: Uuid,
) -> Result<bool, LiveError> {
    Ok(claims.sub == host
        || has_role(claims, DOMAIN, &["admin"])
        || crate::agency::is_agency_of(db, claims.sub, host).await?)
}

async fn income_in(
    state: &AppState,
    claims: &Claims,
    host: Uuid,
    period: Period,
) -> Result<Json<Value>, ApiError> {
    if !may_see_income(&state.db, claims, host).await? {
        return Err(forbidden().into());
    }
    let (start, end) = bounds(
        period,
        &state.domain::<LiveRuntime>().time_zone,
        state.clock.unix(),
    );
    let found = rows(
        state,
        "SELECT CAST(COALESCE(SUM(income), 0) AS BIGINT) AS income, COUNT(*) AS gifts \
         FROM live_host_income WHERE host_id = ? AND created_at >= ? AND created_at < ?",
        vec![host.into(), start.into(), end.into()],
    )
    .await?;
    let (income, gifts) = match found.first() {
        Some(r) => (
            r.try_get::<i64>("", "income").map_err(LiveError::from)?,
            r.try_get::<i64>("", "gifts").map_err(LiveError::from)?,
        ),
        None => (0, 0),
    };
    Ok(Json(json!({
        "host_id": host,
        "period": period_name(period),
        "start": rfc3339(start),
        "end": rfc3339(end),
        "total_income": income,
        "total_gifts": gifts,
    })))
}

/// Today's income (Asia/Jakarta).
#[utoipa::path(get, path = "/chatme/api/host-income/today/{hostId}", tag = "live",
    params(("hostId" = Uuid, Path)),
    responses((status = 200, description = "`{host_id, period, start, end, total_income, total_gifts}`"), (status = 403)),
    security(("bearer" = [])))]
pub(crate) async fn income_today(
    State(state): State<AppState>,
    AuthUser(claims): AuthUser,
    PathParams(host): PathParams<Uuid>,
) -> Result<Json<Value>, ApiError> {
    income_in(&state, &claims, host, Period::Day).await
}

/// This week's income (Monday to Sunday, Asia/Jakarta).
#[utoipa::path(get, path = "/chatme/api/host-income/week/{hostId}", tag = "live",
    params(("hostId" = Uuid, Path)),
    responses((status = 200, description = "`{host_id, period, start, end, total_income, total_gifts}`"), (status = 403)),
    security(("bearer" = [])))]
pub(crate) async fn income_week(
    State(state): State<AppState>,
    AuthUser(claims): AuthUser,
    PathParams(host): PathParams<Uuid>,
) -> Result<Json<Value>, ApiError> {
    income_in(&state, &claims, host, Period::Week).await
}

/// This month's income (Asia/Jakarta).
#[utoipa::path(get, path = "/chatme/api/host-income/month/{hostId}", tag = "live",
    params(("hostId" = Uuid, Path)),
    responses((status = 200, description = "`{host_id, period, start, end, total_income, total_gifts}`"), (status = 403)),
    security(("bearer" = [])))]
pub(crate) async fn income_month(
    State(state): State<AppState>,
    AuthUser(claims): AuthUser,
    PathParams(host): PathParams<Uuid>,
) -> Result<Json<Value>, ApiError> {
    income_in(&state, &claims, host, Period::Month).await
}

/// Income per gift category (all time).
#[utoipa::path(get, path = "/chatme/api/host-income/category/{hostId}", tag = "live",
    params(("hostId" = Uuid, Path)),
    responses((status = 200, description = "`{host_id, categories: [{type, total_income, total_gifts}]}`"), (status = 403)),
    security(("bearer" = [])))]
pub(crate) async fn income_category(
    State(state): State<AppState>,
    AuthUser(claims): AuthUser,
    PathParams(host): PathParams<Uuid>,
) -> Result<Json<Value>, ApiError> {
    if !may_see_income(&state.db, &claims, host).await? {
        return Err(forbidden().into());
    }
    let found = rows(
        &state,
        "SELECT type, CAST(SUM(income) AS BIGINT) AS income, COUNT(*) AS gifts \
         FROM live_host_income WHERE host_id = ? GROUP BY type ORDER BY income DESC, type",
        vec![host.into()],
    )
    .await?;
    let categories = found
        .iter()
        .map(|r| {
            Ok(json!({
                "type": r.try_get::<String>("", "type")?,
                "total_income": r.try_get::<i64>("", "income")?,
                "total_gifts": r.try_get::<i64>("", "gifts")?,
            }))
        })
        .collect::<Result<Vec<_>, LiveError>>()?;
    Ok(Json(json!({ "host_id": host, "categories": categories })))
}

/// The host's income rows, newest first, paginated.
#[utoipa::path(get, path = "/chatme/api/host-income/history/{hostId}", tag = "live",
    params(("hostId" = Uuid, Path), Page),
    responses((status = 200, description = "`{host_id, history: [{id, income, type, gift_name, quantity, sender_id, created_at}], page, limit}`"), (status = 403)),
    security(("bearer" = [])))]
pub(crate) async fn income_history(
    State(state): State<AppState>,
    AuthUser(claims): AuthUser,
    PathParams(host): PathParams<Uuid>,
    QueryParams(page): QueryParams<Page>,
) -> Result<Json<Value>, ApiError> {
    if !may_see_income(&state.db, &claims, host).await? {
        return Err(forbidden().into());
    }
    let (limit, offset) = page.window();
    let found = rows(
        &state,
        "SELECT h.id, h.income, h.type, h.sender_id, h.created_at, g.gift_name, g.quantity \
         FROM live_host_income h JOIN live_gifts g ON g.id = h.gift_id WHERE h.host_id = ? \
         ORDER BY h.created_at DESC, h.id DESC LIMIT ? OFFSET ?",
        vec![host.into(), (limit as i64).into(), (offset as i64).into()],
    )
    .await?;
    let history = found
        .iter()
        .map(|r| {
            Ok(json!({
                "id": r.try_get::<Uuid>("", "id")?,
                "income": r.try_get::<i64>("", "income")?,
                "type": r.try_get::<String>("", "type")?,
                "gift_name": r.try_get::<String>("", "gift_name")?,
                "quantity": r.try_get::<i64>("", "quantity")?,
                "sender_id": r.try_get::<Uuid>("", "sender_id")?,
                "created_at": rfc3339(r.try_get::<i64>("", "created_at")?),
            }))
        })
        .collect::<Result<Vec<_>, LiveError>>()?;
    Ok(Json(json!({
        "host_id": host,
        "history": history,
        "page": offset / limit + 1,
        "limit": limit,
    })))
}
