//! Orders (seed 003): `POST /orders` (employee), `GET /orders` filtered by role,
//! `GET /orders/{id}`, `PATCH /orders/{id}/status` with the role-checked lifecycle
//! `MENUNGGU → IN_PROGRESS → READY → ON_DELIVERY → COMPLETE` (an administrator may override
//! any status with a reason), the kitchen's `request-rejection` / `request-edit`, and the
//! administrators' `pending-approvals` / `approve-reject`.
//!
//! Every change is a guarded `UPDATE … WHERE id = ? AND status = <what was read>` whose
//! row count is checked, in one transaction with its audit entry; the event goes out after
//! the commit. Order codes `PM-YYYYMMDD-XXX` come from a per-day counter row bumped by an
//! upsert in the order's transaction, so they are unique and gapless under concurrency.

use std::collections::HashMap;

use axum::{
    body::Bytes,
    extract::{RawQuery, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{get, patch, post},
    Json, Router,
};
use platform::{
    db::entities::user,
    http::{error::ApiError, extract::PathParams, extract::QueryParams, json::SerializedJson},
    i18n::Msg,
    state::AppState,
};
use sea_orm::{
    sea_query::{Alias, Condition, Expr, OnConflict, Query},
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use utoipa::{IntoParams, ToSchema};

use crate::{
    context::{optional_id, parse_date, text_between, today, Caller, Member, Page, Role},
    entities::{department, employee, order, shift},
    error::{invalid, order_not_found, MealsError, MealsJson},
    events,
    trail::{self, Action},
    MealsState, PREFIX,
};

/// An order's status (`statusPesanan`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    Menunggu,
    InProgress,
    Ready,
    OnDelivery,
    Complete,
    Ditolak,
    MenungguPersetujuan,
}

impl Status {
    pub const ALL: [Status; 7] = [
        Status::Menunggu,
        Status::InProgress,
        Status::Ready,
        Status::OnDelivery,
        Status::Complete,
        Status::Ditolak,
        Status::MenungguPersetujuan,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Menunggu => "MENUNGGU",
            Status::InProgress => "IN_PROGRESS",
            Status::Ready => "READY",
            Status::OnDelivery => "ON_DELIVERY",
            Status::Complete => "COMPLETE",
            Status::Ditolak => "DITOLAK",
            Status::MenungguPersetujuan => "MENUNGGU_PERSETUJUAN",
        }
    }

    pub fn parse(raw: &str) -> Result<Status, MealsError> {
        Status::ALL
            .into_iter()
            .find(|s| s.as_str() == raw.trim())
            .ok_or_else(|| {
                MealsError::Invalid(Msg::owned(
                    format!("Status tidak dikenal: {raw}"),
                    format!("Unknown status: {raw}"),
                ))
            })
    }

    /// The stage timestamp this status sets.
    fn stamp(self) -> Option<order::Column> {
        match self {
            Status::InProgress => Some(order::Column::ProcessingAt),
            Status::Ready => Some(order::Column::ReadyAt),
            Status::OnDelivery => Some(order::Column::DeliveringAt),
            Status::Complete => Some(order::Column::DoneAt),
            _ => None,
        }
    }
}

/// The statuses each role sees in `GET /orders` (`None`: every status).
fn visible(role: Role) -> Option<&'static [Status]> {
    match role {
        Role::Dapur => Some(&[
            Status::Menunggu,
            Status::InProgress,
            Status::MenungguPersetujuan,
        ]),
        Role::Delivery => Some(&[Status::Ready, Status::OnDelivery]),
        Role::Employee | Role::Administrator => None,
    }
}

/// The lifecycle's steps: (from, to, the role that may take it).
pub const STEPS: [(Status, Status, Role); 4] = [
    (Status::Menunggu, Status::InProgress, Role::Dapur),
    (Status::InProgress, Status::Ready, Role::Dapur),
    (Status::Ready, Status::OnDelivery, Role::Delivery),
    (Status::OnDelivery, Status::Complete, Role::Delivery),
];

/// Whether `role` may move an order from `from` to `to` through `PATCH …/status`
/// (administrators: see [`set_status`], they override).
pub fn check_step(role: Role, from: Status, to: Status) -> Result<(), MealsError> {
    if !STEPS.iter().any(|(_, t, r)| *t == to && *r == role) {
        return Err(MealsError::Forbidden(Msg::owned(
            format!(
                "Peran {} tidak boleh mengubah status pesanan menjadi {}",
                role.as_str(),
                to.as_str()
            ),
            format!(
                "The {} role may not set an order's status to {}",
                role.as_str(),
                to.as_str()
            ),
        )));
    }
    if !STEPS.iter().any(|(f, t, _)| *f == from && *t == to) {
        return Err(illegal(from, to));
    }
    Ok(())
}

fn illegal(from: Status, to: Status) -> MealsError {
    MealsError::Conflict(Msg::owned(
        format!(
            "Transisi status dari {} ke {} tidak diizinkan",
            from.as_str(),
            to.as_str()
        ),
        format!(
            "The status may not go from {} to {}",
            from.as_str(),
            to.as_str()
        ),
    ))
}

fn changed_meanwhile() -> MealsError {
    MealsError::Conflict(Msg::new(
        "Pesanan baru saja diubah oleh pengguna lain, muat ulang dan coba lagi",
        "The order was just changed by someone else; reload and try again",
    ))
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route(&format!("{PREFIX}/orders"), post(create).get(list))
        .route(
            &format!("{PREFIX}/orders/pending-approvals"),
            get(pending_approvals),
        )
        .route(&format!("{PREFIX}/orders/{{id}}"), get(get_one))
        .route(&format!("{PREFIX}/orders/{{id}}/status"), patch(set_status))
        .route(
            &format!("{PREFIX}/orders/{{id}}/request-rejection"),
            post(request_rejection),
        )
        .route(
            &format!("{PREFIX}/orders/{{id}}/request-edit"),
            post(request_edit),
        )
        .route(
            &format!("{PREFIX}/orders/{{id}}/approve-reject"),
            post(approve_reject),
        )
}

/// Who ordered, as an order shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Orderer {
    pub id: i32,
    pub nomor_induk_karyawan: Option<String>,
    pub nama_lengkap: String,
}

/// An order as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderView {
    pub id: i32,
    pub kode_pesanan: String,
    pub karyawan_pemesan_id: i32,
    pub karyawan: Option<Orderer>,
    pub department_id: i32,
    pub department_name: Option<String>,
    pub shift_id: i32,
    pub shift_name: Option<String>,
    pub jumlah_pesanan: i32,
    pub jumlah_pesanan_awal: Option<i32>,
    /// What a pending edit request asks for.
    pub jumlah_pesanan_baru: Option<i32>,
    pub tanggal_pesanan: String,
    pub status_pesanan: Status,
    pub requires_approval: bool,
    pub approval_status: Option<String>,
    pub request_type: Option<String>,
    pub catatan_dapur: Option<String>,
    pub catatan_admin: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub waktu_dibuat: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub waktu_diproses: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub waktu_siap: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub waktu_diantar: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub waktu_selesai: Option<OffsetDateTime>,
}

/// Names of departments and shifts (small tables, read whole).
pub struct Names {
    pub departments: HashMap<i32, String>,
    pub shifts: HashMap<i32, String>,
}

impl Names {
    pub async fn load(db: &impl ConnectionTrait) -> Result<Names, MealsError> {
        Ok(Names {
            departments: department::Entity::find()
                .all(db)
                .await?
                .into_iter()
                .map(|d| (d.id, d.name))
                .collect(),
            shifts: shift::Entity::find()
                .all(db)
                .await?
                .into_iter()
                .map(|s| (s.id, s.name))
                .collect(),
        })
    }
}

/// The views of `rows`, with names and orderers looked up.
pub async fn views(
    db: &impl ConnectionTrait,
    rows: Vec<order::Model>,
) -> Result<Vec<OrderView>, MealsError> {
    let names = Names::load(db).await?;
    let profiles: HashMap<i32, employee::Model> = employee::Entity::find()
        .filter(employee::Column::Id.is_in(rows.iter().map(|o| o.employee_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let users: HashMap<uuid::Uuid, user::Model> = user::Entity::find()
        .filter(user::Column::Id.is_in(profiles.values().map(|p| p.user_id)))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u))
        .collect();
    Ok(rows
        .into_iter()
        .map(|o| {
            let karyawan = profiles.get(&o.employee_id).and_then(|p| {
                let u = users.get(&p.user_id)?;
                Some(Orderer {
                    id: p.id,
                    nomor_induk_karyawan: u.employee_no.clone(),
                    nama_lengkap: u.name.clone(),
                })
            });
            OrderView {
                id: o.id,
                kode_pesanan: o.code,
                karyawan_pemesan_id: o.employee_id,
                karyawan,
                department_id: o.department_id,
                department_name: names.departments.get(&o.department_id).cloned(),
                shift_id: o.shift_id,
                shift_name: names.shifts.get(&o.shift_id).cloned(),
                jumlah_pesanan: o.quantity,
                jumlah_pesanan_awal: o.original_quantity,
                jumlah_pesanan_baru: o.requested_quantity,
                tanggal_pesanan: o.order_date,
                status_pesanan: Status::parse(&o.status).unwrap_or(Status::Menunggu),
                requires_approval: o.requires_approval,
                approval_status: o.approval_status,
                request_type: o.request_type,
                catatan_dapur: o.kitchen_note,
                catatan_admin: o.admin_note,
                waktu_dibuat: o.created_at,
                waktu_diproses: o.processing_at,
                waktu_siap: o.ready_at,
                waktu_diantar: o.delivering_at,
                waktu_selesai: o.done_at,
            }
        })
        .collect())
}

async fn view(db: &impl ConnectionTrait, row: order::Model) -> Result<OrderView, MealsError> {
    views(db, vec![row])
        .await?
        .pop()
        .ok_or_else(order_not_found)
}

fn quantity(raw: Option<i64>, max: i32, field: &'static str) -> Result<i32, MealsError> {
    let Some(n) = raw else {
        return Err(crate::context::required(field));
    };
    i32::try_from(n)
        .ok()
        .filter(|n| (1..=max).contains(n))
        .ok_or_else(|| {
            MealsError::Invalid(Msg::owned(
                format!("{field} harus 1–{max}"),
                format!("{field} must be 1–{max}"),
            ))
        })
}

/// `POST /orders`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateOrder {
    /// An existing shift.
    #[schema(value_type = i64, required = true, minimum = 1, maximum = 2147483647)]
    shift_id: Option<i64>,
    /// 1 to `[meals] max_quantity` (500 by default).
    #[schema(value_type = i64, required = true, minimum = 1)]
    jumlah_pesanan: Option<i64>,
    /// `YYYY-MM-DD`; today in Asia/Jakarta when absent; never in the past.
    #[schema(format = Date)]
    tanggal_pesanan: Option<String>,
}

/// The next code of `day`: bumps the day's counter in `txn` (an upsert, so concurrent
/// orders of one day serialise on its row and each gets the next number).
pub async fn next_code(txn: &DatabaseTransaction, day: Date) -> Result<String, MealsError> {
    let stamp = format!(
        "{:04}{:02}{:02}",
        day.year(),
        u8::from(day.month()),
        day.day()
    );
    let table = Alias::new("meals_order_counters");
    let mut insert = Query::insert();
    insert
        .into_table(table.clone())
        .columns([Alias::new("day"), Alias::new("n")])
        .values([stamp.clone().into(), 1i64.into()])
        .map_err(|e| MealsError::Service(platform::error::ServiceError::internal("order code", e)))?
        .on_conflict(
            OnConflict::column(Alias::new("day"))
                .value(Alias::new("n"), Expr::col((table, Alias::new("n"))).add(1))
                .to_owned(),
        )
        .returning_col(Alias::new("n"));
    let row = txn
        .query_one(txn.get_database_backend().build(&insert))
        .await?
        .ok_or_else(|| {
            MealsError::Service(platform::error::ServiceError::internal(
                "order code",
                "the counter upsert returned no row",
            ))
        })?;
    let n: i64 = row.try_get("", "n")?;
    Ok(format!("PM-{stamp}-{n:03}"))
}

/// Creates an order (employee).
#[utoipa::path(post, path = "/meals/api/orders", tag = "meals", request_body = CreateOrder,
    responses((status = 201, body = OrderView), (status = 400), (status = 401), (status = 403)))]
pub async fn create(
    State(state): State<AppState>,
    member: Member,
    MealsJson(body): MealsJson<CreateOrder>,
) -> Result<Response, ApiError> {
    member.require(&[Role::Employee])?;
    let max = state.domain::<MealsState>().config.max_quantity;
    let qty = quantity(body.jumlah_pesanan, max, "jumlahPesanan")?;
    let shift_id = body
        .shift_id
        .ok_or_else(|| crate::context::required("shiftId"))?;
    let shift = match i32::try_from(shift_id) {
        Ok(id) => shift::Entity::find_by_id(id)
            .one(&state.db)
            .await
            .map_err(MealsError::from)?,
        Err(_) => None,
    }
    .ok_or_else(|| invalid("Shift tidak ditemukan", "Shift not found"))?;
    let Some(dept) = member.profile.department_id else {
        return Err(invalid(
            "Anda belum terdaftar di departemen mana pun",
            "You do not belong to a department yet",
        )
        .into());
    };
    let now = state.clock.now();
    let today = today(now);
    let day = match body
        .tanggal_pesanan
        .as_deref()
        .filter(|d| !d.trim().is_empty())
    {
        Some(raw) => parse_date(raw, "tanggalPesanan")?,
        None => today,
    };
    if day < today {
        return Err(invalid(
            "tanggalPesanan tidak boleh di masa lalu",
            "tanggalPesanan may not be in the past",
        )
        .into());
    }
    let txn = state.db.begin().await.map_err(MealsError::from)?;
    let code = next_code(&txn, day).await?;
    let row = order::ActiveModel {
        code: Set(code.clone()),
        employee_id: Set(member.profile.id),
        department_id: Set(dept),
        shift_id: Set(shift.id),
        quantity: Set(qty),
        original_quantity: Set(None),
        requested_quantity: Set(None),
        order_date: Set(day.to_string()),
        status: Set(Status::Menunggu.as_str().to_owned()),
        requires_approval: Set(false),
        approval_status: Set(None),
        request_type: Set(None),
        requested_by: Set(None),
        kitchen_note: Set(None),
        admin_note: Set(None),
        created_at: Set(now),
        processing_at: Set(None),
        ready_at: Set(None),
        delivering_at: Set(None),
        done_at: Set(None),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(MealsError::from)?;
    trail::record(
        &txn,
        Some(member.user_id()),
        Action::OrderCreated,
        format!("Order {code} created: qty={qty}, shift={}", shift.name),
        Some(&code),
    )
    .await?;
    txn.commit().await.map_err(MealsError::from)?;
    events::order_created(
        &state,
        events::OrderCreated {
            order_id: row.id,
            department_id: dept,
            kode_pesanan: code,
            jumlah_pesanan: qty,
            tanggal_pesanan: row.order_date.clone(),
            created_by: member.profile.id,
        },
    )
    .await;
    Ok((StatusCode::CREATED, Json(view(&state.db, row).await?)).into_response())
}

/// `GET /orders` query.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
pub struct ListQuery {
    status: Option<String>,
    department_id: Option<String>,
    shift_id: Option<String>,
    tanggal_mulai: Option<String>,
    tanggal_akhir: Option<String>,
    page: Option<String>,
    limit: Option<String>,
}

/// Lists orders: an employee their own, the kitchen `MENUNGGU`/`IN_PROGRESS`/
/// `MENUNGGU_PERSETUJUAN`, delivery `READY`/`ON_DELIVERY`, administrators all.
#[utoipa::path(get, path = "/meals/api/orders", tag = "meals", params(ListQuery),
    responses((status = 200, description = "`{data, total, page, limit, totalPages}`"), (status = 400), (status = 401)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
    QueryParams(q): QueryParams<ListQuery>,
) -> Result<Response, ApiError> {
    let board = &state.domain::<MealsState>().orders;
    let pending = match board.lookup(caller.claims.sub, raw.as_deref().unwrap_or_default()) {
        Ok(kept) => return Ok(SerializedJson(kept).into_response()),
        Err(pending) => pending,
    };
    let member = caller.member(&state).await?;
    let page = Page::parse(q.page.as_deref(), q.limit.as_deref())?;
    let mut cond = Condition::all();
    if let Some(status) = q.status.as_deref().filter(|s| !s.trim().is_empty()) {
        cond = cond.add(order::Column::Status.eq(Status::parse(status)?.as_str()));
    }
    if let Some(statuses) = visible(member.role) {
        cond = cond.add(order::Column::Status.is_in(statuses.iter().map(|s| s.as_str())));
    }
    if member.role == Role::Employee {
        cond = cond.add(order::Column::EmployeeId.eq(member.profile.id));
    }
    if let Some(id) = optional_id(q.department_id.as_deref(), "departmentId")? {
        cond = cond.add(order::Column::DepartmentId.eq(id));
    }
    if let Some(id) = optional_id(q.shift_id.as_deref(), "shiftId")? {
        cond = cond.add(order::Column::ShiftId.eq(id));
    }
    if let Some(d) = q.tanggal_mulai.as_deref().filter(|d| !d.trim().is_empty()) {
        cond = cond.add(order::Column::OrderDate.gte(parse_date(d, "tanggalMulai")?.to_string()));
    }
    if let Some(d) = q.tanggal_akhir.as_deref().filter(|d| !d.trim().is_empty()) {
        cond = cond.add(order::Column::OrderDate.lte(parse_date(d, "tanggalAkhir")?.to_string()));
    }
    let query = order::Entity::find()
        .filter(cond)
        .order_by_desc(order::Column::CreatedAt)
        .order_by_desc(order::Column::Id);
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
    let answer = page.wrap(views(&state.db, rows).await?, total);
    // Serialising a JSON value cannot fail.
    let body = Bytes::from(serde_json::to_vec(&answer).unwrap_or_default());
    board.store(pending, body.clone());
    Ok(SerializedJson(body).into_response())
}

/// The order `id` as `member` may see it: an employee only their own (another's is 404).
async fn visible_order(
    db: &impl ConnectionTrait,
    member: &Member,
    id: i32,
) -> Result<order::Model, MealsError> {
    let row = order::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(order_not_found)?;
    if member.role == Role::Employee && row.employee_id != member.profile.id {
        return Err(order_not_found());
    }
    Ok(row)
}

/// One order.
#[utoipa::path(get, path = "/meals/api/orders/{id}", tag = "meals",
    params(("id" = i32, Path)),
    responses((status = 200, body = OrderView), (status = 400), (status = 401), (status = 404)))]
pub async fn get_one(
    State(state): State<AppState>,
    member: Member,
    PathParams(id): PathParams<i32>,
) -> Result<Json<OrderView>, ApiError> {
    let row = visible_order(&state.db, &member, id).await?;
    Ok(Json(view(&state.db, row).await?))
}

/// `PATCH /orders/{id}/status`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SetStatus {
    #[schema(value_type = Status, required = true)]
    status: Option<String>,
    /// Required for an administrator's override: 3–500 characters once trimmed.
    #[serde(alias = "alasan", alias = "catatanAdmin", alias = "catatan")]
    #[schema(min_length = 3, max_length = 500, pattern = "\\S[\\s\\S]+\\S")]
    reason: Option<String>,
}

/// Applies `changes` to order `id` only while its status is still `from`; 409 otherwise.
async fn guarded_update(
    txn: &DatabaseTransaction,
    id: i32,
    from: Status,
    changes: Vec<(order::Column, sea_orm::sea_query::SimpleExpr)>,
) -> Result<order::Model, MealsError> {
    let mut update = order::Entity::update_many()
        .filter(order::Column::Id.eq(id))
        .filter(order::Column::Status.eq(from.as_str()));
    for (col, value) in changes {
        update = update.col_expr(col, value);
    }
    if update.exec(txn).await?.rows_affected != 1 {
        return Err(changed_meanwhile());
    }
    order::Entity::find_by_id(id)
        .one(txn)
        .await?
        .ok_or_else(order_not_found)
}

fn status_changes(
    row: &order::Model,
    to: Status,
    now: OffsetDateTime,
) -> Vec<(order::Column, sea_orm::sea_query::SimpleExpr)> {
    let mut changes = vec![(order::Column::Status, Expr::value(to.as_str()))];
    if let Some(stamp) = to.stamp() {
        let unset = match stamp {
            order::Column::ProcessingAt => row.processing_at.is_none(),
            order::Column::ReadyAt => row.ready_at.is_none(),
            order::Column::DeliveringAt => row.delivering_at.is_none(),
            _ => row.done_at.is_none(),
        };
        if unset {
            changes.push((stamp, Expr::value(now)));
        }
    }
    changes
}

/// Moves an order along its lifecycle (kitchen, delivery), or overrides its status with a
/// reason (administrator, `ORDER_OVERRIDE`).
#[utoipa::path(patch, path = "/meals/api/orders/{id}/status", tag = "meals",
    params(("id" = i32, Path)), request_body = SetStatus,
    responses((status = 200, body = OrderView), (status = 400), (status = 403, description = "Wrong role for this status"),
        (status = 404), (status = 409, description = "Illegal transition")))]
pub async fn set_status(
    State(state): State<AppState>,
    member: Member,
    PathParams(id): PathParams<i32>,
    MealsJson(body): MealsJson<SetStatus>,
) -> Result<Json<OrderView>, ApiError> {
    let to = Status::parse(
        body.status
            .as_deref()
            .ok_or_else(|| crate::context::required("status"))?,
    )?;
    let row = visible_order(&state.db, &member, id).await?;
    let from = Status::parse(&row.status)?;
    let now = state.clock.now();
    let (action, detail, reason) = if member.role == Role::Administrator {
        let reason = text_between(body.reason.as_deref(), "reason", 3, 500)?;
        if to == Status::MenungguPersetujuan {
            return Err(invalid(
                "Status MENUNGGU_PERSETUJUAN hanya melalui permintaan dapur",
                "MENUNGGU_PERSETUJUAN is only reached through a kitchen request",
            )
            .into());
        }
        if to == from {
            return Err(illegal(from, to).into());
        }
        (
            Action::OrderOverride,
            format!(
                "Order {} status overridden: {} -> {} ({reason})",
                row.code,
                from.as_str(),
                to.as_str()
            ),
            Some(reason),
        )
    } else {
        check_step(member.role, from, to)?;
        (
            Action::OrderStatusChanged,
            format!(
                "Order {} status changed: {} -> {}",
                row.code,
                from.as_str(),
                to.as_str()
            ),
            None,
        )
    };
    let mut changes = status_changes(&row, to, now);
    if from == Status::MenungguPersetujuan {
        // The override decides the kitchen's pending request: granted when it ends where an
        // approval would have (a rejection request overridden to DITOLAK), refused
        // otherwise; the reason is the administrator's note.
        let granted = to == Status::Ditolak && row.request_type.as_deref() == Some("REJECT");
        changes.push((order::Column::RequiresApproval, Expr::value(false)));
        changes.push((
            order::Column::ApprovalStatus,
            Expr::value(if granted { "APPROVED" } else { "REJECTED" }),
        ));
        changes.push((order::Column::AdminNote, Expr::value(reason)));
        changes.push((
            order::Column::RequestedQuantity,
            Expr::value(Option::<i32>::None),
        ));
    }
    let txn = state.db.begin().await.map_err(MealsError::from)?;
    let updated = guarded_update(&txn, id, from, changes).await?;
    trail::record(
        &txn,
        Some(member.user_id()),
        action,
        detail,
        Some(&row.code),
    )
    .await?;
    txn.commit().await.map_err(MealsError::from)?;
    events::status_changed(
        &state,
        events::StatusChanged {
            order_id: id,
            department_id: row.department_id,
            old_status: from,
            new_status: to,
            karyawan_pemesan_id: row.employee_id,
            changed_by: member.profile.id,
        },
    )
    .await;
    Ok(Json(view(&state.db, updated).await?))
}

/// `POST /orders/{id}/request-rejection`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RequestRejection {
    /// Why: 10–500 characters once trimmed.
    #[schema(value_type = String, required = true, min_length = 10, max_length = 500, pattern = "\\S")]
    catatan_dapur: Option<String>,
}

/// `POST /orders/{id}/request-edit`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RequestEdit {
    /// The new quantity: 1 to `[meals] max_quantity` (500 by default).
    #[schema(value_type = i64, required = true, minimum = 1)]
    jumlah_pesanan_baru: Option<i64>,
    /// Why: 10–500 characters once trimmed.
    #[schema(value_type = String, required = true, min_length = 10, max_length = 500, pattern = "\\S")]
    catatan_dapur: Option<String>,
}

/// A kitchen request: `REJECT` or `EDIT` (with the new quantity).
async fn kitchen_request(
    state: &AppState,
    member: &Member,
    id: i32,
    note: Option<&str>,
    edit: Option<i64>,
) -> Result<OrderView, MealsError> {
    member.require(&[Role::Dapur])?;
    let note = text_between(note, "catatanDapur", 10, 500)?;
    let row = visible_order(&state.db, member, id).await?;
    let from = Status::parse(&row.status)?;
    let new_quantity = match edit {
        Some(n) => {
            let max = state.domain::<MealsState>().config.max_quantity;
            let n = quantity(Some(n), max, "jumlahPesananBaru")?;
            if n == row.quantity {
                return Err(invalid(
                    "jumlahPesananBaru sama dengan jumlah saat ini",
                    "jumlahPesananBaru equals the current quantity",
                ));
            }
            Some(n)
        }
        None => None,
    };
    if !matches!(from, Status::Menunggu | Status::InProgress) {
        return Err(MealsError::Conflict(Msg::owned(
            format!(
                "Permintaan hanya untuk pesanan berstatus MENUNGGU atau IN_PROGRESS (saat ini {})",
                from.as_str()
            ),
            format!(
                "Requests are only for orders in MENUNGGU or IN_PROGRESS (now {})",
                from.as_str()
            ),
        )));
    }
    let (kind, action) = match new_quantity {
        Some(_) => ("EDIT", Action::OrderEditRequested),
        None => ("REJECT", Action::OrderRejectionRequested),
    };
    let to = Status::MenungguPersetujuan;
    let changes = vec![
        (order::Column::Status, Expr::value(to.as_str())),
        (order::Column::RequiresApproval, Expr::value(true)),
        (order::Column::ApprovalStatus, Expr::value("PENDING")),
        (order::Column::RequestType, Expr::value(kind)),
        (order::Column::RequestedBy, Expr::value(member.profile.id)),
        (order::Column::RequestedQuantity, Expr::value(new_quantity)),
        (order::Column::KitchenNote, Expr::value(note.clone())),
        (
            order::Column::AdminNote,
            Expr::value(Option::<String>::None),
        ),
    ];
    let detail = match new_quantity {
        Some(n) => format!(
            "Order {} edit requested: qty {} -> {n}; note: {note}",
            row.code, row.quantity
        ),
        None => format!("Order {} rejection requested; note: {note}", row.code),
    };
    let txn = state.db.begin().await?;
    let updated = guarded_update(&txn, id, from, changes).await?;
    trail::record(
        &txn,
        Some(member.user_id()),
        action,
        detail,
        Some(&row.code),
    )
    .await?;
    txn.commit().await?;
    events::approval_requested(
        state,
        events::ApprovalRequested {
            order_id: id,
            department_id: row.department_id,
            request_type: kind,
            requested_by: member.profile.id,
            catatan_dapur: note,
        },
    )
    .await;
    events::status_changed(
        state,
        events::StatusChanged {
            order_id: id,
            department_id: row.department_id,
            old_status: from,
            new_status: to,
            karyawan_pemesan_id: row.employee_id,
            changed_by: member.profile.id,
        },
    )
    .await;
    view(&state.db, updated).await
}

/// Asks the administrators to reject an order (kitchen; note of 10–500 characters).
#[utoipa::path(post, path = "/meals/api/orders/{id}/request-rejection", tag = "meals",
    params(("id" = i32, Path)), request_body = RequestRejection,
    responses((status = 200, body = OrderView), (status = 400), (status = 403), (status = 404), (status = 409)))]
pub async fn request_rejection(
    State(state): State<AppState>,
    member: Member,
    PathParams(id): PathParams<i32>,
    MealsJson(body): MealsJson<RequestRejection>,
) -> Result<Json<OrderView>, ApiError> {
    Ok(Json(
        kitchen_request(&state, &member, id, body.catatan_dapur.as_deref(), None).await?,
    ))
}

/// Asks the administrators to change an order's quantity (kitchen).
#[utoipa::path(post, path = "/meals/api/orders/{id}/request-edit", tag = "meals",
    params(("id" = i32, Path)), request_body = RequestEdit,
    responses((status = 200, body = OrderView), (status = 400), (status = 403), (status = 404), (status = 409)))]
pub async fn request_edit(
    State(state): State<AppState>,
    member: Member,
    PathParams(id): PathParams<i32>,
    MealsJson(body): MealsJson<RequestEdit>,
) -> Result<Json<OrderView>, ApiError> {
    let Some(n) = body.jumlah_pesanan_baru else {
        return Err(crate::context::required("jumlahPesananBaru").into());
    };
    Ok(Json(
        kitchen_request(&state, &member, id, body.catatan_dapur.as_deref(), Some(n)).await?,
    ))
}

/// The requests waiting for a decision, oldest first (administrator).
#[utoipa::path(get, path = "/meals/api/orders/pending-approvals", tag = "meals",
    responses((status = 200, body = [OrderView]), (status = 401), (status = 403)))]
pub async fn pending_approvals(
    State(state): State<AppState>,
    member: Member,
) -> Result<Json<Vec<OrderView>>, ApiError> {
    member.require(&[Role::Administrator])?;
    let rows = order::Entity::find()
        .filter(order::Column::Status.eq(Status::MenungguPersetujuan.as_str()))
        .filter(order::Column::ApprovalStatus.eq("PENDING"))
        .order_by_asc(order::Column::Id)
        .all(&state.db)
        .await
        .map_err(MealsError::from)?;
    Ok(Json(views(&state.db, rows).await?))
}

/// `POST /orders/{id}/approve-reject`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Decide {
    /// `APPROVED` or `REJECTED`.
    #[schema(value_type = String, required = true, pattern = "^(APPROVED|REJECTED)$")]
    decision: Option<String>,
    /// At most 500 characters once trimmed.
    #[schema(max_length = 500)]
    catatan_admin: Option<String>,
}

/// Decides a kitchen request (administrator): an approved rejection → `DITOLAK`, an
/// approved edit → the new quantity (the old one kept as `jumlahPesananAwal`) and back to
/// `MENUNGGU`; a refused request → back to `MENUNGGU`.
#[utoipa::path(post, path = "/meals/api/orders/{id}/approve-reject", tag = "meals",
    params(("id" = i32, Path)), request_body = Decide,
    responses((status = 200, body = OrderView), (status = 400), (status = 403), (status = 404), (status = 409)))]
pub async fn approve_reject(
    State(state): State<AppState>,
    member: Member,
    PathParams(id): PathParams<i32>,
    MealsJson(body): MealsJson<Decide>,
) -> Result<Json<OrderView>, ApiError> {
    member.require(&[Role::Administrator])?;
    let decision = match body.decision.as_deref().map(str::trim) {
        Some("APPROVED") => "APPROVED",
        Some("REJECTED") => "REJECTED",
        _ => {
            return Err(invalid(
                "decision harus APPROVED atau REJECTED",
                "decision must be APPROVED or REJECTED",
            )
            .into())
        }
    };
    let note = match body.catatan_admin.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(n) => Some(text_between(Some(n), "catatanAdmin", 1, 500)?),
    };
    let row = visible_order(&state.db, &member, id).await?;
    let from = Status::parse(&row.status)?;
    if from != Status::MenungguPersetujuan || row.approval_status.as_deref() != Some("PENDING") {
        return Err(MealsError::Conflict(Msg::new(
            "Pesanan ini tidak sedang menunggu persetujuan",
            "This order is not waiting for approval",
        ))
        .into());
    }
    let edit = row.request_type.as_deref() == Some("EDIT");
    let to = match (decision, edit) {
        ("APPROVED", false) => Status::Ditolak,
        _ => Status::Menunggu,
    };
    let mut changes = vec![
        (order::Column::Status, Expr::value(to.as_str())),
        (order::Column::ApprovalStatus, Expr::value(decision)),
        (order::Column::RequiresApproval, Expr::value(false)),
        (order::Column::AdminNote, Expr::value(note.clone())),
    ];
    if decision == "APPROVED" && edit {
        if let Some(n) = row.requested_quantity {
            changes.push((order::Column::Quantity, Expr::value(n)));
            changes.push((
                order::Column::OriginalQuantity,
                Expr::value(row.original_quantity.unwrap_or(row.quantity)),
            ));
        }
    }
    let detail = format!(
        "Order {} {} request {decision}{}",
        row.code,
        row.request_type.as_deref().unwrap_or("REJECT"),
        note.as_deref()
            .map(|n| format!("; note: {n}"))
            .unwrap_or_default()
    );
    let txn = state.db.begin().await.map_err(MealsError::from)?;
    let updated = guarded_update(&txn, id, from, changes).await?;
    trail::record(
        &txn,
        Some(member.user_id()),
        Action::ApprovalDecided,
        detail,
        Some(&row.code),
    )
    .await?;
    txn.commit().await.map_err(MealsError::from)?;
    events::approval_decided(
        &state,
        events::ApprovalDecided {
            order_id: id,
            department_id: row.department_id,
            decision,
            decided_by: member.profile.id,
            catatan_admin: note,
            requested_by: row.requested_by,
        },
    )
    .await;
    events::status_changed(
        &state,
        events::StatusChanged {
            order_id: id,
            department_id: row.department_id,
            old_status: from,
            new_status: to,
            karyawan_pemesan_id: row.employee_id,
            changed_by: member.profile.id,
        },
    )
    .await;
    Ok(Json(view(&state.db, updated).await?))
}
