#!/usr/bin/env bash
# The layering test, includes: builds a probe source as part of a layer (with
# exactly that layer's include path) and checks the result.
#   probe.sh BUILD_DIR TARGET fail HEADER   the build must fail, because HEADER
#                                           (a private header of a higher layer)
#                                           is not found
#   probe.sh BUILD_DIR TARGET pass          the build must succeed (the control)
set -uo pipefail
out=$(cmake --build "$1" --target "$2" 2>&1)
rc=$?
case "$3" in
  pass)
    if [ $rc -ne 0 ]; then echo "$out" >&2; echo "probe $2: the control does not build" >&2; exit 1; fi
    echo "probe $2: builds" ;;
  fail)
    if [ $rc -eq 0 ]; then echo "probe $2: a wrong-way include of $4 compiled" >&2; exit 1; fi
    if ! grep -q "$4: No such file or directory" <<<"$out"; then
      echo "$out" >&2; echo "probe $2: failed, but not for want of $4" >&2; exit 1
    fi
    echo "probe $2: $4 is out of reach, as it should be" ;;
esac
