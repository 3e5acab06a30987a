#!/usr/bin/env bash
# Counts the instructions of keyword recall in the release daemon (docs/PERFORMANCE.md, issue 15):
# seeds a temp workspace with N synthetic memories (the `signet bench` corpus), restarts the daemon
# under callgrind, zeroes the counters after a warm-up, runs Q recalls and dumps the profile.
# Usage: scripts/profile-recall.sh [N=10000] [Q=200]   (needs valgrind, python3, a release build)
# The binary is $CARGO_TARGET_DIR/release/signet (default ./target). Hybrid recall:
# SIGNET_EMBEDDER=hash:384 scripts/profile-recall.sh (the embedder `signet bench load
# --hash-embedder 384` uses; the script waits for every memory's vector and the index).
# The daemon logs at RUST_LOG=warn unless set, as under `signet bench load`.
# TOOL=strace: instead of callgrind, counts the daemon's system calls over the Q recalls
# (`strace -c -f`; futex calls are the thread wake-ups).
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-10000}"; q="${2:-200}"
bin="${BIN:-${CARGO_TARGET_DIR:-$PWD/target}/release/signet}"   # BIN=path: another build
export RUST_LOG="${RUST_LOG:-warn}"
[ -x "$bin" ] || { echo "build it first: cargo build --release -p signet" >&2; exit 1; }
command -v callgrind_control >/dev/null || { echo "needs valgrind (apt-get install valgrind)" >&2; exit 1; }
work="$(mktemp -d)"; ws="$work/ws"; mkdir -p "$ws"
printf 'embedding:\n  provider: none\n' > "$ws/agent.yaml"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
drive() { # drive seed|recall COUNT
  python3 - "$1" "$2" "$port" crates/signet/src/bench/corpus.rs <<'PY'
import json, re, sys, urllib.request
mode, count, port, corpus = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
words = re.findall(r'^    "([a-z]+)",$', open(corpus).read(), re.M)
M = (1 << 64) - 1
class Rng:  # the bench corpus's xorshift64*
    def __init__(s, seed): s.s = max(seed, 1)
    def next(s):
        x = s.s; x ^= x >> 12; x ^= (x << 25) & M; x ^= x >> 27; s.s = x
        return (x * 0x2545F4914F6CDD1D) & M
    def word(s):
        a = s.next() % len(words); b = s.next() % len(words); return words[min(a, b)]
def post(route, body):
    req = urllib.request.Request(f"http://127.0.0.1:{port}/api/memory/{route}",
        data=json.dumps(body).encode(), headers={"content-type": "application/json"})
    urllib.request.urlopen(req).read()
r = Rng(42 if mode == "seed" else 7)
for i in range(count):
    if mode == "seed":
        k = 8 + r.next() % 9
        post("remember", {"content": " ".join(r.word() for _ in range(k)) + f" (note {i})"})
    else:
        post("recall", {"query": " ".join(r.word() for _ in range(2 + r.next() % 2)), "limit": 10})
PY
}
wait_up() { for _ in $(seq 600); do curl -sf "127.0.0.1:$port/health" >/dev/null && return; sleep 0.1; done; exit 1; }
wait_vectors() { # every memory embedded and the vector index ready (hybrid only)
  [ -n "${SIGNET_EMBEDDER:-}" ] || return 0
  for _ in $(seq 3000); do
    curl -sf "127.0.0.1:$port/api/embeddings/status" | python3 -c '
import json, sys; s = json.load(sys.stdin); ix = s.get("index", {})
ok = s["coverage"]["current"] >= int(sys.argv[1]) and ix.get("state") == "ready" and not ix.get("merging")
sys.exit(0 if ok else 1)' "$n" && return; sleep 0.2
  done; echo "vectors not ready" >&2; exit 1
}
SIGNET_PATH="$ws" "$bin" daemon run --port "$port" >"$work/seed.log" 2>&1 & pid=$!
wait_up; drive seed "$n"; wait_vectors; kill "$pid"; wait "$pid" || true
if [ "${TOOL:-callgrind}" = strace ]; then
  SIGNET_PATH="$ws" "$bin" daemon run --port "$port" >"$work/run.log" 2>&1 & pid=$!
  wait_up; wait_vectors; drive recall 30
  strace -c -f -p "$pid" -o "$work/strace.txt" & st=$!; sleep 1
  drive recall "$q"; sleep 3; kill -INT "$st"; wait "$st" || true
  kill "$pid"; wait "$pid" || true
  echo "system calls over $q recalls ($work/strace.txt):"; head -25 "$work/strace.txt"
  exit 0
fi
SIGNET_PATH="$ws" valgrind --tool=callgrind --callgrind-out-file="$work/cg.out" \
  "$bin" daemon run --port "$port" >"$work/vg.log" 2>&1 & pid=$!
wait_up; wait_vectors; drive recall 30
# The access counts of the recalls are written up to 2 s later (signet-core's access::FLUSH_EVERY):
# wait for that write so that it is counted.
callgrind_control -z "$pid" >/dev/null; drive recall "$q"; sleep 3; callgrind_control -d "$pid" >/dev/null
sleep 1; kill "$pid"; wait "$pid" || true
total=$(callgrind_annotate "$work"/cg.out.1 2>/dev/null | awk '/PROGRAM TOTALS/{gsub(",","",$1); print $1}')
echo "instructions per recall: $((total / q))  (profile: $work/cg.out.1)"
callgrind_annotate --inclusive=yes "$work"/cg.out.1 2>/dev/null | grep -E 'signet_|sqlite3_step|fts5' | head -25
