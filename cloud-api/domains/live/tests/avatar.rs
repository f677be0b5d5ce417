//! `POST /chatme/api/profile/avatar` on SQLite and PostgreSQL: JPEG, PNG and WebP judged by
//! content, shrunk to at most 512 px, re-encoded without EXIF/GPS, served back, the old one
//! removed; a non-image, an image in disguise, a file over 5 MB and decompression bombs (a
//! tiny PNG declaring a huge size) are refused with a clear 4xx and change nothing.

#![allow(clippy::unwrap_used)]

mod common;

use std::io::Cursor;

use cloud_api::{db_tests, testkit::Backend, testkit::TestCloud};
use common::*;
use image::{DynamicImage, ImageFormat, Rgb, RgbImage, Rgba, RgbaImage};
use reqwest::StatusCode;
use serde_json::Value;

db_tests!(avatars);

const BOUNDARY: &str = "chatme-test-boundary-7MA4YWxkTrZu0gW";

/// A multipart/form-data body with one file field.
fn multipart(field: &str, file_name: &str, content_type: &str, bytes: &[u8]) -> Vec<u8> {
    let mut body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{file_name}\"\r\n\
         Content-Type: {content_type}\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

async fn upload(tc: &TestCloud, token: Option<&str>, body: Vec<u8>) -> (StatusCode, Value) {
    let mut request = http()
        .post(tc.url("/chatme/api/profile/avatar"))
        .header(
            "Content-Type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn encode(image: &DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut bytes = Vec::new();
    image
        .write_to(&mut Cursor::new(&mut bytes), format)
        .unwrap();
    bytes
}

/// A 1200×800 photo with an EXIF segment carrying a (fake) GPS position right after SOI.
fn photo_with_exif() -> Vec<u8> {
    let image = DynamicImage::ImageRgb8(RgbImage::from_fn(1200, 800, |x, y| {
        Rgb([(x % 256) as u8, (y % 256) as u8, 90])
    }));
    let jpeg = encode(&image, ImageFormat::Jpeg);
    let mut exif = b"Exif\0\0II*\0\x08\0\0\0\0\0".to_vec();
    exif.extend_from_slice(b"GPSLatitude -6.200000 GPSLongitude 106.816666");
    let length = u16::try_from(exif.len() + 2).unwrap().to_be_bytes();
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1, length[0], length[1]]);
    out.extend_from_slice(&exif);
    out.extend_from_slice(&jpeg[2..]);
    out
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for byte in bytes {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut out = u32::try_from(data.len()).unwrap().to_be_bytes().to_vec();
    let mut body = kind.to_vec();
    body.extend_from_slice(data);
    out.extend_from_slice(&body);
    out.extend_from_slice(&crc32(&body).to_be_bytes());
    out
}

/// A PNG of a few dozen bytes whose header declares `width`×`height` RGB pixels.
fn png_bomb(width: u32, height: u32) -> Vec<u8> {
    let mut ihdr = width.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    // An empty zlib stream (stored, final, zero length).
    let idat = [
        0x78, 0x01, 0x01, 0x00, 0x00, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x01,
    ];
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend(chunk(b"IHDR", &ihdr));
    png.extend(chunk(b"IDAT", &idat));
    png.extend(chunk(b"IEND", &[]));
    png
}

/// Fetches `url` as the app does: an `avatar_url` (`/uploads/…`) is relative to the app's
/// base URL `…/chatme`; anything else is a path on the cloud.
async fn fetch(tc: &TestCloud, url: &str) -> (StatusCode, Option<String>, Vec<u8>) {
    let absolute = if url.starts_with("/uploads/") {
        format!("{}{url}", tc.url("/chatme"))
    } else {
        tc.url(url)
    };
    let response = http().get(absolute).send().await.unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned());
    (
        status,
        content_type,
        response.bytes().await.unwrap().to_vec(),
    )
}

async fn avatars(backend: Backend) {
    let tc = start(backend).await;
    let (_, token) = member(&tc, "081400000001", "Ayu").await;

    // A photo: shrunk to 512 px wide, re-encoded as JPEG, its EXIF and GPS gone.
    let (status, body) = upload(
        &tc,
        Some(&token),
        multipart("avatar", "me.jpg", "image/jpeg", &photo_with_exif()),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let first = body["avatar_url"].as_str().unwrap().to_owned();
    // What the seed answers: a path below the app's base URL.
    assert!(first.starts_with("/uploads/avatars/"), "{first}");
    assert_eq!(body["user"]["avatar_url"], first.as_str());
    assert_eq!(
        get(&tc, "/profile", &token).await["user"]["avatar_url"],
        first.as_str()
    );
    let (status, content_type, bytes) = fetch(&tc, &first).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type.as_deref(), Some("image/jpeg"));
    let stored = image::load_from_memory(&bytes).unwrap();
    assert_eq!((stored.width(), stored.height()), (512, 341));
    let text = String::from_utf8_lossy(&bytes);
    assert!(
        !text.contains("Exif") && !text.contains("GPSLatitude"),
        "metadata kept"
    );

    // A transparent PNG stays PNG (and keeps its alpha); the previous avatar is removed.
    let logo = DynamicImage::ImageRgba8(RgbaImage::from_pixel(300, 200, Rgba([200, 10, 10, 128])));
    let (status, body) = upload(
        &tc,
        Some(&token),
        multipart(
            "avatar",
            "logo.png",
            "image/png",
            &encode(&logo, ImageFormat::Png),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let second = body["avatar_url"].as_str().unwrap().to_owned();
    assert_ne!(first, second);
    let (status, content_type, bytes) = fetch(&tc, &second).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type.as_deref(), Some("image/png"));
    let stored = image::load_from_memory(&bytes).unwrap();
    assert_eq!((stored.width(), stored.height()), (300, 200));
    assert!(stored.color().has_alpha());
    assert_eq!(fetch(&tc, &first).await.0, StatusCode::NOT_FOUND);

    // WebP is accepted, whatever the file is called.
    let webp = DynamicImage::ImageRgba8(RgbaImage::from_pixel(64, 64, Rgba([1, 2, 3, 255])));
    let (status, body) = upload(
        &tc,
        Some(&token),
        multipart(
            "photo",
            "x.bin",
            "application/octet-stream",
            &encode(&webp, ImageFormat::WebP),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let current = body["avatar_url"].as_str().unwrap().to_owned();
    assert_eq!(fetch(&tc, &second).await.0, StatusCode::NOT_FOUND);

    // Refused, each with a message, the avatar unchanged.
    let mut too_large = encode(&logo, ImageFormat::Png);
    too_large.resize(5 * 1024 * 1024 + 10, 0);
    // A 1×1 GIF (sniffed as GIF: not one of the accepted formats).
    let gif = b"GIF89a\x01\x00\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x00;";
    let refusals: Vec<(&str, Vec<u8>, StatusCode)> = vec![
        (
            "text",
            multipart("avatar", "me.png", "image/png", b"hello, not an image"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (
            "gif",
            multipart("avatar", "me.gif", "image/gif", gif),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (
            "truncated",
            multipart("avatar", "me.jpg", "image/jpeg", &photo_with_exif()[..600]),
            StatusCode::BAD_REQUEST,
        ),
        (
            "bomb beyond the decoder limits",
            multipart(
                "avatar",
                "bomb.png",
                "image/png",
                &png_bomb(100_000, 100_000),
            ),
            StatusCode::BAD_REQUEST,
        ),
        (
            "bomb inside them but over the pixel budget",
            multipart("avatar", "bomb.png", "image/png", &png_bomb(16_000, 16_000)),
            StatusCode::BAD_REQUEST,
        ),
        (
            "over 5 MB",
            multipart("avatar", "big.png", "image/png", &too_large),
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
        (
            "no file",
            format!("--{BOUNDARY}--\r\n").into_bytes(),
            StatusCode::BAD_REQUEST,
        ),
    ];
    for (what, body, want) in refusals {
        let (status, answer) = upload(&tc, Some(&token), body).await;
        assert_eq!(status, want, "{what}: {answer}");
        assert!(answer["message"].is_string(), "{what}: {answer}");
    }
    assert_eq!(
        get(&tc, "/profile", &token).await["user"]["avatar_url"],
        current.as_str()
    );
    let (status, _) = upload(
        &tc,
        None,
        multipart(
            "avatar",
            "me.png",
            "image/png",
            &encode(&logo, ImageFormat::Png),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, answer) = post(
        &tc,
        "/profile/avatar",
        Some(&token),
        serde_json::json!({"avatar": "x"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    for path in [
        "/chatme/uploads/avatars/..%2F..%2Fetc/passwd",
        "/chatme/uploads/avatars/not-a-user/x.jpg",
    ] {
        assert_eq!(fetch(&tc, path).await.0, StatusCode::NOT_FOUND, "{path}");
    }
}
