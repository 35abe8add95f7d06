#!/usr/bin/env bash
# Integration test of `lifetrace check`, the CI regression gate: a passing
# corpus exits 0 and writes JUnit that xmllint accepts and SARIF that the
# official 2.1.0 schema accepts, pointing at the right trace line; a corpus
# with a missing finding, an unexpected finding and an unreadable trace exits
# 1 and says which; --db records the run; usage and unreadable corpora give
# exit codes 2 and 3. Expected findings are suppressed SARIF results and
# 'expected' (not open) findings in the database: a passing gate opens
# nothing, a corpus with one unexpected finding exactly one.
#
# args: TOOL SOURCE_DIR WORK_DIR
set -u
tool=$1 src=$2 work=$3
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
py=/usr/bin/python3
[ -x "$py" ] || py=python3
schema="$src/../shared/schemas/sarif-schema-2.1.0.json"
fails=0 skipped=""

check() { # check DESCRIPTION COMMAND...
  local what=$1
  shift
  if "$@"; then echo "ok: $what"; else echo "FAIL: $what"; fails=$((fails + 1)); fi
}
has() { grep -qF -- "$2" "$1"; }
validate_sarif() {
  if [ ! -r "$schema" ]; then skipped="$skipped sarif-schema"; return 0; fi
  "$py" "$src/scripts/validate_sarif.py" "$schema" "$1"
  local rc=$?
  if [ $rc = 77 ]; then skipped="$skipped sarif-schema"; return 0; fi
  return $rc
}
have_xmllint() { command -v xmllint >/dev/null 2>&1 || { skipped="$skipped xmllint"; return 1; }; }

header='{"lifetrace": 1, "source": "it_check", "ends": "teardown", "segments": [{"id": 1, "kind": "local", "size": 67108864}], "processes": [{"pid": 100, "name": "<script>alert(1)</script>"}]}'
create='{"op": "device_create", "device": 1, "pid": 100}
{"op": "alloc_create", "device": 1, "allocs": [{"alloc": 256, "size": 4096}]}
{"op": "alloc_destroy", "allocs": [256]}'
mkdir -p repo/.git repo/corpus/clean repo/corpus/trace
printf '%s\n%s\n%s\n' "$header" "$create" '{"op": "device_destroy", "device": 1}' \
  >repo/corpus/clean/basic.jsonl
echo '{"policy": "audit", "findings": []}' >repo/corpus/clean/basic.expected.json
printf '%s\n%s\n%s\n%s\n' "$header" "$create" '{"op": "alloc_destroy", "allocs": [256]}' \
  '{"op": "device_destroy", "device": 1}' >repo/corpus/trace/double-destroy.jsonl
echo '{"policy": "audit", "findings": [{"kind": "double-destroy", "event": 3, "severity": "error"}]}' \
  >repo/corpus/trace/double-destroy.expected.json
# the same trace in binary form: no line numbers, same verdict
"$tool" encode repo/corpus/trace/double-destroy.jsonl -o repo/corpus/trace/binary.ltrace ||
  { echo "FAIL: lifetrace encode"; exit 1; }
cp repo/corpus/trace/double-destroy.expected.json repo/corpus/trace/binary.expected.json

# 1. a corpus that matches its expectations
"$tool" check repo/corpus --junit good.xml --sarif good.sarif --db results.db >good.out 2>&1
rc=$?
cat good.out
check "passing corpus exits 0" test $rc = 0
check "summary counts 3 passed" has good.out "3 traces: 3 passed, 0 failed, 0 errors"
if have_xmllint; then
  check "JUnit is well-formed" xmllint --noout good.xml
  check "one testcase per trace" test "$(xmllint --xpath 'count(//testcase)' good.xml)" = 3
  check "classname is the corpus group" \
    test "$(xmllint --xpath 'string(//testcase[@name="double-destroy"]/@classname)' good.xml)" = trace
  check "no failures" test "$(xmllint --xpath 'count(//failure|//error)' good.xml)" = 0
fi
check "SARIF validates against the 2.1.0 schema" validate_sarif good.sarif
check "SARIF: result, rule, line and repo-relative path" "$py" - good.sarif <<'EOF'
import json, sys
log = json.load(open(sys.argv[1]))
run = log["runs"][0]
res = run["results"]
assert log["version"] == "2.1.0"
assert len(res) == 2, res                       # one per finding (jsonl + binary)
r = [x for x in res if x["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].endswith(".jsonl")][0]
loc = r["locations"][0]["physicalLocation"]
assert r["ruleId"] == "double-destroy" and r["level"] == "error"
assert loc["artifactLocation"]["uri"] == "corpus/trace/double-destroy.jsonl", loc
assert loc["region"]["startLine"] == 5, loc     # event 3 is line 3 + 2
assert len(r["partialFingerprints"]["lifetraceSignature/v2"]) == 16
assert run["tool"]["driver"]["rules"][r["ruleIndex"]]["id"] == "double-destroy"
assert r["properties"]["process"] == "<script>alert(1)</script>"
EOF
check "--db recorded a check run with 3 traces" "$py" - results.db <<'EOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
assert db.execute("select kind, exit_code from runs").fetchall() == [("check", 0)]
assert db.execute("select count(*), sum(verdict = 'pass') from traces").fetchone() == (3, 3)
assert db.execute("select kind, count from findings").fetchall() == [("double-destroy", 2)]
EOF
# A passing gate opens nothing: its expected findings are suppressed results
# (code scanning opens no alert for them) and 'expected' findings in the db.
unsuppressed() { # SARIF: prints the number of results without a suppression
  "$py" -c 'import json, sys
print(sum(1 for r in json.load(open(sys.argv[1]))["runs"][0]["results"] if not r.get("suppressions")))' "$1"
}
check "passing gate: no unsuppressed SARIF result" test "$(unsuppressed good.sarif)" = 0
check "passing gate: expected results say which file expects them" "$py" - good.sarif <<'EOF'
import json, sys
res = json.load(open(sys.argv[1]))["runs"][0]["results"]
want = {"double-destroy.expected.json", "binary.expected.json"}
got = {r["suppressions"][0]["justification"].replace("expected by ", "") for r in res}
assert got == want, got
assert all(r["suppressions"] == [{"kind": "external", "status": "accepted",
           "justification": r["suppressions"][0]["justification"]}] for r in res)
EOF
check "passing gate: --db opens nothing (expected findings are 'expected')" "$py" - results.db <<'EOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
assert db.execute("select status, count(*) from findings group by status").fetchall() == [("expected", 1)]
assert db.execute("select count(*), sum(expected) from occurrences").fetchone() == (2, 2)
EOF
"$tool" findings --db results.db >open.out 2>&1
check "lifetrace findings lists no open finding after a passing gate" has open.out "0 finding(s)"
"$tool" findings --db results.db --status expected >expected.out 2>&1
check "... and lists it under --status expected" has expected.out "1 finding(s)"

# One unexpected finding among expected ones: exactly one unsuppressed result,
# exactly one open finding.
mkdir -p one/trace one/clean
cp repo/corpus/trace/double-destroy.* one/trace/
printf '%s\n%s\n%s\n%s\n' "$header" "$create" '{"op": "device_destroy", "device": 1}' \
  '{"op": "alloc_destroy", "allocs": [256]}' >one/clean/destroy-after-device.jsonl
echo '{"policy": "audit", "findings": []}' >one/clean/destroy-after-device.expected.json
"$tool" check -q one --sarif one.sarif --db one.db --driver-version v1.2-3-gabc >one.out 2>&1
check "one unexpected finding: the gate fails" test $? = 1
check "one unexpected finding: SARIF validates" validate_sarif one.sarif
check "one unexpected finding: exactly one unsuppressed result" test "$(unsuppressed one.sarif)" = 1
check "one unexpected finding: and it is the unexpected one" "$py" - one.sarif <<'EOF'
import json, sys
res = [r for r in json.load(open(sys.argv[1]))["runs"][0]["results"] if not r.get("suppressions")]
assert res[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].endswith(
    "clean/destroy-after-device.jsonl"), res
EOF
check "one unexpected finding: one open finding in the db, the driver's identity" "$py" - one.db <<'EOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
# the same signature as the expected double destroy: one finding, opened by
# the occurrence nothing expects
assert db.execute("select status from findings").fetchall() == [("open",)]
assert db.execute("select count(*), sum(expected) from occurrences").fetchone() == (2, 1)
assert db.execute("select driver_version, length(driver_sha256) from runs").fetchall() == [("v1.2-3-gabc", 64)]
EOF
"$tool" findings --db one.db >one-findings.out 2>&1
check "lifetrace findings names the driver version" has one-findings.out "first seen with v1.2-3-gabc (sha256 "
# An expected finding that a later run sees where nothing expects it opens.
cp repo/corpus/trace/double-destroy.jsonl one/clean/was-clean.jsonl
echo '{"findings": []}' >one/clean/was-clean.expected.json
"$tool" check -q one/clean --db results.db >/dev/null 2>&1
check "an expected finding seen unexpected is opened" "$py" - results.db <<'EOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
assert db.execute("select status from findings where kind = 'double-destroy'").fetchall() == [("open",)]
EOF

# a retried CI job (same --run-id) records nothing twice
"$tool" check -q repo/corpus --db ci.db --run-id job-42 >/dev/null 2>&1
"$tool" check -q repo/corpus --db ci.db --run-id job-42 >/dev/null 2>&1
check "same --run-id twice: one run, 3 traces, counts unchanged" "$py" - ci.db <<'EOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
assert db.execute("select uuid from runs").fetchall() == [("job-42",)]
assert db.execute("select count(*) from traces").fetchone() == (3,)
assert db.execute("select sum(count) from findings").fetchone() == (2,)
EOF

# 2. a corpus whose expectations are no longer met
mkdir -p bad/trace bad/clean
cp repo/corpus/trace/double-destroy.jsonl bad/trace/
echo '{"findings": [{"kind": "double-destroy", "event": 3, "severity": "error"}, {"kind": "leak", "event": 4, "severity": "warning"}]}' \
  >bad/trace/double-destroy.expected.json                  # a finding that no longer happens
cp repo/corpus/trace/double-destroy.jsonl bad/clean/was-clean.jsonl
echo '{"findings": []}' >bad/clean/was-clean.expected.json  # a clean trace that is not clean
printf '%s\n{"op": "alloc_destroy", "allocs": [1]\n' "$header" >bad/clean/truncated.jsonl
echo '{"findings": []}' >bad/clean/truncated.expected.json
printf '%s\n' "$header" >bad/clean/no-expected.jsonl
"$tool" check bad --junit bad.xml --sarif bad.sarif >bad.out 2>&1
rc=$?
cat bad.out
check "failing corpus exits 1" test $rc = 1
check "summary counts failures and errors" has bad.out "4 traces: 0 passed, 2 failed, 2 errors"
check "the missing finding is named" has bad.out "warning leak at event 4"
check "the unexpected finding is named with its line" has bad.out "error double-destroy at event 3 (bad/clean/was-clean.jsonl:5)"
check "the unreadable trace says where" has bad.out "truncated.jsonl"
check "a trace without expectations is an error" has bad.out "no expected verdict: bad/clean/no-expected.expected.json"
if have_xmllint; then
  check "JUnit with failures is well-formed" xmllint --noout bad.xml
  check "JUnit failure counts" test "$(xmllint --xpath 'count(//failure)' bad.xml)-$(xmllint --xpath 'count(//error)' bad.xml)" = 2-2
fi
check "SARIF of a failing corpus validates" validate_sarif bad.sarif

# 3. usage and unreadable corpora
"$tool" check >/dev/null 2>&1
check "no corpus is a usage error (2)" test $? = 2
"$tool" check --bogus repo/corpus >/dev/null 2>&1
check "unknown option is a usage error (2)" test $? = 2
"$tool" check no-such-dir >nodir.out 2>&1
check "missing corpus exits 3" test $? = 3
mkdir -p empty
"$tool" check empty >empty.out 2>&1
check "corpus without traces exits 3" test $? = 3
check "and says so" has empty.out "no traces"

# 4. the project's own regression corpus passes (the CI gate)
if ls "$src"/corpus/regressions/*/*.expected.json >/dev/null 2>&1; then
  "$tool" check -q "$src/corpus/regressions" --junit corpus.xml --sarif corpus.sarif >corpus.out 2>&1
  rc=$?
  tail -3 corpus.out
  check "corpus/regressions passes" test $rc = 0
  check "corpus/regressions SARIF validates" validate_sarif corpus.sarif
  n=$("$py" -c 'import json, sys; print(len(json.load(open(sys.argv[1]))["runs"][0]["results"]))' corpus.sarif)
  check "corpus/regressions: $n results, none unsuppressed" test "$(unsuppressed corpus.sarif)" = 0
  "$tool" check -q "$src/corpus/regressions" --db corpus.db >/dev/null 2>&1
  check "corpus/regressions: --db shows nothing open" "$py" - corpus.db <<'EOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
assert db.execute("select count(*) from findings where status = 'open'").fetchone() == (0,)
assert db.execute("select count(*) from findings where status = 'expected'").fetchone()[0] > 0
EOF
fi

# 5. a driver that changes hResource of a resource it keeps (issue 11): a note in
#    the text and in --json, never a finding; none when it does not
t="$src/corpus/regressions/clean/move-resource-audit.jsonl"
if [ -r "$t" ]; then
  "$tool" replay --bugs move-resource "$t" >moved.out 2>&1
  check "hResource moved: exit 0" test $? = 0
  check "hResource moved: a NOTE names DestroyAllocation" has moved.out \
    "NOTE: lifetrace: DxgkDdiDestroyAllocation changed hResource of a resource it keeps"
  check "hResource moved: no error" has moved.out "SUMMARY: lifetrace: 0 error(s), 0 warning(s)"
  "$tool" replay --json --bugs move-resource "$t" >moved.json 2>/dev/null
  check "hResource moved: --json carries the notes" "$py" -c '
import json, sys
d = json.load(open("moved.json"))
n = [x for x in d["notes"] if x["kind"] == "hresource-changed"]
sys.exit(0 if {x["ddi"] for x in n} == {"DxgkDdiDestroyAllocation", "DxgkDdiCreateAllocation"} and not d["findings"] else 1)'
  "$tool" replay "$t" >kept.out 2>&1
  check "hResource kept: no note" test "$(grep -c NOTE: kept.out)" = 0
fi

# 6. the oracle index of docs/replay-engine.md names regression traces that exist
check "every regression trace the oracle index names exists" "$py" - "$src" <<'EOF'
import glob, os, re, sys
src = sys.argv[1]
doc = open(os.path.join(src, "docs/replay-engine.md")).read()
index = doc[doc.index("## Oracle index"):]
index = index[:index.index("\n## ", 5)]
names = re.findall(r"`((?:clean|trace|gpu|miniport)/[a-z0-9*-]+)`", index)
missing = [n for n in names if not glob.glob(os.path.join(src, "corpus/regressions", n + ".jsonl"))]
print("oracle index:", len(names), "traces named,", len(missing), "missing", missing)
sys.exit(1 if missing or len(names) < 20 else 0)
EOF

[ -n "$skipped" ] && echo "skipped parts (tool or ../shared missing):$(echo $skipped | tr ' ' '\n' | sort -u | tr '\n' ' ')"
echo "it_check: $fails failure(s)"
[ $fails = 0 ]
