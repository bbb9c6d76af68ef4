#!/usr/bin/env bash
# The floor every feature stands on: a routing-only route through Gatehouse against bare YARP given the same runtime
# settings (inline socket completions, no per-request hosting Activity), and optionally against an earlier Gatehouse
# build (BASE=REV: that commit is published from a temporary worktree), all in one run.
#
# Every proxy runs at once, each pinned to CPU 0 (only the one under load works); backend and wrk share CPU 1. Each
# proxy is warmed WARMUP per workload first, then ROUNDS rounds measure every proxy in turn, the order rotated by one
# each round, so no proxy is always measured first or right after the same one. Per measurement: req/s (wrk) and the
# proxy's CPU time per request (utime+stime from /proc/PID/stat over the run / requests served), which moves least
# with the noise of a shared machine.
#
# Usage: bench/foundation.sh        Environment: WARMUP=40s (per workload) DURATION=10s ROUNDS=3 CONNECTIONS=32 BASE=REV SKIP_PUBLISH=1
set -euo pipefail
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$REPO_ROOT/.bench
RUN=$OUT/run-foundation
WARMUP=${WARMUP:-40s}
DURATION=${DURATION:-10s}
ROUNDS=${ROUNDS:-3}
CONNECTIONS=${CONNECTIONS:-32}
mkdir -p "$RUN"
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    [[ -n ${BASE_TREE:-} ]] && git -C "$REPO_ROOT" worktree remove --force "$BASE_TREE" >/dev/null 2>&1 || true
}
trap cleanup EXIT

if [[ ${SKIP_PUBLISH:-0} != 1 ]]; then
    dotnet publish "$REPO_ROOT/src/Gatehouse" -c Release -o "$OUT/gatehouse" --artifacts-path "$OUT/artifacts" >"$RUN/publish-gatehouse.log" 2>&1
    dotnet publish "$REPO_ROOT/bench/Backend" -c Release -o "$OUT/backend" --artifacts-path "$OUT/artifacts" >"$RUN/publish-backend.log" 2>&1
    dotnet publish "$REPO_ROOT/bench/BareYarp" -c Release -o "$OUT/bareyarp" --artifacts-path "$OUT/artifacts" >"$RUN/publish-bareyarp.log" 2>&1
    if [[ -n ${BASE:-} ]]; then
        BASE_TREE=$(mktemp -d)
        git -C "$REPO_ROOT" worktree add --detach "$BASE_TREE" "$BASE" >/dev/null 2>&1
        dotnet publish "$BASE_TREE/src/Gatehouse" -c Release -o "$OUT/gatehouse-base" --artifacts-path "$OUT/artifacts-base" >"$RUN/publish-base.log" 2>&1
    fi
fi

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
BACKEND_PORT=$(port)
(cd "$OUT/backend" && exec taskset -c 1 dotnet Backend.dll "http://127.0.0.1:$BACKEND_PORT") >/dev/null 2>&1 &
PIDS+=($!)

gatehouse_config() { # gatehouse_config FILE PORT [EXTRA-YAML]
    cat >"$1" <<YAML
listen: ["http://127.0.0.1:$2"]
admin: { listen: "" }
${3:-}
services:
  backend:
    targets: ["http://127.0.0.1:$BACKEND_PORT"]
routes:
  - name: all
    match: { path: "/{**rest}" }
    service: backend
YAML
}

NAMES=() URLS=() PROCS=()
start() { # start NAME PORT CMD...
    local name=$1 port=$2
    (exec taskset -c 0 "${@:3}") >"$RUN/$name.log" 2>&1 &
    PIDS+=($!)
    NAMES+=("$name") URLS+=("http://127.0.0.1:$port") PROCS+=($!)
}
p=$(port); start "bare-yarp" "$p" env DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1 Logging__LogLevel__Microsoft.AspNetCore.Hosting.Diagnostics=None \
    bash -c "cd '$OUT/bareyarp' && exec dotnet BareYarp.dll http://127.0.0.1:$p http://127.0.0.1:$BACKEND_PORT --quiet-logs"
p=$(port); gatehouse_config "$RUN/gatehouse.yaml" "$p"; start "gatehouse" "$p" dotnet "$OUT/gatehouse/gatehouse.dll" run --config "$RUN/gatehouse.yaml"
# The same with observability off (metrics and trace context are on by default): like for like with bare YARP, which has neither.
OFF='observability: { metrics: { enabled: false }, tracing: { enabled: false } }'
p=$(port); gatehouse_config "$RUN/gatehouse-off.yaml" "$p" "$OFF"; start "gatehouse-obs-off" "$p" dotnet "$OUT/gatehouse/gatehouse.dll" run --config "$RUN/gatehouse-off.yaml"
if [[ -d $OUT/gatehouse-base && -n ${BASE:-} ]]; then
    p=$(port); gatehouse_config "$RUN/gatehouse-base.yaml" "$p"; start "gatehouse-base" "$p" dotnet "$OUT/gatehouse-base/gatehouse.dll" run --config "$RUN/gatehouse-base.yaml"
    p=$(port); gatehouse_config "$RUN/gatehouse-base-off.yaml" "$p" "$OFF"; start "gatehouse-base-obs-off" "$p" dotnet "$OUT/gatehouse-base/gatehouse.dll" run --config "$RUN/gatehouse-base-off.yaml"
fi

for url in "http://127.0.0.1:$BACKEND_PORT" "${URLS[@]}"; do
    for _ in $(seq 150); do curl -fs -o /dev/null "$url/small" && break; sleep 0.2; done
    curl -fs -o /dev/null "$url/small" || { echo "foundation.sh: $url does not answer" >&2; tail "$RUN"/*.log >&2; exit 1; }
done

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
TICK=$(getconf CLK_TCK)
# measure NAME URL PID WORKLOAD DURATION -> prints "req/s µs/request"
measure() {
    local args=() c0 c1 out requests
    [[ $4 == post4k ]] && args=(-s "$REPO_ROOT/bench/post4k.lua")
    c0=$(cpu_ticks "$3")
    out=$(taskset -c 1 wrk -t1 -c"$CONNECTIONS" -d"$5" "${args[@]}" "$2/$([[ $4 == post4k ]] && echo echo-size || echo small)")
    c1=$(cpu_ticks "$3")
    requests=$(awk '/requests in/ { print $1 }' <<<"$out")
    awk -v r="$(awk '/Requests\/sec/ { print $2 }' <<<"$out")" -v n="$requests" -v d="$((c1 - c0))" -v hz="$TICK" \
        'BEGIN { printf "%d %.1f\n", r, d / hz * 1e6 / n }'
}

WORKLOADS=(small post4k)
for i in "${!NAMES[@]}"; do
    for w in "${WORKLOADS[@]}"; do measure "${NAMES[$i]}" "${URLS[$i]}" "${PROCS[$i]}" "$w" "$WARMUP" >/dev/null; done
done

RESULTS=$RUN/results.tsv
printf 'round\tproxy\tworkload\treq/s\tcpu_us_per_request\n' >"$RESULTS"
count=${#NAMES[@]}
for round in $(seq "$ROUNDS"); do
    for k in $(seq 0 $((count - 1))); do
        i=$(((k + round) % count))
        for w in "${WORKLOADS[@]}"; do
            read -r rps us < <(measure "${NAMES[$i]}" "${URLS[$i]}" "${PROCS[$i]}" "$w" "$DURATION")
            printf '%s\t%s\t%s\t%s\t%s\n' "$round" "${NAMES[$i]}" "$w" "$rps" "$us" | tee -a "$RESULTS"
        done
    done
done

echo
echo "Means over $ROUNDS rounds (load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)):"
awk -F'\t' 'NR > 1 { r[$2 "\t" $3] += $4; u[$2 "\t" $3] += $5; n[$2 "\t" $3]++ }
    END { for (k in r) printf "%s\t%d req/s\t%.1f µs/request\n", k, r[k] / n[k], u[k] / n[k] }' "$RESULTS" | sort
