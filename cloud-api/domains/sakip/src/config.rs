//! The `[sakip]` configuration section (`GERBANG_SAKIP_*` in the environment): the cache's
//! Redis, the job worker and the HTTP client of the integrations. Secrets are never logged.

use serde::{Deserialize, Serialize};

/// `[sakip]`.
#[derive(Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct SakipConfig {
    /// Redis for the shared cache; `GERBANG_REDIS_URL` when unset; in process when neither.
    pub redis_url: Option<String>,
    /// The prefix of this deployment's Redis keys.
    pub redis_prefix: String,
    /// Whether this replica runs queued jobs.
    pub worker: bool,
    /// How often an idle worker looks for due jobs and schedules, in milliseconds.
    pub poll_ms: u64,
    /// The first retry's delay; each further retry doubles it (capped at an hour).
    pub retry_base_ms: u64,
    /// Runs of a job before it is `failed`.
    pub max_attempts: i32,
    /// How long a claimed job is its worker's; a run is cut off before then, and a job whose
    /// worker vanished is claimed again once it lapses.
    pub lease_secs: u64,
    /// The integrations' HTTP timeout (connect and whole answer), in milliseconds.
    pub http_timeout_ms: u64,
    /// The largest answer an integration may send.
    pub max_body_bytes: usize,
    /// The key sealing integration secrets (base64, 32 bytes); one kept in the database
    /// when unset.
    pub secret_key: Option<String>,
    /// TOTP is mandatory for `super_admin` and `admin_opd`: until they have enrolled, every
    /// SAKIP route but enrolment, `me` and logout answers 403.
    pub mfa_required: bool,
    /// SMTP server of the notifications; none sent when unset.
    pub smtp_host: Option<String>,
    pub smtp_port: u16,
    /// Sender, e.g. `SAKIP <sakip@pemda.go.id>`; none sent when unset.
    pub smtp_from: Option<String>,
    pub smtp_username: Option<String>,
    pub smtp_password: Option<String>,
    /// `starttls` (default), `tls` (implicit, port 465) or `none`.
    pub smtp_tls: String,
    /// Where supporting documents are stored; `{data_dir}/sakip` when unset.
    pub documents_dir: Option<std::path::PathBuf>,
    /// The largest supporting document accepted, in bytes (10 MiB).
    pub max_document_bytes: usize,
}

impl Default for SakipConfig {
    fn default() -> Self {
        Self {
            redis_url: None,
            redis_prefix: "gerbang:sakip".into(),
            mfa_required: false,
            smtp_host: None,
            smtp_port: 587,
            smtp_from: None,
            smtp_username: None,
            smtp_password: None,
            smtp_tls: "starttls".into(),
            documents_dir: None,
            max_document_bytes: 10 * 1024 * 1024,
            worker: true,
            poll_ms: 1_000,
            retry_base_ms: 5_000,
            max_attempts: 5,
            lease_secs: 120,
            http_timeout_ms: 15_000,
            max_body_bytes: 10 * 1024 * 1024,
            secret_key: None,
        }
    }
}

impl std::fmt::Debug for SakipConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SakipConfig")
            .field("redis_url", &self.redis_url.as_ref().map(|_| "***"))
            .field("redis_prefix", &self.redis_prefix)
            .field("worker", &self.worker)
            .field("poll_ms", &self.poll_ms)
            .field("retry_base_ms", &self.retry_base_ms)
            .field("max_attempts", &self.max_attempts)
            .field("lease_secs", &self.lease_secs)
            .field("http_timeout_ms", &self.http_timeout_ms)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("secret_key", &self.secret_key.as_ref().map(|_| "***"))
            .field("mfa_required", &self.mfa_required)
            .field("smtp_host", &self.smtp_host)
            .field("smtp_port", &self.smtp_port)
            .field("smtp_from", &self.smtp_from)
            .field("smtp_username", &self.smtp_username)
            .field("smtp_password", &self.smtp_password.as_ref().map(|_| "***"))
            .field("smtp_tls", &self.smtp_tls)
            .field("documents_dir", &self.documents_dir)
            .field("max_document_bytes", &self.max_document_bytes)
            .finish()
    }
}
