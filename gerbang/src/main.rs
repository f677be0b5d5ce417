//! gerbang: the all-in-one binary.
fn main() {}
