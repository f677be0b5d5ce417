//! How the daemon reaches the cloud safely: TLS settings and the plain-TCP rule.
//!
//! The device token is a secret, so it travels over TLS — except to loopback, where a
//! one-box install (cloud and door on the same machine) has nothing to protect against.

use std::{fs::File, io::BufReader, net::IpAddr, path::Path, sync::Arc};

use rustls::{ClientConfig, RootCertStore};
use url::Url;

#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("invalid URL {url:?}: {reason}")]
    BadUrl { url: String, reason: String },
    #[error("refusing to send the device's credentials over plain {scheme}:// to {host}; use {secure}:// (only loopback may go unencrypted)")]
    Insecure {
        scheme: String,
        host: String,
        secure: &'static str,
    },
    #[error("cannot load the site CA from {path}: {reason}")]
    Ca { path: String, reason: String },
}

/// Where a URL points and whether it is encrypted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub host: String,
    pub port: u16,
    pub tls: bool,
}

/// Parses a broker URL (`mqtt://` or `mqtts://`) and applies the plain-TCP rule.
pub fn mqtt_endpoint(raw: &str) -> Result<Endpoint, TransportError> {
    endpoint(raw, "mqtt", "mqtts", 1883, 8883)
}

/// Parses the cloud's base URL (`http://` or `https://`) and applies the plain-TCP rule.
pub fn http_endpoint(raw: &str) -> Result<Url, TransportError> {
    endpoint(raw, "http", "https", 80, 443)?;
    Url::parse(raw).map_err(|e| TransportError::BadUrl {
        url: raw.to_owned(),
        reason: e.to_string(),
    })
}

fn endpoint(
    raw: &str,
    plain: &'static str,
    secure: &'static str,
    plain_port: u16,
    secure_port: u16,
) -> Result<Endpoint, TransportError> {
    let bad = |reason: &str| TransportError::BadUrl {
        url: raw.to_owned(),
        reason: reason.to_owned(),
    };
    let url = Url::parse(raw).map_err(|e| bad(&e.to_string()))?;
    let tls = match url.scheme() {
        s if s == secure => true,
        s if s == plain => false,
        _ => return Err(bad(&format!("scheme must be {plain}:// or {secure}://"))),
    };
    let host = url
        .host_str()
        .ok_or_else(|| bad("no host"))?
        .trim_matches(['[', ']'])
        .to_owned();
    if !tls && !is_loopback(&host) {
        return Err(TransportError::Insecure {
            scheme: plain.to_owned(),
            host,
            secure,
        });
    }
    let port = url
        .port()
        .unwrap_or(if tls { secure_port } else { plain_port });
    Ok(Endpoint { host, port, tls })
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// TLS client settings: the public web roots plus the site's own CA, if configured.
pub fn tls_config(site_ca: Option<&Path>) -> Result<Arc<ClientConfig>, TransportError> {
    let mut roots = RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = site_ca {
        let ca_err = |reason: String| TransportError::Ca {
            path: path.display().to_string(),
            reason,
        };
        let file = File::open(path).map_err(|e| ca_err(e.to_string()))?;
        let mut added = 0;
        for cert in rustls_pemfile::certs(&mut BufReader::new(file)) {
            let cert = cert.map_err(|e| ca_err(e.to_string()))?;
            roots.add(cert).map_err(|e| ca_err(e.to_string()))?;
            added += 1;
        }
        if added == 0 {
            return Err(ca_err("no PEM certificates in the file".into()));
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TransportError::Ca {
            path: String::new(),
            reason: e.to_string(),
        })?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_tcp_only_to_loopback() {
        assert!(mqtt_endpoint("mqtt://127.0.0.1:1883").is_ok());
        assert!(mqtt_endpoint("mqtt://localhost").is_ok());
        assert!(mqtt_endpoint("mqtt://[::1]:1999").is_ok());
        assert!(matches!(
            mqtt_endpoint("mqtt://broker.example:1883"),
            Err(TransportError::Insecure { .. })
        ));
        assert!(matches!(
            mqtt_endpoint("mqtt://10.0.0.5"),
            Err(TransportError::Insecure { .. })
        ));
        assert_eq!(mqtt_endpoint("mqtts://broker.example").unwrap().port, 8883);
        assert!(matches!(
            http_endpoint("http://cloud.example"),
            Err(TransportError::Insecure { .. })
        ));
        assert!(http_endpoint("https://cloud.example").is_ok());
        assert!(mqtt_endpoint("ftp://x").is_err());
    }

    #[test]
    fn a_site_ca_file_without_certificates_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ca.pem");
        std::fs::write(&path, "not a certificate").unwrap();
        assert!(tls_config(Some(&path)).is_err());
        assert!(tls_config(None).is_ok());
    }
}
