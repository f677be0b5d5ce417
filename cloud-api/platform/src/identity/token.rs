//! HS256 access tokens. Expiry is judged against the platform [`Clock`] (not inside
//! `jsonwebtoken`), so tests can expire a token by moving the clock.

use std::{collections::BTreeMap, fmt, time::Duration};

use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{clock::Clock, error::ServiceError};

/// The default access token lifetime (`security.access_token_ttl_secs`).
pub const ACCESS_TOKEN_TTL: Duration = Duration::from_secs(15 * 60);

/// Seconds of clock skew tolerated on `exp`.
const LEEWAY_SECS: i64 = 5;

/// What an access token says about its holder.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: Uuid,
    /// Empty when the user has no email (phone or NIK only).
    #[serde(default)]
    pub email: String,
    /// Domain → role.
    pub roles: BTreeMap<String, String>,
    /// The user's department, for `dept:…` realtime rooms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dept: Option<String>,
    /// The user's session epoch when the token was issued (`identity::epochs`).
    #[serde(default)]
    pub sep: i64,
    pub iat: i64,
    pub exp: i64,
}

/// The signing and verifying halves of the JWT secret, and the token lifetime.
#[derive(Clone)]
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    ttl: Duration,
}

impl fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JwtKeys(***)")
    }
}

impl JwtKeys {
    pub fn new(secret: &[u8]) -> Self {
        Self::with_ttl(secret, ACCESS_TOKEN_TTL)
    }

    pub fn with_ttl(secret: &[u8], ttl: Duration) -> Self {
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            ttl: ttl.max(Duration::from_secs(1)),
        }
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    pub fn issue(
        &self,
        clock: &Clock,
        user: Uuid,
        email: &str,
        roles: &BTreeMap<String, String>,
        dept: Option<&str>,
        epoch: i64,
    ) -> Result<String, ServiceError> {
        let now = clock.unix();
        let claims = Claims {
            sub: user,
            email: email.to_owned(),
            roles: roles.clone(),
            dept: dept.map(str::to_owned),
            sep: epoch,
            iat: now,
            exp: now + i64::try_from(self.ttl.as_secs()).unwrap_or(i64::MAX / 2),
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| ServiceError::internal("signing an access token", e))
    }

    /// Verifies signature and expiry; `None` for any token that is not valid now.
    pub fn verify(&self, clock: &Clock, token: &str) -> Option<Claims> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.validate_exp = false;
        validation.set_required_spec_claims(&["exp"]);
        let claims = decode::<Claims>(token, &self.decoding, &validation)
            .ok()?
            .claims;
        (claims.exp + LEEWAY_SECS > clock.unix()).then_some(claims)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn expires_with_the_clock() {
        let keys = JwtKeys::with_ttl(b"k", Duration::from_secs(60));
        let clock = Clock::default();
        let roles = BTreeMap::from([("access".to_owned(), "admin".to_owned())]);
        let token = keys
            .issue(&clock, Uuid::now_v7(), "a@b.id", &roles, None, 0)
            .unwrap();
        assert!(keys.verify(&clock, &token).is_some());
        assert!(JwtKeys::new(b"other").verify(&clock, &token).is_none());
        clock.advance(Duration::from_secs(70));
        assert!(keys.verify(&clock, &token).is_none());
    }
}
