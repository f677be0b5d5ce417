//! Access history, analytics and exports on both databases: real sealed events from a
//! simulated device go through HTTPS ingest into `access_logs`, and every endpoint is
//! checked for status, shape and message; filters, paging, bad and hostile input, role
//! guards; the CSV, XLSX and PDF files are read back with `csv`, `calamine` and `lopdf`.

#![allow(clippy::unwrap_used)]

mod common;

use std::io::Cursor as IoCursor;

use calamine::{Reader, Xlsx};
use cloud_api::{
    db_tests,
    testkit::{Backend, BrokerKind, SimDevice, TestCloud},
};
use common::*;
use protocol::{AccessMethod, AccessResult, BatteryLevel, DenyReason, Event, PersonRef};
use reqwest::StatusCode;
use sea_orm::ConnectionTrait;
use serde_json::{json, Value};
use time::{macros::offset, Duration, OffsetDateTime, Time};

db_tests!(
    history_follows_ingest_and_filters,
    history_pages_with_a_cursor,
    history_refuses_bad_input,
    analytics_dashboard_and_reports,
    exports_read_back,
);

fn decision(
    result: AccessResult,
    method: AccessMethod,
    person: Option<(&str, &str)>,
    reason: Option<DenyReason>,
) -> Event {
    Event::AccessDecision {
        result,
        method,
        person: person.map(|(id, name)| PersonRef {
            id: id.into(),
            name: name.into(),
        }),
        reason,
        score: person.map(|_| 0.82),
        liveness: None,
        snapshot: Some("snap/1.jpg".into()),
    }
}

/// A sealed frame of `event` dated `ts`.
fn frame_at(dev: &mut SimDevice, event: Event, ts: OffsetDateTime) -> Vec<u8> {
    let mut envelope = dev.next(event);
    envelope.ts = ts;
    dev.seal(&envelope)
}

/// Two days ago in WIB at `h:m`.
fn local(days_ago: i64, h: u8, m: u8) -> OffsetDateTime {
    let today = OffsetDateTime::now_utc().to_offset(offset!(+7)).date();
    (today - Duration::days(days_ago))
        .with_time(Time::from_hms(h, m, 0).unwrap())
        .assume_offset(offset!(+7))
}

fn day(days_ago: i64) -> String {
    local(days_ago, 0, 0).date().to_string()
}

/// Seven access decisions over two days and one other event, for `door-1`:
/// - 2 days ago 08:10 Budi granted face, 08:20 Siti granted face, 08:30 unknown denied,
///   17:45 Budi granted face;
/// - 1 day ago 09:05 Budi denied liveness, 09:10 remote granted, 18:00 exit button granted.
async fn seed(tc: &TestCloud) -> SimDevice {
    let site = protocol::SiteId::parse("hq").unwrap();
    let mut dev = tc.enroll_device(&site, "door-1").await;
    use AccessMethod::*;
    use AccessResult::*;
    let budi = Some(("u-budi", "Budi Santoso"));
    let siti = Some(("u-siti", "Siti Aminah"));
    let events = [
        (local(2, 8, 10), decision(Granted, Face, budi, None)),
        (local(2, 8, 20), decision(Granted, Face, siti, None)),
        (
            local(2, 8, 30),
            decision(Denied, Face, None, Some(DenyReason::UnknownFace)),
        ),
        (local(2, 17, 45), decision(Granted, Face, budi, None)),
        (
            local(1, 9, 5),
            decision(Denied, Face, budi, Some(DenyReason::LivenessFailed)),
        ),
        (local(1, 9, 10), decision(Granted, Remote, None, None)),
        (
            local(1, 9, 11),
            Event::Battery {
                percent: 50,
                millivolts: None,
                charging: false,
                level: BatteryLevel::Normal,
            },
        ),
        (local(1, 18, 0), decision(Granted, ExitButton, None, None)),
    ];
    let frames: Vec<Vec<u8>> = events
        .into_iter()
        .map(|(ts, event)| frame_at(&mut dev, event, ts))
        .collect();
    let first = send_frames(tc, &dev.token, &frames).await;
    assert_eq!(first["accepted"], 8, "{first}");
    // A re-delivery stores nothing and logs nothing twice.
    let again = send_frames(tc, &dev.token, &frames).await;
    assert_eq!(again["duplicates"], 8, "{again}");
    dev
}

async fn history(tc: &TestCloud, token: &str, query: &str) -> Value {
    let (status, body) = get(tc, token, &format!("/api/history/access{query}")).await;
    assert_eq!(status, StatusCode::OK, "{query}: {body}");
    body
}

fn names(body: &Value) -> Vec<String> {
    body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{}:{}:{}",
                r["user_name"].as_str().unwrap_or("-"),
                r["result"].as_str().unwrap(),
                r["method"].as_str().unwrap()
            )
        })
        .collect()
}

async fn history_follows_ingest_and_filters(backend: Backend) {
    let tc = TestCloud::start(backend, BrokerKind::Embedded).await;
    seed(&tc).await;
    let admin = admin_token(&tc).await;

    // The log holds exactly the access decisions among the stored events.
    let db = tc.cloud().database();
    let counted = db
        .query_one(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT (SELECT COUNT(*) FROM access_logs) AS logs, \
             (SELECT COUNT(*) FROM events WHERE kind = 'access_decision') AS events",
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(counted.try_get::<i64>("", "logs").unwrap(), 7);
    assert_eq!(counted.try_get::<i64>("", "events").unwrap(), 7);

    let body = history(&tc, &admin, "?include_total=true").await;
    assert_eq!(
        names(&body),
        [
            "-:granted:exit_button",
            "-:granted:remote",
            "Budi Santoso:denied:face",
            "Budi Santoso:granted:face",
            "-:denied:face",
            "Siti Aminah:granted:face",
            "Budi Santoso:granted:face",
        ],
        "newest first: {body}"
    );
    assert_eq!(body["pagination"]["total"], 7);
    assert_eq!(body["pagination"]["has_more"], false);
    assert!(body["pagination"]["next_cursor"].is_null());
    let row = &body["data"][2];
    assert_eq!(row["device_id"], "door-1");
    assert_eq!(row["device_name"], "Pintu uji");
    assert_eq!(row["success"], false);
    assert_eq!(row["reason"], "liveness_failed");
    assert_eq!(row["user_id"], "u-budi");
    assert_eq!(row["snapshot"], "snap/1.jpg");
    assert!((row["score"].as_f64().unwrap() - 0.82).abs() < 1e-6);
    // Times are shown in the requested offset (WIB by default).
    let expected = local(1, 9, 5)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    assert_eq!(row["timestamp"], expected.as_str());
    assert!(row["timestamp"].as_str().unwrap().ends_with("+07:00"));

    let count = |body: &Value| body["data"].as_array().unwrap().len();
    assert_eq!(count(&history(&tc, &admin, "?result=denied").await), 2);
    assert_eq!(
        count(&history(&tc, &admin, "?result=GRANTED&method=face").await),
        3
    );
    assert_eq!(count(&history(&tc, &admin, "?person_id=u-budi").await), 3);
    assert_eq!(
        count(&history(&tc, &admin, "?reason=unknown_face").await),
        1
    );
    assert_eq!(count(&history(&tc, &admin, "?device_id=door-1").await), 7);
    assert_eq!(count(&history(&tc, &admin, "?device_id=door-2").await), 0);
    // Name search: case-insensitive, substring.
    assert_eq!(count(&history(&tc, &admin, "?q=SANTOS").await), 3);
    assert_eq!(count(&history(&tc, &admin, "?q=aminah").await), 1);
    // Date range: a date covers its whole WIB day; times are exact.
    let two_days_ago = day(2);
    assert_eq!(
        count(
            &history(
                &tc,
                &admin,
                &format!("?from={two_days_ago}&to={two_days_ago}")
            )
            .await
        ),
        4
    );
    assert_eq!(
        count(&history(&tc, &admin, &format!("?from={}", day(1))).await),
        3
    );
    let at = |t: OffsetDateTime| {
        t.format(&time::format_description::well_known::Rfc3339)
            .unwrap()
            .replace('+', "%2B")
    };
    let query = format!("?from={}&to={}", at(local(2, 8, 20)), at(local(2, 8, 30)));
    assert_eq!(count(&history(&tc, &admin, &query).await), 2, "{query}");
    // The same range read in another offset: dates move with tz.
    let utc = history(
        &tc,
        &admin,
        &format!("?from={two_days_ago}&to={two_days_ago}&tz=Z"),
    )
    .await;
    assert!(count(&utc) >= 1);
    assert!(utc["data"][0]["timestamp"].as_str().unwrap().ends_with('Z'));
}

async fn history_pages_with_a_cursor(backend: Backend) {
    let tc = TestCloud::start(backend, BrokerKind::Embedded).await;
    seed(&tc).await;
    let admin = admin_token(&tc).await;
    let all: Vec<Value> = history(&tc, &admin, "?limit=200").await["data"]
        .as_array()
        .unwrap()
        .clone();
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let query = match &cursor {
            Some(c) => format!("?limit=3&cursor={c}"),
            None => "?limit=3".to_owned(),
        };
        let body = history(&tc, &admin, &query).await;
        pages += 1;
        let data = body["data"].as_array().unwrap();
        assert!(data.len() <= 3);
        assert_eq!(body["pagination"]["limit"], 3);
        seen.extend(data.iter().cloned());
        match body["pagination"]["next_cursor"].as_str() {
            Some(next) => {
                assert_eq!(body["pagination"]["has_more"], true);
                cursor = Some(next.to_owned());
            }
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(seen, all, "pages concatenate to the whole list, no repeats");

    // A name search pages the same way: on PostgreSQL its full pages come from the newest
    // rows and its last page from the trigram index's matches.
    let matches = history(&tc, &admin, "?q=santos&limit=200").await["data"].clone();
    assert_eq!(matches.as_array().unwrap().len(), 3);
    let mut found = Vec::new();
    let mut cursor = String::new();
    loop {
        let body = history(&tc, &admin, &format!("?q=santos&limit=1&cursor={cursor}")).await;
        found.extend(body["data"].as_array().unwrap().iter().cloned());
        match body["pagination"]["next_cursor"].as_str() {
            Some(next) => cursor = next.to_owned(),
            None => break,
        }
    }
    assert_eq!(Value::Array(found), matches);

    // A cursor keeps working with filters, and new rows do not shift older pages.
    let first = history(&tc, &admin, "?limit=2&result=granted").await;
    let next = first["pagination"]["next_cursor"]
        .as_str()
        .unwrap()
        .to_owned();
    let site = protocol::SiteId::parse("hq").unwrap();
    let mut late = tc.enroll_device(&site, "door-2").await;
    let frame = late.next_frame(decision(
        AccessResult::Granted,
        AccessMethod::Face,
        Some(("u-new", "Baru")),
        None,
    ));
    send_frames(&tc, &late.token, &[frame]).await;
    let second = history(
        &tc,
        &admin,
        &format!("?limit=2&result=granted&cursor={next}"),
    )
    .await;
    let granted: Vec<&Value> = all.iter().filter(|r| r["result"] == "granted").collect();
    assert_eq!(second["data"][0], *granted[2]);
}

async fn history_refuses_bad_input(backend: Backend) {
    let tc = TestCloud::start(backend, BrokerKind::Embedded).await;
    seed(&tc).await;
    let admin = admin_token(&tc).await;

    // Injection strings in the free-text search are just text: they match no name, and
    // LIKE wildcards are literal.
    for q in [
        "' OR 1=1 --",
        "%",
        "_",
        "\\",
        "'; DROP TABLE access_logs; --",
        "%25",
    ] {
        let body = history(&tc, &admin, &format!("?q={}", urlencode(q))).await;
        assert_eq!(body["data"].as_array().unwrap().len(), 0, "q={q}: {body}");
    }
    // Injection in an exact-match field matches nothing.
    let body = history(
        &tc,
        &admin,
        &format!("?person_id={}", urlencode("u-budi' OR '1'='1")),
    )
    .await;
    assert_eq!(body["data"].as_array().unwrap().len(), 0);

    let cases: &[(&str, &str)] = &[
        (
            "?result=granted'%20OR%20'1'='1",
            "result harus salah satu dari",
        ),
        ("?method=card", "method harus salah satu dari"),
        ("?reason=bored", "reason harus salah satu dari"),
        ("?from=2026-13-45", "from tidak valid"),
        ("?to=kemarin", "to tidak valid"),
        ("?from=2026-11-05&to=2026-11-01", "Rentang tanggal terbalik"),
        ("?tz=Mars/Olympus", "tz tidak valid"),
        ("?limit=abc", "limit harus bilangan bulat"),
        ("?limit=0", "limit harus bilangan bulat"),
        ("?limit=201", "limit harus bilangan bulat"),
        ("?limit=-1", "limit harus bilangan bulat"),
        ("?cursor=not-a-cursor", "cursor tidak valid"),
        ("?device_id=..%2F..%2Fetc%2Fpasswd", "device_id tidak valid"),
        (
            "?include_total=maybe",
            "include_total harus true atau false",
        ),
    ];
    for (query, message) in cases {
        let (status, body) = get(&tc, &admin, &format!("/api/history/access{query}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        let text = body["message"].as_str().unwrap();
        assert!(text.contains(message), "{query}: {text}");
        assert!(!text.to_lowercase().contains("sql"), "{query}: {text}");
    }
    let (status, body) = json(
        http()
            .get(tc.url("/api/history/access?from=2026-11-05&to=2026-11-01"))
            .bearer_auth(&admin)
            .header("Accept-Language", "en")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["message"],
        "The date range is inverted: from must come before to"
    );
    // Analytics ranges are bounded.
    let (status, body) = get(
        &tc,
        &admin,
        "/api/analytics/dashboard?from=2024-01-01&to=2026-01-01",
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["message"], "Rentang analitik maksimal 366 hari");
    let (status, _) = get(&tc, &admin, "/api/analytics/reports?group_by=floor").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // Export bodies: wrong types answer 422, unknown formats 400.
    for (body, expected) in [
        (json!({"format": 5}), StatusCode::UNPROCESSABLE_ENTITY),
        (json!({"format": "docx"}), StatusCode::BAD_REQUEST),
        (
            json!({"format": "csv", "from": ["x"]}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"format": "csv", "result": "maybe"}),
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let response = http()
            .post(tc.url("/api/analytics/export"))
            .bearer_auth(&admin)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), expected, "{body}");
    }
    // Nothing changed.
    assert_eq!(
        history(&tc, &admin, "").await["data"]
            .as_array()
            .unwrap()
            .len(),
        7
    );

    // Role guard: members get 403, strangers 401, on every endpoint.
    let member = user_token(&tc, "anggota@gerbang.test", &[("access", "member")]).await;
    for (method, path) in [
        ("GET", "/api/history/access"),
        ("GET", "/api/analytics/dashboard"),
        ("GET", "/api/analytics/reports"),
        ("POST", "/api/analytics/export"),
    ] {
        let request = |token: Option<&str>| {
            let r = if method == "GET" {
                http().get(tc.url(path))
            } else {
                http().post(tc.url(path)).json(&json!({"format": "csv"}))
            };
            match token {
                Some(t) => r.bearer_auth(t),
                None => r,
            }
        };
        let (status, body) = json(request(Some(&member)).send().await.unwrap()).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}: {body}");
        assert_eq!(body["message"], "Anda tidak memiliki akses");
        let (status, body) = json(request(None).send().await.unwrap()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}: {body}");
        assert_eq!(body["message"], "Anda belum login");
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn analytics_dashboard_and_reports(backend: Backend) {
    let tc = TestCloud::start(backend, BrokerKind::Embedded).await;
    seed(&tc).await;
    let admin = admin_token(&tc).await;
    let range = format!("?from={}&to={}", day(2), day(1));
    let (status, body) = get(&tc, &admin, &format!("/api/analytics/dashboard{range}")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["totals"]["total"], 7);
    assert_eq!(body["totals"]["granted"], 5);
    assert_eq!(body["totals"]["denied"], 2);
    assert_eq!(body["totals"]["success_rate"], 71.4);
    assert_eq!(body["unknown_faces"], 1);
    assert_eq!(body["unique_users"], 2);
    assert_eq!(body["period"]["tz"], "+07:00");
    let per_day = body["per_day"].as_array().unwrap();
    assert_eq!(per_day.len(), 2);
    assert_eq!(per_day[0]["date"], day(2).as_str());
    assert_eq!(per_day[0]["total"], 4);
    assert_eq!(per_day[0]["granted"], 3);
    assert_eq!(per_day[1]["total"], 3);
    let per_hour = body["per_hour"].as_array().unwrap();
    assert_eq!(per_hour.len(), 24);
    assert_eq!(per_hour[8]["total"], 3);
    assert_eq!(per_hour[9]["total"], 2);
    assert_eq!(per_hour[9]["denied"], 1);
    assert_eq!(per_hour[17]["total"], 1);
    assert_eq!(per_hour[18]["total"], 1);
    assert_eq!(per_hour[3]["total"], 0);
    let method = |key: &str| {
        body["by_method"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["key"] == key)
            .unwrap_or_else(|| panic!("{key} in {body}"))["total"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(
        (method("face"), method("remote"), method("exit_button")),
        (5, 1, 1)
    );
    assert_eq!(body["by_reason"].as_array().unwrap().len(), 2);
    assert_eq!(body["by_device"][0]["key"], "door-1");
    assert_eq!(body["top_users"][0]["user_id"], "u-budi");
    assert_eq!(body["top_users"][0]["user_name"], "Budi Santoso");
    assert_eq!(body["top_users"][0]["total"], 3);
    assert_eq!(body["top_users"][0]["granted"], 2);
    assert_eq!(body["top_users"][0]["success_rate"], 66.7);
    assert_eq!(body["top_users"][1]["user_id"], "u-siti");

    // The default range (last 7 days) sees them too; filters apply.
    let (_, body) = get(&tc, &admin, "/api/analytics/dashboard?method=face&top=1").await;
    assert_eq!(body["totals"]["total"], 5, "{body}");
    assert_eq!(body["per_day"].as_array().unwrap().len(), 7);
    assert_eq!(body["top_users"].as_array().unwrap().len(), 1);

    let (status, body) = get(&tc, &admin, &format!("/api/analytics/reports{range}")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["group_by"], "device");
    assert_eq!(body["rows"][0]["id"], "door-1");
    assert_eq!(body["rows"][0]["name"], "Pintu uji");
    assert_eq!(body["rows"][0]["total"], 7);
    assert_eq!(body["rows"][0]["active_days"], 2);
    assert_eq!(
        body["rows"][0]["first_access"],
        local(2, 8, 10)
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap()
            .as_str()
    );
    let (_, body) = get(
        &tc,
        &admin,
        &format!("/api/analytics/reports{range}&group_by=person"),
    )
    .await;
    let rows = body["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{body}");
    assert_eq!(rows[0]["id"], "u-budi");
    assert_eq!(rows[0]["total"], 3);
    assert_eq!(rows[0]["denied"], 1);
    assert_eq!(rows[0]["active_days"], 2);
    assert_eq!(body["totals"]["total"], 4);
}

async fn export(tc: &TestCloud, token: &str, body: Value) -> reqwest::Response {
    let response = http()
        .post(tc.url("/api/analytics/export"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{body}");
    response
}

fn header<'a>(response: &'a reqwest::Response, name: &str) -> &'a str {
    response
        .headers()
        .get(name)
        .unwrap_or_else(|| panic!("no {name}"))
        .to_str()
        .unwrap()
}

async fn exports_read_back(backend: Backend) {
    let tc = TestCloud::start(backend, BrokerKind::Embedded).await;
    let mut dev = seed(&tc).await;
    // A name that a spreadsheet would run as a formula.
    let frame = dev.next_frame(decision(
        AccessResult::Granted,
        AccessMethod::Face,
        Some(("u-evil", "=HYPERLINK(\"http://x\")")),
        None,
    ));
    send_frames(&tc, &dev.token, &[frame]).await;
    let admin = admin_token(&tc).await;

    let response = export(&tc, &admin, json!({"format": "csv"})).await;
    assert_eq!(header(&response, "content-type"), "text/csv; charset=utf-8");
    let disposition = header(&response, "content-disposition").to_owned();
    assert!(
        disposition.starts_with("attachment; filename=\"riwayat-akses-")
            && disposition.ends_with(".csv\""),
        "{disposition}"
    );
    let bytes = response.bytes().await.unwrap();
    let mut reader = csv::Reader::from_reader(bytes.as_ref());
    let headers = reader.headers().unwrap().clone();
    assert_eq!(&headers[0], "Waktu");
    assert_eq!(&headers[6], "Nama Pengguna");
    let records: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(records.len(), 8);
    assert_eq!(&records[0][6], "'=HYPERLINK(\"http://x\")");
    assert_eq!(&records[3][6], "Budi Santoso");
    assert_eq!(&records[3][3], "denied");
    assert_eq!(&records[3][7], "liveness_failed");

    // English headers and a filter.
    let response = http()
        .post(tc.url("/api/analytics/export"))
        .bearer_auth(&admin)
        .header("Accept-Language", "en")
        .json(&json!({"format": "csv", "person_id": "u-budi"}))
        .send()
        .await
        .unwrap();
    let bytes = response.bytes().await.unwrap();
    let mut reader = csv::Reader::from_reader(bytes.as_ref());
    assert_eq!(&reader.headers().unwrap()[0], "Time");
    assert_eq!(reader.records().count(), 3);

    let response = export(&tc, &admin, json!({"format": "xlsx", "result": "granted"})).await;
    assert_eq!(
        header(&response, "content-type"),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    assert!(header(&response, "content-disposition").ends_with(".xlsx\""));
    assert_eq!(header(&response, "x-export-rows"), "6");
    assert_eq!(header(&response, "x-export-truncated"), "false");
    let bytes = response.bytes().await.unwrap();
    let mut workbook: Xlsx<_> =
        calamine::open_workbook_from_rs(IoCursor::new(bytes.to_vec())).unwrap();
    let range = workbook.worksheet_range("Riwayat").unwrap();
    let rows: Vec<_> = range.rows().collect();
    assert_eq!(rows.len(), 7, "header + 6 granted");
    assert_eq!(rows[0][0].to_string(), "Waktu");
    // The formula-looking name is a plain string in XLSX.
    assert_eq!(rows[1][6].to_string(), "=HYPERLINK(\"http://x\")");
    assert_eq!(rows[1][3].to_string(), "granted");
    let names: Vec<String> = rows[1..].iter().map(|r| r[6].to_string()).collect();
    assert!(names.contains(&"Siti Aminah".to_owned()), "{names:?}");
    // Scores are numbers.
    assert!(matches!(rows[1][8], calamine::Data::Float(f) if (f - 0.82).abs() < 1e-6));

    let response = export(&tc, &admin, json!({"format": "pdf", "q": "a"})).await;
    assert_eq!(header(&response, "content-type"), "application/pdf");
    assert!(header(&response, "content-disposition").ends_with(".pdf\""));
    let bytes = response.bytes().await.unwrap();
    assert!(bytes.starts_with(b"%PDF-"));
    let doc = lopdf::Document::load_mem(&bytes).unwrap();
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    assert_eq!(pages.len(), 1);
    let text = doc.extract_text(&pages).unwrap();
    assert!(text.contains("Riwayat Akses Gerbang"), "{text}");
    assert!(text.contains("Budi Santoso"), "{text}");
    assert!(text.contains("Siti Aminah"), "{text}");
    assert!(text.contains("liveness_failed"), "{text}");
    assert!(text.contains("q=a"), "{text}");
}
