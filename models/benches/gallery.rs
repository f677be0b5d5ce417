//! 1:N gallery search time for galleries of 1k to 100k identities (FaceRes, 1024-d).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use models::{Embedding, Gallery};

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

fn search(c: &mut Criterion) {
    let dim = 1024;
    let mut group = c.benchmark_group("gallery_search");
    group.sample_size(20);
    for n in [1_000usize, 10_000, 50_000, 100_000] {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut g = Gallery::new(dim, 0.58);
        for i in 0..n {
            g.add(
                format!("p{i}"),
                format!("P{i}"),
                random_unit(&mut seed, dim),
            )
            .expect("dim");
        }
        let probe = random_unit(&mut seed, dim);
        group.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter(|| g.best(&probe))
        });
    }
    group.finish();
}

criterion_group!(benches, search);
criterion_main!(benches);
