//! The admin dashboard served at `/`: one HTML shell and its hand-written CSS and JavaScript,
//! embedded in the binary with `include_str!` (no network, no npm at `cargo run`).
//!
//! The pages are drawn in the browser by `assets/app.js` from the same documented JSON API
//! every other client uses (`/api/auth/*`, `/api/door/*`, `/api/devices`, `/api/users`,
//! `/api/history/access`, …), so the dashboard needs no second copy of any business rule
//! and cannot drift from the API. Live updates come over the existing Socket.IO realtime
//! channel (`device:events`, `device:state`, `notification`; see `platform::realtime`) with
//! the vendored `socket.io-client` (MIT, `assets/vendor/`).
//!
//! Sessions: the page keeps the access token from `POST /api/auth/login` in `sessionStorage`
//! and sends it as `Authorization: Bearer` — a header a cross-site page cannot make a browser
//! send, so mutating requests are CSRF-safe; the httpOnly `refreshToken` and `token` cookies
//! are `SameSite=Lax`. Assets carry their own Content-Security-Policy (scripts and styles from
//! this origin only) and a Permissions-Policy that lets this origin use the camera (webcam
//! face enrolment); the API keeps the platform's stricter defaults.

use std::sync::LazyLock;

use axum::{
    extract::Path,
    http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
    Router,
};
use sha2::{Digest, Sha256};

use platform::state::AppState;

/// The policy of every dashboard response: same-origin scripts, styles, API and Socket.IO
/// calls; images and video also from `blob:`/`data:` (snapshots, the webcam preview).
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'; \
    form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// The camera for webcam face enrolment, nothing else.
const PERMISSIONS: &str = "camera=(self), microphone=(), geolocation=()";

/// One embedded file.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static str,
}

const INDEX: Asset = Asset {
    name: "index.html",
    content_type: "text/html; charset=utf-8",
    body: include_str!("assets/index.html"),
};

/// Everything under `/assets/`.
const ASSETS: &[Asset] = &[
    Asset {
        name: "app.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("assets/app.js"),
    },
    Asset {
        name: "app.css",
        content_type: "text/css; charset=utf-8",
        body: include_str!("assets/app.css"),
    },
    Asset {
        name: "icon.svg",
        content_type: "image/svg+xml",
        body: include_str!("assets/icon.svg"),
    },
    Asset {
        name: "vendor/socket.io.min.js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("assets/vendor/socket.io.min.js"),
    },
];

/// Strong validators, one per asset (index first), computed once.
static ETAGS: LazyLock<Vec<HeaderValue>> = LazyLock::new(|| {
    std::iter::once(&INDEX)
        .chain(ASSETS)
        .map(|asset| {
            let digest = Sha256::digest(asset.body.as_bytes());
            HeaderValue::from_str(&format!("\"{}\"", hex::encode(&digest[..12])))
                .unwrap_or_else(|_| HeaderValue::from_static("\"0\""))
        })
        .collect()
});

/// `/` and `/assets/*`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(index))
        .route("/favicon.ico", get(favicon))
        .route("/assets/{*name}", get(asset))
}

async fn index(headers: HeaderMap) -> Response {
    serve(&INDEX, &ETAGS[0], &headers)
}

async fn favicon(headers: HeaderMap) -> Response {
    asset(Path("icon.svg".to_owned()), headers).await
}

async fn asset(Path(name): Path<String>, headers: HeaderMap) -> Response {
    match ASSETS.iter().position(|a| a.name == name) {
        Some(i) => serve(&ASSETS[i], &ETAGS[i + 1], &headers),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// The asset, or `304` when the browser already has this version. `no-cache` makes the
/// browser revalidate, so a new binary's pages are never mixed with an old script.
fn serve(asset: &Asset, etag: &HeaderValue, request: &HeaderMap) -> Response {
    let fresh = request
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|tag| tag.trim().as_bytes() == etag.as_bytes());
    let headers = [
        (header::ETAG, etag.clone()),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        ),
        (
            HeaderName::from_static("permissions-policy"),
            HeaderValue::from_static(PERMISSIONS),
        ),
    ];
    if fresh {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    (
        headers,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static(asset.content_type),
        )],
        asset.body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_asset_the_shell_links_is_embedded() {
        for reference in INDEX.body.split("/assets/").skip(1) {
            let name = reference.split(['"', '?']).next().unwrap_or_default();
            assert!(
                ASSETS.iter().any(|a| a.name == name),
                "index.html links /assets/{name}, which is not embedded"
            );
        }
    }

    #[test]
    fn etags_differ_between_assets() {
        let mut tags: Vec<_> = ETAGS.iter().collect();
        tags.sort_by_key(|t| t.as_bytes().to_vec());
        tags.dedup();
        assert_eq!(tags.len(), ASSETS.len() + 1);
    }
}
