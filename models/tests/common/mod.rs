//! Checks shared by the tract and ONNX Runtime test binaries (one backend per process).
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use image::{imageops, RgbImage};
use models::{decode_image, Embedding, FaceEngine, Gallery, ImageLimits, ModelError};

pub fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata")
}

pub fn load(rel: &str) -> RgbImage {
    let bytes = std::fs::read(testdata().join(rel)).expect("test image present");
    decode_image(&bytes, &ImageLimits::default()).expect("test image decodes")
}

pub fn embed(engine: &FaceEngine, image: &RgbImage) -> Option<Embedding> {
    engine.enrol_embedding(image).expect("pipeline runs")
}

/// The enrolment gallery: obama from one photo only, biden from his one photo.
pub fn gallery(engine: &FaceEngine) -> Gallery {
    let mut g = engine.new_gallery();
    let obama = embed(engine, &load("people/obama/obama.jpg")).expect("obama enrols");
    let biden = embed(engine, &load("people/biden/biden.jpg")).expect("biden enrols");
    g.add("p-obama", "obama", obama).expect("dim");
    g.add("p-biden", "biden", biden).expect("dim");
    g
}

pub fn identify(engine: &FaceEngine, g: &Gallery, image: &RgbImage) -> Option<String> {
    embed(engine, image)
        .and_then(|e| g.search(&e))
        .map(|m| m.name)
}

fn scale_brightness(img: &RgbImage, k: f32) -> RgbImage {
    let mut out = img.clone();
    out.pixels_mut().for_each(|p| {
        p.0 =
            p.0.map(|v| (f32::from(v) * k).round().clamp(0.0, 255.0) as u8)
    });
    out
}

/// Ordinary changes of light, pose and camera.
pub fn variants(img: &RgbImage) -> Vec<(&'static str, RgbImage)> {
    let (w, h) = img.dimensions();
    let small = imageops::resize(img, w / 3, h / 3, imageops::FilterType::Triangle);
    vec![
        ("original", img.clone()),
        ("darker", scale_brightness(img, 0.55)),
        ("brighter", scale_brightness(img, 1.35)),
        ("mirrored", imageops::flip_horizontal(img)),
        (
            "low-res camera",
            imageops::resize(&small, w, h, imageops::FilterType::Triangle),
        ),
    ]
}

/// The largest face must be recognised as `who`, or refused by the quality gate with a
/// reason; it must never be taken for someone else or missed as a stranger.
fn expect_person(engine: &FaceEngine, g: &Gallery, img: &RgbImage, who: &str, what: &str) -> bool {
    let faces = engine.analyze(img).expect("pipeline runs");
    let face = faces
        .first()
        .unwrap_or_else(|| panic!("{what}: no face found"));
    match &face.embedding {
        Some(e) => {
            let best = g.best(e).expect("gallery not empty");
            assert!(
                best.name == who && best.score >= g.threshold(),
                "{what}: expected {who}, best was {} at {:.3}",
                best.name,
                best.score
            );
            true
        }
        None => {
            assert!(face.quality.is_err(), "{what}: no embedding and no reason");
            false
        }
    }
}

pub fn same_person_matches_across_photos_and_conditions(engine: &FaceEngine) {
    let g = gallery(engine);
    let mut matched = 0;
    for (who, file) in [
        ("obama", "people/obama/obama2.jpg"),
        ("obama", "people/obama/obama3.jpg"),
        ("biden", "people/biden/biden.jpg"),
    ] {
        for (what, img) in variants(&load(file)) {
            let ok = expect_person(engine, &g, &img, who, &format!("{file} ({what})"));
            assert!(
                ok || what == "low-res camera",
                "{file} ({what}) refused by the quality gate"
            );
            matched += usize::from(ok);
        }
    }
    assert!(matched >= 13, "only {matched} of 15 variants recognised");
}

pub fn strangers_and_nonfaces_match_no_one(engine: &FaceEngine) {
    let g = gallery(engine);
    let mut checked = 0;
    for dir in ["strangers", "nonfaces"] {
        for entry in std::fs::read_dir(testdata().join(dir)).expect("folder") {
            let path = entry.expect("entry").path();
            let rel = format!(
                "{dir}/{}",
                path.file_name().expect("name").to_string_lossy()
            );
            let faces = engine.analyze(&load(&rel)).expect("pipeline runs");
            for (i, f) in faces.iter().enumerate() {
                if let Some(e) = &f.embedding {
                    let best = g.best(e).expect("gallery not empty");
                    assert!(
                        g.search(e).is_none(),
                        "{rel} face {i} matched {} at {:.3}",
                        best.name,
                        best.score
                    );
                    checked += 1;
                }
            }
            if rel == "nonfaces/coffee.jpg" || rel == "nonfaces/rocket.jpg" {
                assert!(
                    faces.is_empty(),
                    "{rel}: a face was found where there is none"
                );
            }
        }
    }
    assert!(checked >= 5, "only {checked} stranger faces were embedded");
}

pub fn several_faces_are_all_returned_largest_first(engine: &FaceEngine) {
    let faces = engine
        .analyze(&load("strangers/group_t1.jpg"))
        .expect("pipeline runs");
    assert!(
        faces.len() >= 4,
        "found {} faces in the group photo",
        faces.len()
    );
    let areas: Vec<f32> = faces.iter().map(|f| f.bbox[2] * f.bbox[3]).collect();
    assert!(
        areas.windows(2).all(|w| w[0] >= w[1]),
        "not largest first: {areas:?}"
    );
}

pub fn awkward_images_still_work(engine: &FaceEngine) {
    let g = gallery(engine);
    for file in [
        "bad/obama2_exif_rotated.jpg",
        "bad/obama2_grey.jpg",
        "bad/obama2_cmyk.jpg",
        "bad/obama2_alpha.png",
    ] {
        let img = load(file);
        if file.contains("exif") {
            let (w, h) = img.dimensions();
            assert!(h > w, "{file}: EXIF rotation not applied ({w}x{h})");
        }
        assert_eq!(
            identify(engine, &g, &img).as_deref(),
            Some("obama"),
            "{file}"
        );
    }
}

pub fn bad_inputs_give_clear_errors(engine: &FaceEngine) {
    let read = |f: &str| std::fs::read(testdata().join(f)).expect("test file");
    let limits = ImageLimits::default();
    assert!(matches!(
        decode_image(&read("bad/empty.jpg"), &limits),
        Err(ModelError::BadImage(_))
    ));
    assert!(matches!(
        decode_image(&read("bad/not_an_image.jpg"), &limits),
        Err(ModelError::BadImage(_))
    ));
    assert!(matches!(
        decode_image(&read("bad/one_pixel.png"), &limits),
        Err(ModelError::TooSmall { .. })
    ));
    assert!(matches!(
        decode_image(&read("bad/huge_header.png"), &limits),
        Err(ModelError::TooLarge {
            pixels: 100_000_000,
            ..
        })
    ));
    // A smaller budget refuses an ordinary photo, from its header.
    let tight = ImageLimits {
        max_pixels: 10_000,
        ..limits
    };
    assert!(matches!(
        decode_image(&read("people/obama/obama.jpg"), &tight),
        Err(ModelError::TooLarge { .. })
    ));
    // Truncated: an error, or an image in which nobody is recognised.
    match decode_image(&read("bad/truncated.jpg"), &limits) {
        Err(ModelError::BadImage(_)) => {}
        Err(other) => panic!("truncated JPEG: unexpected error {other}"),
        Ok(img) => {
            let _ = engine
                .analyze(&img)
                .expect("pipeline runs on a partial image");
        }
    }
    // Degenerate images reach the engine without panicking.
    for (w, h) in [(0, 0), (1, 1), (2, 2), (3, 1000)] {
        let faces = engine.analyze(&RgbImage::new(w, h)).expect("no panic");
        assert!(faces.is_empty());
    }
}

pub fn partial_face_is_refused_or_absent(engine: &FaceEngine) {
    let g = gallery(engine);
    let faces = engine
        .analyze(&load("partial/obama_partial_face.jpg"))
        .expect("pipeline runs");
    for f in faces {
        // Either the gate refuses it (with a reason) or, if it is usable, it must not be
        // taken for someone else.
        if let Some(e) = f.embedding {
            if let Some(m) = g.search(&e) {
                assert_eq!(m.name, "obama");
            }
        } else {
            assert!(f.quality.is_err());
        }
    }
}

pub fn gallery_bytes_roundtrip_keeps_identities(engine: &FaceEngine) {
    let g = gallery(engine);
    let back = Gallery::from_bytes(&g.to_bytes()).expect("roundtrip");
    let probe = embed(engine, &load("people/obama/obama3.jpg")).expect("face");
    let (a, b) = (
        g.search(&probe).expect("match"),
        back.search(&probe).expect("match"),
    );
    assert_eq!(a.id, b.id);
    assert!((a.score - b.score).abs() < 2e-3);
}

/// dlib's own aligned chip of obama.jpg through our conversion of dlib's ResNet gives dlib's
/// own descriptor (models/testdata/dlib, written by scripts/models/dlib_to_onnx.py --check).
/// Runs when the manifest's embedder is the dlib ResNet (the shipped default).
pub fn dlib_embedder_reproduces_dlib(engine: &FaceEngine) {
    if !engine
        .manifest()
        .models
        .embedder
        .file
        .ends_with("dlib-resnet.onnx")
    {
        eprintln!("embedder is not dlib-resnet.onnx: skipping the dlib reference check");
        return;
    }
    let chip = load("dlib/obama_chip.png");
    let text = std::fs::read_to_string(testdata().join("dlib/obama_chip.json")).expect("reference");
    let json: serde_json::Value = serde_json::from_str(&text).expect("reference JSON");
    let want: Vec<f32> = json["descriptor"]
        .as_array()
        .expect("descriptor array")
        .iter()
        .map(|v| v.as_f64().expect("number") as f32)
        .collect();
    let want = Embedding::new(want).expect("non-zero descriptor");
    let got = engine.embed_aligned(&chip).expect("chip embeds");
    let worst = got
        .as_slice()
        .iter()
        .zip(want.as_slice())
        .map(|(a, b)| (a - b).abs())
        .fold(0f32, f32::max);
    assert!(worst < 1e-3, "largest difference from dlib {worst}");
    assert!(engine
        .embed_aligned(&load("people/obama/obama.jpg"))
        .is_err());
}

/// Cosine scores of fixed pairs, compared across backends by the ONNX Runtime test.
pub fn reference_scores(engine: &FaceEngine) -> Vec<f32> {
    let o1 = embed(engine, &load("people/obama/obama.jpg")).expect("face");
    let o2 = embed(engine, &load("people/obama/obama2.jpg")).expect("face");
    let b = embed(engine, &load("people/biden/biden.jpg")).expect("face");
    vec![o1.cosine(&o2), o1.cosine(&b), o2.cosine(&b)]
}
/// Cosines of (obama, obama2), (obama, biden), (obama2, biden) measured on tract with the
/// shipped embedder (dlib ResNet, mirror-averaged; ONNX Runtime agreed to 1e-6).
pub const REFERENCE: [f32; 3] = [0.9650, 0.8174, 0.8352];
