#!/usr/bin/env bash
# The whole test suite, as CI runs it: set up, a Debug build with ASan and
# UBSan (warnings are errors), every CTest test, then the regression gate
# (lifetrace check over corpus/regressions, JUnit + SARIF in build/dev/).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh test
cmake --preset dev >/dev/null
cmake --build --preset dev -j"$(nproc)"
ctest --preset dev
./build/dev/lifetrace check corpus/regressions \
  --junit build/dev/regressions.junit.xml --sarif build/dev/regressions.sarif
