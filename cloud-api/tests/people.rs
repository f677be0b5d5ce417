//! People and attendance on both databases, with the real face models on the real photos of
//! `models/testdata`: seed 001's endpoints (register, login cookie, logout, profile,
//! attendance, the admin user list), seed 000's users CRUD, face registration refusals,
//! the device gallery (notice over MQTT, snapshot, 304) and attendance from kiosk events.
//! The face engine is loaded once for the whole test binary (process-wide).

#![allow(clippy::unwrap_used)]

mod common;

use base64::{engine::general_purpose::STANDARD as B64, Engine};
use cloud_api::{
    db_tests,
    testkit::{unique_site, Backend, TestCloud},
};
use common::{device_stub::DeviceStub, *};
use protocol::{sync::GallerySnapshot, AttendanceDirection, Event, PersonRef};
use reqwest::{multipart, StatusCode};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{json, Value};

db_tests!(
    seed001_contract,
    users_crud_contract,
    face_register_refusals,
    face_gallery_and_attendance,
    face_templates_are_a_capped_set,
    face_consent_required_recorded_withdrawn,
);

/// Registers (seed 001) and logs in; returns the user id and the `token` cookie value.
async fn student(tc: &TestCloud, email: &str, name: &str) -> (String, String) {
    let (status, body) = json(
        http()
            .post(tc.url("/api/register"))
            .json(&json!({"email": email, "password": "password123", "name": name}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["user"]["id"].as_str().unwrap().to_owned();
    let response = http()
        .post(tc.url("/api/login"))
        .json(&json!({"email": email, "password": "password123"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("token="))
        .expect("token cookie");
    let token = cookie
        .trim_start_matches("token=")
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    (id, token)
}

async fn seed001_contract(backend: Backend) {
    let tc = start(backend).await;
    let post = |path: &str, body: Value| http().post(tc.url(path)).json(&body);

    // Register: 201 with the documented shape; missing fields 400; duplicate 409.
    let (status, body) = json(
        post(
            "/api/register",
            json!({"email": "Siti@Example.com", "password": "password123", "name": "Siti"}),
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(body["message"], "Registrasi berhasil");
    assert_eq!(body["user"]["email"], "siti@example.com");
    assert_eq!(body["user"]["name"], "Siti");
    assert_eq!(body["user"]["role"], "mahasiswa");
    assert!(body["user"]["id"].as_str().unwrap().len() == 36);
    assert!(body["user"].get("password").is_none());
    for bad in [
        json!({"email": "a@b.id", "password": "password123"}),
        json!({"email": "", "password": "password123", "name": "A"}),
        json!({}),
    ] {
        let (status, body) = json(post("/api/register", bad).send().await.unwrap()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["message"], "Email, password, dan nama harus diisi");
    }
    let (status, body) = json(
        post(
            "/api/register",
            json!({"email": "siti@example.com", "password": "password123", "name": "Siti 2"}),
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["message"], "Email sudah terdaftar");
    // Nobody makes themselves an admin.
    let (status, body) = json(
        post(
            "/api/register",
            json!({"email": "boss@example.com", "password": "password123", "name": "B", "role": "admin"}),
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["message"], "Anda tidak memiliki akses");
    // Wrong types are a 422, not a crash.
    let (status, _) = json(
        post(
            "/api/register",
            json!({"email": 5, "password": [], "name": {}}),
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    // Login: 400, 401 (Indonesian and English), 200 with a 7-day httpOnly cookie.
    let (status, body) = json(
        post("/api/login", json!({"email": "siti@example.com"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["message"], "Email dan password harus diisi");
    let (status, body) = json(
        post(
            "/api/login",
            json!({"email": "siti@example.com", "password": "salah-salah"}),
        )
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["message"], "Email atau password salah");
    let (status, body) = json(
        post(
            "/api/login",
            json!({"email": "nobody@example.com", "password": "salah-salah"}),
        )
        .header("Accept-Language", "en")
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["message"], "Wrong email or password");
    let response = post(
        "/api/login",
        json!({"email": "siti@example.com", "password": "password123"}),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("token="))
        .unwrap();
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("Max-Age=604800"), "{cookie}");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["ok"], true);
    assert_eq!(body["user"]["role"], "mahasiswa");
    assert_eq!(
        body["user"].as_object().unwrap().len(),
        4,
        "id, email, name, role: {body}"
    );
    let token = cookie
        .trim_start_matches("token=")
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let with_cookie = |req: reqwest::RequestBuilder| req.header("Cookie", format!("token={token}"));

    // Profile.
    let (status, body) = json(http().get(tc.url("/api/profile")).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["message"], "Anda belum login");
    let (status, body) = json(
        with_cookie(http().get(tc.url("/api/profile")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    for field in ["id", "email", "name", "role", "created_at", "updated_at"] {
        assert!(body["user"].get(field).is_some(), "{field} in {body}");
    }
    let (status, body) = json(
        with_cookie(http().put(tc.url("/api/profile")))
            .json(&json!({"name": "Siti Aminah"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["message"], "Profile updated");
    assert_eq!(body["user"]["name"], "Siti Aminah");
    let (status, _) = json(
        with_cookie(http().put(tc.url("/api/profile")))
            .json(&json!({"name": "  "}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Attendance: empty list; no image is the seed's 400.
    let (status, body) = json(
        with_cookie(http().get(tc.url("/api/attendance")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["records"], json!([]));
    let (status, body) = json(
        with_cookie(http().post(tc.url("/api/attendance")))
            .json(&json!({}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["message"], "Image tidak ditemukan");
    let (status, body) = json(
        with_cookie(http().post(tc.url("/api/attendance")))
            .header("Accept-Language", "en")
            .json(&json!({"image": "%%%not base64%%%"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["message"], "The base64 image is not valid");

    // The admin list: students are refused; admins see total_users and attendance_count.
    let (status, body) = json(
        with_cookie(http().get(tc.url("/api/users")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["message"], "Anda tidak memiliki akses");
    let admin = admin_token(&tc).await;
    let (status, body) = json(
        http()
            .get(tc.url("/api/users"))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["total_users"], 2);
    let siti = body["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == "siti@example.com")
        .unwrap();
    assert_eq!(siti["attendance_count"], 0);
    assert_eq!(siti["role"], "mahasiswa");
    assert!(siti.get("created_at").is_some());
    assert!(siti.get("password_hash").is_none() && siti.get("face_data").is_none());

    // Logout clears the cookie.
    let response = with_cookie(http().post(tc.url("/api/logout")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let cleared = response.headers().get_all("set-cookie").iter().any(|v| {
        v.to_str().unwrap().starts_with("token=;") && v.to_str().unwrap().contains("Max-Age=0")
    });
    assert!(cleared);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["message"], "Logout berhasil");
    tc.stop().await;
}

async fn users_crud_contract(backend: Backend) {
    let tc = start(backend).await;
    let admin = admin_token(&tc).await;
    let authed = |req: reqwest::RequestBuilder| req.bearer_auth(&admin);

    let (status, body) = json(
        http()
            .post(tc.url("/api/users"))
            .json(&json!({"name": "Budi"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["message"], "Anda belum login");

    let windows = json!([{"days": [1, 2, 3, 4, 5], "start": "07:00", "end": "18:00"}]);
    let (status, body) = json(
        authed(http().post(tc.url("/api/users")))
            .json(&json!({"name": "Budi", "email": "budi@kantor.id", "phone": "0812-3456-7890", "nik": "3201234567890001", "windows": windows}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["message"], "User berhasil dibuat");
    let user = &body["user"];
    assert_eq!(user["phone"], "6281234567890");
    // The national id number is never shown in full.
    assert_eq!(user["nik"], "3201********0001");
    assert!(!body.to_string().contains("3201234567890001"), "{body}");
    assert_eq!(user["role"], "mahasiswa");
    assert_eq!(user["roles"]["access"], "member");
    assert_eq!(user["enabled"], true);
    assert_eq!(user["windows"], windows);
    assert_eq!(user["face_registered"], false);
    assert_eq!(user["attendance_count"], 0);
    let id = user["id"].as_str().unwrap().to_owned();

    // Bad input: 400 with the reason, 409, 422; nothing created.
    for (bad, message) in [
        (
            json!({"name": "X", "email": "x@kantor.id", "windows": [{"days": [8], "start": "07:00", "end": "08:00"}]}),
            "Hari jendela akses harus 1 (Senin) sampai 7 (Minggu)",
        ),
        (
            json!({"name": "X", "email": "x@kantor.id", "windows": [{"days": [1], "start": "09:00", "end": "08:00"}]}),
            "Jendela akses 09:00–08:00 tidak valid (HH:MM, mulai sebelum selesai)",
        ),
        (json!({"name": "X"}), "Email, nomor HP atau NIK harus diisi"),
        (
            json!({"name": " ", "email": "x@kantor.id"}),
            "Nama harus diisi",
        ),
        (
            json!({"name": "X", "email": "x@kantor.id", "role": "root"}),
            "role harus \"admin\" atau \"member\"",
        ),
        (
            json!({"name": "X", "email": "' OR 1=1 --"}),
            "Format email tidak valid",
        ),
    ] {
        let (status, body) = json(
            authed(http().post(tc.url("/api/users")))
                .json(&bad)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert_eq!(body["message"], message);
    }
    let (status, body) = json(
        authed(http().post(tc.url("/api/users")))
            .json(&json!({"name": "Budi 2", "email": "budi@kantor.id"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["message"], "Email sudah terdaftar");
    let (status, _) = json(
        authed(http().post(tc.url("/api/users")))
            .json(&json!({"name": 12, "enabled": "yes"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (_, list) = json(
        authed(http().get(tc.url("/api/users")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(list["total_users"], 2);

    // Update: disable, new windows; a missing or malformed id is a 404.
    let (status, body) = json(
        authed(http().put(tc.url(&format!("/api/users/{id}"))))
            .json(&json!({"enabled": false, "windows": [], "department": "TU"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["message"], "User berhasil diperbarui");
    assert_eq!(body["user"]["enabled"], false);
    assert_eq!(body["user"]["windows"], json!([]));
    assert_eq!(body["user"]["department"], "TU");
    for bad_id in [
        "00000000-0000-0000-0000-000000000000",
        "..%2F..%2Fetc%2Fpasswd",
        "1%20OR%201%3D1",
    ] {
        let (status, body) = json(
            authed(http().put(tc.url(&format!("/api/users/{bad_id}"))))
                .json(&json!({"name": "Z"}))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{bad_id}");
        assert_eq!(body["message"], "User tidak ditemukan");
    }

    // A disabled user cannot sign in with the seed-001 login.
    let (status, _) = json(
        authed(http().put(tc.url(&format!("/api/users/{id}"))))
            .json(&json!({"password": "rahasia-budi-1"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = json(
        http()
            .post(tc.url("/api/login"))
            .json(&json!({"email": "budi@kantor.id", "password": "rahasia-budi-1"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["message"], "Akun dinonaktifkan");

    // A member cannot manage users.
    authed(http().put(tc.url(&format!("/api/users/{id}"))))
        .json(&json!({"enabled": true}))
        .send()
        .await
        .unwrap();
    let member = login(&tc, "budi@kantor.id", "rahasia-budi-1").await;
    let (status, _) = json(
        http()
            .delete(tc.url(&format!("/api/users/{id}")))
            .bearer_auth(&member)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Delete: not oneself; then gone.
    let me = list["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == tc.admin_email)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, body) = json(
        authed(http().delete(tc.url(&format!("/api/users/{me}"))))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["message"], "Anda tidak dapat menghapus akun sendiri");
    let (status, body) = json(
        authed(http().delete(tc.url(&format!("/api/users/{id}"))))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["message"], "User berhasil dihapus");
    let (status, _) = json(
        authed(http().delete(tc.url(&format!("/api/users/{id}"))))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, list) = json(
        authed(http().get(tc.url("/api/users")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(list["total_users"], 1);
    tc.stop().await;
}

async fn gallery_version(tc: &TestCloud) -> i64 {
    let row = tc
        .cloud()
        .database()
        .query_one(Statement::from_string(
            tc.cloud().database().get_database_backend(),
            "SELECT version FROM gallery_state WHERE id = 1",
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get("", "version").unwrap()
}

async fn face_register(
    tc: &TestCloud,
    admin: &str,
    user: &str,
    bytes: Vec<u8>,
    name: &str,
) -> (StatusCode, Value) {
    face_register_with(tc, admin, user, bytes, name, "").await
}

async fn face_register_refusals(backend: Backend) {
    let tc = start(backend).await;
    let admin = admin_token(&tc).await;
    let (id, _) = student(&tc, "rina@example.com", "Rina").await;
    for (file, status, message) in [
        (
            "bad/not_an_image.jpg",
            StatusCode::BAD_REQUEST,
            "File bukan gambar yang valid (JPEG atau PNG)",
        ),
        (
            "bad/one_pixel.png",
            StatusCode::BAD_REQUEST,
            "Gambar terlalu kecil (1x1 piksel) untuk memuat wajah",
        ),
        (
            "nonfaces/coffee.jpg",
            StatusCode::BAD_REQUEST,
            "Tidak ada wajah yang terdeteksi pada foto",
        ),
    ] {
        let (got, body) = face_register(&tc, &admin, &id, testdata(file), "x.jpg").await;
        assert_eq!(
            (got, body["message"].as_str().unwrap()),
            (status, message),
            "{file}"
        );
    }
    let (got, body) = face_register(
        &tc,
        &admin,
        &id,
        testdata("strangers/group_t1.jpg"),
        "g.jpg",
    )
    .await;
    assert_eq!(got, StatusCode::BAD_REQUEST);
    let message = body["message"].as_str().unwrap();
    assert!(
        message.starts_with("Terdeteksi ")
            && message.ends_with("wajah pada foto; foto harus berisi satu wajah saja"),
        "{message}"
    );
    let (got, body) =
        face_register(&tc, &admin, &id, testdata("bad/huge_header.png"), "h.png").await;
    assert_eq!(got, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["message"], "Gambar terlalu besar (10000x10000 piksel)");
    // Oversize, wrong content type, bad base64, unknown and malformed ids.
    let (got, body) = face_register(&tc, &admin, &id, vec![0xFF; 7 * 1024 * 1024], "big.jpg").await;
    assert_eq!(got, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    let (got, body) = json(
        http()
            .post(tc.url(&format!("/api/users/{id}/face-register")))
            .bearer_auth(&admin)
            .header("Content-Type", "text/plain")
            .body("hello")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(got, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{body}");
    let (got, body) = json(
        http()
            .post(tc.url(&format!("/api/users/{id}/face-register")))
            .bearer_auth(&admin)
            .json(&json!({"image": "data:image/jpeg;base64,@@@"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(got, StatusCode::BAD_REQUEST);
    assert_eq!(body["message"], "Gambar base64 tidak valid");
    let (got, body) = json(
        http()
            .post(tc.url(&format!("/api/users/{id}/face-register")))
            .bearer_auth(&admin)
            .json(&json!({}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(got, StatusCode::BAD_REQUEST);
    assert_eq!(body["message"], "Foto wajah tidak ditemukan");
    for bad in ["00000000-0000-0000-0000-000000000000", "..%2F..%2Fetc"] {
        let (got, body) = face_register(
            &tc,
            &admin,
            bad,
            testdata("people/biden/biden.jpg"),
            "b.jpg",
        )
        .await;
        assert_eq!(got, StatusCode::NOT_FOUND, "{bad}");
        assert_eq!(body["message"], "User tidak ditemukan");
    }
    // English reasons.
    let form = multipart::Form::new()
        .part(
            "photo",
            multipart::Part::bytes(testdata("nonfaces/coffee.jpg")).file_name("c.jpg"),
        )
        .text("consent", "true");
    let (_, body) = json(
        http()
            .post(tc.url(&format!("/api/users/{id}/face-register")))
            .bearer_auth(&admin)
            .header("Accept-Language", "en")
            .multipart(form)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(body["message"], "No face was detected in the photo");
    // Nothing changed: no template, no gallery bump.
    assert_eq!(gallery_version(&tc).await, 0);
    let (_, list) = json(
        http()
            .get(tc.url("/api/users"))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(list["users"]
        .as_array()
        .unwrap()
        .iter()
        .all(|u| u["face_registered"] == false));
    tc.stop().await;
}

async fn face_gallery_and_attendance(backend: Backend) {
    let tc = start(backend).await;
    let admin = admin_token(&tc).await;
    let site = unique_site("people");
    let dev = tc.enroll_device(&site, "kiosk-1").await;
    let mut batch_dev = tc.enroll_device(&site, "kiosk-2").await;
    let mut stub = DeviceStub::start(dev, &tc, true).await;
    let (obama, obama_cookie) = student(&tc, "obama@example.com", "Barack").await;
    let (biden, biden_cookie) = student(&tc, "biden@example.com", "Joe").await;

    // Enrol Obama by multipart, Biden by base64 JSON.
    let (status, body) = face_register(&tc, &admin, &obama, jpeg(), "o.jpg").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["message"], "Wajah berhasil didaftarkan");
    assert_eq!(body["gallery_version"], 1);
    assert_eq!(body["user"]["face_registered"], true);
    let text = body.to_string();
    assert!(
        !text.contains("template") && !text.contains("embedding"),
        "{text}"
    );
    let notice = stub.next_notice().await;
    assert_eq!(notice.version, 1);
    let (status, body) = json(
        http()
            .post(tc.url(&format!("/api/users/{biden}/face-register")))
            .bearer_auth(&admin)
            .json(&json!({"consent": true, "image": format!("data:image/jpeg;base64,{}", B64.encode(testdata("people/biden/biden.jpg")))}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["gallery_version"], 2);
    assert_eq!(stub.next_notice().await.version, 2);

    // The device pulls the gallery with its token.
    let response = http()
        .get(tc.url("/api/device/gallery"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let response = http()
        .get(tc.url("/api/device/gallery"))
        .bearer_auth(&stub.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let snapshot: GallerySnapshot = response.json().await.unwrap();
    assert_eq!(snapshot.version, 2);
    assert_eq!(snapshot.time_zone, "Asia/Jakarta");
    let manifest = models::manifest::Manifest::load(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../models"
    )))
    .unwrap();
    assert_eq!(
        snapshot.embedder_sha256,
        manifest.models.embedder.sha256.to_ascii_lowercase()
    );
    assert_eq!(snapshot.people.len(), 2);
    let person = snapshot.people.iter().find(|p| p.id == obama).unwrap();
    assert_eq!(person.name, "Barack");
    assert!(person.enabled);
    assert_eq!(person.templates.len(), 1);
    let template = B64.decode(&person.templates[0]).unwrap();
    assert_eq!(template.len(), snapshot.dim as usize * 4);
    // At rest the template is sealed: its plaintext bytes are not in the database row.
    let row = tc
        .cloud()
        .database()
        .query_one(Statement::from_string(
            tc.cloud().database().get_database_backend(),
            "SELECT sealed FROM face_templates",
        ))
        .await
        .unwrap()
        .unwrap();
    let sealed: Vec<u8> = row.try_get("", "sealed").unwrap();
    assert_eq!(sealed.len(), 24 + template.len() + 16);
    assert!(!sealed.windows(64).any(|w| w == &template[..64]));
    let response = http()
        .get(tc.url("/api/device/gallery?since=2"))
        .bearer_auth(&stub.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_MODIFIED);

    // Attendance: Obama's other photo is accepted once; a stranger's face is refused.
    let attend = |cookie: &str, file: &str| {
        http()
            .post(tc.url("/api/attendance"))
            .header("Cookie", format!("token={cookie}"))
            .json(&json!({"image": B64.encode(testdata(file))}))
    };
    let (status, body) = json(
        attend(&obama_cookie, "strangers/hanks.png")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(
        body["message"],
        "Wajah tidak cocok dengan wajah yang terdaftar"
    );
    let (status, body) = json(
        attend(&obama_cookie, "people/obama/obama2.jpg")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["message"], "Absensi berhasil dicatat");
    assert_eq!(body["attendance"]["userId"], obama);
    assert_eq!(body["attendance"]["status"], "success");
    let (status, body) = json(
        attend(&obama_cookie, "people/obama/obama3.jpg")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["message"], "Anda sudah absen hari ini");
    let (_, records) = json(
        http()
            .get(tc.url("/api/attendance"))
            .header("Cookie", format!("token={obama_cookie}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(records["records"].as_array().unwrap().len(), 1);

    // A kiosk's attendance event counts too, once per day however often it comes.
    let today = time::OffsetDateTime::now_utc()
        .to_offset(time::macros::offset!(+7))
        .date()
        .to_string();
    let event = Event::Attendance {
        person: PersonRef {
            id: biden.clone(),
            name: "Joe".into(),
        },
        direction: AttendanceDirection::CheckIn,
        local_date: today,
        late: false,
    };
    let frames = [
        batch_dev.next_frame(event.clone()),
        batch_dev.next_frame(event),
    ];
    let body = format!(
        "{{\"frames\": [{}]}}",
        frames
            .iter()
            .map(|f| std::str::from_utf8(f).unwrap())
            .collect::<Vec<_>>()
            .join(",")
    );
    let (status, result) = json(
        http()
            .post(tc.url("/api/device/events"))
            .bearer_auth(&batch_dev.token)
            .header("Content-Type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(result["accepted"], 2);
    let (status, body) = json(
        attend(&biden_cookie, "people/biden/biden.jpg")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let (_, list) = json(
        http()
            .get(tc.url("/api/users"))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    let count = |id: &str| {
        list["users"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["id"] == id)
            .unwrap()["attendance_count"]
            .clone()
    };
    assert_eq!(count(&obama), 1);
    assert_eq!(count(&biden), 1);

    // Disabling a person is a gallery change: version 3, enabled false on the device.
    let (status, _) = json(
        http()
            .put(tc.url(&format!("/api/users/{biden}")))
            .bearer_auth(&admin)
            .json(&json!({"enabled": false}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(stub.next_notice().await.version, 3);
    let snapshot = device_gallery(&tc, &stub.token, "/api/device/gallery?since=2").await;
    assert!(
        !snapshot
            .people
            .iter()
            .find(|p| p.id == biden)
            .unwrap()
            .enabled
    );

    // Removing an enrolled person is a gallery change too.
    let (status, _) = json(
        http()
            .delete(tc.url(&format!("/api/users/{obama}")))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(stub.next_notice().await.version, 4);
    let snapshot = device_gallery(&tc, &stub.token, "/api/device/gallery").await;
    assert_eq!(snapshot.people.len(), 1);
    stub.stop().await;
    tc.stop().await;
}

/// Registering a face adds a template to the person's set (at most 5: the oldest goes),
/// `?replace=true` makes it the only one; every registration bumps the gallery version and
/// devices get every template.
async fn face_templates_are_a_capped_set(backend: Backend) {
    let tc = start(backend).await;
    let admin = admin_token(&tc).await;
    let dev = tc.enroll_device(&unique_site("faces"), "kiosk-1").await;
    let (obama, _) = student(&tc, "obama@example.com", "Barack").await;
    let db = tc.cloud().database();
    let template_ids = || async {
        db.query_all(Statement::from_sql_and_values(
            db.get_database_backend(),
            match db.get_database_backend() {
                sea_orm::DbBackend::Postgres => {
                    "SELECT id FROM face_templates WHERE user_id = $1 ORDER BY id"
                }
                _ => "SELECT id FROM face_templates WHERE user_id = ? ORDER BY id",
            },
            [uuid::Uuid::parse_str(&obama).unwrap().into()],
        ))
        .await
        .unwrap()
        .iter()
        .map(|row| row.try_get::<uuid::Uuid>("", "id").unwrap())
        .collect::<Vec<_>>()
    };
    let photos = [
        "people/obama/obama.jpg",
        "people/obama/obama2.jpg",
        "people/obama/obama3.jpg",
        "people/obama/obama.jpg",
        "people/obama/obama2.jpg",
        "people/obama/obama3.jpg",
    ];
    let mut first = None;
    for (i, file) in photos.iter().enumerate() {
        let (status, body) = face_register(&tc, &admin, &obama, testdata(file), "o.jpg").await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_eq!(body["gallery_version"], i as u64 + 1);
        assert_eq!(
            body["user"]["faces_enrolled"],
            (i as u64 + 1).min(5),
            "{body}"
        );
        if i == 0 {
            first = template_ids().await.first().copied();
        }
    }
    let ids = template_ids().await;
    assert_eq!(ids.len(), 5);
    assert!(
        !ids.contains(&first.unwrap()),
        "the oldest template was dropped"
    );
    let snapshot = device_gallery(&tc, &dev.token, "/api/device/gallery").await;
    assert_eq!(snapshot.version, 6);
    assert_eq!(snapshot.people[0].templates.len(), 5);

    let (status, body) = face_register_with(
        &tc,
        &admin,
        &obama,
        testdata("people/obama/obama2.jpg"),
        "o.jpg",
        "?replace=true",
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["user"]["faces_enrolled"], 1);
    assert_eq!(body["gallery_version"], 7);
    assert_eq!(template_ids().await.len(), 1);
    let (status, body) = face_register_with(
        &tc,
        &admin,
        &obama,
        testdata("people/obama/obama.jpg"),
        "o.jpg",
        "?replace=maybe",
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(gallery_version(&tc).await, 7);
    tc.stop().await;
}

/// Counts person `user`'s face templates.
async fn template_count(tc: &TestCloud, user: &str) -> i64 {
    let db = tc.cloud().database();
    let sql = match db.get_database_backend() {
        sea_orm::DbBackend::Postgres => {
            "SELECT COUNT(*) AS n FROM face_templates WHERE user_id = $1"
        }
        _ => "SELECT COUNT(*) AS n FROM face_templates WHERE user_id = ?",
    };
    db.query_one(Statement::from_sql_and_values(
        db.get_database_backend(),
        sql,
        [uuid::Uuid::parse_str(user).unwrap().into()],
    ))
    .await
    .unwrap()
    .unwrap()
    .try_get::<i64>("", "n")
    .unwrap()
}

/// UU PDP: no enrolment without an explicit `consent: true`; the consent is recorded (who,
/// when, from where, which text); withdrawing it erases the templates and bumps the gallery;
/// only the person or an admin may see or withdraw it.
async fn face_consent_required_recorded_withdrawn(backend: Backend) {
    let tc = start(backend).await;
    let admin = admin_token(&tc).await;
    let (obama, obama_cookie) = student(&tc, "obama@example.com", "Barack").await;
    let (_, biden_cookie) = student(&tc, "biden@example.com", "Joe").await;

    // The text to show, in both languages.
    let (status, text) = json(
        http()
            .get(tc.url("/api/face-consent"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        text["text"]
            .as_str()
            .unwrap()
            .contains("Pelindungan Data Pribadi"),
        "{text}"
    );
    let version = text["version"].as_str().unwrap().to_owned();
    let (_, english) = json(
        http()
            .get(tc.url("/api/face-consent"))
            .header("Accept-Language", "en")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(
        english["text"].as_str().unwrap().starts_with("I agree"),
        "{english}"
    );

    // Without consent (absent, false, or "no"): 400, nothing stored.
    let photo = || testdata("people/obama/obama.jpg");
    for consent in [None, Some("false"), Some("no")] {
        let mut form = multipart::Form::new()
            .part("photo", multipart::Part::bytes(photo()).file_name("o.jpg"));
        if let Some(consent) = consent {
            form = form.text("consent", consent);
        }
        let (status, body) = json(
            http()
                .post(tc.url(&format!("/api/users/{obama}/face-register")))
                .bearer_auth(&admin)
                .multipart(form)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{consent:?}: {body}");
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .starts_with("Persetujuan diperlukan"),
            "{body}"
        );
    }
    let (status, body) = json(
        http()
            .post(tc.url(&format!("/api/users/{obama}/face-register")))
            .bearer_auth(&admin)
            .header("Accept-Language", "en")
            .json(&json!({"consent": false, "image": B64.encode(photo())}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .starts_with("Consent is required"),
        "{body}"
    );
    assert_eq!(template_count(&tc, &obama).await, 0);
    assert_eq!(gallery_version(&tc).await, 0);

    // With consent: enrolled, and the consent recorded.
    let (status, body) = face_register(&tc, &admin, &obama, photo(), "o.jpg").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(template_count(&tc, &obama).await, 1);
    let (status, consents) = json(
        http()
            .get(tc.url(&format!("/api/users/{obama}/face-consents")))
            .header("Cookie", format!("token={obama_cookie}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{consents}");
    let consents = consents.as_array().unwrap();
    assert_eq!(consents.len(), 1);
    assert_eq!(consents[0]["text_version"], version.as_str());
    assert_eq!(consents[0]["granted_by_email"], tc.admin_email.as_str());
    assert_eq!(consents[0]["granted_from"], "127.0.0.1");
    assert!(consents[0]["withdrawn_at"].is_null());

    // Someone else may neither read nor withdraw it.
    for method in [reqwest::Method::GET, reqwest::Method::DELETE] {
        let path = if method == reqwest::Method::GET {
            "face-consents"
        } else {
            "face-consent"
        };
        let response = http()
            .request(method, tc.url(&format!("/api/users/{obama}/{path}")))
            .header("Cookie", format!("token={biden_cookie}"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
    }
    assert_eq!(template_count(&tc, &obama).await, 1);

    // Their own data export: a ZIP of JSON, the consent in it, never the template.
    let response = http()
        .get(tc.url(&format!("/api/users/{obama}/export")))
        .header("Cookie", format!("token={obama_cookie}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/zip");
    let bytes = response.bytes().await.unwrap().to_vec();
    let files = unzip(bytes);
    for name in [
        "README.txt",
        "people/profile.json",
        "people/face-consents.json",
        "people/face-templates.json",
        "attendance/attendance.json",
    ] {
        assert!(
            files.contains_key(name),
            "{name} missing from {:?}",
            files.keys()
        );
    }
    let profile: Value = serde_json::from_slice(&files["people/profile.json"]).unwrap();
    assert_eq!(profile["email"], "obama@example.com");
    let listed: Value = serde_json::from_slice(&files["people/face-templates.json"]).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    let exported_consents: Value =
        serde_json::from_slice(&files["people/face-consents.json"]).unwrap();
    assert_eq!(exported_consents[0]["text_version"], version.as_str());
    assert_no_template(&tc, &files).await;
    let response = http()
        .get(tc.url(&format!("/api/users/{obama}/export")))
        .header("Cookie", format!("token={biden_cookie}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);

    // The person withdraws: templates erased at once, the gallery moves on.
    let before = gallery_version(&tc).await;
    let (status, body) = json(
        http()
            .delete(tc.url(&format!("/api/users/{obama}/face-consent")))
            .header("Cookie", format!("token={obama_cookie}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["templates_removed"], 1);
    assert_eq!(template_count(&tc, &obama).await, 0);
    assert_eq!(gallery_version(&tc).await, before + 1);
    let (_, consents) = json(
        http()
            .get(tc.url(&format!("/api/users/{obama}/face-consents")))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(consents[0]["withdrawn_at"].is_string(), "{consents}");
    let (_, list) = json(
        http()
            .get(tc.url("/api/users"))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    let person = list["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == obama.as_str())
        .unwrap()
        .clone();
    assert_eq!(person["face_registered"], false, "{person}");
}
