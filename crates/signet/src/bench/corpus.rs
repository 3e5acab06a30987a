//! Synthetic memories and queries: sentences over a fixed vocabulary with a Zipf-like skew,
//! deterministic for a given seed, so runs compare.

const WORDS: &[&str] = &[
    "user",
    "prefers",
    "project",
    "deploy",
    "server",
    "database",
    "backup",
    "release",
    "meeting",
    "team",
    "editor",
    "keyboard",
    "coffee",
    "invoice",
    "billing",
    "customer",
    "ticket",
    "latency",
    "memory",
    "cache",
    "index",
    "query",
    "schema",
    "migration",
    "rust",
    "python",
    "docker",
    "kubernetes",
    "cluster",
    "node",
    "network",
    "proxy",
    "token",
    "secret",
    "rotation",
    "monday",
    "friday",
    "weekly",
    "report",
    "budget",
    "roadmap",
    "beta",
    "launch",
    "feature",
    "bug",
    "crash",
    "timeout",
    "retry",
    "queue",
    "worker",
    "pipeline",
    "model",
    "embedding",
    "vector",
    "search",
    "recall",
    "agent",
    "session",
    "prompt",
    "summary",
    "document",
    "wiki",
    "design",
    "review",
    "approval",
    "security",
    "audit",
    "compliance",
    "vendor",
    "contract",
    "renewal",
    "office",
    "tokyo",
    "berlin",
    "london",
    "remote",
    "laptop",
    "monitor",
    "battery",
    "update",
    "version",
    "config",
    "yaml",
    "json",
    "logs",
    "metrics",
    "alert",
    "oncall",
    "pager",
    "incident",
    "postmortem",
    "latte",
    "tea",
    "lunch",
    "birthday",
    "holiday",
    "travel",
    "flight",
    "hotel",
    "train",
    "bicycle",
    "garden",
    "music",
    "guitar",
    "piano",
    "novel",
    "movie",
    "podcast",
    "running",
    "swimming",
    "chess",
];

/// A deterministic pseudo-random generator (xorshift64*).
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A word index skewed towards the front of the vocabulary.
    fn word(&mut self) -> &'static str {
        let a = (self.next() % WORDS.len() as u64) as usize;
        let b = (self.next() % WORDS.len() as u64) as usize;
        WORDS[a.min(b)]
    }
}

/// The `i`-th synthetic memory: 8-16 words plus a unique marker.
pub fn memory(rng: &mut Rng, i: usize) -> String {
    let n = 8 + (rng.next() % 9) as usize;
    let words: Vec<&str> = (0..n).map(|_| rng.word()).collect();
    format!("{} (note {i})", words.join(" "))
}

/// A 2-3 word query.
pub fn query(rng: &mut Rng) -> String {
    let n = 2 + (rng.next() % 2) as usize;
    (0..n).map(|_| rng.word()).collect::<Vec<_>>().join(" ")
}
