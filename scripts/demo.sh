#!/usr/bin/env bash
# The main job, short: set up, build (release), replay the demo corpus with
# the reference driver — clean, then with seeded bugs — recording everything
# in a results database, and write the report to demo-out/report/.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh build
cmake --preset release >/dev/null
cmake --build --preset release -j"$(nproc)" --target lifetrace
tool=./build/release/lifetrace
out=${LT_DEMO_OUT:-demo-out}
mkdir -p "$out"
rm -f "$out/results.db"
status=0
"$tool" replay --quiet --db "$out/results.db" corpus/regressions/*/*.jsonl || status=$?
if [ "$status" -gt 1 ]; then echo "demo: replay failed ($status)" >&2; exit "$status"; fi
"$tool" report --db "$out/results.db" --out "$out/report"
echo
echo "demo: results database: $out/results.db"
echo "demo: report: $out/report/index.html (summary: $out/report/summary.md)"
