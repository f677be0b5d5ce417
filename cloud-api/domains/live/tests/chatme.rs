//! ChatMe (seed 004) end to end on SQLite and PostgreSQL: phone accounts (one account
//! whatever form the number is typed in), the 7-day token and the platform token, profile,
//! admin credits and the ledger, the gift catalogue, gifts that never overdraw (100
//! parallel sends against a balance of 37), idempotency keys, bad input that changes
//! nothing, rankings, host income and who may see it, live sessions.

#![allow(clippy::unwrap_used)]

mod common;

use cloud_api::{db_tests, testkit::Backend};
use common::*;
use futures::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

db_tests!(
    accounts,
    catalogue_and_wallet,
    gifts_never_overdraw,
    idempotent_retries,
    rankings_and_income,
    live_sessions,
    demo_seed
);

async fn accounts(backend: Backend) {
    let tc = start(backend).await;
    let (id, token) = member(&tc, "0812 3456 7890", "Sari").await;
    // The same number in its other forms is the same account.
    for other in ["6281234567890", "+62 812-3456-7890"] {
        let (status, body) = post(
            &tc,
            "/register",
            None,
            json!({"phone": other, "password": PASSWORD, "name": "Copy"}),
        )
        .await;
        assert_eq!(status, StatusCode::CONFLICT, "{other}: {body}");
        assert_eq!(login(&tc, other).await.0, id);
    }
    for bad in ["12345", "0812-abc-7890", "+1 650 000 0000", "0000000000"] {
        let (status, body) = post(
            &tc,
            "/register",
            None,
            json!({"phone": bad, "password": PASSWORD, "name": "Bad"}),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
    }
    let (status, _) = post(
        &tc,
        "/register",
        None,
        json!({"phone": "081298765432", "password": PASSWORD}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = post(
        &tc,
        "/login",
        None,
        json!({"phone": "081234567890", "password": "wrong-password"}),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let profile = get(&tc, "/profile", &token).await;
    assert_eq!(profile["user"]["phone"], "+6281234567890");
    assert_eq!(profile["user"]["balance"], 0);
    assert_eq!(profile["user"]["level"], 1);
    assert_eq!(profile["user"]["vip_level"], 0);
    assert_eq!(profile["user"]["role"], "user");

    let (status, body) = call(
        &tc,
        Method::PUT,
        "/profile/update",
        Some(&token),
        Some(json!({"name": "Sari W.", "gender": "female", "age": 24, "signature": "halo"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["user"]["name"], "Sari W.");
    assert_eq!(body["user"]["age"], 24);
    for bad in [
        json!({"age": 3}),
        json!({"gender": "robot"}),
        json!({"name": ""}),
    ] {
        let (status, _) = call(&tc, Method::PUT, "/profile/update", Some(&token), Some(bad)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }
    let after = get(&tc, "/profile", &token).await;
    assert_eq!(after["user"]["signature"], "halo");
    assert_eq!(after["user"]["gender"], "female");

    // The app's own words for a gender, kept as written (as the seed answers them), and an
    // age sent as a form's text.
    for word in ["Perempuan", "laki-laki", "L", "P", "Wanita", "Male"] {
        let (status, body) = call(
            &tc,
            Method::PUT,
            "/profile/update",
            Some(&token),
            Some(json!({"gender": word, "age": "25"})),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{word}: {body}");
        assert_eq!(body["user"]["gender"], word);
        assert_eq!(body["user"]["age"], 25);
    }
    for bad in [
        json!({"age": "dua"}),
        json!({"age": "12"}),
        json!({"gender": "x"}),
    ] {
        let (status, body) = call(
            &tc,
            Method::PUT,
            "/profile/update",
            Some(&token),
            Some(bad.clone()),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
    }

    // Editing the profile's own fields moves the user's updated_at too.
    let before = after["user"]["updated_at"].as_str().unwrap().to_owned();
    tc.cloud()
        .platform()
        .clock
        .advance(std::time::Duration::from_secs(5));
    let (status, body) = call(
        &tc,
        Method::PUT,
        "/profile/update",
        Some(&token),
        Some(json!({"signature": "baru"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let edited = body["user"]["updated_at"].as_str().unwrap();
    assert!(edited > before.as_str(), "{before} → {edited}");

    // A number abroad, written with its + code, is an account of its own.
    let (abroad, abroad_token) = member(&tc, "+1 650 253 0000", "Sam").await;
    assert_eq!(
        get(&tc, "/profile", &abroad_token).await["user"]["phone"],
        "+16502530000"
    );
    assert_eq!(login(&tc, "+1 (650) 253-0000").await.0, abroad);

    // The platform's token works here too, and its bootstrap admin is a ChatMe admin.
    let admin = platform_admin(&tc).await;
    let me = get(&tc, "/profile", &admin).await;
    assert_eq!(me["user"]["role"], "admin");
    let (status, _) = call(&tc, Method::GET, "/profile", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

async fn catalogue_and_wallet(backend: Backend) {
    let tc = start(backend).await;
    let admin = platform_admin(&tc).await;
    let (viewer, token) = member(&tc, "081311112222", "Budi").await;

    // Only admins manage the catalogue and credit coins.
    let (status, _) = post(
        &tc,
        "/admin/gifts",
        Some(&token),
        json!({"name": "Rose", "coin_value": 1}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = credit(&tc, &token, viewer, 100).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let rose = gift(&tc, &admin, "Rose", 1, "basic").await;
    let car = gift(&tc, &admin, "Car", 500, "luxury").await;
    let (status, _) = post(
        &tc,
        "/admin/gifts",
        Some(&admin),
        json!({"name": "rose", "coin_value": 2}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    for bad in [
        json!({"name": "X", "coin_value": 0}),
        json!({"coin_value": 3}),
        json!({"name": "Y", "coin_value": -5}),
    ] {
        let (status, _) = post(&tc, "/admin/gifts", Some(&admin), bad).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }
    let (status, body) = call(
        &tc,
        Method::PUT,
        &format!("/admin/gifts/{car}"),
        Some(&admin),
        Some(json!({"name": "Sports car", "coin_value": 800, "category": "luxury"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = call(
        &tc,
        Method::DELETE,
        &format!("/admin/gifts/{rose}"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = call(
        &tc,
        Method::DELETE,
        &format!("/admin/gifts/{rose}"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let list = get(&tc, "/gifts", &token).await;
    let names: Vec<_> = list["gifts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].clone())
        .collect();
    assert_eq!(names, vec![json!("Sports car")]);

    // Credits: bounded, with a reference, to known users; each one a ledger row.
    for (amount, reference) in [(0, "r"), (-5, "r"), (1_000_000_001, "r"), (5, "  ")] {
        let (status, _) = post(
            &tc,
            "/admin/coins/credit",
            Some(&admin),
            json!({"user_id": viewer, "amount": amount, "reference": reference}),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{amount} {reference:?}");
    }
    let (status, _) = credit(&tc, &admin, Uuid::new_v4(), 5).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = credit(&tc, &admin, viewer, 250).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["balance"], 250);
    credit(&tc, &admin, viewer, 50).await;
    assert_eq!(balance(&tc, &token).await, 300);
    let history = get(&tc, "/wallet/history", &token).await;
    let entries = history["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0]["delta"], 50);
    assert_eq!(entries[0]["balance_after"], 300);
    assert_eq!(entries[0]["kind"], "credit");
    assert_eq!(ledger_sum(&tc, viewer).await, 300);
}

async fn gifts_never_overdraw(backend: Backend) {
    let tc = start(backend).await;
    let admin = platform_admin(&tc).await;
    let (sender, token) = member(&tc, "081355556666", "Andi").await;
    let (receiver, _) = host(&tc, "081377778888", "Host Rina").await;
    let rose = gift(&tc, &admin, "Rose", 1, "basic").await;
    credit(&tc, &admin, sender, 37).await;

    let sends = (0..100).map(|_| {
        let token = token.clone();
        let tc = &tc;
        async move {
            post(
                tc,
                "/gifts/send",
                Some(&token),
                json!({"receiver_id": receiver, "gift_id": rose, "quantity": 1}),
            )
            .await
        }
    });
    let results = join_all(sends).await;
    let ok = results
        .iter()
        .filter(|(s, _)| *s == StatusCode::CREATED)
        .count();
    let short = results
        .iter()
        .filter(|(s, _)| *s == StatusCode::PAYMENT_REQUIRED)
        .count();
    assert_eq!(
        ok,
        37,
        "{:?}",
        results
            .iter()
            .find(|(s, _)| *s != StatusCode::CREATED && *s != StatusCode::PAYMENT_REQUIRED)
    );
    assert_eq!(short, 63);
    assert_eq!(balance(&tc, &token).await, 0);
    assert_eq!(ledger_sum(&tc, sender).await, 0);
    let platform_account = live::wallet::PLATFORM_ACCOUNT;
    assert_eq!(
        ledger_sum(&tc, platform_account).await,
        stored_balance(&tc, platform_account).await
    );
    // 37 gifts of 1 coin: the host's 60 % rounds to 1 coin per gift; the platform keeps 0.
    assert_eq!(stored_balance(&tc, platform_account).await, 0);
    let contributions = get(&tc, &format!("/contributions/{receiver}"), &token).await;
    assert_eq!(contributions["contributions"][0]["total_coins"], 37);
    assert_eq!(contributions["contributions"][0]["total_gifts"], 37);
    let (_, refused) = results
        .iter()
        .find(|(s, _)| *s == StatusCode::PAYMENT_REQUIRED)
        .unwrap();
    assert_eq!(refused["message"], "Saldo koin tidak cukup");
}

async fn idempotent_retries(backend: Backend) {
    let tc = start(backend).await;
    let admin = platform_admin(&tc).await;
    let (sender, token) = member(&tc, "081322223333", "Dewi").await;
    let (receiver, _) = host(&tc, "081344445555", "Host Maya").await;
    let lion = gift(&tc, &admin, "Lion", 10, "animal").await;
    credit(&tc, &admin, sender, 100).await;

    let send = |key: &'static str, body: Value| {
        let token = token.clone();
        let url = tc.url("/chatme/api/gifts/send");
        async move {
            let response = http()
                .post(url)
                .bearer_auth(token)
                .header("Idempotency-Key", key)
                .json(&body)
                .send()
                .await
                .unwrap();
            (response.status(), response.json::<Value>().await.unwrap())
        }
    };
    let body = json!({"receiver_id": receiver, "gift_id": lion, "quantity": 2});
    // Ten sends with one key, five at once and five after: one charge, one receipt.
    let mut receipts = join_all((0..5).map(|_| send("key-1", body.clone()))).await;
    for _ in 0..5 {
        receipts.push(send("key-1", body.clone()).await);
    }
    let first = &receipts[0].1["gift"]["id"];
    for (status, receipt) in &receipts {
        assert!(status.is_success(), "{status} {receipt}");
        assert_eq!(&receipt["gift"]["id"], first);
        assert_eq!(receipt["balance"], 80);
    }
    assert_eq!(balance(&tc, &token).await, 80);
    // The same key with another gift is refused, not answered with the first receipt; the
    // same gift named by its name is the same request.
    for other in [
        json!({"receiver_id": receiver, "gift_id": lion, "quantity": 3}),
        json!({"receiver_id": receiver, "gift_id": lion, "quantity": 2, "live_session_id": Uuid::new_v4()}),
    ] {
        let (status, answer) = send("key-1", other.clone()).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{other}: {answer}"
        );
        assert!(
            answer["message"]
                .as_str()
                .unwrap()
                .contains("Idempotency-Key"),
            "{answer}"
        );
    }
    let (status, answer) = send(
        "key-1",
        json!({"receiver_id": receiver, "gift_name": "LION", "quantity": 2}),
    )
    .await;
    assert!(status.is_success(), "{status} {answer}");
    assert_eq!(&answer["gift"]["id"], first);
    assert_eq!(balance(&tc, &token).await, 80);
    // Another key charges again; bad input charges nothing.
    let (status, _) = send("key-2", body.clone()).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(balance(&tc, &token).await, 60);
    let bad_inputs = [
        json!({"receiver_id": receiver, "gift_id": lion, "quantity": 0}),
        json!({"receiver_id": receiver, "gift_id": lion, "quantity": -3}),
        json!({"receiver_id": receiver, "gift_id": lion, "quantity": 10_000_000}),
        json!({"receiver_id": sender, "gift_id": lion, "quantity": 1}),
        json!({"receiver_id": Uuid::new_v4(), "gift_id": lion, "quantity": 1}),
        json!({"receiver_id": receiver, "gift_id": Uuid::new_v4(), "quantity": 1}),
        json!({"receiver_id": receiver, "gift_name": "Unicorn", "quantity": 1}),
        json!({"receiver_id": receiver, "quantity": 1}),
        json!({"receiver_id": receiver, "gift_id": lion, "quantity": 7}),
        json!({"receiver_id": receiver, "gift_id": lion, "live_session_id": Uuid::new_v4()}),
        json!({"receiver_id": "not-a-uuid", "gift_id": lion}),
    ];
    for bad in bad_inputs {
        let (status, body) = post(&tc, "/gifts/send", Some(&token), bad.clone()).await;
        assert!(status.is_client_error(), "{bad}: {status} {body}");
        assert!(body["message"].is_string(), "{bad}: {body}");
    }
    assert_eq!(balance(&tc, &token).await, 60);
    // By name, case-insensitively.
    let (status, body) = post(
        &tc,
        "/gifts/send",
        Some(&token),
        json!({"receiver_id": receiver, "gift_name": "lion", "quantity": 1}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["income"], 6);
    assert_eq!(ledger_sum(&tc, sender).await, 50);
    assert_eq!(balance(&tc, &token).await, 50);
}

async fn rankings_and_income(backend: Backend) {
    let tc = start(backend).await;
    let admin = platform_admin(&tc).await;
    let (fan_a, a) = member(&tc, "081311110001", "Fan A").await;
    let (fan_b, b) = member(&tc, "081311110002", "Fan B").await;
    let (rina, rina_token) = host(&tc, "081311110003", "Rina").await;
    let (maya, maya_token) = host(&tc, "081311110004", "Maya").await;
    let rose = gift(&tc, &admin, "Rose", 10, "basic").await;
    let car = gift(&tc, &admin, "Car", 100, "luxury").await;
    credit(&tc, &admin, fan_a, 1000).await;
    credit(&tc, &admin, fan_b, 1000).await;
    for (token, receiver, gift_id, quantity) in [
        (&a, rina, rose, 3),
        (&b, rina, car, 1),
        (&a, maya, rose, 1),
        (&b, rina, rose, 1),
    ] {
        let (status, body) = post(
            &tc,
            "/gifts/send",
            Some(token),
            json!({"receiver_id": receiver, "gift_id": gift_id, "quantity": quantity}),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    for period in ["day", "week", "month", "all"] {
        let fans = get(&tc, &format!("/ranking/fans/{rina}?period={period}"), &a).await;
        let fans = fans["fans"].as_array().unwrap();
        assert_eq!(fans.len(), 2);
        assert_eq!(fans[0]["user_id"], json!(fan_b));
        assert_eq!(fans[0]["total_coins"], 110);
        assert_eq!(fans[0]["rank"], 1);
        assert_eq!(fans[1]["total_coins"], 30);
        let hosts = get(&tc, &format!("/ranking/hosts?period={period}"), &a).await;
        assert_eq!(hosts["hosts"][0]["host_id"], json!(rina));
        assert_eq!(hosts["hosts"][0]["total_coins"], 140);
        assert_eq!(hosts["hosts"][1]["host_id"], json!(maya));
    }
    let (status, _) = call(
        &tc,
        Method::GET,
        "/ranking/hosts?period=year",
        Some(&a),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Income: 60 % of 140 coins = 84 for Rina; she and admins see it, nobody else.
    for path in ["today", "week", "month"] {
        let body = get(&tc, &format!("/host-income/{path}/{rina}"), &rina_token).await;
        assert_eq!(body["total_income"], 84, "{path}");
        assert_eq!(body["total_gifts"], 3);
        get(&tc, &format!("/host-income/{path}/{rina}"), &admin).await;
        for outsider in [&a, &maya_token] {
            let (status, _) = call(
                &tc,
                Method::GET,
                &format!("/host-income/{path}/{rina}"),
                Some(outsider),
                None,
            )
            .await;
            assert_eq!(status, StatusCode::FORBIDDEN);
        }
    }
    let categories = get(&tc, &format!("/host-income/category/{rina}"), &rina_token).await;
    assert_eq!(categories["categories"][0]["type"], "luxury");
    assert_eq!(categories["categories"][0]["total_income"], 60);
    assert_eq!(categories["categories"][1]["total_income"], 24);
    let page = get(
        &tc,
        &format!("/host-income/history/{rina}?limit=2&page=1"),
        &rina_token,
    )
    .await;
    assert_eq!(page["history"].as_array().unwrap().len(), 2);
    let page2 = get(
        &tc,
        &format!("/host-income/history/{rina}?limit=2&page=2"),
        &rina_token,
    )
    .await;
    assert_eq!(page2["history"].as_array().unwrap().len(), 1);
    let (status, _) = call(
        &tc,
        Method::GET,
        &format!("/host-income/history/{rina}"),
        Some(&b),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let contributions = get(&tc, &format!("/contributions/{rina}"), &a).await;
    assert_eq!(contributions["contributions"][0]["last_gift_name"], "Rose");
    // The platform kept the rest: 140 + 10 coins sent, 84 + 6 to hosts.
    assert_eq!(
        stored_balance(&tc, live::wallet::PLATFORM_ACCOUNT).await,
        60
    );
    for account in [fan_a, fan_b, live::wallet::PLATFORM_ACCOUNT] {
        assert_eq!(
            ledger_sum(&tc, account).await,
            stored_balance(&tc, account).await
        );
    }
}

async fn live_sessions(backend: Backend) {
    let tc = start(backend).await;
    let admin = platform_admin(&tc).await;
    let (fan, fan_token) = member(&tc, "081399990001", "Fan").await;
    let (rina, rina_token) = host(&tc, "081399990002", "Rina").await;
    let rose = gift(&tc, &admin, "Rose", 10, "basic").await;
    credit(&tc, &admin, fan, 100).await;

    let (status, _) = post(&tc, "/live-session/start", Some(&fan_token), json!({})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, started) = post(&tc, "/live-session/start", Some(&rina_token), json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{started}");
    let room = started["room_id"].as_str().unwrap().to_owned();
    let session = started["session"]["id"].clone();
    let (status, second) = post(&tc, "/live-session/start", Some(&rina_token), json!({})).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(second["session"]["room_id"], json!(room));

    let (status, body) = post(
        &tc,
        "/gifts/send",
        Some(&fan_token),
        json!({"receiver_id": rina, "gift_id": rose, "quantity": 2, "live_session_id": session}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    // The administrators' lists: the session on air (nobody in its room), the accounts.
    let on_air = get(&tc, "/admin/live-sessions", &admin).await;
    assert_eq!(on_air["sessions"].as_array().unwrap().len(), 1, "{on_air}");
    assert_eq!(on_air["sessions"][0]["host_id"], json!(rina));
    assert_eq!(on_air["sessions"][0]["host_name"], "Rina");
    assert_eq!(on_air["sessions"][0]["room_id"], json!(room));
    assert_eq!(on_air["sessions"][0]["total_income"], 12);
    assert_eq!(on_air["sessions"][0]["viewers"], 0);
    let found = get(&tc, "/admin/accounts?q=fa", &admin).await;
    assert_eq!(found["accounts"].as_array().unwrap().len(), 1, "{found}");
    assert_eq!(found["accounts"][0]["id"], json!(fan));
    assert_eq!(found["accounts"][0]["balance"], 80);
    let by_phone = get(&tc, "/admin/accounts?q=0002", &admin).await;
    assert_eq!(by_phone["accounts"][0]["id"], json!(rina), "{by_phone}");
    assert_eq!(by_phone["accounts"][0]["role"], "host");
    for path in ["/admin/live-sessions", "/admin/accounts", "/admin/agencies"] {
        let (status, _) = call(&tc, Method::GET, path, Some(&fan_token), None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
    }
    let today = get(
        &tc,
        &format!("/live-session/duration/today/{rina}"),
        &rina_token,
    )
    .await;
    assert_eq!(today["sessions"], 1);

    let (status, ended) = post(&tc, "/live-session/end", Some(&rina_token), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{ended}");
    assert_eq!(ended["session"]["total_income"], 12);
    assert!(ended["session"]["duration_seconds"].as_i64().unwrap() >= 0);
    let (status, _) = post(&tc, "/live-session/end", Some(&rina_token), json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // A gift naming the ended session is refused and charges nothing.
    let (status, _) = post(
        &tc,
        "/gifts/send",
        Some(&fan_token),
        json!({"receiver_id": rina, "gift_id": rose, "live_session_id": session}),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(balance(&tc, &fan_token).await, 80);
    assert_eq!(
        get(&tc, "/admin/live-sessions", &admin).await["sessions"],
        json!([])
    );
    // A new session may start once the first has ended.
    let (status, _) = post(&tc, "/live-session/start", Some(&rina_token), json!({})).await;
    assert_eq!(status, StatusCode::CREATED);
}

async fn demo_seed(backend: Backend) {
    let tc = start(backend).await;
    // Twice: the second run changes nothing.
    for _ in 0..2 {
        live::seed_demo(tc.cloud().platform()).await.unwrap();
    }
    let login_demo = |phone: &'static str| {
        let tc = &tc;
        async move {
            let (status, body) = post(
                tc,
                "/login",
                None,
                json!({"phone": phone, "password": live::seed::DEMO_PASSWORD}),
            )
            .await;
            assert_eq!(status, StatusCode::OK, "{body}");
            body
        }
    };
    let viewer = login_demo("081211110003").await;
    assert_eq!(viewer["user"]["balance"], 10_000);
    let token = viewer["token"].as_str().unwrap();
    let viewer_id: Uuid = viewer["user"]["id"].as_str().unwrap().parse().unwrap();
    assert_eq!(ledger_sum(&tc, viewer_id).await, 10_000);
    assert_eq!(
        get(&tc, "/gifts", token).await["gifts"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
    let rina = login_demo("081211110001").await;
    assert_eq!(rina["user"]["role"], "host");
    let rina_id = rina["user"]["id"].clone();
    // Rina is live: a gift into her open session is accepted.
    let (status, _) = post(
        &tc,
        "/live-session/start",
        rina["token"].as_str(),
        json!({}),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let agency = login_demo("081211110000").await;
    let agency_token = agency["token"].as_str().unwrap();
    let profile = get(&tc, "/agency/profile", agency_token).await;
    let agency_id = profile["agency"]["id"].as_str().unwrap().to_owned();
    let admin = platform_admin(&tc).await;
    let agencies = get(&tc, "/admin/agencies?status=approved", &admin).await;
    assert_eq!(
        agencies["agencies"][0]["id"],
        json!(agency_id),
        "{agencies}"
    );
    let pending = get(&tc, "/admin/agencies?status=pending", &admin).await;
    assert_eq!(pending["agencies"], json!([]));
    let hosts = get(&tc, &format!("/agency/{agency_id}/hosts"), agency_token).await;
    assert_eq!(hosts["hosts"].as_array().unwrap().len(), 2);
    assert!(hosts["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .any(|h| h["host_id"] == rina_id && h["is_live"] == true));
}
