//! TOTP multi-factor sign-in (RFC 6238 through `totp-rs`) for every domain: enrolment (a
//! secret, its `otpauth://` URI and QR code), confirmation with a first code (which hands out
//! ten single-use recovery codes, stored hashed), and the second step of a sign-in: a password
//! sign-in of an enrolled user yields a five-minute challenge token instead of a session, and
//! [`complete`] trades it and a code for the user. Secrets are sealed at rest with
//! XChaCha20-Poly1305 (the user id as associated data) under the cloud's `mfa_key`; a code's
//! time step is accepted once (no replay), and a challenge dies after five wrong codes.

use base64::{engine::general_purpose::STANDARD as B64, Engine};
use chacha20poly1305::{
    aead::{Aead, KeyInit, Payload},
    XChaCha20Poly1305, XNonce,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set, TransactionTrait,
};
use serde::Serialize;
use time::Duration;
use totp_rs::{Algorithm, TOTP};
use uuid::Uuid;

use crate::{
    db::entities::user,
    error::{DbContext, ServiceError},
    i18n::Msg,
    secrets,
    state::Platform,
};

const ISSUER: &str = "Gerbang";
const STEP: u64 = 30;
const CHALLENGE_TTL: Duration = Duration::minutes(5);
const MAX_ATTEMPTS: i32 = 5;
const RECOVERY_CODES: usize = 10;

/// `user_mfa`: one user's TOTP enrolment.
pub mod user_mfa {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "user_mfa")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub user_id: Uuid,
        /// base64(nonce ‖ ciphertext) of the raw secret.
        pub secret_sealed: String,
        /// JSON array of the unused recovery codes' SHA-256 (hex).
        pub recovery_codes: String,
        /// The last accepted time step: a code of this step or before is refused.
        pub last_step: i64,
        pub confirmed_at: Option<TimeDateTimeWithTimeZone>,
        pub created_at: TimeDateTimeWithTimeZone,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `mfa_challenges`: a password step passed, waiting for its code.
pub mod mfa_challenge {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "mfa_challenges")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub token_hash: String,
        pub user_id: Uuid,
        pub attempts: i32,
        pub expires_at: TimeDateTimeWithTimeZone,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// What enrolment hands the user once: the secret for manual entry, its URI, its QR code.
#[derive(Debug, Serialize)]
pub struct Enrolment {
    pub secret: String,
    pub otpauth_uri: String,
    /// PNG, base64.
    pub qr_png_base64: Option<String>,
}

fn invalid_code() -> ServiceError {
    ServiceError::Unauthorized(Msg::new(
        "Kode verifikasi tidak valid",
        "Invalid verification code",
    ))
}

fn totp(secret: Vec<u8>, account: &str) -> Result<TOTP, ServiceError> {
    // The account name may not hold ':' (it separates issuer and account in the URI).
    let account = account.replace(':', "_");
    TOTP::new(
        Algorithm::SHA1,
        6,
        1,
        STEP,
        secret,
        Some(ISSUER.into()),
        account,
    )
    .map_err(|e| ServiceError::internal("building a TOTP", e))
}

async fn cipher(db: &sea_orm::DatabaseConnection) -> Result<XChaCha20Poly1305, ServiceError> {
    let key = secrets::mfa_key(db).await?;
    Ok(XChaCha20Poly1305::new(&key.into()))
}

fn seal(cipher: &XChaCha20Poly1305, user: Uuid, secret: &[u8]) -> Result<String, ServiceError> {
    let nonce_bytes = secrets::random_bytes::<24>();
    let sealed = cipher
        .encrypt(
            XNonce::from_slice(&nonce_bytes),
            Payload {
                msg: secret,
                aad: user.as_bytes(),
            },
        )
        .map_err(|_| ServiceError::internal("sealing a TOTP secret", "encryption failed"))?;
    let mut out = nonce_bytes.to_vec();
    out.extend_from_slice(&sealed);
    Ok(B64.encode(out))
}

fn open(cipher: &XChaCha20Poly1305, user: Uuid, sealed: &str) -> Result<Vec<u8>, ServiceError> {
    let raw = B64
        .decode(sealed)
        .map_err(|e| ServiceError::internal("opening a TOTP secret", e))?;
    if raw.len() < 24 {
        return Err(ServiceError::internal("opening a TOTP secret", "too short"));
    }
    let (nonce, body) = raw.split_at(24);
    cipher
        .decrypt(
            XNonce::from_slice(nonce),
            Payload {
                msg: body,
                aad: user.as_bytes(),
            },
        )
        .map_err(|_| ServiceError::internal("opening a TOTP secret", "wrong key or data"))
}

async fn find(
    db: &impl ConnectionTrait,
    user: Uuid,
) -> Result<Option<user_mfa::Model>, ServiceError> {
    user_mfa::Entity::find_by_id(user)
        .one(db)
        .await
        .db("loading an MFA enrolment")
}

/// Has `user` a confirmed TOTP enrolment?
pub async fn enrolled(db: &impl ConnectionTrait, user: Uuid) -> Result<bool, ServiceError> {
    Ok(find(db, user)
        .await?
        .is_some_and(|m| m.confirmed_at.is_some()))
}

/// Starts (or restarts, while unconfirmed) `user`'s enrolment; refused once confirmed.
pub async fn enrol(platform: &Platform, user: &user::Model) -> Result<Enrolment, ServiceError> {
    if let Some(found) = find(&platform.db, user.id).await? {
        if found.confirmed_at.is_some() {
            return Err(ServiceError::Conflict(Msg::new(
                "Autentikasi dua faktor sudah aktif",
                "Two-factor authentication is already active",
            )));
        }
        user_mfa::Entity::delete_by_id(user.id)
            .exec(&platform.db)
            .await
            .db("restarting an MFA enrolment")?;
    }
    let secret = secrets::random_bytes::<20>().to_vec();
    let account = user
        .email
        .clone()
        .or_else(|| user.username.clone())
        .unwrap_or_else(|| user.id.to_string());
    let otp = totp(secret.clone(), &account)?;
    let sealed = seal(&cipher(&platform.db).await?, user.id, &secret)?;
    user_mfa::ActiveModel {
        user_id: Set(user.id),
        secret_sealed: Set(sealed),
        recovery_codes: Set("[]".into()),
        last_step: Set(0),
        confirmed_at: Set(None),
        created_at: Set(platform.clock.now()),
    }
    .insert(&platform.db)
    .await
    .db("storing an MFA enrolment")?;
    Ok(Enrolment {
        secret: otp.get_secret_base32(),
        otpauth_uri: otp.get_url(),
        qr_png_base64: otp.get_qr_base64().ok(),
    })
}

/// Checks `code` against the enrolment's secret at the platform's time; answers the matched
/// time step if it is later than the last accepted one.
fn check(
    cipher: &XChaCha20Poly1305,
    mfa: &user_mfa::Model,
    code: &str,
    now: u64,
) -> Result<Option<i64>, ServiceError> {
    let code = code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(None);
    }
    let otp = totp(open(cipher, mfa.user_id, &mfa.secret_sealed)?, "user")?;
    let step = now / STEP;
    for candidate in [step.saturating_sub(1), step, step + 1] {
        let matches = secrets::constant_time_eq(&otp.generate(candidate * STEP), code);
        if matches && candidate as i64 > mfa.last_step {
            return Ok(Some(candidate as i64));
        }
    }
    Ok(None)
}

fn recovery_code() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let bytes = secrets::random_bytes::<10>();
    let chars: String = bytes
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect();
    format!("{}-{}", &chars[..5], &chars[5..])
}

fn recovery_hash(code: &str) -> String {
    secrets::sha256_hex(code.trim().to_ascii_uppercase().as_bytes())
}

/// Confirms `user`'s enrolment with a first `code`; answers the recovery codes (shown once).
pub async fn confirm(
    platform: &Platform,
    user: Uuid,
    code: &str,
) -> Result<Vec<String>, ServiceError> {
    let found = find(&platform.db, user).await?.ok_or_else(|| {
        ServiceError::Invalid(Msg::new(
            "Mulai pendaftaran autentikasi dua faktor terlebih dahulu",
            "Start two-factor enrolment first",
        ))
    })?;
    if found.confirmed_at.is_some() {
        return Err(ServiceError::Conflict(Msg::new(
            "Autentikasi dua faktor sudah aktif",
            "Two-factor authentication is already active",
        )));
    }
    let now = platform.clock.unix().max(0) as u64;
    // A wrong first code is bad input of a signed-in user, not a failed sign-in.
    let step = check(&cipher(&platform.db).await?, &found, code, now)?.ok_or_else(|| {
        ServiceError::Invalid(Msg::new(
            "Kode verifikasi tidak valid",
            "Invalid verification code",
        ))
    })?;
    let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| recovery_code()).collect();
    let hashes: Vec<String> = codes.iter().map(|c| recovery_hash(c)).collect();
    let mut row: user_mfa::ActiveModel = found.into();
    row.confirmed_at = Set(Some(platform.clock.now()));
    row.last_step = Set(step);
    row.recovery_codes = Set(serde_json::to_string(&hashes).unwrap_or_else(|_| "[]".into()));
    row.update(&platform.db)
        .await
        .db("confirming an MFA enrolment")?;
    Ok(codes)
}

/// After a correct password of an enrolled user: a challenge token for [`complete`].
pub async fn challenge(platform: &Platform, user: Uuid) -> Result<String, ServiceError> {
    let token = format!("mfa_{}", hex::encode(secrets::random_bytes::<32>()));
    mfa_challenge::ActiveModel {
        token_hash: Set(secrets::sha256_hex(token.as_bytes())),
        user_id: Set(user),
        attempts: Set(0),
        expires_at: Set(platform.clock.now() + CHALLENGE_TTL),
    }
    .insert(&platform.db)
    .await
    .db("storing an MFA challenge")?;
    // Expired challenges of anyone go with each new one.
    mfa_challenge::Entity::delete_many()
        .filter(mfa_challenge::Column::ExpiresAt.lt(platform.clock.now()))
        .exec(&platform.db)
        .await
        .db("dropping expired MFA challenges")?;
    Ok(token)
}

/// The second step: `token` from [`challenge`] and a TOTP code or an unused recovery code.
/// Answers the user; the challenge is spent on success (and after five wrong codes).
pub async fn complete(
    platform: &Platform,
    token: &str,
    code: &str,
) -> Result<user::Model, ServiceError> {
    let expired = || {
        ServiceError::Unauthorized(Msg::new(
            "Sesi verifikasi tidak valid atau kedaluwarsa; masuk lagi",
            "Verification session invalid or expired; sign in again",
        ))
    };
    let hash = secrets::sha256_hex(token.trim().as_bytes());
    let txn = platform.db.begin().await.db("starting an MFA check")?;
    let found = mfa_challenge::Entity::find_by_id(hash.clone())
        .one(&txn)
        .await
        .db("loading an MFA challenge")?
        .filter(|c| c.expires_at > platform.clock.now())
        .ok_or_else(expired)?;
    let mfa = find(&txn, found.user_id)
        .await?
        .filter(|m| m.confirmed_at.is_some())
        .ok_or_else(expired)?;
    let now = platform.clock.unix().max(0) as u64;
    let mut row: user_mfa::ActiveModel = mfa.clone().into();
    let accepted = if let Some(step) = check(&cipher(&platform.db).await?, &mfa, code, now)? {
        row.last_step = Set(step);
        true
    } else {
        let mut hashes: Vec<String> = serde_json::from_str(&mfa.recovery_codes).unwrap_or_default();
        let wanted = recovery_hash(code);
        match hashes
            .iter()
            .position(|h| secrets::constant_time_eq(h, &wanted))
        {
            Some(at) => {
                hashes.remove(at);
                row.recovery_codes =
                    Set(serde_json::to_string(&hashes).unwrap_or_else(|_| "[]".into()));
                true
            }
            None => false,
        }
    };
    if !accepted {
        let attempts = found.attempts + 1;
        if attempts >= MAX_ATTEMPTS {
            mfa_challenge::Entity::delete_by_id(hash)
                .exec(&txn)
                .await
                .db("spending an MFA challenge")?;
        } else {
            let mut c: mfa_challenge::ActiveModel = found.into();
            c.attempts = Set(attempts);
            c.update(&txn).await.db("counting an MFA attempt")?;
        }
        txn.commit().await.db("counting an MFA attempt")?;
        return Err(invalid_code());
    }
    row.update(&txn).await.db("recording an MFA code")?;
    mfa_challenge::Entity::delete_by_id(hash)
        .exec(&txn)
        .await
        .db("spending an MFA challenge")?;
    txn.commit().await.db("finishing an MFA check")?;
    let user = super::service::find_by_id(&platform.db, mfa.user_id)
        .await?
        .ok_or_else(expired)?;
    if user.disabled {
        return Err(super::service::disabled());
    }
    Ok(user)
}
