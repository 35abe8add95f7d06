#!/usr/bin/env bash
# fuzz.sh — a lifetrace fuzz campaign: build, fuzz with libFuzzer and/or
# AFL++, then triage every crash (replay, signature, dedup, minimized
# reproducers), record it in OUT/results.db and write the report.
# Run ./fuzz.sh --help. Design notes: docs/fuzzing.md.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

usage() {
  cat <<'EOF'
usage: ./fuzz.sh [OPTIONS]

Runs a fuzz campaign against a WDDM miniport driver on lifetrace's simulated
dxgkrnl (kernel policy: every crash is the driver's), then triages it.

  --engine E        libfuzzer (default), afl, or both
  --duration S      seconds of fuzzing (default 3600); triage follows
  --jobs N          parallel workers (default: the number of CPUs). libFuzzer
                    runs -fork=N; AFL++ runs one -M main and N-1 -S workers
                    (every other one an ASan build); both splits them
  --driver PATH     driver under test: a shared object exporting
                    lt_miniport_entry (build it with -fsanitize=fuzzer-no-link
                    for coverage), or "reference" (default)
  --triage-driver PATH  the same driver without instrumentation, for triage:
                    lifetrace (build-fuzz/tools) cannot dlopen a .so built
                    with -fsanitize=fuzzer-no-link or ASan; default --driver.
                    lifetrace_add_driver builds both: lib<name>-fuzz.so for
                    --driver (lib<name>-afl.so with --engine afl, which
                    preloads it), lib<name>.so for --triage-driver
  --bugs LIST       seeded bugs of the reference driver to switch on: numbers,
                    pattern ids or names (1,3,p13,p19-resource-double-release),
                    "all" or "none" (default none)
  --seeds DIR       seed traces in the fuzz form (default corpus/seeds); seeds
                    that already crash are kept as findings, not fuzzed
  --out DIR         campaign folder (default fuzz-out): corpus, crashes, logs,
                    results.db, triage/ (reproducers, triage.md) and report/
  --gpu             GPU-layer error findings are crashes too
  --special-pool    replay in the special pool: a driver reading or writing
                    freed pool memory faults at the access and is a
                    miniport-use-after-free (slower; docs/replay-engine.md)
  --max-len BYTES   largest input (default 16384)
  --keep-per-signature N  crash files kept per finding signature (default 3);
                    later crashes of a signature are counted, not saved
  --progress S      seconds between progress lines (default 10)
  --driver-version V  what the driver under test is, e.g. "$(git -C kmd describe)";
                    recorded with the run beside the sha256 of the driver file,
                    so a regression can be placed between two driver versions
  --no-prune        keep the corpus as it is at the end (default: minimize it,
                    libFuzzer -merge=1 / afl-cmin)
  --no-build        use the fuzz builds as they are (build-fuzz/)
  --no-triage       stop after fuzzing
  --fail-on-findings  exit 1 when triage finds crashes (for CI gating)
  -h, --help        show this help

A rerun with the same --out resumes: the corpus, the crashes found so far and
the list of known crashes are kept (a known crash is not reported again by
the workers, so they keep exploring), and triage covers every crash of the
campaign. Ctrl-C stops the workers, keeps their crashes and still triages; a
worker that dies is restarted for the time left. Workers die with the
campaign even when fuzz.sh is killed with SIGKILL (a watchdog in its own
session notices), and a rerun first kills any worker an earlier session left
running (it refuses while another fuzz.sh runs on the same --out).

Builds (cmake presets, in build-fuzz/): fuzz-tools always, fuzz-libfuzzer for
libFuzzer, fuzz-afl and fuzz-afl-asan for AFL++. Needs clang and
libclang-rt-14-dev (libFuzzer), afl++ (AFL++): scripts/setup.sh fuzz.

exit codes: 0 campaign done, 1 crashes found (with --fail-on-findings),
            2 usage error, 4 build or tool failure

example (a short campaign with every seeded bug on):
  ./fuzz.sh --engine libfuzzer --duration 120 --bugs all --out fuzz-out
EOF
}

say() { printf '[fuzz.sh] %s\n' "$*" >&2; }
die() { say "error: $*"; exit "${2:-4}"; }
usage_error() { say "$*"; say "run ./fuzz.sh --help"; exit 2; }

engine=libfuzzer duration=3600 jobs=$(nproc) driver=reference bugs="" seeds="$ROOT/corpus/seeds"
triage_driver="" out=fuzz-out gpu=0 special_pool=0 max_len=16384 progress=10 build=1 triage=1 fail_on_findings=0
keep=3 driver_version="" prune=1
cmdline="./fuzz.sh $*"

value() { [ "$2" -ge 2 ] || usage_error "$1 needs a value"; }
while [ $# -gt 0 ]; do
  case "$1" in
  --*=*) set -- "${1%%=*}" "${1#*=}" "${@:2}"; continue ;;
  --engine) value "$1" $#; engine=$2; shift 2 ;;
  --duration) value "$1" $#; duration=$2; shift 2 ;;
  --jobs) value "$1" $#; jobs=$2; shift 2 ;;
  --driver) value "$1" $#; driver=$2; shift 2 ;;
  --triage-driver) value "$1" $#; triage_driver=$2; shift 2 ;;
  --bugs) value "$1" $#; bugs=$2; shift 2 ;;
  --seeds) value "$1" $#; seeds=$2; shift 2 ;;
  --out) value "$1" $#; out=$2; shift 2 ;;
  --max-len) value "$1" $#; max_len=$2; shift 2 ;;
  --keep-per-signature) value "$1" $#; keep=$2; shift 2 ;;
  --progress) value "$1" $#; progress=$2; shift 2 ;;
  --driver-version) value "$1" $#; driver_version=$2; shift 2 ;;
  --no-prune) prune=0; shift ;;
  --gpu) gpu=1; shift ;;
  --special-pool) special_pool=1; shift ;;
  --no-build) build=0; shift ;;
  --no-triage) triage=0; shift ;;
  --fail-on-findings) fail_on_findings=1; shift ;;
  -h | --help) usage; exit 0 ;;
  *) usage_error "unknown option: $1" ;;
  esac
done

case "$engine" in libfuzzer | afl | both) ;; *) usage_error "--engine must be libfuzzer, afl or both" ;; esac
for n in "$duration" "$jobs" "$max_len" "$progress" "$keep"; do
  [[ "$n" =~ ^[0-9]+$ ]] || usage_error "not a number: $n"
done
[ "$jobs" -ge 1 ] || usage_error "--jobs must be at least 1"
[ -d "$seeds" ] || usage_error "no seed folder: $seeds"
seeds=$(cd "$seeds" && pwd)
mkdir -p "$out"
out=$(cd "$out" && pwd)
if [ "$driver" != reference ]; then
  [ -f "$driver" ] || usage_error "no driver: $driver"
  driver=$(cd "$(dirname "$driver")" && pwd)/$(basename "$driver")
fi
if [ -n "$triage_driver" ] && [ "$triage_driver" != reference ]; then
  [ -f "$triage_driver" ] || usage_error "no triage driver: $triage_driver"
  triage_driver=$(cd "$(dirname "$triage_driver")" && pwd)/$(basename "$triage_driver")
fi
[ -n "$triage_driver" ] || triage_driver=$driver
[ "$bugs" = none ] && bugs=""

TOOLS=$ROOT/build-fuzz/tools
LIFETRACE=$TOOLS/lifetrace
AFL_MUTATOR=$TOOLS/fuzz/afl_mutator.so
LF_BIN=$ROOT/build-fuzz/libfuzzer/fuzz/fuzz_replay
AFL_BIN=$ROOT/build-fuzz/afl/fuzz/fuzz_replay_afl
AFL_ASAN_BIN=$ROOT/build-fuzz/afl-asan/fuzz/fuzz_replay_afl
DICT=$ROOT/fuzz/lifetrace.dict
mkdir -p "$out/logs" "$out/corpus/libfuzzer" "$out/crashes/libfuzzer" "$out/crashes/seeds" "$out/afl"

# ---- the campaign's identity: a rerun must fuzz the same thing ---------------------

conf="driver=$driver bugs=${bugs:-none} gpu=$gpu"
if [ -f "$out/campaign.conf" ] && [ "$(cat "$out/campaign.conf")" != "$conf" ]; then
  die "$out holds a campaign with other settings ($(cat "$out/campaign.conf")); use another --out" 2
fi
echo "$conf" >"$out/campaign.conf"

# ---- one campaign at a time, and no orphan of an earlier one -------------------------------
#
# Every worker carries LT_FUZZ_CAMPAIGN=OUT in its environment, and so does
# every process it starts (libFuzzer's -fork jobs, AFL++'s fork server and
# targets); fuzz.sh itself and its watchdog do not. A process of the campaign
# is found by that marker in /proc/PID/environ, whatever its process group.

campaign_pids() { # out: pids of the processes a campaign in OUT started
  grep -lzxF "LT_FUZZ_CAMPAIGN=$1" /proc/[0-9]*/environ 2>/dev/null |
    sed -E 's|^/proc/([0-9]+)/environ$|\1|' || true
}

kill_campaign() { # out: SIGTERM, then SIGKILL for what is left after 1 s
  local pids i
  pids=$(campaign_pids "$1")
  [ -n "$pids" ] || return 0
  # shellcheck disable=SC2086
  kill -TERM $pids 2>/dev/null || true
  for i in 1 2 3 4 5 6 7 8 9 10; do
    sleep 0.1
    pids=$(campaign_pids "$1")
    [ -n "$pids" ] || return 0
  done
  # shellcheck disable=SC2086
  kill -KILL $pids 2>/dev/null || true
  for i in $(seq 1 30); do # SIGKILL is not instant on a loaded machine
    [ -n "$(campaign_pids "$1")" ] || return 0
    sleep 0.1
  done
}

proc_start() { # pid: its start time (field 22 of /proc/PID/stat), or nothing
  sed -E 's/^.*\) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f20 || true
}

if [ -f "$out/campaign.pid" ]; then
  read -r opid ostart <"$out/campaign.pid" || true
  if [ -n "${opid:-}" ] && [ "$opid" != $$ ] && [ -n "${ostart:-}" ] &&
    [ "$(proc_start "$opid")" = "$ostart" ]; then
    die "another fuzz.sh (pid $opid) is running a campaign in $out; stop it or use another --out" 2
  fi
fi
echo "$$ $(proc_start $$)" >"$out/campaign.pid"
orphans=$(campaign_pids "$out" | wc -l)
if [ "$orphans" -gt 0 ]; then
  say "killing $orphans process(es) an earlier session of this campaign left running"
  kill_campaign "$out"
  left=$(campaign_pids "$out" | tr '\n' ' ')
  [ -z "$left" ] || die "processes of an earlier session of $out still run: $left"
fi

# ---- build ---------------------------------------------------------------------------

need_tool() { command -v "$1" >/dev/null 2>&1 || die "$1 not found: run scripts/setup.sh fuzz"; }

# build_progress LOG: the last step cmake or ninja printed ("[ 42%]", "[17/80]").
build_progress() {
  tail -c 4000 "$1" 2>/dev/null | tr '\r' '\n' | grep -oE '^\[ *[0-9]+(%|/[0-9]+)\]' | tail -1 |
    tr -d '[] ' || true
}

# Builds a preset in the background and says how far it got every 5 s (a
# first build takes minutes), then how long it took.
build_preset() {
  local preset=$1 dir=$2 gen=() log=$out/logs/build-$1.log t0 pid step shown="" ticks=0
  [ -f "$dir/CMakeCache.txt" ] || ! command -v ninja >/dev/null || gen=(-G Ninja)
  say "building $preset (log: $log)"
  t0=$(date +%s)
  (cd "$ROOT" && cmake --preset "$preset" "${gen[@]}" && cmake --build --preset "$preset" -j"$(nproc)") \
    >"$log" 2>&1 &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    sleep 1
    ticks=$((ticks + 1))
    [ $((ticks % 5)) = 0 ] || continue
    step=$(build_progress "$log")
    [ -z "$step" ] || [ "$step" = "$shown" ] || say "  $preset: ${step/\// of } ($(($(date +%s) - t0))s)"
    shown=$step
  done
  wait "$pid" || die "building $preset failed: see $log"
  say "  $preset: built in $(($(date +%s) - t0))s"
}

if [ "$build" = 1 ]; then
  need_tool cmake
  build_preset fuzz-tools "$TOOLS"
  if [ "$engine" != afl ]; then
    need_tool clang
    build_preset fuzz-libfuzzer "$ROOT/build-fuzz/libfuzzer"
  fi
  if [ "$engine" != libfuzzer ]; then
    need_tool afl-fuzz
    need_tool afl-clang-fast
    build_preset fuzz-afl "$ROOT/build-fuzz/afl"
    build_preset fuzz-afl-asan "$ROOT/build-fuzz/afl-asan"
  fi
fi
[ "$triage" = 0 ] || [ -x "$LIFETRACE" ] || die "no $LIFETRACE: build first (drop --no-build)"
[ "$engine" = afl ] || [ -x "$LF_BIN" ] || die "no $LF_BIN: build first"
[ "$engine" = libfuzzer ] || [ -x "$AFL_BIN" ] || die "no $AFL_BIN: build first"

# ---- environment of every worker ------------------------------------------------------

export LT_FUZZ_DRIVER=$driver LT_FUZZ_BUGS=$bugs LT_FUZZ_GPU=$gpu LT_FUZZ_QUIET=1
# AFL++: an instrumented driver (lib<name>-afl.so) must be loaded before the
# fork server starts, and libAFLDriver starts it before LLVMFuzzerInitialize
# dlopens LT_FUZZ_DRIVER. So afl-fuzz and afl-cmin preload it (AFL_PRELOAD),
# and a direct run of the AFL++ target too (LD_PRELOAD, on the target alone:
# the .so needs the kernel routines the target exports); the dlopen then
# finds it loaded.
afl_preload=()
[ "$driver" = reference ] || afl_preload=(AFL_PRELOAD="$driver")
export LT_FUZZ_SPECIAL_POOL=$special_pool
export LT_FUZZ_KNOWN=$out/known-crashes.txt
export LT_FUZZ_SIGDIR=$out/sigs LT_FUZZ_KEEP=$keep
mkdir -p "$LT_FUZZ_SIGDIR"
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:symbolize=0:detect_leaks=0}
touch "$LT_FUZZ_KNOWN"

# ---- seeds: a seed that already crashes is a finding, not a starting point ------------------

screen_seeds() {
  local bin=$LF_BIN n=0 bad=0 preload=()
  [ "$engine" = afl ] && bin=$AFL_BIN && [ "$driver" != reference ] && preload=(LD_PRELOAD="$driver")
  rm -rf "$out/seeds"
  mkdir -p "$out/seeds"
  for f in "$seeds"/*; do
    [ -f "$f" ] || continue
    n=$((n + 1))
    if LT_FUZZ_KNOWN= LT_FUZZ_SIGDIR= timeout 60 env "${preload[@]}" "$bin" "$f" >/dev/null 2>&1; then
      cp "$f" "$out/seeds/"
    else
      bad=$((bad + 1))
      cp "$f" "$out/crashes/seeds/crash-seed-$(basename "$f")"
    fi
  done
  [ "$bad" = 0 ] || say "$bad of $n seeds crash already: kept in $out/crashes/seeds for triage"
  [ "$n" -gt "$bad" ] || die "no seed replays without a crash: give --seeds with at least one" 2
  say "seeds: $((n - bad)) from $seeds"
}
screen_seeds

# ---- workers --------------------------------------------------------------------------

lf_jobs=0 afl_jobs=0
case "$engine" in
libfuzzer) lf_jobs=$jobs ;;
afl) afl_jobs=$jobs ;;
both)
  lf_jobs=$(((jobs + 1) / 2))
  afl_jobs=$((jobs - lf_jobs))
  [ "$afl_jobs" -ge 1 ] || afl_jobs=1
  ;;
esac

declare -A wpid wrestarts

start_libfuzzer() { # secs
  (cd "$out/logs" && exec {wd_fd}>&- && LT_FUZZ_CAMPAIGN=$out exec setsid "$LF_BIN" \
    -fork="$lf_jobs" -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 -max_total_time="$1" \
    -max_len="$max_len" -timeout=20 -dict="$DICT" -artifact_prefix="$out/crashes/libfuzzer/" \
    -print_final_stats=1 \
    "$out/corpus/libfuzzer" "$out/seeds") >>"$out/logs/libfuzzer.log" 2>&1 &
  wpid[libfuzzer]=$!
}

start_afl() { # name secs
  local name=$1 role=(-S "$1") bin=$AFL_BIN extra=()
  [ "$name" = main ] && role=(-M main)
  [ "$name" = main ] && [ "$lf_jobs" -gt 0 ] && extra=(-F "$out/corpus/libfuzzer")
  if [ "$name" != main ] && [ $((${name#s} % 2)) = 1 ] && [ -x "$AFL_ASAN_BIN" ]; then
    bin=$AFL_ASAN_BIN
  fi
  (cd "$out/logs" && exec {wd_fd}>&- && AFL_CUSTOM_MUTATOR_LIBRARY=$AFL_MUTATOR AFL_NO_UI=1 \
    AFL_SKIP_CPUFREQ=1 AFL_NO_AFFINITY=1 AFL_AUTORESUME=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 \
    LT_FUZZ_CAMPAIGN=$out exec env "${afl_preload[@]}" setsid afl-fuzz -i "$out/seeds" -o "$out/afl" "${role[@]}" \
    "${extra[@]}" -V "$2" -x "$DICT" -t 5000+ -m none -- "$bin") >>"$out/logs/afl-$name.log" 2>&1 &
  wpid[$name]=$!
}

start_worker() { # name secs
  if [ "$1" = libfuzzer ]; then start_libfuzzer "$2"; else start_afl "$1" "$2"; fi
  local w
  for w in "${workers[@]}"; do echo "$w ${wpid[$w]:-}"; done >"$out/workers.pid"
}

# The watchdog: a process in its own session (a kill of fuzz.sh's process
# group, as `timeout` sends, does not reach it) that reads a pipe only
# fuzz.sh holds open (workers close it). When fuzz.sh ends in any way, even
# SIGKILL, the pipe closes and the watchdog kills what the campaign started.
watchdog() { # out
  trap '' INT TERM HUP
  while read -r _; do :; done
  kill_campaign "$1"
}
exec {wd_fd}> >(exec setsid bash -c "$(declare -f campaign_pids kill_campaign watchdog); watchdog \"\$1\"" \
  watchdog "$out" >/dev/null 2>&1)
echo $! >"$out/watchdog.pid"

workers=()
[ "$lf_jobs" -gt 0 ] && workers+=(libfuzzer)
if [ "$afl_jobs" -gt 0 ]; then
  workers+=(main)
  for ((i = 1; i < afl_jobs; i++)); do workers+=("s$i"); done
fi

stop_workers() {
  local w
  for w in "${workers[@]}"; do
    # SIGTERM: libFuzzer's -fork parent and AFL++ both stop cleanly on it.
    [ -n "${wpid[$w]:-}" ] && kill -TERM -- "-${wpid[$w]}" 2>/dev/null || true
  done
  for _ in $(seq 1 20); do
    local alive=0
    for w in "${workers[@]}"; do
      if [ -n "${wpid[$w]:-}" ] && kill -0 "${wpid[$w]}" 2>/dev/null; then alive=1; fi
    done
    [ "$alive" = 0 ] && return
    sleep 0.5
  done
  for w in "${workers[@]}"; do
    [ -z "${wpid[$w]:-}" ] || kill -KILL -- "-${wpid[$w]}" 2>/dev/null || true
  done
}

stopping=0
on_signal() {
  if [ "$stopping" = 1 ]; then
    say "interrupted again: stopping now"
    stop_workers
    exit 130
  fi
  stopping=1
  say "stopping the workers (crashes are kept); triage follows — Ctrl-C again to skip it"
}
trap on_signal INT TERM
trap 'stop_workers' EXIT # whatever ends the script, no worker outlives it

# ---- progress and stats -------------------------------------------------------------------

session=$(date +%Y%m%d-%H%M%S)
stats_csv=$out/logs/stats-$session.csv
echo "t_ms,execs,exec_per_sec,corpus,coverage,features,rss_mb,crashes,timeouts" >"$stats_csv"

# What this session starts from, so that a resumed campaign's progress lines
# show this session's numbers (libFuzzer's log and AFL++'s plot_data are
# appended to across sessions): the log's size, each plot_data's line count,
# and the findings and crash files there already.
count_sigs() { find "$LT_FUZZ_SIGDIR" -name '????????????????' 2>/dev/null | wc -l; }
count_crash_files() {
  (find "$out/crashes" "$out/afl" -type f \( -name 'crash-*' -o -path '*/crashes/id:*' \) 2>/dev/null || true) | wc -l
}
declare -A plot_from
session_start() {
  local d
  lf_log_from=$(stat -c %s "$out/logs/libfuzzer.log" 2>/dev/null || echo 0)
  for d in "$out"/afl/*/; do
    plot_from[$d]=$(grep -cv '^#' "$d/plot_data" 2>/dev/null || true)
  done
  sigs_from=$(count_sigs)
  files_from=$(count_crash_files)
}

sample() { # elapsed
  local lf afl files sigs hits
  lf=$(tail -c +$((lf_log_from + 1)) "$out/logs/libfuzzer.log" 2>/dev/null | grep -aE '^#[0-9]+: cov: ' | tail -1 || true)
  # #6152: cov: 3287 ft: 7689 corp: 605 exec/s 50 oom/timeout/crash: 0/0/20 time: 68s job: 22
  local lx=0 lcov=0 lft=0 lcorp=0 leps=0 lto=0
  if [ -n "$lf" ]; then
    read -r lx lcov lft lcorp leps lto <<<"$(sed -E 's/^#([0-9]+): cov: ([0-9]+) ft: ([0-9]+) corp: ([0-9]+) exec\/s:? ([0-9]+) oom\/timeout\/crash: [0-9]+\/([0-9]+)\/.*/\1 \2 \3 \4 \5 \6/' <<<"$lf")"
  fi
  # Per AFL++ instance: corpus, hangs, exec/s, execs, edges — from the last
  # line of plot_data (relative_time, cycles_done, cur_item, corpus_count,
  # pending_total, pending_favs, map_size, saved_crashes, saved_hangs,
  # max_depth, execs_per_sec, total_execs, edges_found), or, before afl-fuzz
  # writes one this session, from the queue: its size (execs only for a new
  # instance: the largest execs: in a name).
  afl=$(for d in "$out"/afl/*/; do
    [ -d "$d/queue" ] || continue
    if [ -f "$d/plot_data" ] && [ "$(grep -cv '^#' "$d/plot_data" || true)" -gt "${plot_from[$d]:-0}" ]; then
      tail -1 "$d/plot_data" | awk -F', *' '{print $4, $9, $11, $12, $13}'
    elif [ -n "${plot_from[$d]:-}" ]; then
      echo "$(ls "$d/queue" | grep -c '^id:' || true) 0 0 0 0"
    else
      q=$(ls "$d/queue" | grep -c '^id:' || true)
      x=$( (ls "$d/queue" "$d/crashes" 2>/dev/null || true) | sed -n 's/.*execs:\([0-9]*\).*/\1/p' | sort -n | tail -1)
      echo "$q 0 $(( ${x:-0} / ($1 > 0 ? $1 : 1) )) ${x:-0} 0"
    fi
  done | awk '{c+=$1; h+=$2; e+=$3; x+=$4; if ($5>g) g=$5} END {printf "%d %d %.0f %d %d", x, c, e, g, h}')
  local ax ac ae ag ah
  read -r ax ac ae ag ah <<<"${afl:-0 0 0 0 0}"
  files=$(count_crash_files)
  sigs=$(count_sigs)
  hits=$(find "$LT_FUZZ_SIGDIR" -name '????????????????' -printf '%s\n' 2>/dev/null | awk '{n+=$1} END {print n+0}')
  local line="$1/${duration}s"
  [ "$lf_jobs" -gt 0 ] && line="$line  libFuzzer: $lx execs ($leps/s), corpus $lcorp, cov $lcov"
  [ "$afl_jobs" -gt 0 ] && line="$line  AFL++: $ax execs ($ae/s), corpus $ac, edges $ag"
  say "$line  | distinct findings $sigs ($((sigs - sigs_from)) new), crash files $files ($((files - files_from)) new), crashing inputs $hits"
  local cov=$lcov
  [ "$cov" -gt 0 ] || cov=$ag
  echo "$(date +%s%3N),$((lx + ax)),$((leps + ae)),$((lcorp + ac)),$cov,$lft,0,$files,$((lto + ah))" >>"$stats_csv"
}

# ---- the campaign -----------------------------------------------------------------------------

started_ms=$(date +%s%3N)
session_start
start=$(date +%s)
end=$((start + duration))
say "campaign: engine $engine, $jobs job(s), ${duration}s, driver $driver, bugs ${bugs:-none}, out $out"
for w in "${workers[@]}"; do
  wrestarts[$w]=0
  start_worker "$w" "$duration"
done

last=$start
while [ "$stopping" = 0 ]; do
  now=$(date +%s)
  [ "$now" -lt "$end" ] || break
  for w in "${workers[@]}"; do
    if ! kill -0 "${wpid[$w]}" 2>/dev/null && [ $((end - now)) -gt 5 ]; then
      if [ "${wrestarts[$w]}" -ge 5 ]; then
        say "worker $w keeps dying: not restarting it (see $out/logs)"
        continue
      fi
      wrestarts[$w]=$((${wrestarts[$w]} + 1))
      say "worker $w exited early: restarting it for the $((end - now))s left"
      start_worker "$w" $((end - now))
    fi
  done
  if [ $((now - last)) -ge "$progress" ]; then
    last=$now
    sample $((now - start))
  fi
  sleep 1 &
  wait $! || true
done
stop_workers
kill_campaign "$out" # what a worker left behind (a -fork job, an AFL++ target)
exec {wd_fd}>&-      # the watchdog finds nothing left and exits
: >"$out/workers.pid"
trap - INT TERM EXIT
sample $(($(date +%s) - start))

# ---- prune: the smallest corpus with the same coverage, for the next session ------------------

prune_libfuzzer() {
  local c=$out/corpus/libfuzzer fresh=$out/corpus/libfuzzer.merge before after
  before=$(find "$c" -type f | wc -l)
  [ "$before" -gt 0 ] || return 0
  rm -rf "$fresh"
  mkdir -p "$fresh"
  # No crash counting (LT_FUZZ_SIGDIR empty) and no crash files kept: merging
  # replays inputs the workers already counted (fork mode can leave a crashing
  # input in the corpus; the merge drops it).
  rm -rf "$out/logs/prune-crashes"
  mkdir -p "$out/logs/prune-crashes"
  if (cd "$out/logs" && LT_FUZZ_SIGDIR= "$LF_BIN" -merge=1 -max_len="$max_len" -timeout=20 \
    -artifact_prefix="$out/logs/prune-crashes/" "$fresh" "$c") >"$out/logs/prune-libfuzzer.log" 2>&1 &&
    after=$(find "$fresh" -type f | wc -l) && [ "$after" -gt 0 ]; then
    rm -rf "$c"
    mv "$fresh" "$c"
    say "corpus pruned (libFuzzer -merge=1): $before -> $after inputs"
    rm -rf "$out/logs/prune-crashes"
  else
    rm -rf "$fresh"
    say "pruning the libFuzzer corpus failed, kept as is: see $out/logs/prune-libfuzzer.log"
  fi
}

# AFL++'s queues stay as they are (a resumed instance needs its own); their
# union, minimized by afl-cmin, is OUT/corpus/afl (seeds for other campaigns).
prune_afl() {
  local all=$out/corpus/afl.all min=$out/corpus/afl.min d n=0 after
  rm -rf "$all" "$min"
  mkdir -p "$all"
  for d in "$out"/afl/*/queue; do
    [ -d "$d" ] || continue
    n=$((n + 1))
    find "$d" -maxdepth 1 -type f -name 'id:*' -exec sh -c 'for f; do cp "$f" "$0/q'"$n"'-${f##*/id:}"; done' "$all" {} +
  done
  local before
  before=$(find "$all" -type f | wc -l)
  [ "$before" -gt 0 ] || { rm -rf "$all"; return 0; }
  if env "${afl_preload[@]}" AFL_SKIP_CPUFREQ=1 LT_FUZZ_SIGDIR= afl-cmin -i "$all" -o "$min" -m none -t 5000 -- "$AFL_BIN" \
    >"$out/logs/prune-afl.log" 2>&1 && after=$(find "$min" -type f | wc -l) && [ "$after" -gt 0 ]; then
    rm -rf "$out/corpus/afl"
    mv "$min" "$out/corpus/afl"
    say "corpus pruned (afl-cmin over $n queue(s)): $before -> $after inputs in $out/corpus/afl"
  else
    say "afl-cmin failed, AFL++ queues kept as they are: see $out/logs/prune-afl.log"
  fi
  rm -rf "$all" "$min"
}

if [ "$prune" = 1 ]; then
  [ "$lf_jobs" = 0 ] || prune_libfuzzer
  [ "$afl_jobs" = 0 ] || prune_afl
fi

# ---- triage and report ------------------------------------------------------------------------

[ "$triage" = 1 ] || { say "done (triage skipped); crashes in $out/crashes and $out/afl"; exit 0; }
trap 'say "triage interrupted"; exit 130' INT TERM
engine_name=$engine
[ "$engine" = afl ] && engine_name=afl++
[ "$engine" = both ] && engine_name=libfuzzer+afl++
targs=(--out "$out/triage" --db "$out/results.db" --engine "$engine_name"
  --run-uuid "$(cat /proc/sys/kernel/random/uuid)" --started-at "$started_ms"
  --stats "$stats_csv" --command "$cmdline" --recorded "$out/triage-recorded.txt"
  --hits "$LT_FUZZ_SIGDIR")
[ "$triage_driver" != reference ] && targs+=(--driver "$triage_driver")
# The driver's identity: the file fuzzed (or the reference driver's library).
driver_file=$driver
[ "$driver" = reference ] && driver_file=$TOOLS/drivers/reference/libreference.so
[ -f "$driver_file" ] || driver_file=$LF_BIN
driver_sha=$(sha256sum "$driver_file" 2>/dev/null | cut -d' ' -f1 || true)
[ -n "$driver_sha" ] && targs+=(--driver-sha256 "$driver_sha")
[ -n "$driver_version" ] && targs+=(--driver-version "$driver_version")
[ -n "$bugs" ] && targs+=(--bugs "$bugs")
[ "$gpu" = 1 ] && targs+=(--gpu)
[ "$special_pool" = 1 ] && targs+=(--special-pool)
say "triage: replaying every crash (log: $out/logs/triage.log)"
set +e
"$LIFETRACE" triage -q "${targs[@]}" "$out/crashes" "$out/afl" >"$out/logs/triage.log" 2>&1
trc=$?
set -e
[ "$trc" -le 1 ] || die "triage failed (exit $trc): see $out/logs/triage.log"
"$LIFETRACE" report --db "$out/results.db" --out "$out/report" >>"$out/logs/triage.log" 2>&1 ||
  die "report failed: see $out/logs/triage.log"
echo
cat "$out/triage/triage.md"
echo
say "report: $out/report/index.html (summary: $out/report/summary.md); database: $out/results.db"
if [ "$trc" = 1 ] && [ "$fail_on_findings" = 1 ]; then exit 1; fi
exit 0
