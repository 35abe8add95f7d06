#!/bin/bash -eu
# ClusterFuzzLite / OSS-Fuzz build of lifetrace's fuzz targets (docs/fuzzing.md,
# "Past one machine"). The engine's `compile` runs it inside the builder image
# with the variables OSS-Fuzz defines; it runs as well outside a container with
# the same variables (tests/it_cfl.sh does that):
#
#   CC, CXX            clang, clang++ (link with $CXX: the engine may be C++)
#   CFLAGS, CXXFLAGS   sanitizer + coverage flags (-fsanitize=address,fuzzer-no-link ...)
#   LIB_FUZZING_ENGINE the engine's link flag or library (-fsanitize=fuzzer)
#   OUT                where the targets, seed zips, dictionaries and options go
#   SRC, WORK          the sources' parent folder, a scratch folder
#   SANITIZER          address (default), undefined, memory, coverage
#
# and two of lifetrace's own, to fuzz a driver of one's own as well as the
# reference miniport:
#
#   LIFETRACE_DRIVER_DIR   folder of the driver's CMakeLists.txt (one that calls
#                          lifetrace_add_driver; relative to the lifetrace tree or
#                          absolute), e.g. examples/sample-driver or $SRC/kmd/lifetrace
#   LIFETRACE_DRIVER_NAME  the name given to lifetrace_add_driver (default: read
#                          from that CMakeLists.txt)
#   LIFETRACE_DRIVER_SEEDS seed traces in the fuzz form for it (default corpus/seeds)
#
# Targets written to $OUT (each with <target>_seed_corpus.zip, <target>.dict,
# <target>.options):
#   fuzz_replay          the replay target, reference driver, structure-aware
#                        mutator (LLVMFuzzerCustomMutator) linked in
#   fuzz_replay_<name>   the same with the user's driver linked in instead
#   fuzz_read_binary, fuzz_read_jsonl, fuzz_read_xml, fuzz_read_csv,
#   fuzz_read_dumper, fuzz_read_expected    the readers
#
# Every library the targets need beyond libc is linked statically: the image
# that runs them has no packages of ours (.clusterfuzzlite/static-deps.cmake).

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ -n "${LIFETRACE_SRC:-}" ]; then
  root=$LIFETRACE_SRC
elif [ -f "$here/../fuzz/fuzz_replay.c" ]; then
  root=$(cd "$here/.." && pwd)      # run from the tree (.clusterfuzzlite/build.sh)
else
  root=$SRC/lifetrace               # the Dockerfile's copy ($SRC/build.sh)
fi
: "${SANITIZER:=address}" "${WORK:=/tmp}" "${CXX:=clang++}"
build=$WORK/lifetrace-build-$SANITIZER
mkdir -p "$OUT" "$build"
say() { printf '[build.sh] %s\n' "$*"; }

# ---- the user's driver (optional) --------------------------------------------------------
drv_dir="" drv_name=""
if [ -n "${LIFETRACE_DRIVER_DIR:-}" ]; then
  drv_dir=$LIFETRACE_DRIVER_DIR
  case "$drv_dir" in /*) ;; *) drv_dir=$root/$drv_dir ;; esac
  [ -f "$drv_dir/CMakeLists.txt" ] || { echo "build.sh: no CMakeLists.txt in $drv_dir" >&2; exit 1; }
  drv_name=${LIFETRACE_DRIVER_NAME:-$(sed -nE 's/^[[:space:]]*lifetrace_add_driver\([[:space:]]*([A-Za-z0-9_]+).*/\1/p' \
    "$drv_dir/CMakeLists.txt" | head -1)}
  [ -n "$drv_name" ] || { echo "build.sh: set LIFETRACE_DRIVER_NAME (no lifetrace_add_driver in $drv_dir)" >&2; exit 1; }
fi

# ---- configure and build ------------------------------------------------------------------
readers=(fuzz_read_binary fuzz_read_jsonl fuzz_read_xml fuzz_read_csv fuzz_read_dumper fuzz_read_expected)
targets=(fuzz_replay "${readers[@]}")
[ -z "$drv_name" ] || targets+=("fuzz_replay_$drv_name")
gen=()
command -v ninja >/dev/null && gen=(-G Ninja)
say "configuring in $build (sanitizer $SANITIZER${drv_name:+, driver $drv_name})"
cmake -S "$root" -B "$build" "${gen[@]}" -DCMAKE_BUILD_TYPE=None \
  -DCMAKE_C_COMPILER="$CC" -DCMAKE_C_FLAGS="$CFLAGS" \
  -DCMAKE_C_LINK_EXECUTABLE="$CXX <FLAGS> <CMAKE_C_LINK_FLAGS> <LINK_FLAGS> <OBJECTS> -o <TARGET> <LINK_LIBRARIES>" \
  -DCMAKE_PROJECT_INCLUDE="$root/.clusterfuzzlite/static-deps.cmake" \
  -DLT_FUZZ=libfuzzer -DLT_LIB_FUZZING_ENGINE="$LIB_FUZZING_ENGINE" -DLT_SANITIZE=OFF \
  -DLT_BUILD_TESTS=OFF -DLT_BUILD_BENCH=OFF \
  -DLT_DRIVERS="$drv_dir" -DLT_FUZZ_EXTRA_DRIVERS="$drv_name" >"$build/configure.log" 2>&1 ||
  { cat "$build/configure.log"; exit 1; }
for t in "${targets[@]}"; do
  say "building $t"
  cmake --build "$build" --target "$t" -j"${LT_JOBS:-$(nproc)}" >"$build/build-$t.log" 2>&1 ||
    { tail -50 "$build/build-$t.log"; exit 1; }
  cp "$build/fuzz/$t" "$OUT/$t"
done

# ---- seeds, dictionaries, options ---------------------------------------------------------
# seed_zip TARGET SUFFIX DIR...: every file named *SUFFIX under the DIRs, named
# by its path below its DIR (miniport/bug-1.jsonl -> miniport_bug-1.jsonl).
seed_zip() {
  local t=$1 suffix=$2 stage=$build/seeds-$1 d f
  shift 2
  rm -rf "$stage" "$OUT/${t}_seed_corpus.zip"
  mkdir -p "$stage"
  for d in "$@"; do
    while IFS= read -r f; do
      cp "$d/$f" "$stage/${f//\//_}"
    done < <(cd "$d" && find . -type f -name "*$suffix" | sed 's|^\./||')
  done
  [ -n "$(ls -A "$stage")" ] || { echo "build.sh: no seeds for $t in $*" >&2; exit 1; }
  (cd "$stage" && zip -q -X "$OUT/${t}_seed_corpus.zip" ./*)
}
# meta TARGET DICT MAX_LEN: the dictionary as <target>.dict and the options file.
meta() {
  cp "$root/fuzz/$2" "$OUT/$1.dict"
  printf '[libfuzzer]\ndict = %s.dict\nmax_len = %s\n' "$1" "$3" >"$OUT/$1.options"
}
c=$root/corpus
seed_zip fuzz_replay .bin "$c/seeds"
meta fuzz_replay lifetrace.dict 16384
seed_zip fuzz_read_binary .bin "$c/seeds"
meta fuzz_read_binary lifetrace.dict 16384
seed_zip fuzz_read_jsonl .jsonl "$c/regressions"
meta fuzz_read_jsonl jsonl.dict 65536
seed_zip fuzz_read_xml .xml "$c/etw"
meta fuzz_read_xml etw_xml.dict 65536
seed_zip fuzz_read_csv .csv "$c/etw"
meta fuzz_read_csv etw_csv.dict 65536
seed_zip fuzz_read_dumper .txt "$c/etw"
meta fuzz_read_dumper xperf_dumper.dict 65536
seed_zip fuzz_read_expected .expected.json "$c/regressions" "$c/etw"
meta fuzz_read_expected expected.dict 16384
if [ -n "$drv_name" ]; then
  seed_zip "fuzz_replay_$drv_name" .bin "${LIFETRACE_DRIVER_SEEDS:-$c/seeds}"
  meta "fuzz_replay_$drv_name" lifetrace.dict 16384
fi
say "done: ${targets[*]} in $OUT"
