#!/usr/bin/env bash
# Replay benchmark (issue: foundation, "Speed"). Builds a release tree,
# generates synthetic traces, and prints in the same run:
#   - decode-only throughput of the file (the ceiling),
#   - replay throughput in audit policy with the reference driver,
#   - the ratio between the two,
#   - peak RSS for a short and a long trace (RSS must not grow with length).
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
python3 - "$decode" "$long" "$shortr" <<'PY'
import json, sys
d, l, s = (json.loads(x) for x in sys.argv[1:4])
dec = d["events_per_s"]
rep = l["events_per_second"]
print(f"machine: {open('/proc/cpuinfo').read().split('model name')[1].split(':')[1].splitlines()[0].strip()}")
print(f"trace: {l['events']} events, {d['bytes'] / 1e6:.0f} MB")
print(f"decode only : {dec / 1e6:6.2f} M events/s")
print(f"replay audit: {rep / 1e6:6.2f} M events/s  ({dec / rep:.1f}x slower than decode; target 2 M/s, within 3x)")
print(f"peak RSS    : {s['peak_rss_mb']:.1f} MB at {s['events']} events, {l['peak_rss_mb']:.1f} MB at {l['events']} events")
print(f"findings    : {l['findings']} (the synthetic trace is clean)")
PY
