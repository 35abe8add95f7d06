#!/usr/bin/env bash
# Integration test of fuzzing: the seeded-bug regression traces, then a short
# libFuzzer run that must find seeded bug 3 with the signature its regression
# trace shows, and a triage that turns the crash into a minimized reproducer
# `lifetrace replay` confirms. The fuzzing half is skipped (exit 77) where
# clang or the libFuzzer runtime (libclang-rt-14-dev) is missing.
#   usage: it_fuzz.sh LIFETRACE SOURCE_DIR WORK_DIR
set -euo pipefail

tool=$1 src=$2 work=$3
rm -rf "$work"
mkdir -p "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }

# 1. Each seeded bug's regression trace shows it, and is clean with it off.
n=0
for t in "$src"/corpus/regressions/miniport/bug-*.jsonl; do
  bug=$(basename "$t" | sed -E 's/^bug-([0-9]+)-.*/\1/')
  "$tool" replay -q --policy kernel "$t" >/dev/null || fail "$t is not clean with bug $bug off"
  set +e
  "$tool" replay -q --policy kernel --bugs "$bug" "$t" >/dev/null
  rc=$?
  set -e
  [ "$rc" = 1 ] || fail "$t: bug $bug on should give error findings (exit 1), got $rc"
  n=$((n + 1))
done
[ "$n" -ge 10 ] || fail "expected a regression trace per seeded bug, found $n"
echo "ok: $n seeded-bug regression traces find their bug and are clean without it"

# 2. Can this machine build libFuzzer targets at all?
command -v clang >/dev/null || { echo "SKIP: no clang"; exit 77; }
printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { return 0; }\n' \
  >"$work/probe.c"
clang -fsanitize=fuzzer "$work/probe.c" -o "$work/probe" 2>/dev/null ||
  { echo "SKIP: clang cannot link -fsanitize=fuzzer (install libclang-rt-14-dev)"; exit 77; }

# 3. Build the target (incremental when fuzz.sh built it before).
# (under a lock: tests/it_fuzz_durability.sh builds it too, maybe at once)
mkdir -p "$src/build-fuzz"
(cd "$src" && flock "$src/build-fuzz/.build-lock" sh -c 'cmake --preset fuzz-libfuzzer &&
  cmake --build --preset fuzz-libfuzzer --target fuzz_replay -j"$(nproc)"') >"$work/build.log" 2>&1 ||
  fail "build failed: $work/build.log"
target=$src/build-fuzz/libfuzzer/fuzz/fuzz_replay

# 4. The signature bug 3 shows in its regression trace.
want=$( ("$tool" replay --json --policy kernel --bugs 3 "$src"/corpus/regressions/miniport/bug-3-*.jsonl ||
  true) | python3 -c 'import json,sys; v=json.load(sys.stdin); print([f["signature"] for f in v["findings"] if f["severity"]=="error"][0])')

# 5. Fuzz for up to 20 s with bug 3 on: libFuzzer stops at the first crash.
mkdir -p "$work/corpus" "$work/art"
set +e
LT_FUZZ_BUGS=3 ASAN_OPTIONS=detect_leaks=0 timeout 120 "$target" -max_total_time=20 -max_len=16384 \
  -seed=1 -artifact_prefix="$work/art/" "$work/corpus" "$src/corpus/seeds" >"$work/fuzz.log" 2>&1
rc=$?
set -e
[ "$rc" != 0 ] || fail "no crash in 20 s (see $work/fuzz.log)"
line=$(grep -a '==lifetrace-fuzz== FINDING' "$work/fuzz.log" | head -1)
[ -n "$line" ] || fail "the crash is not a lifetrace finding (see $work/fuzz.log)"
echo "$line" | grep -q "sig=$want" || fail "expected signature $want, got: $line"
echo "ok: $line"

# 6. Triage: a minimized reproducer that lifetrace replay confirms.
set +e
"$tool" triage -q --bugs 3 --out "$work/triage" "$work/art"
rc=$?
set -e
[ "$rc" = 1 ] || fail "triage should report the crash (exit 1), got $rc"
repro=$(ls "$work"/triage/repro/"$want"-bug-3.jsonl) || fail "no reproducer for $want"
set +e
"$tool" replay -q --policy kernel --bugs 3 "$repro" >"$work/replay.log"
rc=$?
set -e
[ "$rc" = 1 ] && grep -q miniport-crash "$work/replay.log" || fail "reproducer not confirmed: $repro"
events=$(($(wc -l <"$repro") - 1))
[ "$events" -le 6 ] || fail "reproducer not minimized: $events events"
echo "ok: minimized reproducer $repro ($events events) confirmed"

# 7. A driver that reads freed pool memory is caught in a campaign: with
# --special-pool the workers fault at the read (seeded bug 10 reads its
# resource block before freeing it again), and triage in the special pool
# signs the crash as miniport-use-after-free and confirms a reproducer.
(cd "$src" && ./fuzz.sh --no-build --no-triage --special-pool --bugs 10 --duration 15 --jobs 1 \
  --progress 5 --out "$work/special") >"$work/special.log" 2>&1 ||
  fail "fuzz.sh --special-pool failed: $work/special.log"
set +e
"$tool" triage -q --special-pool --bugs 10 --out "$work/special/triage" "$work/special/crashes" \
  >"$work/special-triage.log" 2>&1
rc=$?
set -e
[ "$rc" = 1 ] || fail "triage of the special-pool campaign should report crashes, got $rc"
grep -q "| 10 | miniport-use-after-free | .* | yes |" "$work/special/triage/triage.md" ||
  fail "no confirmed miniport-use-after-free with --special-pool (see $work/special/triage/triage.md)"
grep -q -- "--special-pool" "$work/special/triage/triage.md" ||
  fail "the reproduce command does not ask for the special pool"
echo "ok: fuzz.sh --special-pool finds and confirms a read after free (bug 10)"
