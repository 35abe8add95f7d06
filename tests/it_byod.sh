#!/usr/bin/env bash
# Integration test of "bring your own driver" (docs/bring-your-own-driver.md):
# installs this build of lifetrace into a temporary prefix with cmake --install,
# builds examples/sample-driver out of tree against it (find_package +
# lifetrace_add_driver), and checks what a driver team relies on:
#   - the example's regression corpus passes `lifetrace check --driver`, and
#     its CTest test does the same;
#   - with sample bug 1 on, every bug trace is caught (miniport-stale-reference
#     at the destroy; without the introspection hook, a use-after-free of pool
#     tag 'SmRx'); with it off, every trace of the corpus replays clean;
#   - its findings point into its source (issue 14): every miniport finding
#     of the bug-1 traces (--json) has a driver frame with a file under
#     examples/sample-driver and a line (also in a build without a build
#     type with the other compiler); the SARIF of the corpus run
#     validates (with ../shared's schema) and locates each miniport result
#     in examples/sample-driver/ (tests/byod_frames.py);
#   - lifetrace-smpkmd (the driver linked in) behaves like --driver;
#   - a driver built for another miniport ABI, or without lt_miniport_entry,
#     is refused with a message that says so.
#
# args: TOOL SOURCE_DIR WORK_DIR (exit 77 = skipped)
set -u
tool=$1 src=$2 work=$3
build=$(cd "$(dirname "$tool")" && pwd)
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
fails=0

check() { # check DESCRIPTION COMMAND...
  local what=$1
  shift
  if "$@"; then echo "ok: $what"; else echo "FAIL: $what"; fails=$((fails + 1)); fi
}
has() { grep -qF -- "$2" "$1"; }

[ -f "$build/CMakeCache.txt" ] || { echo "skip: $build is not a CMake build tree"; exit 77; }
command -v cmake >/dev/null || { echo "skip: no cmake"; exit 77; }
cc=$(sed -n 's/^CMAKE_C_COMPILER:[A-Z]*=//p' "$build/CMakeCache.txt")
gen=()
command -v ninja >/dev/null && gen=(-G Ninja)

# 1. install, then build the example out of tree against the installed package
if ! cmake --install "$build" --prefix "$work/prefix" >install.log 2>&1; then
  cat install.log
  echo "FAIL: cmake --install"
  exit 1
fi
lt=$work/prefix/bin/lifetrace
check "installed the tool, the headers and the package" \
  test -x "$lt" -a -f prefix/include/lifetrace/driver.h -a -f prefix/include/lifetrace/wdk/d3dkmddi.h \
  -a -f prefix/lib/cmake/lifetrace/lifetraceConfig.cmake
if ! cmake -S "$src/examples/sample-driver" -B smp "${gen[@]}" -DCMAKE_C_COMPILER="$cc" \
  -DCMAKE_BUILD_TYPE=Debug -DCMAKE_PREFIX_PATH="$work/prefix" >configure.log 2>&1 ||
  ! cmake --build smp -j2 >build.log 2>&1; then
  cat configure.log build.log | tail -40
  echo "FAIL: building examples/sample-driver against the installed lifetrace"
  exit 1
fi
so=$work/smp/libsmpkmd.so
linked=$work/smp/lifetrace-smpkmd
check "built libsmpkmd.so and lifetrace-smpkmd" test -f "$so" -a -x "$linked"
check "the .so exports only lt_miniport_entry" \
  test "$(nm -D --defined-only "$so" | awk '$2 == "T" {print $3}')" = lt_miniport_entry

# 2. the corpus with its expected verdicts, through --driver and through CTest
corpus=$src/examples/sample-driver/corpus
"$lt" check --driver "$so" --junit check.xml --sarif check.sarif --repo "$src" "$corpus" >check.out 2>&1
rc=$?
cat check.out
check "lifetrace check --driver passes the example's corpus" test $rc = 0
check "every trace of the corpus ran" has check.out "8 traces: 8 passed, 0 failed, 0 errors"
(cd smp && ctest --output-on-failure >ctest.out 2>&1)
check "the example's CTest test (lifetrace_add_driver CORPUS) passes" test $? = 0

# 3. the bug with its flag on, and a clean corpus with it off
replay_kinds() { # replay_kinds OUT DRIVER-ARGS... TRACE: error kinds, one a line
  local out=$1
  shift
  "$@" --policy kernel --json >"$out.json" 2>"$out.err"
  echo $? >"$out.rc"
  python3 -c 'import json,sys
d=json.load(open(sys.argv[1]))
sys.stdout.write("".join(f["kind"] + "\n" for f in d["findings"] if f["severity"] == "error"))' \
    "$out.json" >"$out"
}
n=0
for t in "$corpus"/bug-1/*.jsonl; do
  n=$((n + 1))
  replay_kinds on$n "$lt" replay --driver "$so" --bugs 1 "$t"
  check "bug on: $(basename "$t") exits 1" test "$(cat on$n.rc)" = 1
  check "bug on: $(basename "$t") finds the stale handle-cache entry" has on$n miniport-stale-reference
done
for t in "$corpus"/*/*.jsonl; do
  n=$((n + 1))
  replay_kinds off$n "$lt" replay --driver "$so" --bugs none "$t"
  check "bug off: $(basename "$t") is clean" test "$(cat off$n.rc)" = 0 -a ! -s off$n
done
frames() { python3 "$src/tests/byod_frames.py" "$@" >frames.out 2>&1; local rc=$?; cat frames.out; return $rc; }
check "every miniport finding of bug 1 has a frame in examples/sample-driver with a line" \
  frames json "$src/examples/sample-driver" on[0-9]*.json
schema=$src/../shared/schemas/sarif-schema-2.1.0.json
if [ -r "$schema" ]; then
  python3 "$src/scripts/validate_sarif.py" "$schema" check.sarif
  rc=$?
  [ $rc = 77 ] && rc=0
  check "the corpus run's SARIF validates against the 2.1.0 schema" test $rc = 0
fi
check "SARIF locates each miniport result in examples/sample-driver/" \
  frames sarif examples/sample-driver/ check.sarif
# The README's build: no build type, and clang where it is installed (without
# -g and, with clang, -gdwarf-aranges, libdw found no line).
pcc=$cc
command -v clang >/dev/null && [ "$(basename "$cc")" != clang ] && pcc=clang
if cmake -S "$src/examples/sample-driver" -B smp-plain "${gen[@]}" -DCMAKE_C_COMPILER="$pcc" \
  -DCMAKE_PREFIX_PATH="$work/prefix" >plain.log 2>&1 && cmake --build smp-plain -j2 --target smpkmd >>plain.log 2>&1; then
  for t in "$corpus"/bug-1/*.jsonl; do
    "$lt" replay --driver smp-plain/libsmpkmd.so --bugs 1 --policy kernel --json "$t" >"plain-$(basename "$t" .jsonl).json" 2>/dev/null
  done
  check "$(basename "$pcc"), no build type: every miniport finding has a frame in the source with a line" \
    frames json "$src/examples/sample-driver" plain-*.json
else
  tail -20 plain.log
  check "building the example with $(basename "$pcc") and no build type" false
fi
evict=$corpus/bug-1/stale-handle-cache-eviction-writes-freed-block.jsonl
SMPKMD_NO_INTROSPECTION=1 "$lt" replay --policy kernel --driver "$so" --bugs 1 "$evict" >nohook.out 2>&1
check "without the hook: a use-after-free of the freed extension block ('SmRx')" \
  has nohook.out "miniport-use-after-free on pool"
check "without the hook: no stale-reference finding" test "$(grep -c stale-reference nohook.out)" = 0
check "without the hook: the finding names the pool tag" has nohook.out "tag 'SmRx'"

# 4. the driver linked in: lifetrace-smpkmd without --driver
bug=$corpus/bug-1/stale-handle-cache-group-destroy.jsonl
replay_kinds linked_on "$linked" replay --bugs 1 "$bug"
check "lifetrace-smpkmd: bug on finds it" has linked_on miniport-stale-reference
replay_kinds linked_off "$linked" replay "$bug"
check "lifetrace-smpkmd: bug off is clean" test "$(cat linked_off.rc)" = 0 -a ! -s linked_off
check "lifetrace-smpkmd reports the linked driver" \
  python3 -c 'import json,sys; sys.exit(json.load(open(sys.argv[1]))["miniport"]["name"] != "smpkmd")' \
  linked_off.json
"$linked" check -q "$corpus" >linked_check.out 2>&1
check "lifetrace-smpkmd check passes the corpus" test $? = 0

# 5. ABI versioning: refused at load, with a message that says why
cat >future.c <<'EOF'
#include <lifetrace/driver.h>
static const LT_MINIPORT Future = {.AbiVersion = LT_MINIPORT_ABI_VERSION + 1,
                                   .Size = sizeof(LT_MINIPORT), .Name = "future"};
LT_DEFINE_MINIPORT_ENTRY(Future)
EOF
echo 'int not_a_driver(void) { return 0; }' >noentry.c
"$cc" -shared -fPIC -I"$work/prefix/include" future.c -o future.so &&
  "$cc" -shared -fPIC noentry.c -o noentry.so || { echo "FAIL: building the ABI probes"; exit 1; }
"$lt" replay --driver "$work/future.so" "$bug" >future.out 2>&1
rc=$?
cat future.out
check "a driver for another ABI version is refused (exit 2)" test $rc = 2
abi=$(sed -n 's/^#define LT_MINIPORT_ABI_VERSION \([0-9]*\)u.*/\1/p' "$work/prefix/include/lifetrace/miniport.h")
check "the refusal names both ABI versions" has future.out \
  "miniport ABI version $((abi + 1)), but this lifetrace implements version $abi"
"$lt" check --driver "$work/future.so" "$corpus" >future_check.out 2>&1
rc=$?
check "lifetrace check refuses it too" test $rc != 0 -a $rc != 1
check "lifetrace check says why" has future_check.out "miniport ABI version $((abi + 1))"
"$lt" replay --driver "$work/noentry.so" "$bug" >noentry.out 2>&1
check "a .so without lt_miniport_entry is refused" test $? = 2
check "the refusal says what is missing" has noentry.out "no lt_miniport_entry()"

# 6. a short campaign, when the compiler could build the libFuzzer variant (clang):
#    the bug is found from lifetrace's seeds; with it off, 20000 inputs are clean
fuzzer=$work/smp/fuzz-smpkmd
if [ -x "$fuzzer" ] && [ -d "$src/corpus/seeds" ]; then
  mkdir -p fuzz-on fuzz-off
  LT_FUZZ_QUIET=1 LT_FUZZ_BUGS=1 "$fuzzer" -seed=1 -runs=300000 -max_total_time=120 \
    -artifact_prefix="$work/fuzz-on/" fuzz-on "$src/corpus/seeds" >fuzz-on.log 2>&1
  grep -F "FINDING" fuzz-on.log
  check "fuzz-smpkmd finds sample bug 1" has fuzz-on.log "FINDING miniport-stale-reference"
  LT_FUZZ_QUIET=1 "$fuzzer" -seed=1 -runs=20000 -artifact_prefix="$work/fuzz-off/" fuzz-off \
    "$src/corpus/seeds" >fuzz-off.log 2>&1
  rc=$?
  tail -1 fuzz-off.log
  check "fuzz-smpkmd with the bug off: 20000 inputs, no crash" test $rc = 0
else
  echo "note: no fuzz-smpkmd (not clang, or no libFuzzer): campaign checks skipped"
fi

if [ "$fails" -ne 0 ]; then
  echo "$fails check(s) failed"
  exit 1
fi
echo "all checks passed"
