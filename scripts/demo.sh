#!/usr/bin/env bash
# The main job, short: set up this Debian 12 machine (missing packages only),
# then run a fuzz campaign against the bundled reference driver with every
# seeded bug switched on, triage it (replay, dedup by signature, minimize,
# confirm) and write the report. Everything lands in demo-out/:
#   demo-out/report/index.html  the HTML report (summary.md beside it)
#   demo-out/results.db         the SQLite results database
#   demo-out/triage/            minimized reproducers and triage.md
# Usage: scripts/demo.sh [SECONDS]   (fuzzing time, default 90)
set -euo pipefail
cd "$(dirname "$0")/.."

secs=${1:-90}
out=${LT_DEMO_OUT:-demo-out}
bash scripts/setup.sh fuzz
./fuzz.sh --engine libfuzzer --duration "$secs" --bugs all --out "$out"
echo
echo "demo: report:   $out/report/index.html  (summary: $out/report/summary.md)"
echo "demo: database: $out/results.db"
echo "demo: confirm any reproducer listed above with the 'lifetrace replay' command it shows"
