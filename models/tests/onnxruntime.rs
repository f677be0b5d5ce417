//! The face pipeline on ONNX Runtime (`ORT_DYLIB_PATH`), with the same checks as tract.
//! Skipped when no library is configured, unless GERBANG_TEST_REQUIRE_SERVICES=1.

mod common;

use std::path::PathBuf;
use std::sync::OnceLock;

use models::{Backend, EngineConfig, FaceEngine};

fn engine() -> Option<&'static FaceEngine> {
    static ENGINE: OnceLock<Option<FaceEngine>> = OnceLock::new();
    ENGINE
        .get_or_init(|| {
            let required = std::env::var("GERBANG_TEST_REQUIRE_SERVICES").as_deref() == Ok("1");
            let lib = std::env::var_os("ORT_DYLIB_PATH")
                .filter(|s| !s.is_empty())
                .map(PathBuf::from);
            let Some(lib) = lib else {
                assert!(
                    !required,
                    "GERBANG_TEST_REQUIRE_SERVICES=1 but ORT_DYLIB_PATH is not set: \
                     run `export ORT_DYLIB_PATH=$(bash scripts/models/install-onnxruntime.sh)`"
                );
                eprintln!("ORT_DYLIB_PATH not set: skipping the ONNX Runtime tests");
                return None;
            };
            let cfg = EngineConfig {
                backend: Backend::OnnxRuntime { lib: Some(lib) },
                ..EngineConfig::default()
            };
            Some(FaceEngine::load(&cfg).expect("models load on ONNX Runtime"))
        })
        .as_ref()
}

macro_rules! ort_test {
    ($name:ident) => {
        #[test]
        fn $name() {
            if let Some(e) = engine() {
                common::$name(e);
            }
        }
    };
}

#[test]
fn backend_is_onnxruntime() {
    if let Some(e) = engine() {
        assert_eq!(e.backend_name(), "onnxruntime");
    }
}

ort_test!(same_person_matches_across_photos_and_conditions);
ort_test!(strangers_and_nonfaces_match_no_one);
ort_test!(several_faces_are_all_returned_largest_first);
ort_test!(awkward_images_still_work);
ort_test!(bad_inputs_give_clear_errors);
ort_test!(partial_face_is_refused_or_absent);
ort_test!(gallery_bytes_roundtrip_keeps_identities);
ort_test!(dlib_embedder_reproduces_dlib);

#[test]
fn reference_scores_match_tract() {
    if let Some(e) = engine() {
        let s = common::reference_scores(e);
        for (got, want) in s.iter().zip(common::REFERENCE) {
            assert!(
                (got - want).abs() < 0.02,
                "scores {s:?}, tract gave {:?}",
                common::REFERENCE
            );
        }
    }
}
