//! What the HNSW graph scores with: the f32 vectors, or their int8 codes when the segment keeps
//! them.
//!
//! A graph walk reads scattered vectors, so its cost is mostly memory traffic: 1,536 bytes (24
//! cache lines) a 384-d f32 vector against 384 bytes (6 lines) of int8 codes. With codes the
//! walk and the build score in int8; a search then rescores its best candidates in f32, so the
//! scores it returns are exact (see [`super::hnsw::Hnsw::search`]).

use super::kernel::dot;
use super::quantized::{Int8Codes, QueryCodes};
use super::store::VectorStore;

/// Bytes in a cache line.
const LINE: usize = 64;

/// The vectors a graph is built and searched over.
#[derive(Clone, Copy)]
pub(crate) struct Space<'a> {
    pub store: &'a VectorStore,
    /// int8 codes parallel to `store`: when present, walks and builds score with them.
    pub codes: Option<&'a Int8Codes>,
}

/// A query prepared for a [`Space`]: the f32 vector and, with codes, its own codes.
pub(crate) struct Probe<'a> {
    pub vector: &'a [f32],
    codes: Option<QueryCodes>,
}

impl<'a> Space<'a> {
    pub fn new(store: &'a VectorStore, codes: Option<&'a Int8Codes>) -> Self {
        debug_assert!(codes.is_none_or(|c| c.len() == store.len()));
        Self { store, codes }
    }

    /// Prepares `vector` (unit length) for scoring against this space.
    pub fn probe<'q>(&self, vector: &'q [f32]) -> Probe<'q> {
        Probe {
            vector,
            codes: self.codes.map(|_| QueryCodes::new(vector)),
        }
    }

    /// The query's (approximate, with codes) similarity to the vector in `slot`.
    #[inline]
    pub fn score(&self, probe: &Probe<'_>, slot: u32) -> f32 {
        match (self.codes, &probe.codes) {
            (Some(codes), Some(q)) => codes.score(q, slot),
            _ => dot(probe.vector, self.store.vector(slot)),
        }
    }

    /// The (approximate, with codes) similarity of two stored vectors.
    #[inline]
    pub fn pair(&self, a: u32, b: u32) -> f32 {
        match self.codes {
            Some(codes) => codes.pair(a, b),
            None => dot(self.store.vector(a), self.store.vector(b)),
        }
    }

    /// The exact f32 similarity of the query to the vector in `slot`.
    #[inline]
    pub fn exact(&self, probe: &Probe<'_>, slot: u32) -> f32 {
        dot(probe.vector, self.store.vector(slot))
    }

    /// Reads one word of every cache line of the rows in `slots`, so the CPU has all their
    /// memory requests in flight at once instead of meeting one row's misses at a time while
    /// scoring (a software prefetch without `unsafe`: the loads are independent, so they
    /// overlap; the rows are then in cache when scored).
    #[inline]
    pub fn warm(&self, slots: impl Iterator<Item = u32>) {
        let mut sink = 0u32;
        match self.codes {
            Some(codes) => {
                for slot in slots {
                    for line in codes.row(slot).iter().step_by(LINE) {
                        sink ^= *line as u32;
                    }
                }
            }
            None => {
                for slot in slots {
                    for line in self.store.vector(slot).iter().step_by(LINE / 4) {
                        sink ^= line.to_bits();
                    }
                }
            }
        }
        std::hint::black_box(sink);
    }

    /// True when scores are approximate and need rescoring.
    pub fn is_quantized(&self) -> bool {
        self.codes.is_some()
    }
}
