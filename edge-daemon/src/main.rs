//! edge-daemon entry point.
fn main() {}
