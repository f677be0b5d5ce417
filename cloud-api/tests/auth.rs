//! Sessions and security on both databases: login by email, phone, NIK and the one `login`
//! field (any identifier, employee number and username too); refresh
//! rotation with reuse detection; expiry with the controllable clock; logout; role guards;
//! rate limits and uniform answers; the audit trail; headers, CORS, 422s; Google sign-in
//! against a local JWKS server with a key the test generates.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use cloud_api::{
    db_tests,
    platform::identity::{create_user, Email, EmployeeNo, NewUser, Nik, Phone, Username},
    testkit::{Backend, BrokerKind, TestCloud},
};
use common::*;
use reqwest::{header, StatusCode};
use serde_json::{json, Value};

db_tests!(
    login_by_every_identifier,
    refresh_rotates_and_reuse_revokes_the_family,
    tokens_expire_with_the_clock,
    logout_ends_the_session,
    role_guards_and_audit_trail,
    failed_logins_are_throttled_uniformly,
    google_sign_in_against_a_local_jwks,
    concurrent_sessions_rotate_without_errors,
    disabling_a_user_ends_their_sessions_at_once,
);

const PASSWORD: &str = "kata-sandi-kuat";
const NIK: &str = "3201234567890001";

async fn member(tc: &TestCloud) -> Value {
    let view = create_user(
        tc.cloud().database(),
        &cloud_api::testkit::role_catalog(),
        NewUser {
            email: Some(Email::parse("siti@gerbang.test").unwrap()),
            phone: Some(Phone::parse("0812-3456-7890").unwrap()),
            nik: Some(Nik::parse(NIK).unwrap()),
            username: Some(Username::parse("siti.k").unwrap()),
            employee_no: Some(EmployeeNo::parse("dpr007").unwrap()),
            name: "Siti".into(),
            password: PASSWORD.into(),
            roles: [("access", "member"), ("meals", "dapur")]
                .map(|(d, r)| (d.to_owned(), r.to_owned()))
                .into(),
            department: Some("7".into()),
            ..NewUser::default()
        },
    )
    .await
    .unwrap();
    serde_json::to_value(view).unwrap()
}

async fn login(tc: &TestCloud, body: Value) -> reqwest::Response {
    http()
        .post(tc.url("/api/auth/login"))
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// `name=value` of a Set-Cookie header of `response`.
fn set_cookie(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(str::to_owned)
}

fn cookie_value(set_cookie: &str) -> String {
    set_cookie
        .split(';')
        .next()
        .and_then(|p| p.split_once('='))
        .map(|(_, v)| v.to_owned())
        .unwrap()
}

/// The status of `GET /api/auth/me` with `token`.
async fn me(tc: &TestCloud, token: impl std::fmt::Display) -> StatusCode {
    http()
        .get(tc.url("/api/auth/me"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
}

async fn refresh(tc: &TestCloud, token: &str) -> reqwest::Response {
    http()
        .post(tc.url("/api/auth/refresh"))
        .header(header::COOKIE, format!("refreshToken={token}"))
        .send()
        .await
        .unwrap()
}

async fn login_by_every_identifier(backend: Backend) {
    let tc = start(backend).await;
    let user = member(&tc).await;
    assert_eq!(user["phone"], "6281234567890");
    for body in [
        json!({"email": "SITI@gerbang.test", "password": PASSWORD}),
        json!({"phone": "+62 812 3456 7890", "password": PASSWORD}),
        json!({"phone": "6281234567890", "password": PASSWORD}),
        json!({"nik": NIK, "password": PASSWORD}),
        // The dashboard's single field: whichever identifier it is.
        json!({"login": "siti@gerbang.test", "password": PASSWORD}),
        json!({"login": NIK, "password": PASSWORD}),
        json!({"login": "0812-3456-7890", "password": PASSWORD}),
        json!({"login": "DPR007", "password": PASSWORD}),
        json!({"login": "Siti.K", "password": PASSWORD}),
    ] {
        let response = login(&tc, body.clone()).await;
        let refresh_cookie = set_cookie(&response, "refreshToken").expect("refresh cookie");
        assert!(refresh_cookie.contains("HttpOnly"), "{refresh_cookie}");
        assert!(refresh_cookie.contains("SameSite=Lax"), "{refresh_cookie}");
        assert!(
            !refresh_cookie.contains("Secure"),
            "plain HTTP: {refresh_cookie}"
        );
        let (status, session) = json(response).await;
        assert_eq!(status, StatusCode::OK, "{body}: {session}");
        assert_eq!(session["user"]["id"], user["id"]);
        assert_eq!(session["user"]["role"], "member");
        assert_eq!(session["user"]["roles"]["meals"], "dapur");
        assert!(session["user"].get("password_hash").is_none());
        let token = session["accessToken"].as_str().unwrap();
        let (status, me) = json(
            http()
                .get(tc.url("/api/auth/me"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(me["user"]["nik"], NIK);
    }
    // Wrong password and unknown account: the same answer.
    for (body, message) in [
        (
            json!({"nik": NIK, "password": "salah-sekali"}),
            "NIK atau password salah",
        ),
        (
            json!({"nik": "3201234567890009", "password": "salah-sekali"}),
            "NIK atau password salah",
        ),
        (
            json!({"phone": "08999999999", "password": PASSWORD}),
            "Nomor HP atau password salah",
        ),
    ] {
        let (status, answer) = json(login(&tc, body).await).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(answer["message"], message);
    }
    // `login` naming nobody: the same refusal as a wrong password, counted for that name.
    let (status, _) =
        json(login(&tc, json!({"login": "nobody-here", "password": PASSWORD})).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, answer) =
        json(login(&tc, json!({"login": "#?", "password": PASSWORD})).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    // Malformed identifiers and bodies say what is wrong.
    let (status, answer) = json(login(&tc, json!({"nik": "ADM001", "password": "x"})).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(answer["message"], "NIK harus 16 digit angka");
    let (status, answer) = json(login(&tc, json!({"email": 42, "password": "x"})).await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        answer["message"]
            .as_str()
            .unwrap()
            .starts_with("Isi JSON tidak sesuai"),
        "{answer}"
    );
    let (status, answer) = json(
        http()
            .post(tc.url("/api/auth/login"))
            .header(header::CONTENT_TYPE, "application/json")
            .body("{not json")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    tc.stop().await;
}

async fn refresh_rotates_and_reuse_revokes_the_family(backend: Backend) {
    let tc = start(backend).await;
    member(&tc).await;
    let response = login(&tc, json!({"nik": NIK, "password": PASSWORD})).await;
    let first = cookie_value(&set_cookie(&response, "refreshToken").unwrap());

    // Without a cookie: 401.
    let (status, _) = json(
        http()
            .post(tc.url("/api/auth/refresh"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let response = refresh(&tc, &first).await;
    assert_eq!(response.status(), StatusCode::OK);
    let second = cookie_value(&set_cookie(&response, "refreshToken").unwrap());
    assert_ne!(first, second);
    let (_, body) = json(response).await;
    let access = body["accessToken"].as_str().unwrap().to_owned();
    let response = refresh(&tc, &second).await;
    assert_eq!(response.status(), StatusCode::OK);
    let third = cookie_value(&set_cookie(&response, "refreshToken").unwrap());

    // The first token again: theft assumed; the whole family goes, including the newest.
    let (status, body) = json(refresh(&tc, &first).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["message"], "Sesi tidak valid, silakan login kembali");
    assert_eq!(
        refresh(&tc, &third).await.status(),
        StatusCode::UNAUTHORIZED
    );
    // Access tokens already issued stay valid until they expire (they are short).
    let me = http()
        .get(tc.url("/api/auth/me"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK);

    // A new login starts a new family, untouched by the revoked one.
    let response = login(&tc, json!({"nik": NIK, "password": PASSWORD})).await;
    let fresh = cookie_value(&set_cookie(&response, "refreshToken").unwrap());
    assert_eq!(refresh(&tc, &fresh).await.status(), StatusCode::OK);

    let admin = admin_token(&tc).await;
    let (_, audit) = json(
        http()
            .get(tc.url("/api/audit?action=refresh_token_reuse"))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    let entries = audit["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{audit}");
    assert_eq!(entries[0]["success"], false);
    assert_eq!(entries[0]["ip"], "127.0.0.1");
    // The three tokens of the family (two used, the newest unused) were revoked.
    assert_eq!(entries[0]["detail"]["revoked"], 3);
    tc.stop().await;
}

async fn tokens_expire_with_the_clock(backend: Backend) {
    let tc = start(backend).await;
    member(&tc).await;
    let response = login(
        &tc,
        json!({"email": "siti@gerbang.test", "password": PASSWORD}),
    )
    .await;
    let refresh_token = cookie_value(&set_cookie(&response, "refreshToken").unwrap());
    let access_cookie = cookie_value(&set_cookie(&response, "token").unwrap());
    let (_, body) = json(response).await;
    let access = body["accessToken"].as_str().unwrap().to_owned();
    assert_eq!(body["expiresIn"], 900);
    assert_eq!(access_cookie, access);
    let clock = &tc.cloud().platform().clock;

    clock.advance(Duration::from_secs(14 * 60));
    assert_eq!(me(&tc, access.clone()).await, StatusCode::OK);
    clock.advance(Duration::from_secs(2 * 60));
    assert_eq!(me(&tc, access.clone()).await, StatusCode::UNAUTHORIZED);

    // The refresh token still works (7 days) and yields a working access token.
    let response = refresh(&tc, &refresh_token).await;
    let rotated = cookie_value(&set_cookie(&response, "refreshToken").unwrap());
    let (status, body) = json(response).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        me(&tc, body["accessToken"].as_str().unwrap().to_owned()).await,
        StatusCode::OK
    );

    // Past the refresh lifetime: refused.
    clock.advance(Duration::from_secs(7 * 24 * 3600 + 60));
    assert_eq!(
        refresh(&tc, &rotated).await.status(),
        StatusCode::UNAUTHORIZED
    );
    tc.stop().await;
}

async fn logout_ends_the_session(backend: Backend) {
    let tc = start(backend).await;
    member(&tc).await;
    let response = login(&tc, json!({"phone": "081234567890", "password": PASSWORD})).await;
    let refresh_token = cookie_value(&set_cookie(&response, "refreshToken").unwrap());
    let response = http()
        .post(tc.url("/api/auth/logout"))
        .header(header::COOKIE, format!("refreshToken={refresh_token}"))
        .send()
        .await
        .unwrap();
    let cleared = set_cookie(&response, "refreshToken").unwrap();
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    assert!(set_cookie(&response, "token")
        .unwrap()
        .contains("Max-Age=0"));
    let (status, body) = json(response).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["message"], "Logout berhasil");
    assert_eq!(
        refresh(&tc, &refresh_token).await.status(),
        StatusCode::UNAUTHORIZED
    );
    // Logging out without a session is fine too.
    let response = http()
        .post(tc.url("/api/auth/logout"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    tc.stop().await;
}

async fn role_guards_and_audit_trail(backend: Backend) {
    let tc = start(backend).await;
    member(&tc).await;
    let (_, body) = json(login(&tc, json!({"nik": NIK, "password": PASSWORD})).await).await;
    let member_token = body["accessToken"].as_str().unwrap().to_owned();
    let admin = admin_token(&tc).await;

    // Members: not admins of the access domain.
    for (method, path) in [
        ("GET", "/api/audit"),
        ("GET", "/api/devices"),
        ("POST", "/api/door/control"),
        ("POST", "/api/notifications"),
    ] {
        let request = match method {
            "GET" => http().get(tc.url(path)),
            _ => http()
                .post(tc.url(path))
                .json(&json!({"action": "unlock", "title": "t", "message": "m"})),
        };
        let (status, body) = json(request.bearer_auth(&member_token).send().await.unwrap()).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}: {body}");
        assert_eq!(body["message"], "Anda tidak memiliki akses");
    }
    // A privileged action lands in the audit trail with who and from where.
    let (status, _) = json(
        http()
            .post(tc.url("/api/devices"))
            .bearer_auth(&admin)
            .json(&json!({"site": "hq", "device_id": "door-9", "name": "Gudang"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, audit) = json(
        http()
            .get(tc.url("/api/audit"))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{audit}");
    let entries = audit["entries"].as_array().unwrap();
    let created = entries
        .iter()
        .find(|e| e["action"] == "device_create")
        .unwrap();
    assert_eq!(created["actor"], tc.admin_email);
    assert_eq!(created["target"], "device:door-9");
    assert_eq!(created["ip"], "127.0.0.1");
    assert!(created["at"].is_string());
    let logins = entries.iter().filter(|e| e["action"] == "login").count();
    assert_eq!(logins, 2, "{audit}");

    // Security headers on every answer; no HSTS over plain HTTP.
    let response = http().get(tc.url("/health")).send().await.unwrap();
    let headers = response.headers();
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["x-frame-options"], "DENY");
    assert!(headers.get("content-security-policy").is_some());
    assert!(headers.get("strict-transport-security").is_none());
    tc.stop().await;
}

async fn failed_logins_are_throttled_uniformly(backend: Backend) {
    let tc = start(backend).await;
    member(&tc).await;
    // An existing account and an unknown one are throttled alike, after the same count.
    for nik in [NIK, "3201234567890077"] {
        let mut statuses = Vec::new();
        for _ in 0..7 {
            let response = login(&tc, json!({"nik": nik, "password": "tebakan-salah"})).await;
            statuses.push(response.status().as_u16());
            if response.status() == StatusCode::TOO_MANY_REQUESTS {
                assert!(response.headers().get(header::RETRY_AFTER).is_some());
                let (_, body) = json(response).await;
                assert!(body["message"]
                    .as_str()
                    .unwrap()
                    .starts_with("Terlalu banyak percobaan"));
            }
        }
        assert_eq!(statuses, [401, 401, 401, 401, 401, 429, 429], "{nik}");
    }
    // Even the right password is refused while the account is throttled.
    let response = login(&tc, json!({"nik": NIK, "password": PASSWORD})).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    // Other accounts are unaffected.
    admin_token(&tc).await;
    let (_, audit) = json(
        http()
            .get(tc.url("/api/audit?action=login_failed"))
            .bearer_auth(admin_token(&tc).await)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(audit["entries"].as_array().unwrap().len(), 10, "{audit}");
    tc.stop().await;
}

/// Per address: a burst, then 429 for every kind of sign-in attempt.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_attempts_are_limited_per_address() {
    let tc = TestCloud::start_with(Backend::Sqlite, BrokerKind::Embedded, |c| {
        c.security.auth_ip_burst = 4;
        c.security.auth_ip_period_ms = 60_000;
        c.security.cors_origins = vec!["https://dash.gerbang.test".into()];
        c.public_url = Some("https://cloud.gerbang.test".into());
    })
    .await;
    let mut statuses = Vec::new();
    for i in 0..6 {
        let body = json!({"email": format!("u{i}@gerbang.test"), "password": "x"});
        statuses.push(login(&tc, body).await.status().as_u16());
    }
    assert_eq!(statuses, [401, 401, 401, 401, 429, 429]);
    assert_eq!(
        refresh(&tc, "whatever").await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );

    // HTTPS public URL: HSTS, and cookies would be Secure.
    let response = http().get(tc.url("/health")).send().await.unwrap();
    assert!(response.headers()["strict-transport-security"]
        .to_str()
        .unwrap()
        .starts_with("max-age="));
    // CORS: the configured origin with credentials; others get no grant.
    let preflight = |origin: &'static str| {
        http()
            .request(reqwest::Method::OPTIONS, tc.url("/api/auth/login"))
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header("Access-Control-Request-Headers", "content-type")
            .send()
    };
    let allowed = preflight("https://dash.gerbang.test").await.unwrap();
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://dash.gerbang.test"
    );
    assert_eq!(
        allowed.headers()["access-control-allow-credentials"],
        "true"
    );
    let denied = preflight("https://evil.example").await.unwrap();
    assert!(denied
        .headers()
        .get("access-control-allow-origin")
        .is_none());
    tc.stop().await;
}

/// A JWKS server on port 0 with a key this test generates.
struct Jwks {
    url: String,
    encoding: jsonwebtoken::EncodingKey,
    _server: tokio::task::JoinHandle<()>,
}

async fn jwks() -> Jwks {
    use base64::Engine;
    use rsa::{pkcs1::EncodeRsaPrivateKey, traits::PublicKeyParts};
    let key = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).unwrap();
    let b64 = |bytes: Vec<u8>| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let set = json!({"keys": [{
        "kty": "RSA", "alg": "RS256", "use": "sig", "kid": "test-key",
        "n": b64(key.n().to_bytes_be()), "e": b64(key.e().to_bytes_be()),
    }]});
    let pem = key.to_pkcs1_pem(rsa::pkcs1::LineEnding::LF).unwrap();
    let encoding = jsonwebtoken::EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/certs", listener.local_addr().unwrap());
    let app = axum::Router::new().route(
        "/certs",
        axum::routing::get(move || {
            let set = set.clone();
            async move { axum::Json(set) }
        }),
    );
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Jwks {
        url,
        encoding,
        _server: server,
    }
}

fn id_token(jwks: &Jwks, kid: &str, claims: Value) -> String {
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some(kid.into());
    jsonwebtoken::encode(&header, &claims, &jwks.encoding).unwrap()
}

async fn google_sign_in_against_a_local_jwks(backend: Backend) {
    let jwks = jwks().await;
    let url = jwks.url.clone();
    let tc = TestCloud::start_with(backend, BrokerKind::Embedded, move |c| {
        c.google.client_ids = vec!["gerbang-web.apps.googleusercontent.com".into()];
        c.google.jwks_url = url;
    })
    .await;
    member(&tc).await;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let claims = |sub: &str, email: &str, aud: &str, exp: i64| {
        json!({
            "iss": "https://accounts.google.com", "aud": aud, "sub": sub,
            "email": email, "email_verified": true, "name": "Siti G",
            "iat": now, "exp": exp,
        })
    };
    let aud = "gerbang-web.apps.googleusercontent.com";
    let google = |token: String| {
        let url = tc.url("/api/auth/google");
        async move {
            http()
                .post(url)
                .json(&json!({"idToken": token}))
                .send()
                .await
                .unwrap()
        }
    };

    // A verified email of an existing user links that account.
    let response = google(id_token(
        &jwks,
        "test-key",
        claims("g-1", "siti@gerbang.test", aud, now + 600),
    ))
    .await;
    assert!(set_cookie(&response, "refreshToken").is_some());
    let (status, body) = json(response).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["user"]["nik"], NIK);
    assert_eq!(body["user"]["google_linked"], true);
    // An unknown address signs up as an access member.
    let (status, body) = json(
        google(id_token(
            &jwks,
            "test-key",
            claims("g-2", "baru@gmail.test", aud, now + 600),
        ))
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["user"]["role"], "member");
    assert_eq!(body["user"]["email"], "baru@gmail.test");

    // Wrong audience, expired, unknown key, forged signature: all the same 401.
    let other = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).unwrap();
    let forged = {
        use rsa::pkcs1::EncodeRsaPrivateKey;
        let pem = other.to_pkcs1_pem(rsa::pkcs1::LineEnding::LF).unwrap();
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
        header.kid = Some("test-key".into());
        jsonwebtoken::encode(
            &header,
            &claims("g-1", "siti@gerbang.test", aud, now + 600),
            &jsonwebtoken::EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap(),
        )
        .unwrap()
    };
    for token in [
        id_token(
            &jwks,
            "test-key",
            claims("g-1", "siti@gerbang.test", "someone-else", now + 600),
        ),
        id_token(
            &jwks,
            "test-key",
            claims("g-1", "siti@gerbang.test", aud, now - 3600),
        ),
        id_token(
            &jwks,
            "nope",
            claims("g-1", "siti@gerbang.test", aud, now + 600),
        ),
        forged,
        "not-a-jwt".into(),
    ] {
        let (status, body) = json(google(token).await).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
        assert_eq!(body["message"], "Token Google tidak valid");
    }
    // Expiry follows the platform clock.
    let token = id_token(
        &jwks,
        "test-key",
        claims("g-1", "siti@gerbang.test", aud, now + 600),
    );
    tc.cloud()
        .platform()
        .clock
        .advance(Duration::from_secs(3600));
    assert_eq!(google(token).await.status(), StatusCode::UNAUTHORIZED);
    tc.stop().await;
}

/// `/openapi.json` documents every route; `/docs` serves the (vendored) Swagger UI.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_covers_every_route() {
    let tc = TestCloud::start(Backend::Sqlite, BrokerKind::Embedded).await;
    let (status, doc) = json(http().get(tc.url("/openapi.json")).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    let paths = doc["paths"].as_object().unwrap();
    for (path, method) in [
        ("/health", "get"),
        ("/metrics", "get"),
        ("/api/auth/login", "post"),
        ("/api/auth/refresh", "post"),
        ("/api/auth/logout", "post"),
        ("/api/auth/me", "get"),
        ("/api/auth/google", "post"),
        ("/api/audit", "get"),
        ("/api/notifications", "get"),
        ("/api/notifications", "post"),
        ("/api/notifications/{id}/read", "put"),
        ("/api/notifications/{id}", "delete"),
        ("/api/devices", "get"),
        ("/api/devices", "post"),
        ("/api/device/enroll", "post"),
        ("/api/device/events", "post"),
        ("/api/devices/{id}/commands", "post"),
        ("/api/door/status", "get"),
        ("/api/door/control", "post"),
        ("/api/attendance/daily", "get"),
    ] {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path} missing"
        );
    }
    assert!(doc["components"]["schemas"]["SessionResponse"].is_object());
    assert!(doc["components"]["schemas"]["DailyReport"].is_object());
    // The device API's bodies are described, not left as any object.
    let body_of = |path: &str| {
        doc["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            .as_str()
            .map(str::to_owned)
    };
    assert_eq!(
        body_of("/api/devices/{id}/commands").as_deref(),
        Some("#/components/schemas/Command")
    );
    assert_eq!(
        body_of("/api/device/enroll").as_deref(),
        Some("#/components/schemas/EnrollRequest")
    );
    assert_eq!(
        body_of("/api/device/events").as_deref(),
        Some("#/components/schemas/EventBatchBody")
    );
    let command = doc["components"]["schemas"]["Command"].to_string();
    for kind in [
        "unlock",
        "lock",
        "capture",
        "stream",
        "update_settings",
        "reload_gallery",
    ] {
        assert!(
            command.contains(&format!("\"{kind}\"")),
            "{kind} in {command}"
        );
    }
    let response = http().get(tc.url("/docs/")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(response.text().await.unwrap().contains("swagger"));
    tc.stop().await;
}

/// Several sessions rotating at once (on SQLite a read-then-write transaction would fail
/// with SQLITE_BUSY here; rotation writes first).
async fn concurrent_sessions_rotate_without_errors(backend: Backend) {
    let tc = TestCloud::start_with(backend, BrokerKind::Embedded, |c| {
        c.security.auth_ip_burst = 1000;
    })
    .await;
    member(&tc).await;
    let mut tokens = Vec::new();
    for _ in 0..4 {
        let response = login(&tc, json!({"nik": NIK, "password": PASSWORD})).await;
        tokens.push(cookie_value(
            &set_cookie(&response, "refreshToken").unwrap(),
        ));
    }
    let chains = tokens.into_iter().map(|mut token| {
        let tc = &tc;
        async move {
            for _ in 0..15 {
                let response = refresh(tc, &token).await;
                assert_eq!(response.status(), StatusCode::OK);
                token = cookie_value(&set_cookie(&response, "refreshToken").unwrap());
            }
        }
    });
    futures_join_all(chains).await;
    tc.stop().await;
}

/// Runs futures concurrently on this task (no extra dependency for `join_all`).
async fn futures_join_all<F: std::future::Future<Output = ()>>(futures: impl Iterator<Item = F>) {
    let mut set: Vec<std::pin::Pin<Box<F>>> = futures.map(Box::pin).collect();
    std::future::poll_fn(|cx| {
        set.retain_mut(|f| f.as_mut().poll(cx).is_pending());
        if set.is_empty() {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
}

/// Disabling a user through the users API ends every session they have at once: Bearer
/// access tokens, the seed-001 `token` cookie and refresh tokens (each already used once,
/// so the session-epoch cache is warm). Re-enabling does not bring the old ones back; a
/// fresh login works. A password change ends sessions too.
async fn disabling_a_user_ends_their_sessions_at_once(backend: Backend) {
    // Several logins of one account in a row: above the default per-account burst.
    let tc = TestCloud::start_with(backend, BrokerKind::Embedded, |c| {
        c.security.account_burst = 50;
    })
    .await;
    let admin = admin_token(&tc).await;
    let id = member(&tc).await["id"].as_str().unwrap().to_owned();
    let response = login(
        &tc,
        json!({"email": "siti@gerbang.test", "password": PASSWORD}),
    )
    .await;
    let refresh_token = cookie_value(&set_cookie(&response, "refreshToken").unwrap());
    let (_, body) = json(response).await;
    let bearer = body["accessToken"].as_str().unwrap().to_owned();
    let response = http()
        .post(tc.url("/api/login"))
        .json(&json!({"email": "siti@gerbang.test", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    let seed001 = set_cookie(&response, "token").unwrap();
    let seed001 = seed001.split(';').next().unwrap().to_owned();

    let profile = || async {
        http()
            .get(tc.url("/api/profile"))
            .header(header::COOKIE, &seed001)
            .send()
            .await
            .unwrap()
            .status()
    };
    assert_eq!(me(&tc, bearer.clone()).await, StatusCode::OK);
    assert_eq!(profile().await, StatusCode::OK);
    let response = refresh(&tc, &refresh_token).await;
    assert_eq!(response.status(), StatusCode::OK);
    let refresh_token = cookie_value(&set_cookie(&response, "refreshToken").unwrap());

    let set_user = |patch: Value| {
        let url = tc.url(&format!("/api/users/{id}"));
        let admin = admin.clone();
        async move {
            let (status, body) = json(
                http()
                    .put(url)
                    .bearer_auth(admin)
                    .json(&patch)
                    .send()
                    .await
                    .unwrap(),
            )
            .await;
            assert_eq!(status, StatusCode::OK, "{body}");
        }
    };
    set_user(json!({"enabled": false})).await;
    assert_eq!(me(&tc, bearer.clone()).await, StatusCode::UNAUTHORIZED);
    assert_eq!(profile().await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        refresh(&tc, &refresh_token).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let (status, _) = json(
        login(
            &tc,
            json!({"email": "siti@gerbang.test", "password": PASSWORD}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Other users are not affected.
    assert_eq!(me(&tc, admin.clone()).await, StatusCode::OK);

    set_user(json!({"enabled": true})).await;
    assert_eq!(me(&tc, bearer.clone()).await, StatusCode::UNAUTHORIZED);
    assert_eq!(profile().await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        refresh(&tc, &refresh_token).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let response = login(
        &tc,
        json!({"email": "siti@gerbang.test", "password": PASSWORD}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    let fresh_refresh = cookie_value(&set_cookie(&response, "refreshToken").unwrap());
    let (_, body) = json(response).await;
    let fresh = body["accessToken"].as_str().unwrap().to_owned();
    assert_eq!(me(&tc, fresh.clone()).await, StatusCode::OK);

    // A new password ends the sessions of the old one.
    set_user(json!({"password": "kata-sandi-baru-456"})).await;
    assert_eq!(me(&tc, fresh).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        refresh(&tc, &fresh_refresh).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let response = login(
        &tc,
        json!({"email": "siti@gerbang.test", "password": "kata-sandi-baru-456"}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    tc.stop().await;
}
