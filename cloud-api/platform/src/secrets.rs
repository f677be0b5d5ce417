//! The cloud's own secrets — its Ed25519 signing key and the JWT secret — generated on first
//! start and kept in the database, so every replica signs and verifies with the same ones.

use base64::{engine::general_purpose::STANDARD as B64, Engine};
use rand::RngCore;
use sea_orm::{sea_query::OnConflict, DatabaseConnection, EntityTrait, Set};
use time::OffsetDateTime;

use super::{
    db::entities::secret,
    error::{DbContext, ServiceError},
};

const CLOUD_KEY: &str = "cloud_signing_key";
const JWT_SECRET: &str = "jwt_secret";
const TEMPLATE_KEY: &str = "face_template_key";
const MFA_KEY: &str = "mfa_key";

/// Returns the named secret, creating it with `generate` if this is the first start.
/// Concurrent first starts agree: the first insert wins and everyone reads it back.
async fn load_or_create(
    db: &DatabaseConnection,
    name: &str,
    generate: impl FnOnce() -> String,
) -> Result<String, ServiceError> {
    if let Some(found) = secret::Entity::find_by_id(name)
        .one(db)
        .await
        .db("loading a secret")?
    {
        return Ok(found.value);
    }
    let row = secret::ActiveModel {
        name: Set(name.to_owned()),
        value: Set(generate()),
        created_at: Set(OffsetDateTime::now_utc()),
    };
    secret::Entity::insert(row)
        .on_conflict(
            OnConflict::column(secret::Column::Name)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await
        .db("storing a new secret")?;
    let stored = secret::Entity::find_by_id(name)
        .one(db)
        .await
        .db("reloading a secret")?;
    stored
        .map(|s| s.value)
        .ok_or_else(|| ServiceError::internal("storing a new secret", "row vanished"))
}

/// The cloud's signing key for commands and receipts.
pub async fn cloud_keypair(db: &DatabaseConnection) -> Result<protocol::Keypair, ServiceError> {
    let encoded = load_or_create(db, CLOUD_KEY, || {
        protocol::Keypair::generate().to_secret_base64()
    })
    .await?;
    protocol::Keypair::from_secret_base64(&encoded)
        .map_err(|e| ServiceError::internal("decoding the cloud key", e))
}

/// The HS256 secret for access tokens.
pub async fn jwt_secret(db: &DatabaseConnection) -> Result<Vec<u8>, ServiceError> {
    let encoded = load_or_create(db, JWT_SECRET, || B64.encode(random_bytes::<64>())).await?;
    B64.decode(encoded)
        .map_err(|e| ServiceError::internal("decoding the JWT secret", e))
}

/// The face template key (base64, 32 bytes) when none is configured.
pub async fn template_key(db: &DatabaseConnection) -> Result<String, ServiceError> {
    load_or_create(db, TEMPLATE_KEY, || B64.encode(random_bytes::<32>())).await
}

/// The key (hex, 32 bytes) that seals users' TOTP secrets at rest.
pub async fn mfa_key(db: &DatabaseConnection) -> Result<[u8; 32], ServiceError> {
    let hex_key = load_or_create(db, MFA_KEY, || hex::encode(random_bytes::<32>())).await?;
    let mut key = [0u8; 32];
    hex::decode_to_slice(hex_key.trim(), &mut key)
        .map_err(|e| ServiceError::internal("reading the MFA key", e))?;
    Ok(key)
}

/// `N` bytes from the operating system's CSPRNG.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes
}

/// Hex SHA-256, used for tokens and enrolment codes (high-entropy secrets need no slow hash).
pub fn sha256_hex(input: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(input))
}

/// Compares two strings in time independent of where they differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
