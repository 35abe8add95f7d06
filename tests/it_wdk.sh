#!/usr/bin/env bash
# Integration test of the WDK compat layer (docs/bring-your-own-driver.md):
# builds tests/wdk_driver (a KMD in the WDK's style: C allocation code, a C++
# DMA engine with a worker thread, KEVENTs, a DPC, a timer, a fast mutex,
# interlocked operations, RtlString*, WPP and NT_ASSERT) against the source
# tree's headers with no shim, and checks that
#   - it compiles with gcc (C) and g++ (C++, -fno-exceptions -fno-rtti), and
#     the headers alone compile as C and as C++;
#   - it replays clean over a trace whose DMA completions only the worker
#     thread retires (its DestroyContext asserts that they were);
#   - a failed NT_ASSERT is a miniport-crash finding naming the expression
#     and the site; a callback lifetrace does not simulate is a finding
#     naming it;
#   - a driver calling a kernel routine lifetrace does not provide fails to
#     load (dlopen) and to link (static) with a message naming the routine.
#
# args: TOOL SOURCE_DIR WORK_DIR (exit 77 = skipped)
set -u
tool=$1 src=$2 work=$3
build=$(cd "$(dirname "$tool")" && pwd)
rm -rf "$work" && mkdir -p "$work/gen" && cd "$work" || exit 1
fails=0
check() { # check DESCRIPTION COMMAND...
  local what=$1
  shift
  if "$@"; then echo "ok: $what"; else echo "FAIL: $what"; fails=$((fails + 1)); fi
}
has() { grep -qF -- "$2" "$1"; }

cc=gcc
command -v $cc >/dev/null || cc=cc
drv=$src/tests/wdk_driver
trace=$drv/wdk-dma.jsonl
flags=(-g -fPIC -fshort-wchar -Wall -Wextra -Werror -Wno-multichar -Wno-unknown-pragmas
       -Wno-unused-parameter -DLIFETRACE=1 -DDBG=1 -fvisibility=hidden
       -I"$src/include" -I"$src/include/lifetrace/wdk" -I"$work/gen" -I"$drv")
# WPP without tracewpp: one line per .tmh (lifetrace_add_driver does this itself)
for f in $(grep -ho '[A-Za-z0-9_]*\.tmh' "$drv"/*.c "$drv"/*.cpp | sort -u); do
  echo '#include <lifetrace/wdk/wpp.h>' >"gen/$f"
done

# 1. the headers alone, as C and as C++
printf '#include <ntddk.h>\n#include <wdm.h>\n#include <ntstrsafe.h>\n#include <initguid.h>\n#include <d3dkmddi.h>\n#include <d3dkmthk.h>\n#include <dispmprt.h>\n#include <d3d10umddi.h>\n#include <dxgiformat.h>\n#include <pshpack1.h>\n#include <poppack.h>\n#include <lifetrace/driver.h>\nDEFINE_GUID(G, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11);\nstatic const WCHAR w[] = L"wide";\nC_ASSERT(sizeof(w) == 10);\nC_ASSERT(sizeof(WCHAR) == 2);\n' >headers.c
check "the WDK stand-ins compile as C" $cc -std=gnu11 "${flags[@]}" -c headers.c -o headers_c.o
have_cxx=0
if command -v g++ >/dev/null; then
  have_cxx=1
  check "the WDK stand-ins compile as C++" g++ -x c++ -fno-exceptions -fno-rtti "${flags[@]}" \
    -c headers.c -o headers_cxx.o
else
  echo "skip: no g++: the C++ checks are skipped"
fi
[ $have_cxx = 1 ] || { [ $fails = 0 ] && exit 77; exit 1; }

# 2. the driver: C and C++ sources, no shim
check "wdkkmd.c compiles (gcc)" $cc -std=gnu11 "${flags[@]}" -c "$drv/wdkkmd.c" -o wdkkmd.o
check "wdkkmd_dma.cpp compiles (g++ -fno-exceptions -fno-rtti)" \
  g++ -std=gnu++17 -fno-exceptions -fno-rtti "${flags[@]}" -c "$drv/wdkkmd_dma.cpp" -o dma.o
check "libwdkkmd.so links" g++ -shared wdkkmd.o dma.o -o libwdkkmd.so

# 3. clean replay: the worker thread retires every packet
LIFETRACE_DBGPRINT_LEVEL=3 "$tool" replay --policy kernel --driver ./libwdkkmd.so --json "$trace" \
  >clean.json 2>clean.err
rc=$?
cat clean.err
check "the WDK driver replays clean (exit 0)" test $rc = 0
check "its worker thread ran (WPP trace through DbgPrintEx)" has clean.err "WdkWorker: retired"
check "DbgPrintEx honours its level: verbose traces print at level 3" has clean.err "adapter"
"$tool" replay --policy kernel --driver ./libwdkkmd.so "$trace" >quiet.out 2>quiet.err
check "DbgPrintEx honours its level: nothing at the default level" \
  bash -c "! grep -q 'DbgPrint:' quiet.err"
"$tool" replay --driver ./libwdkkmd.so "$trace" >audit.out 2>&1
check "the WDK driver replays clean under the audit policy too" test $? = 0

# 4. NT_ASSERT fires: a finding naming the expression and the site
"$tool" replay --policy kernel --driver ./libwdkkmd.so --bugs assert --json "$trace" >assert.json 2>assert.err
rc=$?
cat assert.json
check "a failed NT_ASSERT fails the replay (exit 1)" test $rc = 1
check "the finding is a miniport-crash" has assert.json '"kind":"miniport-crash"'
check "it names the expression" has assert.json "pCreateAllocation->NumAllocations == 1"
check "it names the site" has assert.json "wdkkmd.c:"
check "it names the DDI" has assert.json "DxgkDdiCreateAllocation"
driver_frame() { # driver_frame FILE.json SOURCE: a miniport finding's stack has a frame of SOURCE with a line
  python3 -c '
import json, sys
v = json.load(open(sys.argv[1]))
ok = any(fr["in"] == "driver" and fr["file"].endswith(sys.argv[2]) and fr["line"] > 0
         for f in v["findings"] if f["layer"] == "miniport" for s in f["stacks"] for fr in s["frames"])
sys.exit(0 if ok else 1)' "$1" "$2"
}
check "its stack has the driver frame, with file and line" driver_frame assert.json wdkkmd.c

# 5. a callback lifetrace cannot simulate: a finding naming it
"$tool" replay --policy kernel --driver ./libwdkkmd.so --bugs acpi --json "$trace" >acpi.json 2>acpi.err
rc=$?
check "an unsimulated callback fails the replay (exit 1)" test $rc = 1
check "the finding names DxgkCbEvalAcpiMethod" has acpi.json "DxgkCbEvalAcpiMethod"
check "its stack has the driver's calling frame, with file and line" driver_frame acpi.json wdkkmd.c

# 6. a kernel routine lifetrace does not provide: load and link errors name it
cat >missing.c <<'EOM'
#include <ntddk.h>
#include <lifetrace/driver.h>
void *IoAllocateMdl(void *va, ULONG len, BOOLEAN secondary, BOOLEAN charge, void *irp);
static NTSTATUS Start(const DXGKRNL_INTERFACE *i, HANDLE *h) {
  *h = IoAllocateMdl(NULL, 4096, FALSE, FALSE, NULL);
  return STATUS_SUCCESS;
}
static const LT_MINIPORT Missing = {.AbiVersion = LT_MINIPORT_ABI_VERSION,
                                    .Size = sizeof(LT_MINIPORT), .Name = "missing",
                                    .DxgkDdiStartDevice = Start};
LT_DEFINE_MINIPORT_ENTRY(Missing)
EOM
check "the missing-routine driver builds as a .so" \
  $cc -std=gnu11 "${flags[@]}" -shared missing.c -o libmissing.so
"$tool" replay --driver ./libmissing.so "$trace" >missing.out 2>&1
rc=$?
cat missing.out
check "lifetrace replay refuses it (exit 2)" test $rc = 2
check "the load error names the routine" has missing.out "undefined symbol: IoAllocateMdl"
libs=("$build/liblifetrace_cli.a" "$build/liblt_reports.a" "$build/liblt_replay.a"
      "$build/liblt_import.a" "$build/liblt_mutator.a" "$build/liblt_harness.a"
      "$build/liblt_trace.a" "$build/liblt_base.a")
san=$(sed -n 's/^LT_SANITIZE:[A-Z]*=//p' "$build/CMakeCache.txt")
ldflags=(-lprotobuf-c -lsqlite3 -lzstd -ldl -lpthread -lm)
[ "$san" = ON ] && ldflags=(-fsanitize=address,undefined "${ldflags[@]}")
printf 'const void *lt_miniport_entry(void);\nint main(void) { return lt_miniport_entry() == 0; }\n' >main.c
$cc -std=gnu11 "${flags[@]}" -c missing.c -o missing.o && $cc -c main.c -o main.o
g++ main.o wdkkmd.o dma.o -o control_link "${libs[@]}" "${ldflags[@]}" >control_link.out 2>&1
if [ $? = 0 ]; then
  $cc main.o missing.o -o missing_link "${libs[@]}" "${ldflags[@]}" >missing_link.out 2>&1
  rc=$?
  cat missing_link.out
  check "a static link of the driver fails" test $rc != 0
  check "the link error names the routine" has missing_link.out "undefined reference to \`IoAllocateMdl'"
else
  cat control_link.out
  echo "note: cannot link a static control binary here: the static-link check is skipped"
fi

[ $fails = 0 ] || { echo "$fails check(s) failed"; exit 1; }
echo "all checks passed"
