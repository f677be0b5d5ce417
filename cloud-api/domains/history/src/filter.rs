//! The filters shared by the history, analytics and export endpoints: parsed and checked
//! from strings (each wrong value answers 400 with a message saying which and why), then
//! turned into a SQL `WHERE` clause whose every value is a bound parameter.

use protocol::{AccessMethod, AccessResult, DenyReason, DeviceId};
use sea_orm::Value;
use serde::{Deserialize, Serialize};
use time::{
    format_description::well_known::Rfc3339, macros::format_description, Date, OffsetDateTime,
    UtcOffset,
};
use utoipa::{IntoParams, ToSchema};

use platform::{error::ServiceError, i18n::Msg};

use super::store::unix_ms;

/// The offset used when the request names none: Western Indonesian Time (WIB).
pub const DEFAULT_TZ: UtcOffset = match UtcOffset::from_hms(7, 0, 0) {
    Ok(offset) => offset,
    Err(_) => UtcOffset::UTC,
};
/// The longest free-text search accepted.
pub const MAX_SEARCH_CHARS: usize = 100;
/// The longest person id accepted.
pub const MAX_PERSON_ID_CHARS: usize = 128;
const MS_PER_DAY: i64 = 86_400_000;

/// The snake_case name serde gives a protocol enum value (`exit_button`, `unknown_face`).
pub(crate) fn enum_name<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Filters as the client sends them (query string or JSON body); every field optional.
#[derive(Debug, Clone, Default, Deserialize, Serialize, IntoParams, ToSchema)]
#[into_params(parameter_in = Query)]
pub struct FilterParams {
    /// Start: a date `YYYY-MM-DD` (start of that day in `tz`) or an RFC 3339 time.
    pub from: Option<String>,
    /// End, inclusive: a date `YYYY-MM-DD` (the whole day in `tz`) or an RFC 3339 time.
    pub to: Option<String>,
    /// UTC offset for dates and day/hour buckets, `+07:00` (default, WIB), `+08:00`, `Z`.
    pub tz: Option<String>,
    /// Only this device.
    pub device_id: Option<String>,
    /// Only this person (gallery/user id).
    pub person_id: Option<String>,
    /// `granted` or `denied`.
    pub result: Option<String>,
    /// `face`, `remote`, `local` or `exit_button`.
    pub method: Option<String>,
    /// Deny reason: `unknown_face`, `liveness_failed`, `user_disabled`, `outside_schedule`,
    /// `locked_down`, `poor_quality`, `gallery_stale`.
    pub reason: Option<String>,
    /// Case-insensitive search in the person's name.
    pub q: Option<String>,
}

/// Checked filters.
#[derive(Debug, Clone, PartialEq)]
pub struct AccessFilter {
    /// Inclusive lower bound, Unix ms.
    pub from_ms: Option<i64>,
    /// Exclusive upper bound, Unix ms.
    pub to_ms: Option<i64>,
    pub tz: UtcOffset,
    pub device_id: Option<String>,
    pub person_id: Option<String>,
    pub result: Option<String>,
    pub method: Option<String>,
    pub reason: Option<String>,
    /// The lower-cased search text (unescaped).
    pub search: Option<String>,
}

impl Default for AccessFilter {
    fn default() -> Self {
        Self {
            from_ms: None,
            to_ms: None,
            tz: DEFAULT_TZ,
            device_id: None,
            person_id: None,
            result: None,
            method: None,
            reason: None,
            search: None,
        }
    }
}

fn invalid(id: String, en: String) -> ServiceError {
    ServiceError::Invalid(Msg::owned(id, en))
}

fn non_empty(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// Parses a UTC offset: `+07:00`, `-03:30`, `+0700`, `Z`, `UTC`. A leading space stands for
/// `+` (an unencoded `+` in a query string arrives as a space).
pub fn parse_tz(raw: &str) -> Result<UtcOffset, ServiceError> {
    let wrong = || {
        invalid(
            format!(
                "tz tidak valid: gunakan format +07:00 (diterima: {})",
                clip(raw)
            ),
            format!("tz is not valid: use the form +07:00 (got: {})", clip(raw)),
        )
    };
    let trimmed = raw.trim_end();
    if trimmed.eq_ignore_ascii_case("z") || trimmed.eq_ignore_ascii_case("utc") {
        return Ok(UtcOffset::UTC);
    }
    let (sign, rest) = match trimmed.as_bytes().first() {
        Some(b'+') | Some(b' ') => (1, &trimmed[1..]),
        Some(b'-') => (-1, &trimmed[1..]),
        _ => (1, trimmed),
    };
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(wrong());
    }
    let hours: i8 = digits[..2].parse().map_err(|_| wrong())?;
    let minutes: i8 = digits[2..].parse().map_err(|_| wrong())?;
    if hours > 14 || minutes > 59 {
        return Err(wrong());
    }
    UtcOffset::from_hms(sign * hours, sign * minutes, 0).map_err(|_| wrong())
}

/// Shortens what is echoed back in a message.
fn clip(raw: &str) -> String {
    let mut out: String = raw.chars().take(40).collect();
    if raw.chars().count() > 40 {
        out.push('…');
    }
    out
}

enum Bound {
    From,
    To,
}

/// A date or time bound as Unix ms; a `to` date means the end of that day (exclusive).
fn parse_bound(raw: &str, tz: UtcOffset, bound: Bound) -> Result<i64, ServiceError> {
    let name = match bound {
        Bound::From => "from",
        Bound::To => "to",
    };
    if let Ok(date) = Date::parse(raw, format_description!("[year]-[month]-[day]")) {
        let start = date.midnight().assume_offset(tz);
        return Ok(match bound {
            Bound::From => unix_ms(start),
            Bound::To => unix_ms(start) + MS_PER_DAY,
        });
    }
    if let Ok(time) = OffsetDateTime::parse(raw, &Rfc3339) {
        return Ok(match bound {
            Bound::From => unix_ms(time),
            Bound::To => unix_ms(time) + 1,
        });
    }
    Err(invalid(
        format!(
            "{name} tidak valid: gunakan tanggal YYYY-MM-DD atau waktu RFC 3339 (diterima: {})",
            clip(raw)
        ),
        format!(
            "{name} is not valid: use a date YYYY-MM-DD or an RFC 3339 time (got: {})",
            clip(raw)
        ),
    ))
}

/// Checks `raw` against a protocol enum's names.
fn one_of<T: Serialize>(field: &str, raw: &str, values: &[T]) -> Result<String, ServiceError> {
    let names: Vec<String> = values.iter().map(enum_name).collect();
    let lower = raw.to_ascii_lowercase();
    if names.contains(&lower) {
        return Ok(lower);
    }
    let list = names.join(", ");
    Err(invalid(
        format!(
            "{field} harus salah satu dari: {list} (diterima: {})",
            clip(raw)
        ),
        format!("{field} must be one of: {list} (got: {})", clip(raw)),
    ))
}

impl FilterParams {
    /// Checks every field.
    pub fn parse(&self) -> Result<AccessFilter, ServiceError> {
        let tz = match non_empty(&self.tz) {
            Some(raw) => parse_tz(raw)?,
            // A lone space is what an unencoded `+00:00`-less "+" leaves; treat as unset.
            None => DEFAULT_TZ,
        };
        let from_ms = non_empty(&self.from)
            .map(|raw| parse_bound(raw, tz, Bound::From))
            .transpose()?;
        let to_ms = non_empty(&self.to)
            .map(|raw| parse_bound(raw, tz, Bound::To))
            .transpose()?;
        if let (Some(from), Some(to)) = (from_ms, to_ms) {
            if from >= to {
                return Err(invalid(
                    "Rentang tanggal terbalik: from harus sebelum to".into(),
                    "The date range is inverted: from must come before to".into(),
                ));
            }
        }
        let device_id = non_empty(&self.device_id)
            .map(|raw| {
                DeviceId::parse(raw).map(|d| d.to_string()).map_err(|_| {
                    invalid(
                        format!("device_id tidak valid (diterima: {})", clip(raw)),
                        format!("device_id is not valid (got: {})", clip(raw)),
                    )
                })
            })
            .transpose()?;
        let person_id = non_empty(&self.person_id)
            .map(|raw| {
                if raw.chars().count() > MAX_PERSON_ID_CHARS {
                    Err(invalid(
                        format!(
                            "person_id terlalu panjang (maksimal {MAX_PERSON_ID_CHARS} karakter)"
                        ),
                        format!("person_id is too long (at most {MAX_PERSON_ID_CHARS} characters)"),
                    ))
                } else {
                    Ok(raw.to_owned())
                }
            })
            .transpose()?;
        let result = non_empty(&self.result)
            .map(|raw| {
                one_of(
                    "result",
                    raw,
                    &[AccessResult::Granted, AccessResult::Denied],
                )
            })
            .transpose()?;
        let method = non_empty(&self.method)
            .map(|raw| {
                one_of(
                    "method",
                    raw,
                    &[
                        AccessMethod::Face,
                        AccessMethod::Remote,
                        AccessMethod::Local,
                        AccessMethod::ExitButton,
                    ],
                )
            })
            .transpose()?;
        let reason = non_empty(&self.reason)
            .map(|raw| {
                one_of(
                    "reason",
                    raw,
                    &[
                        DenyReason::UnknownFace,
                        DenyReason::LivenessFailed,
                        DenyReason::UserDisabled,
                        DenyReason::OutsideSchedule,
                        DenyReason::LockedDown,
                        DenyReason::PoorQuality,
                        DenyReason::GalleryStale,
                    ],
                )
            })
            .transpose()?;
        let search = non_empty(&self.q)
            .map(|raw| {
                if raw.chars().count() > MAX_SEARCH_CHARS {
                    Err(invalid(
                        format!("q terlalu panjang (maksimal {MAX_SEARCH_CHARS} karakter)"),
                        format!("q is too long (at most {MAX_SEARCH_CHARS} characters)"),
                    ))
                } else {
                    Ok(raw.to_lowercase())
                }
            })
            .transpose()?;
        Ok(AccessFilter {
            from_ms,
            to_ms,
            tz,
            device_id,
            person_id,
            result,
            method,
            reason,
            search,
        })
    }
}

/// A SQL fragment with `?` placeholders and its values, in order.
#[derive(Debug, Default, Clone)]
pub(crate) struct Sql {
    pub text: String,
    pub values: Vec<Value>,
}

impl Sql {
    pub fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    pub fn bind(&mut self, text: &str, value: impl Into<Value>) -> &mut Self {
        self.text.push_str(text);
        self.values.push(value.into());
        self
    }
}

/// Escapes `%`, `_` and `\` for `LIKE … ESCAPE '\'`.
fn like_pattern(search: &str) -> String {
    let mut out = String::with_capacity(search.len() + 2);
    out.push('%');
    for ch in search.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(ch);
    }
    out.push('%');
    out
}

impl AccessFilter {
    /// Appends ` AND …` conditions on the access-log alias `l` to `sql`.
    pub(crate) fn push_conditions(&self, sql: &mut Sql) {
        self.push_conditions_but_search(sql);
        self.push_search(sql);
    }

    /// Every condition but the name search.
    pub(crate) fn push_conditions_but_search(&self, sql: &mut Sql) {
        if let Some(from) = self.from_ms {
            sql.bind(" AND l.ts_ms >= ?", from);
        }
        if let Some(to) = self.to_ms {
            sql.bind(" AND l.ts_ms < ?", to);
        }
        if let Some(device) = &self.device_id {
            sql.bind(" AND l.device_id = ?", device.clone());
        }
        if let Some(person) = &self.person_id {
            sql.bind(" AND l.person_id = ?", person.clone());
        }
        if let Some(result) = &self.result {
            sql.bind(" AND l.result = ?", result.clone());
        }
        if let Some(method) = &self.method {
            sql.bind(" AND l.method = ?", method.clone());
        }
        if let Some(reason) = &self.reason {
            sql.bind(" AND l.reason = ?", reason.clone());
        }
    }

    /// The name search, if any.
    pub(crate) fn push_search(&self, sql: &mut Sql) {
        if let Some(search) = &self.search {
            sql.bind(
                " AND l.person_name_lc LIKE ? ESCAPE '\\'",
                like_pattern(search),
            );
        }
    }

    /// The tz offset in ms (added to `ts_ms` before bucketing by day or hour).
    pub fn tz_ms(&self) -> i64 {
        i64::from(self.tz.whole_seconds()) * 1000
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(f: impl FnOnce(&mut FilterParams)) -> Result<AccessFilter, ServiceError> {
        let mut p = FilterParams::default();
        f(&mut p);
        p.parse()
    }

    #[test]
    fn dates_follow_the_offset() {
        let filter = params(|p| {
            p.from = Some("2026-11-01".into());
            p.to = Some("2026-11-01".into());
            p.tz = Some(" 07:00".into());
        })
        .unwrap();
        // 2026-11-01T00:00+07:00 = 2026-10-31T17:00Z.
        assert_eq!(filter.from_ms, Some(1_793_466_000_000));
        assert_eq!(filter.to_ms, Some(1_793_466_000_000 + MS_PER_DAY));
    }

    #[test]
    fn refuses_bad_values() {
        for bad in [
            params(|p| p.from = Some("2026-13-01".into())),
            params(|p| {
                p.from = Some("2026-11-02".into());
                p.to = Some("2026-11-01".into());
            }),
            params(|p| p.tz = Some("+25:00".into())),
            params(|p| p.result = Some("' OR 1=1 --".into())),
            params(|p| p.method = Some("card".into())),
            params(|p| p.device_id = Some("../etc/passwd".into())),
            params(|p| p.q = Some("x".repeat(101))),
        ] {
            assert!(matches!(bad, Err(ServiceError::Invalid(_))), "{bad:?}");
        }
    }

    #[test]
    fn like_patterns_are_escaped() {
        assert_eq!(like_pattern("a%b_c\\"), "%a\\%b\\_c\\\\%");
    }

    #[test]
    fn tz_forms() {
        for (raw, secs) in [
            ("+07:00", 25_200),
            ("0800", 28_800),
            ("-03:30", -12_600),
            ("Z", 0),
            ("utc", 0),
        ] {
            assert_eq!(parse_tz(raw).unwrap().whole_seconds(), secs, "{raw}");
        }
    }
}
