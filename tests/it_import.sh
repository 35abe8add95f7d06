#!/usr/bin/env bash
# Integration test of `lifetrace import`: every sample of corpus/etw/ (tracerpt
# XML, tracerpt CSV, xperf dumper) is imported, replayed with --json, and its
# findings (kind, event, severity) compared with NAME.expected.json; every
# finding's origin must name the export record (and its line) that produced
# the event it was found at. Then malformed exports must fail with exit 3
# naming file, line and record, and be skipped and counted with --keep-going.
# Args: TOOL SOURCE_DIR WORK_DIR. Exit 77 = skipped.
set -euo pipefail
tool=$1 src=$2 work=$3
command -v python3 >/dev/null || { echo "python3 missing: skipped"; exit 77; }
rm -rf "$work" && mkdir -p "$work"
corpus=$src/corpus/etw
fail=0 pass=0

check_sample() { # export -> import, replay, compare, check origins
  local f=$1 base name ext
  base=$(basename "$f"); name=${base%.*}; ext=${base##*.}
  local trace=$work/$name.$ext.jsonl verdict=$work/$name.$ext.verdict.json
  if ! "$tool" import -q "$f" -o "$trace" 2>"$work/$name.$ext.err"; then
    echo "FAIL $base: import failed: $(cat "$work/$name.$ext.err")"; return 1
  fi
  local rc=0
  "$tool" replay --json "$trace" >"$verdict" || rc=$?
  if [ "$rc" -gt 1 ]; then echo "FAIL $base: replay exit $rc"; return 1; fi
  python3 - "$f" "$trace" "$verdict" "$corpus/$name.expected.json" <<'EOF'
import json, re, sys
export, trace, verdict, expected = sys.argv[1:]
v = json.load(open(verdict))
exp = json.load(open(expected))
got = [{"kind": x["kind"], "event": x["event"], "severity": x["severity"]} for x in v["findings"]]
want = [{"kind": x["kind"], "event": x["event"], "severity": x["severity"]} for x in exp["findings"]]
if got != want:
    sys.exit("findings differ:\n  got  %s\n  want %s" % (got, want))
events = [json.loads(l) for l in open(trace)][1:]
lines = open(export, newline="").read().replace("\r\n", "\n").split("\n")

# The export's records, found independently of the importer: (line, event id).
TASKS = {("Device", "Start"): 27, ("Device", "Stop"): 28, ("Device", "DC_Start"): 29,
         ("Context", "Start"): 30, ("Context", "Stop"): 31, ("Context", "DC_Start"): 32,
         ("AdapterAllocation", "Start"): 33, ("AdapterAllocation", "Stop"): 34,
         ("AdapterAllocation", "DC_Start"): 35, ("DeviceAllocation", "Start"): 36,
         ("DeviceAllocation", "Stop"): 37, ("DeviceAllocation", "DC_Start"): 38,
         ("TerminateAllocation", "Info"): 39, ("ProcessTerminateAllocation", "Info"): 40,
         ("Lock", "Info"): 41, ("Unlock", "Info"): 42, ("ReferenceAllocations", "Info"): 43,
         ("DmaPacket", "Start"): 175, ("DmaPacket", "Info"): 177,
         ("DestroyDisplayedAllocation", "Info"): 401, ("Process", "Stop"): 473}
records = []
if export.endswith(".xml"):
    for i, l in enumerate(lines):
        if l.startswith("<Event "):
            records.append([i + 1, None])
        m = re.search(r"<EventID>(\d+)</EventID>", l)
        if m and records[-1][1] is None:
            records[-1][1] = int(m.group(1))
elif export.endswith(".csv"):
    for i, l in enumerate(lines[1:], 2):
        if l.strip():
            cols = [c.strip() for c in l.split(",")]
            records.append([i, int(cols[2]) if cols[0] == "Microsoft-Windows-DxgKrnl" else None])
else:
    end = lines.index("EndHeader")
    for i, l in enumerate(lines[end + 2:], end + 3):
        if l.strip():
            parts = l.split(",")[0].strip().split("/")
            eid = TASKS.get((parts[1], parts[2][4:])) if len(parts) == 3 else None
            records.append([i, eid])

# The ETW events each op may come from.
SOURCES = {"device_create": {27, 29}, "device_destroy": {28, 39}, "context_create": {30, 32},
           "context_destroy": {31}, "alloc_create": {33, 35}, "alloc_open": {36, 38},
           "alloc_close": {37}, "alloc_destroy": {34}, "submit": {175}, "fence_done": {177, 180},
           "lock": {41}, "unlock": {42}, "scanout": {401}, "process_exit": {40, 473}}
for f in v["findings"]:
    o = f.get("origin")
    if not o:
        sys.exit("finding %s at event %d has no origin" % (f["kind"], f["event"]))
    ev = events[f["event"]]
    if ev.get("origin") != o:
        sys.exit("finding origin %s is not event %d's %s" % (o, f["event"], ev.get("origin")))
    line, eid = records[o["record"]]
    if line != o["line"]:
        sys.exit("record %d starts at line %d, origin says %d" % (o["record"], line, o["line"]))
    if eid not in SOURCES[ev["op"]]:
        sys.exit("%s at event %d points at record %d (event id %s)"
                 % (ev["op"], f["event"], o["record"], eid))
for ev in events:
    if "origin" not in ev:
        sys.exit("event without origin: %s" % ev)
EOF
}

shopt -s nullglob
for f in "$corpus"/*.xml "$corpus"/*.csv "$corpus"/*.txt; do
  if out=$(check_sample "$f" 2>&1); then
    pass=$((pass + 1))
  else
    echo "FAIL $(basename "$f"): $out"; fail=$((fail + 1))
  fi
done
[ "$pass" -ge 36 ] || { echo "FAIL: only $pass samples found"; fail=$((fail + 1)); }

expect_exit() { # code, description, command...
  local want=$1 what=$2; shift 2
  local rc=0
  "$@" >"$work/out" 2>"$work/err" || rc=$?
  if [ "$rc" -ne "$want" ]; then
    echo "FAIL $what: exit $rc, want $want: $(head -3 "$work/err")"; fail=$((fail + 1)); return 1
  fi
  pass=$((pass + 1))
}
expect_err() { # regex the last stderr must match
  if ! grep -Eq "$1" "$work/err"; then
    echo "FAIL stderr does not match '$1': $(head -3 "$work/err")"; fail=$((fail + 1))
  else pass=$((pass + 1)); fi
}

# A truncated XML export: exit 3 naming the file, line and record.
head -c 9000 "$corpus/double-destroy.xml" >"$work/truncated.xml"
expect_exit 3 "truncated xml" "$tool" import "$work/truncated.xml" -o "$work/t.ltrace"
expect_err "truncated.xml: line [0-9]+: record [0-9]+: XML: "
# A CSV row with too few fields (line 6 = record 4).
sed '6s/, 0x.*//' "$corpus/double-destroy.csv" >"$work/short.csv"
expect_exit 3 "short csv row" "$tool" import "$work/short.csv" -o "$work/t.ltrace"
expect_err "short.csv: line 6: record 4: "
# A number that does not parse (dumper line 19 = record 4, allocSize).
awk 'NR==19 { sub(/, 65536,/, ", 65x36,") } { print }' "$corpus/double-destroy.txt" \
  >"$work/badnum.txt"
expect_exit 3 "bad number" "$tool" import "$work/badnum.txt" -o "$work/t.ltrace"
expect_err "badnum.txt: line 19: record 4: .*allocSize.*65x36"
# A field missing from a known event (XML record 2's hDevice).
awk '/<EventID>33<\/EventID>/ { n++ } n == 1 && /Name="hDevice"/ && !done { done = 1; next } { print }' \
  "$corpus/double-destroy.xml" >"$work/missing.xml"
expect_exit 3 "missing field" "$tool" import "$work/missing.xml" -o "$work/t.ltrace"
expect_err "missing.xml: line [0-9]+: record 4: .*'hDevice' is missing"
# Issue 10: a dumper line shorter than its first payload column (a heap
# use-after-free before), an unterminated quote, a Clock-Time over 64 bits.
regress=$src/corpus/fuzz-regressions
cp "$regress/fuzz_read_dumper/issue10-short-line-stale-fields.txt" "$work/stale.txt"
expect_exit 3 "short dumper line" "$tool" import "$work/stale.txt" -o "$work/t.ltrace"
expect_err "stale.txt: line 7: record 2: .*fewer values than the header's columns"
cp "$regress/fuzz_read_csv/issue10-open-quote.csv" "$work/quote.csv"
expect_exit 3 "open quote" "$tool" import "$work/quote.csv" -o "$work/t.ltrace"
expect_err "quote.csv: line 2: record 0: field 22: quoted field has no closing quote"
cp "$regress/fuzz_read_csv/issue10-clock-time-over-64-bits.csv" "$work/clock.csv"
expect_exit 3 "clock over 64 bits" "$tool" import "$work/clock.csv" -o "$work/t.ltrace"
expect_err "clock.csv: line 2: record 0: Clock-Time '1335905280000020001335905280000020000'"
# --keep-going: each is skipped and counted, the rest imported.
for f in truncated.xml short.csv badnum.txt missing.xml stale.txt quote.csv clock.csv; do
  expect_exit 0 "keep-going $f" "$tool" import -k --summary-json "$work/$f.sum.json" \
    "$work/$f" -o "$work/$f.ltrace" || continue
  python3 -c "import json,sys; s=json.load(open(sys.argv[1])); sys.exit(s['malformed'] < 1)" \
    "$work/$f.sum.json" || { echo "FAIL keep-going $f: nothing counted malformed"; fail=$((fail + 1)); }
done
# A forced format that does not match the content fails as input.
expect_exit 3 "wrong --format" "$tool" import --format csv "$corpus/clean-lifecycle.xml" \
  -o "$work/t.ltrace"
# Content that is no export at all.
echo "hello" >"$work/hello.txt"
expect_exit 3 "not an export" "$tool" import "$work/hello.txt" -o "$work/t.ltrace"
expect_err "not a tracerpt XML/CSV or xperf dumper export"
# The summary counts skipped providers and events; the header names the owner.
expect_exit 0 "summary" "$tool" import --summary-json "$work/sum.json" \
  "$corpus/clean-lifecycle.xml" -o "$work/clean.jsonl"
python3 - "$work/sum.json" "$work/clean.jsonl" <<'EOF' || { echo "FAIL summary/header"; fail=$((fail + 1)); }
import json, sys
s = json.load(open(sys.argv[1]))
by = {(e["provider"], e.get("id"), e["name"]): e for e in s["events_by_id"]}
assert s["skipped"] == 2 and s["malformed"] == 0, s
assert by[("Microsoft-Windows-DxgKrnl", 176, "not imported")]["skipped"] == 1, by
assert any(p.startswith("{9e814aad") and e["skipped"] == 1 for (p, i, n), e in by.items()), by
h = json.loads(open(sys.argv[2]).readline())
assert h["ends"] == "window", h
assert {"pid": 4660, "name": "game.exe"} in h["processes"], h
EOF

echo "it_import: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
