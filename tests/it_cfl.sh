#!/usr/bin/env bash
# Integration test of the ClusterFuzzLite / OSS-Fuzz build (.clusterfuzzlite/,
# docs/fuzzing.md "Past one machine"). No container engine here, so build.sh
# runs directly with the variables OSS-Fuzz's `compile` sets (CC, CXX, CFLAGS,
# CXXFLAGS, LIB_FUZZING_ENGINE, OUT, SRC, WORK, SANITIZER), for the reference
# driver and for a user's driver (examples/sample-driver through
# LIFETRACE_DRIVER_DIR). Then, as `check_build` and `run_fuzzer` would:
#   - every target is in $OUT with <target>_seed_corpus.zip, .dict, .options;
#   - the targets need no shared library beyond the C/C++ runtime (the runner
#     image has none of ours);
#   - the replay targets carry the structure-aware mutator;
#   - each target runs over its unzipped seeds (-runs=0) without a crash, and
#     fuzz_replay fuzzes for 3 s with its .options (dict, max_len).
#
# args: TOOL SOURCE_DIR WORK_DIR (exit 77 = skipped: no clang or libFuzzer)
set -u
src=$2 work=$3
rm -rf "$work" && mkdir -p "$work/out" "$work/work" "$work/run" && cd "$work" || exit 1
fails=0
check() { # check DESCRIPTION COMMAND...
  local what=$1
  shift
  if "$@"; then echo "ok: $what"; else echo "FAIL: $what"; fails=$((fails + 1)); fi
}

for t in clang clang++ zip unzip cmake; do
  command -v $t >/dev/null || { echo "skip: no $t"; exit 77; }
done
printf '#include <stdint.h>\n#include <stddef.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { return 0; }\n' >probe.c
clang -fsanitize=address,fuzzer probe.c -o probe >/dev/null 2>&1 ||
  { echo "skip: clang cannot link libFuzzer (libclang-rt-14-dev)"; exit 77; }

flags="-O1 -fno-omit-frame-pointer -gline-tables-only -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION"
flags="$flags -fsanitize=address -fsanitize-address-use-after-scope -fsanitize=fuzzer-no-link"
if ! env CC=clang CXX=clang++ CFLAGS="$flags" CXXFLAGS="$flags" LIB_FUZZING_ENGINE=-fsanitize=fuzzer \
  OUT="$work/out" SRC="$(dirname "$src")" WORK="$work/work" SANITIZER=address LT_JOBS=2 \
  LIFETRACE_DRIVER_DIR=examples/sample-driver bash "$src/.clusterfuzzlite/build.sh" >build.log 2>&1; then
  cat build.log
  echo "FAIL: build.sh"
  exit 1
fi
cat build.log

targets="fuzz_replay fuzz_replay_smpkmd fuzz_read_binary fuzz_read_jsonl fuzz_read_xml fuzz_read_csv
         fuzz_read_dumper fuzz_read_expected"
for t in $targets; do
  check "$t: target, seed zip, dict and options in \$OUT" test -x "out/$t" -a -s "out/${t}_seed_corpus.zip" \
    -a -s "out/$t.dict" -a -s "out/$t.options"
  check "$t: options name its dictionary and max_len" grep -qxF "dict = $t.dict" "out/$t.options"
  check "$t: no shared library of ours (statically linked)" \
    test -z "$(ldd "out/$t" | grep -E 'protobuf|zstd|jansson|sqlite|expat')"
  mkdir -p "run/$t/seeds"
  unzip -q -o "out/${t}_seed_corpus.zip" -d "run/$t/seeds"
  n=$(ls "run/$t/seeds" | wc -l)
  (cd "run/$t" && "../../out/$t" -runs=0 -dict="../../out/$t.dict" seeds >log 2>&1)
  rc=$?
  check "$t: runs its $n seeds without a crash (exit $rc)" test $rc = 0
  check "$t: libFuzzer read every seed" grep -q "INFO: seed corpus: files: $n " "run/$t/log"
done
for t in fuzz_replay fuzz_replay_smpkmd; do
  check "$t: the structure-aware mutator is linked in" \
    test "$(nm "out/$t" | grep -cE ' T LLVMFuzzer(CustomMutator|CustomCrossOver)$')" = 2
done

# A short fuzz with the options file's flags, as run_fuzzer passes them.
opts=$(sed -n 's/^\([a-z_]*\) = \(.*\)/-\1=\2/p' out/fuzz_replay.options | sed 's|-dict=|-dict=../../out/|')
mkdir -p run/fuzz/corpus
# shellcheck disable=SC2086
(cd run/fuzz && "../../out/fuzz_replay" $opts -max_total_time=3 corpus ../fuzz_replay/seeds >log 2>&1)
rc=$?
check "fuzz_replay fuzzes 3 s with its options (exit $rc)" test $rc = 0
check "fuzz_replay uses the custom mutator" grep -q "found LLVMFuzzerCustomMutator" run/fuzz/log
check "fuzz_replay loaded its dictionary" grep -q "Dictionary: [1-9][0-9]* entries" run/fuzz/log
check "fuzz_replay grew its corpus" test "$(ls run/fuzz/corpus | wc -l)" -gt 0
[ $rc = 0 ] || tail -30 run/fuzz/log

echo "it_cfl: $fails failure(s)"
[ $fails = 0 ]
