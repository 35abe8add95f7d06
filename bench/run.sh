#!/usr/bin/env bash
# Replay benchmark (issue 16, "Speed"). Builds a release tree, generates
# synthetic traces, and prints in the same run, for audit and kernel policy:
#   - decode-only and replay throughput per CPU second (wall time is noise on
#     a shared machine) and their ratio,
#   - instructions per event of each, from callgrind on a 100k-event trace
#     (exactly repeatable; skipped without valgrind, or with LT_BENCH_NO_CG=1),
#   - peak RSS for a short and a long trace (RSS must not grow with length),
#   - the cost of stack capture (issue 14): audit replay with capture off
#     (LIFETRACE_STACKS=0) beside the default (on), per CPU second and per
#     instruction.
# Usage: bench/run.sh [EVENTS]   (default 1000000; the short trace is EVENTS/10)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000000}
short=$((n / 10))
cg_n=100000
bash scripts/setup.sh build >/dev/null
cmake --preset release >/dev/null
cmake --build --preset release -j2 --target gen_trace bench_decode bench_replay >/dev/null
b=build/release/bench
dir=${LT_BENCH_DIR:-$(mktemp -d)}
trap '[ -z "${LT_BENCH_DIR:-}" ] && rm -rf "$dir"' EXIT
"$b/gen_trace" "$dir/long.ltrace" "$n" 1 >/dev/null
"$b/gen_trace" "$dir/short.ltrace" "$short" 1 >/dev/null
"$b/gen_trace" "$dir/cg.ltrace" "$cg_n" 1 >/dev/null
instr() { # instr COMMAND...: instructions callgrind counts for the command, or 0
  if [ -n "${LT_BENCH_NO_CG:-}" ] || ! command -v valgrind >/dev/null; then echo 0; return; fi
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null |
    sed -n 's/.*Collected : *\([0-9]*\).*/\1/p; s/.*refs: *\([0-9,]*\).*/\1/p' | tr -d , | head -1
}
decode=$("$b/bench_decode" "$dir/long.ltrace" 3 2>/dev/null)
decode_i=$(instr "$b/bench_decode" "$dir/cg.ltrace" 1)
res=()
for pol in audit kernel; do
  res+=("$("$b/bench_replay" "$dir/long.ltrace" "$pol")")
  res+=("$("$b/bench_replay" "$dir/short.ltrace" "$pol")")
  res+=("$(instr "$b/bench_replay" "$dir/cg.ltrace" "$pol")")
done
nostack=$(LIFETRACE_STACKS=0 "$b/bench_replay" "$dir/long.ltrace" audit)
nostack_i=$(LIFETRACE_STACKS=0 instr "$b/bench_replay" "$dir/cg.ltrace" audit)
res+=("$nostack" "$nostack_i")
python3 - "$decode" "$decode_i" "$cg_n" "${res[@]}" <<'PY'
import json, sys
d = json.loads(sys.argv[1]); d_i = int(sys.argv[2] or 0); cg_n = int(sys.argv[3])
rest = sys.argv[4:]
cpu = open('/proc/cpuinfo').read().split('model name')[1].split(':')[1].splitlines()[0].strip()
print(f"machine: {cpu}, {open('/proc/cpuinfo').read().count('processor')} CPUs; "
      "rates per CPU second of the process, instructions from callgrind")
print(f"trace: {d['events']} events, {d['bytes'] / 1e6:.0f} MB (gen_trace, seed 1)")
dec = d["events_per_cpu_s"]
di = d_i / cg_n if d_i else 0
print(f"decode only   : {dec / 1e6:6.2f} M events/CPU-s" + (f", {di:6.0f} instructions/event" if di else ""))
for k, pol in enumerate(("audit", "kernel")):
    l, s, i = json.loads(rest[3 * k]), json.loads(rest[3 * k + 1]), int(rest[3 * k + 2] or 0)
    rep = l["events_per_cpu_s"]
    line = f"replay {pol:6s}: {rep / 1e6:6.2f} M events/CPU-s ({dec / rep:.1f}x decode CPU time"
    if i and di:
        line += f"; {i / cg_n:6.0f} instructions/event, {i / cg_n / di:.1f}x decode"
    print(line + "); goal 2 M/CPU-s, within 3x")
    print(f"  peak RSS    : {s['peak_rss_mb']:.1f} MB at {s['events']} events, "
          f"{l['peak_rss_mb']:.1f} MB at {l['events']} events; findings {l['findings']} (clean trace)")
ns, ns_i = json.loads(rest[6]), int(rest[7] or 0)
on = json.loads(rest[0])["events_per_cpu_s"]
line = (f"stacks (audit): {on / 1e6:6.2f} M events/CPU-s with capture (default), "
        f"{ns['events_per_cpu_s'] / 1e6:6.2f} without")
i_on = int(rest[2] or 0)
if ns_i and i_on:
    line += f"; {i_on / cg_n:6.0f} vs {ns_i / cg_n:6.0f} instructions/event"
print(line)
PY
