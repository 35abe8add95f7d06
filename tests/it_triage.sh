#!/usr/bin/env bash
# Integration test of `lifetrace triage` counting one signature per crash:
# crash files whose replay shows more than one driver error (seeded bug 2
# leaks an allocation object and then its private data; bug 1 returns a bad
# status and then frees the block twice) are triaged with --bugs all. Each
# crash's first error and each seeded bug that crashes it alone make a group;
# the errors its replay shows after the first make none (no group, no
# reproducer, no finding in the database) and are listed under the group.
#
# Expectations come from `lifetrace replay --json` of the same binary, not
# from fixed signature values, so a change in how signatures are computed does
# not break the test.
#
# args: TOOL SOURCE_DIR WORK_DIR
set -u
tool=$1 src=$2 work=$3
rm -rf "$work" && mkdir -p "$work/crashes" && cd "$work" || exit 1
py=/usr/bin/python3
[ -x "$py" ] || py=python3
corpus=$src/corpus/regressions/miniport
cp "$corpus"/bug-2-*.jsonl crashes/crash-bug2 || exit 1
cp "$corpus"/bug-1-*.jsonl crashes/crash-bug1 || exit 1

# What the replays show: the whole set, then each bug alone (in the special
# pool when the ordinary one shows no crash, as triage does).
for f in crashes/crash-*; do
  for b in all 1 2 3 4 5 6 7 8 9 10; do
    out=replays/$(basename "$f").$b.json
    mkdir -p replays
    "$tool" replay --json --policy kernel --bugs "$b" "$f" >"$out" 2>/dev/null
    [ $? = 1 ] || "$tool" replay --json --policy kernel --special-pool --bugs "$b" "$f" >"$out" 2>/dev/null
  done
done

"$tool" triage -q --bugs all --out tri crashes/crash-* >triage.log 2>&1
rc=$?
[ $rc = 1 ] || { echo "FAIL: triage should exit 1, got $rc"; cat triage.log; exit 1; }

"$py" - replays tri <<'EOF'
import json, os, re, sqlite3, sys
rdir, tri = sys.argv[1], sys.argv[2]
fails = []
def check(what, ok):
    print(("ok: " if ok else "FAIL: ") + what)
    if not ok:
        fails.append(what)

def errors(path):  # the driver errors a replay shows, in order (what triage counts)
    text = open(path).read().strip()
    if not text:
        return []
    v = json.loads(text.splitlines()[0])
    return [f for f in v["findings"] if f["severity"] == "error" and f["layer"] == "miniport"]

crashes = sorted({n.split(".")[0] for n in os.listdir(rdir)})
want_groups, firsts, follow, later_of = set(), set(), {}, {}
for c in crashes:
    whole = errors(f"{rdir}/{c}.all.json")
    assert whole, f"{c} does not crash with all bugs on"
    first = whole[0]["signature"]
    firsts.add(first)
    follow[c] = (first, [f["signature"] for f in whole[1:] if f["signature"] != first])
    alone = False
    for b in range(1, 11):
        e = errors(f"{rdir}/{c}.{b}.json")
        if e:
            g = (e[0]["signature"], str(b))
            want_groups.add(g)
            firsts.add(g[0])
            later_of.setdefault(g, set()).update(f["signature"] for f in e[1:] if f["signature"] != g[0])
            alone = True
    if not alone:
        want_groups.add((first, ""))
        later_of.setdefault((first, ""), set()).update(follow[c][1])
group_sigs = {s for s, _ in want_groups}
only_follow = set().union(*later_of.values(), *(l for _, l in follow.values())) - firsts - group_sigs
check("the test's traces show follow-on errors that are no crash's first: %s" % sorted(only_follow),
      len(only_follow) > 0)

tj = json.load(open(f"{tri}/triage.json"))
got = {(g["signature"], g["bug"]) for g in tj["groups"]}
check("groups are exactly the first errors and the bugs that crash alone: got %s, want %s"
      % (sorted(got), sorted(want_groups)), got == want_groups)
repros = set(os.listdir(f"{tri}/repro"))
check("one reproducer per group (%d files, %d groups)" % (len(repros), len(want_groups)),
      len(repros) == len(want_groups))
check("no reproducer is named for a follow-on error",
      not any(r.split("-")[0].split(".")[0] in only_follow for r in repros))

for c, (first, later) in follow.items():
    gs = [g for g in tj["groups"] if g["signature"] == first]
    check(f"{c}: one group has its signature {first} (got {len(gs)})", len(gs) == 1)
    if len(gs) != 1:
        continue
    listed = {x["signature"]: x for x in gs[0].get("follow_ons", [])}
    for s in later:
        check(f"{c}: its follow-on {s} is listed under its group", s in listed)
        if s in listed:
            x = listed[s]
            check(f"{c}: the follow-on {s} counts a crash and names its kind",
                  x["crashes"] >= 1 and x["kind"] and isinstance(x.get("own_group"), bool))
            check(f"{c}: own_group says whether {s} is a group too",
                  x["own_group"] == (s in group_sigs))

for g in tj["groups"]:
    listed = {x["signature"] for x in g.get("follow_ons", [])}
    want = later_of.get((g["signature"], g["bug"]), set())
    check("group %s bug %s lists the follow-ons its bug alone shows: got %s, want at least %s"
          % (g["signature"], g["bug"] or "-", sorted(listed), sorted(want)), want <= listed)

md = open(f"{tri}/triage.md").read()
m = re.search(r"(\d+) crash file\(s\), (\d+) signature\(s\), (\d+) reproducer\(s\)", md)
check("summary line counts the groups' signatures: %s" % (m.group(0) if m else md[:80]),
      m is not None and int(m.group(2)) == len(group_sigs) and int(m.group(3)) == len(want_groups))
check("triage.md still says which seeded bugs were found", "Seeded bugs found: " in md)
rows = [l for l in md.splitlines() if l.startswith("| ")]
check("triage.md has one table row per group (%d)" % (len(rows) - 1), len(rows) - 1 == len(want_groups))
notes = "\n".join(l for l in md.splitlines() if not l.startswith("|"))
for s in only_follow:
    check(f"triage.md lists the follow-on {s} outside the table, not as a row of its own",
          s in notes and not any(s in r for r in rows))

db = sqlite3.connect(f"{tri}/results.db")
stored = {r[0] for r in db.execute("select signature from findings")}
check("the database has findings", len(stored) > 0)
check("the database has no finding for a follow-on error: %s" % sorted(stored & only_follow),
      not (stored & only_follow))
check("every finding in the database is a crash's or a group's signature: extra %s"
      % sorted(stored - firsts - group_sigs), stored <= firsts | group_sigs)
sys.exit(1 if fails else 0)
EOF
