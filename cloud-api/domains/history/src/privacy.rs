//! What the access log keeps about people, and for how long: a person's rows in their data
//! export; on erasure (the person, or their face registration) their rows keep the event —
//! door, time, result, reason, score — but lose the person's id and name and the snapshot
//! reference (pseudonymised); past the retention period (`history_access_logs`, one year
//! by default) every row is pseudonymised the same way.

use std::collections::HashMap;

use platform::domain::{ExportFile, PersonalData, RetentionAction, RetentionPolicy};
use sea_orm::{
    sea_query::{Expr, Query},
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr, Value,
};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{migration::AccessLogs, store::unix_ms};

/// The access log's personal data.
#[derive(Debug)]
pub struct AccessLogRecords;

/// Clears the person's columns of the rows `filter` selects; returns how many changed.
async fn pseudonymise(
    db: &impl ConnectionTrait,
    filter: sea_orm::sea_query::SimpleExpr,
) -> Result<u64, DbErr> {
    let mut update = Query::update();
    update
        .table(AccessLogs::Table)
        .values([
            (AccessLogs::PersonId, Value::String(None).into()),
            (AccessLogs::PersonName, Value::String(None).into()),
            (AccessLogs::PersonNameLc, Value::String(None).into()),
            (AccessLogs::Snapshot, Value::String(None).into()),
        ])
        .and_where(filter);
    let backend = db.get_database_backend();
    Ok(db.execute(backend.build(&update)).await?.rows_affected())
}

/// Pseudonymises person `user`'s rows (inside the caller's transaction).
pub async fn forget_person(db: &impl ConnectionTrait, user: Uuid) -> Result<u64, DbErr> {
    pseudonymise(db, Expr::col(AccessLogs::PersonId).eq(user.to_string())).await
}

#[async_trait::async_trait]
impl PersonalData for AccessLogRecords {
    async fn count(
        &self,
        db: &DatabaseConnection,
        users: Option<&[Uuid]>,
    ) -> Result<HashMap<Uuid, u64>, DbErr> {
        let mut select = Query::select();
        select
            .column(AccessLogs::PersonId)
            .expr_as(
                Expr::col(AccessLogs::Id).count(),
                sea_orm::sea_query::Alias::new("n"),
            )
            .from(AccessLogs::Table)
            .and_where(Expr::col(AccessLogs::PersonId).is_not_null())
            .group_by_col(AccessLogs::PersonId);
        if let Some(users) = users {
            select.and_where(
                Expr::col(AccessLogs::PersonId).is_in(users.iter().map(Uuid::to_string)),
            );
        }
        let backend = db.get_database_backend();
        let mut counts = HashMap::new();
        for row in db.query_all(backend.build(&select)).await? {
            let person: String = row.try_get("", "person_id")?;
            let n: i64 = row.try_get("", "n")?;
            if let Ok(id) = Uuid::parse_str(&person) {
                counts.insert(id, n.max(0) as u64);
            }
        }
        Ok(counts)
    }

    async fn erase(&self, txn: &DatabaseTransaction, user: Uuid) -> Result<(), DbErr> {
        forget_person(txn, user).await.map(|_| ())
    }

    async fn erase_face(&self, txn: &DatabaseTransaction, user: Uuid) -> Result<(), DbErr> {
        forget_person(txn, user).await.map(|_| ())
    }

    /// `access-history.json`: every access decision about the person, oldest first.
    async fn export(&self, db: &DatabaseConnection, user: Uuid) -> Result<Vec<ExportFile>, DbErr> {
        let mut select = Query::select();
        select
            .columns([
                AccessLogs::Id,
                AccessLogs::DeviceId,
                AccessLogs::Ts,
                AccessLogs::Result,
                AccessLogs::Method,
                AccessLogs::PersonName,
                AccessLogs::Reason,
                AccessLogs::Score,
                AccessLogs::Liveness,
                AccessLogs::Snapshot,
            ])
            .from(AccessLogs::Table)
            .and_where(Expr::col(AccessLogs::PersonId).eq(user.to_string()))
            .order_by(AccessLogs::TsMs, sea_orm::sea_query::Order::Asc)
            .order_by(AccessLogs::Id, sea_orm::sea_query::Order::Asc);
        let backend = db.get_database_backend();
        let mut rows = Vec::new();
        for row in db.query_all(backend.build(&select)).await? {
            let ts: OffsetDateTime = row.try_get("", "ts")?;
            rows.push(serde_json::json!({
                "id": row.try_get::<Uuid>("", "id")?,
                "device": row.try_get::<String>("", "device_id")?,
                "ts": ts.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
                "result": row.try_get::<String>("", "result")?,
                "method": row.try_get::<String>("", "method")?,
                "name": row.try_get::<Option<String>>("", "person_name")?,
                "reason": row.try_get::<Option<String>>("", "reason")?,
                "score": row.try_get::<Option<f64>>("", "score")?,
                "liveness": row.try_get::<Option<f64>>("", "liveness")?,
                "snapshot": row.try_get::<Option<String>>("", "snapshot")?,
            }));
        }
        Ok(vec![ExportFile::json("access-history.json", &rows)])
    }
}

/// Rows older than the period lose the person (default one year).
#[derive(Debug)]
pub struct AccessLogRetention;

#[async_trait::async_trait]
impl RetentionPolicy for AccessLogRetention {
    fn name(&self) -> &'static str {
        "history_access_logs"
    }

    fn default_days(&self) -> u32 {
        365
    }

    fn action(&self) -> RetentionAction {
        RetentionAction::Pseudonymise
    }

    async fn enforce(&self, db: &DatabaseConnection, cutoff: OffsetDateTime) -> Result<u64, DbErr> {
        pseudonymise(
            db,
            Expr::col(AccessLogs::TsMs).lt(unix_ms(cutoff)).and(
                Expr::col(AccessLogs::PersonId)
                    .is_not_null()
                    .or(Expr::col(AccessLogs::PersonName).is_not_null())
                    .or(Expr::col(AccessLogs::Snapshot).is_not_null()),
            ),
        )
        .await
    }
}
