//! Storing verified events in one transaction per batch: a multi-row
//! `INSERT … ON CONFLICT (id) DO NOTHING RETURNING id` tells new events from re-deliveries;
//! then dropped ranges, per-device counters, `contiguous_seq`, and the domains' projectors
//! (door status, attendance, the access log) in the same transaction.
//!
//! Every batch takes its row locks in one order — by device, then seq — so replicas storing
//! overlapping batches at once (a resent event reaching both) wait for each other instead of
//! deadlocking.

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    sync::Arc,
};

use protocol::{AccessResult, DeviceId, Event, SiteId};
use sea_orm::{
    sea_query::{OnConflict, Query},
    ConnectionTrait, DatabaseTransaction, DbErr, TransactionTrait, Value,
};
use time::OffsetDateTime;
use uuid::Uuid;

use super::verify::VerifiedEvent;
use crate::{
    domain::Projector,
    {
        db::migration_idens::{DroppedRanges, Events},
        devices::advance_contiguous,
        error::{DbContext, ServiceError},
        notifications::{self, NotificationView},
        sql::stmt,
        state::Platform,
    },
};

/// Rows per INSERT statement (well below SQLite's bound-parameter limit).
const ROWS_PER_INSERT: usize = 500;

/// What a batch did for one device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceOutcome {
    pub site: SiteId,
    pub inserted: u64,
    pub duplicates: u64,
    /// The device's `contiguous_seq` after the batch: its receipt.
    pub upto_seq: u64,
}

#[derive(Debug, Default)]
pub struct StoreOutcome {
    pub devices: HashMap<DeviceId, DeviceOutcome>,
    /// Notifications the batch's new events raised (stored in the same transaction).
    pub notifications: Vec<NotificationView>,
    /// The batch's new events, for the realtime push.
    pub new_events: Vec<serde_json::Value>,
}

impl StoreOutcome {
    pub fn inserted(&self) -> u64 {
        self.devices.values().map(|d| d.inserted).sum()
    }
}

fn seq_i64(seq: u64) -> i64 {
    seq.min(i64::MAX as u64) as i64
}

/// Stores a batch (any mix of devices) and updates metrics after the commit.
pub async fn store_events(
    platform: &Platform,
    events: Vec<VerifiedEvent>,
) -> Result<StoreOutcome, ServiceError> {
    if events.is_empty() {
        return Ok(StoreOutcome::default());
    }
    let txn = platform.db.begin().await.db("starting an ingest batch")?;
    let (outcome, granted, denied) = store_in(&txn, platform, events)
        .await
        .db("storing events")?;
    txn.commit().await.db("committing an ingest batch")?;
    platform.committed(&outcome.devices.keys().collect::<Vec<_>>());
    notifications::push(platform, &outcome.notifications).await;
    if !outcome.new_events.is_empty() {
        platform
            .realtime
            .to_access_admins("device:events", &outcome.new_events)
            .await;
    }
    let inserted = outcome.inserted();
    let total: u64 = outcome
        .devices
        .values()
        .map(|d| d.inserted + d.duplicates)
        .sum();
    platform.metrics.events_ingested.inc_by(inserted);
    platform.metrics.events_duplicate.inc_by(total - inserted);
    for _ in 0..granted {
        platform.metrics.access_decision("granted");
    }
    for _ in 0..denied {
        platform.metrics.access_decision("denied");
    }
    Ok(outcome)
}

async fn store_in(
    txn: &DatabaseTransaction,
    platform: &Platform,
    events: Vec<VerifiedEvent>,
) -> Result<(StoreOutcome, u64, u64), DbErr> {
    let projectors: &[Arc<dyn Projector>] = &platform.projectors;
    let backend = txn.get_database_backend();
    let now = OffsetDateTime::now_utc();

    // A re-delivery may repeat inside one batch too.
    let mut seen = HashSet::with_capacity(events.len());
    let mut duplicates_in_batch: HashMap<DeviceId, u64> = HashMap::new();
    let mut unique = Vec::with_capacity(events.len());
    for event in events {
        if seen.insert(event.envelope.id) {
            unique.push(event);
        } else {
            *duplicates_in_batch
                .entry(event.device.id.clone())
                .or_default() += 1;
        }
    }
    // The lock order (see the module's doc): the inserts, the projectors and the device rows
    // below all follow it.
    unique.sort_by(|a, b| (&a.device.id, a.envelope.seq).cmp(&(&b.device.id, b.envelope.seq)));

    // Events an offline door recorded before it learned of an erasure arrive without the
    // erased person, and the domains hear of the snapshots those events named.
    let erased_snapshots = super::forget::strip_erased(txn, &mut unique).await?;
    if !erased_snapshots.is_empty() {
        for projector in projectors {
            projector.erased_snapshots(txn, &erased_snapshots).await?;
        }
    }
    // Events stamped before the device's clock was set, dated from their boot when its
    // offset is known.
    let clocks = super::clock::correct_batch(txn, &mut unique).await?;

    let mut inserted_ids: HashSet<Uuid> = HashSet::with_capacity(unique.len());
    for chunk in unique.chunks(ROWS_PER_INSERT) {
        let mut insert = Query::insert();
        insert.into_table(Events::Table).columns([
            Events::Id,
            Events::DeviceId,
            Events::Seq,
            Events::Kind,
            Events::Ts,
            Events::MonoMs,
            Events::ClockSynced,
            Events::BootId,
            Events::ReceivedAt,
            Events::Body,
            Events::DeviceTs,
        ]);
        for e in chunk {
            let env = &e.envelope;
            let body = serde_json::to_value(&env.event)
                .ok()
                .and_then(|mut v| v.get_mut("body").map(|b| b.take()))
                .unwrap_or(serde_json::Value::Null)
                .to_string();
            let values: Vec<sea_orm::sea_query::SimpleExpr> = vec![
                env.id.into(),
                env.device.as_str().into(),
                seq_i64(env.seq).into(),
                env.event.kind().as_str().into(),
                env.ts.into(),
                seq_i64(env.mono_ms).into(),
                env.clock_synced.into(),
                env.boot_id.into(),
                now.into(),
                body.into(),
                clocks.device_ts.get(&env.id).copied().into(),
            ];
            insert
                .values(values)
                .map_err(|e| DbErr::Custom(format!("building the event insert: {e}")))?;
        }
        insert.on_conflict(OnConflict::column(Events::Id).do_nothing().to_owned());
        insert.returning_col(Events::Id);
        for row in txn.query_all(backend.build(&insert)).await? {
            inserted_ids.insert(row.try_get::<Uuid>("", "id")?);
        }
    }

    struct PerDevice<'a> {
        site: &'a SiteId,
        inserted: u64,
        duplicates: u64,
        max_seq: i64,
        min_new_lo: i64,
    }
    let mut per_device: BTreeMap<&DeviceId, PerDevice> = BTreeMap::new();
    let (mut granted, mut denied) = (0u64, 0u64);
    let mut alerts = Vec::new();
    let mut new_events = Vec::new();
    for e in &unique {
        let env = &e.envelope;
        let entry = per_device.entry(&e.device.id).or_insert_with(|| PerDevice {
            site: &e.device.site,
            inserted: 0,
            duplicates: 0,
            max_seq: 0,
            min_new_lo: i64::MAX,
        });
        if !inserted_ids.contains(&env.id) {
            entry.duplicates += 1;
            continue;
        }
        entry.inserted += 1;
        if let Some(alert) = notifications::alert_for_event(env) {
            alerts.push(alert);
        }
        new_events.push(serde_json::json!({
            "id": env.id,
            "device": env.device,
            "seq": env.seq,
            "ts": env.ts.format(&time::format_description::well_known::Rfc3339).ok(),
            "event": &env.event,
        }));
        entry.max_seq = entry.max_seq.max(seq_i64(env.seq));
        entry.min_new_lo = entry.min_new_lo.min(seq_i64(env.seq));
        match &env.event {
            Event::Dropped {
                first_seq,
                last_seq,
                ..
            } if first_seq <= last_seq => {
                entry.min_new_lo = entry.min_new_lo.min(seq_i64(*first_seq));
                let mut insert = Query::insert();
                insert
                    .into_table(DroppedRanges::Table)
                    .columns([
                        DroppedRanges::DeviceId,
                        DroppedRanges::FirstSeq,
                        DroppedRanges::LastSeq,
                    ])
                    .values([
                        env.device.as_str().into(),
                        seq_i64(*first_seq).into(),
                        seq_i64(*last_seq).into(),
                    ])
                    .map_err(|e| DbErr::Custom(format!("building the dropped insert: {e}")))?
                    .on_conflict(
                        OnConflict::columns([DroppedRanges::DeviceId, DroppedRanges::FirstSeq])
                            .do_nothing()
                            .to_owned(),
                    );
                txn.execute(backend.build(&insert)).await?;
            }
            Event::AccessDecision {
                result: AccessResult::Granted,
                ..
            } => granted += 1,
            Event::AccessDecision {
                result: AccessResult::Denied,
                ..
            } => denied += 1,
            _ => {}
        }
    }

    // The domains' read models (door status, attendance, the access log) are written in this
    // transaction: they can never disagree with the events.
    let new: Vec<&protocol::Envelope> = unique
        .iter()
        .filter(|e| inserted_ids.contains(&e.envelope.id))
        .map(|e| &e.envelope)
        .collect();
    if !new.is_empty() {
        for projector in projectors {
            projector.events(platform, txn, &new, now).await?;
        }
    }
    // Offsets learned from this batch date the events of those boots stored earlier.
    let corrections = super::clock::learn(txn, &clocks, now).await?;
    if !corrections.is_empty() {
        for projector in projectors {
            projector
                .clock_corrected(platform, txn, &corrections)
                .await?;
        }
    }
    let mut outcome = StoreOutcome {
        notifications: notifications::notify_admins(txn, &alerts, now).await?,
        new_events,
        ..StoreOutcome::default()
    };
    for (device, d) in per_device {
        let updated = txn
            .query_one(stmt(
                backend,
                "UPDATE devices SET events_stored = events_stored + ?, \
                 last_seq = CASE WHEN last_seq < ? THEN ? ELSE last_seq END, last_seen = ? \
                 WHERE id = ? RETURNING contiguous_seq",
                vec![
                    Value::from(d.inserted as i64),
                    d.max_seq.into(),
                    d.max_seq.into(),
                    now.into(),
                    device.as_str().into(),
                ],
            ))
            .await?;
        let mut contiguous: i64 = match updated {
            Some(row) => row.try_get("", "contiguous_seq")?,
            None => 0,
        };
        // Only something at the frontier can move it: a new event of this batch, or one a
        // concurrent batch committed meanwhile (checked with an indexed point lookup).
        if d.inserted > 0
            && (d.min_new_lo <= contiguous + 1
                || frontier_covered(txn, device.as_str(), contiguous + 1).await?)
        {
            let advanced = advance_contiguous(txn, device.as_str(), contiguous).await?;
            if advanced > contiguous {
                txn.execute(stmt(
                    backend,
                    "UPDATE devices SET contiguous_seq = ? WHERE id = ? AND contiguous_seq < ?",
                    vec![advanced.into(), device.as_str().into(), advanced.into()],
                ))
                .await?;
                contiguous = advanced;
            }
        }
        let extra = duplicates_in_batch.remove(device).unwrap_or(0);
        outcome.devices.insert(
            device.clone(),
            DeviceOutcome {
                site: d.site.clone(),
                inserted: d.inserted,
                duplicates: d.duplicates + extra,
                upto_seq: contiguous.max(0) as u64,
            },
        );
    }
    Ok((outcome, granted, denied))
}

async fn frontier_covered(
    txn: &DatabaseTransaction,
    device: &str,
    next: i64,
) -> Result<bool, DbErr> {
    let backend = txn.get_database_backend();
    let row = txn
        .query_one(stmt(
            backend,
            "SELECT (SELECT COUNT(*) FROM events WHERE device_id = ? AND seq = ?) \
             + (SELECT COUNT(*) FROM dropped_ranges WHERE device_id = ? AND first_seq <= ? AND last_seq >= ?) AS hits",
            vec![device.into(), next.into(), device.into(), next.into(), next.into()],
        ))
        .await?;
    Ok(row
        .map(|r| r.try_get::<i64>("", "hits"))
        .transpose()?
        .unwrap_or(0)
        > 0)
}
