//! `cargo fuzz run sealed_frame`: see `fuzz/harness/protocol.rs`.
#![no_main]

#[allow(dead_code)] // A harness file may serve several targets.
#[path = "../harness/protocol.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::sealed_frame(data));
