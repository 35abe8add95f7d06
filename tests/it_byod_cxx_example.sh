#!/usr/bin/env bash
# Integration test of the C++ example driver (examples/render-driver, rndkmd;
# docs/bring-your-own-driver.md, "C++ drivers"): installs this build into a
# temporary prefix, builds the example out of tree against it (find_package +
# lifetrace_add_driver with .cpp sources, nothing but its adapter file), and
# checks that
#   - its .so exports only lt_miniport_entry and keeps its own operator
#     new/delete (imports none);
#   - its regression corpus passes `lifetrace check --driver`, and its CTest
#     test does the same;
#   - with bug 1 on, every bug-1 trace is caught (a stale DMA-queue reference
#     at the destroy, then the worker's write to the freed allocation, tag
#     'RdAl'); with it off, every trace of the corpus replays clean; the
#     linked lifetrace-rndkmd does the same;
#   - its findings point into its source (issue 14): every miniport finding
#     of the bug-1 traces (--json) has a driver frame with a file under
#     examples/render-driver and a line, and names no function mangled
#     (_Z...); the same for a build without a build type with the other
#     compiler (clang when the build is gcc); the SARIF of the corpus run
#     validates (with ../shared's schema) and locates each miniport result
#     in examples/render-driver/ (tests/byod_frames.py);
#   - with clang (the libFuzzer variant), fuzz-rndkmd finds bug 1 from
#     lifetrace's seeds and runs clean with it off; with AFL++ and this
#     tree's fuzz builds (build-fuzz/afl, build-fuzz/tools), a short
#     `fuzz.sh --engine afl` campaign on librndkmd-afl.so finds it too.
# The fuzz checks are skipped with a note where the tools are missing.
#
# args: TOOL SOURCE_DIR WORK_DIR (exit 77 = skipped)
set -u
tool=$1 src=$(cd "$2" && pwd) work=$3
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
cc=$(sed -n 's/^CMAKE_C_COMPILER:[A-Z]*=//p' "$build/CMakeCache.txt")
cxx=$(sed -n 's/^CMAKE_CXX_COMPILER:[A-Z]*=//p' "$build/CMakeCache.txt")
[ -n "$cxx" ] || { echo "skip: this build has no C++ compiler"; exit 77; }
ex=$src/examples/render-driver
corpus=$ex/corpus

# 1. install, then build the example out of tree: only its adapter file knows lifetrace
if ! cmake --install "$build" --prefix "$work/prefix" >install.log 2>&1; then
  cat install.log
  echo "FAIL: cmake --install"
  exit 1
fi
lt=$work/prefix/bin/lifetrace
check "one lifetrace-specific file (the adapter file)" \
  test "$(grep -l 'lifetrace/' "$ex"/src/* "$ex"/lifetrace/* | xargs -n1 basename)" = rndkmd_lifetrace.cpp
printf '#include <ntddk.h>\nC_ASSERT(STATUS_WAIT_1 == STATUS_WAIT_0 + 1);\nC_ASSERT(STATUS_WAIT_63 == 63);\nC_ASSERT(STATUS_ABANDONED_WAIT_0 == 0x80);\n' >waits.c
check "the WDK stand-ins name KeWaitForMultipleObjects' results (STATUS_WAIT_1, ...)" \
  "$cc" -fsyntax-only -I"$work/prefix/include" -I"$work/prefix/include/lifetrace/wdk" waits.c
if command -v clang >/dev/null; then
  printf '#include <ntddk.h>\n#include <pshpack4.h>\ntypedef struct { char c; int i; } S;\n#include <poppack.h>\n' >pack.c
  check "<pshpack4.h>/<poppack.h> compile without clang's -Wpragma-pack (as the WDK's silence C4103)" \
    clang -Werror -fsyntax-only -I"$work/prefix/include" -I"$work/prefix/include/lifetrace/wdk" pack.c
fi
if ! cmake -S "$ex" -B rnd -DCMAKE_C_COMPILER="$cc" -DCMAKE_CXX_COMPILER="$cxx" \
  -DCMAKE_BUILD_TYPE=Debug -DCMAKE_PREFIX_PATH="$work/prefix" >configure.log 2>&1 ||
  ! cmake --build rnd -j2 >build.log 2>&1; then
  cat configure.log build.log | tail -40
  echo "FAIL: building examples/render-driver against the installed lifetrace"
  exit 1
fi
so=$work/rnd/librndkmd.so
linked=$work/rnd/lifetrace-rndkmd
check "no warning in the driver's build (-Wall -Wextra)" test "$(grep -c 'warning:' build.log)" = 0
check "librndkmd.so exports only lt_miniport_entry" \
  test "$(nm -D --defined-only "$so" | awk '$2 ~ /[TWV]/ {print $3}')" = lt_miniport_entry
check "librndkmd.so binds operator new/delete to its own" \
  test -z "$(nm -D --undefined-only "$so" | grep -E ' _Zn[wa]|_Zd[la]')"
check "the driver's placement new (pool type, tag) is its own" \
  test -n "$(nm --defined-only rnd/librndkmd_static.a | grep -E ' T _Znwm(9_POOL_TYPE|[0-9A-Za-z_]*POOL)')"

# 2. the corpus: lifetrace check --driver, and the example's CTest test
"$lt" check --driver "$so" --junit check.xml --sarif check.sarif --repo "$src" "$corpus" >check.out 2>&1
rc=$?
grep -v swapcontext check.out
check "lifetrace check --driver passes the example's corpus" test $rc = 0
check "every trace of the corpus ran" has check.out "8 traces: 8 passed, 0 failed, 0 errors"
(cd rnd && ctest --output-on-failure >ctest.out 2>&1)
check "the example's CTest test (lifetrace_add_driver CORPUS) passes" test $? = 0

# 3. bug 1 on and off, trace by trace
replay_kinds() { # replay_kinds OUT TOOL-ARGS...: error kinds, one a line
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
  b=$(basename "$t")
  replay_kinds on$n "$lt" replay --driver "$so" --bugs trust-dxgk-idle "$t"
  check "bug on: $b exits 1" test "$(cat on$n.rc)" = 1
  check "bug on: $b finds the packet's stale reference" has on$n miniport-stale-reference
  check "bug on: $b finds the worker's write to the freed allocation" has on$n miniport-use-after-free
  "$lt" replay --policy kernel --driver "$so" --bugs 1 "$t" >on$n.txt 2>&1
  check "bug on: $b names the DMA queue and the allocation's tag" \
    test "$(grep -c -e 'driver site: dma-queue' -e "tag 'RdAl'" on$n.txt)" -ge 2
done
for t in "$corpus"/*/*.jsonl; do
  n=$((n + 1))
  replay_kinds off$n "$lt" replay --driver "$so" --bugs none "$t"
  check "bug off: $(basename "$t") is clean" test "$(cat off$n.rc)" = 0 -a ! -s off$n
done
"$lt" replay --driver "$so" --bugs 2 "$corpus/clean/tdr-with-queued-work.jsonl" >bug2.out 2>&1
check "an unknown bug is refused" test $? != 0 -a $? != 1
bug=$corpus/bug-1/destroy-behind-other-node.jsonl
replay_kinds linked_on "$linked" replay --bugs 1 "$bug"
check "lifetrace-rndkmd: bug on finds it" has linked_on miniport-stale-reference
replay_kinds linked_off "$linked" replay "$bug"
check "lifetrace-rndkmd: bug off is clean" test "$(cat linked_off.rc)" = 0 -a ! -s linked_off

# 3b. findings point into the driver's source, C++ names demangled
frames() { python3 "$src/tests/byod_frames.py" "$@" >frames.out 2>&1; local rc=$?; cat frames.out; return $rc; }
check "every miniport finding of bug 1 has a frame in examples/render-driver with a line, no _Z name" \
  frames json "$ex" on[0-9]*.json
schema=$src/../shared/schemas/sarif-schema-2.1.0.json
if [ -r "$schema" ]; then
  python3 "$src/scripts/validate_sarif.py" "$schema" check.sarif
  rc=$?
  [ $rc = 77 ] && rc=0
  check "the corpus run's SARIF validates against the 2.1.0 schema" test $rc = 0
fi
check "SARIF locates each miniport result in examples/render-driver/, no _Z name" \
  frames sarif examples/render-driver/ check.sarif
# The example's README build: no build type, and clang where it is installed
# (without -g and, with clang, -gdwarf-aranges, libdw found no line).
if command -v clang++ >/dev/null && [ "$(basename "$cxx")" != clang++ ]; then
  pcc=clang pcxx=clang++
else
  pcc=$cc pcxx=$cxx
fi
if cmake -S "$ex" -B rnd-plain -DCMAKE_C_COMPILER="$pcc" -DCMAKE_CXX_COMPILER="$pcxx" \
  -DCMAKE_PREFIX_PATH="$work/prefix" >plain.log 2>&1 && cmake --build rnd-plain -j2 --target rndkmd >>plain.log 2>&1; then
  for t in "$corpus"/bug-1/*.jsonl; do
    "$lt" replay --driver rnd-plain/librndkmd.so --bugs 1 --policy kernel --json "$t" >"plain-$(basename "$t" .jsonl).json" 2>/dev/null
  done
  check "$(basename "$pcxx"), no build type: every miniport finding has a frame in the source with a line" \
    frames json "$ex" plain-*.json
else
  tail -20 plain.log
  check "building the example with $(basename "$pcxx") and no build type" false
fi

# 4. libFuzzer (clang): fuzz-rndkmd finds bug 1 from lifetrace's seeds
fuzzer=$work/rnd/fuzz-rndkmd
if [ -x "$fuzzer" ]; then
  mkdir -p lf-on lf-off
  t0=$(date +%s)
  LT_FUZZ_QUIET=1 LT_FUZZ_BUGS=1 "$fuzzer" -seed=1 -max_total_time=60 \
    -artifact_prefix="$work/lf-on/" lf-on "$src/corpus/seeds" >lf-on.log 2>&1
  echo "libFuzzer: first finding after $(($(date +%s) - t0)) s"
  grep -m1 -F "FINDING" lf-on.log
  check "fuzz-rndkmd finds bug 1" has lf-on.log "FINDING miniport-"
  LT_FUZZ_QUIET=1 "$fuzzer" -seed=1 -runs=3000 -artifact_prefix="$work/lf-off/" lf-off \
    "$src/corpus/seeds" >lf-off.log 2>&1
  check "fuzz-rndkmd with the bug off: 3000 inputs, no crash" test $? = 0
else
  echo "note: no fuzz-rndkmd (not clang with libFuzzer): libFuzzer checks skipped"
fi

# 5. AFL++: fuzz.sh --engine afl with the example's AFL++ variant
afl_so=$work/rnd/librndkmd-afl.so
if [ -f "$afl_so" ] && command -v afl-fuzz >/dev/null && [ -x "$src/build-fuzz/afl/fuzz/fuzz_replay_afl" ] &&
  [ -x "$src/build-fuzz/tools/lifetrace" ] && [ -f "$src/build-fuzz/tools/fuzz/afl_mutator.so" ]; then
  AFL_SKIP_CPUFREQ=1 bash "$src/fuzz.sh" --no-build --engine afl --jobs 1 --duration 30 --bugs 1 \
    --driver "$afl_so" --triage-driver "$so" --out "$work/afl" >afl.log 2>&1
  tail -5 afl.log
  check "fuzz.sh --engine afl finds bug 1 in librndkmd-afl.so" \
    test -n "$(grep -l 'miniport-' "$work"/afl/triage/triage.md 2>/dev/null)"
else
  echo "note: no AFL++ run (needs clang, afl-fuzz, and build-fuzz/afl + build-fuzz/tools in $src)"
fi

[ "$fails" -eq 0 ] || { echo "$fails check(s) failed"; exit 1; }
echo "all checks passed"
