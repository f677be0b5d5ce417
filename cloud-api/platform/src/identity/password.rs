//! Argon2id password hashing, off the async threads (hashing takes tens of milliseconds).
//!
//! Parameters: Argon2id v19, 19 MiB of memory, 2 passes, 1 lane, 32-byte output, 16-byte
//! random salt — OWASP's minimum recommendation for Argon2id, chosen so a login costs
//! tens of milliseconds on a small cloud VM while an offline guess stays memory-hard.
//! Stored hashes carry their parameters (PHC strings), so raising them later only affects
//! new hashes; verification uses whatever a stored hash says.

use argon2::{
    password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Algorithm, Argon2, Params, Version,
};

/// Memory cost in KiB (19 MiB).
pub const M_COST_KIB: u32 = 19 * 1024;
/// Passes over memory.
pub const T_COST: u32 = 2;
/// Lanes.
pub const P_COST: u32 = 1;

fn hasher() -> Argon2<'static> {
    // These constants are valid Argon2 parameters; the fallback is never taken.
    let params = Params::new(M_COST_KIB, T_COST, P_COST, Some(32)).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// The shortest password accepted when one is set.
pub const MIN_PASSWORD_LEN: usize = 8;

use tokio::sync::OnceCell;

use crate::error::ServiceError;

/// A real hash of a random password, so a login for an unknown email costs as much as one
/// for a known email (timing does not reveal which emails exist).
pub async fn dummy_hash() -> String {
    static DUMMY: OnceCell<String> = OnceCell::const_new();
    DUMMY
        .get_or_init(|| async {
            let random = hex::encode(crate::secrets::random_bytes::<16>());
            hash(random).await.unwrap_or_default()
        })
        .await
        .clone()
}

pub async fn hash(password: String) -> Result<String, ServiceError> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        hasher()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| ServiceError::internal("hashing a password", e))
    })
    .await
    .map_err(|e| ServiceError::internal("hashing a password", e))?
}

/// True when `password` matches the stored PHC string; a malformed hash never matches.
pub async fn verify(password: String, stored: String) -> Result<bool, ServiceError> {
    tokio::task::spawn_blocking(move || {
        let Ok(parsed) = PasswordHash::new(&stored) else {
            return false;
        };
        hasher()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
    .await
    .map_err(|e| ServiceError::internal("verifying a password", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_the_dummy_never_matches() {
        let stored = hash("kata-sandi".into()).await.expect("hash");
        assert!(
            stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{stored}"
        );
        assert!(verify("kata-sandi".into(), stored.clone())
            .await
            .expect("verify"));
        assert!(!verify("salah".into(), stored).await.expect("verify"));
        assert!(!verify("".into(), dummy_hash().await).await.expect("verify"));
        assert!(!verify("x".into(), "not a hash".into())
            .await
            .expect("verify"));
    }
}
