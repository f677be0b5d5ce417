//! Face templates at rest: XChaCha20-Poly1305 with a 32-byte key from the configuration
//! (`GERBANG_PEOPLE_TEMPLATE_KEY`, base64) or, when none is configured, one generated into
//! `cloud_secrets`. The user id is the associated data, so a sealed template moved to another
//! user's row does not open. The key and the plaintext are never logged.
//!
//! Key rotation: the configured key seals; `previous_template_keys` (and, once a key is
//! configured, the generated one) still open, so a cloud restarted with a new key keeps
//! working while `POST /api/face-templates/reseal` ([`crate::rotation`]) re-seals every
//! template under the new one.

use base64::{engine::general_purpose::STANDARD as B64, Engine};
use chacha20poly1305::{
    aead::{Aead, KeyInit, Payload},
    Key, XChaCha20Poly1305, XNonce,
};
use models::Embedding;
use uuid::Uuid;

use platform::{error::ServiceError, secrets::random_bytes};

const NONCE_LEN: usize = 24;
const AAD_PREFIX: &[u8] = b"gerbang-face-template-v1:";

/// Seals and opens templates.
#[derive(Clone)]
pub struct TemplateCipher {
    cipher: XChaCha20Poly1305,
    /// Keys that still open templates sealed before a rotation, never used to seal.
    previous: Vec<XChaCha20Poly1305>,
}

impl std::fmt::Debug for TemplateCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TemplateCipher(***)")
    }
}

fn aad(user: Uuid) -> Vec<u8> {
    let mut aad = AAD_PREFIX.to_vec();
    aad.extend_from_slice(user.as_bytes());
    aad
}

impl TemplateCipher {
    pub fn new(key: &[u8; 32]) -> Self {
        Self {
            cipher: XChaCha20Poly1305::new(Key::from_slice(key)),
            previous: Vec::new(),
        }
    }

    /// This cipher also opening what `older` sealed (keys being rotated away from).
    pub fn with_previous(mut self, older: impl IntoIterator<Item = TemplateCipher>) -> Self {
        self.previous.extend(older.into_iter().map(|c| c.cipher));
        self
    }

    /// A key from its base64 form (32 bytes).
    pub fn from_base64(encoded: &str) -> Result<Self, ServiceError> {
        let bytes = B64
            .decode(encoded.trim())
            .map_err(|_| ServiceError::internal("template key", "not base64"))?;
        let key: [u8; 32] = bytes
            .try_into()
            .map_err(|_| ServiceError::internal("template key", "must be 32 bytes"))?;
        Ok(Self::new(&key))
    }

    /// `nonce || ciphertext` of the embedding's little-endian `f32`s.
    pub fn seal(&self, user: Uuid, embedding: &Embedding) -> Result<Vec<u8>, ServiceError> {
        let plain = embedding_bytes(embedding);
        let nonce = random_bytes::<NONCE_LEN>();
        let sealed = self
            .cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: &plain,
                    aad: &aad(user),
                },
            )
            .map_err(|_| ServiceError::internal("sealing a template", "encryption failed"))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// The embedding `sealed` holds for `user`; an error if it was tampered with, belongs to
    /// another user or was sealed with a key this cipher does not hold.
    pub fn open(&self, user: Uuid, sealed: &[u8]) -> Result<Embedding, ServiceError> {
        self.open_keyed(user, sealed)
            .map(|(embedding, _)| embedding)
    }

    /// Like [`TemplateCipher::open`], and whether the current key sealed it (false: it
    /// needs re-sealing).
    pub fn open_keyed(&self, user: Uuid, sealed: &[u8]) -> Result<(Embedding, bool), ServiceError> {
        let fail = || ServiceError::internal("opening a template", "authentication failed");
        if sealed.len() <= NONCE_LEN {
            return Err(fail());
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        let aad = aad(user);
        let (plain, current) = std::iter::once(&self.cipher)
            .chain(&self.previous)
            .enumerate()
            .find_map(|(i, cipher)| {
                cipher
                    .decrypt(
                        XNonce::from_slice(nonce),
                        Payload {
                            msg: body,
                            aad: &aad,
                        },
                    )
                    .ok()
                    .map(|plain| (plain, i == 0))
            })
            .ok_or_else(fail)?;
        if plain.len() % 4 != 0 {
            return Err(fail());
        }
        let values = plain
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        Embedding::new(values)
            .map(|embedding| (embedding, current))
            .ok_or_else(fail)
    }
}

/// The template wire form of `protocol::sync::GalleryPerson::templates`: little-endian `f32`s.
pub fn embedding_bytes(embedding: &Embedding) -> Vec<u8> {
    embedding
        .as_slice()
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_binds_the_user() {
        let cipher = TemplateCipher::new(&[7u8; 32]);
        let user = Uuid::now_v7();
        let e = Embedding::new(vec![0.5, -0.25, 1.0, 0.0]).unwrap();
        let sealed = cipher.seal(user, &e).unwrap();
        // Opening re-normalises, so compare within float rounding.
        let opened = cipher.open(user, &sealed).unwrap();
        assert_eq!(opened.as_slice().len(), e.as_slice().len());
        assert!(opened
            .as_slice()
            .iter()
            .zip(e.as_slice())
            .all(|(a, b)| (a - b).abs() < 1e-6));
        // The plaintext floats do not appear in the sealed bytes.
        assert!(!sealed
            .windows(16)
            .any(|w| w == embedding_bytes(&e).as_slice()));
        assert!(cipher.open(Uuid::now_v7(), &sealed).is_err());
        assert!(TemplateCipher::new(&[8u8; 32]).open(user, &sealed).is_err());
        let mut tampered = sealed.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert!(cipher.open(user, &tampered).is_err());
        assert!(cipher.open(user, &sealed[..10]).is_err());
    }

    #[test]
    fn previous_keys_open_but_never_seal() {
        let (old, new) = (
            TemplateCipher::new(&[1u8; 32]),
            TemplateCipher::new(&[2u8; 32]),
        );
        let user = Uuid::now_v7();
        let e = Embedding::new(vec![0.5, -0.25, 1.0, 0.0]).unwrap();
        let sealed_old = old.seal(user, &e).unwrap();
        let ring = new.clone().with_previous([old.clone()]);
        assert!(new.open(user, &sealed_old).is_err());
        assert!(
            !ring.open_keyed(user, &sealed_old).unwrap().1,
            "needs re-sealing"
        );
        let resealed = ring.seal(user, &e).unwrap();
        assert!(ring.open_keyed(user, &resealed).unwrap().1);
        assert!(new.open(user, &resealed).is_ok() && old.open(user, &resealed).is_err());
    }

    #[test]
    fn key_must_be_32_bytes_of_base64() {
        assert!(TemplateCipher::from_base64(&B64.encode([1u8; 32])).is_ok());
        assert!(TemplateCipher::from_base64(&B64.encode([1u8; 16])).is_err());
        assert!(TemplateCipher::from_base64("not base64!").is_err());
    }
}
