//! `[people]` configuration (`GERBANG_PEOPLE_*`): models, the template key, the site's time
//! zone and working hours, and where camera media is stored.

use std::{fmt, path::PathBuf};

use serde::{Deserialize, Serialize};

/// People, attendance and camera settings.
#[derive(Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct PeopleConfig {
    /// Folder holding the models' `manifest.toml`; default: the `models` crate's folder.
    pub models_dir: Option<PathBuf>,
    /// Base64 of 32 random bytes sealing face templates at rest
    /// (`GERBANG_PEOPLE_TEMPLATE_KEY`). When unset, a key is generated into the database's
    /// `cloud_secrets` (then a database dump holds both; set this in production).
    pub template_key: Option<String>,
    /// Keys (base64) that still open templates sealed before a key rotation; never used to
    /// seal. Drop them once `POST /api/face-templates/reseal` has run.
    pub previous_template_keys: Vec<String>,
    /// IANA time zone of the site: attendance days and access windows (`Asia/Jakarta`).
    pub time_zone: String,
    /// Check-ins after this site-local time (`HH:MM`) are late; unset: never late.
    pub work_starts_at: Option<String>,
    /// Local directory of the object store for snapshots; default `{data_dir}/media`.
    pub media_dir: Option<PathBuf>,
    /// The text a person (or the admin acting for them) agrees to before a face is
    /// enrolled, and its version (recorded with each consent; change it with the text).
    pub consent: ConsentText,
}

/// The face-enrolment consent text, in Indonesian and English (`[people.consent]`).
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct ConsentText {
    pub version: String,
    pub text_id: String,
    pub text_en: String,
}

impl Default for ConsentText {
    fn default() -> Self {
        Self {
            version: "2026-12-1".into(),
            text_id: "Saya menyetujui pengambilan foto wajah saya dan pembuatan templat \
                biometrik darinya, yang disimpan terenkripsi dan hanya dipakai untuk membuka \
                pintu dan mencatat kehadiran di lokasi ini (UU No. 27 Tahun 2022 tentang \
                Pelindungan Data Pribadi). Saya dapat menarik persetujuan ini kapan saja; \
                templat saya kemudian dihapus dari server dan dari setiap pintu."
                .into(),
            text_en: "I agree to a photo of my face being taken and a biometric template \
                being made from it, stored encrypted and used only to open doors and record \
                attendance at this site (Indonesian Law No. 27 of 2022 on Personal Data \
                Protection). I may withdraw this consent at any time; my templates are then \
                erased from the server and from every door."
                .into(),
        }
    }
}

impl Default for PeopleConfig {
    fn default() -> Self {
        Self {
            models_dir: None,
            template_key: None,
            previous_template_keys: Vec::new(),
            time_zone: "Asia/Jakarta".into(),
            work_starts_at: None,
            media_dir: None,
            consent: ConsentText::default(),
        }
    }
}

impl fmt::Debug for PeopleConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PeopleConfig")
            .field("models_dir", &self.models_dir)
            .field("template_key", &self.template_key.as_ref().map(|_| "***"))
            .field("previous_template_keys", &self.previous_template_keys.len())
            .field("time_zone", &self.time_zone)
            .field("work_starts_at", &self.work_starts_at)
            .field("media_dir", &self.media_dir)
            .field("consent_version", &self.consent.version)
            .finish()
    }
}
