//! Budget: allocations (pagu) per OPD, year and category, unique by `sipd_code`; monthly
//! realisations with their cumulative amount and absorption percentage; the per-category
//! summary. Money is `rust_decimal::Decimal`, stored as text, never a float.

use std::collections::BTreeMap;

use axum::extract::State;
use platform::{i18n::Msg, security::ClientIp, state::AppState};
use rust_decimal::Decimal;
use sea_orm::{
    sea_query::Expr, ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set, TransactionTrait,
};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::{
    auth::Caller,
    calc,
    entities::{allocation, realization},
    error::{created, ok, Answer, Body, Path, Query, SakipError},
    performance::{money, Period},
    planning::{self, opt_text, rfc3339, text, Level},
    Page,
};

pub const CATEGORIES: &[&str] = &[
    "belanja_pegawai",
    "belanja_barang",
    "belanja_modal",
    "belanja_bantuan",
];

fn decimal(raw: &str) -> Decimal {
    raw.parse().unwrap_or_default()
}

/// `part` of `whole` in percent, 2 decimals; `None` when `whole` is zero.
pub fn share(part: Decimal, whole: Decimal) -> Option<Decimal> {
    part.checked_mul(Decimal::ONE_HUNDRED)
        .and_then(|p| p.checked_div(whole))
        .map(calc::two_places)
}

fn allocation_json(row: &allocation::Model, realized: Decimal) -> Value {
    let total = decimal(&row.allocation_amount);
    json!({
        "id": row.id,
        "opd_id": row.opd_id,
        "year": row.year,
        "category": row.category,
        "program_id": row.program_id,
        "kegiatan_id": row.kegiatan_id,
        "allocation_amount": total,
        "realization_amount": calc::two_places(realized),
        "percentage": share(realized, total),
        "sipd_code": row.sipd_code,
        "created_at": rfc3339(row.created_at),
    })
}

pub async fn allocations_of_opd(state: &AppState, opd: i32) -> Result<u64, SakipError> {
    Ok(allocation::Entity::find()
        .filter(allocation::Column::OpdId.eq(opd))
        .count(&state.db)
        .await?)
}

/// Realised totals per allocation.
async fn realized(
    db: &impl ConnectionTrait,
    ids: &[i32],
) -> Result<BTreeMap<i32, Decimal>, SakipError> {
    let mut out = BTreeMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    let rows = realization::Entity::find()
        .filter(realization::Column::AllocationId.is_in(ids.iter().copied()))
        .all(db)
        .await?;
    for row in rows {
        *out.entry(row.allocation_id).or_insert(Decimal::ZERO) += decimal(&row.realization_amount);
    }
    Ok(out)
}

#[derive(Debug, Deserialize)]
pub struct AllocationFilter {
    #[serde(default)]
    opd_id: Option<i32>,
    #[serde(default)]
    year: Option<i32>,
}

fn filtered(opd: Option<i32>, year: Option<i32>) -> sea_orm::Select<allocation::Entity> {
    let mut q = allocation::Entity::find();
    if let Some(opd) = opd {
        q = q.filter(allocation::Column::OpdId.eq(opd));
    }
    if let Some(year) = year {
        q = q.filter(allocation::Column::Year.eq(year));
    }
    q
}

/// `GET /budget/allocations?opd_id=&year=`.
pub async fn list_allocations(
    State(state): State<AppState>,
    caller: Caller,
    Query(filter): Query<AllocationFilter>,
    Query(page): Query<Page>,
) -> Answer {
    let (page_no, limit) = page.checked()?;
    let q = filtered(caller.scope(filter.opd_id)?, filter.year);
    let total = q.clone().count(&state.db).await?;
    let rows = q
        .order_by_asc(allocation::Column::Id)
        .offset((page_no - 1) * limit)
        .limit(limit)
        .all(&state.db)
        .await?;
    let sums = realized(&state.db, &rows.iter().map(|r| r.id).collect::<Vec<_>>()).await?;
    let items = rows
        .iter()
        .map(|r| allocation_json(r, sums.get(&r.id).copied().unwrap_or_default()))
        .collect();
    ok(page.answer(items, total))
}

#[derive(Debug, Deserialize)]
pub struct AllocationInput {
    opd_id: i32,
    year: i32,
    category: String,
    #[serde(default)]
    program_id: Option<i32>,
    #[serde(default)]
    kegiatan_id: Option<i32>,
    allocation_amount: Decimal,
    #[serde(default)]
    sipd_code: Option<String>,
}

/// `POST /budget/allocations`.
pub async fn create_allocation(
    State(state): State<AppState>,
    caller: Caller,
    ip: ClientIp,
    Body(body): Body<AllocationInput>,
) -> Answer {
    caller.write(body.opd_id)?;
    planning::find_opd(&state, body.opd_id).await?;
    Period::new(body.year, None, None)?;
    if !CATEGORIES.contains(&body.category.as_str()) {
        return Err(SakipError::bad(Msg::owned(
            format!("category harus salah satu dari: {}", CATEGORIES.join(", ")),
            format!("category must be one of: {}", CATEGORIES.join(", ")),
        )));
    }
    for (level, id) in [
        (Level::Program, body.program_id),
        (Level::Kegiatan, body.kegiatan_id),
    ] {
        if let Some(id) = id {
            if planning::opd_of_node(&state.db, level, id).await? != body.opd_id {
                return Err(SakipError::bad(Msg::owned(
                    format!("{} milik OPD lain", level.name()),
                    format!("The {} belongs to another OPD", level.name()),
                )));
            }
        }
    }
    let row = allocation::ActiveModel {
        opd_id: Set(body.opd_id),
        year: Set(body.year),
        category: Set(body.category),
        program_id: Set(body.program_id),
        kegiatan_id: Set(body.kegiatan_id),
        allocation_amount: Set(money("allocation_amount", body.allocation_amount)?.to_string()),
        sipd_code: Set(text("sipd_code", body.sipd_code.as_deref(), 50)?),
        created_at: Set(state.clock.now()),
        ..Default::default()
    }
    .insert(&state.db)
    .await?;
    crate::audit(
        &state,
        &caller,
        ip,
        "sakip_allocation_create",
        row.id.to_string(),
    )
    .await;
    created(allocation_json(&row, Decimal::ZERO))
}

#[derive(Debug, Deserialize)]
pub struct RealizationInput {
    month: i32,
    realization_amount: Decimal,
    #[serde(default)]
    notes: Option<String>,
}

fn realization_json(row: &realization::Model) -> Value {
    json!({
        "id": row.id,
        "allocation_id": row.allocation_id,
        "month": row.month,
        "realization_amount": decimal(&row.realization_amount),
        "cumulative_amount": decimal(&row.cumulative_amount),
        "percentage": row.percentage.as_deref().map(decimal),
        "notes": row.notes,
        "created_at": rfc3339(row.created_at),
    })
}

/// `POST /budget/allocations/:id/realizations`: one row per month; every month's
/// cumulative amount and percentage are recomputed under the allocation's row lock.
pub async fn add_realization(
    State(state): State<AppState>,
    caller: Caller,
    ip: ClientIp,
    Path(id): Path<i32>,
    Body(body): Body<RealizationInput>,
) -> Answer {
    let found = allocation::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or_else(|| SakipError::not_found("Alokasi tidak ditemukan", "Allocation not found"))?;
    caller.write(found.opd_id)?;
    Period::new(found.year, None, Some(body.month))?;
    let value = money("realization_amount", body.realization_amount)?;
    let notes = opt_text("notes", body.notes.as_deref(), 10_000)?;
    let txn = state.db.begin().await?;
    // Write first: takes the allocation's row lock on PostgreSQL and the write lock on
    // SQLite, so concurrent realisations of one allocation recompute one after another.
    allocation::Entity::update_many()
        .col_expr(
            allocation::Column::Id,
            Expr::col(allocation::Column::Id).into(),
        )
        .filter(allocation::Column::Id.eq(id))
        .exec(&txn)
        .await?;
    let inserted = realization::ActiveModel {
        allocation_id: Set(id),
        month: Set(body.month),
        realization_amount: Set(value.to_string()),
        cumulative_amount: Set(value.to_string()),
        percentage: Set(None),
        notes: Set(notes),
        created_at: Set(state.clock.now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let total = decimal(&found.allocation_amount);
    let rows = realization::Entity::find()
        .filter(realization::Column::AllocationId.eq(id))
        .order_by_asc(realization::Column::Month)
        .all(&txn)
        .await?;
    let mut running = Decimal::ZERO;
    let mut answer = None;
    for row in rows {
        running += decimal(&row.realization_amount);
        let pct = share(running, total).map(|p| p.to_string());
        let mut active: realization::ActiveModel = row.clone().into();
        active.cumulative_amount = Set(running.to_string());
        active.percentage = Set(pct);
        let saved = active.update(&txn).await?;
        if saved.id == inserted.id {
            answer = Some(saved);
        }
    }
    txn.commit().await?;
    let saved = answer.unwrap_or(inserted);
    crate::audit(
        &state,
        &caller,
        ip,
        "sakip_realization_add",
        saved.id.to_string(),
    )
    .await;
    created(realization_json(&saved))
}

#[derive(Debug, Deserialize)]
pub struct SummaryFilter {
    #[serde(default)]
    opd_id: Option<i32>,
    #[serde(default)]
    year: Option<i32>,
}

/// The allocation and realisation totals of `opd` (all when `None`) in `year`, per category.
pub async fn totals(
    db: &impl ConnectionTrait,
    opd: Option<i32>,
    year: Option<i32>,
) -> Result<BTreeMap<String, (Decimal, Decimal)>, SakipError> {
    let rows = filtered(opd, year).all(db).await?;
    let sums = realized(db, &rows.iter().map(|r| r.id).collect::<Vec<_>>()).await?;
    let mut out: BTreeMap<String, (Decimal, Decimal)> = CATEGORIES
        .iter()
        .map(|c| ((*c).to_owned(), (Decimal::ZERO, Decimal::ZERO)))
        .collect();
    for row in rows {
        let entry = out.entry(row.category.clone()).or_default();
        entry.0 += decimal(&row.allocation_amount);
        entry.1 += sums.get(&row.id).copied().unwrap_or_default();
    }
    Ok(out)
}

/// `opd`'s total allocation, realisation and absorption percentage in `year`.
pub async fn absorption(
    db: &impl ConnectionTrait,
    opd: i32,
    year: i32,
) -> Result<(Decimal, Decimal, Option<Decimal>), SakipError> {
    let (a, r) = totals(db, Some(opd), Some(year))
        .await?
        .values()
        .fold((Decimal::ZERO, Decimal::ZERO), |(a, r), (x, y)| {
            (a + x, r + y)
        });
    Ok((a, r, share(r, a)))
}

/// `GET /budget/summary?opd_id=&year=`: per category allocation, realisation, percentage,
/// and the total.
pub async fn summary(
    State(state): State<AppState>,
    caller: Caller,
    Query(filter): Query<SummaryFilter>,
) -> Answer {
    let sums = totals(&state.db, caller.scope(filter.opd_id)?, filter.year).await?;
    let (mut all_a, mut all_r) = (Decimal::ZERO, Decimal::ZERO);
    let categories: Vec<Value> = sums
        .iter()
        .map(|(category, (a, r))| {
            all_a += *a;
            all_r += *r;
            json!({
                "category": category,
                "allocation": calc::two_places(*a),
                "realization": calc::two_places(*r),
                "percentage": share(*r, *a),
            })
        })
        .collect();
    ok(json!({
        "opd_id": filter.opd_id,
        "year": filter.year,
        "categories": categories,
        "total": {
            "allocation": calc::two_places(all_a),
            "realization": calc::two_places(all_r),
            "percentage": share(all_r, all_a),
        },
    }))
}
