//! Two nodes on one database: jobs leased at the same moment go to different nodes and no job
//! is leased twice (`FOR UPDATE SKIP LOCKED`); the same content remembered on both at once is
//! inserted once, the other writes answering with it.

use std::collections::BTreeMap;
use std::sync::{Arc, Barrier};

use signet_model::documents::LeasePolicy;
use signet_model::memories::{NewMemory, WriteOptions};
use signet_model::{JobQueue, MemoryStore};
use signet_store_pg::PgStore;

use super::support::Scratch;

const NOW: &str = "2026-03-02T12:00:00.000Z";

fn memory(i: usize) -> NewMemory {
    let content = format!("memory number {i} to extract");
    NewMemory {
        extraction_status: "pending".into(),
        ..super::support::memory(&format!("m{i:03}"), &content, NOW)
    }
}

#[test]
fn nodes_leasing_together_never_lease_a_job_twice() {
    let Some(scratch) = Scratch::new() else {
        return;
    };
    let nodes: Vec<Arc<PgStore>> = (0..2)
        .map(|_| Arc::new(PgStore::open(&scratch.config(2)).expect("open a node")))
        .collect();
    let opts = WriteOptions {
        enqueue_extraction: true,
        ..WriteOptions::default()
    };
    const JOBS: usize = 40;
    for i in 0..JOBS {
        nodes[i % 2]
            .remember(&memory(i), opts, &Default::default())
            .expect("remember");
    }
    let workers = 4;
    let barrier = Arc::new(Barrier::new(workers));
    let handles: Vec<_> = (0..workers)
        .map(|w| {
            let (node, barrier) = (nodes[w % 2].clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                let mut leased = Vec::new();
                while let Some(job) = node
                    .lease_job("extract", NOW, &LeasePolicy::default())
                    .expect("lease_job")
                {
                    assert_eq!(job.attempts, 1, "{job:?}");
                    leased.push(job.id);
                }
                leased
            })
        })
        .collect();
    let mut times: BTreeMap<String, usize> = BTreeMap::new();
    for h in handles {
        for id in h.join().expect("a worker panicked") {
            *times.entry(id).or_default() += 1;
        }
    }
    assert_eq!(times.len(), JOBS, "every job was leased");
    assert!(times.values().all(|n| *n == 1), "no job twice: {times:?}");
    let counts = nodes[0].ops_counts().expect("ops_counts").jobs;
    assert_eq!(counts, vec![("leased".to_owned(), JOBS as i64)]);
}

#[test]
fn nodes_remembering_the_same_content_together_insert_it_once() {
    let Some(scratch) = Scratch::new() else {
        return;
    };
    let nodes: Vec<Arc<PgStore>> = (0..2)
        .map(|_| Arc::new(PgStore::open(&scratch.config(2)).expect("open a node")))
        .collect();
    let writers = 4;
    let barrier = Arc::new(Barrier::new(writers));
    let handles: Vec<_> = (0..writers)
        .map(|w| {
            let (node, barrier) = (nodes[w % 2].clone(), barrier.clone());
            std::thread::spawn(move || {
                let mut m = memory(0);
                m.id = format!("writer-{w}");
                barrier.wait();
                node.remember(&m, WriteOptions::default(), &Default::default())
                    .expect("a race is a dedup, never an error")
            })
        })
        .collect();
    let outcomes: Vec<_> = handles
        .into_iter()
        .map(|h| h.join().expect("a writer panicked"))
        .collect();
    let inserted = outcomes
        .iter()
        .filter(|o| matches!(o, signet_model::memories::RememberOutcome::Inserted))
        .count();
    assert_eq!(inserted, 1, "{outcomes:?}");
    assert_eq!(nodes[1].stats().expect("stats").total, 1);
}

/// A node starting up (`release_orphans`) frees no lease of a live peer; once the peer is gone
/// (its connections closed, as when its process is killed) the job is leased by another node
/// at once, not after the lease times out, and completed there once.
#[test]
fn a_gone_nodes_lease_is_taken_over_and_a_live_peers_is_not() {
    let Some(scratch) = Scratch::new() else {
        return;
    };
    let open = || PgStore::open(&scratch.config(1)).expect("open a node");
    let (a, b) = (open(), open());
    assert_ne!(a.node(), b.node());
    let opts = WriteOptions {
        enqueue_extraction: true,
        ..WriteOptions::default()
    };
    a.remember(&memory(1), opts, &Default::default())
        .expect("remember");
    let policy = LeasePolicy::default();
    let job = a.lease_job("extract", NOW, &policy).expect("lease");
    let job = job.expect("a job to lease");
    assert_eq!(b.release_orphans("extract", NOW).expect("release"), 0);
    let c = open();
    assert_eq!(c.release_orphans("extract", NOW).expect("release"), 0);
    assert!(
        b.lease_job("extract", NOW, &policy)
            .expect("lease")
            .is_none()
    );
    drop(a);
    // The server notices the closed connections within moments; poll for it.
    let mut taken = None;
    for _ in 0..200 {
        taken = b.lease_job("extract", NOW, &policy).expect("lease");
        if taken.is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
    let taken = taken.expect("the gone node's job was never taken over");
    assert_eq!(taken.id, job.id);
    assert!(b.complete_job(&taken.id, None, NOW).expect("complete"));
    assert!(
        c.lease_job("extract", NOW, &policy)
            .expect("lease")
            .is_none()
    );
}
