//! The face pipeline on the pure-Rust tract backend, on real photos.

mod common;

use std::sync::OnceLock;

use models::{Backend, EngineConfig, FaceEngine};

fn engine() -> &'static FaceEngine {
    static ENGINE: OnceLock<FaceEngine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let cfg = EngineConfig {
            backend: Backend::Tract,
            ..EngineConfig::default()
        };
        FaceEngine::load(&cfg).expect("models load on tract")
    })
}

#[test]
fn backend_is_tract() {
    assert_eq!(engine().backend_name(), "tract");
}

#[test]
fn same_person_matches_across_photos_and_conditions() {
    common::same_person_matches_across_photos_and_conditions(engine());
}

#[test]
fn strangers_and_nonfaces_match_no_one() {
    common::strangers_and_nonfaces_match_no_one(engine());
}

#[test]
fn several_faces_are_all_returned_largest_first() {
    common::several_faces_are_all_returned_largest_first(engine());
}

#[test]
fn awkward_images_still_work() {
    common::awkward_images_still_work(engine());
}

#[test]
fn bad_inputs_give_clear_errors() {
    common::bad_inputs_give_clear_errors(engine());
}

#[test]
fn partial_face_is_refused_or_absent() {
    common::partial_face_is_refused_or_absent(engine());
}

#[test]
fn dlib_embedder_reproduces_dlib() {
    common::dlib_embedder_reproduces_dlib(engine());
}

#[test]
fn gallery_bytes_roundtrip_keeps_identities() {
    common::gallery_bytes_roundtrip_keeps_identities(engine());
}

#[test]
fn reference_scores_are_stable() {
    // The same figures are checked on ONNX Runtime (tests/onnxruntime.rs), so both
    // backends must agree on them.
    let s = common::reference_scores(engine());
    let expected = common::REFERENCE;
    for (got, want) in s.iter().zip(expected) {
        assert!(
            (got - want).abs() < 0.02,
            "scores {s:?}, expected {expected:?}"
        );
    }
}
