#!/usr/bin/env bash
# Installs what lifetrace needs on Debian 12 (idempotent: only missing
# packages are installed, and apt-get update runs only when something is
# missing). Usage: scripts/setup.sh [build|test|fuzz|all]   (default: test)
set -euo pipefail

want=${1:-test}
build_pkgs=(build-essential cmake ninja-build pkg-config git
            protobuf-c-compiler libprotobuf-c-dev libzstd-dev libjansson-dev
            libsqlite3-dev libexpat1-dev libwim-dev)
test_pkgs=(libcmocka-dev python3 python3-jsonschema libxml2-utils chromium sqlite3 zstd)
fuzz_pkgs=(clang libclang-rt-14-dev lld afl++ llvm)

case "$want" in
  build) pkgs=("${build_pkgs[@]}") ;;
  test) pkgs=("${build_pkgs[@]}" "${test_pkgs[@]}") ;;
  fuzz) pkgs=("${build_pkgs[@]}" "${fuzz_pkgs[@]}") ;;
  all) pkgs=("${build_pkgs[@]}" "${test_pkgs[@]}" "${fuzz_pkgs[@]}") ;;
  *) echo "usage: $0 [build|test|fuzz|all]" >&2; exit 2 ;;
esac

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#pkgs[@]} packages present"
  exit 0
fi
echo "setup: installing ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done"
