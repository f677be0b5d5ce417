//! Rate limits (GCRA via `governor`): sign-in attempts per client address, and login
//! attempts per account identifier — whether that account exists or not, so a 429 reveals
//! nothing about which accounts exist. With Redis configured the replicas share one GCRA
//! state per key (`crate::replicas`); this replica's own limiters answer when it is not.

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

use crate::{config::SecurityConfig, i18n::Msg, replicas::Replicas};

/// Keys kept before stale ones are swept.
const SWEEP_AT: usize = 10_000;

/// The limiters: shared through Redis when configured, else this replica's own (which
/// alone would cap guessing at `replicas × burst`).
#[derive(Debug)]
pub struct RateLimits {
    auth_per_ip: DefaultKeyedRateLimiter<IpAddr>,
    per_account: DefaultKeyedRateLimiter<String>,
    auth_ip_quota: (u32, Duration),
    account_quota: (u32, Duration),
    replicas: Replicas,
}

/// A refused attempt: answered 429 with `Retry-After`.
#[derive(Debug)]
pub struct TooManyRequests {
    pub retry_after: Duration,
}

/// The largest burst and period accepted: governor multiplies them in u64 nanoseconds.
const MAX_BURST: u32 = 100_000;
const MAX_PERIOD: Duration = Duration::from_secs(24 * 3600);

/// A burst and a replenishing period within what the limiters accept.
fn clamped(burst: u32, period: Duration) -> (u32, Duration) {
    (
        burst.clamp(1, MAX_BURST),
        period.clamp(Duration::from_millis(1), MAX_PERIOD),
    )
}

fn quota((burst, period): (u32, Duration)) -> Quota {
    let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
    Quota::with_period(period)
        .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
        .allow_burst(burst)
}

impl RateLimits {
    pub fn new(config: &SecurityConfig, replicas: Replicas) -> Self {
        let auth_ip_quota = clamped(
            config.auth_ip_burst,
            Duration::from_millis(config.auth_ip_period_ms),
        );
        let account_quota = clamped(
            config.account_burst,
            Duration::from_secs(config.account_period_secs),
        );
        Self {
            auth_per_ip: RateLimiter::keyed(quota(auth_ip_quota)),
            per_account: RateLimiter::keyed(quota(account_quota)),
            auth_ip_quota,
            account_quota,
            replicas,
        }
    }

    /// One sign-in attempt (login, refresh, Google) from `ip`.
    pub async fn auth_attempt(&self, ip: Option<IpAddr>) -> Result<(), TooManyRequests> {
        let Some(ip) = ip else { return Ok(()) };
        let (burst, period) = self.auth_ip_quota;
        if let Some(verdict) = self
            .replicas
            .limit("auth-ip", &ip.to_string(), burst, period)
            .await
        {
            return verdict.map_err(|retry_after| TooManyRequests { retry_after });
        }
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
    pub async fn account_attempt(&self, key: &str) -> Result<(), TooManyRequests> {
        let (burst, period) = self.account_quota;
        if let Some(verdict) = self.replicas.limit("account", key, burst, period).await {
            return verdict.map_err(|retry_after| TooManyRequests { retry_after });
        }
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

    #[tokio::test]
    async fn extreme_settings_are_clamped_not_fatal() {
        let limits = RateLimits::new(
            &SecurityConfig {
                auth_ip_burst: u32::MAX,
                auth_ip_period_ms: u64::MAX,
                account_burst: 0,
                account_period_secs: 3600,
                ..SecurityConfig::default()
            },
            Replicas::alone(),
        );
        assert!(limits
            .auth_attempt(Some([127, 0, 0, 1].into()))
            .await
            .is_ok());
        assert!(limits.account_attempt("email:a@b.id").await.is_ok());
        assert!(limits.account_attempt("email:a@b.id").await.is_err());
    }
}
