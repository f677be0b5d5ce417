//! Reports: the LKjIP-style performance table of one OPD and year (sasaran → indicator →
//! unit, target, realisation, percentage, with the OPD's budget absorption and latest
//! grade) as JSON, CSV, XLSX or PDF through the platform's export writers, and the
//! dashboard summary per OPD.
//!
//! A row's target is the indicator's yearly target (no quarter, no month); its realisation
//! is the yearly achievement, or else the latest period's; the percentage is
//! `calc::percentage` of the two. Indicators of a sasaran's programmes and activities are
//! listed under that sasaran with their level; a tujuan's own indicators come before its
//! sasaran, under the tujuan (level `tujuan`).

use std::collections::HashMap;

use axum::{extract::State, response::IntoResponse};
use platform::{
    export::{self, ExportFormat, ExportRow, Layout},
    i18n::Msg,
    state::AppState,
};
use rust_decimal::Decimal;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::{
    auth::Caller,
    budget, calc,
    calc::Polarity,
    entities::{achievement, indicator, opd, renstra, target},
    error::{ok, Answer, Query, SakipError},
    evaluation,
    performance::Period,
    planning::{self, Level},
};

/// One line of the LKjIP table.
#[derive(Debug, Clone)]
pub struct ReportRow {
    pub sasaran: String,
    pub level: &'static str,
    pub indicator: String,
    pub unit: String,
    pub target: Option<Decimal>,
    pub realization: Option<Decimal>,
    pub percentage: Option<Decimal>,
}

fn cell(v: Option<Decimal>) -> String {
    v.map(|d| d.to_string()).unwrap_or_else(|| "-".into())
}

impl ExportRow for ReportRow {
    fn cells(&self) -> Vec<String> {
        vec![
            self.sasaran.clone(),
            self.level.to_owned(),
            self.indicator.clone(),
            self.unit.clone(),
            cell(self.target),
            cell(self.realization),
            cell(self.percentage),
        ]
    }
}

/// The whole report of an OPD and year.
#[derive(Debug)]
pub struct Report {
    pub opd: opd::Model,
    pub year: i32,
    pub rows: Vec<ReportRow>,
    /// (allocation, realisation, percentage).
    pub budget: (Decimal, Decimal, Option<Decimal>),
    pub grade: Option<String>,
}

fn node_label(code: Option<&str>, name: &str) -> String {
    match code {
        Some(code) => format!("{code} {name}"),
        None => name.to_owned(),
    }
}

/// Does a renstra period such as `2021-2026` cover `year`? Unparseable periods do.
fn covers(period: &str, year: i32) -> bool {
    match period.split_once('-') {
        Some((from, to)) => match (from.trim().parse::<i32>(), to.trim().parse::<i32>()) {
            (Ok(from), Ok(to)) => (from..=to).contains(&year),
            _ => true,
        },
        None => true,
    }
}

/// Builds the report of `opd` in `year`.
pub async fn build(
    db: &impl ConnectionTrait,
    opd: opd::Model,
    year: i32,
) -> Result<Report, SakipError> {
    let plans: Vec<i32> = renstra::Entity::find()
        .filter(renstra::Column::OpdId.eq(opd.id))
        .order_by_asc(renstra::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .filter(|r| covers(&r.period, year))
        .map(|r| r.id)
        .collect();
    let tujuan = planning::nodes(db, Level::Tujuan, &plans, true).await?;
    let sasaran = planning::nodes(db, Level::Sasaran, &ids(&tujuan), true).await?;
    let programs = planning::nodes(db, Level::Program, &ids(&sasaran), true).await?;
    let kegiatan = planning::nodes(db, Level::Kegiatan, &ids(&programs), true).await?;

    let indicators = indicator::Entity::find()
        .filter(indicator::Column::OpdId.eq(opd.id))
        .order_by_asc(indicator::Column::Id)
        .all(db)
        .await?;
    let mut by_parent: HashMap<(&str, i32), Vec<&indicator::Model>> = HashMap::new();
    for ind in &indicators {
        by_parent
            .entry((ind.parent_type.as_str(), ind.parent_id))
            .or_default()
            .push(ind);
    }
    let subquery = || {
        sea_orm::sea_query::Query::select()
            .column(indicator::Column::Id)
            .from(indicator::Entity)
            .and_where(indicator::Column::OpdId.eq(opd.id))
            .to_owned()
    };
    let yearly_targets: HashMap<i32, Decimal> = target::Entity::find()
        .filter(target::Column::Year.eq(year))
        .filter(target::Column::Quarter.eq(0))
        .filter(target::Column::Month.eq(0))
        .filter(target::Column::IndicatorId.in_subquery(subquery()))
        .all(db)
        .await?
        .into_iter()
        .map(|t| (t.indicator_id, t.target_value.parse().unwrap_or_default()))
        .collect();
    // The yearly achievement wins; else the latest period (ordered so the last one stays).
    let mut realized: HashMap<i32, (bool, Decimal)> = HashMap::new();
    let rows = achievement::Entity::find()
        .select_only()
        .columns([
            achievement::Column::IndicatorId,
            achievement::Column::Quarter,
            achievement::Column::Month,
            achievement::Column::AchievementValue,
        ])
        .filter(achievement::Column::Year.eq(year))
        .filter(achievement::Column::IndicatorId.in_subquery(subquery()))
        .order_by_asc(achievement::Column::IndicatorId)
        .order_by_asc(achievement::Column::Quarter)
        .order_by_asc(achievement::Column::Month)
        .into_tuple::<(i32, i32, i32, String)>()
        .all(db)
        .await?;
    for (ind, quarter, month, value) in rows {
        let yearly = quarter == 0 && month == 0;
        let value: Decimal = value.parse().unwrap_or_default();
        let entry = realized.entry(ind).or_insert((yearly, value));
        if !entry.0 {
            *entry = (yearly, value);
        }
    }

    let line = |sasaran: &str, level: Level, ind: &indicator::Model| {
        let target = yearly_targets.get(&ind.id).copied();
        let realization = realized.get(&ind.id).map(|(_, v)| *v);
        let polarity = Polarity::parse(&ind.polarity).unwrap_or(Polarity::HigherBetter);
        ReportRow {
            sasaran: sasaran.to_owned(),
            level: level.name(),
            indicator: ind.name.clone(),
            unit: ind.unit.clone().unwrap_or_default(),
            target,
            realization,
            percentage: realization.and_then(|r| calc::percentage(polarity, target, r).ok()),
        }
    };
    let mut out = Vec::new();
    let mut push = |label: &str, level: Level, id: i32| {
        for ind in by_parent.get(&(level.name(), id)).into_iter().flatten() {
            out.push(line(label, level, ind));
        }
    };
    for t in &tujuan {
        // A tujuan's own indicators come first, under the tujuan's label.
        push(&node_label(t.code.as_deref(), &t.name), Level::Tujuan, t.id);
        for s in sasaran.iter().filter(|s| s.parent_id == t.id) {
            let label = node_label(s.code.as_deref(), &s.name);
            push(&label, Level::Sasaran, s.id);
            for p in programs.iter().filter(|p| p.parent_id == s.id) {
                push(&label, Level::Program, p.id);
                for k in kegiatan.iter().filter(|k| k.parent_id == p.id) {
                    push(&label, Level::Kegiatan, k.id);
                }
            }
        }
    }
    let budget = budget::absorption(db, opd.id, year).await?;
    let grade = evaluation::latest_grade(db, opd.id, year).await?;
    Ok(Report {
        opd,
        year,
        rows: out,
        budget,
        grade,
    })
}

fn ids(rows: &[planning::NodeRow]) -> Vec<i32> {
    rows.iter().map(|r| r.id).collect()
}

#[derive(Debug, Deserialize)]
pub struct ReportQuery {
    #[serde(default)]
    opd_id: Option<i32>,
    #[serde(default)]
    year: Option<i32>,
    #[serde(default)]
    format: Option<String>,
}

const COLUMNS: [Msg; 7] = [
    Msg::new("Sasaran", "Objective"),
    Msg::new("Tingkat", "Level"),
    Msg::new("Indikator", "Indicator"),
    Msg::new("Satuan", "Unit"),
    Msg::new("Target", "Target"),
    Msg::new("Realisasi", "Realisation"),
    Msg::new("Capaian (%)", "Achievement (%)"),
];

fn report_json(report: &Report) -> Value {
    let (allocation, realization, percentage) = report.budget;
    json!({
        "opd": planning::opd_json(&report.opd),
        "year": report.year,
        "rows": report.rows.iter().map(|r| json!({
            "sasaran": r.sasaran,
            "level": r.level,
            "indicator": r.indicator,
            "unit": r.unit,
            "target": r.target,
            "realization": r.realization,
            "percentage": r.percentage,
        })).collect::<Vec<_>>(),
        "budget": {
            "allocation": calc::two_places(allocation),
            "realization": calc::two_places(realization),
            "percentage": percentage,
        },
        "grade": report.grade,
    })
}

/// `GET /reports/performance?opd_id=&year=&format=json|csv|xlsx|pdf`.
pub async fn performance(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ReportQuery>,
) -> Answer {
    let (Some(opd), Some(year)) = (q.opd_id, q.year) else {
        return Err(SakipError::bad(Msg::new(
            "opd_id dan year harus diisi",
            "opd_id and year are required",
        )));
    };
    Period::new(year, None, None)?;
    caller.read(opd)?;
    let format = match q.format.as_deref().map(str::to_ascii_lowercase).as_deref() {
        None | Some("json") => None,
        Some(other) => Some(ExportFormat::parse(Some(other))?),
    };
    let found = planning::find_opd(&state, opd).await?;
    let report = build(&state.db, found, year).await?;
    let Some(format) = format else {
        return ok(report_json(&report));
    };
    let (allocation, realization, percentage) = report.budget;
    let budget_label = Msg::new("Serapan anggaran", "Budget absorption")
        .localized()
        .to_owned();
    let grade_label = Msg::new("Nilai evaluasi", "Evaluation grade")
        .localized()
        .to_owned();
    let grade = report.grade.clone().unwrap_or_else(|| "-".into());
    let subtitle = format!(
        "{} · {} {year} · {budget_label}: {} / {} ({}%) · {grade_label}: {grade}",
        report.opd.name,
        Msg::new("Tahun", "Year").localized(),
        calc::two_places(allocation),
        calc::two_places(realization),
        cell(percentage),
    );
    let mut rows = report.rows;
    // The summary lines close the table, so CSV and XLSX carry them too.
    rows.push(ReportRow {
        sasaran: String::new(),
        level: "",
        indicator: budget_label.clone(),
        unit: "Rp".into(),
        target: Some(calc::two_places(allocation)),
        realization: Some(calc::two_places(realization)),
        percentage,
    });
    rows.push(ReportRow {
        sasaran: String::new(),
        level: "",
        indicator: format!("{grade_label}: {grade}"),
        unit: String::new(),
        target: None,
        realization: None,
        percentage: None,
    });
    let layout = Layout {
        title: format!(
            "{} — {}",
            Msg::new("Laporan Kinerja (LKjIP)", "Performance Report (LKjIP)").localized(),
            report.opd.code
        ),
        subtitle,
        columns: COLUMNS.iter().map(|m| m.localized().to_owned()).collect(),
        truncated: export::truncated_label(),
        sheet: "LKjIP",
        widths: &[36.0, 10.0, 48.0, 12.0, 16.0, 16.0, 14.0],
        pdf_columns: &[
            (0, 0.0, 30),
            (1, 170.0, 9),
            (2, 225.0, 52),
            (3, 505.0, 9),
            (4, 555.0, 14),
            (5, 630.0, 14),
            (6, 705.0, 10),
        ],
        file_name: export::stamped_file_name(
            &format!("lkjip-{}-{year}", report.opd.code.to_ascii_lowercase()),
            format,
            state.clock.now(),
        ),
    };
    Ok(export::respond(format, rows.into_iter(), layout)
        .await?
        .into_response())
}

#[derive(Debug, Deserialize)]
pub struct SummaryQuery {
    #[serde(default)]
    year: Option<i32>,
}

/// `GET /dashboard/summary?year=`: per OPD in the caller's scope, its indicators, average
/// achievement of the year, budget absorption and latest grade.
pub async fn dashboard(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<SummaryQuery>,
) -> Answer {
    let year = q
        .year
        .ok_or_else(|| SakipError::bad(Msg::new("year harus diisi", "year is required")))?;
    Period::new(year, None, None)?;
    let mut opds = opd::Entity::find();
    if let Some(own) = caller.scope(None)? {
        opds = opds.filter(opd::Column::Id.eq(own));
    }
    let opds = opds.order_by_asc(opd::Column::Code).all(&state.db).await?;
    let mut out = Vec::with_capacity(opds.len());
    for o in opds {
        let indicators = indicator::Entity::find()
            .filter(indicator::Column::OpdId.eq(o.id))
            .count(&state.db)
            .await?;
        let percentages: Vec<Option<String>> = achievement::Entity::find()
            .select_only()
            .column(achievement::Column::Percentage)
            .filter(achievement::Column::Year.eq(year))
            .filter(
                achievement::Column::IndicatorId.in_subquery(
                    sea_orm::sea_query::Query::select()
                        .column(indicator::Column::Id)
                        .from(indicator::Entity)
                        .and_where(indicator::Column::OpdId.eq(o.id))
                        .to_owned(),
                ),
            )
            .into_tuple()
            .all(&state.db)
            .await?;
        let scored: Vec<Decimal> = percentages
            .iter()
            .flatten()
            .filter_map(|p| p.parse().ok())
            .collect();
        let average = (!scored.is_empty()).then(|| {
            calc::two_places(scored.iter().sum::<Decimal>() / Decimal::from(scored.len()))
        });
        let (allocation, realization, absorption) =
            budget::absorption(&state.db, o.id, year).await?;
        out.push(json!({
            "opd": { "id": o.id, "code": o.code, "name": o.name },
            "indicators": indicators,
            "achievements": scored.len(),
            "average_achievement": average,
            "budget": {
                "allocation": calc::two_places(allocation),
                "realization": calc::two_places(realization),
                "percentage": absorption,
            },
            "latest_grade": evaluation::latest_grade(&state.db, o.id, year).await?,
        }));
    }
    ok(json!({ "year": year, "opds": out }))
}
