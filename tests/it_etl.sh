#!/usr/bin/env bash
# Integration test of the native .etl reader (issue 15). Every scenario of
# corpus/etw/ is written as an .etl by tests/etl_writer.py — per-CPU buffers
# flushed out of sequence order, uncompressed and compressed with LZNT1,
# XPRESS and XPRESS Huffman, with and without an in-file schema — imported
# and replayed; the findings must equal NAME.expected.json and the trace
# must hold the same events (ops and handles) as the tracerpt XML form's
# import, every finding's origin naming a buffer and offset. Then corrupt
# files exit 3 naming file, buffer and offset, --keep-going skips and counts
# the bad buffer, a valid .etl without DxgKrnl says so (exit 3), and the
# real samples of ../shared/etl-samples parse to the end (skipped there when
# ../shared is absent).
# Args: TOOL SOURCE_DIR WORK_DIR. Exit 77 = skipped.
set -euo pipefail
tool=$1 src=$2 work=$3
command -v python3 >/dev/null || { echo "python3 missing: skipped"; exit 77; }
rm -rf "$work" && mkdir -p "$work"
corpus=$src/corpus/etw writer=$src/tests/etl_writer.py
fail=0 pass=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL $*"; fail=$((fail + 1)); }

compare() { # etl-trace xml-trace verdict expected
  python3 - "$@" <<'PYEOF'
import json, sys
trace, xtrace, verdict, expected = sys.argv[1:]
v = json.load(open(verdict))
exp = json.load(open(expected))
got = [(x["kind"], x["event"], x["severity"]) for x in v["findings"]]
want = [(x["kind"], x["event"], x["severity"]) for x in exp["findings"]]
if got != want:
    sys.exit("findings differ:\n  got  %s\n  want %s" % (got, want))
def ops(path):
    out = []
    for l in list(open(path))[1:]:
        e = json.loads(l)
        for k in ("origin", "t", "tid"):
            e.pop(k, None)
        out.append(e)
    return out
a, b = ops(trace), ops(xtrace)
if a != b:
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            sys.exit("event %d differs from the XML form's:\n  etl %s\n  xml %s" % (i, x, y))
    sys.exit("%d events, the XML form has %d" % (len(a), len(b)))
events = [json.loads(l) for l in open(trace)][1:]
for e in events:
    o = e.get("origin", {})
    if not o.get("offset") or o.get("offset") % 8 or o.get("buffer", 0) < 1:
        sys.exit("event without a buffer and 8-aligned offset: %s" % e)
for f in v["findings"]:
    if f.get("origin", {}).get("record") != events[f["event"]]["origin"]["record"]:
        sys.exit("finding origin %s is not its event's" % f)
PYEOF
}

for x in "$corpus"/*.xml; do
  name=$(basename "$x" .xml)
  xtrace=$work/$name.xml.jsonl
  "$tool" import -q "$x" -o "$xtrace"
  for variant in none lznt1 xpress huff schema; do
    etl=$work/$name.$variant.etl trace=$work/$name.$variant.jsonl
    args=(--compress "$variant")
    [ "$variant" = schema ] && args=(--schema --cpus 3 --buffer 4096)
    python3 "$writer" "$name" "$etl" "${args[@]}"
    if ! "$tool" import -q "$etl" -o "$trace" 2>"$work/err"; then
      bad "$name.$variant: import failed: $(cat "$work/err")"; continue
    fi
    rc=0
    "$tool" replay --json "$trace" >"$work/$name.$variant.verdict.json" || rc=$?
    if [ "$rc" -gt 1 ]; then bad "$name.$variant: replay exit $rc"; continue; fi
    if msg=$(compare "$trace" "$xtrace" "$work/$name.$variant.verdict.json" \
             "$corpus/$name.expected.json" 2>&1); then ok; else bad "$name.$variant: $msg"; fi
  done
done

# The same verdict for the CSV and dumper forms (their own test checks them
# against the expected verdicts; here: against the .etl's).
for name in lost-stop destroy-while-busy; do
  for ext in csv txt; do
    "$tool" import -q "$corpus/$name.$ext" -o "$work/$name.$ext.jsonl"
    rc=0; "$tool" replay --json "$work/$name.$ext.jsonl" >"$work/$name.$ext.v.json" || rc=$?
    if python3 - "$work/$name.$ext.v.json" "$work/$name.none.verdict.json" <<'PYEOF'
import json, sys
a, b = (json.load(open(p))["findings"] for p in sys.argv[1:])
k = lambda fs: [(f["kind"], f["event"], f["severity"]) for f in fs]
sys.exit(0 if k(a) == k(b) else "differ: %s vs %s" % (k(a), k(b)))
PYEOF
    then ok; else bad "$name.$ext: verdict differs from the .etl form's"; fi
  done
done

# Corrupt files: exit 3 naming the file, the buffer and the offset.
expect_corrupt() { # mode pattern
  local mode=$1 pat=$2 etl=$work/corrupt-$1.etl rc=0
  python3 "$writer" clean-lifecycle "$etl" --corrupt "$mode"
  "$tool" import -q "$etl" -o "$work/c.jsonl" 2>"$work/err" || rc=$?
  if [ "$rc" -ne 3 ]; then bad "corrupt $mode: exit $rc, want 3"; return; fi
  if ! grep -q "corrupt-$mode.etl" "$work/err" || ! grep -Eq "$pat" "$work/err"; then
    bad "corrupt $mode: message '$(cat "$work/err")' lacks file or /$pat/"; return
  fi
  ok
}
expect_corrupt truncate 'buffer [0-9]+ .*offset 0x[0-9a-f]+: file truncated'
expect_corrupt saved-offset 'buffer 1 .*offset 0x4: SavedOffset'
expect_corrupt buffer-size 'buffer 2 .*offset 0x0: BufferSize'
expect_corrupt record-size 'buffer 1 .*offset 0x48: record of [0-9]+ bytes runs past its buffer'
expect_corrupt payload-size 'buffer [0-9]+, offset 0x[0-9a-f]+: DxgKrnl event (27|33) .*payload of'

# --keep-going: the bad buffer is skipped and counted, the import goes on.
rc=0
"$tool" import --keep-going --summary-json "$work/s.json" "$work/corrupt-saved-offset.etl" \
  -o "$work/k.jsonl" 2>"$work/err" || rc=$?
if [ "$rc" -eq 0 ] && python3 -c "
import json, sys
s = json.load(open('$work/s.json'))
h = json.loads(open('$work/k.jsonl').readline())
sys.exit(0 if s['bad_buffers'] == 1 and h.get('buffers_lost') == 1 else 'bad: %s %s' % (s, h))"; then
  ok; else bad "keep-going over a bad buffer: exit $rc $(cat "$work/err")"; fi

# Lost events reach the summary and the trace header.
python3 "$writer" lost-stop "$work/lost.etl" --events-lost 7
"$tool" import -q "$work/lost.etl" -o "$work/lost.jsonl"
if head -1 "$work/lost.jsonl" | grep -q '"events_lost": 7'; then ok; else
  bad "events_lost not in the trace header: $(head -1 "$work/lost.jsonl")"; fi

# A schema that disagrees with the payloads: malformed, named, not misread.
python3 "$writer" clean-lifecycle "$work/bad-schema.etl" --bad-schema --buffer 4096
rc=0; "$tool" import -q "$work/bad-schema.etl" -o "$work/b.jsonl" 2>"$work/err" || rc=$?
if [ "$rc" -eq 3 ] && grep -q "in-file template lays out" "$work/err"; then ok; else
  bad "bad schema: exit $rc: $(cat "$work/err")"; fi

# The capture's own schema is used and checked against the built-in
# templates: the summary (text and JSON) says how many layouts and how many
# disagree.
python3 "$writer" clean-lifecycle "$work/schema.etl" --schema --buffer 4096
"$tool" import "$work/schema.etl" -o "$work/schema.jsonl" 2>"$work/schema.err" >/dev/null
if grep -Eq "own schema has [1-9][0-9]* DxgKrnl event layouts .* 0 disagree" "$work/schema.err"; then ok; else
  bad "schema check not reported: $(cat "$work/schema.err")"; fi

# The real samples: a valid .etl without DxgKrnl exits 3 and says so; info
# reads each to the end with its counts.
samples=$src/../shared/etl-samples
if [ -d "$samples" ]; then
  declare -A want=([AMSITrace]="6 buffers.*21 records" [ShutdownPerfDiagLogger]="49 buffers.*17078 records"
                   [lxcore_kernel]="3 buffers.*4 records")
  for s in AMSITrace ShutdownPerfDiagLogger lxcore_kernel; do
    rc=0; "$tool" import -q "$samples/$s.etl" -o "$work/r.jsonl" 2>"$work/err" || rc=$?
    if [ "$rc" -eq 3 ] && grep -q "no Microsoft-Windows-DxgKrnl events" "$work/err"; then ok; else
      bad "$s: import exit $rc: $(cat "$work/err")"; fi
    if "$tool" info "$samples/$s.etl" >"$work/info.txt" && grep -Eq "${want[$s]}" "$work/info.txt"
    then ok; else bad "$s: info: $(head -3 "$work/info.txt")"; fi
  done
else
  echo "../shared/etl-samples absent: real-sample checks skipped"
fi

echo "it_etl: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
