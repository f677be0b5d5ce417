//! Analytics over the access log: per-day and per-hour counts, success rate, the split by
//! method and deny reason, top users (the dashboard), and a period summary per device or
//! per person (the report). Days and hours are bucketed in the request's UTC offset with
//! integer arithmetic on `ts_ms`, identical on SQLite and PostgreSQL.

use sea_orm::{ConnectionTrait, QueryResult};
use serde::Serialize;
use time::{format_description::well_known::Rfc3339, Date, OffsetDateTime};
use utoipa::ToSchema;

use super::filter::{AccessFilter, Sql};
use platform::{
    error::{DbContext, ServiceError},
    i18n::Msg,
    sql::stmt,
};

const MS_PER_DAY: i64 = 86_400_000;
const MS_PER_HOUR: i64 = 3_600_000;
/// The longest range analytics accept (per-day buckets stay a bounded list).
pub const MAX_RANGE_DAYS: i64 = 366;
/// The range when the client names none: the last 7 days, today included.
pub const DEFAULT_RANGE_DAYS: i64 = 7;
/// Most top users / report rows.
pub const MAX_TOP: u32 = 100;

/// Granted and denied counts and their rate.
#[derive(Debug, Clone, Default, Serialize, ToSchema, PartialEq)]
pub struct Counts {
    pub total: u64,
    pub granted: u64,
    pub denied: u64,
    /// Granted / total, in percent with one decimal (0 when there is nothing).
    pub success_rate: f64,
}

impl Counts {
    fn new(total: i64, granted: i64) -> Self {
        let total = total.max(0) as u64;
        let granted = (granted.max(0) as u64).min(total);
        let success_rate = if total == 0 {
            0.0
        } else {
            (granted as f64 * 1000.0 / total as f64).round() / 10.0
        };
        Counts {
            total,
            granted,
            denied: total - granted,
            success_rate,
        }
    }

    /// The counts of the grouped row whose `bucket` is `bucket`; zero where none is.
    fn in_bucket(rows: &[QueryResult], bucket: i64) -> Result<Self, ServiceError> {
        match rows
            .iter()
            .find(|r| r.try_get::<i64>("", "bucket").ok() == Some(bucket))
        {
            Some(row) => Counts::from_row(row),
            None => Ok(Counts::default()),
        }
    }

    fn from_row(row: &QueryResult) -> Result<Self, ServiceError> {
        let total: i64 = row.try_get("", "total").db("reading a total")?;
        let granted: Option<i64> = row.try_get("", "granted").db("reading a count")?;
        Ok(Counts::new(total, granted.unwrap_or(0)))
    }
}

/// The analysed period.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Period {
    /// Inclusive start (RFC 3339 in the requested offset).
    pub from: String,
    /// Exclusive end.
    pub to: String,
    /// The offset used for days and hours, e.g. `+07:00`.
    pub tz: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DayCount {
    /// `YYYY-MM-DD` in the requested offset.
    pub date: String,
    #[serde(flatten)]
    pub counts: Counts,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HourCount {
    /// 0–23, local hour in the requested offset (all days of the period together).
    pub hour: u8,
    #[serde(flatten)]
    pub counts: Counts,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KeyCount {
    /// The method, reason or device.
    pub key: String,
    #[serde(flatten)]
    pub counts: Counts,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TopUser {
    pub user_id: String,
    pub user_name: Option<String>,
    #[serde(flatten)]
    pub counts: Counts,
    /// The person's latest attempt in the period (RFC 3339).
    pub last_access: String,
}

/// `GET /api/analytics/dashboard`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Dashboard {
    pub period: Period,
    pub totals: Counts,
    /// Attempts whose face was not in the gallery.
    pub unknown_faces: u64,
    /// Distinct people recognised.
    pub unique_users: u64,
    /// Every day of the period, zeros included.
    pub per_day: Vec<DayCount>,
    /// All 24 hours, zeros included.
    pub per_hour: Vec<HourCount>,
    pub by_method: Vec<KeyCount>,
    /// Denied attempts by reason.
    pub by_reason: Vec<KeyCount>,
    pub by_device: Vec<KeyCount>,
    pub top_users: Vec<TopUser>,
}

/// One row of a report.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReportRow {
    /// The device id or person id.
    pub id: String,
    /// The device's or person's name.
    pub name: Option<String>,
    #[serde(flatten)]
    pub counts: Counts,
    /// Days of the period with at least one attempt.
    pub active_days: u64,
    pub first_access: String,
    pub last_access: String,
}

/// `GET /api/analytics/reports`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Report {
    pub period: Period,
    /// `device` or `person`.
    pub group_by: String,
    pub totals: Counts,
    pub rows: Vec<ReportRow>,
}

/// What a report groups by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupBy {
    Device,
    Person,
}

impl GroupBy {
    pub fn parse(raw: Option<&str>) -> Result<GroupBy, ServiceError> {
        match raw.map(str::trim).filter(|s| !s.is_empty()) {
            None | Some("device") => Ok(GroupBy::Device),
            Some("person") | Some("user") => Ok(GroupBy::Person),
            Some(_) => Err(ServiceError::Invalid(Msg::new(
                "group_by harus \"device\" atau \"person\"",
                "group_by must be \"device\" or \"person\"",
            ))),
        }
    }

    fn name(self) -> &'static str {
        match self {
            GroupBy::Device => "device",
            GroupBy::Person => "person",
        }
    }
}

/// Fills in a missing range (the last [`DEFAULT_RANGE_DAYS`] days up to the end of today
/// in the filter's offset, or 7 days around the given bound) and refuses ranges longer
/// than [`MAX_RANGE_DAYS`].
pub fn bounded(
    mut filter: AccessFilter,
    now: OffsetDateTime,
) -> Result<AccessFilter, ServiceError> {
    let tz_ms = filter.tz_ms();
    let span = DEFAULT_RANGE_DAYS * MS_PER_DAY;
    match (filter.from_ms, filter.to_ms) {
        (Some(_), Some(_)) => {}
        (Some(from), None) => filter.to_ms = Some(from + span),
        (None, Some(to)) => filter.from_ms = Some(to - span),
        (None, None) => {
            let now_ms = super::store::unix_ms(now);
            let end_of_today = ((now_ms + tz_ms).div_euclid(MS_PER_DAY) + 1) * MS_PER_DAY - tz_ms;
            filter.to_ms = Some(end_of_today);
            filter.from_ms = Some(end_of_today - span);
        }
    }
    let (Some(from), Some(to)) = (filter.from_ms, filter.to_ms) else {
        return Err(ServiceError::internal("analytics range", "unset bound"));
    };
    if to - from > MAX_RANGE_DAYS * MS_PER_DAY {
        return Err(ServiceError::Invalid(Msg::owned(
            format!("Rentang analitik maksimal {MAX_RANGE_DAYS} hari"),
            format!("An analytics range may span at most {MAX_RANGE_DAYS} days"),
        )));
    }
    Ok(filter)
}

fn ms_to_text(ms: i64, filter: &AccessFilter) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .map(|t| t.to_offset(filter.tz))
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

fn period(filter: &AccessFilter) -> Period {
    let (h, m, _) = filter.tz.as_hms();
    Period {
        from: filter
            .from_ms
            .map(|ms| ms_to_text(ms, filter))
            .unwrap_or_default(),
        to: filter
            .to_ms
            .map(|ms| ms_to_text(ms, filter))
            .unwrap_or_default(),
        tz: format!(
            "{}{:02}:{:02}",
            if filter.tz.is_negative() { '-' } else { '+' },
            h.unsigned_abs(),
            m.unsigned_abs()
        ),
    }
}

const COUNTS: &str =
    "COUNT(*) AS total, SUM(CASE WHEN l.result = 'granted' THEN 1 ELSE 0 END) AS granted";

/// Runs `SELECT {select} FROM access_logs l {join} WHERE <filter> {extra_where} {tail}`;
/// `head` holds values bound in `select` (they come first).
async fn grouped(
    db: &impl ConnectionTrait,
    filter: &AccessFilter,
    head: Sql,
    join: &str,
    extra_where: &str,
    tail: Sql,
) -> Result<Vec<QueryResult>, ServiceError> {
    let mut sql = head;
    sql.push(" FROM access_logs l ")
        .push(join)
        .push(" WHERE 1 = 1");
    filter.push_conditions(&mut sql);
    sql.push(extra_where);
    sql.text.push_str(&tail.text);
    sql.values.extend(tail.values);
    db.query_all(stmt(db.get_database_backend(), &sql.text, sql.values))
        .await
        .db("computing access analytics")
}

fn select(text: &str) -> Sql {
    let mut sql = Sql::default();
    sql.push("SELECT ").push(text);
    sql
}

fn tail(text: &str) -> Sql {
    let mut sql = Sql::default();
    sql.push(text);
    sql
}

async fn by_key(
    db: &impl ConnectionTrait,
    filter: &AccessFilter,
    column: &str,
    extra_where: &str,
) -> Result<Vec<KeyCount>, ServiceError> {
    let rows = grouped(
        db,
        filter,
        select(&format!("{column} AS k, {COUNTS}")),
        "",
        extra_where,
        tail(&format!(" GROUP BY {column} ORDER BY total DESC, k")),
    )
    .await?;
    rows.iter()
        .map(|row| {
            Ok(KeyCount {
                key: row
                    .try_get::<Option<String>>("", "k")
                    .db("reading a key")?
                    .unwrap_or_default(),
                counts: Counts::from_row(row)?,
            })
        })
        .collect()
}

/// The dashboard for `filter` (whose range must be set; see [`bounded`]).
pub async fn dashboard(
    db: &impl ConnectionTrait,
    filter: &AccessFilter,
    top: u32,
) -> Result<Dashboard, ServiceError> {
    let (Some(from), Some(to)) = (filter.from_ms, filter.to_ms) else {
        return Err(ServiceError::internal("dashboard", "range not set"));
    };
    let tz_ms = filter.tz_ms();

    let totals_rows = grouped(
        db,
        filter,
        select(&format!(
            "{COUNTS}, SUM(CASE WHEN l.reason = 'unknown_face' THEN 1 ELSE 0 END) AS unknown, \
             COUNT(DISTINCT l.person_id) AS people"
        )),
        "",
        "",
        Sql::default(),
    )
    .await?;
    let (totals, unknown_faces, unique_users) = match totals_rows.first() {
        Some(row) => (
            Counts::from_row(row)?,
            row.try_get::<Option<i64>>("", "unknown")
                .db("reading a count")?
                .unwrap_or(0)
                .max(0) as u64,
            row.try_get::<i64>("", "people")
                .db("reading a count")?
                .max(0) as u64,
        ),
        None => (Counts::default(), 0, 0),
    };

    let mut head = Sql::default();
    head.bind("SELECT (l.ts_ms + ?)", tz_ms)
        .push(&format!(" / {MS_PER_DAY} AS bucket, {COUNTS}"));
    let day_rows = grouped(
        db,
        filter,
        head,
        "",
        "",
        tail(" GROUP BY bucket ORDER BY bucket"),
    )
    .await?;
    let first_day = (from + tz_ms).div_euclid(MS_PER_DAY);
    let last_day = (to - 1 + tz_ms).div_euclid(MS_PER_DAY);
    let mut per_day = Vec::new();
    for day in first_day..=last_day {
        let counts = Counts::in_bucket(&day_rows, day)?;
        let date = Date::from_julian_day((day + 2_440_588) as i32)
            .map(|d| d.to_string())
            .unwrap_or_default();
        per_day.push(DayCount { date, counts });
    }

    let mut head = Sql::default();
    head.bind("SELECT ((l.ts_ms + ?)", tz_ms)
        .push(&format!(" / {MS_PER_HOUR}) % 24 AS bucket, {COUNTS}"));
    let hour_rows = grouped(
        db,
        filter,
        head,
        "",
        "",
        tail(" GROUP BY bucket ORDER BY bucket"),
    )
    .await?;
    let mut per_hour = Vec::with_capacity(24);
    for hour in 0..24u8 {
        let counts = Counts::in_bucket(&hour_rows, i64::from(hour))?;
        per_hour.push(HourCount { hour, counts });
    }

    let by_method = by_key(db, filter, "l.method", "").await?;
    let by_reason = by_key(db, filter, "l.reason", " AND l.reason IS NOT NULL").await?;
    let by_device = by_key(db, filter, "l.device_id", "").await?;

    let rows = grouped(
        db,
        filter,
        select(&format!(
            "l.person_id AS k, MAX(l.person_name) AS name, MAX(l.ts_ms) AS last_ms, {COUNTS}"
        )),
        "",
        " AND l.person_id IS NOT NULL",
        {
            let mut t = Sql::default();
            t.bind(
                " GROUP BY l.person_id ORDER BY total DESC, k LIMIT ?",
                i64::from(top.clamp(1, MAX_TOP)),
            );
            t
        },
    )
    .await?;
    let top_users = rows
        .iter()
        .map(|row| {
            Ok(TopUser {
                user_id: row.try_get("", "k").db("reading a person")?,
                user_name: row.try_get("", "name").db("reading a name")?,
                counts: Counts::from_row(row)?,
                last_access: ms_to_text(row.try_get("", "last_ms").db("reading a time")?, filter),
            })
        })
        .collect::<Result<_, ServiceError>>()?;

    Ok(Dashboard {
        period: period(filter),
        totals,
        unknown_faces,
        unique_users,
        per_day,
        per_hour,
        by_method,
        by_reason,
        by_device,
        top_users,
    })
}

/// A period summary per device or per person (range set; see [`bounded`]).
pub async fn report(
    db: &impl ConnectionTrait,
    filter: &AccessFilter,
    group_by: GroupBy,
    limit: u32,
) -> Result<Report, ServiceError> {
    let tz_ms = filter.tz_ms();
    let (key, name, join, extra) = match group_by {
        GroupBy::Device => (
            "l.device_id",
            "MAX(d.name)",
            "LEFT JOIN devices d ON d.id = l.device_id",
            "",
        ),
        GroupBy::Person => (
            "l.person_id",
            "MAX(l.person_name)",
            "",
            " AND l.person_id IS NOT NULL",
        ),
    };
    let mut head = Sql::default();
    head.push(&format!("SELECT {key} AS k, {name} AS name, "))
        .bind("COUNT(DISTINCT (l.ts_ms + ?)", tz_ms)
        .push(&format!(
            " / {MS_PER_DAY}) AS days, MIN(l.ts_ms) AS first_ms, MAX(l.ts_ms) AS last_ms, {COUNTS}"
        ));
    let mut t = Sql::default();
    t.push(&format!(" GROUP BY {key} ORDER BY total DESC, k LIMIT ?"));
    t.values
        .push(i64::from(limit.clamp(1, MAX_TOP * 10)).into());
    let rows = grouped(db, filter, head, join, extra, t).await?;
    let rows = rows
        .iter()
        .map(|row| {
            Ok(ReportRow {
                id: row
                    .try_get::<Option<String>>("", "k")
                    .db("reading a key")?
                    .unwrap_or_default(),
                name: row.try_get("", "name").db("reading a name")?,
                counts: Counts::from_row(row)?,
                active_days: row.try_get::<i64>("", "days").db("reading a count")?.max(0) as u64,
                first_access: ms_to_text(row.try_get("", "first_ms").db("reading a time")?, filter),
                last_access: ms_to_text(row.try_get("", "last_ms").db("reading a time")?, filter),
            })
        })
        .collect::<Result<Vec<_>, ServiceError>>()?;
    let totals_rows = grouped(db, filter, select(COUNTS), "", extra, Sql::default()).await?;
    let totals = match totals_rows.first() {
        Some(row) => Counts::from_row(row)?,
        None => Counts::default(),
    };
    Ok(Report {
        period: period(filter),
        group_by: group_by.name().into(),
        totals,
        rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_rates() {
        assert_eq!(Counts::new(0, 0).success_rate, 0.0);
        let c = Counts::new(3, 2);
        assert_eq!((c.total, c.granted, c.denied), (3, 2, 1));
        assert_eq!(c.success_rate, 66.7);
    }

    #[test]
    fn default_range_ends_at_the_end_of_today() {
        let now = OffsetDateTime::from_unix_timestamp(1_793_500_000).unwrap(); // 2026-11-01 02:26Z
        let f = bounded(AccessFilter::default(), now).unwrap();
        // End of 2026-11-01 in +07:00 = 2026-11-01T17:00Z.
        assert_eq!(f.to_ms, Some(1_793_552_400_000));
        assert_eq!(f.to_ms.unwrap() - f.from_ms.unwrap(), 7 * MS_PER_DAY);
        let long = AccessFilter {
            from_ms: Some(0),
            to_ms: Some(400 * MS_PER_DAY),
            ..AccessFilter::default()
        };
        assert!(bounded(long, now).is_err());
    }
}
