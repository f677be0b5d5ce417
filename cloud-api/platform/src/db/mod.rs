//! Database access: connecting (SQLite with WAL, or PostgreSQL), the migrator that every
//! domain contributes to, and the SeaORM entities of the platform core.

pub mod entities;
mod identity_migration;
mod migration;
pub mod notify;

use std::time::Duration;

use sea_orm::{
    sqlx, ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction,
    DbBackend, DbErr, TransactionTrait,
};
use sea_orm_migration::MigratorTrait;

use crate::domain::DomainSet;

pub use migration::{core_migrations, Migrator, Users};

/// Table and column names for hand-built statements.
pub(crate) mod migration_idens {
    pub(crate) use super::migration::{BootClocks, DroppedRanges, Events};
}

/// Connects to `url` and runs every pending migration of the platform and the domains `D`
/// (under the [`StartupLock`]).
pub async fn connect<D: DomainSet>(url: &str) -> Result<DatabaseConnection, DbErr> {
    let db = open(url).await?;
    let lock = StartupLock::acquire(&db).await?;
    let migrated = Migrator::<D>::up(&db, None).await;
    lock.release().await;
    migrated.map(|()| db)
}

/// Connects to `url` (SQLite in WAL mode, or PostgreSQL) without migrating.
pub async fn open(url: &str) -> Result<DatabaseConnection, DbErr> {
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
    Ok(db)
}

/// The advisory-lock key of [`StartupLock`] ("gerbang" in ASCII).
const STARTUP_LOCK: i64 = 0x6765_7262_616e_67;

/// Replicas that start together on one PostgreSQL take turns through what a start writes
/// once — migrations, the first admin, the domains' seed rows: each holds a session-level
/// advisory lock on one pooled connection meanwhile, so one does the work and the others,
/// once they get the lock, find it done. (SQLite is one file behind one process: no lock.)
#[derive(Debug)]
pub struct StartupLock(Option<sqlx::pool::PoolConnection<sqlx::Postgres>>);

impl StartupLock {
    /// Waits for the lock (at once on SQLite).
    pub async fn acquire(db: &DatabaseConnection) -> Result<Self, DbErr> {
        if db.get_database_backend() != DbBackend::Postgres {
            return Ok(Self(None));
        }
        let mut held = db
            .get_postgres_connection_pool()
            .acquire()
            .await
            .map_err(lock_error)?;
        sqlx::query("SELECT pg_advisory_lock($1)")
            .bind(STARTUP_LOCK)
            .execute(&mut *held)
            .await
            .map_err(lock_error)?;
        Ok(Self(Some(held)))
    }

    /// Lets the next replica in.
    pub async fn release(mut self) {
        let Some(mut held) = self.0.take() else {
            return;
        };
        let unlocked = sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(STARTUP_LOCK)
            .execute(&mut *held)
            .await;
        if unlocked.is_err() {
            // Closing the session releases the lock whatever state the connection is in.
            drop(held.detach());
        }
    }
}

impl Drop for StartupLock {
    /// A start that failed half-way: closing the session releases the lock.
    fn drop(&mut self) {
        if let Some(held) = self.0.take() {
            drop(held.detach());
        }
    }
}

fn lock_error(e: sqlx::Error) -> DbErr {
    DbErr::Custom(format!("taking the start-up lock: {e}"))
}

/// Begins a transaction that will write. On SQLite it takes the write lock at once, waiting
/// up to `busy_timeout` for it: a deferred transaction that reads first and writes later
/// fails at once with "database is locked" when another connection committed in between
/// (its snapshot is stale), which no waiting can cure. PostgreSQL needs nothing of this.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    let txn = db.begin().await?;
    if txn.get_database_backend() == DbBackend::Sqlite {
        // A write that changes nothing still makes this a write transaction.
        txn.execute_unprepared("UPDATE seaql_migrations SET version = version WHERE 0")
            .await?;
    }
    Ok(txn)
}

/// Checks the connection with a trivial query.
pub async fn ping(db: &DatabaseConnection) -> Result<(), DbErr> {
    db.execute_unprepared("SELECT 1").await.map(|_| ())
}
