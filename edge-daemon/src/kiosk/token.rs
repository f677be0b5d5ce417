//! The local admin token: what an installer presents to the local API on the device.
//!
//! Configured (`kiosk.admin_token`), or generated at first start into
//! `<data_dir>/kiosk-admin.token` with mode 0600 and read from there afterwards. Compared in
//! constant time (both sides hashed first, so not even the length leaks) and never logged:
//! its `Debug` is redacted.

use std::{
    fmt,
    io::Write,
    path::{Path, PathBuf},
};

use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The file the generated token lives in, under the data directory.
pub const TOKEN_FILE: &str = "kiosk-admin.token";

/// A token shorter than this is refused: it could be guessed.
pub const MIN_TOKEN_LEN: usize = 16;

/// A token as written in the configuration. Redacted in `Debug`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ConfiguredToken(pub String);

impl fmt::Debug for ConfiguredToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ConfiguredToken(<redacted>)")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("the configured kiosk.admin_token is shorter than {MIN_TOKEN_LEN} characters")]
    TooShort,
    #[error("cannot read the admin token {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write the admin token {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the admin token file {path} is empty or too short; delete it to get a new one")]
    BadFile { path: PathBuf },
}

/// The token the local API accepts. Only its SHA-256 is kept in memory.
#[derive(Clone)]
pub struct AdminToken {
    digest: [u8; 32],
}

impl fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AdminToken(<redacted>)")
    }
}

/// Where the token came from, for the start-up log line (which names the file, never the
/// token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenSource {
    Configured,
    File { path: PathBuf, created: bool },
}

impl AdminToken {
    pub fn new(token: &str) -> Result<Self, TokenError> {
        if token.len() < MIN_TOKEN_LEN {
            return Err(TokenError::TooShort);
        }
        Ok(Self {
            digest: Sha256::digest(token.as_bytes()).into(),
        })
    }

    /// The configured token if there is one, else the one in `data_dir` (made on first use).
    pub fn load(
        configured: Option<&ConfiguredToken>,
        data_dir: &Path,
    ) -> Result<(Self, TokenSource), TokenError> {
        if let Some(ConfiguredToken(token)) = configured {
            return Ok((Self::new(token.trim())?, TokenSource::Configured));
        }
        let path = data_dir.join(TOKEN_FILE);
        let (text, created) = match std::fs::read_to_string(&path) {
            Ok(text) => (text, false),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => (create(&path)?, true),
            Err(source) => return Err(TokenError::Read { path, source }),
        };
        let token =
            Self::new(text.trim()).map_err(|_| TokenError::BadFile { path: path.clone() })?;
        Ok((token, TokenSource::File { path, created }))
    }

    /// Whether `presented` is the token, in time independent of where they differ.
    pub fn verify(&self, presented: &str) -> bool {
        let digest: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
        self.digest[..].ct_eq(&digest[..]).into()
    }
}

/// Writes a fresh random token (256 bits, hex) to `path`, readable by the owner only.
fn create(path: &Path) -> Result<String, TokenError> {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = hex::encode(bytes);
    let write = |source| TokenError::Write {
        path: path.to_owned(),
        source,
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(write)?;
    file.write_all(format!("{token}\n").as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(write)?;
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_once_private_and_stable() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (first, source) = AdminToken::load(None, dir.path()).expect("create");
        let path = dir.path().join(TOKEN_FILE);
        assert_eq!(
            source,
            TokenSource::File {
                path: path.clone(),
                created: true
            }
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let text = std::fs::read_to_string(&path).expect("read");
        assert!(first.verify(text.trim()));
        assert!(!first.verify("0123456789abcdef0123456789abcdef"));
        let (again, source) = AdminToken::load(None, dir.path()).expect("reload");
        assert!(matches!(source, TokenSource::File { created: false, .. }));
        assert!(again.verify(text.trim()));
        assert!(!format!("{again:?}").contains(text.trim()));
    }

    #[test]
    fn configured_token_wins_and_short_ones_are_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let configured = ConfiguredToken("a-long-enough-installer-token".into());
        let (token, source) = AdminToken::load(Some(&configured), dir.path()).expect("load");
        assert_eq!(source, TokenSource::Configured);
        assert!(token.verify("a-long-enough-installer-token"));
        assert!(!dir.path().join(TOKEN_FILE).exists());
        assert_eq!(format!("{configured:?}"), "ConfiguredToken(<redacted>)");
        let short = ConfiguredToken("short".into());
        assert!(matches!(
            AdminToken::load(Some(&short), dir.path()),
            Err(TokenError::TooShort)
        ));
    }

    #[test]
    fn an_emptied_token_file_is_an_error_not_an_open_door() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join(TOKEN_FILE), "\n").expect("write");
        assert!(matches!(
            AdminToken::load(None, dir.path()),
            Err(TokenError::BadFile { .. })
        ));
    }
}
