//! Property tests of the pure parts: phone numbers (every way of writing one Indonesian
//! number names one account; anything else is refused; nothing panics) and Asia/Jakarta
//! calendar periods (a day starts at 17:00 UTC, weeks start on Monday, ISO weeks).

#![allow(clippy::unwrap_used)]

use jiff::{civil::Weekday, tz::TimeZone, Timestamp};
use live::{
    periods::{bounds, IsoWeek, Period},
    phone::normalize,
};
use proptest::prelude::*;

fn jakarta() -> TimeZone {
    TimeZone::get("Asia/Jakarta").unwrap()
}

fn unix(rfc: &str) -> i64 {
    rfc.parse::<Timestamp>().unwrap().as_second()
}

/// Jakarta is UTC+7 all year (no daylight saving).
const OFFSET: i64 = 7 * 3600;

#[test]
fn the_three_forms_are_one_number() {
    let a = normalize("081234567890").unwrap();
    let b = normalize("6281234567890").unwrap();
    let c = normalize("+62 812-3456-7890").unwrap();
    let d = normalize("(0812) 3456.7890").unwrap();
    assert_eq!(a, b);
    assert_eq!(b, c);
    assert_eq!(c, d);
    assert_eq!(a.as_str(), "6281234567890");
}

#[test]
fn implausible_numbers_are_refused() {
    for raw in [
        "",
        "abc",
        "0812",
        "12345",
        "+1 650 253 0000",
        "0812345678901234567",
        "08123456789x",
        "0812-abc-7890",
        "0812-ABC-7890",
        "+62",
        "++6281234567890",
        "62+81234567890",
        "0812_3456_7890",
        "0812/3456/7890",
        "00000000000",
        "0000000000",
        "０８１２３４５６７８９０",
    ] {
        assert!(normalize(raw).is_err(), "{raw:?} accepted");
    }
}

#[test]
fn a_jakarta_day_starts_at_17_utc() {
    // 2026-12-06 23:30 UTC is already 2026-12-07 06:30 in Jakarta.
    let (start, end) = bounds(Period::Day, &jakarta(), unix("2026-12-06T23:30:00Z"));
    assert_eq!(start, unix("2026-12-06T17:00:00Z"));
    assert_eq!(end, unix("2026-12-07T17:00:00Z"));
    let (start, _) = bounds(Period::Day, &jakarta(), unix("2026-12-06T16:59:59Z"));
    assert_eq!(start, unix("2026-12-05T17:00:00Z"));
}

#[test]
fn weeks_start_on_monday() {
    // Sunday 2026-12-06 20:00 Jakarta: the week began Monday 2026-11-30.
    let (start, end) = bounds(Period::Week, &jakarta(), unix("2026-12-06T13:00:00Z"));
    assert_eq!(start, unix("2026-11-29T17:00:00Z"));
    assert_eq!(end, unix("2026-12-06T17:00:00Z"));
    let (start, _) = bounds(Period::Week, &jakarta(), unix("2026-12-06T17:00:00Z"));
    assert_eq!(start, unix("2026-12-06T17:00:00Z"));
}

#[test]
fn months_and_iso_weeks_follow_the_jakarta_calendar() {
    // 2026-12-31 18:00 UTC is 2027-01-01 01:00 in Jakarta: January.
    let (start, end) = bounds(Period::Month, &jakarta(), unix("2026-12-31T18:00:00Z"));
    assert_eq!(start, unix("2026-12-31T17:00:00Z"));
    assert_eq!(end, unix("2027-01-31T17:00:00Z"));
    assert_eq!(bounds(Period::All, &jakarta(), 0), (i64::MIN, i64::MAX));
    // 2027-01-01 (a Friday) belongs to ISO week 53 of 2026.
    let week = IsoWeek::containing(&jakarta(), unix("2026-12-31T18:00:00Z")).unwrap();
    assert_eq!(
        week,
        IsoWeek {
            year: 2026,
            week: 53
        }
    );
    assert_eq!(
        week.bounds(&jakarta()).unwrap(),
        (unix("2026-12-27T17:00:00Z"), unix("2027-01-03T17:00:00Z"))
    );
    assert!(IsoWeek {
        year: 2025,
        week: 53
    }
    .bounds(&jakarta())
    .is_none());
    assert!(IsoWeek {
        year: 2025,
        week: 0
    }
    .bounds(&jakarta())
    .is_none());
    assert!(Period::parse(Some("year")).is_err());
}

proptest! {
    /// A mobile number written in the local, international or punctuated form normalises
    /// to the same identifier (or is refused in every form).
    #[test]
    fn forms_agree(prefix in 11u32..=13, rest in "[0-9]{7,9}") {
        let national = format!("8{prefix}{rest}");
        let forms = [
            format!("0{national}"),
            format!("62{national}"),
            format!("+62{national}"),
            format!("+62 {}-{}", &national[..3], &national[3..]),
            format!(" 0{}-{} ", &national[..3], &national[3..]),
            format!("(0{}) {}.{}", &national[..3], &national[3..7], &national[7..]),
        ];
        let results: Vec<_> = forms.iter().map(|f| normalize(f).ok()).collect();
        for r in &results {
            prop_assert_eq!(r, &results[0]);
        }
        if let Some(phone) = &results[0] {
            prop_assert_eq!(phone.as_str(), format!("62{national}"));
        }
    }

    /// Letters (or any other character outside digits, separators and a leading `+`)
    /// anywhere make a number implausible.
    #[test]
    fn garbage_is_refused(
        national in "8[1-9][0-9]{6,9}",
        at in 0usize..14,
        junk in "[a-zA-Z_/#*,;:!?~]",
    ) {
        let mut raw = format!("0{national}");
        raw.insert_str(at.min(raw.len()), &junk);
        prop_assert!(normalize(&raw).is_err(), "{} accepted", raw);
    }

    /// Whatever is accepted is an Indonesian number in the platform's `62…` form.
    #[test]
    fn accepted_means_indonesian(raw in "[+0-9 ().-]{0,24}") {
        if let Ok(phone) = normalize(&raw) {
            prop_assert!(phone.as_str().starts_with("62"));
            prop_assert!(phone.as_str().bytes().all(|b| b.is_ascii_digit()));
        }
    }

    /// Arbitrary input never panics.
    #[test]
    fn never_panics(raw in ".{0,40}") {
        let _ = normalize(&raw);
    }

    /// Every instant lies in its day, week and month; the day is 24 h and starts at 00:00
    /// Jakarta; the week is 7 days and starts on a Monday; the next period starts where
    /// this one ends.
    #[test]
    fn periods_contain_their_instant(now in 0i64..4_102_444_800) {
        let tz = jakarta();
        for period in [Period::Day, Period::Week, Period::Month] {
            let (start, end) = bounds(period, &tz, now);
            prop_assert!(start <= now && now < end, "{:?} {} not in [{}, {})", period, now, start, end);
            prop_assert_eq!((start + OFFSET).rem_euclid(86_400), 0);
            prop_assert_eq!(bounds(period, &tz, end).0, end);
            prop_assert_eq!(bounds(period, &tz, start - 1).1, start);
        }
        let (start, end) = bounds(Period::Week, &tz, now);
        prop_assert_eq!(end - start, 7 * 86_400);
        let monday = Timestamp::from_second(start).unwrap().to_zoned(tz.clone());
        prop_assert_eq!(monday.weekday(), Weekday::Monday);
        let (day_start, day_end) = bounds(Period::Day, &tz, now);
        prop_assert_eq!(day_end - day_start, 86_400);
        // The ISO week of an instant spans the same Monday-to-Monday range.
        let week = IsoWeek::containing(&tz, now).unwrap();
        prop_assert_eq!(week.bounds(&tz).unwrap(), (start, end));
    }
}
