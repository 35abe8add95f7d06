#!/usr/bin/env bash
# Replay benchmark (issue: foundation, "Speed"). Builds a release tree,
# generates synthetic traces, and prints in the same run:
#   - decode-only throughput of the file (the ceiling),
#   - replay throughput in audit policy with the reference driver,
#   - the ratio between the two,
#   - peak RSS for a short and a long trace (RSS must not grow with length),
#   - the cost of stack capture (issue 14): replay throughput with capture off
#     (LIFETRACE_STACKS=0) beside the default (on), and, when valgrind is
#     there, instructions per event of each (callgrind, on a 20000-event trace).
# Usage: bench/run.sh [EVENTS]   (default 10000000; the short trace is EVENTS/10)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-10000000}
short=$((n / 10))
bash scripts/setup.sh build >/dev/null
cmake --preset release >/dev/null
cmake --build --preset release -j"$(nproc)" --target gen_trace bench_decode bench_replay >/dev/null
b=build/release/bench
dir=${LT_BENCH_DIR:-$(mktemp -d)}
trap '[ -z "${LT_BENCH_DIR:-}" ] && rm -rf "$dir"' EXIT
"$b/gen_trace" "$dir/long.ltrace" "$n" 1 >/dev/null
"$b/gen_trace" "$dir/short.ltrace" "$short" 1 >/dev/null
decode=$("$b/bench_decode" "$dir/long.ltrace" 3 2>/dev/null)
long=$("$b/bench_replay" "$dir/long.ltrace" audit)
shortr=$("$b/bench_replay" "$dir/short.ltrace" audit)
nostack=$(LIFETRACE_STACKS=0 "$b/bench_replay" "$dir/long.ltrace" audit)
ir() { # ir ENV...: instructions per event of replaying the callgrind trace
  local out
  out=$(env "$@" valgrind --tool=callgrind --callgrind-out-file=/dev/null \
        "$b/bench_replay" "$dir/cg.ltrace" audit 2>&1 >/dev/null | sed -n 's/.*Collected : //p')
  echo $((out / 20000))
}
ir_on=- ir_off=-
if command -v valgrind >/dev/null; then
  "$b/gen_trace" "$dir/cg.ltrace" 20000 1 >/dev/null
  ir_on=$(ir LIFETRACE_STACKS=1)
  ir_off=$(ir LIFETRACE_STACKS=0)
fi
python3 - "$decode" "$long" "$shortr" "$nostack" "$ir_on" "$ir_off" <<'PY'
import json, sys
d, l, s, ns = (json.loads(x) for x in sys.argv[1:5])
ir_on, ir_off = sys.argv[5:7]
dec = d["events_per_s"]
rep = l["events_per_second"]
print(f"machine: {open('/proc/cpuinfo').read().split('model name')[1].split(':')[1].splitlines()[0].strip()}")
print(f"trace: {l['events']} events, {d['bytes'] / 1e6:.0f} MB")
print(f"decode only : {dec / 1e6:6.2f} M events/s")
print(f"replay audit: {rep / 1e6:6.2f} M events/s  ({dec / rep:.1f}x slower than decode; target 2 M/s, within 3x)")
print(f"peak RSS    : {s['peak_rss_mb']:.1f} MB at {s['events']} events, {l['peak_rss_mb']:.1f} MB at {l['events']} events")
print(f"findings    : {l['findings']} (the synthetic trace is clean)")
off = ns["events_per_second"]
print(f"stacks      : {rep / 1e6:6.2f} M events/s with capture, {off / 1e6:6.2f} M events/s without "
      f"({(off / rep - 1) * 100:+.0f}% time); instructions/event {ir_on} with, {ir_off} without")
PY
