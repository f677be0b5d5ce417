//! What the people domain keeps while the cloud runs (and attendance reads): the template
//! cipher, the models folder and embedder, and the site's time zone.

use std::path::PathBuf;

use sea_orm::DatabaseConnection;
use time::OffsetDateTime;

use super::{cipher::TemplateCipher, config::ConsentText, faces, PeopleConfig};
use platform::{config::CloudConfig, secrets, start_error::CloudError};

#[derive(Debug)]
pub struct PeopleRuntime {
    pub cipher: TemplateCipher,
    pub models_dir: PathBuf,
    /// The manifest's embedder sha256 (`None` when the manifest cannot be read).
    pub embedder_sha256: Option<String>,
    pub time_zone: jiff::tz::TimeZone,
    pub time_zone_name: String,
    /// `HH:MM`, validated.
    pub work_starts_at: Option<String>,
    /// The consent text shown before enrolment, and its version.
    pub consent: ConsentText,
}

/// `HH:MM` → minutes after midnight (`24:00` allowed when `end`).
pub fn parse_hhmm(raw: &str, end: bool) -> Option<u16> {
    let (h, m) = raw.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    match (h, m) {
        (24, 0) if end => Some(24 * 60),
        (0..=23, 0..=59) => Some(h * 60 + m),
        _ => None,
    }
}

impl PeopleRuntime {
    pub async fn start(config: &CloudConfig, db: &DatabaseConnection) -> Result<Self, CloudError> {
        let people: PeopleConfig = config.section("people")?;
        let people = &people;
        let generated = TemplateCipher::from_base64(&secrets::template_key(db).await?)?;
        let cipher = match &people.template_key {
            // A configured key: the generated one (if templates were sealed with it before a
            // key was configured) and the previous ones still open.
            Some(key) => {
                let mut previous = vec![generated];
                for (i, old) in people.previous_template_keys.iter().enumerate() {
                    previous.push(TemplateCipher::from_base64(old).map_err(|e| {
                        CloudError::Config(format!("people.previous_template_keys[{i}]: {e}"))
                    })?);
                }
                TemplateCipher::from_base64(key)
                    .map_err(|e| CloudError::Config(format!("people.template_key: {e}")))?
                    .with_previous(previous)
            }
            None => generated,
        };
        let time_zone = jiff::tz::TimeZone::get(&people.time_zone).map_err(|e| {
            CloudError::Config(format!("people.time_zone {:?}: {e}", people.time_zone))
        })?;
        if people.consent.version.trim().is_empty()
            || people.consent.text_id.trim().is_empty()
            || people.consent.text_en.trim().is_empty()
        {
            return Err(CloudError::Config(
                "people.consent: the version and both texts must be set".into(),
            ));
        }
        if let Some(at) = &people.work_starts_at {
            if parse_hhmm(at, false).is_none() {
                return Err(CloudError::Config(format!(
                    "people.work_starts_at {at:?} is not HH:MM"
                )));
            }
        }
        let models_dir = faces::models_dir(people.models_dir.as_ref());
        let embedder_sha256 = match faces::embedder_sha256(&models_dir) {
            Ok(sha) => Some(sha),
            Err(err) => {
                tracing::error!(error = %err, "The models manifest is not readable: face registration, attendance and the device gallery are unavailable.");
                None
            }
        };
        Ok(Self {
            cipher,
            models_dir,
            embedder_sha256,
            time_zone,
            time_zone_name: people.time_zone.clone(),
            work_starts_at: people.work_starts_at.clone(),
            consent: people.consent.clone(),
        })
    }

    /// The site-local calendar day of `at` (`YYYY-MM-DD`) and its minutes after midnight.
    pub fn local_day(&self, at: OffsetDateTime) -> (String, u16) {
        let ts = jiff::Timestamp::from_second(at.unix_timestamp())
            .unwrap_or(jiff::Timestamp::UNIX_EPOCH);
        let zoned = ts.to_zoned(self.time_zone.clone());
        let minutes = zoned.hour() as u16 * 60 + zoned.minute() as u16;
        (zoned.date().to_string(), minutes)
    }

    /// `at` as the site's wall clock shows it (with the zone's offset at that instant).
    pub fn in_site_zone(&self, at: OffsetDateTime) -> OffsetDateTime {
        let ts = jiff::Timestamp::from_second(at.unix_timestamp())
            .unwrap_or(jiff::Timestamp::UNIX_EPOCH);
        let seconds = self.time_zone.to_offset(ts).seconds();
        time::UtcOffset::from_whole_seconds(seconds)
            .map(|offset| at.to_offset(offset))
            .unwrap_or(at)
    }

    /// Whether a check-in at `minutes` after local midnight is late.
    pub fn is_late(&self, minutes: u16) -> bool {
        self.work_starts_at
            .as_deref()
            .and_then(|at| parse_hhmm(at, false))
            .is_some_and(|start| minutes > start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hhmm() {
        assert_eq!(parse_hhmm("08:30", false), Some(510));
        assert_eq!(parse_hhmm("24:00", true), Some(1440));
        assert_eq!(parse_hhmm("24:00", false), None);
        assert_eq!(parse_hhmm("8:30", false), None);
        assert_eq!(parse_hhmm("12:60", false), None);
    }
}
