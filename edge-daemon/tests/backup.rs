//! `edge-daemon backup` and `restore` on real files: the unsynced outbox rows, the keys and
//! the queued evidence come back byte for byte into a fresh data directory; a restore into
//! a directory in use, or from a newer edge-daemon, is refused with its reason and writes
//! nothing. (The restored door syncing with `missing_seqs = 0` is in
//! `gerbang/tests/edge_backup.rs`.)

#![allow(clippy::unwrap_used)]

use std::{path::Path, sync::Arc};

use edge_daemon::{
    backup::{self, BackupError},
    evidence::EvidenceQueue,
    metrics::Metrics,
    store::{Boot, Durability, Signer, Store, StoreError, StoreOptions, SCHEMA_VERSION},
};
use protocol::{DeviceId, Event, Keypair};

fn open_store(dir: &Path, signer: &Signer) -> Result<Store, StoreError> {
    Store::open(
        &dir.join("edge.db"),
        signer.clone(),
        Boot::now(),
        Arc::new(hal::SystemClock {
            assume_synced: true,
        }),
        StoreOptions {
            max_unsynced: 10_000,
            durability: Durability::Normal,
        },
    )
}

fn signer() -> Signer {
    Signer {
        device: DeviceId::parse("door-1").unwrap(),
        key: Keypair::generate(),
    }
}

fn frames(store: &Store) -> Vec<(u64, Vec<u8>)> {
    store
        .pending_after(0, 10_000)
        .unwrap()
        .into_iter()
        .map(|f| (f.seq, f.frame))
        .collect()
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn unsynced_events_keys_and_evidence_survive_a_backup_and_restore() {
    let old = tempfile::tempdir().unwrap();
    let signer = signer();
    let mut store = open_store(old.path(), &signer).unwrap();
    for _ in 0..30 {
        store.emit(Event::DoorOpened).unwrap();
    }
    store.confirm_upto(10).unwrap();
    let before = frames(&store);
    assert_eq!(before.len(), 20);
    let key_file = old.path().join("device.key");
    std::fs::write(&key_file, b"secret key bytes").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let queue = EvidenceQueue::open(old.path(), 10, Arc::new(Metrics::default())).unwrap();
    let snapshot = uuid::Uuid::now_v7();
    queue.push(snapshot, b"\xFF\xD8\xFF a denial").unwrap();

    // Taken while the store is open and written to, as on a running door.
    let backups = tempfile::tempdir().unwrap();
    let to = backups.path().join("door-1");
    let manifest = backup::backup(old.path(), &to).unwrap();
    assert_eq!((manifest.last_seq, manifest.unsynced), (30, 20));
    assert_eq!(manifest.schema, SCHEMA_VERSION);
    assert!(manifest.files >= 3, "{manifest:?}");
    #[cfg(unix)]
    assert_eq!(mode(&to), 0o700, "the backup holds the device key");
    store.emit(Event::DoorOpened).unwrap();
    let again = backup::backup(old.path(), &to).unwrap_err();
    assert!(matches!(again, BackupError::TargetNotEmpty(_)), "{again}");

    // A new card.
    let new = tempfile::tempdir().unwrap();
    let data = new.path().join("data");
    let restored = backup::restore(&data, &to).unwrap();
    assert_eq!(restored, manifest);
    let store = open_store(&data, &signer).unwrap();
    assert_eq!(frames(&store), before, "every unsynced row, byte for byte");
    assert_eq!(store.last_seq().unwrap(), 30);
    assert_eq!(
        std::fs::read(data.join("device.key")).unwrap(),
        b"secret key bytes"
    );
    #[cfg(unix)]
    assert_eq!(mode(&data.join("device.key")), 0o600);
    let queue = EvidenceQueue::open(&data, 10, Arc::new(Metrics::default())).unwrap();
    assert_eq!(queue.ids().unwrap(), vec![snapshot]);
    assert_eq!(queue.read(snapshot).unwrap(), b"\xFF\xD8\xFF a denial");

    // Over a directory in use: refused, nothing changed.
    let refused = backup::restore(&data, &to).unwrap_err();
    assert!(
        matches!(refused, BackupError::DataDirNotEmpty(_)),
        "{refused}"
    );
    assert!(refused.to_string().contains("not empty"), "{refused}");
    assert_eq!(open_store(&data, &signer).unwrap().last_seq().unwrap(), 30);
}

#[test]
fn a_backup_from_a_newer_edge_daemon_is_refused_and_writes_nothing() {
    let old = tempfile::tempdir().unwrap();
    let signer = signer();
    open_store(old.path(), &signer)
        .unwrap()
        .emit(Event::DoorOpened)
        .unwrap();
    let backups = tempfile::tempdir().unwrap();
    let to = backups.path().join("b");
    backup::backup(old.path(), &to).unwrap();
    // What a newer edge-daemon would have written: its store layout, in the store and the
    // manifest.
    let newer = SCHEMA_VERSION + 1;
    rusqlite::Connection::open(to.join("edge.db"))
        .unwrap()
        .pragma_update(None, "user_version", newer)
        .unwrap();
    let path = to.join("manifest.json");
    let mut manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    manifest["schema"] = newer.into();
    std::fs::write(&path, manifest.to_string()).unwrap();

    let fresh = tempfile::tempdir().unwrap();
    let data = fresh.path().join("data");
    let refused = backup::restore(&data, &to).unwrap_err();
    assert!(
        matches!(refused, BackupError::NewerSchema { found, .. } if found == newer),
        "{refused}"
    );
    let message = refused.to_string();
    assert!(message.contains("newer edge-daemon"), "{message}");
    assert!(!data.exists(), "nothing written");
    // Nor does this daemon open such a store in place.
    let opened = open_store(&to, &signer).unwrap_err();
    assert!(
        matches!(opened, StoreError::NewerSchema { found } if found == newer),
        "{opened}"
    );
    // Not a backup at all.
    let empty = tempfile::tempdir().unwrap();
    let refused = backup::restore(&data, empty.path()).unwrap_err();
    assert!(matches!(refused, BackupError::NotABackup(..)), "{refused}");
}
