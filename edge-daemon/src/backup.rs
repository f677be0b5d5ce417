//! `edge-daemon backup --to DIR` and `edge-daemon restore --from DIR`: a door's data
//! outliving its SD card, unsynced events included.
//!
//! A backup is a directory (0700: it holds the device's private key): `manifest.json`
//! (when, which device, the store's layout version, the outbox's seqs), `edge.db` — a
//! consistent copy of the store made by SQLite's `VACUUM INTO`, safe while the daemon
//! writes — and `files/`, every other file of the data directory: the credentials and
//! device key, the sealed gallery and its key, the queued evidence snapshots and their
//! key, the kiosk token. Permissions are kept.
//!
//! A restore goes only into an empty (or absent) data directory, and only from a backup
//! whose store layout this binary knows; either refusal says why before anything is
//! written. The copied store must pass `PRAGMA integrity_check`. Restore the newest backup:
//! events the door wrote after it are not in it, and a restored door numbers its next
//! events from the backup's last seq.

use std::{
    fs,
    path::{Path, PathBuf},
};

use rusqlite::{Connection, OpenFlags};
use serde::{Deserialize, Serialize};

use crate::{store::SCHEMA_VERSION, FIRMWARE};

/// The layout this code writes and reads.
pub const FORMAT: u32 = 1;
const MANIFEST: &str = "manifest.json";
const STORE_FILE: &str = "edge.db";
const FILES: &str = "files";

/// What a backup says of itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    /// RFC 3339.
    pub created_at: String,
    /// The edge-daemon that wrote it.
    pub firmware: String,
    /// The device, from its credentials (`None` for a door not enrolled yet).
    pub device: Option<String>,
    /// The store's layout ([`SCHEMA_VERSION`] of the daemon that wrote it).
    pub schema: i64,
    /// The newest seq the door had written.
    pub last_seq: u64,
    /// Events not yet confirmed by the cloud.
    pub unsynced: u64,
    /// Files copied from the data directory besides the store.
    pub files: u64,
}

/// Why a backup or restore did not happen; every message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("the backup directory {0} exists and is not empty; choose a new one")]
    TargetNotEmpty(PathBuf),
    #[error("there is no store at {0}: is the data directory right?")]
    NoStore(PathBuf),
    #[error("{0} is not an edge-daemon backup (no readable manifest.json): {1}")]
    NotABackup(PathBuf, String),
    #[error("this backup has format {0}; this edge-daemon reads format {FORMAT}: use the edge-daemon that made it")]
    UnknownFormat(u32),
    #[error(
        "this backup was made by a newer edge-daemon ({firmware}): its store has layout \
         {found} and this one knows up to {SCHEMA_VERSION}. Install that version or newer and \
         restore with it"
    )]
    NewerSchema { firmware: String, found: i64 },
    #[error(
        "the data directory {0} is not empty; restore only into a new or empty one (move the \
         old one aside first)"
    )]
    DataDirNotEmpty(PathBuf),
    #[error("the store in the backup is damaged ({0}); use another backup")]
    Damaged(String),
    #[error("store: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
}

fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> BackupError {
    let context = context.into();
    move |source| BackupError::Io { context, source }
}

fn is_empty_dir(dir: &Path) -> Result<bool, BackupError> {
    match fs::read_dir(dir) {
        Ok(mut entries) => Ok(entries.next().is_none()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(true),
        Err(source) => Err(BackupError::Io {
            context: format!("reading {}", dir.display()),
            source,
        }),
    }
}

/// A directory only its owner may enter (it will hold the device key).
fn make_private_dir(dir: &Path) -> Result<(), BackupError> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(dir)
        .map_err(io(format!("creating {}", dir.display())))
}

/// The store's files: the database, its WAL and shared memory, a rollback journal.
fn is_store_file(name: &str) -> bool {
    ["", "-wal", "-shm", "-journal"]
        .iter()
        .any(|suffix| name == format!("{STORE_FILE}{suffix}"))
}

/// Copies the files under `from` into `to` (directories made 0700), except those `skip`
/// names by file name and half-written `*.tmp`; returns how many were copied.
fn copy_files(from: &Path, to: &Path, skip: &dyn Fn(&str) -> bool) -> Result<u64, BackupError> {
    make_private_dir(to)?;
    let mut copied = 0;
    for entry in fs::read_dir(from).map_err(io(format!("reading {}", from.display())))? {
        let entry = entry.map_err(io(format!("reading {}", from.display())))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let kind = entry
            .file_type()
            .map_err(io(format!("reading {}", entry.path().display())))?;
        if kind.is_dir() {
            copied += copy_files(&entry.path(), &to.join(&name), &|_| false)?;
        } else if kind.is_file() && !skip(&name) && !name.ends_with(".tmp") {
            // `fs::copy` keeps the permission bits: the keys stay 0600.
            fs::copy(entry.path(), to.join(&name))
                .map_err(io(format!("copying {}", entry.path().display())))?;
            copied += 1;
        }
    }
    Ok(copied)
}

/// `(last_seq, unsynced)` of the store at `path`.
fn outbox_of(conn: &Connection) -> Result<(u64, u64), BackupError> {
    let next: i64 = conn.query_row("SELECT value FROM meta WHERE key = 'next_seq'", [], |r| {
        r.get(0)
    })?;
    let unsynced: i64 = conn.query_row("SELECT COUNT(*) FROM outbox", [], |r| r.get(0))?;
    Ok(((next - 1).max(0) as u64, unsynced.max(0) as u64))
}

fn device_of(data_dir: &Path) -> Option<String> {
    crate::identity::Identity::load(data_dir)
        .ok()
        .map(|identity| identity.credentials.device.to_string())
}

/// Writes a backup of the door whose data is in `data_dir` into `to` (created; must be
/// new or empty). The daemon may keep running.
pub fn backup(data_dir: &Path, to: &Path) -> Result<Manifest, BackupError> {
    let store = data_dir.join(STORE_FILE);
    if !store.is_file() {
        return Err(BackupError::NoStore(store));
    }
    if !is_empty_dir(to)? {
        return Err(BackupError::TargetNotEmpty(to.to_owned()));
    }
    make_private_dir(to)?;
    let copy = to.join(STORE_FILE);
    {
        let live = Connection::open_with_flags(&store, OpenFlags::SQLITE_OPEN_READ_WRITE)?;
        live.busy_timeout(std::time::Duration::from_secs(30))?;
        // One read transaction: the copy is the store as of one commit.
        live.execute("VACUUM INTO ?1", [copy.to_string_lossy().into_owned()])?;
    }
    let copied = Connection::open_with_flags(&copy, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let schema: i64 = copied.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let (last_seq, unsynced) = outbox_of(&copied)?;
    drop(copied);
    let files = copy_files(data_dir, &to.join(FILES), &is_store_file)?;
    let manifest = Manifest {
        format: FORMAT,
        created_at: time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        firmware: FIRMWARE.into(),
        device: device_of(data_dir),
        schema,
        last_seq,
        unsynced,
        files,
    };
    let json = serde_json::to_vec_pretty(&manifest).map_err(|e| BackupError::Io {
        context: "writing the manifest".into(),
        source: e.into(),
    })?;
    fs::write(to.join(MANIFEST), json).map_err(io("writing the manifest"))?;
    Ok(manifest)
}

/// Reads and checks the manifest of the backup in `from`.
pub fn read_manifest(from: &Path) -> Result<Manifest, BackupError> {
    let text = fs::read(from.join(MANIFEST))
        .map_err(|e| BackupError::NotABackup(from.to_owned(), e.to_string()))?;
    let manifest: Manifest = serde_json::from_slice(&text)
        .map_err(|e| BackupError::NotABackup(from.to_owned(), e.to_string()))?;
    if manifest.format != FORMAT {
        return Err(BackupError::UnknownFormat(manifest.format));
    }
    if manifest.schema > SCHEMA_VERSION {
        return Err(BackupError::NewerSchema {
            firmware: manifest.firmware.clone(),
            found: manifest.schema,
        });
    }
    Ok(manifest)
}

/// Restores the backup in `from` into `data_dir`, which must be empty or absent. Refuses,
/// writing nothing, a backup from a newer edge-daemon and a damaged store.
pub fn restore(data_dir: &Path, from: &Path) -> Result<Manifest, BackupError> {
    let manifest = read_manifest(from)?;
    if !is_empty_dir(data_dir)? {
        return Err(BackupError::DataDirNotEmpty(data_dir.to_owned()));
    }
    let copy = from.join(STORE_FILE);
    {
        let conn = Connection::open_with_flags(&copy, OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(|e| BackupError::Damaged(e.to_string()))?;
        let verdict: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .map_err(|e| BackupError::Damaged(e.to_string()))?;
        if verdict != "ok" {
            return Err(BackupError::Damaged(verdict));
        }
        let schema: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if schema > SCHEMA_VERSION {
            return Err(BackupError::NewerSchema {
                firmware: manifest.firmware.clone(),
                found: schema,
            });
        }
    }
    make_private_dir(data_dir)?;
    copy_files(&from.join(FILES), data_dir, &|_| false)?;
    let store = data_dir.join(STORE_FILE);
    let tmp = data_dir.join(format!("{STORE_FILE}.tmp"));
    fs::copy(&copy, &tmp).map_err(io(format!("writing {}", tmp.display())))?;
    fs::File::open(&tmp)
        .and_then(|f| f.sync_all())
        .map_err(io(format!("syncing {}", tmp.display())))?;
    fs::rename(&tmp, &store).map_err(io(format!("writing {}", store.display())))?;
    Ok(manifest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_store_files_are_recognised_and_nothing_else() {
        for name in ["edge.db", "edge.db-wal", "edge.db-shm", "edge.db-journal"] {
            assert!(is_store_file(name), "{name}");
        }
        for name in ["edge.db.bak", "credentials.json", "xedge.db"] {
            assert!(!is_store_file(name), "{name}");
        }
    }
}
