#!/usr/bin/env bash
# bench_fuzz.sh — time to first detection of each seeded bug of the reference
# driver, for three fuzzers on the same target, seeds and dictionary:
#
#   sa     libFuzzer with the structure-aware mutator (fuzz_replay)
#   plain  libFuzzer with its byte-level mutators only (fuzz_replay_plain)
#   afl    AFL++ (persistent mode) with the custom mutator library, its own
#          stages on too (fuzz_replay_afl + afl_mutator.so)
#
# One fuzzer process at a time (one core), one bug switched on, a fresh
# corpus; the run ends at the first crash or after --timeout seconds (then
# the time is censored: ">= timeout"). The seeds (corpus/seeds) replay clean
# with every seeded bug on, so every detection is the fuzzer's. Prints a
# Markdown table of medians over --runs runs, and the steady exec/s of each
# configuration (one --throughput-second run with no bug on), each also per
# CPU second of the fuzzer's processes (steady on a shared machine, unlike
# wall time), and keeps raw results in OUT/results.csv (a rerun skips
# finished runs).
#
#   bench/bench_fuzz.sh [--runs 3] [--timeout 300] [--throughput 60]
#                       [--bugs "1 2 ... 10"] [--configs "sa plain afl"]
#                       [--out bench-fuzz-out] [--no-build]
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
runs=3 timeout=300 throughput=60 bugs="1 2 3 4 5 6 7 8 9 10" configs="sa plain afl"
out=bench-fuzz-out build=1

while [ $# -gt 0 ]; do
  case "$1" in
  --runs) runs=$2; shift 2 ;;
  --timeout) timeout=$2; shift 2 ;;
  --throughput) throughput=$2; shift 2 ;;
  --bugs) bugs=$2; shift 2 ;;
  --configs) configs=$2; shift 2 ;;
  --out) out=$2; shift 2 ;;
  --no-build) build=0; shift ;;
  -h | --help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "bench_fuzz.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

mkdir -p "$out"
out=$(cd "$out" && pwd)
SEEDS=$ROOT/corpus/seeds
DICT=$ROOT/fuzz/lifetrace.dict
LF=$ROOT/build-fuzz/libfuzzer/fuzz
AFL_BIN=$ROOT/build-fuzz/afl/fuzz/fuzz_replay_afl
AFL_MUTATOR=$ROOT/build-fuzz/tools/fuzz/afl_mutator.so
results=$out/results.csv
[ -f "$results" ] || echo "bug,config,run,found,seconds,execs,exec_per_sec,exec_per_cpu_sec" >"$results"

if [ "$build" = 1 ]; then
  for p in fuzz-tools fuzz-libfuzzer fuzz-afl; do
    (cd "$ROOT" && cmake --preset "$p" && cmake --build --preset "$p" -j"$(nproc)") \
      >"$out/build-$p.log" 2>&1 || { echo "build $p failed: $out/build-$p.log" >&2; exit 4; }
  done
fi

now() { date +%s.%N; }
# cpu FILE COMMAND...: runs the command, adding its CPU seconds (user + system,
# its waited children included) to FILE.
cpu() {
  local f=$1 t
  shift
  t=$(mktemp)
  /usr/bin/time -f '%U %S' -o "$t" "$@" || true
  awk '{ s += $1 + $2 } END { printf "%.3f\n", s }' "$t" "$f" 2>/dev/null >"$t.sum" || true
  mv "$t.sum" "$f"
  rm -f "$t"
}
calc() { awk "BEGIN { printf \"%.3f\", $1 }"; }

# A crash that is not a lifetrace finding (a sanitizer report in the harness
# itself) is not a detection: the input is kept aside (harness-crash-*) and
# libFuzzer restarts on the same corpus for the time left.
run_libfuzzer() { # bin bug run dir -> "found seconds execs exec_per_sec exec_per_cpu_sec"
  local bin=$1 bug=$2 run=$3 dir=$4 t0 log left found=0 execs=0 k=0
  mkdir -p "$dir/corpus" "$dir/art"
  echo 0 >"$dir/cpu"
  t0=$(now)
  while :; do
    left=$(calc "$timeout - ($(now) - $t0)" | cut -d. -f1)
    [ "${left:-0}" -gt 0 ] || break
    k=$((k + 1))
    log=$dir/log.$k
    LT_FUZZ_BUGS=${bug#-} LT_FUZZ_QUIET=1 ASAN_OPTIONS=detect_leaks=0 cpu "$dir/cpu" \
      timeout $((left + 60)) "$bin" -seed=$((run * 1000 + k)) -max_total_time="$left" -max_len=16384 -dict="$DICT" \
      -print_final_stats=1 -artifact_prefix="$dir/art/" "$dir/corpus" "$SEEDS" >"$log" 2>&1
    local n
    n=$(grep -a 'stat::number_of_executed_units' "$log" | awk '{print $2}' | tail -1)
    [ -n "$n" ] || n=$(grep -aoE '^#[0-9]+' "$log" | tail -1 | tr -d '#')
    execs=$((execs + ${n:-0}))
    if grep -aq '==lifetrace-fuzz== FINDING' "$log"; then
      found=1
      break
    fi
    for c in "$dir/art"/crash-*; do
      [ -f "$c" ] && mv "$c" "$dir/harness-$(basename "$c")"
    done
    grep -aq 'Test unit written' "$log" || break # ran out of time without a crash
  done
  local secs
  secs=$(calc "$(now) - $t0")
  local eps
  eps=$(calc "$execs / $secs" | cut -d. -f1)
  [ "$found" = 1 ] || secs=$timeout
  echo "$found $secs $execs $eps $(calc "$execs / ($(cat "$dir/cpu") + 1e-9)" | cut -d. -f1)"
}

run_afl() { # bug run dir
  local bug=$1 run=$2 dir=$3
  rm -rf "$dir/o"
  echo 0 >"$dir/cpu"
  LT_FUZZ_BUGS=${bug#-} LT_FUZZ_QUIET=1 AFL_BENCH_UNTIL_CRASH=1 AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 \
    AFL_NO_AFFINITY=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_CUSTOM_MUTATOR_LIBRARY=$AFL_MUTATOR \
    cpu "$dir/cpu" timeout $((timeout + 60)) afl-fuzz -s "$run" -i "$SEEDS" -o "$dir/o" \
    -V "$timeout" -x "$DICT" -t 5000+ -m none -- "$AFL_BIN" >"$dir/log" 2>&1
  local first found=0 secs=$timeout stats=$dir/o/default/fuzzer_stats
  first=$(ls "$dir/o/default/crashes" 2>/dev/null | grep '^id:' | sort | head -1 || true)
  if [ -n "$first" ]; then
    found=1
    secs=$(echo "$first" | sed -E 's/.*time:([0-9]+).*/\1/' | awk '{printf "%.3f", $1 / 1000}')
  fi
  local execs eps
  execs=$(awk -F': *' '/^execs_done/ {print $2}' "$stats" 2>/dev/null || echo 0)
  eps=$(awk -F': *' '/^execs_per_sec/ {print $2}' "$stats" 2>/dev/null || echo 0)
  echo "$found $secs ${execs:-0} ${eps:-0} $(calc "${execs:-0} / ($(cat "$dir/cpu") + 1e-9)" | cut -d. -f1)"
}

one_run() { # bug config run
  local bug=$1 config=$2 run=$3 dir r found secs execs eps
  grep -q "^$bug,$config,$run," "$results" && return 0
  dir=$out/work/$config-bug$bug-run$run
  rm -rf "$dir"
  mkdir -p "$dir"
  case "$config" in
  sa) r=$(run_libfuzzer "$LF/fuzz_replay" "$bug" "$run" "$dir") ;;
  plain) r=$(run_libfuzzer "$LF/fuzz_replay_plain" "$bug" "$run" "$dir") ;;
  afl) r=$(run_afl "$bug" "$run" "$dir") ;;
  *) echo "unknown config $config" >&2; exit 2 ;;
  esac
  read -r found secs execs eps ceps <<<"$r"
  echo "$bug,$config,$run,$found,$secs,$execs,$eps,$ceps" >>"$results"
  printf 'bug %-3s %-6s run %s: %s in %s s (%s execs, %s exec/s, %s exec/CPU-s)\n' "$bug" \
    "$config" "$run" "$([ "$found" = 1 ] && echo found || echo 'NOT found')" "$secs" "$execs" \
    "$eps" "$ceps"
  rm -rf "$dir/corpus" "$dir/o/default/queue" # keep logs and crashes only
}

for bug in $bugs; do
  for config in $configs; do
    for run in $(seq 1 "$runs"); do
      one_run "$bug" "$config" "$run"
    done
  done
done

# Steady throughput: no bug on (bug "-"), so nothing stops the run.
if [ "$throughput" -gt 0 ]; then
  saved=$timeout
  timeout=$throughput
  for config in $configs; do one_run - "$config" 1; done
  timeout=$saved
fi

python3 - "$results" "$timeout" "$configs" >"$out/table.md" <<'EOF'
import csv, statistics, sys
path, timeout, configs = sys.argv[1], float(sys.argv[2]), sys.argv[3].split()
names = {"sa": "libFuzzer + structure-aware mutator", "plain": "libFuzzer, byte-level",
         "afl": "AFL++ + custom mutator"}
rows = list(csv.DictReader(open(path)))
bugs = sorted({int(r["bug"]) for r in rows if r["bug"] != "-"})
def cell(bug, cfg):
    rs = [r for r in rows if r["bug"] == str(bug) and r["config"] == cfg]
    if not rs:
        return None, "-"
    t = statistics.median(float(r["seconds"]) if r["found"] == "1" else timeout for r in rs)
    found = sum(r["found"] == "1" for r in rs)
    text = (">= %.0f s" % timeout) if t >= timeout else ("%.1f s" % t)
    return t, "%s (%d/%d)" % (text, found, len(rs))
print("| seeded bug | " + " | ".join(names.get(c, c) for c in configs) + " |")
print("|---|" + "---|" * len(configs))
med = {c: [] for c in configs}
for b in bugs:
    cells = []
    for c in configs:
        t, text = cell(b, c)
        if t is not None:
            med[c].append(t)
        cells.append(text)
    print("| %d | %s |" % (b, " | ".join(cells)))
print("| **median over bugs** | " + " | ".join(
    ("%.1f s" % statistics.median(med[c])) if med[c] else "-" for c in configs) + " |")
eps, steady = [], []
for c in configs:
    v = [float(r["exec_per_sec"]) for r in rows
         if r["config"] == c and r["bug"] != "-" and float(r["exec_per_sec"]) > 0]
    eps.append("%.0f" % statistics.median(v) if v else "-")
    w = [float(r["exec_per_sec"]) for r in rows if r["config"] == c and r["bug"] == "-"]
    steady.append("%.0f" % w[0] if w else "-")
print("| exec/s until detection (median of runs) | " + " | ".join(eps) + " |")
print("| exec/s, no bug on (steady) | " + " | ".join(steady) + " |")
ceps = []
for c in configs:
    v = [float(r.get("exec_per_cpu_sec") or 0) for r in rows if r["config"] == c]
    v = [x for x in v if x > 0]
    ceps.append("%.0f" % statistics.median(v) if v else "-")
print("| exec per CPU-second (median of runs) | " + " | ".join(ceps) + " |")
if "sa" in med and "plain" in med and med["sa"] and med["plain"]:
    a, b = statistics.median(med["sa"]), statistics.median(med["plain"])
    print("\nStructure-aware vs byte-level libFuzzer, median over the bugs: %.1f s vs %.1f s "
          "(%.0fx faster%s)." % (a, b, b / a if a > 0 else float("inf"),
                                  "; byte-level censored at the timeout" if b >= timeout else ""))
print("\nCells: median time to first detection over runs (found/runs); a run that "
      "found nothing counts as the %.0f s timeout." % timeout)
EOF
cat "$out/table.md"
