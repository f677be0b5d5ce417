//! The gallery of enrolled people: exact 1:N search with open-set rejection.
//!
//! Rows are kept twice in memory: as f32 (exact scores) and as int8 with a per-row scale
//! (a quarter of the bytes to scan). A search scans the int8 rows, re-scores the best
//! candidates in f32 and reports the exact cosine of the winner. At rest (`to_bytes`) rows
//! are f16, half the size of f32 and well inside the embedder's own noise.

use std::collections::HashMap;

use half::f16;

use crate::embed::Embedding;
use crate::ModelError;

/// The best gallery entry for a probe.
#[derive(Debug, Clone, PartialEq)]
pub struct Match {
    pub id: String,
    pub name: String,
    /// Cosine similarity in -1..=1.
    pub score: f32,
}

/// Candidates re-scored in f32 after the int8 scan; far more than int8 rounding can reorder.
const RESCORE: usize = 16;
/// Below this many rows the f32 scan is as fast as the int8 one.
const SMALL: usize = 512;
const MAGIC: &[u8; 8] = b"GBGAL\x00\x01\x00";

/// Enrolled embeddings with names.
#[derive(Clone)]
pub struct Gallery {
    dim: usize,
    threshold: f32,
    ids: Vec<String>,
    names: Vec<String>,
    rows: Vec<f32>,
    q8: Vec<i8>,
    q8_scale: Vec<f32>,
    index: HashMap<String, usize>,
}

impl std::fmt::Debug for Gallery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gallery")
            .field("dim", &self.dim)
            .field("len", &self.len())
            .field("threshold", &self.threshold)
            .finish()
    }
}

fn quantize(v: &[f32], out: &mut Vec<i8>) -> f32 {
    let max = v.iter().fold(0f32, |m, x| m.max(x.abs())).max(1e-12);
    let scale = 127.0 / max;
    out.extend(
        v.iter()
            .map(|x| (x * scale).round().clamp(-127.0, 127.0) as i8),
    );
    scale
}

/// Integer dot product in chunks of 64: the compiler widens them to i16 multiply-adds
/// (`pmaddwd` and its AVX2 / AVX-512 forms, NEON `smlal` on the Pi).
#[inline(always)]
fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
    let mut total = 0i32;
    let mut ca = a.chunks_exact(64);
    let mut cb = b.chunks_exact(64);
    for (x, y) in (&mut ca).zip(&mut cb) {
        let mut s = 0i32;
        for i in 0..64 {
            s += i32::from(x[i]) * i32::from(y[i]);
        }
        total += s;
    }
    for (x, y) in ca.remainder().iter().zip(cb.remainder()) {
        total += i32::from(*x) * i32::from(*y);
    }
    total
}

/// The best `RESCORE` rows by approximate score, best first.
struct TopK {
    items: Vec<(f32, usize)>,
}

impl TopK {
    fn new() -> Self {
        TopK {
            items: Vec::with_capacity(RESCORE + 1),
        }
    }

    #[inline(always)]
    fn offer(&mut self, score: f32, row: usize) {
        let full = self.items.len() >= RESCORE;
        if full && !(score > self.items[RESCORE - 1].0) {
            return;
        }
        let pos = self.items.partition_point(|(t, _)| *t >= score);
        self.items.insert(pos, (score, row));
        self.items.truncate(RESCORE);
    }
}

/// Scores every int8 row against the quantised probe; the kernel every variant shares.
#[inline(always)]
fn scan_rows(rows: &[i8], scales: &[f32], q: &[i8], top: &mut TopK) {
    for (r, (row, scale)) in rows.chunks_exact(q.len()).zip(scales).enumerate() {
        top.offer(dot_i8(row, q) as f32 / scale, r);
    }
}

/// Which vector unit the int8 scan uses, decided once per process from the CPU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanKernel {
    /// What the build target guarantees (SSE2 on x86-64, NEON on aarch64).
    Baseline,
    /// x86-64 with AVX2: 256-bit multiply-adds.
    Avx2,
    /// x86-64 with AVX-512 BW: 512-bit multiply-adds.
    Avx512,
}

impl ScanKernel {
    /// The fastest kernel this CPU supports.
    pub fn detect() -> Self {
        static KERNEL: std::sync::OnceLock<ScanKernel> = std::sync::OnceLock::new();
        *KERNEL.get_or_init(|| {
            #[cfg(target_arch = "x86_64")]
            {
                if std::arch::is_x86_feature_detected!("avx512bw") {
                    return ScanKernel::Avx512;
                }
                if std::arch::is_x86_feature_detected!("avx2") {
                    return ScanKernel::Avx2;
                }
            }
            ScanKernel::Baseline
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            ScanKernel::Baseline => "baseline",
            ScanKernel::Avx2 => "avx2",
            ScanKernel::Avx512 => "avx512bw",
        }
    }

    /// Runs the scan with this kernel. A kernel the CPU lacks falls back to the baseline.
    fn scan(self, rows: &[i8], scales: &[f32], q: &[i8], top: &mut TopK) {
        #[cfg(target_arch = "x86_64")]
        {
            if self == ScanKernel::Avx512 && std::arch::is_x86_feature_detected!("avx512bw") {
                return simd::scan_avx512(rows, scales, q, top);
            }
            if self == ScanKernel::Avx2 && std::arch::is_x86_feature_detected!("avx2") {
                return simd::scan_avx2(rows, scales, q, top);
            }
        }
        scan_rows(rows, scales, q, top)
    }
}

/// The same scan compiled for wider x86 vector units, entered only after the CPU was
/// checked for them (the one place the crate needs `unsafe`).
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod simd {
    use super::{scan_rows, TopK};

    #[target_feature(enable = "avx2")]
    fn avx2(rows: &[i8], scales: &[f32], q: &[i8], top: &mut TopK) {
        scan_rows(rows, scales, q, top)
    }

    #[target_feature(enable = "avx512f,avx512bw")]
    fn avx512(rows: &[i8], scales: &[f32], q: &[i8], top: &mut TopK) {
        scan_rows(rows, scales, q, top)
    }

    pub(super) fn scan_avx2(rows: &[i8], scales: &[f32], q: &[i8], top: &mut TopK) {
        debug_assert!(std::arch::is_x86_feature_detected!("avx2"));
        // SAFETY: the only caller checked `is_x86_feature_detected!("avx2")`; the function
        // is ordinary safe Rust compiled with AVX2 enabled.
        unsafe { avx2(rows, scales, q, top) }
    }

    pub(super) fn scan_avx512(rows: &[i8], scales: &[f32], q: &[i8], top: &mut TopK) {
        debug_assert!(std::arch::is_x86_feature_detected!("avx512bw"));
        // SAFETY: the only caller checked `is_x86_feature_detected!("avx512bw")` (which
        // implies AVX-512 F); safe Rust compiled with AVX-512 enabled.
        unsafe { avx512(rows, scales, q, top) }
    }
}

fn dot_f32(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let mut ca = a.chunks_exact(8);
    let mut cb = b.chunks_exact(8);
    for (x, y) in (&mut ca).zip(&mut cb) {
        for i in 0..8 {
            acc[i] += x[i] * y[i];
        }
    }
    let mut s: f32 = acc.iter().sum();
    for (x, y) in ca.remainder().iter().zip(cb.remainder()) {
        s += x * y;
    }
    s
}

impl Gallery {
    /// An empty gallery for `dim`-dimensional embeddings matching at `threshold` (cosine).
    pub fn new(dim: usize, threshold: f32) -> Self {
        Gallery {
            dim,
            threshold,
            ids: Vec::new(),
            names: Vec::new(),
            rows: Vec::new(),
            q8: Vec::new(),
            q8_scale: Vec::new(),
            index: HashMap::new(),
        }
    }

    pub fn dim(&self) -> usize {
        self.dim
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The cosine at or above which `search` reports a match.
    pub fn threshold(&self) -> f32 {
        self.threshold
    }

    pub fn set_threshold(&mut self, threshold: f32) {
        self.threshold = threshold;
    }

    /// Bytes of embedding storage in memory (f32 and int8 rows).
    pub fn memory_bytes(&self) -> usize {
        self.rows.len() * 4 + self.q8.len() + self.q8_scale.len() * 4
    }

    /// Adds or replaces the entry `id`.
    pub fn add(
        &mut self,
        id: impl Into<String>,
        name: impl Into<String>,
        embedding: Embedding,
    ) -> Result<(), ModelError> {
        if embedding.dim() != self.dim {
            return Err(ModelError::Gallery(format!(
                "embedding has {} dimensions, the gallery {}",
                embedding.dim(),
                self.dim
            )));
        }
        let id = id.into();
        let name = name.into();
        if let Some(&row) = self.index.get(&id) {
            self.names[row] = name;
            self.rows[row * self.dim..(row + 1) * self.dim].copy_from_slice(embedding.as_slice());
            let mut q = Vec::with_capacity(self.dim);
            self.q8_scale[row] = quantize(embedding.as_slice(), &mut q);
            self.q8[row * self.dim..(row + 1) * self.dim].copy_from_slice(&q);
            return Ok(());
        }
        self.index.insert(id.clone(), self.ids.len());
        self.ids.push(id);
        self.names.push(name);
        self.rows.extend_from_slice(embedding.as_slice());
        let scale = quantize(embedding.as_slice(), &mut self.q8);
        self.q8_scale.push(scale);
        Ok(())
    }

    /// Removes the entry `id`; returns whether it was there.
    pub fn remove(&mut self, id: &str) -> bool {
        let Some(row) = self.index.remove(id) else {
            return false;
        };
        let last = self.ids.len() - 1;
        let d = self.dim;
        if row != last {
            self.rows.copy_within(last * d..(last + 1) * d, row * d);
            self.q8.copy_within(last * d..(last + 1) * d, row * d);
            self.index.insert(self.ids[last].clone(), row);
        }
        self.ids.swap_remove(row);
        self.names.swap_remove(row);
        self.q8_scale.swap_remove(row);
        self.rows.truncate(last * d);
        self.q8.truncate(last * d);
        true
    }

    /// The best entry if its score reaches the threshold (open-set: strangers get `None`).
    pub fn search(&self, probe: &Embedding) -> Option<Match> {
        self.best(probe).filter(|m| m.score >= self.threshold)
    }

    /// The best entry whatever its score.
    pub fn best(&self, probe: &Embedding) -> Option<Match> {
        if probe.dim() != self.dim || self.is_empty() {
            return None;
        }
        let row = if self.len() <= SMALL {
            self.scan_f32(probe)
        } else {
            self.scan_q8(probe)
        }?;
        Some(self.entry(row, dot_f32(self.row(row), probe.as_slice())))
    }

    /// The best entry by a full f32 scan (the reference the int8 path is tested against).
    pub fn best_exact(&self, probe: &Embedding) -> Option<Match> {
        if probe.dim() != self.dim {
            return None;
        }
        let row = self.scan_f32(probe)?;
        Some(self.entry(row, dot_f32(self.row(row), probe.as_slice())))
    }

    fn row(&self, r: usize) -> &[f32] {
        &self.rows[r * self.dim..(r + 1) * self.dim]
    }

    fn entry(&self, r: usize, score: f32) -> Match {
        Match {
            id: self.ids[r].clone(),
            name: self.names[r].clone(),
            score,
        }
    }

    fn scan_f32(&self, probe: &Embedding) -> Option<usize> {
        let p = probe.as_slice();
        (0..self.len())
            .map(|r| (r, dot_f32(self.row(r), p)))
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(r, _)| r)
    }

    fn scan_q8(&self, probe: &Embedding) -> Option<usize> {
        self.scan_q8_with(probe, ScanKernel::detect())
    }

    /// The int8 scan with a chosen kernel, then the f32 re-score of the best candidates.
    fn scan_q8_with(&self, probe: &Embedding, kernel: ScanKernel) -> Option<usize> {
        let mut q = Vec::with_capacity(self.dim);
        // The probe's own scale is common to every row and does not change the order.
        quantize(probe.as_slice(), &mut q);
        let mut top = TopK::new();
        kernel.scan(&self.q8, &self.q8_scale, &q, &mut top);
        let p = probe.as_slice();
        top.items
            .iter()
            .map(|&(_, r)| (r, dot_f32(self.row(r), p)))
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(r, _)| r)
    }

    /// `best` through a chosen int8 kernel (benchmarks and tests compare the kernels).
    pub fn best_with(&self, probe: &Embedding, kernel: ScanKernel) -> Option<Match> {
        if probe.dim() != self.dim || self.is_empty() {
            return None;
        }
        let row = self.scan_q8_with(probe, kernel)?;
        Some(self.entry(row, dot_f32(self.row(row), probe.as_slice())))
    }

    /// Serialises the gallery (f16 rows). The daemon encrypts these bytes at rest.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(24 + self.len() * (self.dim * 2 + 64));
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&(self.dim as u32).to_le_bytes());
        out.extend_from_slice(&self.threshold.to_le_bytes());
        out.extend_from_slice(&(self.len() as u32).to_le_bytes());
        for r in 0..self.len() {
            for s in [&self.ids[r], &self.names[r]] {
                let b = s.as_bytes();
                let n = b.len().min(u16::MAX as usize);
                out.extend_from_slice(&(n as u16).to_le_bytes());
                out.extend_from_slice(&b[..n]);
            }
            for v in self.row(r) {
                out.extend_from_slice(&f16::from_f32(*v).to_le_bytes());
            }
        }
        out
    }

    /// Parses bytes from `to_bytes`, refusing anything malformed.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ModelError> {
        let mut r = Reader { bytes, pos: 0 };
        if r.take(8)? != MAGIC {
            return Err(ModelError::Gallery("not a gallery (bad magic)".into()));
        }
        let dim = r.u32()? as usize;
        let threshold = f32::from_le_bytes(r.array()?);
        let count = r.u32()? as usize;
        if dim == 0 || dim > 8192 || !threshold.is_finite() {
            return Err(ModelError::Gallery(format!("bad header (dim {dim})")));
        }
        // Each entry needs at least 4 + 2·dim bytes: refuse counts the bytes cannot hold
        // before allocating for them.
        if count > bytes.len() / (4 + 2 * dim) {
            return Err(ModelError::Gallery(
                "entry count larger than the data".into(),
            ));
        }
        let mut g = Gallery::new(dim, threshold);
        let mut values = vec![0f32; dim];
        for _ in 0..count {
            let id = r.string()?;
            let name = r.string()?;
            for v in values.iter_mut() {
                *v = f16::from_le_bytes(r.array()?).to_f32();
            }
            let e = Embedding::new(values.clone())
                .ok_or_else(|| ModelError::Gallery(format!("entry {id}: invalid embedding")))?;
            g.add(id, name, e)?;
        }
        if r.pos != bytes.len() {
            return Err(ModelError::Gallery("trailing bytes".into()));
        }
        Ok(g)
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], ModelError> {
        let end = self.pos.checked_add(n).filter(|e| *e <= self.bytes.len());
        let end = end.ok_or_else(|| ModelError::Gallery("truncated".into()))?;
        let s = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N], ModelError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }
    fn u32(&mut self) -> Result<u32, ModelError> {
        Ok(u32::from_le_bytes(self.array()?))
    }
    fn string(&mut self) -> Result<String, ModelError> {
        let n = u16::from_le_bytes(self.array()?) as usize;
        String::from_utf8(self.take(n)?.to_vec())
            .map_err(|_| ModelError::Gallery("name is not UTF-8".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(seed: u64, dim: usize) -> Embedding {
        // A small deterministic generator; enough spread for search tests.
        let mut x = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let v = (0..dim)
            .map(|_| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                ((x >> 33) as f32 / (1u64 << 31) as f32) - 0.5
            })
            .collect();
        Embedding::new(v).expect("non-zero")
    }

    #[test]
    fn int8_search_agrees_with_exact_search() {
        let mut g = Gallery::new(128, 0.5);
        for i in 0..2000 {
            g.add(format!("id{i}"), format!("n{i}"), unit(i, 128))
                .expect("dim");
        }
        for i in 0..50u64 {
            let probe = unit(10_000 + i, 128);
            assert_eq!(
                g.best(&probe).map(|m| m.id),
                g.best_exact(&probe).map(|m| m.id)
            );
        }
        let m = g.search(&unit(7, 128)).expect("enrolled");
        assert_eq!(m.id, "id7");
        assert!((m.score - 1.0).abs() < 1e-5);
    }

    #[test]
    fn every_int8_kernel_finds_the_exact_best() {
        let mut g = Gallery::new(128, 0.5);
        for i in 0..1500 {
            g.add(format!("id{i}"), format!("n{i}"), unit(i, 128))
                .expect("dim");
        }
        for i in 0..30u64 {
            let probe = unit(20_000 + i, 128);
            let exact = g.best_exact(&probe).map(|m| m.id);
            for k in [ScanKernel::Baseline, ScanKernel::Avx2, ScanKernel::Avx512] {
                assert_eq!(g.best_with(&probe, k).map(|m| m.id), exact, "{}", k.name());
            }
        }
    }

    #[test]
    fn open_set_rejects_strangers() {
        let mut g = Gallery::new(64, 0.9);
        g.add("a", "A", unit(1, 64)).expect("dim");
        assert!(g.search(&unit(2, 64)).is_none());
    }

    #[test]
    fn remove_and_roundtrip() {
        let mut g = Gallery::new(32, 0.6);
        for i in 0..5 {
            g.add(format!("id{i}"), format!("name {i}"), unit(i, 32))
                .expect("dim");
        }
        assert!(g.remove("id1"));
        assert!(!g.remove("id1"));
        assert_eq!(g.len(), 4);
        assert_eq!(g.search(&unit(4, 32)).map(|m| m.id), Some("id4".into()));
        let back = Gallery::from_bytes(&g.to_bytes()).expect("roundtrip");
        assert_eq!(back.len(), 4);
        assert_eq!(back.threshold(), 0.6);
        let m = back.search(&unit(3, 32)).expect("present");
        assert_eq!(m.name, "name 3");
        assert!(m.score > 0.999);
    }

    #[test]
    fn malformed_bytes_are_refused() {
        let g = Gallery::new(16, 0.5);
        let mut bytes = g.to_bytes();
        bytes[16..20].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(Gallery::from_bytes(&bytes).is_err());
        assert!(Gallery::from_bytes(b"").is_err());
        assert!(Gallery::from_bytes(b"GBGAL\x00\x01\x00\x10").is_err());
    }

    #[test]
    fn wrong_dimension_is_an_error() {
        let mut g = Gallery::new(16, 0.5);
        assert!(g.add("x", "X", unit(1, 8)).is_err());
        assert!(g.search(&unit(1, 8)).is_none());
    }
}
