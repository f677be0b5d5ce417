//! Integrations with external systems (super_admin): their secrets (`api_key`,
//! `credentials`) sealed at rest with XChaCha20-Poly1305 and never returned, sync requests
//! that queue a job (`jobs`), the sync logs, and the SIPD budget sync of the seed's
//! `processSIPDSync`: a log row running → completed/failed with its counts, allocations
//! upserted on `sipd_code`, then `last_sync` and `health_score`.

use axum::{extract::State, http::StatusCode, response::IntoResponse, Json};
use base64::{engine::general_purpose::STANDARD as B64, Engine};
use chacha20poly1305::{
    aead::{Aead, KeyInit, Payload},
    Key, XChaCha20Poly1305, XNonce,
};
use futures::StreamExt;
use platform::{
    db::entities::secret, error::ServiceError, i18n::Msg, secrets::random_bytes,
    security::ClientIp, state::AppState,
};
use rust_decimal::Decimal;
use sea_orm::{
    sea_query::{Expr, OnConflict},
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set, TransactionTrait,
};
use serde::Deserialize;
use serde_json::{json, Value};
use time::OffsetDateTime;

use crate::{
    auth::Caller,
    budget::CATEGORIES,
    config::SakipConfig,
    entities::{allocation, integration, job, sync_log},
    error::{ok, Answer, Body, Path, Query, SakipError},
    jobs::{self, JobQueue},
    performance::{money, Period},
    planning::{self, opt_text, rfc3339, text},
    Page,
};

pub const STATUSES: &[&str] = &["active", "inactive", "error", "maintenance"];
pub const FREQUENCIES: &[&str] = &["manual", "hourly", "daily", "weekly"];
const KEY_NAME: &str = "sakip_integration_key";
const NONCE_LEN: usize = 24;
const AAD_PREFIX: &[u8] = b"gerbang-sakip-integration-v1:";

/// Seals and opens integration secrets; the integration's id is the associated data, so a
/// sealed value moved to another row does not open.
#[derive(Clone)]
pub struct SecretBox {
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(***)")
    }
}

fn aad(id: i32) -> Vec<u8> {
    let mut out = AAD_PREFIX.to_vec();
    out.extend_from_slice(id.to_string().as_bytes());
    out
}

impl SecretBox {
    pub fn new(key: &[u8; 32]) -> Self {
        Self {
            cipher: XChaCha20Poly1305::new(Key::from_slice(key)),
        }
    }

    /// The configured key, or the one kept in `cloud_secrets` (created on first start; the
    /// first insert wins when replicas start together).
    pub async fn load(
        db: &DatabaseConnection,
        configured: Option<&str>,
    ) -> Result<Self, ServiceError> {
        let encoded = match configured {
            Some(key) => key.to_owned(),
            None => {
                let row = secret::ActiveModel {
                    name: Set(KEY_NAME.to_owned()),
                    value: Set(B64.encode(random_bytes::<32>())),
                    created_at: Set(OffsetDateTime::now_utc()),
                };
                secret::Entity::insert(row)
                    .on_conflict(
                        OnConflict::column(secret::Column::Name)
                            .do_nothing()
                            .to_owned(),
                    )
                    .exec_without_returning(db)
                    .await
                    .map_err(|e| ServiceError::internal("storing the SAKIP key", e))?;
                secret::Entity::find_by_id(KEY_NAME)
                    .one(db)
                    .await
                    .map_err(|e| ServiceError::internal("loading the SAKIP key", e))?
                    .map(|s| s.value)
                    .ok_or_else(|| {
                        ServiceError::internal("loading the SAKIP key", "row vanished")
                    })?
            }
        };
        let key: [u8; 32] = B64
            .decode(encoded.trim())
            .ok()
            .and_then(|k| k.try_into().ok())
            .ok_or_else(|| {
                ServiceError::internal("sakip.secret_key", "must be 32 bytes in base64")
            })?;
        Ok(Self::new(&key))
    }

    /// base64 of `nonce ‖ ciphertext`.
    pub fn seal(&self, id: i32, plain: &Value) -> Result<String, ServiceError> {
        let nonce = random_bytes::<NONCE_LEN>();
        let sealed = self
            .cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plain.to_string().as_bytes(),
                    aad: &aad(id),
                },
            )
            .map_err(|_| ServiceError::internal("sealing a secret", "encryption failed"))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(B64.encode(out))
    }

    pub fn open(&self, id: i32, sealed: &str) -> Result<Value, ServiceError> {
        let fail = || ServiceError::internal("opening a secret", "authentication failed");
        let bytes = B64.decode(sealed).map_err(|_| fail())?;
        if bytes.len() <= NONCE_LEN {
            return Err(fail());
        }
        let (nonce, body) = bytes.split_at(NONCE_LEN);
        let plain = self
            .cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: body,
                    aad: &aad(id),
                },
            )
            .map_err(|_| fail())?;
        serde_json::from_slice(&plain).map_err(|_| fail())
    }
}

pub fn integration_json(row: &integration::Model, secrets: Option<&Value>) -> Value {
    let has = |k: &str| secrets.is_some_and(|s| !s[k].is_null());
    json!({
        "id": row.id,
        "system_name": row.system_name,
        "system_type": row.system_type,
        "endpoint_url": row.endpoint_url,
        "status": row.status,
        "last_sync": row.last_sync.map(rfc3339),
        "sync_frequency": row.sync_frequency,
        "health_score": row.health_score,
        "config": row.config.as_deref().and_then(|c| serde_json::from_str::<Value>(c).ok()),
        "has_api_key": has("api_key"),
        "has_credentials": has("credentials"),
        "created_at": rfc3339(row.created_at),
    })
}

fn one_of(field: &str, allowed: &[&str]) -> SakipError {
    SakipError::bad(Msg::owned(
        format!("{field} harus salah satu dari: {}", allowed.join(", ")),
        format!("{field} must be one of: {}", allowed.join(", ")),
    ))
}

fn opened(state: &AppState, row: &integration::Model) -> Option<Value> {
    let sealed = row.secrets.as_deref()?;
    state.domain::<JobQueue>().secrets.open(row.id, sealed).ok()
}

#[derive(Debug, Deserialize)]
pub struct IntegrationInput {
    #[serde(default)]
    system_name: Option<String>,
    #[serde(default)]
    system_type: Option<String>,
    #[serde(default)]
    endpoint_url: Option<String>,
    #[serde(default)]
    api_key: Option<String>,
    #[serde(default)]
    credentials: Option<Value>,
    #[serde(default)]
    sync_frequency: Option<String>,
    #[serde(default)]
    config: Option<Value>,
    #[serde(default)]
    status: Option<String>,
}

/// `POST /integrations` (super_admin).
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ip: ClientIp,
    Body(body): Body<IntegrationInput>,
) -> Answer {
    caller.super_admin()?;
    let endpoint = opt_text("endpoint_url", body.endpoint_url.as_deref(), 2_000)?;
    if let Some(url) = &endpoint {
        let parsed = reqwest::Url::parse(url).ok();
        if !parsed.is_some_and(|u| matches!(u.scheme(), "http" | "https")) {
            return Err(SakipError::bad(Msg::new(
                "endpoint_url harus URL http(s)",
                "endpoint_url must be an http(s) URL",
            )));
        }
    }
    let status = body.status.as_deref().unwrap_or("active");
    if !STATUSES.contains(&status) {
        return Err(one_of("status", STATUSES));
    }
    let frequency = body.sync_frequency.as_deref().unwrap_or("manual");
    if !FREQUENCIES.contains(&frequency) {
        return Err(one_of("sync_frequency", FREQUENCIES));
    }
    if body.config.as_ref().is_some_and(|c| !c.is_object()) {
        return Err(SakipError::bad(Msg::new(
            "config harus berupa objek",
            "config must be an object",
        )));
    }
    scheduled_opds(frequency, body.config.as_ref())?;
    let secrets = json!({
        "api_key": opt_text("api_key", body.api_key.as_deref(), 2_000)?,
        "credentials": body.credentials,
    });
    let txn = state.db.begin().await?;
    let row = integration::ActiveModel {
        system_name: Set(text("system_name", body.system_name.as_deref(), 100)?),
        system_type: Set(opt_text("system_type", body.system_type.as_deref(), 50)?),
        endpoint_url: Set(endpoint),
        secrets: Set(None),
        status: Set(status.to_owned()),
        last_sync: Set(None),
        sync_frequency: Set(Some(frequency.to_owned())),
        health_score: Set(0),
        config: Set(body.config.as_ref().map(Value::to_string)),
        created_at: Set(state.clock.now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let sealed = state.domain::<JobQueue>().secrets.seal(row.id, &secrets)?;
    let mut active: integration::ActiveModel = row.into();
    active.secrets = Set(Some(sealed));
    let row = active.update(&txn).await?;
    txn.commit().await?;
    crate::audit(
        &state,
        &caller,
        ip,
        "sakip_integration_create",
        row.id.to_string(),
    )
    .await;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "success": true, "data": integration_json(&row, Some(&secrets)) })),
    )
        .into_response())
}

/// `GET /integrations` (super_admin).
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(page): Query<Page>,
) -> Answer {
    caller.super_admin()?;
    let (page_no, limit) = page.checked()?;
    let q = integration::Entity::find();
    let total = q.clone().count(&state.db).await?;
    let rows = q
        .order_by_asc(integration::Column::Id)
        .offset((page_no - 1) * limit)
        .limit(limit)
        .all(&state.db)
        .await?;
    let items = rows
        .iter()
        .map(|r| integration_json(r, opened(&state, r).as_ref()))
        .collect();
    ok(page.answer(items, total))
}

async fn find(db: &impl ConnectionTrait, id: i32) -> Result<integration::Model, SakipError> {
    integration::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or_else(|| SakipError::not_found("Integrasi tidak ditemukan", "Integration not found"))
}

/// `GET /integrations/:id` (super_admin).
pub async fn get(State(state): State<AppState>, caller: Caller, Path(id): Path<i32>) -> Answer {
    caller.super_admin()?;
    let row = find(&state.db, id).await?;
    ok(integration_json(&row, opened(&state, &row).as_ref()))
}

/// A scheduled integration (`sync_frequency` other than `manual`) must name the OPDs it
/// syncs: `config.opd_ids`, a non-empty list of OPD ids. Without it the schedule would
/// silently queue nothing, so it is refused rather than guessed (all OPDs would be a
/// surprise in a province with dozens of them).
fn scheduled_opds(frequency: &str, config: Option<&Value>) -> Result<(), SakipError> {
    if frequency == "manual" {
        return Ok(());
    }
    let ids = config
        .and_then(|c| c.get("opd_ids"))
        .and_then(Value::as_array);
    let valid = ids.is_some_and(|ids| {
        !ids.is_empty()
            && ids.iter().all(|o| {
                o.as_i64()
                    .is_some_and(|o| i32::try_from(o).is_ok_and(|o| o > 0))
            })
    });
    if valid {
        Ok(())
    } else {
        Err(SakipError::bad(Msg::new(
            "sync_frequency terjadwal memerlukan config.opd_ids: daftar id OPD yang tidak kosong",
            "a scheduled sync_frequency needs config.opd_ids: a non-empty list of OPD ids",
        )))
    }
}

#[derive(Debug, Deserialize)]
pub struct SyncRequest {
    opd_id: i32,
    year: i32,
}

/// What a SIPD sync job carries.
#[derive(Debug, serde::Serialize, Deserialize)]
pub struct SyncJob {
    pub integration_id: i32,
    pub opd_id: i32,
    pub year: i32,
}

/// Checks that `row` can run a SIPD sync now.
fn syncable(row: &integration::Model) -> Result<(), SakipError> {
    if !row.system_name.eq_ignore_ascii_case("SIPD") {
        return Err(SakipError::bad(Msg::new(
            "Sinkronisasi hanya tersedia untuk SIPD",
            "Only SIPD can be synchronised",
        )));
    }
    if row.status != "active" || row.endpoint_url.is_none() {
        return Err(SakipError::conflict(Msg::new(
            "Integrasi SIPD tidak aktif atau belum dikonfigurasi",
            "The SIPD integration is not active or not configured",
        )));
    }
    Ok(())
}

/// `POST /integrations/:id/sync {opd_id, year}` (super_admin) → 202 `{job_id, status}`.
pub async fn sync(
    State(state): State<AppState>,
    caller: Caller,
    ip: ClientIp,
    Path(id): Path<i32>,
    Body(body): Body<SyncRequest>,
) -> Answer {
    caller.super_admin()?;
    let row = find(&state.db, id).await?;
    syncable(&row)?;
    Period::new(body.year, None, None)?;
    planning::find_opd(&state, body.opd_id).await?;
    let queue = state.domain::<JobQueue>();
    let payload = SyncJob {
        integration_id: id,
        opd_id: body.opd_id,
        year: body.year,
    };
    let (queued, _) = queue
        .enqueue(
            &state.db,
            jobs::SIPD_SYNC,
            &json!(payload),
            state.clock.now(),
            None,
        )
        .await?;
    crate::audit(
        &state,
        &caller,
        ip,
        "sakip_integration_sync",
        id.to_string(),
    )
    .await;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "success": true, "data": { "job_id": queued.id, "status": queued.status } })),
    )
        .into_response())
}

fn log_json(row: &sync_log::Model) -> Value {
    json!({
        "id": row.id,
        "integration_id": row.integration_id,
        "job_id": row.job_id,
        "sync_type": row.sync_type,
        "status": row.status,
        "records_processed": row.records_processed,
        "records_success": row.records_success,
        "records_failed": row.records_failed,
        "error_message": row.error_message,
        "started_at": row.started_at.map(rfc3339),
        "completed_at": row.completed_at.map(rfc3339),
        "created_at": rfc3339(row.created_at),
    })
}

/// `GET /integrations/:id/sync-logs` (super_admin), newest first.
pub async fn sync_logs(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i32>,
    Query(page): Query<Page>,
) -> Answer {
    caller.super_admin()?;
    let (page_no, limit) = page.checked()?;
    find(&state.db, id).await?;
    let q = sync_log::Entity::find().filter(sync_log::Column::IntegrationId.eq(id));
    let total = q.clone().count(&state.db).await?;
    let rows = q
        .order_by_desc(sync_log::Column::Id)
        .offset((page_no - 1) * limit)
        .limit(limit)
        .all(&state.db)
        .await?;
    ok(page.answer(rows.iter().map(log_json).collect(), total))
}

/// `GET /jobs/:id` (super_admin).
pub async fn get_job(State(state): State<AppState>, caller: Caller, Path(id): Path<i32>) -> Answer {
    caller.super_admin()?;
    let row = job::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or_else(|| SakipError::not_found("Job tidak ditemukan", "Job not found"))?;
    let parse = |raw: &str| serde_json::from_str::<Value>(raw).unwrap_or(Value::Null);
    ok(json!({
        "id": row.id,
        "kind": row.kind,
        "payload": parse(&row.payload),
        "status": row.status,
        "attempts": row.attempts,
        "max_attempts": row.max_attempts,
        "run_at": rfc3339(row.run_at),
        "last_error": row.last_error,
        "result": row.result.as_deref().map(parse),
        "created_at": rfc3339(row.created_at),
        "updated_at": rfc3339(row.updated_at),
    }))
}

// ---------------------------------------------------------------- the SIPD sync

/// One budget line of SIPD's answer.
#[derive(Debug, Deserialize)]
struct SipdItem {
    code: Value,
    category: Value,
    amount: Value,
}

/// Reads at most `limit` bytes of an answer.
async fn body_limited(res: reqwest::Response, limit: usize) -> Result<Vec<u8>, String> {
    if res.content_length().is_some_and(|n| n as usize > limit) {
        return Err(format!("answer larger than {limit} bytes"));
    }
    let mut out = Vec::new();
    let mut stream = res.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| format!("reading the answer: {e}"))?;
        if out.len() + chunk.len() > limit {
            return Err(format!("answer larger than {limit} bytes"));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// Fetches SIPD's budget lines of an OPD and year.
async fn fetch_budget(
    client: &reqwest::Client,
    config: &SakipConfig,
    endpoint: &str,
    api_key: Option<&str>,
    job: &SyncJob,
) -> Result<Vec<Value>, String> {
    let url = format!("{}/budget", endpoint.trim_end_matches('/'));
    let mut req = client
        .get(&url)
        .query(&[("opd_id", job.opd_id), ("year", job.year)])
        .header("content-type", "application/json");
    if let Some(key) = api_key {
        req = req.bearer_auth(key);
    }
    let res = req.send().await.map_err(|e| {
        if e.is_timeout() {
            "SIPD did not answer in time".to_owned()
        } else {
            format!("SIPD unreachable: {e}")
        }
    })?;
    if !res.status().is_success() {
        return Err(format!("SIPD answered {}", res.status()));
    }
    let bytes = body_limited(res, config.max_body_bytes).await?;
    let parsed: Value =
        serde_json::from_slice(&bytes).map_err(|e| format!("SIPD sent malformed JSON: {e}"))?;
    // A bare array (the seed) or `{data: [...]}`.
    match parsed {
        Value::Array(items) => Ok(items),
        Value::Object(mut map) => match map.remove("data") {
            Some(Value::Array(items)) => Ok(items),
            _ => Err("SIPD's answer holds no list of budget lines".into()),
        },
        _ => Err("SIPD's answer holds no list of budget lines".into()),
    }
}

fn decimal_of(v: &Value) -> Option<Decimal> {
    match v {
        Value::Number(n) => n.to_string().parse().ok(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// What a SIPD line did to the allocations.
enum Upserted {
    Created(String),
    Updated(String),
}

/// Upserts one SIPD line as an allocation of `job`'s OPD and year.
async fn upsert_line(state: &AppState, job: &SyncJob, raw: &Value) -> Result<Upserted, String> {
    let item: SipdItem = serde_json::from_value(raw.clone()).map_err(|e| e.to_string())?;
    let code = item
        .code
        .as_str()
        .map(str::trim)
        .filter(|c| !c.is_empty() && c.chars().count() <= 50)
        .ok_or("bad code")?
        .to_owned();
    let category = item
        .category
        .as_str()
        .filter(|c| CATEGORIES.contains(c))
        .ok_or("bad category")?
        .to_owned();
    let amount = decimal_of(&item.amount)
        .ok_or("bad amount")
        .and_then(|a| money("amount", a).map_err(|_| "bad amount"))?;
    let existing = allocation::Entity::find()
        .filter(allocation::Column::SipdCode.eq(&code))
        .one(&state.db)
        .await
        .map_err(|e| e.to_string())?;
    match existing {
        // Never another OPD's line or another year's.
        Some(row) if row.opd_id != job.opd_id || row.year != job.year => {
            Err(format!("{code} belongs to another OPD or year"))
        }
        Some(row) => {
            allocation::Entity::update_many()
                .col_expr(
                    allocation::Column::AllocationAmount,
                    Expr::value(amount.to_string()),
                )
                .col_expr(allocation::Column::Category, Expr::value(category))
                .filter(allocation::Column::Id.eq(row.id))
                .exec(&state.db)
                .await
                .map_err(|e| e.to_string())?;
            Ok(Upserted::Updated(code))
        }
        None => {
            allocation::ActiveModel {
                opd_id: Set(job.opd_id),
                year: Set(job.year),
                category: Set(category),
                program_id: Set(None),
                kegiatan_id: Set(None),
                allocation_amount: Set(amount.to_string()),
                sipd_code: Set(code.clone()),
                created_at: Set(state.clock.now()),
                ..Default::default()
            }
            .insert(&state.db)
            .await
            .map_err(|e| e.to_string())?;
            Ok(Upserted::Created(code))
        }
    }
}

/// The seed's `processSIPDSync`: answers `{processed, success, failed}` or the error that
/// failed the run (the job then retries).
pub async fn run_sipd_sync(state: &AppState, job_id: i32, job: &SyncJob) -> Result<Value, String> {
    let queue = state.domain::<JobQueue>();
    let now = state.clock.now();
    let log = sync_log::ActiveModel {
        integration_id: Set(job.integration_id),
        job_id: Set(Some(job_id)),
        sync_type: Set("sipd_budget".into()),
        status: Set("running".into()),
        records_processed: Set(0),
        records_success: Set(0),
        records_failed: Set(0),
        error_message: Set(None),
        started_at: Set(Some(now)),
        completed_at: Set(None),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&state.db)
    .await
    .map_err(|e| e.to_string())?;
    let outcome = async {
        let row = find(&state.db, job.integration_id)
            .await
            .map_err(|_| "integration not found".to_owned())?;
        let endpoint = row.endpoint_url.clone().ok_or("no endpoint_url")?;
        let secrets = match row.secrets.as_deref() {
            Some(sealed) => queue.secrets.open(row.id, sealed).map_err(|e| e.to_string())?,
            None => Value::Null,
        };
        let lines = fetch_budget(
            &queue.http,
            &queue.config,
            &endpoint,
            secrets["api_key"].as_str(),
            job,
        )
        .await?;
        let (mut processed, mut success, mut failed) = (0i32, 0i32, 0i32);
        let (mut created, mut updated) = (Vec::new(), Vec::new());
        for line in &lines {
            match upsert_line(state, job, line).await {
                Ok(Upserted::Created(code)) => {
                    success += 1;
                    created.push(code);
                }
                Ok(Upserted::Updated(code)) => {
                    success += 1;
                    updated.push(code);
                }
                Err(err) => {
                    failed += 1;
                    tracing::warn!(integration = job.integration_id, error = %err, "SIPD budget line not synced.");
                }
            }
            processed += 1;
        }
        if !created.is_empty() || !updated.is_empty() {
            // The allocations this run wrote, by SIPD code, with the worker as the actor.
            platform::audit::record(
                &state.db,
                state.clock.now(),
                platform::audit::Entry::new(
                    "sakip_allocation_sync_upsert",
                    platform::security::ClientIp(None),
                )
                .actor(jobs::WORKER_ACTOR)
                .target(format!("job:{job_id}"))
                .detail(json!({
                    "integration_id": job.integration_id,
                    "opd_id": job.opd_id,
                    "year": job.year,
                    "created": created,
                    "updated": updated,
                })),
            )
            .await;
        }
        Ok::<_, String>((processed, success, failed))
    }
    .await;
    let done = state.clock.now();
    let mut log: sync_log::ActiveModel = log.into();
    log.completed_at = Set(Some(done));
    match outcome {
        Ok((processed, success, failed)) => {
            log.status = Set("completed".into());
            log.records_processed = Set(processed);
            log.records_success = Set(success);
            log.records_failed = Set(failed);
            log.update(&state.db).await.map_err(|e| e.to_string())?;
            // Nothing to process is a healthy run.
            let health = if processed == 0 {
                100
            } else {
                (Decimal::from(success * 100) / Decimal::from(processed))
                    .round()
                    .try_into()
                    .unwrap_or(0)
            };
            integration::Entity::update_many()
                .col_expr(integration::Column::LastSync, Expr::value(done))
                .col_expr(integration::Column::HealthScore, Expr::value(health))
                .filter(integration::Column::Id.eq(job.integration_id))
                .exec(&state.db)
                .await
                .map_err(|e| e.to_string())?;
            Ok(json!({ "processed": processed, "success": success, "failed": failed }))
        }
        Err(err) => {
            log.status = Set("failed".into());
            log.error_message = Set(Some(err.clone()));
            log.update(&state.db).await.map_err(|e| e.to_string())?;
            Err(err)
        }
    }
}

/// Marks the sync logs of job `job_id` still `running` as failed with `why` (an attempt cut
/// off at its lease, or whose worker died). Logged, never fatal: the job goes on either way.
pub async fn fail_running_logs(
    db: &DatabaseConnection,
    job_id: i32,
    why: &str,
    at: OffsetDateTime,
) {
    let done = sync_log::Entity::update_many()
        .col_expr(sync_log::Column::Status, Expr::value("failed"))
        .col_expr(sync_log::Column::ErrorMessage, Expr::value(why))
        .col_expr(sync_log::Column::CompletedAt, Expr::value(at))
        .filter(sync_log::Column::JobId.eq(job_id))
        .filter(sync_log::Column::Status.eq("running"))
        .exec(db)
        .await;
    match done {
        Ok(r) if r.rows_affected > 0 => {
            tracing::warn!(
                job = job_id,
                logs = r.rows_affected,
                why,
                "SAKIP sync logs left running marked failed."
            );
        }
        Ok(_) => {}
        Err(err) => {
            tracing::error!(job = job_id, error = %err, "SAKIP could not close running sync logs.")
        }
    }
}

/// Due scheduled syncs: for each active SIPD integration whose `sync_frequency` is
/// hourly, daily or weekly, one job per OPD of its `config.opd_ids` (year `config.year`,
/// else the current one) per period; the dedupe key makes it one whatever the replicas.
pub async fn schedule(state: &AppState) -> Result<(), SakipError> {
    let queue = state.domain::<JobQueue>();
    let now = state.clock.now();
    let rows = integration::Entity::find()
        .filter(integration::Column::Status.eq("active"))
        .all(&state.db)
        .await?;
    for row in rows.iter().filter(|r| syncable(r).is_ok()) {
        let period: i64 = match row.sync_frequency.as_deref() {
            Some("hourly") => 3_600,
            Some("daily") => 86_400,
            Some("weekly") => 604_800,
            _ => continue,
        };
        let config: Value = row
            .config
            .as_deref()
            .and_then(|c| serde_json::from_str(c).ok())
            .unwrap_or(Value::Null);
        let year = config["year"]
            .as_i64()
            .and_then(|y| i32::try_from(y).ok())
            .unwrap_or(now.year());
        let slot = now.unix_timestamp() / period;
        for opd in config["opd_ids"].as_array().into_iter().flatten() {
            let Some(opd) = opd.as_i64().and_then(|o| i32::try_from(o).ok()) else {
                continue;
            };
            let payload = SyncJob {
                integration_id: row.id,
                opd_id: opd,
                year,
            };
            let key = format!("sipd:{}:{opd}:{year}:{period}:{slot}", row.id);
            let (queued, new) = queue
                .enqueue(&state.db, jobs::SIPD_SYNC, &json!(payload), now, Some(key))
                .await?;
            if new {
                queue
                    .audit(
                        state,
                        "sakip_job_scheduled",
                        &queued,
                        json!({ "integration_id": row.id, "opd_id": opd, "year": year, "sync_frequency": row.sync_frequency }),
                    )
                    .await;
            }
        }
    }
    Ok(())
}
