//! Optional int8 codes for a fast first pass of the exact scan.
//!
//! Each vector is stored a second time as `i8` codes with one `f32` scale (`max |x| / 127`).
//! The first pass scores the query's codes against every vector's codes (a quarter of the
//! memory traffic of the f32 scan) and keeps `rescore_factor * k` candidates; those are then
//! rescored exactly in f32, so the scores returned are always exact.
//!
//! It costs 25% more memory than the f32 vectors alone, which is why it is off by default
//! (see `IndexConfig::int8_prefilter`).

use super::kernel::dot;
use super::store::VectorStore;
use super::topk::{Scored, TopK};

/// Lanes of the integer accumulator array (vectorises to `pmaddwd` on SSE2).
const LANES: usize = 32;

#[derive(Clone)]
pub(crate) struct Int8Codes {
    dimensions: usize,
    /// `len * dimensions` codes, parallel to the store's slots.
    codes: Vec<i8>,
    /// One dequantisation scale per slot.
    scales: Vec<f32>,
}

impl Int8Codes {
    /// Codes for every vector already in `store`.
    pub fn build(store: &VectorStore) -> Self {
        let mut codes = Self {
            dimensions: store.dimensions(),
            codes: Vec::with_capacity(store.len() * store.dimensions()),
            scales: Vec::with_capacity(store.len()),
        };
        for slot in 0..store.len() as u32 {
            codes.push(store.vector(slot));
        }
        codes
    }

    pub fn reserve(&mut self, additional: usize) {
        self.codes.reserve_exact(additional * self.dimensions);
        self.scales.reserve_exact(additional);
    }

    pub fn push(&mut self, unit: &[f32]) {
        if self.scales.len() == self.scales.capacity() {
            self.reserve((self.scales.len() / 8).max(64));
        }
        let start = self.codes.len();
        self.codes.resize(start + self.dimensions, 0);
        self.scales.push(quantize(unit, &mut self.codes[start..]));
    }

    pub fn set(&mut self, slot: u32, unit: &[f32]) {
        let start = slot as usize * self.dimensions;
        self.scales[slot as usize] =
            quantize(unit, &mut self.codes[start..start + self.dimensions]);
    }

    /// Mirrors [`VectorStore::swap_remove`].
    pub fn swap_remove(&mut self, slot: u32) {
        let dim = self.dimensions;
        let last = self.scales.len() - 1;
        if slot as usize != last {
            self.codes
                .copy_within(last * dim..(last + 1) * dim, slot as usize * dim);
        }
        self.codes.truncate(last * dim);
        self.scales.swap_remove(slot as usize);
    }

    /// The best `k` slots passing `accept`: an int8 pass keeps `k * rescore_factor`
    /// candidates, which are then rescored exactly against the f32 vectors.
    pub fn search(
        &self,
        store: &VectorStore,
        query: &[f32],
        k: usize,
        rescore_factor: usize,
        accept: &mut impl FnMut(u32) -> bool,
    ) -> Vec<Scored> {
        let mut query_codes = vec![0i8; self.dimensions];
        let query_scale = quantize(query, &mut query_codes);
        let mut first = TopK::new(k.saturating_mul(rescore_factor.max(1)));
        let rows = self.codes.chunks_exact(self.dimensions).zip(&self.scales);
        for (slot, (codes, &scale)) in rows.enumerate() {
            let score = dot_i8_fast(&query_codes, codes) as f32 * (scale * query_scale);
            if first.admits(score) && accept(slot as u32) {
                first.push(Scored {
                    score,
                    index: slot as u32,
                });
            }
        }
        let mut exact = TopK::new(k);
        for c in first.into_sorted() {
            let score = dot(query, store.vector(c.index));
            if exact.admits(score) {
                exact.push(Scored {
                    score,
                    index: c.index,
                });
            }
        }
        exact.into_sorted()
    }

    pub fn memory_bytes(&self) -> usize {
        self.codes.capacity() + self.scales.capacity() * size_of::<f32>()
    }

    pub fn len(&self) -> usize {
        self.scales.len()
    }

    /// The codes of the vector in `slot`.
    #[inline]
    pub fn row(&self, slot: u32) -> &[i8] {
        let start = slot as usize * self.dimensions;
        &self.codes[start..start + self.dimensions]
    }

    /// The approximate similarity of a prepared query to the vector in `slot`.
    #[inline]
    pub fn score(&self, query: &QueryCodes, slot: u32) -> f32 {
        let dot = dot_i8_fast(&query.codes, self.row(slot));
        dot as f32 * (self.scales[slot as usize] * query.scale)
    }

    /// The approximate similarity of the vectors in slots `a` and `b`.
    #[inline]
    pub fn pair(&self, a: u32, b: u32) -> f32 {
        let dot = dot_i8_fast(self.row(a), self.row(b));
        dot as f32 * (self.scales[a as usize] * self.scales[b as usize])
    }
}

/// A query's int8 codes and scale, computed once per search.
pub(crate) struct QueryCodes {
    codes: Vec<i8>,
    scale: f32,
}

impl QueryCodes {
    pub fn new(query: &[f32]) -> Self {
        let mut codes = vec![0i8; query.len()];
        let scale = quantize(query, &mut codes);
        Self { codes, scale }
    }
}

/// Writes the codes of `v` into `out` and returns the scale that maps them back.
fn quantize(v: &[f32], out: &mut [i8]) -> f32 {
    let max = v.iter().fold(0.0f32, |m, x| m.max(x.abs()));
    if max == 0.0 {
        out.fill(0);
        return 0.0;
    }
    let scale = max / 127.0;
    for (o, x) in out.iter_mut().zip(v) {
        *o = (x / scale).round().clamp(-127.0, 127.0) as i8;
    }
    scale
}

/// [`dot_i8`] under [`super::kernel::fast`].
struct DotI8<'a>(&'a [i8], &'a [i8]);

impl pulp::WithSimd for DotI8<'_> {
    type Output = i32;
    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _: S) -> i32 {
        dot_i8(self.0, self.1)
    }
}

/// Integer dot product of two code slices, for the best instruction set.
#[inline]
fn dot_i8_fast(a: &[i8], b: &[i8]) -> i32 {
    super::kernel::fast(DotI8(a, b))
}

/// Integer dot product of two code slices.
#[inline(always)]
fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
    let mut acc = [0i32; LANES];
    let (a_chunks, b_chunks) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let tail: i32 = a_chunks
        .remainder()
        .iter()
        .zip(b_chunks.remainder())
        .map(|(&x, &y)| i32::from(x) * i32::from(y))
        .sum();
    for (x, y) in a_chunks.zip(b_chunks) {
        for i in 0..LANES {
            acc[i] += i32::from(x[i]) * i32::from(y[i]);
        }
    }
    acc.iter().sum::<i32>() + tail
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_reconstruct_the_vector_closely() {
        let v = [0.5f32, -0.25, 0.125, 0.0, -0.5];
        let mut codes = [0i8; 5];
        let scale = quantize(&v, &mut codes);
        assert_eq!(codes, [127, -64, 32, 0, -127]);
        for (c, x) in codes.iter().zip(v) {
            assert!((f32::from(*c) * scale - x).abs() <= scale / 2.0);
        }
    }

    #[test]
    fn integer_dot_handles_tails() {
        let a: Vec<i8> = (0..70).map(|i| (i % 19) as i8 - 9).collect();
        let b: Vec<i8> = (0..70).map(|i| (i % 7) as i8 - 3).collect();
        let naive: i32 = a
            .iter()
            .zip(&b)
            .map(|(x, y)| i32::from(*x) * i32::from(*y))
            .sum();
        assert_eq!(dot_i8(&a, &b), naive);
    }
}
