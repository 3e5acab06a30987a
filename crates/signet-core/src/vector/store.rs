//! Dense storage: every vector in one contiguous `Vec<f32>`, ids in a parallel `Vec`, and a
//! hash table from id to slot.
//!
//! Slots are positions `0..len`. Removal swap-removes: the last vector moves into the hole, so
//! the scan never meets gaps and memory stays proportional to the live count. Whoever keeps
//! slot numbers elsewhere (the HNSW graph) is told which slot moved.
//!
//! The id table is a `hashbrown::HashTable<u32>` holding only slot numbers: lookups hash the
//! key and compare against `ids[slot]`, so each id string is stored once (a
//! `HashMap<String, u32>` would keep a second copy of every id, ~50 bytes a vector).

use std::hash::{BuildHasher, RandomState};

use hashbrown::HashTable;

/// Growth step for the big arrays, as a fraction of their length (1/8). Doubling would leave up
/// to half the vector memory unused; glibc grows large blocks with `mremap`, so small steps do
/// not cost copies.
const GROWTH_DIVISOR: usize = 8;
/// Smallest growth step, in vectors, so small indexes do not reallocate on every insert.
const MIN_GROWTH: usize = 64;

#[derive(Clone)]
pub(crate) struct VectorStore {
    dimensions: usize,
    /// `len * dimensions` floats, unit-length vectors back to back.
    data: Vec<f32>,
    /// The memory id stored in each slot.
    ids: Vec<Box<str>>,
    /// Slot numbers, keyed by the hash of `ids[slot]`.
    slots: HashTable<u32>,
    hasher: RandomState,
}

impl VectorStore {
    pub fn new(dimensions: usize) -> Self {
        Self {
            dimensions,
            data: Vec::new(),
            ids: Vec::new(),
            slots: HashTable::new(),
            hasher: RandomState::new(),
        }
    }

    pub fn dimensions(&self) -> usize {
        self.dimensions
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Makes room for `additional` more vectors without further reallocation.
    pub fn reserve(&mut self, additional: usize) {
        self.data.reserve_exact(additional * self.dimensions);
        self.ids.reserve_exact(additional);
        let (ids, hasher) = (&self.ids, &self.hasher);
        self.slots
            .reserve(additional, |&s| hasher.hash_one(&*ids[s as usize]));
    }

    pub fn slot_of(&self, id: &str) -> Option<u32> {
        let hash = self.hasher.hash_one(id);
        self.slots
            .find(hash, |&s| &*self.ids[s as usize] == id)
            .copied()
    }

    pub fn id(&self, slot: u32) -> &str {
        &self.ids[slot as usize]
    }

    #[inline]
    pub fn vector(&self, slot: u32) -> &[f32] {
        let start = slot as usize * self.dimensions;
        &self.data[start..start + self.dimensions]
    }

    /// All vectors, `dimensions` floats each, in slot order.
    pub fn data(&self) -> &[f32] {
        &self.data
    }

    /// Overwrites the vector in an existing slot.
    pub fn set(&mut self, slot: u32, unit: &[f32]) {
        let start = slot as usize * self.dimensions;
        self.data[start..start + self.dimensions].copy_from_slice(unit);
    }

    /// Appends a new id (which must not be present) and returns its slot.
    pub fn push(&mut self, id: &str, unit: &[f32]) -> u32 {
        let slot = self.push_id(id);
        self.data.extend_from_slice(unit);
        slot
    }

    /// Adds `id` (growing every array when full) and returns its slot; the caller appends the
    /// vector.
    fn push_id(&mut self, id: &str) -> u32 {
        debug_assert!(self.slot_of(id).is_none());
        if self.ids.len() == self.ids.capacity() {
            self.reserve((self.ids.len() / GROWTH_DIVISOR).max(MIN_GROWTH));
        }
        let slot = u32::try_from(self.ids.len()).expect("more than u32::MAX vectors");
        self.ids.push(id.into());
        let hash = self.hasher.hash_one(id);
        let (ids, hasher) = (&self.ids, &self.hasher);
        self.slots
            .insert_unique(hash, slot, |&s| hasher.hash_one(&*ids[s as usize]));
        slot
    }

    /// Appends a new id with `vector * scale` (one copy, straight into the store); returns
    /// its slot.
    pub fn push_scaled(&mut self, id: &str, vector: &[f32], scale: f32) -> u32 {
        debug_assert_eq!(vector.len(), self.dimensions);
        let slot = self.push_id(id);
        self.data.extend(vector.iter().map(|x| x * scale));
        slot
    }

    /// Removes the vector in `slot` by moving the last one into it. Returns the slot the moved
    /// vector came from, or `None` when `slot` was the last one.
    pub fn swap_remove(&mut self, slot: u32) -> Option<u32> {
        let last = (self.ids.len() - 1) as u32;
        let hash = self.hasher.hash_one(&*self.ids[slot as usize]);
        if let Ok(entry) = self.slots.find_entry(hash, |&s| s == slot) {
            entry.remove();
        }
        let dim = self.dimensions;
        if slot != last {
            let (head, tail) = self.data.split_at_mut(last as usize * dim);
            head[slot as usize * dim..][..dim].copy_from_slice(&tail[..dim]);
            let moved_hash = self.hasher.hash_one(&*self.ids[last as usize]);
            if let Some(s) = self.slots.find_mut(moved_hash, |&s| s == last) {
                *s = slot;
            }
        }
        self.data.truncate(last as usize * dim);
        self.ids.swap_remove(slot as usize);
        (slot != last).then_some(last)
    }

    /// Heap bytes held: vector data, id strings and the id table, by capacity.
    pub fn memory_bytes(&self) -> usize {
        let id_text: usize = self.ids.iter().map(|id| id.len()).sum();
        self.data.capacity() * size_of::<f32>()
            + self.ids.capacity() * size_of::<Box<str>>()
            + id_text
            + self.slots.allocation_size()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store_with(ids: &[&str]) -> VectorStore {
        let mut store = VectorStore::new(2);
        for (i, id) in ids.iter().enumerate() {
            store.push(id, &[i as f32, -(i as f32)]);
        }
        store
    }

    #[test]
    fn swap_remove_moves_the_last_vector_and_its_id() {
        let mut store = store_with(&["a", "b", "c", "d"]);
        assert_eq!(store.swap_remove(1), Some(3));
        assert_eq!(store.len(), 3);
        assert_eq!(store.slot_of("b"), None);
        assert_eq!(store.slot_of("d"), Some(1));
        assert_eq!(store.vector(1), &[3.0, -3.0]);
        assert_eq!(store.id(1), "d");
        assert_eq!(store.slot_of("a"), Some(0));
        assert_eq!(store.slot_of("c"), Some(2));
        assert_eq!(store.data().len(), 6);
    }

    #[test]
    fn swap_remove_of_the_last_slot_moves_nothing() {
        let mut store = store_with(&["a", "b"]);
        assert_eq!(store.swap_remove(1), None);
        assert_eq!(store.swap_remove(0), None);
        assert_eq!(store.len(), 0);
        assert_eq!(store.slot_of("a"), None);
    }

    #[test]
    fn growth_stays_close_to_the_live_size() {
        let mut store = VectorStore::new(8);
        for i in 0..10_000 {
            store.push(&format!("id-{i}"), &[0.5; 8]);
        }
        let raw = 10_000 * 8 * size_of::<f32>();
        assert!(store.data.capacity() * size_of::<f32>() <= raw + raw / 8 + 64 * 8 * 4);
    }
}
