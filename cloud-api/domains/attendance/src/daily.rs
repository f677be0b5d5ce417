//! A day's attendance for admins (`GET /api/attendance/daily`): one row per person expected
//! at work that day — their first check-in, last check-out and whether they were present,
//! late or absent — from the attendance records (web check-ins and kiosk events alike), in
//! the site's time zone. The same rows are the day's CSV/XLSX/PDF export.
//!
//! Who is expected on a day: every enabled person who existed by then (created on or before
//! that site-local day) whose weekly access windows include that weekday (no windows: every
//! day), plus anyone who has a record that day (disabled later or not, they came).
//! Late: the check-in is after the site's `people.work_starts_at`; when that is not set,
//! the kiosk's own judgement stored with the record.

use people::PeopleRuntime;
use std::collections::HashMap;

use protocol::sync::AccessWindow;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::Serialize;
use time::{format_description::well_known::Rfc3339, Date, OffsetDateTime};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::entities::attendance;
use people::service::access_windows;
use platform::{
    db::entities::user,
    error::{DbContext, ServiceError},
    export::{stamped_file_name, truncated_label, ExportFormat, ExportRow, Layout},
    i18n::Msg,
    state::Platform,
};

/// A person's standing on the day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DayStatus {
    Present,
    Late,
    Absent,
}

impl DayStatus {
    fn label(self) -> Msg {
        match self {
            DayStatus::Present => Msg::new("Hadir", "Present"),
            DayStatus::Late => Msg::new("Terlambat", "Late"),
            DayStatus::Absent => Msg::new("Tidak hadir", "Absent"),
        }
    }
}

/// One person's day. Times carry the site's UTC offset.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DailyRow {
    pub user_id: Uuid,
    pub name: String,
    pub department: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub check_in: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub check_out: Option<OffsetDateTime>,
    pub status: DayStatus,
    /// Where the check-in came from: `web` or `device`.
    pub source: Option<String>,
    /// The status in the request's language (for the exports).
    #[serde(skip)]
    status_label: String,
}

/// How many people were present (on time), late and absent.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct DayTotals {
    pub expected: u64,
    pub present: u64,
    pub late: u64,
    pub absent: u64,
}

/// `GET /api/attendance/daily`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DailyReport {
    /// The site-local day, `YYYY-MM-DD`.
    pub date: String,
    /// The site's IANA time zone.
    pub time_zone: String,
    /// `HH:MM`; check-ins after it are late.
    pub work_starts_at: Option<String>,
    pub department: Option<String>,
    pub totals: DayTotals,
    /// By name.
    pub people: Vec<DailyRow>,
}

/// `YYYY-MM-DD`, or 400.
pub fn parse_day(raw: &str) -> Result<Date, ServiceError> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(raw.trim(), &format).map_err(|_| {
        ServiceError::Invalid(Msg::new(
            "date harus berformat YYYY-MM-DD",
            "date must be YYYY-MM-DD",
        ))
    })
}

/// Whether `windows` admit any time on ISO weekday `day` (1 = Monday); none = every day.
fn works_on(windows: &[AccessWindow], day: u8) -> bool {
    windows.is_empty() || windows.iter().any(|w| w.days.contains(&day))
}

/// The report of `day`, for one department (case-insensitive) or everyone.
pub async fn daily(
    platform: &Platform,
    day: Date,
    department: Option<&str>,
) -> Result<DailyReport, ServiceError> {
    let runtime = platform.domain::<PeopleRuntime>();
    let date = day.to_string();
    let department = department.map(str::trim).filter(|d| !d.is_empty());
    let users = user::Entity::find()
        .all(&platform.db)
        .await
        .db("listing users for the day")?;
    let records: HashMap<Uuid, attendance::Model> = attendance::Entity::find()
        .filter(attendance::Column::LocalDate.eq(date.as_str()))
        .all(&platform.db)
        .await
        .db("loading the day's attendance")?
        .into_iter()
        .map(|r| (r.user_id, r))
        .collect();
    let windows = access_windows(&platform.db, None).await?;
    let weekday = day.weekday().number_from_monday();
    let late_at_site = runtime.work_starts_at.is_some();
    let mut totals = DayTotals::default();
    let mut people = Vec::new();
    for u in users {
        if department.is_some_and(|d| {
            !u.department
                .as_deref()
                .is_some_and(|mine| mine.trim().eq_ignore_ascii_case(d))
        }) {
            continue;
        }
        let record = records.get(&u.id);
        let expected = !u.disabled
            && runtime.local_day(u.created_at).0 <= date
            && works_on(
                windows.get(&u.id).map(Vec::as_slice).unwrap_or_default(),
                weekday,
            );
        if !expected && record.is_none() {
            continue;
        }
        let check_in = record
            .filter(|r| r.direction == "check_in")
            .map(|r| runtime.in_site_zone(r.timestamp));
        let check_out = record
            .and_then(|r| r.check_out)
            .map(|at| runtime.in_site_zone(at));
        let status = match (record, check_in) {
            (None, _) => DayStatus::Absent,
            (Some(r), Some(at)) => {
                let late = if late_at_site {
                    runtime.is_late(at.hour() as u16 * 60 + at.minute() as u16)
                } else {
                    r.late
                };
                if late {
                    DayStatus::Late
                } else {
                    DayStatus::Present
                }
            }
            // Only a check-out: they came.
            (Some(_), None) => DayStatus::Present,
        };
        totals.expected += 1;
        match status {
            DayStatus::Present => totals.present += 1,
            DayStatus::Late => totals.late += 1,
            DayStatus::Absent => totals.absent += 1,
        }
        people.push(DailyRow {
            user_id: u.id,
            name: u.name,
            department: u.department,
            check_in,
            check_out,
            status,
            source: record
                .filter(|r| r.direction == "check_in")
                .map(|r| r.source.clone()),
            status_label: status.label().localized().to_owned(),
        });
    }
    people.sort_by(|a, b| {
        a.name
            .to_lowercase()
            .cmp(&b.name.to_lowercase())
            .then(a.user_id.cmp(&b.user_id))
    });
    Ok(DailyReport {
        date,
        time_zone: runtime.time_zone_name.clone(),
        work_starts_at: runtime.work_starts_at.clone(),
        department: department.map(str::to_owned),
        totals,
        people,
    })
}

fn clock_time(at: Option<OffsetDateTime>) -> String {
    at.and_then(|at| at.format(&Rfc3339).ok())
        .unwrap_or_default()
}

impl ExportRow for DailyRow {
    fn cells(&self) -> Vec<String> {
        vec![
            self.name.clone(),
            self.department.clone().unwrap_or_default(),
            clock_time(self.check_in),
            clock_time(self.check_out),
            self.status_label.clone(),
            self.user_id.to_string(),
        ]
    }
}

const WIDTHS: [f64; 6] = [28.0, 20.0, 27.0, 27.0, 12.0, 38.0];
const PDF_COLUMNS: [(usize, f32, usize); 6] = [
    (0, 0.0, 32),
    (1, 170.0, 22),
    (2, 300.0, 25),
    (3, 430.0, 25),
    (4, 560.0, 12),
    (5, 620.0, 36),
];

/// The export layout of `report`, in the request's language.
pub fn layout(report: &DailyReport, format: ExportFormat, now: OffsetDateTime) -> Layout {
    let columns = [
        Msg::new("Nama", "Name"),
        Msg::new("Departemen", "Department"),
        Msg::new("Masuk", "Check-in"),
        Msg::new("Pulang", "Check-out"),
        Msg::new("Status", "Status"),
        Msg::new("ID Pengguna", "User ID"),
    ];
    let t = &report.totals;
    let subtitle = format!(
        "{} {} ({}) | {}: {} | {} {}, {} {}, {} {}",
        Msg::new("Tanggal", "Date").localized(),
        report.date,
        report.time_zone,
        Msg::new("Departemen", "Department").localized(),
        report.department.as_deref().unwrap_or("*"),
        t.present,
        DayStatus::Present.label().localized(),
        t.late,
        DayStatus::Late.label().localized(),
        t.absent,
        DayStatus::Absent.label().localized(),
    );
    Layout {
        title: Msg::new("Kehadiran Harian Gerbang", "Gerbang Daily Attendance")
            .localized()
            .to_owned(),
        subtitle,
        columns: columns.iter().map(|m| m.localized().to_owned()).collect(),
        truncated: truncated_label(),
        sheet: "Kehadiran",
        widths: &WIDTHS,
        pdf_columns: &PDF_COLUMNS,
        file_name: stamped_file_name(&format!("kehadiran-{}", report.date), format, now),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_and_windows() {
        assert!(parse_day("2026-11-22").is_ok());
        assert!(parse_day("22-11-2026").is_err());
        assert!(parse_day("2026-02-30").is_err());
        let weekdays = AccessWindow {
            days: vec![1, 2, 3, 4, 5],
            start: "08:00".into(),
            end: "17:00".into(),
        };
        assert!(works_on(&[], 7));
        assert!(works_on(std::slice::from_ref(&weekdays), 1));
        assert!(!works_on(&[weekdays], 7));
    }
}
