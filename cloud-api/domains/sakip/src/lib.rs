//! SAKIP (seed 002): the performance-accountability system of Indonesian government
//! agencies, served under `/sakip/api/v1` — sign-in on the platform's users, OPDs, the
//! strategic-plan tree (renstra → tujuan → sasaran → program → kegiatan), indicators,
//! targets and achievements with their percentages and verification, the cached
//! performance data (in process or Redis), the budget, evaluations, reports (JSON, CSV,
//! XLSX, PDF) and the dashboard summary, and integrations whose syncs run from a durable
//! job queue in the database, supporting documents in an object store, API keys for external
//! systems, TOTP for administrators and email notifications over SMTP. Every answer is `{"success", "data" | "error"}`.

pub mod api_keys;
pub mod auth;
pub mod budget;
pub mod cache;
pub mod calc;
pub mod config;
pub mod documents;
pub mod entities;
pub mod error;
pub mod evaluation;
pub mod integration;
pub mod jobs;
pub mod mail;
pub(crate) mod migration;
pub mod performance;
pub mod planning;
pub mod reports;
mod routes;
pub mod seed;

use std::{collections::HashMap, sync::Arc};

use platform::{
    audit,
    domain::{Domain, DomainStates, PersonalData, PrepareContext},
    i18n::Msg,
    security::ClientIp,
    start_error::CloudError,
    state::AppState,
};
use sea_orm::{
    sea_query::Expr, ColumnTrait, DatabaseConnection, DatabaseTransaction, DbErr, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use sea_orm_migration::MigrationTrait;
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

pub use seed::seed_demo;

use auth::Caller;
use entities::{achievement, user_opd};
use error::SakipError;

/// The domain's name: its role key and configuration section.
pub const DOMAIN: &str = "sakip";

/// The SAKIP domain.
#[derive(Debug)]
pub struct Sakip;

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(routes::health),
    tags((name = "sakip", description = "Seed 002 SAKIP under /sakip/api/v1: auth, users, OPD, the planning tree, indicators, targets, achievements, performance data, budget (see the crate README for every route)"))
)]
struct ApiDoc;

#[async_trait::async_trait]
impl Domain for Sakip {
    fn name(&self) -> &'static str {
        DOMAIN
    }

    /// `dashboard.js`: its pages, served at `/assets/domains/sakip.js`.
    fn dashboard(&self) -> Option<platform::domain::DashboardModule> {
        Some(platform::domain::DashboardModule {
            name: DOMAIN,
            source: include_str!("../dashboard.js"),
        })
    }

    fn roles(&self) -> &'static [&'static str] {
        auth::Role::NAMES
    }

    fn migrations(&self) -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(migration::M0200SakipCore),
            Box::new(migration::M0201SakipEvaluationsAndSync),
            Box::new(migration::M0202SakipApiKeys),
            Box::new(migration::M0203SakipMonthQuarter),
        ]
    }

    async fn prepare(
        &self,
        context: &PrepareContext<'_>,
        states: &mut DomainStates,
    ) -> Result<(), CloudError> {
        let config: config::SakipConfig = context.config.section(DOMAIN)?;
        // `GERBANG_REDIS_URL` is the seed's own variable, read when the section sets none.
        let redis_url = config.redis_url.clone().or_else(|| {
            std::env::var("GERBANG_REDIS_URL")
                .ok()
                .filter(|u| !u.trim().is_empty())
        });
        let cache = match redis_url {
            None => cache::PerformanceCache::default(),
            Some(url) => cache::PerformanceCache::redis(&url, &config.redis_prefix)
                .await
                .map_err(|e| CloudError::Config(format!("sakip.redis_url: {e}")))?,
        };
        states.insert(cache);
        let secrets = integration::SecretBox::load(context.db, config.secret_key.as_deref())
            .await
            .map_err(|e| CloudError::Config(format!("sakip.secret_key: {e}")))?;
        states.insert(mail::Mailer::new(&config).map_err(CloudError::Config)?);
        let documents_dir = config
            .documents_dir
            .clone()
            .unwrap_or_else(|| context.config.data_dir.join("sakip"));
        states.insert(documents::DocumentStore::new(
            platform::files::open(context.config, "sakip", &documents_dir)?,
            config.max_document_bytes.max(1),
        ));
        states.insert(jobs::JobQueue::new(config, secrets));
        Ok(())
    }

    fn spawn(&self, platform: &AppState, shutdown: &tokio_util::sync::CancellationToken) {
        platform.domain::<mail::Mailer>().spawn(shutdown.clone());
        if platform.domain::<jobs::JobQueue>().config.worker {
            tokio::spawn(jobs::JobQueue::work(platform.clone(), shutdown.clone()));
        }
    }

    fn router(&self) -> axum::Router<AppState> {
        routes::router()
    }

    fn openapi(&self) -> utoipa::openapi::OpenApi {
        <ApiDoc as utoipa::OpenApi>::openapi()
    }

    fn personal_data(&self) -> Option<Arc<dyn PersonalData>> {
        Some(Arc::new(SakipRecords))
    }
}

/// What SAKIP keeps about a user: their OPD and the achievements they entered.
#[derive(Debug)]
pub struct SakipRecords;

#[async_trait::async_trait]
impl PersonalData for SakipRecords {
    async fn count(
        &self,
        db: &DatabaseConnection,
        users: Option<&[Uuid]>,
    ) -> Result<HashMap<Uuid, u64>, DbErr> {
        let mut entered = achievement::Entity::find()
            .select_only()
            .column(achievement::Column::InputBy)
            .column_as(Expr::col(achievement::Column::Id).count(), "n")
            .group_by(achievement::Column::InputBy);
        let mut opds = user_opd::Entity::find();
        if let Some(users) = users {
            entered = entered.filter(achievement::Column::InputBy.is_in(users.iter().copied()));
            opds = opds.filter(user_opd::Column::UserId.is_in(users.iter().copied()));
        }
        let mut out: HashMap<Uuid, u64> = entered
            .into_tuple::<(Uuid, i64)>()
            .all(db)
            .await?
            .into_iter()
            .map(|(id, n)| (id, n.max(0) as u64))
            .collect();
        for row in opds.all(db).await? {
            *out.entry(row.user_id).or_default() += 1;
        }
        Ok(out)
    }

    /// `opd.json` (the user's OPD link) and `achievements.json` (those they entered or
    /// verified).
    async fn export(
        &self,
        db: &DatabaseConnection,
        user: Uuid,
    ) -> Result<Vec<platform::domain::ExportFile>, DbErr> {
        let opd = user_opd::Entity::find_by_id(user)
            .into_json()
            .one(db)
            .await?;
        let achievements = achievement::Entity::find()
            .filter(
                achievement::Column::InputBy
                    .eq(user)
                    .or(achievement::Column::VerifiedBy.eq(user)),
            )
            .order_by_asc(achievement::Column::Id)
            .into_json()
            .all(db)
            .await?;
        Ok(vec![
            platform::domain::ExportFile::json("opd.json", &opd),
            platform::domain::ExportFile::json("achievements.json", &achievements),
        ])
    }

    /// Drops the user's OPD; achievements stay (they are the agency's records) but no
    /// longer name who entered or verified them.
    async fn erase(&self, txn: &DatabaseTransaction, user: Uuid) -> Result<(), DbErr> {
        user_opd::Entity::delete_by_id(user).exec(txn).await?;
        achievement::Entity::update_many()
            .col_expr(achievement::Column::InputBy, Expr::value(Uuid::nil()))
            .filter(achievement::Column::InputBy.eq(user))
            .exec(txn)
            .await?;
        achievement::Entity::update_many()
            .col_expr(achievement::Column::VerifiedBy, Expr::value(Uuid::nil()))
            .filter(achievement::Column::VerifiedBy.eq(user))
            .exec(txn)
            .await?;
        Ok(())
    }
}

/// `page` (from 1) and `limit` (1–200, default 20) of a list.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
pub struct Page {
    #[serde(default)]
    page: Option<u64>,
    #[serde(default)]
    limit: Option<u64>,
}

impl Page {
    pub fn checked(&self) -> Result<(u64, u64), SakipError> {
        let page = self.page.unwrap_or(1);
        let limit = self.limit.unwrap_or(20);
        if page == 0 || page > 1_000_000 || !(1..=200).contains(&limit) {
            return Err(SakipError::bad(Msg::new(
                "page mulai dari 1 dan limit antara 1 dan 200",
                "page starts at 1 and limit is between 1 and 200",
            )));
        }
        Ok((page, limit))
    }

    /// `{items, total, page, limit}`.
    pub fn answer(&self, items: Vec<Value>, total: u64) -> Value {
        let (page, limit) = self.checked().unwrap_or((1, 20));
        json!({ "items": items, "total": total, "page": page, "limit": limit })
    }
}

/// Records a SAKIP write in the platform's audit trail.
pub async fn audit(
    state: &AppState,
    caller: &Caller,
    ip: ClientIp,
    action: &'static str,
    target: impl Into<String>,
) {
    audit::record(
        &state.db,
        state.clock.now(),
        audit::Entry::new(action, ip)
            .by(caller.id, caller.name.clone())
            .target(target),
    )
    .await;
}
