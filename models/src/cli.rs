//! The `face` subcommands (`identify`, `eval`, `bench`), wired into `edge-daemon face …`.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::Subcommand;
use serde::Serialize;

use crate::eval::{verification_report, VerificationReport};
use crate::{decode_image, Backend, Embedding, EngineConfig, FaceEngine, Gallery, ImageLimits};

/// Face pipeline commands.
#[derive(Debug, Clone, Subcommand)]
pub enum FaceCommand {
    /// Identify the faces in IMAGE against a gallery folder (one sub-folder per person).
    Identify {
        #[arg(long)]
        gallery: PathBuf,
        image: PathBuf,
        #[arg(long)]
        json: bool,
        /// Folder holding the manifest.toml to use (default: the models shipped with the crate).
        #[arg(long, value_name = "DIR")]
        models: Option<PathBuf>,
    },
    /// Verification report on a folder of people (one sub-folder per person).
    Eval {
        dir: PathBuf,
        #[arg(long)]
        json: bool,
        /// Folder holding the manifest.toml to use (default: the models shipped with the crate).
        #[arg(long, value_name = "DIR")]
        models: Option<PathBuf>,
    },
    /// Time each stage and the 1:N search.
    Bench {
        /// Images to time (default: the crate's test images of people).
        #[arg(long)]
        images: Option<PathBuf>,
        /// Timed runs per image.
        #[arg(long, default_value_t = 20)]
        iterations: usize,
        /// Gallery sizes for the 1:N search timing.
        #[arg(long, value_delimiter = ',', default_values_t = [1_000usize, 10_000, 50_000, 100_000])]
        gallery_sizes: Vec<usize>,
        /// Backend: auto, onnxruntime or tract.
        #[arg(long, default_value = "auto")]
        backend: String,
        /// Threads each ONNX Runtime model may use (the daemon's `vision.threads`).
        #[arg(long, default_value_t = 1)]
        threads: usize,
        #[arg(long)]
        json: bool,
        /// Folder holding the manifest.toml to use (default: the models shipped with the crate).
        #[arg(long, value_name = "DIR")]
        models: Option<PathBuf>,
    },
}

/// Runs one command, printing to stdout.
pub fn run(cmd: FaceCommand) -> anyhow::Result<()> {
    match cmd {
        FaceCommand::Identify {
            gallery,
            image,
            json,
            models,
        } => identify(&gallery, &image, json, models),
        FaceCommand::Eval { dir, json, models } => eval(&dir, json, models),
        FaceCommand::Bench {
            images,
            iterations,
            gallery_sizes,
            backend,
            threads,
            json,
            models,
        } => bench(
            images,
            iterations,
            &gallery_sizes,
            BenchEngine {
                backend: &backend,
                threads,
                models,
            },
            json,
        ),
    }
}

fn engine(backend: Backend, models: Option<PathBuf>, threads: usize) -> anyhow::Result<FaceEngine> {
    let mut cfg = EngineConfig {
        backend,
        threads,
        ..EngineConfig::default()
    };
    if let Some(dir) = models {
        cfg.models_dir = dir;
    }
    FaceEngine::load(&cfg).context("loading the face models")
}

fn is_image(p: &Path) -> bool {
    matches!(
        p.extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref(),
        Some("jpg" | "jpeg" | "png")
    )
}

fn sorted_entries(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    v.sort();
    Ok(v)
}

/// A person's name and the embedding of each usable photo.
pub type Person = (String, Vec<(PathBuf, Embedding)>);

/// Each person's photos: `(name, [(file, embedding)])`. Photos without a usable face are
/// reported on stderr and skipped.
fn embed_people(engine: &FaceEngine, dir: &Path) -> anyhow::Result<Vec<Person>> {
    let limits = ImageLimits::default();
    let mut people = Vec::new();
    for person in sorted_entries(dir)?.into_iter().filter(|p| p.is_dir()) {
        let name = person
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut photos = Vec::new();
        for file in sorted_entries(&person)?.into_iter().filter(|p| is_image(p)) {
            let bytes =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let image = match decode_image(&bytes, &limits) {
                Ok(i) => i,
                Err(e) => {
                    eprintln!("skipping {}: {e}", file.display());
                    continue;
                }
            };
            let faces = engine.analyze(&image)?;
            match faces.into_iter().next() {
                Some(f) => match (f.embedding, f.quality) {
                    (Some(e), _) => photos.push((file, e)),
                    (None, Err(issue)) => eprintln!("skipping {}: {issue}", file.display()),
                    (None, Ok(())) => eprintln!("skipping {}: no embedding", file.display()),
                },
                None => eprintln!("skipping {}: no face found", file.display()),
            }
        }
        people.push((name, photos));
    }
    Ok(people)
}

/// Builds a gallery from a folder of people: one entry a person, the mean of their photos.
pub fn gallery_from_dir(engine: &FaceEngine, dir: &Path) -> anyhow::Result<Gallery> {
    let mut gallery = engine.new_gallery();
    for (name, photos) in embed_people(engine, dir)? {
        let embeddings: Vec<Embedding> = photos.into_iter().map(|(_, e)| e).collect();
        if let Some(mean) = Embedding::mean(&embeddings) {
            gallery.add(name.clone(), name, mean)?;
        }
    }
    Ok(gallery)
}

#[derive(Debug, Serialize)]
struct FaceOut {
    #[serde(rename = "box")]
    bbox: [f32; 4],
    identity: Option<String>,
    score: f32,
    liveness: f32,
    #[serde(skip_serializing_if = "Option::is_none")]
    quality: Option<String>,
}

#[derive(Debug, Serialize)]
struct IdentifyOut {
    faces: Vec<FaceOut>,
}

fn identify(
    gallery_dir: &Path,
    image_path: &Path,
    json: bool,
    models: Option<PathBuf>,
) -> anyhow::Result<()> {
    // The photo first: a damaged one is refused before the models and the gallery load.
    let bytes =
        std::fs::read(image_path).with_context(|| format!("reading {}", image_path.display()))?;
    let image = decode_image(&bytes, &ImageLimits::default())
        .with_context(|| format!("decoding {}", image_path.display()))?;
    let engine = engine(Backend::Auto, models, 1)?;
    let gallery = gallery_from_dir(&engine, gallery_dir)?;
    if gallery.is_empty() {
        bail!(
            "no usable face in the gallery folder {}",
            gallery_dir.display()
        );
    }
    let faces = engine.analyze(&image)?;
    let out = IdentifyOut {
        faces: faces
            .iter()
            .map(|f| {
                let best = f.embedding.as_ref().and_then(|e| gallery.best(e));
                let score = best.as_ref().map_or(0.0, |m| m.score);
                FaceOut {
                    bbox: f.bbox.map(|v| v.round()),
                    identity: best
                        .filter(|m| m.score >= gallery.threshold())
                        .map(|m| m.name),
                    score,
                    liveness: f.liveness,
                    quality: f.quality.as_ref().err().map(ToString::to_string),
                }
            })
            .collect(),
    };
    if json {
        println!("{}", serde_json::to_string(&out)?);
    } else if out.faces.is_empty() {
        println!("no face");
    } else {
        for f in &out.faces {
            println!(
                "box {:?}: {} (score {:.3}, liveness {:.2}){}",
                f.bbox,
                f.identity.as_deref().unwrap_or("unknown"),
                f.score,
                f.liveness,
                f.quality
                    .as_ref()
                    .map(|q| format!(" — {q}"))
                    .unwrap_or_default()
            );
        }
    }
    Ok(())
}

/// Genuine and impostor scores over every pair of photos in a folder of people.
pub fn pair_scores(people: &[Person]) -> (Vec<f32>, Vec<f32>) {
    let all: Vec<(usize, &Embedding)> = people
        .iter()
        .enumerate()
        .flat_map(|(p, (_, photos))| photos.iter().map(move |(_, e)| (p, e)))
        .collect();
    let (mut genuine, mut impostor) = (Vec::new(), Vec::new());
    for a in 0..all.len() {
        for b in a + 1..all.len() {
            let s = all[a].1.cosine(all[b].1);
            if all[a].0 == all[b].0 {
                genuine.push(s);
            } else {
                impostor.push(s);
            }
        }
    }
    (genuine, impostor)
}

fn eval(dir: &Path, json: bool, models: Option<PathBuf>) -> anyhow::Result<()> {
    let engine = engine(Backend::Auto, models, 1)?;
    let people = embed_people(&engine, dir)?;
    let (genuine, impostor) = pair_scores(&people);
    let report = verification_report(&genuine, &impostor);
    if json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print_report(&report, engine.match_threshold());
    }
    Ok(())
}

fn print_report(r: &VerificationReport, current: f32) {
    println!("genuine pairs      {}", r.genuine_pairs);
    println!("impostor pairs     {}", r.impostor_pairs);
    println!("ROC AUC            {:.4}", r.roc_auc);
    println!("EER                {:.4}", r.eer);
    println!("TAR @ FAR 1e-2     {:.4}", r.tar_at_far_1e2);
    println!("TAR @ FAR 1e-3     {:.4}", r.tar_at_far_1e3);
    println!("lowest genuine     {:.4}", r.min_genuine);
    println!("highest impostor   {:.4}", r.max_impostor);
    println!(
        "suggested threshold {:.4} (manifest: {current:.4})",
        r.suggested_threshold
    );
}

#[derive(Debug, Serialize)]
struct Percentiles {
    p50_ms: f64,
    p99_ms: f64,
}

fn percentiles(mut v: Vec<Duration>) -> Percentiles {
    v.sort();
    let at = |q: f64| {
        if v.is_empty() {
            return 0.0;
        }
        let i = ((v.len() as f64 - 1.0) * q).round() as usize;
        v[i].as_secs_f64() * 1000.0
    };
    Percentiles {
        p50_ms: at(0.5),
        p99_ms: at(0.99),
    }
}

#[derive(Debug, Serialize)]
struct SearchBench {
    identities: usize,
    p50_ms: f64,
    p99_ms: f64,
    memory_mb: f64,
}

#[derive(Debug, Serialize)]
struct BenchOut {
    backend: &'static str,
    threads: usize,
    images: usize,
    iterations: usize,
    detect: Percentiles,
    quality_align: Percentiles,
    liveness_per_face: Percentiles,
    embed_per_face: Percentiles,
    pipeline_per_face: Percentiles,
    verification_per_face: Percentiles,
    search: Vec<SearchBench>,
    memory_per_10k_identities_mb: f64,
    peak_rss_mb: f64,
}

/// Peak resident memory of this process (Linux), in MiB.
pub fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|v| v.parse::<f64>().ok())
            })
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn backend_from(name: &str) -> anyhow::Result<Backend> {
    Ok(match name {
        "auto" => Backend::Auto,
        "onnxruntime" | "ort" => Backend::OnnxRuntime { lib: None },
        "tract" => Backend::Tract,
        other => bail!("unknown backend {other:?} (auto, onnxruntime, tract)"),
    })
}

/// Which engine `face bench` times.
struct BenchEngine<'a> {
    backend: &'a str,
    threads: usize,
    models: Option<PathBuf>,
}

fn bench(
    images: Option<PathBuf>,
    iterations: usize,
    sizes: &[usize],
    which: BenchEngine<'_>,
    json: bool,
) -> anyhow::Result<()> {
    let engine = engine(backend_from(which.backend)?, which.models, which.threads)?;
    let dir =
        images.unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/people"));
    let mut files = Vec::new();
    let mut stack = vec![dir.clone()];
    while let Some(d) = stack.pop() {
        for p in sorted_entries(&d)? {
            if p.is_dir() {
                stack.push(p);
            } else if is_image(&p) {
                files.push(p);
            }
        }
    }
    let limits = ImageLimits::default();
    let mut decoded = Vec::new();
    for f in &files {
        let bytes = std::fs::read(f)?;
        if let Ok(i) = decode_image(&bytes, &limits) {
            decoded.push(i);
        }
    }
    if decoded.is_empty() {
        bail!("no images under {}", dir.display());
    }
    let (mut det, mut qa, mut live, mut emb) = (vec![], vec![], vec![], vec![]);
    let (mut total, mut verify) = (vec![], vec![]);
    for image in &decoded {
        let _ = engine.analyze(image)?; // warm-up: tract specialises the graph per shape
        for _ in 0..iterations.max(1) {
            let (faces, t) = engine.analyze_timed(image)?;
            let embedded = faces.iter().filter(|f| f.embedding.is_some()).count() as u32;
            det.push(t.detect);
            qa.push(t.quality_align);
            if embedded > 0 {
                live.push(t.liveness / embedded);
                emb.push(t.embed / embedded);
                // One face's path: detection, plus that face's quality, liveness and embedding.
                total.push(t.detect + (t.quality_align + t.liveness + t.embed) / embedded);
                // The same without the presentation-attack models: the work face_recognition
                // does for a verification (detect, landmarks, align, embed).
                verify.push(t.detect + (t.quality_align + t.embed) / embedded);
            }
        }
    }
    let dim = engine.embedding_dim();
    let mut search = Vec::new();
    let mut per10k = 0.0;
    for &n in sizes {
        let mut g = Gallery::new(dim, engine.match_threshold());
        let mut seed = 0x9e3779b97f4a7c15u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 40) as f32 / (1u64 << 24) as f32 - 0.5
        };
        for i in 0..n {
            let v: Vec<f32> = (0..dim).map(|_| next()).collect();
            if let Some(e) = Embedding::new(v) {
                g.add(format!("person-{i}"), format!("Person {i}"), e)?;
            }
        }
        let mut times = Vec::new();
        for _ in 0..50 {
            let v: Vec<f32> = (0..dim).map(|_| next()).collect();
            let Some(probe) = Embedding::new(v) else {
                continue;
            };
            let start = Instant::now();
            std::hint::black_box(g.best(&probe));
            times.push(start.elapsed());
        }
        let p = percentiles(times);
        let mb = g.memory_bytes() as f64 / (1024.0 * 1024.0);
        if n > 0 {
            per10k = mb * 10_000.0 / n as f64;
        }
        search.push(SearchBench {
            identities: n,
            p50_ms: p.p50_ms,
            p99_ms: p.p99_ms,
            memory_mb: mb,
        });
    }
    let out = BenchOut {
        backend: engine.backend_name(),
        threads: which.threads,
        images: decoded.len(),
        iterations,
        detect: percentiles(det),
        quality_align: percentiles(qa),
        liveness_per_face: percentiles(live),
        embed_per_face: percentiles(emb),
        pipeline_per_face: percentiles(total),
        verification_per_face: percentiles(verify),
        search,
        memory_per_10k_identities_mb: per10k,
        peak_rss_mb: peak_rss_mb(),
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        println!(
            "backend {} ({} thread(s) a model) — {} images × {} runs",
            out.backend, out.threads, out.images, out.iterations
        );
        for (name, p) in [
            ("detect (per image)", &out.detect),
            ("quality+align (per image)", &out.quality_align),
            ("liveness (per face)", &out.liveness_per_face),
            ("embed (per face)", &out.embed_per_face),
            (
                "detect+align+liveness+embed (per face)",
                &out.pipeline_per_face,
            ),
            (
                "detect+align+embed (per face, no liveness)",
                &out.verification_per_face,
            ),
        ] {
            println!(
                "{name:42} p50 {:8.2} ms   p99 {:8.2} ms",
                p.p50_ms, p.p99_ms
            );
        }
        for s in &out.search {
            println!(
                "1:N search over {:>7} identities        p50 {:8.3} ms   p99 {:8.3} ms   {:.1} MiB",
                s.identities, s.p50_ms, s.p99_ms, s.memory_mb
            );
        }
        println!(
            "gallery memory per 10k identities: {:.1} MiB",
            out.memory_per_10k_identities_mb
        );
        println!("peak RSS: {:.0} MiB", out.peak_rss_mb);
    }
    Ok(())
}
