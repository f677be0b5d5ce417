//! The built-in configuration, pinned: moving a settings type between modules must not change
//! a single default or key of the TOML/`GERBANG_*` format.

use edge_daemon::config::EdgeConfig;

/// `EdgeConfig::default()` as JSON, recorded before the settings types moved to their modules.
const DEFAULTS: &str = include_str!("config_defaults.json");

#[test]
fn the_built_in_defaults_are_unchanged() {
    // Compared as text: every value exactly as serde writes it (an f32 like `0.045` would
    // not survive a round trip through `serde_json::Value` unchanged).
    let defaults = serde_json::to_string_pretty(&EdgeConfig::default()).expect("serialises");
    assert_eq!(defaults + "\n", DEFAULTS);
}
