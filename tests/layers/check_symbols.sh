#!/usr/bin/env bash
# The layering test, calls: every function or variable a layer's archive takes
# from lifetrace (lt_*, lt__*, lifetrace__*) must be defined in that layer or in
# one it may use (the layers run one way: base kit -> trace model -> harness |
# importers -> replay loop -> reports -> CLI | fuzz; a driver uses none).
#   check_symbols.sh NAME=ARCHIVE=ALLOWED,ALLOWED... ...
# Prints each wrong-way reference as "LAYER takes SYMBOL from OTHER" and exits 1.
set -euo pipefail
declare -A archive allowed
names=()
for spec in "$@"; do
  IFS='=' read -r name file deps <<<"$spec"
  names+=("$name")
  archive[$name]=$file
  allowed[$name]=" $name ${deps//,/ } "
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for n in "${names[@]}"; do
  nm --defined-only -g "${archive[$n]}" 2>/dev/null | awk 'NF == 3 && $2 != "U" {print $3}' |
    sort -u >"$tmp/$n.def"
done
bad=0
for n in "${names[@]}"; do
  # Weak references (w) are registration points another binary may fill.
  nm -u "${archive[$n]}" 2>/dev/null | awk '$1 == "U" {print $2}' | grep -E '^(lt_|lt__|lifetrace__)' |
    sort -u >"$tmp/$n.undef" || true
  while read -r sym; do
    owner=""
    for m in "${names[@]}"; do
      if grep -qxF "$sym" "$tmp/$m.def"; then owner=$m; break; fi
    done
    if [ -z "$owner" ]; then
      echo "$n takes $sym, which no layer defines" >&2; bad=1
    elif [[ "${allowed[$n]}" != *" $owner "* ]]; then
      echo "$n takes $sym from $owner" >&2; bad=1
    fi
  done <"$tmp/$n.undef"
done
if [ $bad -ne 0 ]; then
  echo "layers: wrong-way references (see docs/architecture.md)" >&2
  exit 1
fi
echo "layers: ${#names[@]} archives, every reference runs down"
