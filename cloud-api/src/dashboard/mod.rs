//! The admin dashboard served at `/`: one HTML shell and its hand-written CSS and native ES
//! modules, embedded in the binary with `include_str!` (no network, no npm, no build step at
//! `cargo run`).
//!
//! The shell's core modules live in `assets/` (`main.js` imports `api.js`, `dom.js`,
//! `i18n.js`, `realtime.js`, `router.js` and the platform's pages in `platform.js`). Every
//! domain brings its own pages: its crate's `dashboard.js`, returned by
//! [`platform::domain::Domain::dashboard`], is served here at `/assets/domains/{name}.js`, and
//! `/assets/domains.json` lists the names so `main.js` can `import()` each. The pages are
//! drawn from the same documented JSON API every other client uses, so the dashboard needs no
//! second copy of any business rule. Live updates come over the existing Socket.IO realtime
//! channel (`device:events`, `device:state`, `notification`; see `platform::realtime`) with
//! the vendored `socket.io-client` (MIT, `assets/vendor/`). See `README.md`.
//!
//! Sessions: the page keeps the access token from `POST /api/auth/login` in `sessionStorage`
//! and sends it as `Authorization: Bearer` — a header a cross-site page cannot make a browser
//! send, so mutating requests are CSRF-safe; the httpOnly `refreshToken` and `token` cookies
//! are `SameSite=Lax`. Assets carry their own Content-Security-Policy (scripts and styles from
//! this origin only) and a Permissions-Policy that lets this origin use the camera (webcam
//! face enrolment); the API keeps the platform's stricter defaults.

use std::{
    borrow::Cow,
    sync::{Arc, LazyLock},
};

use axum::{
    extract::Path,
    http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
    Router,
};
use sha2::{Digest, Sha256};

use platform::{
    domain::{DashboardModule, Domain, DomainSet},
    state::AppState,
};

use crate::Domains;

/// The policy of every dashboard response: same-origin scripts, styles, API and Socket.IO
/// calls; images and video also from `blob:`/`data:` (snapshots, the webcam preview).
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'; \
    form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// The camera for webcam face enrolment, nothing else.
const PERMISSIONS: &str = "camera=(self), microphone=(), geolocation=()";

/// One served file.
struct Asset {
    name: Cow<'static, str>,
    content_type: &'static str,
    body: Cow<'static, str>,
    /// A strong validator: the first 12 bytes of the body's SHA-256.
    etag: HeaderValue,
}

impl Asset {
    fn new(
        name: impl Into<Cow<'static, str>>,
        content_type: &'static str,
        body: impl Into<Cow<'static, str>>,
    ) -> Self {
        let body = body.into();
        let digest = Sha256::digest(body.as_bytes());
        let etag = HeaderValue::from_str(&format!("\"{}\"", hex::encode(&digest[..12])))
            .unwrap_or_else(|_| HeaderValue::from_static("\"0\""));
        Asset {
            name: name.into(),
            content_type,
            body,
            etag,
        }
    }
}

const JS: &str = "text/javascript; charset=utf-8";

/// The shell's own files under `/assets/`: the core modules and what they need.
const SHELL: &[(&str, &str, &str)] = &[
    ("main.js", JS, include_str!("assets/main.js")),
    ("api.js", JS, include_str!("assets/api.js")),
    ("dom.js", JS, include_str!("assets/dom.js")),
    ("i18n.js", JS, include_str!("assets/i18n.js")),
    ("realtime.js", JS, include_str!("assets/realtime.js")),
    ("router.js", JS, include_str!("assets/router.js")),
    ("platform.js", JS, include_str!("assets/platform.js")),
    ("charts.js", JS, include_str!("assets/charts.js")),
    (
        "app.css",
        "text/css; charset=utf-8",
        include_str!("assets/app.css"),
    ),
    ("icon.svg", "image/svg+xml", include_str!("assets/icon.svg")),
    (
        "vendor/socket.io.min.js",
        JS,
        include_str!("assets/vendor/socket.io.min.js"),
    ),
    (
        "vendor/chart.umd.js",
        JS,
        include_str!("assets/vendor/chart.umd.js"),
    ),
];

static INDEX: LazyLock<Asset> = LazyLock::new(|| {
    Asset::new(
        "index.html",
        "text/html; charset=utf-8",
        include_str!("assets/index.html"),
    )
});

/// Everything under `/assets/`: the shell's files, every domain's module at
/// `domains/{name}.js`, and `domains.json`, the list of those modules' names that `main.js`
/// imports.
static ASSETS: LazyLock<Vec<Asset>> = LazyLock::new(|| assets(&Domains::domains()));

fn assets(domains: &[Arc<dyn Domain>]) -> Vec<Asset> {
    let modules: Vec<DashboardModule> = domains.iter().filter_map(|d| d.dashboard()).collect();
    let names: Vec<&str> = modules.iter().map(|m| m.name).collect();
    let list = serde_json::to_string(&names).unwrap_or_else(|_| "[]".to_owned());
    SHELL
        .iter()
        .map(|&(name, content_type, body)| Asset::new(name, content_type, body))
        .chain(
            modules
                .iter()
                .map(|m| Asset::new(format!("domains/{}.js", m.name), JS, m.source)),
        )
        .chain(std::iter::once(Asset::new(
            "domains.json",
            "application/json",
            list,
        )))
        .collect()
}

/// `/` and `/assets/*`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(index))
        .route("/favicon.ico", get(favicon))
        .route("/assets/{*name}", get(asset))
}

async fn index(headers: HeaderMap) -> Response {
    serve(&INDEX, &headers)
}

async fn favicon(headers: HeaderMap) -> Response {
    asset(Path("icon.svg".to_owned()), headers).await
}

async fn asset(Path(name): Path<String>, headers: HeaderMap) -> Response {
    match ASSETS.iter().find(|a| a.name == name) {
        Some(asset) => serve(asset, &headers),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// The asset, or `304` when the browser already has this version. `no-cache` makes the
/// browser revalidate, so a new binary's pages are never mixed with an old script.
fn serve(asset: &Asset, request: &HeaderMap) -> Response {
    let etag = &asset.etag;
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
        asset.body.clone(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn embedded(name: &str) -> bool {
        ASSETS.iter().any(|a| a.name == name)
    }

    #[test]
    fn every_asset_the_shell_links_is_embedded() {
        for reference in INDEX.body.split("/assets/").skip(1) {
            let name = reference.split(['"', '?']).next().unwrap_or_default();
            assert!(
                embedded(name),
                "index.html links /assets/{name}, which is not embedded"
            );
        }
    }

    /// Every relative `import … from './x.js'` / `'../x.js'` of a served module resolves to
    /// a served file (domain modules live in `domains/`, so `../` is the shell's folder).
    #[test]
    fn every_module_import_is_served() {
        for asset in ASSETS.iter().filter(|a| a.name.ends_with(".js")) {
            let folder = asset.name.rsplit_once('/').map_or("", |(dir, _)| dir);
            for spec in asset.body.split(" from '").skip(1) {
                let spec = spec.split('\'').next().unwrap_or_default();
                let target = if let Some(rest) = spec.strip_prefix("../") {
                    let parent = folder.rsplit_once('/').map_or("", |(dir, _)| dir);
                    if parent.is_empty() {
                        rest.to_owned()
                    } else {
                        format!("{parent}/{rest}")
                    }
                } else if let Some(rest) = spec.strip_prefix("./") {
                    if folder.is_empty() {
                        rest.to_owned()
                    } else {
                        format!("{folder}/{rest}")
                    }
                } else {
                    panic!("{}: import of {spec:?} is neither ./ nor ../", asset.name)
                };
                assert!(
                    embedded(&target),
                    "{} imports {spec}, which is not served",
                    asset.name
                );
            }
        }
    }

    #[test]
    fn every_domain_module_is_served_and_listed() {
        let domains = Domains::domains();
        let list = ASSETS
            .iter()
            .find(|a| a.name == "domains.json")
            .expect("domains.json");
        let names: Vec<String> = serde_json::from_str(&list.body).expect("a JSON list");
        for domain in &domains {
            let Some(module) = domain.dashboard() else {
                continue;
            };
            assert_eq!(
                module.name,
                domain.name(),
                "a module is named after its domain"
            );
            assert!(
                names.iter().any(|n| n == module.name),
                "{} not listed",
                module.name
            );
            let served = ASSETS
                .iter()
                .find(|a| a.name == format!("domains/{}.js", module.name))
                .expect("the module is served");
            assert_eq!(served.body, module.source);
            assert!(served.body.starts_with("// @ts-check"));
        }
        assert_eq!(
            names.len(),
            8,
            "every domain of this cloud has pages: {names:?}"
        );
    }

    #[test]
    fn etags_differ_between_assets() {
        let mut tags: Vec<_> = std::iter::once(&*INDEX)
            .chain(ASSETS.iter())
            .map(|a| &a.etag)
            .collect();
        tags.sort_by_key(|t| t.as_bytes().to_vec());
        tags.dedup();
        assert_eq!(tags.len(), ASSETS.len() + 1);
    }
}
