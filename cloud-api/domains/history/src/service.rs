//! The access history read model: a filtered, newest-first list with a keyset cursor, the
//! matching count, and chunked reads for exports. Handlers (and the dashboard) call these.
//!
//! Pagination is a keyset cursor on `(ts_ms, id)`, not page numbers: each page is one
//! index range scan whatever its depth (an OFFSET walks and discards every earlier row,
//! so page 10,000 of a million-row log would cost a full scan), and rows arriving while
//! someone pages never shift or repeat entries. The total is optional (`include_total`),
//! as counting costs a pass over every matching row.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use sea_orm::{ConnectionTrait, DbBackend, DbErr, QueryResult};
use serde::Serialize;
use time::{format_description::well_known::Rfc3339, OffsetDateTime};
use utoipa::ToSchema;
use uuid::Uuid;

use super::filter::{AccessFilter, Sql};
use platform::{
    error::{DbContext, ServiceError},
    i18n::Msg,
    sql::stmt,
};

/// Rows per page when the client names no limit.
pub const DEFAULT_LIMIT: u32 = 50;
/// The largest page.
pub const MAX_LIMIT: u32 = 200;

/// One access attempt (seed 000 `Access_Logs`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AccessLogView {
    /// The event id.
    pub id: Uuid,
    pub device_id: String,
    /// The device's name, when the device is still registered.
    pub device_name: Option<String>,
    /// When the device decided, in the requested offset (RFC 3339).
    pub timestamp: String,
    /// `granted` or `denied` (seed 000 `action`).
    pub result: String,
    /// True when granted (seed 000 `success`).
    pub success: bool,
    /// `face`, `remote`, `local` or `exit_button`.
    pub method: String,
    /// The recognised person (seed 000 `user_id`), if any.
    pub user_id: Option<String>,
    pub user_name: Option<String>,
    /// Why access was denied.
    pub reason: Option<String>,
    /// Similarity to the best gallery match.
    pub score: Option<f64>,
    pub liveness: Option<f64>,
    /// Key of the snapshot the device uploaded.
    pub snapshot: Option<String>,
    /// The device's event sequence number.
    pub seq: i64,
}

/// A position in the newest-first order: the last row of the previous page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub ts_ms: i64,
    pub id: Uuid,
}

impl Cursor {
    /// Opaque text form for clients.
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}.{}", self.ts_ms, self.id.simple()))
    }

    pub fn decode(raw: &str) -> Result<Cursor, ServiceError> {
        let bad = || {
            ServiceError::Invalid(Msg::new(
                "cursor tidak valid; gunakan next_cursor dari halaman sebelumnya",
                "cursor is not valid; use next_cursor from the previous page",
            ))
        };
        let bytes = URL_SAFE_NO_PAD.decode(raw.trim()).map_err(|_| bad())?;
        let text = String::from_utf8(bytes).map_err(|_| bad())?;
        let (ts, id) = text.split_once('.').ok_or_else(bad)?;
        Ok(Cursor {
            ts_ms: ts.parse().map_err(|_| bad())?,
            id: Uuid::parse_str(id).map_err(|_| bad())?,
        })
    }
}

/// One page of history.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AccessPage {
    pub data: Vec<AccessLogView>,
    pub pagination: PageInfo,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PageInfo {
    pub limit: u32,
    /// Pass as `cursor` for the next (older) page; absent on the last page.
    pub next_cursor: Option<String>,
    pub has_more: bool,
    /// Every matching row, when `include_total=true` was asked.
    pub total: Option<u64>,
}

const COLUMNS: &str = "l.id, l.device_id, d.name AS device_name, l.seq, l.ts_ms, l.result, \
    l.success, l.method, l.person_id, l.person_name, l.reason, l.score, l.liveness, l.snapshot";

fn view(row: &QueryResult, filter: &AccessFilter) -> Result<(AccessLogView, Cursor), DbErr> {
    let ts_ms: i64 = row.try_get("", "ts_ms")?;
    let id: Uuid = row.try_get("", "id")?;
    let ts = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ts_ms) * 1_000_000)
        .map_err(|e| DbErr::Custom(format!("access log {id}: bad ts_ms: {e}")))?
        .to_offset(filter.tz);
    Ok((
        AccessLogView {
            id,
            device_id: row.try_get("", "device_id")?,
            device_name: row.try_get("", "device_name")?,
            timestamp: ts
                .format(&Rfc3339)
                .map_err(|e| DbErr::Custom(format!("formatting a timestamp: {e}")))?,
            result: row.try_get("", "result")?,
            success: row.try_get("", "success")?,
            method: row.try_get("", "method")?,
            user_id: row.try_get("", "person_id")?,
            user_name: row.try_get("", "person_name")?,
            reason: row.try_get("", "reason")?,
            score: row.try_get("", "score")?,
            liveness: row.try_get("", "liveness")?,
            snapshot: row.try_get("", "snapshot")?,
            seq: row.try_get("", "seq")?,
        },
        Cursor { ts_ms, id },
    ))
}

/// How many of the newest rows (matching every other filter) a name search looks through
/// before it asks the trigram index for every match.
const SEARCH_WINDOW: i64 = 20_000;

/// How a page is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Plan {
    /// One query; the database picks the index.
    Direct,
    /// Name search, step 1: only among the newest `SEARCH_WINDOW` rows.
    NewestWindow,
    /// Name search, step 2: every match (from the trigram index), then the page.
    AllMatches,
}

/// Up to `limit` rows older than `after` (newest first), each with its cursor.
///
/// A free-text name search on PostgreSQL does not leave the plan to the planner. `LIKE
/// '%term%' ORDER BY ts_ms DESC LIMIT n` is either a walk down the time index testing each
/// row (fast for a common term, a walk through most of the table for a rare one) or the
/// trigram index's matches sorted (fast for a rare term, slow for a common one), and the
/// choice rests on a selectivity estimate for `LIKE` that is often off by 10× or more: on a
/// million rows 1 search in 20 took 100–350 ms. So the search first looks among the
/// newest rows (a bounded walk), which finds a common term's page at once; a term with
/// fewer matches there is rare, and its matches are collected from the trigram index.
async fn fetch_rows(
    db: &impl ConnectionTrait,
    filter: &AccessFilter,
    after: Option<Cursor>,
    limit: u32,
) -> Result<Vec<(AccessLogView, Cursor)>, ServiceError> {
    if filter.search.is_none() || db.get_database_backend() != DbBackend::Postgres {
        return query_rows(db, filter, after, limit, Plan::Direct).await;
    }
    let rows = query_rows(db, filter, after, limit, Plan::NewestWindow).await?;
    if rows.len() >= limit as usize {
        return Ok(rows);
    }
    query_rows(db, filter, after, limit, Plan::AllMatches).await
}

async fn query_rows(
    db: &impl ConnectionTrait,
    filter: &AccessFilter,
    after: Option<Cursor>,
    limit: u32,
    plan: Plan,
) -> Result<Vec<(AccessLogView, Cursor)>, ServiceError> {
    let cursor_condition = |sql: &mut Sql| {
        if let Some(cursor) = after {
            sql.bind(" AND (l.ts_ms < ?", cursor.ts_ms)
                .bind(" OR (l.ts_ms = ?", cursor.ts_ms)
                .bind(" AND l.id < ?))", cursor.id);
        }
    };
    let mut sql = Sql::default();
    match plan {
        Plan::Direct => {
            sql.push("SELECT ")
                .push(COLUMNS)
                .push(" FROM access_logs l LEFT JOIN devices d ON d.id = l.device_id WHERE 1 = 1");
            filter.push_conditions(&mut sql);
            cursor_condition(&mut sql);
        }
        Plan::NewestWindow => {
            // A subquery with a LIMIT keeps the name test outside it.
            sql.push("SELECT ")
                .push(COLUMNS)
                .push(" FROM (SELECT * FROM access_logs l WHERE 1 = 1");
            filter.push_conditions_but_search(&mut sql);
            cursor_condition(&mut sql);
            sql.bind(
                " ORDER BY l.ts_ms DESC, l.id DESC LIMIT ?) l \
                 LEFT JOIN devices d ON d.id = l.device_id WHERE 1 = 1",
                SEARCH_WINDOW,
            );
            filter.push_search(&mut sql);
        }
        Plan::AllMatches => {
            // A materialised CTE is computed whole: the planner cannot turn it into a walk
            // down the time index.
            sql.push("WITH matches AS MATERIALIZED (SELECT * FROM access_logs l WHERE 1 = 1");
            filter.push_conditions(&mut sql);
            cursor_condition(&mut sql);
            sql.push(") SELECT ")
                .push(COLUMNS)
                .push(" FROM matches l LEFT JOIN devices d ON d.id = l.device_id");
        }
    }
    sql.bind(
        " ORDER BY l.ts_ms DESC, l.id DESC LIMIT ?",
        i64::from(limit),
    );
    let rows = db
        .query_all(stmt(db.get_database_backend(), &sql.text, sql.values))
        .await
        .db("reading the access history")?;
    rows.iter()
        .map(|row| view(row, filter).db("reading an access-log row"))
        .collect()
}

/// Up to `limit` rows older than `after` (newest first), and the cursor of the last one
/// (for chunked reads such as exports).
pub async fn fetch(
    db: &impl ConnectionTrait,
    filter: &AccessFilter,
    after: Option<Cursor>,
    limit: u32,
) -> Result<(Vec<AccessLogView>, Option<Cursor>), ServiceError> {
    let rows = fetch_rows(db, filter, after, limit).await?;
    let last = rows.last().map(|(_, cursor)| *cursor);
    Ok((rows.into_iter().map(|(view, _)| view).collect(), last))
}

/// How many rows match.
pub async fn count(db: &impl ConnectionTrait, filter: &AccessFilter) -> Result<u64, ServiceError> {
    let mut sql = Sql::default();
    sql.push("SELECT COUNT(*) AS n FROM access_logs l WHERE 1 = 1");
    filter.push_conditions(&mut sql);
    let row = db
        .query_one(stmt(db.get_database_backend(), &sql.text, sql.values))
        .await
        .db("counting the access history")?;
    let n: i64 = match row {
        Some(row) => row.try_get("", "n").db("reading a count")?,
        None => 0,
    };
    Ok(n.max(0) as u64)
}

/// One page, newest first.
pub async fn list(
    db: &impl ConnectionTrait,
    filter: &AccessFilter,
    cursor: Option<Cursor>,
    limit: u32,
    include_total: bool,
) -> Result<AccessPage, ServiceError> {
    let limit = limit.clamp(1, MAX_LIMIT);
    // One extra row tells whether another page follows.
    let mut rows = fetch_rows(db, filter, cursor, limit + 1).await?;
    let has_more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let next_cursor = if has_more {
        rows.last().map(|(_, cursor)| cursor.encode())
    } else {
        None
    };
    let data = rows.into_iter().map(|(view, _)| view).collect();
    let total = if include_total {
        Some(count(db, filter).await?)
    } else {
        None
    };
    Ok(AccessPage {
        data,
        pagination: PageInfo {
            limit,
            next_cursor,
            has_more,
            total,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips_and_refuses_garbage() {
        let cursor = Cursor {
            ts_ms: 1_793_466_000_123,
            id: Uuid::now_v7(),
        };
        assert_eq!(Cursor::decode(&cursor.encode()).unwrap(), cursor);
        for bad in ["", "!!!", "MTIz", &URL_SAFE_NO_PAD.encode("x.y")] {
            assert!(Cursor::decode(bad).is_err(), "{bad}");
        }
    }
}
