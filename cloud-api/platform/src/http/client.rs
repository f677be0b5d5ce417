//! The cloud's outbound HTTPS client (Google's keys, government systems such as SIPD): the
//! webpki roots set up explicitly on rustls with ring, and one timeout for connecting and for
//! the whole exchange.

use std::{sync::Arc, time::Duration};

/// A client that gives up after `timeout` (to connect, and for the whole request).
pub fn https(timeout: Duration) -> reqwest::Client {
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map(|b| b.with_root_certificates(roots).with_no_client_auth());
    let mut builder = reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout);
    if let Ok(tls) = tls {
        builder = builder.use_preconfigured_tls(tls);
    }
    builder.build().unwrap_or_default()
}
