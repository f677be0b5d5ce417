//! The daily retention job: every policy the platform and the domains register
//! ([`crate::domain::Domain::retention`]) removes or pseudonymises what is older than its
//! period (`[retention] periods`, else the policy's default). One replica runs it a day:
//! the run is claimed in the database (`job_runs`, a compare-and-set on the last run's
//! time), never with a flag in one process. Each run reports what it removed in the log,
//! the `retention_removed_total` metric and one `retention_run` audit row.

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tokio_util::sync::CancellationToken;

use crate::{
    audit,
    db::entities::audit as audit_row,
    domain::{RetentionAction, RetentionPolicy},
    error::{DbContext, ServiceError},
    ingest::forget,
    sql::stmt,
    state::{AppState, Platform},
};

/// The job's row in `job_runs`.
pub const JOB: &str = "retention";
/// How long after one run the next is due.
pub const RUN_EVERY: time::Duration = time::Duration::DAY;

/// `[retention]` (`GERBANG_RETENTION_*`).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct RetentionConfig {
    /// Run the daily job in this replica (any replica may run it; one does each day).
    pub enabled: bool,
    /// How often this replica checks whether the day's run is due (the first check one
    /// period after start), seconds.
    pub check_every_secs: u64,
    /// Days to keep each kind of record, by policy name (`camera_snapshots = 30`);
    /// a policy not named keeps its default; 0 keeps the records forever.
    pub periods: BTreeMap<String, u32>,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            check_every_secs: 3600,
            periods: BTreeMap::new(),
        }
    }
}

/// What one policy did in a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyOutcome {
    pub policy: &'static str,
    pub action: RetentionAction,
    /// The period applied; `None`: kept forever (period 0).
    pub days: Option<u32>,
    pub removed: u64,
}

/// What a run did, policy by policy.
#[derive(Debug, Clone, Serialize)]
pub struct RetentionReport {
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub policies: Vec<PolicyOutcome>,
}

impl RetentionReport {
    /// How many records `policy` removed or pseudonymised.
    pub fn removed(&self, policy: &str) -> Option<u64> {
        self.policies
            .iter()
            .find(|p| p.policy == policy)
            .map(|p| p.removed)
    }
}

/// The audit trail: entries older than the period are deleted (default two years).
#[derive(Debug)]
pub struct AuditTrail;

#[async_trait::async_trait]
impl RetentionPolicy for AuditTrail {
    fn name(&self) -> &'static str {
        "platform_audit_log"
    }

    fn default_days(&self) -> u32 {
        730
    }

    fn action(&self) -> RetentionAction {
        RetentionAction::Delete
    }

    async fn enforce(&self, db: &DatabaseConnection, cutoff: OffsetDateTime) -> Result<u64, DbErr> {
        Ok(audit_row::Entity::delete_many()
            .filter(audit_row::Column::At.lt(cutoff))
            .exec(db)
            .await?
            .rows_affected)
    }
}

/// The stored device events: access decisions and attendances older than the period lose
/// their person and snapshot reference (default one year, as the access log).
#[derive(Debug)]
pub struct DeviceEvents;

#[async_trait::async_trait]
impl RetentionPolicy for DeviceEvents {
    fn name(&self) -> &'static str {
        "platform_events"
    }

    fn default_days(&self) -> u32 {
        365
    }

    fn action(&self) -> RetentionAction {
        RetentionAction::Pseudonymise
    }

    async fn enforce(&self, db: &DatabaseConnection, cutoff: OffsetDateTime) -> Result<u64, DbErr> {
        forget::pseudonymise_before(db, cutoff).await
    }
}

/// The platform's own policies, before the domains'.
pub fn platform_policies() -> Vec<Arc<dyn RetentionPolicy>> {
    vec![Arc::new(AuditTrail), Arc::new(DeviceEvents)]
}

/// Claims the run due at `now` for this replica: true when no replica has run the job
/// within [`RUN_EVERY`]. Atomic on both databases (one UPDATE on one row: a concurrent
/// claimer waits for the row and then finds it taken).
pub async fn claim(db: &impl ConnectionTrait, now: OffsetDateTime) -> Result<bool, DbErr> {
    let backend = db.get_database_backend();
    db.execute(stmt(
        backend,
        "INSERT INTO job_runs (name, runs) VALUES (?, 0) ON CONFLICT (name) DO NOTHING",
        vec![JOB.into()],
    ))
    .await?;
    let due = (now - RUN_EVERY).unix_timestamp();
    let claimed = db
        .execute(stmt(
            backend,
            "UPDATE job_runs SET last_run_unix = ?, runs = runs + 1 \
             WHERE name = ? AND (last_run_unix IS NULL OR last_run_unix <= ?)",
            vec![now.unix_timestamp().into(), JOB.into(), due.into()],
        ))
        .await?
        .rows_affected();
    Ok(claimed == 1)
}

/// Runs every policy at `now` (whether or not a run is due) and reports.
pub async fn enforce(
    platform: &Platform,
    now: OffsetDateTime,
) -> Result<RetentionReport, ServiceError> {
    let periods = &platform.config.retention.periods;
    let mut policies = Vec::with_capacity(platform.retention.len());
    for policy in &platform.retention {
        let days = periods
            .get(policy.name())
            .copied()
            .unwrap_or_else(|| policy.default_days());
        let removed = if days == 0 {
            0
        } else {
            let cutoff = now - time::Duration::days(i64::from(days));
            policy
                .enforce(&platform.db, cutoff)
                .await
                .db("enforcing a retention period")?
        };
        platform
            .metrics
            .retention_removed(policy.name())
            .inc_by(removed);
        tracing::info!(
            policy = policy.name(),
            action = ?policy.action(),
            days,
            removed,
            "Retention period enforced."
        );
        policies.push(PolicyOutcome {
            policy: policy.name(),
            action: policy.action(),
            days: (days > 0).then_some(days),
            removed,
        });
    }
    let report = RetentionReport { at: now, policies };
    let detail: serde_json::Map<String, serde_json::Value> = report
        .policies
        .iter()
        .map(|p| (p.policy.to_owned(), p.removed.into()))
        .collect();
    audit::record(
        &platform.db,
        now,
        audit::Entry {
            action: "retention_run",
            actor: Some("retention job".into()),
            detail: Some(serde_json::Value::Object(detail)),
            success: true,
            ..Default::default()
        },
    )
    .await;
    Ok(report)
}

/// The day's run, if this replica claims it.
pub async fn run_if_due(
    platform: &Platform,
    now: OffsetDateTime,
) -> Result<Option<RetentionReport>, ServiceError> {
    if !claim(&platform.db, now)
        .await
        .db("claiming the retention run")?
    {
        return Ok(None);
    }
    match enforce(platform, now).await {
        Ok(report) => Ok(Some(report)),
        Err(error) => {
            // The day's run did not happen: any replica tries again at its next check.
            let backend = platform.db.get_database_backend();
            if let Err(release) = platform
                .db
                .execute(stmt(
                    backend,
                    "UPDATE job_runs SET last_run_unix = NULL WHERE name = ?",
                    vec![JOB.into()],
                ))
                .await
            {
                tracing::error!(error = %release, "The failed retention run was not released.");
            }
            Err(error)
        }
    }
}

/// Checks every `check_every_secs` whether the day's run is due, until `shutdown`. The
/// first check comes one period after start, not during it: a cloud starting up (or a
/// test's) has other writers, and SQLite has one.
pub fn spawn(platform: AppState, shutdown: CancellationToken) {
    let config = &platform.config.retention;
    if !config.enabled {
        return;
    }
    let every = Duration::from_secs(config.check_every_secs.max(1));
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(every) => {}
            }
            if let Err(error) = run_if_due(&platform, platform.clock.now()).await {
                tracing::error!(%error, "The retention job failed; it is tried again later.");
            }
        }
    });
}
