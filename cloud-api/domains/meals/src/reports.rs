//! Reports for administrators (seed 003): `GET /reports/consumption` (by day, ISO week or
//! month; rejected orders left out), `/reports/department` (with each department's share
//! of the meals), `/reports/performance` (`{overall, byDepartment, byShift}`, the four
//! average durations of `COMPLETE` orders) and `/reports/rejections` (paginated kitchen
//! requests); each also as `?format=csv|xlsx|pdf` through the platform's export writers
//! (the PDF: title, filters and time made, a table whose header repeats on every page).
//!
//! Durations: total = created → done; processing = created → `IN_PROGRESS`; preparation =
//! `IN_PROGRESS` → `READY`; delivery = `READY` → `COMPLETE`. A stage whose stamps an
//! administrator's override skipped is left out of that stage's average.

use std::collections::BTreeMap;

use axum::{
    extract::State,
    response::{IntoResponse, Response},
    routing::get,
    Json, Router,
};
use platform::{
    export::{self, ExportFormat, ExportRow, Layout},
    http::{error::ApiError, extract::QueryParams},
    i18n::Msg,
    state::AppState,
};
use sea_orm::{
    sea_query::Condition, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use time::{Date, Duration, OffsetDateTime};
use utoipa::IntoParams;

use crate::{
    context::{optional_id, parse_date, today, Admin, Page, JAKARTA},
    entities::order,
    error::{invalid, MealsError},
    orders::{Names, Status},
    trail::day_range,
    PREFIX,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(&format!("{PREFIX}/reports/consumption"), get(consumption))
        .route(&format!("{PREFIX}/reports/department"), get(department))
        .route(&format!("{PREFIX}/reports/performance"), get(performance))
        .route(&format!("{PREFIX}/reports/rejections"), get(rejections))
}

/// How one report is laid out in its files.
#[derive(Debug)]
pub struct TableReport {
    pub stem: &'static str,
    pub title: Msg,
    pub columns: &'static [Msg],
    pub sheet: &'static str,
    pub widths: &'static [f64],
    pub pdf_columns: &'static [(usize, f32, usize)],
}

impl TableReport {
    pub const AUDIT: TableReport = TableReport {
        stem: "audit-trail",
        title: Msg::new("Audit Trail Pesanan Makan", "Meal Orders Audit Trail"),
        columns: &[
            Msg::new("ID", "ID"),
            Msg::new("Waktu", "Time"),
            Msg::new("Aksi", "Action"),
            Msg::new("NIK", "NIK"),
            Msg::new("Nama", "Name"),
            Msg::new("Detail", "Detail"),
        ],
        sheet: "Audit",
        widths: &[8.0, 26.0, 26.0, 12.0, 24.0, 60.0],
        pdf_columns: &[(1, 0.0, 20), (2, 105.0, 26), (3, 240.0, 10), (5, 295.0, 48)],
    };

    const CONSUMPTION: TableReport = TableReport {
        stem: "laporan-konsumsi",
        title: Msg::new("Laporan Konsumsi", "Consumption Report"),
        columns: &[
            Msg::new("Periode", "Period"),
            Msg::new("Jumlah Pesanan", "Orders"),
            Msg::new("Jumlah Porsi", "Meals"),
        ],
        sheet: "Konsumsi",
        widths: &[14.0, 16.0, 16.0],
        pdf_columns: &[(0, 0.0, 20), (1, 160.0, 12), (2, 320.0, 12)],
    };

    const DEPARTMENT: TableReport = TableReport {
        stem: "laporan-departemen",
        title: Msg::new("Laporan per Departemen", "Department Report"),
        columns: &[
            Msg::new("ID Departemen", "Department ID"),
            Msg::new("Departemen", "Department"),
            Msg::new("Jumlah Pesanan", "Orders"),
            Msg::new("Jumlah Porsi", "Meals"),
            Msg::new("Persentase", "Percentage"),
        ],
        sheet: "Departemen",
        widths: &[14.0, 30.0, 16.0, 16.0, 12.0],
        pdf_columns: &[(1, 0.0, 30), (2, 190.0, 10), (3, 280.0, 10), (4, 370.0, 10)],
    };

    const PERFORMANCE: TableReport = TableReport {
        stem: "laporan-performa",
        title: Msg::new("Laporan Performa", "Performance Report"),
        columns: &[
            Msg::new("Cakupan", "Scope"),
            Msg::new("ID", "ID"),
            Msg::new("Nama", "Name"),
            Msg::new("Jumlah", "Count"),
            Msg::new("Rata-rata Total (menit)", "Avg total (min)"),
            Msg::new("Rata-rata Proses (menit)", "Avg processing (min)"),
            Msg::new("Rata-rata Persiapan (menit)", "Avg preparation (min)"),
            Msg::new("Rata-rata Antar (menit)", "Avg delivery (min)"),
        ],
        sheet: "Performa",
        widths: &[12.0, 8.0, 24.0, 10.0, 18.0, 18.0, 18.0, 18.0],
        pdf_columns: &[
            (0, 0.0, 11),
            (2, 60.0, 18),
            (3, 170.0, 6),
            (4, 210.0, 8),
            (5, 280.0, 8),
            (6, 350.0, 8),
            (7, 420.0, 8),
        ],
    };

    const REJECTIONS: TableReport = TableReport {
        stem: "laporan-penolakan",
        title: Msg::new(
            "Laporan Penolakan dan Perubahan",
            "Rejection and Edit Report",
        ),
        columns: &[
            Msg::new("Kode Pesanan", "Order code"),
            Msg::new("Departemen", "Department"),
            Msg::new("Shift", "Shift"),
            Msg::new("Jenis", "Type"),
            Msg::new("Jumlah", "Quantity"),
            Msg::new("Jumlah Awal", "Original quantity"),
            Msg::new("Status", "Status"),
            Msg::new("Persetujuan", "Approval"),
            Msg::new("Catatan Dapur", "Kitchen note"),
            Msg::new("Catatan Admin", "Admin note"),
        ],
        sheet: "Penolakan",
        widths: &[18.0, 20.0, 12.0, 8.0, 8.0, 10.0, 22.0, 12.0, 40.0, 40.0],
        pdf_columns: &[
            (0, 0.0, 16),
            (1, 85.0, 14),
            (3, 165.0, 6),
            (4, 200.0, 5),
            (7, 230.0, 9),
            (8, 285.0, 40),
        ],
    };
}

/// One row of cells.
struct Cells(Vec<String>);

impl ExportRow for Cells {
    fn cells(&self) -> Vec<String> {
        self.0.clone()
    }

    fn number(&self, col: usize) -> Option<f64> {
        self.0.get(col).and_then(|c| c.parse::<f64>().ok())
    }
}

/// A report's rows as a CSV, XLSX or PDF file.
pub async fn export_table(
    state: &AppState,
    format: ExportFormat,
    report: &TableReport,
    filters: &str,
    rows: Vec<Vec<String>>,
) -> Result<Response, MealsError> {
    let now = state.clock.now();
    let made = now
        .to_offset(JAKARTA)
        .format(time::macros::format_description!(
            "[year]-[month]-[day] [hour]:[minute] WIB"
        ))
        .unwrap_or_default();
    let generated = Msg::new("Dibuat", "Generated").localized().to_owned();
    let subtitle = if filters.is_empty() {
        format!("{generated} {made}")
    } else {
        format!("{filters} · {generated} {made}")
    };
    let layout = Layout {
        title: report.title.localized().to_owned(),
        subtitle,
        columns: report
            .columns
            .iter()
            .map(|m| m.localized().to_owned())
            .collect(),
        truncated: export::truncated_label(),
        sheet: report.sheet,
        widths: report.widths,
        pdf_columns: report.pdf_columns,
        file_name: export::stamped_file_name(report.stem, format, now),
    };
    let rows: Vec<Cells> = rows.into_iter().map(Cells).collect();
    Ok(export::respond(format, rows.into_iter(), layout).await?)
}

/// The shared report query (each report reads the fields it knows).
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
pub struct ReportQuery {
    tanggal_mulai: Option<String>,
    tanggal_akhir: Option<String>,
    /// `DAILY` (default), `WEEKLY` or `MONTHLY` (consumption).
    group_by: Option<String>,
    shift_id: Option<String>,
    department_id: Option<String>,
    /// An order status (department report).
    status: Option<String>,
    /// `PENDING`, `APPROVED` or `REJECTED` (rejections).
    approval_status: Option<String>,
    page: Option<String>,
    limit: Option<String>,
    /// `csv`, `xlsx` or `pdf`; JSON when absent.
    format: Option<String>,
}

impl ReportQuery {
    fn format(&self) -> Result<Option<ExportFormat>, MealsError> {
        match self.format.as_deref().filter(|f| !f.trim().is_empty()) {
            None => Ok(None),
            Some(f) => Ok(Some(ExportFormat::parse(Some(f))?)),
        }
    }

    /// The order-date range; `default_days` back from today when neither end is given.
    fn dates(
        &self,
        now: OffsetDateTime,
        default_days: Option<i64>,
    ) -> Result<(Option<Date>, Option<Date>), MealsError> {
        let start = match self
            .tanggal_mulai
            .as_deref()
            .filter(|d| !d.trim().is_empty())
        {
            Some(d) => Some(parse_date(d, "tanggalMulai")?),
            None => None,
        };
        let end = match self
            .tanggal_akhir
            .as_deref()
            .filter(|d| !d.trim().is_empty())
        {
            Some(d) => Some(parse_date(d, "tanggalAkhir")?),
            None => None,
        };
        if let (Some(s), Some(e)) = (start, end) {
            if s > e {
                return Err(invalid(
                    "tanggalMulai harus sebelum tanggalAkhir",
                    "tanggalMulai must not be after tanggalAkhir",
                ));
            }
        }
        match (start, end, default_days) {
            (None, None, Some(days)) => {
                let today = today(now);
                Ok((Some(today - Duration::days(days - 1)), Some(today)))
            }
            other => Ok((other.0, other.1)),
        }
    }

    /// A one-line description of the filters, for the PDF.
    fn describe(&self, start: Option<Date>, end: Option<Date>) -> String {
        describe_filters(
            start.map(|d| d.to_string()).as_deref(),
            end.map(|d| d.to_string()).as_deref(),
            &[
                ("groupBy", self.group_by.as_deref()),
                ("shiftId", self.shift_id.as_deref()),
                ("departmentId", self.department_id.as_deref()),
                ("status", self.status.as_deref()),
                ("approvalStatus", self.approval_status.as_deref()),
            ],
        )
    }
}

/// A one-line description of a file's filters (the PDF's subtitle): the date range, then
/// each filter given as `name=value`.
pub fn describe_filters(
    start: Option<&str>,
    end: Option<&str>,
    named: &[(&str, Option<&str>)],
) -> String {
    let mut parts = Vec::new();
    let (start, end) = (
        start.map(str::trim).filter(|d| !d.is_empty()),
        end.map(str::trim).filter(|d| !d.is_empty()),
    );
    if start.is_some() || end.is_some() {
        parts.push(format!(
            "{} – {}",
            start.unwrap_or_default(),
            end.unwrap_or_default()
        ));
    }
    for (name, value) in named {
        if let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) {
            parts.push(format!("{name}={v}"));
        }
    }
    parts.join(", ")
}

/// Orders between two order dates, with the filters every report shares.
fn order_filter(
    start: Option<Date>,
    end: Option<Date>,
    shift: Option<i32>,
    dept: Option<i32>,
) -> Condition {
    let mut cond = Condition::all();
    if let Some(s) = start {
        cond = cond.add(order::Column::OrderDate.gte(s.to_string()));
    }
    if let Some(e) = end {
        cond = cond.add(order::Column::OrderDate.lte(e.to_string()));
    }
    if let Some(s) = shift {
        cond = cond.add(order::Column::ShiftId.eq(s));
    }
    if let Some(d) = dept {
        cond = cond.add(order::Column::DepartmentId.eq(d));
    }
    cond
}

/// The start of `day`'s period.
fn period(day: Date, group: &str) -> String {
    match group {
        "WEEKLY" => {
            (day - Duration::days(i64::from(day.weekday().number_days_from_monday()))).to_string()
        }
        "MONTHLY" => format!("{:04}-{:02}", day.year(), u8::from(day.month())),
        _ => day.to_string(),
    }
}

/// Consumption per period (administrator); the last 7 days by default.
#[utoipa::path(get, path = "/meals/api/reports/consumption", tag = "meals", params(ReportQuery),
    responses((status = 200, description = "`[{period, totalOrders, totalMeals}]` or the file"), (status = 400), (status = 403)))]
pub async fn consumption(
    State(state): State<AppState>,
    _admin: Admin,
    QueryParams(q): QueryParams<ReportQuery>,
) -> Result<Response, ApiError> {
    let group = match q.group_by.as_deref().map(str::trim) {
        None | Some("") | Some("DAILY") => "DAILY",
        Some("WEEKLY") => "WEEKLY",
        Some("MONTHLY") => "MONTHLY",
        Some(_) => {
            return Err(invalid(
                "groupBy harus DAILY, WEEKLY atau MONTHLY",
                "groupBy must be DAILY, WEEKLY or MONTHLY",
            )
            .into())
        }
    };
    let format = q.format()?;
    let (start, end) = q.dates(state.clock.now(), Some(7))?;
    let shift = optional_id(q.shift_id.as_deref(), "shiftId")?;
    let rows = order::Entity::find()
        .filter(order_filter(start, end, shift, None))
        .filter(order::Column::Status.ne(Status::Ditolak.as_str()))
        .all(&state.db)
        .await
        .map_err(MealsError::from)?;
    let mut periods: BTreeMap<String, (u64, i64)> = BTreeMap::new();
    for o in rows {
        let Ok(day) = parse_date(&o.order_date, "tanggalPesanan") else {
            continue;
        };
        let entry = periods.entry(period(day, group)).or_default();
        entry.0 += 1;
        entry.1 += i64::from(o.quantity);
    }
    if let Some(format) = format {
        let rows = periods
            .iter()
            .map(|(p, (n, m))| vec![p.clone(), n.to_string(), m.to_string()])
            .collect();
        let filters = q.describe(start, end);
        return Ok(export_table(&state, format, &TableReport::CONSUMPTION, &filters, rows).await?);
    }
    let data: Vec<Value> = periods
        .into_iter()
        .map(|(p, (n, m))| json!({ "period": p, "totalOrders": n, "totalMeals": m }))
        .collect();
    Ok(Json(data).into_response())
}

/// Orders and meals per department with their share of the meals (administrator).
#[utoipa::path(get, path = "/meals/api/reports/department", tag = "meals", params(ReportQuery),
    responses((status = 200, description = "`[{departmentId, departmentName, totalOrders, totalMeals, percentage}]` or the file"), (status = 400), (status = 403)))]
pub async fn department(
    State(state): State<AppState>,
    _admin: Admin,
    QueryParams(q): QueryParams<ReportQuery>,
) -> Result<Response, ApiError> {
    let format = q.format()?;
    let (start, end) = q.dates(state.clock.now(), None)?;
    let shift = optional_id(q.shift_id.as_deref(), "shiftId")?;
    let dept = optional_id(q.department_id.as_deref(), "departmentId")?;
    let mut query = order::Entity::find().filter(order_filter(start, end, shift, dept));
    if let Some(status) = q.status.as_deref().filter(|s| !s.trim().is_empty()) {
        query = query.filter(order::Column::Status.eq(Status::parse(status)?.as_str()));
    }
    let rows = query.all(&state.db).await.map_err(MealsError::from)?;
    let names = Names::load(&state.db).await?;
    let mut by_dept: BTreeMap<i32, (u64, i64)> = BTreeMap::new();
    for o in &rows {
        let entry = by_dept.entry(o.department_id).or_default();
        entry.0 += 1;
        entry.1 += i64::from(o.quantity);
    }
    let all_meals: i64 = by_dept.values().map(|(_, m)| m).sum();
    let share = |m: i64| {
        if all_meals == 0 {
            0.0
        } else {
            (m as f64 * 1000.0 / all_meals as f64).round() / 10.0
        }
    };
    let name = |id: i32| names.departments.get(&id).cloned().unwrap_or_default();
    if let Some(format) = format {
        let rows = by_dept
            .iter()
            .map(|(id, (n, m))| {
                vec![
                    id.to_string(),
                    name(*id),
                    n.to_string(),
                    m.to_string(),
                    format!("{:.1}", share(*m)),
                ]
            })
            .collect();
        let filters = q.describe(start, end);
        return Ok(export_table(&state, format, &TableReport::DEPARTMENT, &filters, rows).await?);
    }
    let data: Vec<Value> = by_dept
        .into_iter()
        .map(|(id, (n, m))| {
            json!({
                "departmentId": id,
                "departmentName": name(id),
                "totalOrders": n,
                "totalMeals": m,
                "percentage": share(m),
            })
        })
        .collect();
    Ok(Json(data).into_response())
}

/// Sums of the four durations (minutes) and how many orders each stage had.
#[derive(Debug, Default, Clone, Copy)]
struct Durations {
    count: u64,
    sums: [f64; 4],
    counts: [u64; 4],
}

impl Durations {
    fn add(&mut self, o: &order::Model) {
        let minutes = |a: Option<OffsetDateTime>, b: Option<OffsetDateTime>| match (a, b) {
            (Some(a), Some(b)) if b >= a => Some((b - a).as_seconds_f64() / 60.0),
            _ => None,
        };
        self.count += 1;
        let stages = [
            minutes(Some(o.created_at), o.done_at),
            minutes(Some(o.created_at), o.processing_at),
            minutes(o.processing_at, o.ready_at),
            minutes(o.ready_at, o.done_at),
        ];
        for (i, stage) in stages.into_iter().enumerate() {
            if let Some(m) = stage {
                self.sums[i] += m;
                self.counts[i] += 1;
            }
        }
    }

    fn averages(&self) -> [f64; 4] {
        let mut out = [0.0; 4];
        for (i, avg) in out.iter_mut().enumerate() {
            if self.counts[i] > 0 {
                *avg = (self.sums[i] / self.counts[i] as f64 * 10.0).round() / 10.0;
            }
        }
        out
    }

    fn json(&self) -> serde_json::Map<String, Value> {
        let [total, processing, preparation, delivery] = self.averages();
        let mut map = serde_json::Map::new();
        map.insert("count".into(), json!(self.count));
        map.insert("avgTotalDurationMinutes".into(), json!(total));
        map.insert("avgProcessingTimeMinutes".into(), json!(processing));
        map.insert("avgPreparationTimeMinutes".into(), json!(preparation));
        map.insert("avgDeliveryTimeMinutes".into(), json!(delivery));
        map
    }

    fn cells(&self, scope: &str, id: String, name: String) -> Vec<String> {
        let mut cells = vec![scope.to_owned(), id, name, self.count.to_string()];
        cells.extend(self.averages().iter().map(|a| format!("{a:.1}")));
        cells
    }
}

/// Average durations of `COMPLETE` orders, overall, per department and per shift
/// (administrator); the range applies to creation (from) and completion (until).
#[utoipa::path(get, path = "/meals/api/reports/performance", tag = "meals", params(ReportQuery),
    responses((status = 200, description = "`{overall, byDepartment, byShift}` or the file"), (status = 400), (status = 403)))]
pub async fn performance(
    State(state): State<AppState>,
    _admin: Admin,
    QueryParams(q): QueryParams<ReportQuery>,
) -> Result<Response, ApiError> {
    let format = q.format()?;
    let (from, until) = day_range(q.tanggal_mulai.as_deref(), q.tanggal_akhir.as_deref())?;
    let shift = optional_id(q.shift_id.as_deref(), "shiftId")?;
    let dept = optional_id(q.department_id.as_deref(), "departmentId")?;
    let mut query = order::Entity::find()
        .filter(order_filter(None, None, shift, dept))
        .filter(order::Column::Status.eq(Status::Complete.as_str()));
    if let Some(from) = from {
        query = query.filter(order::Column::CreatedAt.gte(from));
    }
    if let Some(until) = until {
        query = query.filter(order::Column::DoneAt.lt(until));
    }
    let rows = query.all(&state.db).await.map_err(MealsError::from)?;
    let names = Names::load(&state.db).await?;
    let mut overall = Durations::default();
    let mut by_dept: BTreeMap<i32, Durations> = BTreeMap::new();
    let mut by_shift: BTreeMap<i32, Durations> = BTreeMap::new();
    for o in &rows {
        overall.add(o);
        by_dept.entry(o.department_id).or_default().add(o);
        by_shift.entry(o.shift_id).or_default().add(o);
    }
    let dept_name = |id: &i32| names.departments.get(id).cloned().unwrap_or_default();
    let shift_name = |id: &i32| names.shifts.get(id).cloned().unwrap_or_default();
    if let Some(format) = format {
        let mut rows = vec![overall.cells("overall", String::new(), String::new())];
        rows.extend(
            by_dept
                .iter()
                .map(|(id, d)| d.cells("department", id.to_string(), dept_name(id))),
        );
        rows.extend(
            by_shift
                .iter()
                .map(|(id, d)| d.cells("shift", id.to_string(), shift_name(id))),
        );
        let (start, end) = q.dates(state.clock.now(), None)?;
        let filters = q.describe(start, end);
        return Ok(export_table(&state, format, &TableReport::PERFORMANCE, &filters, rows).await?);
    }
    let group = |map: &BTreeMap<i32, Durations>,
                 key: &str,
                 name_key: &str,
                 name: &dyn Fn(&i32) -> String| {
        map.iter()
            .map(|(id, d)| {
                let mut m = serde_json::Map::new();
                m.insert(key.into(), json!(id));
                m.insert(name_key.into(), json!(name(id)));
                m.extend(d.json());
                Value::Object(m)
            })
            .collect::<Vec<_>>()
    };
    Ok(Json(json!({
        "overall": Value::Object(overall.json()),
        "byDepartment": group(&by_dept, "departmentId", "departmentName", &dept_name),
        "byShift": group(&by_shift, "shiftId", "shiftName", &shift_name),
    }))
    .into_response())
}

/// One kitchen request in the rejection report.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct RejectionRow {
    id: i32,
    kode_pesanan: String,
    department_id: i32,
    department_name: Option<String>,
    karyawan_pemesan_id: i32,
    shift_id: i32,
    shift_name: Option<String>,
    jumlah_pesanan: i32,
    jumlah_pesanan_awal: Option<i32>,
    status_pesanan: String,
    requires_approval: bool,
    approval_status: Option<String>,
    catatan_dapur: Option<String>,
    catatan_admin: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    waktu_dibuat: OffsetDateTime,
    request_type: Option<String>,
}

/// The kitchen's rejection and edit requests, newest first, paginated (administrator).
#[utoipa::path(get, path = "/meals/api/reports/rejections", tag = "meals", params(ReportQuery),
    responses((status = 200, description = "`{data, total, page, limit, totalPages}` or the file (current page)"), (status = 400), (status = 403)))]
pub async fn rejections(
    State(state): State<AppState>,
    _admin: Admin,
    QueryParams(q): QueryParams<ReportQuery>,
) -> Result<Response, ApiError> {
    let format = q.format()?;
    let page = Page::parse(q.page.as_deref(), q.limit.as_deref())?;
    let (start, end) = q.dates(state.clock.now(), None)?;
    let dept = optional_id(q.department_id.as_deref(), "departmentId")?;
    let mut query = order::Entity::find()
        .filter(order_filter(start, end, None, dept))
        .filter(order::Column::RequestType.is_not_null());
    match q.approval_status.as_deref().map(str::trim) {
        None | Some("") => {}
        Some(s @ ("PENDING" | "APPROVED" | "REJECTED")) => {
            query = query.filter(order::Column::ApprovalStatus.eq(s));
        }
        Some(_) => {
            return Err(invalid(
                "approvalStatus harus PENDING, APPROVED atau REJECTED",
                "approvalStatus must be PENDING, APPROVED or REJECTED",
            )
            .into())
        }
    }
    let query = query
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
    let names = Names::load(&state.db).await?;
    let data: Vec<RejectionRow> = rows
        .into_iter()
        .map(|o| RejectionRow {
            id: o.id,
            department_name: names.departments.get(&o.department_id).cloned(),
            shift_name: names.shifts.get(&o.shift_id).cloned(),
            kode_pesanan: o.code,
            department_id: o.department_id,
            karyawan_pemesan_id: o.employee_id,
            shift_id: o.shift_id,
            jumlah_pesanan: o.quantity,
            jumlah_pesanan_awal: o.original_quantity,
            status_pesanan: o.status,
            requires_approval: o.requires_approval,
            approval_status: o.approval_status,
            catatan_dapur: o.kitchen_note,
            catatan_admin: o.admin_note,
            waktu_dibuat: o.created_at,
            request_type: o.request_type,
        })
        .collect();
    if let Some(format) = format {
        let opt = |v: Option<i32>| v.map(|v| v.to_string()).unwrap_or_default();
        let rows = data
            .into_iter()
            .map(|r| {
                vec![
                    r.kode_pesanan,
                    r.department_name.unwrap_or_default(),
                    r.shift_name.unwrap_or_default(),
                    r.request_type.unwrap_or_default(),
                    r.jumlah_pesanan.to_string(),
                    opt(r.jumlah_pesanan_awal),
                    r.status_pesanan,
                    r.approval_status.unwrap_or_default(),
                    r.catatan_dapur.unwrap_or_default(),
                    r.catatan_admin.unwrap_or_default(),
                ]
            })
            .collect();
        let filters = q.describe(start, end);
        return Ok(export_table(&state, format, &TableReport::REJECTIONS, &filters, rows).await?);
    }
    Ok(Json(page.wrap(data, total)).into_response())
}
