//! Replays every kept input of a fuzz target (its crash inputs and seeds, one file each under
//! `tests/fixtures/fuzz/<target>/` of the crate concerned) through the target's harness, so
//! a plain `cargo test` — no nightly, no libFuzzer — keeps every crash fixed.

use std::path::Path;

/// Runs `harness` on every file in `dir`, naming the file if one panics; returns how many
/// ran. A target with no kept input fails: a moved directory must not pass silently.
pub fn replay(dir: &Path, harness: fn(&[u8])) -> usize {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no kept inputs in {}", dir.display());
    for path in &files {
        let data = std::fs::read(path).expect("a kept input");
        let outcome = std::panic::catch_unwind(|| harness(&data));
        assert!(
            outcome.is_ok(),
            "{} panics the harness again",
            path.display()
        );
    }
    files.len()
}
