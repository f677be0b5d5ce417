//! SAKIP's access for machines and administrators on SQLite and PostgreSQL: API keys of
//! external systems (scoped to an OPD and to actions, shown once, stored hashed, revocable,
//! audited), and TOTP sign-in (enrolment, recovery codes, the challenge, no replay, the
//! `mfa_required` setting), codes computed with `totp-rs`.

#![allow(clippy::unwrap_used)]

mod common;

use cloud_api::{db_tests, testkit::Backend};
use common::{id, Api};
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, Database, Statement};
use serde_json::{json, Value};
use totp_rs::{Algorithm, Secret, TOTP};

db_tests!(api_keys, totp);

/// A request with `X-API-Key: key`; answers the status and body.
async fn with_key(
    api: &Api,
    method: reqwest::Method,
    path: &str,
    key: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = api
        .http
        .request(method, api.url(path))
        .header("X-API-Key", key);
    if let Some(body) = body {
        req = req.json(&body);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    assert_eq!(body["success"], json!(status.is_success()), "{body}");
    (status, body)
}

async fn api_keys(backend: Backend) {
    let api = Api::start(backend).await;
    let root = api.admin().await;
    let a = id(&api
        .create(
            "/opd",
            &root,
            json!({"code": "DINKES", "name": "Dinas Kesehatan"}),
        )
        .await);
    let b = id(&api
        .create(
            "/opd",
            &root,
            json!({"code": "DISDIK", "name": "Dinas Pendidikan"}),
        )
        .await);
    let mut indicators = Vec::new();
    for (opd, code) in [(a, "A"), (b, "B")] {
        let r = id(&api
            .create(
                "/renstra",
                &root,
                json!({"opd_id": opd, "period": "2021-2026"}),
            )
            .await);
        let t = id(&api
            .create(
                "/tujuan",
                &root,
                json!({"renstra_id": r, "code": format!("T{code}"), "name": "Tujuan"}),
            )
            .await);
        let s = id(&api
            .create(
                "/sasaran",
                &root,
                json!({"tujuan_id": t, "code": format!("S{code}"), "name": "Sasaran"}),
            )
            .await);
        let i = id(&api.create("/indicators", &root, json!({"parent_type": "sasaran", "parent_id": s, "name": "Cakupan", "polarity": "higher_better"})).await);
        api.put(
            &format!("/indicators/{i}/targets"),
            &root,
            json!([{"year": 2025, "target_value": 80}]),
        )
        .await;
        indicators.push(i);
    }
    let (ia, ib) = (indicators[0], indicators[1]);

    // Only a super_admin creates keys; bad scopes, no scopes, unknown OPDs are refused.
    let viewer = api.user(&root, "pemantau", "viewer", None).await;
    let good = json!({"name": "SIPD push", "opd_id": a, "scopes": ["achievements:write", "performance:read"]});
    assert_eq!(
        api.post("/api-keys", &viewer, good.clone()).await.0,
        StatusCode::FORBIDDEN
    );
    for bad in [
        json!({"name": "x", "opd_id": a, "scopes": ["everything"]}),
        json!({"name": "x", "opd_id": a, "scopes": []}),
        json!({"name": "", "opd_id": a, "scopes": ["budget:read"]}),
    ] {
        assert_eq!(
            api.post("/api-keys", &root, bad).await.0,
            StatusCode::BAD_REQUEST
        );
    }
    assert_eq!(
        api.post(
            "/api-keys",
            &root,
            json!({"name": "x", "opd_id": 9999, "scopes": ["budget:read"]})
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
    let made = api.create("/api-keys", &root, good).await;
    let key = made["key"].as_str().unwrap().to_owned();
    assert!(key.starts_with("sakip_") && key.len() > 40, "{made}");
    let key_id = id(&made);

    // Listed without the secret (only its first characters).
    let (status, list) = api.get("/api-keys", &root).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["data"]["total"], 1);
    let listed = list["data"]["items"][0].clone();
    assert!(listed.get("key").is_none(), "{listed}");
    assert!(!list.to_string().contains(&key));
    assert_eq!(
        listed["scopes"],
        json!(["achievements:write", "performance:read"])
    );
    assert!(key.starts_with(listed["prefix"].as_str().unwrap()));

    // Within scope: writes its OPD's achievements, reads its OPD's data.
    let (status, out) = with_key(
        &api,
        reqwest::Method::POST,
        "/performance/achievements",
        &key,
        Some(json!({"indicator_id": ia, "year": 2025, "achievement_value": 40})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert_eq!(out["data"]["percentage"], "50.00");
    let (status, data) = with_key(
        &api,
        reqwest::Method::GET,
        "/performance/data?year=2025",
        &key,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(data["data"].as_array().unwrap().len(), 1, "{data}");

    // Outside its OPD or its actions: 403, nothing changed.
    let (status, _) = with_key(
        &api,
        reqwest::Method::POST,
        "/performance/achievements",
        &key,
        Some(json!({"indicator_id": ib, "year": 2025, "achievement_value": 40})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = with_key(
        &api,
        reqwest::Method::GET,
        &format!("/performance/data?year=2025&opd_id={b}"),
        &key,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = with_key(
        &api,
        reqwest::Method::POST,
        "/budget/allocations",
        &key,
        Some(json!({"opd_id": a, "year": 2025, "category": "belanja_barang", "allocation_amount": 1, "sipd_code": "K-1"})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    for path in ["/opd", "/users", "/api-keys", "/budget/summary?year=2025"] {
        assert_eq!(
            with_key(&api, reqwest::Method::GET, path, &key, None)
                .await
                .0,
            StatusCode::FORBIDDEN,
            "{path}"
        );
    }
    let (_, all) = api.get("/performance/data?year=2025", &root).await;
    assert_eq!(all["data"].as_array().unwrap().len(), 1, "{all}");
    let (_, allocations) = api.get("/budget/allocations", &root).await;
    assert_eq!(allocations["data"]["total"], 0);

    // A budget key writes the budget of its OPD only.
    let budget = api
        .create(
            "/api-keys",
            &root,
            json!({"name": "Keuangan", "opd_id": a, "scopes": ["budget:write", "budget:read"]}),
        )
        .await;
    let budget_key = budget["key"].as_str().unwrap().to_owned();
    let (status, out) = with_key(
        &api,
        reqwest::Method::POST,
        "/budget/allocations",
        &budget_key,
        Some(json!({"opd_id": a, "year": 2025, "category": "belanja_barang", "allocation_amount": "1000.50", "sipd_code": "K-1"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{out}");
    let (status, _) = with_key(
        &api,
        reqwest::Method::POST,
        "/budget/allocations",
        &budget_key,
        Some(json!({"opd_id": b, "year": 2025, "category": "belanja_barang", "allocation_amount": 1, "sipd_code": "K-2"})),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = with_key(
        &api,
        reqwest::Method::GET,
        "/performance/data?year=2025",
        &budget_key,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Unknown keys and revoked keys: 401, in English when asked.
    let (status, out) = with_key(
        &api,
        reqwest::Method::GET,
        "/performance/data?year=2025",
        "sakip_nope",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        out["error"]["message"],
        "API key tidak valid atau sudah dicabut"
    );
    assert_eq!(
        api.call(
            reqwest::Method::DELETE,
            &format!("/api-keys/{key_id}"),
            &viewer,
            None
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    let (status, revoked) = api
        .call(
            reqwest::Method::DELETE,
            &format!("/api-keys/{key_id}"),
            &root,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(revoked["data"]["revoked_at"].is_string());
    let res = api
        .http
        .get(api.url("/performance/data?year=2025"))
        .header("X-API-Key", &key)
        .header("Accept-Language", "en")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let out: Value = res.json().await.unwrap();
    assert_eq!(out["error"]["message"], "Invalid or revoked API key");
    assert_eq!(
        api.call(reqwest::Method::DELETE, "/api-keys/9999", &root, None)
            .await
            .0,
        StatusCode::NOT_FOUND
    );

    // Audited: creation, revocation, and the key's own write under its actor.
    let audit: Value = api
        .http
        .get(api.tc.url("/api/audit?limit=200"))
        .bearer_auth(&root)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let entries = audit.to_string();
    assert!(entries.contains("sakip_api_key_created"), "{entries}");
    assert!(entries.contains("sakip_api_key_revoked"), "{entries}");
    assert!(entries.contains("api-key:SIPD push"), "{entries}");
    assert!(!entries.contains(&key));
    api.tc.stop().await;
}

fn authenticator(secret: &str) -> TOTP {
    let bytes = Secret::Encoded(secret.to_owned()).to_bytes().unwrap();
    TOTP::new(
        Algorithm::SHA1,
        6,
        1,
        30,
        bytes,
        Some("Gerbang".into()),
        "t".into(),
    )
    .unwrap()
}

async fn login(api: &Api) -> (StatusCode, Value) {
    let body = json!({"username": api.tc.admin_email, "password": api.tc.admin_password});
    api.post("/auth/login", "", body).await
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

async fn totp(backend: Backend) {
    let api = Api::with(backend, json!({"mfa_required": true})).await;
    let root = api.admin().await;

    // Mandatory: a super_admin who has not enrolled may only enrol, see itself, sign out.
    let (status, out) = api.get("/opd", &root).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{out}");
    assert!(
        out["error"]["message"]
            .as_str()
            .unwrap()
            .contains("dua faktor"),
        "{out}"
    );
    assert_eq!(api.get("/auth/me", &root).await.0, StatusCode::OK);
    let (status, _) = api
        .post("/auth/mfa/confirm", &root, json!({"code": "123456"}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "confirm before enrol");

    let (status, enrolment) = api.post("/auth/mfa/enrol", &root, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{enrolment}");
    let secret = enrolment["data"]["secret"].as_str().unwrap().to_owned();
    assert!(enrolment["data"]["otpauth_uri"]
        .as_str()
        .unwrap()
        .starts_with("otpauth://totp/Gerbang:"));
    assert!(enrolment["data"]["qr_png_base64"].as_str().unwrap().len() > 100);
    let otp = authenticator(&secret);
    for bad in [json!({"code": "000000"}), json!({"code": "abc"}), json!({})] {
        assert_eq!(
            api.post("/auth/mfa/confirm", &root, bad).await.0,
            StatusCode::BAD_REQUEST
        );
    }
    let now = unix_now();
    let first = otp.generate(now);
    let (status, confirmed) = api
        .post("/auth/mfa/confirm", &root, json!({"code": first}))
        .await;
    assert_eq!(status, StatusCode::OK, "{confirmed}");
    let recovery: Vec<String> = confirmed["data"]["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(recovery.len(), 10);
    assert_eq!(
        api.post("/auth/mfa/enrol", &root, json!({})).await.0,
        StatusCode::CONFLICT
    );
    assert_eq!(
        api.get("/opd", &root).await.0,
        StatusCode::OK,
        "enrolled: the gate opens"
    );

    // Sealed at rest: neither the secret nor a recovery code is stored as such.
    let db = Database::connect(api.tc.database_url()).await.unwrap();
    let rows = db
        .query_all(Statement::from_string(
            db.get_database_backend(),
            "SELECT secret_sealed, recovery_codes FROM user_mfa".to_owned(),
        ))
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    let sealed: String = rows[0].try_get("", "secret_sealed").unwrap();
    let stored_codes: String = rows[0].try_get("", "recovery_codes").unwrap();
    assert!(!sealed.contains(&secret) && !stored_codes.contains(&recovery[0]));

    // Login now answers a challenge; the code completes it, once per time step.
    let (status, challenged) = login(&api).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(challenged["data"]["mfa_required"], true);
    assert!(challenged["data"]["token"].is_null());
    let challenge = challenged["data"]["challenge_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let verify = |token: &str, code: &str| json!({"challenge_token": token, "code": code});
    let (status, _) = api
        .post("/auth/mfa/verify", "", verify(&challenge, "000000"))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = api
        .post("/auth/mfa/verify", "", verify(&challenge, &first))
        .await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "a spent time step is not accepted again"
    );
    let (status, _) = api
        .post(
            "/auth/mfa/verify",
            "",
            verify("mfa_unknown", &otp.generate(now + 30)),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, session) = api
        .post(
            "/auth/mfa/verify",
            "",
            verify(&challenge, &otp.generate(now + 30)),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{session}");
    let token = session["data"]["token"].as_str().unwrap().to_owned();
    assert_eq!(api.get("/opd", &token).await.0, StatusCode::OK);
    let (status, _) = api
        .post(
            "/auth/mfa/verify",
            "",
            verify(&challenge, &otp.generate(now + 60)),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "a challenge is spent");

    // A recovery code works once.
    let (_, again) = login(&api).await;
    let challenge = again["data"]["challenge_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _) = api
        .post(
            "/auth/mfa/verify",
            "",
            verify(&challenge, &recovery[0].to_lowercase()),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, again) = login(&api).await;
    let challenge = again["data"]["challenge_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _) = api
        .post("/auth/mfa/verify", "", verify(&challenge, &recovery[0]))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // The platform's own login challenges an enrolled user too.
    let res = api
        .http
        .post(api.tc.url("/api/auth/login"))
        .json(&json!({"email": api.tc.admin_email, "password": api.tc.admin_password}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["mfa_required"], true);
    assert!(body["challenge_token"].is_string());

    // admin_opd is held at the gate too (in English when asked); a viewer is not.
    let a = id(&api
        .create(
            "/opd",
            &token,
            json!({"code": "DINKES", "name": "Dinas Kesehatan"}),
        )
        .await);
    let opd_admin = api.user(&token, "admin.a", "admin_opd", Some(a)).await;
    let res = api
        .http
        .get(api.url("/opd"))
        .bearer_auth(&opd_admin)
        .header("Accept-Language", "en")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        body["error"]["message"],
        "Enable two-factor authentication first (POST /auth/mfa/enrol)"
    );
    let viewer = api.user(&token, "pemantau", "viewer", None).await;
    assert_eq!(api.get("/opd", &viewer).await.0, StatusCode::OK);
    api.tc.stop().await;
}
