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
check "no markup from the trace survives in the HTML (one script: the table's)" \
  test "$(grep -o '<script' report/index.html | wc -l)" = 1 -a "$(grep -c '<script>(function' report/index.html)" = 1
check "the process name is there as escaped text" has report/index.html "&lt;script&gt;alert(1)&lt;/script&gt;"
check "finding pages are escaped too" hasnt "report/findings/$sig.html" "<script"
check "finding page has the reproducer command" has "report/findings/$sig.html" '<pre id="repro">lifetrace replay'
check "summary.md is escaped for GitHub" hasnt report/summary.md "<script"
check "summary.md counts open findings" has report/summary.md "1 open finding(s), 1 of them errors."
check "the report needs no network" hasnt report/index.html 'src="http'
"$tool" report --db missing.db --out nothing >/dev/null 2>&1
check "report of a missing database exits 3 and creates nothing" test $? = 3 -a ! -e missing.db

# A campaign run twice: the second session switches on one more seeded bug.
# Between the sessions a finding is marked fixed; the second shows it again.
corpus=$src/corpus/regressions/miniport
cp "$corpus"/bug-1-*.jsonl "$corpus"/bug-2-*.jsonl .
"$tool" replay -q --policy kernel --bugs 1 --db campaign.db bug-1-*.jsonl bug-2-*.jsonl >c1.out 2>&1
back=$("$py" -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select signature from findings where kind = \"miniport-bad-status\"").fetchone()[0])' campaign.db)
"$tool" mark --db campaign.db "$back" fixed >/dev/null
"$tool" replay -q --policy kernel --bugs 1,2 --db campaign.db bug-1-*.jsonl bug-2-*.jsonl >c2.out 2>&1
# the stats of two fuzz sessions an hour apart: no line may join them
"$py" - campaign.db <<'EOF2'
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1])
t0 = int(time.time() * 1000) - 7200_000
for k, start in (("s1", t0), ("s2", t0 + 3600_000)):
    db.execute("insert into runs (uuid, kind, command, started_at, ended_at, exit_code) "
               "values (?, 'fuzz', 'fuzz.sh --out camp', ?, ?, 0)", (k, start, start + 300_000))
    run = db.execute("select id from runs where uuid = ?", (k,)).fetchone()[0]
    for i in range(5):
        db.execute("insert into stats (run_id, t, execs, exec_per_sec, corpus_size, coverage) "
                   "values (?, ?, ?, ?, ?, ?)", (run, start + i * 60_000, i * 1000, 500 + i, 10 + i, 100 + i))
db.commit()
EOF2
"$tool" report --db campaign.db --out camp >/dev/null
check "campaign report written" test -s camp/index.html
new_sigs=$("$tool" diff --db campaign.db --kind replay --json | "$py" -c 'import json,sys; print(" ".join(sorted(x["signature"] for x in json.load(sys.stdin)["new"])))')
check "diff --kind replay: the second session found 1 new signature (bug 2's leak)" test "$(echo $new_sigs | wc -w)" = 1
"$tool" diff --db campaign.db --kind fuzz >/dev/null
check "diff --kind fuzz compares the two fuzz sessions (nothing new)" test $? = 0
"$tool" diff --db campaign.db --campaign 'fuzz.sh --out camp' previous latest >/dev/null
check "diff --campaign scopes to the campaign's runs" test $? = 0
"$tool" diff --db campaign.db --campaign nope >/dev/null 2>&1
check "diff --campaign without runs exits 3" test $? = 3
(cd camp && sh -c "PATH=$(dirname "$tool"):\$PATH; $("$py" - index.html <<'EOF2'
import html, re, sys
page = open(sys.argv[1]).read()
cmds = [html.unescape(c) for c in re.findall(r'<td class="repro"><code>([^<]*)</code>', page)]
print(next(c for c in cmds if "bug-2" in c))
EOF2
)" >repro.out 2>&1; echo $? >repro.rc)
check "a reproduce command pasted in the report folder reproduces (exit 1)" test "$(cat camp/repro.rc)" = 1
check "and shows the leak" grep -q "miniport-leak" camp/repro.out
check "the reproducer was copied next to the report" test -n "$(ls camp/repro/ 2>/dev/null)"
check "seeded-bug column when seeded bugs were on" has camp/index.html '<th data-key="bug">seeded bug</th>'
check "no seeded-bug column without seeded bugs" hasnt report/index.html 'seeded bug</th>'

# A resumed campaign's triage (fuzz.sh: a new run uuid per session, the same
# --recorded list) counts no occurrence twice: the second session, with no new
# crash, adds no occurrence and leaves every count as it was.
mkdir -p resume/crashes
cp "$corpus"/bug-1-*.jsonl resume/crashes/crash-a
for s in 1 2; do
  (cd resume && "$tool" triage -q --out tri --db r.db --bugs 1 --engine libfuzzer --run-uuid "sess-$s" \
    --recorded recorded.txt crashes >/dev/null 2>&1)
  "$py" -c 'import sqlite3,sys; d=sqlite3.connect(sys.argv[1]); print(sorted(d.execute("select signature, count from findings")), d.execute("select count(*) from occurrences").fetchone()[0])' resume/r.db >"resume/s$s.txt"
done
check "a resumed campaign's second session counts nothing again" diff resume/s1.txt resume/s2.txt

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
  test "$(grep -o '<tr class="finding"' dom.html | wc -l)" = 2
check "rendered: no script element came from the trace" \
  test "$(grep -o '<script' dom.html | wc -l)" = 1
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

# The campaign run twice: the first screen says what the second session found.
timeout 120 "$chrome" "${flags[@]}" --user-data-dir="$work/chrome-camp" \
  --dump-dom "file://$work/camp/index.html" >camp.dom 2>>chrome.err
check "first screen: the second session's new signatures, the one that came back" \
  "$py" - camp.dom "$new_sigs" "$back" <<'EOF2'
import re, sys
dom, new, back = open(sys.argv[1]).read(), set(sys.argv[2].split()), sys.argv[3]
sec = dom[dom.index('<section id="whats-new">'):dom.index("</section>")]
assert dom.index('<section id="whats-new">') < dom.index('<table id="findings"'), "not first"
ul = lambda i: set(re.findall(r"<code>([0-9a-f]{16})</code>", sec[sec.index('id="%s"' % i):].split("</ul>")[0]))
assert ul("new") == new, (ul("new"), new)
assert ul("regressed") == {back}, ul("regressed")
assert back not in ul("still-open") and len(ul("still-open")) == 2, ul("still-open")
assert "1 new, 1 back, 2 still open." in sec
EOF2
check "charts: one line per fuzz session, none across the gap" "$py" - camp.dom <<'EOF2'
import sys
dom = open(sys.argv[1]).read()
ex = dom[dom.index('id="chart-execs"'):]
ex = ex[:ex.index("</svg>")]
lines = [l for l in ex.split("<polyline")[1:]]
assert len(lines) == 2, len(lines)
assert all(l.split('points="')[1].split('"')[0].count(",") == 5 for l in lines)
EOF2
# The script runs under the page's CSP (its hash): #q= filters, #sort= sorts.
timeout 120 "$chrome" "${flags[@]}" --user-data-dir="$work/chrome-filter" \
  --dump-dom "file://$work/camp/index.html#q=miniport-leak&sort=count" >filter.dom 2>>chrome.err
check "the table filters (1 of 4 rows shown) and sorts, the script allowed by its CSP hash" \
  "$py" - filter.dom <<'EOF2'
import re, sys
dom = open(sys.argv[1]).read()
rows = re.findall(r'<tr class="finding"[^>]*>', dom)
assert len(rows) == 4, rows
assert sum("hidden" in r for r in rows) == 3, rows
assert '<span id="shown">1</span>' in dom
assert 'data-sorted="count desc"' in dom
counts = [int(c) for c in re.findall(r'<td class="num" data-v="(\d+)">\d+</td><td class="num"', dom)]
assert counts == sorted(counts, reverse=True), counts
EOF2
timeout 120 "$chrome" "${flags[@]}" --user-data-dir="$work/chrome-camp-shot" --window-size=1280,900 \
  --screenshot="$work/campaign.png" "file://$work/camp/index.html" >/dev/null 2>>chrome.err
check "screenshot: the first screen shows the what's-new box and its red verdict" \
  "$py" - campaign.png <<'EOF2'
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n"
pos, idat, w = 8, b"", 0
while pos < len(data):
    n, t = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if t == b"IHDR":
        w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
        bpp = {2: 3, 6: 4}[ctype]
    elif t == b"IDAT":
        idat += body
    pos += 12 + n
raw, stride, rows, prev = zlib.decompress(idat), w * bpp, [], bytearray(w * bpp)
for y in range(h):
    f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for i in range(stride):
        a = line[i - bpp] if i >= bpp else 0
        b, c = prev[i], prev[i - bpp] if i >= bpp else 0
        p = a + b - c
        pr = a if abs(p - a) <= abs(p - b) and abs(p - a) <= abs(p - c) else b if abs(p - b) <= abs(p - c) else c
        line[i] = (line[i] + (0, a, b, (a + b) // 2, pr)[f]) & 255
    rows.append(line)
    prev = line
def count(rgb, y0, y1):
    return sum(1 for y in range(y0, y1) for x in range(w)
               if all(abs(rows[y][x * bpp + k] - rgb[k]) < 40 for k in range(3)))
top = min(h, 900)
assert count((0x15, 0x65, 0xc0), 0, top) > 500, "no what's-new box border on the first screen"
assert count((0xb0, 0x00, 0x20), 0, top) > 50, "no red (new/regressed) text on the first screen"
EOF2

echo "it_reports: $fails failure(s)"
[ $fails = 0 ]
