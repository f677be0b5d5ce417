//! `edge-daemon face identify` run as the installer runs it, the real binary on the real
//! photos: with `--json` stdout is one JSON document and nothing else (logs go to stderr,
//! uncoloured when stderr is not a terminal); a damaged photo is refused with exit code 1.

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
};

fn testdata(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../models/testdata")
        .join(rel)
}

/// `edge-daemon face identify --gallery people IMAGE --json`, logging at `info`.
fn identify(image: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_edge-daemon"))
        .args(["face", "identify", "--json", "--gallery"])
        .arg(testdata("people"))
        .arg(image)
        .env("RUST_LOG", "info")
        .env_remove("GERBANG_CONFIG")
        .output()
        .expect("edge-daemon runs")
}

#[test]
fn json_goes_alone_to_stdout_and_logs_to_stderr() {
    let out = identify(&testdata("people/obama/obama2.jpg"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let document: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON document ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    assert_eq!(document["faces"][0]["identity"], "obama", "{document}");
    // The logs are there, on stderr, without colour codes: stderr is a pipe here.
    assert!(stderr.contains("Face engine loaded."), "{stderr}");
    assert!(!stderr.contains('\u{1b}'), "{stderr}");
}

#[test]
fn a_truncated_photo_is_refused_with_exit_code_1() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let photo = std::fs::read(testdata("people/obama/obama2.jpg")).expect("the photo");
    let truncated = dir.path().join("obama2_cut.jpg");
    std::fs::write(&truncated, &photo[..photo.len() * 2 / 3]).expect("written");
    let out = identify(&truncated);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(stderr.contains("obama2_cut.jpg"), "{stderr}");
    assert!(stderr.contains("truncated JPEG"), "{stderr}");
}
