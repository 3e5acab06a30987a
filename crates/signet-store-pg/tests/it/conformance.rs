//! The storage conformance suite against PostgreSQL: one test per check, each on a fresh
//! scratch schema. The list is signet-model's `conformance_tests!` list, written out here so
//! that a test without a server can skip (saying so) instead of failing where
//! `SIGNET_REQUIRE_ALL` is unset; `the_whole_suite_is_listed` keeps the two lists equal.

use super::support;

macro_rules! pg_checks {
    ($($check:ident,)*) => {
        $(
            #[test]
            fn $check() {
                let Some(harness) = support::fresh() else { return };
                signet_model::conformance::run(harness, signet_model::conformance::$check);
            }
        )*
        /// The checks listed here, by name.
        const LISTED: &[&str] = &[$(stringify!($check)),*];
    };
}

/// Every check of signet-model's suite runs here, and nothing else.
#[test]
fn the_whole_suite_is_listed() {
    let suite = include_str!("../../../signet-model/src/conformance/mod.rs");
    let start = suite
        .find("macro_rules! conformance_tests")
        .expect("the macro");
    let end = suite[start..]
        .find("(@checks $fresh:expr;")
        .expect("its list's end")
        + start;
    let mut want: Vec<&str> = suite[start..end]
        .lines()
        .filter_map(|l| l.trim().strip_suffix(','))
        .filter(|n| {
            !n.is_empty()
                && n.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        })
        .collect();
    let mut listed = LISTED.to_vec();
    want.sort_unstable();
    listed.sort_unstable();
    assert_eq!(
        listed, want,
        "the PostgreSQL list and conformance_tests! differ"
    );
}

pg_checks!(
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
    forget_candidates_by_ids_keep_the_request_order,
    forget_candidates_by_keywords_are_ranked,
    forget_candidates_by_filters_put_pinned_and_important_first,
    legacy_search_returns_rows_by_keyword_or_by_filter,
    embeddings_round_trip_bit_for_bit,
    saving_a_vector_for_changed_content_is_refused,
    a_content_edit_drops_the_stale_vector,
    embedding_gaps_and_stats_follow_the_model,
    orphan_vectors_are_counted_and_cleaned,
    a_deleted_memory_keeps_its_vector_for_recover,
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
    diagnostics_snapshot_counts_memories_tombstones_and_jobs,
    repair_audit_rows_record_the_last_sweep,
    fts_counts_cover_every_row_and_survive_a_rebuild,
    purge_tombstones_removes_only_expired_tombstones,
    prune_history_removes_only_old_rows,
    dead_jobs_are_requeued_up_to_the_limit,
    cold_counts_sum_the_archive_by_reason,
    chunk_groups_are_pruned_in_batches_with_their_mentions,
    singleton_prune_keeps_pinned_structured_and_busier_entities,
    skipped_summaries_are_requeued_and_summarised_ones_kept,
);
