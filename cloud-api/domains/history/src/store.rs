//! Feeding the access log from ingest: every newly stored `access_decision` event becomes
//! one `access_logs` row, written in the ingest batch's transaction so the log and the event
//! store can never disagree (a re-delivered event is not new, so it is never logged twice).

use platform::ingest::clock::ClockCorrection;
use protocol::{Envelope, Event};
use sea_orm::{sea_query::Query, ConnectionTrait, DbErr, Value};
use time::OffsetDateTime;

use super::{filter::enum_name, migration::AccessLogs};

/// Rows per INSERT statement (16 columns: well below both databases' parameter limits).
const ROWS_PER_INSERT: usize = 500;

/// Unix milliseconds of `ts`.
pub(crate) fn unix_ms(ts: OffsetDateTime) -> i64 {
    (ts.unix_timestamp_nanos() / 1_000_000) as i64
}

/// Writes the access-log rows of `envelopes` (only the new events of a batch; events of
/// other kinds are skipped).
pub async fn record<'a>(
    txn: &impl ConnectionTrait,
    envelopes: impl IntoIterator<Item = &'a Envelope>,
    received_at: OffsetDateTime,
) -> Result<u64, DbErr> {
    let rows: Vec<Vec<Value>> = envelopes
        .into_iter()
        .filter_map(|env| row(env, received_at))
        .collect();
    let backend = txn.get_database_backend();
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        let mut insert = Query::insert();
        insert.into_table(AccessLogs::Table).columns([
            AccessLogs::Id,
            AccessLogs::DeviceId,
            AccessLogs::Seq,
            AccessLogs::Ts,
            AccessLogs::TsMs,
            AccessLogs::Result,
            AccessLogs::Success,
            AccessLogs::Method,
            AccessLogs::PersonId,
            AccessLogs::PersonName,
            AccessLogs::PersonNameLc,
            AccessLogs::Reason,
            AccessLogs::Score,
            AccessLogs::Liveness,
            AccessLogs::Snapshot,
            AccessLogs::ReceivedAt,
        ]);
        for values in chunk {
            insert
                .values(values.iter().cloned().map(Into::into))
                .map_err(|e| DbErr::Custom(format!("building the access-log insert: {e}")))?;
        }
        txn.execute(backend.build(&insert)).await?;
    }
    Ok(rows.len() as u64)
}

/// Moves the rows of corrected access decisions to their corrected time (the row's id is
/// the event's).
pub async fn redate(
    txn: &impl ConnectionTrait,
    corrections: &[ClockCorrection],
) -> Result<(), DbErr> {
    let backend = txn.get_database_backend();
    for correction in corrections {
        let env = &correction.envelope;
        if !matches!(env.event, Event::AccessDecision { .. }) {
            continue;
        }
        txn.execute(platform::sql::stmt(
            backend,
            "UPDATE access_logs SET ts = ?, ts_ms = ? WHERE id = ?",
            vec![env.ts.into(), unix_ms(env.ts).into(), env.id.into()],
        ))
        .await?;
    }
    Ok(())
}

fn row(env: &Envelope, received_at: OffsetDateTime) -> Option<Vec<Value>> {
    let Event::AccessDecision {
        result,
        method,
        person,
        reason,
        score,
        liveness,
        snapshot,
    } = &env.event
    else {
        return None;
    };
    let result = enum_name(result);
    Some(vec![
        env.id.into(),
        env.device.as_str().into(),
        (env.seq.min(i64::MAX as u64) as i64).into(),
        env.ts.into(),
        unix_ms(env.ts).into(),
        result.clone().into(),
        (result == "granted").into(),
        enum_name(method).into(),
        person.as_ref().map(|p| p.id.clone()).into(),
        person.as_ref().map(|p| p.name.clone()).into(),
        person.as_ref().map(|p| p.name.to_lowercase()).into(),
        reason.as_ref().map(enum_name).into(),
        score.filter(|s| s.is_finite()).map(f64::from).into(),
        liveness.filter(|s| s.is_finite()).map(f64::from).into(),
        snapshot.clone().into(),
        received_at.into(),
    ])
}
