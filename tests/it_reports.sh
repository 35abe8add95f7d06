#!/usr/bin/env bash
# Integration test of the results database and its reports, as a user meets
# them: replay a few traces with --db, read the findings, triage one, diff two
# runs, write the report and open it in headless Chromium. Checks that the
# rendered page has its charts and findings table, that a process named
# "<script>alert(1)</script>" shows as text and runs nothing, and keeps a
# screenshot (WORK_DIR/report.png) as the test's artifact.
#
# args: TOOL SOURCE_DIR WORK_DIR   (exit 77 only when Chromium is missing)
set -u
tool=$1 src=$2 work=$3
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
py=/usr/bin/python3
[ -x "$py" ] || py=python3
fails=0

check() { # check DESCRIPTION COMMAND...
  local what=$1
  shift
  if "$@"; then echo "ok: $what"; else echo "FAIL: $what"; fails=$((fails + 1)); fi
}
has() { grep -qF -- "$2" "$1"; }
hasnt() { ! grep -qiF -- "$2" "$1"; }

evil='<script>alert(1)</script>'
header='{"lifetrace": 1, "source": "it_reports", "ends": "teardown", "segments": [{"id": 1, "kind": "local", "size": 67108864}], "processes": [{"pid": 100, "name": "'$evil'"}]}'
create='{"op": "device_create", "device": 1, "pid": 100}
{"op": "alloc_create", "device": 1, "allocs": [{"alloc": 256, "size": 4096}]}'
printf '%s\n%s\n%s\n%s\n%s\n' "$header" "$create" '{"op": "alloc_destroy", "allocs": [256]}' \
  '{"op": "alloc_destroy", "allocs": [256]}' '{"op": "device_destroy", "device": 1}' >double.jsonl
printf '%s\n%s\n%s\n%s\n' "$header" "$create" '{"op": "alloc_destroy", "allocs": [256]}' \
  '{"op": "device_destroy", "device": 1}' >clean.jsonl
printf '%s\n%s\n%s\n' "$header" "$create" '{"op": "device_destroy", "device": 1}' >leak.jsonl

# three replays, as a user would run them
"$tool" replay -q --db results.db double.jsonl clean.jsonl >r1.out 2>&1
check "replay with findings exits 1" test $? = 1
"$tool" replay -q --db results.db double.jsonl leak.jsonl >r2.out 2>&1
"$tool" replay -q --db results.db clean.jsonl >r3.out 2>&1
check "clean replay exits 0" test $? = 0
# --max-findings keeps details of 1 finding, but the database holds every
# finding's true count: 3 double destroys, and a leak seen only past the cap
printf '%s\n%s\n%s\n%s\n%s\n' "$header" '{"op": "device_create", "device": 1, "pid": 100}' \
  '{"op": "alloc_create", "device": 1, "allocs": [{"alloc": 256}, {"alloc": 257}, {"alloc": 258}, {"alloc": 259}]}' \
  '{"op": "alloc_destroy", "allocs": [256, 257, 258]}' '{"op": "alloc_destroy", "allocs": [256]}' >many.jsonl
printf '%s\n%s\n%s\n' '{"op": "alloc_destroy", "allocs": [257]}' \
  '{"op": "alloc_destroy", "allocs": [258]}' '{"op": "device_destroy", "device": 1}' >>many.jsonl
"$tool" replay --json --max-findings 1 --db capped.db many.jsonl >capped.json 2>capped.err
check "replay --db --max-findings 1 stores every finding's true count" "$py" - capped.db capped.json <<'EOF'
import json, sqlite3, sys
v = json.load(open(sys.argv[2]))
assert v["summary"]["kept"] == 1 and v["summary"]["total"] == 4, v["summary"]
db = sqlite3.connect(sys.argv[1])
counts = dict(db.execute("select kind, count from findings"))
assert counts == {"double-destroy": 3, "leak": 1}, counts
assert db.execute("select n_findings from traces").fetchone()[0] == 4
EOF

# a fuzz campaign's stats, as the fuzzing driver records them
"$py" - results.db <<'EOF'
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1])
t0 = int(time.time() * 1000) - 3600_000
db.execute("insert into runs (uuid, kind, command, started_at, ended_at, exit_code) "
           "values ('fuzz-1', 'fuzz', 'fuzz.sh --engine libfuzzer', ?, ?, 0)", (t0, t0 + 600_000))
run = db.execute("select id from runs where uuid = 'fuzz-1'").fetchone()[0]
for i in range(10):
    db.execute("insert into stats (run_id, t, execs, exec_per_sec, corpus_size, coverage) "
               "values (?, ?, ?, ?, ?, ?)", (run, t0 + i * 60_000, i * 50_000, 800 + 20 * i,
                                              20 + i, 300 + 15 * i))
db.commit()
EOF

"$tool" findings --db results.db --json >findings.json
check "findings --json lists both signatures" "$py" - findings.json <<'EOF'
import json, sys
f = {x["kind"]: x for x in json.load(open(sys.argv[1]))}
assert set(f) == {"double-destroy", "leak"}, f
d = f["double-destroy"]
assert d["count"] == 2 and d["runs"] == 2 and d["status"] == "open", d
assert d["process"] == "<script>alert(1)</script>"
assert "lifetrace replay" in d["repro_command"] and "double.jsonl" in d["repro_command"]
assert d["repro_size"] > 0
EOF
sig=$("$py" -c 'import json,sys; print([x["signature"] for x in json.load(open(sys.argv[1])) if x["kind"] == "leak"][0])' findings.json)

"$tool" diff --db results.db 1 2 >diff.out
check "diff exits 1 when the second run has new findings" test $? = 1
cat diff.out
check "diff shows the new leak" grep -q "^new .*leak" diff.out
check "diff shows double-destroy unchanged" grep -q "^unchanged .*double-destroy" diff.out
"$tool" diff --db results.db --json 2 3 >diff.json
check "diff --json: both gone from run 2 to run 3" "$py" -c '
import json, sys; d = json.load(open(sys.argv[1]))
assert len(d["gone"]) == 2 and not d["new"] and not d["unchanged"], d' diff.json
"$tool" diff --db results.db 1 99 >/dev/null 2>&1
check "diff of an unknown run exits 3" test $? = 3

"$tool" mark --db results.db "${sig:0:8}" fixed >mark.out
check "mark by signature prefix" test $? = 0
"$tool" findings --db results.db --status fixed >fixed.out
check "the marked finding is listed as fixed" grep -q "^$sig  fixed" fixed.out
"$tool" findings --db results.db >open.out
check "and no longer as open" hasnt open.out "$sig"
"$tool" mark --db results.db ffffffff fixed >/dev/null 2>&1
check "marking an unknown signature exits 1" test $? = 1

"$tool" report --db results.db --out report --title "nightly $evil" >report.out
check "report exits 0" test $? = 0
check "report wrote index.html, summary.md and finding pages" \
  test -s report/index.html -a -s report/summary.md -a -s "report/findings/$sig.html"
check "no markup from the trace survives in the HTML" hasnt report/index.html "<script"
check "the process name is there as escaped text" has report/index.html "&lt;script&gt;alert(1)&lt;/script&gt;"
check "finding pages are escaped too" hasnt "report/findings/$sig.html" "<script"
check "finding page has the reproducer command" has "report/findings/$sig.html" '<pre id="repro">lifetrace replay'
check "summary.md is escaped for GitHub" hasnt report/summary.md "<script"
check "summary.md counts open findings" has report/summary.md "1 open finding(s), 1 of them errors."
check "the report needs no network" hasnt report/index.html 'src="http'
"$tool" report --db missing.db --out nothing >/dev/null 2>&1
check "report of a missing database exits 3 and creates nothing" test $? = 3 -a ! -e missing.db

# Render in Chromium: the DOM after parsing, and a screenshot for people.
chrome=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$chrome" ]; then
  echo "it_reports: $fails failure(s); chromium not installed: browser checks skipped"
  [ $fails = 0 ] && exit 77
  exit 1
fi
flags=(--headless --no-sandbox --disable-gpu --disable-background-networking
       --disable-component-update --no-first-run --disable-sync)
timeout 120 "$chrome" "${flags[@]}" --user-data-dir="$work/chrome-dom" \
  --dump-dom "file://$work/report/index.html" >dom.html 2>chrome.err
check "chromium renders the report" test -s dom.html
check "rendered: findings chart" has dom.html 'id="chart-findings"'
check "rendered: exec/s chart with data" grep -q '<svg class="chart" id="chart-execs".*' dom.html
check "rendered: coverage chart" has dom.html 'id="chart-coverage"'
check "rendered: findings table with 2 rows" \
  test "$(grep -o '<tr class="finding">' dom.html | wc -l)" = 2
check "rendered: no script element came from the trace" hasnt dom.html "<script"
check "rendered: the process name shows as text" has dom.html "&lt;script&gt;alert(1)&lt;/script&gt;"
check "rendered: charts have drawn data" "$py" - dom.html <<'EOF'
import re, sys
dom = open(sys.argv[1]).read()
execs = dom[dom.index('id="chart-execs"'):]
execs = execs[:execs.index("</svg>")]
assert "<polyline" in execs and "no data yet" not in execs
fnd = dom[dom.index('id="chart-findings"'):]
assert '<rect class="bar"' in fnd[:fnd.index("</svg>")]
EOF
timeout 120 "$chrome" "${flags[@]}" --user-data-dir="$work/chrome-shot" --window-size=1280,1600 \
  --screenshot="$work/report.png" "file://$work/report/index.html" >/dev/null 2>>chrome.err
check "screenshot kept as artifact ($work/report.png)" test -s report.png

echo "it_reports: $fails failure(s)"
[ $fails = 0 ]
