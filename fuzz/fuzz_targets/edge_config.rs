//! `cargo fuzz run edge_config`: see `fuzz/harness/config.rs`.
#![no_main]

#[allow(dead_code)] // A harness file may serve several targets.
#[path = "../harness/config.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::edge_config(data));
