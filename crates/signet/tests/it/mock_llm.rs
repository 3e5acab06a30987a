//! The mock Ollama server of `signet bench pipeline` (one copy, included from the binary's
//! sources), run on a runtime of its own so the synchronous tests can use it.

#[path = "../../src/bench/mock_llm.rs"]
mod shared;

pub use shared::{DeleteRule, FACT_PREFIX, Kind, MockOptions, sentences};

/// A mock LLM and the runtime serving it; both stop when dropped.
pub struct Mock {
    llm: shared::MockLlm,
    // Dropped after `llm`: the server task is aborted first, then its runtime shut down.
    _rt: tokio::runtime::Runtime,
}

impl Mock {
    pub fn start(options: MockOptions) -> Self {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime for the mock LLM");
        let llm = rt
            .block_on(shared::MockLlm::start(options))
            .expect("start the mock LLM");
        Self { llm, _rt: rt }
    }

    pub fn endpoint(&self) -> String {
        self.llm.endpoint()
    }

    /// `/api/chat` requests received so far.
    pub fn requests(&self) -> usize {
        self.llm.requests()
    }

    pub fn count(&self, kind: Kind) -> usize {
        self.llm.count(kind)
    }
}
