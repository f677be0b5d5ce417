//! The library boundary's error: why the cloud could not start, or why a call on a running
//! [`crate::Cloud`] failed.

use crate::error::ServiceError;

#[derive(Debug, thiserror::Error)]
pub enum CloudError {
    #[error("configuration: {0}")]
    Config(String),
    #[error("database ({context}): {source}")]
    Database {
        context: &'static str,
        #[source]
        source: sea_orm::DbErr,
    },
    #[error("cannot listen for HTTP on {addr}: {source}")]
    Bind {
        addr: std::net::SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("MQTT broker: {0}")]
    Broker(String),
    #[error(transparent)]
    Service(#[from] ServiceError),
}
