//! SAKIP's access for machines and administrators on SQLite and PostgreSQL: API keys of
//! external systems (scoped to an OPD and to actions, shown once, stored hashed, revocable,
//! audited).

#![allow(clippy::unwrap_used)]

mod common;

use cloud_api::{db_tests, testkit::Backend};
use common::{id, Api};
use reqwest::StatusCode;
use serde_json::{json, Value};

db_tests!(api_keys);

/// A request with `X-API-Key: key`; answers the status and body.
async fn with_key(
    api: &Api,
    method: reqwest::Method,
    path: &str,
    key: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = api.http.request(method, api.url(path)).header("X-API-Key", key);
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
    let a = id(&api.create("/opd", &root, json!({"code": "DINKES", "name": "Dinas Kesehatan"})).await);
    let b = id(&api.create("/opd", &root, json!({"code": "DISDIK", "name": "Dinas Pendidikan"})).await);
    let mut indicators = Vec::new();
    for (opd, code) in [(a, "A"), (b, "B")] {
        let r = id(&api.create("/renstra", &root, json!({"opd_id": opd, "period": "2021-2026"})).await);
        let t = id(&api.create("/tujuan", &root, json!({"renstra_id": r, "code": format!("T{code}"), "name": "Tujuan"})).await);
        let s = id(&api.create("/sasaran", &root, json!({"tujuan_id": t, "code": format!("S{code}"), "name": "Sasaran"})).await);
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
    assert_eq!(api.post("/api-keys", &viewer, good.clone()).await.0, StatusCode::FORBIDDEN);
    for bad in [
        json!({"name": "x", "opd_id": a, "scopes": ["everything"]}),
        json!({"name": "x", "opd_id": a, "scopes": []}),
        json!({"name": "", "opd_id": a, "scopes": ["budget:read"]}),
    ] {
        assert_eq!(api.post("/api-keys", &root, bad).await.0, StatusCode::BAD_REQUEST);
    }
    assert_eq!(
        api.post("/api-keys", &root, json!({"name": "x", "opd_id": 9999, "scopes": ["budget:read"]}))
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
    assert_eq!(listed["scopes"], json!(["achievements:write", "performance:read"]));
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
    let (status, data) = with_key(&api, reqwest::Method::GET, "/performance/data?year=2025", &key, None).await;
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
    let (status, _) = with_key(&api, reqwest::Method::GET, &format!("/performance/data?year=2025&opd_id={b}"), &key, None).await;
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
        assert_eq!(with_key(&api, reqwest::Method::GET, path, &key, None).await.0, StatusCode::FORBIDDEN, "{path}");
    }
    let (_, all) = api.get("/performance/data?year=2025", &root).await;
    assert_eq!(all["data"].as_array().unwrap().len(), 1, "{all}");
    let (_, allocations) = api.get("/budget/allocations", &root).await;
    assert_eq!(allocations["data"]["total"], 0);

    // A budget key writes the budget of its OPD only.
    let budget = api
        .create("/api-keys", &root, json!({"name": "Keuangan", "opd_id": a, "scopes": ["budget:write", "budget:read"]}))
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
    let (status, _) = with_key(&api, reqwest::Method::GET, "/performance/data?year=2025", &budget_key, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Unknown keys and revoked keys: 401, in English when asked.
    let (status, out) = with_key(&api, reqwest::Method::GET, "/performance/data?year=2025", "sakip_nope", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(out["error"]["message"], "API key tidak valid atau sudah dicabut");
    assert_eq!(
        api.call(reqwest::Method::DELETE, &format!("/api-keys/{key_id}"), &viewer, None).await.0,
        StatusCode::FORBIDDEN
    );
    let (status, revoked) = api.call(reqwest::Method::DELETE, &format!("/api-keys/{key_id}"), &root, None).await;
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
        api.call(reqwest::Method::DELETE, "/api-keys/9999", &root, None).await.0,
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
