//! Deterministic data for the index tests: a tiny LCG, random and clustered vectors.

/// A 64-bit linear congruential generator (Knuth's MMIX constants).
pub struct Lcg(u64);

impl Lcg {
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0
    }

    /// Uniform in [-1, 1).
    pub fn next_f32(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 23) as f32 - 1.0
    }

    /// Roughly normal (sum of four uniforms), which makes directions roughly uniform.
    pub fn gaussian(&mut self) -> f32 {
        (0..4).map(|_| self.next_f32()).sum::<f32>() * 0.866
    }

    pub fn vector(&mut self, dimensions: usize) -> Vec<f32> {
        (0..dimensions).map(|_| self.gaussian()).collect()
    }
}

/// `n` vectors around `clusters` random centres, each perturbed by `spread` (relative).
pub fn clustered(
    rng: &mut Lcg,
    n: usize,
    dimensions: usize,
    clusters: usize,
    spread: f32,
) -> Vec<Vec<f32>> {
    let centres: Vec<Vec<f32>> = (0..clusters).map(|_| rng.vector(dimensions)).collect();
    (0..n)
        .map(|i| {
            let centre = &centres[(rng.next_u64() as usize ^ i) % clusters];
            centre.iter().map(|c| c + spread * rng.gaussian()).collect()
        })
        .collect()
}
