# Shared by the route benchmarks (auth.sh, ratelimit.sh, resilience.sh), which source it: one Gatehouse process
# serving a routing-only route beside routes with a policy, each driven by wrk in turn.
# Sets REPO_ROOT, OUT, RUN (=.bench/run-NAME), DURATION, RUNS, WARMUP, CONNECTIONS; publishes the gateway and the
# bench backend unless SKIP_PUBLISH=1; every process started through `started` is killed on exit.
# Pinning as in run.sh: the gateway alone on CPU 0; backend, helpers and wrk on CPU 1.
set -euo pipefail

route_bench_init() { # route_bench_init NAME
    REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
    OUT=$REPO_ROOT/.bench
    RUN=$OUT/run-$1
    DURATION=${DURATION:-8s}
    RUNS=${RUNS:-3}
    WARMUP=${WARMUP:-20s}
    CONNECTIONS=${CONNECTIONS:-32}
    mkdir -p "$RUN"
    if [[ ${SKIP_PUBLISH:-0} != 1 ]]; then
        dotnet publish "$REPO_ROOT/src/Gatehouse" -c Release -o "$OUT/gatehouse" --artifacts-path "$OUT/artifacts" >"$RUN/publish-gatehouse.log" 2>&1
        dotnet publish "$REPO_ROOT/bench/Backend" -c Release -o "$OUT/backend" --artifacts-path "$OUT/artifacts" >"$RUN/publish-backend.log" 2>&1
    fi
    PIDS=()
    trap 'for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done' EXIT
}

started() { PIDS+=("$1"); }

start_backend() { # start_backend PORT
    (cd "$OUT/backend" && exec taskset -c 1 dotnet Backend.dll "http://127.0.0.1:$1") >/dev/null 2>&1 &
    started $!
}

start_gateway() { # start_gateway PORT: runs $RUN/gatehouse.yaml and waits for /plain/small to answer
    taskset -c 0 dotnet "$OUT/gatehouse/gatehouse.dll" run --config "$RUN/gatehouse.yaml" >"$RUN/gatehouse.log" 2>&1 &
    started $!
    for _ in $(seq 100); do curl -fs -o /dev/null "http://127.0.0.1:$1/plain/small" && return 0; sleep 0.1; done
    echo "$(basename "$0"): the gateway did not start:" >&2
    cat "$RUN/gatehouse.log" >&2
    exit 1
}

expect_200() { # expect_200 URL [curl args...]
    local status
    status=$(curl -s -o /dev/null -w '%{http_code}' "${@:2}" "$1")
    [[ $status == 200 ]] || { echo "$(basename "$0"): $1 answered $status" >&2; cat "$RUN/gatehouse.log" >&2; exit 1; }
}

# rps DURATION [wrk args...] URL: requests per second of one wrk run from CPU 1.
rps() { taskset -c 1 wrk -t1 -c"$CONNECTIONS" -d"$1" "${@:2}" | awk '/Requests\/sec/ { print int($2) }'; }

mean() { local sum=0 v; for v in "$@"; do sum=$((sum + v)); done; echo $((sum / $#)); }
