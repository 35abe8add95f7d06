#!/usr/bin/env bash
# Integration test of the command line as a user meets it: `lifetrace help
# CMD`, a mistyped option named with the closest one, one wording for a
# missing file, --version with the commit, `mark` explaining its states, and
# what `cmake --install` puts beside the tool: the man page and the bash
# completion (both generated from the commands' option tables) and
# lifetrace.pc.
#
# args: TOOL SOURCE_DIR WORK_DIR
set -u
tool=$1 src=$2 work=$3
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1
fails=0
check() { # check DESCRIPTION COMMAND...
  local what=$1
  shift
  if "$@"; then echo "ok: $what"; else echo "FAIL: $what"; fails=$((fails + 1)); fi
}
run() { # run NAME ARGS...: stdout NAME.out, stderr NAME.err, exit code NAME.rc
  local name=$1
  shift
  "$tool" "$@" >"$name.out" 2>"$name.err"
  echo $? >"$name.rc"
}
rc() { test "$(cat "$1.rc")" = "$2"; }
has() { grep -qF -- "$2" "$1"; }

run help_report help report
check "help report exits 0" rc help_report 0
check "help report is report's --help" diff help_report.out <("$tool" report --help)
check "help report lists its options" has help_report.out "--db FILE"
run help_nope help nope
check "help of an unknown command exits 2" rc help_nope 2

for cmd in "report --dbb x:report:--dbb:--db" "replay --polcy audit t:replay:--polcy:--policy" \
           "check --sarf f d:check:--sarf:--sarif" "triage --max-per-signture 3 x:triage:--max-per-signture:--max-per-signature"; do
  IFS=: read -r args name bad good <<<"$cmd"
  # shellcheck disable=SC2086
  run typo $args
  check "$name $bad: exit 2" rc typo 2
  check "$name $bad: names the option and suggests $good" \
    has typo.err "lifetrace $name: unknown option '$bad'; did you mean '$good'?"
done
run noarg dump --range
check "a missing option argument is named" has noarg.err "option --range needs an argument (A-B)"
run cmdtypo reprot
check "a mistyped command suggests the closest" has cmdtypo.err "did you mean 'report'?"

for c in "info missing.jsonl" "dump missing.jsonl" "replay missing.jsonl" "encode missing.jsonl -o x.ltrace" \
         "check missing" "import missing.xml" "minimize missing.jsonl -o x.jsonl" \
         "triage missing" "report --db missing" "findings --db missing" "diff --db missing" "mark --db missing abcd fixed"; do
  # shellcheck disable=SC2086
  run missing $c
  check "'$c': exit 3, one wording" bash -c 'rc() { test "$(cat missing.rc)" = 3; }; rc && grep -qE "missing(\.jsonl|\.xml)?: no such (file|database)$" missing.err'
done

run version --version
check "--version prints the version and the commit" grep -qE '^lifetrace [0-9]+\.[0-9]+\.[0-9]+ \(commit [^)]+\)$' version.out
commit=$(sed -n 's/.*(commit \(.*\))$/\1/p' version.out | sed 's/-dirty$//; s/.*-g\([0-9a-f]*\)$/\1/')
if git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
  check "the commit ($commit) is one of this tree's (git describe at configure time)" \
    git -C "$src" cat-file -e "$commit^{commit}"
else
  check "outside git the commit is 'unknown'" test "$commit" = unknown
fi

run mark_bad mark --db x.db abcd fixd
check "mark with a wrong state exits 2" rc mark_bad 2
check "and explains the states" bash -c "grep -q \"'fixd' is not a state\" mark_bad.err && grep -q '^  fixed ' mark_bad.err && grep -q '^  ignored ' mark_bad.err && grep -q '^  open ' mark_bad.err"

run bugs replay --bugs 99 "$src"/corpus/regressions/miniport/bug-1-p1-hresource-decides.jsonl
check "--bugs 99 is refused (exit 2)" rc bugs 2
check "and the message says which bugs the driver has" \
  grep -q 'rejected bugs "99".*it accepts 1, 2, .*10, p1, .*p13, p19$' bugs.err

# Generated documents: from the tables, installed with the package.
build=$(dirname "$tool")
cmake --install "$build" --prefix "$work/inst" >install.log 2>&1
check "cmake --install succeeds" test $? = 0
man=$work/inst/share/man/man1/lifetrace.1
comp=$work/inst/share/bash-completion/completions/lifetrace
pc=$(ls "$work"/inst/lib*/pkgconfig/lifetrace.pc 2>/dev/null | head -1)
check "man page installed" test -s "$man"
check "man page = lifetrace __man" diff "$man" <("$tool" __man -)
check "man page has every option of every command's table" bash -c '
  for o in --max-per-signature --special-pool --summary-json --campaign --driver-version --md; do
    grep -qF "$(printf %s "$o" | sed "s/-/\\\\-/g")" "$0" || { echo "missing $o"; exit 1; }; done' "$man"
if command -v groff >/dev/null; then
  check "man page renders without warnings" bash -c 'test -z "$(groff -man -Tutf8 -ww "$0" 2>&1 >/dev/null)"' "$man"
fi
check "bash completion installed" test -s "$comp"
check "completion = lifetrace __complete bash" diff "$comp" <("$tool" __complete bash -)
complete_words() { # complete_words WORDS...: what the completion offers for the last word
  bash -c 'source "$0"; COMP_WORDS=("${@}"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _lifetrace; echo "${COMPREPLY[*]}"' "$comp" "$@"
}
check "completion: commands" test "$(complete_words lifetrace rep)" = "replay report"
check "completion: a command's options" test "$(complete_words lifetrace diff --ca)" = "--campaign"
check "completion: an option's values" test "$(complete_words lifetrace findings --status fi)" = "fixed"
check "lifetrace.pc installed beside the CMake package" \
  test -n "$pc" -a -f "$(dirname "$(dirname "$pc")")/cmake/lifetrace/lifetraceConfig.cmake"
if command -v pkg-config >/dev/null && [ -n "$pc" ]; then
  export PKG_CONFIG_PATH=$(dirname "$pc")
  check "pkg-config knows the version" test "$(pkg-config --modversion lifetrace)" = "$(sed -n 's/^lifetrace \([0-9.]*\).*/\1/p' version.out)"
  printf '#include <lifetrace/error.h>\n#include <lifetrace/miniport.h>\nint main(void) { return lt_strerror(0) == 0; }\n' >pc.c
  # shellcheck disable=SC2046
  check "a program compiles with pkg-config --cflags" cc -c pc.c $(pkg-config --cflags lifetrace) -o pc.o
  libs_ok=1
  for l in $(pkg-config --libs-only-l lifetrace | tr ' ' '\n' | grep '^-llt_'); do
    [ -f "$(dirname "$PKG_CONFIG_PATH")/lib${l#-l}.a" ] || libs_ok=0
  done
  check "every library pkg-config names is installed" test $libs_ok = 1
fi

echo "it_cli: $fails failure(s)"
[ $fails = 0 ]
