#!/usr/bin/env python3
"""Checks that an example driver's findings point into its own source (issue 14),
for tests/it_byod.sh and tests/it_byod_cxx_example.sh.

usage:
  byod_frames.py json SRC_DIR REPLAY.json...
      every miniport finding of each `lifetrace replay --json` output has a
      frame "in": "driver" whose file is inside SRC_DIR (the example's folder)
      with line > 0; no frame's function is a mangled C++ name (_Z...); at
      least one miniport finding in all.
  byod_frames.py sarif PREFIX LOG.sarif
      every miniport result of a `lifetrace check --sarif --repo ROOT` log is
      located in the example's source: physicalLocation uri under PREFIX
      (relative to ROOT, e.g. examples/render-driver/), uriBaseId %SRCROOT%,
      startLine > 0, no mangled name in its logical location or code flow; at
      least one miniport result.

Prints one line per problem; exit 0 when there is none, 1 otherwise.
"""
import json
import os
import re
import sys

MANGLED = re.compile(r"(^|[^A-Za-z0-9_])_Z[A-Za-z0-9_]")


def check_json(src, paths):
    src = os.path.realpath(src) + os.sep
    bad, seen = [], 0
    for path in paths:
        with open(path, encoding="utf-8") as f:
            run = json.load(f)
        for fd in run["findings"]:
            frames = [fr for st in fd.get("stacks", []) for fr in st["frames"]]
            for fr in frames:
                if MANGLED.search(fr["function"]):
                    bad.append(f"{path}: {fd['kind']}: mangled frame {fr['function']}")
            if fd["layer"] != "miniport":
                continue
            seen += 1
            if not any(fr["in"] == "driver" and fr["file"] and fr["line"] > 0 and
                       os.path.realpath(fr["file"]).startswith(src) for fr in frames):
                bad.append(f"{path}: {fd['kind']}: no driver frame with file:line in {src}")
    if seen == 0:
        bad.append("no miniport finding")
    return bad, seen


def check_sarif(prefix, path):
    with open(path, encoding="utf-8") as f:
        results = json.load(f)["runs"][0]["results"]
    bad, seen = [], 0
    for r in results:
        if r["properties"]["layer"] != "miniport":
            continue
        seen += 1
        loc = r["locations"][0]
        phys = loc.get("physicalLocation", {})
        uri = phys.get("artifactLocation", {}).get("uri", "")
        line = phys.get("region", {}).get("startLine", 0)
        if not uri.startswith(prefix) or line <= 0:
            bad.append(f"{r['ruleId']}: located at {uri}:{line}, not in {prefix}")
        if phys.get("artifactLocation", {}).get("uriBaseId") != "%SRCROOT%":
            bad.append(f"{r['ruleId']}: uri not relative to %SRCROOT%")
        names = [l.get("name", "") for l in loc.get("logicalLocations", [])]
        for flow in r.get("codeFlows", []):
            for tf in flow["threadFlows"]:
                for l in tf["locations"]:
                    names.append(l["location"].get("message", {}).get("text", ""))
                    names += [g.get("name", "") for g in l["location"].get("logicalLocations", [])]
        for n in names:
            if MANGLED.search(n):
                bad.append(f"{r['ruleId']}: mangled name {n}")
    if seen == 0:
        bad.append("no miniport result")
    return bad, seen


def main(argv):
    if len(argv) < 4 or argv[1] not in ("json", "sarif"):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    if argv[1] == "json":
        bad, seen = check_json(argv[2], argv[3:])
    else:
        bad, seen = check_sarif(argv[2], argv[3])
    for b in bad:
        print(b)
    print(f"{argv[1]}: {seen} miniport finding(s) checked, {len(bad)} problem(s)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
