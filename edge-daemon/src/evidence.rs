//! Evidence of denials, kept on the device until the cloud has it.
//!
//! A denial is recorded at the moment of the decision, with the id of its snapshot — a
//! UUIDv7 the device chooses — in the event; the JPEG waits here, in `evidence/` under the
//! data directory, one file per snapshot sealed with XChaCha20-Poly1305 (the id as
//! associated data, a random key in `evidence.key`, 0600), like the gallery. The queue is
//! bounded: past `max_queued` the oldest snapshot is dropped and counted
//! ([`Metrics::evidence_dropped`]). [`run_uploader`] sends the oldest first whenever the
//! cloud answers (`?evidence=ID`, backing off while it does not, and again at once when the
//! link comes back) and deletes a snapshot only after a 2xx.

use std::{
    fs,
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
    time::Duration,
};

use chacha20poly1305::{
    aead::{Aead, KeyInit, Payload},
    XChaCha20Poly1305, XNonce,
};
use rand::RngCore;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};
use uuid::Uuid;

use crate::{
    backoff::Backoff,
    gallery::{write_private, LinkStatus},
    metrics::Metrics,
    snapshot::{Purpose, SnapshotClient, SnapshotError},
};

/// The queue's folder in the data directory.
pub const DIR: &str = "evidence";
/// The sealing key, next to the folder.
pub const KEY_FILE: &str = "evidence.key";
const MAGIC: &[u8; 8] = b"GBEVID01";
const NONCE_LEN: usize = 24;
const EXTENSION: &str = "snap";
/// Longest one upload may take.
const UPLOAD_TIMEOUT: Duration = Duration::from_secs(20);

#[derive(Debug, thiserror::Error)]
pub enum EvidenceError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the evidence key {0} is not 32 bytes")]
    Key(PathBuf),
    #[error("snapshot {0} does not open: damaged, or sealed under another key")]
    Unreadable(Uuid),
    #[error("sealing a snapshot failed")]
    Seal,
}

fn io_at(path: &Path) -> impl FnOnce(std::io::Error) -> EvidenceError + '_ {
    move |source| EvidenceError::Io {
        path: path.to_owned(),
        source,
    }
}

/// The sealed snapshots waiting for the cloud. Cheap to clone; every clone is the same queue.
#[derive(Clone)]
pub struct EvidenceQueue {
    dir: PathBuf,
    cipher: XChaCha20Poly1305,
    max_queued: usize,
    metrics: Arc<Metrics>,
    /// Wakes the uploader when a snapshot is queued.
    queued: Arc<Notify>,
    /// Pushes and their trimming one at a time.
    writing: Arc<Mutex<()>>,
}

impl std::fmt::Debug for EvidenceQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EvidenceQueue")
            .field("dir", &self.dir)
            .field("max_queued", &self.max_queued)
            .finish_non_exhaustive()
    }
}

impl EvidenceQueue {
    /// Opens the queue of `data_dir`, making its folder and key (0600) on first use, and
    /// clears what a crash left half-written.
    pub fn open(
        data_dir: &Path,
        max_queued: usize,
        metrics: Arc<Metrics>,
    ) -> Result<Self, EvidenceError> {
        let dir = data_dir.join(DIR);
        fs::create_dir_all(&dir).map_err(io_at(&dir))?;
        let key_path = data_dir.join(KEY_FILE);
        let key = match fs::read(&key_path) {
            Ok(key) => key,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut key = vec![0u8; 32];
                rand::rngs::OsRng.fill_bytes(&mut key);
                write_private(&key_path, &key).map_err(io_at(&key_path))?;
                key
            }
            Err(source) => {
                return Err(EvidenceError::Io {
                    path: key_path,
                    source,
                })
            }
        };
        let cipher =
            XChaCha20Poly1305::new_from_slice(&key).map_err(|_| EvidenceError::Key(key_path))?;
        for entry in fs::read_dir(&dir).map_err(io_at(&dir))?.flatten() {
            if entry.path().extension().is_some_and(|e| e == "tmp") {
                let _ = fs::remove_file(entry.path());
            }
        }
        Ok(Self {
            dir,
            cipher,
            max_queued: max_queued.max(1),
            metrics,
            queued: Arc::new(Notify::new()),
            writing: Arc::new(Mutex::new(())),
        })
    }

    fn path(&self, id: Uuid) -> PathBuf {
        self.dir.join(format!("{id}.{EXTENSION}"))
    }

    /// Seals and keeps `jpeg` as snapshot `id` (atomically: a crash leaves it whole or
    /// absent), then drops the oldest beyond the bound. Blocking file work.
    pub fn push(&self, id: Uuid, jpeg: &[u8]) -> Result<(), EvidenceError> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let sealed = self
            .cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: jpeg,
                    aad: &id.as_bytes()[..],
                },
            )
            .map_err(|_| EvidenceError::Seal)?;
        let mut bytes = Vec::with_capacity(MAGIC.len() + NONCE_LEN + sealed.len());
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&nonce);
        bytes.extend_from_slice(&sealed);
        let _writing = self.writing.lock().unwrap_or_else(|p| p.into_inner());
        let path = self.path(id);
        let tmp = path.with_extension("tmp");
        write_private(&tmp, &bytes).map_err(io_at(&tmp))?;
        fs::rename(&tmp, &path).map_err(io_at(&path))?;
        self.metrics.evidence_queued();
        let queued = self.ids()?;
        let excess = queued.len().saturating_sub(self.max_queued);
        for oldest in &queued[..excess] {
            self.remove(*oldest)?;
            let dropped = self.metrics.evidence_dropped();
            warn!(snapshot = %oldest, dropped, max_queued = self.max_queued,
                "The evidence queue is full; its oldest snapshot was dropped.");
        }
        self.queued.notify_one();
        Ok(())
    }

    /// The queued snapshot ids, oldest first (UUIDv7s sort by their time).
    pub fn ids(&self) -> Result<Vec<Uuid>, EvidenceError> {
        let mut ids: Vec<Uuid> = fs::read_dir(&self.dir)
            .map_err(io_at(&self.dir))?
            .flatten()
            .filter_map(|entry| {
                let path = entry.path();
                (path.extension()? == EXTENSION)
                    .then(|| Uuid::parse_str(path.file_stem()?.to_str()?).ok())
                    .flatten()
            })
            .collect();
        ids.sort();
        Ok(ids)
    }

    /// The JPEG of snapshot `id`.
    pub fn read(&self, id: Uuid) -> Result<Vec<u8>, EvidenceError> {
        let path = self.path(id);
        let bytes = fs::read(&path).map_err(io_at(&path))?;
        let header = MAGIC.len() + NONCE_LEN;
        if bytes.len() < header || &bytes[..MAGIC.len()] != MAGIC {
            return Err(EvidenceError::Unreadable(id));
        }
        self.cipher
            .decrypt(
                XNonce::from_slice(&bytes[MAGIC.len()..header]),
                Payload {
                    msg: &bytes[header..],
                    aad: &id.as_bytes()[..],
                },
            )
            .map_err(|_| EvidenceError::Unreadable(id))
    }

    /// Forgets snapshot `id` (gone already is fine).
    pub fn remove(&self, id: Uuid) -> Result<(), EvidenceError> {
        let path = self.path(id);
        match fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(source) => Err(EvidenceError::Io { path, source }),
        }
    }

    /// Resolves when a snapshot has been queued since the last call.
    pub async fn pushed(&self) {
        self.queued.notified().await;
    }
}

/// What the cloud's answer means for a queued snapshot.
fn permanently_refused(error: &SnapshotError) -> bool {
    // Not a JPEG, too large, another device's id: sending it again cannot help. A 401, 408,
    // 429 or 5xx may pass later.
    matches!(
        error,
        SnapshotError::TooLarge(_) | SnapshotError::Status(400 | 409 | 413 | 415 | 422)
    )
}

/// Sends queued snapshots to the cloud, oldest first, until `shutdown`; a snapshot leaves
/// the queue only on a 2xx (or when the cloud refuses it for good, or it no longer opens:
/// both counted as dropped). While the cloud does not answer it backs off (1 s doubling to
/// 60 s) and tries again at once when `link` reconnects.
pub async fn run_uploader(
    queue: EvidenceQueue,
    client: SnapshotClient,
    mut link: Option<LinkStatus>,
    shutdown: CancellationToken,
) {
    let mut backoff = Backoff::default();
    let mut failing = false;
    loop {
        let oldest = match queue.ids() {
            Ok(ids) => ids.first().copied(),
            Err(error) => {
                warn!(%error, "The evidence queue cannot be read.");
                None
            }
        };
        let Some(id) = oldest else {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = queue.pushed() => {}
            }
            continue;
        };
        let reading = queue.clone();
        let jpeg = match tokio::task::spawn_blocking(move || reading.read(id)).await {
            Ok(Ok(jpeg)) => jpeg,
            // Trimmed by a push meanwhile (and counted there).
            Ok(Err(EvidenceError::Io { source, .. }))
                if source.kind() == std::io::ErrorKind::NotFound =>
            {
                continue
            }
            Ok(Err(error)) => {
                let dropped = queue.metrics.evidence_dropped();
                warn!(%error, dropped, "A queued snapshot does not open; dropped.");
                let _ = queue.remove(id);
                continue;
            }
            Err(_) => return,
        };
        match client
            .upload(jpeg, Purpose::Evidence(id), UPLOAD_TIMEOUT)
            .await
        {
            Ok(_) => {
                if let Err(error) = queue.remove(id) {
                    warn!(%error, "An uploaded snapshot could not be removed from the queue.");
                }
                queue.metrics.evidence_uploaded();
                if failing {
                    info!(snapshot = %id, "The cloud takes evidence snapshots again.");
                }
                debug!(snapshot = %id, "Evidence snapshot uploaded.");
                failing = false;
                backoff.reset();
            }
            Err(error) if permanently_refused(&error) => {
                let dropped = queue.metrics.evidence_dropped();
                warn!(%error, snapshot = %id, dropped, "The cloud refused an evidence snapshot; dropped.");
                let _ = queue.remove(id);
            }
            Err(error) => {
                if !failing {
                    warn!(%error, "Evidence snapshots wait on the device until the cloud answers.");
                    failing = true;
                }
                let delay = backoff.next_delay();
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    jumped = crate::backoff::wait(delay) => if jumped { backoff.reset() },
                    _ = reconnected(&mut link) => backoff.reset(),
                }
            }
        }
    }
}

/// Resolves on the link's next connection; never without a link.
async fn reconnected(link: &mut Option<LinkStatus>) {
    let Some(status) = link else {
        return std::future::pending().await;
    };
    loop {
        if status.changed().await.is_err() {
            return std::future::pending().await;
        }
        if status.borrow_and_update().mqtt_connected {
            return;
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn queue(dir: &Path, max: usize) -> (EvidenceQueue, Arc<Metrics>) {
        let metrics = Arc::new(Metrics::default());
        (
            EvidenceQueue::open(dir, max, metrics.clone()).unwrap(),
            metrics,
        )
    }

    #[test]
    fn sealed_at_rest_private_and_readable_after_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let (q, _) = queue(dir.path(), 10);
        let id = Uuid::now_v7();
        let jpeg = b"\xFF\xD8\xFF\xE0 a face that must not lie in the clear".to_vec();
        q.push(id, &jpeg).unwrap();
        let on_disk = fs::read(q.path(id)).unwrap();
        assert!(
            !on_disk
                .windows(16)
                .any(|w| jpeg.windows(16).any(|j| j == w)),
            "the JPEG is not on disk in the clear"
        );
        #[cfg(unix)]
        for file in [q.path(id), dir.path().join(KEY_FILE)] {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{}", file.display());
        }
        let (again, _) = queue(dir.path(), 10);
        assert_eq!(again.ids().unwrap(), vec![id]);
        assert_eq!(again.read(id).unwrap(), jpeg);
    }

    #[test]
    fn a_tampered_moved_or_foreign_snapshot_does_not_open() {
        let dir = tempfile::tempdir().unwrap();
        let (q, _) = queue(dir.path(), 10);
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        q.push(a, b"\xFF\xD8\xFFone").unwrap();
        // Renamed to another id: the id is authenticated.
        fs::copy(q.path(a), q.path(b)).unwrap();
        assert!(matches!(q.read(b), Err(EvidenceError::Unreadable(_))));
        let mut bytes = fs::read(q.path(a)).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        fs::write(q.path(a), &bytes).unwrap();
        assert!(matches!(q.read(a), Err(EvidenceError::Unreadable(_))));
        let other = tempfile::tempdir().unwrap();
        let (foreign, _) = queue(other.path(), 10);
        fs::copy(q.path(b), foreign.path(b)).unwrap();
        assert!(foreign.read(b).is_err());
    }

    #[test]
    fn past_the_bound_the_oldest_go_and_are_counted() {
        let dir = tempfile::tempdir().unwrap();
        let (q, metrics) = queue(dir.path(), 3);
        let ids: Vec<Uuid> = (0..5)
            .map(|i| {
                let id = Uuid::now_v7();
                q.push(id, format!("\u{FF}jpeg {i}").as_bytes()).unwrap();
                id
            })
            .collect();
        assert_eq!(q.ids().unwrap(), ids[2..].to_vec(), "the newest three stay");
        assert_eq!(metrics.evidence_dropped_total(), 2);
        assert!(metrics
            .render()
            .contains("\ngerbang_edge_evidence_dropped_total 2\n"));
    }
}
