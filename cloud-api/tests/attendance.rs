//! The day's attendance for admins (`GET /api/attendance/daily`) on both databases: who is
//! expected (access windows, disabled people, people made later), first check-in and last
//! check-out from kiosk events in any order, late against the site's work start in its time
//! zone, the department filter, guards, bad input, and the CSV/XLSX/PDF exports read back;
//! events of a kiosk whose clock booted in 1970 dated by the cloud from their boot once a
//! synchronised event shows its offset (the event store, the access log and the day).

#![allow(clippy::unwrap_used)]

mod common;

use std::io::Cursor as IoCursor;

use calamine::{Reader, Xlsx};
use cloud_api::{
    db_tests,
    testkit::{unique_site, Backend, BrokerKind, SimDevice, TestCloud},
};
use common::*;
use protocol::{AccessMethod, AccessResult, AttendanceDirection, Envelope, Event, PersonRef};
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use serde_json::{json, Value};
use time::{macros::offset, Date, OffsetDateTime, Time};

db_tests!(daily_contract, unsynced_clock_is_corrected_from_the_boot);

/// A cloud whose site (Jakarta) starts work at 08:00.
async fn cloud_where_work_starts_at_eight(backend: Backend) -> TestCloud {
    TestCloud::start_with(backend, BrokerKind::Embedded, |c| {
        let people = cloud_api::people::PeopleConfig {
            work_starts_at: Some("08:00".into()),
            ..Default::default()
        };
        c.set_section("people", &people).expect("people section");
    })
    .await
}

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
    let tc = cloud_where_work_starts_at_eight(backend).await;
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

/// An unsynchronised event of `dev`'s boot `mono_ms` after it started, stamped in 1970 as a
/// Pi without a real-time clock does before NTP answers.
fn unsynced(dev: &mut SimDevice, mono_ms: u64, event: Event) -> Envelope {
    let mut envelope = dev.next(event);
    envelope.mono_ms = mono_ms;
    envelope.ts = OffsetDateTime::UNIX_EPOCH + time::Duration::milliseconds(mono_ms as i64);
    envelope.clock_synced = false;
    envelope
}

/// `(seq, ts, device_ts)` of every stored event of `device`, by seq.
async fn stored_times(
    db: &DatabaseConnection,
    device: &str,
) -> Vec<(i64, OffsetDateTime, Option<OffsetDateTime>)> {
    db.query_all(Statement::from_sql_and_values(
        db.get_database_backend(),
        match db.get_database_backend() {
            DbBackend::Postgres => {
                "SELECT seq, ts, device_ts FROM events WHERE device_id = $1 ORDER BY seq"
            }
            _ => "SELECT seq, ts, device_ts FROM events WHERE device_id = ? ORDER BY seq",
        },
        [device.into()],
    ))
    .await
    .unwrap()
    .into_iter()
    .map(|row| {
        (
            row.try_get("", "seq").unwrap(),
            row.try_get("", "ts").unwrap(),
            row.try_get("", "device_ts").unwrap(),
        )
    })
    .collect()
}

async fn unsynced_clock_is_corrected_from_the_boot(backend: Backend) {
    let tc = cloud_where_work_starts_at_eight(backend).await;
    let admin = admin_token(&tc).await;
    let ani = person(
        &tc,
        &admin,
        json!({"name": "Ani", "email": "ani@kantor.id"}),
    )
    .await;
    let mut dev = tc.enroll_device(&unique_site("clock"), "kiosk-1").await;
    let ani_ref = PersonRef {
        id: ani.clone(),
        name: "Ani".into(),
    };
    let check_in = |direction| Event::Attendance {
        person: ani_ref.clone(),
        direction,
        local_date: "1970-01-01".into(),
        late: false,
    };
    let granted = Event::AccessDecision {
        result: AccessResult::Granted,
        method: AccessMethod::Face,
        person: Some(ani_ref.clone()),
        reason: None,
        score: Some(0.9),
        liveness: None,
        snapshot: None,
    };

    // The kiosk boots in 1970: a decision and a check-in 1 s and 2 s after boot, stored as
    // they came.
    let early = [
        unsynced(&mut dev, 1_000, granted.clone()),
        unsynced(&mut dev, 2_000, check_in(AttendanceDirection::CheckIn)),
    ];
    let frames: Vec<Vec<u8>> = early.iter().map(|e| dev.seal(e)).collect();
    assert_eq!(send_frames(&tc, &dev.token, &frames).await["accepted"], 2);
    let db = sea_orm::Database::connect(tc.database_url()).await.unwrap();
    let before = stored_times(&db, dev.id.as_str()).await;
    assert_eq!(
        before[0].1, early[0].ts,
        "stored as stamped until the offset is known"
    );
    assert_eq!(before[0].2, None);

    // NTP answers: 10 s after boot it is 08:30 in Jakarta today. A later unsynchronised
    // event of the same boot (re-ordered by a resend) is dated as it arrives; another
    // boot's stays as stamped.
    let day = OffsetDateTime::now_utc().to_offset(offset!(+7)).date();
    let synced_at = day
        .with_time(Time::from_hms(8, 30, 0).unwrap())
        .assume_offset(offset!(+7));
    let mut synced = dev.next(Event::DoorOpened);
    synced.mono_ms = 10_000;
    synced.ts = synced_at;
    let late = unsynced(&mut dev, 11_000, Event::DoorOpened);
    let mut other_boot = unsynced(&mut dev, 3_000, Event::DoorOpened);
    other_boot.boot_id = uuid::Uuid::now_v7();
    let frames = [dev.seal(&synced), dev.seal(&late), dev.seal(&other_boot)];
    assert_eq!(send_frames(&tc, &dev.token, &frames).await["accepted"], 3);

    let boot_start = synced_at - time::Duration::seconds(10);
    let after = stored_times(&db, dev.id.as_str()).await;
    let utc = |t: OffsetDateTime| t.to_offset(time::UtcOffset::UTC);
    let expected = [
        (
            1,
            utc(boot_start + time::Duration::seconds(1)),
            Some(early[0].ts),
        ),
        (
            2,
            utc(boot_start + time::Duration::seconds(2)),
            Some(early[1].ts),
        ),
        (3, utc(synced_at), None),
        (
            4,
            utc(boot_start + time::Duration::seconds(11)),
            Some(late.ts),
        ),
        (5, utc(other_boot.ts), None),
    ];
    let got: Vec<_> = after
        .iter()
        .map(|(seq, ts, device_ts)| (*seq, utc(*ts), device_ts.map(utc)))
        .collect();
    assert_eq!(got, expected.map(|(s, t, d)| (s, t, d.map(utc))));

    // The access log shows the decision at its corrected time.
    let log = get_ok(&tc, &admin, "/api/history/access?limit=10").await;
    let rows = log["data"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{log}");
    let logged = OffsetDateTime::parse(
        rows[0]["timestamp"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    assert_eq!(logged, boot_start + time::Duration::seconds(1));

    // The check-in counts for today at 08:29:52 (late after 08:00), not for 1 January 1970.
    let (status, report) = json(daily(&tc, &admin, &format!("date={day}")).await).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    let ani_row = row(&report, "Ani");
    assert_eq!(ani_row["status"], "late", "{report}");
    assert_eq!(
        ani_row["check_in"],
        format!("{day}T08:29:52+07:00"),
        "{report}"
    );
    let stale = db
        .query_all(Statement::from_string(
            db.get_database_backend(),
            "SELECT id FROM attendance WHERE local_date = '1970-01-01'",
        ))
        .await
        .unwrap();
    assert!(stale.is_empty(), "the 1970 record is gone");
    tc.stop().await;
}
