#!/usr/bin/env bash
# Counts the instructions of a remember in the release daemon (docs/PERFORMANCE.md, issue 15):
# seeds a temp workspace with S synthetic memories (the `signet bench` corpus), restarts the
# daemon under callgrind, zeroes the counters after 200 warm-up remembers, runs N remembers over
# HTTP (each new content, so none is deduplicated) and dumps the profile. Then the same N under
# `strace -c -f` on a plain daemon: the system calls per remember (WAL writes, thread wake-ups).
# Usage: scripts/profile-remember.sh [N=2000] [S=10000]
#   (needs valgrind, strace, python3 and a release build: $SIGNET_BIN, else
#    ${CARGO_TARGET_DIR:-target}/release/signet)
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-2000}"; s="${2:-10000}"
bin="${SIGNET_BIN:-${CARGO_TARGET_DIR:-$PWD/target}/release/signet}"
[ -x "$bin" ] || { echo "build it first: cargo build --release -p signet" >&2; exit 1; }
command -v callgrind_control >/dev/null || { echo "needs valgrind (apt-get install valgrind)" >&2; exit 1; }
command -v strace >/dev/null || { echo "needs strace (apt-get install strace)" >&2; exit 1; }
work="$(mktemp -d)"; ws="$work/ws"; mkdir -p "$ws"
printf 'embedding:\n  provider: none\n' > "$ws/agent.yaml"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
drive() { # drive FIRST COUNT: remembers numbered FIRST.., one connection, like one bench client
  python3 - "$1" "$2" "$port" crates/signet/src/bench/corpus.rs <<'PY'
import http.client, json, re, sys
first, count, port, corpus = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
words = re.findall(r'^    "([a-z]+)",$', open(corpus).read(), re.M)
M = (1 << 64) - 1
class Rng:  # the bench corpus's xorshift64*
    def __init__(s, seed): s.s = max(seed, 1)
    def next(s):
        x = s.s; x ^= x >> 12; x ^= (x << 25) & M; x ^= x >> 27; s.s = x
        return (x * 0x2545F4914F6CDD1D) & M
    def word(s):
        a = s.next() % len(words); b = s.next() % len(words); return words[min(a, b)]
conn = http.client.HTTPConnection("127.0.0.1", port)
r = Rng(42 + first)
for i in range(first, first + count):
    k = 8 + r.next() % 9
    body = {"content": " ".join(r.word() for _ in range(k)) + f" (note {i})", "importance": 0.5}
    conn.request("POST", "/api/memory/remember", json.dumps(body), {"content-type": "application/json"})
    res = conn.getresponse(); res.read()
    if res.status != 200: sys.exit(f"remember answered {res.status}")
PY
}
wait_up() { for _ in $(seq 600); do curl -sf "127.0.0.1:$port/health" >/dev/null && return; sleep 0.1; done; exit 1; }
stop() { kill "$pid"; wait "$pid" || true; }
SIGNET_PATH="$ws" "$bin" daemon run --port "$port" >"$work/seed.log" 2>&1 & pid=$!
wait_up; drive 0 "$s"; stop
SIGNET_PATH="$ws" valgrind --tool=callgrind --callgrind-out-file="$work/cg.out" \
  "$bin" daemon run --port "$port" >"$work/vg.log" 2>&1 & pid=$!
wait_up; drive "$s" 200
callgrind_control -z "$pid" >/dev/null; drive $((s + 200)) "$n"; callgrind_control -d "$pid" >/dev/null
sleep 1; stop
total=$(callgrind_annotate "$work"/cg.out.1 2>/dev/null | awk '/PROGRAM TOTALS/{gsub(",","",$1); print $1}')
echo "instructions per remember: $((total / n))  (profile: $work/cg.out.1)"
callgrind_annotate --inclusive=yes "$work"/cg.out.1 2>/dev/null \
  | grep -E 'signet_|sqlite3_step|sqlite3VdbeExec|fts5|Fts5|WalFrames|sqlite3PagerCommit|serde_json|hyper' | head -40 || true
SIGNET_PATH="$ws" "$bin" daemon run --port "$port" >"$work/st.log" 2>&1 & pid=$!
wait_up; drive $((s + 200 + n)) 200
strace -c -f -p "$pid" -o "$work/strace.txt" & tracer=$!
sleep 0.5; drive $((s + 400 + n)) "$n"; kill -INT "$tracer"; wait "$tracer" || true; stop
echo "system calls per remember (strace -c -f, $n remembers):"
awk -v n="$n" 'NR > 2 && $NF != "total" && $4 ~ /^[0-9]+$/ { printf "  %-16s %6.2f\n", $NF, $4 / n }' \
  "$work/strace.txt" | sort -k2 -nr | head -12
