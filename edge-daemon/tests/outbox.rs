//! The outbox on a real SQLite file: gapless seqs across restarts, bounded disk with an
//! honest `dropped` event, confirmation and parking, and leftovers removed past their
//! retention period.

use std::sync::Arc;

use edge_daemon::store::{Boot, Durability, Retained, Signer, Store, StoreOptions};
use protocol::{open, DeviceId, Envelope, Event, Keypair};

fn signer() -> Signer {
    Signer {
        device: DeviceId::parse("door-1").unwrap(),
        key: Keypair::generate(),
    }
}

fn store(path: &std::path::Path, signer: &Signer, cap: u64) -> Store {
    Store::open(
        path,
        signer.clone(),
        Boot::now(),
        Arc::new(hal::sim::SimClock::frozen(
            time::OffsetDateTime::UNIX_EPOCH,
            false,
        )),
        StoreOptions {
            max_unsynced: cap,
            durability: Durability::Normal,
        },
    )
    .unwrap()
}

/// A store whose clock stands still at `now` (synced).
fn store_at(path: &std::path::Path, signer: &Signer, now: time::OffsetDateTime) -> Store {
    Store::open(
        path,
        signer.clone(),
        Boot::now(),
        Arc::new(hal::sim::SimClock::frozen(now, true)),
        StoreOptions {
            max_unsynced: 100,
            durability: Durability::Normal,
        },
    )
    .unwrap()
}

fn seqs(store: &Store) -> Vec<u64> {
    store
        .pending_after(0, 10_000)
        .unwrap()
        .iter()
        .map(|f| f.seq)
        .collect()
}

#[test]
fn seq_is_gapless_across_restarts_and_frames_verify() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("edge.db");
    let signer = signer();
    {
        let mut s = store(&path, &signer, 100);
        for _ in 0..3 {
            s.emit(Event::DoorOpened).unwrap();
        }
    }
    let mut s = store(&path, &signer, 100);
    let env = s.emit(Event::ForcedOpen).unwrap();
    assert_eq!(env.seq, 4);
    assert!(
        !env.clock_synced,
        "a frozen, unsynced clock must be reported as such"
    );
    assert_eq!(seqs(&s), vec![1, 2, 3, 4]);
    let frames = s.pending_after(0, 10).unwrap();
    let first: Envelope = open(&frames[0].frame, &signer.key.public()).unwrap();
    assert_eq!(first.seq, 1);
    assert_eq!(first.event, Event::DoorOpened);
    assert_eq!(s.pending_count(), 4);
}

#[test]
fn a_failed_transaction_leaves_no_gap() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = store(&dir.path().join("edge.db"), &signer(), 100);
    s.emit(Event::DoorOpened).unwrap();
    let failed = s.write(|w| {
        w.emit(Event::DoorOpened)?;
        Err::<(), _>(edge_daemon::store::StoreError::Closed)
    });
    assert!(failed.is_err());
    assert_eq!(s.emit(Event::ForcedOpen).unwrap().seq, 2);
    assert_eq!(s.pending_count(), 2);
}

#[test]
fn a_full_outbox_drops_the_oldest_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let signer = signer();
    let mut s = store(&dir.path().join("edge.db"), &signer, 10);
    for _ in 0..10 {
        s.emit(Event::DoorOpened).unwrap();
    }
    s.emit(Event::ForcedOpen).unwrap();
    // The oldest row (1% of the cap, at least one) went, a `dropped` event took seq 11
    // and the new event seq 12.
    assert_eq!(seqs(&s), (2..=12).collect::<Vec<_>>());
    let frames = s.pending_after(10, 1).unwrap();
    let dropped: Envelope = open(&frames[0].frame, &signer.key.public()).unwrap();
    assert_eq!(
        dropped.event,
        Event::Dropped {
            count: 1,
            first_seq: 1,
            last_seq: 1
        }
    );
    assert!(s.pending_count() <= 11);
}

#[test]
fn confirmations_and_parking_remove_rows() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = store(&dir.path().join("edge.db"), &signer(), 100);
    for _ in 0..6 {
        s.emit(Event::DoorOpened).unwrap();
    }
    assert_eq!(s.confirm_upto(3).unwrap(), 3);
    assert_eq!(s.confirm(&[5]).unwrap(), 1);
    s.park(6, "refused").unwrap();
    assert_eq!(seqs(&s), vec![4]);
    assert_eq!(s.pending_count(), 1);
    assert_eq!(s.parked_count().unwrap(), 1);
    assert_eq!(s.last_seq().unwrap(), 6);
    assert_eq!(s.oldest_pending().unwrap(), Some(4));
}

#[test]
fn commands_are_remembered_until_they_expire() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = store(&dir.path().join("edge.db"), &signer(), 100);
    let id = uuid::Uuid::now_v7();
    let (fresh, _) = s.write(|w| w.remember_command(id, 100, 50)).unwrap();
    assert!(fresh);
    let (again, _) = s.write(|w| w.remember_command(id, 100, 60)).unwrap();
    assert!(!again, "a replay must be recognised");
}

#[test]
fn leftovers_past_their_period_go_and_the_cloud_is_told() {
    let dir = tempfile::tempdir().unwrap();
    let signer = signer();
    let now = time::OffsetDateTime::now_utc();
    let mut s = store_at(&dir.path().join("edge.db"), &signer, now);
    s.emit(Event::DoorOpened).unwrap();
    s.emit(Event::DoorOpened).unwrap();
    // An earlier full outbox's report: it stays, it accounts for seqs before it.
    s.emit(Event::Dropped {
        count: 7,
        first_seq: 100,
        last_seq: 106,
    })
    .unwrap();
    s.emit(Event::ForcedOpen).unwrap();
    s.park(4, "refused").unwrap();
    let day = std::time::Duration::from_secs(24 * 3600);
    let (year, month) = (Some(365 * day), Some(30 * day));

    // Nothing is past its period yet, nor kept for ever.
    assert_eq!(
        s.enforce_retention(now, year, month).unwrap(),
        Retained::default()
    );
    let later = now + 366 * day;
    assert_eq!(
        s.enforce_retention(later, None, None).unwrap(),
        Retained::default()
    );
    assert_eq!((seqs(&s), s.parked_count().unwrap()), (vec![1, 2, 3], 1));

    // A year and a day later, both go; the cloud is told which seqs were dropped.
    assert_eq!(
        s.enforce_retention(later, year, month).unwrap(),
        Retained {
            unsynced_dropped: 2,
            parked_removed: 1
        }
    );
    assert_eq!(seqs(&s), vec![3, 5]);
    assert_eq!(s.parked_count().unwrap(), 0);
    let frames = s.pending_after(4, 1).unwrap();
    let told: Envelope = open(&frames[0].frame, &signer.key.public()).unwrap();
    assert_eq!(
        told.event,
        Event::Dropped {
            count: 2,
            first_seq: 1,
            last_seq: 2
        }
    );
}

#[test]
fn a_store_written_before_parked_rows_were_dated_is_upgraded() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("edge.db");
    {
        let old = rusqlite::Connection::open(&path).unwrap();
        old.execute_batch(
            "CREATE TABLE parked (seq INTEGER PRIMARY KEY, frame BLOB NOT NULL, error TEXT NOT NULL);
             INSERT INTO parked (seq, frame, error) VALUES (7, x'00', 'refused');",
        )
        .unwrap();
    }
    let now = time::OffsetDateTime::now_utc();
    let mut s = store_at(&path, &signer(), now);
    assert_eq!(s.parked_count().unwrap(), 1);
    let month = Some(std::time::Duration::from_secs(30 * 24 * 3600));
    // Dated from the upgrade: kept for its period from then, then removed.
    assert_eq!(
        s.enforce_retention(now, None, month)
            .unwrap()
            .parked_removed,
        0
    );
    let later = now + time::Duration::days(31);
    assert_eq!(
        s.enforce_retention(later, None, month)
            .unwrap()
            .parked_removed,
        1
    );
}

#[test]
fn events_written_before_the_clock_was_set_are_not_expired_by_the_jump() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("edge.db");
    let now = time::OffsetDateTime::now_utc();
    let mut s = store_at(&path, &signer(), now);
    s.emit(Event::DoorOpened).unwrap();
    s.emit(Event::DoorOpened).unwrap();
    // A Pi that booted in 1970 wrote them: their UUIDv7 ids carry 1970 times.
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        for (seq, secs) in [(1, 5), (2, 6)] {
            let ts = uuid::Timestamp::from_unix(uuid::NoContext, secs, 0);
            conn.execute(
                "UPDATE outbox SET id = ?1 WHERE seq = ?2",
                rusqlite::params![uuid::Uuid::new_v7(ts).to_string(), seq],
            )
            .unwrap();
        }
    }
    let year = Some(std::time::Duration::from_secs(365 * 24 * 3600));
    // The clock jumps from 1970 to now: fifty-six years is no age for an event the cloud
    // has not confirmed yet.
    assert_eq!(
        s.enforce_retention(now, year, None).unwrap(),
        Retained::default()
    );
    assert_eq!(seqs(&s), vec![1, 2]);
}
