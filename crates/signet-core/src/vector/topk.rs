//! Scored candidates and the bounded min-heap that keeps the best `k` of a scan.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

/// A similarity score for a slot (exact scan) or a graph node (HNSW). Ordered by score, then by
/// index so that ties break deterministically.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Scored {
    pub score: f32,
    pub index: u32,
}

impl Eq for Scored {}

impl Ord for Scored {
    fn cmp(&self, other: &Self) -> Ordering {
        self.score
            .total_cmp(&other.score)
            // A lower index counts as better, so equal scores come out in insertion order.
            .then_with(|| other.index.cmp(&self.index))
    }
}

impl PartialOrd for Scored {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// The best `k` candidates seen so far. The worst of them sits on top of the heap, so deciding
/// whether a new score gets in is one comparison.
pub(crate) struct TopK {
    k: usize,
    heap: BinaryHeap<Reverse<Scored>>,
}

impl TopK {
    pub fn new(k: usize) -> Self {
        Self {
            k,
            heap: BinaryHeap::with_capacity(k + 1),
        }
    }

    /// True when `score` would enter the set: it is not full yet, or `score` beats its worst.
    #[inline]
    pub fn admits(&self, score: f32) -> bool {
        match self.heap.peek() {
            _ if self.heap.len() < self.k => true,
            Some(Reverse(worst)) => score > worst.score,
            None => false,
        }
    }

    /// Adds a candidate, dropping the worst if the set is over `k`.
    pub fn push(&mut self, candidate: Scored) {
        if self.k == 0 {
            return;
        }
        self.heap.push(Reverse(candidate));
        if self.heap.len() > self.k {
            self.heap.pop();
        }
    }

    /// The candidates, best first.
    pub fn into_sorted(self) -> Vec<Scored> {
        // `Reverse` sorts ascending into best-first.
        self.heap
            .into_sorted_vec()
            .into_iter()
            .map(|r| r.0)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_best_k_in_descending_order() {
        let mut top = TopK::new(3);
        for (i, s) in [0.1, 0.9, -0.5, 0.7, 0.3, 0.8].into_iter().enumerate() {
            if top.admits(s) {
                top.push(Scored {
                    score: s,
                    index: i as u32,
                });
            }
        }
        let got: Vec<u32> = top.into_sorted().iter().map(|c| c.index).collect();
        assert_eq!(got, vec![1, 5, 3]);
    }

    #[test]
    fn zero_k_keeps_nothing() {
        let mut top = TopK::new(0);
        assert!(!top.admits(1.0));
        top.push(Scored {
            score: 1.0,
            index: 0,
        });
        assert!(top.into_sorted().is_empty());
    }
}
