//! What the configuration fuzz target does with its input: the edge daemon's TOML, merged
//! over the defaults as `edge-daemon` reads `/etc/gerbang/edge.toml`. Shared by
//! `fuzz/fuzz_targets/` and `edge-daemon/tests/fuzz_regressions.rs`.

use edge_daemon::config::EdgeConfig;

pub fn edge_config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(config) = EdgeConfig::from_toml(text) {
        let _ = config.store_path();
    }
}
