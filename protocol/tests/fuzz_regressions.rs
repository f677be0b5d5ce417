//! Every input the fuzz targets `sealed_frame` and `event_batch` kept (crashes found and
//! their seeds), replayed through the same harness as `fuzz/`: see `fuzz/harness/`.

#[allow(dead_code)] // The harness serves both targets; each test uses one function.
#[path = "../../fuzz/harness/protocol.rs"]
mod harness;
#[path = "../../fuzz/harness/replay.rs"]
mod replay;

use std::path::Path;

fn fixtures(target: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/fuzz")
        .join(target)
}

#[test]
fn sealed_frame_inputs_parse_without_panicking() {
    replay::replay(&fixtures("sealed_frame"), harness::sealed_frame);
}

#[test]
fn event_batch_inputs_parse_without_panicking() {
    replay::replay(&fixtures("event_batch"), harness::event_batch);
}
