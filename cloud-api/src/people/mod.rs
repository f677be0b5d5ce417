//! People for doors and kiosks (seed 000's user management, on the platform's one user
//! table): users CRUD with enabled/disabled and weekly access windows, face registration
//! through the `models` pipeline (templates sealed at rest, never logged or returned), and the
//! device gallery (`GET protocol::sync::GALLERY_PATH`, notices on the `gallery` channel).
//!
//! # Layout
//! - `service`: the operations handlers and the admin UI call. `routes`: `/api/users…`.
//! - `faces`: the process's `FaceEngine` and the one-face rule with localized refusals.
//! - `cipher`: XChaCha20-Poly1305 for templates. `gallery`: version, snapshot, notices.
//! - `photo`: multipart or base64 photos.
//! - `runtime`: what the domain keeps while running. `config`: `[people]`.
//! - `entities`, `migration`: the tables of this domain, attendance and the camera.

pub mod cipher;
pub mod config;
pub mod entities;
pub mod faces;
pub mod gallery;
pub(crate) mod migration;
pub mod photo;
pub(crate) mod routes;
pub mod runtime;
pub mod service;

pub use config::PeopleConfig;
pub use routes::router;
pub use runtime::PeopleRuntime;
