//! Every input the fuzz target `image_decode` kept (crashes found and its seeds), replayed
//! through the same harness as `fuzz/`: see `fuzz/harness/image.rs`.

#[path = "../../fuzz/harness/image.rs"]
mod harness;
#[path = "../../fuzz/harness/replay.rs"]
mod replay;

#[test]
fn image_decode_inputs_decode_or_fail_cleanly() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fuzz/image_decode");
    replay::replay(&dir, harness::image_decode);
}
