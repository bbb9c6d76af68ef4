#!/usr/bin/env bash
# Gatehouse proxy benchmark: nginx vs bare YARP (defaults / quiet logs) vs Gatehouse.
#
# Usage:
#   bench/run.sh            # JIT builds only
#   bench/run.sh --aot      # also publish Gatehouse with Native AOT and compare it
# Environment:
#   DURATION=10s CONNECTIONS=32 THREADS=1   wrk settings for each measured workload
#   WARMUP=15s         wrk warm-up per workload, so ~45 s per proxy before measuring: under load on one
#                      core, .NET's tiered JIT needs ~30-40 s to reach its final (PGO) code; a short warm-up
#                      measures half-compiled code (bare YARP: ~7k req/s after 3 s, ~21k after 40 s)
#   SKIP_PUBLISH=1     reuse the builds already in .bench/ (quick re-runs)
#   STARTUP_RUNS=3     extra launches per Gatehouse build in --aot mode (median startup)
#
# CPU layout (the machine this was written for has 2 cores):
#   core 0: the proxy under test, alone (taskset -c 0)
#   core 1: the backend AND wrk (taskset -c 1)
# Why: the question is "how much proxy work fits on one core", so the proxy gets a core
# that nothing else this script starts competes for (other people's processes still
# can: the report records the load average). The backend returns pre-built bodies and
# wrk is cheap per request, so together they out-run one .NET proxy core. They do not
# out-run nginx (it idles at ~50% CPU here): the "proxy CPU" column tells you. A proxy
# well under ~95% CPU was not the bottleneck, and its req/s (and every ratio against
# it) is a floor, not its ceiling.
# Side effect of pinning: a .NET process that sees one CPU gets workstation GC even if
# it asks for server GC (BareYarp logs what it got in .bench/run/bareyarp-*.stderr.log).
#
# Everything it starts is killed on exit (trap), even on failure or Ctrl-C. Outputs go
# to .bench/ (git-ignored): builds, .bench/run/ (logs, raw wrk output), .bench/results.md.
set -euo pipefail

usage() { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; }

AOT=0
for arg in "$@"; do
    case "$arg" in
        --aot) AOT=1 ;;
        -h | --help) usage; exit 0 ;;
        *) echo "run.sh: unknown argument '$arg'" >&2; usage >&2; exit 2 ;;
    esac
done

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-32}
THREADS=${THREADS:-1}
WARMUP=${WARMUP:-15s}
SKIP_PUBLISH=${SKIP_PUBLISH:-0}
STARTUP_RUNS=${STARTUP_RUNS:-3}
PROXY_CPU=0
LOAD_CPU=1
PORT_FIRST=18100
PORT_LAST=18199
# dotnet's first start after a publish can be slow on a busy machine; bounded anyway.
READY_TIMEOUT_S=60

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BENCH_DIR=$REPO_ROOT/bench
OUT=$REPO_ROOT/.bench
RUN_DIR=$OUT/run
RESULTS_TSV=$RUN_DIR/results.tsv
MEM_TSV=$RUN_DIR/memory.tsv
RESULTS_MD=$OUT/results.md

# Inherited ASP.NET settings would silently change what we measure (e.g. Development
# environment, extra URLs); every server here gets its URL explicitly.
unset ASPNETCORE_URLS ASPNETCORE_HTTP_PORTS ASPNETCORE_HTTPS_PORTS \
    ASPNETCORE_ENVIRONMENT DOTNET_ENVIRONMENT DOTNET_gcServer DOTNET_GCgen0size || true
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

log() { printf '[run.sh] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

for tool in dotnet wrk taskset curl ss awk pgrep; do
    command -v "$tool" >/dev/null || die "'$tool' not found on PATH"
done
NGINX=$(command -v nginx || true)
[[ -z $NGINX && -x /usr/sbin/nginx ]] && NGINX=/usr/sbin/nginx
[[ -n $NGINX ]] || die "nginx not found (Debian: apt-get install nginx-light)"
(($(nproc --all) >= 2)) || die "needs at least 2 CPUs (proxy on core $PROXY_CPU, load on core $LOAD_CPU)"

# Other people's builds are not kept off the proxy core by taskset; record how busy
# the machine was when we started so a noisy result can be recognised as such.
LOADAVG_AT_START=$(cut -d' ' -f1-3 /proc/loadavg)

mkdir -p "$OUT"
# Two runs at once would fight over the same cores and .bench/run; refuse instead.
exec 9>"$OUT/run.lock"
flock -n 9 || die "another bench/run.sh is already running"
rm -rf "$RUN_DIR"
mkdir -p "$RUN_DIR"
: >"$RESULTS_TSV"
: >"$MEM_TSV"

# ---------------------------------------------------------------------------------
# Process bookkeeping: every pid we start goes into PIDS; the EXIT trap stops them all.
# Only these pids (and nginx's workers, found by parent pid) are ever signalled.
PIDS=()

alive() { [[ -r /proc/$1/status ]] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }

stop_pid() {
    local pid=$1 kids i
    alive "$pid" || { wait "$pid" 2>/dev/null || true; return 0; }
    # Remember nginx's workers before the master goes, for the SIGKILL fallback.
    kids=$(pgrep -P "$pid" || true)
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
        alive "$pid" || break
        sleep 0.1
    done
    if alive "$pid"; then
        log "pid $pid ignored SIGTERM for 5s; killing it"
        kill -KILL "$pid" 2>/dev/null || true
    fi
    for k in $kids; do kill -KILL "$k" 2>/dev/null || true; done
    wait "$pid" 2>/dev/null || true
}

forget_pid() {
    local keep=() p
    for p in "${PIDS[@]}"; do [[ $p == "$1" ]] || keep+=("$p"); done
    PIDS=("${keep[@]+"${keep[@]}"}")
}

cleanup() {
    local rc=$? p
    trap - EXIT INT TERM
    for p in "${PIDS[@]+"${PIDS[@]}"}"; do stop_pid "$p"; done
    ((rc == 0)) || log "failed (exit $rc); logs are in $RUN_DIR"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------------
# Ports: from a range nobody else is likely to use, skipping anything already
# listening and anything this run handed out but has not bound yet.
USED_PORTS=" "
pick_port() { # pick_port VAR
    local p
    for ((p = PORT_FIRST; p <= PORT_LAST; p++)); do
        [[ $USED_PORTS == *" $p "* ]] && continue
        if [[ -z $(ss -Hltn "sport = :$p" 2>/dev/null) ]]; then
            USED_PORTS+="$p "
            printf -v "$1" '%s' "$p"
            return 0
        fi
    done
    die "no free port in $PORT_FIRST-$PORT_LAST"
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# start_pinned CPU DIR LOGNAME STDOUT CMD...  -> sets STARTED_PID, STARTED_AT_MS
# exec in the subshell keeps $! == the server's pid (taskset execs too), so /proc
# readings and signals hit the server itself, not a wrapper shell.
start_pinned() {
    local cpu=$1 dir=$2 name=$3 stdout=$4
    shift 4
    STARTED_AT_MS=$(now_ms)
    (cd "$dir" && exec taskset -c "$cpu" "$@") >"$stdout" 2>"$RUN_DIR/$name.stderr.log" &
    STARTED_PID=$!
    PIDS+=("$STARTED_PID")
}

# wait_ready PID URL -> sets READY_MS (launch to first 2xx); fails if the process dies
# or does not answer within READY_TIMEOUT_S. Polls every 10 ms: the startup figure is
# only as precise as this interval.
wait_ready() {
    local pid=$1 url=$2 deadline
    deadline=$(($(now_ms) + READY_TIMEOUT_S * 1000))
    while :; do
        if curl -fsS -o /dev/null --max-time 1 "$url" 2>/dev/null; then
            READY_MS=$(($(now_ms) - STARTED_AT_MS))
            return 0
        fi
        alive "$pid" || { log "process $pid exited before answering $url"; return 1; }
        (($(now_ms) < deadline)) || { log "no answer from $url after ${READY_TIMEOUT_S}s"; return 1; }
        sleep 0.01
    done
}

# Memory of a server in KiB, summed over the pid and its children (nginx master +
# worker; the .NET servers are one process). FIELD is VmRSS or VmHWM.
mem_kib() {
    local field=$1 pid=$2 total=0 p v
    for p in $pid $(pgrep -P "$pid" || true); do
        v=$(awk -v f="$field:" '$1 == f { print $2 }' "/proc/$p/status" 2>/dev/null || true)
        total=$((total + ${v:-0}))
    done
    echo "$total"
}

# CPU time (clock ticks, user+system) of a server and its children, to show whether
# the proxy core was saturated during a run.
cpu_ticks() {
    local pid=$1 total=0 p v
    for p in $pid $(pgrep -P "$pid" || true); do
        # Strip "pid (comm) " first: comm may contain spaces. utime/stime are then $12/$13.
        v=$(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$p/stat" 2>/dev/null || true)
        total=$((total + ${v:-0}))
    done
    echo "$total"
}
CLK_TCK=$(getconf CLK_TCK)

# A proxy that answers fast but wrong (404, truncated body) must not "win": check each
# workload's response once through the proxy before measuring it.
check_responses() {
    local base=$1 body
    body=$(curl -fsS --max-time 5 "$base/small") || return 1
    [[ $body == "Hello, world!" ]] || { log "$base/small returned '$body'"; return 1; }
    body=$(curl -fsS --max-time 5 "$base/16k" | wc -c) || return 1
    [[ $body -eq 16384 ]] || { log "$base/16k returned $body bytes"; return 1; }
    body=$(head -c 4096 /dev/zero | curl -fsS --max-time 5 --data-binary @- "$base/echo-size") || return 1
    [[ $body == "4096" ]] || { log "$base/echo-size returned '$body'"; return 1; }
}

WORKLOADS=("small GET|/small|" "16 KB GET|/16k|" "4 KB POST|/echo-size|$BENCH_DIR/post4k.lua")

# wrk_once OUTFILE DURATION URL [LUA]
wrk_once() {
    local outfile=$1 dur=$2 url=$3 lua=${4:-}
    local args=(-t"$THREADS" -c"$CONNECTIONS" -d"$dur" --latency)
    [[ -n $lua ]] && args+=(-s "$lua")
    # Background + wait, not foreground: bash runs a trap only after a foreground child
    # ends, so Ctrl-C/TERM would otherwise wait out the whole DURATION before cleanup.
    taskset -c "$LOAD_CPU" wrk "${args[@]}" "$url" >"$outfile" 2>&1 &
    local wrk_pid=$! rc=0
    PIDS+=("$wrk_pid")
    wait "$wrk_pid" || rc=$?
    forget_pid "$wrk_pid"
    return "$rc"
}

# Parse one wrk --latency report into "rps<TAB>p50ms<TAB>p99ms<TAB>errors".
parse_wrk() {
    awk '
        function ms(v) {
            if (v ~ /us$/) return substr(v, 1, length(v) - 2) / 1000
            if (v ~ /ms$/) return substr(v, 1, length(v) - 2) + 0
            if (v ~ /m$/)  return substr(v, 1, length(v) - 1) * 60000
            if (v ~ /s$/)  return substr(v, 1, length(v) - 1) * 1000
            return v + 0
        }
        /^[[:space:]]*50%/ { p50 = ms($2) }
        /^[[:space:]]*99%/ { p99 = ms($2) }
        /^Requests\/sec:/ { rps = $2 }
        /Socket errors:/ { err += $4 + $6 + $8 + $10 }
        /Non-2xx or 3xx responses:/ { err += $NF }
        END {
            if (rps == "") exit 1
            printf "%.0f\t%.3f\t%.3f\t%d\n", rps, p50, p99, err
        }' "$1"
}

# measure LABEL SLUG PID BASE_URL: warm-up, then the three workloads; one TSV row each.
measure() {
    local label=$1 slug=$2 pid=$3 base=$4 w name path lua raw t0 t1 c0 c1 cpu row
    for w in "${WORKLOADS[@]}"; do
        IFS='|' read -r name path lua <<<"$w"
        wrk_once "$RUN_DIR/wrk-$slug-warmup-${path#/}.txt" "$WARMUP" "$base$path" "$lua"
    done
    for w in "${WORKLOADS[@]}"; do
        IFS='|' read -r name path lua <<<"$w"
        raw=$RUN_DIR/wrk-$slug-${path#/}.txt
        log "  $label: $name ($DURATION, $CONNECTIONS connections)"
        c0=$(cpu_ticks "$pid")
        t0=$(now_ms)
        wrk_once "$raw" "$DURATION" "$base$path" "$lua"
        t1=$(now_ms)
        c1=$(cpu_ticks "$pid")
        cpu=$(awk -v d="$((c1 - c0))" -v hz="$CLK_TCK" -v ms="$((t1 - t0))" \
            'BEGIN { printf "%.0f", (ms > 0) ? 100 * d / hz / (ms / 1000) : 0 }')
        row=$(parse_wrk "$raw") || { log "could not parse $raw"; cat "$raw" >&2; return 1; }
        printf '%s\t%s\t%s\t%s\n' "$label" "$name" "$row" "$cpu" >>"$RESULTS_TSV"
    done
}

# bench_proxy LABEL SLUG PORT CMD...: start pinned, time startup, check, record idle
# RSS, measure, record peak RSS, stop. Returns non-zero (and records nothing) if the
# proxy does not come up or answers wrongly, so the caller can skip it.
bench_proxy() {
    local label=$1 slug=$2 port=$3 pid idle peak base
    shift 3
    base="http://127.0.0.1:$port"
    log "starting $label on :$port"
    start_pinned "$PROXY_CPU" "$PROXY_DIR" "$slug" "$PROXY_STDOUT" "$@"
    pid=$STARTED_PID
    if ! wait_ready "$pid" "$base/small" || ! check_responses "$base"; then
        log "$label did not come up correctly; last lines of its stderr:"
        tail -n 20 "$RUN_DIR/$slug.stderr.log" >&2 || true
        stop_pid "$pid"
        forget_pid "$pid"
        return 1
    fi
    # Let startup-time background work (tiered JIT, timers) settle before reading RSS.
    sleep 0.5
    idle=$(mem_kib VmRSS "$pid")
    log "  $label: ready in ${READY_MS} ms, idle RSS $((idle / 1024)) MiB"
    measure "$label" "$slug" "$pid" "$base"
    peak=$(mem_kib VmHWM "$pid")
    printf '%s\t%s\t%s\t%s\n' "$label" "$READY_MS" "$idle" "$peak" >>"$MEM_TSV"
    stop_pid "$pid"
    forget_pid "$pid"
}

# ---------------------------------------------------------------------------------
# Build. --artifacts-path keeps obj/ and bin/ under .bench/, so publishing the gateway
# never races with other people building src/ in place. --disable-build-servers leaves
# no compiler/MSBuild servers running after the script exits.
publish() { # publish NAME PROJECT OUTDIR [extra args...]
    local name=$1 proj=$2 outdir=$3
    shift 3
    log "publishing $name -> ${outdir#"$REPO_ROOT"/}"
    if ! dotnet publish "$proj" -c Release -o "$outdir" --artifacts-path "$OUT/artifacts${ARTIFACTS_SUFFIX:-}" \
        --disable-build-servers -nologo "$@" >"$RUN_DIR/publish-$name.log" 2>&1; then
        log "publish of $name failed; tail of $RUN_DIR/publish-$name.log:"
        grep -E 'error|warning' "$RUN_DIR/publish-$name.log" | sort -u | tail -n 15 >&2 || true
        return 1
    fi
}

GATEHOUSE_NOTE=""
GATEHOUSE_AOT_NOTE=""
HAVE_GATEHOUSE=0
HAVE_GATEHOUSE_AOT=0

if [[ $SKIP_PUBLISH == 1 ]]; then
    log "SKIP_PUBLISH=1: reusing builds in .bench/"
    [[ -f $OUT/backend/Backend.dll && -f $OUT/bareyarp/BareYarp.dll ]] ||
        die "SKIP_PUBLISH=1 but .bench/backend or .bench/bareyarp is missing"
    [[ -f $OUT/gatehouse/gatehouse.dll ]] && HAVE_GATEHOUSE=1 || GATEHOUSE_NOTE="skipped: no earlier build in .bench/gatehouse"
    if ((AOT)); then
        [[ -x $OUT/gatehouse-aot/gatehouse ]] && HAVE_GATEHOUSE_AOT=1 || GATEHOUSE_AOT_NOTE="skipped: no earlier build in .bench/gatehouse-aot"
    fi
else
    publish Backend "$BENCH_DIR/Backend/Backend.csproj" "$OUT/backend" || die "cannot build the backend"
    publish BareYarp "$BENCH_DIR/BareYarp/BareYarp.csproj" "$OUT/bareyarp" || die "cannot build BareYarp"
    rm -rf "$OUT/gatehouse"
    if publish Gatehouse "$REPO_ROOT/src/Gatehouse/Gatehouse.csproj" "$OUT/gatehouse" \
        && [[ -f $OUT/gatehouse/gatehouse.dll ]]; then
        HAVE_GATEHOUSE=1
    else
        GATEHOUSE_NOTE="skipped: src/Gatehouse did not publish (see .bench/run/publish-Gatehouse.log)"
        log "Gatehouse $GATEHOUSE_NOTE; measuring the others"
    fi

    if ((AOT)); then
        # Native AOT needs a C toolchain: clang drives the link and lld is the linker it
        # picks; zlib1g-dev because the AOT runtime links against libz on Linux.
        if ! command -v clang >/dev/null || ! command -v ld.lld >/dev/null || ! dpkg -s zlib1g-dev >/dev/null 2>&1; then
            log "installing clang, lld and zlib1g-dev for Native AOT"
            SUDO=""
            ((EUID == 0)) || SUDO=sudo
            $SUDO apt-get install -y clang lld zlib1g-dev >"$RUN_DIR/apt.log" 2>&1 ||
                { $SUDO apt-get update >>"$RUN_DIR/apt.log" 2>&1 && $SUDO apt-get install -y clang lld zlib1g-dev >>"$RUN_DIR/apt.log" 2>&1; } ||
                log "apt-get install failed (see $RUN_DIR/apt.log); trying the AOT publish anyway"
        fi
        rm -rf "$OUT/gatehouse-aot"
        # A separate artifacts dir: PublishAot changes restore (ILCompiler package), and
        # sharing obj/ with the JIT build would make each re-restore the other.
        if ARTIFACTS_SUFFIX=-aot publish Gatehouse-AOT "$REPO_ROOT/src/Gatehouse/Gatehouse.csproj" \
            "$OUT/gatehouse-aot" -p:PublishAot=true --use-current-runtime \
            && [[ -x $OUT/gatehouse-aot/gatehouse ]]; then
            HAVE_GATEHOUSE_AOT=1
        else
            GATEHOUSE_AOT_NOTE="skipped: AOT publish failed (see .bench/run/publish-Gatehouse-AOT.log)"
            log "Gatehouse (AOT) $GATEHOUSE_AOT_NOTE"
        fi
    fi
fi

# ---------------------------------------------------------------------------------
# Backend: up for the whole run, on the load core.
pick_port BACKEND_PORT
BACKEND_URL="http://127.0.0.1:$BACKEND_PORT"
log "starting backend on :$BACKEND_PORT (CPU $LOAD_CPU)"
start_pinned "$LOAD_CPU" "$OUT/backend" backend "$RUN_DIR/backend.stdout.log" dotnet Backend.dll "$BACKEND_URL"
BACKEND_PID=$STARTED_PID
wait_ready "$BACKEND_PID" "$BACKEND_URL/small" || { tail -n 20 "$RUN_DIR/backend.stderr.log" >&2; die "backend did not start"; }
check_responses "$BACKEND_URL" || die "backend answers wrongly"
# Warm the backend on its own so the first proxy measured does not also pay the
# backend's JIT warm-up.
for w in "${WORKLOADS[@]}"; do
    IFS='|' read -r _ path lua <<<"$w"
    wrk_once "$RUN_DIR/wrk-backend-warmup-${path#/}.txt" "$WARMUP" "$BACKEND_URL$path" "$lua"
done

# Proxy stdout goes to /dev/null: bare YARP with default logging writes two lines per
# request, hundreds of MB per run. Formatting and the console logger's queue are still
# paid; a real sink (journald, a container log driver) would cost more, not less.
PROXY_STDOUT=/dev/null

# nginx
pick_port NGINX_PORT
NGINX_PREFIX=$RUN_DIR/nginx
mkdir -p "$NGINX_PREFIX"
USER_DIRECTIVE=""
((EUID == 0)) && USER_DIRECTIVE="user root;"
sed -e "s|@PREFIX@|$NGINX_PREFIX|g" -e "s|@PORT@|$NGINX_PORT|g" \
    -e "s|@BACKEND_PORT@|$BACKEND_PORT|g" -e "s|@USER_DIRECTIVE@|$USER_DIRECTIVE|g" \
    "$BENCH_DIR/nginx.conf.template" >"$NGINX_PREFIX/nginx.conf"
PROXY_DIR=$NGINX_PREFIX
# -e: nginx-light opens its compiled-in error log before reading the config unless told.
"$NGINX" -t -p "$NGINX_PREFIX" -c "$NGINX_PREFIX/nginx.conf" -e "$NGINX_PREFIX/error.log" \
    >"$RUN_DIR/nginx-t.log" 2>&1 || { cat "$RUN_DIR/nginx-t.log" >&2; die "nginx rejected the generated config"; }
bench_proxy "nginx" nginx "$NGINX_PORT" \
    "$NGINX" -p "$NGINX_PREFIX" -c "$NGINX_PREFIX/nginx.conf" -e "$NGINX_PREFIX/error.log" ||
    die "nginx failed"

# Bare YARP. Started from its publish dir: the content root is the working directory,
# and appsettings.json (the template's logging levels) must be found there.
PROXY_DIR=$OUT/bareyarp
pick_port YARP_PORT
bench_proxy "bare YARP (defaults)" bareyarp-defaults "$YARP_PORT" \
    dotnet BareYarp.dll "http://127.0.0.1:$YARP_PORT" "$BACKEND_URL" || die "bare YARP (defaults) failed"
pick_port YARPQ_PORT
bench_proxy "bare YARP (quiet logs)" bareyarp-quiet "$YARPQ_PORT" \
    dotnet BareYarp.dll "http://127.0.0.1:$YARPQ_PORT" "$BACKEND_URL" --quiet-logs || die "bare YARP (quiet logs) failed"

# Bare YARP with the two runtime settings Gatehouse applies for itself (socket completions
# inline; no per-request hosting Activity/log scope): the like-for-like cost of Gatehouse's
# own pipeline, apart from what any YARP app could switch on.
pick_port YARPT_PORT
bench_proxy "bare YARP (Gatehouse's runtime settings)" bareyarp-tuned "$YARPT_PORT" \
    env DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1 Logging__LogLevel__Microsoft.AspNetCore.Hosting.Diagnostics=None \
    dotnet BareYarp.dll "http://127.0.0.1:$YARPT_PORT" "$BACKEND_URL" --quiet-logs || die "bare YARP (tuned) failed"

# Gatehouse. Config is generated per run because the ports are.
write_gatehouse_config() { # write_gatehouse_config FILE PORT
    cat >"$1" <<EOF
listen: ["http://127.0.0.1:$2"]
admin: { listen: "" }
services:
  backend:
    targets: ["$BACKEND_URL"]
routes:
  - name: all
    match: { path: "/{**rest}" }
    service: backend
EOF
}

PROXY_DIR=$REPO_ROOT
if ((HAVE_GATEHOUSE)); then
    pick_port GH_PORT
    write_gatehouse_config "$RUN_DIR/gatehouse.yaml" "$GH_PORT"
    bench_proxy "Gatehouse" gatehouse "$GH_PORT" \
        dotnet "$OUT/gatehouse/gatehouse.dll" run --config "$RUN_DIR/gatehouse.yaml" || {
        HAVE_GATEHOUSE=0
        GATEHOUSE_NOTE="skipped: published but did not serve correctly (see .bench/run/gatehouse.stderr.log)"
        log "Gatehouse $GATEHOUSE_NOTE"
    }
fi
if ((AOT && HAVE_GATEHOUSE_AOT)); then
    pick_port GHA_PORT
    write_gatehouse_config "$RUN_DIR/gatehouse-aot.yaml" "$GHA_PORT"
    bench_proxy "Gatehouse (AOT)" gatehouse-aot "$GHA_PORT" \
        "$OUT/gatehouse-aot/gatehouse" run --config "$RUN_DIR/gatehouse-aot.yaml" || {
        HAVE_GATEHOUSE_AOT=0
        GATEHOUSE_AOT_NOTE="skipped: published but did not serve correctly (see .bench/run/gatehouse-aot.stderr.log)"
        log "Gatehouse (AOT) $GATEHOUSE_AOT_NOTE"
    }
fi

# --aot: one launch is a noisy startup figure, so relaunch each build a few times
# (no load) and keep the median startup and idle RSS.
STARTUP_TSV=$RUN_DIR/startup.tsv
: >"$STARTUP_TSV"
startup_series() { # startup_series LABEL SLUG CMD... (CMD gets --config appended)
    local label=$1 slug=$2 i port pid cfg
    shift 2
    for ((i = 1; i <= STARTUP_RUNS; i++)); do
        pick_port port
        cfg=$RUN_DIR/$slug-startup-$i.yaml
        write_gatehouse_config "$cfg" "$port"
        start_pinned "$PROXY_CPU" "$REPO_ROOT" "$slug-startup-$i" /dev/null "$@" --config "$cfg"
        pid=$STARTED_PID
        if wait_ready "$pid" "http://127.0.0.1:$port/small"; then
            sleep 0.5
            printf '%s\t%s\t%s\n' "$label" "$READY_MS" "$(mem_kib VmRSS "$pid")" >>"$STARTUP_TSV"
        fi
        stop_pid "$pid"
        forget_pid "$pid"
    done
}
if ((AOT)); then
    ((HAVE_GATEHOUSE)) && startup_series "Gatehouse" gatehouse dotnet "$OUT/gatehouse/gatehouse.dll" run
    ((HAVE_GATEHOUSE_AOT)) && startup_series "Gatehouse (AOT)" gatehouse-aot "$OUT/gatehouse-aot/gatehouse" run
fi

stop_pid "$BACKEND_PID"
forget_pid "$BACKEND_PID"

# ---------------------------------------------------------------------------------
# Report.
cpu_model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
{
    echo "# Proxy benchmark"
    echo
    echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "- Machine: $(nproc --all) CPUs (nproc), ${cpu_model:-unknown CPU}, Linux $(uname -r)"
    echo "- Software: .NET SDK $(dotnet --version), $("$NGINX" -v 2>&1 | sed 's/^nginx version: //'), $(wrk -v 2>&1 | head -n 1 | awk '{ print "wrk " $2 }')"
    echo "- Load: DURATION=$DURATION, CONNECTIONS=$CONNECTIONS, THREADS=$THREADS (wrk --latency), warm-up $WARMUP per workload"
    echo "- Pinning: proxy alone on CPU $PROXY_CPU; backend and wrk share CPU $LOAD_CPU"
    echo "- Load average when the run started: $LOADAVG_AT_START (other processes are not kept off CPU $PROXY_CPU)"
    echo "- Ratios are req/s of the row divided by req/s of the named baseline on the same workload."
    echo "- proxy CPU: CPU time of the proxy process(es) / wall time. Well under ~95% means the"
    echo "  proxy was not the bottleneck (backend + wrk on CPU $LOAD_CPU were), so its req/s is a floor."
    [[ -n $GATEHOUSE_NOTE ]] && echo "- Gatehouse: $GATEHOUSE_NOTE"
    [[ -n $GATEHOUSE_AOT_NOTE ]] && echo "- Gatehouse (AOT): $GATEHOUSE_AOT_NOTE"
    echo
    echo "| proxy | workload | req/s | p50 | p99 | ratio vs bare YARP (quiet logs) | ratio vs bare YARP (defaults) | ratio vs bare YARP (Gatehouse's runtime settings) | ratio vs nginx | proxy CPU |"
    echo "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|"
    awk -F'\t' '
        function fmtms(v) { return (v < 1) ? sprintf("%.0f µs", v * 1000) : sprintf("%.2f ms", v) }
        function ratio(base, wl) { k = base SUBSEP wl; return (k in rps && rps[k] > 0) ? sprintf("%.2fx", cur / rps[k]) : "n/a" }
        NR == FNR { rps[$1, $2] = $3; next }
        {
            cur = $3
            printf "| %s | %s | %d | %s | %s | %s | %s | %s | %s | %s%% |\n", $1, $2, $3, fmtms($4), fmtms($5),
                ratio("bare YARP (quiet logs)", $2), ratio("bare YARP (defaults)", $2),
                ratio("bare YARP (Gatehouse'"'"'s runtime settings)", $2), ratio("nginx", $2), $7
        }' "$RESULTS_TSV" "$RESULTS_TSV"
    echo
    errs=$(awk -F'\t' '$6 > 0 { printf "- %s, %s: %d socket errors or non-2xx responses\n", $1, $2, $6 }' "$RESULTS_TSV")
    echo "Errors during measured runs: ${errs:+$'\n'}${errs:-none}"
    echo
    echo "| proxy | startup to first response | idle RSS | peak RSS (VmHWM) |"
    echo "|---|--:|--:|--:|"
    awk -F'\t' '{ printf "| %s | %d ms | %.1f MiB | %.1f MiB |\n", $1, $2, $3 / 1024, $4 / 1024 }' "$MEM_TSV"
    echo
    echo "RSS is VmRSS/VmHWM from /proc (nginx: master + worker summed). Idle RSS is read after"
    echo "startup and one request per workload, before any load."
    if ((AOT)); then
        echo
        echo "## Gatehouse JIT vs Native AOT (startup, $STARTUP_RUNS launches each, no load, median)"
        echo
        echo "| build | startup to first response | idle RSS |"
        echo "|---|--:|--:|"
        if [[ -s $STARTUP_TSV ]]; then
            # Median of each column on its own: the fastest launch need not be the leanest.
            awk -F'\t' '
                function median(list,   a, n, i, j, t) {
                    n = split(list, a, " ")
                    for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
                    return a[int((n + 1) / 2)]
                }
                { if (!($1 in ms)) order[++k] = $1; ms[$1] = ms[$1] " " $2; rss[$1] = rss[$1] " " $3 }
                END {
                    for (i = 1; i <= k; i++)
                        printf "| %s | %d ms | %.1f MiB |\n", order[i], median(ms[order[i]]), median(rss[order[i]]) / 1024
                }' "$STARTUP_TSV"
        else
            echo "| (no Gatehouse build started) | n/a | n/a |"
        fi
    fi
} >"$RESULTS_MD"

cat "$RESULTS_MD"
log "written to ${RESULTS_MD#"$REPO_ROOT"/}; raw wrk output and logs in ${RUN_DIR#"$REPO_ROOT"/}/"
