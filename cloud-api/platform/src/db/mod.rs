//! Database access: connecting (SQLite with WAL, or PostgreSQL), the migrator that every
//! domain contributes to, and the SeaORM entities of the platform core.

pub mod entities;
mod identity_migration;
mod migration;

use std::time::Duration;

use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr};
use sea_orm_migration::MigratorTrait;

use crate::domain::DomainSet;

pub use migration::{core_migrations, Migrator, Users};

/// Table and column names for hand-built statements.
pub(crate) mod migration_idens {
    pub(crate) use super::migration::{DroppedRanges, Events};
}

/// Connects to `url` and runs every pending migration of the platform and the domains `D`.
pub async fn connect<D: DomainSet>(url: &str) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(if url.starts_with("sqlite") { 4 } else { 16 })
        .min_connections(1)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(30))
        .sqlx_logging(false);
    let db = Database::connect(options).await?;
    if db.get_database_backend() == DbBackend::Sqlite {
        // WAL lets readers (dashboards) run while ingest writes; NORMAL sync is durable
        // across application crashes, which is what WAL mode is for.
        for pragma in [
            "PRAGMA journal_mode = WAL",
            "PRAGMA synchronous = NORMAL",
            "PRAGMA busy_timeout = 10000",
            "PRAGMA foreign_keys = ON",
        ] {
            db.execute_unprepared(pragma).await?;
        }
    }
    Migrator::<D>::up(&db, None).await?;
    Ok(db)
}

/// Checks the connection with a trivial query.
pub async fn ping(db: &DatabaseConnection) -> Result<(), DbErr> {
    db.execute_unprepared("SELECT 1").await.map(|_| ())
}
