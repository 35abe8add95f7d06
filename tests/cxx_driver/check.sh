#!/usr/bin/env bash
# A C++ test driver (cxxdrv.cpp) replays the clean corpus with no finding,
# linked in (lifetrace-<drv>) and as a shared object (lifetrace --driver),
# and with its "leak" bug on, the leaked objects are pool blocks of its tag.
# args: LINKED_TOOL DRIVER_SO LIFETRACE CORPUS_DIR
set -u
linked=$1 so=$2 lt=$3 corpus=$4
name=$(basename "$linked")
case $name in *cxxown*) tag=CxOw ;; *) tag=CxPl ;; esac
fails=0
check() {
  local what=$1
  shift
  if "$@"; then echo "ok: $what"; else echo "FAIL: $what"; fails=$((fails + 1)); fi
}
n=0
for t in "$corpus"/*.jsonl; do
  n=$((n + 1))
  "$linked" replay --policy kernel "$t" >out.$$ 2>&1
  rc=$?
  [ $rc = 0 ] || { cat out.$$; echo "FAIL: $name: $(basename "$t") (exit $rc)"; fails=$((fails + 1)); }
  "$lt" replay --policy kernel --driver "$so" "$t" >out.$$ 2>&1
  rc=$?
  [ $rc = 0 ] || { cat out.$$; echo "FAIL: --driver $so: $(basename "$t") (exit $rc)"; fails=$((fails + 1)); }
done
echo "replayed $n traces"
check "$name replays the clean corpus" test $n -gt 0
t=$corpus/resource-lifetime.jsonl
"$linked" replay --policy kernel --bugs leak "$t" >leak.$$ 2>&1
cat leak.$$
check "$name: leaked objects are reported" grep -q "miniport-leak" leak.$$
check "$name: with the driver's pool tag '$tag'" grep -q "'$tag'" leak.$$
"$lt" replay --policy kernel --driver "$so" --bugs leak "$t" >leak.$$ 2>&1
check "--driver $(basename "$so"): leaked objects carry tag '$tag'" grep -q "'$tag'" leak.$$
rm -f out.$$ leak.$$
[ $fails = 0 ] || { echo "$fails check(s) failed"; exit 1; }
echo "all checks passed"
