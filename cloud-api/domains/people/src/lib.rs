//! People for doors and kiosks (seed 000's user management, on the platform's one user
//! table): users CRUD with enabled/disabled and weekly access windows, face registration
//! through the `models` pipeline (templates sealed at rest, never logged or returned), and the
//! device gallery (`GET protocol::sync::GALLERY_PATH`, notices on the `gallery` channel).
//!
//! # Layout
//! - `service`: the operations handlers and the admin UI call. `routes`: `/api/users…`.
//! - `faces`: the process's `FaceEngine` and the one-face rule with localized refusals.
//! - `cipher`: XChaCha20-Poly1305 for templates. `gallery`: version, snapshot, notices.
//! - `photo`: multipart or base64 photos. `rotation`: re-sealing templates under a new key.
//! - `runtime`: what the domain keeps while running. `config`: `[people]`.
//! - `entities`, `migration`: the tables of this domain.

pub mod cipher;
pub mod config;
pub mod consent;
pub mod entities;
pub mod export;
pub mod faces;
pub mod gallery;
pub(crate) mod migration;
pub mod photo;
pub mod rotation;
pub(crate) mod routes;
pub mod runtime;
pub mod service;

pub use config::PeopleConfig;
pub use routes::router;
pub use runtime::PeopleRuntime;

use platform::{
    domain::{Domain, DomainStates, PrepareContext},
    state::AppState,
    CloudError,
};
use sea_orm_migration::MigrationTrait;
use utoipa::OpenApi;

/// The people domain.
#[derive(Debug)]
pub struct People;

#[derive(OpenApi)]
#[openapi(
    paths(
        routes::list,
        routes::create,
        routes::update,
        routes::remove,
        routes::face_register,
        gallery::device_gallery,
        consent::text,
        consent::history,
        consent::withdraw,
        export::export,
        rotation::reseal
    ),
    tags((name = "people", description = "Seed 000 users (and seed 001's admin list): CRUD, access windows, face registration"))
)]
struct ApiDoc;

#[async_trait::async_trait]
impl Domain for People {
    /// People are managed by the access admins; the domain has no roles of its own.
    fn name(&self) -> &'static str {
        "people"
    }

    /// `dashboard.js`: its pages, served at `/assets/domains/people.js`.
    fn dashboard(&self) -> Option<platform::domain::DashboardModule> {
        Some(platform::domain::DashboardModule {
            name: "people",
            source: include_str!("../dashboard.js"),
        })
    }

    fn roles(&self) -> &'static [&'static str] {
        &[]
    }

    fn migrations(&self) -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(migration::M0010People),
            Box::new(migration::M0015FaceConsents),
        ]
    }

    async fn prepare(
        &self,
        context: &PrepareContext<'_>,
        states: &mut DomainStates,
    ) -> Result<(), CloudError> {
        states.insert(PeopleRuntime::start(context.config, context.db).await?);
        Ok(())
    }

    fn router(&self) -> axum::Router<AppState> {
        routes::router()
    }

    fn openapi(&self) -> utoipa::openapi::OpenApi {
        ApiDoc::openapi()
    }
}
