//! The local face gallery: the cloud's [`GallerySnapshot`] checked against the loaded
//! model, turned into a searchable [`models::Gallery`] with each person's access rules,
//! kept encrypted at rest so the door decides with no network, and pulled by version.
//!
//! A door must not admit someone erased while it was offline: every successful pull (a new
//! gallery or the cloud's "not modified") *confirms* the gallery ([`Freshness`], kept on disk
//! in `gallery.checked`). A connected door confirms every `gallery_check_secs`; after a
//! reconnection it confirms before its next decision; a gallery unconfirmed for longer than
//! `gallery_max_age_secs` is stale, and the decider then denies faces (`gallery_stale`).
//!
//! At rest the snapshot is sealed with XChaCha20-Poly1305 under a random key kept in
//! `gallery.key` (mode 0600) beside it in the data directory: face templates are biometric
//! data. Copying the gallery file alone reveals nothing; a tampered file is refused. Every
//! save seals under a fresh key (the cloud's key rotation moves the gallery on, so every
//! door re-seals): the new key is written to `gallery.key.new` before the gallery, so a
//! crash between the two renames leaves a gallery that one of the two keys opens.

use std::{
    fs,
    io::Write,
    path::{Path, PathBuf},
    sync::{
        atomic::{AtomicI64, AtomicU64, Ordering},
        Arc, RwLock,
    },
    time::{Duration, SystemTime},
};

use base64::Engine as _;
use chacha20poly1305::{
    aead::{Aead, KeyInit, Payload},
    XChaCha20Poly1305, XNonce,
};
use protocol::sync::{GallerySnapshot, GALLERY_PATH};
use rand::RngCore;

use crate::{
    identity::Secret,
    policy::{PolicyError, Rules, SiteTime},
};

const KEY_FILE: &str = "gallery.key";
const NEW_KEY_FILE: &str = "gallery.key.new";
const GALLERY_FILE: &str = "gallery.enc";
/// When the gallery was last confirmed with the cloud: Unix seconds, as text.
const CHECKED_FILE: &str = "gallery.checked";
const MAGIC: &[u8; 8] = b"GBGLENC1";
const NONCE_LEN: usize = 24;

/// Why a gallery could not be loaded, stored or fetched.
#[derive(Debug, thiserror::Error)]
pub enum GalleryError {
    #[error("gallery made with embedder {theirs}, this device runs {ours}; refused")]
    WrongEmbedder { ours: String, theirs: String },
    #[error("gallery templates have {theirs} dimensions, the model makes {ours}")]
    WrongDimension { ours: usize, theirs: u32 },
    #[error("person {person}: template {index} is not {dim} little-endian f32 in base64")]
    BadTemplate {
        person: String,
        index: usize,
        dim: u32,
    },
    #[error("person {person}: {source}")]
    Rules { person: String, source: PolicyError },
    #[error("site rules: {0}")]
    Site(#[from] PolicyError),
    #[error("gallery version {offered} is older than the one held ({held}); ignored")]
    Older { held: u64, offered: u64 },
    #[error("the stored gallery cannot be decrypted (wrong key or tampered)")]
    Decrypt,
    #[error("the stored gallery is malformed: {0}")]
    Malformed(String),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("fetching the gallery: {0}")]
    Http(#[from] reqwest::Error),
    #[error("the cloud answered {0} for the gallery")]
    Status(u16),
    #[error("bad gallery URL: {0}")]
    Url(String),
}

/// One enrolled person as the door uses them.
#[derive(Debug, Clone)]
pub struct Person {
    pub id: String,
    pub name: String,
    pub rules: Rules,
}

/// A gallery ready to search, with the site's clock and each person's rules.
#[derive(Debug, Clone)]
pub struct LocalGallery {
    pub version: u64,
    pub site: SiteTime,
    people: Vec<Person>,
    faces: models::Gallery,
}

/// What the loaded model expects of a gallery.
#[derive(Debug, Clone)]
pub struct ModelInfo {
    /// `sha256` of the embedder in the models manifest.
    pub embedder_sha256: String,
    pub dim: usize,
    pub match_threshold: f32,
}

impl ModelInfo {
    pub fn of(engine: &models::FaceEngine) -> Self {
        Self {
            embedder_sha256: engine.manifest().models.embedder.sha256.clone(),
            dim: engine.embedding_dim(),
            match_threshold: engine.match_threshold(),
        }
    }
}

/// The best match of a probe: the person and the cosine.
#[derive(Debug, Clone)]
pub struct Recognised<'a> {
    pub person: &'a Person,
    pub score: f32,
}

impl LocalGallery {
    /// No one enrolled yet (before the first sync).
    pub fn empty(model: &ModelInfo) -> Self {
        Self {
            version: 0,
            site: SiteTime::fallback(),
            people: Vec::new(),
            faces: models::Gallery::new(model.dim, model.match_threshold),
        }
    }

    /// Checks `snapshot` against the model and builds the search index. Any problem refuses
    /// the whole snapshot: half a gallery would deny people who should pass.
    pub fn build(snapshot: &GallerySnapshot, model: &ModelInfo) -> Result<Self, GalleryError> {
        if !snapshot
            .embedder_sha256
            .eq_ignore_ascii_case(&model.embedder_sha256)
        {
            return Err(GalleryError::WrongEmbedder {
                ours: model.embedder_sha256.clone(),
                theirs: snapshot.embedder_sha256.clone(),
            });
        }
        if snapshot.dim as usize != model.dim {
            return Err(GalleryError::WrongDimension {
                ours: model.dim,
                theirs: snapshot.dim,
            });
        }
        let site = SiteTime::new(&snapshot.time_zone, snapshot.work_starts_at.as_deref())?;
        let mut faces = models::Gallery::new(model.dim, model.match_threshold);
        let mut people = Vec::with_capacity(snapshot.people.len());
        for (p, person) in snapshot.people.iter().enumerate() {
            let rules = Rules::from_cloud(person.enabled, &person.windows).map_err(|source| {
                GalleryError::Rules {
                    person: person.id.clone(),
                    source,
                }
            })?;
            for (t, template) in person.templates.iter().enumerate() {
                let bad = || GalleryError::BadTemplate {
                    person: person.id.clone(),
                    index: t,
                    dim: snapshot.dim,
                };
                let embedding = decode_template(template, model.dim).ok_or_else(bad)?;
                // One row a template; the row id leads back to the person by index.
                faces
                    .add(format!("{p}/{t}"), person.name.clone(), embedding)
                    .map_err(|_| bad())?;
            }
            people.push(Person {
                id: person.id.clone(),
                name: person.name.clone(),
                rules,
            });
        }
        Ok(Self {
            version: snapshot.version,
            site,
            people,
            faces,
        })
    }

    /// The enrolled person closest to `probe` at or above the match threshold.
    pub fn recognise(&self, probe: &models::Embedding) -> Option<Recognised<'_>> {
        let found = self.faces.search(probe)?;
        let index: usize = found.id.split('/').next()?.parse().ok()?;
        Some(Recognised {
            person: self.people.get(index)?,
            score: found.score,
        })
    }

    /// The cosine of the closest template whatever the threshold (for stranger events).
    pub fn best_score(&self, probe: &models::Embedding) -> Option<f32> {
        self.faces.best(probe).map(|m| m.score)
    }

    pub fn person(&self, id: &str) -> Option<&Person> {
        self.people.iter().find(|p| p.id == id)
    }

    pub fn people(&self) -> usize {
        self.people.len()
    }

    pub fn templates(&self) -> usize {
        self.faces.len()
    }
}

/// A template as the cloud sends it: base64 of the embedding's little-endian f32.
pub fn encode_template(embedding: &models::Embedding) -> String {
    let bytes: Vec<u8> = embedding
        .as_slice()
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Base64 of `dim` little-endian f32, re-normalised; `None` if it is anything else.
fn decode_template(text: &str, dim: usize) -> Option<models::Embedding> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .ok()?;
    if bytes.len() != dim * 4 {
        return None;
    }
    let values: Vec<f32> = bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    if values.iter().any(|v| !v.is_finite()) {
        return None;
    }
    models::Embedding::new(values)
}

/// The gallery shared by the camera loop (reads) and the syncer (swaps).
#[derive(Debug, Clone)]
pub struct SharedGallery(Arc<RwLock<Arc<LocalGallery>>>);

impl SharedGallery {
    pub fn new(gallery: LocalGallery) -> Self {
        Self(Arc::new(RwLock::new(Arc::new(gallery))))
    }

    /// The current gallery; a cheap clone of an `Arc`, held as long as the caller likes.
    pub fn current(&self) -> Arc<LocalGallery> {
        self.0
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    pub fn replace(&self, gallery: LocalGallery) {
        *self
            .0
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::new(gallery);
    }
}

/// The encrypted gallery file and its key in the data directory.
#[derive(Clone)]
pub struct GalleryVault {
    dir: PathBuf,
    cipher: Arc<RwLock<XChaCha20Poly1305>>,
}

fn read_key(path: &Path) -> Result<Option<XChaCha20Poly1305>, GalleryError> {
    match fs::read(path) {
        Ok(key) if key.len() == 32 => XChaCha20Poly1305::new_from_slice(&key)
            .map(Some)
            .map_err(|_| GalleryError::Malformed("key length".into())),
        Ok(_) => Err(GalleryError::Malformed(format!(
            "{} is not 32 bytes",
            path.display()
        ))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(GalleryError::Io {
            path: path.to_owned(),
            source,
        }),
    }
}

impl std::fmt::Debug for GalleryVault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GalleryVault")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl GalleryVault {
    /// Opens the vault in `dir`, making a new random key (0600) on first use.
    pub fn open(dir: &Path) -> Result<Self, GalleryError> {
        let path = dir.join(KEY_FILE);
        let cipher = match read_key(&path)? {
            Some(cipher) => cipher,
            None => {
                let (cipher, key) = Self::fresh_key();
                write_private(&path, &key).map_err(|source| GalleryError::Io {
                    path: path.clone(),
                    source,
                })?;
                cipher
            }
        };
        Ok(Self {
            dir: dir.to_owned(),
            cipher: Arc::new(RwLock::new(cipher)),
        })
    }

    fn fresh_key() -> (XChaCha20Poly1305, [u8; 32]) {
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        (
            XChaCha20Poly1305::new(chacha20poly1305::Key::from_slice(&key)),
            key,
        )
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        self.cipher
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    fn file(&self) -> PathBuf {
        self.dir.join(GALLERY_FILE)
    }

    /// Seals and writes `snapshot` under a fresh key (atomically: a crash leaves the old
    /// file or the new one, and a key that opens it).
    pub fn save(&self, snapshot: &GallerySnapshot) -> Result<(), GalleryError> {
        let plain =
            serde_json::to_vec(snapshot).map_err(|e| GalleryError::Malformed(e.to_string()))?;
        let (cipher, key) = Self::fresh_key();
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let sealed = cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: &plain,
                    aad: MAGIC,
                },
            )
            .map_err(|_| GalleryError::Malformed("encryption failed".into()))?;
        let mut bytes = Vec::with_capacity(MAGIC.len() + NONCE_LEN + sealed.len());
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&nonce);
        bytes.extend_from_slice(&sealed);
        let path = self.file();
        let tmp = path.with_extension("enc.tmp");
        let io = |source| GalleryError::Io {
            path: path.clone(),
            source,
        };
        write_private(&tmp, &bytes).map_err(io)?;
        let (key_path, new_key_path) = (self.dir.join(KEY_FILE), self.dir.join(NEW_KEY_FILE));
        let key_io = |source| GalleryError::Io {
            path: key_path.clone(),
            source,
        };
        write_private(&new_key_path, &key).map_err(key_io)?;
        fs::rename(&tmp, &path).map_err(io)?;
        fs::rename(&new_key_path, &key_path).map_err(key_io)?;
        *self
            .cipher
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = cipher;
        Ok(())
    }

    /// The stored snapshot, `None` when there is none yet.
    pub fn load(&self) -> Result<Option<GallerySnapshot>, GalleryError> {
        let path = self.file();
        let bytes = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(GalleryError::Io { path, source }),
        };
        let header = MAGIC.len() + NONCE_LEN;
        if bytes.len() < header || &bytes[..MAGIC.len()] != MAGIC {
            return Err(GalleryError::Malformed("not a sealed gallery".into()));
        }
        let open = |cipher: &XChaCha20Poly1305| {
            cipher
                .decrypt(
                    XNonce::from_slice(&bytes[MAGIC.len()..header]),
                    Payload {
                        msg: &bytes[header..],
                        aad: MAGIC,
                    },
                )
                .ok()
        };
        let plain = match open(&self.cipher()) {
            Some(plain) => plain,
            // A save that stopped between its renames: the gallery is under the new key.
            None => {
                let new_key_path = self.dir.join(NEW_KEY_FILE);
                let newer = read_key(&new_key_path).ok().flatten();
                let plain = newer.as_ref().and_then(open).ok_or(GalleryError::Decrypt)?;
                let key_path = self.dir.join(KEY_FILE);
                fs::rename(&new_key_path, &key_path).map_err(|source| GalleryError::Io {
                    path: key_path,
                    source,
                })?;
                if let Some(newer) = newer {
                    *self
                        .cipher
                        .write()
                        .unwrap_or_else(|poisoned| poisoned.into_inner()) = newer;
                }
                plain
            }
        };
        serde_json::from_slice(&plain)
            .map(Some)
            .map_err(|e| GalleryError::Malformed(e.to_string()))
    }
}

/// Writes `bytes` to `path`, readable by the owner only (0600), and syncs it.
pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Pulls the gallery from the cloud with the device token.
#[derive(Debug, Clone)]
pub struct GalleryClient {
    http: reqwest::Client,
    url: url::Url,
    token: Secret,
}

impl GalleryClient {
    /// `cloud` is any URL on the cloud (its path is replaced).
    pub fn new(
        http: reqwest::Client,
        cloud: &url::Url,
        token: Secret,
    ) -> Result<Self, GalleryError> {
        let url = cloud
            .join(GALLERY_PATH)
            .map_err(|e| GalleryError::Url(e.to_string()))?;
        Ok(Self { http, url, token })
    }

    /// The cloud's gallery if newer than `since` (`None`: not modified).
    pub async fn fetch(&self, since: u64) -> Result<Option<GallerySnapshot>, GalleryError> {
        let response = self
            .http
            .get(self.url.clone())
            .query(&[("since", since)])
            .bearer_auth(self.token.expose())
            .send()
            .await?;
        match response.status() {
            reqwest::StatusCode::NOT_MODIFIED => Ok(None),
            s if s.is_success() => Ok(Some(response.json().await?)),
            s => Err(GalleryError::Status(s.as_u16())),
        }
    }
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// How current the gallery is: when it was last confirmed with the cloud, and whether the
/// link has reconnected since (a door that was offline checks before it trusts a face).
#[derive(Debug, Clone)]
pub struct Freshness(Arc<FreshnessInner>);

#[derive(Debug)]
struct FreshnessInner {
    max_age: Option<Duration>,
    file: PathBuf,
    /// Unix seconds of the last confirmation; 0: never.
    confirmed: AtomicI64,
    /// The MQTT connection the daemon is on (bumped on each new connection).
    connection: AtomicU64,
    /// The connection the last confirmation was made on.
    confirmed_on: AtomicU64,
}

impl Freshness {
    /// Reads the last confirmation from `dir` (else the stored gallery's time, else never);
    /// `max_age` `None`: a gallery never goes stale.
    pub fn open(dir: &Path, max_age: Option<Duration>) -> Self {
        let file = dir.join(CHECKED_FILE);
        let confirmed = fs::read_to_string(&file)
            .ok()
            .and_then(|t| t.trim().parse::<i64>().ok())
            .or_else(|| {
                let modified = fs::metadata(dir.join(GALLERY_FILE)).ok()?.modified().ok()?;
                let secs = modified.duration_since(SystemTime::UNIX_EPOCH).ok()?;
                Some(secs.as_secs() as i64)
            })
            .unwrap_or(0);
        Self(Arc::new(FreshnessInner {
            max_age,
            file,
            confirmed: AtomicI64::new(confirmed),
            connection: AtomicU64::new(0),
            confirmed_on: AtomicU64::new(0),
        }))
    }

    /// The connection the daemon is on now.
    pub fn connection(&self) -> u64 {
        self.0.connection.load(Ordering::Relaxed)
    }

    pub fn set_connection(&self, connection: u64) {
        self.0.connection.store(connection, Ordering::Relaxed);
    }

    /// The cloud confirmed the gallery, asked on `connection`.
    pub fn confirm(&self, connection: u64) {
        let now = unix_now();
        self.0.confirmed.store(now, Ordering::Relaxed);
        self.0.confirmed_on.store(connection, Ordering::Relaxed);
        // Best effort: without the file a restart goes by the gallery file's time.
        if let Err(error) = write_private(&self.0.file, now.to_string().as_bytes()) {
            tracing::debug!(%error, "The gallery confirmation time was not stored.");
        }
    }

    /// Seconds since the last confirmation (`None`: never confirmed).
    pub fn age_secs(&self) -> Option<u64> {
        match self.0.confirmed.load(Ordering::Relaxed) {
            0 => None,
            at => Some((unix_now() - at).max(0) as u64),
        }
    }

    /// True when the gallery was not confirmed within the maximum age.
    pub fn is_stale(&self) -> bool {
        let Some(max_age) = self.0.max_age else {
            return false;
        };
        self.age_secs().is_none_or(|age| age > max_age.as_secs())
    }

    /// True when the link reconnected since the last confirmation.
    pub fn reconnected(&self) -> bool {
        self.connection() != self.0.confirmed_on.load(Ordering::Relaxed)
    }
}

/// Keeps the local gallery current: the stored copy, the cloud's on request.
#[derive(Debug, Clone)]
pub struct GallerySync {
    pub shared: SharedGallery,
    pub vault: GalleryVault,
    pub model: ModelInfo,
    pub client: Option<GalleryClient>,
    pub freshness: Freshness,
    /// The daemon's link, when it has one: a new connection means "check before trusting".
    pub link: Option<LinkStatus>,
}

/// How the daemon's link is doing, as the gallery syncer follows it.
pub type LinkStatus = tokio::sync::watch::Receiver<crate::sync::SyncStatus>;

impl GallerySync {
    /// Loads the stored gallery (or an empty one): the door works offline from here on.
    /// It never goes stale (see [`GallerySync::with_max_age`]).
    pub fn open(vault: GalleryVault, model: ModelInfo, client: Option<GalleryClient>) -> Self {
        let gallery = match vault.load() {
            Ok(Some(snapshot)) => match LocalGallery::build(&snapshot, &model) {
                Ok(gallery) => {
                    tracing::info!(
                        version = gallery.version,
                        people = gallery.people(),
                        "Face gallery loaded from disk."
                    );
                    gallery
                }
                Err(error) => {
                    tracing::warn!(%error, "The stored face gallery does not fit this model.");
                    LocalGallery::empty(&model)
                }
            },
            Ok(None) => LocalGallery::empty(&model),
            Err(error) => {
                tracing::warn!(%error, "The stored face gallery is unreadable.");
                LocalGallery::empty(&model)
            }
        };
        let freshness = Freshness::open(&vault.dir, None);
        Self {
            shared: SharedGallery::new(gallery),
            vault,
            model,
            client,
            freshness,
            link: None,
        }
    }

    /// This syncer following `link`'s connections.
    pub fn with_link(mut self, link: LinkStatus) -> Self {
        self.link = Some(link);
        self
    }

    /// Notes a new connection of the link, if there is one.
    fn follow_link(&self) -> bool {
        let Some(status) = self.link.as_ref().map(|l| l.borrow().clone()) else {
            return false;
        };
        if status.mqtt_connected && status.connection != self.freshness.connection() {
            self.freshness.set_connection(status.connection);
            return true;
        }
        false
    }

    /// This syncer with galleries unconfirmed for longer than `max_age` stale (`None`:
    /// never stale).
    pub fn with_max_age(mut self, max_age: Option<Duration>) -> Self {
        self.freshness = Freshness::open(&self.vault.dir, max_age);
        self
    }

    /// Makes sure the gallery may be trusted for a decision: after a reconnection, or once
    /// it is stale, pulls it first (within `wait`). False when it is stale and could not
    /// be confirmed: the decider then denies faces. A door with no cloud is never stale.
    pub async fn ensure_current(&self, wait: Duration) -> bool {
        if self.client.is_none() {
            return true;
        }
        self.follow_link();
        if self.freshness.reconnected() || self.freshness.is_stale() {
            match tokio::time::timeout(wait, self.refresh(false)).await {
                Ok(Ok(version)) => {
                    tracing::debug!(version, "Gallery confirmed before a decision.")
                }
                Ok(Err(error)) => {
                    tracing::warn!(%error, "The gallery could not be confirmed before a decision.")
                }
                Err(_) => tracing::warn!(
                    wait_ms = wait.as_millis() as u64,
                    "The gallery could not be confirmed in time for a decision."
                ),
            }
        }
        !self.freshness.is_stale()
    }

    /// Installs `snapshot` if it is newer and fits the model; stores it encrypted first.
    pub fn install(&self, snapshot: &GallerySnapshot) -> Result<u64, GalleryError> {
        let held = self.shared.current().version;
        if snapshot.version < held {
            return Err(GalleryError::Older {
                held,
                offered: snapshot.version,
            });
        }
        let gallery = LocalGallery::build(snapshot, &self.model)?;
        self.vault.save(snapshot)?;
        let version = gallery.version;
        tracing::info!(
            version,
            people = gallery.people(),
            templates = gallery.templates(),
            "Face gallery installed."
        );
        self.shared.replace(gallery);
        Ok(version)
    }

    /// Asks the cloud for anything newer than what is held (or, `force`, for everything)
    /// and installs it. Returns the version held afterwards.
    pub async fn refresh(&self, force: bool) -> Result<u64, GalleryError> {
        let Some(client) = &self.client else {
            return Ok(self.shared.current().version);
        };
        let since = if force {
            0
        } else {
            self.shared.current().version
        };
        let connection = self.freshness.connection();
        let version = match client.fetch(since).await? {
            Some(snapshot) => {
                let this = self.clone();
                // Decoding and sealing a large gallery is CPU work: off the async workers.
                tokio::task::spawn_blocking(move || this.install(&snapshot))
                    .await
                    .map_err(|e| GalleryError::Malformed(e.to_string()))??
            }
            None => self.shared.current().version,
        };
        self.freshness.confirm(connection);
        Ok(version)
    }

    /// Refreshes at start, on every notice of a newer version, on every new connection of
    /// `link` and every `check_every` (a 304 confirms the gallery), until shutdown.
    pub async fn run(
        self,
        mut notices: tokio::sync::watch::Receiver<Option<protocol::GalleryNotice>>,
        check_every: Option<Duration>,
        shutdown: tokio_util::sync::CancellationToken,
    ) {
        let mut backoff = crate::backoff::Backoff::default();
        let mut wanted = 0u64;
        let mut check = true;
        let mut link = self.link.clone();
        let far = Duration::from_secs(365 * 24 * 3600);
        let mut next_check = tokio::time::Instant::now() + check_every.unwrap_or(far);
        loop {
            let held = self.shared.current().version;
            if held == 0 || wanted > held || check {
                match self.refresh(false).await {
                    Ok(now) => {
                        backoff.reset();
                        check = false;
                        next_check = tokio::time::Instant::now() + check_every.unwrap_or(far);
                        if now < wanted {
                            tracing::warn!(
                                now,
                                wanted,
                                "The cloud announced a gallery it did not serve."
                            );
                            wanted = now;
                        }
                    }
                    Err(error) => {
                        let delay = backoff.next_delay();
                        tracing::warn!(%error, retry_in_ms = delay.as_millis() as u64, "Gallery refresh failed.");
                        tokio::select! {
                            _ = shutdown.cancelled() => return,
                            jumped = crate::backoff::wait(delay) => {
                                if jumped {
                                    // TLS fails until the clock is set: try again now.
                                    backoff.reset();
                                }
                                continue;
                            }
                        }
                    }
                }
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                changed = notices.changed() => {
                    if changed.is_err() { return; }
                    if let Some(notice) = *notices.borrow_and_update() {
                        wanted = wanted.max(notice.version);
                    }
                }
                alive = async {
                    match link.as_mut() {
                        Some(link) => link.changed().await.is_ok(),
                        None => std::future::pending().await,
                    }
                } => {
                    if !alive {
                        link = None;
                        continue;
                    }
                    // A new connection: what was missed while offline comes first.
                    check |= self.follow_link() || self.freshness.reconnected();
                }
                _ = tokio::time::sleep_until(next_check) => check = true,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::sync::{AccessWindow, GalleryPerson};

    const DIM: usize = 8;

    fn model() -> ModelInfo {
        ModelInfo {
            embedder_sha256: "ab12".into(),
            dim: DIM,
            match_threshold: 0.9,
        }
    }

    fn template(axis: usize) -> String {
        let mut v = [0f32; DIM];
        v[axis] = 1.0;
        let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    fn snapshot(version: u64) -> GallerySnapshot {
        GallerySnapshot {
            version,
            embedder_sha256: "AB12".into(),
            dim: DIM as u32,
            time_zone: "Asia/Jakarta".into(),
            work_starts_at: Some("08:00".into()),
            people: vec![
                GalleryPerson {
                    id: "u-ana".into(),
                    name: "Ana".into(),
                    enabled: true,
                    windows: vec![],
                    templates: vec![template(0), template(1)],
                },
                GalleryPerson {
                    id: "u-budi".into(),
                    name: "Budi".into(),
                    enabled: false,
                    windows: vec![AccessWindow {
                        days: vec![1],
                        start: "08:00".into(),
                        end: "17:00".into(),
                    }],
                    templates: vec![template(2)],
                },
            ],
        }
    }

    fn probe(axis: usize) -> models::Embedding {
        let mut v = vec![0.01f32; DIM];
        v[axis] = 1.0;
        models::Embedding::new(v).unwrap()
    }

    #[test]
    fn builds_and_recognises_every_template_of_a_person() {
        let g = LocalGallery::build(&snapshot(3), &model()).unwrap();
        assert_eq!((g.version, g.people(), g.templates()), (3, 2, 3));
        assert_eq!(g.recognise(&probe(1)).unwrap().person.id, "u-ana");
        let budi = g.recognise(&probe(2)).unwrap().person;
        assert_eq!(budi.name, "Budi");
        assert!(!budi.rules.enabled);
        assert!(
            g.recognise(&probe(5)).is_none(),
            "a stranger matches no one"
        );
    }

    #[test]
    fn refuses_another_embedder_dimension_or_bad_templates() {
        let mut other = snapshot(1);
        other.embedder_sha256 = "ffff".into();
        assert!(matches!(
            LocalGallery::build(&other, &model()),
            Err(GalleryError::WrongEmbedder { .. })
        ));
        let mut wide = snapshot(1);
        wide.dim = 16;
        assert!(matches!(
            LocalGallery::build(&wide, &model()),
            Err(GalleryError::WrongDimension { .. })
        ));
        let mut short = snapshot(1);
        short.people[0].templates[1] = base64::engine::general_purpose::STANDARD.encode([0u8; 12]);
        assert!(matches!(
            LocalGallery::build(&short, &model()),
            Err(GalleryError::BadTemplate { index: 1, .. })
        ));
        let mut zone = snapshot(1);
        zone.time_zone = "Nowhere/Atlantis".into();
        assert!(matches!(
            LocalGallery::build(&zone, &model()),
            Err(GalleryError::Site(_))
        ));
    }

    #[test]
    fn vault_encrypts_at_rest_and_survives_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let vault = GalleryVault::open(dir.path()).unwrap();
        let snap = snapshot(7);
        vault.save(&snap).unwrap();
        let raw = fs::read(dir.path().join(GALLERY_FILE)).unwrap();
        let raw_text = String::from_utf8_lossy(&raw);
        assert!(!raw_text.contains("Ana") && !raw_text.contains(&template(0)));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            for file in [KEY_FILE, GALLERY_FILE] {
                let mode = fs::metadata(dir.path().join(file))
                    .unwrap()
                    .permissions()
                    .mode();
                assert_eq!(mode & 0o777, 0o600, "{file}");
            }
        }
        // A new process: the same key file opens it.
        let reopened = GalleryVault::open(dir.path()).unwrap();
        assert_eq!(reopened.load().unwrap(), Some(snap));
    }

    #[test]
    fn every_save_seals_under_a_fresh_key_and_a_crash_between_renames_is_recovered() {
        let dir = tempfile::tempdir().unwrap();
        let vault = GalleryVault::open(dir.path()).unwrap();
        vault.save(&snapshot(1)).unwrap();
        let first = fs::read(dir.path().join(KEY_FILE)).unwrap();
        vault.save(&snapshot(2)).unwrap();
        let second = fs::read(dir.path().join(KEY_FILE)).unwrap();
        assert_ne!(first, second, "the key rotates with every save");
        assert!(!dir.path().join(NEW_KEY_FILE).exists());
        assert_eq!(vault.load().unwrap().map(|s| s.version), Some(2));
        assert_eq!(
            GalleryVault::open(dir.path())
                .unwrap()
                .load()
                .unwrap()
                .map(|s| s.version),
            Some(2)
        );
        // A crash after the gallery's rename, before the key's: the gallery is under the
        // new key, which is still in gallery.key.new.
        let crashed = tempfile::tempdir().unwrap();
        fs::copy(
            dir.path().join(GALLERY_FILE),
            crashed.path().join(GALLERY_FILE),
        )
        .unwrap();
        fs::copy(dir.path().join(KEY_FILE), crashed.path().join(NEW_KEY_FILE)).unwrap();
        fs::write(crashed.path().join(KEY_FILE), first).unwrap();
        let recovered = GalleryVault::open(crashed.path()).unwrap();
        assert_eq!(recovered.load().unwrap().map(|s| s.version), Some(2));
        assert_eq!(fs::read(crashed.path().join(KEY_FILE)).unwrap(), second);
        assert!(!crashed.path().join(NEW_KEY_FILE).exists());
    }

    #[test]
    fn vault_refuses_a_tampered_file_or_another_key() {
        let dir = tempfile::tempdir().unwrap();
        let vault = GalleryVault::open(dir.path()).unwrap();
        vault.save(&snapshot(1)).unwrap();
        let path = dir.path().join(GALLERY_FILE);
        let mut raw = fs::read(&path).unwrap();
        let last = raw.len() - 1;
        raw[last] ^= 1;
        fs::write(&path, &raw).unwrap();
        assert!(matches!(vault.load(), Err(GalleryError::Decrypt)));

        vault.save(&snapshot(1)).unwrap();
        fs::write(dir.path().join(KEY_FILE), [7u8; 32]).unwrap();
        let other_key = GalleryVault::open(dir.path()).unwrap();
        assert!(matches!(other_key.load(), Err(GalleryError::Decrypt)));
    }

    #[test]
    fn freshness_goes_stale_past_its_age_and_asks_for_a_check_after_a_reconnection() {
        let dir = tempfile::tempdir().unwrap();
        let never = Freshness::open(dir.path(), Some(Duration::from_secs(60)));
        assert!(never.is_stale(), "never confirmed: stale");
        assert!(
            !Freshness::open(dir.path(), None).is_stale(),
            "no maximum age"
        );
        // Confirmed two hours ago (as stored on disk): stale for an hour, fresh for a day.
        fs::write(
            dir.path().join(CHECKED_FILE),
            (unix_now() - 7200).to_string(),
        )
        .unwrap();
        let old = Freshness::open(dir.path(), Some(Duration::from_secs(3600)));
        assert_eq!(old.age_secs().map(|a| a / 60), Some(120));
        assert!(old.is_stale());
        assert!(!Freshness::open(dir.path(), Some(Duration::from_secs(86_400))).is_stale());
        // A confirmation makes it fresh and survives a restart.
        old.confirm(0);
        assert!(!old.is_stale() && !old.reconnected());
        assert!(!Freshness::open(dir.path(), Some(Duration::from_secs(3600))).is_stale());
        // A new connection asks for a check until the next confirmation made on it.
        old.set_connection(1);
        assert!(old.reconnected());
        old.confirm(1);
        assert!(!old.reconnected());
    }

    #[test]
    fn sync_installs_newer_versions_only_and_keeps_them_offline() {
        let dir = tempfile::tempdir().unwrap();
        let sync = GallerySync::open(GalleryVault::open(dir.path()).unwrap(), model(), None);
        assert_eq!(sync.shared.current().version, 0);
        assert_eq!(sync.install(&snapshot(5)).unwrap(), 5);
        assert!(matches!(
            sync.install(&snapshot(4)),
            Err(GalleryError::Older {
                held: 5,
                offered: 4
            })
        ));
        let mut foreign = snapshot(9);
        foreign.embedder_sha256 = "other".into();
        assert!(sync.install(&foreign).is_err());
        assert_eq!(
            sync.shared.current().version,
            5,
            "a refused gallery changes nothing"
        );
        // After a restart with no network, the stored version is back.
        let again = GallerySync::open(GalleryVault::open(dir.path()).unwrap(), model(), None);
        let g = again.shared.current();
        assert_eq!(g.version, 5);
        assert_eq!(g.recognise(&probe(0)).unwrap().person.name, "Ana");
    }
}
