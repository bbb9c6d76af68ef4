#!/usr/bin/env bash
# Cost of resilience on the healthy path: the same Gatehouse process serves a routing-only route and a route whose
# service has timeouts (connect, response, idle) + retry + circuit breaker + bulkhead; both services point at the
# same healthy backend. wrk drives both in turn. Target: resilient >= 0.97x routing-only.
#
# Usage: bench/resilience.sh      (publishes the gateway and the bench backend into .bench/ first)
#   DURATION=8s RUNS=3 WARMUP=20s CONNECTIONS=32 SKIP_PUBLISH=1
# Pinning as in run.sh: the gateway alone on CPU 0; backend and wrk on CPU 1.
set -euo pipefail
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$REPO_ROOT/.bench
RUN=$OUT/run-resilience
DURATION=${DURATION:-8s}
RUNS=${RUNS:-3}
WARMUP=${WARMUP:-20s}
CONNECTIONS=${CONNECTIONS:-32}
BACKEND_PORT=18196
GATEWAY_PORT=18197
mkdir -p "$RUN"
if [[ ${SKIP_PUBLISH:-0} != 1 ]]; then
    dotnet publish "$REPO_ROOT/src/Gatehouse" -c Release -o "$OUT/gatehouse" --artifacts-path "$OUT/artifacts" >"$RUN/publish-gatehouse.log" 2>&1
    dotnet publish "$REPO_ROOT/bench/Backend" -c Release -o "$OUT/backend" --artifacts-path "$OUT/artifacts" >"$RUN/publish-backend.log" 2>&1
fi

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT

(cd "$OUT/backend" && exec taskset -c 1 dotnet Backend.dll "http://127.0.0.1:$BACKEND_PORT") >/dev/null 2>&1 &
pids+=($!)

cat >"$RUN/gatehouse.yaml" <<YAML
listen: ["http://127.0.0.1:$GATEWAY_PORT"]
admin: { listen: "" }
services:
  plain: { targets: ["http://127.0.0.1:$BACKEND_PORT"] }
  resilient:
    targets: ["http://127.0.0.1:$BACKEND_PORT"]
    timeout: { connect: 2s, response: 10s, idle: 30s }
    retry: { attempts: 2, on: [connectFailure, reset, 502, 503, 504], backoff: 50ms, budget: 20% }
    circuitBreaker: { failureRatio: 0.5, minimumRequests: 20, window: 10s, breakFor: 30s }
    maxConcurrentRequests: 10000
routes:
  - name: resilient
    match: { path: "/resilient/{**rest}" }
    service: resilient
    rewrite: { stripPrefix: /resilient }
  - name: plain
    match: { path: "/plain/{**rest}" }
    service: plain
    rewrite: { stripPrefix: /plain }
YAML
taskset -c 0 dotnet "$OUT/gatehouse/gatehouse.dll" run --config "$RUN/gatehouse.yaml" >"$RUN/gatehouse.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do curl -fs -o /dev/null "http://127.0.0.1:$GATEWAY_PORT/plain/small" && break; sleep 0.1; done
curl -fs -o /dev/null "http://127.0.0.1:$GATEWAY_PORT/plain/small" || { echo "resilience.sh: the gateway did not start:" >&2; cat "$RUN/gatehouse.log" >&2; exit 1; }
status=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$GATEWAY_PORT/resilient/small")
[[ $status == 200 ]] || { echo "resilience.sh: the resilient route answered $status" >&2; exit 1; }

rps() { taskset -c 1 wrk -t1 -c"$CONNECTIONS" -d"$1" "${@:2}" | awk '/Requests\/sec/ { print int($2) }'; }
# Warm both paths: tiered JIT needs tens of seconds under load to reach its final code.
rps "$WARMUP" "http://127.0.0.1:$GATEWAY_PORT/plain/small" >/dev/null
rps "$WARMUP" "http://127.0.0.1:$GATEWAY_PORT/resilient/small" >/dev/null
plain=(); resilient=()
for _ in $(seq "$RUNS"); do
    plain+=("$(rps "$DURATION" "http://127.0.0.1:$GATEWAY_PORT/plain/small")")
    resilient+=("$(rps "$DURATION" "http://127.0.0.1:$GATEWAY_PORT/resilient/small")")
done
mean() { local sum=0; for v in "$@"; do sum=$((sum + v)); done; echo $((sum / $#)); }
p=$(mean "${plain[@]}"); r=$(mean "${resilient[@]}")
echo "routing-only (rewrite):                              ${plain[*]} req/s (mean $p)"
echo "timeouts + retry + breaker + bulkhead (same):        ${resilient[*]} req/s (mean $r)"
awk -v r="$r" -v p="$p" 'BEGIN { printf "ratio: %.2fx\n", r / p }'
