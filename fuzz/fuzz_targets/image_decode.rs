//! `cargo fuzz run image_decode`: see `fuzz/harness/image.rs`.
#![no_main]

#[allow(dead_code)] // A harness file may serve several targets.
#[path = "../harness/image.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::image_decode(data));
