#!/usr/bin/env bash
# Integration test of a fuzz campaign's durability (fuzz.sh, fuzz/fuzz_replay.c,
# lifetrace triage --hits):
#   1. a `kill -9` of fuzz.sh (a CI timeout) takes its workers with it: none
#      survives, and no crash file appears afterwards;
#   2. a rerun on the same --out refuses while the first still runs, and kills
#      the workers an earlier session left running (its watchdog killed too);
#   3. crash files are bounded per signature (LT_FUZZ_SIGDIR, LT_FUZZ_KEEP)
#      while every crashing input is counted, and triage puts the true count
#      in the results database.
# Skipped (exit 77) where clang or the libFuzzer runtime is missing.
#   usage: it_fuzz_durability.sh LIFETRACE SOURCE_DIR WORK_DIR
set -euo pipefail

tool=$1 src=$2 work=$3
rm -rf "$work"
mkdir -p "$work"
work=$(cd "$work" && pwd)
fail() { echo "FAIL: $*" >&2; exit 1; }

command -v clang >/dev/null || { echo "SKIP: no clang"; exit 77; }
printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { return 0; }\n' \
  >"$work/probe.c"
clang -fsanitize=fuzzer "$work/probe.c" -o "$work/probe" 2>/dev/null ||
  { echo "SKIP: clang cannot link -fsanitize=fuzzer (install libclang-rt-14-dev)"; exit 77; }

# The target, built once for every test that needs it (they may run at once).
mkdir -p "$src/build-fuzz"
(cd "$src" && flock "$src/build-fuzz/.build-lock" sh -c 'cmake --preset fuzz-libfuzzer &&
  cmake --build --preset fuzz-libfuzzer --target fuzz_replay -j2') >"$work/build.log" 2>&1 ||
  fail "build failed: $work/build.log"
target=$src/build-fuzz/libfuzzer/fuzz/fuzz_replay

alive() { [ -d "/proc/$1" ] && [ "$(sed -E 's/^.*\) (.).*/\1/' "/proc/$1/stat" 2>/dev/null)" != Z ]; }

# Processes whose environment carries the marker of a campaign in $1 — or,
# for fuzz.sh before the marker, libFuzzer workers and jobs saving crashes in
# its folder. (A zombie has neither: it is dead.)
campaign_procs() {
  { grep -lzxF "LT_FUZZ_CAMPAIGN=$1" /proc/[0-9]*/environ
    grep -lzF -- "-artifact_prefix=$1/" /proc/[0-9]*/cmdline; } 2>/dev/null |
    sed -E 's|^/proc/([0-9]+)/.*|\1|' | sort -u | grep -vx "$$" || true
}
crash_files() { find "$1/crashes/libfuzzer" -type f -name 'crash-*' 2>/dev/null | wc -l; }
wait_workers() { # out seconds
  local end=$((SECONDS + $2))
  while [ "$SECONDS" -lt "$end" ]; do
    [ -z "$(campaign_procs "$1")" ] || return 0
    sleep 0.2
  done
  fail "no worker started within $2 s (see $1.log)"
}
start_campaign() { # out duration
  (cd "$src" && exec ./fuzz.sh --no-build --no-triage --engine libfuzzer --jobs 2 --bugs 10 \
    --duration "$2" --progress 1 --out "$1") >>"$1.log" 2>&1 &
  echo $! >"$1.pid-$$"
  mkdir -p "$1"
  mv "$1.pid-$$" "$1/fuzz.pid"
}
cleanup() { # whatever a failed check left running
  local p
  for p in $(campaign_procs "$work/a"); do kill -KILL "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

# 1. kill -9 of the campaign: no worker survives, no crash file appears after.
camp=$work/a
start_campaign "$camp" 120
wait_workers "$camp" 60
sleep 3 # fuzzing, finding bug 10 again and again
kill -KILL "$(cat "$camp/fuzz.pid")"
sleep 3
left=$(campaign_procs "$camp" | tr '\n' ' ')
[ -z "$left" ] || fail "workers survive a kill -9 of fuzz.sh: $left"
! alive "$(cat "$camp/watchdog.pid")" || fail "the watchdog outlives the campaign"
files=$(crash_files "$camp")
sleep 3
[ "$(crash_files "$camp")" = "$files" ] || fail "crash files still appear after the kill -9"
echo "ok: kill -9 of fuzz.sh: no worker left within 3 s, no crash file after ($files before)"

# 2. Resume: refused while a campaign runs; then no orphan of the earlier one.
start_campaign "$camp" 120
wait_workers "$camp" 60
set +e
(cd "$src" && ./fuzz.sh --no-build --no-triage --bugs 10 --duration 5 --out "$camp") \
  >"$work/second.log" 2>&1
rc=$?
set -e
[ "$rc" = 2 ] && grep -q "another fuzz.sh" "$work/second.log" ||
  fail "a second fuzz.sh on a running campaign's folder should refuse (exit 2), got $rc"
echo "ok: a second fuzz.sh on the same --out refuses while the first runs"
# Lose the watchdog too (as if the whole session's processes were killed but
# the workers): the workers are orphans now.
kill -KILL "$(cat "$camp/watchdog.pid")" "$(cat "$camp/fuzz.pid")"
sleep 1
orphans=$(campaign_procs "$camp" | tr '\n' ' ')
[ -n "$orphans" ] || fail "setup: the workers died without their watchdog"
(cd "$src" && ./fuzz.sh --no-build --no-triage --engine libfuzzer --jobs 1 --bugs 10 --duration 2 \
  --out "$camp") >"$work/resume.log" 2>&1 || fail "the resumed campaign failed: $work/resume.log"
grep -q "killing .* earlier session" "$work/resume.log" || fail "the resume did not report the orphans"
for p in $orphans; do
  ! alive "$p" || fail "orphan $p of the earlier session still runs after the resume"
done
left=$(campaign_procs "$camp" | tr '\n' ' ')
[ -z "$left" ] || fail "processes left after the resumed campaign ended: $left"
echo "ok: the resume killed the earlier session's orphans ($orphans)"

# 3a. The bound, deterministically: one crashing input run 5 times with
# LT_FUZZ_KEEP=2 aborts twice (two crash files), and is counted 5 times.
crash=$(find "$camp/crashes/libfuzzer" -type f -name 'crash-*' | head -1)
[ -n "$crash" ] || fail "the campaign found no crash of bug 10"
mkdir -p "$work/sigs"
aborts=0
for i in 1 2 3 4 5; do
  if ! LT_FUZZ_BUGS=10 LT_FUZZ_SIGDIR=$work/sigs LT_FUZZ_KEEP=2 ASAN_OPTIONS=detect_leaks=0 \
    "$target" "$crash" >"$work/run-$i.log" 2>&1; then
    aborts=$((aborts + 1))
  fi
done
counted=$(cat "$work"/sigs/* 2>/dev/null | wc -c || true)
[ "$aborts" = 2 ] || fail "LT_FUZZ_KEEP=2: expected 2 of 5 runs to abort, got $aborts"
[ "$counted" = 5 ] || fail "expected 5 counted crashes in $work/sigs, got $counted"
echo "ok: one crash run 5 times with LT_FUZZ_KEEP=2: 2 aborts, 5 counted"

# 3b. A campaign in fork mode against bug 10 (it fires on most inputs): at
# most 2 crash files per signature, many more crashes counted.
mkdir -p "$work/flood/corpus" "$work/flood/art" "$work/flood/sigs"
(cd "$work/flood" && LT_FUZZ_BUGS=10 LT_FUZZ_SIGDIR=$work/flood/sigs LT_FUZZ_KEEP=2 LT_FUZZ_QUIET=1 \
  ASAN_OPTIONS=detect_leaks=0 timeout 120 "$target" -fork=2 -ignore_crashes=1 -max_total_time=6 \
  -max_len=16384 -seed=1 -artifact_prefix="$work/flood/art/" corpus "$src/corpus/seeds") \
  >"$work/flood.log" 2>&1 || true
for f in "$work"/flood/art/crash-*; do
  [ -f "$f" ] || continue
  { LT_FUZZ_BUGS=10 ASAN_OPTIONS=detect_leaks=0 "$target" "$f" 2>&1 || true; } |
    sed -n 's/.*==lifetrace-fuzz== FINDING .* sig=\([0-9a-f]*\) .*/\1/p'
done | sort | uniq -c >"$work/flood/per-sig.txt"
[ -s "$work/flood/per-sig.txt" ] || fail "the flood campaign kept no crash file (see $work/flood.log)"
max=$(awk '{if ($1 > m) m = $1} END {print m + 0}' "$work/flood/per-sig.txt")
nfiles=$(awk '{n += $1} END {print n + 0}' "$work/flood/per-sig.txt")
hits=$(cat "$work"/flood/sigs/* 2>/dev/null | wc -c || true)
[ "$max" -le 2 ] || fail "more than 2 crash files for one signature: $(tr '\n' ';' <"$work/flood/per-sig.txt")"
[ "$hits" -gt "$nfiles" ] || fail "expected more counted crashes than files: $hits vs $nfiles"
echo "ok: fork-mode campaign, 6 s: $nfiles crash file(s) (at most $max per signature), $hits crashes counted"

# 3c. Triage records the counts: each finding's count in the database is at
# least the crashes counted for its signature; a second triage adds nothing.
set +e
"$tool" triage -q --no-minimize --bugs 10 --hits "$work/flood/sigs" --db "$work/flood/r.db" \
  --out "$work/flood/triage" "$work/flood/art" >"$work/triage.log" 2>&1
rc=$?
set -e
[ "$rc" = 1 ] || fail "triage should report the crashes (exit 1), got $rc: $work/triage.log"
check_counts() {
  python3 - "$work/flood/r.db" "$work/flood/sigs" <<'EOF'
import os, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
for name in os.listdir(sys.argv[2]):
    if len(name) != 16:
        continue
    hits = os.path.getsize(os.path.join(sys.argv[2], name))
    row = db.execute("SELECT count FROM findings WHERE signature = ?", (name,)).fetchone()
    if row is None or row[0] < hits:
        sys.exit("finding %s: count %s in the database, %d crashes counted" % (name, row, hits))
    print(name, hits, row[0])
EOF
}
before=$(check_counts) || fail "counts not recorded: $before"
"$tool" triage -q --no-minimize --bugs 10 --hits "$work/flood/sigs" --db "$work/flood/r.db" \
  --out "$work/flood/triage" "$work/flood/art" >>"$work/triage.log" 2>&1 || true
after=$(check_counts) || fail "counts lost: $after"
python3 - "$before" "$after" "$work/flood/r.db" <<'EOF' || fail "a second triage re-added the counted crashes"
import sqlite3, sys
b = {l.split()[0]: int(l.split()[2]) for l in sys.argv[1].splitlines()}
a = {l.split()[0]: int(l.split()[2]) for l in sys.argv[2].splitlines()}
# The second triage records its crash files again as a new run's
# occurrences, and nothing of the counted crashes: the count grows by
# exactly that run's occurrences.
db = sqlite3.connect(sys.argv[3])
last = db.execute("SELECT max(id) FROM runs").fetchone()[0]
for k in b:
    occ = db.execute("SELECT count(*) FROM occurrences WHERE run_id = ? AND signature = ?",
                     (last, k)).fetchone()[0]
    if a[k] - b[k] != occ:
        sys.exit("%s: count %d -> %d, but the second triage made %d occurrences" % (k, b[k], a[k], occ))
EOF
echo "ok: triage --hits: database counts $(echo "$before" | awk '{printf "%s%s=%s", (NR > 1 ? ", " : ""), $1, $3}')"
