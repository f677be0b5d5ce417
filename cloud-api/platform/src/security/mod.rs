//! HTTP defences: the client address, rate limits per address and per account, CORS from
//! configuration, security headers (HSTS when the public URL is HTTPS) and a panic guard.

mod client_ip;
mod headers;
mod limits;

pub use client_ip::ClientIp;
pub use headers::layers;
pub use limits::{RateLimits, TooManyRequests};
