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
    let migrated = migrate::<D>(&db).await;
    lock.release().await;
    migrated.map(|()| db)
}

/// Runs every pending migration of the platform and the domains `D`, all or none.
pub async fn migrate<D: DomainSet>(db: &DatabaseConnection) -> Result<(), DbErr> {
    up_all_or_none::<Migrator<D>>(db).await
}

/// `M`'s pending migrations in one transaction. SeaORM opens one on PostgreSQL only; on
/// SQLite a process killed (or a migration failing) half-way through would leave that
/// migration's first tables behind, unrecorded, and every later start would stop on them
/// ("table … already exists"). SQLite's DDL is transactional too, so it gets the same.
async fn up_all_or_none<M: MigratorTrait>(db: &DatabaseConnection) -> Result<(), DbErr> {
    if db.get_database_backend() != DbBackend::Sqlite {
        return M::up(db, None).await;
    }
    let txn = db.begin().await?;
    M::up(&txn, None).await?;
    txn.commit().await
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

#[cfg(test)]
mod tests {
    use sea_orm::{FromQueryResult, Statement};
    use sea_orm_migration::prelude::*;

    use super::*;

    /// Creates the table it is named after, then fails if it `fails`.
    struct CreatesTable {
        name: &'static str,
        fails: bool,
    }

    impl MigrationName for CreatesTable {
        fn name(&self) -> &str {
            self.name
        }
    }

    #[async_trait::async_trait]
    impl MigrationTrait for CreatesTable {
        async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            manager
                .create_table(
                    Table::create()
                        .table(Alias::new(self.name))
                        .col(ColumnDef::new(Alias::new("id")).integer().primary_key())
                        .to_owned(),
                )
                .await?;
            if self.fails {
                return Err(DbErr::Migration("stopped half-way".into()));
            }
            Ok(())
        }
    }

    fn migrations(second_fails: bool) -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(CreatesTable {
                name: "m1_first",
                fails: false,
            }),
            Box::new(CreatesTable {
                name: "m2_second",
                fails: second_fails,
            }),
        ]
    }

    /// A start whose second migration stops after creating its table.
    struct Interrupted;

    impl MigratorTrait for Interrupted {
        fn migrations() -> Vec<Box<dyn MigrationTrait>> {
            migrations(true)
        }
    }

    /// The next start, where it goes through.
    struct Restarted;

    impl MigratorTrait for Restarted {
        fn migrations() -> Vec<Box<dyn MigrationTrait>> {
            migrations(false)
        }
    }

    #[derive(FromQueryResult)]
    struct Name {
        name: String,
    }

    #[tokio::test]
    async fn a_migration_stopped_half_way_on_sqlite_leaves_nothing_and_the_next_start_goes_through()
    {
        let dir = tempfile::tempdir().unwrap();
        let url = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("cloud.db").display()
        );
        let db = open(&url).await.unwrap();

        let stopped = up_all_or_none::<Interrupted>(&db).await.unwrap_err();
        assert!(
            stopped.to_string().contains("stopped half-way"),
            "{stopped}"
        );
        let tables = Name::find_by_statement(Statement::from_string(
            DbBackend::Sqlite,
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'm_\\_%' ESCAPE '\\'",
        ))
        .all(&db)
        .await
        .unwrap();
        let tables: Vec<String> = tables.into_iter().map(|t| t.name).collect();
        assert!(tables.is_empty(), "left behind: {tables:?}");

        up_all_or_none::<Restarted>(&db).await.unwrap();
        let applied = Restarted::get_applied_migrations(&db).await.unwrap();
        assert_eq!(applied.len(), 2);
    }
}
