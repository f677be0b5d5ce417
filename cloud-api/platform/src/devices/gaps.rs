//! Sequence gaps, computed in SQL on both databases: the events stored and the ranges
//! reported dropped are merged in `lo` order with a running maximum of `hi` (a window
//! function), and a gap is wherever the next `lo` lies beyond that maximum + 1. Only seqs
//! above the device's `contiguous_seq` are looked at, which keeps the scan short.

use sea_orm::{ConnectionTrait, DbErr, Value};
use serde::Serialize;

use crate::sql::stmt;

const COVERED: &str = "
WITH covered AS (
    SELECT seq AS lo, seq AS hi FROM events WHERE device_id = ? AND seq > ?
    UNION ALL
    SELECT first_seq AS lo, last_seq AS hi FROM dropped_ranges WHERE device_id = ? AND last_seq > ?
),
ordered AS (
    SELECT lo, hi, MAX(hi) OVER (ORDER BY lo, hi ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_hi
    FROM covered
),
gaps AS (
    SELECT COALESCE(prev_hi, ?) + 1 AS gap_from, lo - 1 AS gap_to
    FROM ordered WHERE lo > COALESCE(prev_hi, ?) + 1
)";

fn params(device: &str, floor: i64) -> Vec<Value> {
    vec![
        device.into(),
        floor.into(),
        device.into(),
        floor.into(),
        floor.into(),
        floor.into(),
    ]
}

/// Missing sequence numbers of one device.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct GapReport {
    /// How many seqs below the newest one are neither stored nor reported dropped.
    pub missing_seqs: u64,
    /// The first 100 missing ranges, `[from, to]` inclusive.
    pub missing_ranges: Vec<[u64; 2]>,
}

pub async fn gap_report(
    db: &impl ConnectionTrait,
    device: &str,
    contiguous_seq: i64,
) -> Result<GapReport, DbErr> {
    let backend = db.get_database_backend();
    let count_sql = format!(
        "{COVERED} SELECT CAST(COALESCE(SUM(gap_to - gap_from + 1), 0) AS BIGINT) AS missing FROM gaps"
    );
    let missing = db
        .query_one(stmt(backend, &count_sql, params(device, contiguous_seq)))
        .await?
        .map(|row| row.try_get::<i64>("", "missing"))
        .transpose()?
        .unwrap_or(0);
    if missing == 0 {
        return Ok(GapReport::default());
    }
    let ranges_sql =
        format!("{COVERED} SELECT gap_from, gap_to FROM gaps ORDER BY gap_from LIMIT 100");
    let rows = db
        .query_all(stmt(backend, &ranges_sql, params(device, contiguous_seq)))
        .await?;
    let mut ranges = Vec::with_capacity(rows.len());
    for row in rows {
        let from: i64 = row.try_get("", "gap_from")?;
        let to: i64 = row.try_get("", "gap_to")?;
        ranges.push([from.max(0) as u64, to.max(0) as u64]);
    }
    Ok(GapReport {
        missing_seqs: missing.max(0) as u64,
        missing_ranges: ranges,
    })
}

/// The highest N such that every seq in 1..=N is stored or covered by a dropped range,
/// starting from the known `contiguous_seq`.
pub async fn advance_contiguous(
    db: &impl ConnectionTrait,
    device: &str,
    contiguous_seq: i64,
) -> Result<i64, DbErr> {
    let backend = db.get_database_backend();
    let sql = format!(
        "{COVERED} SELECT (SELECT MIN(gap_from) FROM gaps) AS first_gap, (SELECT MAX(hi) FROM covered) AS top"
    );
    let Some(row) = db
        .query_one(stmt(backend, &sql, params(device, contiguous_seq)))
        .await?
    else {
        return Ok(contiguous_seq);
    };
    let first_gap: Option<i64> = row.try_get("", "first_gap")?;
    let top: Option<i64> = row.try_get("", "top")?;
    Ok(match (first_gap, top) {
        (Some(gap), _) => (gap - 1).max(contiguous_seq),
        (None, Some(top)) => top.max(contiguous_seq),
        (None, None) => contiguous_seq,
    })
}
