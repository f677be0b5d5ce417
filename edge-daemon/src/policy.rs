//! Who may pass and when, and the attendance kiosk's book: pure rules, no I/O.
//!
//! Access: a recognised person passes when the door is not locked down, the person is
//! enabled and (if they have weekly windows) the site-local time falls in one of them.
//! Attendance (seed 001): one check-in per person per site-local day; a second gets
//! [`ALREADY_RECORDED`]; a check-in after `work_starts_at` is late.

use std::collections::HashMap;

use jiff::tz::TimeZone;
use protocol::{sync::AccessWindow, AttendanceDirection, DenyReason, DoorMode};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// The site's time zone when the gallery does not name one.
pub const DEFAULT_TIME_ZONE: &str = "Asia/Jakarta";

/// What the kiosk answers a second check-in on the same day (seed 001, HTTP 409).
pub const ALREADY_RECORDED: &str = "Anda sudah absen hari ini";

/// A rule from the cloud that cannot be understood. The whole gallery is refused with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("unknown time zone {0:?}")]
    TimeZone(String),
    #[error("bad time of day {0:?} (expected HH:MM)")]
    TimeOfDay(String),
    #[error("bad weekday {0} (expected 1 = Monday … 7 = Sunday)")]
    Weekday(u8),
}

/// The site's clock: its time zone and the start of the working day.
#[derive(Debug, Clone)]
pub struct SiteTime {
    tz: TimeZone,
    tz_name: String,
    /// Minute of the day after which a check-in is late.
    work_starts_at: Option<u16>,
}

/// A moment as the site sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalMoment {
    pub date: jiff::civil::Date,
    /// ISO weekday, 1 = Monday … 7 = Sunday.
    pub weekday: u8,
    /// Minutes since local midnight.
    pub minute: u16,
}

impl LocalMoment {
    /// `YYYY-MM-DD`, as attendance events carry it.
    pub fn date_string(&self) -> String {
        self.date.to_string()
    }

    /// `HH:MM`.
    pub fn time_string(&self) -> String {
        format!("{:02}:{:02}", self.minute / 60, self.minute % 60)
    }
}

impl SiteTime {
    pub fn new(time_zone: &str, work_starts_at: Option<&str>) -> Result<Self, PolicyError> {
        let tz = TimeZone::get(time_zone).map_err(|_| PolicyError::TimeZone(time_zone.into()))?;
        let work_starts_at = work_starts_at.map(|t| parse_time(t, false)).transpose()?;
        Ok(Self {
            tz,
            tz_name: time_zone.into(),
            work_starts_at,
        })
    }

    /// Jakarta, never late: the rules before any gallery has arrived.
    pub fn fallback() -> Self {
        Self::new(DEFAULT_TIME_ZONE, None).expect("the bundled database knows Asia/Jakarta")
    }

    pub fn time_zone(&self) -> &str {
        &self.tz_name
    }

    pub fn local(&self, at: OffsetDateTime) -> LocalMoment {
        let ts = jiff::Timestamp::from_second(at.unix_timestamp())
            .unwrap_or(jiff::Timestamp::UNIX_EPOCH);
        let zoned = ts.to_zoned(self.tz.clone());
        LocalMoment {
            date: zoned.date(),
            weekday: zoned.weekday().to_monday_one_offset() as u8,
            minute: zoned.hour() as u16 * 60 + zoned.minute() as u16,
        }
    }

    /// Whether a check-in at `at` is late.
    pub fn is_late(&self, at: &LocalMoment) -> bool {
        self.work_starts_at.is_some_and(|start| at.minute > start)
    }
}

/// Minutes since midnight from `HH:MM`; `24:00` only where `allow_end_of_day`.
fn parse_time(text: &str, allow_end_of_day: bool) -> Result<u16, PolicyError> {
    let bad = || PolicyError::TimeOfDay(text.into());
    let (h, m) = text.split_once(':').ok_or_else(bad)?;
    if h.len() != 2 || m.len() != 2 {
        return Err(bad());
    }
    let h: u16 = h.parse().map_err(|_| bad())?;
    let m: u16 = m.parse().map_err(|_| bad())?;
    match (h, m) {
        (0..=23, 0..=59) => Ok(h * 60 + m),
        (24, 0) if allow_end_of_day => Ok(24 * 60),
        _ => Err(bad()),
    }
}

/// A weekly window, checked and in minutes. A window whose end is before its start runs
/// over midnight into the next day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Bit `d` set: ISO weekday `d` (1..=7).
    days: u8,
    start: u16,
    end: u16,
}

impl TryFrom<&AccessWindow> for Window {
    type Error = PolicyError;

    fn try_from(w: &AccessWindow) -> Result<Self, PolicyError> {
        let mut days = 0u8;
        for &d in &w.days {
            if !(1..=7).contains(&d) {
                return Err(PolicyError::Weekday(d));
            }
            days |= 1 << d;
        }
        Ok(Self {
            days,
            start: parse_time(&w.start, false)?,
            end: parse_time(&w.end, true)?,
        })
    }
}

impl Window {
    fn on(&self, weekday: u8) -> bool {
        self.days & (1 << weekday) != 0
    }

    pub fn contains(&self, at: &LocalMoment) -> bool {
        if self.start <= self.end {
            return self.on(at.weekday) && (self.start..self.end).contains(&at.minute);
        }
        // Overnight: the evening part on a listed day, the morning part on the day after.
        let yesterday = if at.weekday == 1 { 7 } else { at.weekday - 1 };
        (self.on(at.weekday) && at.minute >= self.start)
            || (self.on(yesterday) && at.minute < self.end)
    }
}

/// What the door needs to know about one person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rules {
    pub enabled: bool,
    /// Empty: at any time.
    pub windows: Vec<Window>,
}

impl Rules {
    pub fn from_cloud(enabled: bool, windows: &[AccessWindow]) -> Result<Self, PolicyError> {
        Ok(Self {
            enabled,
            windows: windows
                .iter()
                .map(Window::try_from)
                .collect::<Result<_, _>>()?,
        })
    }
}

/// Whether a recognised, live person with `rules` may pass a door in `mode` at `at`.
pub fn may_pass(rules: &Rules, mode: DoorMode, at: &LocalMoment) -> Result<(), DenyReason> {
    if mode == DoorMode::LockedDown {
        return Err(DenyReason::LockedDown);
    }
    if !rules.enabled {
        return Err(DenyReason::UserDisabled);
    }
    if !rules.windows.is_empty() && !rules.windows.iter().any(|w| w.contains(at)) {
        return Err(DenyReason::OutsideSchedule);
    }
    Ok(())
}

/// Which way a kiosk records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KioskDirection {
    /// Only check-ins (the seed's `/checkin` screen).
    CheckIn,
    /// Only check-outs (`/checkout`).
    CheckOut,
    /// First time today checks in; a later visit (after the minimum gap) checks out.
    #[default]
    Auto,
}

/// The answer of the attendance book.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttendanceOutcome {
    /// Recorded now; `late` only for check-ins.
    Recorded {
        direction: AttendanceDirection,
        late: bool,
        local_date: String,
    },
    /// Nothing recorded: this was already done today ([`ALREADY_RECORDED`]).
    Already {
        direction: AttendanceDirection,
        /// When it was recorded (unix seconds).
        at: i64,
    },
}

/// Today's check-ins and check-outs, per person. Stored in the device store, replaced when
/// the site-local day changes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttendanceBook {
    /// The site-local day the entries are for (`YYYY-MM-DD`).
    date: String,
    people: HashMap<String, Day>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Day {
    check_in: Option<i64>,
    check_out: Option<i64>,
}

impl AttendanceBook {
    /// Records `person` seen at `now` (site-local `local`), if the rules allow.
    pub fn record(
        &mut self,
        person: &str,
        now: OffsetDateTime,
        local: &LocalMoment,
        site: &SiteTime,
        direction: KioskDirection,
        min_checkout_gap: time::Duration,
    ) -> AttendanceOutcome {
        let date = local.date_string();
        if self.date != date {
            self.date = date.clone();
            self.people.clear();
        }
        let ts = now.unix_timestamp();
        let day = self.people.entry(person.to_owned()).or_default();
        let wanted = match (direction, day.check_in) {
            (KioskDirection::CheckIn, _) | (KioskDirection::Auto, None) => {
                AttendanceDirection::CheckIn
            }
            (KioskDirection::CheckOut, _) => AttendanceDirection::CheckOut,
            (KioskDirection::Auto, Some(at)) => {
                if day.check_out.is_none() && ts - at >= min_checkout_gap.whole_seconds() {
                    AttendanceDirection::CheckOut
                } else {
                    let (direction, at) = match day.check_out {
                        Some(out) => (AttendanceDirection::CheckOut, out),
                        None => (AttendanceDirection::CheckIn, at),
                    };
                    return AttendanceOutcome::Already { direction, at };
                }
            }
        };
        let slot = match wanted {
            AttendanceDirection::CheckIn => &mut day.check_in,
            AttendanceDirection::CheckOut => &mut day.check_out,
        };
        if let Some(at) = *slot {
            return AttendanceOutcome::Already {
                direction: wanted,
                at,
            };
        }
        *slot = Some(ts);
        AttendanceOutcome::Recorded {
            direction: wanted,
            late: wanted == AttendanceDirection::CheckIn && site.is_late(local),
            local_date: date,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn window(days: &[u8], start: &str, end: &str) -> AccessWindow {
        AccessWindow {
            days: days.to_vec(),
            start: start.into(),
            end: end.into(),
        }
    }

    #[test]
    fn site_time_uses_the_site_zone_for_day_and_minute() {
        let site = SiteTime::new("Asia/Jakarta", Some("08:00")).unwrap();
        // 2026-11-22 is a Sunday; 23:30 UTC is 06:30 on Monday the 23rd in Jakarta (UTC+7).
        let local = site.local(datetime!(2026-11-22 23:30 UTC));
        assert_eq!(local.date_string(), "2026-11-23");
        assert_eq!(local.weekday, 1);
        assert_eq!(local.time_string(), "06:30");
        assert!(!site.is_late(&local));
        assert!(site.is_late(&site.local(datetime!(2026-11-23 01:01 UTC))));
        assert!(!site.is_late(&site.local(datetime!(2026-11-23 01:00 UTC))));
    }

    #[test]
    fn unknown_zones_and_bad_times_are_refused() {
        assert_eq!(
            SiteTime::new("Mars/Olympus", None).unwrap_err(),
            PolicyError::TimeZone("Mars/Olympus".into())
        );
        assert!(SiteTime::new("Asia/Jakarta", Some("8:00")).is_err());
        assert!(SiteTime::new("Asia/Jakarta", Some("24:00")).is_err());
        assert!(Window::try_from(&window(&[1], "09:00", "24:00")).is_ok());
        assert!(Window::try_from(&window(&[8], "09:00", "10:00")).is_err());
        assert!(Window::try_from(&window(&[1], "09:60", "10:00")).is_err());
    }

    #[test]
    fn windows_decide_by_weekday_and_time_including_overnight() {
        let site = SiteTime::new("Asia/Jakarta", None).unwrap();
        let office =
            Rules::from_cloud(true, &[window(&[1, 2, 3, 4, 5], "08:00", "17:00")]).unwrap();
        // Monday 10:00 Jakarta = 03:00 UTC.
        let monday_10 = site.local(datetime!(2026-11-23 03:00 UTC));
        assert_eq!(may_pass(&office, DoorMode::Normal, &monday_10), Ok(()));
        let monday_17 = site.local(datetime!(2026-11-23 10:00 UTC));
        assert_eq!(
            may_pass(&office, DoorMode::Normal, &monday_17),
            Err(DenyReason::OutsideSchedule)
        );
        let sunday_10 = site.local(datetime!(2026-11-22 03:00 UTC));
        assert_eq!(
            may_pass(&office, DoorMode::Normal, &sunday_10),
            Err(DenyReason::OutsideSchedule)
        );
        // Sunday 22:00 → 06:00: Monday 05:00 is inside, Monday 07:00 is not.
        let night = Rules::from_cloud(true, &[window(&[7], "22:00", "06:00")]).unwrap();
        let monday_5 = site.local(datetime!(2026-11-22 22:00 UTC));
        assert_eq!(monday_5.weekday, 1);
        assert_eq!(may_pass(&night, DoorMode::Normal, &monday_5), Ok(()));
        let monday_7 = site.local(datetime!(2026-11-23 00:00 UTC));
        assert!(may_pass(&night, DoorMode::Normal, &monday_7).is_err());
    }

    #[test]
    fn lockdown_and_disabled_people_are_denied_whatever_the_schedule() {
        let site = SiteTime::fallback();
        let now = site.local(datetime!(2026-11-23 03:00 UTC));
        let anytime = Rules::from_cloud(true, &[]).unwrap();
        assert_eq!(may_pass(&anytime, DoorMode::Normal, &now), Ok(()));
        assert_eq!(may_pass(&anytime, DoorMode::HeldOpen, &now), Ok(()));
        assert_eq!(
            may_pass(&anytime, DoorMode::LockedDown, &now),
            Err(DenyReason::LockedDown)
        );
        let disabled = Rules::from_cloud(false, &[]).unwrap();
        assert_eq!(
            may_pass(&disabled, DoorMode::Normal, &now),
            Err(DenyReason::UserDisabled)
        );
    }

    #[test]
    fn one_check_in_per_site_day_then_the_seed_message() {
        let site = SiteTime::new("Asia/Jakarta", Some("08:00")).unwrap();
        let gap = time::Duration::hours(1);
        let mut book = AttendanceBook::default();
        let at = |book: &mut AttendanceBook, utc: OffsetDateTime, dir| {
            book.record("ana", utc, &site.local(utc), &site, dir, gap)
        };
        // 08:30 Jakarta: late check-in.
        let first = at(
            &mut book,
            datetime!(2026-11-23 01:30 UTC),
            KioskDirection::CheckIn,
        );
        assert_eq!(
            first,
            AttendanceOutcome::Recorded {
                direction: AttendanceDirection::CheckIn,
                late: true,
                local_date: "2026-11-23".into()
            }
        );
        let second = at(
            &mut book,
            datetime!(2026-11-23 05:00 UTC),
            KioskDirection::CheckIn,
        );
        assert!(matches!(
            second,
            AttendanceOutcome::Already {
                direction: AttendanceDirection::CheckIn,
                ..
            }
        ));
        // 23:59 UTC on the 23rd is 06:59 on the 24th in Jakarta: a new day.
        let next_day = at(
            &mut book,
            datetime!(2026-11-23 23:59 UTC),
            KioskDirection::CheckIn,
        );
        assert_eq!(
            next_day,
            AttendanceOutcome::Recorded {
                direction: AttendanceDirection::CheckIn,
                late: false,
                local_date: "2026-11-24".into()
            }
        );
    }

    #[test]
    fn auto_checks_out_after_the_gap_and_only_once() {
        let site = SiteTime::new("Asia/Jakarta", None).unwrap();
        let gap = time::Duration::hours(1);
        let mut book = AttendanceBook::default();
        let mut at = |utc: OffsetDateTime| {
            book.record(
                "ana",
                utc,
                &site.local(utc),
                &site,
                KioskDirection::Auto,
                gap,
            )
        };
        assert!(matches!(
            at(datetime!(2026-11-23 01:00 UTC)),
            AttendanceOutcome::Recorded {
                direction: AttendanceDirection::CheckIn,
                ..
            }
        ));
        // Ten minutes later: still the morning visit, nothing new.
        assert!(matches!(
            at(datetime!(2026-11-23 01:10 UTC)),
            AttendanceOutcome::Already {
                direction: AttendanceDirection::CheckIn,
                ..
            }
        ));
        assert!(matches!(
            at(datetime!(2026-11-23 10:00 UTC)),
            AttendanceOutcome::Recorded {
                direction: AttendanceDirection::CheckOut,
                late: false,
                ..
            }
        ));
        assert!(matches!(
            at(datetime!(2026-11-23 10:30 UTC)),
            AttendanceOutcome::Already {
                direction: AttendanceDirection::CheckOut,
                ..
            }
        ));
    }
}
