//! A compact HNSW graph (Malkov & Yashunin) over the vectors of a [`VectorStore`].
//!
//! The graph holds no vectors of its own: node `n` reads its vector from store slot
//! `node_slot[n]`, so the ANN index costs only its links (~`(2M + 1) * 4` bytes a node) on top
//! of the raw vectors. Node numbers are stable while slots move (the store swap-removes), hence
//! the two maps `node_slot` / `slot_node`.
//!
//! Removal repairs the graph locally — every neighbour that linked to the removed node is
//! re-linked over its old links plus the removed node's links, with the selection heuristic —
//! then leaves a tombstone: the node keeps its number, loses its links and is skipped by every
//! traversal. The owner rebuilds the graph once tombstones pile up ([`Hnsw::tombstones`]).
//!
//! Searching takes `&self` and allocates its own visited set, so concurrent readers never
//! contend.

use std::collections::{BinaryHeap, HashMap};

use super::space::{Probe, Space};
use super::topk::{Scored, TopK};

/// `node_slot` value of a removed node.
const TOMBSTONE: u32 = u32::MAX;
/// Highest layer a node may be drawn for (the level distribution makes >8 vanishingly rare).
const MAX_LEVEL: usize = 16;

/// Build parameters.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HnswParams {
    /// Links a node keeps on the upper layers; layer 0 keeps `2 * m`.
    pub m: usize,
    /// Candidate list size while inserting (higher: better graph, slower build).
    pub ef_construction: usize,
    /// Seed for the level draws, so builds are reproducible.
    pub seed: u64,
}

/// What one search asks of the graph.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SearchParams {
    /// Results wanted.
    pub k: usize,
    /// Beam width (at least `k` is used).
    pub ef: usize,
    /// With int8 codes: beam entries rescored in f32 (at least `k`).
    pub rescore: usize,
    /// Most vectors the walk may score before giving up.
    pub budget: usize,
}

/// Why a search stopped without an answer.
#[derive(Debug, PartialEq)]
pub(crate) struct BudgetExhausted;

#[derive(Clone)]
pub(crate) struct Hnsw {
    params: HnswParams,
    /// Layer-0 links: `m0 + 1` words a node, a count then up to `m0` node numbers.
    links0: Vec<u32>,
    /// Links on layers 1.. for the few nodes drawn above layer 0: `m + 1` words a layer.
    upper: HashMap<u32, Box<[u32]>>,
    /// The top layer of each node.
    levels: Vec<u8>,
    /// Store slot of each node, or `TOMBSTONE`.
    node_slot: Vec<u32>,
    /// Node of each store slot (parallel to the store).
    slot_node: Vec<u32>,
    /// Where every search starts: a live node on the top layer.
    entry: Option<u32>,
    top_level: usize,
    tombstones: usize,
    rng: SplitMix64,
    /// Scratch visited set reused by inserts and repairs (searches use their own).
    scratch: Visited,
}

impl Hnsw {
    pub fn new(params: HnswParams) -> Self {
        Self {
            params,
            links0: Vec::new(),
            upper: HashMap::new(),
            levels: Vec::new(),
            node_slot: Vec::new(),
            slot_node: Vec::new(),
            entry: None,
            top_level: 0,
            tombstones: 0,
            rng: SplitMix64(params.seed),
            scratch: Visited::default(),
        }
    }

    /// Builds a graph over every vector of `space`, in slot order.
    pub fn build(params: HnswParams, space: Space<'_>) -> Self {
        let mut graph = Self::with_room(params, space.store.len());
        for slot in 0..space.store.len() as u32 {
            graph.insert(space, slot);
        }
        graph
    }

    fn with_room(params: HnswParams, nodes: usize) -> Self {
        let mut graph = Self::new(params);
        graph.links0.reserve_exact(nodes * (graph.m0() + 1));
        graph.levels.reserve_exact(nodes);
        graph.node_slot.reserve_exact(nodes);
        graph.slot_node.reserve_exact(nodes);
        graph
    }

    fn m0(&self) -> usize {
        2 * self.params.m
    }

    fn capacity(&self, layer: usize) -> usize {
        if layer == 0 { self.m0() } else { self.params.m }
    }

    /// Removed nodes still occupying a node number.
    pub fn tombstones(&self) -> usize {
        self.tombstones
    }

    fn links(&self, node: u32, layer: usize) -> &[u32] {
        let words: &[u32] = if layer == 0 {
            let stride = self.m0() + 1;
            &self.links0[node as usize * stride..][..stride]
        } else {
            let stride = self.params.m + 1;
            match self.upper.get(&node) {
                Some(all) => &all[(layer - 1) * stride..][..stride],
                None => return &[],
            }
        };
        &words[1..1 + words[0] as usize]
    }

    fn set_links(&mut self, node: u32, layer: usize, to: &[u32]) {
        let stride = self.capacity(layer) + 1;
        let words: &mut [u32] = if layer == 0 {
            &mut self.links0[node as usize * stride..][..stride]
        } else {
            let all = self
                .upper
                .get_mut(&node)
                .expect("upper links of a high node");
            &mut all[(layer - 1) * stride..][..stride]
        };
        debug_assert!(to.len() < stride);
        words[0] = to.len() as u32;
        words[1..1 + to.len()].copy_from_slice(to);
    }

    /// The store slot of a live node, `None` for a tombstone.
    #[inline]
    fn slot(&self, node: u32) -> Option<u32> {
        match self.node_slot[node as usize] {
            TOMBSTONE => None,
            slot => Some(slot),
        }
    }

    /// Adds the vector in `slot` as a new node. The slot is either new (one past the last) or
    /// an existing slot whose old node was just removed (an upsert).
    pub fn insert(&mut self, space: Space<'_>, slot: u32) {
        let node = self.node_slot.len() as u32;
        let level = self.draw_level();
        self.node_slot.push(slot);
        if slot as usize >= self.slot_node.len() {
            self.slot_node.resize(slot as usize + 1, TOMBSTONE);
        }
        self.slot_node[slot as usize] = node;
        self.levels.push(level as u8);
        let stride0 = self.m0() + 1;
        if self.links0.len() + stride0 > self.links0.capacity() {
            self.links0
                .reserve_exact((self.links0.len() / 8).max(stride0 * 64));
        }
        self.links0.resize(self.links0.len() + stride0, 0);
        if level > 0 {
            let words = level * (self.params.m + 1);
            self.upper.insert(node, vec![0; words].into_boxed_slice());
        }
        let Some(entry) = self.entry else {
            self.entry = Some(node);
            self.top_level = level;
            return;
        };
        let query = space.probe(space.store.vector(slot));
        let mut visited = std::mem::take(&mut self.scratch);
        visited.ensure(self.node_slot.len());
        let mut nearest = self.greedy_descent(space, &query, entry, level + 1);
        let mut unlimited = usize::MAX;
        for layer in (0..=level.min(self.top_level)).rev() {
            let beam = Beam {
                query: &query,
                starts: &nearest,
                ef: self.params.ef_construction,
                layer,
            };
            let found = self.search_layer(space, beam, &mut visited, &mut |_| true, &mut unlimited);
            visited.clear();
            let found = found.unwrap_or_default();
            let chosen = self.select_neighbours(space, &found, self.params.m);
            self.set_links(node, layer, &chosen);
            for &other in &chosen {
                self.connect(space, other, node, layer);
            }
            nearest = found;
        }
        self.scratch = visited;
        if level > self.top_level {
            self.entry = Some(node);
            self.top_level = level;
        }
    }

    /// From `entry`, walks greedily down to layer `stop` and returns the closest node found.
    fn greedy_descent(
        &self,
        space: Space<'_>,
        query: &Probe<'_>,
        entry: u32,
        stop: usize,
    ) -> Vec<Scored> {
        let score = self
            .slot(entry)
            .map_or(f32::NEG_INFINITY, |s| space.score(query, s));
        let mut best = Scored {
            score,
            index: entry,
        };
        for layer in (stop..=self.top_level).rev() {
            loop {
                let mut moved = false;
                for &next in self.links(best.index, layer) {
                    if let Some(slot) = self.slot(next) {
                        let score = space.score(query, slot);
                        if score > best.score {
                            best = Scored { score, index: next };
                            moved = true;
                        }
                    }
                }
                if !moved {
                    break;
                }
            }
        }
        vec![best]
    }

    /// Beam search on one layer from `beam.starts`. Keeps the best `beam.ef` nodes that pass
    /// `accept` (the others are still walked through). Returns them best first, or
    /// `BudgetExhausted` once more than `budget` vectors have been scored.
    fn search_layer(
        &self,
        space: Space<'_>,
        beam: Beam<'_>,
        visited: &mut Visited,
        accept: &mut impl FnMut(u32) -> bool,
        budget: &mut usize,
    ) -> Result<Vec<Scored>, BudgetExhausted> {
        let Beam {
            query,
            starts,
            ef,
            layer,
        } = beam;
        let mut frontier: BinaryHeap<Scored> = BinaryHeap::with_capacity(ef * 2);
        let mut found = TopK::new(ef);
        for &start in starts {
            if visited.insert(start.index) && start.score.is_finite() {
                frontier.push(start);
                if accept(self.node_slot[start.index as usize]) {
                    found.push(start);
                }
            }
        }
        // The unvisited live neighbours of the node being expanded, as (node, slot).
        let mut batch: Vec<(u32, u32)> = Vec::with_capacity(self.m0());
        while let Some(current) = frontier.pop() {
            if !found.admits(current.score) {
                break; // Full, and nothing left in the frontier can improve it.
            }
            batch.clear();
            for &next in self.links(current.index, layer) {
                if visited.insert(next)
                    && let Some(slot) = self.slot(next)
                {
                    batch.push((next, slot));
                }
            }
            // Scattered rows are the walk's cost: start every row's loads before scoring any.
            space.warm(batch.iter().map(|&(_, slot)| slot));
            for &(next, slot) in &batch {
                if *budget == 0 {
                    return Err(BudgetExhausted);
                }
                *budget -= 1;
                let score = space.score(query, slot);
                if found.admits(score) {
                    let candidate = Scored { score, index: next };
                    frontier.push(candidate);
                    if accept(slot) {
                        found.push(candidate);
                    }
                }
            }
        }
        Ok(found.into_sorted())
    }

    /// The selection heuristic: walks `candidates` best first and keeps one only if it is closer
    /// to the base than to every node already kept, which spreads links across directions.
    fn select_neighbours(&self, space: Space<'_>, candidates: &[Scored], max: usize) -> Vec<u32> {
        let mut kept: Vec<(u32, u32)> = Vec::with_capacity(max);
        for c in candidates {
            if kept.len() == max {
                break;
            }
            let Some(slot) = self.slot(c.index) else {
                continue;
            };
            if kept.iter().all(|&(_, k)| space.pair(slot, k) < c.score) {
                kept.push((c.index, slot));
            }
        }
        kept.into_iter().map(|(n, _)| n).collect()
    }

    /// Adds the link `from -> to` on `layer`, re-selecting `from`'s links when full.
    fn connect(&mut self, space: Space<'_>, from: u32, to: u32, layer: usize) {
        let current = self.links(from, layer);
        if current.contains(&to) {
            return;
        }
        if current.len() < self.capacity(layer) {
            let mut next = current.to_vec();
            next.retain(|&n| self.node_slot[n as usize] != TOMBSTONE);
            next.push(to);
            self.set_links(from, layer, &next);
            return;
        }
        let mut pool = current.to_vec();
        pool.push(to);
        let chosen = self.reselect(space, from, &pool, layer);
        self.set_links(from, layer, &chosen);
    }

    /// Scores `pool` against `base`'s vector and runs the heuristic over it.
    fn reselect(&self, space: Space<'_>, base: u32, pool: &[u32], layer: usize) -> Vec<u32> {
        let Some(base_slot) = self.slot(base) else {
            return Vec::new();
        };
        let mut scored: Vec<Scored> = pool
            .iter()
            .filter(|&&n| n != base)
            .filter_map(|&n| {
                let slot = self.slot(n)?;
                Some(Scored {
                    score: space.pair(base_slot, slot),
                    index: n,
                })
            })
            .collect();
        scored.sort_unstable_by(|a, b| b.cmp(a));
        scored.dedup_by_key(|s| s.index);
        self.select_neighbours(space, &scored, self.capacity(layer))
    }

    /// Unlinks the node in `slot` (about to leave the store) and repairs its neighbourhood.
    pub fn remove(&mut self, space: Space<'_>, slot: u32) {
        let node = self.slot_node[slot as usize];
        let level = self.levels[node as usize] as usize;
        for layer in 0..=level {
            let orphaned = self.links(node, layer).to_vec();
            for &other in &orphaned {
                if self.node_slot[other as usize] == TOMBSTONE
                    || !self.links(other, layer).contains(&node)
                {
                    continue;
                }
                let mut pool: Vec<u32> = self.links(other, layer).to_vec();
                pool.extend(&orphaned);
                pool.retain(|&n| n != node);
                let chosen = self.reselect(space, other, &pool, layer);
                self.set_links(other, layer, &chosen);
            }
            self.set_links(node, layer, &[]);
        }
        self.upper.remove(&node);
        self.node_slot[node as usize] = TOMBSTONE;
        self.tombstones += 1;
        if self.entry == Some(node) {
            self.pick_entry();
        }
    }

    /// Chooses a new entry point: a live node of the highest level.
    fn pick_entry(&mut self) {
        let best = (0..self.levels.len())
            .filter(|&n| self.node_slot[n] != TOMBSTONE)
            .max_by_key(|&n| self.levels[n]);
        self.entry = best.map(|n| n as u32);
        self.top_level = best.map_or(0, |n| self.levels[n] as usize);
    }

    /// Mirrors [`VectorStore::swap_remove`]: the vector of slot `moved_from` now lives in `slot`.
    pub fn on_swap_remove(&mut self, slot: u32, moved_from: Option<u32>) {
        self.slot_node.swap_remove(slot as usize);
        if moved_from.is_some() {
            let node = self.slot_node[slot as usize];
            self.node_slot[node as usize] = slot;
        }
    }

    /// The best `k` store slots passing `accept`, scored against `query` (unit length).
    /// `BudgetExhausted` when more than `budget` vectors would be scored, or fewer than `k`
    /// nodes were found (the caller then scans exactly).
    ///
    /// When `space` has int8 codes the walk scores with them, and the best `rescore` of the
    /// beam (at least `k`) are rescored in f32: the scores returned are exact.
    pub fn search(
        &self,
        space: Space<'_>,
        query: &[f32],
        search: SearchParams,
        accept: &mut impl FnMut(u32) -> bool,
    ) -> Result<Vec<Scored>, BudgetExhausted> {
        let Some(entry) = self.entry else {
            return Ok(Vec::new());
        };
        let SearchParams {
            k,
            ef,
            rescore,
            mut budget,
        } = search;
        let probe = space.probe(query);
        let starts = self.greedy_descent(space, &probe, entry, 1);
        let mut visited = Visited::default();
        visited.ensure(self.node_slot.len());
        let beam = Beam {
            query: &probe,
            starts: &starts,
            ef: ef.max(k),
            layer: 0,
        };
        let mut found = self.search_layer(space, beam, &mut visited, accept, &mut budget)?;
        if found.len() < k {
            return Err(BudgetExhausted);
        }
        for s in &mut found {
            s.index = self.node_slot[s.index as usize];
        }
        if space.is_quantized() {
            found.truncate(rescore.max(k));
            for s in &mut found {
                s.score = space.exact(&probe, s.index);
            }
            found.sort_unstable_by(|a, b| b.cmp(a));
        }
        found.truncate(k);
        Ok(found)
    }

    /// Heap bytes held by the graph.
    pub fn memory_bytes(&self) -> usize {
        let stride = self.params.m + 1;
        let upper: usize = self.upper.values().map(|b| b.len() * 4).sum::<usize>()
            + self.upper.capacity() * (size_of::<(u32, Box<[u32]>)>() + 1);
        debug_assert!(self.upper.values().all(|b| b.len() % stride == 0));
        self.links0.capacity() * 4
            + upper
            + self.levels.capacity()
            + (self.node_slot.capacity() + self.slot_node.capacity()) * 4
            + self.scratch.memory_bytes()
    }

    fn draw_level(&mut self) -> usize {
        let uniform = (self.rng.next() >> 11) as f64 / (1u64 << 53) as f64;
        let ml = 1.0 / (self.params.m as f64).ln();
        let level = (-(1.0 - uniform).ln() * ml) as usize;
        level.min(MAX_LEVEL)
    }
}

/// What one beam search over one layer looks for, from where, and how widely.
#[derive(Clone, Copy)]
struct Beam<'a> {
    /// The query (unit length), prepared for the space.
    query: &'a Probe<'a>,
    /// Where the search starts (the layer above's nearest nodes).
    starts: &'a [Scored],
    /// How many candidates the beam keeps.
    ef: usize,
    layer: usize,
}

/// A bitset of visited nodes that clears only the words it touched.
#[derive(Default, Clone)]
struct Visited {
    words: Vec<u64>,
    touched: Vec<u32>,
}

impl Visited {
    fn ensure(&mut self, nodes: usize) {
        let words = nodes.div_ceil(64);
        if self.words.len() < words {
            self.words.resize(words, 0);
        }
    }

    /// Marks `node`; `false` when it was already marked.
    #[inline]
    fn insert(&mut self, node: u32) -> bool {
        let (word, bit) = ((node / 64) as usize, 1u64 << (node % 64));
        let w = &mut self.words[word];
        if *w & bit != 0 {
            return false;
        }
        if *w == 0 {
            self.touched.push(word as u32);
        }
        *w |= bit;
        true
    }

    fn clear(&mut self) {
        for word in self.touched.drain(..) {
            self.words[word as usize] = 0;
        }
    }

    fn memory_bytes(&self) -> usize {
        self.words.capacity() * 8 + self.touched.capacity() * 4
    }
}

/// The SplitMix64 generator: tiny, fast, and good enough for level draws.
#[derive(Clone)]
pub(crate) struct SplitMix64(pub u64);

impl SplitMix64 {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}
