//! The day's attendance for admins (`GET /api/attendance/daily`) on both databases: who is
//! expected (access windows, disabled people, people made later), first check-in and last
//! check-out from kiosk events in any order, late against the site's work start in its time
//! zone, the department filter, guards, bad input, and the CSV/XLSX/PDF exports read back.

#![allow(clippy::unwrap_used)]

mod common;

use std::io::Cursor as IoCursor;

use calamine::{Reader, Xlsx};
use cloud_api::{
    db_tests,
    testkit::{unique_site, Backend, BrokerKind, SimDevice, TestCloud},
};
use common::*;
use protocol::{AttendanceDirection, Event, PersonRef};
use reqwest::StatusCode;
use serde_json::{json, Value};
use time::{macros::offset, Date, OffsetDateTime, Time};

db_tests!(daily_contract);

/// Creates a person through the users API; returns their id.
async fn person(tc: &TestCloud, admin: &str, body: Value) -> String {
    let (status, created) = json(
        http()
            .post(tc.url("/api/users"))
            .bearer_auth(admin)
            .json(&body)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    created["user"]["id"].as_str().unwrap().to_owned()
}

/// A sealed kiosk attendance event at `hh:mm` site time (Jakarta, UTC+7) on `day`.
fn kiosk(
    dev: &mut SimDevice,
    id: &str,
    day: Date,
    hh: u8,
    mm: u8,
    direction: AttendanceDirection,
) -> Vec<u8> {
    let mut envelope = dev.next(Event::Attendance {
        person: PersonRef {
            id: id.to_owned(),
            name: String::new(),
        },
        direction,
        local_date: day.to_string(),
        late: false,
    });
    envelope.ts = day
        .with_time(Time::from_hms(hh, mm, 0).unwrap())
        .assume_offset(offset!(+7));
    dev.seal(&envelope)
}

async fn daily(tc: &TestCloud, token: &str, query: &str) -> reqwest::Response {
    http()
        .get(tc.url(&format!("/api/attendance/daily?{query}")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

fn row<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["people"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("{name} not in {report}"))
}

async fn daily_contract(backend: Backend) {
    let tc = TestCloud::start_with(backend, BrokerKind::Embedded, |c| {
        let people = cloud_api::people::PeopleConfig {
            work_starts_at: Some("08:00".into()),
            ..Default::default()
        };
        c.set_section("people", &people).expect("people section");
    })
    .await;
    let admin = admin_token(&tc).await;
    let day = OffsetDateTime::now_utc().to_offset(offset!(+7)).date();
    let weekday = day.weekday().number_from_monday();
    let other_days: Vec<u8> = (1..=7).filter(|d| *d != weekday).collect();

    let ani = person(
        &tc,
        &admin,
        json!({"name": "Ani", "email": "ani@kantor.id", "department": "Keuangan"}),
    )
    .await;
    let budi = person(
        &tc,
        &admin,
        json!({"name": "Budi", "email": "budi@kantor.id", "department": "keuangan"}),
    )
    .await;
    person(
        &tc,
        &admin,
        json!({"name": "Citra", "email": "citra@kantor.id", "department": "TI"}),
    )
    .await;
    // Dodi does not work on this weekday: not expected, so not listed.
    person(
        &tc,
        &admin,
        json!({"name": "Dodi", "email": "dodi@kantor.id", "department": "TI",
        "windows": [{"days": other_days, "start": "07:00", "end": "18:00"}]}),
    )
    .await;
    // Eka is disabled but came: listed with her record.
    let eka = person(&tc, &admin, json!({"name": "Eka", "email": "eka@kantor.id", "department": "Keuangan", "enabled": false})).await;
    // Fajar is disabled and did not come: not expected.
    person(
        &tc,
        &admin,
        json!({"name": "Fajar", "email": "fajar@kantor.id", "enabled": false}),
    )
    .await;

    let mut dev = tc.enroll_device(&unique_site("att"), "kiosk-1").await;
    use AttendanceDirection::{CheckIn, CheckOut};
    let frames = [
        kiosk(&mut dev, &ani, day, 7, 50, CheckIn),
        kiosk(&mut dev, &ani, day, 17, 5, CheckOut),
        // An earlier check-out arriving later does not replace the last one.
        kiosk(&mut dev, &ani, day, 16, 0, CheckOut),
        // A later check-in does not replace the first one.
        kiosk(&mut dev, &ani, day, 9, 0, CheckIn),
        // Budi's check-out arrives before his check-in (an offline kiosk synced late); the
        // kiosk said "on time", the site's 08:00 says late.
        kiosk(&mut dev, &budi, day, 17, 0, CheckOut),
        kiosk(&mut dev, &budi, day, 8, 30, CheckIn),
        kiosk(&mut dev, &eka, day, 7, 55, CheckIn),
    ];
    let result = send_frames(&tc, &dev.token, &frames).await;
    assert_eq!(result["accepted"], 7, "{result}");

    let date = day.to_string();
    let (status, report) = json(daily(&tc, &admin, &format!("date={date}")).await).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["date"], date.as_str());
    assert_eq!(report["time_zone"], "Asia/Jakarta");
    assert_eq!(report["work_starts_at"], "08:00");
    let names: Vec<&str> = report["people"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Administrator", "Ani", "Budi", "Citra", "Eka"]);
    let at = |hh: u8, mm: u8| format!("{date}T{hh:02}:{mm:02}:00+07:00");
    let ani_row = row(&report, "Ani");
    assert_eq!(ani_row["status"], "present");
    assert_eq!(ani_row["department"], "Keuangan");
    assert_eq!(ani_row["check_in"], at(7, 50));
    assert_eq!(ani_row["check_out"], at(17, 5));
    assert_eq!(ani_row["source"], "device");
    let budi_row = row(&report, "Budi");
    assert_eq!(budi_row["status"], "late");
    assert_eq!(budi_row["check_in"], at(8, 30));
    assert_eq!(budi_row["check_out"], at(17, 0));
    let citra = row(&report, "Citra");
    assert_eq!(citra["status"], "absent");
    assert!(citra["check_in"].is_null() && citra["check_out"].is_null());
    assert_eq!(row(&report, "Eka")["status"], "present");
    assert_eq!(
        report["totals"],
        json!({"expected": 5, "present": 2, "late": 1, "absent": 2})
    );

    // Department, case-insensitive.
    let (_, keuangan) =
        json(daily(&tc, &admin, &format!("date={date}&department=KEUANGAN")).await).await;
    let names: Vec<&str> = keuangan["people"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Ani", "Budi", "Eka"]);

    // Before anyone existed nobody was expected; the day before has no records.
    let before = day.previous_day().unwrap();
    let (_, earlier) = json(daily(&tc, &admin, &format!("date={before}")).await).await;
    assert_eq!(earlier["people"], json!([]), "{earlier}");
    // No date: the site's today.
    let (_, today) = json(daily(&tc, &admin, "").await).await;
    assert_eq!(today["date"], date.as_str());

    // Bad input.
    for query in ["date=22-11-2026", "date=2026-02-30", "format=docx"] {
        let (status, body) = json(daily(&tc, &admin, query).await).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        assert!(body["message"].is_string());
    }
    // CSV, in the request's language.
    let response = daily(
        &tc,
        &admin,
        &format!("date={date}&department=keuangan&format=csv"),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"],
        "text/csv; charset=utf-8"
    );
    let disposition = response.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        disposition.contains(&format!("kehadiran-{date}-")),
        "{disposition}"
    );
    let text = response.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        [
            "Nama",
            "Departemen",
            "Masuk",
            "Pulang",
            "Status",
            "ID Pengguna"
        ]
    );
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), 3, "{text}");
    assert_eq!(&records[1][0], "Budi");
    assert_eq!(&records[1][2], at(8, 30));
    assert_eq!(&records[1][4], "Terlambat");
    assert_eq!(&records[1][5], budi);
    let english = http()
        .get(tc.url(&format!("/api/attendance/daily?date={date}&format=csv")))
        .bearer_auth(&admin)
        .header("Accept-Language", "en")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        english.starts_with("Name,Department,Check-in,Check-out,Status,User ID"),
        "{english}"
    );
    assert!(
        english.contains(",Late,") && english.contains(",Absent,"),
        "{english}"
    );

    // XLSX and PDF.
    let response = daily(&tc, &admin, &format!("date={date}&format=xlsx")).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["x-export-rows"], "5");
    let bytes = response.bytes().await.unwrap();
    let mut workbook: Xlsx<_> =
        calamine::open_workbook_from_rs(IoCursor::new(bytes.to_vec())).unwrap();
    let range = workbook.worksheet_range("Kehadiran").unwrap();
    let rows: Vec<_> = range.rows().collect();
    assert_eq!(rows.len(), 6, "header + 5 people");
    assert_eq!(rows[4][0].to_string(), "Citra");
    assert_eq!(rows[4][4].to_string(), "Tidak hadir");
    let response = daily(&tc, &admin, &format!("date={date}&format=pdf")).await;
    assert_eq!(response.headers()["content-type"], "application/pdf");
    let bytes = response.bytes().await.unwrap();
    let doc = lopdf::Document::load_mem(&bytes).unwrap();
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    let text = doc.extract_text(&pages).unwrap();
    assert!(
        text.contains("Kehadiran Harian") && text.contains("Citra"),
        "{text}"
    );

    // Guards: signed in, and an attendance admin.
    let (status, _) = json(
        http()
            .get(tc.url("/api/attendance/daily"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let member = user_token(&tc, "anggota@kantor.id", &[("attendance", "mahasiswa")]).await;
    let (status, _) = json(daily(&tc, &member, "").await).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    tc.stop().await;
}
