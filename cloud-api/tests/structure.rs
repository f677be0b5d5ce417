//! The cloud's layering, checked from the manifests and sources: the platform depends on no
//! domain, no domain depends on the assembly, and every module says what it is for.

use std::{
    collections::BTreeSet,
    fs,
    path::{Path, PathBuf},
};

fn cloud_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The crate names of the domain crates (one folder each under `domains/`).
fn domains() -> BTreeSet<String> {
    let names: BTreeSet<String> = fs::read_dir(cloud_dir().join("domains"))
        .expect("domains/ exists")
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("Cargo.toml").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.contains("access") && names.contains("people"),
        "{names:?}"
    );
    names
}

/// The names in the `[dependencies]` and `[dev-dependencies]` tables of a manifest (lines
/// `name = …` or `name.workspace = true`).
fn dependencies(manifest: &Path) -> BTreeSet<String> {
    let text = fs::read_to_string(manifest).expect("manifest readable");
    let mut in_deps = false;
    let mut names = BTreeSet::new();
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            in_deps = matches!(line, "[dependencies]" | "[dev-dependencies]");
            continue;
        }
        if !in_deps || line.is_empty() || line.starts_with('#') {
            continue;
        }
        let name = line
            .split(['=', '.', ' '])
            .next()
            .unwrap_or_default()
            .trim();
        if !name.is_empty() {
            names.insert(name.to_owned());
        }
    }
    names
}

#[test]
fn the_platform_depends_on_no_domain() {
    let deps = dependencies(&cloud_dir().join("platform/Cargo.toml"));
    assert!(
        deps.contains("sea-orm"),
        "the manifest parser sees {deps:?}"
    );
    let domains = domains();
    let wrong: Vec<&String> = deps.iter().filter(|d| domains.contains(*d)).collect();
    assert!(
        wrong.is_empty(),
        "the platform depends on domains {wrong:?}"
    );
    assert!(!deps.contains("cloud-api"));
}

#[test]
fn no_domain_depends_on_the_assembly() {
    for domain in domains() {
        let manifest = cloud_dir().join("domains").join(&domain).join("Cargo.toml");
        let deps = dependencies(&manifest);
        assert!(
            deps.contains("platform"),
            "{domain} does not stand on the platform"
        );
        // Tests may use the assembly's testkit; the library never.
        let text = fs::read_to_string(&manifest).unwrap_or_default();
        let library = text.split("[dev-dependencies]").next().unwrap_or_default();
        assert!(
            !library.contains("cloud-api"),
            "{domain}'s library depends on the assembly"
        );
    }
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_module_says_what_it_is_for() {
    let mut files = Vec::new();
    rust_files(&cloud_dir().join("platform/src"), &mut files);
    rust_files(&cloud_dir().join("src"), &mut files);
    for domain in domains() {
        rust_files(
            &cloud_dir().join("domains").join(domain).join("src"),
            &mut files,
        );
    }
    assert!(files.len() > 50, "found only {} files", files.len());
    let missing: Vec<String> = files
        .iter()
        .filter(|f| {
            !fs::read_to_string(f)
                .unwrap_or_default()
                .trim_start()
                .starts_with("//!")
        })
        .map(|f| f.display().to_string())
        .collect();
    assert!(
        missing.is_empty(),
        "modules without a `//!` line: {missing:#?}"
    );
}
