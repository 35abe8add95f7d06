#!/usr/bin/env bash
# Integration test of C++ drivers out of tree (docs/bring-your-own-driver.md,
# "C++ drivers"): installs this build, builds tests/cxx_driver against the
# installed package (find_package + lifetrace_add_driver with a .cpp source),
# and checks both test drivers — one with its own operator new/delete, one
# with plain new on lifetrace's — replay their corpus clean, with their
# objects on the tracked pool under their own tag, as shared objects that
# export only lt_miniport_entry. With clang (libFuzzer), the ASan fuzz
# variant runs over lifetrace's seeds and the driver's corpus.
# args: TOOL SOURCE_DIR WORK_DIR (exit 77 = skipped)
set -u
tool=$1 src=$2 work=$3
build=$(cd "$(dirname "$tool")" && pwd)
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
fails=0
check() {
  local what=$1
  shift
  if "$@"; then echo "ok: $what"; else echo "FAIL: $what"; fails=$((fails + 1)); fi
}
[ -f "$build/CMakeCache.txt" ] || { echo "skip: $build is not a CMake build tree"; exit 77; }
cc=$(sed -n 's/^CMAKE_C_COMPILER:[A-Z]*=//p' "$build/CMakeCache.txt")
cxx=$(sed -n 's/^CMAKE_CXX_COMPILER:[A-Z]*=//p' "$build/CMakeCache.txt")
[ -n "$cxx" ] || { echo "skip: this build has no C++ compiler"; exit 77; }
if ! cmake --install "$build" --prefix "$work/prefix" >install.log 2>&1; then
  cat install.log
  echo "FAIL: cmake --install"
  exit 1
fi
check "installed the C++ glue" test -f prefix/lib/cmake/lifetrace/LifetraceCxxNew.cpp
if ! cmake -S "$src/tests/cxx_driver" -B cxx -DCMAKE_C_COMPILER="$cc" -DCMAKE_CXX_COMPILER="$cxx" \
  -DCMAKE_BUILD_TYPE=Debug -DCMAKE_PREFIX_PATH="$work/prefix" >configure.log 2>&1 ||
  ! cmake --build cxx -j2 >build.log 2>&1; then
  cat configure.log build.log | tail -40
  echo "FAIL: building tests/cxx_driver against the installed lifetrace"
  exit 1
fi
lt=$work/prefix/bin/lifetrace
for drv in cxxplain cxxown; do
  so=$work/cxx/lib$drv.so
  check "lib$drv.so exports only lt_miniport_entry" \
    test "$(nm -D --defined-only "$so" | awk '$2 ~ /[TWV]/ {print $3}')" = lt_miniport_entry
  check "lib$drv.so binds operator new/delete to its own" \
    test -z "$(nm -D --undefined-only "$so" | grep -E ' _Zn[wa]|_Zd[la]')"
  bash "$src/tests/cxx_driver/check.sh" "$work/cxx/lifetrace-$drv" "$so" "$lt" \
    "$src/tests/cxx_driver/corpus" >check-$drv.out 2>&1
  rc=$?
  grep -E "^(ok|FAIL)" check-$drv.out
  check "$drv: replayed clean, objects on the tracked pool under its tag" test $rc = 0
  fuzzer=$work/cxx/fuzz-$drv
  if [ -x "$fuzzer" ]; then
    mkdir -p fuzz-$drv
    LT_FUZZ_QUIET=1 "$fuzzer" -seed=1 -runs=5000 -artifact_prefix="$work/fuzz-$drv/" \
      fuzz-$drv "$src/corpus/seeds" >fuzz-$drv.log 2>&1
    rc=$?
    tail -2 fuzz-$drv.log
    check "fuzz-$drv (ASan, libFuzzer): lifetrace's seeds and 5000 mutations, no crash" test $rc = 0
  else
    echo "note: no fuzz-$drv (not clang with libFuzzer): fuzz checks skipped"
  fi
done
[ "$fails" -eq 0 ] || { echo "$fails check(s) failed"; exit 1; }
echo "all checks passed"
