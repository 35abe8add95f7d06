#!/usr/bin/env bash
# Integration test of a fuzz.sh campaign run twice on the same --out (issue 17,
# "The campaign"): the build says how far it got; progress lines count the
# distinct findings (signatures), not crash keys; the second session's first
# progress line shows its own numbers, not the first session's last ones;
# each session prunes the libFuzzer corpus (-merge=1) and says by how much;
# each run in the results database carries the driver's sha256 and the
# --driver-version given. Skipped (77) without clang + libFuzzer.
#   usage: it_fuzz_campaign.sh LIFETRACE SOURCE_DIR WORK_DIR
set -uo pipefail
src=$2 work=$3
rm -rf "$work" && mkdir -p "$work" || exit 1
fails=0
check() { # check DESCRIPTION COMMAND...
  local what=$1
  shift
  if "$@"; then echo "ok: $what"; else echo "FAIL: $what"; fails=$((fails + 1)); fi
}

command -v clang >/dev/null || { echo "SKIP: no clang"; exit 77; }
printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { return 0; }\n' >"$work/probe.c"
clang -fsanitize=fuzzer "$work/probe.c" -o "$work/probe" 2>/dev/null ||
  { echo "SKIP: clang cannot link -fsanitize=fuzzer"; exit 77; }

# Builds through fuzz.sh (under the lock the other fuzz tests take), so its
# build progress is part of the test; incremental after the first time.
mkdir -p "$src/build-fuzz"
run() { # session-name extra-args...
  local name=$1
  shift
  (cd "$src" && flock "$src/build-fuzz/.build-lock" ./fuzz.sh --engine libfuzzer --jobs 1 --bugs 3 \
    --duration 8 --progress 2 --out "$work/out" "$@") >"$work/$name.log" 2>&1
}
run first --driver-version v1.0
rc=$?
check "first session exits 0 ($rc)" test $rc = 0
check "the build says how far it got" grep -qE '\[fuzz.sh\]   fuzz-(tools|libfuzzer): (built in|[0-9]+)' "$work/first.log"
check "progress lines count distinct findings" grep -qE 'distinct findings [0-9]+ \([0-9]+ new\)' "$work/first.log"
check "no 'known crash keys' any more" test "$(grep -c 'known crash keys' "$work/first.log")" = 0
check "first session prunes the corpus" grep -qE 'corpus pruned \(libFuzzer -merge=1\): [0-9]+ -> [0-9]+ inputs' "$work/first.log"
last1=$(grep -E '^\[fuzz.sh\] [0-9]+/8s' "$work/first.log" | tail -1)

run second --no-build --driver-version v1.1
rc=$?
check "second session exits 0 ($rc)" test $rc = 0
first2=$(grep -E '^\[fuzz.sh\] [0-9]+/8s' "$work/second.log" | head -1)
echo "first session's last line:  $last1"
echo "second session's first line: $first2"
execs() { sed -nE 's/.*libFuzzer: ([0-9]+) execs.*/\1/p' <<<"$1"; }
check "the resumed session's first line is its own (execs $(execs "$first2") < $(execs "$last1"))" \
  test "$(execs "$first2")" -lt "$(execs "$last1")"
check "the resumed session counts the earlier finding as known (0 new)" \
  grep -qE '^\[fuzz.sh\] [0-9]+/8s .*distinct findings [1-9][0-9]* \(0 new\)' <<<"$first2"
check "second session prunes the corpus" grep -qE 'corpus pruned' "$work/second.log"
check "pruning adds no crash file" test "$(sed -nE 's/.*crash files ([0-9]+) \(0 new\).*/\1/p' <<<"$first2")" = \
  "$(sed -nE 's/.*crash files ([0-9]+) .*/\1/p' <<<"$last1")"
check "each run records the driver's version and sha256" python3 - "$work/out/results.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
rows = db.execute("select driver_version, length(driver_sha256) from runs order by id").fetchall()
assert rows == [("v1.0", 64), ("v1.1", 64)], rows
PY
"$1" findings --db "$work/out/results.db" >"$work/findings.out" 2>&1
check "lifetrace findings shows the driver of the first and last run" \
  grep -qE 'first seen with v1.0 \(sha256 [0-9a-f]{12}\), last with v1.1' "$work/findings.out"

echo "it_fuzz_campaign: $fails failure(s)"
[ $fails = 0 ]
