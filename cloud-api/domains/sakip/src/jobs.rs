//! The durable job queue in the database (`sakip_jobs`) and its worker.
//!
//! - A job is claimed by one statement: `UPDATE … WHERE id = (SELECT … LIMIT 1 FOR UPDATE
//!   SKIP LOCKED) RETURNING *` on PostgreSQL, the same without the lock clause on SQLite
//!   (one writer at a time there), so several replicas never claim the same job.
//! - A claim is a lease (`lease_secs`): a run is cut off before it lapses, and a job whose
//!   worker died (a restart, a crash) is claimed again once it has lapsed. Queued jobs
//!   simply wait in the table across restarts.
//! - A failed run is retried after `retry_base_ms × 2^(attempt−1)` (at most an hour) until
//!   `max_attempts`, then the job is `failed`.
//! - Scheduled work (`integration::schedule`) is enqueued with a unique dedupe key, so one
//!   period's run is queued once whatever the number of replicas.

use std::time::Duration;

use platform::state::AppState;
use sea_orm::{
    sea_query::{Expr, OnConflict},
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr,
    EntityTrait, QueryFilter, Set, Statement,
};
use serde_json::{json, Value};
use time::OffsetDateTime;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::{
    config::SakipConfig,
    entities::job,
    error::SakipError,
    integration::{self, SecretBox, SyncJob},
};

/// The kind of a SIPD budget sync job.
pub const SIPD_SYNC: &str = "sipd_sync";

/// The audit trail's actor for what the worker and the scheduler do.
pub const WORKER_ACTOR: &str = "system:sakip-worker";

/// The queue, its worker's settings and the integrations' client (one per cloud).
#[derive(Debug)]
pub struct JobQueue {
    pub config: SakipConfig,
    pub secrets: SecretBox,
    pub http: reqwest::Client,
    /// Wakes this replica's worker when a job is queued here.
    notify: Notify,
    worker_id: String,
}

impl JobQueue {
    pub fn new(config: SakipConfig, secrets: SecretBox) -> Self {
        let http =
            platform::http::client::https(Duration::from_millis(config.http_timeout_ms.max(1)));
        Self {
            config,
            secrets,
            http,
            notify: Notify::new(),
            worker_id: uuid::Uuid::new_v4().simple().to_string(),
        }
    }

    /// Queues a job due at `at`; with a `dedupe` key, answers the job already queued under it
    /// and whether this call queued it (`false`: another call or replica did).
    pub async fn enqueue(
        &self,
        db: &impl ConnectionTrait,
        kind: &str,
        payload: &Value,
        at: OffsetDateTime,
        dedupe: Option<String>,
    ) -> Result<(job::Model, bool), SakipError> {
        let row = job::ActiveModel {
            kind: Set(kind.to_owned()),
            payload: Set(payload.to_string()),
            status: Set("queued".into()),
            attempts: Set(0),
            max_attempts: Set(self.config.max_attempts.max(1)),
            run_at: Set(at),
            locked_by: Set(None),
            locked_until: Set(None),
            last_error: Set(None),
            result: Set(None),
            dedupe_key: Set(dedupe.clone()),
            created_at: Set(at),
            updated_at: Set(at),
            ..Default::default()
        };
        let saved = match dedupe {
            None => (row.insert(db).await?, true),
            Some(key) => {
                let inserted = job::Entity::insert(row)
                    .on_conflict(
                        OnConflict::column(job::Column::DedupeKey)
                            .do_nothing()
                            .to_owned(),
                    )
                    .exec_without_returning(db)
                    .await?;
                let found = job::Entity::find()
                    .filter(job::Column::DedupeKey.eq(key))
                    .one(db)
                    .await?
                    .ok_or_else(|| SakipError::from(DbErr::RecordNotInserted))?;
                (found, inserted == 1)
            }
        };
        self.notify.notify_one();
        Ok(saved)
    }

    /// Claims the next due job (queued and due, or running with a lapsed lease).
    pub async fn claim(
        &self,
        db: &DatabaseConnection,
        now: OffsetDateTime,
    ) -> Result<Option<job::Model>, DbErr> {
        let backend = db.get_database_backend();
        let (p, lock) = match backend {
            DatabaseBackend::Postgres => (["$1", "$2", "$3"], " FOR UPDATE SKIP LOCKED"),
            _ => (["?", "?", "?"], ""),
        };
        let lease = now + Duration::from_secs(self.config.lease_secs.max(1));
        // `now` appears twice in SQLite's positional form; bind in order of appearance.
        let sql = format!(
            "UPDATE sakip_jobs SET status = 'running', attempts = attempts + 1, \
             locked_by = {w}, locked_until = {l}, updated_at = {n} \
             WHERE id = (SELECT id FROM sakip_jobs \
               WHERE (status = 'queued' AND run_at <= {n}) OR (status = 'running' AND locked_until < {n}) \
               ORDER BY run_at, id LIMIT 1{lock}) \
             AND status IN ('queued', 'running') RETURNING *",
            w = p[0],
            l = p[1],
            n = p[2],
        );
        let values: Vec<sea_orm::Value> = match backend {
            DatabaseBackend::Postgres => {
                vec![self.worker_id.clone().into(), lease.into(), now.into()]
            }
            _ => vec![
                self.worker_id.clone().into(),
                lease.into(),
                now.into(),
                now.into(),
                now.into(),
            ],
        };
        job::Entity::find()
            .from_raw_sql(Statement::from_sql_and_values(backend, sql, values))
            .one(db)
            .await
    }

    /// Records a run's outcome, if this worker still holds the job.
    async fn finish(
        &self,
        db: &DatabaseConnection,
        claimed: &job::Model,
        outcome: Result<Value, String>,
        now: OffsetDateTime,
    ) -> Result<(), DbErr> {
        let mut update = job::Entity::update_many()
            .col_expr(job::Column::LockedBy, Expr::value(Option::<String>::None))
            .col_expr(
                job::Column::LockedUntil,
                Expr::value(Option::<OffsetDateTime>::None),
            )
            .col_expr(job::Column::UpdatedAt, Expr::value(now));
        update = match outcome {
            Ok(result) => update
                .col_expr(job::Column::Status, Expr::value("completed"))
                .col_expr(job::Column::Result, Expr::value(result.to_string()))
                .col_expr(job::Column::LastError, Expr::value(Option::<String>::None)),
            Err(err) if claimed.attempts < claimed.max_attempts => {
                let delay = self.backoff(claimed.attempts);
                tracing::warn!(job = claimed.id, attempt = claimed.attempts, error = %err, ?delay, "SAKIP job failed; retrying later.");
                update
                    .col_expr(job::Column::Status, Expr::value("queued"))
                    .col_expr(job::Column::RunAt, Expr::value(now + delay))
                    .col_expr(job::Column::LastError, Expr::value(err))
            }
            Err(err) => {
                tracing::error!(job = claimed.id, attempts = claimed.attempts, error = %err, "SAKIP job failed for good.");
                update
                    .col_expr(job::Column::Status, Expr::value("failed"))
                    .col_expr(job::Column::LastError, Expr::value(err))
            }
        };
        update
            .filter(job::Column::Id.eq(claimed.id))
            .filter(job::Column::LockedBy.eq(self.worker_id.clone()))
            .exec(db)
            .await?;
        Ok(())
    }

    /// Records what the worker did to `job` in the audit trail (actor `system:sakip-worker`).
    pub async fn audit(
        &self,
        state: &AppState,
        action: &'static str,
        job: &job::Model,
        detail: Value,
    ) {
        platform::audit::record(
            &state.db,
            state.clock.now(),
            platform::audit::Entry::new(action, platform::security::ClientIp(None))
                .actor(WORKER_ACTOR)
                .target(format!("job:{}", job.id))
                .detail(detail),
        )
        .await;
    }

    /// The delay before the retry that follows attempt `attempt` (1-based).
    pub fn backoff(&self, attempt: i32) -> Duration {
        let doubling = 2u64.saturating_pow(attempt.saturating_sub(1).clamp(0, 20) as u32);
        Duration::from_millis(
            self.config
                .retry_base_ms
                .saturating_mul(doubling)
                .min(3_600_000),
        )
    }

    async fn run(&self, state: &AppState, claimed: &job::Model) -> Result<Value, String> {
        match claimed.kind.as_str() {
            SIPD_SYNC => {
                let payload: SyncJob = serde_json::from_str(&claimed.payload)
                    .map_err(|e| format!("bad payload: {e}"))?;
                integration::run_sipd_sync(state, claimed.id, &payload).await
            }
            other => Err(format!("unknown job kind {other}")),
        }
    }

    /// Runs one due job if there is one; answers whether there was. The run's start and end
    /// are audited with the worker as the actor.
    pub async fn run_one(&self, state: &AppState) -> Result<bool, DbErr> {
        let now = state.clock.now();
        let Some(claimed) = self.claim(&state.db, now).await? else {
            return Ok(false);
        };
        // A job is run by one worker at a time (the lease), so a sync log still running now
        // belongs to an earlier attempt that was cut off or whose worker died.
        integration::fail_running_logs(
            &state.db,
            claimed.id,
            "interrupted: the previous attempt stopped before finishing (its lease lapsed)",
            now,
        )
        .await;
        self.audit(
            state,
            "sakip_job_start",
            &claimed,
            json!({ "kind": claimed.kind, "attempt": claimed.attempts, "payload": serde_json::from_str::<Value>(&claimed.payload).unwrap_or(Value::Null) }),
        )
        .await;
        // Cut off before the lease lapses, so no other worker can run it meanwhile.
        let limit = Duration::from_secs(self.config.lease_secs.max(2) - 1);
        let outcome = match tokio::time::timeout(limit, self.run(state, &claimed)).await {
            Ok(outcome) => outcome,
            Err(_) => {
                let err = "the run took longer than its lease";
                integration::fail_running_logs(&state.db, claimed.id, err, state.clock.now()).await;
                Err(err.into())
            }
        };
        let failed_for_good = match &outcome {
            Err(err) if claimed.attempts >= claimed.max_attempts => Some(err.clone()),
            _ => None,
        };
        let detail = match &outcome {
            Ok(result) => json!({ "status": "completed", "result": result }),
            Err(err) if failed_for_good.is_some() => json!({ "status": "failed", "error": err }),
            Err(err) => json!({ "status": "retry", "error": err }),
        };
        self.finish(&state.db, &claimed, outcome, state.clock.now())
            .await?;
        self.audit(state, "sakip_job_finish", &claimed, detail)
            .await;
        if let Some(err) = failed_for_good {
            crate::mail::notify(
                state,
                crate::mail::To::SuperAdmins,
                format!("Sinkronisasi SAKIP gagal (job #{})", claimed.id),
                format!(
                    "Job #{} ({}) gagal setelah {} percobaan.\n\nGalat: {err}",
                    claimed.id, claimed.kind, claimed.attempts
                ),
            );
        }
        Ok(true)
    }

    /// The worker: schedules due syncs, runs due jobs, sleeps when idle; ends on `shutdown`.
    pub async fn work(state: AppState, shutdown: CancellationToken) {
        let queue = state.domain::<JobQueue>();
        let poll = Duration::from_millis(queue.config.poll_ms.max(10));
        let mut next_schedule = tokio::time::Instant::now();
        loop {
            if shutdown.is_cancelled() {
                return;
            }
            if tokio::time::Instant::now() >= next_schedule {
                if let Err(err) = integration::schedule(&state).await {
                    tracing::warn!(error = %err, "SAKIP could not schedule syncs.");
                }
                next_schedule = tokio::time::Instant::now() + poll.max(Duration::from_secs(1));
            }
            let ran = match queue.run_one(&state).await {
                Ok(ran) => ran,
                Err(err) => {
                    tracing::warn!(error = %err, "SAKIP could not claim a job.");
                    false
                }
            };
            if ran {
                continue;
            }
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = queue.notify.notified() => {}
                () = tokio::time::sleep(poll) => {}
            }
        }
    }
}
