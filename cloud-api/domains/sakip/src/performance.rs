//! Indicators, their targets and achievements: `POST /performance/achievements` upserts on
//! (indicator, year, quarter, month) and stores the percentage against the matching target
//! (`calc::percentage`); verification by an evaluator or super_admin other than whoever
//! entered it; `GET /performance/data` as the seed's `getPerformanceData`, cached.

use std::collections::{hash_map::Entry, BTreeSet, HashMap};

use axum::{body::Bytes, extract::State, response::IntoResponse};
use platform::{http::json::SerializedJson, i18n::Msg, security::ClientIp, state::AppState};
use rust_decimal::Decimal;
use sea_orm::{
    sea_query::{Expr, OnConflict},
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, value::RawValue, Value};
use uuid::Uuid;

use crate::{
    auth::{Caller, Role},
    cache::PerformanceCache,
    calc::{self, Polarity},
    entities::{achievement, indicator, target},
    error::{created, ok, Answer, Body, Path, Query, SakipError},
    mail,
    planning::{self, opt_text, rfc3339, text, Level},
    Page,
};

const FREQUENCIES: &[&str] = &["monthly", "quarterly", "annually"];

fn one_of(field: &str, allowed: &[&str]) -> SakipError {
    SakipError::bad(Msg::owned(
        format!("{field} harus salah satu dari: {}", allowed.join(", ")),
        format!("{field} must be one of: {}", allowed.join(", ")),
    ))
}

pub fn indicator_json(row: &indicator::Model) -> Value {
    json!({
        "id": row.id,
        "opd_id": row.opd_id,
        "parent_type": row.parent_type,
        "parent_id": row.parent_id,
        "name": row.name,
        "definition": row.definition,
        "formula": row.formula,
        "unit": row.unit,
        "data_source": row.data_source,
        "frequency": row.frequency,
        "polarity": row.polarity,
        "created_at": rfc3339(row.created_at),
    })
}

/// The indicators of the nodes `ids` of `level`, by node.
pub async fn indicators_of(
    db: &impl ConnectionTrait,
    level: Level,
    ids: &[i32],
) -> Result<HashMap<i32, Vec<Value>>, SakipError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = indicator::Entity::find()
        .filter(indicator::Column::ParentType.eq(level.name()))
        .filter(indicator::Column::ParentId.is_in(ids.iter().copied()))
        .order_by_asc(indicator::Column::Id)
        .all(db)
        .await?;
    let mut out: HashMap<i32, Vec<Value>> = HashMap::new();
    for row in &rows {
        out.entry(row.parent_id)
            .or_default()
            .push(indicator_json(row));
    }
    Ok(out)
}

async fn find_indicator(
    db: &impl ConnectionTrait,
    id: i32,
) -> Result<indicator::Model, SakipError> {
    indicator::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| SakipError::not_found("Indikator tidak ditemukan", "Indicator not found"))
}

#[derive(Debug, Deserialize)]
pub struct IndicatorInput {
    #[serde(default)]
    parent_type: Option<String>,
    #[serde(default)]
    parent_id: Option<i32>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    definition: Option<String>,
    #[serde(default)]
    formula: Option<String>,
    #[serde(default)]
    unit: Option<String>,
    #[serde(default)]
    data_source: Option<String>,
    #[serde(default)]
    frequency: Option<String>,
    #[serde(default)]
    polarity: Option<String>,
}

fn frequency(raw: Option<&str>) -> Result<Option<String>, SakipError> {
    match raw {
        None => Ok(None),
        Some(f) if FREQUENCIES.contains(&f) => Ok(Some(f.to_owned())),
        Some(_) => Err(one_of("frequency", FREQUENCIES)),
    }
}

fn polarity(raw: &str) -> Result<Polarity, SakipError> {
    Polarity::parse(raw).ok_or_else(|| one_of("polarity", Polarity::NAMES))
}

/// `POST /indicators`.
pub async fn create_indicator(
    State(state): State<AppState>,
    caller: Caller,
    ip: ClientIp,
    Body(body): Body<IndicatorInput>,
) -> Answer {
    let names = Level::ALL.map(Level::name);
    let level = body
        .parent_type
        .as_deref()
        .and_then(Level::parse)
        .ok_or_else(|| one_of("parent_type", &names))?;
    let parent = body.parent_id.ok_or_else(|| {
        SakipError::bad(Msg::new("parent_id harus diisi", "parent_id is required"))
    })?;
    let opd = planning::parent_opd(&state.db, level, parent).await?;
    caller.write(opd)?;
    let polarity_name = body.polarity.as_deref().unwrap_or("higher_better");
    polarity(polarity_name)?;
    let row = indicator::ActiveModel {
        opd_id: Set(opd),
        parent_type: Set(level.name().to_owned()),
        parent_id: Set(parent),
        name: Set(text("name", body.name.as_deref(), 10_000)?),
        definition: Set(opt_text("definition", body.definition.as_deref(), 10_000)?),
        formula: Set(opt_text("formula", body.formula.as_deref(), 10_000)?),
        unit: Set(opt_text("unit", body.unit.as_deref(), 50)?),
        data_source: Set(opt_text(
            "data_source",
            body.data_source.as_deref(),
            10_000,
        )?),
        frequency: Set(frequency(body.frequency.as_deref())?),
        polarity: Set(polarity_name.to_owned()),
        created_at: Set(state.clock.now()),
        ..Default::default()
    }
    .insert(&state.db)
    .await?;
    crate::audit(
        &state,
        &caller,
        ip,
        "sakip_indicator_create",
        row.id.to_string(),
    )
    .await;
    created(indicator_json(&row))
}

/// `GET /indicators/:id`.
pub async fn get_indicator(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i32>,
) -> Answer {
    let row = find_indicator(&state.db, id).await?;
    caller.read(row.opd_id)?;
    ok(indicator_json(&row))
}

/// `PUT /indicators/:id` (its parent stays; a new polarity recomputes its percentages).
pub async fn update_indicator(
    State(state): State<AppState>,
    caller: Caller,
    ip: ClientIp,
    Path(id): Path<i32>,
    Body(body): Body<IndicatorInput>,
) -> Answer {
    let found = find_indicator(&state.db, id).await?;
    caller.write(found.opd_id)?;
    let moved = body
        .parent_type
        .as_deref()
        .is_some_and(|t| t != found.parent_type)
        || body.parent_id.is_some_and(|p| p != found.parent_id);
    if moved {
        return Err(SakipError::bad(Msg::new(
            "Induk sebuah indikator tidak dapat diubah",
            "An indicator's parent cannot change",
        )));
    }
    let mut row: indicator::ActiveModel = found.into();
    if body.name.is_some() {
        row.name = Set(text("name", body.name.as_deref(), 10_000)?);
    }
    if body.definition.is_some() {
        row.definition = Set(opt_text("definition", body.definition.as_deref(), 10_000)?);
    }
    if body.formula.is_some() {
        row.formula = Set(opt_text("formula", body.formula.as_deref(), 10_000)?);
    }
    if body.unit.is_some() {
        row.unit = Set(opt_text("unit", body.unit.as_deref(), 50)?);
    }
    if body.data_source.is_some() {
        row.data_source = Set(opt_text(
            "data_source",
            body.data_source.as_deref(),
            10_000,
        )?);
    }
    if body.frequency.is_some() {
        row.frequency = Set(frequency(body.frequency.as_deref())?);
    }
    if let Some(p) = body.polarity.as_deref() {
        polarity(p)?;
        row.polarity = Set(p.to_owned());
    }
    let txn = state.db.begin().await?;
    let saved = row.update(&txn).await?;
    recompute(&txn, &saved).await?;
    txn.commit().await?;
    state
        .domain::<PerformanceCache>()
        .invalidate_indicators(saved.opd_id)
        .await;
    crate::audit(
        &state,
        &caller,
        ip,
        "sakip_indicator_update",
        id.to_string(),
    )
    .await;
    ok(indicator_json(&saved))
}

/// `DELETE /indicators/:id` with its targets and achievements.
pub async fn delete_indicator(
    State(state): State<AppState>,
    caller: Caller,
    ip: ClientIp,
    Path(id): Path<i32>,
) -> Answer {
    let found = find_indicator(&state.db, id).await?;
    caller.write(found.opd_id)?;
    let txn = state.db.begin().await?;
    achievement::Entity::delete_many()
        .filter(achievement::Column::IndicatorId.eq(id))
        .exec(&txn)
        .await?;
    target::Entity::delete_many()
        .filter(target::Column::IndicatorId.eq(id))
        .exec(&txn)
        .await?;
    indicator::Entity::delete_by_id(id).exec(&txn).await?;
    txn.commit().await?;
    state
        .domain::<PerformanceCache>()
        .invalidate_indicators(found.opd_id)
        .await;
    crate::audit(
        &state,
        &caller,
        ip,
        "sakip_indicator_delete",
        id.to_string(),
    )
    .await;
    ok(json!({ "id": id, "deleted": true }))
}

// ---------------------------------------------------------------- periods and targets

/// A reporting period: a year, maybe a quarter, maybe a month (0 = none in storage).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Period {
    pub year: i32,
    pub quarter: i32,
    pub month: i32,
}

impl Period {
    /// Checks year 1900–2200, quarter 1–4, month 1–12, and that a month lies in its quarter;
    /// a month given alone is stored with its quarter.
    pub fn new(year: i32, quarter: Option<i32>, month: Option<i32>) -> Result<Period, SakipError> {
        if !(1900..=2200).contains(&year) {
            return Err(SakipError::bad(Msg::new(
                "year harus antara 1900 dan 2200",
                "year must be between 1900 and 2200",
            )));
        }
        if quarter.is_some_and(|q| !(1..=4).contains(&q)) {
            return Err(SakipError::bad(Msg::new(
                "quarter harus 1–4",
                "quarter must be 1–4",
            )));
        }
        if month.is_some_and(|m| !(1..=12).contains(&m)) {
            return Err(SakipError::bad(Msg::new(
                "month harus 1–12",
                "month must be 1–12",
            )));
        }
        if let (Some(q), Some(m)) = (quarter, month) {
            if (m - 1) / 3 + 1 != q {
                return Err(SakipError::bad(Msg::new(
                    "month tidak berada dalam quarter tersebut",
                    "month does not lie in that quarter",
                )));
            }
        }
        // A month always carries its quarter, so `{month: 2}` and `{quarter: 1, month: 2}`
        // are one period (one row under the unique index), and a quarter's filter finds
        // its months.
        Ok(Period {
            year,
            quarter: month.map_or(quarter.unwrap_or(0), |m| (m - 1) / 3 + 1),
            month: month.unwrap_or(0),
        })
    }

    fn wire(v: i32) -> Value {
        if v == 0 {
            Value::Null
        } else {
            v.into()
        }
    }
}

/// A non-negative decimal (money, values).
pub fn amount(field: &str, value: Decimal) -> Result<Decimal, SakipError> {
    if value.is_sign_negative() && !value.is_zero() {
        return Err(SakipError::bad(Msg::owned(
            format!("{field} tidak boleh negatif"),
            format!("{field} may not be negative"),
        )));
    }
    Ok(value.normalize())
}

/// A non-negative amount of money with at most 2 decimals (sen), kept and shown with exactly
/// 2 (`1000000.50`).
pub fn money(field: &str, value: Decimal) -> Result<Decimal, SakipError> {
    let value = amount(field, value)?;
    if value.scale() > 2 {
        return Err(SakipError::bad(Msg::owned(
            format!("{field} paling banyak 2 angka desimal"),
            format!("{field} has at most 2 decimal places"),
        )));
    }
    Ok(calc::two_places(value))
}

fn decimal(raw: &str) -> Decimal {
    raw.parse().unwrap_or_default()
}

fn target_json(row: &target::Model) -> Value {
    json!({
        "id": row.id,
        "indicator_id": row.indicator_id,
        "year": row.year,
        "quarter": Period::wire(row.quarter),
        "month": Period::wire(row.month),
        "target_value": decimal(&row.target_value),
    })
}

#[derive(Debug, Deserialize)]
pub struct TargetInput {
    year: i32,
    #[serde(default)]
    quarter: Option<i32>,
    #[serde(default)]
    month: Option<i32>,
    target_value: Decimal,
}

/// `GET /indicators/:id/targets?page=&limit=`: a list, `{items, total, page, limit}`, by
/// period.
pub async fn get_targets(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i32>,
    Query(page): Query<Page>,
) -> Answer {
    let (page_no, limit) = page.checked()?;
    let found = find_indicator(&state.db, id).await?;
    caller.read(found.opd_id)?;
    let q = target::Entity::find().filter(target::Column::IndicatorId.eq(id));
    let total = q.clone().count(&state.db).await?;
    let rows = q
        .order_by_asc(target::Column::Year)
        .order_by_asc(target::Column::Quarter)
        .order_by_asc(target::Column::Month)
        .offset((page_no - 1) * limit)
        .limit(limit)
        .all(&state.db)
        .await?;
    ok(page.answer(rows.iter().map(target_json).collect(), total))
}

async fn targets_of(
    db: &impl ConnectionTrait,
    indicators: &[i32],
    year: Option<i32>,
) -> Result<Vec<target::Model>, SakipError> {
    let mut q = target::Entity::find()
        .filter(target::Column::IndicatorId.is_in(indicators.iter().copied()));
    if let Some(year) = year {
        q = q.filter(target::Column::Year.eq(year));
    }
    Ok(q.order_by_asc(target::Column::Year)
        .order_by_asc(target::Column::Quarter)
        .order_by_asc(target::Column::Month)
        .all(db)
        .await?)
}

/// `PUT /indicators/:id/targets`: replaces the indicator's targets with the list given
/// (one per period) and recomputes its achievements' percentages, in one transaction.
pub async fn put_targets(
    State(state): State<AppState>,
    caller: Caller,
    ip: ClientIp,
    Path(id): Path<i32>,
    Body(body): Body<Vec<TargetInput>>,
) -> Answer {
    let found = find_indicator(&state.db, id).await?;
    caller.write(found.opd_id)?;
    let mut seen = BTreeSet::new();
    let mut rows = Vec::with_capacity(body.len());
    let now = state.clock.now();
    for input in &body {
        let period = Period::new(input.year, input.quarter, input.month)?;
        if !seen.insert(period) {
            return Err(SakipError::bad(Msg::new(
                "Target ganda untuk periode yang sama",
                "Duplicate targets for the same period",
            )));
        }
        rows.push(target::ActiveModel {
            indicator_id: Set(id),
            year: Set(period.year),
            quarter: Set(period.quarter),
            month: Set(period.month),
            target_value: Set(amount("target_value", input.target_value)?.to_string()),
            created_at: Set(now),
            ..Default::default()
        });
    }
    let txn = state.db.begin().await?;
    target::Entity::delete_many()
        .filter(target::Column::IndicatorId.eq(id))
        .exec(&txn)
        .await?;
    if !rows.is_empty() {
        target::Entity::insert_many(rows).exec(&txn).await?;
    }
    recompute(&txn, &found).await?;
    let saved = targets_of(&txn, &[id], None).await?;
    txn.commit().await?;
    state
        .domain::<PerformanceCache>()
        .invalidate_indicators(found.opd_id)
        .await;
    crate::audit(&state, &caller, ip, "sakip_targets_put", id.to_string()).await;
    ok(saved.iter().map(target_json).collect::<Vec<_>>())
}

/// The stored percentage and its note for `value` against `target`.
fn scored(
    polarity: Polarity,
    target: Option<&target::Model>,
    value: Decimal,
) -> (Option<String>, Option<String>) {
    match calc::percentage(polarity, target.map(|t| decimal(&t.target_value)), value) {
        Ok(p) => (Some(p.to_string()), None),
        Err(why) => (None, Some(why.as_str().to_owned())),
    }
}

/// Recomputes the percentages of `indicator`'s achievements after its targets or polarity
/// changed.
async fn recompute(txn: &impl ConnectionTrait, found: &indicator::Model) -> Result<(), SakipError> {
    let polarity = Polarity::parse(&found.polarity).unwrap_or(Polarity::HigherBetter);
    let targets: HashMap<(i32, i32, i32), target::Model> = targets_of(txn, &[found.id], None)
        .await?
        .into_iter()
        .map(|t| ((t.year, t.quarter, t.month), t))
        .collect();
    let rows = achievement::Entity::find()
        .filter(achievement::Column::IndicatorId.eq(found.id))
        .all(txn)
        .await?;
    for row in rows {
        let t = targets.get(&(row.year, row.quarter, row.month));
        let (percentage, note) = scored(polarity, t, decimal(&row.achievement_value));
        if percentage != row.percentage || note != row.percentage_note {
            achievement::Entity::update_many()
                .col_expr(achievement::Column::Percentage, Expr::value(percentage))
                .col_expr(achievement::Column::PercentageNote, Expr::value(note))
                .filter(achievement::Column::Id.eq(row.id))
                .exec(txn)
                .await?;
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- achievements

pub fn achievement_json(row: &achievement::Model) -> Value {
    json!({
        "id": row.id,
        "indicator_id": row.indicator_id,
        "year": row.year,
        "quarter": Period::wire(row.quarter),
        "month": Period::wire(row.month),
        "achievement_value": decimal(&row.achievement_value),
        "percentage": row.percentage.as_deref().map(decimal),
        "percentage_note": row.percentage_note,
        "notes": row.notes,
        "supporting_documents": row.supporting_documents.as_deref()
            .and_then(|d| serde_json::from_str::<Value>(d).ok()),
        "input_by": row.input_by,
        "verified_by": row.verified_by,
        "verified_at": row.verified_at.map(rfc3339),
        "created_at": rfc3339(row.created_at),
        "updated_at": rfc3339(row.updated_at),
    })
}

#[derive(Debug, Deserialize)]
pub struct AchievementInput {
    indicator_id: i32,
    year: i32,
    #[serde(default)]
    quarter: Option<i32>,
    #[serde(default)]
    month: Option<i32>,
    achievement_value: Decimal,
    #[serde(default)]
    notes: Option<String>,
    // `supporting_documents` is written by the upload route only: a value in the body is
    // ignored, so resubmitting an achievement never drops its uploaded documents.
}

/// `POST /performance/achievements`: upserts the period's achievement (a change clears its
/// verification) and answers it with its percentage.
pub async fn submit_achievement(
    State(state): State<AppState>,
    caller: Caller,
    ip: ClientIp,
    Body(body): Body<AchievementInput>,
) -> Answer {
    let found = find_indicator(&state.db, body.indicator_id).await?;
    caller.write(found.opd_id)?;
    let period = Period::new(body.year, body.quarter, body.month)?;
    let value = amount("achievement_value", body.achievement_value)?;
    let notes = opt_text("notes", body.notes.as_deref(), 10_000)?;
    let polarity = Polarity::parse(&found.polarity).unwrap_or(Polarity::HigherBetter);
    let now = state.clock.now();
    let txn = state.db.begin().await?;
    let matching = target::Entity::find()
        .filter(target::Column::IndicatorId.eq(found.id))
        .filter(target::Column::Year.eq(period.year))
        .filter(target::Column::Quarter.eq(period.quarter))
        .filter(target::Column::Month.eq(period.month))
        .one(&txn)
        .await?;
    let (percentage, note) = scored(polarity, matching.as_ref(), value);
    let row = achievement::ActiveModel {
        indicator_id: Set(found.id),
        year: Set(period.year),
        quarter: Set(period.quarter),
        month: Set(period.month),
        achievement_value: Set(value.to_string()),
        percentage: Set(percentage),
        percentage_note: Set(note),
        notes: Set(notes),
        input_by: Set(caller.id),
        verified_by: Set(None),
        verified_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    use achievement::Column as C;
    achievement::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([C::IndicatorId, C::Year, C::Quarter, C::Month])
                .update_columns([
                    C::AchievementValue,
                    C::Percentage,
                    C::PercentageNote,
                    C::Notes,
                    C::InputBy,
                    C::VerifiedBy,
                    C::VerifiedAt,
                    C::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
    let saved = achievement::Entity::find()
        .filter(C::IndicatorId.eq(found.id))
        .filter(C::Year.eq(period.year))
        .filter(C::Quarter.eq(period.quarter))
        .filter(C::Month.eq(period.month))
        .one(&txn)
        .await?
        .ok_or_else(|| SakipError::from(sea_orm::DbErr::RecordNotInserted))?;
    txn.commit().await?;
    state
        .domain::<PerformanceCache>()
        .invalidate_achievements(found.opd_id, period.year)
        .await;
    crate::audit(
        &state,
        &caller,
        ip,
        "sakip_achievement_submit",
        saved.id.to_string(),
    )
    .await;
    ok(achievement_json(&saved))
}

/// `POST /performance/achievements/:id/verify`: an evaluator or super_admin other than the
/// person who entered it.
pub async fn verify_achievement(
    State(state): State<AppState>,
    caller: Caller,
    ip: ClientIp,
    Path(id): Path<i32>,
) -> Answer {
    if !matches!(caller.role, Role::SuperAdmin | Role::Evaluator) {
        return Err(SakipError::forbidden());
    }
    let found = find_achievement(&state, id).await?;
    reviewer(&caller, &found)?;
    let now = state.clock.now();
    // Guarded: verifies exactly the version read (a concurrent change clears it instead).
    let done = achievement::Entity::update_many()
        .col_expr(achievement::Column::VerifiedBy, Expr::value(caller.id))
        .col_expr(achievement::Column::VerifiedAt, Expr::value(now))
        .filter(achievement::Column::Id.eq(id))
        .filter(achievement::Column::UpdatedAt.eq(found.updated_at))
        .exec(&state.db)
        .await?;
    if done.rows_affected != 1 {
        return Err(SakipError::conflict(Msg::new(
            "Capaian baru saja diubah; periksa lagi",
            "The achievement just changed; review it again",
        )));
    }
    let saved = find_achievement(&state, id).await?;
    let opd = find_indicator(&state.db, saved.indicator_id).await?.opd_id;
    state
        .domain::<PerformanceCache>()
        .invalidate_achievements(opd, saved.year)
        .await;
    crate::audit(
        &state,
        &caller,
        ip,
        "sakip_achievement_verify",
        id.to_string(),
    )
    .await;
    mail::notify(
        &state,
        mail::To::User(saved.input_by),
        format!("Capaian kinerja diverifikasi — {}", period_text(&saved)),
        format!(
            "Capaian indikator #{} periode {} (nilai {}) telah diverifikasi oleh {}.",
            saved.indicator_id,
            period_text(&saved),
            saved.achievement_value,
            caller.name
        ),
    );
    ok(achievement_json(&saved))
}

async fn find_achievement(state: &AppState, id: i32) -> Result<achievement::Model, SakipError> {
    achievement::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or_else(|| SakipError::not_found("Capaian tidak ditemukan", "Achievement not found"))
}

/// "2025", "2025 triwulan 2" or "2025 bulan 6".
fn period_text(row: &achievement::Model) -> String {
    match (row.quarter, row.month) {
        (_, m) if m != 0 => format!("{} bulan {m}", row.year),
        (q, _) if q != 0 => format!("{} triwulan {q}", row.year),
        _ => row.year.to_string(),
    }
}

/// Who may verify or send back `found`: an evaluator or super_admin other than whoever
/// entered it.
fn reviewer(caller: &Caller, found: &achievement::Model) -> Result<(), SakipError> {
    if !matches!(caller.role, Role::SuperAdmin | Role::Evaluator) {
        return Err(SakipError::forbidden());
    }
    if found.input_by == caller.id {
        return Err(SakipError::status(
            axum::http::StatusCode::FORBIDDEN,
            Msg::new(
                "Capaian tidak dapat diverifikasi oleh penginputnya sendiri",
                "An achievement cannot be verified by the person who entered it",
            ),
        ));
    }
    Ok(())
}

#[derive(Debug, Deserialize)]
pub struct ReturnInput {
    #[serde(default)]
    reason: Option<String>,
}

/// `POST /performance/achievements/:id/return {reason}`: sends the achievement back to whoever
/// entered it (clears any verification; the reason goes in the audit trail and the mail).
pub async fn return_achievement(
    State(state): State<AppState>,
    caller: Caller,
    ip: ClientIp,
    Path(id): Path<i32>,
    Body(body): Body<ReturnInput>,
) -> Answer {
    let reason = text("reason", body.reason.as_deref(), 1000)?;
    let found = find_achievement(&state, id).await?;
    reviewer(&caller, &found)?;
    let mut row: achievement::ActiveModel = found.into();
    row.verified_by = Set(None);
    row.verified_at = Set(None);
    let saved = row.update(&state.db).await?;
    let opd = find_indicator(&state.db, saved.indicator_id).await?.opd_id;
    state
        .domain::<PerformanceCache>()
        .invalidate_achievements(opd, saved.year)
        .await;
    platform::audit::record(
        &state.db,
        state.clock.now(),
        platform::audit::Entry::new("sakip_achievement_return", ip)
            .by(caller.id, caller.name.clone())
            .target(id.to_string())
            .detail(json!({ "reason": reason })),
    )
    .await;
    mail::notify(
        &state,
        mail::To::User(saved.input_by),
        format!("Capaian kinerja dikembalikan — {}", period_text(&saved)),
        format!(
            "Capaian indikator #{} periode {} dikembalikan oleh {} untuk diperbaiki.\n\nAlasan: {reason}",
            saved.indicator_id,
            period_text(&saved),
            caller.name
        ),
    );
    ok(achievement_json(&saved))
}

#[derive(Debug, Deserialize)]
pub struct DataFilter {
    year: Option<i32>,
    #[serde(default)]
    opd_id: Option<i32>,
    #[serde(default)]
    quarter: Option<i32>,
    #[serde(default)]
    month: Option<i32>,
}

/// `GET /performance/data?year=&opd_id=&quarter=&month=`: the year's achievements, each with
/// its indicator and the indicator's targets for the same filters (the seed's service).
pub async fn data(
    State(state): State<AppState>,
    caller: Caller,
    Query(filter): Query<DataFilter>,
) -> Answer {
    let year = filter
        .year
        .ok_or_else(|| SakipError::bad(Msg::new("year harus diisi", "year is required")))?;
    let period = Period::new(year, filter.quarter, filter.month)?;
    let opd = caller.scope(filter.opd_id)?;
    let cache = state.domain::<PerformanceCache>();
    let key = format!(
        "performance:{year}:{}:{}:{}",
        opd.map_or("*".into(), |o| o.to_string()),
        period.quarter,
        period.month
    );
    let stamp = cache.stamp(year, opd).await;
    if let Some(stamp) = stamp {
        if let Some(hit) = cache.get(&key, stamp).await {
            return Ok(SerializedJson(hit).into_response());
        }
    }
    let body = load_data(&state, year, opd, filter.quarter, filter.month).await?;
    if let Some(stamp) = stamp {
        cache.put(key, stamp, &body).await;
    }
    Ok(SerializedJson(body).into_response())
}

/// The ids of the indicators with an achievement in the period (year, and quarter or month
/// when given), as a subquery.
fn achieved_in(
    year: i32,
    quarter: Option<i32>,
    month: Option<i32>,
) -> sea_orm::sea_query::SelectStatement {
    let mut q = sea_orm::sea_query::Query::select();
    q.column(achievement::Column::IndicatorId)
        .from(achievement::Entity)
        .and_where(achievement::Column::Year.eq(year));
    if let Some(quarter) = quarter {
        q.and_where(achievement::Column::Quarter.eq(quarter));
    }
    if let Some(month) = month {
        q.and_where(achievement::Column::Month.eq(month));
    }
    q.to_owned()
}

/// The OPD's indicator ids, as a subquery.
fn indicators_of_opd(opd: i32) -> sea_orm::sea_query::SelectStatement {
    sea_orm::sea_query::Query::select()
        .column(indicator::Column::Id)
        .from(indicator::Entity)
        .and_where(indicator::Column::OpdId.eq(opd))
        .to_owned()
}

/// A row of `GET /performance/data`: `achievement_json`'s fields, serialised straight from
/// the model, plus the indicator's already-serialised text.
#[derive(Serialize)]
struct AchievementRow<'a> {
    id: i32,
    indicator_id: i32,
    year: i32,
    quarter: Option<i32>,
    month: Option<i32>,
    achievement_value: Decimal,
    percentage: Option<Decimal>,
    percentage_note: Option<&'a str>,
    notes: Option<&'a str>,
    supporting_documents: Option<&'a RawValue>,
    input_by: Uuid,
    verified_by: Option<Uuid>,
    verified_at: Option<String>,
    created_at: String,
    updated_at: String,
    indicator: &'a RawValue,
}

impl<'a> AchievementRow<'a> {
    fn of(row: &'a achievement::Model, indicator: &'a RawValue) -> Self {
        let period = |v: i32| (v != 0).then_some(v);
        AchievementRow {
            id: row.id,
            indicator_id: row.indicator_id,
            year: row.year,
            quarter: period(row.quarter),
            month: period(row.month),
            achievement_value: decimal(&row.achievement_value),
            percentage: row.percentage.as_deref().map(decimal),
            percentage_note: row.percentage_note.as_deref(),
            notes: row.notes.as_deref(),
            supporting_documents: row
                .supporting_documents
                .as_deref()
                .and_then(|d| serde_json::from_str::<&RawValue>(d).ok()),
            input_by: row.input_by,
            verified_by: row.verified_by,
            verified_at: row.verified_at.map(rfc3339),
            created_at: rfc3339(row.created_at),
            updated_at: rfc3339(row.updated_at),
            indicator,
        }
    }
}

fn internal(err: serde_json::Error) -> SakipError {
    SakipError::from(platform::error::ServiceError::internal(
        "serialising performance data",
        err,
    ))
}

/// The whole answer, envelope included, serialised once. Three queries whatever the size
/// (achievements, their indicators, those indicators' targets), each on an index; every
/// indicator (with its targets) is serialised once and its text spliced into each of its rows,
/// so the seed's shape (targets inside each row's indicator) costs a copy, not a
/// re-serialisation.
async fn load_data(
    state: &AppState,
    year: i32,
    opd: Option<i32>,
    quarter: Option<i32>,
    month: Option<i32>,
) -> Result<Bytes, SakipError> {
    // The indicators in play: the OPD's, or (all OPDs) those with an achievement in the period.
    let scope = match opd {
        Some(opd) => indicators_of_opd(opd),
        None => achieved_in(year, quarter, month),
    };
    let mut q = achievement::Entity::find()
        .filter(achievement::Column::Year.eq(year))
        .filter(achievement::Column::IndicatorId.in_subquery(scope.clone()));
    if let Some(quarter) = quarter {
        q = q.filter(achievement::Column::Quarter.eq(quarter));
    }
    if let Some(month) = month {
        q = q.filter(achievement::Column::Month.eq(month));
    }
    let q = q
        .order_by_asc(achievement::Column::IndicatorId)
        .order_by_asc(achievement::Column::Quarter)
        .order_by_asc(achievement::Column::Month);
    let indicators = match opd {
        Some(opd) => indicator::Entity::find().filter(indicator::Column::OpdId.eq(opd)),
        None => indicator::Entity::find().filter(indicator::Column::Id.in_subquery(scope.clone())),
    };
    let mut t = target::Entity::find()
        .filter(target::Column::Year.eq(year))
        .filter(target::Column::IndicatorId.in_subquery(scope));
    if let Some(quarter) = quarter {
        t = t.filter(target::Column::Quarter.eq(quarter));
    }
    if let Some(month) = month {
        t = t.filter(target::Column::Month.eq(month));
    }
    // Independent reads: on three pooled connections at once.
    let (rows, indicators, target_rows) = tokio::try_join!(
        q.all(&state.db),
        indicators.all(&state.db),
        t.order_by_asc(target::Column::Id).all(&state.db),
    )?;
    let indicators: HashMap<i32, indicator::Model> =
        indicators.into_iter().map(|i| (i.id, i)).collect();
    let mut targets: HashMap<i32, Vec<Value>> = HashMap::new();
    for row in target_rows {
        targets
            .entry(row.indicator_id)
            .or_default()
            .push(target_json(&row));
    }
    let mut fragments: HashMap<i32, Box<RawValue>> = HashMap::new();
    let mut out: Vec<u8> = Vec::with_capacity(64 + rows.len() * 900);
    out.extend_from_slice(br#"{"success":true,"data":["#);
    let mut first = true;
    for row in &rows {
        let Some(ind) = indicators.get(&row.indicator_id) else {
            continue;
        };
        let fragment = match fragments.entry(ind.id) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(e) => {
                let mut i = indicator_json(ind);
                i["targets"] = Value::Array(targets.remove(&ind.id).unwrap_or_default());
                e.insert(serde_json::value::to_raw_value(&i).map_err(internal)?)
            }
        };
        if !first {
            out.push(b',');
        }
        first = false;
        serde_json::to_writer(&mut out, &AchievementRow::of(row, fragment)).map_err(internal)?;
    }
    out.extend_from_slice(b"]}");
    Ok(Bytes::from(out))
}
