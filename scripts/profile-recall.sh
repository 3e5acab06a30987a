#!/usr/bin/env bash
# Counts the instructions of keyword recall in the release daemon (docs/PERFORMANCE.md, issue 15):
# seeds a temp workspace with N synthetic memories (the `signet bench` corpus), restarts the daemon
# under callgrind, zeroes the counters after a warm-up, runs Q recalls and dumps the profile.
# Usage: scripts/profile-recall.sh [N=10000] [Q=200]   (needs valgrind, python3, a release build)
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-10000}"; q="${2:-200}"
bin="$PWD/target/release/signet"
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
SIGNET_PATH="$ws" "$bin" daemon run --port "$port" >"$work/seed.log" 2>&1 & pid=$!
wait_up; drive seed "$n"; kill "$pid"; wait "$pid" || true
SIGNET_PATH="$ws" valgrind --tool=callgrind --callgrind-out-file="$work/cg.out" \
  "$bin" daemon run --port "$port" >"$work/vg.log" 2>&1 & pid=$!
wait_up; drive recall 30
callgrind_control -z "$pid" >/dev/null; drive recall "$q"; callgrind_control -d "$pid" >/dev/null
sleep 1; kill "$pid"; wait "$pid" || true
total=$(callgrind_annotate "$work"/cg.out.1 2>/dev/null | awk '/PROGRAM TOTALS/{gsub(",","",$1); print $1}')
echo "instructions per recall: $((total / q))  (profile: $work/cg.out.1)"
callgrind_annotate --inclusive=yes "$work"/cg.out.1 2>/dev/null | grep -E 'signet_|sqlite3_step|fts5' | head -25
