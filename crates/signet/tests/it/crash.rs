//! Crash safety, proven by force. One workspace, many rounds: writer threads remember (short
//! memories and long ones the daemon stores as several chunks in one write), patch and delete
//! as fast as the daemon answers, the daemon is killed with SIGKILL at a seeded moment, and
//! every write it acknowledged must be on disk as acknowledged — content equal, deletes
//! deleted, long memories whole, no duplicates, `integrity_check` ok, the FTS index
//! consistent with its content table — and served again after the restart. A write in flight
//! at the kill may or may not have happened, but never in part, and a client retrying a
//! remember that got no answer stores it once at most. Then backups taken back to back while
//! writers hammer the daemon: each opens, passes the checks and holds every write acknowledged
//! before its `signet backup` started.
//!
//! `SIGNET_CRASH_ROUNDS` (default 20) and `SIGNET_CRASH_SEED` (default fixed) tune the first
//! test. The seed fixes each round's kill point (a number of acknowledged writes) and the
//! writers' random choices; thread timing still varies. A failure names the seed and round.

use std::collections::BTreeMap;
use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension as _};
use serde_json::{Value, json};

use crate::support::{TestEnv, is_alive, poll, signal};

const WRITERS: usize = 4;

/// splitmix64: a small seeded generator, so a failing round can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn env_number(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v:?} is not a number")),
        Err(_) => default,
    }
}

/// One HTTP/1.0 exchange; `Err` when the daemon did not answer completely (it died, or the
/// answer was cut short), so a caller can tell "acknowledged" from "in doubt".
fn call(port: u16, method: &str, path: &str, body: &str) -> Result<(u16, Value), String> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let mut sock =
        TcpStream::connect_timeout(&addr, Duration::from_secs(2)).map_err(|e| e.to_string())?;
    sock.set_read_timeout(Some(crate::support::DEADLINE))
        .map_err(|e| e.to_string())?;
    let req = format!(
        "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\ncontent-type: application/json\r\n\
         content-length: {}\r\n\r\n{body}",
        body.len()
    );
    sock.write_all(req.as_bytes()).map_err(|e| e.to_string())?;
    let mut raw = Vec::new();
    sock.read_to_end(&mut raw).map_err(|e| e.to_string())?;
    let text = String::from_utf8(raw).map_err(|e| e.to_string())?;
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("no complete head: {text:?}"))?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("no status: {head:?}"))?;
    let length = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|n| n.trim().to_owned())
        })
        .and_then(|n| n.parse::<usize>().ok());
    if length.is_some_and(|n| n != body.len()) {
        return Err(format!("answer cut short: {text:?}"));
    }
    let v = serde_json::from_str(body).map_err(|e| format!("{e}: {body:?}"))?;
    Ok((status, v))
}

/// The state of a memory as a client last saw it acknowledged.
#[derive(Clone, Debug, PartialEq)]
struct State {
    content: String,
    deleted: bool,
}

#[derive(Clone, Debug)]
struct Known {
    acked: State,
    /// The state an operation in flight when the daemon died would have left: either the
    /// acknowledged state or this one is correct.
    doubt: Option<State>,
    /// Round in which it was last acknowledged.
    round: u64,
}

/// Everything one writer thread knows: its memories by id, and the contents of remembers that
/// were in flight at a kill (stored or not, but never twice).
#[derive(Default)]
struct Ledger {
    memories: BTreeMap<String, Known>,
    doubtful_remembers: Vec<String>,
    /// Those contents once settled against the disk (with the id they were stored under, if
    /// they were), for the client's retry after the restart.
    retries: Vec<(String, Option<String>)>,
    /// Acknowledged long remembers, stored as several chunk memories in one write.
    groups: Vec<Group>,
    /// The sentence markers of long remembers in flight at a kill: all chunks or none.
    doubtful_groups: Vec<Vec<String>>,
}

/// A long remember the daemon split into chunks: the chunk ids, the group id (each chunk's
/// `source_id`) and the unique marker of every sentence, each in exactly one chunk.
#[derive(Debug)]
struct Group {
    id: String,
    chunks: Vec<String>,
    markers: Vec<String>,
}

/// Shared between the writers of a round and the thread that kills the daemon.
struct Round {
    port: u16,
    number: u64,
    acks: AtomicUsize,
    /// Set just before SIGKILL: a failure after it is a write in doubt, before it a bug.
    killed: AtomicBool,
}

enum Op {
    Remember(String),
    /// Content longer than the chunking limit, and its sentence markers.
    Long(String, Vec<String>),
    Patch(String, String),
    Delete(String),
}

impl Op {
    fn pick(rng: &mut Rng, ledger: &Ledger, round: u64, writer: usize, n: u64) -> Op {
        let roll = rng.below(10);
        if roll == 5 {
            return Op::long(round, writer, n);
        }
        let live: Vec<&String> = if roll < 6 {
            Vec::new()
        } else {
            let live = ledger.memories.iter().filter(|(_, k)| !k.acked.deleted);
            live.map(|(id, _)| id).collect()
        };
        if live.is_empty() {
            return Op::Remember(format!(
                "writer {writer} noted this in round {round}, marker k{round}x{writer}x{n}"
            ));
        }
        let id = live[rng.below(live.len() as u64) as usize].clone();
        if roll < 9 {
            let content = format!(
                "writer {writer} patched this in round {round}, marker p{round}x{writer}x{n}"
            );
            Op::Patch(id, content)
        } else {
            Op::Delete(id)
        }
    }

    /// Four sentences of about 190 characters, past the default 500-character limit, so the
    /// daemon stores them as several chunks.
    fn long(round: u64, writer: usize, n: u64) -> Op {
        let markers: Vec<String> = (0..4)
            .map(|k| format!("g{round}x{writer}x{n}s{k}"))
            .collect();
        let sentences: Vec<String> = markers
            .iter()
            .map(|m| {
                format!(
                    "Sentence {m} of a long note keeps going with words about the crash test \
                     and its durable writes, by writer {writer} in round {round}, to fill the \
                     chunk well past its target size."
                )
            })
            .collect();
        Op::Long(sentences.join(" "), markers)
    }

    /// Sends the operation; `Ok(Some(answer))` when acknowledged, `Ok(None)` when the answer
    /// did not arrive, `Err` for an answer that is not the expected success.
    fn send(&self, port: u16) -> Result<Option<Value>, String> {
        let (want, answer) = match self {
            Op::Long(content, _) => {
                let body = json!({ "content": content }).to_string();
                ("chunked", call(port, "POST", "/api/memory/remember", &body))
            }
            Op::Remember(content) => {
                let body = json!({ "content": content }).to_string();
                (
                    "remember",
                    call(port, "POST", "/api/memory/remember", &body),
                )
            }
            Op::Patch(id, content) => {
                let body = json!({ "content": content, "reason": "crash test" }).to_string();
                (
                    "updated",
                    call(port, "PATCH", &format!("/api/memory/{id}"), &body),
                )
            }
            Op::Delete(id) => {
                let path = format!("/api/memory/{id}?reason=crash-test");
                ("deleted", call(port, "DELETE", &path, ""))
            }
        };
        let Ok((status, v)) = answer else {
            return Ok(None);
        };
        let acked = status == 200
            && match want {
                "remember" => v["id"].is_string() && v["deduped"] == false,
                "chunked" => {
                    let ids = v["ids"].as_array().map_or(0, Vec::len);
                    v["chunked"] == true && ids > 1 && v["chunk_count"] == ids
                }
                outcome => v["status"] == outcome,
            };
        if !acked {
            return Err(format!("{want}: HTTP {status} {v}"));
        }
        Ok(Some(v))
    }
}

/// One writer for one round: operations until the daemon dies. A failure while the daemon
/// was alive is returned as an error.
fn hammer(round: &Round, writer: usize, seed: u64, ledger: &mut Ledger) -> Result<(), String> {
    let mut rng = Rng(seed ^ (round.number << 8) ^ writer as u64);
    for n in 0.. {
        let op = Op::pick(&mut rng, ledger, round.number, writer, n);
        let sent = op.send(round.port);
        let killed = round.killed.load(Ordering::SeqCst);
        let answer = match sent {
            Ok(Some(answer)) => answer,
            Ok(None) | Err(_) if killed => {
                match op {
                    Op::Remember(content) => ledger.doubtful_remembers.push(content),
                    Op::Long(_, markers) => ledger.doubtful_groups.push(markers),
                    Op::Patch(id, content) => doubt(ledger, &id, Some(content)),
                    Op::Delete(id) => doubt(ledger, &id, None),
                }
                return Ok(());
            }
            Ok(None) => return Err("the daemon stopped answering before the kill".into()),
            Err(e) => return Err(e),
        };
        let id = answer["id"].as_str().unwrap_or_default().to_owned();
        let state = match op {
            Op::Long(_, markers) => {
                let chunks = answer["ids"].as_array().unwrap().iter();
                ledger.groups.push(Group {
                    id: answer["group_id"].as_str().unwrap().to_owned(),
                    chunks: chunks.map(|c| c.as_str().unwrap().to_owned()).collect(),
                    markers,
                });
                round.acks.fetch_add(1, Ordering::SeqCst);
                continue;
            }
            Op::Remember(content) => State {
                content,
                deleted: false,
            },
            Op::Patch(_, content) => State {
                content,
                deleted: false,
            },
            Op::Delete(ref target) => State {
                deleted: true,
                ..ledger.memories[target].acked.clone()
            },
        };
        let known = Known {
            acked: state,
            doubt: None,
            round: round.number,
        };
        ledger.memories.insert(id, known);
        round.acks.fetch_add(1, Ordering::SeqCst);
    }
    unreachable!("the loop returns")
}

/// Marks memory `id`'s in-flight change (new content, or a delete when `None`) as in doubt.
fn doubt(ledger: &mut Ledger, id: &str, content: Option<String>) {
    let known = ledger
        .memories
        .get_mut(id)
        .expect("a memory of this writer");
    known.doubt = Some(match content {
        Some(content) => State {
            content,
            deleted: false,
        },
        None => State {
            deleted: true,
            ..known.acked.clone()
        },
    });
}

/// A copy of the killed daemon's database files (nobody has them open), so the checks that
/// write — FTS5's `integrity-check` is an INSERT — never touch the workspace itself.
fn copy_database(env: &TestEnv, name: &str) -> Connection {
    let dir = env.home.path().join(name);
    std::fs::create_dir_all(&dir).unwrap();
    let from = env.workspace.join("memory");
    for file in ["memories.db", "memories.db-wal"] {
        let _ = std::fs::remove_file(dir.join(file));
        if from.join(file).exists() {
            std::fs::copy(from.join(file), dir.join(file)).unwrap();
        }
    }
    let _ = std::fs::remove_file(dir.join("memories.db-shm"));
    Connection::open(dir.join("memories.db")).unwrap()
}

/// `PRAGMA integrity_check` and FTS5's check of the index against its content table.
fn assert_intact(c: &Connection, what: &str) {
    let check: String = c
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok", "{what}: integrity_check");
    c.execute(
        "INSERT INTO memories_fts(memories_fts, rank) VALUES('integrity-check', 1)",
        [],
    )
    .unwrap_or_else(|e| panic!("{what}: the FTS index disagrees with memories: {e}"));
}

fn row(c: &Connection, id: &str) -> Option<State> {
    c.prepare_cached("SELECT content, is_deleted FROM memories WHERE id = ?1")
        .unwrap()
        .query_row([id], |r| {
            Ok(State {
                content: r.get(0)?,
                deleted: r.get::<_, i64>(1)? != 0,
            })
        })
        .optional()
        .unwrap()
}

/// The ids whose content keyword `marker` matches in the FTS index.
fn fts_ids(c: &Connection, marker: &str) -> Vec<String> {
    let mut stmt = c
        .prepare_cached(
            "SELECT m.id FROM memories_fts f JOIN memories m ON m.rowid = f.rowid \
             WHERE memories_fts MATCH ?1",
        )
        .unwrap();
    let ids = stmt
        .query_map([format!("\"{marker}\"")], |r| r.get(0))
        .unwrap();
    ids.collect::<Result<_, _>>().unwrap()
}

fn marker(content: &str) -> &str {
    content.rsplit(' ').next().unwrap()
}

/// Checks the database the killed daemon left against the ledgers, then settles every doubt
/// with what is on disk (either outcome was correct) for the next round.
fn verify_on_disk(env: &TestEnv, ledgers: &mut [Ledger], why: &str) {
    let c = copy_database(env, "after-kill");
    assert_intact(&c, why);
    for ledger in ledgers.iter_mut() {
        for (id, known) in ledger.memories.iter_mut() {
            let found = row(&c, id);
            let ok =
                found.as_ref() == Some(&known.acked) || (found.is_some() && found == known.doubt);
            assert!(
                ok,
                "{why}: memory {id} acknowledged as {:?} (in doubt: {:?}) is {found:?} on disk",
                known.acked, known.doubt
            );
            known.acked = found.unwrap();
            known.doubt = None;
            if !known.acked.deleted {
                let hits = fts_ids(&c, marker(&known.acked.content));
                assert_eq!(hits, [id.as_str()], "{why}: FTS hits for {:?}", known.acked);
            }
        }
        for content in std::mem::take(&mut ledger.doubtful_remembers) {
            let mut stmt = c
                .prepare("SELECT id FROM memories WHERE content = ?1")
                .unwrap();
            let ids: Vec<String> = stmt
                .query_map([&content], |r| r.get(0))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            assert!(ids.len() <= 1, "{why}: {content:?} stored twice: {ids:?}");
            ledger.retries.push((content.clone(), ids.first().cloned()));
            if let Some(id) = ids.into_iter().next() {
                let acked = State {
                    content,
                    deleted: false,
                };
                let round = u64::MAX;
                ledger.memories.insert(
                    id,
                    Known {
                        acked,
                        doubt: None,
                        round,
                    },
                );
            }
        }
    }
    for ledger in ledgers.iter_mut() {
        verify_groups(&c, ledger, why);
    }
    let rows: i64 = c
        .query_row("SELECT COUNT(*) FROM memories", [], |r| r.get(0))
        .unwrap();
    let rows = rows as usize;
    let known: usize = ledgers
        .iter()
        .map(|l| l.memories.len() + l.groups.iter().map(|g| g.chunks.len()).sum::<usize>())
        .sum();
    assert_eq!(
        rows, known,
        "{why}: rows on disk vs memories the writers know"
    );
    let duplicates: i64 = c
        .query_row(
            "SELECT COUNT(*) FROM (SELECT content_hash FROM memories WHERE is_deleted = 0 \
             GROUP BY content_hash HAVING COUNT(*) > 1)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(duplicates, 0, "{why}: live memories sharing a content hash");
}

/// `(id, source_id)` of the memories whose content has the keyword `marker` (found through
/// the FTS index, which [`assert_intact`] proved consistent with the table).
fn rows_containing(c: &Connection, marker: &str) -> Vec<(String, Option<String>)> {
    let mut stmt = c
        .prepare_cached(
            "SELECT m.id, m.source_id FROM memories_fts f JOIN memories m ON m.rowid = f.rowid \
             WHERE memories_fts MATCH ?1",
        )
        .unwrap();
    let rows = stmt
        .query_map([format!("\"{marker}\"")], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap();
    rows.collect::<Result<_, _>>().unwrap()
}

/// Long remembers are all or nothing: an acknowledged one has every chunk, live, in its
/// group, each sentence in exactly one chunk; one in flight at the kill has all its sentences
/// or none (then adopted as acknowledged).
fn verify_groups(c: &Connection, ledger: &mut Ledger, why: &str) {
    for g in &ledger.groups {
        let in_group: i64 = c
            .query_row(
                "SELECT COUNT(*) FROM memories WHERE source_id = ?1 AND is_deleted = 0",
                [&g.id],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(in_group as usize, g.chunks.len(), "{why}: chunks of {g:?}");
        for m in &g.markers {
            let hits = rows_containing(c, m);
            let ok = hits.len() == 1 && g.chunks.contains(&hits[0].0);
            assert!(ok, "{why}: sentence {m} of {g:?} is in {hits:?}");
        }
    }
    for markers in std::mem::take(&mut ledger.doubtful_groups) {
        let hits: Vec<_> = markers.iter().map(|m| rows_containing(c, m)).collect();
        if hits.iter().all(Vec::is_empty) {
            continue;
        }
        assert!(
            hits.iter().all(|h| h.len() == 1),
            "{why}: a long remember in flight at the kill was stored in part: {hits:?}"
        );
        let mut chunks: Vec<String> = hits.iter().map(|h| h[0].0.clone()).collect();
        chunks.dedup();
        let id = hits[0][0].1.clone().unwrap_or_default();
        ledger.groups.push(Group {
            id,
            chunks,
            markers,
        });
    }
}

/// After the restart the daemon serves what was acknowledged: a few of this round's
/// memories by id and by a keyword recall of their unique marker; deleted ones are gone.
fn verify_served(env: &TestEnv, ledgers: &mut [Ledger], round: u64, rng: &mut Rng, why: &str) {
    retry_in_doubt(env, ledgers, round, why);
    let recent: Vec<(&String, &Known)> = ledgers
        .iter()
        .flat_map(|l| l.memories.iter())
        .filter(|(_, k)| k.round == round)
        .collect();
    for _ in 0..recent.len().min(3) {
        let (id, known) = recent[rng.below(recent.len() as u64) as usize];
        let (status, v) = call(env.port, "GET", &format!("/api/memory/{id}"), "").unwrap();
        if known.acked.deleted {
            assert_eq!(status, 404, "{why}: deleted {id} is served: {v}");
            continue;
        }
        assert_eq!(status, 200, "{why}: {id}: {v}");
        assert_eq!(v["content"], known.acked.content.as_str(), "{why}: {v}");
        let body = json!({ "query": marker(&known.acked.content) }).to_string();
        let (status, v) = call(env.port, "POST", "/api/memory/recall", &body).unwrap();
        assert_eq!(status, 200, "{why}: recall: {v}");
        let ids: Vec<&str> = v["results"]
            .as_array()
            .map(|r| r.iter().filter_map(|m| m["id"].as_str()).collect())
            .unwrap_or_default();
        assert!(
            ids.contains(&id.as_str()),
            "{why}: recall of {known:?}: {v}"
        );
    }
}

/// A client retries the remembers it got no answer to: one the killed daemon had stored
/// answers `deduped` with the stored id, one it had not is stored now — never twice.
fn retry_in_doubt(env: &TestEnv, ledgers: &mut [Ledger], round: u64, why: &str) {
    for ledger in ledgers.iter_mut() {
        for (content, stored) in std::mem::take(&mut ledger.retries) {
            let body = json!({ "content": content }).to_string();
            let (status, v) = call(env.port, "POST", "/api/memory/remember", &body).unwrap();
            assert_eq!(status, 200, "{why}: retry of {content:?}: {v}");
            let id = v["id"].as_str().unwrap().to_owned();
            assert_eq!(
                v["deduped"],
                stored.is_some(),
                "{why}: retry of {content:?}: {v}"
            );
            match stored {
                Some(stored) => assert_eq!(id, stored, "{why}: retry of {content:?}"),
                None => {
                    let acked = State {
                        content,
                        deleted: false,
                    };
                    let known = Known {
                        acked,
                        doubt: None,
                        round,
                    };
                    ledger.memories.insert(id, known);
                }
            }
        }
    }
}

/// Starts the writers, kills the daemon once they have `target` acknowledgements between
/// them, and hands the ledgers back.
fn crash_round(
    round: &Arc<Round>,
    pid: u32,
    target: usize,
    seed: u64,
    ledgers: Vec<Ledger>,
) -> Vec<Ledger> {
    let writers: Vec<_> = ledgers
        .into_iter()
        .enumerate()
        .map(|(w, mut ledger)| {
            let round = round.clone();
            std::thread::spawn(move || {
                let result = hammer(&round, w, seed, &mut ledger);
                (ledger, result)
            })
        })
        .collect();
    let alive = || writers.iter().any(|w| !w.is_finished());
    poll("the writers to reach the kill point", || {
        (round.acks.load(Ordering::SeqCst) >= target || !alive()).then_some(())
    });
    round.killed.store(true, Ordering::SeqCst);
    assert!(signal(pid, "-KILL"), "SIGKILL {pid}");
    poll("the daemon to die", || (!is_alive(pid)).then_some(()));
    writers
        .into_iter()
        .map(|w| {
            let (ledger, result) = w.join().unwrap();
            result.unwrap_or_else(|e| panic!("round {}: a write failed: {e}", round.number));
            ledger
        })
        .collect()
}

#[test]
fn sigkill_under_sustained_writes_loses_no_acknowledged_write() {
    let rounds = env_number("SIGNET_CRASH_ROUNDS", 20);
    let seed = env_number("SIGNET_CRASH_SEED", 0x5167_4e37);
    let mut rng = Rng(seed);
    let mut env = TestEnv::new();
    let mut ledgers: Vec<Ledger> = (0..WRITERS).map(|_| Ledger::default()).collect();
    let mut in_doubt = 0;
    let mut pid = env.start_daemon();
    for number in 0..rounds {
        let why = format!("seed {seed:#x}, round {number}");
        let round = Arc::new(Round {
            port: env.port,
            number,
            acks: AtomicUsize::new(0),
            killed: AtomicBool::new(false),
        });
        let target = 10 + rng.below(150) as usize;
        ledgers = crash_round(&round, pid, target, seed, ledgers);
        in_doubt += ledgers
            .iter()
            .map(|l| {
                let changes = l.memories.values().filter(|k| k.doubt.is_some()).count();
                changes + l.doubtful_remembers.len() + l.doubtful_groups.len()
            })
            .sum::<usize>();
        verify_on_disk(&env, &mut ledgers, &why);
        pid = env.start_daemon();
        verify_served(&env, &mut ledgers, number, &mut rng, &why);
    }
    let deleted = ledgers
        .iter()
        .flat_map(|l| l.memories.values())
        .filter(|k| k.acked.deleted)
        .count();
    let patched = ledgers
        .iter()
        .flat_map(|l| l.memories.values())
        .filter(|k| k.acked.content.contains(" patched "))
        .count();
    let total: usize = ledgers.iter().map(|l| l.memories.len()).sum();
    let groups: usize = ledgers.iter().map(|l| l.groups.len()).sum();
    eprintln!(
        "seed {seed:#x}: {rounds} kills, {total} memories ({patched} patched, {deleted} \
         deleted) and {groups} chunked ones, {in_doubt} requests in flight at a kill"
    );
    // The kills landed in the middle of writes, not between them.
    assert!(in_doubt > 0, "no kill interrupted a request in flight");
    assert!(
        patched > 0 && deleted > 0 && groups > 0,
        "patches, deletes and chunked remembers were acknowledged"
    );
    assert!(
        total >= rounds as usize * 10,
        "{total} memories in {rounds} rounds"
    );
}

fn open_read_only(db: &Path) -> Connection {
    Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap()
}

#[test]
fn back_to_back_backups_under_a_write_hammer_hold_every_earlier_write() {
    let mut env = TestEnv::new();
    env.start_daemon();
    let acked = Arc::new(Mutex::new(Vec::<(String, String)>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..3)
        .map(|w| {
            let (acked, stop, port) = (acked.clone(), stop.clone(), env.port);
            std::thread::spawn(move || {
                for n in 0.. {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let content = format!("hammered by writer {w}, marker b{w}x{n}");
                    let answer = Op::Remember(content.clone())
                        .send(port)
                        .unwrap_or_else(|e| panic!("{e}"))
                        .unwrap_or_else(|| panic!("no answer to {content:?}"));
                    let id = answer["id"].as_str().unwrap().to_owned();
                    acked.lock().unwrap().push((id, content));
                }
            })
        })
        .collect();

    let dir = env.home.path().join("backups");
    let mut folders: Vec<PathBuf> = Vec::new();
    let mut written_during = 0;
    for b in 0..5 {
        let seen = acked.lock().unwrap().len();
        poll("more acknowledged writes", || {
            (acked.lock().unwrap().len() >= seen + 5).then_some(())
        });
        let before = acked.lock().unwrap().clone();
        let out = env
            .run(&["backup", "--json", "--to", dir.to_str().unwrap()])
            .json();
        written_during += acked.lock().unwrap().len() - before.len();
        let folder = PathBuf::from(out["backup"].as_str().unwrap());
        let db = folder.join("memory/memories.db");
        let c = open_read_only(&db);
        let check: String = c
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(check, "ok", "backup {b}");
        for (id, content) in &before {
            assert_eq!(
                row(&c, id).map(|s| s.content).as_deref(),
                Some(content.as_str()),
                "backup {b} lacks {id}, acknowledged before it started"
            );
        }
        let rows: i64 = c
            .query_row("SELECT COUNT(*) FROM memories", [], |r| r.get(0))
            .unwrap();
        assert_eq!(out["database"]["memories"], rows, "backup {b}: {out}");
        drop(c);
        // FTS5's check is an INSERT: run it on a copy of the backup.
        let copy = env.home.path().join(format!("backup-copy-{b}.db"));
        std::fs::copy(&db, &copy).unwrap();
        assert_intact(&Connection::open(&copy).unwrap(), &format!("backup {b}"));
        folders.push(folder);
    }
    stop.store(true, Ordering::SeqCst);
    for w in writers {
        w.join().unwrap();
    }
    folders.dedup();
    assert_eq!(folders.len(), 5, "five distinct backups: {folders:?}");
    assert!(
        written_during > 0,
        "the writers kept writing during the backups"
    );
}
