//! Argon2id password hashing, off the async threads (hashing takes tens of milliseconds).

use argon2::{
    password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Argon2,
};

use tokio::sync::OnceCell;

use crate::platform::error::ServiceError;

/// A real hash of a random password, so a login for an unknown email costs as much as one
/// for a known email (timing does not reveal which emails exist).
pub async fn dummy_hash() -> String {
    static DUMMY: OnceCell<String> = OnceCell::const_new();
    DUMMY
        .get_or_init(|| async {
            let random = hex::encode(crate::platform::secrets::random_bytes::<16>());
            hash(random).await.unwrap_or_default()
        })
        .await
        .clone()
}

pub async fn hash(password: String) -> Result<String, ServiceError> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
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
        Argon2::default()
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
        assert!(stored.starts_with("$argon2id$"));
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
