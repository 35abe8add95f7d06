#!/usr/bin/env bash
# End to end: lifetrace encode / dump / info as a user runs them.
#   it_trace_io.sh TOOL SOURCE_DIR WORK_DIR      (exit 77 = skipped)
set -u
tool=${1:?tool}
work=${3:?work dir}
[ -x "$tool" ] || { echo "skip: $tool not built"; exit 77; }
rm -rf "$work" && mkdir -p "$work" && cd "$work" || exit 1

failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
ok() { echo "ok: $*"; }

# expect CODE CMD...: the exit code; stderr kept in err.txt, stdout in out.txt.
expect() {
  local want=$1; shift
  "$@" >out.txt 2>err.txt
  local got=$?
  if [ "$got" != "$want" ]; then
    fail "exit $got (want $want): $*"; sed 's/^/    /' err.txt | head -5
    return 1
  fi
  return 0
}

# expect_error CODE REGEX CMD...: the exit code and a stderr line matching REGEX.
expect_error() {
  local want=$1 re=$2; shift 2
  expect "$want" "$@" || return
  if grep -Eq -- "$re" err.txt; then ok "$* -> $(head -1 err.txt)"
  else fail "stderr of '$*' does not match /$re/:"; sed 's/^/    /' err.txt | head -5; fi
}

# A trace in canonical form: every op and every field, handles above 2^53.
cat >rich.jsonl <<'EOF'
{"lifetrace": 1, "source": "it_trace_io: every op and field, \"quoted\" caf\u00e9", "ends": "window", "segments": [{"id": 1, "kind": "local", "size": 268435456}, {"id": 2, "kind": "aperture", "size": 67108864}, {"id": 3, "kind": "system", "size": "0xffffffffffffffff"}], "processes": [{"pid": 1234, "name": "game.exe"}, {"pid": 5678, "name": "dwm.exe"}]}
{"op": "device_create", "t": 100, "pid": 1234, "tid": 1, "device": "0xffffa00000001000", "rundown": true, "origin": {"record": 0, "line": 12}}
{"op": "context_create", "t": 200, "pid": 1234, "tid": 1, "device": "0xffffa00000001000", "context": 16, "node": 2, "rundown": true, "origin": {"record": 1}}
{"op": "alloc_create", "t": 300, "pid": 1234, "tid": 2, "device": "0xffffa00000001000", "resource": "0xffffa00000002000", "new_resource": true, "shared": true, "allocs": [{"alloc": "0xffffa00000003000", "size": 65536, "align": 4096, "segments": [1, 2], "preferred": 1, "flags": ["cpu_visible", "cached", "primary"]}, {"alloc": "0xffffa00000003040", "size": 4096, "segments": [32], "flags": ["permanent_sys_mem", "protected", "existing_sys_mem", "existing_kernel_sys_mem", "from_end_of_segment", "swizzled", "overlay", "capture", "use_alternate_va", "synchronous_paging"]}, {"alloc": 9007199254740992, "size": "0xffffffffffffffff", "align": 1, "preferred": 3, "flags": ["link_mirrored", "link_instanced", "history_buffer", "accessed_physically", "explicit_residency_notification", "hardware_protected", "cpu_visible_on_demand", 3145728]}]}
{"op": "alloc_create", "t": 310, "pid": 1234, "device": "0xffffa00000001000", "resource": "0xffffa00000002000", "allocs": [{"alloc": "0x20000000000001"}]}
{"op": "device_create", "t": 400, "pid": 5678, "tid": 7, "device": 2}
{"op": "alloc_open", "t": 500, "pid": 5678, "device": 2, "allocs": ["0xffffa00000003000"]}
{"op": "submit", "t": 600, "pid": 1234, "context": 16, "fence": 1, "refs": [{"alloc": "0xffffa00000003000", "write": true}, {"alloc": "0xffffa00000003040"}]}
{"op": "fence_done", "t": 700, "context": 16, "fence": 1}
{"op": "lock", "t": 800, "device": "0xffffa00000001000", "alloc": "0xffffa00000003000"}
{"op": "unlock", "t": 810, "device": "0xffffa00000001000", "alloc": "0xffffa00000003000"}
{"op": "evict", "t": 900, "alloc": "0xffffa00000003000", "segment": 1}
{"op": "page_in", "t": 910, "alloc": "0xffffa00000003000", "segment": 2}
{"op": "scanout", "t": 1000, "alloc": "0xffffa00000003000", "source": 1}
{"op": "scanout", "t": 1100, "source": 1}
{"op": "offer", "t": 1200, "alloc": "0xffffa00000003040"}
{"op": "reclaim", "t": 1300, "alloc": "0xffffa00000003040"}
{"op": "alloc_close", "t": 1400, "pid": 5678, "device": 2, "allocs": ["0xffffa00000003000"]}
{"op": "alloc_destroy", "t": 1500, "resource": "0xffffa00000002000", "allocs": ["0xffffa00000003000", "0xffffa00000003040"], "assume_not_in_use": true, "synchronous": true}
{"op": "alloc_destroy", "t": 1510, "resource": "0xffffa00000002000", "allocs": [9007199254740992, "0x20000000000001"], "destroy_resource": true}
{"op": "tdr", "t": 1600}
{"op": "inject_fault", "t": 1700, "site": "pool", "nth": 1}
{"op": "inject_fault", "t": 1710, "site": "vram", "nth": 2}
{"op": "inject_fault", "t": 1720, "site": "handle", "nth": 4294967295}
{"op": "context_destroy", "t": 1800, "device": "0xffffa00000001000", "context": 16}
{"op": "process_exit", "t": 1900, "pid": 5678}
{"op": "device_destroy", "t": "0x20000000000001", "pid": 1234, "device": "0xffffa00000001000"}
EOF
# the writer prints UTF-8, not \u escapes: make the file canonical first
sed -i 's/caf\\u00e9/café/' rich.jsonl
nevents=$(($(wc -l <rich.jsonl) - 1))

# --- round trips ---------------------------------------------------------------
expect 0 "$tool" encode rich.jsonl -o rich.ltrace --strict &&
  expect 0 "$tool" dump rich.ltrace -o back.jsonl &&
  if cmp -s rich.jsonl back.jsonl; then ok "JSONL -> binary -> JSONL is byte-identical"
  else fail "JSONL round trip differs"; diff rich.jsonl back.jsonl | head -5; fi
expect 0 "$tool" encode back.jsonl -o rich2.ltrace &&
  if cmp -s rich.ltrace rich2.ltrace; then ok "binary -> JSONL -> binary is byte-identical"
  else fail "binary round trip differs"; fi
expect 0 "$tool" encode rich.jsonl -o rich.ltrace.zst &&
  expect 0 "$tool" dump rich.ltrace.zst &&
  if cmp -s rich.jsonl out.txt; then ok "zstd round trip (by name)"; else fail "zstd round trip differs"; fi
expect 0 "$tool" encode --zstd rich.jsonl -o zstd-by-flag.ltrace &&
  if [ "$(head -c4 zstd-by-flag.ltrace | od -An -tx1 | tr -d ' ')" = 28b52ffd ]; then ok "--zstd compresses"
  else fail "--zstd output is not zstd"; fi
if "$tool" encode - -o - <rich.jsonl | "$tool" dump - >pipe.jsonl 2>err.txt && cmp -s rich.jsonl pipe.jsonl; then
  ok "stdin/stdout pipes"
else fail "encode - -o - | dump - differs"; fi
grep -q '"alloc": "0x20000000000001"' back.jsonl && grep -q '"size": "0xffffffffffffffff"' back.jsonl &&
  grep -q '"alloc": 9007199254740992' back.jsonl && ok "handles above 2^53 survive" ||
  fail "large handles lost"

# --- dump options --------------------------------------------------------------
expect 0 "$tool" dump rich.ltrace --index &&
  sed -n 2p out.txt | grep -q '^{"i": 0, "op": "device_create"' &&
  tail -1 out.txt | grep -q "^{\"i\": $((nevents - 1)), " && ok "dump --index" ||
  fail "dump --index: $(sed -n 2p out.txt | cut -c1-40)"
expect 0 "$tool" dump rich.ltrace --range 2-4 --index &&
  [ "$(wc -l <out.txt)" = 4 ] && grep -q '^{"i": 4,' out.txt && ! grep -q '^{"i": 5,' out.txt &&
  ok "dump --range 2-4" || fail "dump --range 2-4"
expect 0 "$tool" dump rich.ltrace --range 25- && [ "$(wc -l <out.txt)" = $((1 + nevents - 25)) ] &&
  ok "dump --range 25-" || fail "dump --range 25-"
expect 0 "$tool" dump rich.ltrace --range -1 && [ "$(wc -l <out.txt)" = 3 ] && ok "dump --range -1" ||
  fail "dump --range -1"
expect 0 "$tool" dump rich.ltrace --range 7 && [ "$(wc -l <out.txt)" = 2 ] && ok "dump --range 7" ||
  fail "dump --range 7"
expect 0 "$tool" dump --index rich.ltrace -o indexed.jsonl && expect 0 "$tool" encode indexed.jsonl -o idx.ltrace --strict &&
  cmp -s idx.ltrace rich.ltrace && ok "\"i\" is accepted and ignored by encode" || fail "encode of dump --index"
expect 0 "$tool" dump rich.ltrace --range 3-5 -o slice.ltrace && expect 0 "$tool" info slice.ltrace &&
  grep -q '^events  *3$' out.txt && ok "dump -o x.ltrace writes a binary slice" || fail "binary slice"

# --- info ----------------------------------------------------------------------
expect 0 "$tool" info rich.ltrace.zst
for want in '^format +binary\+zstd' '^ends +window' "^events +$nevents\$" '^  alloc_destroy +2$' \
  'game\.exe' '^live start +1 devices, 1 contexts, 0 allocations, 0 resources' \
  '^live end +0 devices, 0 contexts, 0 allocations, 0 resources' 'first t=100 ns'; do
  grep -Eq -- "$want" out.txt && ok "info: /$want/" || { fail "info lacks /$want/"; cat out.txt; }
done
expect 0 "$tool" info --json rich.jsonl
for want in '"format": "jsonl"' "\"events\": $nevents" '"alloc_create": 2' '"live_end": \{' \
  '"name": "dwm.exe"' '"t_last": "0x20000000000001"'; do
  grep -Eq -- "$want" out.txt && ok "info --json: /$want/" || { fail "info --json lacks /$want/"; cat out.txt; }
done

# --- broken input: exit 3 with position and record -----------------------------
head -c 64 /dev/urandom | tr '\000-\377' '\200-\377\000-\177' >garbage.bin
printf 'LTRC\001\200\200\200\200\200\200\200\200\020' >huge-header.ltrace
{ head -c 5 rich.ltrace; printf '\002\010\001\200\200\200\200\200\200\200\200\020'; } >huge-event.ltrace
printf 'LTRD\001\002\010\001' >badmagic.ltrace
printf 'LTRC\002\002\010\001' >badversion.ltrace
printf 'LTRC\001\002\010\001\377\377\377\377\377\377\377\377\377\377\001' >longvarint.ltrace
expect_error 3 'garbage.bin: byte 0: record -1: not a lifetrace trace' "$tool" dump garbage.bin
expect_error 3 'byte 5: record -1: record length 1152921504606846976 exceeds' "$tool" dump huge-header.ltrace
expect_error 3 'byte [0-9]+: record 0: record length 1152921504606846976 exceeds' "$tool" info huge-event.ltrace
expect_error 3 'byte 0: record -1: not a lifetrace trace' "$tool" dump badmagic.ltrace
expect_error 3 'byte 4: record -1: unsupported format version 2' "$tool" dump badversion.ltrace
expect_error 3 'byte 8: record 0: length prefix is longer than 10 bytes' "$tool" dump longvarint.ltrace
size=$(wc -c <rich.ltrace)
for cut in 3 5 6 20 $((size / 2)) $((size - 1)); do
  head -c "$cut" rich.ltrace >cut.ltrace
  expect_error 3 '^lifetrace: cut\.ltrace: byte [0-9]+: record -?[0-9]+: ' "$tool" dump cut.ltrace
done
head -c $((size / 2)) rich.ltrace >cut.ltrace
expect_error 3 '<stdin>: byte [0-9]+: record [0-9]+: truncated' sh -c "cat cut.ltrace | \"$tool\" dump -"
expect_error 3 '<stdin>: byte [0-9]+: record [0-9]+: record length [0-9]+ exceeds the [0-9]+ bytes left' \
  sh -c "\"$tool\" info - <cut.ltrace"
head -c $(($(wc -c <rich.ltrace.zst) - 8)) rich.ltrace.zst >cut.zst
expect_error 3 'cut\.zst: byte [0-9]+: record -?[0-9]+: .*zstd' "$tool" dump cut.zst

{ head -1 rich.jsonl; echo '{"op": "tdr"}'; echo; echo 'not json'; } >nonjson.jsonl
{ head -1 rich.jsonl; echo '{"op": "tdr"}'; echo '{"op": "alloc_frobnicate"}'; } >unknownop.jsonl
{ head -1 rich.jsonl; printf '{"op": "tdr"}\r\n{"op": "tdr", "note": "x"}\r\n'; } >unknownkey.jsonl
{ head -1 rich.jsonl; echo '{"op": "fence_done", "fence": 1.5}'; } >badtype.jsonl
{ head -1 rich.jsonl; echo '{"op": "submit", "node": -1}'; } >negative.jsonl
expect_error 3 'nonjson.jsonl: line 4: record 1: not valid JSON' "$tool" encode nonjson.jsonl -o x.ltrace
[ -e x.ltrace ] && fail "a failed encode left x.ltrace behind" || ok "a failed encode leaves no output"
expect_error 3 'unknownop.jsonl: line 3: record 1: key "op": unknown op "alloc_frobnicate"' \
  "$tool" encode unknownop.jsonl -o x.ltrace
expect_error 3 'unknownkey.jsonl: line 3: record 1: unknown key "note"' "$tool" encode --strict unknownkey.jsonl -o x.ltrace
expect 0 "$tool" encode unknownkey.jsonl -o x.ltrace && ok "unknown keys are ignored without --strict"
expect_error 3 'line 2: record 0: key "fence": expected an integer or "0x…" string' "$tool" dump badtype.jsonl
expect_error 3 'line 2: record 0: key "node": must not be negative' "$tool" info negative.jsonl
expect_error 3 'no-such-file: no such file' "$tool" info no-such-file

# --- usage ---------------------------------------------------------------------
for cmd in encode dump info; do
  expect 0 "$tool" "$cmd" --help && grep -q "^usage: lifetrace $cmd" out.txt && ok "$cmd --help" ||
    fail "$cmd --help"
  expect_error 2 "lifetrace $cmd: " "$tool" "$cmd"
  expect_error 2 "unknown option" "$tool" "$cmd" --no-such-option rich.ltrace
done
expect_error 2 'missing -o' "$tool" encode rich.jsonl
expect_error 2 'bad range' "$tool" dump rich.ltrace --range 9-3
expect_error 2 'same file' "$tool" encode rich.jsonl -o rich.jsonl
expect_error 4 'cannot write' "$tool" encode rich.jsonl -o no-such-dir/x.ltrace

echo "$failures failure(s)"
[ "$failures" = 0 ]
