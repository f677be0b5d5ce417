//! Signed frames: `{"body": <message>, "sig": "<base64 Ed25519 over the body's exact bytes>"}`.
//!
//! The signature covers the body's bytes exactly as they travel, so no canonical JSON form is
//! needed: the receiver verifies the raw bytes first and only then parses them. Devices seal
//! events and acks with their own key (generated on the device at enrolment; the private half
//! never leaves it); the cloud seals commands with its key. Whoever can reach the broker but
//! holds no key can neither forge an event nor open a door.

use std::{borrow::Cow, fmt};

use base64::{engine::general_purpose::STANDARD as B64, Engine};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::{ProtocolError, MAX_FRAME_BYTES, VERSION};

/// Decodes a base64 Ed25519 key (public or secret: both are 32 bytes).
fn key_bytes(encoded: &str) -> Result<[u8; 32], ProtocolError> {
    let bytes = B64
        .decode(encoded.trim())
        .map_err(|e| ProtocolError::InvalidKey(format!("not base64: {e}")))?;
    bytes
        .try_into()
        .map_err(|_| ProtocolError::InvalidKey("expected 32 bytes".into()))
}

/// A private signing key. Its `Debug` never prints the secret.
#[derive(Clone)]
pub struct Keypair(SigningKey);

impl Keypair {
    pub fn generate() -> Self {
        Self(SigningKey::generate(&mut rand::rngs::OsRng))
    }

    /// Reads a secret key written by [`Keypair::to_secret_base64`].
    pub fn from_secret_base64(encoded: &str) -> Result<Self, ProtocolError> {
        Ok(Self(SigningKey::from_bytes(&key_bytes(encoded)?)))
    }

    /// The secret key as base64, for a key file with tight permissions. Never log it.
    pub fn to_secret_base64(&self) -> String {
        B64.encode(self.0.to_bytes())
    }

    pub fn public(&self) -> PublicKey {
        PublicKey(self.0.verifying_key())
    }
}

impl fmt::Debug for Keypair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Keypair").field(&self.public()).finish()
    }
}

/// A public key that verifies frames.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PublicKey(VerifyingKey);

impl PublicKey {
    pub fn from_base64(encoded: &str) -> Result<Self, ProtocolError> {
        VerifyingKey::from_bytes(&key_bytes(encoded)?)
            .map(Self)
            .map_err(|e| ProtocolError::InvalidKey(e.to_string()))
    }

    pub fn to_base64(&self) -> String {
        B64.encode(self.0.as_bytes())
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.to_base64())
    }
}

impl Serialize for PublicKey {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_base64())
    }
}

impl<'de> Deserialize<'de> for PublicKey {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Self::from_base64(&raw).map_err(serde::de::Error::custom)
    }
}

#[derive(Serialize, Deserialize)]
struct Frame<'a> {
    #[serde(borrow)]
    body: &'a RawValue,
    #[serde(borrow)]
    sig: Cow<'a, str>,
}

#[derive(Deserialize)]
struct VersionProbe {
    v: u64,
}

/// Serialises `message` and signs it into a frame ready for the wire.
pub fn seal<T: Serialize>(message: &T, key: &Keypair) -> Vec<u8> {
    // Serialising our own plain-data types into JSON cannot fail.
    let body = serde_json::to_string(message).expect("wire types always serialise");
    let sig = key.0.sign(body.as_bytes());
    let body = RawValue::from_string(body).expect("serde_json output is valid JSON");
    let frame = Frame {
        body: &body,
        sig: Cow::Owned(B64.encode(sig.to_bytes())),
    };
    serde_json::to_vec(&frame).expect("frames always serialise")
}

/// Checks size, signature and version of a frame from the wire, then parses its body.
pub fn open<T: DeserializeOwned>(frame: &[u8], key: &PublicKey) -> Result<T, ProtocolError> {
    let body = verified_body(frame, key)?;
    parse_body(body.as_bytes())
}

/// Checks a frame's size and signature and returns the body's exact bytes.
pub fn verified_body<'a>(frame: &'a [u8], key: &PublicKey) -> Result<&'a str, ProtocolError> {
    if frame.len() > MAX_FRAME_BYTES {
        return Err(ProtocolError::TooLarge {
            size: frame.len(),
            max: MAX_FRAME_BYTES,
        });
    }
    let frame: Frame<'a> = serde_json::from_slice(frame).map_err(ProtocolError::malformed)?;
    let sig = B64
        .decode(frame.sig.as_bytes())
        .map_err(|_| ProtocolError::BadSignature)?;
    let sig = Signature::from_slice(&sig).map_err(|_| ProtocolError::BadSignature)?;
    key.0
        .verify(frame.body.get().as_bytes(), &sig)
        .map_err(|_| ProtocolError::BadSignature)?;
    Ok(frame.body.get())
}

/// Parses an (already trusted) message body: version first, then the typed message, with the
/// path of the offending field in the error.
pub fn parse_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, ProtocolError> {
    if body.len() > MAX_FRAME_BYTES {
        return Err(ProtocolError::TooLarge {
            size: body.len(),
            max: MAX_FRAME_BYTES,
        });
    }
    let probe: VersionProbe = serde_json::from_slice(body).map_err(ProtocolError::malformed)?;
    if probe.v != u64::from(VERSION) {
        return Err(ProtocolError::UnsupportedVersion {
            found: probe.v,
            supported: VERSION,
        });
    }
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        match path.as_str() {
            "." | "" => ProtocolError::Malformed(inner.to_string()),
            _ => ProtocolError::Malformed(format!("{path}: {inner}")),
        }
    })
}
