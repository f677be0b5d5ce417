//! The `access_logs` table: seed 000's `Access_Logs`, one row per stored `access_decision`
//! event, with an index for each filter of `GET /api/history/access`.

use sea_orm::{ConnectionTrait, DbBackend};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveIden)]
pub(crate) enum AccessLogs {
    Table,
    Id,
    DeviceId,
    Seq,
    Ts,
    TsMs,
    Result,
    Success,
    Method,
    PersonId,
    PersonName,
    PersonNameLc,
    Reason,
    Score,
    Liveness,
    Snapshot,
    ReceivedAt,
}

pub(crate) struct M0004History;

impl MigrationName for M0004History {
    fn name(&self) -> &str {
        "m0004_history_access_logs"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0004History {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // `ts_ms` (Unix milliseconds) is what filters, ordering, the keyset cursor and the
        // day/hour buckets use: integer arithmetic behaves the same on both databases.
        manager
            .create_table(
                Table::create()
                    .table(AccessLogs::Table)
                    .col(pk_uuid(AccessLogs::Id))
                    .col(string(AccessLogs::DeviceId))
                    .col(big_integer(AccessLogs::Seq))
                    .col(timestamp_with_time_zone(AccessLogs::Ts))
                    .col(big_integer(AccessLogs::TsMs))
                    .col(string(AccessLogs::Result))
                    .col(boolean(AccessLogs::Success))
                    .col(string(AccessLogs::Method))
                    .col(string_null(AccessLogs::PersonId))
                    .col(string_null(AccessLogs::PersonName))
                    .col(string_null(AccessLogs::PersonNameLc))
                    .col(string_null(AccessLogs::Reason))
                    .col(double_null(AccessLogs::Score))
                    .col(double_null(AccessLogs::Liveness))
                    .col(string_null(AccessLogs::Snapshot))
                    .col(timestamp_with_time_zone(AccessLogs::ReceivedAt))
                    .to_owned(),
            )
            .await?;
        let indexes: [(&str, Option<AccessLogs>); 6] = [
            ("access_logs_ts", None),
            ("access_logs_device_ts", Some(AccessLogs::DeviceId)),
            ("access_logs_person_ts", Some(AccessLogs::PersonId)),
            ("access_logs_result_ts", Some(AccessLogs::Result)),
            ("access_logs_method_ts", Some(AccessLogs::Method)),
            ("access_logs_reason_ts", Some(AccessLogs::Reason)),
        ];
        for (name, lead) in indexes {
            let mut index = Index::create();
            index.name(name).table(AccessLogs::Table);
            if let Some(lead) = lead {
                index.col(lead);
            }
            index.col(AccessLogs::TsMs).col(AccessLogs::Id);
            manager.create_index(index.to_owned()).await?;
        }
        // The free-text name search is `LIKE '%…%'` on the lower-cased name. On PostgreSQL a
        // trigram index serves it when the (trusted) pg_trgm extension is installed;
        // elsewhere the search walks the time index.
        let db = manager.get_connection();
        if db.get_database_backend() == DbBackend::Postgres {
            let available = db
                .query_one(sea_orm::Statement::from_string(
                    DbBackend::Postgres,
                    "SELECT 1 AS one FROM pg_available_extensions WHERE name = 'pg_trgm' \
                     AND (installed_version IS NOT NULL \
                     OR has_database_privilege(current_database(), 'CREATE'))",
                ))
                .await?
                .is_some();
            if available {
                db.execute_unprepared("CREATE EXTENSION IF NOT EXISTS pg_trgm")
                    .await?;
                db.execute_unprepared(
                    "CREATE INDEX access_logs_name_trgm ON access_logs \
                     USING gin (person_name_lc gin_trgm_ops)",
                )
                .await?;
            }
        }
        Ok(())
    }
}

/// Migration 13: finer statistics on the lower-cased name (1,000 buckets instead of 100).
///
/// PostgreSQL estimates a `LIKE`'s selectivity from the column's most-common values and
/// histogram; with 100 buckets, a rare name that happens to be a bucket boundary is
/// estimated at 1 % of the rows. The name search no longer lets the planner choose between
/// the time index and the trigram index (`service::fetch_rows`), but its count and its
/// "every match" step still rest on the estimate. ANALYZE then samples 300,000 rows instead
/// of 30,000 (about 3 s on a million rows).
pub(crate) struct M0013NameStatistics;

impl MigrationName for M0013NameStatistics {
    fn name(&self) -> &str {
        "m0013_access_logs_name_statistics"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for M0013NameStatistics {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        if db.get_database_backend() == DbBackend::Postgres {
            db.execute_unprepared(
                "ALTER TABLE access_logs ALTER COLUMN person_name_lc SET STATISTICS 1000",
            )
            .await?;
        }
        Ok(())
    }
}
