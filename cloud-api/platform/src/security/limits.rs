//! Rate limits (GCRA via `governor`): sign-in attempts per client address, and login
//! attempts per account identifier — whether that account exists or not, so a 429 reveals
//! nothing about which accounts exist.

use std::{net::IpAddr, num::NonZeroU32, time::Duration};

use axum::{
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use governor::{
    clock::{Clock, DefaultClock},
    DefaultKeyedRateLimiter, Quota, RateLimiter,
};
use serde_json::json;

use crate::{config::SecurityConfig, i18n::Msg};

/// Keys kept before stale ones are swept.
const SWEEP_AT: usize = 10_000;

/// The limiters every replica keeps in memory (a replica-local bound; the per-account one
/// still caps guessing at `replicas × burst`).
#[derive(Debug)]
pub struct RateLimits {
    auth_per_ip: DefaultKeyedRateLimiter<IpAddr>,
    per_account: DefaultKeyedRateLimiter<String>,
}

/// A refused attempt: answered 429 with `Retry-After`.
#[derive(Debug)]
pub struct TooManyRequests {
    pub retry_after: Duration,
}

/// The largest burst and period accepted: governor multiplies them in u64 nanoseconds.
const MAX_BURST: u32 = 100_000;
const MAX_PERIOD: Duration = Duration::from_secs(24 * 3600);

fn quota(burst: u32, period: Duration) -> Quota {
    let burst = NonZeroU32::new(burst.clamp(1, MAX_BURST)).unwrap_or(NonZeroU32::MIN);
    Quota::with_period(period.clamp(Duration::from_millis(1), MAX_PERIOD))
        .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
        .allow_burst(burst)
}

impl RateLimits {
    pub fn new(config: &SecurityConfig) -> Self {
        Self {
            auth_per_ip: RateLimiter::keyed(quota(
                config.auth_ip_burst,
                Duration::from_millis(config.auth_ip_period_ms),
            )),
            per_account: RateLimiter::keyed(quota(
                config.account_burst,
                Duration::from_secs(config.account_period_secs),
            )),
        }
    }

    /// One sign-in attempt (login, refresh, Google) from `ip`.
    pub fn auth_attempt(&self, ip: Option<IpAddr>) -> Result<(), TooManyRequests> {
        let Some(ip) = ip else { return Ok(()) };
        if self.auth_per_ip.len() > SWEEP_AT {
            self.auth_per_ip.retain_recent();
        }
        self.auth_per_ip
            .check_key(&ip)
            .map_err(|not_until| TooManyRequests {
                retry_after: not_until.wait_time_from(DefaultClock::default().now()),
            })
    }

    /// One password attempt against the account named by `key` (`email:…`, `phone:…`).
    pub fn account_attempt(&self, key: &str) -> Result<(), TooManyRequests> {
        if self.per_account.len() > SWEEP_AT {
            self.per_account.retain_recent();
        }
        self.per_account
            .check_key(&key.to_owned())
            .map_err(|not_until| TooManyRequests {
                retry_after: not_until.wait_time_from(DefaultClock::default().now()),
            })
    }
}

impl IntoResponse for TooManyRequests {
    fn into_response(self) -> Response {
        let secs = self.retry_after.as_secs().max(1);
        let msg = Msg::owned(
            format!("Terlalu banyak percobaan, coba lagi dalam {secs} detik"),
            format!("Too many attempts, try again in {secs} seconds"),
        );
        let mut response = (
            StatusCode::TOO_MANY_REQUESTS,
            Json(json!({ "message": msg.localized() })),
        )
            .into_response();
        if let Ok(value) = HeaderValue::from_str(&secs.to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extreme_settings_are_clamped_not_fatal() {
        let limits = RateLimits::new(&SecurityConfig {
            auth_ip_burst: u32::MAX,
            auth_ip_period_ms: u64::MAX,
            account_burst: 0,
            account_period_secs: 3600,
            ..SecurityConfig::default()
        });
        assert!(limits.auth_attempt(Some([127, 0, 0, 1].into())).is_ok());
        assert!(limits.account_attempt("email:a@b.id").is_ok());
        assert!(limits.account_attempt("email:a@b.id").is_err());
    }
}
