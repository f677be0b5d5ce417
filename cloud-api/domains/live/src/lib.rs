//! ChatMe live streaming (seed 004) under `/chatme/api`: phone accounts on the platform's
//! users with a ChatMe profile, coin wallets whose every change writes a ledger row, a gift
//! catalogue and gifts that never overdraw (guarded debit, idempotency keys), rankings and
//! host income over Asia/Jakarta periods, live sessions (one open per host) and the
//! `/chatme` Socket.IO namespace (live, party and private chat), agencies, host
//! applications and weekly salary requests.

pub mod accounts;
pub mod agency;
pub mod avatar;
pub mod chat;
pub mod error;
pub mod hub;
pub(crate) mod migration;
pub mod periods;
pub mod phone;
pub(crate) mod routes;
pub mod seed;
pub mod sessions;
pub mod socket;
pub mod stats;
pub mod sweeper;
pub mod wallet;

use std::{collections::HashMap, sync::Arc, time::Duration};

use platform::{
    domain::{Domain, PersonalData, PrepareContext},
    identity::JwtKeys,
    sql::stmt,
    start_error::CloudError,
    state::AppState,
};
use sea_orm::{ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr, FromQueryResult};
use sea_orm_migration::MigrationTrait;
use serde::Deserialize;
use utoipa::OpenApi;
use uuid::Uuid;

pub use seed::seed_demo;

platform::policy! {
    /// ChatMe admins: the gift catalogue and coin credits.
    LiveAdmin => "live" ["admin"];
}

/// The domain's name: its key in role maps and its configuration section.
pub const DOMAIN: &str = "live";

/// The ChatMe token is valid for 7 days (seed 004).
pub const SESSION_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

/// `[live]` in the configuration file, `GERBANG_LIVE_*` in the environment.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct LiveConfig {
    /// The host's share of a gift's coin value (the platform keeps the rest).
    pub host_share: f64,
    /// The calendar rankings, income and durations are counted in.
    pub time_zone: String,
    /// How long a live session waits for its disconnected host before it ends by itself.
    pub host_grace_ms: u64,
    /// Socket.IO events a socket may send per second, sustained.
    pub socket_events_per_second: u32,
    /// Socket.IO events a socket may send at once.
    pub socket_event_burst: u32,
    /// Local directory of the object store avatars are kept in; default `{data_dir}/media`.
    pub media_dir: Option<std::path::PathBuf>,
}

impl Default for LiveConfig {
    fn default() -> Self {
        Self {
            host_share: 0.6,
            time_zone: "Asia/Jakarta".to_owned(),
            host_grace_ms: 60_000,
            socket_events_per_second: 10,
            socket_event_burst: 20,
            media_dir: None,
        }
    }
}

/// `clock`'s time in milliseconds since the Unix epoch.
pub(crate) fn unix_ms(clock: &platform::clock::Clock) -> i64 {
    i64::try_from(clock.now().unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// What the live domain keeps while the cloud runs.
#[derive(Debug)]
pub struct LiveRuntime {
    /// Signs the 7-day ChatMe token (the platform's secret, so platform tokens verify too).
    pub session_jwt: JwtKeys,
    /// The host's share in basis points (6000 = 60 %).
    pub host_share_bp: i64,
    pub time_zone: jiff::tz::TimeZone,
    /// Who is in which Socket.IO room of this process.
    pub hub: hub::Hub,
    /// See [`LiveConfig::host_grace_ms`].
    pub host_grace: Duration,
    /// Each socket's event budget.
    pub socket_quota: governor::Quota,
    /// Where avatars are stored.
    pub media: Arc<dyn object_store::ObjectStore>,
}

/// The live domain.
#[derive(Debug, Default)]
pub struct Live {
    /// The avatars' store, set once the domain is prepared (erasure and export reach it).
    media: avatar::MediaCell,
}

#[derive(OpenApi)]
#[openapi(
    paths(
        accounts::register,
        accounts::login,
        accounts::profile,
        accounts::update_profile,
        avatar::upload,
        routes::wallet,
        routes::wallet_history,
        routes::admin_credit,
        routes::list_gifts,
        routes::create_gift,
        routes::update_gift,
        routes::delete_gift,
        routes::send_gift,
        stats::fan_ranking,
        stats::host_ranking,
        stats::contributions,
        stats::income_today,
        stats::income_week,
        stats::income_month,
        stats::income_category,
        stats::income_history,
        sessions::start_session,
        sessions::end_session,
        sessions::duration_today,
        sessions::on_air,
        accounts::search,
        agency::list_agencies,
        chat::history,
        agency::apply,
        agency::approve_agency,
        agency::reject_agency,
        agency::profile,
        agency::apply_host,
        agency::host_applications,
        agency::approve_host,
        agency::reject_host,
        agency::stats,
        agency::hosts,
        agency::income,
        agency::live_stats,
        agency::salary_requests,
        agency::approve_salary,
        agency::reject_salary,
        agency::request_salary,
    ),
    tags((name = "live", description = "Seed 004 ChatMe: phone accounts, coins, gifts, rankings, host income, live sessions"))
)]
struct ApiDoc;

#[async_trait::async_trait]
impl Domain for Live {
    fn name(&self) -> &'static str {
        DOMAIN
    }

    /// `dashboard.js`: its pages, served at `/assets/domains/live.js`.
    fn dashboard(&self) -> Option<platform::domain::DashboardModule> {
        Some(platform::domain::DashboardModule {
            name: DOMAIN,
            source: include_str!("../dashboard.js"),
        })
    }

    fn roles(&self) -> &'static [&'static str] {
        &["admin", "user", "host", "agency"]
    }

    fn migrations(&self) -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(migration::M0300LiveCore),
            Box::new(migration::M0301LiveSocial),
            Box::new(migration::M0302LivePresence),
        ]
    }

    async fn prepare(
        &self,
        context: &PrepareContext<'_>,
        states: &mut platform::domain::DomainStates,
    ) -> Result<(), CloudError> {
        let config: LiveConfig = context.config.section(DOMAIN)?;
        if !(0.0..=1.0).contains(&config.host_share) || config.host_share.is_nan() {
            return Err(CloudError::Config(format!(
                "live.host_share {} is not between 0 and 1",
                config.host_share
            )));
        }
        let time_zone = jiff::tz::TimeZone::get(&config.time_zone).map_err(|e| {
            CloudError::Config(format!("live.time_zone {:?}: {e}", config.time_zone))
        })?;
        wallet::ensure_wallet(context.db, wallet::PLATFORM_ACCOUNT, 0)
            .await
            .map_err(|e| CloudError::Config(format!("live: the platform wallet: {e}")))?;
        let media_dir = config
            .media_dir
            .clone()
            .unwrap_or_else(|| context.config.data_dir.join("media"));
        let media = platform::files::open(context.config, "media", &media_dir)?;
        // A second prepare of the same instance keeps the first store (never happens).
        let _ = self.media.set(media.clone());
        states.insert(LiveRuntime {
            session_jwt: JwtKeys::with_ttl(context.jwt_secret, SESSION_TTL),
            host_share_bp: (config.host_share * 10_000.0).round() as i64,
            time_zone,
            hub: hub::Hub::default(),
            host_grace: Duration::from_millis(config.host_grace_ms),
            socket_quota: socket::quota(config.socket_events_per_second, config.socket_event_burst),
            media,
        });
        Ok(())
    }

    fn router(&self) -> axum::Router<AppState> {
        routes::router()
    }

    fn openapi(&self) -> utoipa::openapi::OpenApi {
        ApiDoc::openapi()
    }

    /// Serves the `/chatme` Socket.IO namespace and starts the abandoned-session sweeper.
    fn spawn(&self, platform: &AppState, shutdown: &tokio_util::sync::CancellationToken) {
        socket::register(platform);
        sweeper::spawn(platform, shutdown);
    }

    fn personal_data(&self) -> Option<Arc<dyn PersonalData>> {
        Some(Arc::new(LiveRecords {
            media: self.media.clone(),
        }))
    }
}

/// What ChatMe keeps about a user: profile, wallet, ledger, gifts, income, sessions, and
/// their avatar images.
pub struct LiveRecords {
    media: avatar::MediaCell,
}

/// Per-user tables and the column naming the user.
const USER_TABLES: &[(&str, &str)] = &[
    ("live_profiles", "user_id"),
    ("live_wallets", "user_id"),
    ("live_ledger", "account"),
    ("live_gifts", "sender_id"),
    ("live_host_income", "host_id"),
    ("live_sessions", "host_id"),
    ("live_idempotency", "sender_id"),
    ("live_chat_messages", "sender_id"),
    ("live_chat_messages", "receiver_id"),
    ("live_session_viewers", "user_id"),
    ("live_agencies", "owner_id"),
    ("live_host_applications", "host_id"),
    ("live_agency_hosts", "host_id"),
    ("live_salary_requests", "host_id"),
];

/// An exported row with its national id number (`id_number`) masked.
fn masked(mut row: serde_json::Value) -> serde_json::Value {
    if let Some(serde_json::Value::String(number)) = row.get_mut("id_number") {
        *number = agency::mask_id_number(number);
    }
    row
}

#[async_trait::async_trait]
impl PersonalData for LiveRecords {
    async fn count(
        &self,
        db: &DatabaseConnection,
        users: Option<&[Uuid]>,
    ) -> Result<HashMap<Uuid, u64>, DbErr> {
        let mut counts: HashMap<Uuid, u64> = HashMap::new();
        for (table, col) in USER_TABLES {
            let rows = db
                .query_all(stmt(
                    db.get_database_backend(),
                    &format!("SELECT {col} AS u, COUNT(*) AS n FROM {table} GROUP BY {col}"),
                    vec![],
                ))
                .await?;
            for row in rows {
                let user: Uuid = row.try_get("", "u")?;
                let n: i64 = row.try_get("", "n")?;
                if users.is_none_or(|only| only.contains(&user)) && user != wallet::PLATFORM_ACCOUNT
                {
                    *counts.entry(user).or_default() += n.max(0) as u64;
                }
            }
        }
        Ok(counts)
    }

    /// One JSON file per table and column naming the user (`live_gifts-sender_id.json`),
    /// the national id number masked as in every answer, and their avatar images as stored
    /// (`avatars/<file>`).
    async fn export(
        &self,
        db: &DatabaseConnection,
        user: Uuid,
    ) -> Result<Vec<platform::domain::ExportFile>, DbErr> {
        let mut files = Vec::with_capacity(USER_TABLES.len());
        for (table, col) in USER_TABLES {
            let rows = serde_json::Value::find_by_statement(stmt(
                db.get_database_backend(),
                &format!("SELECT * FROM {table} WHERE {col} = ?"),
                vec![user.into()],
            ))
            .all(db)
            .await?;
            let rows: Vec<serde_json::Value> = rows.into_iter().map(masked).collect();
            files.push(platform::domain::ExportFile::json(
                format!("{table}-{col}.json"),
                &rows,
            ));
        }
        if let Some(store) = self.media.get() {
            files.extend(avatar::files_of(store.as_ref(), user).await?);
        }
        Ok(files)
    }

    async fn erase(&self, txn: &DatabaseTransaction, user: Uuid) -> Result<(), DbErr> {
        if let Some(store) = self.media.get() {
            avatar::remove_all(store.as_ref(), user).await?;
        }
        for (table, col) in USER_TABLES {
            txn.execute(stmt(
                txn.get_database_backend(),
                &format!("DELETE FROM {table} WHERE {col} = ?"),
                vec![user.into()],
            ))
            .await?;
        }
        Ok(())
    }
}
