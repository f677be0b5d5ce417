//! Seed 002's SAKIP contract end to end on SQLite and PostgreSQL: sign-in with a username
//! (the bootstrap admin with its email), the envelope on success and failure, users and
//! OPDs, the planning tree with the OPD-scoping rule, indicators, targets, achievements with
//! their percentages and verification, performance data read after writes, the budget, and
//! what each role may and may not do.

#![allow(clippy::unwrap_used)]

mod common;

use cloud_api::{db_tests, testkit::Backend};
use common::{client_of, id, plan, Api, Replica};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

db_tests!(
    planning_and_performance,
    budget_and_bad_input,
    routes_and_periods
);

async fn planning_and_performance(backend: Backend) {
    let api = Api::start(backend).await;

    // Sign-in: the bootstrap admin with its email as the username; wrong password 401.
    let (status, out) = api
        .post(
            "/auth/login",
            "",
            json!({"username": api.tc.admin_email, "password": "salah-sekali"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(out["error"]["message"], "Username atau password salah");
    let root = api.admin().await;
    let (status, me) = api.get("/auth/me", &root).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["data"]["role"], "super_admin");
    let (status, _) = api.get("/opd", "").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // OPDs; a duplicate code is refused.
    let a = id(&api.create("/opd", &root, json!({"code": "DINKES", "name": "Dinas Kesehatan", "head_name": "dr. Sari", "contact": {"phone": "0211"}})).await);
    let b = id(&api
        .create(
            "/opd",
            &root,
            json!({"code": "DISDIK", "name": "Dinas Pendidikan"}),
        )
        .await);
    let (status, _) = api
        .post("/opd", &root, json!({"code": "DINKES", "name": "Lagi"}))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);

    // Users: admin_opd needs an OPD; every role signs in.
    let (status, _) = api
        .post("/users", &root, json!({"username": "tanpa", "email": "tanpa@opd.test", "name": "x", "password": "sandi-rahasia-1", "role": "admin_opd"}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = api
        .post("/users", &root, json!({"username": "aneh", "email": "aneh@opd.test", "name": "x", "password": "sandi-rahasia-1", "role": "raja"}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let opd_a = api.user(&root, "admin.a", "admin_opd", Some(a)).await;
    let opd_b = api.user(&root, "admin.b", "admin_opd", Some(b)).await;
    let evaluator = api.user(&root, "penilai", "evaluator", None).await;
    let viewer = api.user(&root, "pemantau", "viewer", None).await;
    let (status, users) = api.get("/users?page=1&limit=10", &root).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(users["data"]["total"], 5, "{users}");
    for token in [&opd_a, &evaluator, &viewer] {
        assert_eq!(api.get("/users", token).await.0, StatusCode::FORBIDDEN);
        assert_eq!(
            api.post("/opd", token, json!({"code": "X", "name": "X"}))
                .await
                .0,
            StatusCode::FORBIDDEN
        );
    }

    // Renstra: admin_opd only for its OPD; viewer and evaluator write nothing.
    let ra = id(&api.create("/renstra", &opd_a, json!({"opd_id": a, "period": "2021-2026", "vision": "Sehat", "mission": ["Satu", "Dua"]})).await);
    assert_eq!(
        api.post(
            "/renstra",
            &opd_a,
            json!({"opd_id": b, "period": "2021-2026"})
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        api.post(
            "/renstra",
            &viewer,
            json!({"opd_id": a, "period": "2021-2026"})
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        api.post(
            "/renstra",
            &evaluator,
            json!({"opd_id": a, "period": "2021-2026"})
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        api.post(
            "/renstra",
            &root,
            json!({"opd_id": a, "period": "2026-2021"})
        )
        .await
        .0,
        StatusCode::BAD_REQUEST
    );
    let rb = id(&api
        .create(
            "/renstra",
            &root,
            json!({"opd_id": b, "period": "2021-2026", "mission": []}),
        )
        .await);
    let (_, listed) = api.get("/renstra?page=1&limit=5", &opd_a).await;
    assert_eq!(listed["data"]["total"], 1, "{listed}");
    assert_eq!(
        api.get(&format!("/renstra/{rb}"), &opd_a).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        api.get(&format!("/renstra/{rb}"), &viewer).await.0,
        StatusCode::OK
    );

    // The tree; no node under another OPD's parent, unknown parents 404, duplicate codes 409.
    let t = id(&api
        .create(
            "/tujuan",
            &opd_a,
            json!({"renstra_id": ra, "code": "T1", "name": "Derajat kesehatan", "sort_order": 1}),
        )
        .await);
    assert_eq!(
        api.post(
            "/tujuan",
            &opd_a,
            json!({"renstra_id": rb, "code": "T1", "name": "x"})
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        api.post(
            "/tujuan",
            &opd_a,
            json!({"renstra_id": 999_999, "name": "x"})
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        api.post(
            "/tujuan",
            &opd_a,
            json!({"renstra_id": ra, "code": "T1", "name": "dup"})
        )
        .await
        .0,
        StatusCode::CONFLICT
    );
    let s = id(&api
        .create(
            "/sasaran",
            &opd_a,
            json!({"tujuan_id": t, "code": "S1", "name": "Angka harapan hidup"}),
        )
        .await);
    let p = id(&api
        .create(
            "/program",
            &opd_a,
            json!({"sasaran_id": s, "code": "P1", "name": "Program upaya kesehatan"}),
        )
        .await);
    let k = id(&api
        .create(
            "/kegiatan",
            &opd_a,
            json!({"program_id": p, "code": "K1", "name": "Imunisasi"}),
        )
        .await);
    assert_eq!(
        api.post(
            "/kegiatan",
            &opd_b,
            json!({"program_id": p, "name": "menyusup"})
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    let (status, renamed) = api
        .put(
            &format!("/program/{p}"),
            &opd_a,
            json!({"name": "Program kesehatan masyarakat"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(renamed["data"]["sasaran_id"], s);
    assert_eq!(
        api.put(&format!("/program/{p}"), &opd_b, json!({"name": "x"}))
            .await
            .0,
        StatusCode::FORBIDDEN
    );

    // Indicators of each polarity; unknown enum values refused.
    let higher = id(&api.create("/indicators", &opd_a, json!({"parent_type": "sasaran", "parent_id": s, "name": "Cakupan imunisasi", "unit": "%", "frequency": "monthly", "polarity": "higher_better"})).await);
    let lower = id(&api.create("/indicators", &opd_a, json!({"parent_type": "program", "parent_id": p, "name": "Angka kematian bayi", "polarity": "lower_better"})).await);
    let exact = id(&api.create("/indicators", &opd_a, json!({"parent_type": "kegiatan", "parent_id": k, "name": "Rasio dokter", "polarity": "target_based"})).await);
    assert_eq!(
        api.post(
            "/indicators",
            &opd_a,
            json!({"parent_type": "sasaran", "parent_id": s, "name": "x", "polarity": "sideways"})
        )
        .await
        .0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        api.post(
            "/indicators",
            &opd_a,
            json!({"parent_type": "renstra", "parent_id": ra, "name": "x"})
        )
        .await
        .0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        api.post(
            "/indicators",
            &opd_b,
            json!({"parent_type": "sasaran", "parent_id": s, "name": "x"})
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );

    // Targets: bad periods and duplicates refused, nothing changed.
    for bad in [
        json!([{"year": 2025, "month": 13, "target_value": 1}]),
        json!([{"year": 2025, "quarter": 5, "target_value": 1}]),
        json!([{"year": 2025, "quarter": 1, "month": 4, "target_value": 1}]),
        json!([{"year": 2025, "target_value": 1}, {"year": 2025, "target_value": 2}]),
        json!([{"year": 2025, "target_value": "-1"}]),
        json!([{"year": 2025, "target_value": "banyak"}]),
    ] {
        let (status, _) = api
            .put(
                &format!("/indicators/{higher}/targets"),
                &opd_a,
                bad.clone(),
            )
            .await;
        // A non-numeric value is a 400 like a negative one.
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {status}");
    }
    assert_eq!(
        api.get(&format!("/indicators/{higher}/targets"), &opd_a)
            .await
            .1["data"],
        json!({"items": [], "total": 0, "page": 1, "limit": 20})
    );
    let (status, targets) = api
        .put(&format!("/indicators/{higher}/targets"), &opd_a, json!([{"year": 2025, "target_value": "80"}, {"year": 2025, "quarter": 1, "month": 2, "target_value": 300}]))
        .await;
    assert_eq!(status, StatusCode::OK, "{targets}");
    assert_eq!(targets["data"].as_array().unwrap().len(), 2);
    assert_eq!(
        api.put(&format!("/indicators/{higher}/targets"), &viewer, json!([]))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    api.put(
        &format!("/indicators/{lower}/targets"),
        &opd_a,
        json!([{"year": 2025, "target_value": "10"}]),
    )
    .await;
    api.put(
        &format!("/indicators/{exact}/targets"),
        &opd_a,
        json!([{"year": 2025, "target_value": "100"}, {"year": 2024, "target_value": "0"}]),
    )
    .await;

    // Achievements and their percentages.
    let pct = |v: &Value| {
        v["data"]["percentage"]
            .as_str()
            .map(|s| s.parse::<f64>().unwrap())
    };
    let (status, got) = api
        .post(
            "/performance/achievements",
            &opd_a,
            json!({"indicator_id": higher, "year": 2025, "achievement_value": 90, "notes": "baik"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{got}");
    assert_eq!(pct(&got), Some(112.5));
    let entered = id(&got["data"]);
    let (_, got) = api.post("/performance/achievements", &opd_a, json!({"indicator_id": higher, "year": 2025, "quarter": 1, "month": 2, "achievement_value": 100})).await;
    assert_eq!(pct(&got), Some(33.33));
    let (_, got) = api
        .post(
            "/performance/achievements",
            &opd_a,
            json!({"indicator_id": lower, "year": 2025, "achievement_value": "8"}),
        )
        .await;
    assert_eq!(pct(&got), Some(120.0));
    let (_, got) = api
        .post(
            "/performance/achievements",
            &opd_a,
            json!({"indicator_id": exact, "year": 2025, "achievement_value": "110"}),
        )
        .await;
    assert_eq!(pct(&got), Some(90.0));
    let (_, got) = api
        .post(
            "/performance/achievements",
            &opd_a,
            json!({"indicator_id": exact, "year": 2024, "achievement_value": "5"}),
        )
        .await;
    assert_eq!(got["data"]["percentage"], Value::Null);
    assert_eq!(got["data"]["percentage_note"], "zero_target");
    let (_, got) = api
        .post(
            "/performance/achievements",
            &opd_a,
            json!({"indicator_id": higher, "year": 2023, "achievement_value": "5"}),
        )
        .await;
    assert_eq!(got["data"]["percentage_note"], "no_target");
    for token in [&opd_b, &viewer, &evaluator] {
        assert_eq!(
            api.post(
                "/performance/achievements",
                token,
                json!({"indicator_id": higher, "year": 2025, "achievement_value": 1})
            )
            .await
            .0,
            StatusCode::FORBIDDEN
        );
    }
    assert_eq!(
        api.post(
            "/performance/achievements",
            &opd_a,
            json!({"indicator_id": higher, "year": 2025, "month": 0, "achievement_value": 1})
        )
        .await
        .0,
        StatusCode::BAD_REQUEST
    );

    // Verification: not by admin_opd, not by whoever entered it; a change clears it.
    let verify = format!("/performance/achievements/{entered}/verify");
    assert_eq!(
        api.post(&verify, &opd_a, json!({})).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        api.post(&verify, &viewer, json!({})).await.0,
        StatusCode::FORBIDDEN
    );
    let (status, verified) = api.post(&verify, &evaluator, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{verified}");
    assert!(verified["data"]["verified_by"].is_string());
    assert!(verified["data"]["verified_at"].is_string());
    let (_, changed) = api
        .post(
            "/performance/achievements",
            &opd_a,
            json!({"indicator_id": higher, "year": 2025, "achievement_value": 72}),
        )
        .await;
    assert_eq!(id(&changed["data"]), entered);
    assert_eq!(changed["data"]["verified_by"], Value::Null);
    assert_eq!(pct(&changed), Some(90.0));
    let (_, own) = api
        .post(
            "/performance/achievements",
            &root,
            json!({"indicator_id": lower, "year": 2025, "achievement_value": "9"}),
        )
        .await;
    assert_eq!(
        api.post(
            &format!("/performance/achievements/{}/verify", id(&own["data"])),
            &root,
            json!({})
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(api.post(&verify, &root, json!({})).await.0, StatusCode::OK);

    // Performance data: scoped, with indicator and targets, never stale after a write.
    let (status, data) = api.get("/performance/data?year=2025", &viewer).await;
    assert_eq!(status, StatusCode::OK);
    let rows = data["data"].as_array().unwrap();
    assert_eq!(rows.len(), 4, "{data}");
    let annual = rows
        .iter()
        .find(|r| r["indicator_id"] == higher && r["month"].is_null())
        .unwrap();
    assert_eq!(annual["indicator"]["name"], "Cakupan imunisasi");
    assert_eq!(annual["indicator"]["targets"].as_array().unwrap().len(), 2);
    assert_eq!(
        api.get(&format!("/performance/data?year=2025&opd_id={b}"), &opd_a)
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    let (_, mine) = api.get("/performance/data?year=2025", &opd_b).await;
    assert_eq!(mine["data"], json!([]));
    let (_, again) = api
        .get(
            &format!("/performance/data?year=2025&opd_id={a}&quarter=1&month=2"),
            &evaluator,
        )
        .await;
    assert_eq!(again["data"].as_array().unwrap().len(), 1);
    api.post("/performance/achievements", &opd_a, json!({"indicator_id": higher, "year": 2025, "quarter": 1, "month": 2, "achievement_value": 150})).await;
    let (_, fresh) = api
        .get(
            &format!("/performance/data?year=2025&opd_id={a}&quarter=1&month=2"),
            &evaluator,
        )
        .await;
    assert_eq!(fresh["data"][0]["percentage"], "50.00", "{fresh}");
    // A new target recomputes stored percentages, and the cached read sees it.
    api.put(
        &format!("/indicators/{higher}/targets"),
        &opd_a,
        json!([{"year": 2025, "quarter": 1, "month": 2, "target_value": 150}]),
    )
    .await;
    let (_, fresh) = api
        .get(
            &format!("/performance/data?year=2025&opd_id={a}&quarter=1&month=2"),
            &evaluator,
        )
        .await;
    assert_eq!(fresh["data"][0]["percentage"], "100.00", "{fresh}");
    // Served from the cache as stored bytes: the same body, still JSON.
    let cached = format!("/performance/data?year=2025&opd_id={a}&quarter=1&month=2");
    let res = api
        .http
        .get(api.url(&cached))
        .bearer_auth(&evaluator)
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["content-type"], "application/json");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body, fresh);
    assert_eq!(
        api.get("/performance/data", &viewer).await.0,
        StatusCode::BAD_REQUEST
    );

    // The whole tree with indicators at every level.
    let (status, tree) = api.get(&format!("/renstra/{ra}/tree"), &viewer).await;
    assert_eq!(status, StatusCode::OK);
    let tujuan = &tree["data"]["tujuan"][0];
    assert_eq!(tujuan["code"], "T1");
    let sasaran = &tujuan["sasaran"][0];
    assert_eq!(sasaran["indicators"][0]["id"], higher);
    assert_eq!(sasaran["program"][0]["indicators"][0]["id"], lower);
    assert_eq!(
        sasaran["program"][0]["kegiatan"][0]["indicators"][0]["id"],
        exact
    );
    assert_eq!(tree["data"]["mission"], json!(["Satu", "Dua"]));
    assert_eq!(
        api.get(&format!("/renstra/{ra}/tree"), &opd_b).await.0,
        StatusCode::FORBIDDEN
    );

    // Deleting: not a node with children; an indicator goes with its data.
    assert_eq!(
        api.call(Method::DELETE, &format!("/program/{p}"), &opd_a, None)
            .await
            .0,
        StatusCode::CONFLICT
    );
    assert_eq!(
        api.call(
            Method::DELETE,
            &format!("/indicators/{exact}"),
            &opd_b,
            None
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        api.call(
            Method::DELETE,
            &format!("/indicators/{exact}"),
            &opd_a,
            None
        )
        .await
        .0,
        StatusCode::OK
    );
    assert_eq!(
        api.call(Method::DELETE, &format!("/kegiatan/{k}"), &opd_a, None)
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        api.get(&format!("/kegiatan/{k}"), &opd_a).await.0,
        StatusCode::NOT_FOUND
    );

    // Refresh rotation and logout.
    let (_, session) = api
        .post(
            "/auth/login",
            "",
            json!({"username": "ADMIN.A", "password": "sandi-rahasia-1"}),
        )
        .await;
    let refresh = session["data"]["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(session["data"]["user"]["opd_id"], a);
    let (status, rotated) = api
        .post("/auth/refresh", "", json!({"refresh_token": refresh}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        api.post("/auth/refresh", "", json!({"refresh_token": refresh}))
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
    let _ = rotated;

    // A role change ends the user's sessions; removal takes SAKIP away.
    let (_, listed) = api.get("/users?limit=50", &root).await;
    let viewer_id = listed["data"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "pemantau")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _) = api
        .put(
            &format!("/users/{viewer_id}"),
            &root,
            json!({"role": "evaluator"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(api.get("/opd", &viewer).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(
        api.call(Method::DELETE, &format!("/users/{viewer_id}"), &root, None)
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        api.post(
            "/auth/login",
            "",
            json!({"username": "pemantau", "password": "sandi-rahasia-1"})
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
}

async fn budget_and_bad_input(backend: Backend) {
    let api = Api::start(backend).await;
    let root = api.admin().await;
    let a = id(&api
        .create("/opd", &root, json!({"code": "BAPPEDA", "name": "Bappeda"}))
        .await);
    let b = id(&api
        .create("/opd", &root, json!({"code": "DPU", "name": "Dinas PU"}))
        .await);
    let opd_a = api.user(&root, "bappeda", "admin_opd", Some(a)).await;
    let viewer = api.user(&root, "lihat", "viewer", None).await;

    let alloc = api.create("/budget/allocations", &opd_a, json!({"opd_id": a, "year": 2025, "category": "belanja_barang", "allocation_amount": "1000000.50", "sipd_code": "SIPD-1"})).await;
    assert_eq!(alloc["allocation_amount"], "1000000.50");
    let modal = id(&api.create("/budget/allocations", &root, json!({"opd_id": a, "year": 2025, "category": "belanja_modal", "allocation_amount": 300, "sipd_code": "SIPD-2"})).await);
    for (body, want) in [
        (
            json!({"opd_id": a, "year": 2025, "category": "belanja_barang", "allocation_amount": 1, "sipd_code": "SIPD-1"}),
            StatusCode::CONFLICT,
        ),
        (
            json!({"opd_id": a, "year": 2025, "category": "belanja_jalan", "allocation_amount": 1, "sipd_code": "X1"}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"opd_id": a, "year": 2025, "category": "belanja_barang", "allocation_amount": "-5", "sipd_code": "X2"}),
            StatusCode::BAD_REQUEST,
        ),
        (
            json!({"opd_id": b, "year": 2025, "category": "belanja_barang", "allocation_amount": 1, "sipd_code": "X3"}),
            StatusCode::FORBIDDEN,
        ),
    ] {
        assert_eq!(
            api.post("/budget/allocations", &opd_a, body.clone())
                .await
                .0,
            want,
            "{body}"
        );
    }
    assert_eq!(api.post("/budget/allocations", &viewer, json!({"opd_id": a, "year": 2025, "category": "belanja_barang", "allocation_amount": 1, "sipd_code": "X4"})).await.0, StatusCode::FORBIDDEN);

    let path = format!("/budget/allocations/{}/realizations", id(&alloc));
    let feb = api
        .create(
            &path,
            &opd_a,
            json!({"month": 2, "realization_amount": "250000.25"}),
        )
        .await;
    assert_eq!(feb["cumulative_amount"], "250000.25");
    let jan = api
        .create(
            &path,
            &opd_a,
            json!({"month": 1, "realization_amount": "250000.00"}),
        )
        .await;
    assert_eq!(jan["cumulative_amount"], "250000.00");
    assert_eq!(jan["percentage"], "25.00");
    assert_eq!(
        api.post(&path, &opd_a, json!({"month": 1, "realization_amount": 1}))
            .await
            .0,
        StatusCode::CONFLICT
    );
    assert_eq!(
        api.post(&path, &opd_a, json!({"month": 13, "realization_amount": 1}))
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        api.post(
            &path,
            &opd_a,
            json!({"month": 3, "realization_amount": "-1"})
        )
        .await
        .0,
        StatusCode::BAD_REQUEST
    );
    api.create(
        &format!("/budget/allocations/{modal}/realizations"),
        &root,
        json!({"month": 1, "realization_amount": 100}),
    )
    .await;

    let (status, summary) = api
        .get(&format!("/budget/summary?opd_id={a}&year=2025"), &viewer)
        .await;
    assert_eq!(status, StatusCode::OK);
    let barang = summary["data"]["categories"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["category"] == "belanja_barang")
        .unwrap()
        .clone();
    assert_eq!(barang["allocation"], "1000000.50");
    assert_eq!(barang["realization"], "500000.25");
    assert_eq!(barang["percentage"], "50.00");
    assert_eq!(summary["data"]["total"]["allocation"], "1000300.50");
    let (_, list) = api
        .get(
            &format!("/budget/allocations?opd_id={a}&year=2025&limit=1"),
            &viewer,
        )
        .await;
    assert_eq!(list["data"]["total"], 2);
    assert_eq!(list["data"]["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        api.get(&format!("/budget/summary?opd_id={b}"), &opd_a)
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        api.call(Method::DELETE, &format!("/opd/{a}"), &root, None)
            .await
            .0,
        StatusCode::CONFLICT
    );

    // Malformed input answers in the envelope, localized.
    let res = api
        .http
        .post(api.tc.url("/sakip/api/v1/opd"))
        .bearer_auth(&root)
        .header("content-type", "application/json")
        .header("accept-language", "en")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["success"], false);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not valid JSON"),
        "{body}"
    );
    assert_eq!(api.get("/opd/abc", &root).await.0, StatusCode::BAD_REQUEST);
    assert_eq!(
        api.get("/opd?page=0", &root).await.0,
        StatusCode::BAD_REQUEST
    );
    let res = api
        .http
        .get(api.tc.url("/sakip/api/v1/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let health: Value = res.json().await.unwrap();
    // The seed's words: ok | error | unknown.
    assert_eq!(health["status"], "ok", "{health}");
    assert_eq!(health["services"]["database"], "ok");
    assert_eq!(health["services"]["redis"], "unknown");
    assert_eq!(health["services"]["external_apis"], "unknown");
    assert_eq!(health["details"]["redis"], "not_configured");

    // The seed's request histogram names the route template, never the raw path.
    let metrics = api
        .http
        .get(api.tc.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(
            r#"http_request_duration_seconds_count{method="GET",route="/sakip/api/v1/opd/{id}",status="400"} "#
        ),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"method="POST",route="/sakip/api/v1/auth/login",status="200""#),
        "{metrics}"
    );
    assert!(!metrics.contains("/opd/abc"), "{metrics}");
}

/// Unknown paths and wrong methods under the base answer in the envelope; a month is one
/// period with or without its quarter (and rows stored before without it are merged by the
/// migration); an indicator's targets are a list; bad values are 400s.
async fn routes_and_periods(backend: Backend) {
    let api = Api::start(backend).await;
    let root = api.admin().await;

    // 404 and 405 below /sakip/api/v1, localized; other paths keep the platform's answer.
    for path in ["/tidak-ada", "/opd/1/tidak-ada", "/"] {
        let (status, out) = api.get(path, &root).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(out["error"]["message"], "Rute tidak ditemukan", "{path}");
    }
    let res = api
        .http
        .get(api.url("/tidak-ada"))
        .header("accept-language", "en")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        body,
        json!({"success": false, "error": {"message": "Route not found"}})
    );
    let (status, out) = api.call(Method::PATCH, "/opd", &root, None).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{out}");
    assert_eq!(
        out["error"]["message"],
        "Metode tidak diizinkan untuk rute ini"
    );
    let res = api
        .http
        .delete(api.url("/auth/login"))
        .header("accept-language", "en")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(res.headers()["allow"], "POST");
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        body["error"]["message"],
        "Method not allowed for this route"
    );
    let (status, _) = api.call(Method::DELETE, "/tujuan/1", &root, None).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "a route of a level keeps its answers"
    );
    let res = api
        .http
        .get(api.tc.url("/sakip/lain"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(
        res.text().await.unwrap().is_empty(),
        "outside the base: the platform's 404"
    );

    // A month given with or without its quarter is one period.
    let a = id(&api
        .create(
            "/opd",
            &root,
            json!({"code": "DISHUB", "name": "Dinas Perhubungan"}),
        )
        .await);
    let (_, _, s) = plan(&api, &root, a, "Lancar", "Tertib").await;
    let ind = id(&api.create("/indicators", &root, json!({"parent_type": "sasaran", "parent_id": s, "name": "Ketepatan jadwal", "unit": "%"})).await);
    let targets = format!("/indicators/{ind}/targets");
    let (status, _) = api
        .put(&targets, &root, json!([{"year": 2025, "month": 2, "target_value": 100}, {"year": 2025, "quarter": 1, "month": 2, "target_value": 90}]))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "one period twice");
    let (status, out) = api
        .put(&targets, &root, json!([{"year": 2025, "month": 2, "target_value": 100}, {"year": 2025, "quarter": 1, "target_value": 300}, {"year": 2025, "month": 5, "target_value": 50}, {"year": 2025, "target_value": 1200}]))
        .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    let (_, first) = api
        .post(
            "/performance/achievements",
            &root,
            json!({"indicator_id": ind, "year": 2025, "month": 2, "achievement_value": 50}),
        )
        .await;
    assert_eq!(first["data"]["quarter"], 1, "{first}");
    assert_eq!(first["data"]["percentage"], "50.00");
    let (_, second) = api
        .post("/performance/achievements", &root, json!({"indicator_id": ind, "year": 2025, "quarter": 1, "month": 2, "achievement_value": 70}))
        .await;
    assert_eq!(id(&second["data"]), id(&first["data"]), "the same period");
    assert_eq!(second["data"]["percentage"], "70.00");
    api.post(
        "/performance/achievements",
        &root,
        json!({"indicator_id": ind, "year": 2025, "quarter": 1, "achievement_value": 150}),
    )
    .await;
    api.post(
        "/performance/achievements",
        &root,
        json!({"indicator_id": ind, "year": 2025, "month": 5, "achievement_value": 40}),
    )
    .await;
    // A quarter's filter finds its months (and the quarter's own row), nothing else.
    let (_, q1) = api
        .get(
            &format!("/performance/data?year=2025&opd_id={a}&quarter=1"),
            &root,
        )
        .await;
    let periods: Vec<(Value, Value)> = q1["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["quarter"].clone(), r["month"].clone()))
        .collect();
    assert_eq!(
        periods,
        vec![(json!(1), Value::Null), (json!(1), json!(2))],
        "{q1}"
    );
    assert_eq!(
        q1["data"][0]["indicator"]["targets"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let (_, m5) = api
        .get(
            &format!("/performance/data?year=2025&opd_id={a}&month=5"),
            &root,
        )
        .await;
    assert_eq!(m5["data"].as_array().unwrap().len(), 1, "{m5}");
    assert_eq!(m5["data"][0]["quarter"], 2);

    // Targets are a list: {items, total, page, limit}, paged.
    let (status, list) = api.get(&format!("{targets}?limit=2&page=2"), &root).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["data"]["total"], 4);
    assert_eq!(list["data"]["page"], 2);
    assert_eq!(list["data"]["limit"], 2);
    let items = list["data"]["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{list}");
    assert_eq!(
        (items[0]["quarter"].clone(), items[0]["month"].clone()),
        (json!(1), json!(2))
    );
    assert_eq!(
        api.get(&format!("{targets}?limit=500"), &root).await.0,
        StatusCode::BAD_REQUEST
    );

    // Bad values are 400s, non-numeric as well as negative.
    for value in [json!("banyak"), json!("-1"), json!(null)] {
        let (status, _) = api
            .post(
                "/performance/achievements",
                &root,
                json!({"indicator_id": ind, "year": 2025, "achievement_value": value}),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{value}");
    }

    // Rows stored before without their quarter: the migration moves them to their quarter
    // and keeps the newest where both forms of a period exist.
    use sakip::entities::{achievement, target};
    use sea_orm::{ActiveModelTrait, ConnectionTrait, Set};
    let db = sea_orm::Database::connect(api.tc.database_url())
        .await
        .unwrap();
    let long_ago = time::OffsetDateTime::now_utc() - time::Duration::days(30);
    let legacy = |month: i32, value: &str| achievement::ActiveModel {
        indicator_id: Set(ind as i32),
        year: Set(2025),
        quarter: Set(0),
        month: Set(month),
        achievement_value: Set(value.into()),
        input_by: Set(uuid::Uuid::nil()),
        created_at: Set(long_ago),
        updated_at: Set(long_ago),
        ..Default::default()
    };
    legacy(2, "1").insert(&db).await.unwrap(); // older than (1, 2): goes
    legacy(7, "77").insert(&db).await.unwrap(); // alone: moves to quarter 3
    let mut newer = legacy(5, "55"); // newer than (2, 5): stays, moved
    newer.updated_at = Set(time::OffsetDateTime::now_utc() + time::Duration::days(1));
    newer.insert(&db).await.unwrap();
    target::ActiveModel {
        indicator_id: Set(ind as i32),
        year: Set(2025),
        quarter: Set(0),
        month: Set(11),
        target_value: Set("10".into()),
        created_at: Set(long_ago),
        ..Default::default()
    }
    .insert(&db)
    .await
    .unwrap();
    db.execute_unprepared(
        "DELETE FROM seaql_migrations WHERE version = 'm0203_sakip_month_quarter'",
    )
    .await
    .unwrap();
    let restarted = Replica::start(&api.tc, &json!({})).await;
    let after = client_of(&api, restarted.base());
    let (_, data) = after
        .get(&format!("/performance/data?year=2025&opd_id={a}"), &root)
        .await;
    let rows: Vec<(Value, Value, Value)> = data["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["quarter"].clone(),
                r["month"].clone(),
                r["achievement_value"].clone(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            (json!(1), Value::Null, json!("150")),
            (json!(1), json!(2), json!("70")),
            (json!(2), json!(5), json!("55")),
            (json!(3), json!(7), json!("77")),
        ],
        "{data}"
    );
    let (_, list) = after.get(&format!("{targets}?limit=10"), &root).await;
    let last = &list["data"]["items"][4];
    assert_eq!(
        (last["quarter"].clone(), last["month"].clone()),
        (json!(4), json!(11)),
        "{list}"
    );
    restarted.stop().await;

    // The cache's generations are per OPD and year: a write of one OPD keeps another OPD's
    // entries (seen here through a change made behind the cache's back), while a read of
    // every OPD is fresh.
    let b = id(&api
        .create(
            "/opd",
            &root,
            json!({"code": "DISPAR", "name": "Dinas Pariwisata"}),
        )
        .await);
    let (_, tb, _) = plan(&api, &root, b, "Wisata", "Kunjungan naik").await;
    let ib = id(&api
        .create(
            "/indicators",
            &root,
            json!({"parent_type": "tujuan", "parent_id": tb, "name": "Kunjungan wisata"}),
        )
        .await);
    api.post(
        "/performance/achievements",
        &root,
        json!({"indicator_id": ib, "year": 2025, "achievement_value": 10}),
    )
    .await;
    let theirs = format!("/performance/data?year=2025&opd_id={b}");
    let value_of = |d: &Value| d["data"][0]["achievement_value"].clone();
    assert_eq!(value_of(&api.get(&theirs, &root).await.1), "10");
    db.execute_unprepared(&format!(
        "UPDATE sakip_performance_achievements SET achievement_value = '11' WHERE indicator_id = {ib}"
    ))
    .await
    .unwrap();
    api.post(
        "/performance/achievements",
        &root,
        json!({"indicator_id": ind, "year": 2025, "month": 9, "achievement_value": 9}),
    )
    .await;
    api.put(&targets, &root, json!([{"year": 2025, "target_value": 1}]))
        .await;
    assert_eq!(
        value_of(&api.get(&theirs, &root).await.1),
        "10",
        "another OPD's entry kept"
    );
    let (_, every) = api.get("/performance/data?year=2025", &root).await;
    let rows = every["data"].as_array().unwrap();
    assert!(
        rows.iter()
            .any(|r| r["indicator_id"] == ib && r["achievement_value"] == "11"),
        "{every}"
    );
    assert!(
        rows.iter()
            .any(|r| r["indicator_id"] == ind && r["month"] == 9),
        "{every}"
    );
}
