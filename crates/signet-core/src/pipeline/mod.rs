//! The memory pipeline's pure steps: the extraction and decision prompts, their JSON schemas,
//! and tolerant parsers of the model's answers (upstream-facts §8.3). No I/O here: the worker,
//! the job queue and the store writes call these.
//!
//! - [`extraction`]: facts and entities from a memory's text, with upstream's limits and the
//!   escalation check.
//! - [`decision`]: `add | update | delete | none` for one fact against its candidate memories,
//!   and the syntactic contradiction check.

pub mod decision;
pub mod extract;
pub mod extraction;
mod json;
pub mod ledger;
mod service;
pub mod summary;

pub use decision::{Action, Candidate, Decision, DecisionParse};
pub use extract::ExtractWorker;
pub use extraction::{Entity, Extraction, ExtractionLimits, Fact};
pub use ledger::{Metered, Now, system_now};
pub use service::{JobListParams, Mode, Pipeline, PipelineParts};
pub use summary::SummaryWorker;
#[cfg(test)]
mod tests;
