//! Calendar periods in the domain's time zone (Asia/Jakarta by default): today, this week
//! (weeks start on Monday), this month, all time — as half-open ranges of unix seconds.

use jiff::{civil::Date, tz::TimeZone, Timestamp, ToSpan};
use platform::i18n::Msg;
use time::OffsetDateTime;

/// A ranking or income period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Period {
    Day,
    Week,
    Month,
    All,
}

impl Period {
    /// `day|week|month|all` (absent: `all`).
    pub fn parse(raw: Option<&str>) -> Result<Period, Msg> {
        match raw.map(str::trim) {
            None | Some("") | Some("all") => Ok(Period::All),
            Some("day") | Some("today") => Ok(Period::Day),
            Some("week") => Ok(Period::Week),
            Some("month") => Ok(Period::Month),
            Some(_) => Err(Msg::new(
                "period harus day, week, month atau all",
                "period must be day, week, month or all",
            )),
        }
    }
}

fn start_of(date: Date, tz: &TimeZone) -> i64 {
    date.to_zoned(tz.clone())
        .map(|z| z.timestamp().as_second())
        .unwrap_or(i64::MIN)
}

/// `[start, end)` of the period containing `now` (unix seconds) in `tz`; `All` spans every
/// time.
pub fn bounds(period: Period, tz: &TimeZone, now: i64) -> (i64, i64) {
    let Ok(at) = Timestamp::from_second(now) else {
        return (i64::MIN, i64::MAX);
    };
    let today = at.to_zoned(tz.clone()).date();
    let (first, next) = match period {
        Period::All => return (i64::MIN, i64::MAX),
        Period::Day => (today, today.checked_add(1.day())),
        Period::Week => {
            let back = i64::from(today.weekday().to_monday_zero_offset());
            let monday = today.checked_sub(back.days()).unwrap_or(today);
            (monday, monday.checked_add(7.days()))
        }
        Period::Month => {
            let first = today.first_of_month();
            (first, first.checked_add(1.month()))
        }
    };
    let end = next.map(|d| start_of(d, tz)).unwrap_or(i64::MAX);
    (start_of(first, tz), end)
}

/// Unix seconds as RFC 3339 (UTC).
pub fn rfc3339(unix: i64) -> String {
    OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

/// An ISO week: `(iso_year, week)`, weeks 1–53 starting on Monday.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct IsoWeek {
    pub year: i16,
    pub week: i8,
}

impl IsoWeek {
    /// The ISO week `now` falls in, in `tz`.
    pub fn containing(tz: &TimeZone, now: i64) -> Option<IsoWeek> {
        let at = Timestamp::from_second(now).ok()?;
        let iso = at.to_zoned(tz.clone()).date().iso_week_date();
        Some(IsoWeek {
            year: iso.year(),
            week: iso.week(),
        })
    }

    /// The latest week numbered `week` that has begun by `now` in `tz`: this ISO year's, or
    /// at the turn of a year an earlier one's (in week 1 of 2027, week 52 is 2026's; week 53
    /// only exists in some years). The current week is itself (a salary request for it is
    /// refused as not over). `None` for a number no recent year has.
    pub fn latest_begun(tz: &TimeZone, week: i8, now: i64) -> Option<IsoWeek> {
        let current = IsoWeek::containing(tz, now)?;
        // Years of 53 weeks are at most 7 years apart.
        (0..=7)
            .map(|back| IsoWeek {
                year: current.year - back,
                week,
            })
            .find(|w| w.bounds(tz).is_some_and(|(start, _)| start <= now))
    }

    /// `[Monday 00:00, next Monday 00:00)` of this week in `tz`, as unix seconds; `None` for a
    /// week that does not exist (week 53 of a 52-week year).
    pub fn bounds(self, tz: &TimeZone) -> Option<(i64, i64)> {
        let monday =
            jiff::civil::ISOWeekDate::new(self.year, self.week, jiff::civil::Weekday::Monday)
                .ok()?
                .date();
        let next = monday.checked_add(7.days()).ok()?;
        Some((start_of(monday, tz), start_of(next, tz)))
    }
}
