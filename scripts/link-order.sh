#!/usr/bin/env bash
# Regenerates crates/signet/link-order.txt, the order in which release builds lay out the
# functions of `signet` (crates/signet/build.rs, docs/PERFORMANCE.md "Idle memory").
# Runs the release daemon under callgrind on a fresh keyword-only workspace: phase 1 is start-up,
# phase 2 35 s of idle (every worker ticks at least once, retention's first run included), phase 3
# a few remembers, recalls and API reads. The functions idle ran come first, then those only
# start-up ran, then those only phase 3 ran, each group in the current binary's address order;
# everything else follows. Idle first: after start-up the daemon drops its binary's pages from
# memory (crates/signet/src/daemon/trim.rs), and what faults back in while it idles is then one
# dense run of code.
# Each line is a symbol without ThinLTO's `.llvm.<n>` suffix, then its size in bytes: the release
# link resolves them against the objects it links (crates/signet/build.rs), so that the list
# survives edits and dependency changes. The link writes its match rate to
# ${CARGO_TARGET_DIR:-target}/release/build/signet-*/out/link-shim/last-link.txt.
# Usage: scripts/link-order.sh   (needs valgrind, python3, nm, curl, a release build)
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${CARGO_TARGET_DIR:-$PWD/target}/release/signet"
[ -x "$bin" ] || { echo "build it first: cargo build --release -p signet" >&2; exit 1; }
command -v callgrind_control >/dev/null || { echo "needs valgrind (apt-get install valgrind)" >&2; exit 1; }
work="$(mktemp -d)"; ws="$work/ws"; mkdir -p "$ws"
printf 'embedding:\n  provider: none\n' > "$ws/agent.yaml"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
SIGNET_PATH="$ws" valgrind --tool=callgrind --callgrind-out-file="$work/cg.out" --dump-instr=no \
  --compress-strings=no --demangle=no "$bin" daemon run --port "$port" >"$work/vg.log" 2>&1 & pid=$!
for _ in $(seq 600); do curl -sf "$base/health" >/dev/null && break; sleep 0.1; done
sleep 1
callgrind_control -d "$pid" >/dev/null   # phase 1 -> cg.out.1
sleep 35
callgrind_control -d "$pid" >/dev/null   # phase 2 -> cg.out.2
for i in $(seq 20); do
  curl -sf -H 'content-type: application/json' -d "{\"content\":\"note $i about the garden and tomatoes\"}" \
    "$base/api/memory/remember" >/dev/null
done
for q in garden tomatoes "garden tomatoes" "note about"; do
  curl -sf -H 'content-type: application/json' -d "{\"query\":\"$q\",\"limit\":10}" \
    "$base/api/memory/recall" >/dev/null
done
for route in /api/status /api/memories /health; do curl -sf "$base$route" >/dev/null || true; done
sleep 2
kill "$pid"; wait "$pid" || true   # phase 3, written at exit
last="$work/cg.out"; [ -f "$work/cg.out.3" ] && last="$work/cg.out.3"
python3 - "$bin" "$work/cg.out.1" "$work/cg.out.2" "$last" crates/signet/link-order.txt <<'PY'
import os, re, subprocess, sys
exe, phases, out = sys.argv[1], sys.argv[2:5], sys.argv[5]
addr, size = {}, {}
for line in subprocess.run(["nm", "--defined-only", "-S", exe], capture_output=True, text=True).stdout.splitlines():
    p = line.split()
    if len(p) == 4 and p[2] in "tTwW":
        addr.setdefault(p[3], int(p[0], 16))
        size.setdefault(p[3], int(p[1], 16))
def ran(path):  # functions of the binary itself that executed (callgrind's "'N" marks recursion)
    ob, names = "", set()
    for line in open(path, errors="replace"):
        if line.startswith("ob="):
            ob = line[3:].strip()
        elif line.startswith("fn=") and os.path.realpath(ob) == os.path.realpath(exe):
            names.add(re.sub(r"'\d+$", "", line[3:].strip()))
    return {n for n in names if n in addr}
start, idle, busy = (ran(p) for p in phases)
start -= idle
busy -= idle | start
order = sorted(idle, key=addr.get) + sorted(start, key=addr.get) + sorted(busy, key=addr.get)
lines = {}  # a function's copies (one per codegen unit, `.llvm.<n>` names) are one line
for n in order:
    lines.setdefault(re.sub(r"[.]llvm[.][0-9]+$", "", n), size[n])
open(out, "w").write("".join(f"{n} {sz}\n" for n, sz in lines.items()))
print(f"{out}: {len(idle)} idle functions, then {len(start)} start-up and {len(busy)} request-path ones ({len(lines)} names)")
PY
rm -rf "$work"
