#!/usr/bin/env bash
# Integration test of `replay -j N` and `check -j N`: spread over worker
# processes, the output (text and --json), the exit code, JUnit, SARIF and the
# results database are those of -j 1. Pool addresses differ between any two
# runs (ASLR, and ASan's heap) and times always do; both are masked before comparing.
#
# args: TOOL SOURCE_DIR WORK_DIR
set -u
tool=$1 src=$2 work=$3
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
fails=0
check() { # check DESCRIPTION COMMAND...
  local what=$1
  shift
  if "$@"; then echo "ok: $what"; else echo "FAIL: $what"; fails=$((fails + 1)); fi
}
norm() {
  sed -E 's/"seconds":[0-9.]+//g; s/"events_per_second":[0-9.]+//g; s/0x[0-9a-f]{9,16}/ADDR/g; s/timestamp="[^"]*"//g;
          s/[0-9]+\.[0-9]+ s\)/X s)/g; s/\([0-9.]+ s\)/(X s)/g; s/time="[0-9.]+"//g' "$1"
}
same() { diff <(norm "$1") <(norm "$2") >/dev/null; }
dbdump() {
  sqlite3 "$1" "select signature,kind,severity,ddi,site,status,count,repro_command from findings
                order by signature;
                select id,signature,trace_id,seq,severity,event,object,pid,process,history,expected
                from occurrences order by id;
                select id,path,sha256,size,n_events,verdict,diag,n_findings from traces order by id;"
}
mapfile -t traces < <(find "$src/corpus/regressions" -name '*.jsonl' | sort)
for j in 1 3; do
  "$tool" replay --json -j "$j" --db "r$j.db" "${traces[@]}" >"r$j.json" 2>"r$j.err"
  echo $? >"r$j.rc"
  "$tool" replay -q --policy kernel -j "$j" "${traces[@]}" >"k$j.txt" 2>&1
  "$tool" check -j "$j" --db "c$j.db" --junit "c$j.xml" --sarif "c$j.sarif" \
    "$src/corpus/regressions" >"c$j.out" 2>&1
  echo $? >"c$j.rc"
done
check "replay -j 1 printed verdicts" grep -q "\"policy\"" r1.json
check "replay -j 3 prints the JSON verdicts of -j 1, in order" same r1.json r3.json
check "replay -j 3 gives the exit code of -j 1" cmp -s r1.rc r3.rc
check "replay -j 3 prints the same on stderr" same r1.err r3.err
check "replay -j 3 prints the text of -j 1" same k1.txt k3.txt
check "check -j 3 prints what -j 1 prints" same c1.out c3.out
check "check -j 3 gives the exit code of -j 1" cmp -s c1.rc c3.rc
check "check -j 3 writes the JUnit of -j 1" same c1.xml c3.xml
check "check -j 3 writes the SARIF of -j 1" same c1.sarif c3.sarif
if command -v sqlite3 >/dev/null; then
  check "replay -j 3 records what -j 1 records" diff <(dbdump r1.db) <(dbdump r3.db)
  check "check -j 3 records what -j 1 records" diff <(dbdump c1.db) <(dbdump c3.db)
  check "the database holds the traces at all" test "$(sqlite3 c3.db 'select count(*) from traces')" -gt 10
fi
# A seeded bug makes findings, so the comparison is not of empty outputs.
"$tool" replay --json --bugs p19 -j 1 "${traces[@]:0:6}" >b1.json 2>/dev/null
"$tool" replay --json --bugs p19 -j 4 "${traces[@]:0:6}" >b4.json 2>/dev/null
check "findings under a seeded bug are the same with -j 4" same b1.json b4.json
check "and there are findings" grep -q miniport-double-free b4.json
exit $((fails > 0))
