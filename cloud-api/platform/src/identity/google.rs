//! Google sign-in: verifies an ID token (RS256) against Google's published keys (a JWKS
//! whose URL is configurable), its audience (our client ids), issuer and expiry (judged by
//! the platform clock). Keys are cached for an hour and refetched, at most once a minute,
//! when a token names a key we do not know (Google rotates them).

use std::time::{Duration, Instant};

use jsonwebtoken::{decode, decode_header, jwk::JwkSet, Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use tokio::sync::Mutex;

use crate::{
    config::GoogleConfig,
    {clock::Clock, error::ServiceError, i18n::Msg},
};

const CACHE_FOR: Duration = Duration::from_secs(3600);
const REFETCH_AT_MOST_EVERY: Duration = Duration::from_secs(60);
const LEEWAY_SECS: i64 = 30;

/// The person a valid ID token names.
#[derive(Debug, Clone)]
pub struct GoogleIdentity {
    pub sub: String,
    /// Only when Google says the address is verified.
    pub verified_email: Option<String>,
    pub name: Option<String>,
}

#[derive(Debug, Deserialize)]
struct GoogleClaims {
    sub: String,
    exp: i64,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    email_verified: Option<serde_json::Value>,
    #[serde(default)]
    name: Option<String>,
}

#[derive(Debug, Default)]
struct Cache {
    keys: Option<JwkSet>,
    fetched: Option<Instant>,
}

/// Verifies Google ID tokens; shared by every request.
#[derive(Debug)]
pub struct GoogleVerifier {
    config: GoogleConfig,
    client: reqwest::Client,
    cache: Mutex<Cache>,
}

pub fn invalid_token() -> ServiceError {
    ServiceError::Unauthorized(Msg::new("Token Google tidak valid", "Invalid Google token"))
}

impl GoogleVerifier {
    pub fn new(config: GoogleConfig) -> Self {
        Self {
            config,
            client: crate::http::client::https(Duration::from_secs(10)),
            cache: Mutex::new(Cache::default()),
        }
    }

    pub fn enabled(&self) -> bool {
        !self.config.client_ids.is_empty()
    }

    pub fn allow_signup(&self) -> bool {
        self.config.allow_signup
    }

    async fn fetch(&self) -> Result<JwkSet, ServiceError> {
        let response = self
            .client
            .get(&self.config.jwks_url)
            .send()
            .await
            .map_err(|e| ServiceError::internal("fetching Google's keys", e))?;
        if !response.status().is_success() {
            return Err(ServiceError::internal(
                "fetching Google's keys",
                format!("HTTP {}", response.status()),
            ));
        }
        response
            .json::<JwkSet>()
            .await
            .map_err(|e| ServiceError::internal("parsing Google's keys", e))
    }

    /// The key `kid` names, from the cache or a fresh fetch.
    async fn key(&self, kid: &str) -> Result<DecodingKey, ServiceError> {
        let mut cache = self.cache.lock().await;
        let stale = cache.fetched.is_none_or(|t| t.elapsed() > CACHE_FOR);
        let known = cache.keys.as_ref().and_then(|k| k.find(kid)).is_some();
        let may_refetch = cache
            .fetched
            .is_none_or(|t| t.elapsed() > REFETCH_AT_MOST_EVERY);
        if stale || (!known && may_refetch) {
            let keys = self.fetch().await?;
            cache.keys = Some(keys);
            cache.fetched = Some(Instant::now());
        }
        let jwk = cache
            .keys
            .as_ref()
            .and_then(|k| k.find(kid))
            .ok_or_else(invalid_token)?;
        DecodingKey::from_jwk(jwk).map_err(|_| invalid_token())
    }

    /// Verifies `token`; every way it can be wrong answers the same 401.
    pub async fn verify(&self, clock: &Clock, token: &str) -> Result<GoogleIdentity, ServiceError> {
        if !self.enabled() {
            return Err(ServiceError::Forbidden(Msg::new(
                "Login dengan Google tidak diaktifkan",
                "Google sign-in is not enabled",
            )));
        }
        let header = decode_header(token).map_err(|_| invalid_token())?;
        if header.alg != Algorithm::RS256 {
            return Err(invalid_token());
        }
        let kid = header.kid.ok_or_else(invalid_token)?;
        let key = self.key(&kid).await?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.validate_exp = false;
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.set_audience(&self.config.client_ids);
        validation.set_issuer(&self.config.issuers);
        let claims = decode::<GoogleClaims>(token, &key, &validation)
            .map_err(|_| invalid_token())?
            .claims;
        if claims.exp + LEEWAY_SECS <= clock.unix() {
            return Err(invalid_token());
        }
        let verified = match claims.email_verified {
            Some(serde_json::Value::Bool(b)) => b,
            Some(serde_json::Value::String(s)) => s == "true",
            _ => false,
        };
        Ok(GoogleIdentity {
            sub: claims.sub,
            verified_email: claims.email.filter(|_| verified),
            name: claims.name,
        })
    }
}
