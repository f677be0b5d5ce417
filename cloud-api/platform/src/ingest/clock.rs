//! Dating events a device stamped before its clock was synchronised (`clock_synced = false`:
//! a Pi without a real-time clock boots in 1970 until NTP answers).
//!
//! Every envelope carries its boot (`boot_id`) and the milliseconds since that boot
//! (`mono_ms`, a monotonic clock that never jumps). The first synchronised event of a boot
//! shows the boot's offset, `ts − mono_ms`; every unsynchronised event of the same boot is
//! then dated `mono_ms + offset`. An offset is learned once per device and boot
//! (`boot_clocks`); events of a boot whose offset is already known are corrected before they
//! are stored, and those stored earlier are corrected when it is learned — in `events` and,
//! through [`crate::domain::Projector::clock_corrected`], in the domains' read models. A
//! corrected event keeps what the device stamped in `events.device_ts`.
//!
//! Not handled: two replicas storing the same boot's events at once may leave the events one
//! of them stored uncorrected (it read no offset before the other committed one).

use std::collections::{BTreeMap, HashMap};

use protocol::{Envelope, Event};
use sea_orm::{
    sea_query::{OnConflict, Query},
    ConnectionTrait, DatabaseTransaction, DbErr, Value,
};
use time::OffsetDateTime;
use uuid::Uuid;

use super::verify::VerifiedEvent;
use crate::{db::migration_idens::BootClocks, sql::stmt};

/// An event whose `ts` the cloud corrected: `envelope.ts` is the corrected time.
#[derive(Debug, Clone)]
pub struct ClockCorrection {
    pub envelope: Envelope,
    /// What the device stamped.
    pub device_ts: OffsetDateTime,
}

/// Unix milliseconds of `ts`.
fn unix_ms(ts: OffsetDateTime) -> i128 {
    ts.unix_timestamp_nanos() / 1_000_000
}

/// The offset (wall clock − monotonic ms) a synchronised event shows.
fn offset_of(envelope: &Envelope) -> i64 {
    let offset = unix_ms(envelope.ts) - i128::from(envelope.mono_ms);
    offset.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

/// `mono_ms + offset` as a time, when it is one.
pub fn corrected_ts(mono_ms: u64, offset_ms: i64) -> Option<OffsetDateTime> {
    let ms = i128::from(mono_ms) + i128::from(offset_ms);
    OffsetDateTime::from_unix_timestamp_nanos(ms.checked_mul(1_000_000)?).ok()
}

type BootKey = (String, Uuid);

fn key(envelope: &Envelope) -> BootKey {
    (envelope.device.as_str().to_owned(), envelope.boot_id)
}

/// What [`correct_batch`] did: offsets seen in the batch's synchronised events, to be
/// remembered by [`learn`], and the device's stamp of each event corrected (by event id).
#[derive(Debug, Default)]
pub(super) struct BatchClocks {
    seen: BTreeMap<BootKey, i64>,
    pub device_ts: HashMap<Uuid, OffsetDateTime>,
}

/// Corrects, before they are stored, the unsynchronised events of `events` whose boot's
/// offset is known: from a synchronised event of the same boot in this batch (the earliest
/// such), or from `boot_clocks`.
pub(super) async fn correct_batch(
    txn: &impl ConnectionTrait,
    events: &mut [VerifiedEvent],
) -> Result<BatchClocks, DbErr> {
    let mut clocks = BatchClocks::default();
    let mut earliest: BTreeMap<BootKey, u64> = BTreeMap::new();
    for e in events.iter().filter(|e| e.envelope.clock_synced) {
        let env = &e.envelope;
        let k = key(env);
        if earliest.get(&k).is_none_or(|&mono| env.mono_ms < mono) {
            earliest.insert(k.clone(), env.mono_ms);
            clocks.seen.insert(k, offset_of(env));
        }
    }
    let unknown: Vec<BootKey> = events
        .iter()
        .filter(|e| !e.envelope.clock_synced)
        .map(|e| key(&e.envelope))
        .filter(|k| !clocks.seen.contains_key(k))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut offsets = clocks.seen.clone();
    offsets.extend(stored_offsets(txn, &unknown).await?);
    for e in events.iter_mut().filter(|e| !e.envelope.clock_synced) {
        let env = &mut e.envelope;
        let Some(&offset) = offsets.get(&key(env)) else {
            continue;
        };
        if let Some(ts) = corrected_ts(env.mono_ms, offset) {
            clocks.device_ts.insert(env.id, env.ts);
            env.ts = ts;
        }
    }
    Ok(clocks)
}

async fn stored_offsets(
    txn: &impl ConnectionTrait,
    boots: &[BootKey],
) -> Result<BTreeMap<BootKey, i64>, DbErr> {
    let mut found = BTreeMap::new();
    for chunk in boots.chunks(200) {
        let pairs = vec!["(device_id = ? AND boot_id = ?)"; chunk.len()].join(" OR ");
        let values = chunk
            .iter()
            .flat_map(|(device, boot)| [Value::from(device.clone()), Value::from(*boot)])
            .collect();
        let rows = txn
            .query_all(stmt(
                txn.get_database_backend(),
                &format!("SELECT device_id, boot_id, offset_ms FROM boot_clocks WHERE {pairs}"),
                values,
            ))
            .await?;
        for row in rows {
            found.insert(
                (row.try_get("", "device_id")?, row.try_get("", "boot_id")?),
                row.try_get("", "offset_ms")?,
            );
        }
    }
    Ok(found)
}

/// Remembers the offsets the batch showed for the first time, and corrects the events of
/// those boots stored earlier; returns them corrected, for the domains' read models.
pub(super) async fn learn(
    txn: &DatabaseTransaction,
    clocks: &BatchClocks,
    now: OffsetDateTime,
) -> Result<Vec<ClockCorrection>, DbErr> {
    let backend = txn.get_database_backend();
    let seen: Vec<_> = clocks.seen.iter().collect();
    let mut learned = Vec::new();
    for chunk in seen.chunks(200) {
        let mut insert = Query::insert();
        insert.into_table(BootClocks::Table).columns([
            BootClocks::DeviceId,
            BootClocks::BootId,
            BootClocks::OffsetMs,
            BootClocks::LearnedAt,
        ]);
        for (key, offset) in chunk {
            let (device, boot) = &**key;
            insert
                .values([
                    device.as_str().into(),
                    (*boot).into(),
                    (**offset).into(),
                    now.into(),
                ])
                .map_err(|e| DbErr::Custom(format!("building the boot clock insert: {e}")))?;
        }
        insert.on_conflict(
            OnConflict::columns([BootClocks::DeviceId, BootClocks::BootId])
                .do_nothing()
                .to_owned(),
        );
        insert.returning(Query::returning().columns([
            BootClocks::DeviceId,
            BootClocks::BootId,
            BootClocks::OffsetMs,
        ]));
        for row in txn.query_all(backend.build(&insert)).await? {
            learned.push((
                row.try_get::<String>("", "device_id")?,
                row.try_get::<Uuid>("", "boot_id")?,
                row.try_get::<i64>("", "offset_ms")?,
            ));
        }
    }
    let mut corrections = Vec::new();
    for (device, boot, offset) in learned {
        corrections.extend(correct_stored(txn, &device, boot, offset).await?);
    }
    if !corrections.is_empty() {
        tracing::info!(
            corrected = corrections.len(),
            "Events stamped before their device's clock was set are dated from their boot."
        );
    }
    Ok(corrections)
}

/// Dates the stored, uncorrected, unsynchronised events of one boot.
async fn correct_stored(
    txn: &DatabaseTransaction,
    device: &str,
    boot: Uuid,
    offset: i64,
) -> Result<Vec<ClockCorrection>, DbErr> {
    let backend = txn.get_database_backend();
    let rows = txn
        .query_all(stmt(
            backend,
            "SELECT id, seq, kind, ts, mono_ms, body FROM events \
             WHERE device_id = ? AND boot_id = ? AND clock_synced = false AND device_ts IS NULL \
             ORDER BY seq",
            vec![device.into(), boot.into()],
        ))
        .await?;
    let mut corrections = Vec::with_capacity(rows.len());
    for row in rows {
        let id: Uuid = row.try_get("", "id")?;
        let device_ts: OffsetDateTime = row.try_get("", "ts")?;
        let mono_ms: i64 = row.try_get("", "mono_ms")?;
        let Some(ts) = corrected_ts(mono_ms.max(0) as u64, offset) else {
            continue;
        };
        txn.execute(stmt(
            backend,
            "UPDATE events SET ts = ?, device_ts = ? WHERE id = ?",
            vec![ts.into(), device_ts.into(), id.into()],
        ))
        .await?;
        let kind: String = row.try_get("", "kind")?;
        let body: String = row.try_get("", "body")?;
        // The read models need the event itself; a stored body always parses (it was
        // written from a parsed event), but a row that does not is only re-dated.
        let Some(event) = event_of(&kind, &body) else {
            continue;
        };
        let Ok(device_id) = protocol::DeviceId::parse(device) else {
            continue;
        };
        corrections.push(ClockCorrection {
            envelope: Envelope {
                v: protocol::VERSION,
                id,
                device: device_id,
                boot_id: boot,
                seq: row.try_get::<i64>("", "seq")?.max(0) as u64,
                ts,
                mono_ms: mono_ms.max(0) as u64,
                clock_synced: false,
                event,
            },
            device_ts,
        });
    }
    Ok(corrections)
}

/// An event back from its stored `kind` and `body`.
fn event_of(kind: &str, body: &str) -> Option<Event> {
    let body: serde_json::Value = serde_json::from_str(body).ok()?;
    let tagged = if body.is_null() {
        serde_json::json!({ "kind": kind })
    } else {
        serde_json::json!({ "kind": kind, "body": body })
    };
    serde_json::from_value(tagged).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unsynced_event_is_dated_from_its_boots_offset() {
        // Synced at 2026-12-06T08:00:00Z, 60 s after boot: the boot started at 07:59:00.
        let synced = OffsetDateTime::from_unix_timestamp(1_796_544_000).unwrap();
        let offset = (synced.unix_timestamp() * 1000) as i64 - 60_000;
        assert_eq!(
            corrected_ts(5_000, offset),
            Some(synced - time::Duration::seconds(55))
        );
        assert_eq!(corrected_ts(u64::MAX, i64::MAX), None);
    }

    #[test]
    fn stored_bodies_become_events_again() {
        assert_eq!(event_of("door_opened", "null"), Some(Event::DoorOpened));
        assert!(matches!(
            event_of("held_open", r#"{"open_secs":3}"#),
            Some(Event::HeldOpen { open_secs: 3 })
        ));
        assert_eq!(event_of("held_open", "{"), None);
    }
}
