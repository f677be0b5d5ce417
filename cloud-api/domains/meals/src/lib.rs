//! Seed 003 (Bebang Pack Meal) as a domain under `/meals/api`: NIK login on the platform's
//! users (`users.employee_no`) with rotating refresh cookies, user management, master data
//! (departments, shifts, positions), meal orders per shift with a role-checked lifecycle
//! (`MENUNGGU → IN_PROGRESS → READY → ON_DELIVERY → COMPLETE`), the kitchen's rejection and
//! edit requests decided by administrators, realtime `order.*` events on the platform's
//! `/notifications` namespace, reports and the audit trail.

pub mod auth;
pub mod context;
pub mod demo;
pub mod entities;
pub mod error;
pub mod events;
pub mod master;
pub(crate) mod migration;
pub mod order_board;
pub mod orders;
pub mod reports;
pub mod trail;
pub mod users;

use std::{collections::HashMap, sync::Arc};

use axum::{routing::get, Json, Router};
use platform::{
    domain::{Domain, DomainStates, PersonalData, PrepareContext},
    start_error::CloudError,
    state::AppState,
};
use sea_orm::{
    ColumnTrait, DatabaseConnection, DatabaseTransaction, DbErr, EntityTrait, QueryFilter,
};
use sea_orm_migration::MigrationTrait;
use serde::Deserialize;
use serde_json::json;
use utoipa::OpenApi;
use uuid::Uuid;

use order_board::OrderBoard;

pub use demo::seed_demo;

/// The domain's name: the key of its role and of its configuration section.
pub const DOMAIN: &str = "meals";

/// The route prefix.
pub const PREFIX: &str = "/meals/api";

/// The `[meals]` configuration section.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct MealsConfig {
    /// The largest quantity one order may ask for.
    pub max_quantity: i32,
    /// Seconds a refresh cookie lives (seed: 7 days).
    pub refresh_cookie_secs: u64,
    /// Seeds the demo's departments, shifts, positions and five test accounts at start
    /// ([`seed_demo`]; `[meals] demo_data = true`, `GERBANG_MEALS_DEMO_DATA=true`). Off by
    /// default: the plain `cloud-api` creates none of them unless told to.
    pub demo_data: bool,
}

impl Default for MealsConfig {
    fn default() -> Self {
        Self {
            max_quantity: 500,
            refresh_cookie_secs: 7 * 24 * 3600,
            demo_data: false,
        }
    }
}

/// What the meals domain keeps while the cloud runs.
#[derive(Debug, Clone)]
pub struct MealsState {
    pub config: MealsConfig,
    pub orders: Arc<OrderBoard>,
}

/// The meals domain.
#[derive(Debug, Default)]
pub struct Meals {
    orders: Arc<OrderBoard>,
}

#[derive(OpenApi)]
#[openapi(
    paths(
        auth::login,
        auth::refresh,
        auth::logout,
        auth::me,
        auth::change_password,
        users::create,
        users::list,
        users::get_one,
        users::set_status,
        users::set_role,
        users::reset_password,
        orders::create,
        orders::list,
        orders::get_one,
        orders::set_status,
        orders::request_rejection,
        orders::request_edit,
        orders::pending_approvals,
        orders::approve_reject,
        trail::list,
        trail::of_order,
        trail::action_types,
        reports::consumption,
        reports::department,
        reports::performance,
        reports::rejections,
    ),
    tags((name = "meals", description = "Seed 003 Bebang Pack Meal: NIK login, users, master data, orders, approvals, reports, audit trail"))
)]
struct ApiDoc;

/// `GET /meals/api/health`.
async fn health() -> Json<serde_json::Value> {
    Json(json!({
        "status": "ok",
        "message": "Bebang Pack Meal Portal API is running",
        "timestamp": time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
    }))
}

#[async_trait::async_trait]
impl Domain for Meals {
    fn name(&self) -> &'static str {
        DOMAIN
    }

    /// `dashboard.js`: its pages, served at `/assets/domains/meals.js`.
    fn dashboard(&self) -> Option<platform::domain::DashboardModule> {
        Some(platform::domain::DashboardModule {
            name: DOMAIN,
            source: include_str!("../dashboard.js"),
        })
    }

    fn roles(&self) -> &'static [&'static str] {
        &["administrator", "employee", "dapur", "delivery"]
    }

    fn migrations(&self) -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(migration::M0100Meals),
            Box::new(migration::M0101OrderList),
        ]
    }

    async fn prepare(
        &self,
        context: &PrepareContext<'_>,
        states: &mut DomainStates,
    ) -> Result<(), CloudError> {
        let config: MealsConfig = context.config.section(DOMAIN)?;
        if config.max_quantity < 1 {
            return Err(CloudError::Config(
                "[meals]: max_quantity must be at least 1".into(),
            ));
        }
        if config.demo_data {
            seed_demo(context.db).await?;
            tracing::info!("Meals demo data seeded ([meals] demo_data).");
        }
        states.insert(MealsState {
            config,
            orders: self.orders.clone(),
        });
        Ok(())
    }

    fn router(&self) -> Router<AppState> {
        Router::new()
            .route(&format!("{PREFIX}/health"), get(health))
            .merge(auth::router())
            .merge(users::router())
            .merge(master::router())
            .merge(orders::router())
            .merge(trail::router())
            .merge(reports::router())
            .layer(axum::middleware::from_fn({
                let board = self.orders.clone();
                move |request, next| order_board::after_writes(board.clone(), request, next)
            }))
    }

    fn openapi(&self) -> utoipa::openapi::OpenApi {
        ApiDoc::openapi()
    }

    fn personal_data(&self) -> Option<Arc<dyn PersonalData>> {
        Some(Arc::new(MealsRecords))
    }

    /// Follows the order board's notifications; sockets of meals users also join
    /// `karyawan:<profile id>` (seed 003).
    fn spawn(&self, platform: &AppState, shutdown: &tokio_util::sync::CancellationToken) {
        {
            let board = self.orders.clone();
            let db = platform.db.clone();
            let shutdown = shutdown.clone();
            tokio::spawn(async move {
                platform::db::notify::follow(db, order_board::CHANNEL, board.sink(), shutdown)
                    .await;
            });
        }
        let db = platform.db.clone();
        platform
            .realtime
            .add_room_hook(Arc::new(move |claims: platform::identity::Claims| {
                let db = db.clone();
                Box::pin(async move {
                    if !claims.roles.contains_key(DOMAIN) {
                        return Vec::new();
                    }
                    match entities::employee::Entity::find()
                        .filter(entities::employee::Column::UserId.eq(claims.sub))
                        .one(&db)
                        .await
                    {
                        Ok(Some(profile)) => vec![format!("karyawan:{}", profile.id)],
                        Ok(None) => Vec::new(),
                        Err(err) => {
                            tracing::warn!(error = %err, "Loading a meals profile for a socket failed.");
                            Vec::new()
                        }
                    }
                })
            }));
    }
}

/// The meals profile of a user and the orders and audit entries about them.
#[derive(Debug)]
pub struct MealsRecords;

#[async_trait::async_trait]
impl PersonalData for MealsRecords {
    async fn count(
        &self,
        db: &DatabaseConnection,
        users: Option<&[Uuid]>,
    ) -> Result<HashMap<Uuid, u64>, DbErr> {
        use entities::{employee, order};
        let mut profiles = employee::Entity::find();
        if let Some(users) = users {
            profiles = profiles.filter(employee::Column::UserId.is_in(users.iter().copied()));
        }
        let mut counts = HashMap::new();
        for profile in profiles.all(db).await? {
            let orders = order::Entity::find()
                .filter(order::Column::EmployeeId.eq(profile.id))
                .all(db)
                .await?
                .len() as u64;
            counts.insert(profile.user_id, 1 + orders);
        }
        Ok(counts)
    }

    async fn export(
        &self,
        db: &DatabaseConnection,
        user: Uuid,
    ) -> Result<Vec<platform::domain::ExportFile>, DbErr> {
        use entities::{audit, employee, order};
        use platform::domain::ExportFile;
        let Some(profile) = employee::Entity::find()
            .filter(employee::Column::UserId.eq(user))
            .into_json()
            .one(db)
            .await?
        else {
            return Ok(Vec::new());
        };
        let orders = match profile.get("id").and_then(serde_json::Value::as_i64) {
            Some(id) => {
                order::Entity::find()
                    .filter(order::Column::EmployeeId.eq(id))
                    .into_json()
                    .all(db)
                    .await?
            }
            None => Vec::new(),
        };
        let trail = audit::Entity::find()
            .filter(audit::Column::UserId.eq(user))
            .into_json()
            .all(db)
            .await?;
        Ok(vec![
            ExportFile::json("profile.json", &profile),
            ExportFile::json("orders.json", &orders),
            ExportFile::json("audit-trail.json", &trail),
        ])
    }

    async fn erase(&self, txn: &DatabaseTransaction, user: Uuid) -> Result<(), DbErr> {
        use entities::{audit, employee, order};
        if let Some(profile) = employee::Entity::find()
            .filter(employee::Column::UserId.eq(user))
            .one(txn)
            .await?
        {
            order::Entity::delete_many()
                .filter(order::Column::EmployeeId.eq(profile.id))
                .exec(txn)
                .await?;
            employee::Entity::delete_by_id(profile.id).exec(txn).await?;
        }
        // The trail keeps what happened, without whom.
        audit::Entity::update_many()
            .col_expr(
                audit::Column::UserId,
                sea_orm::sea_query::Expr::value(Option::<Uuid>::None),
            )
            .filter(audit::Column::UserId.eq(user))
            .exec(txn)
            .await?;
        Ok(())
    }
}
