//! Checks of documents and the job queue: creation with its job and dedup, listing, the
//! one-transaction ingest write (idempotent), leases, backoff and dead jobs, deletion.

use super::support::{MINUTE, T0, at, insert, is_live, memory, operator, pipeline, version};
use crate::MemoryStore;
use crate::documents::{
    CreatedDocument, DOCUMENT_INGEST, DocumentQuery, DocumentStore, FailedJob, IngestWrite,
    Ingested, LeasePolicy, NewDocument,
};
use crate::memories::NewMemory;

/// A text document `id` with job `job-<id>`, created at `T0` moved by `ms`.
fn text(id: &str, content: &str, ms: i64) -> NewDocument {
    NewDocument {
        id: id.to_owned(),
        source_type: "text".to_owned(),
        source_url: None,
        content_type: Some("text/plain".to_owned()),
        content_hash: Some(super::support::hash(content)),
        title: Some(format!("title of {id}")),
        raw_content: Some(content.to_owned()),
        connector_id: None,
        metadata_json: None,
        job_id: format!("job-{id}"),
        created_at: at(ms),
    }
}

/// A URL document.
fn url(id: &str, url: &str, ms: i64) -> NewDocument {
    NewDocument {
        source_type: "url".to_owned(),
        source_url: Some(url.to_owned()),
        content_hash: None,
        raw_content: None,
        ..text(id, "", ms)
    }
}

/// A chunk memory of document `doc`.
fn chunk(doc: &str, n: usize, content: &str) -> NewMemory {
    NewMemory {
        memory_type: "document_chunk".to_owned(),
        who: doc.to_owned(),
        why: "document_ingest".to_owned(),
        importance: 0.3,
        source_type: "document".to_owned(),
        source_id: Some(doc.to_owned()),
        tags: Some(format!("document:title of {doc}")),
        ..memory(&format!("{doc}-chunk-{n}"), content)
    }
}

fn create(docs: &dyn DocumentStore, d: &NewDocument) -> CreatedDocument {
    docs.create_document(d).expect("create_document")
}

fn lease(docs: &dyn DocumentStore, ms: i64) -> Option<crate::documents::LeasedJob> {
    docs.lease_job(DOCUMENT_INGEST, &at(ms), &LeasePolicy::default())
        .expect("lease_job")
}

fn write(doc: &str, job: &str, chunks: Vec<NewMemory>, ms: i64) -> IngestWrite {
    IngestWrite {
        document_id: doc.to_owned(),
        job_id: job.to_owned(),
        chunks,
        content_hash: None,
        content_type: None,
        title: None,
        actor: pipeline(),
        now: at(ms),
    }
}

/// A new document is `queued` with one pending `document_ingest` job; another with the same
/// URL or content is the first one (`Deduplicated`, nothing written) until the first fails or
/// is deleted.
pub fn documents_are_created_with_a_job_and_deduplicated(
    _: &dyn MemoryStore,
    docs: &dyn DocumentStore,
) {
    let first = create(docs, &url("d1", "https://example.com/a", 0));
    let queued = CreatedDocument::Queued {
        id: "d1".into(),
        job_id: "job-d1".into(),
    };
    assert_eq!(first, queued);
    let row = docs.document("d1").expect("document").expect("d1 exists");
    assert_eq!((row.status.as_str(), row.chunk_count), ("queued", 0));
    assert_eq!(row.source_url.as_deref(), Some("https://example.com/a"));
    let dup = CreatedDocument::Deduplicated {
        id: "d1".into(),
        status: "queued".into(),
    };
    assert_eq!(create(docs, &url("d2", "https://example.com/a", 1)), dup);
    assert!(docs.document("d2").expect("document").is_none());
    create(docs, &text("t1", "the same words", 2));
    let by_content = create(docs, &text("t2", "the same words", 3));
    assert!(matches!(by_content, CreatedDocument::Deduplicated { id, .. } if id == "t1"));
    let job = lease(docs, 10).expect("the oldest job");
    assert_eq!(
        (job.id.as_str(), job.document_id.as_deref()),
        ("job-d1", Some("d1"))
    );
    assert_eq!((job.job_type.as_str(), job.attempts), (DOCUMENT_INGEST, 1));
    docs.delete_document("d1", "gone", &operator(), &at(20))
        .expect("delete");
    let again = create(docs, &url("d3", "https://example.com/a", 30));
    assert!(matches!(again, CreatedDocument::Queued { id, .. } if id == "d3"));
}

/// Listing is newest first, filtered by status, paged, with the total of the filter.
pub fn documents_are_listed_newest_first_by_status(_: &dyn MemoryStore, docs: &dyn DocumentStore) {
    for (i, id) in ["a", "b", "c"].iter().enumerate() {
        create(docs, &text(id, &format!("content {id}"), i as i64 * MINUTE));
    }
    docs.delete_document("b", "r", &operator(), &at(10 * MINUTE))
        .expect("delete");
    let all = DocumentQuery {
        status: None,
        limit: 2,
        offset: 0,
    };
    let (rows, total) = docs.documents(&all).expect("documents");
    let ids: Vec<&str> = rows.iter().map(|d| d.id.as_str()).collect();
    assert_eq!((ids, total), (vec!["c", "b"], 3));
    let (rows, _) = docs
        .documents(&DocumentQuery { offset: 2, ..all })
        .expect("page 2");
    assert_eq!(rows.len(), 1);
    let queued = DocumentQuery {
        status: Some("queued".into()),
        limit: 50,
        offset: 0,
    };
    let (rows, total) = docs.documents(&queued).expect("queued");
    let ids: Vec<&str> = rows.iter().map(|d| d.id.as_str()).collect();
    assert_eq!((ids, total), (vec!["c", "a"], 2));
}

/// The ingest write inserts the chunks (skipping content a live memory holds) as live
/// `created` memories linked by chunk index, marks the document done with its counts and
/// completes the job, all at once; a second write of the same document changes nothing.
pub fn the_ingest_write_is_whole_and_happens_once(
    memories: &dyn MemoryStore,
    docs: &dyn DocumentStore,
) {
    insert(
        memories,
        memory("old", "a chunk someone remembered already"),
    );
    create(docs, &text("doc", "the document", 0));
    let job = lease(docs, MINUTE).expect("job");
    let chunks = vec![
        chunk("doc", 0, "the first chunk of the document"),
        chunk("doc", 1, "a chunk someone remembered already"),
        chunk("doc", 2, "the last chunk of the document"),
    ];
    let w = write("doc", &job.id, chunks, 2 * MINUTE);
    let done = docs.write_ingest(&w).expect("write_ingest");
    assert_eq!(
        done,
        Ingested::Written {
            chunks: 3,
            memories: 2
        }
    );
    let row = docs.document("doc").expect("document").expect("doc");
    assert_eq!(row.status, "done");
    assert_eq!((row.chunk_count, row.memory_count), (3, 2));
    assert_eq!(row.completed_at.as_deref(), Some(at(2 * MINUTE).as_str()));
    let listed = docs.document_chunks("doc").expect("chunks").expect("doc");
    let got: Vec<(&str, i64, &str)> = listed
        .iter()
        .map(|c| (c.id.as_str(), c.chunk_index, c.memory_type.as_str()))
        .collect();
    let want = vec![
        ("doc-chunk-0", 0, "document_chunk"),
        ("doc-chunk-2", 2, "document_chunk"),
    ];
    assert_eq!(got, want);
    let detail = memories
        .live_detail("doc-chunk-0")
        .expect("detail")
        .expect("live");
    assert_eq!(detail["source_type"], "document");
    assert_eq!(detail["source_id"], "doc");
    let history = memories.history("doc-chunk-2", 10).expect("history");
    let events: Vec<String> = history
        .expect("rows")
        .into_iter()
        .map(|e| e.event)
        .collect();
    assert_eq!(events, ["created"]);
    assert!(lease(docs, 3 * MINUTE).is_none(), "the job is completed");
    let again = docs.write_ingest(&w).expect("second write");
    assert_eq!(again, Ingested::AlreadySettled);
    assert_eq!(
        docs.document_chunks("doc")
            .expect("chunks")
            .map(|c| c.len()),
        Some(2)
    );
    assert!(docs.document_chunks("nope").expect("chunks").is_none());
}

/// A lease holds a job until it is older than the lease timeout; a failed attempt waits its
/// backoff; stale leases are recovered as pending jobs with their attempts, and a lease
/// interrupted on the last attempt as a dead job (its document failed).
pub fn leases_expire_failures_back_off_and_leases_recover(
    _: &dyn MemoryStore,
    docs: &dyn DocumentStore,
) {
    let policy = LeasePolicy::default();
    create(docs, &text("d", "content", 0));
    assert_eq!(lease(docs, 0).map(|j| j.attempts), Some(1));
    assert!(
        lease(docs, policy.lease_ms - 1).is_none(),
        "held by its lease"
    );
    let taken = lease(docs, policy.lease_ms + 1).expect("a stale lease is taken over");
    assert_eq!(taken.attempts, 2);
    let failed_at = policy.lease_ms + 2;
    let outcome = docs
        .fail_job(&taken.id, "boom", &at(failed_at))
        .expect("fail_job");
    assert_eq!(outcome, FailedJob::Retrying);
    let wait = policy.backoff_base_ms * 2;
    assert!(lease(docs, failed_at + wait - 1).is_none(), "backing off");
    let third = lease(docs, failed_at + wait).expect("after the backoff");
    assert_eq!(third.attempts, 3);
    let before = at(failed_at + wait + 1);
    let recovered = docs
        .recover_leases(DOCUMENT_INGEST, &before, &before)
        .expect("recover");
    assert_eq!(recovered, 1);
    let unknown = docs.fail_job("nope", "x", &before).expect("fail unknown");
    assert_eq!(unknown, FailedJob::Unknown);
    assert!(
        lease(docs, failed_at + wait + 2).is_none(),
        "no attempts are left"
    );
    let doc = docs.document("d").expect("document").expect("exists");
    assert_eq!(doc.status, "failed", "the last attempt was interrupted");
    assert!(
        !docs
            .complete_job(&third.id, None, &before)
            .expect("complete"),
        "a dead job is not completed"
    );
}

/// The last failed attempt kills the job and fails the document with the error; a failed
/// document no longer dedups.
pub fn a_dead_ingest_job_fails_its_document(_: &dyn MemoryStore, docs: &dyn DocumentStore) {
    create(docs, &url("d", "https://example.com/x", 0));
    let mut last = FailedJob::Unknown;
    for attempt in 0..3 {
        let t = attempt * 10 * MINUTE;
        let job = lease(docs, t).expect("job");
        last = docs
            .fail_ingest("d", &job.id, "fetch refused", &at(t + 1))
            .expect("fail_ingest");
        if attempt < 2 {
            assert_eq!(last, FailedJob::Retrying);
            let row = docs.document("d").expect("doc").expect("d");
            assert_eq!(
                (row.status.as_str(), row.error.as_deref()),
                ("queued", Some("fetch refused"))
            );
        }
    }
    assert_eq!(last, FailedJob::Dead);
    let row = docs.document("d").expect("doc").expect("d");
    assert_eq!(row.status, "failed");
    assert_eq!(row.error.as_deref(), Some("fetch refused"));
    assert!(lease(docs, 100 * MINUTE).is_none());
    let again = create(docs, &url("e", "https://example.com/x", MINUTE));
    assert!(matches!(again, CreatedDocument::Queued { .. }));
}

/// Deleting a document soft-deletes its live chunks (version + 1, a `deleted` history row
/// with the reason `Document deleted: <reason>`) and marks it deleted; the chunks leave the
/// listing; a second delete removes nothing; an unknown id is `None`.
pub fn deleting_a_document_soft_deletes_its_chunks(
    memories: &dyn MemoryStore,
    docs: &dyn DocumentStore,
) {
    create(docs, &text("doc", "body", 0));
    let job = lease(docs, 1).expect("job");
    let chunks = vec![chunk("doc", 0, "chunk zero"), chunk("doc", 1, "chunk one")];
    docs.write_ingest(&write("doc", &job.id, chunks, 2))
        .expect("ingest");
    let v0 = version(memories, "doc-chunk-0");
    let deleted = docs
        .delete_document("doc", "outdated", &operator(), &at(MINUTE))
        .expect("delete")
        .expect("doc exists");
    assert_eq!(deleted.memory_ids, ["doc-chunk-0", "doc-chunk-1"]);
    assert!(!is_live(memories, "doc-chunk-0"));
    assert_eq!(version(memories, "doc-chunk-0"), v0 + 1);
    let history = memories
        .history("doc-chunk-1", 10)
        .expect("history")
        .expect("rows");
    let last = history.last().expect("a row");
    assert_eq!(last.event, "deleted");
    assert_eq!(last.reason.as_deref(), Some("Document deleted: outdated"));
    assert_eq!(last.old_content.as_deref(), Some("chunk one"));
    let row = docs.document("doc").expect("doc").expect("doc");
    assert_eq!(row.status, "deleted");
    assert_eq!(
        docs.document_chunks("doc")
            .expect("chunks")
            .map(|c| c.len()),
        Some(0)
    );
    let again = docs
        .delete_document("doc", "again", &operator(), &at(2 * MINUTE))
        .expect("again")
        .expect("doc exists");
    assert!(again.memory_ids.is_empty());
    let unknown = docs
        .delete_document("nope", "r", &operator(), T0)
        .expect("unknown");
    assert!(unknown.is_none());
}
