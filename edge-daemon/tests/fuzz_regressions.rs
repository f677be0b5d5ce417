//! Every input the fuzz target `edge_config` kept (crashes found and its seeds), replayed
//! through the same harness as `fuzz/`: see `fuzz/harness/config.rs`.

#[path = "../../fuzz/harness/config.rs"]
mod harness;
#[path = "../../fuzz/harness/replay.rs"]
mod replay;

#[test]
fn edge_config_inputs_load_or_fail_cleanly() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fuzz/edge_config");
    replay::replay(&dir, harness::edge_config);
}
