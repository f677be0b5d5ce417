//! The meals audit trail (seed `log_audit_trail`): every action is recorded in the same
//! transaction as the change it records; administrators read it through
//! `GET /reports/audit-trail` (paginated, also `?format=csv|xlsx|pdf`),
//! `GET /reports/audit-trail/order/{kodePesanan}` and `GET /reports/audit-trail/action-types`.

use std::collections::HashMap;

use axum::{
    extract::State,
    response::{IntoResponse, Response},
    routing::get,
    Json, Router,
};
use platform::{
    db::entities::user,
    export::ExportFormat,
    http::{error::ApiError, extract::PathParams, extract::QueryParams},
    state::AppState,
};
use sea_orm::{
    sea_query::{Condition, Expr, Func, LikeExpr},
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::{
    context::{optional_id, parse_date, Admin, Page, JAKARTA},
    entities::{audit, employee},
    error::MealsError,
    reports::{describe_filters, export_table, TableReport},
    PREFIX,
};

/// An action the trail records (`aksi`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    LoginSuccess,
    LoginFailure,
    UserCreated,
    UserStatusChanged,
    UserRoleChanged,
    UserUpdated,
    PasswordReset,
    PasswordChanged,
    OrderCreated,
    OrderStatusChanged,
    OrderRejectionRequested,
    OrderEditRequested,
    ApprovalDecided,
    OrderOverride,
}

/// Every action type, sorted (the seed's eleven plus `PASSWORD_CHANGED`,
/// `USER_ROLE_CHANGED` and `USER_UPDATED`, which the seed's routes need but its list leaves
/// out).
pub const ACTION_TYPES: [&str; 14] = [
    "APPROVAL_DECIDED",
    "LOGIN_FAILURE",
    "LOGIN_SUCCESS",
    "ORDER_CREATED",
    "ORDER_EDIT_REQUESTED",
    "ORDER_OVERRIDE",
    "ORDER_REJECTION_REQUESTED",
    "ORDER_STATUS_CHANGED",
    "PASSWORD_CHANGED",
    "PASSWORD_RESET",
    "USER_CREATED",
    "USER_ROLE_CHANGED",
    "USER_STATUS_CHANGED",
    "USER_UPDATED",
];

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::LoginSuccess => "LOGIN_SUCCESS",
            Action::LoginFailure => "LOGIN_FAILURE",
            Action::UserCreated => "USER_CREATED",
            Action::UserStatusChanged => "USER_STATUS_CHANGED",
            Action::UserRoleChanged => "USER_ROLE_CHANGED",
            Action::UserUpdated => "USER_UPDATED",
            Action::PasswordReset => "PASSWORD_RESET",
            Action::PasswordChanged => "PASSWORD_CHANGED",
            Action::OrderCreated => "ORDER_CREATED",
            Action::OrderStatusChanged => "ORDER_STATUS_CHANGED",
            Action::OrderRejectionRequested => "ORDER_REJECTION_REQUESTED",
            Action::OrderEditRequested => "ORDER_EDIT_REQUESTED",
            Action::ApprovalDecided => "APPROVAL_DECIDED",
            Action::OrderOverride => "ORDER_OVERRIDE",
        }
    }
}

/// Records one action (call it inside the transaction of the change).
pub async fn record(
    db: &impl ConnectionTrait,
    user: Option<Uuid>,
    action: Action,
    detail: String,
    order_code: Option<&str>,
) -> Result<(), MealsError> {
    audit::Entity::insert(audit::ActiveModel {
        user_id: Set(user),
        action: Set(action.as_str().to_owned()),
        detail: Set(detail),
        order_code: Set(order_code.map(str::to_owned)),
        timestamp: Set(OffsetDateTime::now_utc()),
        ..Default::default()
    })
    .exec_without_returning(db)
    .await?;
    Ok(())
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route(&format!("{PREFIX}/reports/audit-trail"), get(list))
        .route(
            &format!("{PREFIX}/reports/audit-trail/action-types"),
            get(action_types),
        )
        .route(
            &format!("{PREFIX}/reports/audit-trail/order/{{kode}}"),
            get(of_order),
        )
}

/// Who did it, as the trail shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TrailUser {
    pub id: i32,
    pub nomor_induk_karyawan: Option<String>,
    pub nama_lengkap: String,
    pub role_access: Option<String>,
    pub department_id: Option<i32>,
    pub jabatan_id: Option<i32>,
}

/// One trail entry.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TrailEntry {
    pub id: i32,
    #[serde(with = "time::serde::rfc3339")]
    pub timestamp: OffsetDateTime,
    pub aksi: String,
    pub detail: String,
    pub user: Option<TrailUser>,
}

async fn with_users(
    db: &impl ConnectionTrait,
    rows: Vec<audit::Model>,
) -> Result<Vec<TrailEntry>, MealsError> {
    let ids: Vec<Uuid> = rows.iter().filter_map(|r| r.user_id).collect();
    let users: HashMap<Uuid, user::Model> = user::Entity::find()
        .filter(user::Column::Id.is_in(ids.clone()))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u))
        .collect();
    let profiles: HashMap<Uuid, employee::Model> = employee::Entity::find()
        .filter(employee::Column::UserId.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.user_id, p))
        .collect();
    Ok(rows
        .into_iter()
        .map(|row| {
            let user = row.user_id.and_then(|id| {
                let u = users.get(&id)?;
                let p = profiles.get(&id)?;
                Some(TrailUser {
                    id: p.id,
                    nomor_induk_karyawan: u.employee_no.clone(),
                    nama_lengkap: u.name.clone(),
                    role_access: serde_json::from_str::<platform::identity::Roles>(&u.roles)
                        .unwrap_or_default()
                        .get(crate::DOMAIN)
                        .cloned(),
                    department_id: p.department_id,
                    jabatan_id: p.position_id,
                })
            });
            TrailEntry {
                id: row.id,
                timestamp: row.timestamp,
                aksi: row.action,
                detail: row.detail,
                user,
            }
        })
        .collect())
}

/// The trail's query.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
pub struct TrailQuery {
    search: Option<String>,
    user_id: Option<String>,
    aksi: Option<String>,
    tanggal_mulai: Option<String>,
    tanggal_akhir: Option<String>,
    page: Option<String>,
    limit: Option<String>,
    format: Option<String>,
}

/// Turns `tanggalMulai`/`tanggalAkhir` (Jakarta days, both inclusive) into instants.
/// The bounds are in UTC, as the timestamps are stored: SQLite compares them as text, and a
/// Jakarta midnight written with `+07:00` would sort against UTC rows by its digits (between
/// 17:00 and 24:00 UTC every row of the Jakarta day fell outside it).
pub fn day_range(
    start: Option<&str>,
    end: Option<&str>,
) -> Result<(Option<OffsetDateTime>, Option<OffsetDateTime>), MealsError> {
    let start = match start.filter(|s| !s.trim().is_empty()) {
        Some(s) => Some(
            parse_date(s, "tanggalMulai")?
                .midnight()
                .assume_offset(JAKARTA)
                .to_offset(time::UtcOffset::UTC),
        ),
        None => None,
    };
    let end = match end.filter(|s| !s.trim().is_empty()) {
        Some(s) => Some(
            parse_date(s, "tanggalAkhir")?
                .next_day()
                .unwrap_or(time::Date::MAX)
                .midnight()
                .assume_offset(JAKARTA)
                .to_offset(time::UtcOffset::UTC),
        ),
        None => None,
    };
    Ok((start, end))
}

/// Queries the audit trail (administrator).
#[utoipa::path(get, path = "/meals/api/reports/audit-trail", tag = "meals", params(TrailQuery),
    responses((status = 200, description = "`{data, total, page, limit, totalPages}`, or the file with `format`"),
        (status = 400), (status = 401), (status = 403)))]
pub async fn list(
    State(state): State<AppState>,
    _admin: Admin,
    QueryParams(q): QueryParams<TrailQuery>,
) -> Result<Response, ApiError> {
    let page = Page::parse(q.page.as_deref(), q.limit.as_deref())?;
    let (start, end) = day_range(q.tanggal_mulai.as_deref(), q.tanggal_akhir.as_deref())?;
    let mut cond = Condition::all();
    if let Some(search) = q.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        // A literal, case-insensitive substring: `%`, `_` and `\` in the search are escaped.
        let escaped = search
            .to_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        let contains = || LikeExpr::new(format!("%{escaped}%")).escape('\\');
        let lower = |column: audit::Column| Expr::expr(Func::lower(Expr::col(column)));
        cond = cond.add(
            Condition::any()
                .add(lower(audit::Column::Action).like(contains()))
                .add(lower(audit::Column::Detail).like(contains())),
        );
    }
    if let Some(aksi) = q.aksi.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        cond = cond.add(audit::Column::Action.eq(aksi));
    }
    if let Some(id) = optional_id(q.user_id.as_deref(), "userId")? {
        let user = employee::Entity::find_by_id(id)
            .one(&state.db)
            .await
            .map_err(MealsError::from)?
            .map(|p| p.user_id)
            .unwrap_or(Uuid::nil());
        cond = cond.add(audit::Column::UserId.eq(user));
    }
    if let Some(start) = start {
        cond = cond.add(audit::Column::Timestamp.gte(start));
    }
    if let Some(end) = end {
        cond = cond.add(audit::Column::Timestamp.lt(end));
    }
    let query = audit::Entity::find()
        .filter(cond)
        .order_by_desc(audit::Column::Timestamp)
        .order_by_desc(audit::Column::Id);
    let format = q.format.as_deref().filter(|f| !f.trim().is_empty());
    if let Some(format) = format {
        let format = ExportFormat::parse(Some(format)).map_err(MealsError::from)?;
        let rows = query
            .limit(platform::export::MAX_XLSX_ROWS)
            .all(&state.db)
            .await
            .map_err(MealsError::from)?;
        let entries = with_users(&state.db, rows).await?;
        let rows = entries
            .into_iter()
            .map(|e| {
                vec![
                    e.id.to_string(),
                    e.timestamp
                        .to_offset(JAKARTA)
                        .format(&time::format_description::well_known::Rfc3339)
                        .unwrap_or_default(),
                    e.aksi,
                    e.user
                        .as_ref()
                        .and_then(|u| u.nomor_induk_karyawan.clone())
                        .unwrap_or_default(),
                    e.user.map(|u| u.nama_lengkap).unwrap_or_default(),
                    e.detail,
                ]
            })
            .collect();
        let filters = describe_filters(
            q.tanggal_mulai.as_deref(),
            q.tanggal_akhir.as_deref(),
            &[
                ("search", q.search.as_deref()),
                ("userId", q.user_id.as_deref()),
                ("aksi", q.aksi.as_deref()),
            ],
        );
        return Ok(export_table(&state, format, &TableReport::AUDIT, &filters, rows).await?);
    }
    let total = query
        .clone()
        .count(&state.db)
        .await
        .map_err(MealsError::from)?;
    let rows = query
        .offset(page.offset())
        .limit(page.limit)
        .all(&state.db)
        .await
        .map_err(MealsError::from)?;
    let data = with_users(&state.db, rows).await?;
    Ok(Json(page.wrap(data, total)).into_response())
}

/// One order's history, oldest first (administrator).
#[utoipa::path(get, path = "/meals/api/reports/audit-trail/order/{kode}", tag = "meals",
    params(("kode" = String, Path, description = "`PM-YYYYMMDD-XXX`")),
    responses((status = 200, body = [TrailEntry]), (status = 401), (status = 403)))]
pub async fn of_order(
    State(state): State<AppState>,
    _admin: Admin,
    PathParams(kode): PathParams<String>,
) -> Result<Json<Vec<TrailEntry>>, ApiError> {
    let rows = audit::Entity::find()
        .filter(audit::Column::OrderCode.eq(kode.trim()))
        .order_by_asc(audit::Column::Timestamp)
        .order_by_asc(audit::Column::Id)
        .all(&state.db)
        .await
        .map_err(MealsError::from)?;
    Ok(Json(with_users(&state.db, rows).await?))
}

/// The action types (administrator).
#[utoipa::path(get, path = "/meals/api/reports/audit-trail/action-types", tag = "meals",
    responses((status = 200, body = [String]), (status = 401), (status = 403)))]
pub async fn action_types(_admin: Admin) -> Json<Vec<&'static str>> {
    Json(ACTION_TYPES.to_vec())
}
