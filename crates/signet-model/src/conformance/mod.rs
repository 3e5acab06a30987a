//! The conformance suite: the contract of [`MemoryStore`], [`MaintenanceStore`],
//! [`DocumentStore`] (with its [`JobQueue`](crate::JobQueue)) and [`PipelineStore`] as
//! behaviour, one `pub fn` per rule, for every backend to pass (feature `conformance`).
//!
//! Each check takes a fresh, empty store (`&dyn MemoryStore`, plus `&dyn MaintenanceStore` on
//! the same database where it needs one, plus [`Fixtures`] for the one set-up the traits cannot
//! do) and panics, naming the rule, when the store breaks it. The checks record every time
//! relative to a fixed instant, so none depends on the clock; ids and content hashes are made
//! up by the suite, as the traits allow.
//!
//! A backend runs the whole suite with [`conformance_tests!`](crate::conformance_tests), given
//! an expression that makes a fresh [`Harness`]: one `#[test]` per check, named after it, so a
//! failure names the rule (SQLite: `crates/signet-store/tests/it/conformance.rs`).
//!
//! Adding a rule: write the `pub fn` in the module of its area and add its name to the list in
//! [`conformance_tests!`](crate::conformance_tests) (a unit test fails until it is listed).

mod candidates;
mod documents;
mod embeddings;
mod feedback;
mod graph_repairs;
mod lifecycle;
mod maintenance;
mod mutate;
mod pipeline;
mod read;
mod remember;
mod search;
mod sessions;
mod support;

/// A plain memory and its insert, for the tests of code built on a store (as the suite uses them).
pub use support::{insert, memory};

pub use candidates::*;
pub use documents::*;
pub use embeddings::*;
pub use feedback::*;
pub use graph_repairs::*;
pub use lifecycle::*;
pub use maintenance::*;
pub use mutate::*;
pub use pipeline::*;
pub use read::*;
pub use remember::*;
pub use search::*;
pub use sessions::*;

use crate::{DocumentStore, Lifecycle, MaintenanceStore, MemoryStore, PipelineStore};

/// A fresh, empty database under test, seen through both store traits. It owns whatever the
/// backend needs to live for one check (a temporary directory, a scratch schema) and cleans
/// it up when dropped.
pub trait Harness: Fixtures {
    /// The database as a [`MemoryStore`].
    fn memory(&self) -> &dyn MemoryStore;
    /// The same database as a [`MaintenanceStore`].
    fn maintenance(&self) -> &dyn MaintenanceStore;
    /// The same database's [`Lifecycle`].
    fn lifecycle(&self) -> &dyn Lifecycle;
    /// The same database as a [`DocumentStore`].
    fn documents(&self) -> &dyn DocumentStore;
    /// The same database as a [`PipelineStore`].
    fn pipeline(&self) -> &dyn PipelineStore;
}

/// Set-up the store traits have no method for (the pipeline's job lifecycle is not part of
/// them yet), done by the backend's own means. Used only by the checks that need it.
pub trait Fixtures {
    /// Marks every queued memory job dead at `now` (`failed_at` and `updated_at`), as the
    /// pipeline does after a job's last failed attempt.
    fn kill_jobs(&self, now: &str);
    /// Records that the session `session_key` was given the memory `memory_id` at `now` (a
    /// `session_memories` row with no agent rating yet), as the hooks will.
    fn give_session_memory(&self, session_key: &str, memory_id: &str, now: &str);
    /// The agent rating and rating count of that row (`None`: no such row).
    fn session_feedback(&self, session_key: &str, memory_id: &str) -> Option<(Option<f64>, i64)>;
    /// The `summary_jobs` row `id` as a job, with its status (`None`: no such row).
    fn summary_job(&self, id: &str) -> Option<(crate::sessions::SummaryJob, String)>;
    /// Writes a continuity checkpoint, as the continuity tracker will.
    fn give_checkpoint(&self, c: &crate::sessions::Checkpoint);
    /// The `archived_reason` of each `memories_cold` row of `memory_id`, oldest first.
    fn cold_reasons(&self, memory_id: &str) -> Vec<String>;
    /// The `mentions` and `entity_type` of the entity whose canonical name is `canonical`.
    fn entity(&self, canonical: &str) -> Option<(i64, String)>;
    /// The depth-0 `session_summaries` row of `session_key`: its id, content and token count,
    /// and the memory ids linked to it (sorted).
    fn session_summary(&self, session_key: &str) -> Option<(String, String, i64, Vec<String>)>;
    /// Pins the entity whose canonical name is `canonical`, as the knowledge API will.
    fn pin_entity(&self, canonical: &str);
    /// Gives the entity `canonical` an `entity_aspects` row and, with `attribute`, an
    /// `entity_attributes` row under it, as structural classification will.
    fn give_aspect(&self, canonical: &str, attribute: bool);
    /// Writes a stub `entity_attributes` row (no aspect) on the memory `memory_id`, as
    /// upstream's structural backfill does.
    fn give_stub_attribute(&self, memory_id: &str);
    /// Writes a `memories_cold` row of `memory_id` archived at `archived_at` for `reason`.
    fn give_cold(
        &self,
        memory_id: &str,
        reason: Option<&str>,
        archived_at: &str,
        content: &str,
        row_json: Option<&str>,
    );
}

/// A check of any of the signatures (memory store; plus maintenance store; plus
/// fixtures; memory store and lifecycle; memory store and document store; memory store,
/// pipeline store and fixtures; or the whole harness), applied to one harness. `Views` only
/// tells the signatures apart.
#[doc(hidden)]
pub trait Check<Views> {
    fn check(self, harness: &dyn Harness);
}

#[doc(hidden)]
pub struct MemoryView;
#[doc(hidden)]
pub struct MaintenanceView;
#[doc(hidden)]
pub struct FixturesView;
#[doc(hidden)]
pub struct LifecycleView;
#[doc(hidden)]
pub struct DocumentView;
#[doc(hidden)]
pub struct PipelineView;
#[doc(hidden)]
pub struct HarnessView;

impl<F: FnOnce(&dyn MemoryStore)> Check<MemoryView> for F {
    fn check(self, harness: &dyn Harness) {
        self(harness.memory())
    }
}

impl<F: FnOnce(&dyn MemoryStore, &dyn MaintenanceStore)> Check<MaintenanceView> for F {
    fn check(self, harness: &dyn Harness) {
        self(harness.memory(), harness.maintenance())
    }
}

impl<F: FnOnce(&dyn MemoryStore, &dyn MaintenanceStore, &dyn Fixtures)> Check<FixturesView> for F {
    fn check(self, harness: &dyn Harness) {
        self(harness.memory(), harness.maintenance(), harness)
    }
}

impl<F: FnOnce(&dyn MemoryStore, &dyn Lifecycle)> Check<LifecycleView> for F {
    fn check(self, harness: &dyn Harness) {
        self(harness.memory(), harness.lifecycle())
    }
}

impl<F: FnOnce(&dyn MemoryStore, &dyn DocumentStore)> Check<DocumentView> for F {
    fn check(self, harness: &dyn Harness) {
        self(harness.memory(), harness.documents())
    }
}

impl<F: FnOnce(&dyn MemoryStore, &dyn PipelineStore, &dyn Fixtures)> Check<PipelineView> for F {
    fn check(self, harness: &dyn Harness) {
        self(harness.memory(), harness.pipeline(), harness)
    }
}

impl<F: FnOnce(&dyn Harness)> Check<HarnessView> for F {
    fn check(self, harness: &dyn Harness) {
        self(harness)
    }
}

/// Runs `check` on `harness` (what each test of [`conformance_tests!`](crate::conformance_tests)
/// does).
#[doc(hidden)]
pub fn run<H: Harness, V>(harness: H, check: impl Check<V>) {
    check.check(&harness);
}

/// One `#[test]` per conformance check, each on a fresh store made by `$fresh` (an expression
/// of a type implementing [`Harness`], evaluated once per test):
///
/// ```text
/// signet_model::conformance_tests!(fresh_store());
/// ```
#[macro_export]
macro_rules! conformance_tests {
    ($fresh:expr) => {
        $crate::conformance_tests!(@checks $fresh;
            remember_inserts_a_live_memory_with_a_created_history_row,
            remember_dedups_by_content_hash_among_live_memories,
            remember_dedups_by_source_before_content,
            remember_ignores_deleted_memories_when_deduping,
            remember_enqueues_extraction_only_when_asked,
            remember_chunks_inserts_a_group_and_skips_live_content,
            live_detail_has_the_upstream_keys_and_hides_deleted_memories,
            history_is_oldest_first_limited_and_none_for_unknown_ids,
            list_is_newest_first_paged_and_scoped_with_matching_stats,
            list_keeps_to_the_type_asked_for,
            stats_count_live_embedded_and_critical_memories,
            recall_rows_keep_the_requested_order_and_skip_deleted,
            touch_accessed_counts_accesses,
            distinct_who_is_sorted_distinct_and_live_only,
            ops_counts_signals_and_scope_follow_the_writes,
            modify_applies_the_patch_and_bumps_the_version,
            a_stale_if_version_conflicts,
            modify_without_a_change_is_a_no_op,
            modify_refuses_content_a_live_memory_holds,
            forget_of_a_pinned_memory_needs_force_and_a_non_pipeline_actor,
            forget_soft_deletes_and_recover_restores_within_the_window,
            recover_after_the_window_is_refused,
            recover_is_refused_while_a_live_twin_holds_the_content,
            mutations_of_unknown_ids_are_not_found,
            mutations_refuse_the_wrong_state_before_the_version,
            the_version_guard_comes_before_the_pinned_rules,
            keyword_search_ranks_better_matches_first,
            keyword_search_matches_phrases_case_insensitively,
            keyword_query_connectives_combine_with_the_documented_precedence,
            keyword_search_applies_every_filter,
            filter_ids_applies_every_filter,
            tag_filters_match_substrings_literally,
            deleted_memories_are_never_returned,
            recall_rows_take_positions_only_as_hints,
            forget_candidates_by_ids_keep_the_request_order,
            forget_candidates_by_keywords_are_ranked,
            forget_candidates_by_filters_put_pinned_and_important_first,
            legacy_search_returns_rows_by_keyword_or_by_filter,
            embeddings_round_trip_bit_for_bit,
            saving_a_vector_for_changed_content_is_refused,
            a_content_edit_drops_the_stale_vector,
            embedding_gaps_and_stats_follow_the_model,
            a_pass_over_embedding_gaps_reaches_every_gap_once,
            a_bounded_pass_sees_only_memories_inserted_since,
            orphan_vectors_are_counted_and_cleaned,
            a_deleted_memory_keeps_its_vector_for_recover,
            diagnostics_snapshot_counts_memories_tombstones_and_jobs,
            repair_audit_rows_record_the_last_sweep,
            fts_counts_cover_every_row_and_survive_a_rebuild,
            purge_tombstones_removes_only_expired_tombstones,
            prune_history_removes_only_old_rows,
            dead_jobs_are_requeued_up_to_the_limit,
            a_fresh_store_reports_its_migration_and_a_clean_integrity_check,
            housekeeping_and_the_flush_keep_every_write,
            feedback_is_a_running_mean_on_the_sessions_rows,
            session_memories_are_recorded_once_per_session_and_memory,
            a_queued_summary_is_a_pending_job,
            a_pending_summary_takes_the_sessions_later_transcript,
            checkpoints_by_session_or_project_are_newest_first,
            documents_are_created_with_a_job_and_deduplicated,
            documents_are_listed_newest_first_by_status,
            the_ingest_write_is_whole_and_happens_once,
            leases_expire_failures_back_off_and_leases_recover,
            a_dead_ingest_job_fails_its_document,
            deleting_a_document_soft_deletes_its_chunks,
            an_extraction_write_is_applied_once,
            a_re_leased_job_refuses_the_old_attempts_write,
            a_released_job_keeps_its_attempt,
            a_lease_interrupted_on_the_last_attempt_dies_on_recovery,
            orphaned_leases_are_released_with_their_attempt,
            an_add_dedups_on_a_live_content_hash,
            an_update_goes_through_the_guard_and_archives_the_old_row,
            a_delete_of_a_pinned_target_is_refused_and_changes_nothing,
            audit_rows_land_on_the_source_memory,
            a_shadow_write_changes_no_memory,
            a_dead_extraction_job_fails_its_memory,
            summary_jobs_are_leased_applied_once_failed_and_recovered,
            the_graph_counts_mentions_and_links_live_memories,
            the_ledger_sums_calls_since_a_time,
            job_counts_cover_both_queues,
            jobs_are_listed_newest_first_by_status_and_type,
            cold_counts_sum_the_archive_by_reason,
            chunk_groups_are_pruned_in_batches_with_their_mentions,
            singleton_prune_keeps_pinned_structured_and_busier_entities,
            skipped_summaries_are_requeued_and_summarised_ones_kept,
        );
    };
    (@checks $fresh:expr; $($check:ident,)*) => {$(
        #[test]
        fn $check() {
            $crate::conformance::run($fresh, $crate::conformance::$check);
        }
    )*};
}

#[cfg(test)]
mod tests {
    /// The sources of the check modules, whose every `pub fn` is a check.
    const MODULES: [&str; 13] = [
        include_str!("candidates.rs"),
        include_str!("documents.rs"),
        include_str!("embeddings.rs"),
        include_str!("feedback.rs"),
        include_str!("graph_repairs.rs"),
        include_str!("lifecycle.rs"),
        include_str!("maintenance.rs"),
        include_str!("mutate.rs"),
        include_str!("pipeline.rs"),
        include_str!("read.rs"),
        include_str!("remember.rs"),
        include_str!("search.rs"),
        include_str!("sessions.rs"),
    ];

    #[test]
    fn every_check_is_listed_in_the_macro() {
        let this = include_str!("mod.rs");
        let start = this
            .find("macro_rules! conformance_tests")
            .expect("the macro");
        let end = this.find("#[cfg(test)]").expect("the tests");
        let listed = &this[start..end];
        let mut checks = 0;
        for source in MODULES {
            for line in source.lines() {
                let Some(rest) = line.strip_prefix("pub fn ") else {
                    continue;
                };
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                let entry = format!("            {name},\n");
                assert!(
                    listed.contains(&entry),
                    "{name} is not in conformance_tests!"
                );
                checks += 1;
            }
        }
        let entries = listed
            .lines()
            .filter_map(|l| l.strip_prefix("            ")?.strip_suffix(','))
            .filter(|n| !n.is_empty() && n.chars().all(|c| c.is_alphanumeric() || c == '_'))
            .count();
        assert_eq!(entries, checks, "the macro lists only checks, each once");
    }
}
