//! Yearly SAKIP evaluations of an OPD: the four weighted components (`calc::COMPONENTS`),
//! findings and recommendations, the overall score and grade, and the status path
//! draft → in_progress → completed → reviewed. Evaluators and super_admins write; everyone
//! reads, an admin_opd only its own OPD's.

use std::collections::BTreeMap;

use axum::extract::State;
use platform::{i18n::Msg, security::ClientIp, state::AppState};
use rust_decimal::Decimal;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::{
    auth::{Caller, Role},
    calc,
    entities::evaluation,
    error::{created, ok, Answer, Body, Path, Query, SakipError},
    performance::Period,
    planning::{self, opt_text, rfc3339},
    Page,
};

pub const TYPES: &[&str] = &["internal", "external", "self_assessment"];
pub const STATUSES: &[&str] = &["draft", "in_progress", "completed", "reviewed"];
const MAX_NOTES: usize = 200;

fn one_of(field: &str, allowed: &[&str]) -> SakipError {
    SakipError::bad(Msg::owned(
        format!("{field} harus salah satu dari: {}", allowed.join(", ")),
        format!("{field} must be one of: {}", allowed.join(", ")),
    ))
}

/// Only evaluators and super_admins write evaluations.
fn evaluator(caller: &Caller) -> Result<(), SakipError> {
    if matches!(caller.role, Role::SuperAdmin | Role::Evaluator) {
        Ok(())
    } else {
        Err(SakipError::forbidden())
    }
}

/// Component scores by name; only the four SAKIP components, each 0–100 with at most two
/// decimals.
type Scores = BTreeMap<String, Decimal>;

fn parse_scores(raw: &Value) -> Result<Scores, SakipError> {
    let Some(map) = raw.as_object() else {
        return Err(SakipError::bad(Msg::new(
            "components harus berupa objek {komponen: nilai}",
            "components must be an object {component: score}",
        )));
    };
    let names: Vec<&str> = calc::COMPONENTS.iter().map(|(n, _)| *n).collect();
    let mut out = Scores::new();
    for (name, value) in map {
        if !names.contains(&name.as_str()) {
            return Err(one_of("components", &names));
        }
        // `{"score": 80}` or plain `80` / `"80.5"`.
        let value = value.get("score").unwrap_or(value);
        let score = match value {
            Value::Number(n) => n.to_string().parse::<Decimal>().ok(),
            Value::String(s) => s.trim().parse::<Decimal>().ok(),
            _ => None,
        }
        .filter(|s| *s >= Decimal::ZERO && *s <= Decimal::ONE_HUNDRED && s.normalize().scale() <= 2)
        .ok_or_else(|| {
            SakipError::bad(Msg::owned(
                format!("Nilai {name} harus angka 0–100 (paling banyak 2 desimal)"),
                format!("The score of {name} must be a number 0–100 (at most 2 decimals)"),
            ))
        })?;
        out.insert(name.clone(), calc::two_places(score));
    }
    Ok(out)
}

/// The overall score and grade once all four components are scored.
fn scored(scores: &Scores) -> Option<(Decimal, &'static str)> {
    let mut four = [Decimal::ZERO; 4];
    for (slot, (name, _)) in four.iter_mut().zip(calc::COMPONENTS) {
        *slot = *scores.get(name)?;
    }
    let overall = calc::overall_score(&four);
    Some((overall, calc::grade(overall)))
}

fn notes(field: &str, raw: Option<Value>) -> Result<Option<String>, SakipError> {
    match raw {
        None => Ok(None),
        Some(Value::Array(items)) if items.len() <= MAX_NOTES => {
            Ok(Some(Value::Array(items).to_string()))
        }
        Some(_) => Err(SakipError::bad(Msg::owned(
            format!("{field} harus berupa daftar (paling banyak {MAX_NOTES})"),
            format!("{field} must be a list (at most {MAX_NOTES})"),
        ))),
    }
}

fn date(raw: Option<&str>) -> Result<Option<String>, SakipError> {
    let Some(raw) = raw.map(str::trim).filter(|d| !d.is_empty()) else {
        return Ok(None);
    };
    time::Date::parse(
        raw,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .map(|_| Some(raw.to_owned()))
    .map_err(|_| {
        SakipError::bad(Msg::new(
            "evaluation_date harus berformat YYYY-MM-DD",
            "evaluation_date must be YYYY-MM-DD",
        ))
    })
}

fn stored_scores(row: &evaluation::Model) -> Scores {
    serde_json::from_str(&row.components).unwrap_or_default()
}

pub fn evaluation_json(row: &evaluation::Model) -> Value {
    let scores = stored_scores(row);
    let components: serde_json::Map<String, Value> = calc::COMPONENTS
        .iter()
        .map(|(name, weight)| {
            (
                (*name).to_owned(),
                json!({ "weight": weight, "score": scores.get(*name) }),
            )
        })
        .collect();
    let list = |raw: &str| serde_json::from_str::<Value>(raw).unwrap_or_else(|_| json!([]));
    json!({
        "id": row.id,
        "opd_id": row.opd_id,
        "year": row.year,
        "type": row.kind,
        "evaluator": row.evaluator,
        "evaluation_date": row.evaluation_date,
        "overall_score": row.overall_score.as_deref().and_then(|s| s.parse::<Decimal>().ok()),
        "grade": row.grade,
        "status": row.status,
        "components": components,
        "findings": list(&row.findings),
        "recommendations": list(&row.recommendations),
        "created_by": row.created_by,
        "created_at": rfc3339(row.created_at),
        "updated_at": rfc3339(row.updated_at),
    })
}

#[derive(Debug, Deserialize)]
pub struct EvaluationInput {
    #[serde(default)]
    opd_id: Option<i32>,
    #[serde(default)]
    year: Option<i32>,
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    evaluator: Option<String>,
    #[serde(default)]
    evaluation_date: Option<String>,
    #[serde(default)]
    components: Option<Value>,
    #[serde(default)]
    findings: Option<Value>,
    #[serde(default)]
    recommendations: Option<Value>,
    #[serde(default)]
    status: Option<String>,
}

fn kind(raw: Option<&str>) -> Result<String, SakipError> {
    match raw {
        Some(k) if TYPES.contains(&k) => Ok(k.to_owned()),
        _ => Err(one_of("type", TYPES)),
    }
}

/// Writes the score and grade of `scores` into `row`.
fn set_scores(row: &mut evaluation::ActiveModel, scores: &Scores) {
    let (overall, grade) = match scored(scores) {
        Some((o, g)) => (Some(o.to_string()), Some(g.to_owned())),
        None => (None, None),
    };
    row.components = Set(json!(scores).to_string());
    row.overall_score = Set(overall);
    row.grade = Set(grade);
}

/// `POST /evaluations` (evaluator, super_admin): a draft.
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ip: ClientIp,
    Body(body): Body<EvaluationInput>,
) -> Answer {
    evaluator(&caller)?;
    let opd = body
        .opd_id
        .ok_or_else(|| SakipError::bad(Msg::new("opd_id harus diisi", "opd_id is required")))?;
    let year = body
        .year
        .ok_or_else(|| SakipError::bad(Msg::new("year harus diisi", "year is required")))?;
    Period::new(year, None, None)?;
    planning::find_opd(&state, opd).await?;
    if body.status.as_deref().is_some_and(|s| s != "draft") {
        return Err(SakipError::bad(Msg::new(
            "Evaluasi baru selalu berstatus draft",
            "A new evaluation is always a draft",
        )));
    }
    let scores = match &body.components {
        Some(raw) => parse_scores(raw)?,
        None => Scores::new(),
    };
    let now = state.clock.now();
    let mut row = evaluation::ActiveModel {
        opd_id: Set(opd),
        year: Set(year),
        kind: Set(kind(body.kind.as_deref())?),
        evaluator: Set(opt_text("evaluator", body.evaluator.as_deref(), 255)?),
        evaluation_date: Set(date(body.evaluation_date.as_deref())?),
        status: Set("draft".into()),
        findings: Set(notes("findings", body.findings)?.unwrap_or_else(|| "[]".into())),
        recommendations: Set(
            notes("recommendations", body.recommendations)?.unwrap_or_else(|| "[]".into())
        ),
        created_by: Set(caller.id),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    set_scores(&mut row, &scores);
    let saved = row.insert(&state.db).await?;
    crate::audit(
        &state,
        &caller,
        ip,
        "sakip_evaluation_create",
        saved.id.to_string(),
    )
    .await;
    created(evaluation_json(&saved))
}

async fn find(db: &impl ConnectionTrait, id: i32) -> Result<evaluation::Model, SakipError> {
    evaluation::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| SakipError::not_found("Evaluasi tidak ditemukan", "Evaluation not found"))
}

/// `GET /evaluations/:id`.
pub async fn get(State(state): State<AppState>, caller: Caller, Path(id): Path<i32>) -> Answer {
    let row = find(&state.db, id).await?;
    caller.read(row.opd_id)?;
    ok(evaluation_json(&row))
}

/// `PUT /evaluations/:id` (evaluator, super_admin): components merge into the stored ones;
/// status moves one step forward at a time, `completed` needs all four components, and a
/// `reviewed` evaluation no longer changes.
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    ip: ClientIp,
    Path(id): Path<i32>,
    Body(body): Body<EvaluationInput>,
) -> Answer {
    evaluator(&caller)?;
    let found = find(&state.db, id).await?;
    if found.status == "reviewed" {
        return Err(SakipError::conflict(Msg::new(
            "Evaluasi yang sudah direviu tidak dapat diubah",
            "A reviewed evaluation can no longer change",
        )));
    }
    if body.opd_id.is_some_and(|o| o != found.opd_id) || body.year.is_some_and(|y| y != found.year)
    {
        return Err(SakipError::bad(Msg::new(
            "OPD dan tahun sebuah evaluasi tidak dapat diubah",
            "An evaluation's OPD and year cannot change",
        )));
    }
    let mut scores = stored_scores(&found);
    if let Some(raw) = &body.components {
        scores.extend(parse_scores(raw)?);
    }
    let status = match body.status.as_deref() {
        None => found.status.clone(),
        Some(next) => {
            let from = STATUSES
                .iter()
                .position(|s| *s == found.status)
                .unwrap_or(0);
            let to = STATUSES
                .iter()
                .position(|s| *s == next)
                .ok_or_else(|| one_of("status", STATUSES))?;
            if to != from && to != from + 1 {
                return Err(SakipError::conflict(Msg::owned(
                    format!("Status tidak dapat berubah dari {} ke {next}", found.status),
                    format!("The status cannot move from {} to {next}", found.status),
                )));
            }
            next.to_owned()
        }
    };
    if matches!(status.as_str(), "completed" | "reviewed") && scored(&scores).is_none() {
        return Err(SakipError::bad(Msg::new(
            "Keempat komponen harus dinilai sebelum evaluasi selesai",
            "All four components must be scored before the evaluation is completed",
        )));
    }
    let completed = status == "completed" && found.status != "completed";
    let mut row: evaluation::ActiveModel = found.into();
    if body.kind.is_some() {
        row.kind = Set(kind(body.kind.as_deref())?);
    }
    if body.evaluator.is_some() {
        row.evaluator = Set(opt_text("evaluator", body.evaluator.as_deref(), 255)?);
    }
    if body.evaluation_date.is_some() {
        row.evaluation_date = Set(date(body.evaluation_date.as_deref())?);
    }
    if let Some(f) = notes("findings", body.findings)? {
        row.findings = Set(f);
    }
    if let Some(r) = notes("recommendations", body.recommendations)? {
        row.recommendations = Set(r);
    }
    set_scores(&mut row, &scores);
    row.status = Set(status);
    row.updated_at = Set(state.clock.now());
    let saved = row.update(&state.db).await?;
    crate::audit(
        &state,
        &caller,
        ip,
        "sakip_evaluation_update",
        id.to_string(),
    )
    .await;
    if completed {
        crate::mail::notify(
            &state,
            crate::mail::To::OpdAdmins(saved.opd_id),
            format!("Evaluasi SAKIP {} selesai", saved.year),
            format!(
                "Evaluasi SAKIP tahun {} untuk OPD #{} telah selesai: nilai {}, predikat {}.",
                saved.year,
                saved.opd_id,
                saved.overall_score.as_deref().unwrap_or("-"),
                saved.grade.as_deref().unwrap_or("-"),
            ),
        );
    }
    ok(evaluation_json(&saved))
}

#[derive(Debug, Deserialize)]
pub struct EvaluationFilter {
    #[serde(default)]
    opd_id: Option<i32>,
    #[serde(default)]
    year: Option<i32>,
    #[serde(default)]
    status: Option<String>,
}

/// `GET /evaluations?opd_id=&year=&status=&page=&limit=`.
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(filter): Query<EvaluationFilter>,
    Query(page): Query<Page>,
) -> Answer {
    let (page_no, limit) = page.checked()?;
    let mut q = evaluation::Entity::find();
    if let Some(opd) = caller.scope(filter.opd_id)? {
        q = q.filter(evaluation::Column::OpdId.eq(opd));
    }
    if let Some(year) = filter.year {
        q = q.filter(evaluation::Column::Year.eq(year));
    }
    if let Some(status) = filter.status.as_deref() {
        if !STATUSES.contains(&status) {
            return Err(one_of("status", STATUSES));
        }
        q = q.filter(evaluation::Column::Status.eq(status));
    }
    let total = q.clone().count(&state.db).await?;
    let rows = q
        .order_by_desc(evaluation::Column::Year)
        .order_by_desc(evaluation::Column::Id)
        .offset((page_no - 1) * limit)
        .limit(limit)
        .all(&state.db)
        .await?;
    ok(page.answer(rows.iter().map(evaluation_json).collect(), total))
}

/// The grade of `opd`'s latest finished (`completed` or `reviewed`) evaluation up to `year`
/// (by year, then newest); a draft's or an evaluation in progress's grade does not count.
pub async fn latest_grade(
    db: &impl ConnectionTrait,
    opd: i32,
    year: i32,
) -> Result<Option<String>, SakipError> {
    Ok(evaluation::Entity::find()
        .filter(evaluation::Column::OpdId.eq(opd))
        .filter(evaluation::Column::Year.lte(year))
        .filter(evaluation::Column::Grade.is_not_null())
        .filter(evaluation::Column::Status.is_in(["completed", "reviewed"]))
        .order_by_desc(evaluation::Column::Year)
        .order_by_desc(evaluation::Column::Id)
        .one(db)
        .await?
        .and_then(|e| e.grade))
}
