//! Agencies, host applications and salary requests (seed 004) on SQLite and PostgreSQL:
//! decided once, by the right people only (403 for other agencies), `approved_at` on
//! approval only (`decided_at` for both outcomes), the national id number masked in every
//! answer and in the personal-data export, salaries only for ISO weeks that are over and
//! computed from that week's host income.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use cloud_api::{db_tests, testkit::Backend};
use common::*;
use jiff::tz::TimeZone;
use live::periods::IsoWeek;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

db_tests!(agencies_hosts_and_salaries);

const NIK: &str = "3201234567890123";

/// Posts and checks the status; the national id number never appears unmasked.
async fn expect(
    tc: &cloud_api::testkit::TestCloud,
    token: &str,
    path: &str,
    body: Value,
    want: StatusCode,
) -> Value {
    let (status, answer) = post(tc, path, Some(token), body).await;
    assert_eq!(status, want, "{path}: {answer}");
    assert!(
        !answer.to_string().contains(NIK),
        "{path} leaked the id number: {answer}"
    );
    if !status.is_success() {
        assert!(answer["message"].is_string(), "{path}: {answer}");
    }
    answer
}

async fn read(
    tc: &cloud_api::testkit::TestCloud,
    token: &str,
    path: &str,
    want: StatusCode,
) -> Value {
    let (status, answer) = call(tc, Method::GET, path, Some(token), None).await;
    assert_eq!(status, want, "{path}: {answer}");
    assert!(
        !answer.to_string().contains(NIK),
        "{path} leaked the id number: {answer}"
    );
    answer
}

async fn agencies_hosts_and_salaries(backend: Backend) {
    let tc = start(backend).await;
    let admin = platform_admin(&tc).await;
    let (_, owner) = member(&tc, "081300000001", "Owner").await;
    let (_, other) = member(&tc, "081300000002", "Other Agency").await;
    let (hana_id, hana) = member(&tc, "081300000003", "Hana").await;
    let (_, outsider) = member(&tc, "081300000004", "Odi").await;
    let (fan_id, fan) = member(&tc, "081300000005", "Fan").await;

    // Applying to run an agency.
    for bad in [
        json!({"region": "Jawa Barat", "phone": "081300000001"}),
        json!({"family_name": "Keluarga", "region": "Jawa Barat", "phone": "12ab"}),
        json!({"family_name": "Keluarga", "phone": "081300000001"}),
    ] {
        expect(&tc, &owner, "/agency/apply", bad, StatusCode::BAD_REQUEST).await;
    }
    let applied = expect(
        &tc,
        &owner,
        "/agency/apply",
        json!({"family_name": "Keluarga Bintang", "region": "Jawa Barat", "phone": "0813-0000-0001"}),
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(applied["agency"]["status"], "pending");
    assert_eq!(applied["agency"]["phone"], "+6281300000001");
    let agency = applied["agency"]["id"].as_str().unwrap().to_owned();
    expect(
        &tc,
        &owner,
        "/agency/apply",
        json!({"family_name": "Lagi", "region": "X", "phone": "081300000001"}),
        StatusCode::CONFLICT,
    )
    .await;
    let approve = format!("/admin/agencies/{agency}/approve");
    expect(&tc, &owner, &approve, json!({}), StatusCode::FORBIDDEN).await;
    expect(
        &tc,
        &admin,
        &format!("/admin/agencies/{}/approve", Uuid::new_v4()),
        json!({}),
        StatusCode::NOT_FOUND,
    )
    .await;
    let decided = expect(&tc, &admin, &approve, json!({}), StatusCode::OK).await;
    assert_eq!(decided["agency"]["status"], "approved");
    assert!(decided["agency"]["approved_at"].is_string(), "{decided}");
    assert_eq!(
        decided["agency"]["decided_at"],
        decided["agency"]["approved_at"]
    );
    // A rejection is decided, never approved.
    let (_, refused_owner) = member(&tc, "081300000006", "Ditolak").await;
    let refused = expect(
        &tc,
        &refused_owner,
        "/agency/apply",
        json!({"family_name": "Keluarga Tolak", "region": "Aceh", "phone": "081300000006"}),
        StatusCode::CREATED,
    )
    .await;
    let rejected = expect(
        &tc,
        &admin,
        &format!(
            "/admin/agencies/{}/reject",
            refused["agency"]["id"].as_str().unwrap()
        ),
        json!({}),
        StatusCode::OK,
    )
    .await;
    assert_eq!(rejected["agency"]["status"], "rejected");
    assert!(rejected["agency"]["approved_at"].is_null(), "{rejected}");
    assert!(rejected["agency"]["decided_at"].is_string(), "{rejected}");
    // Decided once.
    expect(&tc, &admin, &approve, json!({}), StatusCode::CONFLICT).await;
    expect(
        &tc,
        &admin,
        &format!("/admin/agencies/{agency}/reject"),
        json!({}),
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(get(&tc, "/profile", &owner).await["user"]["role"], "agency");
    assert_eq!(
        get(&tc, "/agency/profile", &owner).await["agency"]["id"],
        json!(agency)
    );
    read(&tc, &outsider, "/agency/profile", StatusCode::NOT_FOUND).await;

    let other_agency = expect(
        &tc,
        &other,
        "/agency/apply",
        json!({"family_name": "Keluarga Lain", "region": "Bali", "phone": "081300000002"}),
        StatusCode::CREATED,
    )
    .await["agency"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    expect(
        &tc,
        &admin,
        &format!("/admin/agencies/{other_agency}/approve"),
        json!({}),
        StatusCode::OK,
    )
    .await;

    // Applying to host: the id number is checked and masked in every answer.
    let host_apply = format!("/agency/{agency}/host-applications");
    for bad in [
        json!({"name": "Hana", "gender": "female", "id_number": "12345"}),
        json!({"name": "Hana", "gender": "female", "id_number": "32012345678901ab"}),
        json!({"name": "Hana", "gender": "robot", "id_number": NIK}),
        json!({"gender": "female", "id_number": NIK}),
    ] {
        expect(&tc, &hana, &host_apply, bad, StatusCode::BAD_REQUEST).await;
    }
    expect(
        &tc,
        &hana,
        &format!("/agency/{}/host-applications", Uuid::new_v4()),
        json!({"name": "Hana", "gender": "female", "id_number": NIK}),
        StatusCode::NOT_FOUND,
    )
    .await;
    let body = json!({"name": "Hana Putri", "gender": "female", "id_number": NIK});
    let application = expect(&tc, &hana, &host_apply, body.clone(), StatusCode::CREATED).await;
    assert_eq!(application["application"]["id_number"], "************0123");
    assert_eq!(application["application"]["status"], "pending");
    assert!(application["application"]["approved_at"].is_null());
    assert!(application["application"]["decided_at"].is_null());
    // The personal-data export masks it too.
    let records = tc.cloud().platform().personal_data_of("live").unwrap();
    let exported = records
        .export(tc.cloud().database(), hana_id)
        .await
        .unwrap();
    let applications = exported
        .iter()
        .find(|f| f.name == "live_host_applications-host_id.json")
        .unwrap();
    let text = String::from_utf8_lossy(&applications.bytes);
    assert!(
        !text.contains(NIK),
        "the export leaked the id number: {text}"
    );
    assert!(text.contains("************0123"), "{text}");
    expect(&tc, &hana, &host_apply, body.clone(), StatusCode::CONFLICT).await;
    // The agency owner cannot host for their own agency.
    expect(&tc, &owner, &host_apply, body, StatusCode::CONFLICT).await;
    let application_id = application["application"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let approve_host = format!("/agency/host-applications/{application_id}/approve");
    // Only that agency decides.
    for stranger in [&other, &outsider, &hana] {
        expect(
            &tc,
            stranger,
            &approve_host,
            json!({}),
            StatusCode::FORBIDDEN,
        )
        .await;
    }
    read(
        &tc,
        &other,
        &format!("/agency/{agency}/host-applications"),
        StatusCode::FORBIDDEN,
    )
    .await;
    let listed = read(
        &tc,
        &owner,
        &format!("/agency/{agency}/host-applications?status=pending"),
        StatusCode::OK,
    )
    .await;
    assert_eq!(listed["applications"][0]["id_number"], "************0123");
    read(
        &tc,
        &owner,
        &format!("/agency/{agency}/host-applications?status=maybe"),
        StatusCode::BAD_REQUEST,
    )
    .await;
    let approved = expect(&tc, &owner, &approve_host, json!({}), StatusCode::OK).await;
    assert_eq!(approved["application"]["status"], "approved");
    assert!(
        approved["application"]["approved_at"].is_string(),
        "{approved}"
    );
    assert!(
        approved["application"]["decided_at"].is_string(),
        "{approved}"
    );
    let (_, turned_down) = member(&tc, "081300000007", "Tari").await;
    let application = expect(
        &tc,
        &turned_down,
        &host_apply,
        json!({"name": "Tari", "gender": "Perempuan", "id_number": NIK}),
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(application["application"]["gender"], "Perempuan");
    let rejected = expect(
        &tc,
        &owner,
        &format!(
            "/agency/host-applications/{}/reject",
            application["application"]["id"].as_str().unwrap()
        ),
        json!({}),
        StatusCode::OK,
    )
    .await;
    assert_eq!(rejected["application"]["status"], "rejected");
    assert!(
        rejected["application"]["approved_at"].is_null(),
        "{rejected}"
    );
    assert!(
        rejected["application"]["decided_at"].is_string(),
        "{rejected}"
    );
    expect(&tc, &owner, &approve_host, json!({}), StatusCode::CONFLICT).await;
    expect(
        &tc,
        &owner,
        &format!("/agency/host-applications/{application_id}/reject"),
        json!({}),
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(get(&tc, "/profile", &hana).await["user"]["role"], "host");

    // Hana goes live and earns: 60 % of 3 × 50 coins.
    let rose = gift(&tc, &admin, "Rose", 50, "basic").await;
    credit(&tc, &admin, fan_id, 1000).await;
    let (session, _) = go_live(&tc, &hana).await;
    let (status, sent) = post(
        &tc,
        "/gifts/send",
        Some(&fan),
        json!({"receiver_id": hana_id, "gift_id": rose, "quantity": 3, "live_session_id": session}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{sent}");
    expect(&tc, &hana, "/live-session/end", json!({}), StatusCode::OK).await;

    // The agency sees its host's income; other agencies and outsiders do not.
    assert_eq!(
        get(&tc, &format!("/host-income/week/{hana_id}"), &owner).await["total_income"],
        90
    );
    for stranger in [&other, &outsider] {
        read(
            &tc,
            stranger,
            &format!("/host-income/week/{hana_id}"),
            StatusCode::FORBIDDEN,
        )
        .await;
    }
    let stats = read(
        &tc,
        &owner,
        &format!("/agency/{agency}/stats"),
        StatusCode::OK,
    )
    .await;
    assert_eq!(stats["total_hosts"], 1);
    assert_eq!(stats["total_income"], 90);
    assert_eq!(stats["total_lives"], 1);
    read(
        &tc,
        &admin,
        &format!("/agency/{agency}/stats"),
        StatusCode::OK,
    )
    .await;
    let hosts = read(
        &tc,
        &owner,
        &format!("/agency/{agency}/hosts"),
        StatusCode::OK,
    )
    .await;
    assert_eq!(hosts["hosts"][0]["host_id"], json!(hana_id));
    assert_eq!(hosts["hosts"][0]["is_live"], false);
    let income = read(
        &tc,
        &owner,
        &format!("/agency/{agency}/income?period=week"),
        StatusCode::OK,
    )
    .await;
    assert_eq!(income["total_income"], 90);
    let lives = read(
        &tc,
        &owner,
        &format!("/agency/{agency}/live-stats?period=month"),
        StatusCode::OK,
    )
    .await;
    assert_eq!(lives["total_lives"], 1);
    read(
        &tc,
        &owner,
        &format!("/agency/{agency}/income?period=year"),
        StatusCode::BAD_REQUEST,
    )
    .await;
    for path in ["stats", "hosts", "income", "live-stats", "salary-requests"] {
        for stranger in [&other, &outsider, &hana] {
            read(
                &tc,
                stranger,
                &format!("/agency/{agency}/{path}"),
                StatusCode::FORBIDDEN,
            )
            .await;
        }
    }
    read(
        &tc,
        &owner,
        &format!("/agency/{}/stats", Uuid::new_v4()),
        StatusCode::NOT_FOUND,
    )
    .await;

    // Salaries: only for a week that is over, by hosts of an agency.
    let jakarta = TimeZone::get("Asia/Jakarta").unwrap();
    let clock = &tc.cloud().platform().clock;
    let this_week = IsoWeek::containing(&jakarta, clock.unix()).unwrap();
    let week = json!({"week_number": this_week.week, "year": this_week.year});
    expect(
        &tc,
        &hana,
        "/salary-requests",
        week.clone(),
        StatusCode::BAD_REQUEST,
    )
    .await;
    expect(
        &tc,
        &outsider,
        "/salary-requests",
        json!({"week_number": 1}),
        StatusCode::FORBIDDEN,
    )
    .await;
    for bad in [
        json!({"week_number": 0}),
        json!({"week_number": 54}),
        json!({"week_number": "x"}),
        json!({}),
    ] {
        let (status, answer) = post(&tc, "/salary-requests", Some(&hana), bad.clone()).await;
        assert!(status.is_client_error(), "{bad}: {status} {answer}");
    }
    // A week later the week is over (tokens are issued again on the new clock).
    clock.advance(Duration::from_secs(7 * 24 * 3600));
    let (_, hana) = login(&tc, "081300000003").await;
    let (_, owner) = login(&tc, "081300000001").await;
    let (_, other) = login(&tc, "081300000002").await;
    let requested = expect(
        &tc,
        &hana,
        "/salary-requests",
        week.clone(),
        StatusCode::CREATED,
    )
    .await;
    assert_eq!(requested["request"]["salary_amount"], 90);
    assert_eq!(requested["request"]["total_lives"], 1);
    assert_eq!(requested["request"]["week_number"], this_week.week);
    assert_eq!(requested["request"]["status"], "pending");
    expect(
        &tc,
        &hana,
        "/salary-requests",
        week.clone(),
        StatusCode::CONFLICT,
    )
    .await;
    // A week without income is a zero salary, not an error.
    let earlier = json!({"week_number": 1, "year": 2024});
    let earlier = expect(&tc, &hana, "/salary-requests", earlier, StatusCode::CREATED).await;
    assert_eq!(earlier["request"]["salary_amount"], 0);
    let earlier = earlier["request"]["id"].as_str().unwrap().to_owned();
    let request = requested["request"]["id"].as_str().unwrap().to_owned();
    read(
        &tc,
        &other,
        &format!("/agency/{agency}/salary-requests"),
        StatusCode::FORBIDDEN,
    )
    .await;
    let admin = platform_admin(&tc).await;
    read(
        &tc,
        &admin,
        &format!("/agency/{agency}/salary-requests"),
        StatusCode::FORBIDDEN,
    )
    .await;
    let pending = read(
        &tc,
        &owner,
        &format!("/agency/{agency}/salary-requests?status=pending"),
        StatusCode::OK,
    )
    .await;
    assert_eq!(pending["requests"].as_array().unwrap().len(), 2);
    let approve_salary = format!("/agency/salary-request/{request}/approve");
    for stranger in [&other, &hana, &admin] {
        expect(
            &tc,
            stranger,
            &approve_salary,
            json!({}),
            StatusCode::FORBIDDEN,
        )
        .await;
    }
    expect(
        &tc,
        &owner,
        &format!("/agency/salary-request/{}/approve", Uuid::new_v4()),
        json!({}),
        StatusCode::NOT_FOUND,
    )
    .await;
    let approved = expect(&tc, &owner, &approve_salary, json!({}), StatusCode::OK).await;
    assert_eq!(approved["request"]["status"], "approved");
    assert!(approved["request"]["approved_at"].is_string(), "{approved}");
    assert!(approved["request"]["decided_at"].is_string(), "{approved}");
    let rejected = expect(
        &tc,
        &owner,
        &format!("/agency/salary-request/{earlier}/reject"),
        json!({}),
        StatusCode::OK,
    )
    .await;
    assert_eq!(rejected["request"]["status"], "rejected");
    assert!(rejected["request"]["approved_at"].is_null(), "{rejected}");
    assert!(rejected["request"]["decided_at"].is_string(), "{rejected}");
    expect(
        &tc,
        &owner,
        &approve_salary,
        json!({}),
        StatusCode::CONFLICT,
    )
    .await;
    expect(
        &tc,
        &owner,
        &format!("/agency/salary-request/{request}/reject"),
        json!({}),
        StatusCode::CONFLICT,
    )
    .await;
    let approved = read(
        &tc,
        &owner,
        &format!("/agency/{agency}/salary-requests?status=approved"),
        StatusCode::OK,
    )
    .await;
    assert_eq!(approved["requests"][0]["id"], json!(request));

    // English on request.
    let response = http()
        .post(tc.url("/chatme/api/salary-requests"))
        .bearer_auth(&hana)
        .header("Accept-Language", "en")
        .json(&week)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["message"],
        "A salary for that week has already been requested"
    );
}
