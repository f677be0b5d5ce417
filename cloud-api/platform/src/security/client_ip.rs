//! Who is calling, by address: the TCP peer, or the first `X-Forwarded-For` hop when the
//! configuration says a trusted proxy sits in front.

use std::net::{IpAddr, SocketAddr};

use axum::{
    extract::{ConnectInfo, FromRequestParts},
    http::request::Parts,
};

use crate::state::AppState;

/// The client's address (`None` when the server was not started with connect info).
#[derive(Debug, Clone, Copy)]
pub struct ClientIp(pub Option<IpAddr>);

impl ClientIp {
    pub fn from_parts(parts: &Parts, trust_forwarded_for: bool) -> ClientIp {
        if trust_forwarded_for {
            let forwarded = parts
                .headers
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(',').next())
                .and_then(|v| v.trim().parse::<IpAddr>().ok());
            if forwarded.is_some() {
                return ClientIp(forwarded);
            }
        }
        ClientIp(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(addr)| addr.ip()),
        )
    }

    /// For logs and the audit trail.
    pub fn label(&self) -> Option<String> {
        self.0.map(|ip| ip.to_string())
    }
}

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(ClientIp::from_parts(
            parts,
            state.config.security.trust_forwarded_for,
        ))
    }
}
