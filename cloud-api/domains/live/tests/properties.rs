//! Property tests of the pure parts: phone numbers (every way of writing one Indonesian
//! number names one account; valid numbers of other countries written with their `+` code
//! are accepted; anything else is refused; nothing panics) and Asia/Jakarta
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
fn numbers_abroad_are_accepted_with_their_country_code() {
    for (raw, digits) in [
        ("+1 650 253 0000", "16502530000"),
        ("+1 (650) 253-0000", "16502530000"),
        ("+44 20 7946 0958", "442079460958"),
        ("+60 12-345 6789", "60123456789"),
        ("+65 8123 4567", "6581234567"),
    ] {
        assert_eq!(normalize(raw).unwrap().as_str(), digits, "{raw}");
    }
    // Without the `+`, a number is read as Indonesian.
    assert_eq!(
        normalize("0812 3456 7890").unwrap().as_str(),
        "6281234567890"
    );
}

#[test]
fn implausible_numbers_are_refused() {
    for raw in [
        "",
        "abc",
        "0812",
        "12345",
        "+1 650 000 0000",
        "+44 20 0000",
        "16502530000",
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

#[test]
fn a_week_number_alone_names_the_latest_week_that_has_begun() {
    let tz = jakarta();
    let week = |year, week| IsoWeek { year, week };
    // Tuesday of ISO week 1 of 2027 in Jakarta.
    let now = unix("2027-01-05T03:00:00Z");
    assert_eq!(IsoWeek::latest_begun(&tz, 52, now), Some(week(2026, 52)));
    // 2026 has 53 weeks.
    assert_eq!(IsoWeek::latest_begun(&tz, 53, now), Some(week(2026, 53)));
    // The current week is itself (and not over: a salary request for it is refused).
    assert_eq!(IsoWeek::latest_begun(&tz, 1, now), Some(week(2027, 1)));
    // Mid-year, the weeks so far are this year's, the rest last year's.
    let june = unix("2027-06-15T03:00:00Z");
    assert_eq!(IsoWeek::latest_begun(&tz, 20, june), Some(week(2027, 20)));
    assert_eq!(IsoWeek::latest_begun(&tz, 40, june), Some(week(2026, 40)));
    // Week 53 of the latest year that has one (2026, not 2027).
    assert_eq!(IsoWeek::latest_begun(&tz, 53, june), Some(week(2026, 53)));
    // Monday 00:00 Jakarta of week 2 is the first moment it has begun.
    let monday = unix("2027-01-10T17:00:00Z");
    assert_eq!(IsoWeek::latest_begun(&tz, 2, monday), Some(week(2027, 2)));
    assert_eq!(
        IsoWeek::latest_begun(&tz, 2, monday - 1),
        Some(week(2026, 2))
    );
    assert_eq!(IsoWeek::latest_begun(&tz, 0, now), None);
    assert_eq!(IsoWeek::latest_begun(&tz, 54, now), None);
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

    /// Whatever is accepted is E.164 digits (8–15, no leading 0), Indonesian unless the
    /// number was written with a `+` code, and normalising its E.164 form gives it back.
    #[test]
    fn accepted_means_e164(raw in "[+0-9 ().-]{0,24}") {
        if let Ok(phone) = normalize(&raw) {
            let digits = phone.as_str();
            prop_assert!(digits.bytes().all(|b| b.is_ascii_digit()));
            prop_assert!((8..=15).contains(&digits.len()) && !digits.starts_with('0'));
            if !raw.trim().starts_with('+') {
                prop_assert!(digits.starts_with("62"), "{} read as {}", raw, digits);
            }
            prop_assert_eq!(normalize(&format!("+{digits}")).unwrap(), phone);
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
