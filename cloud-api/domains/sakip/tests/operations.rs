//! SAKIP beyond the core, end to end on SQLite and PostgreSQL: evaluations (components,
//! boundary grades, the status path, scoping), the LKjIP report read back from its JSON,
//! CSV, XLSX and PDF files, the dashboard summary, integrations with sealed secrets, the
//! SIPD sync against a local stand-in (good data, partial failures, slow answers, 500s,
//! malformed JSON, a flaky answer retried), one run per job with two replicas, a queued job
//! that survives a restart, no stale read across replicas with the Redis cache, and email
//! notifications delivered to a local SMTP sink (tokio, port 0) without requests waiting,
//! and to a real local SMTP server (`aiosmtpd`, PyPI), supporting documents (type by content,
//! size limit, download, kept across resubmission, concurrent uploads, clearing verification),
//! the report's rules (tujuan indicators, only finished evaluations grade), sync logs of runs
//! cut off or interrupted, the worker's audit entries, and Redis going away (503, the cache
//! bypassed until an owed invalidation goes through).

#![allow(clippy::unwrap_used)]

mod common;

use std::{
    collections::HashMap,
    io::Cursor,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{extract::State, http::HeaderMap, response::IntoResponse, routing::get, Router};
use cloud_api::{db_tests, testkit::Backend};
use common::{audit_entries, client_of, id, plan, wait_for, Api, RedisProxy, Replica};
use reqwest::StatusCode;
use serde_json::{json, Value};

db_tests!(
    evaluations_and_reports,
    report_rules,
    sipd_sync,
    replicas_and_restart,
    demo_data,
    notifications,
    notifications_aiosmtpd,
    documents
);

async fn demo_data(backend: Backend) {
    let api = Api::start(backend).await;
    // Twice: the second run leaves everything as it is.
    for _ in 0..2 {
        sakip::seed_demo(api.tc.cloud().platform()).await.unwrap();
    }
    let token = api.login("testuser", "testpass").await;
    let (_, opds) = api.get("/opd", &token).await;
    assert_eq!(opds["data"]["total"], 1);
    let opd = opds["data"]["items"][0]["id"].as_i64().unwrap();
    let (_, data) = api
        .get(&format!("/performance/data?year=2025&opd_id={opd}"), &token)
        .await;
    assert_eq!(
        data["data"].as_array().unwrap().len(),
        36,
        "3 indicators × 12 months"
    );
    let polarities: std::collections::BTreeSet<String> = data["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["indicator"]["polarity"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(polarities.len(), 3);
    let (_, report) = api
        .get(
            &format!("/reports/performance?opd_id={opd}&year=2025"),
            &token,
        )
        .await;
    assert_eq!(report["data"]["rows"].as_array().unwrap().len(), 3);
    assert!(
        report["data"]["budget"]["percentage"].is_string(),
        "{report}"
    );
    assert_eq!(report["data"]["grade"], "BB");
    let (_, evaluations) = api.get("/evaluations", &token).await;
    assert_eq!(evaluations["data"]["total"], 1);
}

/// An OPD with a small tree, indicators, targets, achievements and budget; answers
/// (root token, OPD id, other OPD id, admin_opd token of the first, evaluator token).
async fn fixture(api: &Api) -> (String, i64, i64, String, String) {
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
    let opd_a = api.user(&root, "admin.a", "admin_opd", Some(a)).await;
    let evaluator = api.user(&root, "penilai", "evaluator", None).await;
    let (_, _, s) = plan(api, &root, a, "Sehat", "Imunisasi meningkat").await;
    let p = id(&api
        .create(
            "/program",
            &root,
            json!({"sasaran_id": s, "code": "P1", "name": "Program kesehatan"}),
        )
        .await);
    let k = id(&api
        .create(
            "/kegiatan",
            &root,
            json!({"program_id": p, "code": "K1", "name": "Vaksinasi"}),
        )
        .await);
    let higher = id(&api.create("/indicators", &root, json!({"parent_type": "sasaran", "parent_id": s, "name": "Cakupan imunisasi", "unit": "%", "polarity": "higher_better"})).await);
    let lower = id(&api.create("/indicators", &root, json!({"parent_type": "program", "parent_id": p, "name": "Angka kematian bayi", "unit": "per 1000", "polarity": "lower_better"})).await);
    let exact = id(&api.create("/indicators", &root, json!({"parent_type": "kegiatan", "parent_id": k, "name": "Rasio dokter", "polarity": "target_based"})).await);
    for (ind, target) in [(higher, "80"), (lower, "10"), (exact, "100")] {
        let (status, _) = api
            .put(
                &format!("/indicators/{ind}/targets"),
                &root,
                json!([{"year": 2025, "target_value": target}]),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
    }
    for (ind, value) in [(higher, "90"), (lower, "8")] {
        let (status, _) = api
            .post(
                "/performance/achievements",
                &root,
                json!({"indicator_id": ind, "year": 2025, "achievement_value": value}),
            )
            .await;
        assert_eq!(status, StatusCode::OK);
    }
    let alloc = id(&api.create("/budget/allocations", &root, json!({"opd_id": a, "year": 2025, "category": "belanja_barang", "allocation_amount": "1000.00", "sipd_code": "FX-1"})).await);
    api.create(
        &format!("/budget/allocations/{alloc}/realizations"),
        &root,
        json!({"month": 1, "realization_amount": "250"}),
    )
    .await;
    (root, a, b, opd_a, evaluator)
}

async fn evaluations_and_reports(backend: Backend) {
    let api = Api::start(backend).await;
    let (root, a, b, opd_a, evaluator) = fixture(&api).await;
    let viewer = api.user(&root, "pemantau", "viewer", None).await;
    let opd_b = api.user(&root, "admin.b", "admin_opd", Some(b)).await;

    // Who may write: evaluators and super_admins only.
    let draft = json!({"opd_id": a, "year": 2025, "type": "internal", "evaluator": "Inspektorat", "evaluation_date": "2025-11-30"});
    for token in [&opd_a, &viewer] {
        assert_eq!(
            api.post("/evaluations", token, draft.clone()).await.0,
            StatusCode::FORBIDDEN
        );
    }
    for bad in [
        json!({"opd_id": a, "year": 2025, "type": "audit"}),
        json!({"opd_id": a, "year": 2025, "type": "internal", "components": {"perencanaan_kinerja": 101}}),
        json!({"opd_id": a, "year": 2025, "type": "internal", "components": {"keuangan": 50}}),
        json!({"opd_id": a, "year": 2025, "type": "internal", "components": {"perencanaan_kinerja": "80.123"}}),
        json!({"opd_id": a, "year": 2025, "type": "internal", "evaluation_date": "2025-13-01"}),
        json!({"opd_id": a, "year": 2025, "type": "internal", "findings": "bukan daftar"}),
    ] {
        assert_eq!(
            api.post("/evaluations", &evaluator, bad.clone()).await.0,
            StatusCode::BAD_REQUEST,
            "{bad}"
        );
    }
    assert_eq!(
        api.post(
            "/evaluations",
            &evaluator,
            json!({"opd_id": 999, "year": 2025, "type": "internal"})
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
    let e = api.create("/evaluations", &evaluator, draft.clone()).await;
    assert_eq!(e["status"], "draft");
    assert_eq!(e["grade"], Value::Null);
    assert_eq!(e["components"]["perencanaan_kinerja"]["weight"], 30);
    let path = format!("/evaluations/{}", id(&e));

    // Boundary grades: a score exactly on a boundary takes the lower grade.
    let all = |s: &str| json!({"components": {"perencanaan_kinerja": s, "pengukuran_kinerja": s, "pelaporan_kinerja": s, "evaluasi_akuntabilitas_kinerja_internal": s}});
    for (score, grade) in [
        ("90", "A"),
        ("90.01", "AA"),
        ("80", "BB"),
        ("80.01", "A"),
        ("70", "B"),
        ("60", "CC"),
        ("50", "C"),
        ("30", "D"),
        ("30.01", "C"),
        ("0", "D"),
        ("100", "AA"),
    ] {
        let (status, out) = api.put(&path, &evaluator, all(score)).await;
        assert_eq!(status, StatusCode::OK, "{out}");
        assert_eq!(out["data"]["grade"], grade, "{score}: {out}");
    }
    // Weighted: (30×80 + 30×70 + 15×90 + 25×60) / 100 = 73.50 → BB.
    let (_, out) = api
        .put(&path, &evaluator, json!({"components": {"perencanaan_kinerja": 80, "pengukuran_kinerja": 70, "pelaporan_kinerja": 90, "evaluasi_akuntabilitas_kinerja_internal": 60}, "findings": ["Target belum selaras"], "recommendations": ["Perbaiki cascading"]}))
        .await;
    assert_eq!(out["data"]["overall_score"], "73.50");
    assert_eq!(out["data"]["grade"], "BB");
    assert_eq!(out["data"]["findings"], json!(["Target belum selaras"]));

    // The status path, one step at a time; reviewed is final; bad input changes nothing.
    assert_eq!(
        api.put(&path, &evaluator, json!({"status": "completed"}))
            .await
            .0,
        StatusCode::CONFLICT
    );
    assert_eq!(
        api.put(&path, &evaluator, json!({"status": "selesai"}))
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        api.put(&path, &opd_a, json!({"status": "in_progress"}))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        api.put(
            &path,
            &evaluator,
            json!({"status": "in_progress", "components": {"pelaporan_kinerja": 200}})
        )
        .await
        .0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(api.get(&path, &viewer).await.1["data"]["status"], "draft");
    for step in ["in_progress", "completed", "reviewed"] {
        let (status, out) = api.put(&path, &evaluator, json!({"status": step})).await;
        assert_eq!(status, StatusCode::OK, "{out}");
        assert_eq!(out["data"]["status"], step);
    }
    assert_eq!(
        api.put(&path, &root, json!({"findings": []})).await.0,
        StatusCode::CONFLICT
    );
    // Completing needs all four components.
    let partial = api.create("/evaluations", &root, json!({"opd_id": b, "year": 2025, "type": "self_assessment", "components": {"perencanaan_kinerja": 70}})).await;
    let ppath = format!("/evaluations/{}", id(&partial));
    assert_eq!(
        api.put(&ppath, &root, json!({"status": "in_progress"}))
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        api.put(&ppath, &root, json!({"status": "completed"}))
            .await
            .0,
        StatusCode::BAD_REQUEST
    );

    // Reading: admin_opd its own OPD only; others everything.
    let (_, mine) = api.get("/evaluations", &opd_a).await;
    assert_eq!(mine["data"]["total"], 1, "{mine}");
    assert_eq!(api.get(&ppath, &opd_a).await.0, StatusCode::FORBIDDEN);
    assert_eq!(
        api.get(&format!("/evaluations?opd_id={b}"), &opd_a).await.0,
        StatusCode::FORBIDDEN
    );
    let (_, every) = api.get("/evaluations?year=2025&limit=1", &viewer).await;
    assert_eq!(every["data"]["total"], 2);
    assert_eq!(every["data"]["items"].as_array().unwrap().len(), 1);

    // The LKjIP report as JSON.
    let report = format!("/reports/performance?opd_id={a}&year=2025");
    let (status, out) = api.get(&report, &opd_a).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    let rows = out["data"]["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 3, "{out}");
    assert_eq!(rows[0]["sasaran"], "S1 Imunisasi meningkat");
    assert_eq!(rows[0]["indicator"], "Cakupan imunisasi");
    assert_eq!(rows[0]["percentage"], "112.50");
    assert_eq!(rows[1]["level"], "program");
    assert_eq!(rows[1]["percentage"], "120.00");
    assert_eq!(rows[2]["realization"], Value::Null);
    assert_eq!(out["data"]["budget"]["percentage"], "25.00");
    assert_eq!(out["data"]["grade"], "BB");
    assert_eq!(api.get(&report, &opd_b).await.0, StatusCode::FORBIDDEN);
    assert_eq!(
        api.get(&format!("{report}&format=doc"), &root).await.0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        api.get(&format!("/reports/performance?opd_id={a}"), &root)
            .await
            .0,
        StatusCode::BAD_REQUEST
    );

    // The same as files, read back.
    let file = |format: &'static str, lang: &'static str| {
        let req = api
            .http
            .get(api.url(&format!("{report}&format={format}")))
            .bearer_auth(&root)
            .header("accept-language", lang);
        async move {
            let res = req.send().await.unwrap();
            assert_eq!(res.status(), StatusCode::OK);
            res.bytes().await.unwrap().to_vec()
        }
    };
    let csv_bytes = file("csv", "id").await;
    let mut reader = csv::Reader::from_reader(csv_bytes.as_slice());
    assert_eq!(reader.headers().unwrap().get(0), Some("Sasaran"));
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), 5, "3 indicators, budget, grade");
    assert_eq!(&records[0][2], "Cakupan imunisasi");
    assert_eq!(&records[0][6], "112.50");
    assert_eq!(&records[3][6], "25.00");
    assert!(records[4][2].contains("BB"));
    let english = file("csv", "en").await;
    assert!(String::from_utf8(english).unwrap().starts_with("Objective"));

    use calamine::Reader;
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(Cursor::new(file("xlsx", "id").await)).unwrap();
    let sheet = book.worksheet_range("LKjIP").unwrap();
    let cells: Vec<Vec<String>> = sheet
        .rows()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect();
    assert_eq!(cells[0][2], "Indikator");
    assert_eq!(cells[1][5], "90");
    assert_eq!(cells[2][6], "120.00");

    let pdf = lopdf::Document::load_mem(&file("pdf", "id").await).unwrap();
    let pages: Vec<u32> = pdf.get_pages().keys().copied().collect();
    let text = pdf.extract_text(&pages).unwrap();
    assert!(text.contains("Cakupan imunisasi"), "{text}");
    assert!(text.contains("112.50"), "{text}");

    // The dashboard: per OPD in scope.
    let (status, out) = api.get("/dashboard/summary?year=2025", &viewer).await;
    assert_eq!(status, StatusCode::OK);
    let opds = out["data"]["opds"].as_array().unwrap();
    assert_eq!(opds.len(), 2);
    let dinkes = opds.iter().find(|o| o["opd"]["id"] == a).unwrap();
    assert_eq!(dinkes["indicators"], 3);
    assert_eq!(dinkes["average_achievement"], "116.25");
    assert_eq!(dinkes["budget"]["percentage"], "25.00");
    assert_eq!(dinkes["latest_grade"], "BB");
    let (_, theirs) = api.get("/dashboard/summary?year=2025", &opd_b).await;
    assert_eq!(theirs["data"]["opds"].as_array().unwrap().len(), 1);
    assert_eq!(
        api.get("/dashboard/summary", &viewer).await.0,
        StatusCode::BAD_REQUEST
    );
}

/// The report lists a tujuan's own indicators under the tujuan; only a finished evaluation
/// (completed or reviewed) gives the latest grade.
async fn report_rules(backend: Backend) {
    let api = Api::start(backend).await;
    let (root, a, _b, _opd_a, evaluator) = fixture(&api).await;
    let (_, plans) = api.get(&format!("/renstra?opd_id={a}"), &root).await;
    let renstra = plans["data"]["items"][0]["id"].as_i64().unwrap();
    let (_, tree) = api.get(&format!("/renstra/{renstra}/tree"), &root).await;
    let tujuan = tree["data"]["tujuan"][0]["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("{tree}"));
    let ind = id(&api.create("/indicators", &root, json!({"parent_type": "tujuan", "parent_id": tujuan, "name": "Usia harapan hidup", "unit": "tahun"})).await);
    api.put(
        &format!("/indicators/{ind}/targets"),
        &root,
        json!([{"year": 2025, "target_value": "72"}]),
    )
    .await;
    api.post(
        "/performance/achievements",
        &root,
        json!({"indicator_id": ind, "year": 2025, "achievement_value": "72"}),
    )
    .await;
    let report = format!("/reports/performance?opd_id={a}&year=2025");
    let (_, out) = api.get(&report, &root).await;
    let rows = out["data"]["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 4, "{out}");
    assert_eq!(rows[0]["level"], "tujuan");
    assert_eq!(rows[0]["sasaran"], "T1 Sehat");
    assert_eq!(rows[0]["indicator"], "Usia harapan hidup");
    assert_eq!(rows[0]["percentage"], "100.00");
    assert_eq!(rows[1]["sasaran"], "S1 Imunisasi meningkat");

    // A graded draft and one in progress do not count; once completed it does.
    let e = id(&api
        .create(
            "/evaluations",
            &evaluator,
            json!({"opd_id": a, "year": 2025, "type": "internal", "components": {"perencanaan_kinerja": 95, "pengukuran_kinerja": 95, "pelaporan_kinerja": 95, "evaluasi_akuntabilitas_kinerja_internal": 95}}),
        )
        .await);
    let path = format!("/evaluations/{e}");
    let grade = || {
        let (api, report, root) = (&api, &report, &root);
        async move {
            let (_, report) = api.get(report, root).await;
            let (_, summary) = api.get("/dashboard/summary?year=2025", root).await;
            let dinkes = summary["data"]["opds"]
                .as_array()
                .unwrap()
                .iter()
                .find(|o| o["opd"]["id"] == a)
                .unwrap()["latest_grade"]
                .clone();
            assert_eq!(report["data"]["grade"], dinkes, "report and summary agree");
            dinkes
        }
    };
    assert_eq!(grade().await, Value::Null, "a draft");
    api.put(&path, &evaluator, json!({"status": "in_progress"}))
        .await;
    assert_eq!(grade().await, Value::Null, "in progress");
    let (status, out) = api
        .put(&path, &evaluator, json!({"status": "completed"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert_eq!(grade().await, "AA");
}

// ---------------------------------------------------------------- the SIPD stand-in

#[derive(Clone, Default)]
struct Sipd {
    hits: Arc<Mutex<HashMap<String, u32>>>,
    auth: Arc<Mutex<Vec<String>>>,
}

impl Sipd {
    fn hits(&self, mode: &str) -> u32 {
        self.hits.lock().unwrap().get(mode).copied().unwrap_or(0)
    }
}

async fn budget(
    State(sipd): State<Sipd>,
    axum::extract::Path(mode): axum::extract::Path<String>,
    headers: HeaderMap,
) -> axum::response::Response {
    let n = {
        let mut hits = sipd.hits.lock().unwrap();
        let n = hits.entry(mode.clone()).or_default();
        *n += 1;
        *n
    };
    if let Some(auth) = headers.get("authorization").and_then(|v| v.to_str().ok()) {
        sipd.auth.lock().unwrap().push(auth.to_owned());
    }
    let good = json!([
        {"code": "SIPD-G1", "category": "belanja_barang", "amount": "1500000.50"},
        {"code": "SIPD-G2", "category": "belanja_modal", "amount": 250000}
    ]);
    match mode.as_str() {
        "good" => axum::Json(good).into_response(),
        "partial" => axum::Json(json!([
            {"code": "SIPD-P1", "category": "belanja_pegawai", "amount": 100},
            {"code": "SIPD-P2", "category": "belanja_jalan", "amount": 1},
            {"code": "SIPD-P3", "category": "belanja_barang", "amount": "-5"},
            {"code": "SIPD-P4", "category": "belanja_bantuan", "amount": "10.5"}
        ]))
        .into_response(),
        "slow" => {
            tokio::time::sleep(Duration::from_secs(3)).await;
            axum::Json(json!([])).into_response()
        }
        "flaky" if n == 1 => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        "flaky" => axum::Json(
            json!({"data": [{"code": "SIPD-F1", "category": "belanja_barang", "amount": 7}]}),
        )
        .into_response(),
        "malformed" => ([("content-type", "application/json")], "{not json").into_response(),
        _ => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

/// The stand-in on port 0: `/{mode}/budget`.
async fn sipd_server() -> (String, Sipd) {
    let sipd = Sipd::default();
    let app = Router::new()
        .route("/{mode}/budget", get(budget))
        .with_state(sipd.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}"), sipd)
}

fn fast_worker() -> Value {
    json!({"poll_ms": 50, "retry_base_ms": 100, "max_attempts": 2, "http_timeout_ms": 700})
}

async fn integration(api: &Api, root: &str, base: &str, mode: &str) -> i64 {
    id(&api
        .create(
            "/integrations",
            root,
            json!({"system_name": "SIPD", "system_type": "budget", "endpoint_url": format!("{base}/{mode}"),
                   "api_key": format!("kunci-rahasia-{mode}"), "credentials": {"user": "sipd", "password": "sandi-sipd"}}),
        )
        .await)
}

/// Queues a sync and waits until its job is finished; answers the job.
async fn synced(api: &Api, root: &str, integration: i64, opd: i64) -> Value {
    let (status, out) = api
        .post(
            &format!("/integrations/{integration}/sync"),
            root,
            json!({"opd_id": opd, "year": 2025}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{out}");
    assert_eq!(out["data"]["status"], "queued");
    let job = out["data"]["job_id"].as_i64().unwrap();
    wait_for(api, &format!("/jobs/{job}"), root, |j| {
        j["status"] == "completed" || j["status"] == "failed"
    })
    .await
}

async fn sipd_sync(backend: Backend) {
    let api = Api::with(backend, fast_worker()).await;
    let (base, sipd) = sipd_server().await;
    let root = api.admin().await;
    let a = id(&api
        .create("/opd", &root, json!({"code": "BAPPEDA", "name": "Bappeda"}))
        .await);
    let opd_a = api.user(&root, "bappeda", "admin_opd", Some(a)).await;

    // Only a super_admin; bad input refused; secrets never answered nor stored in clear.
    let body =
        json!({"system_name": "SIPD", "endpoint_url": format!("{base}/good"), "api_key": "x"});
    assert_eq!(
        api.post("/integrations", &opd_a, body).await.0,
        StatusCode::FORBIDDEN
    );
    for bad in [
        json!({"system_name": "SIPD", "endpoint_url": "ftp://sipd"}),
        json!({"system_name": "SIPD", "sync_frequency": "kadang"}),
        json!({"system_name": "SIPD", "status": "hidup"}),
        json!({"endpoint_url": format!("{base}/good")}),
    ] {
        assert_eq!(
            api.post("/integrations", &root, bad.clone()).await.0,
            StatusCode::BAD_REQUEST,
            "{bad}"
        );
    }
    let good = integration(&api, &root, &base, "good").await;
    let (_, listed) = api.get("/integrations", &root).await;
    let text = listed.to_string();
    assert!(
        !text.contains("kunci-rahasia") && !text.contains("sandi-sipd"),
        "{text}"
    );
    assert_eq!(listed["data"]["items"][0]["has_api_key"], true);
    let db = sea_orm::Database::connect(api.tc.database_url())
        .await
        .unwrap();
    use sea_orm::{ConnectionTrait, Statement};
    let row = db
        .query_one(Statement::from_string(
            db.get_database_backend(),
            "SELECT secrets FROM sakip_integrations",
        ))
        .await
        .unwrap()
        .unwrap();
    let sealed: String = row.try_get("", "secrets").unwrap();
    assert!(!sealed.contains("kunci-rahasia") && !sealed.contains("sandi-sipd"));
    assert_eq!(
        api.post(
            &format!("/integrations/{good}/sync"),
            &opd_a,
            json!({"opd_id": a, "year": 2025})
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        api.post(
            "/integrations/999/sync",
            &root,
            json!({"opd_id": a, "year": 2025})
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        api.post(
            &format!("/integrations/{good}/sync"),
            &root,
            json!({"opd_id": 999, "year": 2025})
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        api.post(
            &format!("/integrations/{good}/sync"),
            &root,
            json!({"opd_id": a, "year": 1})
        )
        .await
        .0,
        StatusCode::BAD_REQUEST
    );
    let bkn = id(&api
        .create(
            "/integrations",
            &root,
            json!({"system_name": "BKN", "endpoint_url": format!("{base}/good")}),
        )
        .await);
    assert_eq!(
        api.post(
            &format!("/integrations/{bkn}/sync"),
            &root,
            json!({"opd_id": a, "year": 2025})
        )
        .await
        .0,
        StatusCode::BAD_REQUEST
    );

    // Good data: allocations upserted on sipd_code, the log, last_sync and health.
    let job = synced(&api, &root, good, a).await;
    assert_eq!(job["status"], "completed", "{job}");
    assert_eq!(
        job["result"],
        json!({"processed": 2, "success": 2, "failed": 0})
    );
    assert_eq!(sipd.auth.lock().unwrap()[0], "Bearer kunci-rahasia-good");
    let again = synced(&api, &root, good, a).await;
    assert_eq!(again["status"], "completed");
    let (_, allocations) = api
        .get(&format!("/budget/allocations?opd_id={a}&year=2025"), &root)
        .await;
    assert_eq!(allocations["data"]["total"], 2, "upserted, not duplicated");
    let amounts: Vec<&str> = allocations["data"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["allocation_amount"].as_str().unwrap())
        .collect();
    assert_eq!(amounts, ["1500000.50", "250000.00"]);
    let (_, info) = api.get(&format!("/integrations/{good}"), &root).await;
    assert_eq!(info["data"]["health_score"], 100);
    assert!(info["data"]["last_sync"].is_string());
    let (_, logs) = api
        .get(&format!("/integrations/{good}/sync-logs"), &root)
        .await;
    assert_eq!(logs["data"]["total"], 2);
    assert_eq!(logs["data"]["items"][0]["status"], "completed");
    assert_eq!(logs["data"]["items"][0]["records_success"], 2);

    // Partial failures: completed with counts, health 50.
    let partial = integration(&api, &root, &base, "partial").await;
    let job = synced(&api, &root, partial, a).await;
    assert_eq!(
        job["result"],
        json!({"processed": 4, "success": 2, "failed": 2}),
        "{job}"
    );
    assert_eq!(
        api.get(&format!("/integrations/{partial}"), &root).await.1["data"]["health_score"],
        50
    );

    // 500s, slow answers and malformed JSON: each attempt logged failed, retried, then failed.
    for (mode, why) in [
        ("error", "500"),
        ("slow", "in time"),
        ("malformed", "malformed JSON"),
    ] {
        let it = integration(&api, &root, &base, mode).await;
        let job = synced(&api, &root, it, a).await;
        assert_eq!(job["status"], "failed", "{mode}: {job}");
        assert_eq!(job["attempts"], 2);
        assert!(
            job["last_error"].as_str().unwrap().contains(why),
            "{mode}: {job}"
        );
        let (_, logs) = api
            .get(&format!("/integrations/{it}/sync-logs"), &root)
            .await;
        assert_eq!(logs["data"]["total"], 2, "{mode}");
        assert_eq!(logs["data"]["items"][0]["status"], "failed");
        assert!(logs["data"]["items"][0]["error_message"]
            .as_str()
            .unwrap()
            .contains(why));
        assert_eq!(sipd.hits(mode), 2);
    }
    // A flaky answer: the retry succeeds.
    let flaky = integration(&api, &root, &base, "flaky").await;
    let job = synced(&api, &root, flaky, a).await;
    assert_eq!(job["status"], "completed", "{job}");
    assert_eq!(job["attempts"], 2);
    assert_eq!(
        api.get("/jobs/999999", &root).await.0,
        StatusCode::NOT_FOUND
    );
    // Health in the seed's own shape (no envelope): a sync below full health shows.
    let health: Value = api
        .http
        .get(api.url("/health"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["services"]["external_apis"], "error", "{health}");
    assert_eq!(
        health["status"], "ok",
        "an integration never makes the cloud unhealthy"
    );
    assert!(
        health["details"]["external_apis"]["degraded"]
            .as_u64()
            .unwrap()
            >= 1
    );

    // A scheduled integration must name its OPDs; a manual one need not.
    for config in [
        json!(null),
        json!({}),
        json!({"opd_ids": []}),
        json!({"opd_ids": ["x"]}),
    ] {
        let (status, out) = api
            .post("/integrations", &root, json!({"system_name": "SIPD", "endpoint_url": format!("{base}/good"), "sync_frequency": "daily", "config": config}))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{config}: {out}");
        assert!(
            out["error"]["message"]
                .as_str()
                .unwrap()
                .contains("opd_ids"),
            "{out}"
        );
    }
}

async fn replicas_and_restart(backend: Backend) {
    let (base, sipd) = sipd_server().await;
    // This cloud runs no jobs: what it queues waits in the table.
    let idle = json!({"worker": false});
    let api = Api::with(backend, idle.clone()).await;
    let root = api.admin().await;
    let a = id(&api
        .create("/opd", &root, json!({"code": "DPU", "name": "Dinas PU"}))
        .await);
    let good = integration(&api, &root, &base, "good").await;

    // Queued on a replica that then stops; a fresh one runs it after the "restart".
    let first = Replica::start(&api.tc, &idle).await;
    let remote = client_of(&api, first.base());
    let (status, out) = {
        let res = api
            .http
            .post(format!(
                "{}/sakip/api/v1/integrations/{good}/sync",
                first.base()
            ))
            .bearer_auth(&root)
            .json(&json!({"opd_id": a, "year": 2025}))
            .send()
            .await
            .unwrap();
        (res.status(), res.json::<Value>().await.unwrap())
    };
    assert_eq!(status, StatusCode::ACCEPTED, "{out}");
    assert_eq!(remote.get("/health", "").await.0, StatusCode::OK);
    first.stop().await;
    let job = out["data"]["job_id"].as_i64().unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        api.get(&format!("/jobs/{job}"), &root).await.1["data"]["status"],
        "queued"
    );
    assert_eq!(sipd.hits("good"), 0);
    // As if a worker had started the job and died: its log left running.
    let db = sea_orm::Database::connect(api.tc.database_url())
        .await
        .unwrap();
    let stale = {
        use sea_orm::{ActiveModelTrait, Set};
        let now = time::OffsetDateTime::now_utc();
        sakip::entities::sync_log::ActiveModel {
            integration_id: Set(good as i32),
            job_id: Set(Some(job as i32)),
            sync_type: Set("sipd_budget".into()),
            status: Set("running".into()),
            records_processed: Set(0),
            records_success: Set(0),
            records_failed: Set(0),
            started_at: Set(Some(now)),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&db)
        .await
        .unwrap()
        .id
    };
    let worker = json!({"poll_ms": 50, "retry_base_ms": 100});
    let second = Replica::start(&api.tc, &worker).await;
    let done = wait_for(&api, &format!("/jobs/{job}"), &root, |j| {
        j["status"] == "completed"
    })
    .await;
    assert_eq!(done["attempts"], 1);
    let (_, logs) = api
        .get(&format!("/integrations/{good}/sync-logs"), &root)
        .await;
    let interrupted = logs["data"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["id"] == stale)
        .unwrap()
        .clone();
    assert_eq!(interrupted["status"], "failed", "{interrupted}");
    assert!(
        interrupted["error_message"]
            .as_str()
            .unwrap()
            .contains("interrupted"),
        "{interrupted}"
    );
    assert!(interrupted["completed_at"].is_string());

    // Two workers, many jobs: each runs once.
    let third = Replica::start(&api.tc, &worker).await;
    let mut jobs = Vec::new();
    for _ in 0..8 {
        let (_, out) = api
            .post(
                &format!("/integrations/{good}/sync"),
                &root,
                json!({"opd_id": a, "year": 2025}),
            )
            .await;
        jobs.push(out["data"]["job_id"].as_i64().unwrap());
    }
    for job in &jobs {
        let done = wait_for(&api, &format!("/jobs/{job}"), &root, |j| {
            j["status"] == "completed"
        })
        .await;
        assert_eq!(done["attempts"], 1, "{done}");
    }
    assert_eq!(sipd.hits("good"), 9, "one SIPD call per job");
    let (_, logs) = api
        .get(&format!("/integrations/{good}/sync-logs"), &root)
        .await;
    assert_eq!(logs["data"]["total"], 10, "9 runs and the interrupted one");

    // A schedule: one run per period whatever the replicas.
    let scheduled = id(&api
        .create(
            "/integrations",
            &root,
            json!({"system_name": "SIPD", "endpoint_url": format!("{base}/partial"), "sync_frequency": "daily", "config": {"opd_ids": [a], "year": 2025}}),
        )
        .await);
    let logs = wait_for(
        &api,
        &format!("/integrations/{scheduled}/sync-logs"),
        &root,
        |l| l["items"][0]["status"] == "completed",
    )
    .await;
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(logs["total"], 1);
    assert_eq!(sipd.hits("partial"), 1);
    second.stop().await;
    third.stop().await;

    // Every write audited, the worker's too: the scheduled enqueue, each run's start and
    // finish, the allocations a run wrote.
    let scheduled_entries = audit_entries(&api, &root, "sakip_job_scheduled").await;
    assert_eq!(scheduled_entries.len(), 1, "{scheduled_entries:?}");
    assert_eq!(scheduled_entries[0]["actor"], "system:sakip-worker");
    assert_eq!(scheduled_entries[0]["detail"]["opd_id"], a);
    let starts = audit_entries(&api, &root, "sakip_job_start").await;
    let finishes = audit_entries(&api, &root, "sakip_job_finish").await;
    assert_eq!(starts.len(), 10, "9 manual runs and the scheduled one");
    assert_eq!(finishes.len(), 10);
    assert!(finishes
        .iter()
        .all(|e| e["actor"] == "system:sakip-worker" && e["detail"]["status"] == "completed"));
    let upserts = audit_entries(&api, &root, "sakip_allocation_sync_upsert").await;
    assert_eq!(upserts.len(), 10, "each run wrote allocations");
    assert!(upserts
        .iter()
        .any(|e| e["detail"]["created"] == json!(["SIPD-G1", "SIPD-G2"])));
    assert!(upserts
        .iter()
        .any(|e| e["detail"]["updated"] == json!(["SIPD-G1", "SIPD-G2"])));

    // A run cut off at its lease: its log is closed as failed, not left running.
    let slow = integration(&api, &root, &base, "slow").await;
    let short = Replica::start(
        &api.tc,
        &json!({"poll_ms": 50, "lease_secs": 2, "max_attempts": 1, "http_timeout_ms": 10_000}),
    )
    .await;
    // Queued through that replica, so the job carries its `max_attempts` (1).
    let res = api
        .http
        .post(format!(
            "{}/sakip/api/v1/integrations/{slow}/sync",
            short.base()
        ))
        .bearer_auth(&root)
        .json(&json!({"opd_id": a, "year": 2025}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let job = res.json::<Value>().await.unwrap()["data"]["job_id"]
        .as_i64()
        .unwrap();
    let job = wait_for(&api, &format!("/jobs/{job}"), &root, |j| {
        j["status"] == "failed"
    })
    .await;
    assert_eq!(job["status"], "failed", "{job}");
    assert!(
        job["last_error"].as_str().unwrap().contains("lease"),
        "{job}"
    );
    let (_, logs) = api
        .get(&format!("/integrations/{slow}/sync-logs"), &root)
        .await;
    assert_eq!(logs["data"]["total"], 1);
    assert_eq!(logs["data"]["items"][0]["status"], "failed", "{logs}");
    assert!(logs["data"]["items"][0]["error_message"]
        .as_str()
        .unwrap()
        .contains("lease"));
    short.stop().await;
}

/// Turns `async fn case(backend)` into `case::sqlite` and `case::postgres`, both needing
/// Redis (`cargo xtask test` filters them out by name where none is reachable, a plain
/// `cargo test` lists them as ignored).
macro_rules! redis_tests {
    ($($case:ident),+) => {$(
        mod $case {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[ignore = "needs Redis: `cargo xtask test` runs it where one is reachable"]
            async fn sqlite() {
                super::$case(cloud_api::testkit::Backend::Sqlite).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[ignore = "needs PostgreSQL and Redis: `cargo xtask test` runs it where both are reachable"]
            async fn postgres() {
                super::$case(cloud_api::testkit::Backend::require_postgres()).await
            }
        }
    )+};
}

// The Redis cache across replicas; Redis going away (through a relay of the test's own):
// health answers 503 with `redis: "error"`, a write whose invalidation fails still lands,
// and no read serves the entry it made stale once Redis is back.
redis_tests!(redis_cache, redis_outage);

async fn redis_outage(backend: Backend) {
    let proxy = RedisProxy::start(&cloud_api::testkit::require_redis()).await;
    let section = json!({"redis_url": proxy.url(), "redis_prefix": format!("t-{}", uuid::Uuid::new_v4().simple())});
    let api = Api::with(backend, section).await;
    let (root, a, _, _, _) = fixture(&api).await;
    let health = || {
        let api = &api;
        async move {
            let res = api.http.get(api.url("/health")).send().await.unwrap();
            (res.status(), res.json::<Value>().await.unwrap())
        }
    };
    let (status, body) = health().await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["services"]["redis"], "ok");
    let path = format!("/performance/data?year=2025&opd_id={a}");
    let value = |d: &Value| {
        d["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["indicator"]["name"] == "Cakupan imunisasi")
            .unwrap()
            .clone()
    };
    let cached = value(&api.get(&path, &root).await.1);
    assert_eq!(cached["achievement_value"], "90");
    assert_eq!(value(&api.get(&path, &root).await.1), cached, "a hit");

    // Redis gone: 503 in the seed's words.
    proxy.down();
    let (status, body) = health().await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["status"], "error");
    assert_eq!(body["services"]["redis"], "error");
    assert_eq!(body["services"]["database"], "ok");

    // A write while Redis is gone lands; its invalidation is owed.
    let (status, out) = api
        .post(
            "/performance/achievements",
            &root,
            json!({"indicator_id": cached["indicator_id"], "year": 2025, "achievement_value": 91}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{out}");

    // Redis back: the entry made before the write is never served again.
    proxy.up();
    for _ in 0..200 {
        if health().await.0 == StatusCode::OK {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(health().await.0, StatusCode::OK, "Redis back");
    for _ in 0..3 {
        assert_eq!(
            value(&api.get(&path, &root).await.1)["achievement_value"],
            "91"
        );
    }
}

async fn redis_cache(backend: Backend) {
    let url = cloud_api::testkit::require_redis();
    let section =
        json!({"redis_url": url, "redis_prefix": format!("t-{}", uuid::Uuid::new_v4().simple())});
    let api = Api::with(backend, section.clone()).await;
    let (root, a, _, _, _) = fixture(&api).await;
    let res: Value = api
        .http
        .get(api.url("/health"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(res["services"]["redis"], "ok");
    let replica = Replica::start(&api.tc, &section).await;
    let other = client_of(&api, replica.base());
    let path = format!("/performance/data?year=2025&opd_id={a}");
    let value = |d: &Value| {
        d["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["indicator"]["name"] == "Cakupan imunisasi")
            .unwrap()["achievement_value"]
            .clone()
    };
    // Warm both replicas' reads, write on one, read on the other: never stale.
    assert_eq!(value(&other.get(&path, &root).await.1), "90");
    assert_eq!(value(&api.get(&path, &root).await.1), "90");
    let (_, data) = api.get(&path, &root).await;
    let higher = data["data"][0]["indicator_id"].as_i64().unwrap();
    for n in [91, 92, 93] {
        api.post(
            "/performance/achievements",
            &root,
            json!({"indicator_id": higher, "year": 2025, "achievement_value": n}),
        )
        .await;
        assert_eq!(value(&other.get(&path, &root).await.1), n.to_string());
        assert_eq!(value(&api.get(&path, &root).await.1), n.to_string());
    }
    // A target change (global generation) too.
    api.put(
        &format!("/indicators/{higher}/targets"),
        &root,
        json!([{"year": 2025, "target_value": "93"}]),
    )
    .await;
    let (_, fresh) = other.get(&path, &root).await;
    let row = fresh["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["indicator_id"] == higher)
        .unwrap()
        .clone();
    assert_eq!(row["percentage"], "100.00");
    replica.stop().await;
}

/// A mail the SMTP sink accepted: its `RCPT TO` addresses and its `DATA`.
#[derive(Debug, Clone)]
struct Received {
    to: Vec<String>,
    data: String,
}

/// A minimal SMTP server on 127.0.0.1:0 that accepts everything (after `greet_after`, so
/// that a request waiting on SMTP would show) and keeps each mail.
async fn smtp_sink(greet_after: Duration) -> (u16, Arc<Mutex<Vec<Received>>>) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let mails: Arc<Mutex<Vec<Received>>> = Arc::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let kept = mails.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let kept = kept.clone();
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut lines = BufReader::new(read).lines();
                tokio::time::sleep(greet_after).await;
                write.write_all(b"220 sink ESMTP\r\n").await.ok()?;
                let mut to = Vec::new();
                while let Some(line) = lines.next_line().await.ok()? {
                    let verb = line.get(..4).unwrap_or_default().to_ascii_uppercase();
                    let answer: &[u8] = match verb.as_str() {
                        "DATA" => {
                            write.write_all(b"354 go on\r\n").await.ok()?;
                            let mut data = String::new();
                            while let Some(l) = lines.next_line().await.ok()? {
                                if l == "." {
                                    break;
                                }
                                data.push_str(&l);
                                data.push('\n');
                            }
                            kept.lock().unwrap().push(Received {
                                to: std::mem::take(&mut to),
                                data,
                            });
                            b"250 kept\r\n"
                        }
                        "RCPT" => {
                            to.push(line[8..].trim().trim_matches(['<', '>']).to_owned());
                            b"250 ok\r\n"
                        }
                        "QUIT" => {
                            write.write_all(b"221 bye\r\n").await.ok()?;
                            return Some(());
                        }
                        _ => b"250 ok\r\n",
                    };
                    write.write_all(answer).await.ok()?;
                }
                Some(())
            });
        }
    });
    (port, mails)
}

/// Waits (at most 20 s) for a mail whose subject line contains `subject`.
async fn mail_with(mails: &Arc<Mutex<Vec<Received>>>, subject: &str) -> Received {
    for _ in 0..400 {
        let found = mails
            .lock()
            .unwrap()
            .iter()
            .find(|m| {
                m.data
                    .lines()
                    .any(|l| l.starts_with("Subject:") && l.contains(subject))
            })
            .cloned();
        if let Some(found) = found {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no mail about {subject}: {:?}", mails.lock().unwrap());
}

/// A cloud that mails through the SMTP server on `port`, with the fixture; answers it, the
/// root token, the OPD, the evaluator's token and an achievement root entered.
async fn mailing(backend: Backend, port: u16) -> (Api, String, i64, String, i64) {
    let mut section = fast_worker();
    section["smtp_host"] = json!("127.0.0.1");
    section["smtp_port"] = json!(port);
    section["smtp_from"] = json!("SAKIP <sakip@pemda.test>");
    section["smtp_tls"] = json!("none");
    let api = Api::with(backend, section).await;
    let (root, a, _b, _opd_a, evaluator) = fixture(&api).await;
    let (_, data) = api.get("/performance/data?year=2025", &root).await;
    let achievement = data["data"][0]["id"].as_i64().unwrap();
    (api, root, a, evaluator, achievement)
}

/// Verifies `achievement` as `evaluator`; expects 200.
async fn verify(api: &Api, evaluator: &str, achievement: i64) {
    let (status, out) = api
        .post(
            &format!("/performance/achievements/{achievement}/verify"),
            evaluator,
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{out}");
}

async fn notifications(backend: Backend) {
    let (port, mails) = smtp_sink(Duration::from_millis(1500)).await;
    let (api, root, a, evaluator, achievement) = mailing(backend, port).await;
    let admin_email = api.tc.admin_email.clone();

    // Verified: whoever entered it hears of it; the request does not wait for SMTP.
    let started = std::time::Instant::now();
    verify(&api, &evaluator, achievement).await;
    assert!(
        started.elapsed() < Duration::from_millis(1200),
        "{:?}",
        started.elapsed()
    );
    let verified = mail_with(&mails, "diverifikasi").await;
    assert_eq!(verified.to, vec![admin_email.clone()]);
    assert!(
        verified.data.contains("sakip@pemda.test"),
        "{}",
        verified.data
    );

    // Sent back: a reason is required; the mail carries it and the verification is cleared.
    let back = format!("/performance/achievements/{achievement}/return");
    assert_eq!(
        api.post(&back, &evaluator, json!({})).await.0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        api.post(&back, &root, json!({"reason": "x"})).await.0,
        StatusCode::FORBIDDEN
    );
    let (status, out) = api
        .post(
            &back,
            &evaluator,
            json!({"reason": "Bukti dukung belum lengkap"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(out["data"]["verified_by"].is_null());
    let returned = mail_with(&mails, "dikembalikan").await;
    assert_eq!(returned.to, vec![admin_email.clone()]);
    assert!(
        returned.data.contains("Bukti dukung belum lengkap"),
        "{}",
        returned.data
    );

    // An evaluation completed: the OPD's admins hear of it.
    let e = id(&api
        .create(
            "/evaluations",
            &evaluator,
            json!({"opd_id": a, "year": 2025, "type": "internal"}),
        )
        .await);
    let path = format!("/evaluations/{e}");
    api.put(&path, &evaluator, json!({"components": {"perencanaan_kinerja": 80, "pengukuran_kinerja": 70, "pelaporan_kinerja": 90, "evaluasi_akuntabilitas_kinerja_internal": 60}, "status": "in_progress"})).await;
    let (status, out) = api
        .put(&path, &evaluator, json!({"status": "completed"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{out}");
    let completed = mail_with(&mails, "selesai").await;
    assert_eq!(completed.to, vec!["admin.a@opd.test".to_owned()]);
    assert!(completed.data.contains("BB"), "{}", completed.data);

    // A sync that fails for good: the super_admins hear of it, without the integration's key.
    let (base, _sipd) = sipd_server().await;
    let it = integration(&api, &root, &base, "error").await;
    let job = synced(&api, &root, it, a).await;
    assert_eq!(job["status"], "failed");
    let failed = mail_with(&mails, "gagal").await;
    assert_eq!(failed.to, vec![admin_email]);
    assert!(!failed.data.contains("kunci-rahasia"), "{}", failed.data);
    assert_eq!(mails.lock().unwrap().len(), 4, "one mail per event");
}

/// Notifications delivered to a real SMTP server: `aiosmtpd` (PyPI) on a free loopback
/// port, storing what it receives in a Maildir. Prints "skipped" without it
/// (`GERBANG_TEST_AIOSMTPD`, the Python of a venv holding it); fails without it under
/// `--require-services`.
async fn notifications_aiosmtpd(backend: Backend) {
    let Ok(python) = std::env::var("GERBANG_TEST_AIOSMTPD") else {
        assert!(
            std::env::var_os("GERBANG_TEST_REQUIRE_SERVICES").is_none(),
            "--require-services: no aiosmtpd (GERBANG_TEST_AIOSMTPD)"
        );
        println!(
            "skipped: no aiosmtpd (GERBANG_TEST_AIOSMTPD; scripts/ci/services.sh installs it)"
        );
        return;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = tempfile::tempdir().unwrap();
    // A path that does not exist yet: aiosmtpd's Maildir creates its folders only then.
    let maildir = dir.path().join("mail");
    /// The server, stopped when the test ends (passing or not).
    struct Server(std::process::Child);
    impl Drop for Server {
        fn drop(&mut self) {
            self.0.kill().ok();
            self.0.wait().ok();
        }
    }
    let _server = Server(
        std::process::Command::new(&python)
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&maildir)
            .spawn()
            .unwrap(),
    );
    let mut listening = false;
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            listening = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(listening, "aiosmtpd did not start on port {port}");
    let (api, _root, _a, evaluator, achievement) = mailing(backend, port).await;
    verify(&api, &evaluator, achievement).await;
    let inbox = maildir.join("new");
    let mut mails = Vec::new();
    for _ in 0..400 {
        mails = std::fs::read_dir(&inbox)
            .map(|d| {
                d.filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok())
                    .collect()
            })
            .unwrap_or_default();
        if !mails.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(mails.len(), 1, "one mail in {}", inbox.display());
    let mail = &mails[0];
    assert!(
        mail.contains(&format!("X-RcptTo: {}", api.tc.admin_email)),
        "{mail}"
    );
    assert!(mail.contains("sakip@pemda.test"), "{mail}");
    assert!(mail.contains("telah diverifikasi"), "{mail}");
}

/// A `multipart/form-data` body with one file field: (content type, body).
fn multipart(field: &str, name: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = "gerbang-sakip-boundary-7d3f";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

async fn documents(backend: Backend) {
    let api = Api::with(backend, json!({"max_document_bytes": 4096})).await;
    let (root, _a, _b, opd_a, evaluator) = fixture(&api).await;
    let (_, data) = api.get("/performance/data?year=2025", &root).await;
    let achievement = data["data"][0]["id"].as_i64().unwrap();
    let path = format!("/performance/achievements/{achievement}/documents");
    let upload = |token: &str, field: &str, name: &str, bytes: &[u8]| {
        let (content_type, body) = multipart(field, name, bytes);
        api.http
            .post(api.url(&path))
            .bearer_auth(token)
            .header("content-type", content_type)
            .body(body)
    };
    let send = |req: reqwest::RequestBuilder| async move {
        let res = req.send().await.unwrap();
        let status = res.status();
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["success"], json!(status.is_success()), "{body}");
        (status, body)
    };

    // A PDF by its content, whatever its name. New evidence is a change: the verification
    // goes and `updated_at` moves.
    let (status, verified) = api
        .post(
            &format!("/performance/achievements/{achievement}/verify"),
            &evaluator,
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{verified}");
    assert!(verified["data"]["verified_by"].is_string());
    let pdf = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n".to_vec();
    let (status, out) = send(upload(&opd_a, "file", "../../laporan capaian.pdf", &pdf)).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert_eq!(out["data"]["verified_by"], Value::Null, "{out}");
    assert_eq!(out["data"]["verified_at"], Value::Null);
    assert_ne!(out["data"]["updated_at"], verified["data"]["updated_at"]);
    let doc = out["data"]["supporting_documents"][0].clone();
    assert_eq!(doc["content_type"], "application/pdf");
    assert_eq!(doc["name"], "laporan capaian.pdf");
    assert_eq!(doc["size"], pdf.len());

    // An Office document by its parts; an executable named .pdf, any other zip, an empty
    // file, a missing field, a body too large, JSON instead of multipart: refused, unchanged.
    let mut docx = b"PK\x03\x04\x14\x00\x06\x00".to_vec();
    docx.extend_from_slice(b"\x00\x00\x00\x00[Content_Types].xml word/document.xml");
    let (status, out) = send(upload(&root, "file", "rencana.docx", &docx)).await;
    assert_eq!(status, StatusCode::OK, "{out}");
    assert_eq!(
        out["data"]["supporting_documents"][1]["content_type"],
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    );
    for (field, bytes, want) in [
        (
            "file",
            b"MZ\x90\x00 this is a program".to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (
            "file",
            b"PK\x03\x04 just a zip".to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        ("file", Vec::new(), StatusCode::BAD_REQUEST),
        ("berkas", pdf.clone(), StatusCode::BAD_REQUEST),
        (
            "file",
            [pdf.clone(), vec![b'x'; 5000]].concat(),
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
    ] {
        let (status, out) = send(upload(&root, field, "bukti.pdf", &bytes)).await;
        assert_eq!(status, want, "{out}");
    }
    let (status, _) = send(
        api.http
            .post(api.url(&path))
            .bearer_auth(&root)
            .json(&json!({"file": "x"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = send(upload(&evaluator, "file", "bukti.pdf", &pdf)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, data) = api.get("/performance/data?year=2025", &root).await;
    let row = data["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == achievement)
        .unwrap()
        .clone();
    assert_eq!(
        row["supporting_documents"].as_array().unwrap().len(),
        2,
        "{row}"
    );

    // Resubmitting the achievement keeps its documents, whatever the body says.
    let (status, again) = api
        .post(
            "/performance/achievements",
            &opd_a,
            json!({"indicator_id": row["indicator_id"], "year": 2025, "achievement_value": 95, "supporting_documents": []}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(id(&again["data"]), achievement);
    assert_eq!(
        again["data"]["supporting_documents"]
            .as_array()
            .unwrap()
            .len(),
        2,
        "{again}"
    );

    // Uploads at once: none lost.
    let (one, two, three) = tokio::join!(
        send(upload(&opd_a, "file", "satu.pdf", &pdf)),
        send(upload(&root, "file", "dua.pdf", &pdf)),
        send(upload(&opd_a, "file", "tiga.pdf", &pdf)),
    );
    for (status, out) in [one, two, three] {
        assert_eq!(status, StatusCode::OK, "{out}");
    }
    let (_, data) = api.get("/performance/data?year=2025", &root).await;
    let names: std::collections::BTreeSet<String> = data["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == achievement)
        .unwrap()["supporting_documents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names.len(), 5, "{names:?}");
    assert!(["satu.pdf", "dua.pdf", "tiga.pdf"]
        .iter()
        .all(|n| names.contains(*n)));

    // Downloaded as stored, as an attachment, by whoever may read the OPD.
    let url = api.url(&format!("{path}/{}", doc["id"].as_str().unwrap()));
    let res = api
        .http
        .get(&url)
        .bearer_auth(&evaluator)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "application/pdf");
    assert!(res.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment"));
    assert_eq!(res.bytes().await.unwrap().to_vec(), pdf);
    let (status, _) = api
        .get(
            &format!("{path}/00000000-0000-0000-0000-000000000000"),
            &root,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = api.get(&format!("{path}/bukan-uuid"), &root).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}
