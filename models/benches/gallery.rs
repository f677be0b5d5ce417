//! 1:N gallery search time for galleries of 1k to 100k identities, for the dlib ResNet's
//! 128-d embeddings and FaceRes's 1024-d ones, and the int8 scan kernels side by side.
//!
//! `cargo bench -p models --bench gallery` (criterion; say the load average when quoting).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use models::{Embedding, Gallery, ScanKernel};

fn random_unit(seed: &mut u64, dim: usize) -> Embedding {
    let v = (0..dim)
        .map(|_| {
            *seed ^= *seed << 13;
            *seed ^= *seed >> 7;
            *seed ^= *seed << 17;
            (*seed >> 40) as f32 / (1u64 << 24) as f32 - 0.5
        })
        .collect();
    Embedding::new(v).expect("non-zero")
}

fn gallery(dim: usize, n: usize, seed: &mut u64) -> Gallery {
    let mut g = Gallery::new(dim, 0.5);
    for i in 0..n {
        g.add(format!("p{i}"), format!("P{i}"), random_unit(seed, dim))
            .expect("dim");
    }
    g
}

fn search(c: &mut Criterion) {
    for dim in [128usize, 1024] {
        let mut group = c.benchmark_group(format!("gallery_search_{dim}d"));
        group.sample_size(20);
        for n in [1_000usize, 10_000, 50_000, 100_000] {
            let mut seed = 0x9e37_79b9_7f4a_7c15u64;
            let g = gallery(dim, n, &mut seed);
            let probe = random_unit(&mut seed, dim);
            group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
                b.iter(|| g.best(&probe))
            });
        }
        group.finish();
    }
    // The kernels on 50k identities (the detected one is what `best` uses).
    for dim in [128usize, 1024] {
        let mut group = c.benchmark_group(format!("scan_kernel_50k_{dim}d"));
        group.sample_size(20);
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let g = gallery(dim, 50_000, &mut seed);
        let probe = random_unit(&mut seed, dim);
        let mut kernels = vec![ScanKernel::Baseline];
        if ScanKernel::detect() != ScanKernel::Baseline {
            kernels.push(ScanKernel::detect());
        }
        for k in kernels {
            group.bench_function(k.name(), |b| b.iter(|| g.best_with(&probe, k)));
        }
        group.bench_function("f32_exact", |b| b.iter(|| g.best_exact(&probe)));
        group.finish();
    }
}

criterion_group!(benches, search);
criterion_main!(benches);
