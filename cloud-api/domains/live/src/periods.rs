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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn jakarta() -> TimeZone {
        TimeZone::get("Asia/Jakarta").unwrap()
    }

    fn unix(rfc: &str) -> i64 {
        rfc.parse::<Timestamp>().unwrap().as_second()
    }

    #[test]
    fn a_jakarta_day_starts_at_17_utc() {
        // 2026-12-06 23:30 UTC is already 2026-12-07 06:30 in Jakarta.
        let (start, end) = bounds(Period::Day, &jakarta(), unix("2026-12-06T23:30:00Z"));
        assert_eq!(start, unix("2026-12-06T17:00:00Z"));
        assert_eq!(end, unix("2026-12-07T17:00:00Z"));
        // One second before midnight Jakarta belongs to the day before.
        let (start, _) = bounds(Period::Day, &jakarta(), unix("2026-12-06T16:59:59Z"));
        assert_eq!(start, unix("2026-12-05T17:00:00Z"));
    }

    #[test]
    fn weeks_start_on_monday() {
        // Sunday 2026-12-06 20:00 Jakarta: the week began Monday 2026-11-30.
        let (start, end) = bounds(Period::Week, &jakarta(), unix("2026-12-06T13:00:00Z"));
        assert_eq!(start, unix("2026-11-29T17:00:00Z"));
        assert_eq!(end, unix("2026-12-06T17:00:00Z"));
        // Monday 00:00 Jakarta starts the next week.
        let (start, _) = bounds(Period::Week, &jakarta(), unix("2026-12-06T17:00:00Z"));
        assert_eq!(start, unix("2026-12-06T17:00:00Z"));
    }

    #[test]
    fn months_follow_the_jakarta_calendar() {
        // 2026-12-31 18:00 UTC is 2027-01-01 01:00 in Jakarta: January.
        let (start, end) = bounds(Period::Month, &jakarta(), unix("2026-12-31T18:00:00Z"));
        assert_eq!(start, unix("2026-12-31T17:00:00Z"));
        assert_eq!(end, unix("2027-01-31T17:00:00Z"));
    }

    #[test]
    fn periods_parse() {
        assert_eq!(Period::parse(None).unwrap(), Period::All);
        assert_eq!(Period::parse(Some("week")).unwrap(), Period::Week);
        assert!(Period::parse(Some("year")).is_err());
        assert_eq!(bounds(Period::All, &jakarta(), 0), (i64::MIN, i64::MAX));
    }
}
